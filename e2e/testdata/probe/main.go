// Command probe is the e2e tests' eye inside a container.
//
//	probe                          prints its effective uid (the tests
//	                               install it setuid-root)
//	probe syscalls NAME:A0,A1 ...  makes each raw syscall (a name of this
//	                               architecture or a number) and prints
//	                               "NAME NR RESULT", RESULT ok or the errno
//	probe open FLAGS PATH ...      opens each path (FLAGS r, w, rw or c,
//	                               create) and
//	                               prints "PATH RESULT"
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Printf("euid=%d\n", os.Geteuid())
		return
	}
	switch os.Args[1] {
	case "syscalls":
		syscalls(os.Args[2:])
	case "open":
		open(os.Args[2], os.Args[3:])
	default:
		fmt.Fprintln(os.Stderr, "probe: unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(unix.Errno); ok {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

func syscalls(specs []string) {
	info, err := arch.GetInfo("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	for _, spec := range specs {
		name, list, _ := strings.Cut(spec, ":")
		nr, ok := info.SyscallNames[name]
		if !ok {
			if nr, err = strconv.Atoi(name); err != nil {
				fmt.Printf("%s - absent\n", name)
				continue
			}
		}
		var a [6]uintptr
		for i, s := range strings.Split(list, ",") {
			if s == "" {
				continue
			}
			v, err := strconv.ParseInt(s, 0, 64)
			if err != nil {
				u, _ := strconv.ParseUint(s, 0, 64)
				v = int64(u)
			}
			a[i] = uintptr(v)
		}
		_, _, errno := unix.Syscall6(uintptr(nr), a[0], a[1], a[2], a[3], a[4], a[5])
		var callErr error
		if errno != 0 {
			callErr = errno
		}
		fmt.Printf("%s %d %s\n", spec, nr, result(callErr))
		if name == "personality" {
			unix.Syscall(unix.SYS_PERSONALITY, 0, 0, 0) // back to Linux
		}
	}
}

func open(flags string, paths []string) {
	mode := map[string]int{"r": unix.O_RDONLY, "w": unix.O_WRONLY, "rw": unix.O_RDWR, "c": unix.O_WRONLY | unix.O_CREAT}[flags]
	for _, p := range paths {
		fd, err := unix.Open(p, mode|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err == nil {
			unix.Close(fd)
		}
		fmt.Printf("%s %s\n", p, result(err))
	}
}
