package oidc

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestOpenIDClientNodePARJARJARM runs the npm openid-client package over
// TLS against a client that requires pushed and signed requests: it
// signs a request object (JAR), pushes it (PAR) with private_key_jwt,
// receives a JWT-secured response (JARM), verifies it, and redeems the
// code with private_key_jwt again.
func TestOpenIDClientNodePARJARJARM(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client test skipped: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Skipf("openid-client test skipped: run `npm ci` in internal/e2e/oidc/%s first (%v)", nodeDir, err)
	}
	ca := newTestTLS(t, t.TempDir())
	e := newEnv(t, envOptions{tls: ca})
	key := newRPKey(t, jose.ES256, "node-es")
	pkceOn := true
	c := e.createClient(t, testWS, clientSpec{ID: "node-fapi", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &pkceOn, Extra: map[string]any{
			"jwks": jwks(key.jwk("sig")), "request_object_signing_alg": "ES256",
			"require_pushed_authorization_requests": true,
		}})
	priv, err := json.Marshal(jose.JSONWebKey{Key: key.priv.(*ecdsa.PrivateKey), KeyID: key.kid})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "par_jar.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+ca.CAFile,
		"LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID, "LK_PRIVATE_JWK="+string(priv), "LK_REDIRECT_URI="+c.RedirectURI,
		"LK_USERNAME="+e.user.Username, "LK_PASSWORD="+e.user.Password,
	)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("node par_jar.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Issuer string `json:"issuer"`
		Sub    string `json:"sub"`
		JARM   bool   `json:"jarm"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if got.Issuer != e.issuer || got.Sub == "" || !got.JARM {
		t.Errorf("openid-client result %+v, want issuer %s, a sub and a JARM response", got, e.issuer)
	}
}
