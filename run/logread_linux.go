package run

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/denproject/den/run/pid1"
)

// logEntry is one line of docker's json-file log.
type logEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// logOutput is where den logs writes each stream.
type logOutput struct{ stdout, stderr io.Writer }

func (o logOutput) write(e logEntry, timestamps bool) {
	w := o.stdout
	if e.Stream == "stderr" {
		w = o.stderr
	}
	if timestamps {
		fmt.Fprint(w, e.Time.Format(time.RFC3339Nano)+" ")
	}
	fmt.Fprint(w, e.Log)
}

// ParseLogTime reads --since and --until as docker does: a duration back
// from now (10m), an RFC 3339 time or date, or Unix seconds.
func ParseLogTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	// "0" is the Unix epoch (docker's GetTimestamp), not now.
	if d, err := time.ParseDuration(s); err == nil && d >= 0 && s != "0" {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use a duration (10m), an RFC 3339 time (2026-01-02T15:04:05Z) or Unix seconds", s)
}

// logFiles are the log's files, oldest first.
func logFiles(dir string) []string {
	var files []string
	for i := 1; ; i++ {
		p := filepath.Join(dir, pid1.LogName+"."+strconv.Itoa(i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		files = append([]string{p}, files...)
	}
	return append(files, filepath.Join(dir, pid1.LogName))
}

// readEntries parses json-file lines; a line cut short (the writer is
// mid-write) is left for the next read.
func readEntries(r *bufio.Reader, keep func(logEntry)) error {
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if len(line) > 0 {
				return errPartial{len(line)}
			}
			return nil
		}
		var e logEntry
		if json.Unmarshal(line, &e) == nil {
			keep(e)
		}
	}
}

type errPartial struct{ n int }

func (e errPartial) Error() string { return "partial line" }

// followLogs prints the entries that pass o's bounds; with o.Follow it
// then prints new ones until running says the container stopped, reading
// on across a rotation.
func followLogs(ctx context.Context, dir string, o LogsOptions, running func() bool, out logOutput) error {
	var entries []logEntry
	keep := func(e logEntry) {
		if (o.Since.IsZero() || !e.Time.Before(o.Since)) && (o.Until.IsZero() || !e.Time.After(o.Until)) {
			entries = append(entries, e)
			if o.Tail >= 0 && len(entries) > 2*o.Tail+1024 {
				// --tail keeps the last lines only: a log of gigabytes
				// must not be held whole.
				entries = append(entries[:0], entries[len(entries)-o.Tail:]...)
			}
		}
	}
	files := logFiles(dir)
	var cur *os.File
	var offset int64
	for i, p := range files {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		err = readEntries(bufio.NewReader(f), keep)
		if i == len(files)-1 {
			cur = f
			offset, _ = f.Seek(0, io.SeekCurrent)
			if pe, ok := err.(errPartial); ok {
				offset -= int64(pe.n)
			}
		} else {
			f.Close()
		}
	}
	if o.Tail >= 0 && len(entries) > o.Tail {
		entries = entries[len(entries)-o.Tail:]
	}
	for _, e := range entries {
		out.write(e, o.Timestamps)
	}
	if !o.Follow || cur == nil {
		if cur != nil {
			cur.Close()
		}
		return nil
	}
	return follow(ctx, dir, cur, offset, o, running, out)
}

func follow(ctx context.Context, dir string, cur *os.File, offset int64, o LogsOptions, running func() bool, out logOutput) error {
	defer func() { cur.Close() }()
	path := filepath.Join(dir, pid1.LogName)
	emit := func(e logEntry) {
		if o.Until.IsZero() || !e.Time.After(o.Until) {
			out.write(e, o.Timestamps)
		}
	}
	for {
		alive := running()
		if _, err := cur.Seek(offset, io.SeekStart); err != nil {
			return err
		}
		br := bufio.NewReader(cur)
		err := readEntries(br, emit)
		offset, _ = cur.Seek(0, io.SeekCurrent)
		offset -= int64(br.Buffered())
		if pe, ok := err.(errPartial); ok {
			offset -= int64(pe.n)
		}
		if rotated(cur, path) {
			// The rotated file was read above to its end; the files
			// rotated after it (newer, lower numbers) are read whole.
			for _, p := range newerRotated(dir, cur) {
				if f, err := os.Open(p); err == nil {
					_ = readEntries(bufio.NewReader(f), emit)
					f.Close()
				}
			}
			next, err := os.Open(path)
			if err == nil {
				cur.Close()
				cur, offset = next, 0
				continue
			}
		}
		if !alive || ctx.Err() != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rotated says whether path is no longer the file f has open.
func rotated(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil {
		return false
	}
	return a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino
}

// newerRotated are the rotated files written after f, oldest first: those
// with a lower number than f's (found by inode). When f is gone from them
// too, each is newer than what was read.
func newerRotated(dir string, f *os.File) []string {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	files := logFiles(dir) // oldest first, ctr.log last
	files = files[:len(files)-1]
	for i, p := range files {
		if st, err := os.Stat(p); err == nil && st.Sys().(*syscall.Stat_t).Ino == ino {
			return files[i+1:]
		}
	}
	return files
}
