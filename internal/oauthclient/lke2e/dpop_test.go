package lke2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
)

// TestDPoPCommandAgainstLatchkey: "latchkey token client-credentials
// --dpop" against a workspace that requires DPoP nonces and a client that
// requires DPoP (RFC 9449 §5.2, §8): the CLI retries with the server's
// nonce and gets a DPoP-bound token, with a generated key and with the
// key of --dpop-key.
func TestDPoPCommandAgainstLatchkey(t *testing.T) {
	lk := startLatchkey(t)
	lk.admin(t, "PATCH", "/admin/v1/workspaces/default", `{"settings":{"dpop_nonce":true}}`)
	doc := lk.admin(t, "POST", "/admin/v1/workspaces/default/clients", `{"name":"dpop","type":"confidential",
		"grant_types":["client_credentials"],"scopes":["orders:read"],"token_endpoint_auth_method":"client_secret_basic",
		"dpop_bound_access_tokens":true}`)
	id, _ := doc["client_id"].(string)
	secret, _ := doc["client_secret"].(string)
	clk := &clock{}
	c := newCLI(t, clk)
	c.setVar("DPOP_SECRET", secret)
	args := []string{"client-credentials", "--server", lk.issuer, "--client-id", id, "--client-secret", "env:DPOP_SECRET",
		"--scope", "orders:read", "-o", "json"}

	if _, err := c.token(t.Context(), args...); err == nil || !strings.Contains(err.Error(), "invalid_dpop_proof") {
		t.Fatalf("without --dpop: %v, want invalid_dpop_proof", err)
	}
	out := jsonOut(t, c.mustToken(append(args, "--dpop")...))
	if str(out, "token_type") != "DPoP" || cnfOf(t, str(out, "access_token")) == "" {
		t.Fatalf("--dpop: %v, want a DPoP-bound token", out)
	}

	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	keyFile := filepath.Join(t.TempDir(), "dpop.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	want, _ := dpop.Thumbprint(jose.JSONWebKey{Key: k.Public()})
	out = jsonOut(t, c.mustToken(append(args, "--dpop", "--dpop-key", keyFile)...))
	if got := cnfOf(t, str(out, "access_token")); got != want {
		t.Fatalf("--dpop-key: cnf.jkt %q, want the key's thumbprint %q", got, want)
	}
}

func cnfOf(t *testing.T, at string) string {
	t.Helper()
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", at)
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Cnf.JKT
}
