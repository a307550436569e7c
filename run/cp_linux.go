package run

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/cptar"
	"github.com/denproject/den/run/ctl"
)

// cpHelper is the re-executed den that works inside the container's root:
// chrooted there, the kernel resolves every container path, links
// included, without ever leaving it (docker's chrootarchive does the same).
const cpHelper = "den-cp"

func init() {
	register("cp", (*child).cp)
	reexec.Register(cpHelper, cpHelperMain)
}

// CpOptions are `den cp`'s flags.
type CpOptions struct {
	Archive    bool `json:"archive,omitempty"`    // -a: keep owners
	FollowLink bool `json:"followLink,omitempty"` // -L: follow a link given as the source
}

type cpArgs struct {
	Container string    `json:"container"`
	Path      string    `json:"path"` // in the container
	Host      string    `json:"host"` // absolute, or "-"
	In        bool      `json:"in"`   // host to container
	Opts      CpOptions `json:"opts"`
	// Init and RootFD: a running container's init, and a descriptor of its
	// root this den opened (see Copy).
	Init   int `json:"init,omitempty"`
	RootFD int `json:"rootFd,omitempty"`
}

// SplitCpArg reads docker's cp operands: CONTAINER:PATH, or a host path
// (an absolute one, or one starting with '.', may hold ':').
func SplitCpArg(arg string) (ctr, p string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}

// Copy is `den cp SRC DST`, one of them CONTAINER:PATH, the other a host
// path or "-" (a tar stream on stdin or stdout). Files copied in belong to
// the container's root, files copied out to the user, unless -a.
func Copy(g *Global, src, dst string, o CpOptions) error {
	sc, sp := SplitCpArg(src)
	dc, dp := SplitCpArg(dst)
	a := cpArgs{Opts: o}
	switch {
	case sc != "" && dc != "":
		return errors.New("copying between containers is not supported: copy to the host, then into the other container")
	case sc == "" && dc == "":
		return errors.New("den cp needs a container on one side: CONTAINER:PATH")
	case dc != "":
		a.Container, a.Path, a.Host, a.In = dc, dp, sp, true
	default:
		a.Container, a.Path, a.Host = sc, sp, dp
	}
	if a.Path == "" {
		return fmt.Errorf("%s: empty path in the container: use %s:/PATH", a.Container, a.Container)
	}
	if a.Host != "-" {
		abs, err := filepath.Abs(a.Host)
		if err != nil {
			return err
		}
		a.Host = abs + trailing(a.Host)
	}
	return g.copyWithRoot(a)
}

// trailing keeps what filepath.Abs drops and docker's rules read: a final
// "/" or "/.".
func trailing(p string) string {
	switch {
	case strings.HasSuffix(p, "/."):
		return "/."
	case strings.HasSuffix(p, "/") && p != "/":
		return "/"
	}
	return ""
}

// copyWithRoot runs the copy in the user namespace. A running container's
// root lives in its init's mount namespace, which belongs to another user
// namespace than the one den makes for this request: only this den (the
// namespaces' owner) may open /proc/INIT/root. It hands the descriptor to
// the child with the request, at ctl.RequestFD.
func (g *Global) copyWithRoot(a cpArgs) error {
	var init int
	if err := g.call("top", a.Container, &init, hooks{}); err != nil {
		return err
	}
	if init > 0 {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/root", init), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: opening the running container's root: %w", a.Container, err)
		}
		root := os.NewFile(uintptr(fd), "container-root")
		defer root.Close()
		a.Init, a.RootFD = init, ctl.RequestFD
		return g.call("cp", a, nil, hooks{stdin: a.In && a.Host == "-", file: root})
	}
	return g.call("cp", a, nil, hooks{stdin: a.In && a.Host == "-"})
}

func (c *child) cp(args json.RawMessage) (any, error) {
	a, err := decode[cpArgs](args)
	if err != nil {
		return nil, err
	}
	root, release, err := c.cpRoot(a)
	if err != nil {
		return nil, err
	}
	defer release()
	if a.In {
		err = c.copyIn(root, a)
	} else {
		err = c.copyOut(root, a)
	}
	return nil, err
}

