package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
	"github.com/denproject/den/run/spec"
)

func init() {
	register(groupSystem, newVolume)
}

func newVolume(g *run.Global) *cobra.Command {
	v := group("volume", "Manage volumes", "  den volume ls\n  den volume create data")
	var labels []string
	driver := "local"
	create := &cobra.Command{
		Use:     "create [NAME]",
		Short:   "Create a volume (den run -v NAME:/path also creates it on first use)",
		Example: "  den volume create cache\n  den run -v cache:/root/.cache IMAGE",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if driver != "local" {
				return fmt.Errorf("volume driver %q: den has only local", driver)
			}
			l := map[string]string{}
			for _, s := range labels {
				k, val, err := spec.ParseLabel(s)
				if err != nil {
					return err
				}
				l[k] = val
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			name, err := run.VolumeCreate(g, name, l)
			if err == nil {
				fmt.Println(name)
			}
			return err
		},
	}
	create.Flags().StringArrayVarP(&labels, "label", "l", nil, "set a label: KEY=VALUE")
	create.Flags().StringVarP(&driver, "driver", "d", "local", "the volume driver: local, the only one den has")
	v.AddCommand(create, newVolumeLs(g), newVolumeInspect(g), newVolumeRm(g), newVolumePrune(g))
	return v
}

func newVolumeLs(g *run.Global) *cobra.Command {
	var quiet bool
	var format string
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Example: "  den volume ls\n  den volume ls --format '{{.Name}} {{.Mountpoint}}'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := run.VolumeList(g)
			if err != nil {
				return err
			}
			rows := make([]volumeRow, 0, len(vs))
			for _, v := range vs {
				rows = append(rows, newVolumeRow(v))
			}
			if quiet {
				format, quiet = "{{.Name}}", false
			}
			return writeList(cmd.OutOrStdout(), format, quiet, volumeFormat, rows)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the names")
	cmd.Flags().StringVar(&format, "format", "", "table (the default), json, or a Go template: {{.Name}}, {{.Driver}}, {{.Mountpoint}}, {{.Labels}}, {{.Scope}}")
	return cmd
}

var volumeFormat = listFormat{
	table:  "table {{.Driver}}\t{{.Name}}",
	header: map[string]string{"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Scope": "SCOPE", "Links": "LINKS", "Size": "SIZE"},
}

// volumeRow is a volume as docker's volume ls shows it (its json too).
type volumeRow struct {
	Availability, Driver, Group, Labels, Links, Mountpoint, Name, Scope, Size, Status string
}

func newVolumeRow(v run.Volume) volumeRow {
	labels := make([]string, 0, len(v.Labels))
	for k, val := range v.Labels {
		labels = append(labels, k+"="+val)
	}
	sort.Strings(labels)
	return volumeRow{Availability: "N/A", Driver: v.Driver, Group: "N/A", Labels: strings.Join(labels, ","), Links: "N/A",
		Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: "N/A", Status: "N/A"}
}

func newVolumeInspect(g *run.Global) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "inspect VOLUME [VOLUME...]",
		Short:   "Show volumes as JSON, or a template",
		Example: "  den volume inspect cache\n  den volume inspect -f '{{.Mountpoint}}' cache",
		Args:    minArgs(1, "at least one volume"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := templateCheck(format); err != nil {
				return err
			}
			vs, err := run.VolumeInspect(g, args)
			if err != nil {
				return err
			}
			items := make([]json.RawMessage, 0, len(vs))
			for _, v := range vs {
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				items = append(items, b)
			}
			return writeInspect(cmd.OutOrStdout(), format, items)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "json, or a Go template such as '{{.Mountpoint}}'")
	return cmd
}

func newVolumeRm(g *run.Global) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove volumes no container uses",
		Example: "  den volume rm cache",
		Args:    minArgs(1, "at least one volume"),
		RunE: func(_ *cobra.Command, args []string) error {
			if !force {
				return run.VolumeRemove(g, args)
			}
			// docker's -f: a volume that is not there is said, not failed
			var errs []error
			for _, n := range args {
				if err := run.VolumeRemove(g, []string{n}); err != nil && strings.Contains(err.Error(), "no such volume") {
					fmt.Fprintln(os.Stderr, "den: "+err.Error())
				} else if err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "a volume that is not there is no failure (one in use is still refused)")
	return cmd
}

func newVolumePrune(g *run.Global) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:     "prune [flags]",
		Short:   "Remove anonymous volumes no container uses (-a: every unused volume)",
		Example: "  den volume prune\n  den volume prune -a",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			what := "all anonymous local volumes not used by at least one container"
			if all {
				what = "all local volumes not used by at least one container"
			}
			if !confirm(force, what) {
				return nil
			}
			names, err := run.VolumePrune(g, all)
			if len(names) > 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted Volumes:")
			}
			for _, n := range names {
				fmt.Fprintln(cmd.OutOrStdout(), n)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove named volumes too")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask")
	return cmd
}
