package userns

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// Join starts den in the existing user namespace held open by userNS (a
// running container's, which another den made) and in a new mount
// namespace of that user namespace. Only a process inside a user namespace
// may enter the network namespaces it owns (the kernel wants
// CAP_SYS_ADMIN there and in the caller's own), so a container that joins
// another's network must be started from inside the other's user
// namespace. Entering a user namespace takes a single-threaded process,
// which Go never is: util-linux's nsenter and unshare do it, the owner's
// (this den's) right to enter letting them. The namespace has the same id
// maps as a new one would (the same subordinate range).
func Join(o Options, userNS *os.File) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding den's own binary: %w", err)
	}
	nsenter, err := exec.LookPath("nsenter")
	if err == nil {
		_, err = exec.LookPath("unshare")
	}
	if err != nil {
		return nil, fmt.Errorf("joining another container's network needs nsenter and unshare (apt-get install util-linux)")
	}
	fd := 3 + len(o.ExtraFiles)
	args := []string{"--user=/proc/self/fd/" + strconv.Itoa(fd), "--preserve-credentials", "--",
		"unshare", "--mount", "--propagation", "private", "--", exe}
	cmd := exec.Command(nsenter, append(args, o.Args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.ExtraFiles = append(append([]*os.File{}, o.ExtraFiles...), userNS)
	cmd.Env = o.childEnv(envStage+"=child", envJoined+"=1")
	cmd.SysProcAttr = o.procAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("entering the container's user namespace: %w", err)
	}
	return &Child{cmd: cmd}, nil
}

// envJoined marks den started by Join: its request came with a network
// namespace to hand the container's init.
const envJoined = "_DEN_USERNS_JOINED"

// Joined reports whether this den was started by Join.
func Joined() bool { return os.Getenv(envJoined) == "1" }
