package pull

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// explain turns a registry client error into one line that names the
// image, the cause and, where there is one, the fix.
func explain(image string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%s: access denied (HTTP %d): the repository does not exist or needs credentials; log in with 'den login %s'", image, te.StatusCode, registryOf(image))
		case te.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%s: not found (HTTP 404): check the name and tag", image)
		case te.StatusCode == http.StatusTooManyRequests:
			return fmt.Errorf("%s: the registry is rate limiting (HTTP 429); wait and retry, or log in", image)
		case te.StatusCode >= 500:
			return fmt.Errorf("%s: the registry failed (HTTP %d); retry later", image, te.StatusCode)
		}
	}
	var ne net.Error
	msg := oneLine(err.Error())
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%s: the registry speaks plain HTTP; pass --insecure-registry if you trust it", image)
	case errors.As(err, &ne) || strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host"):
		return fmt.Errorf("%s: cannot reach the registry: %s", image, msg)
	}
	return fmt.Errorf("%s: %s", image, msg)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// statusOf is the HTTP status of a registry error, 0 if none.
func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

// registryOf is the registry host of a normalised image name.
func registryOf(image string) string {
	host, _, _ := strings.Cut(image, "/")
	return host
}
