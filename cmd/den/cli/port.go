package cli

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func init() {
	register(groupContainers, newPort, newTop, newCp)
}

func newPort(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:     "port CONTAINER [PORT[/PROTO]]",
		Short:   "List a running container's published ports, or where one is published",
		Example: "  den port web\n  den port web 80/tcp",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return &usageError{fmt.Errorf("requires a container and at most one port")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var want string
			if len(args) == 2 {
				var err error
				if want, err = portArg(args[1]); err != nil {
					return err
				}
			}
			ports, err := run.Ports(g, args[0])
			if err != nil {
				return err
			}
			return printPorts(cmd, args[0], ports, want)
		},
		ValidArgsFunction: completeFirstContainer(g, true),
	}
}

// portArg reads docker's PORT[/PROTO] as "80/tcp".
func portArg(s string) (string, error) {
	port, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || proto != "tcp" && proto != "udp" && proto != "sctp" {
		return "", fmt.Errorf("invalid port %q: use PORT or PORT/PROTO, such as 80 or 53/udp", s)
	}
	return fmt.Sprintf("%d/%s", n, proto), nil
}

// printPorts prints docker's lines: "80/tcp -> 0.0.0.0:8080", or with a
// port asked for only where it is published.
func printPorts(cmd *cobra.Command, name string, ports []run.Port, want string) error {
	var lines []string
	for _, p := range ports {
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)
		addr := net.JoinHostPort(hostIP(p), strconv.Itoa(p.HostPort))
		switch {
		case want == "":
			lines = append(lines, key+" -> "+addr)
		case want == key:
			lines = append(lines, addr)
		}
	}
	if want != "" && len(lines) == 0 {
		return fmt.Errorf("no public port %s published for %s", want, name)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(cmd.OutOrStdout(), l)
	}
	return nil
}
