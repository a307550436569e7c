package netns

import "fmt"

// startBuiltin is where the pure-Go stack will start; until it lands den
// says so plainly instead of running without a network.
func startBuiltin(Options) (*Network, error) {
	return nil, fmt.Errorf("no user-mode network program found and den's built-in network stack is not in this build; install one (apt-get install passt, or slirp4netns), or use --network none|host")
}
