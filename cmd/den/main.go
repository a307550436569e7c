// Command den runs OCI containers for an unprivileged user, without a daemon.
package main

import (
	"fmt"
	"os"

	"go.podman.io/storage/pkg/reexec"

	"github.com/denproject/den/cmd/den/cli"
	"github.com/denproject/den/run/pid1"
	"github.com/denproject/den/userns"
)

func main() {
	// The storage library re-executes den to unpack layers chrooted.
	if reexec.Init() {
		return
	}
	// den's own namespace child blocks here until its id maps are written.
	if err := userns.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "den:", err)
		os.Exit(125)
	}
	// The container's PID 1.
	if pid1.IsInit() {
		os.Exit(pid1.Main())
	}
	os.Exit(cli.Execute())
}
