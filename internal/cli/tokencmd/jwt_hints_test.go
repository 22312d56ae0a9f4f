package tokencmd

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauthclient/oauthtest"
)

// pemKey writes a fresh RSA key as PKCS#8 PEM and returns its path and key.
func pemKey(t *testing.T) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, key
}

// TestJWTLifetimeOverMaximumHint: when the server refuses the assertion's
// lifetime, "token jwt" prints the server's error and a hint naming the
// --expires-in value that fits; within the maximum the token is issued.
func TestJWTLifetimeOverMaximumHint(t *testing.T) {
	file, key := pemKey(t)
	s := oauthtest.New()
	defer s.Close()
	s.MaxAssertionLifetime = 3 * time.Minute
	s.AddClient(oauthtest.Client{ID: "app", Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}})
	h := newHarness(t)
	args := []string{"jwt", "--server", s.Issuer, "--key", file, "--kid", "k1", "--issuer", "app", "--subject", "alice"}
	_, err := h.run(append(args, "--expires-in", "10")...)
	if err == nil {
		t.Fatal("assertion over the maximum lifetime accepted")
	}
	for _, want := range []string{
		`error="invalid_grant" error_description="assertion lifetime 600 s exceeds the maximum of 180 s"`,
		"\nhint: assertion lifetime too long: the server allows at most 180 s; pass --expires-in 3 (minutes) or less",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	if out := h.mustRun(append(args, "--expires-in", "3")...); strings.TrimSpace(out) == "" {
		t.Fatal("no token printed within the maximum")
	}
}

// TestConnectionsListShowsJWTClient: a JWT-flow connection without a
// client id lists the assertion issuer the server knows the client by; one
// with a client id lists that id.
func TestConnectionsListShowsJWTClient(t *testing.T) {
	h := newHarness(t)
	h.mustRun("connections", "add", "jwt-iss", "--flow", "jwt", "--server", "https://as.example", "--key", "/keys/a.pem", "--jwt-issuer", "integration-app", "--jwt-subject", "alice")
	h.mustRun("connections", "add", "jwt-client", "--flow", "jwt", "--server", "https://as.example", "--key", "/keys/a.pem", "--client-id", "snow-app", "--jwt-issuer", "other-iss", "--jwt-subject", "alice")
	h.mustRun("connections", "add", "cc", "--server", "https://as.example", "--client-id", "svc", "--client-secret", "env:S")
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(h.mustRun("connections", "list")), "\n")[1:] {
		f := strings.Fields(line)
		rows[f[0]] = f
	}
	for name, want := range map[string]string{"jwt-iss": "integration-app (assertion iss)", "jwt-client": "snow-app", "cc": "svc"} {
		if line := strings.Join(rows[name], " "); !strings.Contains(line, " https://as.example "+want) {
			t.Errorf("%s listed as %q, want client %q", name, line, want)
		}
	}
}
