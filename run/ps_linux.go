package run

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/records"
)

// Port is a published port: a host address and port, the container's.
type Port = netns.Port

// PsRow is one container of `den ps`: what its columns are made of.
type PsRow struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Image      string            `json:"image"`
	ImageID    string            `json:"imageId"`
	Command    string            `json:"command"`
	Created    time.Time         `json:"created"`
	State      string            `json:"state"`
	ExitCode   int               `json:"exitCode"`
	StartedAt  time.Time         `json:"startedAt,omitzero"`
	FinishedAt time.Time         `json:"finishedAt,omitzero"`
	Ports      []netns.Port      `json:"ports,omitempty"` // published, while it runs
	Labels     map[string]string `json:"labels,omitempty"`
	Mounts     []string          `json:"mounts,omitempty"` // bind sources
	Network    string            `json:"network,omitempty"`
}

// PsOptions are `den ps`'s selections: -a, -n (-l is -n 1) and -f.
type PsOptions struct {
	All     bool     `json:"all,omitempty"`
	Last    int      `json:"last,omitempty"`
	Filters []string `json:"filters,omitempty"`
}

// psStates are the states docker's status filter takes.
var psStates = []string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}

// checkFilters reads docker's -f KEY=VALUE filters: name (a regular
// expression), id (a prefix), status, label (KEY or KEY=VALUE) and
// ancestor (an image name or id).
func checkFilters(filters []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || v == "" {
			return nil, fmt.Errorf("invalid filter %q: use KEY=VALUE with name, id, status, exited, label or ancestor", f)
		}
		switch k {
		case "name":
			if _, err := regexp.Compile(v); err != nil {
				return nil, fmt.Errorf("invalid filter %q: %v", f, err)
			}
		case "status":
			if !slices.Contains(psStates, v) {
				return nil, fmt.Errorf("invalid filter %q: status is one of %s", f, strings.Join(psStates, ", "))
			}
		case "exited":
			if _, err := strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("invalid filter %q: exited takes an exit code", f)
			}
		case "id", "label", "ancestor":
		default:
			return nil, fmt.Errorf("invalid filter %q: den ps filters by name, id, status, exited, label or ancestor", f)
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

// Ps lists containers, newest first: running ones, or as o selects.
func Ps(g *Global, o PsOptions) ([]PsRow, error) {
	if _, err := checkFilters(o.Filters); err != nil {
		return nil, err
	}
	var rows []PsRow
	err := g.call("ps", o, &rows, hooks{})
	return rows, err
}

func (c *child) ps(args json.RawMessage) (any, error) {
	o, err := decode[PsOptions](args)
	if err != nil {
		return nil, err
	}
	filters, err := checkFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	cs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	// As docker's: -n and a status or exited filter look at stopped
	// containers too.
	all := o.All || o.Last > 0 || len(filters["status"])+len(filters["exited"]) > 0
	rows := []PsRow{}
	for i := range cs {
		r, there := c.settle(st, &cs[i])
		if !there {
			continue
		}
		row := psRow(&cs[i], r)
		if !all && row.State != string(records.Running) || !matches(st, &row, filters) {
			continue
		}
		if rows = append(rows, row); o.Last > 0 && len(rows) == o.Last {
			break
		}
	}
	return rows, nil
}

func psRow(ctr *overlay.Container, r records.Record) PsRow {
	row := PsRow{ID: ctr.ID, Name: firstName(ctr), Image: r.Image, ImageID: ctr.ImageID,
		Command: strings.Join(r.Args, " "), Created: ctr.Created, State: string(r.State),
		ExitCode: r.ExitCode, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if r.State == records.Running {
		row.Ports = r.Ports
	}
	if sp := r.Spec; sp != nil {
		row.Labels = sp.Labels
		row.Network = sp.Network.Mode
		for _, m := range sp.Mounts {
			row.Mounts = append(row.Mounts, m.Source)
		}
	}
	return row
}

// matches applies docker's filter rules: values of one key are
// alternatives, different keys must all match.
func matches(st *overlay.Store, row *PsRow, filters map[string][]string) bool {
	for key, values := range filters {
		ok := false
		for _, v := range values {
			ok = ok || matchOne(st, row, key, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

func matchOne(st *overlay.Store, row *PsRow, key, v string) bool {
	switch key {
	case "name":
		// docker matches its names with their leading slash, and without
		re, err := regexp.Compile(v)
		return err == nil && row.Name != "" && (re.MatchString(row.Name) || re.MatchString("/"+row.Name))
	case "id":
		return strings.HasPrefix(row.ID, v)
	case "status":
		return row.State == v
	case "exited":
		return row.State == "exited" && strconv.Itoa(row.ExitCode) == v
	case "label":
		k, val, hasValue := strings.Cut(v, "=")
		got, ok := row.Labels[k]
		return ok && (!hasValue || got == val)
	case "ancestor":
		if row.Image == v || pull.Normalize(row.Image) == pull.Normalize(v) {
			return true
		}
		im, err := findImage(st, strings.TrimPrefix(v, "sha256:"))
		return err == nil && im.ID == row.ImageID
	}
	return false
}

func firstName(c *overlay.Container) string {
	if len(c.Names) > 0 {
		return c.Names[0]
	}
	return ""
}
