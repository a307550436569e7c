package userns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Plan is how the namespace will be mapped, decided on the host before the
// child starts so that a fallback is announced once, by the outer process.
type Plan struct {
	UID, GID   int
	UIDs, GIDs []IDMap
	NewUIDMap  string // path of newuidmap; empty in the one-uid fallback
	NewGIDMap  string
	// Warning says why the full range is not used and how to fix it.
	Warning string
}

// Fallback reports whether only the caller's own uid and gid are mapped.
func (p *Plan) Fallback() bool { return p.NewUIDMap == "" }

// Lookup paths are variables so that tests can point them at fixtures.
var (
	subuidPath = "/etc/subuid"
	subgidPath = "/etc/subgid"
)

// NewPlan maps container uid 0 to the caller and 1..N to its subordinate
// range, or only uid 0 when newuidmap or a range is missing.
func NewPlan() *Plan {
	uid, gid := os.Getuid(), os.Getegid()
	p := &Plan{UID: uid, GID: gid}
	name := userName(uid)
	single := func(why string) *Plan {
		p.UIDs = []IDMap{{0, uint32(uid), 1}}
		p.GIDs = []IDMap{{0, uint32(gid), 1}}
		p.NewUIDMap, p.NewGIDMap = "", ""
		p.Warning = why + "; mapping only your own uid, so image files owned by other users are stored as root"
		return p
	}
	uidmap, err1 := exec.LookPath("newuidmap")
	gidmap, err2 := exec.LookPath("newgidmap")
	if err1 != nil || err2 != nil {
		return single("newuidmap/newgidmap not found (install them: apt-get install uidmap)")
	}
	ur, err := subRange(subuidPath, name, uid)
	if err != nil {
		return single(rangeProblem(subuidPath, name, err))
	}
	gr, err := subRange(subgidPath, name, uid)
	if err != nil {
		return single(rangeProblem(subgidPath, name, err))
	}
	p.NewUIDMap, p.NewGIDMap = uidmap, gidmap
	p.UIDs = []IDMap{{0, uint32(uid), 1}, {1, ur.Start, ur.Count}}
	p.GIDs = []IDMap{{0, uint32(gid), 1}, {1, gr.Start, gr.Count}}
	if ur.Count < MinRange || gr.Count < MinRange {
		p.Warning = fmt.Sprintf("the subordinate id range of %s is smaller than %d, so images with high uids (nobody = 65534) fail to unpack; give it a full range in %s and %s, e.g. %s:%d:%d",
			name, MinRange, subuidPath, subgidPath, name, ur.Start, MinRange)
	}
	return p
}

func rangeProblem(path, name string, err error) string {
	if errors.Is(err, os.ErrNotExist) {
		// A fixed example could overlap another user's range: den doctor
		// picks the first free one.
		return fmt.Sprintf("no range for %s in %s (den doctor prints the usermod command that adds a free one, to run as root)", name, path)
	}
	return fmt.Sprintf("cannot read %s: %v", path, err)
}

// Size is the number of container uids that exist (0..Size-1).
func (p *Plan) Size() uint32 {
	var n uint32
	for _, m := range p.UIDs {
		n += m.Size
	}
	return n
}

func formatMaps(ms []IDMap) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d %d\n", m.Container, m.Host, m.Size)
	}
	return b.String()
}

func mapArgs(pid int, ms []IDMap) []string {
	args := []string{fmt.Sprint(pid)}
	for _, m := range ms {
		args = append(args, fmt.Sprint(m.Container), fmt.Sprint(m.Host), fmt.Sprint(m.Size))
	}
	return args
}
