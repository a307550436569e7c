package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// maxMsg bounds one message: a container's config with its compiled
// seccomp filter is tens of kilobytes.
const maxMsg = 1 << 20

// Conn is one end of a control socket. Send may be called from several
// goroutines; Recv from one.
type Conn struct {
	f  *os.File
	mu sync.Mutex
}

// Pair makes a connected pair of control sockets, close-on-exec: the end
// handed to a child is dup'ed onto FD by exec, without the flag.
func Pair() (*Conn, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("creating a control socket: %w", err)
	}
	for _, fd := range fds {
		// Large configs must fit one packet; the kernel caps this at
		// wmem_max, which is enough.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, maxMsg)
	}
	return NewConn(os.NewFile(uintptr(fds[0]), "ctl")), os.NewFile(uintptr(fds[1]), "ctl-remote"), nil
}

// Inherited is the control socket a process was started with, at FD. It
// is made close-on-exec at once: what the process starts must not hold it.
func Inherited() *Conn {
	unix.CloseOnExec(FD)
	return NewConn(os.NewFile(FD, "ctl"))
}

// NewConn wraps a socket.
func NewConn(f *os.File) *Conn { return &Conn{f: f} }

// File is the socket, for handing it on.
func (c *Conn) File() *os.File { return c.f }

// Close closes the socket; the peer's Recv then returns io.EOF.
func (c *Conn) Close() error { return c.f.Close() }

// Send sends a message with body encoded as JSON and files as SCM_RIGHTS.
func (c *Conn) Send(t Type, body any, files ...*os.File) error {
	m := Msg{V: Version, Type: t}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", t, err)
		}
		m.Body = b
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > maxMsg {
		return fmt.Errorf("control message %s is %d bytes, over the limit of %d", t, len(b), maxMsg)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		// A peer gone (den run -d returned) is an error, not SIGPIPE.
		err = unix.Sendmsg(int(c.f.Fd()), b, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("sending %s: %w", t, err)
	}
	return nil
}

// Recv returns the next message and the descriptors sent with it;
// io.EOF once the peer closed its end (or exited).
func (c *Conn) Recv() (Msg, []*os.File, error) {
	buf, oob, err := c.read()
	if errors.Is(err, unix.ECONNRESET) {
		// The peer closed with messages of ours unread, and the kernel
		// says so before it hands over what the peer sent last; said once,
		// it is cleared (an init's Failed after den's unread NetworkReady
		// was lost so: den run -d exited 127 with nothing said).
		buf, oob, err = c.read()
	}
	if err != nil {
		if errors.Is(err, unix.ECONNRESET) {
			return Msg{}, nil, io.EOF
		}
		return Msg{}, nil, fmt.Errorf("reading the control socket: %w", err)
	}
	files, err := rights(oob)
	if err != nil {
		return Msg{}, nil, err
	}
	n := len(buf)
	if n == 0 {
		CloseAll(files)
		return Msg{}, nil, io.EOF
	}
	var m Msg
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		CloseAll(files)
		return Msg{}, nil, fmt.Errorf("reading a control message: %w", err)
	}
	if m.V != Version {
		CloseAll(files)
		return Msg{}, nil, &VersionError{Got: m.V}
	}
	return m, files, nil
}

// Expect receives the next message, which must be of type t, and decodes
// its body into v (unless v is nil).
func (c *Conn) Expect(t Type, v any) ([]*os.File, error) {
	m, files, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if m.Type != t {
		CloseAll(files)
		return nil, fmt.Errorf("control protocol: got %s, want %s", m.Type, t)
	}
	if v != nil {
		if err := m.Decode(v); err != nil {
			CloseAll(files)
			return nil, err
		}
	}
	return files, nil
}

// Decode reads the message's body into v.
func (m Msg) Decode(v any) error {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return fmt.Errorf("decoding %s: %w", m.Type, err)
	}
	return nil
}

// VersionError is a peer speaking another version of the protocol.
type VersionError struct{ Got int }

func (e *VersionError) Error() string {
	return fmt.Sprintf("this den speaks control protocol v%d but the other side speaks v%d: stop the container with the den that started it (or restart it)", Version, e.Got)
}

func rights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("reading descriptors from the control socket: %w", err)
	}
	var files []*os.File
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "ctl-passed"))
		}
	}
	return files, nil
}

// CloseAll closes descriptors that came with a message and are not wanted.
func CloseAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// Listen makes the init's listening socket at path: SOCK_SEQPACKET, like
// the pairs.
func Listen(path string) (*os.File, error) {
	_ = os.Remove(path)
	fd, err := socketAt(path, unix.Bind)
	if err != nil {
		return nil, fmt.Errorf("binding the container's control socket %s: %w", path, err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), "ctl-listen"), nil
}

// Dial connects to a container's listening socket at path.
func Dial(path string) (*Conn, error) {
	fd, err := socketAt(path, unix.Connect)
	if err != nil {
		return nil, err
	}
	return NewConn(os.NewFile(uintptr(fd), "ctl")), nil
}

// socketAt makes a SEQPACKET socket and binds or connects it (op) to
// path, reached through a descriptor of its directory, since a socket's
// path is limited to 108 bytes. On error the socket is closed.
func socketAt(path string, op func(int, unix.Sockaddr) error) (int, error) {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return -1, err
	}
	defer dir.Close()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	short := fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	if err := op(fd, &unix.SockaddrUnix{Name: short}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Accept waits for the next connection on a listening socket.
func Accept(ln *os.File) (*Conn, error) {
	for {
		fd, _, err := unix.Accept4(int(ln.Fd()), unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return nil, err
		}
		return NewConn(os.NewFile(uintptr(fd), "ctl")), nil
	}
}

// read takes the next packet, sized by a peek first (most are small),
// and its control data.
func (c *Conn) read() (buf, oob []byte, err error) {
	var size int
	for {
		size, _, err = unix.Recvfrom(int(c.f.Fd()), nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, err
	}
	buf = make([]byte, max(size, 1))
	oob = make([]byte, unix.CmsgSpace(4*4))
	var n, oobn int
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(c.f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, nil, err // n is -1 then
	}
	return buf[:n], oob[:oobn], nil
}
