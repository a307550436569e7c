package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/docker/cli/templates"
	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupSystem, newInfo)
}

func newInfo(g *run.Global) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "info",
		Short:   "Show den's version, store, network, cgroups and id ranges",
		Example: "  den info\n  den info --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tmpl *template.Template
			switch {
			case format == "" || format == "json":
			case strings.Contains(format, "{{"):
				var err error
				if tmpl, err = templates.Parse(format); err != nil { // docker's functions (json, join...)
					return &usageError{fmt.Errorf("invalid --format template: %v", err)}
				}
			default:
				return &usageError{fmt.Errorf("unknown --format %q: use json or a Go template such as '{{.Store.Images}}'", format)}
			}
			in := run.GetInfo(g)
			in.Version = Version
			out := cmd.OutOrStdout()
			switch {
			case format == "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(in)
			case tmpl != nil:
				if err := tmpl.Execute(out, in); err != nil {
					return fmt.Errorf("--format: %v", err)
				}
				fmt.Fprintln(out)
				return nil
			}
			printInfo(out, in)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "json, or a Go template (e.g. '{{.Store.Images}}')")
	return cmd
}

// printInfo writes den info as docker info lays its own out.
func printInfo(w io.Writer, in run.Info) {
	none := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	maps := func(m []run.IDRange) string {
		var parts []string
		for _, r := range m {
			parts = append(parts, fmt.Sprintf("%d %d %d", r.Container, r.Host, r.Size))
		}
		return none(strings.Join(parts, ", "))
	}
	h := in.Host
	fmt.Fprintf(w, "Version: %s\nRootless: true\n", in.Version)
	fmt.Fprintf(w, "Host:\n OS: %s (%s/%s)\n Kernel: %s\n Hostname: %s\n CPUs: %d\n Total Memory: %s\n",
		none(h.Distribution), h.OS, h.Arch, h.Kernel, h.Hostname, h.CPUs, units.BytesSize(float64(h.MemTotal)))
	if len(h.Container) > 0 {
		fmt.Fprintf(w, " Inside a container: %s\n", strings.Join(h.Container, ", "))
	}
	u := in.User
	fmt.Fprintf(w, "User:\n Name: %s (uid %d, gid %d)\n UID Map: %s\n GID Map: %s\n", u.Name, u.UID, u.GID, maps(u.UIDMap), maps(u.GIDMap))
	s := in.Store
	fmt.Fprintf(w, "Store:\n Root: %s\n Run Root: %s\n Runtime Dir: %s\n Driver: %s\n Images: %d\n Containers: %d\n  Running: %d\n  Stopped: %d\n",
		s.Root, s.RunRoot, s.RuntimeDir, none(s.Driver), s.Images, s.Containers, s.Running, s.Stopped)
	n := in.Network
	fmt.Fprintf(w, "Network:\n Default: %s\n pasta: %s\n slirp4netns: %s\n", n.Default, none(n.Pasta), none(n.Slirp4netns))
	c := in.Cgroup
	fmt.Fprintf(w, "Cgroups:\n Version: %s\n Delegated: %s\n Controllers: %s\n", c.Version, none(c.Delegated), none(strings.Join(c.Controllers, " ")))
	if in.Error != "" {
		fmt.Fprintf(w, "Error: %s (den doctor tells more)\n", in.Error)
	}
}
