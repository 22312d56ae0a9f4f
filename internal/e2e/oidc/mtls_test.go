package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMTLSBoundTokensAtUserInfo: the code flow of a client registered
// with tls_client_certificate_bound_access_tokens, over TLS with a test
// CA. The access token carries cnf.x5t#S256 of the client's certificate
// (RFC 8705 §3.1); UserInfo answers it only on a connection presenting
// that certificate and refuses it without one or with another
// (401 invalid_token, §3); a refresh binds the new token to the
// certificate again.
func TestMTLSBoundTokensAtUserInfo(t *testing.T) {
	e := newEnv(t, envOptions{tls: newTestTLS(t, t.TempDir())})
	c := e.createClient(t, testWS, clientSpec{ID: "bound", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"tls_client_certificate_bound_access_tokens": true}})
	cert, other := anyClientCert(t, "bound-client"), anyClientCert(t, "someone-else")
	plain := e.http
	useCert := func(cert *tls.Certificate) {
		conf := e.tlsConf.Clone()
		if cert != nil {
			conf.Certificates = []tls.Certificate{*cert}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = conf
		e.http = noRedirectClient(tr)
	}
	defer func() { e.http = plain }()

	_, res := e.codeFlow(t, authParams(c, "scope", "openid offline_access", "prompt", "consent"))
	useCert(&cert)
	tk := requireTokens(t, e.exchange(t, c, res.Params.Get("code"), nil))
	if got := x5tOf(t, tk.AccessToken); got != thumbprint(cert) {
		t.Fatalf("cnf.x5t#S256 = %q, want %q", got, thumbprint(cert))
	}
	if r := e.userinfo(t, http.MethodGet, tk.AccessToken, false); r.status != http.StatusOK || r.str("sub") == "" {
		t.Fatalf("userinfo with the certificate: %d %s", r.status, r.raw)
	}
	for name, c := range map[string]*tls.Certificate{"without certificate": nil, "with another certificate": &other} {
		useCert(c)
		r := e.userinfo(t, http.MethodGet, tk.AccessToken, false)
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("userinfo %s: %d %v %s, want 401 invalid_token", name, r.status, r.header.Get("WWW-Authenticate"), r.raw)
		}
	}
	if tk.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	useCert(nil)
	if r := e.refresh(t, c, tk.RefreshToken, nil); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Fatalf("refresh without the certificate: %d %s, want 400 invalid_request", r.status, r.raw)
	}
	useCert(&cert)
	rt := requireTokens(t, e.refresh(t, c, tk.RefreshToken, nil))
	if got := x5tOf(t, rt.AccessToken); got != thumbprint(cert) {
		t.Fatalf("refreshed token cnf.x5t#S256 = %q, want %q", got, thumbprint(cert))
	}
}

// TestMTLSPublicClientRefreshBinding: a public client that asks for
// certificate-bound tokens gets its refresh token bound to the
// certificate too (RFC 8705 §4): a refresh on a connection without that
// certificate is invalid_grant, and the refresh token still works with it.
func TestMTLSPublicClientRefreshBinding(t *testing.T) {
	e := newEnv(t, envOptions{tls: newTestTLS(t, t.TempDir())})
	c := e.createClient(t, testWS, clientSpec{ID: "public-bound", Type: "public", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"tls_client_certificate_bound_access_tokens": true}})
	cert, other := anyClientCert(t, "public-app"), anyClientCert(t, "someone-else")
	plain := e.http
	defer func() { e.http = plain }()
	useCert := func(cert *tls.Certificate) {
		conf := e.tlsConf.Clone()
		if cert != nil {
			conf.Certificates = []tls.Certificate{*cert}
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = conf
		e.http = noRedirectClient(tr)
	}
	verifier := newVerifier()
	_, res := e.codeFlow(t, authParams(c, "scope", "openid offline_access", "prompt", "consent",
		"code_challenge", s256(verifier), "code_challenge_method", "S256"))
	useCert(&cert)
	tk := requireTokens(t, e.exchange(t, c, res.Params.Get("code"), url.Values{"code_verifier": {verifier}}))
	if tk.RefreshToken == "" || x5tOf(t, tk.AccessToken) != thumbprint(cert) {
		t.Fatalf("public client tokens: refresh %v, cnf %q", tk.RefreshToken != "", x5tOf(t, tk.AccessToken))
	}
	useCert(&other)
	if r := e.refresh(t, c, tk.RefreshToken, nil); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Fatalf("refresh with another certificate: %d %s, want 400 invalid_grant", r.status, r.raw)
	}
	useCert(&cert)
	rt := requireTokens(t, e.refresh(t, c, tk.RefreshToken, nil))
	if x5tOf(t, rt.AccessToken) != thumbprint(cert) {
		t.Fatal("refreshed access token not bound")
	}
}

