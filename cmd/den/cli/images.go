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
		Args:  minArgs(1, "at least one image reference"),
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
		Use:   "load -i FILE",
		Short: "Load images from a docker save tarball or an OCI layout or archive",
		Args:  cobra.NoArgs,
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
	cmd.Flags().StringVarP(&input, "input", "i", "", "archive or OCI layout directory to read")
	cmd.Flags().BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	cmd.Flags().StringVar(&o.Platform, "platform", "", "os/arch[/variant] to pick from a multi-platform archive")
	return cmd
}

func newImages(g *run.Global) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List stored images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := run.Images(g)
			if err != nil {
				return err
			}
			return printImages(cmd, rows, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func printImages(cmd *cobra.Command, rows []run.ImageRow, format string) error {
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		if rows == nil {
			rows = []run.ImageRow{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "table", "":
		tw := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, r.ID[:12], ago(r.Created), size(r.Size))
		}
		return tw.Flush()
	}
	return &usageError{fmt.Errorf("unknown --format %q: use table or json", format)}
}

// ago is docker's CREATED column: "About a minute ago", "3 days ago".
func ago(t time.Time) string { return units.HumanDuration(time.Since(t)) + " ago" }

func newRmi(g *run.Global) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [flags] IMAGE [IMAGE...]",
		Short: "Remove images from the store",
		Args:  minArgs(1, "at least one image"),
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
		Use:   "inspect IMAGE",
		Short: "Print an image's OCI config as JSON",
		Args:  exactArgs(1, "one image"),
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
	img.AddCommand(inspect, ls, rm, newPull(g), newLoad(g))
	return img
}
