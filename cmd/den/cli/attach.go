package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newAttach)
}

func newAttach(g *run.Global) *cobra.Command {
	var o run.AttachOptions
	cmd := &cobra.Command{
		Use:   "attach [flags] CONTAINER",
		Short: "Attach to a detached container's output and stdin (detach: ctrl-p ctrl-q)",
		Example: `  den run -dit --name box busybox sh
  den attach box        # ctrl-p ctrl-q leaves it running`,
		Args: exactArgs(1, "one container"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Attach(g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.NoStdin, "no-stdin", false, "do not attach stdin")
	f.StringVar(&o.DetachKeys, "detach-keys", "", "keys that detach: ctrl-X or characters, comma-separated (default ctrl-p,ctrl-q)")
	f.BoolVar(&o.SigProxy, "sig-proxy", true, "pass the signals den gets to the container (without a terminal)")
	return cmd
}
