package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupImages, newHistory, newImport)
	register(groupContainers, newExport, newContainer)
	register(groupSystem, newSystem)
}

func newHistory(g *run.Global) *cobra.Command {
	var noTrunc, quiet, human bool
	var format string
	cmd := &cobra.Command{
		Use:     "history [flags] IMAGE",
		Short:   "Show how an image was built, newest layer first",
		Example: "  den history busybox\n  den history --no-trunc --format json busybox\n  den history --format '{{.ID}} {{.Size}}' busybox",
		Args:    exactArgs(1, "one image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := run.History(g, args[0])
			if err != nil {
				return err
			}
			out := make([]historyRow, 0, len(rows))
			for _, r := range rows {
				h := historyRow{ID: r.ID, CreatedBy: strings.ReplaceAll(r.CreatedBy, "\t", " "), Comment: r.Comment,
					CreatedSince: ago(r.Created), CreatedAt: r.Created.Format(time.RFC3339), Size: size(r.Size)}
				if !human {
					h.CreatedSince, h.Size = h.CreatedAt, fmt.Sprint(r.Size)
				}
				if !noTrunc {
					if h.ID != "<missing>" {
						h.ID = h.ID[:min(12, len(h.ID))]
					}
					if len(h.CreatedBy) > 45 && !strings.Contains(format, "{{") && format != "json" {
						h.CreatedBy = h.CreatedBy[:44] + "…"
					}
				}
				out = append(out, h)
			}
			return writeList(cmd.OutOrStdout(), format, quiet, historyFormat, out)
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not shorten ids and commands")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only image ids")
	cmd.Flags().BoolVarP(&human, "human", "H", true, "sizes and dates for people (false: bytes and RFC 3339)")
	cmd.Flags().StringVar(&format, "format", "table", "table, json, or a Go template ({{.ID}} {{.CreatedBy}} {{.Size}})")
	return cmd
}

// historyRow is a line of den history: docker's fields, for --format.
type historyRow struct {
	ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment string
}

var historyFormat = listFormat{
	table: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
	header: map[string]string{"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
		"CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT"},
}

func newImport(g *run.Global) *cobra.Command {
	var changes []string
	cmd := &cobra.Command{
		Use:   "import [flags] FILE|- [REPOSITORY[:TAG]]",
		Short: "Make a one-layer image from a filesystem tar",
		Long: `Make a one-layer image from a filesystem tar (plain or gzipped), read from
FILE or from stdin with "-". Owners in the tar are the container's own uids.
A tar with an entry that climbs out of the root (../) is refused.`,
		Example: `  den export web | den import - web-snapshot:1
  den import --change 'CMD ["/bin/sh"]' --change 'ENV LANG=C.UTF-8' rootfs.tar myos:1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return &usageError{fmt.Errorf("requires a file (or -) and at most one name")}
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return run.Import(g, args[0], ref, changes)
		},
	}
	cmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, WORKDIR, USER")
	return cmd
}

func newExport(g *run.Global) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "export [flags] CONTAINER",
		Short:   "Write a container's filesystem as a tar",
		Example: "  den export -o web.tar web\n  den export web | tar -tv | head",
		Args:    exactArgs(1, "one container"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Export(g, args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// confirm asks docker's question unless force; no terminal answer is no.
func confirm(force bool, what string) bool {
	if force {
		return true
	}
	fmt.Fprintf(os.Stderr, "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

func newImagePrune(g *run.Global) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:     "prune [flags]",
		Short:   "Remove unused images (unnamed ones; -a: every image no container uses)",
		Example: "  den image prune -f\n  den image prune -a -f",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			what := "all dangling images"
			if all {
				what = "all images without at least one container associated to them"
			}
			if !confirm(force, what) {
				return nil
			}
			return run.PruneImages(g, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove every image no container uses")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask")
	return cmd
}

func newContainerPrune(g *run.Global) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "prune [flags]",
		Short:   "Remove every stopped container",
		Example: "  den container prune -f",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if !confirm(force, "all stopped containers") {
				return nil
			}
			return run.PruneContainers(g)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask")
	return cmd
}

// newContainer is docker's `container` group: each container command
// again under it (`den container ls`, `den container rm`), as scripts
// written for docker call them.
func newContainer(g *run.Global) *cobra.Command {
	c := group("container", "Manage containers", "  den container ls -a\n  den container rm -f web")
	ls := newPs(g)
	ls.Use, ls.Aliases = "ls [flags]", []string{"ps", "list"}
	inspectCmd := newInspect(g)
	inspectCmd.Use, inspectCmd.Short = "inspect [flags] CONTAINER...", "Print containers as docker does (JSON, or a template)"
	inspectCmd.RunE = func(cmd *cobra.Command, args []string) error {
		return inspect(cmd, g, args, cmd.Flag("format").Value.String(), run.TypeContainer)
	}
	c.AddCommand(ls, inspectCmd, newContainerPrune(g), newExport(g), newRun(g), newCreate(g), newStart(g),
		newRestart(g), newStop(g), newKill(g), newRm(g), newLogs(g), newWait(g), newExec(g), newAttach(g),
		newCp(g), newPort(g), newTop(g), newRename(g))
	return c
}

// group is a command that only holds others. `den GROUP WORD`, WORD no
// command of the group, is refused: cobra would print the group's help
// and exit 0, and a script would take `den container frobnicate` for done.
func group(use, short, example string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Example: example, RunE: func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return &usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
	}}
}

func newSystem(g *run.Global) *cobra.Command {
	sys := group("system", "Manage den's store", "  den system df\n  den system prune -f")
	var all, force, volumes bool
	prune := &cobra.Command{
		Use:     "prune [flags]",
		Short:   "Remove stopped containers and unused images",
		Example: "  den system prune -f\n  den system prune -a -f",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			what := "all stopped containers and all dangling images"
			if all {
				what = "all stopped containers and all images without at least one container associated to them"
			}
			if !confirm(force, what) {
				return nil
			}
			if err := run.PruneContainers(g); err != nil {
				return err
			}
			if volumes { // issue 12: docker's --volumes, anonymous volumes only
				names, err := run.VolumePrune(g, false)
				for _, n := range names {
					fmt.Printf("Deleted volume: %s\n", n)
				}
				if err != nil {
					return err
				}
			}
			return run.PruneImages(g, all)
		},
	}
	prune.Flags().BoolVar(&volumes, "volumes", false, "also remove anonymous volumes no container uses")
	prune.Flags().BoolVarP(&all, "all", "a", false, "remove every image no container uses")
	prune.Flags().BoolVarP(&force, "force", "f", false, "do not ask")
	df := &cobra.Command{
		Use:     "df",
		Short:   "Show the disk space den's store uses",
		Example: "  den system df",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := run.DiskUsage(g)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Type, r.Total, r.Active, size(r.Size), size(r.Reclaimable))
			}
			return tw.Flush()
		},
	}
	sys.AddCommand(prune, df)
	return sys
}
