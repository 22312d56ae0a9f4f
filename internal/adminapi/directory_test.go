package adminapi_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	certKeysOnce sync.Once
	rsa2048      *rsa.PrivateKey
	rsa1024      *rsa.PrivateKey
	ecP256       *ecdsa.PrivateKey
	ecP224       *ecdsa.PrivateKey
)

func certKeys() {
	certKeysOnce.Do(func() {
		rsa2048, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsa1024, _ = rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // the weak key under test
		ecP256, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ecP224, _ = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	})
}

func makeCert(t *testing.T, key crypto.Signer, usage x509.KeyUsage, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, KeyUsage: usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// TestCertificateUploadRules checks the certificate upload rules (README "Keys and certificates"): each refusal is a 400
// whose message names what is wrong; PEM, CRT-as-DER and DER uploads work.
func TestCertificateUploadRules(t *testing.T) {
	certKeys()
	a := newAPI(t)
	r := a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "app", "name": "App"}), 201)
	_ = r
	certs := ws + "/clients/app/certificates"
	year := time.Now().Add(365 * 24 * time.Hour)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsa2048)
	bad := []struct {
		name, cert, want string
	}{
		{"RSA-1024", pemOf("CERTIFICATE", makeCert(t, rsa1024, 0, year)), "RSA key is 1024 bits; at least 2048 bits are required"},
		{"EC P-224", pemOf("CERTIFICATE", makeCert(t, ecP224, 0, year)), "only P-256 and P-384 are supported"},
		{"no Digital Signature usage", pemOf("CERTIFICATE", makeCert(t, rsa2048, x509.KeyUsageCertSign, year)), "certificate key usage does not include Digital Signature"},
		{"expired", pemOf("CERTIFICATE", makeCert(t, rsa2048, 0, time.Now().Add(-time.Hour))), "certificate expired on"},
		{"garbage", "this is not a certificate", "certificate cannot be parsed as X.509 DER"},
		{"garbage PEM", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate cannot be parsed"},
		{"private key PEM", pemOf("PRIVATE KEY", pkcs8), "this is a private key, not a certificate"},
		{"private key DER", base64.StdEncoding.EncodeToString(pkcs8), "this is a private key, not a certificate"},
		{"empty", "", "certificate is empty"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := a.want(a.do("POST", certs, map[string]any{"certificate": tc.cert}), 400)
			if !strings.Contains(string(r.raw), tc.want) {
				t.Fatalf("message %s does not contain %q", r.raw, tc.want)
			}
		})
	}
	// Good uploads: PEM with a chosen kid; DER (a .crt/.cer) with the
	// thumbprint as kid; an EC certificate expiring soon carries a warning.
	der := makeCert(t, rsa2048, x509.KeyUsageDigitalSignature, year)
	r = a.want(a.do("POST", certs, map[string]any{"certificate": pemOf("CERTIFICATE", der), "kid": "sn-kid"}), 201)
	if r.body["kid"] != "sn-kid" || r.body["key_type"] != "RSA 2048" || r.body["warning"] != nil || r.body["subject"] != "CN=client" {
		t.Fatalf("upload: %s", r.raw)
	}
	a.want(a.do("POST", certs, map[string]any{"certificate": pemOf("CERTIFICATE", der), "kid": "sn-kid"}), 409)
	r = a.want(a.do("POST", certs, map[string]any{"certificate": base64.StdEncoding.EncodeToString(makeCert(t, ecP256, 0, time.Now().Add(10*24*time.Hour)))}), 201)
	thumb, _ := r.body["kid"].(string)
	if thumb == "" || r.body["x5t#S256"] != thumb || !strings.HasPrefix(r.body["warning"].(string), "certificate expires in") {
		t.Fatalf("DER upload: %s", r.raw)
	}
	a.want(a.do("POST", certs, map[string]any{"certificate": pemOf("CERTIFICATE", der), "kid": "bad kid with spaces"}), 400)
	r = a.want(a.do("GET", certs, nil), 200)
	if items := r.body["items"].([]any); len(items) != 2 {
		t.Fatalf("list: %s", r.raw)
	}
	a.want(a.do("DELETE", certs+"/sn-kid", nil), 204)
	a.want(a.do("DELETE", certs+"/sn-kid", nil), 404)
	a.want(a.do("POST", ws+"/clients/nope/certificates", map[string]any{"certificate": pemOf("CERTIFICATE", der)}), 404)
}

