package security

import (
	"encoding/json"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/pid1"
)

// baseSyscalls are allowed to every container: docker's current default
// list (moby/profiles/seccomp, which no longer allows io_uring). Names
// this architecture lacks are skipped when the filter is built.
var baseSyscalls = []string{
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset",
	"chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres",
	"clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat", "dup",
	"dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat",
	"exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate",
	"fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
	"fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
	"ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
	"futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
	"geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
	"getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
	"getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname",
	"getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
	"getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
	"ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
	"landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link",
	"linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek",
	"lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
	"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
	"mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify",
	"mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
	"mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open",
	"openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv",
	"preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
	"pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
	"recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename",
	"renameat", "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
	"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
	"sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
	"sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
	"semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
	"sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
	"setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
	"setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
	"setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area", "set_tid_address",
	"setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
	"sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair",
	"splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
	"sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
	"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname",
	"unlink", "unlinkat", "uretprobe", "utime", "utimensat", "utimensat_time64", "utimes", "vfork",
	"vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
}

// namespaceFlags are the clone flags that create namespaces.
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP

func allow(names ...string) Syscall { return Syscall{Names: names, Action: "SCMP_ACT_ALLOW"} }

func withCap(c string, s Syscall) Syscall {
	s.Includes = &Filter{Caps: []string{"CAP_" + c}}
	return s
}

func onArches(s Syscall, arches ...string) Syscall {
	s.Includes = &Filter{Arches: arches}
	return s
}

func argIs(name string, op string, v uint64) Syscall {
	return Syscall{Names: []string{name}, Action: "SCMP_ACT_ALLOW", Args: []Arg{{Index: 0, Value: v, Op: op}}}
}

// defaultProfile is docker's default profile, rule for rule, in docker's
// format: den reads it with the same code as a --security-opt seccomp
// file, so the two cannot drift apart.
func defaultProfile() *Profile {
	eperm, nosys := uint(unix.EPERM), uint(unix.ENOSYS)
	rules := []Syscall{allow(baseSyscalls...)}
	ptrace := allow("process_vm_readv", "process_vm_writev", "ptrace")
	ptrace.Includes = &Filter{MinKernel: "4.8"}
	rules = append(rules, ptrace,
		// socket: every family but AF_ALG (38) and AF_VSOCK (40).
		argIs("socket", "SCMP_CMP_LT", unix.AF_ALG), argIs("socket", "SCMP_CMP_EQ", unix.AF_ALG+1),
		argIs("socket", "SCMP_CMP_GT", unix.AF_VSOCK))
	// personality: Linux, Linux32, the query, and those with UNAME26.
	for _, p := range []uint64{0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		rules = append(rules, argIs("personality", "SCMP_CMP_EQ", p))
	}
	rules = append(rules,
		onArches(allow("sync_file_range2", "swapcontext"), "ppc64le"),
		onArches(allow("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"), "arm", "arm64"),
		onArches(allow("arch_prctl"), "amd64", "x32"),
		onArches(allow("modify_ldt"), "amd64", "x32", "x86"),
		onArches(allow("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"), "s390", "s390x"),
		onArches(allow("riscv_flush_icache"), "riscv64"),
		withCap("DAC_READ_SEARCH", allow("open_by_handle_at")),
		withCap("SYS_ADMIN", allow("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
			"fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
			"mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
			"setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare")),
	)
	// clone without namespace flags (s390 passes the flags second).
	for i, arches := range [][]string{nil, {"s390", "s390x"}} {
		c := allow("clone")
		c.Args = []Arg{{Index: uint32(i), Value: namespaceFlags, ValueTwo: 0, Op: "SCMP_CMP_MASKED_EQ"}}
		c.Excludes = &Filter{Caps: []string{"CAP_SYS_ADMIN"}}
		if arches == nil {
			c.Excludes.Arches = []string{"s390", "s390x"}
		} else {
			c.Includes = &Filter{Arches: arches}
		}
		rules = append(rules, c)
	}
	// clone3's flags are behind a pointer: ENOSYS sends libcs back to clone.
	rules = append(rules, Syscall{Names: []string{"clone3"}, Action: "SCMP_ACT_ERRNO", ErrnoRet: &nosys,
		Excludes: &Filter{Caps: []string{"CAP_SYS_ADMIN"}}})
	for _, c := range []struct {
		capability string
		names      []string
	}{
		{"SYS_BOOT", []string{"reboot"}},
		{"SYS_CHROOT", []string{"chroot"}},
		{"SYS_MODULE", []string{"delete_module", "init_module", "finit_module"}},
		{"SYS_PACCT", []string{"acct"}},
		{"SYS_PTRACE", []string{"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
		{"SYS_RAWIO", []string{"iopl", "ioperm"}},
		{"SYS_TIME", []string{"settimeofday", "stime", "clock_settime", "clock_settime64"}},
		{"SYS_TTY_CONFIG", []string{"vhangup"}},
		{"SYS_NICE", []string{"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
		{"SYSLOG", []string{"syslog"}},
		{"BPF", []string{"bpf"}},
		{"PERFMON", []string{"perf_event_open"}},
	} {
		rules = append(rules, withCap(c.capability, allow(c.names...)))
	}
	return &Profile{DefaultAction: "SCMP_ACT_ERRNO", DefaultErrnoRet: &eperm, ArchMap: defaultArchMap, Syscalls: rules}
}

// defaultArchMap: a container may use its machine's 32-bit ABIs too.
var defaultArchMap = []ArchMap{
	{"SCMP_ARCH_X86_64", []string{"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
	{"SCMP_ARCH_AARCH64", []string{"SCMP_ARCH_ARM"}},
	{"SCMP_ARCH_S390X", []string{"SCMP_ARCH_S390"}},
	{"SCMP_ARCH_RISCV64", nil},
}

// DefaultProfileJSON is den's default profile as a docker-format file
// (docker's default.json, in den's rule order).
func DefaultProfileJSON() ([]byte, error) {
	return json.MarshalIndent(defaultProfile(), "", "  ")
}

// defaultSeccomp is the default profile for a container with caps.
func defaultSeccomp(caps []uint) *pid1.Seccomp {
	s, err := defaultProfile().Resolve(caps)
	if err != nil {
		panic("den's default seccomp profile: " + err.Error()) // a bug, caught by the tests
	}
	return s
}
