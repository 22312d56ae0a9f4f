package lke2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/server"
)

// TestSecuredCodeFlowAgainstLatchkey: "latchkey token code --par
// --request-object --response-mode jwt" against a Latchkey client that
// requires pushed, signed requests: the request object is signed with the
// private_key_jwt key, pushed with private_key_jwt (RFC 9126), the
// browser carries only client_id and request_uri, and the JWT-secured
// response (JARM) is verified before its code is redeemed. Without --par
// the server refuses, and the error reaches the user.
func TestSecuredCodeFlowAgainstLatchkey(t *testing.T) {
	clk := &clock{}
	lk := startLatchkey(t, server.WithClock(clk.Now))
	userID := lk.user(t, "dora", "dora@example.com", userPassword)
	key, jwks := newKey(t, "ec")
	pemKey, err := key.EncodeKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "cli.key")
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/OauthRedirect", freePort(t))
	lk.registerClient(t, map[string]any{"client_id": "cli-fapi", "name": "CLI (signed requests)", "type": "confidential",
		"token_endpoint_auth_method": "private_key_jwt", "jwks": json.RawMessage(jwks),
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}, "redirect_uris": []string{redirect},
		"scopes": []string{"orders:read"}, "require_pkce": true,
		"request_object_signing_alg": "ES256", "require_pushed_authorization_requests": true})
	c := newCLI(t, clk)
	var seen pagesSeen
	person := latchkeyBrowser(lk, "dora", userPassword, &seen)
	args := []string{"--server", lk.issuer, "--client-id", "cli-fapi", "--auth-method", "private_key_jwt",
		"--key", keyFile, "--kid", key.DefaultKID(), "--redirect-uri", redirect, "--scope", "openid orders:read", "-o", "json"}

	out, err, authURL, berr := runNoBrowser(t, c, person, append(args, "--par", "--request-object", "--response-mode", "jwt")...)
	if err != nil || berr != nil {
		t.Fatalf("secured code flow: %v; browser: %v; stderr: %s", err, berr, c.stderr.String())
	}
	u, _ := url.Parse(authURL)
	if q := u.Query(); len(q) != 2 || q.Get("client_id") != "cli-fapi" || q.Get("request_uri") == "" {
		t.Fatalf("the browser carried %v, want only client_id and request_uri", q)
	}
	doc := jsonOut(t, out)
	if at := lk.verifyAccessToken(t, clk, str(doc, "access_token")); at["sub"] != userID || at["client_id"] != "cli-fapi" {
		t.Fatalf("access token claims %v", at)
	}

	// The client requires PAR: a plain request is refused, and the CLI
	// says what the server said.
	_, err, _, _ = runNoBrowser(t, c, person, args...)
	if oe := oauthErr(t, err); oe.Code != "invalid_request" {
		t.Fatalf("plain request of a PAR-only client: %v", err)
	}
}
