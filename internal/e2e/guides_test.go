package e2e

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2/jwt"
)

// The seed guides' JWT bearer setups, followed with the tools each guide
// names. Their key generation (keytool's JVM starts, openssl's RSA keys)
// takes seconds, so they live here rather than in the grants package.

// TestJWTBearerServiceNowGuide follows seed guide 003 literally: a JKS
// keystore from keytool, the certificate exported and converted to PEM
// with openssl, uploaded with a chosen kid (the "verifier map"); the
// assertion carries that kid, aud = iss = client_id, sub = the user's
// email (user field = email); the request sends client_id, client_secret,
// grant_type and assertion. A wrong secret fails even with a valid
// assertion (RFC 7521 §4.1).
func TestJWTBearerServiceNowGuide(t *testing.T) {
	requireTool(t, "keytool")
	requireTool(t, "openssl")
	lk := startInstance(t, "")
	dir := t.TempDir()
	mustRun(t, dir, "keytool", "-genkey", "-alias", "snclient", "-keyalg", "RSA", "-keysize", "2048", "-validity", "365",
		"-keystore", "snclient.keystore", "-storepass", "abcd1234", "-keypass", "abcd1234", "-dname", "CN=snclient, O=Example")
	mustRun(t, dir, "keytool", "-exportcert", "-alias", "snclient", "-keystore", "snclient.keystore", "-storepass", "abcd1234", "-file", "snclient.cer")
	mustRun(t, dir, "openssl", "x509", "-inform", "der", "-in", "snclient.cer", "-out", "certificate.pem")
	// The private key, to sign as ServiceNow would: convert the keystore
	// to PKCS#12 (a no-op for modern JDKs) and extract the key.
	mustRun(t, dir, "keytool", "-importkeystore", "-srckeystore", "snclient.keystore", "-srcstorepass", "abcd1234",
		"-destkeystore", "snclient.p12", "-deststoretype", "PKCS12", "-deststorepass", "abcd1234", "-noprompt")
	mustRun(t, dir, "openssl", "pkcs12", "-in", "snclient.p12", "-nocerts", "-nodes", "-passin", "pass:abcd1234", "-out", "key.pem")
	pemCert, err := os.ReadFile(filepath.Join(dir, "certificate.pem"))
	if err != nil {
		t.Fatal(err)
	}
	s := jwtBearerSigner{key: readRSAKey(t, filepath.Join(dir, "key.pem")), certPEM: string(pemCert)}

	const ws, clientID = "default", "servicenow-app"
	scopes := []string{"billing:read", "orders:read", "orders:write"}
	lk.createService(t, ws, "api", "https://api.example", scopes...)
	c := lk.createClient(t, ws, map[string]any{"client_id": clientID, "name": "ServiceNow", "scopes": scopes,
		"grant_types": []string{jwtBearerGrant}, "token_endpoint_auth_method": "client_secret_post"})
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients/"+clientID+"/certificates",
		map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users",
		map[string]any{"id": "usr-alice", "username": "alice", "email": "Alice@Example.com"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/clients/"+clientID+"/jwt-bearer",
		map[string]any{"user_field": "email", "pre_auth": "admin_approved", "allowed_users": []string{"usr-alice"}}, http.StatusOK, nil)

	tokenURL := lk.wsURL(ws) + "/oauth2/token"
	post := func(secret string) reply {
		assertion := s.assertion(t, clientID, "alice@example.com", clientID)
		lk.leaks.AddToken(assertion) // a bearer credential until it expires
		r := lk.client.postForm(t, tokenURL, url.Values{"client_id": {clientID}, "client_secret": {secret},
			"grant_type": {jwtBearerGrant}, "assertion": {assertion}}, basic{})
		lk.leaks.AddToken(r.str("access_token"))
		return r
	}
	r := post(c.ClientSecret)
	if r.status != http.StatusOK || r.str("access_token") == "" || r.str("scope") != strings.Join(scopes, " ") {
		t.Fatalf("token response: %d %s", r.status, r.raw)
	}
	claims := verifyWithOIDC(t, lk.issuer(ws), lk.wsURL(ws)+"/oauth2/jwks", r.str("access_token"), "RS256")
	if claims.Subject != "usr-alice" || claims.ClientID != clientID {
		t.Fatalf("token sub %q client_id %q; want the user and the client", claims.Subject, claims.ClientID)
	}
	if r := post("wrong"); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
		t.Fatalf("wrong secret with a valid assertion: %d %s, want 401 invalid_client", r.status, r.raw)
	}
}

