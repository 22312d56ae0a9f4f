package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// nodeDPoPResult is what dpop.mjs prints.
type nodeDPoPResult struct {
	Issuer       string          `json:"issuer"`
	Sub          string          `json:"sub"`
	UserinfoSub  string          `json:"userinfo_sub"`
	ResourceSub  string          `json:"resource_sub"`
	TokenTypes   []string        `json:"token_types"`
	AccessToken  string          `json:"access_token"`
	RefreshedAT  string          `json:"refreshed_access_token"`
	RefreshToken string          `json:"refresh_token"`
	PublicJWK    json.RawMessage `json:"dpop_public_jwk"`
	NonceRounds  int             `json:"nonce_rounds"`
}

// TestOpenIDClientNodeDPoP runs the npm openid-client package through
// the whole code flow with DPoP (RFC 9449) over TLS, on SQLite and
// PostgreSQL, with server nonces required (workspace dpop_nonce): PAR
// with a proof, JARM, the code grant, UserInfo, a refresh and a
// protected resource call, each with a proof of one key. Once as the
// issue's confidential client (JAR + PAR + JARM + DPoP +
// private_key_jwt), once as a public client. Go then checks that the
// access tokens carry cnf.jkt equal to the key's RFC 7638 thumbprint,
// that openid-client had to retry after use_dpop_nonce, and that the
// public client's refresh token is bound to the key (RFC 9449 §5, S12).
func TestOpenIDClientNodeDPoP(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client test skipped: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Skipf("openid-client test skipped: run `npm ci` in internal/e2e/oidc/%s first (%v)", nodeDir, err)
	}
	t.Run("sqlite", func(t *testing.T) {
		ca := newTestTLS(t, t.TempDir())
		testOpenIDClientNodeDPoP(t, node, ca, newEnv(t, envOptions{tls: ca}))
	})
	t.Run("postgres", func(t *testing.T) {
		ca := newTestTLS(t, t.TempDir())
		testOpenIDClientNodeDPoP(t, node, ca, newEnv(t, envOptions{tls: ca, dsn: postgresSchemaDSN(t)}))
	})
}

func testOpenIDClientNodeDPoP(t *testing.T, node string, ca *testTLS, e *env) {
	e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS, map[string]any{"settings": map[string]any{"dpop_nonce": true}}, http.StatusOK, nil)
	key := newRPKey(t, jose.ES256, "node-dpop-es")
	pkceOn, dpopOn := true, true
	conf := e.createClient(t, testWS, clientSpec{ID: "node-dpop-fapi", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &pkceOn, Extra: map[string]any{
			"jwks": jwks(key.jwk("sig")), "request_object_signing_alg": "ES256",
			"require_pushed_authorization_requests": true, "dpop_bound_access_tokens": dpopOn,
		}})
	pub := e.createClient(t, testWS, clientSpec{ID: "node-dpop-public", Type: "public", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"require_pushed_authorization_requests": true}})
	priv, err := json.Marshal(jose.JSONWebKey{Key: key.priv.(*ecdsa.PrivateKey), KeyID: key.kid})
	if err != nil {
		t.Fatal(err)
	}

	confResult := runNodeDPoP(t, node, ca, e, conf, "private_key_jwt", string(priv))
	checkNodeDPoPResult(t, e, confResult)
	pubResult := runNodeDPoP(t, node, ca, e, pub, "none", "")
	checkNodeDPoPResult(t, e, pubResult)

	// S12: the public client's refresh token is bound to the key even
	// though the client does not require DPoP (dpop_bound_access_tokens
	// off). A nonce-free workspace lets the test's own proofs through, so
	// the answers below are about the binding alone.
	e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS, map[string]any{"settings": map[string]any{"dpop_nonce": false}}, http.StatusOK, nil)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pubResult.RefreshToken}}
	other := newProofSigner(t)
	requireOAuthError(t, e.postDPoP(t, pub, refresh, proofFor(t, other, "POST", e.issuer+"/oauth2/token", "")), http.StatusBadRequest, "invalid_grant")
	requireOAuthError(t, e.postDPoP(t, pub, refresh, ""), http.StatusBadRequest, "invalid_grant")
}

func runNodeDPoP(t *testing.T, node string, ca *testTLS, e *env, c clientCreds, auth, privateJWK string) nodeDPoPResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "dpop.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+ca.CAFile,
		"LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID, "LK_CLIENT_AUTH="+auth, "LK_REDIRECT_URI="+c.RedirectURI,
		"LK_USERNAME="+e.user.Username, "LK_PASSWORD="+e.user.Password,
	)
	if privateJWK != "" {
		cmd.Env = append(cmd.Env, "LK_PRIVATE_JWK="+privateJWK)
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("node dpop.mjs (%s): %v\nstdout: %s\nstderr: %s", auth, err, out, stderr)
	}
	var got nodeDPoPResult
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	e.secrets.AddToken(got.AccessToken)
	e.secrets.AddToken(got.RefreshedAT)
	e.secrets.Add(got.RefreshToken)
	return got
}

// checkNodeDPoPResult: one subject everywhere, token_type DPoP, both
// access tokens bound to the node key's thumbprint, and at least one
// use_dpop_nonce round (the workspace requires nonces, so the first
// proof openid-client sends, without one, must have been refused).
func checkNodeDPoPResult(t *testing.T, e *env, got nodeDPoPResult) {
	t.Helper()
	if got.Issuer != e.issuer || got.Sub == "" || got.UserinfoSub != got.Sub || got.ResourceSub != got.Sub {
		t.Errorf("openid-client result: issuer %q sub %q userinfo %q resource %q, want issuer %s and one sub",
			got.Issuer, got.Sub, got.UserinfoSub, got.ResourceSub, e.issuer)
	}
	if len(got.TokenTypes) != 2 || got.TokenTypes[0] != "DPoP" || got.TokenTypes[1] != "DPoP" {
		t.Errorf("token_type of the code and refresh responses %q, want DPoP twice", got.TokenTypes)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(got.PublicJWK); err != nil {
		t.Fatalf("node DPoP key: %v", err)
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	want := base64.RawURLEncoding.EncodeToString(tp)
	if jkt := atJKT(t, got.AccessToken); jkt != want {
		t.Errorf("access token cnf.jkt %q, want the node key's thumbprint %q", jkt, want)
	}
	if jkt := atJKT(t, got.RefreshedAT); jkt != want {
		t.Errorf("refreshed access token cnf.jkt %q, want %q", jkt, want)
	}
	if got.NonceRounds < 1 {
		t.Errorf("openid-client saw %d use_dpop_nonce answers, want at least one (dpop_nonce is on)", got.NonceRounds)
	}
}
