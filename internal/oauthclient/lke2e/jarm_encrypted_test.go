package lke2e

import (
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/server"
)

// jarmKey is a client key as a PEM file and its public JWK with the
// given use and alg ("" leaves the member out).
func jarmKey(t *testing.T, typ, use, alg string) (*keystore.Contents, string, jose.JSONWebKey) {
	t.Helper()
	k, err := keystore.Generate(keystore.GenerateOptions{Type: typ, Subject: pkix.Name{CommonName: "jarm"}})
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := k.PublicJWK(k.DefaultKID())
	if err != nil {
		t.Fatal(err)
	}
	jwk.Certificates, jwk.CertificateThumbprintSHA1, jwk.CertificateThumbprintSHA256 = nil, nil, nil
	jwk.Use, jwk.Algorithm = use, alg
	pemKey, err := k.EncodeKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), typ+use+".key")
	if err := os.WriteFile(file, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	return k, file, jwk
}

// TestEncryptedJARMAgainstLatchkey: "latchkey token code --response-mode
// jwt" against Latchkey clients that registered
// authorization_encrypted_response_alg/enc, so the server signs the
// response and encrypts it to the client's key (JARM §2.2). The CLI
// decrypts it with the key given like private_key_jwt's (a PEM file
// here; PKCS#12 and JKS load through the same keystore.Load), verifies
// the signed JWT inside with the workspace JWKS and redeems the code:
//   - a separate RSA "use": "enc" key given with --response-key
//     (RSA-OAEP-256, A256GCM);
//   - the one EC key of the client, given with --key, that signs the
//     client assertions and decrypts (ECDH-ES+A128KW);
//   - with only the signing key where the response is encrypted to
//     another key, the CLI says it cannot decrypt;
//   - with --response-key where the server does not encrypt, the CLI
//     refuses the unencrypted response (no silent downgrade).
func TestEncryptedJARMAgainstLatchkey(t *testing.T) {
	clk := &clock{}
	lk := startLatchkey(t, server.WithClock(clk.Now))
	userID := lk.user(t, "erin", "erin@example.com", userPassword)
	person := latchkeyBrowser(lk, "erin", userPassword, &pagesSeen{})
	redirect := fmt.Sprintf("http://127.0.0.1:%d/OauthRedirect", freePort(t))
	register := func(id string, keys []jose.JSONWebKey, encAlg, enc string) {
		set, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		body := map[string]any{"client_id": id, "name": "CLI " + id, "type": "confidential",
			"token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(set),
			"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}, "redirect_uris": []string{redirect},
			"scopes": []string{"orders:read"}, "require_pkce": true}
		if encAlg != "" {
			body["authorization_encrypted_response_alg"], body["authorization_encrypted_response_enc"] = encAlg, enc
		}
		lk.registerClient(t, body)
	}
	sigKey, sigFile, sigJWK := jarmKey(t, "ec", "sig", "ES256")
	_, encFile, encJWK := jarmKey(t, "rsa", "enc", "RSA-OAEP-256")
	register("cli-jarm-rsa", []jose.JSONWebKey{sigJWK, encJWK}, "RSA-OAEP-256", "A256GCM")
	bothKey, bothFile, bothJWK := jarmKey(t, "ec", "", "")
	register("cli-jarm-ec", []jose.JSONWebKey{bothJWK}, "ECDH-ES+A128KW", "A128CBC-HS256")
	register("cli-jarm-plain", []jose.JSONWebKey{sigJWK}, "", "")

	c := newCLI(t, clk)
	run := func(clientID, keyFile, kid string, extra ...string) (map[string]any, error) {
		args := append([]string{"--server", lk.issuer, "--client-id", clientID, "--auth-method", "private_key_jwt",
			"--key", keyFile, "--kid", kid, "--redirect-uri", redirect, "--scope", "openid orders:read", "-o", "json",
			"--response-mode", "jwt"}, extra...)
		out, err, _, berr := runNoBrowser(t, c, person, args...)
		if err != nil {
			return nil, err
		}
		if berr != nil {
			t.Fatalf("browser: %v; stderr: %s", berr, c.stderr.String())
		}
		return jsonOut(t, out), nil
	}
	requireToken := func(t *testing.T, doc map[string]any, err error, clientID string) {
		t.Helper()
		if err != nil {
			t.Fatalf("encrypted JARM flow: %v; stderr: %s", err, c.stderr.String())
		}
		if at := lk.verifyAccessToken(t, clk, str(doc, "access_token")); at["sub"] != userID || at["client_id"] != clientID {
			t.Fatalf("access token claims %v", at)
		}
	}

	t.Run("separate RSA encryption key", func(t *testing.T) {
		doc, err := run("cli-jarm-rsa", sigFile, sigKey.DefaultKID(), "--response-key", encFile)
		requireToken(t, doc, err, "cli-jarm-rsa")
	})
	t.Run("one EC key signs and decrypts", func(t *testing.T) {
		doc, err := run("cli-jarm-ec", bothFile, bothKey.DefaultKID())
		requireToken(t, doc, err, "cli-jarm-ec")
	})
	t.Run("wrong key cannot decrypt", func(t *testing.T) {
		_, err := run("cli-jarm-rsa", sigFile, sigKey.DefaultKID())
		if err == nil || !strings.Contains(err.Error(), "cannot be decrypted with the client's key") {
			t.Fatalf("response encrypted to another key: %v", err)
		}
	})
	t.Run("unencrypted response refused with --response-key", func(t *testing.T) {
		_, err := run("cli-jarm-plain", sigFile, sigKey.DefaultKID(), "--response-key", encFile)
		if err == nil || !strings.Contains(err.Error(), "is not encrypted") {
			t.Fatalf("signed-only response with --response-key: %v", err)
		}
	})
}
