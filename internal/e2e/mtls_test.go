package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/cli/tokencmd"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	"github.com/latchkey/latchkey/internal/server"
)

// Mutual TLS client authentication and certificate-bound access tokens
// (RFC 8705) against a real server speaking TLS with a test CA, and
// behind a TLS-terminating proxy that passes the certificate in a header.

// testPKI is a throw-away CA (ECDSA P-256) that issues server and client
// certificates, with its PEM bundle in a file.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
	pool   *x509.CertPool
}

var pkiSerial atomic.Int64

func newTestPKI(t *testing.T, cn string) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir(), caKey: ecKey(t), pool: x509.NewCertPool()}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(pkiSerial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.caKey.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	p.pool.AddCert(p.ca)
	p.caFile = filepath.Join(p.dir, "ca.pem")
	writeMTLSFile(t, p.caFile, pemBlock("CERTIFICATE", der))
	return p
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func writeMTLSFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue signs tmpl (serial, key and, when unset, validity filled in)
// with the CA.
func (p *testPKI) issue(t *testing.T, tmpl x509.Certificate) tls.Certificate {
	t.Helper()
	key := ecKey(t)
	now := time.Now()
	tmpl.SerialNumber = big.NewInt(pkiSerial.Add(1))
	if tmpl.NotAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(time.Hour)
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// clientCert is a client certificate for TLS client authentication.
func (p *testPKI) clientCert(t *testing.T, subject pkix.Name, dns ...string) tls.Certificate {
	t.Helper()
	return p.issue(t, x509.Certificate{Subject: subject, DNSNames: dns, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// serverPair writes a server certificate for 127.0.0.1 and its key to
// cert.pem and key.pem in the PKI's directory and returns the leaf.
func (p *testPKI) serverPair(t *testing.T) (certFile, keyFile string, leaf *x509.Certificate) {
	t.Helper()
	c := p.issue(t, x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(p.dir, "cert.pem"), filepath.Join(p.dir, "key.pem")
	writeMTLSFile(t, certFile, pemBlock("CERTIFICATE", c.Certificate[0]))
	writeMTLSFile(t, keyFile, pemBlock("PRIVATE KEY", keyDER))
	return certFile, keyFile, c.Leaf
}

// selfSignedClient is a self-signed client certificate and the public JWK
// a self_signed_tls_client_auth client registers for it (RFC 8705 §2.2.2).
func selfSignedClient(t *testing.T, cn string) (tls.Certificate, jose.JSONWebKey) {
	t.Helper()
	key := ecKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(pkiSerial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		jose.JSONWebKey{Key: &key.PublicKey, KeyID: cn, Algorithm: "ES256", Use: "sig", Certificates: []*x509.Certificate{leaf}}
}

// x5t is the RFC 8705 §3.1 thumbprint of a certificate.
func x5t(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// mtlsEnv is a running server and the PKI whose CA it trusts.
type mtlsEnv struct {
	base  string
	admin string
	pki   *testPKI
	logs  *e2etest.SyncBuffer
	leaks *e2etest.SecretList
	srv   *e2etest.Server
}

// startMTLS starts an in-process server with storage dsn ("" = SQLite),
// more flags and environment. With tls set it speaks TLS with a
// certificate of pki and trusts pki for tls_client_auth.
func startMTLS(t *testing.T, dsn string, pki *testPKI, tlsOn bool, env map[string]string) *mtlsEnv {
	t.Helper()
	m := &mtlsEnv{admin: "e2e-admin-" + e2etest.RandomToken(32), pki: pki, logs: &e2etest.SyncBuffer{}, leaks: &e2etest.SecretList{}}
	m.leaks.Add(m.admin)
	flags := map[string]string{}
	if tlsOn {
		certFile, keyFile, _ := pki.serverPair(t)
		flags = map[string]string{"tls-cert": certFile, "tls-key": keyFile, "tls-client-ca": pki.caFile}
	}
	cfg := e2etest.LoadConfig(t, e2etest.Config{DataDir: t.TempDir(), DSN: dsn, AdminToken: m.admin, Flags: flags, Env: env})
	m.srv = e2etest.StartServer(t, cfg, time.Now, m.logs)
	m.base = m.srv.BaseURL
	t.Cleanup(func() {
		m.srv.Stop(t)
		m.leaks.CheckLog(t, "server", m.logs.String())
	})
	return m
}

// client is an HTTP client trusting the test CA and presenting cert
// (nil: no client certificate). Each has its own connections.
func (m *mtlsEnv) client(cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: m.pki.pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = conf
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func (m *mtlsEnv) send(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	r := reply{status: resp.StatusCode, header: resp.Header, raw: readAll(t, resp.Body)}
	_ = json.Unmarshal(r.raw, &r.json)
	return r
}

func (m *mtlsEnv) adminOK(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	r := m.send(t, m.client(nil), e2etest.AdminRequest(t, m.base, m.admin, method, path, body))
	e2etest.RequireAdminStatus(t, method, path, r.status, r.raw, want, out)
}

func (m *mtlsEnv) adminStatus(t *testing.T, method, path string, body any) reply {
	t.Helper()
	return m.send(t, m.client(nil), e2etest.AdminRequest(t, m.base, m.admin, method, path, body))
}

// post sends a form to a workspace endpoint over c with extra headers.
func (m *mtlsEnv) post(t *testing.T, c *http.Client, ws, path string, form url.Values, header http.Header) reply {
	t.Helper()
	req := newRequest(t, http.MethodPost, m.base+"/w/"+ws+path, []byte(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	r := m.send(t, c, req)
	m.leaks.AddToken(r.str("access_token"))
	return r
}

// setupMTLSWorkspace creates workspace ws with the service "orders".
func (m *mtlsEnv) setupWorkspace(t *testing.T, ws string) {
	t.Helper()
	m.adminOK(t, http.MethodPost, "/workspaces", map[string]any{"id": ws, "name": "mTLS " + ws}, http.StatusCreated, nil)
	m.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/services", map[string]any{"id": "orders", "name": "Orders",
		"identifier": "https://orders.example", "scopes": []map[string]string{{"name": "orders:read", "description": "Read orders"}}},
		http.StatusCreated, nil)
}

func (m *mtlsEnv) createClient(t *testing.T, ws, id string, body map[string]any) {
	t.Helper()
	b := map[string]any{"client_id": id, "name": "mTLS " + id, "grant_types": []string{"client_credentials"}, "scopes": []string{"orders:read"}}
	for k, v := range body {
		b[k] = v
	}
	var out clientInfo
	m.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients", b, http.StatusCreated, &out)
	m.leaks.Add(out.ClientSecret)
}

// jwtClaimsOf decodes a JWT's payload without verifying it (the tests
// that need verification use introspection).
func jwtClaimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func cnfX5T(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	s, _ := cnf["x5t#S256"].(string)
	return s
}

// mtlsToken gets a client_credentials token with golang.org/x/oauth2 as
// clientID authenticating with cert only (client_id in the body, RFC 8705
// §2).
func (m *mtlsEnv) mtlsToken(t *testing.T, ws, clientID string, cert *tls.Certificate) (*oauth2.Token, error) {
	t.Helper()
	cfg := &clientcredentials.Config{ClientID: clientID, TokenURL: m.base + "/w/" + ws + "/oauth2/token",
		Scopes: []string{"orders:read"}, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, m.client(cert))
	tok, err := cfg.Token(ctx)
	if err == nil {
		m.leaks.AddToken(tok.AccessToken)
	}
	return tok, err
}

func TestMTLSClientAuthentication(t *testing.T) {
	run := func(t *testing.T, dsn string) {
		pki := newTestPKI(t, "Latchkey mTLS test CA")
		m := startMTLS(t, dsn, pki, true, nil)
		if !strings.HasPrefix(m.base, "https://") {
			t.Fatalf("server base %s, want https", m.base)
		}
		const ws = "mtls"
		m.setupWorkspace(t, ws)
		dnCert := pki.clientCert(t, pkix.Name{CommonName: "dn-client", Organization: []string{"Latchkey Test"}})
		sanCert := pki.clientCert(t, pkix.Name{CommonName: "anything"}, "san.client.test")
		otherCert := pki.clientCert(t, pkix.Name{CommonName: "someone-else", Organization: []string{"Latchkey Test"}})
		rogue := newTestPKI(t, "Rogue CA").clientCert(t, pkix.Name{CommonName: "dn-client", Organization: []string{"Latchkey Test"}})
		dnSubject := pkix.Name{CommonName: "dn-client", Organization: []string{"Latchkey Test"}}
		expired := pki.issue(t, x509.Certificate{Subject: dnSubject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
		serverOnly := pki.issue(t, x509.Certificate{Subject: dnSubject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		selfCert, selfJWK := selfSignedClient(t, "self-client")
		otherSelf, _ := selfSignedClient(t, "other-self")
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{selfJWK}})

		m.createClient(t, ws, "dn", map[string]any{"token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_subject_dn": "CN=dn-client, O=Latchkey Test", "tls_client_certificate_bound_access_tokens": true})
		m.createClient(t, ws, "san", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "san.client.test"})
		m.createClient(t, ws, "self", map[string]any{"token_endpoint_auth_method": "self_signed_tls_client_auth",
			"jwks": json.RawMessage(jwks), "tls_client_certificate_bound_access_tokens": true})
		var secretClient clientInfo
		m.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients", map[string]any{"client_id": "secret", "name": "secret",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"orders:read"}, "token_endpoint_auth_method": "client_secret_basic"},
			http.StatusCreated, &secretClient)
		m.leaks.Add(secretClient.ClientSecret)

		t.Run("tls_client_auth by subject DN, certificate-bound token", func(t *testing.T) {
			tok, err := m.mtlsToken(t, ws, "dn", &dnCert)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("token_type %q, want Bearer (RFC 8705 §3 keeps the Bearer scheme)", tok.TokenType)
			}
			if got := cnfX5T(jwtClaimsOf(t, tok.AccessToken)); got != x5t(dnCert) {
				t.Fatalf("cnf.x5t#S256 = %q, want %q", got, x5t(dnCert))
			}
			// Introspection authenticates the client with its certificate
			// too and returns the confirmation (RFC 8705 §3.2).
			r := m.post(t, m.client(&dnCert), ws, "/oauth2/introspect", url.Values{"client_id": {"dn"}, "token": {tok.AccessToken}}, nil)
			if r.status != http.StatusOK || r.json["active"] != true || cnfX5T(r.json) != x5t(dnCert) {
				t.Fatalf("introspection %d: %s", r.status, r.raw)
			}
		})
		t.Run("tls_client_auth by SAN dNSName", func(t *testing.T) {
			tok, err := m.mtlsToken(t, ws, "san", &sanCert)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if got := cnfX5T(jwtClaimsOf(t, tok.AccessToken)); got != "" {
				t.Fatalf("unbound client got cnf.x5t#S256 %q", got)
			}
		})
		t.Run("self_signed_tls_client_auth, revocation with the certificate", func(t *testing.T) {
			tok, err := m.mtlsToken(t, ws, "self", &selfCert)
			if err != nil {
				t.Fatalf("token: %v", err)
			}
			if got := cnfX5T(jwtClaimsOf(t, tok.AccessToken)); got != x5t(selfCert) {
				t.Fatalf("cnf.x5t#S256 = %q, want %q", got, x5t(selfCert))
			}
			r := m.post(t, m.client(&selfCert), ws, "/oauth2/revoke", url.Values{"client_id": {"self"}, "token": {tok.AccessToken}}, nil)
			if r.status != http.StatusOK {
				t.Fatalf("revocation %d: %s", r.status, r.raw)
			}
		})
		t.Run("client without certificate on the same listener", func(t *testing.T) {
			cfg := ccConfig(m.base+"/w/"+ws+"/oauth2/token", secretClient, oauth2.AuthStyleInHeader, []string{"orders:read"}, nil)
			tok, err := cfg.Token(context.WithValue(t.Context(), oauth2.HTTPClient, m.client(nil)))
			if err != nil {
				t.Fatalf("client_secret_basic without certificate: %v", err)
			}
			m.leaks.AddToken(tok.AccessToken)
			if cnfX5T(jwtClaimsOf(t, tok.AccessToken)) != "" {
				t.Fatal("unbound token carries cnf")
			}
		})
		// RFC 8705 §2 and §6 negatives: every one is 401 invalid_client
		// (RFC 6749 §5.2).
		for _, tc := range []struct {
			name, client string
			cert         *tls.Certificate
			extra        url.Values
		}{
			{"tls_client_auth without certificate", "dn", nil, nil},
			{"tls_client_auth wrong subject DN", "dn", &otherCert, nil},
			{"tls_client_auth right DN from an untrusted CA", "dn", &rogue, nil},
			{"tls_client_auth expired certificate", "dn", &expired, nil},
			{"tls_client_auth certificate without clientAuth usage", "dn", &serverOnly, nil},
			{"tls_client_auth self-signed certificate", "dn", &selfCert, nil},
			{"tls_client_auth SAN not in certificate", "san", &dnCert, nil},
			{"self_signed_tls_client_auth other certificate", "self", &otherSelf, nil},
			{"self_signed_tls_client_auth CA certificate with other key", "self", &dnCert, nil},
			{"self_signed_tls_client_auth without certificate", "self", nil, nil},
			{"mTLS client sending a secret", "dn", &dnCert, url.Values{"client_secret": {"guess"}}},
			{"unknown client with certificate", "nobody", &dnCert, nil},
		} {
			t.Run("refused/"+tc.name, func(t *testing.T) {
				form := url.Values{"grant_type": {"client_credentials"}, "client_id": {tc.client}}
				for k, v := range tc.extra {
					form[k] = v
				}
				r := m.post(t, m.client(tc.cert), ws, "/oauth2/token", form, nil)
				if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" || r.str("error_description") == "" {
					t.Fatalf("got %d %s, want 401 invalid_client", r.status, r.raw)
				}
			})
		}
		t.Run("bound-token client without certificate", func(t *testing.T) {
			// A secret client asking for bound tokens must present a
			// certificate; it is not silently given an unbound token.
			m.adminOK(t, http.MethodPatch, "/workspaces/"+ws+"/clients/secret", map[string]any{"tls_client_certificate_bound_access_tokens": true}, http.StatusOK, nil)
			form := url.Values{"grant_type": {"client_credentials"}}
			h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("secret:"+url.QueryEscape(secretClient.ClientSecret)))}}
			r := m.post(t, m.client(nil), ws, "/oauth2/token", form, h)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
				t.Fatalf("got %d %s, want 400 invalid_request", r.status, r.raw)
			}
			r = m.post(t, m.client(&otherSelf), ws, "/oauth2/token", form, h)
			if r.status != http.StatusOK || cnfX5T(jwtClaimsOf(t, r.str("access_token"))) != x5t(otherSelf) {
				t.Fatalf("secret client with certificate: %d %s", r.status, r.raw)
			}
		})
		t.Run("PAR and device authorization with tls_client_auth", func(t *testing.T) {
			// Every endpoint that authenticates clients uses the one
			// authenticator, so mTLS works there too.
			m.createClient(t, ws, "dn-flow", map[string]any{"token_endpoint_auth_method": "tls_client_auth",
				"tls_client_auth_subject_dn": "CN=dn-client,O=Latchkey Test", "redirect_uris": []string{"https://app.example/cb"},
				"grant_types": []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}, "response_types": []string{"code"}})
			par := url.Values{"client_id": {"dn-flow"}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"},
				"scope": {"openid"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
			if r := m.post(t, m.client(&dnCert), ws, "/oauth2/par", par, nil); r.status != http.StatusCreated || r.str("request_uri") == "" {
				t.Errorf("PAR with the certificate: %d %s", r.status, r.raw)
			}
			if r := m.post(t, m.client(&otherCert), ws, "/oauth2/par", par, nil); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("PAR with another certificate: %d %s", r.status, r.raw)
			}
			dev := url.Values{"client_id": {"dn-flow"}, "scope": {"openid"}}
			if r := m.post(t, m.client(&dnCert), ws, "/oauth2/device_authorization", dev, nil); r.status != http.StatusOK || r.str("device_code") == "" {
				t.Errorf("device authorization with the certificate: %d %s", r.status, r.raw)
			}
			if r := m.post(t, m.client(nil), ws, "/oauth2/device_authorization", dev, nil); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("device authorization without certificate: %d %s", r.status, r.raw)
			}
		})
		t.Run("latchkey token with a client certificate", func(t *testing.T) {
			// RFC 8705 §2 from the CLI: the certificate and key as PEM
			// files, the server's CA trusted with --tls-ca.
			dir := t.TempDir()
			keyDER, err := x509.MarshalPKCS8PrivateKey(dnCert.PrivateKey)
			if err != nil {
				t.Fatal(err)
			}
			certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
			writeMTLSFile(t, certFile, pemBlock("CERTIFICATE", dnCert.Certificate[0]))
			writeMTLSFile(t, keyFile, pemBlock("PRIVATE KEY", keyDER))
			args := []string{"client-credentials", "--token-endpoint", m.base + "/w/" + ws + "/oauth2/token", "--client-id", "dn",
				"--auth-method", "tls_client_auth", "--scope", "orders:read", "--tls-ca", pki.caFile}
			out, err := runTokenCLI(t, append(args, "--tls-client-cert", certFile, "--tls-client-key", keyFile)...)
			if err != nil {
				t.Fatalf("latchkey token: %v", err)
			}
			at := strings.TrimSpace(out)
			m.leaks.AddToken(at)
			if got := cnfX5T(jwtClaimsOf(t, at)); got != x5t(dnCert) {
				t.Fatalf("CLI token cnf.x5t#S256 = %q, want %q", got, x5t(dnCert))
			}
			// The signing key flags work as the certificate too.
			if _, err := runTokenCLI(t, append(args, "--key", keyFile, "--cert", certFile)...); err != nil {
				t.Fatalf("latchkey token with --key/--cert: %v", err)
			}
			if _, err := runTokenCLI(t, args...); err == nil || !strings.Contains(err.Error(), "client certificate") {
				t.Fatalf("tls_client_auth without a certificate: %v", err)
			}
		})
		t.Run("discovery", func(t *testing.T) {
			r := m.send(t, m.client(nil), newRequest(t, http.MethodGet, m.base+"/w/"+ws+"/.well-known/openid-configuration", nil))
			methods, _ := json.Marshal(r.json["token_endpoint_auth_methods_supported"])
			aliases, _ := r.json["mtls_endpoint_aliases"].(map[string]any)
			if r.json["tls_client_certificate_bound_access_tokens"] != true ||
				!strings.Contains(string(methods), `"tls_client_auth"`) || !strings.Contains(string(methods), `"self_signed_tls_client_auth"`) ||
				aliases["token_endpoint"] != m.base+"/w/"+ws+"/oauth2/token" || aliases["introspection_endpoint"] != m.base+"/w/"+ws+"/oauth2/introspect" {
				t.Fatalf("discovery: %s", r.raw)
			}
		})
		t.Run("admin API round trip and registration rules", func(t *testing.T) {
			var got map[string]any
			m.adminOK(t, http.MethodGet, "/workspaces/"+ws+"/clients/dn", nil, http.StatusOK, &got)
			if got["tls_client_auth_subject_dn"] != "CN=dn-client, O=Latchkey Test" || got["tls_client_certificate_bound_access_tokens"] != true {
				t.Fatalf("client view: %v", got)
			}
			for name, body := range map[string]map[string]any{
				"no subject":               {"token_endpoint_auth_method": "tls_client_auth"},
				"two subjects":             {"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_dns": "a.test", "tls_client_auth_san_email": "a@a.test"},
				"subject elsewhere":        {"token_endpoint_auth_method": "client_secret_basic", "tls_client_auth_san_dns": "a.test"},
				"bad SAN IP":               {"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_san_ip": "not-an-ip"},
				"self-signed without keys": {"token_endpoint_auth_method": "self_signed_tls_client_auth"},
			} {
				b := map[string]any{"name": name, "grant_types": []string{"client_credentials"}}
				for k, v := range body {
					b[k] = v
				}
				if r := m.adminStatus(t, http.MethodPost, "/workspaces/"+ws+"/clients", b); r.status != http.StatusBadRequest {
					t.Errorf("%s: status %d, want 400: %s", name, r.status, r.raw)
				}
			}
		})
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "") })
	t.Run("postgres", func(t *testing.T) { run(t, postgresSchemaDSN(t)) })
}

