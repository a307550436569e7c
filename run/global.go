// Package run composes den's leaves (userns, overlay, pull, netns) into the
// commands the CLI offers. Each command that touches the store is a typed
// request that the den a user runs hands to den inside the user namespace
// over the control protocol (run/ctl); the child never parses argv.
package run

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/denproject/den/run/ctl"
)

// Global holds the options every command shares.
type Global struct {
	Root    string `json:"root"` // --root; default DataRoot()
	RunRoot string `json:"runRoot"`
	Debug   bool   `json:"debug,omitempty"`
	// MaxLayerSize bounds a layer's uncompressed size; 0 means the default.
	MaxLayerSize int64     `json:"maxLayerSize"`
	Stderr       io.Writer `json:"-"`
	filled       bool
}

// DefaultMaxLayerSize is generous: real layers are far smaller, a
// decompression bomb is not.
const DefaultMaxLayerSize = 20 << 30

// ExitError carries an exit status to the CLI without a message: the
// status of a container, or of a command den ran.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// codedError is a failure with docker's exit status for it (125, or
// 126/127 when the command cannot be executed).
type codedError struct {
	code int
	msg  string
}

func (e *codedError) Error() string { return e.msg }

// ExitCode is the status den exits with.
func (e *codedError) ExitCode() int { return e.code }

func (g *Global) fill() error {
	if g.filled {
		return nil
	}
	g.filled = true
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
	g.quietLibraries()
	return nil
}

// quietLibraries: the libraries log through logrus; den reports their
// errors itself.
func (g *Global) quietLibraries() {
	if g.Debug {
		g.debugf("started (pid %d)", os.Getpid())
		logrus.SetLevel(logrus.DebugLevel)
	} else {
		logrus.SetLevel(logrus.PanicLevel)
	}
}

func (g *Global) warnf(format string, args ...any) {
	fmt.Fprintf(g.Stderr, "den: warning: "+format+"\n", args...)
}

func (g *Global) debugf(format string, args ...any) {
	if g.Debug {
		ctl.Stamp(g.Stderr, format, args...)
	}
}
