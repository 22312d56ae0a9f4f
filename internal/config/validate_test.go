package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func loadErr(t *testing.T, o Options) string {
	t.Helper()
	if o.LookupEnv == nil {
		o.LookupEnv = env(nil)
	}
	o.HomeDir = noHome
	_, err := Load(o)
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not *config.Error", err)
	}
	return err.Error()
}

// TestValidationMessages checks each validation rule's message, one flag
// or file at a time.
func TestValidationMessages(t *testing.T) {
	cert, key := writeCert(t)
	otherCert, _ := writeCert(t)
	aFile := writeFile(t, "f", "x")
	shortKey := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name  string
		flags map[string]string
		yaml  string
		want  string
	}{
		{"listen not host:port", map[string]string{"listen": "8080"}, "", `listen: "8080" is not a host:port address (from flag --listen)`},
		{"listen bad port", map[string]string{"listen": "127.0.0.1:99999"}, "", `listen: port "99999" must be a number from 0 to 65535`},
		{"listen bad host", map[string]string{"listen": "exa_mple:80"}, "", `listen: host "exa_mple" is neither an IP address nor a host name`},
		{"base_url relative", map[string]string{"base-url": "/auth"}, "", "base_url: must be an absolute http:// or https:// URL"},
		{"base_url ftp", map[string]string{"base-url": "ftp://x.example"}, "", "base_url: must be an absolute http:// or https:// URL"},
		{"base_url no host", map[string]string{"base-url": "https://"}, "", "base_url: must name a host"},
		{"base_url query", map[string]string{"base-url": "https://x.example?a=b"}, "", "base_url: must not contain a query"},
		{"base_url empty query", map[string]string{"base-url": "https://x.example?"}, "", "base_url: must not contain a query"},
		{"base_url fragment", map[string]string{"base-url": "https://x.example#f"}, "", "base_url: must not contain a fragment"},
		{"base_url trailing slash", map[string]string{"base-url": "https://x.example/"}, "", "base_url: must not end with a slash"},
		{"base_url userinfo", map[string]string{"base-url": "https://u:p@x.example"}, "", "base_url: must not contain user info"},
		{"base_url unparsable", map[string]string{"base-url": "http://[::1"}, "", `base_url: "http://[::1" is not a URL`},
		{"data_dir is a file", map[string]string{"data-dir": aFile}, "", "data_dir: " + `"` + aFile + `" exists and is not a directory`},
		{"storage unknown scheme", map[string]string{"storage": "mysql://x"}, "", "storage: unknown storage scheme"},
		{"storage sqlite empty", map[string]string{"storage": "sqlite:"}, "", "storage: sqlite: needs a database file path"},
		{"storage postgres no host", map[string]string{"storage": "postgres:///db"}, "", "storage: PostgreSQL DSN must look like"},
		{"master_key_file dir", map[string]string{"master-key-file": t.TempDir()}, "", "master_key_file: "},
		{"master_keys not base64", nil, "master_keys: [\"!!!\"]", "master_keys: key 1: is not base64"},
		{"master_keys short", nil, "master_keys: [\"" + shortKey + "\"]", "master_keys: key 1: must be 32 bytes (AES-256), got 16"},
		{"master_keys and file", nil, "master_key_file: /x\nmaster_keys: [\"" + shortKey + "\"]", "master_keys: set either master_keys or master_key_file, not both"},
		{"tls cert without key", map[string]string{"tls-cert": cert}, "", "tls.key_file: required when tls.cert_file is set"},
		{"tls key without cert", map[string]string{"tls-key": key}, "", "tls.cert_file: required when tls.key_file is set"},
		{"tls unreadable cert", map[string]string{"tls-cert": "/nonexistent/c.pem", "tls-key": key}, "", `tls.cert_file: cannot read "/nonexistent/c.pem": no such file or directory`},
		{"tls unreadable key", map[string]string{"tls-cert": cert, "tls-key": "/nonexistent/k.pem"}, "", `tls.key_file: cannot read "/nonexistent/k.pem"`},
		{"tls mismatched pair", map[string]string{"tls-cert": otherCert, "tls-key": key}, "", "tls.cert_file: cannot load certificate and key"},
		{"mtls header without proxies", map[string]string{"tls-client-cert-header": "X-Client-Cert"}, "", "tls.trusted_proxies: required when tls.client_cert_header is set"},
		{"mtls proxies without header", map[string]string{"tls-trusted-proxies": "10.0.0.0/8"}, "", "tls.client_cert_header: required when tls.trusted_proxies is set"},
		{"mtls proxy not an address", nil, "tls:\n  client_cert_header: X-Client-Cert\n  trusted_proxies: [\"proxy.example\"]\n", `tls.trusted_proxies: "proxy.example" is neither an IP address nor a CIDR range`},
		{"mtls client CA not PEM", map[string]string{"tls-client-ca": aFile}, "", "tls.client_ca_file: holds no PEM certificates"},
		{"mtls base URL not https", map[string]string{"tls-mtls-base-url": "http://mtls.example", "tls-cert": cert, "tls-key": key}, "", "tls.mtls_base_url: must be an absolute https URL"},
		{"mtls base URL without certificates", map[string]string{"tls-mtls-base-url": "https://mtls.example"}, "", "tls.mtls_base_url: requires tls.cert_file or tls.client_cert_header"},
		{"log level", map[string]string{"log-level": "loud"}, "", `log.level: "loud" is not one of debug, info, warn, error`},
		{"log format", map[string]string{"log-format": "xml"}, "", `log.format: "xml" is not one of json, text`},
		{"ttl not a duration", map[string]string{"access-token-ttl": "soon"}, "", `token.access_token_ttl: "soon" is not a duration`},
		{"ttl too short", map[string]string{"access-token-ttl": "1s"}, "", "token.access_token_ttl: 1s is outside the allowed range 1m0s to 24h0m0s"},
		{"ttl zero", map[string]string{"access-token-ttl": "0"}, "", "token.access_token_ttl: 0 is outside the allowed range"},
		{"rotation period too short", nil, "keys:\n  rotation_period: 5m\n", "keys.rotation_period: 5m is outside the allowed range"},
		{"rotation check interval", nil, "keys:\n  rotation_check_interval: 2h\n", "keys.rotation_check_interval: 2h is outside the allowed range"},
		{"poll interval", nil, "cache:\n  poll_interval: -1s\n", "cache.poll_interval: -1s is outside the allowed range"},
		{"cache bound", nil, "cache:\n  max_entries: 10\n", "cache.max_entries: \"10\" must be a whole number from 100 to 10000000"},
		{"unknown alg", map[string]string{"signing-alg": "HS256"}, "", `keys.signing_alg: "HS256" is not one of RS256, ES256, PS256, EdDSA`},
		{"unknown crypto backend", map[string]string{"crypto-backend": "boringssl"}, "", `keys.crypto_backend: "boringssl" is not one of auto, openssl, go`},
		{"admin token short", nil, "admin:\n  token: short\n", "admin.token: must be 32 to 512 characters long"},
		{"admin token spaces", nil, "admin:\n  token: \"" + strings.Repeat("a b", 20) + "\"\n", "admin.token: must be printable ASCII without spaces"},
		{"rate not a number", nil, "limits:\n  failed_auth_rate: lots\n", `limits.failed_auth_rate: "lots" must be a number greater than 0`},
		{"rate NaN", nil, "limits:\n  failed_auth_rate: NaN\n", `limits.failed_auth_rate: "NaN" must be a number`},
		{"outbound not a bool", nil, "outbound:\n  allow_private_addresses: maybe\n", `outbound.allow_private_addresses: "maybe" must be true or false`},
		{"burst zero", nil, "limits:\n  failed_auth_burst: 0\n", `limits.failed_auth_burst: "0" must be a whole number from 1 to 1000000`},
		{"unknown yaml key", nil, "listen: 127.0.0.1:1\nlsiten: x\n", "unknown key lsiten (line 2)"},
		{"unknown nested yaml key", nil, "tls:\n  cert: x\n", "unknown key cert (line 2)"},
		{"yaml type error", nil, "log: [1, 2]\n", "cannot unmarshal"},
		{"yaml syntax error", nil, "listen: [\n", "config file "},
		{"unknown flag", map[string]string{"no-such-flag": "x"}, "", "flag --no-such-flag: not a configuration setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Flags: tt.flags}
			if tt.yaml != "" {
				o.ConfigFile = writeFile(t, "c.yaml", tt.yaml)
			}
			if msg := loadErr(t, o); !strings.Contains(msg, tt.want) {
				t.Fatalf("error\n%s\ndoes not contain %q", msg, tt.want)
			}
		})
	}
}

