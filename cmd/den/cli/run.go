package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run"
	"github.com/denproject/den/run/spec"
)

func init() {
	register(groupContainers, newRun, newRm)
	register(groupSystem, newUnshare)
}

func newRun(g *run.Global) *cobra.Command {
	f := &spec.Flags{}
	var quiet, initFlag bool
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Example: `  den run --rm alpine echo hello
  den run -it --rm --hostname x alpine sh
  id=$(den run -d -p 8080:80 --name web nginx)
  den run --rm -v "$PWD":/src -w /src golang go test ./...
  den run --rm --network none --read-only --cap-drop ALL busybox id`,
		Args: minArgs(1, "an image"),
		RunE: fromSpec(g, f, &quiet, run.Run),
	}
	addRunFlags(cmd, f)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no pull progress")
	cmd.Flags().BoolVar(&initFlag, "init", false, "accepted for docker compatibility: den always runs its own init")
	// -h is --hostname, as in docker; help stays on --help.
	cmd.Flags().BoolP("help", "", false, "help for run")
	return cmd
}

// fromSpec is run's and create's RunE: the flags become a spec, checked
// once, which do carries out, drawing pull progress unless quiet.
func fromSpec(g *run.Global, f *spec.Flags, quiet *bool, do func(*run.Global, *spec.Spec, func(pull.Event)) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		f.Image, f.Args = args[0], args[1:]
		if (f.Network == "host" || f.Network == "none") && (len(f.Publish) > 0 || f.PublishAll) {
			// docker's answer: the ports are dropped, with a warning
			fmt.Fprintf(os.Stderr, "den: warning: published ports are discarded with --network %s\n", f.Network)
			f.Publish, f.PublishAll = nil, false
		}
		f.EntrypointSet = cmd.Flags().Changed("entrypoint")
		f.StopTimeoutSet = cmd.Flags().Changed("stop-timeout")
		sp, err := spec.Build(f)
		if err != nil {
			return err
		}
		if cmd.Name() == "run" && sp.Tty && sp.Interactive && !sp.Detach && !isTerminal(os.Stdin) {
			// docker's check: a pty fed from a pipe would never see its end
			return &codedError{errors.New("the input device is not a TTY: drop -t, or run den from a terminal"), 1}
		}
		var progress func(pull.Event)
		if !*quiet {
			p := newProgress(os.Stderr)
			defer p.close()
			progress = p.event
		}
		return do(g, sp, progress)
	}
}

