package userns

import (
	"bufio"
	"fmt"
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
// Entries may name the user or its numeric id, as shadow-utils accepts both.
func subRange(path, name string, id int) (Range, error) {
	f, err := os.Open(path)
	if err != nil {
		return Range{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
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
			return Range{}, fmt.Errorf("%s: malformed line %q", path, line)
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