func TestMissingConfigFile(t *testing.T) {
	msg := loadErr(t, Options{ConfigFile: "/nonexistent/latchkey.yaml"})
	if !strings.Contains(msg, "config file: open /nonexistent/latchkey.yaml") {
		t.Fatalf("got %s", msg)
	}
}

// TestAllProblemsAtOnce: one load with many mistakes lists each of them.
func TestAllProblemsAtOnce(t *testing.T) {
	file := writeFile(t, "c.yaml", "bogus: 1\nlog:\n  level: loud\nkeys:\n  signing_alg: none\n")
	_, err := Load(Options{ConfigFile: file, HomeDir: noHome, LookupEnv: env(map[string]string{
		"LATCHKEY_BASE_URL": "https://x.example/?q", "LATCHKEY_STORAGE": "redis://x",
	}), Flags: map[string]string{"listen": "nope", "access-token-ttl": "forever"}})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	wants := []string{"unknown key bogus", "log.level:", "keys.signing_alg:", "base_url: must not contain a query",
		"base_url: must not end with a slash", "storage: unknown storage scheme (want sqlite:<path> or postgres://...) (from env LATCHKEY_STORAGE)",
		"listen: ", "token.access_token_ttl:"}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%s", w, err)
		}
	}
	if len(ce.Problems) != len(wants) {
		t.Errorf("got %d problems, want %d:\n%s", len(ce.Problems), len(wants), err)
	}
}

