package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/denproject/den/internal/testimage"
)

func (b *bench) store() string { return filepath.Join(b.work, "den") }

// runFigures: start-up of a container running true, and its peak RSS.
func (b *bench) runFigures(im *images) {
	_, err := command(b.denArgs(b.store(), "pull", "-q", im.busybox))
	check(err)
	check(b.podman("pull", "-q", im.busybox))

	none := newFigure("run --rm --network none busybox true", "ms")
	b.times(none, "den", b.runs, b.denArgs(b.store(), "run", "--rm", "--network", "none", im.busybox, "true")...)
	b.times(none, "podman", b.runs, "podman", "run", "--rm", "--network", "none", im.busybox, "true")
	b.times(none, "unshare+chroot", b.runs, "unshare", "-Urmpf", "--mount-proc", "chroot", im.rootfs, "/bin/true")
	b.times(none, "bwrap", b.runs, "bwrap", "--unshare-all", "--bind", im.rootfs, "/", "--proc", "/proc", "--dev", "/dev", "/bin/true")
	none.refs = []ref{{"den", "podman", 0.10}, {"den", "unshare+chroot", 4}, {"den", "bwrap", 0}}
	b.before2(none, im, "--network", "none")
	b.results = append(b.results, none)

	def := newFigure("run --rm busybox true (default network)", "ms")
	b.times(def, "den", b.runs, b.denArgs(b.store(), "run", "--rm", im.busybox, "true")...)
	b.times(def, "den slirp4netns", b.runs, b.denArgs(b.store(), "run", "--rm", "--network", "slirp4netns", im.busybox, "true")...)
	b.times(def, "den builtin", b.runs, b.denArgs(b.store(), "run", "--rm", "--network", "builtin", im.busybox, "true")...)
	b.times(def, "podman", b.runs, "podman", "run", "--rm", im.busybox, "true")
	def.refs = []ref{{"den", "podman", 0.15}}
	b.before2(def, im)
	b.results = append(b.results, def)

	delta := newFigure("network start-up over --network none (medians)", "ms")
	for _, s := range []string{"den", "den slirp4netns", "den builtin", "podman"} {
		delta.add(s, def.median(s)-none.median(strings.Fields(s)[0]))
	}
	b.results = append(b.results, delta)

	rss := newFigure("peak RSS of run --rm --network none busybox true", "MB")
	for _, s := range []struct {
		name string
		argv []string
	}{
		{"den", b.denArgs(b.store(), "run", "--rm", "--network", "none", im.busybox, "true")},
		{"podman", []string{"podman", "run", "--rm", "--network", "none", im.busybox, "true"}},
	} {
		for i := 0; i < 5; i++ {
			kb, err := peakRSS(s.argv)
			check(err)
			rss.add(s.name, float64(kb)/1024)
		}
	}
	rss.refs = []ref{{"den", "podman", 0.5}}
	b.results = append(b.results, rss)
}

// before2 adds the earlier den to a start-up figure, with a store of its
// own, so that a change is measured against what it replaced in one run.
func (b *bench) before2(f *figure, im *images, flags ...string) {
	if b.before == "" {
		return
	}
	root := filepath.Join(b.work, "den-before")
	_, err := command([]string{b.before, "--root", root, "pull", "-q", im.busybox})
	check(err)
	argv := append(append([]string{b.before, "--root", root, "run", "--rm"}, flags...), im.busybox, "true")
	b.times(f, "den before", b.runs, argv...)
	f.refs = append(f.refs, ref{"den", "den before", 0})
}

// pullFigures: cold pulls (store emptied before each) and the floor of
// one gzip stream: curl | gzip -d | tar -x of the one-layer blob.
func (b *bench) pullFigures(im *images) {
	for _, img := range []struct{ label, ref string }{
		{"busybox", im.busybox}, {"busybox multi-layer test image", im.multi},
		{"debian 1 layer", im.debian1}, {"debian 6 layers", im.debian6},
	} {
		f := newFigure("cold pull "+img.label, "ms")
		step(f.name)
		for i := 0; i < b.pulls; i++ {
			root := filepath.Join(b.work, "cold")
			check(removeStore(b.den, root))
			syscall.Sync()
			r, err := command(b.denArgs(root, "pull", "-q", img.ref))
			check(err)
			f.add("den", ms(r.wall))
			check(removeStore(b.den, root))
		}
		for i := 0; i < b.pulls; i++ {
			check(b.podman("rmi", "-af"))
			syscall.Sync()
			r, err := command([]string{"podman", "pull", "-q", img.ref})
			check(err)
			f.add("podman", ms(r.wall))
		}
		check(b.podman("rmi", "-af"))
		f.refs = []ref{{"den", "podman", 0.75}}
		if img.ref == im.debian1 {
			dir := filepath.Join(b.work, "floor")
			for i := 0; i < b.pulls; i++ {
				_ = os.RemoveAll(dir)
				check(os.MkdirAll(dir, 0o755))
				syscall.Sync()
				r, err := command([]string{"sh", "-c", fmt.Sprintf("curl -sf %s | gzip -d | tar -x -C %s", im.debianBlob, dir)})
				check(err)
				f.add("curl|gzip|tar", ms(r.wall))
				_ = exec.Command("chmod", "-R", "u+rwX", dir).Run()
				_ = os.RemoveAll(dir)
			}
			f.refs = append([]ref{{"den", "curl|gzip|tar", 1.3}}, f.refs...)
		}
		b.results = append(b.results, f)
	}
	one, six := b.find("cold pull debian 1 layer"), b.find("cold pull debian 6 layers")
	split := newFigure("cold pull debian: 6 layers over 1 layer (medians)", "×")
	split.add("den", six.median("den")/one.median("den"))
	split.add("podman", six.median("podman")/one.median("podman"))
	b.results = append(b.results, split)
}

