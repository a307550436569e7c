// Package run composes den's leaves (userns, overlay, pull, netns) into the
// commands the CLI offers. Every function that touches the store first
// makes sure it runs inside den's user namespace, re-executing den there.
package run

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/userns"
)

// Global holds the options every command shares.
type Global struct {
	Root    string // --root; default DataRoot()
	RunRoot string // default RuntimeRoot()
	Debug   bool
	Stderr  io.Writer
	// MaxLayerSize bounds a layer's uncompressed size; 0 means the default.
	MaxLayerSize int64
}

// DefaultMaxLayerSize is generous: real layers are far smaller, a
// decompression bomb is not.
const DefaultMaxLayerSize = 20 << 30

// ExitError carries an exit status to the CLI without a message: the
// status of a container, or of den re-executed in the namespace.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

func (g *Global) fill() error {
	if g.Stderr == nil {
		g.Stderr = os.Stderr
	}
	if g.MaxLayerSize == 0 {
		g.MaxLayerSize = DefaultMaxLayerSize
	}
	def, err := DataRoot()
	if g.Root == "" {
		if err != nil {
			return err
		}
		g.Root = def
	}
	if g.Root, err = filepath.Abs(g.Root); err != nil {
		return err
	}
	if g.RunRoot == "" {
		if g.RunRoot, err = RuntimeRoot(); err != nil {
			return err
		}
		// Every store needs runtime state of its own: two stores sharing
		// one would each see the other's mounts.
		if g.Root != def {
			sum := sha256.Sum256([]byte(g.Root))
			g.RunRoot = filepath.Join(g.RunRoot, "root-"+hex.EncodeToString(sum[:6]))
		}
	}
	// The libraries log through logrus; den reports their errors itself.
	if g.Debug {
		g.debugf("started (pid %d, in the namespace: %v)", os.Getpid(), userns.Inside())
		logrus.SetLevel(logrus.DebugLevel)
	} else {
		logrus.SetLevel(logrus.PanicLevel)
	}
	return nil
}

func (g *Global) warnf(format string, args ...any) {
	fmt.Fprintf(g.Stderr, "den: warning: "+format+"\n", args...)
}

// debugf prints a debug line stamped with the milliseconds since the
// outer den started, so --debug shows where a run's time goes.
func (g *Global) debugf(format string, args ...any) {
	if g.Debug {
		fmt.Fprintf(g.Stderr, "den: debug: %6.1fms "+format+"\n", append([]any{sinceStart()}, args...)...)
	}
}

const envStart = pid1.EnvStart

// sinceStart is measured from the outer den's start, which re-executed
// stages inherit through the environment.
func sinceStart() float64 {
	t0, err := strconv.ParseInt(os.Getenv(envStart), 10, 64)
	if err != nil {
		t0 = processStart.UnixNano()
		os.Setenv(envStart, strconv.FormatInt(t0, 10))
	}
	return float64(time.Now().UnixNano()-t0) / 1e6
}

var processStart = time.Now()

// reexec runs this same den command again inside the user namespace and
// returns its exit status as an *ExitError, also for 0: the child did the
// work and printed its output, the outer den has only to exit.
func (g *Global) reexec() error {
	plan := userns.NewPlan()
	if plan.Warning != "" {
		g.warnf("%s", plan.Warning)
	}
	child, err := userns.Start(userns.Options{
		Plan:   plan,
		Args:   os.Args[1:],
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	})
	if err != nil {
		return err
	}
	stop := child.ForwardSignals()
	code := child.Wait()
	stop()
	return &ExitError{Code: code}
}

// session is an open store inside the namespace.
type session struct {
	g     *Global
	store *overlay.Store
}

// enter returns a session, or (nil, err) where err is never nil: the
// outcome of re-executing den into the namespace, which the caller returns.
func (g *Global) enter() (*session, error) {
	if err := g.fill(); err != nil {
		return nil, err
	}
	if !userns.Inside() {
		return nil, g.reexec()
	}
	g.debugf("opening the store")
	st, err := overlay.Open(overlay.Options{
		Root:         g.Root,
		RunRoot:      g.RunRoot,
		SingleID:     userns.SingleID(),
		IDs:          userns.MappedIDs(),
		MaxLayerSize: g.MaxLayerSize,
		Debugf:       g.debugf,
	})
	if err != nil {
		return nil, err
	}
	return &session{g: g, store: st}, nil
}

func (s *session) close() { s.store.Close() }
