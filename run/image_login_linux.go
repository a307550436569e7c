package run

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/denproject/den/pull"
)

// Login is `den login`: the credentials are checked with the registry,
// then stored where docker keeps them. It needs no user namespace.
func Login(g *Global, registry, user, password string, insecure bool) error {
	host := pull.RegistryHost(registry)
	if user == "" || password == "" {
		return fmt.Errorf("den login %s: a user name and a password are needed: den login -u USER --password-stdin %s", host, host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := pull.CheckLogin(ctx, host, user, password, insecure); err != nil {
		return err
	}
	file, err := pull.SaveLogin(host, user, password)
	if err != nil {
		return err
	}
	if file != "" {
		fmt.Fprintf(os.Stderr, "den: warning: your password is stored unencrypted in %s; configure a credential helper (credsStore) to avoid this\n", file)
	}
	fmt.Println("Login Succeeded")
	return nil
}

// Logout is `den logout`.
func Logout(g *Global, registry string) error {
	host := pull.RegistryHost(registry)
	had, err := pull.RemoveLogin(host)
	if err != nil {
		return err
	}
	if !had {
		fmt.Printf("Not logged in to %s\n", host)
		return nil
	}
	fmt.Printf("Removing login credentials for %s\n", host)
	return nil
}
