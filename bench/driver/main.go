// Command denbench takes every figure of make bench as an unprivileged
// user: den, rootless podman and the kernel floors side by side, in one
// run, against images served by a registry on 127.0.0.1. bench/run.sh
// prepares the user and the Debian rootfs, then starts it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type bench struct {
	den     string // den binary
	before  string // an earlier den binary, compared in the start-up figures
	work    string // scratch directory, removed at the end
	reg     string // registry host:port
	runs    int
	pulls   int
	results []*figure
}

func main() {
	den := flag.String("den", "den", "den binary")
	before := flag.String("den-before", "", "an earlier den binary, to compare start-up in the same run")
	debian := flag.String("debian", "debian.tar", "uncompressed tar of a Debian minbase rootfs")
	runs := flag.Int("runs", 15, "timed runs per run figure")
	pulls := flag.Int("pulls", 5, "timed cold pulls per image")
	serve := flag.Bool("serve", false, "only serve the images (for profiling by hand) until killed")
	only := flag.String("only", "", "comma-separated figure groups to take (run, exec, resident, pull, images, network); all when empty")
	flag.Parse()
	if os.Getuid() == 0 {
		fail(fmt.Errorf("run as an unprivileged user (make bench does that when started as root)"))
	}
	abs, err := filepath.Abs(*den)
	check(err)
	b := &bench{den: abs, runs: *runs, pulls: *pulls}
	if *before != "" {
		if b.before, err = filepath.Abs(*before); err != nil {
			fail(err)
		}
	}
	b.work, err = os.MkdirTemp(filepath.Dir(abs), "work-")
	check(err)
	defer b.cleanup()

	step("registry on 127.0.0.1 with busybox, Debian (1 and 6 layers) and 50 small images")
	imgs, err := b.serveImages(*debian)
	check(err)
	if *serve {
		fmt.Println(imgs.busybox, imgs.debian1, imgs.debian6, imgs.debianBlob)
		select {}
	}
	step("podman configuration (runc, overlay, cgroupfs, file events)")
	check(b.configurePodman())
	check(b.podman("rmi", "-af"))

	groups := []struct {
		name string
		take func(*images)
	}{{"run", b.runFigures}, {"exec", b.execFigures}, {"resident", b.residentFigures},
		{"pull", b.pullFigures}, {"images", b.imagesFigures}, {"network", b.networkFigures}}
	for _, g := range groups {
		if *only == "" || slices.Contains(strings.Split(*only, ","), g.name) {
			g.take(imgs)
		}
	}
	b.print(os.Stdout)
}

func (b *bench) cleanup() {
	_ = b.podman("rmi", "-af")
	_ = removeStore(b.den, filepath.Join(b.work, "den"))
	if b.before != "" {
		_ = removeStore(b.before, filepath.Join(b.work, "den-before"))
	}
	_ = os.RemoveAll(b.work)
}

func step(s string) { fmt.Fprintf(os.Stderr, "bench: %s\n", s) }

func check(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// stopwatch returns how long fn took.
func stopwatch(fn func() error) (time.Duration, error) {
	t := time.Now()
	err := fn()
	return time.Since(t), err
}
