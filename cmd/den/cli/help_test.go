package cli

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/denproject/den/run"
)

// Every command's help shows how it is used: den --help groups them, and
// each runnable one has examples (they also go into the man pages).
func TestEveryCommandHasExamplesAndAGroup(t *testing.T) {
	root := newRoot(&run.Global{})
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