// cpRoot is the container's root as a descriptor: the one den opened for
// a running container (checked to still be its init's), else its layer,
// mounted here for the copy.
func (c *child) cpRoot(a cpArgs) (*os.File, func(), error) {
	id, init, err := c.containerInit(a.Container)
	if err != nil {
		return nil, nil, err
	}
	if a.RootFD > 0 {
		f := os.NewFile(uintptr(a.RootFD), "root")
		unix.CloseOnExec(a.RootFD)
		if init != a.Init {
			f.Close()
			return nil, nil, fmt.Errorf("%s: the container stopped or restarted during the copy; run den cp again", a.Container)
		}
		return f, func() { f.Close() }, nil
	}
	if init > 0 {
		return nil, nil, fmt.Errorf("%s: the container started during the copy; run den cp again", a.Container)
	}
	rootfs, err := c.store.Mount(id)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		_ = c.store.Unmount(id)
		return nil, nil, err
	}
	return f, func() { f.Close(); _ = c.store.Unmount(id) }, nil
}

// cpSource is what the copy's source is, for docker's destination rules.
type cpSource struct {
	IsDir    bool   `json:"isDir"`
	Contents bool   `json:"contents,omitempty"` // SRC ends with "/.": its contents, not itself
	Base     string `json:"base"`
}

// helperReq is the chrooted helper's request: Src for "in" (nil: a
// user's tar stream, extracted into the directory as it is).
type helperReq struct {
	Src    *cpSource `json:"src,omitempty"`
	Chown  bool      `json:"chown,omitempty"`
	Follow bool      `json:"follow,omitempty"`
}

// cpTarget is docker's rule for where a copy lands: into an existing
// directory (under the source's name, or its contents with "/."), over an
// existing file, or as a new name in an existing directory. name "" means
// dir itself receives the source's contents. stat is the destination
// side's (the host's, or the chrooted helper's).
func cpTarget(dst string, stat func(string) (os.FileInfo, error), src cpSource) (dir, name string, err error) {
	clean := filepath.Clean(dst)
	fi, err := stat(clean)
	exists := err == nil
	switch {
	case exists && fi.IsDir():
		if src.IsDir && src.Contents {
			return clean, "", nil
		}
		return clean, src.Base, nil
	case exists && src.IsDir:
		return "", "", fmt.Errorf("cannot copy a directory to a file: %s", dst)
	case exists:
		return filepath.Dir(clean), filepath.Base(clean), nil
	case !src.IsDir && trailing(dst) != "":
		return "", "", fmt.Errorf("%s: no such directory", dst)
	}
	if fi, err := stat(filepath.Dir(clean)); err != nil || !fi.IsDir() {
		return "", "", fmt.Errorf("%s: no such directory", filepath.Dir(clean))
	}
	return filepath.Dir(clean), filepath.Base(clean), nil
}

// helper starts the re-executed den chrooted at root; what it reads and
// writes are the returned pipe ends. Its error is the returned wait's.
func helper(root *os.File, args ...string) (stdin io.WriteCloser, stdout io.ReadCloser, wait func() error, err error) {
	cmd := reexec.Command(append([]string{cpHelper}, args...)...)
	cmd.ExtraFiles = []*os.File{root}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if stdin, err = cmd.StdinPipe(); err != nil {
		return nil, nil, nil, err
	}
	if stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	wait = func() error {
		if err := cmd.Wait(); err != nil {
			if msg := strings.TrimSpace(stderr.String()); msg != "" {
				return errors.New(msg)
			}
			return err
		}
		return nil
	}
	return stdin, stdout, wait, nil
}

// cpHelperMain serves one side of a copy inside the container's root (at
// fd 3): "out PATH REQ" writes PATH as its cpSource line then a tar
// stream, "in PATH REQ" extracts a stream into PATH.
func cpHelperMain() {
	err := unix.Fchdir(3)
	if err == nil {
		err = unix.Chroot(".")
	}
	unix.Close(3)
	if err == nil {
		err = os.Chdir("/")
	}
	var req helperReq
	if err == nil && len(os.Args) == 4 {
		err = json.Unmarshal([]byte(os.Args[3]), &req)
	}
	if err == nil {
		w := bufio.NewWriter(os.Stdout)
		switch os.Args[1] {
		case "out":
			err = helperOut(w, os.Args[2], req)
		case "in":
			err = helperIn(os.Args[2], req)
		}
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, strings.ReplaceAll(err.Error(), "\n", "; "))
		os.Exit(1)
	}
}

