package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run"
)

func init() {
	register(groupImages, newTag, newPush, newSave, newLogin, newLogout)
}

func newTag(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Give an image another name",
		Example: `  den tag busybox registry.example.com/team/busybox:1.36
  den tag 0123456789ab myapp:dev`,
		Args: exactArgs(2, "a source image and a target name"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Tag(g, args[0], args[1])
		},
	}
}

func newPush(g *run.Global) *cobra.Command {
	var o run.PushOptions
	cmd := &cobra.Command{
		Use:   "push [flags] NAME[:TAG]",
		Short: "Send an image to a registry",
		Long: `Send an image to a registry, with the credentials den login stored (or
docker's). Layers the registry already has are not sent again. An image
that was pulled goes out byte for byte: the same manifest digest.`,
		Example: `  den tag busybox registry.example.com/team/busybox:1.36
  den push registry.example.com/team/busybox:1.36
  den push --all-tags registry.example.com/team/busybox`,
		Args: exactArgs(1, "one image name"),
		RunE: func(_ *cobra.Command, args []string) error {
			if !o.Quiet {
				o.Progress = newPushProgress(os.Stdout).event
			}
			return run.Push(g, args[0], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllTags, "all-tags", "a", false, "push every stored tag of the repository")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print no progress")
	f.BoolVar(&o.Insecure, "insecure-registry", false, "allow plain HTTP to the registry (always allowed for localhost)")
	f.IntVar(&o.Jobs, "jobs", 4, "layers sent at once")
	return cmd
}

// pushProgress prints one line per layer as docker push does in a log.
type pushProgress struct{ w io.Writer }

func newPushProgress(w io.Writer) *pushProgress { return &pushProgress{w} }

func (p *pushProgress) event(e pull.Event) {
	switch e.Kind {
	case pull.LayerCached:
		fmt.Fprintf(p.w, "%s: Layer already exists\n", e.Layer)
	case pull.LayerStart:
		fmt.Fprintf(p.w, "%s: Pushing %s\n", e.Layer, size(e.Total))
	case pull.LayerDone:
		fmt.Fprintf(p.w, "%s: Pushed\n", e.Layer)
	}
}

func newSave(g *run.Global) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [flags] IMAGE [IMAGE...]",
		Short: "Write images to a tar archive (docker-archive, or oci-archive)",
		Example: `  den save -o busybox.tar busybox
  den save busybox alpine | ssh offline-host den load
  den save --format oci-archive -o busybox-oci.tar busybox`,
		Args: minArgs(1, "at least one image"),
		RunE: func(_ *cobra.Command, args []string) error {
			return run.Save(g, args, output, format)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().StringVar(&format, "format", "docker-archive", "docker-archive or oci-archive")
	return cmd
}

func newLogin(g *run.Global) *cobra.Command {
	var user, password string
	var stdin, insecure bool
	cmd := &cobra.Command{
		Use:   "login [flags] [SERVER]",
		Short: "Log in to a registry (Docker Hub when no server is named)",
		Long: `Log in to a registry. The credentials are checked with the registry, then
stored where docker keeps them: the credential helper that
$DOCKER_CONFIG/config.json (default ~/.docker/config.json) names, else that
file, created mode 0600. den pull and den push use them, and so does docker.`,
		Example: `  echo "$TOKEN" | den login -u ci-bot --password-stdin registry.example.com
  den login -u alice          # Docker Hub; asks for the password`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			var err error
			if password, err = loginPassword(&user, password, stdin); err != nil {
				return err
			}
			return run.Login(g, server, user, password, insecure)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "user name")
	f.StringVarP(&password, "password", "p", "", "password or token (insecure: use --password-stdin)")
	f.BoolVar(&stdin, "password-stdin", false, "read the password or token from stdin")
	f.BoolVar(&insecure, "insecure-registry", false, "allow plain HTTP to the registry (always allowed for localhost)")
	return cmd
}

// loginPassword takes the password from the flag (with docker's
// warning), stdin, or a prompt on the terminal.
func loginPassword(user *string, password string, stdin bool) (string, error) {
	switch {
	case stdin && password != "":
		return "", &usageError{fmt.Errorf("--password and --password-stdin are mutually exclusive")}
	case stdin && *user == "":
		return "", &usageError{fmt.Errorf("--password-stdin needs --username (-u)")}
	case stdin:
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case password != "":
		fmt.Fprintln(os.Stderr, "den: warning: a password on the command line is visible to other users (ps, shell history); use --password-stdin")
		return password, nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", nil
	}
	if *user == "" {
		fmt.Fprint(os.Stderr, "Username: ")
		if _, err := fmt.Fscanln(os.Stdin, user); err != nil {
			return "", fmt.Errorf("reading the user name: %w", err)
		}
	}
	fmt.Fprint(os.Stderr, "Password: ")
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}

func newLogout(g *run.Global) *cobra.Command {
	return &cobra.Command{
		Use:     "logout [SERVER]",
		Short:   "Forget the credentials for a registry (Docker Hub when no server is named)",
		Example: `  den logout registry.example.com`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			return run.Logout(g, server)
		},
	}
}