func TestUserAndProfileRoutes(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", ws+"/profiles", map[string]any{"id": "integration", "name": "Integration"}), 201)
	a.want(a.do("POST", ws+"/profiles", map[string]any{"name": "Integration"}), 409)
	r := a.want(a.do("POST", ws+"/users", map[string]any{
		"username": "alice", "email": "Alice@Example.com", "profiles": []string{"integration"},
		"attributes": map[string]string{"dept": "ops"},
	}), 201)
	id := r.body["id"].(string)
	if !strings.HasPrefix(id, "usr_") || r.body["active"] != true {
		t.Fatalf("create: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/users", map[string]any{"username": "alice2", "email": "alice@example.COM"}), 409)
	r = a.want(a.do("POST", ws+"/users", map[string]any{"username": "has space", "email": "nope", "profiles": []string{"missing"}}), 400)
	for _, want := range []string{"username", "email", `profile \"missing\" does not exist`} {
		if !strings.Contains(string(r.raw), want) {
			t.Fatalf("validation %s lacks %q", r.raw, want)
		}
	}
	r = a.want(a.do("PATCH", ws+"/users/"+id, map[string]any{"active": false, "service_user": true}), 200)
	if r.body["active"] != false || r.body["service_user"] != true || r.body["username"] != "alice" {
		t.Fatalf("patch: %s", r.raw)
	}
	r = a.want(a.do("GET", ws+"/users?q=ALICE@example", nil), 200) // a prefix of the email, any case
	if len(r.body["items"].([]any)) != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	a.want(a.do("GET", "/admin/v1/workspaces/nowhere/users", nil), 404)
	a.want(a.do("DELETE", ws+"/users/"+id, nil), 204)
	a.want(a.do("GET", ws+"/users/"+id, nil), 404)
	a.want(a.do("DELETE", ws+"/profiles/integration", nil), 204)
}

func TestJWTBearerAndTrustedIssuerRoutes(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "cmic", "name": "CMiC"}), 201)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "svc", "username": "svc-user", "service_user": true}), 201)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "human", "username": "human"}), 201)
	r := a.want(a.do("GET", ws+"/clients/cmic/jwt-bearer", nil), 200)
	if r.body["user_field"] != "username" || r.body["pre_auth"] != "admin_approved" || r.body["max_assertion_lifetime"] != 3600.0 {
		t.Fatalf("defaults: %s", r.raw)
	}
	r = a.want(a.do("PUT", ws+"/clients/cmic/jwt-bearer", map[string]any{
		"user_field": "phone", "pre_auth": "some", "allowed_profiles": []string{"x"}, "service_user_id": "human",
	}), 400)
	for _, want := range []string{"user_field", "pre_auth", `profile \"x\" does not exist`, "is not a service user"} {
		if !strings.Contains(string(r.raw), want) {
			t.Fatalf("validation %s lacks %q", r.raw, want)
		}
	}
	r = a.want(a.do("PUT", ws+"/clients/cmic/jwt-bearer", map[string]any{
		"user_field": "email", "max_assertion_lifetime": 180, "service_user_id": "svc",
	}), 200)
	if r.body["user_field"] != "email" || r.body["max_assertion_lifetime"] != 180.0 || r.body["service_user_id"] != "svc" {
		t.Fatalf("set: %s", r.raw)
	}
	issuers := ws + "/trusted-issuers"
	r = a.want(a.do("POST", issuers, map[string]any{"name": "IdP", "issuer": "https://idp.example.com"}), 400)
	if !strings.Contains(string(r.raw), "jwks_uri") || !strings.Contains(string(r.raw), "claim") {
		t.Fatalf("validation: %s", r.raw)
	}
	a.want(a.do("POST", issuers, map[string]any{"name": "IdP", "issuer": "https://idp.example.com",
		"jwks_uri": "http://127.0.0.1/jwks", "claim": "cmicuser"}), 400) // SSRF: not a public https URL
	r = a.want(a.do("POST", issuers, map[string]any{
		"id": "idp", "name": "IdP", "issuer": "https://idp.example.com", "jwks_uri": "https://idp.example.com/jwks",
		"audience": "app-123", "allowed_clients": []string{"cmic"}, "claim": "cmicuser", "claim_format": "tenant||username",
	}), 201)
	if r.body["enabled"] != true || r.body["claim_format"] != "tenant||username" {
		t.Fatalf("create issuer: %s", r.raw)
	}
	a.want(a.do("POST", issuers, map[string]any{"name": "dup", "issuer": "https://idp.example.com",
		"jwks_uri": "https://idp.example.com/jwks", "service_user_id": "svc"}), 409)
	r = a.want(a.do("PATCH", issuers+"/idp", map[string]any{"enabled": false}), 200)
	if r.body["enabled"] != false {
		t.Fatalf("patch: %s", r.raw)
	}
	a.want(a.do("PATCH", issuers+"/idp", map[string]any{"claim_format": "weird"}), 400)
	a.want(a.do("GET", issuers, nil), 200)
	a.want(a.do("DELETE", issuers+"/idp", nil), 204)
	a.want(a.do("GET", issuers+"/idp", nil), 404)
}
