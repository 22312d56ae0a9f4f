package admincmd_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeCert(t *testing.T, der bool) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cli-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	raw, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.der")
	if !der {
		raw = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw})
		path = filepath.Join(t.TempDir(), "cert.pem")
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDirectoryCommands(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "profiles", "create", "--id", "integration", "--name", "Integration")
	out := mustRun(t, srv, "users", "create", "--id", "svc", "--username", "svc-user", "--service-user")
	contains(t, out, "svc-user", "Service user:", "true")
	mustRun(t, srv, "users", "create", "--id", "alice", "--username", "alice", "--email", "alice@example.com",
		"--profile", "integration", "--attribute", "dept=ops")
	out = mustRun(t, srv, "users", "list")
	contains(t, out, "USERNAME", "alice", "svc-user", "integration")
	out = mustRun(t, srv, "users", "update", "alice", "--active=false")
	contains(t, out, "Active:", "false", "alice@example.com")

	mustRun(t, srv, "clients", "create", "--client-id", "app", "--name", "App")
	out = mustRun(t, srv, "certificates", "upload", "app", "--file", writeCert(t, false), "--kid", "k1")
	contains(t, out, "KID:", "k1", "CN=cli-app", "EC P-256")
	out = mustRun(t, srv, "certificates", "upload", "app", "--file", writeCert(t, true))
	contains(t, out, "x5t#S256:")
	out = mustRun(t, srv, "certificates", "list", "app")
	contains(t, out, "k1", "EC P-256")
	mustRun(t, srv, "certificates", "remove", "app", "k1")

	out = mustRun(t, srv, "jwt-bearer", "set", "app", "--user-field", "email", "--pre-auth", "admin_approved",
		"--allowed-profile", "integration", "--max-assertion-lifetime", "3m", "--service-user", "svc")
	contains(t, out, "email", "admin_approved", "integration", "3m0s", "svc")

	out = mustRun(t, srv, "issuers", "create", "--id", "idp", "--name", "IdP", "--issuer", "https://idp.example.com",
		"--jwks-uri", "https://idp.example.com/jwks", "--audience", "app-123", "--allowed-client", "app",
		"--claim", "cmicuser", "--claim-format", "tenant||username")
	contains(t, out, "claim cmicuser (tenant||username)", "app-123")
	out = mustRun(t, srv, "issuers", "disable", "idp")
	contains(t, out, "Enabled:", "false")
	out = mustRun(t, srv, "-o", "json", "issuers", "list")
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Items) != 1 || page.Items[0]["issuer"] != "https://idp.example.com" {
		t.Fatalf("json output %q: %v", out, err)
	}
	if _, err := run(t, srv, "issuers", "create", "--name", "bad", "--issuer", "x"); err == nil {
		t.Fatal("an invalid issuer must fail")
	}
	mustRun(t, srv, "issuers", "delete", "idp")
}
