// Package overlay is den's image and container store: layers unpacked once
// with containers/storage's overlay driver, and container root filesystems
// mounted from them. It must run inside den's user and mount namespace.
package overlay

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"go.podman.io/storage"
	"go.podman.io/storage/types"
	"golang.org/x/sys/unix"
)

// Options say where the store lives and how ownership is kept.
type Options struct {
	Root    string // persistent data, e.g. ~/.local/share/den
	RunRoot string // runtime state, e.g. $XDG_RUNTIME_DIR/den
	// SingleID stores every file as owned by root, for namespaces that map
	// only the caller's uid (podman's ignore_chown_errors).
	SingleID bool
	// IDs is the number of uids the namespace maps (0..IDs-1); a layer
	// entry owned by a higher uid is refused with a clear error.
	IDs uint32
	// MaxLayerSize bounds one layer's uncompressed size (0: no limit).
	MaxLayerSize int64
	// Debugf receives the driver choice and other diagnostics.
	Debugf func(format string, args ...any)
}

// Store wraps a containers/storage store opened with den's own paths, so
// storage.conf is never read and podman's store is never touched.
type Store struct {
	s    storage.Store
	opts Options
}

// Open opens the store with native overlay, or fuse-overlayfs where the
// kernel refuses overlay inside the user namespace.
func Open(o Options) (*Store, error) {
	if o.Debugf == nil {
		o.Debugf = func(string, ...any) {}
	}
	for _, d := range []string{o.Root, o.RunRoot} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating store directory %s: %w; keep the store in a directory you can write: --root DIR (or XDG_DATA_HOME)", d, err)
		}
	}
	s, err := open(o, "")
	if err != nil && isOverlayUnsupported(err) {
		prog, lerr := exec.LookPath("fuse-overlayfs")
		if lerr != nil {
			return nil, fmt.Errorf("opening store %s: %w; native overlay is refused in the user namespace and fuse-overlayfs is missing (apt-get install fuse-overlayfs)", o.Root, err)
		}
		o.Debugf("native overlay refused (%v); using %s", err, prog)
		s, err = open(o, prog)
	} else if err == nil {
		o.Debugf("using native overlay in the user namespace")
	}
	if err != nil {
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOENT) {
			return nil, fmt.Errorf("opening store %s: %w; make it a directory you can write, or keep the store elsewhere with --root DIR (or XDG_DATA_HOME)", o.Root, err)
		}
		if errors.Is(err, syscall.ENOSPC) {
			return nil, fmt.Errorf("opening store %s: %w; free space there (den prune -a), or keep the store elsewhere with --root DIR", o.Root, err)
		}
		return nil, fmt.Errorf("opening store %s: %w", o.Root, err)
	}
	return &Store{s: s, opts: o}, nil
}

func open(o Options, mountProgram string) (storage.Store, error) {
	ignoreStorageConf()
	driverOpts := []string{}
	if mountProgram != "" {
		driverOpts = append(driverOpts, "overlay.mount_program="+mountProgram)
	}
	if o.SingleID {
		driverOpts = append(driverOpts, "overlay.ignore_chown_errors=true")
	}
	return storage.GetStore(types.StoreOptions{
		GraphRoot:          filepath.Join(o.Root, "storage"),
		RunRoot:            filepath.Join(o.RunRoot, "storage"),
		GraphDriverName:    "overlay",
		GraphDriverOptions: driverOpts,
	})
}

// ignoreStorageConf makes containers/storage compute its defaults from an
// empty configuration, once per process. GetStore computes them on every
// call even when given every path, and that reads podman's storage.conf
// (the user's, /etc's, CONTAINERS_STORAGE_CONF and the drop-in
// directories): a malformed or unreadable podman file would break den's
// store, and settings meant for podman would be one GetStore change away
// from applying to den. The library caches the result for the life of the
// process, so the environment is pointed at an empty file only for the
// first call and then restored for anything den starts.
func ignoreStorageConf() {
	primeDefaults.Do(func() {
		saved := map[string]*string{}
		for _, k := range []string{"CONTAINERS_STORAGE_CONF", "CONTAINERS_STORAGE_CONF_OVERRIDE", "STORAGE_DRIVER", "STORAGE_OPTS"} {
			if v, ok := os.LookupEnv(k); ok {
				saved[k] = &v
			} else {
				saved[k] = nil
			}
			os.Unsetenv(k)
		}
		// Set, this variable replaces the main files and turns off the
		// drop-in directories.
		os.Setenv("CONTAINERS_STORAGE_CONF", os.DevNull)
		_, _ = types.DefaultStoreOptions() // an error recurs, and is reported, in GetStore
		for k, v := range saved {
			if v == nil {
				os.Unsetenv(k)
			} else {
				os.Setenv(k, *v)
			}
		}
	})
}

var primeDefaults sync.Once

func isOverlayUnsupported(err error) bool {
	msg := err.Error()
	return errors.Is(err, types.ErrNotSupported) || strings.Contains(msg, "not supported") ||
		strings.Contains(msg, "overlay") && strings.Contains(msg, "permitted")
}

// Close releases the store; mounts held by running containers stay.
func (s *Store) Close() {
	_, _ = s.s.Shutdown(false)
}

// lock takes den's commit lock, held across processes for the short time
// in which layers and images are added.
func (s *Store) lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.opts.Root, "commit.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the store lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking the store: %w", err)
	}
	return func() { f.Close() }, nil
}
