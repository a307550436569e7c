package overlay

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/pkg/namesgenerator"
	"go.podman.io/storage"
)

// Container is a container's writable layer and the metadata den keeps.
type Container struct {
	ID       string
	Names    []string
	ImageID  string
	Created  time.Time
	Metadata string
}

// ErrContainerUnknown is returned when no container has the name or id.
var ErrContainerUnknown = errors.New("no such container")

// ErrNameInUse is returned when --name is taken.
var ErrNameInUse = errors.New("name is already in use")

// CreateContainer adds a writable layer over the image's layers. A
// volatile container (den run --rm) keeps its records in the runtime
// directory and its overlay is mounted "volatile": nothing of it is synced
// to disk, which would cost milliseconds at creation and at unmount.
//
// Without a name it gets docker's kind (adjective_surname, then with a
// digit on a clash), so that ps's NAMES is never empty.
func (s *Store) CreateContainer(name, imageID, metadata string, volatile bool) (*Container, error) {
	for retry := 0; ; retry++ {
		n := name
		if name == "" {
			n = namesgenerator.GetRandomName(retry)
		}
		c, err := s.s.CreateContainer("", []string{n}, imageID, "", metadata, &storage.ContainerOptions{Volatile: volatile})
		switch {
		case errors.Is(err, storage.ErrDuplicateName) && name == "" && retry < 10:
			continue
		case errors.Is(err, storage.ErrDuplicateName):
			return nil, fmt.Errorf("container name %q: %w (remove it with: den rm %s)", n, ErrNameInUse, n)
		case err != nil:
			return nil, fmt.Errorf("creating container from image %s: %w", short(imageID), err)
		}
		return conv(c), nil
	}
}

// SetName gives the container name as its only name.
// The store would take the name from another container rather than
// refuse it: a name in use is refused here.
func (s *Store) SetName(id, name string) error {
	cs, err := s.s.Containers()
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID != id && slices.Contains(c.Names, name) {
			return fmt.Errorf("container name %q: %w by %s (remove it with: den rm %s)", name, ErrNameInUse, short(c.ID), name)
		}
	}
	if err := s.s.SetNames(id, []string{name}); err != nil {
		return fmt.Errorf("renaming container %s: %w", short(id), err)
	}
	return nil
}

// SetMetadata replaces den's metadata for the container.
func (s *Store) SetMetadata(id, metadata string) error {
	return s.s.SetMetadata(id, metadata)
}

// Containers lists every container in the store.
func (s *Store) Containers() ([]Container, error) {
	cs, err := s.s.Containers()
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(cs))
	bases := s.baseImages()
	for i := range cs {
		c := conv(&cs[i])
		if b := bases[c.ImageID]; b != "" {
			c.ImageID = b // a derived image's containers are its base's
		}
		out = append(out, *c)
	}
	return out, nil
}

// FindContainer resolves a name, an id or a unique id prefix.
func (s *Store) FindContainer(nameOrID string) (*Container, error) {
	// docker's names start with a slash (inspect's .Name); either spelling.
	nameOrID = strings.TrimPrefix(nameOrID, "/")
	if nameOrID == "" { // den rm -f "$UNSET": never every container's prefix
		return nil, fmt.Errorf("%w: an empty name", ErrContainerUnknown)
	}
	c, err := s.s.Container(nameOrID)
	if err == nil {
		return conv(c), nil
	}
	cs, err := s.s.Containers()
	if err != nil {
		return nil, err
	}
	var found *Container
	for i := range cs {
		if strings.HasPrefix(cs[i].ID, nameOrID) {
			if found != nil {
				return nil, fmt.Errorf("multiple IDs found with provided prefix: %s (give more of the ID, or the name)", nameOrID)
			}
			found = conv(&cs[i])
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %s", ErrContainerUnknown, nameOrID)
	}
	return found, nil
}

// Mount mounts the container's root filesystem and returns its path.
func (s *Store) Mount(id string) (string, error) {
	p, err := s.s.Mount(id, "")
	if err != nil {
		return "", fmt.Errorf("mounting the root filesystem of %s: %w", short(id), err)
	}
	return p, nil
}

// Unmount releases the root filesystem mount.
func (s *Store) Unmount(id string) error {
	_, err := s.s.Unmount(id, true)
	return err
}

// Dir is a per-container directory for files den writes (hosts, logs).
func (s *Store) Dir(id string) (string, error) {
	return s.s.ContainerDirectory(id)
}

// RunDir is a per-container directory under the runtime root.
func (s *Store) RunDir(id string) (string, error) {
	return s.s.ContainerRunDirectory(id)
}

// DeleteContainer unmounts the container and removes its layer and state.
func (s *Store) DeleteContainer(id string) error {
	// Deleting the layer unmounts it first.
	err := s.s.DeleteContainer(id)
	if errors.Is(err, syscall.ENOSPC) {
		// A container that filled the disk: its layer went, and then
		// the store's record could not be written. There is room now.
		err = s.s.DeleteContainer(id)
	}
	// Gone already (another den rm -f got there first): done.
	if err != nil && !errors.Is(err, storage.ErrContainerUnknown) && !errors.Is(err, storage.ErrNotAContainer) {
		return fmt.Errorf("removing container %s: %w", short(id), err)
	}
	return nil
}

// ImageUsers lists the containers created from the image.
func (s *Store) ImageUsers(imageID string) ([]Container, error) {
	cs, err := s.Containers()
	if err != nil {
		return nil, err
	}
	var out []Container
	for _, c := range cs {
		if c.ImageID == imageID {
			out = append(out, c)
		}
	}
	return out, nil
}

// BaseImage is the image a container's image id stands for: a derived
// image's base (derived_linux.go), else the id itself. Containers maps its
// list through it; FindContainer leaves it to those that show the image.
func (s *Store) BaseImage(id string) string {
	if im, err := s.s.Image(id); err == nil {
		if b := derivedBase(im.Metadata); b != "" {
			return b
		}
	}
	return id
}

func conv(c *storage.Container) *Container {
	return &Container{ID: c.ID, Names: c.Names, ImageID: c.ImageID, Created: c.Created, Metadata: c.Metadata}
}
