package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestOpenIDClientTokenExchange runs RFC 8693 token exchange through the
// npm openid-client package's generic grant over TLS: the ID token of a
// real code flow (signed in through the pages) is exchanged by its client
// for an access token narrowed to api:read, which introspects active for
// the same user; discovery lists the grant; a request without
// subject_token_type is refused with invalid_request.
func TestOpenIDClientTokenExchange(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client test skipped: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Skipf("openid-client test skipped: run `npm ci` in internal/e2e/oidc/%s first (%v)", nodeDir, err)
	}
	const grant = "urn:ietf:params:oauth:grant-type:token-exchange"
	ca := newTestTLS(t, t.TempDir())
	e := newEnv(t, envOptions{tls: ca})
	c := e.createClient(t, testWS, clientSpec{ID: "exchanger", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"grant_types": []string{"authorization_code", "refresh_token", grant}}})
	e.adminDo(t, http.MethodPut, "/workspaces/"+testWS+"/clients/"+c.ID+"/token-exchange", map[string]any{
		"subject_token_types": []string{"urn:ietf:params:oauth:token-type:id_token"}, "may_impersonate": true,
	}, http.StatusOK, nil)
	tk, it, _ := e.fullFlow(t, c, "scope", "openid api:read")

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "tokenexchange.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca.CAFile,
		"LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID, "LK_CLIENT_SECRET="+c.Secret, "LK_ID_TOKEN="+tk.IDToken)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("node tokenexchange.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Advertised       bool   `json:"advertised"`
		AccessToken      string `json:"access_token"`
		IssuedTokenType  string `json:"issued_token_type"`
		TokenType        string `json:"token_type"`
		Scope            string `json:"scope"`
		MissingTypeError string `json:"missing_type_error"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	e.secrets.AddToken(got.AccessToken)
	if !got.Advertised || got.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" ||
		got.TokenType != "bearer" && got.TokenType != "Bearer" || got.Scope != "api:read" || got.MissingTypeError != "invalid_request" {
		t.Fatalf("openid-client token exchange: %+v", got)
	}
	if !e.introspect(t, c, got.AccessToken) {
		t.Fatal("the exchanged access token introspects inactive")
	}
	r := e.postForm(t, "/oauth2/introspect", c, map[string][]string{"token": {got.AccessToken}})
	if r.str("sub") != it.Subject || r.str("client_id") != c.ID {
		t.Fatalf("introspection of the exchanged token: %s, want sub %s", r.raw, it.Subject)
	}
}
