package overlay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	"go.podman.io/storage"
)

// Big-data keys under which an image's documents are kept.
const (
	keyConfig   = "config"
	keyManifest = "manifest"
)

// ImageSpec is an image whose layers are all committed.
type ImageSpec struct {
	ID       string // config digest, hex
	Names    []string
	TopLayer string
	Digest   string // manifest digest, "" for loaded archives
	Config   []byte
	Manifest []byte
}

// Image is an image as listed.
type Image struct {
	ID      string
	Names   []string
	Digest  string
	Created time.Time
	Size    int64
}

// HasImage reports whether the image with that config digest is stored.
func (s *Store) HasImage(id string) bool {
	_, err := s.s.Image(id)
	return err == nil
}

// PutImage records the image, or adds the names to it when it exists.
// A name moves from whichever image held it before, as with docker tags.
func (s *Store) PutImage(spec ImageSpec) error {
	if s.HasImage(spec.ID) {
		if err := s.s.AddNames(spec.ID, spec.Names); err != nil {
			return fmt.Errorf("tagging image %s: %w", short(spec.ID), err)
		}
		return nil
	}
	opts := &storage.ImageOptions{
		CreationDate: builtAt(spec.Config),
		BigData:      []storage.ImageBigDataOption{{Key: keyConfig, Data: spec.Config}},
	}
	if spec.Manifest != nil {
		opts.BigData = append(opts.BigData, storage.ImageBigDataOption{Key: keyManifest, Data: spec.Manifest, Digest: digest.Digest(spec.Digest)})
		opts.Digest = digest.Digest(spec.Digest)
	}
	// Created first and named after: a name (a tag that moved to this new
	// image) is taken from the image that had it, which CreateImage would
	// refuse. The old image keeps its name until the new one has it.
	_, err := s.s.CreateImage(spec.ID, nil, spec.TopLayer, "", opts)
	if err != nil && !errors.Is(err, storage.ErrDuplicateID) {
		return fmt.Errorf("recording image %s: %w", short(spec.ID), err)
	}
	if err := s.s.AddNames(spec.ID, spec.Names); err != nil {
		return fmt.Errorf("tagging image %s: %w", short(spec.ID), err)
	}
	return nil
}

// builtAt is the config's "created", which images' CREATED shows (as
// docker's and podman's do); the time of storing when it has none.
func builtAt(config []byte) time.Time {
	var c struct {
		Created time.Time `json:"created"`
	}
	if json.Unmarshal(config, &c) != nil || c.Created.IsZero() {
		return time.Now()
	}
	return c.Created
}

// Images lists the stored images, newest first as the store keeps them.
func (s *Store) Images() ([]Image, error) {
	imgs, err := s.s.Images()
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(imgs))
	for _, im := range imgs {
		if derivedBase(im.Metadata) != "" {
			continue // a shifted copy (derived_linux.go): its base is listed
		}
		out = append(out, Image{ID: im.ID, Names: im.Names, Digest: string(im.Digest), Created: im.Created, Size: s.ImageSize(im.ID)})
	}
	return out, nil
}

// ImageSize is the bytes image id takes in the store; 0 if unknown.
func (s *Store) ImageSize(id string) int64 {
	size, _ := s.s.ImageSize(id)
	return size
}

// ImageIDs lists the stored images' ids: Images without the sizes, which
// cost a look at every layer.
func (s *Store) ImageIDs() ([]string, error) {
	imgs, err := s.s.Images()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(imgs))
	for _, im := range imgs {
		if derivedBase(im.Metadata) == "" { // not a shifted copy: those are their base's
			ids = append(ids, im.ID)
		}
	}
	return ids, nil
}

// ErrImageUnknown is returned when no image has the name or id.
var ErrImageUnknown = errors.New("no such image")

// FindImage resolves a full name (as den normalises it), an id or a
// unique id prefix.
func (s *Store) FindImage(nameOrID string) (*Image, error) {
	// sha256:ID, as inspect's .Id prints it
	if id, ok := strings.CutPrefix(nameOrID, "sha256:"); ok && len(id) >= 3 && isHex(id) {
		nameOrID = id
	}
	if id, err := s.s.Lookup(nameOrID); err == nil {
		if im, err := s.s.Image(id); err == nil {
			return &Image{ID: im.ID, Names: im.Names, Digest: string(im.Digest), Created: im.Created}, nil
		}
	}
	if len(nameOrID) >= 3 && isHex(nameOrID) {
		imgs, err := s.s.Images()
		if err != nil {
			return nil, err
		}
		var found *Image
		for _, im := range imgs {
			if strings.HasPrefix(im.ID, nameOrID) && derivedBase(im.Metadata) == "" {
				if found != nil {
					return nil, fmt.Errorf("image id prefix %s is ambiguous", nameOrID)
				}
				found = &Image{ID: im.ID, Names: im.Names, Digest: string(im.Digest), Created: im.Created}
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, ErrImageUnknown
}

// ImageConfig returns the image's OCI config JSON.
func (s *Store) ImageConfig(id string) ([]byte, error) {
	return s.s.ImageBigData(id, keyConfig)
}

// Untag removes one name from an image; it reports whether names remain.
func (s *Store) Untag(id, name string) (bool, error) {
	im, err := s.s.Image(id)
	if err != nil {
		return false, err
	}
	var keep []string
	for _, n := range im.Names {
		if n != name {
			keep = append(keep, n)
		}
	}
	if err := s.s.SetNames(id, keep); err != nil {
		return false, err
	}
	return len(keep) > 0, nil
}

// RemoveImage deletes the image and the layers no other image uses, and
// its derived images (no container uses them: theirs count as its own).
func (s *Store) RemoveImage(id string) error {
	derived, _ := s.DerivedOf(id)
	for _, d := range derived {
		if _, err := s.s.DeleteImage(d, true); err != nil {
			return fmt.Errorf("removing image %s's shifted copy: %w", short(id), err)
		}
	}
	if im, err := s.s.Image(id); err == nil {
		s.sweepDerived(im.TopLayer, 0) // one half-made (a killed den's) would keep the image's layers
	}
	if _, err := s.s.DeleteImage(id, true); err != nil {
		return fmt.Errorf("removing image %s: %w", short(id), err)
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
