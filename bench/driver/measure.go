package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// figure is one measured quantity for several subjects.
type figure struct {
	name    string
	unit    string // "ms", "MB/s", "MB"
	order   []string
	samples map[string][]float64
	// refs are the comparisons printed for den: subject → target ratio
	// (0: no target).
	refs []ref
}

type ref struct {
	subject, against string
	target           float64
}

func newFigure(name, unit string) *figure {
	return &figure{name: name, unit: unit, samples: map[string][]float64{}}
}

func (f *figure) add(subject string, v float64) {
	if _, ok := f.samples[subject]; !ok {
		f.order = append(f.order, subject)
	}
	f.samples[subject] = append(f.samples[subject], v)
}

func (f *figure) median(subject string) float64 {
	s := slices.Clone(f.samples[subject])
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// run is one command's outcome.
type result struct {
	wall time.Duration
}

// command runs argv and fails the bench, with its output, when it fails.
func command(argv []string, env ...string) (result, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tail(out.String()))
	}
	return r, nil
}

// peakRSS is /usr/bin/time -f %M of argv in KiB: the largest process of
// the tree. Not the driver's own rusage: a child forked from this big
// process (it holds the registry) starts out sharing its memory.
func peakRSS(argv []string) (int64, error) {
	out, err := os.CreateTemp("", "rss-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	out.Close()
	if _, err := command(append([]string{"/usr/bin/time", "-o", out.Name(), "-f", "%M"}, argv...)); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// times runs argv once to warm up, then n timed times.
func (b *bench) times(f *figure, subject string, n int, argv ...string) {
	step(fmt.Sprintf("%s: %s", f.name, subject))
	_, err := command(argv)
	check(err)
	for i := 0; i < n; i++ {
		r, err := command(argv)
		check(err)
		f.add(subject, ms(r.wall))
	}
}

func (b *bench) denArgs(root string, args ...string) []string {
	return append([]string{b.den, "--root", root}, args...)
}

func (b *bench) podman(args ...string) error {
	_, err := command(append([]string{"podman"}, args...))
	return err
}

// configurePodman writes the settings rootless podman needs on this kind
// of host: runc (crun refuses the hybrid cgroup layout), native overlay
// (else the slow vfs), cgroupfs and a file events log (no systemd), and
// the local registry over plain HTTP.
func (b *bench) configurePodman() error {
	home, err := os.UserHomeDir()
	if err != nil {
		return err
	}
	dir := filepath.Join(home, ".config", "containers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n",
			filepath.Join(b.work, "podman"), filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "containers")),
		"containers.conf": "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
		"registries.conf": fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", b.reg),
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			return err
		}
	}
	if _, err := command([]string{"podman", "info", "--format", "{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}}"}); err != nil {
		return fmt.Errorf("rootless podman does not work for this user: %w", err)
	}
	return nil
}

// removeStore deletes a den store, whose files belong to subordinate ids.
func removeStore(den, root string) error {
	if _, err := os.Stat(root); err != nil {
		return nil
	}
	_, err := command([]string{den, "--root", root, "unshare", "rm", "-rf", root})
	return err
}
