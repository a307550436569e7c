package pid1

import (
	"testing"
	"time"
)

// docker's back-off: 100 ms doubling to a minute, 100 ms again after a
// run of over 10 s.
func TestRestartBackoff(t *testing.T) {
	var r Restart
	ms := time.Millisecond
	for _, c := range []struct{ last, ran, want time.Duration }{
		{0, 0, 100 * ms}, {100 * ms, ms, 200 * ms}, {400 * ms, 9 * time.Second, 800 * ms},
		{40 * time.Second, ms, time.Minute}, {time.Minute, ms, time.Minute},
		{time.Minute, 11 * time.Second, 100 * ms},
	} {
		if got := r.Backoff(c.last, c.ran); got != c.want {
			t.Errorf("Backoff(%v, %v) = %v, want %v", c.last, c.ran, got, c.want)
		}
	}
}
