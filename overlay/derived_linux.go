package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.podman.io/storage"
)

// A derived image is an image with one layer more, over its top one,
// holding its files changed once (--userns=keep-id: each file's owner
// shifted, so that it shows through a nested id map as it was). Every
// container that asks for that change starts from it: the change is no
// longer a copy of the image into each container's layer. It has no name,
// is not listed, its containers count as the base image's, and it goes
// with that image.

// derivedMeta is a derived image's store metadata.
type derivedMeta struct {
	Base  string `json:"derivedFrom"`
	Shift string `json:"shift"`
}

// DerivedID is the id of base's image shifted as key says.
func DerivedID(base, key string) string {
	sum := sha256.Sum256([]byte("den-derived\x00" + base + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// Derive returns the id of base's derived image for key, making it when
// there is none: a layer on base's top one, mounted over it, which fill
// changes (a chown of every file copies each up into it, once). Two dens
// deriving at once each make a layer; the second to record the image
// drops its own.
func (s *Store) Derive(base, key string, fill func(root string) error) (string, error) {
	id := DerivedID(base, key)
	if _, err := s.s.Image(id); err == nil {
		return id, nil
	}
	im, err := s.s.Image(base)
	if err != nil {
		return "", fmt.Errorf("image %s: %w", short(base), err)
	}
	config, err := s.s.ImageBigData(base, keyConfig)
	if err != nil {
		return "", fmt.Errorf("reading image %s: %w", short(base), err)
	}
	// Named, so that one a killed den left half-made is known and swept.
	s.sweepDerived("", time.Hour)
	name := fmt.Sprintf("%s%s:%d", derivingPrefix, id, os.Getpid())
	layer, err := s.s.CreateLayer("", im.TopLayer, []string{name}, "", true, nil)
	if err != nil {
		return "", fmt.Errorf("making image %s's shifted copy: %w", short(base), err)
	}
	drop := func() { _ = s.s.DeleteLayer(layer.ID) }
	root, err := s.s.Mount(layer.ID, "")
	if err != nil {
		drop()
		return "", fmt.Errorf("mounting image %s's shifted copy: %w", short(base), err)
	}
	err = fill(root)
	if _, uerr := s.s.Unmount(layer.ID, true); err == nil && uerr != nil {
		err = uerr
	}
	if err != nil {
		drop()
		return "", fmt.Errorf("making image %s's shifted copy: %w", short(base), err)
	}
	meta, _ := json.Marshal(derivedMeta{Base: base, Shift: key})
	_, err = s.s.CreateImage(id, nil, layer.ID, string(meta), &storage.ImageOptions{
		BigData: []storage.ImageBigDataOption{{Key: keyConfig, Data: config}},
	})
	if errors.Is(err, storage.ErrDuplicateID) {
		drop()
		return id, nil
	}
	if err != nil {
		drop()
		return "", fmt.Errorf("recording image %s's shifted copy: %w", short(base), err)
	}
	if _, err := s.s.Image(base); err != nil { // removed meanwhile (den rmi)
		_, _ = s.s.DeleteImage(id, true)
		return "", fmt.Errorf("image %s was removed while its shifted copy was made", short(base))
	}
	return id, nil
}

// derivingPrefix names a derived image's layer while it is made.
const derivingPrefix = "den-derive:"

// sweepDerived deletes derived layers no image records: ones a killed den
// left, older than age (a younger one may be in the making), or every one
// made over the layer top (whose image goes now).
func (s *Store) sweepDerived(top string, age time.Duration) {
	layers, err := s.s.Layers()
	if err != nil {
		return
	}
	imgs, err := s.s.Images()
	if err != nil {
		return
	}
	recorded := map[string]bool{}
	for _, im := range imgs {
		recorded[im.TopLayer] = true
	}
	for _, l := range layers {
		if recorded[l.ID] || !slices.ContainsFunc(l.Names, func(n string) bool { return strings.HasPrefix(n, derivingPrefix) }) {
			continue
		}
		if top != "" && l.Parent == top || top == "" && time.Since(l.Created) > age {
			_ = s.s.DeleteLayer(l.ID)
		}
	}
}

// derivedBase is the image a derived image was made from; "" for any
// other image.
func derivedBase(metadata string) string {
	if !strings.HasPrefix(metadata, `{"derivedFrom"`) {
		return ""
	}
	var m derivedMeta
	if json.Unmarshal([]byte(metadata), &m) != nil {
		return ""
	}
	return m.Base
}

// DerivedOf lists the derived images made from base.
func (s *Store) DerivedOf(base string) ([]string, error) {
	imgs, err := s.s.Images()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range imgs {
		if derivedBase(im.Metadata) == base {
			out = append(out, im.ID)
		}
	}
	return out, nil
}

// baseImages maps each derived image to its base.
func (s *Store) baseImages() map[string]string {
	imgs, err := s.s.Images()
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, im := range imgs {
		if b := derivedBase(im.Metadata); b != "" {
			m[im.ID] = b
		}
	}
	return m
}
