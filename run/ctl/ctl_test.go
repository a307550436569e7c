package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func pair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	a, remote, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	b := NewConn(remote)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestMessagesKeepTheirBoundariesAndBodies(t *testing.T) {
	a, b := pair(t)
	for i := 0; i < 3; i++ {
		if err := a.Send(Failed, StatusBody{Code: 127, Msg: strings.Repeat("x", i*40000)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		var st StatusBody
		if _, err := b.Expect(Failed, &st); err != nil {
			t.Fatal(err)
		}
		if st.Code != 127 || len(st.Msg) != i*40000 {
			t.Fatalf("message %d: code %d, %d bytes", i, st.Code, len(st.Msg))
		}
	}
}

func TestDescriptorsTravelWithTheirMessage(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := a.Send(TTY, nil, w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	m, files, err := b.Recv()
	if err != nil || m.Type != TTY || len(files) != 1 {
		t.Fatalf("got %v, %d files, %v", m.Type, len(files), err)
	}
	// What is written through the received descriptor comes out of the pipe.
	files[0].Write([]byte("through"))
	files[0].Close()
	got, _ := io.ReadAll(r)
	if string(got) != "through" {
		t.Fatalf("read %q", got)
	}
	// Received descriptors are close-on-exec: a command den starts later
	// must not inherit them.
	r2, w2, _ := os.Pipe()
	defer r2.Close()
	a.Send(TTY, nil, w2)
	w2.Close()
	_, files, _ = b.Recv()
	flags, err := unix.FcntlInt(files[0].Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("received descriptor flags %#x, %v", flags, err)
	}
	files[0].Close()
}

func TestAnotherVersionIsRefusedInOneLine(t *testing.T) {
	a, b := pair(t)
	raw, _ := json.Marshal(Msg{V: Version + 1, Type: Started})
	if err := unix.Sendmsg(int(a.File().Fd()), raw, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	_, _, err := b.Recv()
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Got != Version+1 {
		t.Fatalf("got %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "stop the container") {
		t.Fatalf("message %q does not name the fix on one line", msg)
	}
}

func TestEndOfPeerIsEOFAndUnexpectedTypesAreErrors(t *testing.T) {
	a, b := pair(t)
	a.Send(NetworkReady, nil)
	if _, err := b.Expect(Config, nil); err == nil || !strings.Contains(err.Error(), "want config") {
		t.Fatalf("wrong type: %v", err)
	}
	a.Close()
	if _, _, err := b.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v", err)
	}
	// A peer that is gone makes Send fail, and does not kill the sender.
	if err := b.Send(Started, nil); err == nil {
		t.Fatal("send to a closed peer succeeded")
	}
}

func TestOversizedMessageIsRefused(t *testing.T) {
	a, _ := pair(t)
	err := a.Send(Config, strings.Repeat("y", maxMsg+1))
	if err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("got %v", err)
	}
}

func TestExitCodesAsAShellReportsThem(t *testing.T) {
	cases := map[string]int{"exit 0": 0, "exit 42": 42, "kill -TERM $$": 143, "kill -KILL $$": 137}
	for script, want := range cases {
		err := exec.Command("/bin/sh", "-c", script).Run()
		if got := WaitCode(err, 125); got != want {
			t.Errorf("%s: %d, want %d", script, got, want)
		}
	}
	if got := WaitCode(errors.New("not started"), 125); got != 125 {
		t.Errorf("fallback: %d", got)
	}
	if got := ExitCode(syscall.WaitStatus(0x0100 * 3)); got != 3 {
		t.Errorf("ExitCode(exit 3) = %d", got)
	}
}

func TestCloseInheritedStopsDescriptorsAtExec(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// As a shell leaves it: inheritable.
	if _, err := unix.FcntlInt(w.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	CloseInherited()
	flags, err := unix.FcntlInt(w.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("flags %#x, %v", flags, err)
	}
	out, err := exec.Command("/bin/sh", "-c", "ls /proc/self/fd").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); len(got) > 4 {
		t.Fatalf("a child of den holds %v", got)
	}
}

// A peer that closes with our messages unread makes the kernel report
// ECONNRESET before what the peer sent last: Recv still returns that.
func TestRecvAfterPeerClosedWithUnread(t *testing.T) {
	a, bf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := NewConn(bf)
	if err := a.Send(NetworkReady, nil); err != nil { // b never reads it
		t.Fatal(err)
	}
	if err := b.Send(Failed, StatusBody{Code: 127, Msg: "nosuchcommand"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	var st StatusBody
	// Once peeked (den blocked in Recv when the init ended), once not.
	if _, err := a.Expect(Failed, &st); err != nil || st.Code != 127 || st.Msg != "nosuchcommand" {
		t.Fatalf("got %+v, %v", st, err)
	}
	if _, _, err := a.Recv(); err != io.EOF {
		t.Fatalf("after the last message: %v, want EOF", err)
	}
}

// The same when den is already waiting in Recv as the peer sends its
// last message and closes: the read after the peek meets ECONNRESET.
func TestRecvWaitingWhenPeerClosesWithUnread(t *testing.T) {
	for i := 0; i < 200; i++ {
		a, bf, err := Pair()
		if err != nil {
			t.Fatal(err)
		}
		b := NewConn(bf)
		if err := a.Send(NetworkReady, nil); err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			var st StatusBody
			_, err := a.Expect(Failed, &st)
			if err == nil && st.Code != 127 {
				err = fmt.Errorf("code %d", st.Code)
			}
			got <- err
		}()
		_ = b.Send(Failed, StatusBody{Code: 127, Msg: "nosuchcommand"})
		b.Close()
		if err := <-got; err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		a.Close()
	}
}
