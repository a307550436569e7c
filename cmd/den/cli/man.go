//go:build manpages

// Built only with -tags manpages (make man): cobra/doc brings a markdown
// renderer whose package init (0.3 ms, 210 KB of heap) every den process,
// a container's init among them, would otherwise pay.

package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/denproject/den/run"
)

func init() {
	register(groupSystem, newManPages)
}

// newManPages writes den(1), den-run(1) and one page per command, for
// make install; hidden, as it is for packagers.
func newManPages(*run.Global) *cobra.Command {
	return &cobra.Command{
		Use:    "man-pages DIR",
		Short:  "Write den's man pages into DIR",
		Hidden: true,
		Args:   exactArgs(1, "a directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return err
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			hdr := &doc.GenManHeader{Title: "DEN", Section: "1", Source: "den " + Version, Manual: "den manual"}
			if err := doc.GenManTree(root, hdr, args[0]); err != nil {
				return fmt.Errorf("writing man pages to %s: %w", args[0], err)
			}
			return nil
		},
	}
}
