package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

func newCp(g *run.Global) *cobra.Command {
	var o run.CpOptions
	cmd := &cobra.Command{
		Use:     "cp [flags] CONTAINER:SRC DEST|-\n  den cp [flags] SRC|- CONTAINER:DEST",
		Short:   "Copy files between a container (running or stopped) and the host",
		Example: "  den cp web:/etc/nginx/nginx.conf .\n  den cp ./site/. web:/usr/share/nginx/html\n  den cp web:/var/log - | tar -t",
		Long: `Copy files between a container and the host, as docker cp does.

SRC and DEST follow docker's rules: a directory is copied into an existing
directory under its own name (SRC/. copies its contents), a file replaces a
file, and a DEST that does not exist is created. "-" is a tar stream on
stdin (extracted into the directory DEST) or stdout. Paths in the container
are resolved inside it: its symbolic links never lead out of it.

Files copied in belong to the container's root; files copied out belong to
you. -a keeps the owners recorded in the files instead.`,
		Args: exactArgs(2, "a source and a destination, one of them CONTAINER:PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run.Copy(g, args[0], args[1], o)
		},
		ValidArgsFunction: completeCp(g),
	}
	cmd.Flags().BoolVarP(&o.Archive, "archive", "a", false, "keep the files' owners (uid and gid)")
	cmd.Flags().BoolVarP(&o.FollowLink, "follow-link", "L", false, "copy what a symbolic link SRC points to")
	return cmd
}