// TestOpenIDClientNodeMTLS runs the npm openid-client package as a
// tls_client_auth client (RFC 8705 §2.1) with certificate-bound tokens
// (§3) over TLS with a test CA: discovery (mtls_endpoint_aliases), the
// code flow with PKCE, UserInfo with the certificate and without it
// (401), and a refresh; the tokens carry the certificate's x5t#S256.
func TestOpenIDClientNodeMTLS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client test skipped: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Skipf("openid-client test skipped: run `npm ci` in internal/e2e/oidc/%s first (%v)", nodeDir, err)
	}
	dir := t.TempDir()
	ca := newTestTLS(t, dir)
	e := newEnv(t, envOptions{tls: ca})
	// A separate CA issues the client certificate; the server trusts it
	// for tls_client_auth (tls.client_ca_file).
	caKey := newECKey(t)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{CommonName: "node client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCA, _ := x509.ParseCertificate(caDER)
	key := newECKey(t)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(11),
		Subject: pkix.Name{CommonName: "node-mtls", Organization: []string{"Latchkey Test"}}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		clientCA, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	clientCAFile, certFile, keyFile := filepath.Join(dir, "client-ca.pem"), filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, clientCAFile, "CERTIFICATE", caDER)
	writePEM(t, certFile, "CERTIFICATE", leafDER)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	e.cfg.TLS.ClientCAFile = clientCAFile
	e.restart(t)

	pkceOn := true
	c := e.createClient(t, testWS, clientSpec{ID: "node-mtls", AuthMethod: "tls_client_auth", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &pkceOn, Scopes: []string{}, Extra: map[string]any{"tls_client_auth_subject_dn": "CN=node-mtls,O=Latchkey Test",
			"tls_client_certificate_bound_access_tokens": true}})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "mtls.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+ca.CAFile,
		"LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID, "LK_REDIRECT_URI="+c.RedirectURI,
		"LK_USERNAME="+e.user.Username, "LK_PASSWORD="+e.user.Password, "LK_CERT_FILE="+certFile, "LK_KEY_FILE="+keyFile,
	)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("node mtls.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Sub, UserinfoSub, X5T, RefreshedX5T string
		WithoutCert                         int `json:"userinfo_without_certificate"`
	}
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	got.Sub, _ = raw["sub"].(string)
	got.UserinfoSub, _ = raw["userinfo_sub"].(string)
	got.X5T, _ = raw["x5t"].(string)
	got.RefreshedX5T, _ = raw["refreshed_x5t"].(string)
	if f, ok := raw["userinfo_without_certificate"].(float64); ok {
		got.WithoutCert = int(f)
	}
	want := thumbprint(tls.Certificate{Certificate: [][]byte{leafDER}})
	if got.Sub == "" || got.UserinfoSub != got.Sub || got.X5T != want || got.RefreshedX5T != want || got.WithoutCert != http.StatusUnauthorized {
		t.Errorf("openid-client over mTLS: %s; want x5t#S256 %s on both tokens and 401 without the certificate", out, want)
	}
}

// anyClientCert is a self-signed certificate: binding needs no chain.
func anyClientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key := newECKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func thumbprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func x5tOf(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Cnf map[string]string `json:"cnf"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Cnf["x5t#S256"]
}
