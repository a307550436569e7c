package run

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/denproject/den/netns"
	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/ctl"
	"github.com/denproject/den/run/records"
	"github.com/denproject/den/run/spec"
)

// errLeftRunning: the container's init runs on alone, and this den goes.
var errLeftRunning = errors.New("the container runs on without den")

// leavesAlone says whether a container's init can run with no den beside
// it: detached, and nothing left for den to do while it runs (no port
// forwarder or network stack to keep). pasta forwards ports itself and
// ends when the init removes its namespace file; slirp4netns ends with
// the init's end of a pipe; a restart policy the init applies itself.
// It must say the same before the image is read as after: -P adds the
// image's exposed ports only then, so with slirp4netns it keeps den.
func leavesAlone(sp *spec.Spec) bool {
	plain := !sp.Network.Own() || sp.Network.Mode == netns.Pasta ||
		sp.Network.Mode == netns.Slirp4netns && len(sp.Network.Ports) == 0 && !sp.Network.PublishAllSet
	return sp.Detach && plain
}

// tieNetwork ties slirp4netns to the init instead of this den: it exits
// when the pipe's write end, which the init holds, closes with it.
func (c *child) tieNetwork(sp *spec.Spec) (exitW *os.File, err error) {
	if sp.Network.Mode != netns.Slirp4netns {
		return nil, nil
	}
	c.exitR, exitW, err = os.Pipe()
	return exitW, err
}

// noteInit records the init as soon as it exists, so that the container
// is found running even if this den dies before it says it leaves.
func (c *child) noteInit(st *overlay.Store, id string, pid int) {
	if c.rec == nil {
		return
	}
	dir, err := st.Dir(id)
	if err != nil {
		return
	}
	c.rec.InitPid, c.rec.InitStart = pid, records.StartTime(pid)
	c.rec.ExitFile = filepath.Join(dir, ctl.ExitFile)
	_ = os.Remove(c.rec.ExitFile) // a stopped container's, from before
	_ = os.Remove(filepath.Join(dir, ctl.RestartFile))
	_ = st.SetMetadata(id, c.rec.Encode())
}

// leave hands the running container over to its init: the record no
// longer names this den.
func (c *child) leave(st *overlay.Store, id string) bool {
	if c.rec == nil || c.rec.InitPid == 0 {
		return false
	}
	c.rec.Pid = 0
	return st.SetMetadata(id, c.rec.Encode()) == nil
}

// settle finishes what the den of a container would have done at its
// end, when no den was there: a record that still says running (its init
// ran alone, or its den was killed) is given its exit; the store's mount
// count follows; a --rm container is removed. It returns the record and
// whether the container is still there.
func (c *child) settle(st *overlay.Store, ctr *overlay.Container) (records.Record, bool) {
	r := records.Decode(ctr.Metadata)
	// A --rm container whose removal failed (a full disk) goes now.
	leftRm := r.State == records.Exited && r.Spec != nil && r.Spec.Rm
	if !r.Ended && !leftRm {
		return r, true
	}
	_ = st.Unmount(ctr.ID)
	if dir, err := st.Dir(ctr.ID); err == nil {
		netns.EndPasta(dir) // its init was killed: pasta ends now
	}
	if r.Spec != nil && r.Spec.Rm {
		if err := c.removeContainer(ctr); err == nil {
			return r, false
		}
	}
	r.Pid, r.Ended = 0, false
	if r.FinishedAt.IsZero() {
		r.FinishedAt = time.Now()
	}
	_ = st.SetMetadata(ctr.ID, r.Encode())
	return r, true
}
