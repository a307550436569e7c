package pid1

import (
	"io"
	"os"
	"sync"

	"github.com/denproject/den/run/ctl"
)

// guard gives the command stdin, stdout and stderr for files: each
// passable one itself (ctl.Passable), the others through a pipe. done closes the
// init's copies of the command's ends once it has them; wait waits
// (at most a second after the command) for the output's copies. Input
// is never waited for: a terminal may never end.
func guard(files []*os.File) (out []*os.File, done, wait func(), err error) {
	out = append([]*os.File(nil), files...)
	var ends []*os.File
	var wg sync.WaitGroup
	for i, f := range files {
		if ctl.Passable(f) {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			for _, e := range ends {
				e.Close()
			}
			return nil, nil, nil, err
		}
		if i == 0 {
			go func() { _, _ = io.Copy(w, f); w.Close() }()
			out[0] = r
			ends = append(ends, r)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(f, r)
			r.Close()
		}()
		out[i] = w
		ends = append(ends, w)
	}
	done = func() {
		for _, e := range ends {
			e.Close()
		}
	}
	wait = func() {
		copied := make(chan struct{})
		go func() { wg.Wait(); close(copied) }()
		waitAtMost(copied)
	}
	return out, done, wait, nil
}
