package run

import (
	"bytes"
	"strings"
	"testing"

	"github.com/denproject/den/run/spec"
)

func TestDetachKeys(t *testing.T) {
	for in, want := range map[string][]byte{"": {16, 17}, "ctrl-a,x": {1, 'x'}, "ctrl-@,ctrl-_": {0, 31}, "CTRL-Z": {26}} {
		if got, err := spec.ParseDetachKeys(in); err != nil || !bytes.Equal(got, want) {
			t.Errorf("spec.ParseDetachKeys(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"ctrl-1", "ctrl-", "xy", "a,,b"} {
		if _, err := spec.ParseDetachKeys(bad); err == nil {
			t.Errorf("spec.ParseDetachKeys(%q) accepted", bad)
		}
	}
	var out bytes.Buffer
	// A key that begins the sequence passes on when the next one does not
	// finish it; the whole sequence detaches and is not passed on.
	if !copyInput(&out, strings.NewReader("ab\x10c\x10\x11zz"), []byte{16, 17}) || out.String() != "ab\x10c" {
		t.Fatalf("copyInput: %q", out.String())
	}
	out.Reset()
	if copyInput(&out, strings.NewReader("plain"), []byte{16, 17}) || out.String() != "plain" {
		t.Fatalf("copyInput without keys: %q", out.String())
	}
}
