package userns

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseSubIDFindsTheUsersRange(t *testing.T) {
	cases := []struct {
		name, file string
		want       Range
	}{
		{"by name", "alice:100000:65536\n", Range{100000, 65536}},
		{"by uid", "1000:200000:1000\n", Range{200000, 1000}},
		{"first of several", "alice:100000:65536\nalice:300000:65536\n", Range{100000, 65536}},
		{"after comments and blanks", "# managed by useradd\n\n  \nalice:165536:65536\n", Range{165536, 65536}},
		{"other users' lines skipped", "bob:100000:65536\nalicex:1:1\nalice:231072:65536\n", Range{231072, 65536}},
		{"surrounding spaces", "  alice:100000:65536  \n", Range{100000, 65536}},
		{"largest range", "alice:1:4294967295\n", Range{1, 4294967295}},
		{"others' malformed lines ignored", "bob:x:y\nalice:100000:65536\n", Range{100000, 65536}},
	}
	for _, c := range cases {
		got, err := parseSubID(strings.NewReader(c.file), "alice", 1000)
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func TestParseSubIDRefusesMalformedLines(t *testing.T) {
	for _, line := range []string{
		"alice:x:65536", "alice:100000:", "alice:100000:0", "alice:-1:65536", "alice:100000:-5",
		"alice:4294967296:1", "alice:100000:65536x", "alice: 100000:65536", "alice:1e5:65536",
	} {
		_, err := parseSubID(strings.NewReader(line+"\n"), "alice", 1000)
		if err == nil || !strings.Contains(err.Error(), "malformed line") || !strings.Contains(err.Error(), line) {
			t.Errorf("%q: got %v, want a malformed line error quoting it", line, err)
		}
	}
}

func TestParseSubIDWithoutAnEntry(t *testing.T) {
	for _, file := range []string{"", "# alice:100000:65536\n", "bob:100000:65536\n", "alice:100000:65536:extra\n", "alice:100000\n"} {
		if _, err := parseSubID(strings.NewReader(file), "alice", 1000); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: got %v, want no entry (ErrNotExist)", file, err)
		}
	}
}

func TestSubRangeNamesTheFile(t *testing.T) {
	p := writeFixture(t, "alice:oops:65536\n")
	if _, err := subRange(p, "alice", 1); err == nil || !strings.HasPrefix(err.Error(), p+": malformed line") {
		t.Errorf("a malformed line should name the file: %v", err)
	}
	if _, err := subRange(p+".absent", "alice", 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestRangeProblemSaysWhatToAdd(t *testing.T) {
	got := rangeProblem("/etc/subuid", "alice", os.ErrNotExist)
	if !strings.Contains(got, "/etc/subuid") || !strings.Contains(got, "den doctor") || !strings.Contains(got, "as root") {
		t.Errorf("no range: %q", got)
	}
	got = rangeProblem("/etc/subuid", "alice", errors.New("/etc/subuid: malformed line \"alice:x:1\""))
	if !strings.HasPrefix(got, "cannot read /etc/subuid") || !strings.Contains(got, "malformed") {
		t.Errorf("unreadable file: %q", got)
	}
}

func TestMapsAsTheKernelAndNewuidmapWantThem(t *testing.T) {
	ms := []IDMap{{0, 1000, 1}, {1, 100000, 65536}}
	if got := formatMaps(ms); got != "0 1000 1\n1 100000 65536\n" {
		t.Errorf("uid_map text: %q", got)
	}
	if got := strings.Join(mapArgs(7, ms), " "); got != "7 0 1000 1 1 100000 65536" {
		t.Errorf("newuidmap arguments: %q", got)
	}
	if p := (&Plan{UIDs: ms}); p.Size() != 65537 {
		t.Errorf("size %d, want 65537", p.Size())
	}
}
