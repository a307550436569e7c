package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newPs)
}

func newPs(g *run.Global) *cobra.Command {
	var all bool
	var format string
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := run.Ps(g, all)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if rows == nil {
					rows = []run.PsRow{}
				}
				return json.NewEncoder(out).Encode(rows)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%q\t%s\t%s\t%s\n", r.ID[:12], r.Image, r.Command, ago(r.Created), r.Status, r.Name)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show stopped containers too")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}
