package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/dockerjson"
	"github.com/denproject/den/run/records"
)

// PullOptions are `den pull`'s and `den load`'s flags.
type PullOptions struct {
	Platform string `json:"platform,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	Jobs     int    `json:"jobs,omitempty"`
	Quiet    bool   `json:"quiet,omitempty"`
	// IDOnly: load prints each image's sha256:ID alone (den import's output).
	IDOnly bool `json:"idOnly,omitempty"`
	// Progress draws a pull's progress; nil: none.
	Progress func(pull.Event) `json:"-"`
	// Report says whether the child sends progress at all.
	Report bool `json:"report,omitempty"`
}

func (o *PullOptions) hooks() hooks {
	o.Report = o.Progress != nil
	return hooks{progress: o.Progress}
}

type pullArgs struct {
	Refs []string    `json:"refs"`
	Opts PullOptions `json:"opts"`
}

// Pull pulls every reference at once, as podman does.
func Pull(g *Global, refs []string, o PullOptions) error {
	if _, err := pull.ParsePlatform(o.Platform); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := pull.ParseRef(r, o.Insecure); err != nil {
			return err
		}
	}
	h := o.hooks()
	return g.call("pull", pullArgs{Refs: refs, Opts: o}, nil, h)
}

func (c *child) pull(args json.RawMessage) (any, error) {
	a, err := decode[pullArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	plat, _ := pull.ParsePlatform(a.Opts.Platform)
	errs := make([]error, len(a.Refs))
	lines := make([]string, len(a.Refs))
	var wg sync.WaitGroup
	for i, ref := range a.Refs {
		r, _ := pull.ParseRef(ref, a.Opts.Insecure)
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := c.pullOne(st, r, plat, a.Opts)
			if err != nil {
				errs[i] = err
				return
			}
			// -q: the reference, as docker prints it, for den run $(...)
			if lines[i] = img.Name; !a.Opts.Quiet {
				lines[i] += ": " + imageDigest(img)
			}
		}()
	}
	wg.Wait()
	for _, l := range lines { // in the arguments' order
		if l != "" {
			fmt.Println(l)
		}
	}
	if c.ctx.Err() != nil {
		fmt.Fprintln(c.g.Stderr, "den: pull interrupted; nothing partial was kept")
		return nil, &ExitError{Code: 130}
	}
	return nil, errors.Join(errs...)
}

func imageDigest(img *pull.Image) string {
	if img.Digest != "" {
		return img.Digest
	}
	return "sha256:" + img.ID
}

func (c *child) pullOne(st *overlay.Store, r pull.Ref, plat pull.Platform, o PullOptions) (*pull.Image, error) {
	po := pull.Options{Platform: plat, Jobs: o.Jobs, Blobs: c.blobs(), Warn: func(m string) { c.g.warnf("%s", m) }}
	if o.Report {
		po.Progress = c.progress
	}
	img, err := pull.Pull(c.ctx, r, c.sink(st), po)
	return img, c.diskFull(err)
}

// diskFull adds the fix to a full disk's error. The unpacking happens in
// a helper process, so the cause arrives as text, not as an errno.
func (c *child) diskFull(err error) error {
	return c.diskFullSaying(err, "the image was not stored")
}

// diskFullSaying adds to a full disk's error where, what came of it, and
// the fix.
func (c *child) diskFullSaying(err error, what string) error {
	if err == nil || !errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "no space left on device") {
		return err
	}
	return fmt.Errorf("%w; free space on the filesystem of %s (%s), or keep the store elsewhere with --root DIR", err, c.g.Root, what)
}

func (c *child) sink(st *overlay.Store) *storeSink {
	return &storeSink{st: st, warn: func(m string) { c.g.warnf("%s", m) }}
}

type loadArgs struct {
	Path string      `json:"path"`
	Opts PullOptions `json:"opts"`
}

// Load stores the images of an archive or OCI layout; path "" reads
// the archive from stdin.
func Load(g *Global, path string, o PullOptions) error {
	if path == "" {
		tmp, err := stdinToFile()
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		path = tmp
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	if _, err := pull.ParsePlatform(o.Platform); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	h := o.hooks()
	return g.call("load", loadArgs{Path: abs, Opts: o}, nil, h)
}

func (c *child) load(args json.RawMessage) (any, error) {
	a, err := decode[loadArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	plat, _ := pull.ParsePlatform(a.Opts.Platform)
	po := pull.Options{Platform: plat, Jobs: a.Opts.Jobs, Blobs: c.blobs()}
	if a.Opts.Report {
		po.Progress = c.progress
	}
	imgs, err := pull.Load(c.ctx, a.Path, c.sink(st), po)
	err = c.diskFull(err)
	for _, img := range imgs { // docker's lines, which scripts cut
		switch {
		case a.Opts.IDOnly:
			fmt.Printf("sha256:%s\n", img.ID)
		case img.Name == "":
			fmt.Printf("Loaded image ID: sha256:%s\n", img.ID)
		default:
			fmt.Printf("Loaded image: %s\n", img.Name)
		}
	}
	return nil, err
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
	var rows []ImageRow
	err := g.call("images", nil, &rows, hooks{})
	return rows, err
}

func (c *child) images(json.RawMessage) (any, error) {
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	imgs, err := st.Images()
	if err != nil {
		return nil, err
	}
	rows := []ImageRow{}
	for _, im := range imgs {
		row := ImageRow{ID: im.ID, Digest: im.Digest, Created: im.Created, Size: im.Size}
		if len(im.Names) == 0 {
			row.Repository, row.Tag = "<none>", "<none>"
			rows = append(rows, row)
		}
		for _, n := range im.Names {
			row.Repository, row.Tag = dockerjson.SplitName(n)
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Created.After(rows[j].Created) })
	return rows, nil
}

// findImage resolves what a user typed: a name (normalised as docker does),
// an id, or an id prefix.
func findImage(st *overlay.Store, ref string) (*overlay.Image, error) {
	if im, err := st.FindImage(pull.Normalize(ref)); err == nil {
		return im, nil
	}
	im, err := st.FindImage(ref)
	if errors.Is(err, overlay.ErrImageUnknown) {
		return nil, fmt.Errorf("%s: no such image in the store (den images lists them; den pull %s fetches it)", ref, ref)
	}
	return im, err
}

type rmiArgs struct {
	Refs  []string `json:"refs"`
	Force bool     `json:"force,omitempty"`
}

// RemoveImages is `den rmi`: an image a container uses is refused; with
// force, as docker's -f, a stopped container's image loses its names and
// stays for it, a running container's is refused still.
func RemoveImages(g *Global, refs []string, force bool) error {
	return g.call("rmi", rmiArgs{Refs: refs, Force: force}, nil, hooks{})
}

func (c *child) rmi(args json.RawMessage) (any, error) {
	a, err := decode[rmiArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	var gone []string
	var errList []error
	for _, ref := range a.Refs {
		id, err := c.removeImage(st, ref, a.Force)
		if err != nil {
			errList = append(errList, err)
		} else if id != "" {
			gone = append(gone, id)
		}
	}
	if err := c.sweep(st, gone); err != nil {
		errList = append(errList, err)
	}
	return nil, errors.Join(errList...)
}

// removeImage removes or untags; it returns the id of a removed image.
func (c *child) removeImage(st *overlay.Store, ref string, force bool) (string, error) {
	im, err := findImage(st, ref)
	if err != nil {
		return "", err
	}
	full := pull.Normalize(ref)
	byName := slices.Contains(im.Names, full)
	if len(im.Names) > 1 && byName {
		if _, err := st.Untag(im.ID, full); err != nil {
			return "", err
		}
		fmt.Printf("Untagged: %s\n", full)
		return "", nil
	}
	if len(im.Names) > 1 && !force {
		return "", fmt.Errorf("unable to delete %s (must be forced): the image has %d names; remove them one by one, or use den rmi -f", ref, len(im.Names))
	}
	users, err := st.ImageUsers(im.ID)
	if err != nil {
		return "", err
	}
	if len(users) > 0 {
		// As docker: never a running container's image; -f takes the
		// names off the image of stopped ones, which keep it.
		for _, u := range users {
			if records.Decode(u.Metadata).State == records.Running {
				return "", fmt.Errorf("unable to delete %s (cannot be forced): image is being used by running container %s", ref, u.ID[:12])
			}
		}
		if !force {
			return "", fmt.Errorf("%s: image is in use by container %s; remove the container first (den rm), or use den rmi -f to take its names off", ref, users[0].ID[:12])
		}
		for _, n := range im.Names {
			if _, err := st.Untag(im.ID, n); err != nil {
				return "", err
			}
			fmt.Printf("Untagged: %s\n", n)
		}
		return "", nil
	}
	if err := st.RemoveImage(im.ID); err != nil {
		return "", err
	}
	for _, n := range im.Names {
		fmt.Printf("Untagged: %s\n", n)
	}
	fmt.Printf("Deleted: sha256:%s\n", im.ID)
	return im.ID, nil
}
