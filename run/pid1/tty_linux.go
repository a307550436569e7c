package pid1

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/denproject/den/run/ctl"
)

// openTTY is openPTY for the container's command.
func (p *initProc) openTTY(uid uint32) (*os.File, error) {
	return openPTY(p.conn, uid, func() error { return p.wait(ctl.TTYReady) })
}

// openPTY allocates a pseudo-terminal from the container's own devpts (a
// host pty would not be a terminal inside), hands the master to den over
// conn and waits until den has set the window size (ready), so that the
// command starts with the right size.
func openPTY(conn *ctl.Conn, uid uint32, ready func() error) (*os.File, error) {
	master, slave, err := allocPTY(uid)
	if err != nil {
		return nil, err
	}
	defer master.Close()
	if err := conn.Send(ctl.TTY, nil, master); err != nil {
		slave.Close()
		return nil, fmt.Errorf("sending the pty to den: %w", err)
	}
	if err := ready(); err != nil {
		slave.Close()
		return nil, fmt.Errorf("waiting for den to size the pty: %w", err)
	}
	return slave, nil
}

// allocPTY opens a pty pair in the container's devpts; the slave belongs
// to uid.
func allocPTY(uid uint32) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlocking the pty: %w", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("reading the pty number: %w", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", name, err)
	}
	_ = unix.Fchown(int(slave.Fd()), int(uid), -1)
	return master, slave, nil
}