// TestJWTBearerSalesforceGuide follows seed guide 000: a certificate from
// openssl req -x509 with Digital Signature key usage, and an assertion-only
// request made by golang.org/x/oauth2/jwt with its defaults (iss = the
// client_id, aud = the token URL, exp = iat + 1h, no jti). Pre-authorization
// by profile admits alice and refuses bob.
func TestJWTBearerSalesforceGuide(t *testing.T) {
	requireTool(t, "openssl")
	lk := startInstance(t, "")
	dir := t.TempDir()
	mustRun(t, dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", "server.key", "-out", "server.crt",
		"-days", "365", "-nodes", "-subj", "/CN=salesforce-app", "-addext", "keyUsage=digitalSignature")
	crt, err := os.ReadFile(filepath.Join(dir, "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}

	const ws, clientID, profile = "default", "sf-app", "prf-integration"
	lk.createService(t, ws, "orders", "https://orders.example", "orders:read")
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/profiles", map[string]any{"id": profile, "name": "Integration"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users",
		map[string]any{"id": "usr-alice", "username": "alice", "profiles": []string{profile}}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users", map[string]any{"id": "usr-bob", "username": "bob"}, http.StatusCreated, nil)
	lk.createClient(t, ws, map[string]any{"client_id": clientID, "name": "Salesforce", "scopes": []string{"orders:read"},
		"grant_types": []string{jwtBearerGrant}})
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients/"+clientID+"/certificates",
		map[string]any{"certificate": string(crt)}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/clients/"+clientID+"/jwt-bearer",
		map[string]any{"pre_auth": "admin_approved", "allowed_profiles": []string{profile}}, http.StatusOK, nil)

	cfg := func(sub string) *jwt.Config {
		return &jwt.Config{Email: clientID, PrivateKey: keyPEM, Subject: sub, TokenURL: lk.wsURL(ws) + "/oauth2/token", Scopes: []string{"orders:read"}}
	}
	tok, err := cfg("alice").TokenSource(t.Context()).Token()
	if err != nil {
		t.Fatalf("x/oauth2/jwt: %v", err)
	}
	lk.leaks.AddToken(tok.AccessToken)
	claims := verifyWithOIDC(t, lk.issuer(ws), lk.wsURL(ws)+"/oauth2/jwks", tok.AccessToken, "RS256")
	if claims.Subject != "usr-alice" || claims.ClientID != clientID || claims.Scope != "orders:read" || tok.TokenType != "Bearer" {
		t.Fatalf("claims %+v, token type %q", claims, tok.TokenType)
	}
	if tok.RefreshToken != "" {
		t.Fatal("no refresh token unless the client enables it")
	}
	_, err = cfg("bob").TokenSource(t.Context()).Token()
	// x/oauth2/jwt reports the error body as text.
	if err == nil || !strings.Contains(err.Error(), `"error":"invalid_grant","error_description":"user is not pre-authorized for this app"`) {
		t.Fatalf("bob: got %v", err)
	}
}

func mustRun(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: skipping the guide test that needs it", name)
	}
}

// readRSAKey reads the PKCS#8 RSA key that openssl pkcs12 -nocerts wrote
// (after its "Bag Attributes" text, which pem.Decode skips).
func readRSAKey(t *testing.T, path string) *rsa.PrivateKey {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("no PKCS#8 private key in %s", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	key, ok := k.(*rsa.PrivateKey)
	if err != nil || !ok {
		t.Fatalf("%s: not an RSA key (%T): %v", path, k, err)
	}
	return key
}
