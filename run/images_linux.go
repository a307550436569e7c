package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
)

// PullOptions are `den pull`'s flags.
type PullOptions struct {
	Platform string
	Insecure bool
	Jobs     int
	Quiet    bool
	Out      io.Writer
	Progress func(pull.Event) // nil: no progress
}

// interruptible cancels ctx on SIGINT or SIGTERM, which the outer den
// forwards, so a pull stops cleanly and drops what it staged.
func interruptible() (context.Context, func()) {
	return signal.NotifyContext(context.Background(), unix.SIGINT, unix.SIGTERM)
}

// Pull pulls every reference at once, as podman does.
func Pull(g *Global, refs []string, o PullOptions) error {
	plat, err := pull.ParsePlatform(o.Platform)
	if err != nil {
		return err
	}
	parsed := make([]pull.Ref, len(refs))
	for i, r := range refs {
		if parsed[i], err = pull.ParseRef(r, o.Insecure); err != nil {
			return err
		}
	}
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	ctx, stop := interruptible()
	defer stop()
	errs := make([]error, len(parsed))
	var wg sync.WaitGroup
	var outMu sync.Mutex
	for i, r := range parsed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := s.pull(ctx, r, plat, o)
			if err != nil {
				errs[i] = err
				return
			}
			outMu.Lock()
			defer outMu.Unlock()
			if o.Quiet {
				fmt.Fprintln(o.Out, imageDigest(img))
			} else {
				fmt.Fprintf(o.Out, "%s: %s\n", img.Name, imageDigest(img))
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		fmt.Fprintln(g.Stderr, "den: pull interrupted; nothing partial was kept")
		return &ExitError{Code: 130}
	}
	return errors.Join(errs...)
}

func imageDigest(img *pull.Image) string {
	if img.Digest != "" {
		return img.Digest
	}
	return "sha256:" + img.ID
}

func (s *session) pull(ctx context.Context, r pull.Ref, plat pull.Platform, o PullOptions) (*pull.Image, error) {
	img, err := pull.Pull(ctx, r, s.sink(), pull.Options{Platform: plat, Jobs: o.Jobs, Progress: o.Progress})
	return img, s.diskFull(err)
}

// diskFull adds the fix to a full disk's error. The unpacking happens in
// a helper process, so the cause arrives as text, not as an errno.
func (s *session) diskFull(err error) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "no space left on device") {
		return err
	}
	return fmt.Errorf("%w; free space on the filesystem of %s (the image was not stored), or keep images elsewhere with --root DIR", err, s.g.Root)
}

func (s *session) sink() *storeSink {
	return &storeSink{st: s.store, warn: func(m string) { s.g.warnf("%s", m) }}
}

// Load stores the images of an archive or OCI layout.
func Load(g *Global, path string, o PullOptions) error {
	if path == "" {
		return fmt.Errorf("den load needs an archive: den load -i FILE")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	ctx, stop := interruptible()
	defer stop()
	plat, err := pull.ParsePlatform(o.Platform)
	if err != nil {
		return err
	}
	imgs, err := pull.Load(ctx, path, s.sink(), pull.Options{Platform: plat, Jobs: o.Jobs, Progress: o.Progress})
	err = s.diskFull(err)
	for _, img := range imgs {
		n := img.Name
		if n == "" {
			n = "<none>"
		}
		fmt.Fprintf(o.Out, "Loaded image: %s (%s)\n", n, img.ID[:12])
	}
	return err
}

// ImageRow is one line of `den images`.
type ImageRow struct {
	Repository string    `json:"repository"`
	Tag        string    `json:"tag"`
	ID         string    `json:"id"`
	Digest     string    `json:"digest,omitempty"`
	Created    time.Time `json:"created"`
	Size       int64     `json:"size"`
}

// Images lists the stored images, a row per name.
func Images(g *Global) ([]ImageRow, error) {
	s, err := g.enter()
	if s == nil {
		return nil, err
	}
	defer s.close()
	imgs, err := s.store.Images()
	if err != nil {
		return nil, err
	}
	var rows []ImageRow
	for _, im := range imgs {
		row := ImageRow{ID: im.ID, Digest: im.Digest, Created: im.Created, Size: im.Size}
		if len(im.Names) == 0 {
			row.Repository, row.Tag = "<none>", "<none>"
			rows = append(rows, row)
		}
		for _, n := range im.Names {
			row.Repository, row.Tag = splitName(n)
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Created.After(rows[j].Created) })
	return rows, nil
}

func splitName(n string) (repo, tag string) {
	if i := strings.LastIndex(n, "@"); i >= 0 {
		return n[:i], "<none>"
	}
	if i := strings.LastIndex(n, ":"); i > strings.LastIndex(n, "/") {
		return n[:i], n[i+1:]
	}
	return n, "<none>"
}

// findImage resolves what a user typed: a name (normalised as docker does),
// an id, or an id prefix.
func (s *session) findImage(ref string) (*overlay.Image, error) {
	if im, err := s.store.FindImage(pull.Normalize(ref)); err == nil {
		return im, nil
	}
	im, err := s.store.FindImage(ref)
	if errors.Is(err, overlay.ErrImageUnknown) {
		return nil, fmt.Errorf("%s: no such image in the store (den images lists them; den pull %s fetches it)", ref, ref)
	}
	return im, err
}

// RemoveImages is `den rmi`: an image a container uses is refused unless
// force, which removes those containers too, as docker's -f does.
func RemoveImages(g *Global, refs []string, force bool, out io.Writer) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	var errs []error
	for _, ref := range refs {
		if err := s.removeImage(ref, force, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *session) removeImage(ref string, force bool, out io.Writer) error {
	im, err := s.findImage(ref)
	if err != nil {
		return err
	}
	full := pull.Normalize(ref)
	if len(im.Names) > 1 && contains(im.Names, full) {
		if _, err := s.store.Untag(im.ID, full); err != nil {
			return err
		}
		fmt.Fprintf(out, "Untagged: %s\n", full)
		return nil
	}
	users, err := s.store.ImageUsers(im.ID)
	if err != nil {
		return err
	}
	if len(users) > 0 && !force {
		return fmt.Errorf("%s: image is in use by container %s; remove the container first (den rm) or use den rmi -f", ref, users[0].ID[:12])
	}
	for _, c := range users {
		if err := s.removeContainer(&c); err != nil {
			return err
		}
	}
	if err := s.store.RemoveImage(im.ID); err != nil {
		return err
	}
	for _, n := range im.Names {
		fmt.Fprintf(out, "Untagged: %s\n", n)
	}
	fmt.Fprintf(out, "Deleted: sha256:%s\n", im.ID)
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// InspectImage returns the image's OCI config, indented.
func InspectImage(g *Global, ref string) ([]byte, error) {
	s, err := g.enter()
	if s == nil {
		return nil, err
	}
	defer s.close()
	im, err := s.findImage(ref)
	if err != nil {
		return nil, err
	}
	raw, err := s.store.ImageConfig(im.ID)
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("the stored config of %s is not JSON: %w", ref, err)
	}
	return json.MarshalIndent(v, "", "  ")
}