// runTokenCLI runs "latchkey token args..." in process and returns its
// standard output.
func runTokenCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := tokencmd.NewCommandWith(tokencmd.Env{Stdout: &out, Stderr: &errOut,
		LookupEnv: func(k string) (string, bool) {
			if k == tokencmd.ConfigEnv {
				return filepath.Join(t.TempDir(), "connections.yaml"), true
			}
			return "", false
		},
		Prompt: func(string) ([]byte, error) { return nil, errors.New("no prompt in tests") }})
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// TestMTLSProxyHeader: behind a TLS-terminating proxy the certificate
// arrives in tls.client_cert_header, believed only from
// tls.trusted_proxies; from anyone else it is ignored.
func TestMTLSProxyHeader(t *testing.T) {
	pki := newTestPKI(t, "Proxy test CA")
	cert := pki.clientCert(t, pkix.Name{CommonName: "proxied"})
	// nginx's $ssl_client_escaped_cert: URL-encoded PEM, spaces as %20.
	header := http.Header{"X-Client-Cert": {strings.ReplaceAll(url.QueryEscape(string(pemBlock("CERTIFICATE", cert.Certificate[0]))), "+", "%20")}}
	const ws = "proxied"
	setup := func(t *testing.T, trusted string) *mtlsEnv {
		m := startMTLS(t, "", pki, false, map[string]string{
			"LATCHKEY_TLS_CLIENT_CERT_HEADER": "X-Client-Cert", "LATCHKEY_TLS_TRUSTED_PROXIES": trusted})
		m.setupWorkspace(t, ws)
		m.createClient(t, ws, "proxied", map[string]any{"token_endpoint_auth_method": "tls_client_auth",
			"tls_client_auth_subject_dn": "CN=proxied", "tls_client_certificate_bound_access_tokens": true})
		return m
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"proxied"}}
	t.Run("trusted proxy", func(t *testing.T) {
		m := setup(t, "127.0.0.0/8")
		r := m.post(t, m.client(nil), ws, "/oauth2/token", form, header)
		if r.status != http.StatusOK || cnfX5T(jwtClaimsOf(t, r.str("access_token"))) != x5t(cert) {
			t.Fatalf("token through trusted proxy: %d %s", r.status, r.raw)
		}
		for name, h := range map[string]http.Header{
			"no header":     nil,
			"not PEM":       {"X-Client-Cert": {"garbage"}},
			"two headers":   {"X-Client-Cert": {header.Get("X-Client-Cert"), header.Get("X-Client-Cert")}},
			"other subject": {"X-Client-Cert": {url.QueryEscape(string(pemBlock("CERTIFICATE", pki.clientCert(t, pkix.Name{CommonName: "x"}).Certificate[0])))}},
		} {
			r := m.post(t, m.client(nil), ws, "/oauth2/token", form, h)
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s, want 401 invalid_client", name, r.status, r.raw)
			}
		}
		d := m.send(t, m.client(nil), newRequest(t, http.MethodGet, m.base+"/w/"+ws+"/.well-known/openid-configuration", nil))
		if d.json["tls_client_certificate_bound_access_tokens"] != true || d.json["mtls_endpoint_aliases"] != nil {
			t.Errorf("discovery behind a proxy without tls.mtls_base_url: %s", d.raw)
		}
	})
	t.Run("untrusted peer", func(t *testing.T) {
		m := setup(t, "10.0.0.0/8")
		r := m.post(t, m.client(nil), ws, "/oauth2/token", form, header)
		if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Fatalf("header from an untrusted address was believed: %d %s", r.status, r.raw)
		}
	})
}

