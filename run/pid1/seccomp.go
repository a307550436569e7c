package pid1

// Seccomp is a syscall filter in a form independent of any profile format:
// rules are tried in order, the first whose name and arguments match
// decides; an unlisted syscall fails with DefaultErrno.
type Seccomp struct {
	DefaultErrno uint32        `json:"defaultErrno"`
	Rules        []SeccompRule `json:"rules"`
}

// SeccompRule applies Action to the named syscalls when all Args match.
type SeccompRule struct {
	Names  []string     `json:"names"`
	Action string       `json:"action"` // allow, errno, kill, trap, log
	Errno  uint32       `json:"errno,omitempty"`
	Args   []SeccompArg `json:"args,omitempty"`
}

// SeccompArg compares argument Index: Op is eq, ne, lt, le, gt, ge, or
// masked_eq ((arg & Value) == ValueTwo), as in docker's profiles.
type SeccompArg struct {
	Index    uint32 `json:"index"`
	Op       string `json:"op"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
}
