package cli

import (
	"errors"
	"fmt"
	"github.com/spf13/cobra"
	"os"
	"path"

	"github.com/denproject/den/run"
	"github.com/denproject/den/run/spec"
)

func init() {
	register(groupContainers, newExec)
}

func newExec(g *run.Global) *cobra.Command {
	var o run.ExecOptions
	var env, envFiles []string
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Example: `  den exec web ./migrate
  den exec -it web sh
  den exec -u nobody -w /tmp -e DEBUG=1 web env`,
		Args: minArgs(2, "a container and a command"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args[1:]
			var err error
			if o.Env, err = spec.BuildEnv(envFiles, env); err != nil {
				return err
			}
			if o.Detach {
				o.Tty, o.Interactive = false, false
			}
			if o.Workdir != "" && !path.IsAbs(o.Workdir) {
				return fmt.Errorf("the working directory %q is invalid, it needs to be an absolute path", o.Workdir)
			}
			if o.Tty && o.Interactive && !isTerminal(os.Stdin) {
				return &codedError{errors.New("the input device is not a TTY: drop -t, or run den from a terminal"), 1}
			}
			return run.Exec(g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep stdin open and connected to the command")
	f.BoolVarP(&o.Tty, "tty", "t", false, "allocate a pseudo-terminal")
	f.BoolVarP(&o.Detach, "detach", "d", false, "start the command and return (its output is discarded)")
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy den's)")
	f.StringArrayVar(&envFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user to run as: name|uid[:group|gid]")
	f.BoolVar(&o.Privileged, "privileged", false, "every capability the container's user namespace has, no seccomp")
	return cmd
}
