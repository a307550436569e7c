package ctl

import (
	"bytes"
	"encoding/binary"
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
// Only pages that are still the file's may be dropped: a writable
// mapping's would come back as the file's bytes, not the process's, and
// so would a read-only one's that the loader wrote before it protected
// them (a PIE build's relocated .data.rel.ro: dropped, the process
// crashed). A position-dependent build, den's, has none such; a PIE build
// sheds its code only. Call it from a goroutine of its own, not from a
// thread a seccomp filter was loaded on: it reads /proc and calls madvise.
func Shed() {
	debug.FreeOSMemory()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	codeOnly := pie()
	// The ranges are dropped together at the end: dropped while the
	// parsing went on, the parser's own code faulted straight back in.
	var drop [][2]uint64
	for _, line := range bytes.Split(maps, []byte("\n")) {
		// start-end perms offset dev inode path
		f := bytes.Fields(line)
		if len(f) < 6 || string(f[4]) == "0" || f[1][1] == 'w' || codeOnly && f[1][2] != 'x' {
			continue
		}
		lo, hi, _ := bytes.Cut(f[0], []byte("-"))
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 == nil && err2 == nil && end > start {
			drop = append(drop, [2]uint64{start, end})
		}
	}
	for _, r := range drop {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(r[0]), uintptr(r[1]-r[0]), unix.MADV_DONTNEED)
	}
}

// pie says whether den was built position-independent (an ELF of type
// ET_DYN), as some packagers build Go programs; unknown counts as yes.
func pie() bool {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return true
	}
	defer f.Close()
	var hdr [18]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || !bytes.HasPrefix(hdr[:], []byte("\x7fELF")) {
		return true
	}
	typ := binary.LittleEndian.Uint16(hdr[16:]) // e_type, in the order EI_DATA gives
	if hdr[5] == 2 {
		typ = binary.BigEndian.Uint16(hdr[16:])
	}
	const etExec = 2
	return typ != etExec
}
