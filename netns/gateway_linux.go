package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// closedTable holds the unreachable routes that the gateway rules send
// TCP and UDP to.
const closedTable = 100

// Rule priorities: the published ports' replies first, then the block.
const (
	prioReplies = 100
	prioClosed  = 101
)

// closeGatewayHere closes the gateway's own addresses (10.0.2.2 and an
// IPv6 default gateway) to TCP and UDP from the namespace this thread is
// in; ICMP still passes, so that ping 10.0.2.2 answers as under podman.
// pasta maps the gateway to the host's loopback, slirp4netns and the
// built-in stack answer ping themselves. A server behind a published port
// keeps replying to clients that pasta shows as the gateway (a client on
// the host's loopback): its ports are let through by source port.
// Routing through the gateway is untouched (it needs only the link
// address).
func closeGatewayHere(ports []Port, all bool, hostV6 []net.IP) error {
	// pasta gives the namespace the host's IPv6 gateway, mapped to the
	// host's loopback as 10.0.2.2 is; its route may come after the IPv4
	// one this runs after, so the host's gateways are closed too.
	gws := append([]net.IP{net.ParseIP(Gateway).To4()}, v6Gateways()...)
	for _, gw := range hostV6 {
		if !slices.ContainsFunc(gws, gw.Equal) {
			gws = append(gws, gw)
		}
	}
	seen := map[string]bool{} // -p 8080:80 -p 8081:80: one rule for port 80
	for _, gw := range gws {
		family, bits := netlink.FAMILY_V4, 32
		if gw.To4() == nil {
			family, bits = netlink.FAMILY_V6, 128
		}
		dst := &net.IPNet{IP: gw, Mask: net.CIDRMask(bits, bits)}
		err := netlink.RouteAdd(&netlink.Route{Dst: dst, Type: unix.RTN_UNREACHABLE, Table: closedTable, Family: family})
		if err != nil {
			return fmt.Errorf("closing the gateway %s: %w", gw, err)
		}
		for _, proto := range []string{"tcp", "udp"} {
			for _, p := range ports {
				key := fmt.Sprintf("%s %s %d", gw, proto, p.ContainerPort)
				if p.Proto != proto || seen[key] {
					continue
				}
				seen[key] = true
				r := gatewayRule(family, dst, proto, prioReplies, unix.RT_TABLE_MAIN)
				r.Sport = netlink.NewRulePortRange(uint16(p.ContainerPort), uint16(p.ContainerPort))
				if err := netlink.RuleAdd(r); err != nil {
					return fmt.Errorf("letting port %s through to the gateway: %w", p, err)
				}
			}
			r := gatewayRule(family, dst, proto, prioClosed, closedTable)
			if all {
				r.IPProto = 0 // ICMP too: pasta without --no-map-gw's mapping would send it to the host's network
			}
			if err := netlink.RuleAdd(r); err != nil && !(all && errors.Is(err, unix.EEXIST)) {
				return fmt.Errorf("closing the gateway %s to %s: %w", gw, proto, err)
			}
		}
	}
	return nil
}

func gatewayRule(family int, dst *net.IPNet, proto string, prio, table int) *netlink.Rule {
	r := netlink.NewRule()
	r.Family, r.Dst, r.Priority, r.Table = family, dst, prio, table
	r.IPProto = unix.IPPROTO_TCP
	if proto == "udp" {
		r.IPProto = unix.IPPROTO_UDP
	}
	return r
}

// closeGateway closes the gateway in the namespace of pid (see
// closeGatewayHere).
func closeGateway(pid int, ports []Port, all bool, hostV6 []net.IP) error {
	_, err := inNetns(pid, false, func() (*os.File, error) { return nil, closeGatewayHere(ports, all, hostV6) })
	if err != nil {
		return fmt.Errorf("closing the gateway address to the container: %w", err)
	}
	return nil
}

// v6Gateways are the gateways of the IPv6 default routes of the network
// namespace this thread is in.
func v6Gateways() []net.IP {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V6)
	if err != nil {
		return nil
	}
	var gws []net.IP
	for _, r := range routes {
		if ones, _ := maskOf(r.Dst); ones == 0 && r.Gw != nil {
			gws = append(gws, r.Gw)
		}
	}
	return gws
}

// maskOf is a route destination's prefix length; a default route's
// destination is nil or ::/0, by the netlink library's version.
func maskOf(dst *net.IPNet) (int, int) {
	if dst == nil {
		return 0, 128
	}
	return dst.Mask.Size()
}
