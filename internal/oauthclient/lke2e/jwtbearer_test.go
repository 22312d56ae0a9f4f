package lke2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
	"github.com/latchkey/latchkey/internal/server"
)

const (
	ksPass    = "store-pass-1"
	jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// keysNew runs "latchkey keys new" into dir and returns the x5t#S256 that
// "latchkey keys inspect" prints for the certificate, after checking that
// every keystore file names the same certificate and meets the upload
// rules.
func keysNew(t *testing.T, c *cli, dir string) string {
	t.Helper()
	c.setVar("KS_PASS", ksPass)
	out := c.keys("new", "--subject", "CN=lk-e2e,O=Latchkey", "--days", "30", "--out-dir", dir, "--name", "app",
		"--alias", "signer", "--storepass", "env:KS_PASS")
	for _, ext := range []string{".key", ".pem", ".crt", ".p12", ".jks"} {
		if _, err := os.Stat(filepath.Join(dir, "app"+ext)); err != nil {
			t.Fatalf("keys new did not write app%s: %v\n%s", ext, err, out)
		}
	}
	var x5t string
	for _, args := range [][]string{
		{"inspect", filepath.Join(dir, "app.pem"), "-o", "json"},
		{"inspect", filepath.Join(dir, "app.jks"), "--alias", "signer", "--password", "env:KS_PASS", "-o", "json"},
		{"inspect", filepath.Join(dir, "app.p12"), "--password", "env:KS_PASS", "-o", "json"},
	} {
		var r keystore.Report
		if err := json.Unmarshal([]byte(c.keys(args...)), &r); err != nil {
			t.Fatal(err)
		}
		if r.Certificate == nil || len(r.Problems) != 0 || !strings.Contains(r.KeyType, "RSA 2048") {
			t.Fatalf("%s: %+v", args[1], r)
		}
		if !strings.Contains(strings.Join(r.Certificate.KeyUsage, ","), "Digital Signature") {
			t.Fatalf("%s: key usage %v", args[1], r.Certificate.KeyUsage)
		}
		if x5t != "" && r.Certificate.X5TS256 != x5t {
			t.Fatalf("%s names another certificate: %s vs %s", args[1], r.Certificate.X5TS256, x5t)
		}
		x5t = r.Certificate.X5TS256
	}
	if !strings.Contains(out, x5t) {
		t.Fatalf("keys new did not print the x5t#S256 %s:\n%s", x5t, out)
	}
	return x5t
}

// uploadCert uploads a certificate file (PEM as is, DER base64-encoded)
// with kid and checks the kid Latchkey stored.
func (lk *latchkey) uploadCert(t *testing.T, clientID, file, kid string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(raw)
	if !strings.HasPrefix(cert, "-----BEGIN") {
		cert = base64.StdEncoding.EncodeToString(raw)
	}
	b, _ := json.Marshal(map[string]string{"certificate": cert, "kid": kid})
	doc := lk.admin(t, "POST", "/admin/v1/workspaces/default/clients/"+clientID+"/certificates", string(b))
	if str(doc, "kid") != kid || str(doc, "x5t#S256") != kid {
		t.Fatalf("certificate stored as %v", doc)
	}
}

// TestKeysNewJWTBearerAgainstLatchkey: "latchkey keys new"
// output is uploaded to Latchkey clients and "latchkey token jwt" gets a
// token with the JWT bearer grant (RFC 7523) in both request shapes of
// docs/jwt-bearer.md: assertion only (Salesforce: iss = client_id, aud =
// token endpoint) from the JKS and the PKCS#12, and with client id +
// secret (ServiceNow: aud = client_id, user field = email). Each token is
// verified with go-oidc against Latchkey's JWKS.
func TestKeysNewJWTBearerAgainstLatchkey(t *testing.T) {
	clk := &clock{}
	lk := startLatchkey(t, server.WithClock(clk.Now))
	c := newCLI(t, clk)
	dir := t.TempDir()
	kid := keysNew(t, c, dir)
	aliceID := lk.user(t, "alice", "alice@example.com", "")

	lk.registerClient(t, map[string]any{"client_id": "sf-app", "name": "Salesforce style", "type": "confidential",
		"grant_types": []string{jwtBearer}, "scopes": []string{"orders:read"}})
	lk.uploadCert(t, "sf-app", filepath.Join(dir, "app.pem"), kid)
	// Nobody is pre-authorized by default (docs/security.md R1).
	lk.admin(t, "PUT", "/admin/v1/workspaces/default/clients/sf-app/jwt-bearer", `{"pre_auth":"admin_approved","allowed_users":["`+aliceID+`"]}`)
	snSecret := lk.registerClient(t, map[string]any{"client_id": "sn-app", "name": "ServiceNow style", "type": "confidential",
		"grant_types": []string{jwtBearer}, "scopes": []string{"orders:read"}, "token_endpoint_auth_method": "client_secret_post"})
	lk.uploadCert(t, "sn-app", filepath.Join(dir, "app.crt"), kid)
	lk.admin(t, "PUT", "/admin/v1/workspaces/default/clients/sn-app/jwt-bearer", `{"user_field":"email","pre_auth":"all_users"}`)
	c.setVar("SN_SECRET", snSecret)

	salesforce := func(keyArgs ...string) []string {
		return append([]string{"jwt", "--server", lk.issuer, "--issuer", "sf-app", "--subject", "alice",
			"--expires-in", "3", "--scope", "orders:read", "--storepass", "env:KS_PASS", "-o", "json"}, keyArgs...)
	}
	serviceNow := []string{"jwt", "--server", lk.issuer, "--client-id", "sn-app", "--client-secret", "env:SN_SECRET",
		"--auth-method", "client_secret_post", "--issuer", "sn-app", "--audience", "sn-app", "--subject", "ALICE@example.com",
		"--key", filepath.Join(dir, "app.p12"), "--storepass", "env:KS_PASS", "--scope", "orders:read", "-o", "json"}
	cases := []struct {
		name, client string
		args         []string
	}{
		{"assertion only from the JKS", "sf-app", salesforce("--key", filepath.Join(dir, "app.jks"), "--alias", "signer")},
		{"assertion only from the PKCS#12", "sf-app", salesforce("--key", filepath.Join(dir, "app.p12"))},
		{"client id and secret, user by email", "sn-app", serviceNow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := jsonOut(t, c.mustToken(tc.args...))
			if str(doc, "token_type") != "Bearer" || str(doc, "scope") != "orders:read" || doc["refresh_token"] != nil {
				t.Fatalf("response %v", doc)
			}
			claims := lk.verifyAccessToken(t, clk, str(doc, "access_token"))
			if claims["sub"] != aliceID || claims["client_id"] != tc.client {
				t.Fatalf("sub %v client_id %v, want %s %s", claims["sub"], claims["client_id"], aliceID, tc.client)
			}
		})
	}

	// Error hints against Latchkey's own error_description texts: each
	// failure shows the server's answer as it came plus the hint line for
	// it.
	errCases := []struct {
		name, desc, hint string
		args             []string
		cliSkew          time.Duration
	}{
		{"wrong audience", "audience is invalid", "wrong audience",
			salesforce("--key", filepath.Join(dir, "app.p12"), "--audience", lk.base+"/w/other/oauth2/token"), 0},
		{"expired assertion (this machine's clock 10 minutes slow)", "assertion expired", "expired assertion or clock skew",
			salesforce("--key", filepath.Join(dir, "app.p12")), -10 * time.Minute},
		{"unknown kid", "no certificate matches kid", "unknown kid",
			salesforce("--key", filepath.Join(dir, "app.p12"), "--kid", "not-uploaded"), 0},
		{"assertion lifetime over the maximum", "assertion lifetime 5400 s exceeds the maximum of 3600 s",
			"assertion lifetime too long: the server allows at most 3600 s; pass --expires-in 60 (minutes) or less",
			salesforce("--key", filepath.Join(dir, "app.p12"), "--expires-in", "90"), 0},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			c.clk.cliSkew.Store(int64(tc.cliSkew))
			defer c.clk.cliSkew.Store(0)
			_, err := c.token(t.Context(), tc.args...)
			t.Logf("latchkey token jwt: %v", err)
			oe := oauthErr(t, err)
			if oe.Status != 400 || oe.Code != "invalid_grant" || !strings.HasPrefix(oe.Description, tc.desc) {
				t.Fatalf("Latchkey answered %d %s %q, want invalid_grant %q", oe.Status, oe.Code, oe.Description, tc.desc)
			}
			if !strings.Contains(err.Error(), `error_description="`+oe.Description+`"`) {
				t.Errorf("the server's description is not shown as it came: %v", err)
			}
			if h := hintOf(err); !strings.HasPrefix(h, tc.hint) {
				t.Errorf("hint %q, want %q", h, tc.hint)
			}
		})
	}

	// The replayed-assertion hint, with the ServiceNow client: the same
	// assertion twice (signed once by the library the command uses).
	t.Run("replayed assertion", func(t *testing.T) {
		k, err := keystore.Load(filepath.Join(dir, "app.p12"), keystore.Options{StorePassword: []byte(ksPass)})
		if err != nil {
			t.Fatal(err)
		}
		cl := &oauthclient.Client{Issuer: lk.issuer, Now: clk.Now, Auth: oauthclient.ClientAuth{
			Method: oauthclient.AuthClientSecretPost, ClientID: "sn-app", ClientSecret: snSecret}}
		if err := cl.Resolve(t.Context()); err != nil {
			t.Fatal(err)
		}
		a, err := cl.SignAssertion(oauthclient.Assertion{Issuer: "sn-app", Subject: "alice@example.com", Audience: "sn-app",
			Key: k.Signer, KeyID: k.DefaultKID()})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			_, err = cl.JWTBearerAssertion(t.Context(), a, oauthclient.Params{})
			if i == 0 && err != nil {
				t.Fatal(err)
			}
		}
		oe := oauthErr(t, err)
		if oe.Code != "invalid_grant" || !strings.Contains(oe.Hint(), "already used") {
			t.Fatalf("replay: %v, hint %q", err, oe.Hint())
		}
	})
}
