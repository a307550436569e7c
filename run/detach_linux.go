package run

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// envDetach names the fd on which a detached run reports "ID <id>" once
// the command started, or "ERR <code> <message>". The den that runs the
// container in the background inherits it, and so does its namespace
// child, where the container is made.
const envDetach = "_DEN_DETACH_FD"

// detached is this process's end of the report, when it is part of a
// detached run; takeDetached sets it.
var detached *os.File

// takeDetached picks up the report's fd and removes it from the
// environment: other programs den starts (the storage library's own
// re-execs) have another file at that number.
func takeDetached() {
	v, ok := os.LookupEnv(envDetach)
	if !ok {
		return
	}
	os.Unsetenv(envDetach)
	if fd, err := strconv.Atoi(v); err == nil {
		detached = os.NewFile(uintptr(fd), "detach-report")
	}
}

// runDetached is `den run -d` as the user typed it: it starts den run
// again in a session of its own, with no terminal and none of this
// process's output (a caller reading `$(den run -d ...)` must get EOF),
// and prints the container id once the command has started.
func runDetached(g *Global) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Env = append(os.Environ(), envDetach+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("starting den in the background: %w", err)
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if id, ok := strings.CutPrefix(line, "ID "); ok {
		fmt.Fprintln(os.Stdout, id)
		return nil // den runs on without us
	}
	if rest, ok := strings.CutPrefix(line, "ERR "); ok {
		_ = cmd.Wait()
		codeText, msg, _ := strings.Cut(rest, " ")
		code, err := strconv.Atoi(codeText)
		if err != nil {
			code = 125
		}
		return &setupError{code: code, msg: msg}
	}
	err = cmd.Wait()
	return fmt.Errorf("den run -d: the container did not start (%v)", err)
}

// reportDetached tells the waiting `den run -d` how the start went; once.
func reportDetached(id string, err error) {
	if detached == nil {
		return
	}
	if err != nil {
		code := 125
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		fmt.Fprintf(detached, "ERR %d %s\n", code, strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		fmt.Fprintf(detached, "ID %s\n", id)
	}
	detached.Close()
	detached = nil
}

// logFile is where a detached container's output goes.
func (s *session) logFile(id string) (string, error) {
	dir, err := s.store.Dir(id)
	if err != nil {
		return "", err
	}
	return dir + "/ctr.log", nil
}

// Logs is `den logs`: what a detached container wrote (stdout and stderr
// together, in order); with follow, until the container stops.
func Logs(g *Global, name string, follow bool, out io.Writer) error {
	s, err := g.enter()
	if s == nil {
		return err
	}
	defer s.close()
	c, err := s.store.FindContainer(name)
	if err != nil {
		return err
	}
	path, err := s.logFile(c.ID)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s has no logs: den keeps the output of containers started with -d", name)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if _, err := io.Copy(out, f); err != nil {
			return err
		}
		if !follow {
			return nil
		}
		c, err := s.store.FindContainer(c.ID)
		if err != nil || meta(c).State != "running" {
			_, err := io.Copy(out, f) // what came before the end
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
