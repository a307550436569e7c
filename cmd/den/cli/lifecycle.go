package cli

import (
	"fmt"
	"time"

	"github.com/moby/sys/signal"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newKill, newStop, newLogs)
	register(groupSystem, newPrune)
}

func newKill(g *run.Global) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [flags] CONTAINER [CONTAINER...]",
		Short: "Send a signal to running containers (SIGKILL by default)",
		Args:  minArgs(1, "at least one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := parseSignal(signal)
			if err != nil {
				return err
			}
			return run.Kill(g, args, sig)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "signal to send: a name (TERM, SIGHUP) or a number")
	return cmd
}

func newStop(g *run.Global) *cobra.Command {
	var seconds int
	cmd := &cobra.Command{
		Use:   "stop [flags] CONTAINER [CONTAINER...]",
		Short: "Stop running containers: SIGTERM, then SIGKILL after a grace period",
		Args:  minArgs(1, "at least one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if seconds < 0 {
				return fmt.Errorf("invalid --time %d: use 0 or more seconds", seconds)
			}
			return run.Stop(g, args, time.Duration(seconds)*time.Second)
		},
	}
	cmd.Flags().IntVarP(&seconds, "time", "t", 10, "seconds to wait before SIGKILL")
	return cmd
}

// parseSignal reads docker's spellings: KILL, SIGKILL, kill, 9, RTMIN+3.
func parseSignal(s string) (unix.Signal, error) {
	sig, err := signal.ParseSignal(s)
	if err != nil || sig == 0 {
		return 0, fmt.Errorf("invalid signal %q: use a name such as TERM or KILL, or a number", s)
	}
	return sig, nil
}

func newLogs(g *run.Global) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [flags] CONTAINER",
		Short: "Print the output of a container started with -d",
		Args:  exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run.Logs(g, args[0], follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the container stops")
	return cmd
}

func newPrune(g *run.Global) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove stopped containers and unnamed unused images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run.Prune(g, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also remove named images no container uses")
	return cmd
}