// imagesFigures: listing a store of 50 images.
func (b *bench) imagesFigures(im *images) {
	step("pulling 50 images into den and podman")
	_, err := command(b.denArgs(b.store(), append([]string{"pull", "-q"}, im.small...)...))
	check(err)
	for _, ref := range im.small {
		check(b.podman("pull", "-q", ref))
	}
	f := newFigure("images with 50 images in the store", "ms")
	b.times(f, "den", b.runs, b.denArgs(b.store(), "images")...)
	b.times(f, "podman", b.runs, "podman", "images")
	f.refs = []ref{{"den", "podman", 0}}
	b.results = append(b.results, f)
}

// networkFigures: a 200 MB download from the host's loopback into the
// container, timed by the server from the request to the last byte
// handed to the socket, for each backend and for the host's own curl.
func (b *bench) networkFigures(im *images) {
	const size = 200 << 20
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	took := make(chan time.Duration, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Now()
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for i := 0; i < size/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		took <- time.Since(t)
	}))
	port := l.Addr().(*net.TCPAddr).Port
	f := newFigure("download 200 MB from the host's loopback", "MB/s")
	url := fmt.Sprintf("http://host.docker.internal:%d/big", port)
	local := fmt.Sprintf("http://127.0.0.1:%d/big", port)
	subjects := []download{
		// The host's own speed: the container's client, the same busybox
		// binary, on the host; and curl.
		{"host wget", []string{testimage.BusyboxPath, "wget", "-q", "-O", "/dev/null", local}},
		{"host curl", []string{"curl", "-sf", "-o", "/dev/null", local}},
	}
	for _, backend := range []string{"pasta", "slirp4netns", "builtin"} {
		subjects = append(subjects, download{"den " + backend, b.denArgs(b.store(), "run", "--rm", "--network", backend,
			"--add-host", "host.docker.internal:host-gateway", im.busybox, "wget", "-q", "-O", "/dev/null", url)})
	}
	subjects = append(subjects, download{"podman slirp4netns", []string{"podman", "run", "--rm", "--network", "slirp4netns:allow_host_loopback=true",
		im.busybox, "wget", "-q", "-O", "/dev/null", fmt.Sprintf("http://10.0.2.2:%d/big", port)}})
	// Round by round, so that the host's own speed, which drifts by a
	// factor of 1.5 within minutes here, is measured beside each backend's;
	// a pause lets a run's cleanup end before the next download.
	const runs = 7
	for i := 0; i < runs+1; i++ {
		for _, sub := range subjects {
			if i == 0 {
				step(f.name + ": " + sub.name)
			}
			_, err := command(sub.argv)
			check(err)
			d := <-took
			if i > 0 { // the first round warms up
				f.add(sub.name, float64(size)/(1<<20)/d.Seconds())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	f.refs = []ref{{"den pasta", "host wget", 0.6}, {"den pasta", "host curl", 0},
		{"den slirp4netns", "host wget", 0}, {"den builtin", "host wget", 0}}
	b.results = append(b.results, f)
}

// download is a subject of networkFigures: a command that fetches the
// server's 200 MB.
type download struct {
	name string
	argv []string
}

func (b *bench) find(name string) *figure {
	for _, f := range b.results {
		if f.name == name {
			return f
		}
	}
	return newFigure(name, "")
}

// print writes the table: medians with min and max, then den's ratios to
// each reference with the target where the issue sets one.
func (b *bench) print(w io.Writer) {
	fmt.Fprintf(w, "\n%-52s %-20s %10s %10s %10s\n", "figure", "subject", "median", "min", "max")
	for _, f := range b.results {
		for _, s := range f.order {
			v := f.samples[s]
			lo, hi := v[0], v[0]
			for _, x := range v {
				lo, hi = min(lo, x), max(hi, x)
			}
			fmt.Fprintf(w, "%-52s %-20s %10s %10s %10s\n", f.name, s, num(f.median(s), f.unit), num(lo, f.unit), num(hi, f.unit))
		}
		for _, r := range f.refs {
			ratio := f.median(r.subject) / f.median(r.against)
			verdict := ""
			if r.target > 0 && f.unit == "MB/s" { // more is better
				verdict = fmt.Sprintf("(target ≥ %.2f×: ", r.target)
				if ratio >= r.target {
					verdict += "met)"
				} else {
					verdict += "NOT met)"
				}
			} else if r.target > 0 {
				verdict = fmt.Sprintf("(target ≤ %.2f×: ", r.target)
				if ratio <= r.target {
					verdict += "met)"
				} else {
					verdict += "NOT met)"
				}
			}
			fmt.Fprintf(w, "%-52s %-20s %10s %s\n", "", r.subject+" / "+r.against, fmt.Sprintf("%.2f×", ratio), verdict)
		}
	}
}

func num(v float64, unit string) string {
	switch unit {
	case "ms", "MB/s", "MB":
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f%s", v, unit)
}
