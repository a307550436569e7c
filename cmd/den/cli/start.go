package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
	"github.com/denproject/den/run/spec"
)

func init() {
	register(groupContainers, newCreate, newStart, newRestart)
}

func newCreate(g *run.Global) *cobra.Command {
	f := &spec.Flags{}
	var quiet bool
	cmd := &cobra.Command{
		Use:     "create [flags] IMAGE [COMMAND [ARG...]]",
		Short:   "Create a container without starting it (den start runs it)",
		Example: "  den create --name web -p 8080:80 busybox httpd -f\n  den start web",
		Args:    minArgs(1, "an image"),
		RunE:    fromSpec(g, f, &quiet, run.Create),
	}
	addRunFlags(cmd, f)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no pull progress")
	cmd.Flags().BoolP("help", "", false, "help for create")
	return cmd
}

func newStart(g *run.Global) *cobra.Command {
	var attach, interactive bool
	cmd := &cobra.Command{
		Use:     "start [flags] CONTAINER [CONTAINER...]",
		Short:   "Start created or stopped containers, with the same spec and writable layer",
		Example: "  den start web\n  den start -ai shell",
		Args:    minArgs(1, "at least one container"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Start(g, args, attach, interactive)
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "stay with the container: its output, its exit status")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "with -a, connect stdin")
	return cmd
}

func newRestart(g *run.Global) *cobra.Command {
	var seconds int
	cmd := &cobra.Command{
		Use:     "restart [flags] CONTAINER [CONTAINER...]",
		Short:   "Stop containers (if running), then start them again",
		Example: "  den restart -t 2 web",
		Args:    minArgs(1, "at least one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout, err := stopTimeout(cmd, seconds)
			if err != nil {
				return err
			}
			return run.Restart(g, args, timeout)
		},
	}
	cmd.Flags().IntVarP(&seconds, "time", "t", 10, "seconds to wait before SIGKILL")
	return cmd
}
