package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/denproject/den/overlay"
	"github.com/denproject/den/pull"
	"github.com/denproject/den/run/dockerjson"
)

func init() {
	register("tag", (*child).tag)
	register("push", (*child).push)
}

// blobs is the content store beside the unpacked layers, where pulls keep
// what they fetched for push and save.
func (c *child) blobs() *pull.Blobs { return &pull.Blobs{Dir: filepath.Join(c.g.Root, "blobs")} }

type tagArgs struct{ Source, Target string }

// Tag is `den tag SOURCE TARGET`.
func Tag(g *Global, source, target string) error {
	if _, err := pull.ParseRef(target, false); err != nil {
		return err
	}
	return g.call("tag", tagArgs{source, target}, nil, hooks{})
}

func (c *child) tag(args json.RawMessage) (any, error) {
	a, err := decode[tagArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	im, err := findImage(st, a.Source)
	if err != nil {
		return nil, err
	}
	r, _ := pull.ParseRef(a.Target, false)
	if r.Digest() != "" {
		return nil, fmt.Errorf("%s: a tag cannot be a digest; name a tag (NAME[:TAG])", a.Target)
	}
	return nil, st.PutImage(overlay.ImageSpec{ID: im.ID, Names: []string{r.String()}})
}

// PushOptions are `den push`'s flags.
type PushOptions struct {
	AllTags  bool `json:"allTags,omitempty"`
	Insecure bool `json:"insecure,omitempty"`
	Jobs     int  `json:"jobs,omitempty"`
	Quiet    bool `json:"quiet,omitempty"`
	Report   bool `json:"report,omitempty"`
	// Progress draws the push's progress; nil: none.
	Progress func(pull.Event) `json:"-"`
}

type pushArgs struct {
	Ref  string      `json:"ref"`
	Opts PushOptions `json:"opts"`
}

// Push is `den push [--all-tags] NAME[:TAG]`.
func Push(g *Global, ref string, o PushOptions) error {
	r, err := pull.ParseRef(ref, o.Insecure)
	if err != nil {
		return err
	}
	if o.AllTags && (strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") || r.Digest() != "") {
		return fmt.Errorf("%s: --all-tags takes a repository without a tag", ref)
	}
	o.Report = o.Progress != nil
	return g.call("push", pushArgs{Ref: ref, Opts: o}, nil, hooks{progress: o.Progress})
}

func (c *child) push(args json.RawMessage) (any, error) {
	a, err := decode[pushArgs](args)
	if err != nil {
		return nil, err
	}
	st, err := c.open()
	if err != nil {
		return nil, err
	}
	names := []string{a.Ref}
	if a.Opts.AllTags {
		if names, err = repoTags(st, a.Ref, a.Opts.Insecure); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if err := c.pushOne(st, n, a.Opts); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// repoTags are the stored names in ref's repository, for --all-tags.
func repoTags(st *overlay.Store, ref string, insecure bool) ([]string, error) {
	r, err := pull.ParseRef(ref, insecure)
	if err != nil {
		return nil, err
	}
	imgs, err := st.Images()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range imgs {
		for _, n := range im.Names {
			if repo, _ := dockerjson.SplitName(n); repo == r.Repository() {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no tag of this repository is stored (den images lists them)", r.Repository())
	}
	return out, nil
}

func (c *child) pushOne(st *overlay.Store, ref string, o PushOptions) error {
	r, err := pull.ParseRef(ref, o.Insecure)
	if err != nil {
		return err
	}
	im, err := st.FindImage(r.String())
	if errors.Is(err, overlay.ErrImageUnknown) {
		return fmt.Errorf("%s: no such image in the store; name one with den tag IMAGE %s", ref, ref)
	} else if err != nil {
		return err
	}
	img, err := c.blobs().Image(im.ID)
	if errors.Is(err, pull.ErrNoBlobs) {
		return fmt.Errorf("%s: %v (it was stored by an older den); pull or load it again, then push", ref, err)
	} else if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	if !o.Quiet {
		fmt.Printf("The push refers to repository [%s]\n", r.Repository())
	}
	po := pull.Options{Jobs: o.Jobs}
	if o.Report {
		po.Progress = c.progress
	}
	d, err := pull.Push(c.ctx, r, img, po)
	if err != nil {
		return err
	}
	raw, _ := img.RawManifest()
	tag := r.Tag()
	if tag == "" {
		tag = r.Digest()
	}
	fmt.Printf("%s: digest: %s size: %d\n", tag, d, len(raw))
	return nil
}
