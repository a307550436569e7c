package cli

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newPs)
}

func newPs(g *run.Global) *cobra.Command {
	var o run.PsOptions
	var format string
	var quiet, noTrunc, latest bool
	cmd := &cobra.Command{
		Use:     "ps [flags]",
		Short:   "List containers",
		Example: "  den ps\n  den ps -aq\n  den ps -f status=exited --format '{{.Names}} {{.Status}}'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Last < -1 {
				return fmt.Errorf("invalid --last %d: use a number of containers", o.Last)
			}
			if latest {
				o.Last = 1
			}
			if o.Last == -1 {
				o.Last = 0
			}
			if _, _, err := listTemplate(format, quiet, psFormat); err != nil {
				return err
			}
			rows, err := run.Ps(g, o)
			if err != nil {
				return err
			}
			now := time.Now()
			out := make([]psRow, 0, len(rows))
			for _, r := range rows {
				out = append(out, newPsRow(r, !noTrunc, now))
			}
			return writeList(cmd.OutOrStdout(), format, quiet, psFormat, out)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "show stopped containers too")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only container ids")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not shorten ids and commands")
	f.IntVarP(&o.Last, "last", "n", -1, "show the N last created containers, whatever their state")
	f.BoolVarP(&latest, "latest", "l", false, "show the last created container, whatever its state")
	f.StringArrayVarP(&o.Filters, "filter", "f", nil, "KEY=VALUE: name, id, status, label or ancestor")
	f.StringVar(&format, "format", "table", "table, table TEMPLATE, json, or a Go template such as '{{.ID}}'")
	return cmd
}

// psRow is a container as `den ps` prints it, with docker's field names
// (for --format templates and json).
type psRow struct {
	Command      string
	CreatedAt    string
	ID           string
	Image        string
	Labels       string
	LocalVolumes string
	Mounts       string
	Names        string
	Networks     string
	Ports        string
	RunningFor   string
	Size         string
	State        string
	Status       string

	labels map[string]string
}

// Label is docker's {{.Label "KEY"}}.
func (r *psRow) Label(name string) string { return r.labels[name] }

var psFormat = listFormat{
	table: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
	header: map[string]string{"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
		"CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
		"Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS"},
}

func newPsRow(r run.PsRow, trunc bool, now time.Time) psRow {
	row := psRow{ID: r.ID, Image: r.Image, Command: r.Command, Names: r.Name, State: r.State,
		CreatedAt: r.Created.Truncate(time.Second).Local().String(), LocalVolumes: "0", Size: "0B",
		RunningFor: units.HumanDuration(now.Sub(r.Created)) + " ago", Status: psStatus(r, now),
		Ports: displayPorts(r.Ports), Networks: r.Network, labels: r.Labels}
	if trunc {
		row.ID = row.ID[:min(12, len(row.ID))]
		row.Command = ellipsis(row.Command, 20)
	}
	row.Command = strconv.Quote(row.Command)
	var labels []string
	for k, v := range r.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	row.Labels = strings.Join(labels, ",")
	var mounts []string
	for _, m := range r.Mounts {
		if trunc {
			m = ellipsis(m, 15)
		}
		mounts = append(mounts, m)
	}
	row.Mounts = strings.Join(mounts, ",")
	return row
}

// psStatus is docker's STATUS: "Up 3 minutes", "Exited (0) 2 minutes ago".
func psStatus(r run.PsRow, now time.Time) string {
	switch r.State {
	case "running":
		return "Up " + units.HumanDuration(now.Sub(r.StartedAt))
	case "exited":
		if r.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", r.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", r.ExitCode, units.HumanDuration(now.Sub(r.FinishedAt)))
	case "created":
		return "Created"
	}
	return r.State
}

// ellipsis is docker's: s cut to width runes, the last one "…".
func ellipsis(s string, width int) string {
	rs := []rune(s)
	if len(rs) <= width {
		return s
	}
	return string(rs[:width-1]) + "…"
}

// displayPorts is docker's PORTS column: ports published on the same
// port number grouped into ranges ("0.0.0.0:80-81->80-81/tcp"), the
// others one by one ("0.0.0.0:8080->80/tcp").
func displayPorts(ports []run.Port) string {
	ps := append([]run.Port{}, ports...)
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.ContainerPort != b.ContainerPort {
			return a.ContainerPort < b.ContainerPort
		}
		if hostIP(a) != hostIP(b) {
			return hostIP(a) < hostIP(b)
		}
		if a.HostPort != b.HostPort {
			return a.HostPort < b.HostPort
		}
		return a.Proto < b.Proto
	})
	type group struct{ first, last int }
	groups := map[string]*group{}
	var keys, out, mappings []string
	for _, p := range ps {
		if p.HostPort != p.ContainerPort {
			mappings = append(mappings, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(hostIP(p), strconv.Itoa(p.HostPort)), p.ContainerPort, p.Proto))
			continue
		}
		key := hostIP(p) + "/" + p.Proto
		g := groups[key]
		switch {
		case g == nil:
			groups[key] = &group{p.ContainerPort, p.ContainerPort}
			keys = append(keys, key)
		case p.ContainerPort == g.last+1:
			g.last = p.ContainerPort
		default:
			out = append(out, portGroup(key, g.first, g.last))
			groups[key] = &group{p.ContainerPort, p.ContainerPort}
		}
	}
	for _, k := range keys {
		out = append(out, portGroup(k, groups[k].first, groups[k].last))
	}
	return strings.Join(append(out, mappings...), ", ")
}

func portGroup(key string, first, last int) string {
	ip, proto, _ := strings.Cut(key, "/")
	ports := strconv.Itoa(first)
	if first != last {
		ports += "-" + strconv.Itoa(last)
	}
	return fmt.Sprintf("%s->%s/%s", net.JoinHostPort(ip, ports), ports, proto)
}

func hostIP(p run.Port) string {
	if p.HostIP == "" {
		return "0.0.0.0"
	}
	return p.HostIP
}