// TestSecretsNotEchoed: a rejected admin token or master key is never
// repeated in the error (it would end up in logs).
func TestSecretsNotEchoed(t *testing.T) {
	secret := "s3cret-with space-" + strings.Repeat("x", 20)
	mk := "not-base64-secret-material!!"
	msg := loadErr(t, Options{LookupEnv: env(map[string]string{"LATCHKEY_ADMIN_TOKEN": secret, "LATCHKEY_MASTER_KEYS": mk})})
	if strings.Contains(msg, secret) || strings.Contains(msg, mk) {
		t.Fatalf("error echoes a secret: %s", msg)
	}
}

func TestTLSValid(t *testing.T) {
	cert, key := writeCert(t)
	r := mustLoad(t, Options{Flags: map[string]string{"tls-cert": cert, "tls-key": key}})
	if !r.TLS.Enabled() || !strings.HasPrefix(r.BaseURL, "https://") {
		t.Fatalf("TLS not resolved: %+v", r)
	}
}

func FuzzLoadYAML(f *testing.F) {
	f.Add("listen: 127.0.0.1:1\n")
	f.Add("master_keys: [a, b]\n")
	f.Add("tls:\n  cert_file: [\n")
	f.Add("limits:\n  failed_auth_rate: 1e309\n")
	f.Fuzz(func(t *testing.T, doc string) {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		// Must never panic; errors are fine.
		_, _ = Load(Options{ConfigFile: p, LookupEnv: env(nil), HomeDir: noHome})
	})
}
