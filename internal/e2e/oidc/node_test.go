package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeDir holds the openid-client script, package.json and
// package-lock.json; CI runs `npm ci` there (.ci/run).
const nodeDir = "testdata/node"

// TestOpenIDClientNode runs the npm openid-client package against the
// server over TLS: discovery, the code flow with PKCE (the script drives
// the sign-in and consent pages with fetch and a cookie jar), UserInfo and
// a refresh that rotates the refresh token. The server
// certificate comes from a test CA that node trusts through
// NODE_EXTRA_CA_CERTS.
func TestOpenIDClientNode(t *testing.T) {
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
	pkceOn := true
	c := e.createClient(t, testWS, clientSpec{ID: "node-app", RedirectURIs: []string{rpRedirect}, RequirePKCE: &pkceOn})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "flow.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+ca.CAFile,
		"LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID, "LK_CLIENT_SECRET="+c.Secret, "LK_REDIRECT_URI="+c.RedirectURI,
		"LK_USERNAME="+e.user.Username, "LK_PASSWORD="+e.user.Password,
	)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("node flow.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Issuer      string `json:"issuer"`
		Sub         string `json:"sub"`
		UserinfoSub string `json:"userinfo_sub"`
		Rotated     bool   `json:"rotated"`
		OldRefused  bool   `json:"old_refresh_token_refused"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	if got.Issuer != e.issuer || got.Sub == "" || got.UserinfoSub != got.Sub || !got.Rotated || !got.OldRefused {
		t.Errorf("openid-client result %+v, want issuer %s, one sub, a rotated refresh token and the old one refused", got, e.issuer)
	}
}
