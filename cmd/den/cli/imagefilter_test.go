package cli

import (
	"testing"
	"time"

	"github.com/denproject/den/run"
)

// before= and since= compare images' creation times, by name or ID.
func TestImageFilterBeforeSince(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := []run.ImageRow{
		{Repository: "docker.io/library/old", Tag: "1", ID: "aaa111", Created: t0},
		{Repository: "docker.io/library/mid", Tag: "1", ID: "bbb222", Created: t0.Add(time.Hour)},
		{Repository: "docker.io/library/new", Tag: "1", ID: "ccc333", Created: t0.Add(2 * time.Hour)},
	}
	names := func(filters ...string) (out []string) {
		m, err := imageMatcher(filters, nil, rows)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if m(r) {
				out = append(out, r.ID)
			}
		}
		return out
	}
	if got := names("before=mid:1"); len(got) != 1 || got[0] != "aaa111" {
		t.Errorf("before=mid:1: %v", got)
	}
	if got := names("since=sha256:aaa111"); len(got) != 2 {
		t.Errorf("since=sha256:aaa111: %v", got)
	}
	if got := names("since=old:1", "before=new:1"); len(got) != 1 || got[0] != "bbb222" {
		t.Errorf("since and before: %v", got)
	}
	if _, err := imageMatcher([]string{"before=nosuch"}, nil, rows); err == nil {
		t.Error("before= of an unknown image was taken")
	}
}
