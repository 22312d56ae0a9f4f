package keystore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed; skipping the interoperability check", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKeytoolJKS reads a JKS made by keytool, as the ServiceNow guide does.
func TestKeytoolJKS(t *testing.T) {
	kt := tool(t, "keytool")
	p := filepath.Join(t.TempDir(), "snclient.jks")
	run(t, kt, "-genkeypair", "-alias", "snclient", "-keyalg", "RSA", "-keysize", "2048", "-storetype", "JKS",
		"-keystore", p, "-storepass", "storepw1", "-keypass", "keypw123", "-dname", "CN=snclient,O=Test", "-validity", "365")
	c, err := Load(p, Options{Alias: "snclient", StorePassword: []byte("storepw1"), KeyPassword: []byte("keypw123")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatJKS || c.Signer == nil || c.Certificate == nil || c.Certificate.Subject.CommonName != "snclient" {
		t.Fatalf("%+v", c)
	}
	if _, err := Load(p, Options{StorePassword: []byte("wrong!!")}); err == nil {
		t.Error("wrong store password accepted")
	}
	if _, err := Load(p, Options{StorePassword: []byte("storepw1"), KeyPassword: []byte("nope123")}); err == nil {
		t.Error("wrong key password accepted")
	}
	if _, err := Load(p, Options{Alias: "other", StorePassword: []byte("storepw1")}); err == nil || !strings.Contains(err.Error(), "snclient") {
		t.Errorf("unknown alias: %v", err)
	}
}

// TestOpenSSLPKCS12 reads a PKCS#12 made by openssl pkcs12 -export, and
// the PEM key and certificate openssl req wrote (PKCS#8), and PKCS#1/SEC1.
func TestOpenSSLPKCS12(t *testing.T) {
	ossl := tool(t, "openssl")
	dir := t.TempDir()
	key, crt, p12 := filepath.Join(dir, "k.pem"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "b.p12")
	run(t, ossl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "30", "-subj", "/CN=sf-app",
		"-addext", "keyUsage=digitalSignature")
	run(t, ossl, "pkcs12", "-export", "-inkey", key, "-in", crt, "-out", p12, "-passout", "pass:p12pass")
	c, err := Load(p12, Options{StorePassword: []byte("p12pass")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Format != FormatPKCS12 || c.Signer == nil || c.Certificate.Subject.CommonName != "sf-app" {
		t.Fatalf("%+v", c)
	}
	if _, err := Load(p12, Options{StorePassword: []byte("bad")}); err != ErrWrongPassword {
		t.Errorf("wrong password: %v", err)
	}
	k, err := Load(key, Options{})
	if err != nil || k.Signer == nil {
		t.Fatalf("PKCS#8 PEM: %v", err)
	}
	rsa1 := filepath.Join(dir, "rsa1.pem")
	run(t, ossl, "rsa", "-in", key, "-out", rsa1, "-traditional")
	if k, err := Load(rsa1, Options{}); err != nil || k.Signer == nil {
		t.Fatalf("PKCS#1 PEM: %v", err)
	}
	ec := filepath.Join(dir, "ec.pem")
	run(t, ossl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", ec)
	if k, err := Load(ec, Options{}); err != nil || k.Signer == nil {
		t.Fatalf("SEC1 EC PEM: %v", err)
	}
}

// TestKeysNewRoundTrip writes everything "keys new" writes and reads it back
// here, with keytool -list and with openssl.
func TestKeysNewRoundTrip(t *testing.T) {
	for _, typ := range []string{"rsa", "ec"} {
		t.Run(typ, func(t *testing.T) {
			subj, err := ParseSubject("CN=lk-test,O=Example\\, Inc,C=US")
			if err != nil {
				t.Fatal(err)
			}
			c, err := Generate(GenerateOptions{Type: typ, Subject: subj, Days: 90})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			files, err := c.WriteAll(WriteOptions{Dir: dir, Name: "app", Alias: "signer", StorePass: []byte("storepass"), KeyPass: []byte("keypass1"), Now: time.Now()})
			if err != nil || len(files) != 5 {
				t.Fatalf("%v %v", files, err)
			}
			checkModes(t, dir)
			want := X5TS256(c.Certificate)
			for _, f := range files {
				got, err := Load(f, Options{Alias: "signer", StorePassword: []byte("storepass"), KeyPassword: []byte("keypass1")})
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if got.Certificate != nil && X5TS256(got.Certificate) != want {
					t.Errorf("%s: other certificate", f)
				}
			}
			if _, err := c.WriteAll(WriteOptions{Dir: dir, Name: "app", Alias: "signer", StorePass: []byte("storepass")}); err == nil {
				t.Error("existing files overwritten without Overwrite")
			}
			interop(t, dir)
		})
	}
}

func checkModes(t *testing.T, dir string) {
	for ext, mode := range map[string]os.FileMode{".key": 0o600, ".p12": 0o600, ".jks": 0o600, ".pem": 0o644, ".crt": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, "app"+ext))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", ext, fi.Mode().Perm(), mode, err)
		}
	}
}

func interop(t *testing.T, dir string) {
	if kt, err := exec.LookPath("keytool"); err == nil {
		out := run(t, kt, "-list", "-keystore", filepath.Join(dir, "app.jks"), "-storepass", "storepass", "-storetype", "JKS")
		if !strings.Contains(out, "signer") || !strings.Contains(out, "PrivateKeyEntry") {
			t.Errorf("keytool -list: %s", out)
		}
		out = run(t, kt, "-list", "-keystore", filepath.Join(dir, "app.p12"), "-storepass", "storepass", "-storetype", "PKCS12")
		if !strings.Contains(out, "PrivateKeyEntry") {
			t.Errorf("keytool -list p12: %s", out)
		}
	}
	if ossl, err := exec.LookPath("openssl"); err == nil {
		run(t, ossl, "pkcs12", "-in", filepath.Join(dir, "app.p12"), "-passin", "pass:storepass", "-noout")
		out := run(t, ossl, "x509", "-inform", "der", "-in", filepath.Join(dir, "app.crt"), "-noout", "-text")
		if !strings.Contains(out, "Digital Signature") {
			t.Errorf("certificate lacks Digital Signature: %s", out)
		}
		run(t, ossl, "pkey", "-in", filepath.Join(dir, "app.key"), "-noout")
	}
}

func selfSigned(t *testing.T, pub any, priv any, ku x509.KeyUsage, nb, na time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "t"}, NotBefore: nb, NotAfter: na, KeyUsage: ku}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// TestUploadRules mirrors the server's certificate upload negatives.
func TestUploadRules(t *testing.T) {
	now := time.Now()
	k2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	k1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	year := now.Add(365 * 24 * time.Hour)
	cases := []struct {
		name    string
		cert    *x509.Certificate
		problem string
		warning string
	}{
		{"good", selfSigned(t, k2048.Public(), k2048, x509.KeyUsageDigitalSignature, now.Add(-time.Hour), year), "", ""},
		{"no key usage extension is fine", selfSigned(t, k2048.Public(), k2048, 0, now.Add(-time.Hour), year), "", ""},
		{"RSA 1024", selfSigned(t, k1024.Public(), k1024, x509.KeyUsageDigitalSignature, now.Add(-time.Hour), year), "1024", ""},
		{"P-521", selfSigned(t, p521.Public(), p521, x509.KeyUsageDigitalSignature, now.Add(-time.Hour), year), "P-521", ""},
		{"no Digital Signature", selfSigned(t, k2048.Public(), k2048, x509.KeyUsageKeyEncipherment, now.Add(-time.Hour), year), "Digital Signature", ""},
		{"expired", selfSigned(t, k2048.Public(), k2048, x509.KeyUsageDigitalSignature, now.Add(-48*time.Hour), now.Add(-time.Hour)), "expired", ""},
		{"not yet valid", selfSigned(t, k2048.Public(), k2048, x509.KeyUsageDigitalSignature, now.Add(time.Hour), year), "not valid yet", ""},
		{"expiring soon", selfSigned(t, k2048.Public(), k2048, x509.KeyUsageDigitalSignature, now.Add(-time.Hour), now.Add(10*24*time.Hour)), "", "30 days"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Describe(&Contents{Format: FormatDER, Certificate: tc.cert}, now)
			if err != nil {
				t.Fatal(err)
			}
			checkList(t, "problems", r.Problems, tc.problem)
			checkList(t, "warnings", r.Warnings, tc.warning)
			if r.Certificate.X5TS256 != X5TS256(tc.cert) || !strings.Contains(string(r.JWK), `"kid":"`+X5TS256(tc.cert)+`"`) {
				t.Errorf("thumbprint/JWK: %s", r.JWK)
			}
			if strings.Contains(string(r.JWK), `"d":`) {
				t.Error("JWK has private members")
			}
		})
	}
}

