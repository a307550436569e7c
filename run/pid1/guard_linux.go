package pid1

import (
	"os"

	"github.com/denproject/den/run/ctl"
)

// guard gives the command stdin, stdout and stderr for files: each
// passable one itself, the others through ctl's guards (den hands the
// init only passable ones; this holds if one is not). done closes the
// init's copies of the command's ends once it has them; wait waits (at
// most a second after the command) for the output's copies. Input is
// never waited for: a terminal may never end.
func guard(files []*os.File) (out []*os.File, done, wait func(), err error) {
	var handed, waits []func()
	done = func() {
		for _, h := range handed {
			h()
		}
	}
	for i, f := range files {
		var g *os.File
		var h, w func()
		if i == 0 {
			g, h, err = ctl.GuardInput(f)
		} else {
			g, h, w, err = ctl.GuardOutput(f)
			waits = append(waits, w)
		}
		if err != nil {
			done()
			return nil, nil, nil, err
		}
		out, handed = append(out, g), append(handed, h)
	}
	wait = func() {
		copied := make(chan struct{})
		go func() {
			for _, w := range waits {
				w()
			}
			close(copied)
		}()
		waitAtMost(copied)
	}
	return out, done, wait, nil
}
