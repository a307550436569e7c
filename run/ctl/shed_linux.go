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
// so would a read-only one's that a loader wrote before it protected them
// (relocations: a PIE build's .data.rel.ro, a dynamically linked build's
// GOT, libc's own; dropped, the process crashed). So only den's own
// mappings are touched, and its read-only data only when den is a static,
// position-dependent binary, as make builds it; else its code alone. Call
// it from a goroutine of its own, not from a thread a seccomp filter was
// loaded on: it reads /proc and calls madvise.
func Shed() {
	debug.FreeOSMemory()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	codeOnly := !selfContained()
	// The ranges are dropped together at the end: dropped while the
	// parsing went on, the parser's own code faulted straight back in.
	var drop [][2]uint64
	for _, line := range bytes.Split(maps, []byte("\n")) {
		// start-end perms offset dev inode path (which may hold spaces)
		f := bytes.Fields(line)
		if len(f) < 6 || !bytes.HasSuffix(line, []byte(" "+exe)) || f[1][1] == 'w' || codeOnly && f[1][2] != 'x' {
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

// selfContained says whether den's binary is a static, position-dependent
// ELF: of type ET_EXEC, with no PT_INTERP or PT_DYNAMIC, so that no loader
// wrote into its read-only mappings. Anything else, or unknown, is no.
func selfContained() bool {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	var h [64]byte
	if _, err := f.ReadAt(h[:], 0); err != nil || !bytes.HasPrefix(h[:], []byte("\x7fELF")) || h[4] != 2 {
		return false // not an ELF64
	}
	var bo binary.ByteOrder = binary.LittleEndian // as EI_DATA says
	if h[5] == 2 {
		bo = binary.BigEndian
	}
	const etExec, ptDynamic, ptInterp = 2, 2, 3
	phoff, size, n := int64(bo.Uint64(h[32:])), int(bo.Uint16(h[54:])), int(bo.Uint16(h[56:]))
	if bo.Uint16(h[16:]) != etExec || size < 4 || n == 0 || n > 256 {
		return false
	}
	ph := make([]byte, size*n)
	if _, err := f.ReadAt(ph, phoff); err != nil {
		return false
	}
	for i := 0; i < n; i++ {
		if t := bo.Uint32(ph[i*size:]); t == ptDynamic || t == ptInterp {
			return false
		}
	}
	return true
}