// TestMTLSCertificateReload: a new certificate and key written over the
// files are served by the next handshake without a restart; a broken pair
// keeps the previous one.
func TestMTLSCertificateReload(t *testing.T) {
	pki := newTestPKI(t, "Reload test CA")
	m := startMTLS(t, "", pki, true, nil)
	served := func() *x509.Certificate {
		t.Helper()
		u, _ := url.Parse(m.base)
		conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer func() { _ = conn.Close() }()
		return conn.ConnectionState().PeerCertificates[0]
	}
	first := served()

	// tls.client_ca_file: a replaced bundle applies without a restart.
	m.setupWorkspace(t, "reload")
	m.createClient(t, "reload", "dn", map[string]any{"token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=reload-client"})
	oldCA := pki.clientCert(t, pkix.Name{CommonName: "reload-client"})
	pki2 := newTestPKI(t, "Second client CA")
	newCA := pki2.clientCert(t, pkix.Name{CommonName: "reload-client"})
	status := func(cert *tls.Certificate) int {
		return m.post(t, m.client(cert), "reload", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"dn"}}, nil).status
	}
	if got, refused := status(&oldCA), status(&newCA); got != http.StatusOK || refused != http.StatusUnauthorized {
		t.Fatalf("before the CA change: %d / %d, want 200 / 401", got, refused)
	}
	ca2, err := os.ReadFile(pki2.caFile)
	if err != nil {
		t.Fatal(err)
	}
	writeMTLSFile(t, pki.caFile, ca2)
	caDeadline := time.Now().Add(3 * server.CertReloadInterval)
	for status(&newCA) != http.StatusOK {
		if time.Now().After(caDeadline) {
			t.Fatal("new client CA not applied")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := status(&oldCA); got != http.StatusUnauthorized {
		t.Fatalf("certificate of the removed CA: %d, want 401", got)
	}

	_, _, second := pki.serverPair(t) // overwrites cert.pem and key.pem
	deadline := time.Now().Add(3 * server.CertReloadInterval)
	for served().SerialNumber.Cmp(second.SerialNumber) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still serving serial %v after reload, want %v (first %v)", served().SerialNumber, second.SerialNumber, first.SerialNumber)
		}
		time.Sleep(200 * time.Millisecond)
	}
	writeMTLSFile(t, filepath.Join(pki.dir, "cert.pem"), []byte("not a certificate"))
	future := time.Now().Add(time.Minute)
	_ = os.Chtimes(filepath.Join(pki.dir, "cert.pem"), future, future)
	time.Sleep(server.CertReloadInterval + 300*time.Millisecond)
	if got := served(); got.SerialNumber.Cmp(second.SerialNumber) != 0 {
		t.Fatalf("broken pair replaced the certificate: serial %v", got.SerialNumber)
	}
	if !strings.Contains(m.logs.String(), "TLS certificate reload failed") {
		t.Error("broken pair not logged")
	}
}
