package pid1

import (
	"os"
	"strings"
	"testing"
)

// The descriptors that come with the config are named by it: a config
// whose names and descriptors disagree, or that names one the init does
// not know, or lacks the socket and directory, is refused in one line,
// before any descriptor is put in place, and closes what came.
func TestAdoptRefusesWhatItWasNotSent(t *testing.T) {
	for _, c := range []struct {
		passed []string
		n      int
		want   string
	}{
		{[]string{PassListen, PassDir}, 1, "names 2 descriptors and came with 1"},
		{nil, 2, "names 0 descriptors and came with 2"},
		{[]string{"../../etc/passwd"}, 1, `unknown descriptor "../../etc/passwd"`},
		{[]string{PassSeccomp}, 1, "without its listening socket or directory"},
		{[]string{""}, 1, `unknown descriptor ""`},
	} {
		var files []*os.File
		for i := 0; i < c.n; i++ {
			f, err := os.CreateTemp(t.TempDir(), "passed")
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		cfg := Config{Passed: c.passed}
		err := cfg.adopt(files)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Passed %q with %d descriptors: %v, want one line with %q", c.passed, c.n, err, c.want)
		}
		for _, f := range files {
			if _, err := f.Stat(); err == nil {
				t.Errorf("Passed %q: a descriptor that came was left open", c.passed)
			}
		}
	}
}
