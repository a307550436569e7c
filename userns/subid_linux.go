package userns

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// IDMap is one line of /proc/PID/uid_map: Size ids from Host mapped at Container.
type IDMap struct {
	Container, Host, Size uint32
}

// Range is one /etc/subuid or /etc/subgid entry.
type Range struct {
	Start, Count uint32
}

// MinRange is the size below which an image's ordinary users (uid 1000,
// nobody = 65534) stop fitting; shorter ranges get a warning.
const MinRange = 65536

// subRange returns the first range for the user in an /etc/subuid-style file.
func subRange(path, name string, id int) (Range, error) {
	f, err := os.Open(path)
	if err != nil {
		return Range{}, err
	}
	defer f.Close()
	r, err := parseSubID(f, name, id)
	if err != nil && err != os.ErrNotExist { // rangeProblem tells "no line for you" apart
		return Range{}, fmt.Errorf("%s: %w", path, err)
	}
	return r, err
}

// parseSubID finds the first entry for the user, by name or numeric id as
// shadow-utils accepts both; os.ErrNotExist when there is none.
//
// moby/sys/user's ParseSubID is not used: it ignores number conversion
// errors, so "alice:10000O:65536" would read as a range starting at host
// uid 0 instead of being reported, and it accepts lines with extra fields.
func parseSubID(r io.Reader, name string, id int) (Range, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != strconv.Itoa(id)) {
			continue
		}
		start, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			return Range{}, fmt.Errorf("malformed line %q", line)
		}
		return Range{Start: uint32(start), Count: uint32(count)}, nil
	}
	if err := sc.Err(); err != nil {
		return Range{}, err
	}
	return Range{}, os.ErrNotExist
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return strconv.Itoa(uid)
}
