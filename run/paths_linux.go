package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/denproject/den/userns"
)

// DataRoot is $XDG_DATA_HOME/den, or ~/.local/share/den.
func DataRoot() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "den"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the data directory: set HOME or XDG_DATA_HOME: %w", err)
	}
	return filepath.Join(home, ".local", "share", "den"), nil
}

// CallerRuntimeDir is XDG_RUNTIME_DIR as den was given it (RuntimeRoot
// unsets an unusable one, which doctor still reports).
var CallerRuntimeDir = os.Getenv("XDG_RUNTIME_DIR")

// RuntimeRoot is $XDG_RUNTIME_DIR/den when that directory exists and
// belongs to the user (after su or sudo -u it may be another user's), else
// /tmp/den-UID, created 0700 and checked to be ours.
func RuntimeRoot() (string, error) {
	// Inside the namespace the path still names the host uid, while the
	// owner seen by stat is the namespace's own uid 0.
	uid := os.Getuid()
	d := CallerRuntimeDir
	if d != "" && ownedBy(d, uid) {
		return filepath.Join(d, "den"), nil
	}
	if d != "" {
		// One left from another session, or never made (no systemd): the
		// storage library would resolve it too, and fail every command.
		os.Unsetenv("XDG_RUNTIME_DIR")
	}
	return privateDir(filepath.Join(os.TempDir(), "den-"+strconv.Itoa(userns.HostUID())))
}

// privateDir makes d, 0700, and checks that it is this user's alone.
func privateDir(d string) (string, error) {
	uid := os.Getuid()
	if err := os.Mkdir(d, 0o700); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("creating runtime directory %s: %w", d, err)
	}
	fi, err := os.Lstat(d)
	if err != nil {
		return "", err
	}
	st := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || int(st.Uid) != uid || fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("runtime directory %s is not a private directory of uid %d (someone else made it?): set XDG_RUNTIME_DIR to a private directory you own (mkdir -m 700 ~/.den-run; export XDG_RUNTIME_DIR=~/.den-run), or ask root to remove it", d, userns.HostUID())
	}
	return d, nil
}

// socketsDir is where unix sockets with fixed names go: the runtime
// directory, unless its path is so long that a socket in it would pass
// the 108 bytes a socket's path may have (then a directory in /tmp).
func socketsDir(runRoot string) string {
	if len(runRoot) <= 60 {
		return runRoot
	}
	if d, err := privateDir(filepath.Join("/tmp", "den-"+strconv.Itoa(userns.HostUID())+"-sockets")); err == nil {
		return d
	}
	return runRoot
}

func ownedBy(path string, uid int) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid) == uid
}
