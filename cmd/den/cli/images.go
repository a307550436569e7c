package cli

import (
	"os"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupImages, newPull, newImages, newRmi, newLoad, newImage)
}

func newPull(g *run.Global) *cobra.Command {
	var o run.PullOptions
	cmd := &cobra.Command{
		Use:   "pull [flags] IMAGE [IMAGE...]",
		Short: "Fetch images from a registry into the store",
		Example: `  den pull alpine
  den pull --platform linux/arm64 debian:12 alpine:3.20
  den pull registry.example.com/team/app@sha256:...`,
		Args: minArgs(1, "at least one image reference"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !o.Quiet {
				// Progress goes to stdout, as docker pull's does.
				p := newProgress(os.Stdout)
				defer p.close()
				o.Progress = p.event
			}
			return run.Pull(g, args, o)
		},
	}
	addPullFlags(cmd, &o)
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print only each image's reference")
	return cmd
}

func addPullFlags(cmd *cobra.Command, o *run.PullOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Platform, "platform", "", "os/arch[/variant] to pick from a multi-platform image (default: this host)")
	f.BoolVar(&o.Insecure, "insecure-registry", false, "allow plain HTTP to the registry (always allowed for localhost)")
	f.IntVar(&o.Jobs, "jobs", 4, "layers fetched at once")
}

func newLoad(g *run.Global) *cobra.Command {
	var o run.PullOptions
	var input string
	cmd := &cobra.Command{
		Use:   "load [-i FILE]",
		Short: "Load images from a docker save tarball or an OCI layout or archive (stdin without -i)",
		Example: `  den load -i busybox.tar
  docker save alpine | den load
  den load -i ./oci-layout-dir`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !o.Quiet && isTerminal(os.Stdout) {
				// Bars on a terminal only: docker load's output to a pipe
				// or file is its "Loaded image:" lines alone.
				p := newProgress(os.Stdout)
				defer p.close()
				o.Progress = p.event
			}
			return run.Load(g, input, o)
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "archive or OCI layout directory to read (default: stdin)")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	cmd.Flags().StringVar(&o.Platform, "platform", "", "os/arch[/variant] to pick from a multi-platform archive")
	return cmd
}

// imagesFlags are den images' flags.
type imagesFlags struct {
	format, filters              string
	quiet, all, digests, noTrunc bool
	filter                       []string
}

func newImages(g *run.Global) *cobra.Command {
	var f imagesFlags
	cmd := &cobra.Command{
		Use:   "images [flags] [REPOSITORY[:TAG]]",
		Short: "List stored images",
		Example: `  den images
  den images -q --filter dangling=true
  den images --digests busybox
  den images -f 'reference=*/team/*:v*'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rows, err := run.Images(g)
			if err != nil {
				return err
			}
			match, err := imageMatcher(f.filter, args, rows)
			if err != nil {
				return err
			}
			return printImages(cmd, filterRows(rows, match), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "table, json, or a Go template ({{.Repository}}:{{.Tag}})")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only image ids")
	fl.BoolVarP(&f.all, "all", "a", false, "all images (den keeps no intermediate images: the same list)")
	fl.BoolVar(&f.digests, "digests", false, "show the manifest digests")
	fl.BoolVar(&f.noTrunc, "no-trunc", false, "show full image ids")
	fl.StringArrayVarP(&f.filter, "filter", "f", nil, "dangling=true|false or reference=PATTERN (repeatable)")
	return cmd
}

func filterRows(rows []run.ImageRow, match func(run.ImageRow) bool) []run.ImageRow {
	out := []run.ImageRow{}
	for _, r := range rows {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

func printImages(cmd *cobra.Command, rows []run.ImageRow, f imagesFlags) error {
	return writeImages(cmd.OutOrStdout(), rows, f.format, f.quiet, f.noTrunc, f.digests)
}

// ago is docker's CREATED column: "About a minute ago", "3 days ago".
func ago(t time.Time) string { return units.HumanDuration(time.Since(t)) + " ago" }

func newRmi(g *run.Global) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rmi [flags] IMAGE [IMAGE...]",
		Short:   "Remove images from the store (one of several names: untag only)",
		Example: "  den rmi busybox\n  den rmi -f 0123456789ab",
		Args:    minArgs(1, "at least one image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run.RemoveImages(g, args, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "take the names off an image stopped containers use; remove an image with several names by ID")
	return cmd
}

func newImage(g *run.Global) *cobra.Command {
	img := group("image", "Manage images", "  den image ls\n  den image rm busybox")
	var format string
	inspectCmd := &cobra.Command{
		Use:     "inspect [flags] IMAGE...",
		Short:   "Print images as docker does (JSON, or a template)",
		Example: "  den image inspect busybox\n  den image inspect -f '{{.Config.Cmd}}' busybox",
		Args:    minArgs(1, "at least one image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return inspect(cmd, g, args, format, run.TypeImage)
		},
		ValidArgsFunction: completeImages(g),
	}
	inspectCmd.Flags().StringVarP(&format, "format", "f", "", "json, or a Go template such as '{{.Config.Cmd}}'")
	ls := newImages(g)
	ls.Use = "ls"
	rm := newRmi(g)
	rm.Use = "rm [flags] IMAGE [IMAGE...]"
	img.AddCommand(inspectCmd, ls, rm, newPull(g), newLoad(g), newImagePrune(g), newHistory(g), newTag(g), newPush(g), newSave(g), newImport(g))
	return img
}
