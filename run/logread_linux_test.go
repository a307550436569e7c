package run

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func logLines(names ...string) string {
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, `{"log":"%s\n","stream":"stdout","time":"%s"}`+"\n", n, time.Now().UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

// den logs -f reads on across rotations, files rotated past included.
func TestFollowAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	os.WriteFile(p("ctr.log"), []byte(logLines("a1", "a2")), 0o600)
	cur, err := os.Open(p("ctr.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Two rotations while den logs -f was not looking.
	os.Rename(p("ctr.log"), p("ctr.log.1"))
	os.WriteFile(p("ctr.log"), []byte(logLines("b1")), 0o600)
	os.Rename(p("ctr.log.1"), p("ctr.log.2"))
	os.Rename(p("ctr.log"), p("ctr.log.1"))
	os.WriteFile(p("ctr.log"), []byte(logLines("c1", "c2")), 0o600)
	var out, errb bytes.Buffer
	err = follow(context.Background(), dir, cur, 0, LogsOptions{Follow: true, Tail: -1}, func() bool { return false }, logOutput{&out, &errb})
	if err != nil || out.String() != "a1\na2\nb1\nc1\nc2\n" {
		t.Fatalf("followed %q, %v", out.String(), err)
	}
}

// --tail keeps the last lines whatever the log's size.
func TestTailKeepsTheLastLines(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := 0; i < 3000; i++ {
		names = append(names, fmt.Sprint(i))
	}
	os.WriteFile(filepath.Join(dir, "ctr.log"), []byte(logLines(names...)), 0o600)
	var out bytes.Buffer
	err := followLogs(context.Background(), dir, LogsOptions{Tail: 2}, func() bool { return false }, logOutput{&out, &out})
	if err != nil || out.String() != "2998\n2999\n" {
		t.Fatalf("--tail 2: %q, %v", out.String(), err)
	}
}

// A log that holds garbage, a line of another shape and a last line cut
// short (the container was killed mid-write) prints its whole lines only.
func TestLogsSkipGarbageAndACutLine(t *testing.T) {
	dir := t.TempDir()
	body := logLines("first") + "not json at all\n" + `{"log":42}` + "\n" + "\x00\xff\n" + logLines("second") + `{"log":"cut sho`
	os.WriteFile(filepath.Join(dir, "ctr.log"), []byte(body), 0o600)
	var out, errb bytes.Buffer
	err := followLogs(context.Background(), dir, LogsOptions{Tail: -1}, func() bool { return false }, logOutput{&out, &errb})
	if err != nil || out.String() != "first\nsecond\n" || errb.Len() != 0 {
		t.Fatalf("printed %q and %q, %v", out.String(), errb.String(), err)
	}
}
