package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// execFigures: den exec into a running container, against podman exec.
func (b *bench) execFigures(im *images) {
	f := newFigure("exec CONTAINER true", "ms")
	_, err := command(b.denArgs(b.store(), "run", "-d", "--name", "benchexec", "--network", "none", im.busybox, "sleep", "600"))
	check(err)
	b.times(f, "den", b.runs, b.denArgs(b.store(), "exec", "benchexec", "true")...)
	_, _ = command(b.denArgs(b.store(), "rm", "-f", "benchexec"))
	check(b.podman("run", "-d", "--name", "benchexec", "--network", "none", im.busybox, "sleep", "600"))
	b.times(f, "podman", b.runs, "podman", "exec", "benchexec", "true")
	_ = b.podman("rm", "-f", "-t", "0", "benchexec")
	f.refs = []ref{{"den", "podman", 0.15}}
	b.results = append(b.results, f)
}

// residentFigures: what five detached containers running sleep keep in
// memory besides their command, per container (PSS, so that the shared
// binary is counted once): den's own processes against podman's conmon,
// and each network program.
func (b *bench) residentFigures(im *images) {
	f := newFigure("resident memory per detached container (PSS)", "MB")
	// With -p, slirp4netns and the built-in stack keep a den beside the
	// init: the port forwarder (docs/design.md).
	for _, c := range []struct{ net, port string }{{"none", ""}, {"pasta", ""}, {"pasta", "80"},
		{"slirp4netns", ""}, {"slirp4netns", "80"}, {"builtin", ""}} {
		net := c.net
		var names []string
		for i := 0; i < 5; i++ {
			name := fmt.Sprintf("benchres%d", i)
			args := []string{"run", "-d", "--name", name, "--network", net}
			if c.port != "" {
				args = append(args, "-p", c.port)
			}
			_, err := command(b.denArgs(b.store(), append(args, im.busybox, "sleep", "600")...))
			check(err)
			names = append(names, name)
		}
		// What a developer's containers keep all day, not what a start
		// has just touched: each process sheds its setup once it runs.
		time.Sleep(2 * time.Second)
		subject := "den processes, --network " + net
		if c.port != "" {
			subject += " -p"
		}
		mine := func(comm, exe string) bool { return filepath.Base(exe) == filepath.Base(b.den) }
		f.add(subject, pss(mine, "Pss:")/5)
		if net == "none" {
			// What is the init's own: the rest is den's code, in the page
			// cache and shared by every den.
			f.add(subject+", anonymous only", pss(mine, "Pss_Anon:")/5)
		}
		if (net == "pasta" || net == "slirp4netns") && c.port == "" {
			helper := pss(func(comm, _ string) bool {
				return strings.HasPrefix(comm, net) || net == "pasta" && strings.HasPrefix(comm, "passt")
			}, "Pss:")
			f.add(net+" itself", helper/5)
		}
		_, _ = command(b.denArgs(b.store(), append([]string{"rm", "-f"}, names...)...))
	}
	for i := 0; i < 5; i++ {
		check(b.podman("run", "-d", "--name", fmt.Sprintf("benchres%d", i), "--network", "none", im.busybox, "sleep", "600"))
	}
	time.Sleep(2 * time.Second)
	f.add("podman conmon, --network none", pss(func(comm, _ string) bool { return comm == "conmon" }, "Pss:")/5)
	for i := 0; i < 5; i++ {
		_ = b.podman("rm", "-f", "-t", "0", fmt.Sprintf("benchres%d", i))
	}
	b.results = append(b.results, f)
}

// pss sums a field of smaps_rollup (the proportional set size, or its
// anonymous part), in MB, over this user's processes that match.
func pss(match func(comm, exe string) bool, field string) float64 {
	var kb int64
	verbose := os.Getenv("BENCH_VERBOSE") != ""
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, _ := os.ReadFile(filepath.Join(p, "comm"))
		exe, _ := os.Readlink(filepath.Join(p, "exe"))
		if !match(strings.TrimSpace(string(comm)), exe) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(p, "smaps_rollup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, field); ok {
				n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				kb += n
				if verbose {
					step(fmt.Sprintf("  %s %d kB: pid %s, %s", field, n, filepath.Base(p), strings.TrimSpace(string(comm))))
				}
			}
		}
	}
	return float64(kb) / 1024
}
