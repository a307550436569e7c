package run

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/denproject/den/overlay"
)

// sweep drops the kept blobs no stored image uses any more; those of the
// images in gone at once.
func (c *child) sweep(st *overlay.Store, gone []string) error {
	ids, err := st.ImageIDs()
	if err != nil {
		return err
	}
	if err := c.blobs().Sweep(ids, gone); err != nil {
		return fmt.Errorf("deleting unused blobs: %w", err)
	}
	return nil
}

// stdinToFile copies an archive piped to den into a temporary file: the
// archive readers need to seek.
func stdinToFile() (string, error) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return "", fmt.Errorf("den load needs an archive: den load -i FILE, or pipe one in (den load < FILE)")
	}
	f, err := os.CreateTemp("", "den-load-*.tar")
	if err != nil {
		return "", err
	}
	// Ctrl-C or a TERM while the archive comes in ends den, and takes
	// the half-copied file along (den's own handlers come later).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	type copied struct {
		n   int64
		err error
	}
	done := make(chan copied, 1)
	go func() { n, err := io.Copy(f, os.Stdin); done <- copied{n, err} }()
	var n int64
	select {
	case c := <-done:
		n, err = c.n, c.err
	case sig := <-sigs:
		f.Close()
		os.Remove(f.Name())
		fmt.Fprintln(os.Stderr, "den: interrupted while reading the archive from stdin; nothing was stored")
		return "", &ExitError{Code: 128 + int(sig.(syscall.Signal))}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == 0 {
		os.Remove(f.Name())
		return "", fmt.Errorf("den load: stdin is empty; pipe an archive in (den load < FILE) or use -i FILE")
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("reading the archive from stdin: %w", err)
	}
	return f.Name(), nil
}
