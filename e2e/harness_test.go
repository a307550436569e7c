// Package e2e runs den as an unprivileged user against images from an
// in-process registry. Started as root (CI), TestMain creates the user
// "dentest" with /etc/subuid and /etc/subgid ranges and re-runs this test
// binary as that user: the container path is never tested as root.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	testUser      = "dentest"
	testSubStart  = 300000
	testSubCount  = 65536
	envDenBinary  = "DEN_BIN"
	envProbe      = "DEN_E2E_PROBE"
	envFullDisk   = "DEN_E2E_FULL_DISK" // a tmpfs of fullDiskSize bytes, made by root
	fullDiskSize  = 6 << 20
	commandBudget = 90 * time.Second
)

var denBin, probeBin string

func TestMain(m *testing.M) {
	if os.Getuid() == 0 {
		code, err := runAsTestUser()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	denBin, probeBin = os.Getenv(envDenBinary), os.Getenv(envProbe)
	if denBin == "" {
		dir, err := os.MkdirTemp("", "den-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		denBin, probeBin = filepath.Join(dir, "den"), filepath.Join(dir, "probe")
		if err := buildBinaries(denBin, probeBin); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// buildBinaries builds den and the static probe the tests put in images.
func buildBinaries(den, probe string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	for out, pkg := range map[string]string{den: "./cmd/den", probe: "./e2e/testdata/probe"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", pkg, err, b)
		}
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// runAsTestUser prepares the user and re-runs this binary as it.
func runAsTestUser() (int, error) {
	if _, err := user.Lookup(testUser); err != nil {
		if b, err := exec.Command("useradd", "-m", "-s", "/bin/sh", testUser).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("useradd %s: %v: %s", testUser, err, b)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if err := ensureSubRange(f); err != nil {
			return 0, err
		}
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		return 0, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "den-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir) // as root: also what the namespace's subuids own
	bin := filepath.Join(dir, "e2e.test")
	if err := copyFile(os.Args[0], bin); err != nil {
		return 0, err
	}
	den, probe := filepath.Join(dir, "den"), filepath.Join(dir, "probe")
	if err := buildBinaries(den, probe); err != nil {
		return 0, err
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return 0, err
	}
	for _, p := range []string{dir, bin, den, probe, tmp} {
		if err := os.Chown(p, uid, gid); err != nil {
			return 0, err
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}
	// A small filesystem for the full-disk test: only root can mount it.
	full := filepath.Join(dir, "full")
	if err := os.Mkdir(full, 0o755); err != nil {
		return 0, err
	}
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, fmt.Sprintf("size=%d,uid=%d,gid=%d,mode=0700", fullDiskSize, uid, gid)); err == nil {
		defer syscall.Unmount(full, syscall.MNT_DETACH)
	} else {
		full = ""
	}
	cmd := exec.Command(bin, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.Dir = tmp // the checkout may sit where the user cannot enter
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + u.HomeDir, "USER=" + testUser, "LOGNAME=" + testUser,
		"TMPDIR=" + tmp, envDenBinary + "=" + den, envProbe + "=" + probe,
		envFullDisk + "=" + full,
		"DEN_SYSCALL_TABLE=" + os.Getenv("DEN_SYSCALL_TABLE"),
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	code, err := exitCode(cmd.Run())
	if err != nil {
		return 0, fmt.Errorf("running the tests as %s: %w", testUser, err)
	}
	// The DNS test needs a resolver of the test's choosing, which only a
	// network namespace made by root can give it: one run per case.
	if selects(os.Args[1:], dnsTest) {
		for _, c := range dnsCases {
			dcode, err := runDNSCase(c, uid, gid, bin, tmp, cmd.Env)
			if err != nil {
				return 0, fmt.Errorf("DNS case %s: %w", c.name, err)
			}
			if code == 0 {
				code = dcode
			}
		}
	}
	// Host faults for den doctor, each made by root in a mount namespace
	// of its own: one run per fault.
	if selects(os.Args[1:], doctorFaultTest) {
		fcode, err := runDoctorFaults(uid, gid, bin, dir, tmp, cmd.Env)
		if err != nil {
			return 0, err
		}
		if code == 0 {
			code = fcode
		}
	}
	return code, nil
}

func exitCode(err error) (int, error) {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	return 0, err
}

func ensureSubRange(path string) error {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, testUser+":") {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s:%d:%d\n", testUser, testSubStart, testSubCount)
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// subuidBase is the host uid that container uid 1 maps to.
func subuidBase(t *testing.T) int {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/etc/subuid")
	if err != nil {
		t.Skipf("no /etc/subuid: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) == 3 && (p[0] == u.Username || p[0] == u.Uid) {
			n, _ := strconv.Atoi(p[1])
			return n
		}
	}
	t.Skipf("user %s has no /etc/subuid range", u.Username)
	return 0
}

// env is one isolated den: its own store and runtime directory.
type env struct {
	t    *testing.T
	dir  string
	data string
	run  string
	path string // PATH given to den
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, data: filepath.Join(dir, "data"), run: filepath.Join(dir, "run"),
		path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := os.Mkdir(e.run, 0o700); err != nil {
		t.Fatal(err)
	}
	// The store holds files owned by subordinate uids: delete it from
	// inside the namespace before the test's temp dir goes.
	t.Cleanup(func() {
		if _, err := os.Stat(e.data); err == nil {
			e.path = "/usr/bin:/bin"
			e.den("unshare", "rm", "-rf", e.data)
		}
	})
	return e
}

// store is den's storage directory in this env.
func (e *env) store() string { return filepath.Join(e.data, "den", "storage") }

func (e *env) environ() []string {
	home, _ := os.UserHomeDir()
	return []string{"PATH=" + e.path, "HOME=" + home, "XDG_DATA_HOME=" + e.data, "XDG_RUNTIME_DIR=" + e.run, "TMPDIR=" + os.TempDir()}
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, denBin, args...)
	cmd.Env = e.environ()
	cmd.Dir = e.dir
	return cmd
}

// den runs den to completion and returns its output and exit status.
func (e *env) den(args ...string) result {
	return e.denIn(nil, args...)
}

func (e *env) denIn(stdin io.Reader, args ...string) result {
	e.t.Helper()
	return e.denWith(nil, stdin, args...)
}

// denWith runs den with extra environment variables and stdin.
func (e *env) denWith(extra []string, stdin io.Reader, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandBudget)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Env = append(cmd.Env, extra...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("den %v: %v", args, err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("den %v did not finish in %v: %s", args, commandBudget, r)
	}
	return r
}

// ok runs den and fails the test unless it exits 0.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.den(args...)
	if r.code != 0 {
		e.t.Fatalf("den %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// oneLineError checks that den failed with exactly one line on stderr
// that mentions every fragment.
func oneLineError(t *testing.T, r result, fragments ...string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("expected failure, got %s", r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("expected one line on stderr, got %d: %q", len(lines), r.stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(lines[0], f) {
			t.Fatalf("stderr %q does not mention %q", lines[0], f)
		}
	}
}
