package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newInspect)
}

func newInspect(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect NAME|ID|IMAGE...",
		Short: "Print containers (or images) as JSON",
		Args:  minArgs(1, "at least one container or image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := run.Inspect(g, args)
			cmd.OutOrStdout().Write(b)
			return err
		},
	}
}
