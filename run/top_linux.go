package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

func init() { register("top", (*child).top) }

// TopResult is `den top`'s table: ps's titles and the container's rows.
type TopResult struct {
	Titles    []string
	Processes [][]string
}

// Top runs the host's ps with psArgs (docker's default -ef) and keeps the
// rows of the container's processes, as docker top does: the init (the
// container's pid 1) and every process under it.
func Top(g *Global, name string, psArgs []string) (*TopResult, error) {
	var init int
	if err := g.call("top", name, &init, hooks{}); err != nil {
		return nil, err
	}
	if init == 0 {
		return nil, fmt.Errorf("container %s is not running", name)
	}
	pids := containerPids(init)
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	cmd := exec.Command("ps", psArgs...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(err, exec.ErrNotFound) {
		return nil, errors.New("den top runs the host's ps, which is missing: install procps")
	}
	if err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return nil, fmt.Errorf("ps %s: %v: %s", strings.Join(psArgs, " "), err, msg)
	}
	return parsePs(string(out), pids)
}

func (c *child) top(args json.RawMessage) (any, error) {
	name, err := decode[string](args)
	if err != nil {
		return nil, err
	}
	_, init, err := c.containerInit(name)
	return init, err
}

// containerPids are init and its descendants, read from /proc (PPid in
// stat is readable whoever owns the process), plus any process in the
// init's pid namespace that we may see (one that joined it).
func containerPids(init int) map[int]bool {
	parent := map[int]int{}
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", init))
	pids := map[int]bool{init: true}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns != "" {
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
				pids[pid] = true
			}
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses: fields
		// start after the last ')'.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				parent[pid], _ = strconv.Atoi(f[1])
			}
		}
	}
	for pid := range parent {
		for p, seen := pid, 0; p > 1 && seen < 64; p, seen = parent[p], seen+1 {
			if p == init {
				pids[pid] = true
				break
			}
		}
	}
	return pids
}

// parsePs keeps ps's rows whose PID column is one of pids; a thread row
// ("-" as PID, with ps -L or m) follows its process. Fields past the
// titles belong to the last column (the command and its arguments).
func parsePs(out string, pids map[int]bool) (*TopResult, error) {
	lines := strings.Split(out, "\n")
	res := &TopResult{Titles: strings.Fields(lines[0]), Processes: [][]string{}}
	col := -1
	for i, t := range res.Titles {
		if t == "PID" {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, errors.New("ps printed no PID column: give den top options that keep it (e.g. -o pid,comm)")
	}
	keep := false
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		if f[col] != "-" {
			pid, err := strconv.Atoi(f[col])
			if err != nil {
				return nil, fmt.Errorf("ps printed %q as a PID", f[col])
			}
			keep = pids[pid]
		}
		if !keep {
			continue
		}
		if n := len(res.Titles); len(f) > n {
			f = append(f[:n-1], strings.Join(f[n-1:], " "))
		}
		res.Processes = append(res.Processes, f)
	}
	return res, nil
}
