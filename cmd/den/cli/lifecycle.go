package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/moby/sys/signal"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newKill, newStop, newLogs, newWait, newRename)
	register(groupSystem, newPrune)
}

func newKill(g *run.Global) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:     "kill [flags] CONTAINER [CONTAINER...]",
		Short:   "Send a signal to running containers (SIGKILL by default)",
		Example: "  den kill web\n  den kill -s HUP web",
		Args:    minArgs(1, "at least one container"),
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
	var sig string
	cmd := &cobra.Command{
		Use:   "stop [flags] CONTAINER [CONTAINER...]",
		Short: "Stop running containers: the stop signal, then SIGKILL after a grace period",
		Example: `  den stop web
  den stop -t 0 web db`,
		Args: minArgs(1, "at least one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout, err := stopTimeout(cmd, seconds)
			if err != nil {
				return err
			}
			if sig != "" {
				if _, err := parseSignal(sig); err != nil {
					return err
				}
			}
			return run.Stop(g, args, timeout, sig)
		},
	}
	cmd.Flags().IntVarP(&seconds, "time", "t", 10, "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10)")
	cmd.Flags().StringVarP(&sig, "signal", "s", "", "signal to send first (default: the container's stop signal)")
	return cmd
}

// stopTimeout is den stop's and den restart's --time: nil when not given
// (the container's --stop-timeout, else 10 s), -1 to wait for ever.
func stopTimeout(cmd *cobra.Command, seconds int) (*time.Duration, error) {
	if !cmd.Flags().Changed("time") {
		return nil, nil
	}
	if seconds < -1 {
		return nil, fmt.Errorf("invalid --time %d: use 0 or more seconds, or -1 to wait for ever", seconds)
	}
	d := time.Duration(seconds) * time.Second
	return &d, nil
}

func newLogs(g *run.Global) *cobra.Command {
	var o run.LogsOptions
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [flags] CONTAINER",
		Short: "Print a container's output: stdout to stdout, stderr to stderr",
		Example: `  den logs web
  den logs -f --tail 50 web
  den logs --since 10m -t web`,
		Args: exactArgs(1, "one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.Tail, err = parseTail(tail); err != nil {
				return err
			}
			now := time.Now()
			if o.Since, err = run.ParseLogTime(since, now); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			if o.Until, err = run.ParseLogTime(until, now); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			return run.Logs(g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing until the container stops")
	f.StringVarP(&tail, "tail", "n", "all", "print only the last N lines")
	f.StringVar(&since, "since", "", "only lines since a time (2026-01-02T15:04:05Z), Unix seconds, or a duration back (10m)")
	f.StringVar(&until, "until", "", "only lines until a time, Unix seconds, or a duration back")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "prefix each line with its time")
	return cmd
}

// parseTail reads --tail: all, or a number of lines.
func parseTail(s string) (int, error) {
	if s == "all" || s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid --tail %q: use a number of lines (0 or more) or all", s)
	}
	return n, nil
}

func newPrune(g *run.Global) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "prune [flags]",
		Short:   "Remove stopped containers and unnamed unused images",
		Example: "  den prune\n  den prune -a",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run.Prune(g, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "also remove named images no container uses")
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

func newWait(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:     "wait CONTAINER [CONTAINER...]",
		Short:   "Wait for containers to stop and print their exit codes",
		Example: "  den wait web",
		Args:    minArgs(1, "at least one container"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Wait(g, args)
		},
	}
}

func newRename(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:     "rename CONTAINER NEW_NAME",
		Short:   "Rename a container, running or not",
		Example: "  den rename web web-old",
		Args:    exactArgs(2, "a container and its new name"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Rename(g, args[0], args[1])
		},
	}
}
