package security

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// capNames are the capability numbers of linux/capability.h.
var capNames = map[string]uint{
	"CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4,
	"KILL": 5, "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "LINUX_IMMUTABLE": 9,
	"NET_BIND_SERVICE": 10, "NET_BROADCAST": 11, "NET_ADMIN": 12, "NET_RAW": 13,
	"IPC_LOCK": 14, "IPC_OWNER": 15, "SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_CHROOT": 18,
	"SYS_PTRACE": 19, "SYS_PACCT": 20, "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_NICE": 23,
	"SYS_RESOURCE": 24, "SYS_TIME": 25, "SYS_TTY_CONFIG": 26, "MKNOD": 27, "LEASE": 28,
	"AUDIT_WRITE": 29, "AUDIT_CONTROL": 30, "SETFCAP": 31, "MAC_OVERRIDE": 32,
	"MAC_ADMIN": 33, "SYSLOG": 34, "WAKE_ALARM": 35, "BLOCK_SUSPEND": 36,
	"AUDIT_READ": 37, "PERFMON": 38, "BPF": 39, "CHECKPOINT_RESTORE": 40,
}

// defaultCaps is docker's default set.
var defaultCaps = []string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
	"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"}

// lastCap is the highest capability this kernel knows.
func lastCap() uint {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 40
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 40
	}
	return uint(n)
}

func capNumber(name string) (uint, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CAP_")
	if c, ok := capNames[n]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("unknown capability %q (e.g. NET_ADMIN, SYS_PTRACE, ALL)", name)
}

// capabilities applies --cap-add and --cap-drop to docker's default set, as
// docker does: drops first (ALL clears the set), then adds (ALL fills it).
func capabilities(add, drop []string, privileged bool) ([]uint, error) {
	set := map[uint]bool{}
	all := func() {
		for c, last := uint(0), lastCap(); c <= last; c++ {
			set[c] = true
		}
	}
	if privileged {
		all()
	} else {
		for _, n := range defaultCaps {
			set[capNames[n]] = true
		}
	}
	for _, d := range drop {
		if strings.EqualFold(d, "ALL") {
			clear(set)
			continue
		}
		c, err := capNumber(d)
		if err != nil {
			return nil, fmt.Errorf("--cap-drop: %w", err)
		}
		delete(set, c)
	}
	for _, a := range add {
		if strings.EqualFold(a, "ALL") {
			all()
			continue
		}
		c, err := capNumber(a)
		if err != nil {
			return nil, fmt.Errorf("--cap-add: %w", err)
		}
		set[c] = true
	}
	out := make([]uint, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