// cpBase is the name a source is copied under.
func cpBase(p string) string {
	b := filepath.Base(filepath.Clean(p))
	if b == "/" {
		return "."
	}
	return b
}

func statSource(p string, follow bool) (os.FileInfo, error) {
	fi, err := os.Lstat(p)
	if err == nil && follow && fi.Mode()&os.ModeSymlink != 0 {
		fi, err = os.Stat(p)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file or directory", p)
	}
	return fi, err
}

func helperOut(w io.Writer, p string, req helperReq) error {
	fi, err := statSource(p, req.Follow)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(w).Encode(cpSource{IsDir: fi.IsDir(), Base: cpBase(p)}); err != nil {
		return err
	}
	return cptar.WriteTree(w, p, cpBase(p), req.Follow)
}

func helperIn(p string, req helperReq) error {
	in := bufio.NewReader(os.Stdin)
	if req.Src == nil {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			return fmt.Errorf("%s: no such directory (a tar stream is extracted into a directory)", p)
		}
		return cptar.Extract(in, cptar.Opts{Dir: p, Raw: true, Chown: req.Chown})
	}
	dir, name, err := cpTarget(p, os.Stat, *req.Src)
	if err != nil {
		return err
	}
	return cptar.Extract(in, cptar.Opts{Dir: dir, Name: name, Chown: req.Chown})
}

// copyOut copies the container's a.Path to the host, or to stdout as a
// tar stream.
func (c *child) copyOut(root *os.File, a cpArgs) error {
	in, out, wait, err := helper(root, "out", a.Path, string(mustJSON(helperReq{Follow: a.Opts.FollowLink})))
	if err != nil {
		return err
	}
	in.Close()
	br := bufio.NewReader(out)
	line, err := br.ReadBytes('\n')
	var src cpSource
	if err == nil {
		err = json.Unmarshal(line, &src)
	}
	if err != nil { // the helper found nothing to copy: its error says why
		out.Close()
		if werr := wait(); werr != nil {
			return fmt.Errorf("%s: %w", a.Container, werr)
		}
		return err
	}
	src.Contents = strings.HasSuffix(a.Path, "/.")
	if a.Host == "-" {
		_, err = io.Copy(os.Stdout, br)
	} else {
		var dir, name string
		if dir, name, err = cpTarget(a.Host, os.Stat, src); err == nil {
			err = cptar.Extract(br, cptar.Opts{Dir: dir, Name: name, Chown: a.Opts.Archive})
		}
	}
	out.Close() // a helper still writing stops
	if werr := wait(); err == nil && werr != nil {
		return fmt.Errorf("%s: %w", a.Container, werr)
	}
	return err
}

// copyIn copies a host path, or a tar stream on stdin, into the container.
func (c *child) copyIn(root *os.File, a cpArgs) error {
	req := helperReq{Chown: a.Opts.Archive}
	var fi os.FileInfo
	if a.Host != "-" {
		var err error
		if fi, err = statSource(a.Host, a.Opts.FollowLink); err != nil {
			return err
		}
		req.Src = &cpSource{IsDir: fi.IsDir(), Contents: strings.HasSuffix(a.Host, "/."), Base: cpBase(a.Host)}
	}
	in, out, wait, err := helper(root, "in", a.Path, string(mustJSON(req)))
	if err != nil {
		return err
	}
	out.Close()
	if a.Host == "-" {
		_, err = io.Copy(in, os.Stdin)
	} else {
		err = cptar.WriteTree(in, a.Host, cpBase(a.Host), a.Opts.FollowLink)
	}
	in.Close()
	if werr := wait(); werr != nil {
		return fmt.Errorf("%s: %w", a.Container, werr)
	}
	return err
}
