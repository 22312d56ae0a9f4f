package tokencmd

import (
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

// TestResponseDecryptionKey: --response-key takes a key file like the
// other key flags (here PEM) and then requires encrypted JWT responses;
// without it, --key decrypts; --response-key without --response-mode jwt,
// or naming a file without a private key, is a usage error.
func TestResponseDecryptionKey(t *testing.T) {
	k, err := keystore.Generate(keystore.GenerateOptions{Type: "ec", Subject: pkix.Name{CommonName: "jarm"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyPEM, err := k.EncodeKeyPEM()
	keyFile := write("enc.key", keyPEM, err)
	certPEM, err := k.EncodeCertPEM()
	certFile := write("enc.crt", certPEM, err)

	s, err := secured(Connection{ResponseMode: "jwt", ResponseKey: keyFile}, &oauthclient.Client{}, nil)
	if err != nil || s.DecryptionKey == nil || !s.RequireEncryption || !s.JWTResponse {
		t.Fatalf("--response-key: %+v %v", s, err)
	}
	s, err = secured(Connection{ResponseMode: "jwt"}, &oauthclient.Client{}, k)
	if err != nil || s.DecryptionKey != k.Signer || s.RequireEncryption {
		t.Fatalf("--key as the decryption key: %+v %v", s, err)
	}
	if _, err := secured(Connection{ResponseKey: keyFile}, &oauthclient.Client{}, nil); err == nil || !strings.Contains(err.Error(), "--response-mode jwt") {
		t.Fatalf("--response-key without --response-mode: %v", err)
	}
	if _, err := secured(Connection{ResponseMode: "jwt", ResponseKey: certFile}, &oauthclient.Client{}, nil); err == nil || !strings.Contains(err.Error(), "no private key") {
		t.Fatalf("--response-key with a certificate only: %v", err)
	}
}
