package oauthclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"testing"

	"github.com/latchkey/latchkey/internal/oauthclient/oauthtest"
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFake(t *testing.T) *oauthtest.Server {
	t.Helper()
	s := oauthtest.New()
	t.Cleanup(s.Close)
	return s
}

// headlessBrowser drives the sign-in like a person would; errors fail the test.
func headlessBrowser(t *testing.T, user, password string) func(context.Context, string) error {
	return func(ctx context.Context, authURL string) error {
		if err := oauthtest.Browser(user, password)(ctx, authURL); err != nil && password == "wonderland" {
			t.Errorf("browser: %v", err)
		}
		return nil
	}
}

func parseQuery(s string) (url.Values, error) { return url.ParseQuery(s) }
