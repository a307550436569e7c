package ctl

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"

	"golang.org/x/sys/unix"
)

// Shed gives back what a long-lived den process (a container's init, the
// namespace child that keeps its network) touched while it set up and no
// longer uses: the heap that setup freed, and its mappings of den's code
// and read-only data. Package inits of a 20 MB binary fault most of it in
// (8 of 10 MB of code, 6 of 11 MB of read-only data, measured in an init);
// an init waiting on its command then counted 14.5 of its 17 MB resident
// in those pages. They stay in the page cache, shared, and the few pages a
// later signal or exec needs fault back in from there without I/O.
//
// Only pages that are still the file's are dropped: a writable mapping, or
// a read-only one with private copies (a PIE build's relocated
// .data.rel.ro, written by the loader, then made read-only), would fault
// back with the file's bytes, not the process's. Call it from a goroutine
// of its own, not from a thread a seccomp filter was loaded on: it opens
// /proc/self/smaps and calls madvise.
func Shed() {
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	var start, end uint64
	candidate := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("Anonymous:")); ok {
			if candidate && bytes.Equal(bytes.Fields(rest)[0], []byte("0")) {
				_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
			}
			candidate = false
			continue
		}
		// A mapping's header: start-end perms offset dev inode [path].
		f := bytes.Fields(line)
		if len(f) < 6 || !bytes.Contains(f[0], []byte("-")) || len(f[1]) != 4 {
			continue
		}
		lo, hi, _ := bytes.Cut(f[0], []byte("-"))
		s, err1 := strconv.ParseUint(string(lo), 16, 64)
		e, err2 := strconv.ParseUint(string(hi), 16, 64)
		candidate = err1 == nil && err2 == nil && e > s && string(f[4]) != "0" && f[1][1] != 'w'
		start, end = s, e
	}
}
