package cli

import (
	"github.com/spf13/cobra"

	"github.com/denproject/den/run/spec"
)

// addNetworkFlags adds run's and create's network flags beyond -p,
// --network, --add-host and the DNS ones.
func addNetworkFlags(cmd *cobra.Command, o *spec.Flags) {
	f := cmd.Flags()
	f.BoolVarP(&o.PublishAll, "publish-all", "P", false, "publish the image's exposed ports and --expose's, each on a free host port (den port shows them)")
	f.StringArrayVar(&o.Expose, "expose", nil, "expose a port or range (PORT[/tcp|udp]) for -P")
}
