package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

// Shell completion of container and image names (den completion bash|zsh|
// fish). Each lookup asks the store, as any den command does.

type completer = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// containerNames are the containers' names (ids for those without one),
// running ones only or all.
func containerNames(g *run.Global, running bool) []string {
	rows, err := run.Ps(g, run.PsOptions{All: !running})
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range rows {
		if r.Name != "" {
			out = append(out, r.Name)
		} else {
			out = append(out, r.ID[:12])
		}
	}
	return out
}

func imageNames(g *run.Global) []string {
	rows, err := run.Images(g)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range rows {
		if r.Repository == "<none>" {
			out = append(out, r.ID[:12])
			continue
		}
		out = append(out, strings.TrimPrefix(r.Repository, "docker.io/library/")+":"+r.Tag)
	}
	return out
}

func prefixed(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeContainers completes every argument with a container: running
// ones only (stop, kill, exec, port, top) or all (rm, start, logs).
func completeContainers(g *run.Global, running bool) completer {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return prefixed(containerNames(g, running), prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFirstContainer completes the first argument only (exec, logs,
// port, top: what follows is the command's own).
func completeFirstContainer(g *run.Global, running bool) completer {
	all := completeContainers(g, running)
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return all(cmd, args, prefix)
	}
}

// completeImages completes images (rmi, image inspect; run and create's
// first argument through completeFirstImage).
func completeImages(g *run.Global) completer {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return prefixed(imageNames(g), prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeFirstImage completes the image of run and create; the command
// after it is the container's.
func completeFirstImage(g *run.Global) completer {
	imgs := completeImages(g)
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return imgs(cmd, args, prefix)
	}
}

// completeContainersOrImages is inspect's.
func completeContainersOrImages(g *run.Global) completer {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		names := append(containerNames(g, false), imageNames(g)...)
		return prefixed(names, prefix), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeCp offers CONTAINER: beside host paths: once a container is
// typed, its paths are not completed (they live in its root).
func completeCp(g *run.Global) completer {
	return func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 1 || strings.Contains(prefix, ":") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range prefixed(containerNames(g, false), prefix) {
			out = append(out, n+":")
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveDefault
	}
}
