package cptar

import "testing"

func TestEntryPath(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  bool
		want string
		bad  bool
	}{
		{"top", false, ".", false},
		{"top/", false, ".", false},
		{"top/a/b", false, "a/b", false},
		{"./etc/passwd", false, "etc/passwd", false},
		{"top/a/../../x", false, "", true},
		{"/abs/x", true, "abs/x", false},
		{"x/./y", true, "x/y", false},
		{"../x", true, "", true},
	} {
		got, err := EntryPath(c.name, c.raw)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("EntryPath(%q, %v) = %q %v", c.name, c.raw, got, err)
		}
	}
}
