package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

// Every command's help shows how it is used: den --help groups them, and
// each runnable one has examples (they also go into the man pages).
func TestEveryCommandHasExamplesAndAGroup(t *testing.T) {
	root := newRoot(&run.Global{}, "")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" || sub.Parent().Name() == "completion" {
				continue
			}
			if sub.Runnable() && sub.Example == "" {
				t.Errorf("%s has no examples", sub.CommandPath())
			}
			if c == root && sub.GroupID == "" {
				t.Errorf("%s is in no group of den --help", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(root)
}

// den run builds only run: the same command, with the same flags.
func TestHotCommandIsTheSame(t *testing.T) {
	full, _, _ := newRoot(&run.Global{}, "").Find([]string{"run"})
	alone, _, err := newRoot(&run.Global{}, "run").Find([]string{"run"})
	if err != nil || alone.Name() != "run" || full.Flags().NFlag() != alone.Flags().NFlag() || full.UsageString() != alone.UsageString() {
		t.Fatalf("den run alone differs: %v", err)
	}
	for args, want := range map[string]string{"run x": "run", "--root /r --debug exec c": "exec", "--max-layer-size 9 ps": "ps", "-- run": "", "": ""} {
		if got := commandName(strings.Fields(args)); got != want {
			t.Errorf("commandName(%q) = %q, want %q", args, got, want)
		}
	}
}

// Names complete by what a command takes: "volume rm" is not "rm".
func TestCompletionFollowsTheCommandPath(t *testing.T) {
	root := newRoot(&run.Global{}, "")
	for path, completes := range map[string]bool{
		"rm": true, "image rm": true, "container export": true, "image tag": true, "exec": true,
		"volume rm": false, "volume inspect": false, "system prune": false,
	} {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil || c.CommandPath() != "den "+path {
			t.Fatalf("no command %q: %v", path, err)
		}
		if got := c.ValidArgsFunction != nil; got != completes {
			t.Errorf("den %s completes names: %v, want %v", path, got, completes)
		}
	}
}
