// Package cli is den's command line: flags in, calls to package run out.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = "dev"

// Execute runs the command line and returns den's exit status.
func Execute() int {
	g := &run.Global{}
	root := newRoot(g, commandName(os.Args[1:]))
	cmd, err := root.ExecuteC()
	if err == nil {
		return 0
	}
	var ee *run.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(os.Stderr, "den: "+line)
	}
	var ue *usageError
	if errors.As(err, &ue) && cmd != nil {
		fmt.Fprintf(os.Stderr, "See '%s --help'.\n", cmd.CommandPath())
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	// docker's convention: 125 when den itself fails to run a container.
	if cmd != nil && (cmd.Name() == "run" || cmd.Name() == "create" || cmd.Name() == "exec") {
		return 125
	}
	return 1
}

type usageError struct{ error }

func (u *usageError) Unwrap() error { return u.error }

// flagError is a flag den does not know or cannot read: docker's CLI
// exits 125 for it, whatever the command.
type flagError struct{ error }

func (*flagError) ExitCode() int { return 125 }

// codedError is an error with the exit status docker gives it.
type codedError struct {
	error
	code int
}

func (e *codedError) ExitCode() int { return e.code }

// The groups of den --help.
const (
	groupContainers = "containers"
	groupImages     = "images"
	groupSystem     = "system"
)

// commands are added by the init of the file that defines each, so that a
// new command is a new file.
var commands []command

type command struct {
	group string
	make  func(*run.Global) *cobra.Command
}

func register(group string, makers ...func(*run.Global) *cobra.Command) {
	for _, m := range makers {
		commands = append(commands, command{group, m})
	}
}

func init() {
	register(groupSystem, func(*run.Global) *cobra.Command { return newVersion() })
}

func newRoot(g *run.Global, only string) *cobra.Command {
	root := &cobra.Command{
		Use:           "den",
		Short:         "Run containers as an unprivileged user: no daemon, no root",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{&flagError{err}} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.Root, "root", "", "store directory (default $XDG_DATA_HOME/den or ~/.local/share/den)")
	pf.BoolVar(&g.Debug, "debug", false, "print debug messages")
	pf.Int64Var(&g.MaxLayerSize, "max-layer-size", run.DefaultMaxLayerSize, "refuse layers whose uncompressed size exceeds this many bytes")
	root.AddGroup(
		&cobra.Group{ID: groupContainers, Title: "Containers:"},
		&cobra.Group{ID: groupImages, Title: "Images:"},
		&cobra.Group{ID: groupSystem, Title: "System:"},
	)
	for _, c := range commands {
		if make, ok := hot[only]; ok && reflect.ValueOf(make).Pointer() != reflect.ValueOf(c.make).Pointer() {
			continue
		}
		cmd := c.make(g)
		cmd.GroupID = c.group
		setCompletion(g, cmd)
		root.AddCommand(cmd)
	}
	return root
}

// versionInfo is den version's, with docker's field names for templates.
type versionInfo struct {
	Version   string
	GoVersion string
	Os        string
	Arch      string
}

func newVersion() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print den's version",
		Example: "  den version\n  den version --format '{{.Version}}'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionInfo{Version: Version, GoVersion: runtime.Version(), Os: runtime.GOOS, Arch: runtime.GOARCH}
			return writeValue(cmd.OutOrStdout(), format, v, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "den %s\n", Version)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "json, or a Go template such as '{{.Version}}'")
	return cmd
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return &usageError{fmt.Errorf("requires %s", what)}
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return &usageError{fmt.Errorf("requires %s", what)}
		}
		return nil
	}
}

// setCompletion completes container and image names for the commands
// that take them, and their subcommands, chosen by the command's path:
// "volume rm" takes volumes, not what "rm" takes.
func setCompletion(g *run.Global, cmd *cobra.Command) { setCompletionAt(g, cmd, cmd.Name()) }

func setCompletionAt(g *run.Global, cmd *cobra.Command, path string) {
	for _, sub := range cmd.Commands() {
		setCompletionAt(g, sub, path+" "+sub.Name())
	}
	if cmd.ValidArgsFunction != nil {
		return
	}
	switch path {
	case "stop", "kill", "pause", "attach":
		cmd.ValidArgsFunction = completeContainers(g, true)
	case "rm", "start", "restart", "wait", "export", "container export":
		cmd.ValidArgsFunction = completeContainers(g, false)
	case "exec":
		cmd.ValidArgsFunction = completeFirstContainer(g, true)
	case "logs":
		cmd.ValidArgsFunction = completeFirstContainer(g, false)
	case "rmi", "push", "history", "save", "image rm", "image push", "image history", "image save":
		cmd.ValidArgsFunction = completeImages(g)
	case "run", "create", "tag", "image tag":
		cmd.ValidArgsFunction = completeFirstImage(g)
	}
}

// hot are the commands den builds alone when they are what it was asked
// for: building every command and its flags took half a millisecond at
// each start, most of a `den version`.
var hot = map[string]func(*run.Global) *cobra.Command{
	"run": newRun, "exec": newExec, "create": newCreate, "start": newStart, "ps": newPs,
	"logs": newLogs, "stop": newStop, "kill": newKill, "rm": newRm, "wait": newWait,
}

// commandName is the command den's arguments name: the first one that is
// not a global flag or its value.
func commandName(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--":
			return ""
		case a == "--root" || a == "--max-layer-size":
			i++ // its value
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}