func addRunFlags(cmd *cobra.Command, o *spec.Flags) {
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep stdin open and connected to the command")
	f.BoolVarP(&o.Tty, "tty", "t", false, "allocate a pseudo-terminal")
	f.StringArrayVarP(&o.Attach, "attach", "a", nil, "show only these streams: stdin, stdout, stderr (repeat -a)")
	f.BoolVar(&o.Rm, "rm", false, "remove the container when it exits")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run in the background and print the container id (output: den logs)")
	f.StringVar(&o.Name, "name", "", "name the container")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy den's)")
	f.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user to run as: name|uid[:group|gid]")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "container hostname (default: the short container id)")
	f.StringVar(&o.Entrypoint, "entrypoint", "", "override the image's entrypoint")
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "bind mount SRC:DST[:ro]")
	f.StringVar(&o.Network, "network", "slirp", "network: slirp (pasta, else slirp4netns, else built-in), pasta, slirp4netns, builtin, host, none or container:NAME (join a running container's)")
	f.StringArrayVarP(&o.Publish, "publish", "p", nil, "publish ports: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|udp], ports or ranges (8000-8001:80-81); no HOSTPORT picks one")
	f.StringArrayVar(&o.AddHosts, "add-host", nil, "add NAME:IP to /etc/hosts; NAME:host-gateway also opens the host's loopback to the container")
	f.StringArrayVar(&o.DNS, "dns", nil, "a DNS server for the container's resolv.conf (replaces the default)")
	f.StringArrayVar(&o.DNSSearch, "dns-search", nil, "a DNS search domain (\".\" for none)")
	f.StringArrayVar(&o.DNSOptions, "dns-option", nil, "a resolv.conf option (e.g. ndots:2)")
	addNetworkFlags(cmd, o)
	f.StringVar(&o.Pull, "pull", "missing", "pull the image: missing, always or never")
	f.StringVar(&o.Platform, "platform", "", "os/arch[/variant] to pull")
	f.BoolVar(&o.Insecure, "insecure-registry", false, "allow plain HTTP to the registry")
	s := &o.Security
	f.StringArrayVar(&s.CapAdd, "cap-add", nil, "add a capability (e.g. NET_ADMIN, ALL)")
	f.StringArrayVar(&s.CapDrop, "cap-drop", nil, "drop a capability (e.g. NET_RAW, ALL)")
	f.BoolVar(&s.Privileged, "privileged", false, "every capability the user namespace has, no seccomp, no masked paths (see docs/security.md)")
	f.StringArrayVar(&s.SecurityOpt, "security-opt", nil, "no-new-privileges[=false], seccomp=unconfined|PROFILE.json")
	f.BoolVar(&s.ReadOnly, "read-only", false, "mount the root filesystem read-only")
	f.BoolVar(&s.ReadOnlyTmpfs, "read-only-tmpfs", true, "with --read-only, mount tmpfs on /tmp, /run and /var/tmp")
	f.StringArrayVar(&s.Tmpfs, "tmpfs", nil, "mount a tmpfs: PATH[:OPTIONS]")
	f.StringVar(&o.LogDriver, "log-driver", "json-file", "json-file (den logs) or none")
	f.StringArrayVar(&o.LogOpts, "log-opt", nil, "json-file option: max-size=10m, max-file=3")
	f.StringVar(&o.StopSignal, "stop-signal", "", "signal den stop sends first (default: the image's, else SIGTERM)")
	f.IntVar(&o.StopTimeout, "stop-timeout", 10, "seconds den stop waits before SIGKILL (-1: for ever)")
	f.StringArrayVarP(&o.Labels, "label", "l", nil, "set a label: KEY=VALUE")
	f.StringArrayVar(&o.LabelFiles, "label-file", nil, "read labels from a file of KEY=VALUE lines")
	f.StringVar(&o.CIDFile, "cidfile", "", "write the container's id to this file (which must not exist)")
	f.IntVar(&o.PreserveFDs, "preserve-fds", 0, "pass den's descriptors 3..3+N-1 on to the command, with LISTEN_FDS=N")
	f.StringVar(&o.DetachKeys, "detach-keys", "", "keys that detach den attach from this container (default ctrl-p,ctrl-q)")
	f.StringVar(&o.Restart, "restart", "no", "with -d: no, on-failure[:N], always, unless-stopped; for as long as the den that runs the container lives (there is no daemon)")
	addHostFlags(f, o) // runhost.go (issue 12)
}

func newRm(g *run.Global) *cobra.Command {
	var force, volumes bool
	cmd := &cobra.Command{
		Use:     "rm [flags] CONTAINER [CONTAINER...]",
		Short:   "Remove containers",
		Example: "  den rm web\n  den rm -f $(den ps -aq)",
		Args:    minArgs(1, "at least one container"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if volumes { // issue 12
				return run.RemoveWithVolumes(g, args, force)
			}
			return run.Remove(g, args, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running container first")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "also remove the container's anonymous volumes")
	return cmd
}

func newUnshare(g *run.Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "unshare [COMMAND [ARG...]]",
		Short:   "Run a command inside den's user namespace (to inspect or delete the store)",
		Example: "  den unshare ls -ln ~/.local/share/den/storage\n  den unshare rm -rf ~/.local/share/den",
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Unshare(g, args)
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}
