package spec

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/docker/go-connections/nat"

	"github.com/denproject/den/netns"
)

// ParseExpose reads one --expose: PORT[/tcp|udp] or a range
// (8000-8010/udp); it returns docker's "PORT/PROTO" keys.
func ParseExpose(s string) ([]string, error) {
	proto, ports := nat.SplitProtoPort(s)
	if proto != "tcp" && proto != "udp" {
		return nil, fmt.Errorf("invalid --expose %q: the protocol must be tcp or udp (use PORT[/tcp|udp] or FIRST-LAST[/tcp|udp])", s)
	}
	first, last, err := nat.ParsePortRangeToInt(ports)
	if err != nil || first <= 0 || last < first {
		return nil, fmt.Errorf("invalid --expose %q: use PORT[/tcp|udp] or FIRST-LAST[/tcp|udp] with ports 1-65535", s)
	}
	var out []string
	for p := first; p <= last; p++ {
		out = append(out, strconv.Itoa(p)+"/"+proto)
	}
	return out, nil
}

// PublishAll is -P: each of the image's exposed ports and --expose's that
// no -p publishes, on a free host port of every address.
func (n Network) PublishAll(imageExposed map[string]struct{}) []netns.Port {
	if !n.PublishAllSet {
		return n.Ports
	}
	keys := append([]string{}, n.Expose...)
	for k := range imageExposed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ports := append([]netns.Port{}, n.Ports...)
	seen := map[string]bool{}
	for _, p := range ports {
		seen[fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto)] = true
	}
	for _, k := range keys {
		proto, port := nat.SplitProtoPort(k)
		num, err := strconv.Atoi(port)
		if seen[k] || err != nil || num <= 0 || num > 65535 || proto != "tcp" && proto != "udp" {
			continue
		}
		seen[k] = true
		ports = append(ports, netns.Port{ContainerPort: num, Proto: proto})
	}
	return ports
}
