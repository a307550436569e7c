package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newInspect)
}

func newInspect(g *run.Global) *cobra.Command {
	var format, typ string
	cmd := &cobra.Command{
		Use:     "inspect [flags] NAME|ID|IMAGE...",
		Short:   "Print containers or images as docker does (JSON, or a template)",
		Example: "  den inspect web\n  den inspect -f '{{.State.Status}}' web\n  den inspect --type image busybox",
		Args:    minArgs(1, "at least one container or image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inspect(cmd, g, args, format, typ)
		},
		ValidArgsFunction: completeContainersOrImages(g),
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "json, or a Go template such as '{{.State.Status}}'")
	cmd.Flags().StringVar(&typ, "type", "", "only containers or only images: container or image")
	return cmd
}

// inspect prints what it found, then fails for what it did not. `den
// image inspect` is inspect(cmd, g, args, format, run.TypeImage).
func inspect(cmd *cobra.Command, g *run.Global, names []string, format, typ string) error {
	if _, err := templateCheck(format); err != nil {
		return err
	}
	items, err := run.Inspect(g, names, typ)
	if items == nil && err != nil {
		return err
	}
	if ferr := writeInspect(cmd.OutOrStdout(), format, items); ferr != nil {
		return ferr
	}
	return err
}
