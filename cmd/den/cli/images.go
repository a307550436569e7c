package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
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
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print only the image digest")
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
			if !o.Quiet {
				// Progress goes to stdout, as docker pull's does.
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
			match, err := imageMatcher(f.filter, args)
			if err != nil {
				return err
			}
			return printImages(cmd, filterRows(rows, match), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "table or json")
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
	out := cmd.OutOrStdout()
	id := func(r run.ImageRow) string {
		if f.noTrunc {
			return "sha256:" + r.ID
		}
		return r.ID[:12]
	}
	switch {
	case f.quiet:
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Fprintln(out, id(r))
			}
		}
		return nil
	case f.format == "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case f.format == "table" || f.format == "":
		tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
		head := "REPOSITORY\tTAG\t"
		if f.digests {
			head += "DIGEST\t"
		}
		fmt.Fprintln(tw, head+"IMAGE ID\tCREATED\tSIZE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t", r.Repository, r.Tag)
			if f.digests {
				d := r.Digest
				if d == "" {
					d = "<none>"
				}
				fmt.Fprintf(tw, "%s\t", d)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", id(r), ago(r.Created), size(r.Size))
		}
		return tw.Flush()
	}
	return &usageError{fmt.Errorf("unknown --format %q: use table or json", f.format)}
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
	cmd.Flags().BoolVarP(&force, "force", "f", false, "also remove the containers using the image")
	return cmd
}

func newImage(g *run.Global) *cobra.Command {
	img := &cobra.Command{Use: "image", Short: "Manage images"}
	inspect := &cobra.Command{
		Use:     "inspect IMAGE",
		Short:   "Print an image's OCI config as JSON",
		Example: "  den image inspect busybox",
		Args:    exactArgs(1, "one image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := run.InspectImage(g, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
	ls := newImages(g)
	ls.Use = "ls"
	rm := newRmi(g)
	rm.Use = "rm [flags] IMAGE [IMAGE...]"
	img.AddCommand(inspect, ls, rm, newPull(g), newLoad(g), newImagePrune(g), newHistory(g), newTag(g), newPush(g), newSave(g), newImport(g))
	return img
}
