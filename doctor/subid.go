package doctor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// minRange is what an image's ordinary users need (nobody = 65534).
const minRange = 65536

// subLine is one entry of /etc/subuid or /etc/subgid.
type subLine struct {
	no           int // 1-based line number in the file, for sed
	owner        string
	start, count uint64
	bad          bool // not owner:start:count with numbers
	raw          string
}

func (l subLine) end() uint64 { return l.start + l.count - 1 }

func parseSubLines(r io.Reader) ([]subLine, error) {
	var out []subLine
	sc := bufio.NewScanner(r)
	for no := 1; sc.Scan(); no++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		l := subLine{no: no, raw: raw}
		parts := strings.Split(raw, ":")
		l.owner = parts[0]
		var err1, err2 error
		if len(parts) == 3 {
			l.start, err1 = strconv.ParseUint(parts[1], 10, 32)
			l.count, err2 = strconv.ParseUint(parts[2], 10, 32)
		}
		l.bad = len(parts) != 3 || err1 != nil || err2 != nil || l.count == 0
		out = append(out, l)
	}
	return out, sc.Err()
}

// SubIDs checks the user's range in an /etc/subuid-style file (kind is
// "subuid" or "subgid"): missing, malformed, under 65536 ids, listed
// twice, or overlapping another user's. den uses the first line that
// names the user (by name or uid, as shadow-utils does); every problem
// here leaves den running, degraded, so each is a warning.
func SubIDs(path, kind string, me Me) (Check, bool) {
	name := kind + " range"
	var lines []subLine
	f, err := os.Open(path)
	if err == nil {
		lines, err = parseSubLines(f)
		f.Close()
	}
	if err != nil && !os.IsNotExist(err) {
		return warn(name, "", "cannot read %s: %v", path, err), false
	}
	flag := "--add-sub" + strings.TrimPrefix(kind, "sub") + "s"
	free := freeStart(lines)
	add := fmt.Sprintf("sudo usermod %s %d-%d %s", flag, free, free+minRange-1, me.Name)
	mine := -1
	for i, l := range lines {
		if l.owner == me.Name || l.owner == strconv.Itoa(me.UID) {
			mine = i
			break
		}
	}
	if mine < 0 {
		return warn(name, add, "no line for %s in %s: den maps only your own uid, so files owned by other users in images are stored as root", me.Name, path), false
	}
	l := lines[mine]
	if l.bad {
		return warn(name, fmt.Sprintf("sudo sed -i '%dd' %s && %s", l.no, path, add),
			"line %d of %s is malformed (%q): den maps only your own uid", l.no, path, l.raw), false
	}
	replace := fmt.Sprintf("sudo usermod --del-%s %d-%d %s %s", flag[len("--add-"):], l.start, l.end(), flag, fmt.Sprintf("%d-%d %s", free, free+minRange-1, me.Name))
	if l.count < minRange {
		return warn(name, replace, "%s has %d ids in %s (line %d), fewer than %d: images with high uids (nobody = 65534) fail to unpack",
			me.Name, l.count, path, l.no, minRange), true
	}
	for _, o := range lines[mine+1:] {
		if !o.bad && o.owner == l.owner && o.start == l.start && o.count == l.count {
			return warn(name, fmt.Sprintf("sudo sed -i '%dd' %s", o.no, path),
				"line %d of %s repeats line %d (%s)", o.no, path, l.no, l.raw), true
		}
	}
	for _, o := range lines {
		if o.bad || o.owner == l.owner || o.owner == me.Name || o.owner == strconv.Itoa(me.UID) {
			continue
		}
		if o.start <= l.end() && l.start <= o.end() {
			return warn(name, replace, "your range %d-%d overlaps %s's %d-%d (line %d of %s): files of their containers and yours share owners",
				l.start, l.end(), o.owner, o.start, o.end(), o.no, path), true
		}
	}
	return ok(name, "%s: %d ids from %d", path, l.count, l.start), true
}

// freeStart is the first id past every range in the file, and at least
// 100000, as useradd allocates them.
func freeStart(lines []subLine) uint64 {
	next := uint64(100000)
	for _, l := range lines {
		if !l.bad && l.end()+1 > next {
			next = l.end() + 1
		}
	}
	return next
}
