package pull

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// hubAuthKey is the key docker keeps Docker Hub's credentials under.
const hubAuthKey = "https://index.docker.io/v1/"

// RegistryHost is the registry a user names to den login: a host, an
// URL, or empty for Docker Hub; "docker.io" as docker spells it.
func RegistryHost(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", hubName, hubRegistry, "registry-1.docker.io":
		return hubName
	}
	return s
}

func authKey(host string) string {
	if host == hubName {
		return hubAuthKey
	}
	return host
}

// CheckLogin asks the registry whether the credentials are good.
func CheckLogin(ctx context.Context, host, user, password string, insecure bool) error {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	regName := host
	if host == hubName {
		regName = hubRegistry
	}
	reg, err := name.NewRegistry(regName, opts...)
	if err != nil {
		return fmt.Errorf("invalid registry %q: %v", host, err)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, remote.DefaultTransport, nil)
	if err != nil {
		return loginError(host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return loginError(host, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("den login %s: the registry refused the user name or password (HTTP %d); check them and retry", host, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("den login %s: the registry answered HTTP %d to /v2/; is it a v2 registry?", host, resp.StatusCode)
	}
	return nil
}

func loginError(host string, err error) error {
	if s := statusOf(err); s == http.StatusUnauthorized || s == http.StatusForbidden {
		return fmt.Errorf("den login %s: the registry refused the user name or password (HTTP %d); check them and retry", host, s)
	}
	e := explain(host, err).Error()
	e = strings.Replace(e, "pass --insecure-registry", "pass den login --insecure-registry", 1)
	return fmt.Errorf("den login %s", e)
}

// SaveLogin stores the credentials where docker does: the credential
// helper config.json names, else config.json itself ($DOCKER_CONFIG or
// ~/.docker, created 0600). It returns the file written, "" for a helper.
func SaveLogin(host, user, password string) (string, error) {
	cf, err := dockerconfig.Load(dockerconfig.Dir())
	if err != nil {
		return "", fmt.Errorf("reading %s: %v; fix or move the file", dockerconfig.Dir(), err)
	}
	store := cf.GetCredentialsStore(authKey(host))
	if err := store.Store(types.AuthConfig{Username: user, Password: password, ServerAddress: authKey(host)}); err != nil {
		return "", fmt.Errorf("storing the credentials for %s: %v", host, err)
	}
	if cf.CredentialsStore != "" || cf.CredentialHelpers[authKey(host)] != "" {
		return "", nil
	}
	return cf.Filename, nil
}

// RemoveLogin forgets the credentials for host; false if there were none.
func RemoveLogin(host string) (bool, error) {
	cf, err := dockerconfig.Load(dockerconfig.Dir())
	if err != nil {
		return false, fmt.Errorf("reading %s: %v; fix or move the file", dockerconfig.Dir(), err)
	}
	store := cf.GetCredentialsStore(authKey(host))
	if a, err := store.Get(authKey(host)); err == nil && a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.Auth == "" {
		return false, nil
	}
	if err := store.Erase(authKey(host)); err != nil {
		return false, fmt.Errorf("removing the credentials for %s: %v", host, err)
	}
	return true, nil
}
