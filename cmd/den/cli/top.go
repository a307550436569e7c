package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func newTop(g *run.Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "top CONTAINER [ps OPTIONS]",
		Short:   "List a running container's processes, with the host's ps (default -ef)",
		Example: "  den top web\n  den top web aux",
		Args:    minArgs(1, "a container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := run.Top(g, args[0], args[1:])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 20, 1, 3, ' ', 0)
			fmt.Fprintln(tw, strings.Join(res.Titles, "\t"))
			for _, p := range res.Processes {
				fmt.Fprintln(tw, strings.Join(p, "\t"))
			}
			return tw.Flush()
		},
		ValidArgsFunction: completeFirstContainer(g, true),
	}
	// What follows the container is ps's, as docker top takes it.
	cmd.Flags().SetInterspersed(false)
	return cmd
}