func checkList(t *testing.T, what string, got []string, want string) {
	t.Helper()
	if want == "" && len(got) != 0 || want != "" && !strings.Contains(strings.Join(got, "|"), want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestParseErrors(t *testing.T) {
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert := selfSigned(t, other.Public(), other, x509.KeyUsageDigitalSignature, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	mismatch := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	cases := map[string][]byte{
		"garbage":         []byte("not a key at all"),
		"empty":           nil,
		"mismatched pair": mismatch,
		"encrypted pkcs8": pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}),
		"bad cert in PEM": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2}}),
		"JCEKS":           {0xCE, 0xCE, 0xCE, 0xCE, 0, 0},
		"truncated JKS":   {0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2},
		"public key only": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
	}
	for name, data := range cases {
		if _, err := Parse(data, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseSubject(t *testing.T) {
	good := map[string]string{
		"CN=app":                         "CN=app",
		"/CN=app/O=Example/C=US":         "CN=app,O=Example,C=US",
		"CN=a\\,b, OU=Integration, ST=X": "CN=a\\,b,OU=Integration,ST=X",
	}
	for in, want := range good {
		n, err := ParseSubject(in)
		if err != nil || n.String() != want {
			t.Errorf("%q: %q %v", in, n.String(), err)
		}
	}
	for _, bad := range []string{"", "CN", "XX=1", "CN=", "OU=only"} {
		if _, err := ParseSubject(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGenerateLimits(t *testing.T) {
	subj := pkix.Name{CommonName: "x"}
	for _, o := range []GenerateOptions{
		{Type: "rsa", Bits: 1024, Subject: subj}, {Type: "dsa", Subject: subj}, {Type: "ec", Curve: "P-521", Subject: subj},
		{Subject: subj, Days: -1}, {Type: "ec"},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// FuzzParse: no input panics the parser (seeds run as normal tests).
func FuzzParse(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 1})
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(_ *testing.T, data []byte) {
		_, _ = Parse(data, Options{StorePassword: []byte("changeit")})
	})
}
