package cli

import (
	"github.com/spf13/pflag"

	"github.com/denproject/den/run/spec"
)

// addHostFlags adds run's and create's flags for --userns, --mount and
// the container's resources.
func addHostFlags(f *pflag.FlagSet, o *spec.Flags) {
	f.StringVar(&o.UserNS, "userns", "", "keep-id: your own uid and gid inside (files you create in bind mounts stay yours)")
	f.StringArrayVar(&o.Mount, "mount", nil, "mount: type=bind|volume|tmpfs,source=SRC,target=DST[,readonly][,tmpfs-size=64m][,tmpfs-mode=1777]")
	f.StringVar(&o.ShmSize, "shm-size", "", "size of /dev/shm (default 64m)")
	f.StringArrayVar(&o.Ulimits, "ulimit", nil, "a resource limit: NAME=SOFT[:HARD] (e.g. nofile=1024:2048), at most your own hard limit")
	f.StringArrayVar(&o.GroupAdd, "group-add", nil, "an additional group (name in the image's /etc/group, or gid)")
	f.StringArrayVar(&o.Devices, "device", nil, "a host device you can open: HOST[:CONTAINER[:rwm]]")
	f.StringArrayVar(&o.Sysctls, "sysctl", nil, "a namespaced sysctl: net.*=VALUE or kernel.shm*=VALUE")
	f.StringVarP(&o.Memory, "memory", "m", "", "memory limit (e.g. 512m; needs cgroup v2 delegation)")
	f.StringVar(&o.MemorySwap, "memory-swap", "", "memory plus swap limit, -1 for unlimited swap (needs --memory)")
	f.Float64Var(&o.CPUs, "cpus", 0, "number of CPUs (e.g. 1.5; needs cgroup v2 delegation)")
	f.Int64VarP(&o.CPUShares, "cpu-shares", "c", 0, "relative CPU weight (default 1024; needs cgroup v2 delegation)")
	f.Int64Var(&o.PidsLimit, "pids-limit", 0, "most processes at once, -1 for unlimited (needs cgroup v2 delegation)")
}
