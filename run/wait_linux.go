package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/denproject/den/run/records"
)

// Wait is `den wait`: it waits for each container to stop and prints its
// exit code, as docker does.
func Wait(g *Global, names []string) error {
	return g.call("wait", names, nil, hooks{})
}

func (c *child) wait(args json.RawMessage) (any, error) {
	names, err := decode[[]string](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, n := range names {
		ctr, err := st.FindContainer(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for c.ctx.Err() == nil {
			now, err := st.FindContainer(ctr.ID)
			if err != nil {
				// Removed as it ended (--rm): the den that ran it left
				// the status behind.
				code, ok := c.removedExit(ctr.ID)
				if !ok {
					errs = append(errs, fmt.Errorf("%s: removed before its exit code could be read", n))
				} else {
					fmt.Println(code)
				}
				break
			}
			if r := records.Decode(now.Metadata); r.State != records.Running {
				fmt.Println(r.ExitCode)
				c.settle(st, now)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil, errors.Join(errs...)
}

func init() { register("wait", (*child).wait) }

// exitsDir keeps the exit codes of --rm containers for den wait, which
// may look only after the container is gone.
func (c *child) exitsDir() string { return filepath.Join(c.g.RunRoot, "exits") }

// recordRemovedExit leaves a --rm container's status for den wait, and
// drops the ones nobody read for ten minutes.
func (c *child) recordRemovedExit(id string, code int) {
	dir := c.exitsDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	_ = os.WriteFile(filepath.Join(dir, id), []byte(strconv.Itoa(code)), 0o600)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func (c *child) removedExit(id string) (int, bool) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(c.exitsDir(), id))
		if err == nil {
			code, err := strconv.Atoi(string(b))
			return code, err == nil
		}
	}
	return 0, false
}
