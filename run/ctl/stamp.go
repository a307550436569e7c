package ctl

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

var processStart = time.Now()

// SinceStart is the time since the outer den started, which every process
// den starts inherits through EnvStart; the first process sets it.
func SinceStart() time.Duration {
	t0, err := strconv.ParseInt(os.Getenv(EnvStart), 10, 64)
	if err != nil {
		t0 = processStart.UnixNano()
		os.Setenv(EnvStart, strconv.FormatInt(t0, 10))
	}
	return time.Duration(time.Now().UnixNano() - t0)
}

// Stamp prints a --debug line stamped with the milliseconds since the
// outer den started, so that --debug shows where a run's time goes.
func Stamp(w io.Writer, format string, args ...any) {
	ms := float64(SinceStart()) / float64(time.Millisecond)
	fmt.Fprintf(w, "den: debug: %6.1fms "+format+"\n", append([]any{ms}, args...)...)
}
