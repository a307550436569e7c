package pid1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Log is the container's log, in docker's json-file format: one JSON
// object a line, stdout and stderr apart. MaxSize (bytes, 0: no limit)
// rotates it, keeping MaxFile files in all.
type Log struct {
	MaxSize int64 `json:"maxSize,omitempty"`
	MaxFile int   `json:"maxFile,omitempty"`
}

// LogName is the log's file in the container's directory; rotated ones
// are LogName.1 (the newest) to LogName.N.
const LogName = "ctr.log"

// logLine is one json-file record, as docker writes it.
type logLine struct {
	Log    string `json:"log"`
	Stream string `json:"stream"`
	Time   string `json:"time"`
}

// logWriter appends lines to the log through a descriptor of the
// container's directory, which stays reachable after pivot_root.
type logWriter struct {
	mu   sync.Mutex
	dir  int
	f    *os.File
	size int64
	cfg  Log
}

func openLog(dir int, cfg Log) (*logWriter, error) {
	w := &logWriter{dir: dir, cfg: cfg}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *logWriter) open() error {
	fd, err := unix.Openat(w.dir, LogName, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("opening the container's log: %w", err)
	}
	w.f = os.NewFile(uintptr(fd), LogName)
	if fi, err := w.f.Stat(); err == nil {
		w.size = fi.Size()
	}
	return nil
}

// write records one line of a stream.
func (w *logWriter) write(stream string, line []byte) {
	b, _ := json.Marshal(logLine{Log: string(line), Stream: stream, Time: time.Now().UTC().Format(time.RFC3339Nano)})
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cfg.MaxSize > 0 && w.size > 0 && w.size+int64(len(b)) > w.cfg.MaxSize {
		w.rotate()
	}
	n, _ := w.f.Write(b)
	w.size += int64(n)
}

// rotate shifts LogName.i to LogName.i+1, dropping the oldest, as
// docker's max-file does.
func (w *logWriter) rotate() {
	w.f.Close()
	keep := max(w.cfg.MaxFile, 1)
	name := func(i int) string {
		if i == 0 {
			return LogName
		}
		return LogName + "." + strconv.Itoa(i)
	}
	_ = unix.Unlinkat(w.dir, name(keep-1), 0)
	for i := keep - 2; i >= 0; i-- {
		_ = unix.Renameat(w.dir, name(i), w.dir, name(i+1))
	}
	if keep == 1 {
		_ = unix.Unlinkat(w.dir, LogName, 0)
	}
	w.size = 0
	if err := w.open(); err != nil {
		w.f, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
}

// logStreams gives the command pipes for stdout and stderr and copies
// what comes out of them to out and errOut at once (den's, in the
// foreground) and, line by line, to the log. wait waits for both to end,
// at most a second after the command did: a background process that keeps
// a pipe open must not keep the container up.
func logStreams(w *logWriter, out, errOut io.Writer) (stdout, stderr *os.File, wait func(), err error) {
	var wg sync.WaitGroup
	pipe := func(stream string, tee io.Writer) (*os.File, error) {
		r, wr, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			copyLines(r, tee, func(line []byte) { w.write(stream, line) })
		}()
		return wr, nil
	}
	if stdout, err = pipe("stdout", out); err != nil {
		return nil, nil, nil, err
	}
	if stderr, err = pipe("stderr", errOut); err != nil {
		return nil, nil, nil, err
	}
	wait = func() {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		waitAtMost(done)
	}
	return stdout, stderr, wait, nil
}

// copyLines passes what it reads to tee as it comes (a prompt without a
// newline must show at once) and each complete line, or what is left at
// the end, to line.
func copyLines(r io.Reader, tee io.Writer, line func([]byte)) {
	buf := make([]byte, 32<<10)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = tee.Write(buf[:n])
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line(pending[:i+1])
				pending = pending[i+1:]
			}
			if len(pending) > 16<<10 { // docker splits long lines too
				line(pending)
				pending = nil
			}
		}
		if err != nil {
			if len(pending) > 0 {
				line(pending)
			}
			return
		}
	}
}
