package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/doctor"
	"github.com/denproject/den/netns"
)

func init() {
	register("doctor", (*child).doctor)
}

// probe is what den's namespace child found: whether native overlay
// mounts there, and the id maps it got.
type probe struct {
	OverlayErr string `json:"overlayErr,omitempty"`
	UIDMap     string `json:"uidMap"`
	GIDMap     string `json:"gidMap"`
}

// Doctor checks the host for what den run needs, one check per line of
// den doctor. Besides the host checks (package doctor) it enters den's
// own namespace as den run does and mounts an overlay there.
func Doctor(g *Global) []doctor.Check {
	me := doctor.CurrentUser()
	exe, _ := os.Executable()
	unshareErr := doctor.TryUnshare()
	signs := doctor.InContainer()
	var cs []doctor.Check
	add := func(c doctor.Check) { cs = append(cs, c) }

	add(doctor.UserNamespaces(unshareErr))
	uidc, uidOK := doctor.SubIDs(doctor.Host.Subuid, "subuid", me)
	gidc, gidOK := doctor.SubIDs(doctor.Host.Subgid, "subgid", me)
	add(doctor.IDMappers(uidOK && gidOK))
	add(uidc)
	add(gidc)
	failedBefore := doctor.Failed(cs)
	var pr probe
	nsErr := g.quietCall("doctor", &pr)
	add(namespaceCheck(nsErr, failedBefore))
	if c, ok := doctor.AppArmor(exe, nsErr); ok {
		add(c)
	}
	if nsErr == nil {
		add(doctor.Overlay(pr.OverlayErr))
	}
	add(doctor.Tun(me, len(signs) > 0))
	backend, _ := netns.Choose("slirp")
	add(doctor.Network(backend))
	dir, err := RuntimeRoot()
	add(doctor.RuntimeDir(me, CallerRuntimeDir, dir, err))
	if g.Root == "" {
		g.Root, _ = DataRoot()
	}
	root, _ := filepath.Abs(g.Root)
	add(doctor.Store(root))
	add(doctor.CgroupCheck(me))
	add(doctor.Container(signs, unshareErr))
	return cs
}

func namespaceCheck(err error, failedBefore bool) doctor.Check {
	c := doctor.Check{Name: "den's namespace", Status: doctor.OK,
		Detail: "den enters its user and mount namespace as den run does"}
	if err != nil {
		c.Status, c.Detail = doctor.Fail, err.Error()
		if failedBefore {
			c.Detail += " (the failures above are the cause)"
		}
	}
	return c
}

// quietCall asks den's namespace child for op. What den would print on
// the way (the one-uid fallback's warning, the child's own error) is
// captured: the child's last line becomes the error.
func (g *Global) quietCall(op string, result any) error {
	saved, savedErr := os.Stderr, g.Stderr
	r, w, perr := os.Pipe()
	var out bytes.Buffer
	var wg sync.WaitGroup
	if perr == nil {
		os.Stderr, g.Stderr = w, io.Discard
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = io.Copy(&out, r) }()
	}
	err := g.call(op, nil, result, hooks{})
	if perr == nil {
		os.Stderr, g.Stderr = saved, savedErr
		w.Close()
		wg.Wait()
		r.Close()
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		msg := strings.TrimPrefix(strings.TrimSpace(lastLine(out.String())), "den: ")
		if msg == "" {
			msg = fmt.Sprintf("den's namespace child exited with status %d", ee.Code)
		}
		err = errors.New(msg)
	}
	return err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func (c *child) doctor(json.RawMessage) (any, error) {
	return c.probeNamespace()
}

// probeNamespace mounts an overlay in a scratch directory of the store
// (the filesystem den's layers will be on), as the store's driver would.
func (c *child) probeNamespace() (probe, error) {
	var pr probe
	uid, _ := os.ReadFile("/proc/self/uid_map")
	gid, _ := os.ReadFile("/proc/self/gid_map")
	pr.UIDMap, pr.GIDMap = string(uid), string(gid)
	if err := os.MkdirAll(c.g.Root, 0o700); err != nil {
		return pr, fmt.Errorf("creating the store directory %s: %w (see the store check below)", c.g.Root, err)
	}
	dir, err := os.MkdirTemp(c.g.Root, ".doctor-")
	if err != nil {
		return pr, err
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return pr, err
		}
	}
	merged := filepath.Join(dir, "merged")
	opts := fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", dir, dir, dir)
	err = unix.Mount("overlay", merged, "overlay", 0, opts+",userxattr")
	if err != nil {
		err = unix.Mount("overlay", merged, "overlay", 0, opts)
	}
	if err != nil {
		pr.OverlayErr = "mount: " + err.Error()
		return pr, nil
	}
	_ = unix.Unmount(merged, unix.MNT_DETACH)
	return pr, nil
}
