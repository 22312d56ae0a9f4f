package lke2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/latchkey/latchkey/internal/oauthclient"
	"github.com/latchkey/latchkey/internal/server"
)

const userPassword = "correct horse battery staple 6"

// authURLRe finds the URL "--no-browser" prints.
var authURLRe = regexp.MustCompile(`(?m)^\s+(http://\S+/oauth2/authorize\?\S+)$`)

// runNoBrowser runs "latchkey token code --no-browser ..." the way a
// person does: the command prints the authorization URL and waits; the
// person opens it (open) in a browser, signs in and consents; the browser
// lands on the command's loopback listener. It returns the command's
// output and error, the URL it printed and the browser's error.
func runNoBrowser(t *testing.T, c *cli, open func(context.Context, string) error, args ...string) (out string, err error, authURL string, browserErr error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	urls := make(chan string, 1)
	var once atomic.Bool
	c.onStderr = func(text string) {
		if m := authURLRe.FindStringSubmatch(text); m != nil && once.CompareAndSwap(false, true) {
			urls <- m[1]
		}
	}
	defer func() { c.onStderr = nil }()
	browserDone := make(chan error, 1)
	go func() {
		select {
		case u := <-urls:
			authURL = u
			err := open(ctx, u)
			if err != nil {
				cancel() // the person gives up: the command stops waiting
			}
			browserDone <- err
		case <-ctx.Done():
			browserDone <- errors.New("the command printed no authorization URL")
		}
	}()
	out, err = c.token(ctx, append([]string{"code", "--no-browser"}, args...)...)
	cancel()
	browserErr = <-browserDone
	return out, err, authURL, browserErr
}

// verifyIDToken checks an ID token with go-oidc as a relying party does:
// signature by the JWKS, iss, aud = clientID, exp; and returns its claims.
func (lk *latchkey) verifyIDToken(t *testing.T, clk *clock, clientID, raw string) map[string]any {
	t.Helper()
	keys := gooidc.NewRemoteKeySet(t.Context(), lk.issuer+"/oauth2/jwks")
	tok, err := gooidc.NewVerifier(lk.issuer, keys, &gooidc.Config{ClientID: clientID, Now: clk.Now}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims map[string]any
	_ = tok.Claims(&claims)
	return claims
}

// TestCodeFlowAgainstLatchkey: "latchkey token code" against Latchkey's
// authorization endpoint, sign-in and consent pages: PKCE S256,
// state and nonce, a public and a confidential client with loopback
// redirect URIs, the ID token verified with go-oidc, refresh token
// rotation with "token refresh", and "token get" of a code connection
// using the cache, then refreshing after the 60 s access token expiry.
func TestCodeFlowAgainstLatchkey(t *testing.T) {
	clk := &clock{}
	lk := startLatchkey(t, server.WithClock(clk.Now))
	userID := lk.user(t, "carol", "carol@example.com", userPassword)
	flow := []string{"authorization_code", "refresh_token"}
	// RFC 8252 §7.3: registered without a port, any loopback port matches.
	lk.registerClient(t, map[string]any{"client_id": "cli-public", "name": "CLI (public)", "type": "public",
		"token_endpoint_auth_method": "none", "grant_types": flow, "response_types": []string{"code"},
		"redirect_uris": []string{"http://127.0.0.1/OauthRedirect"}, "scopes": []string{"orders:read"}, "require_pkce": true})
	confRedirect := fmt.Sprintf("http://localhost:%d/OauthRedirect", freePort(t))
	confSecret := lk.registerClient(t, map[string]any{"client_id": "cli-conf", "name": "CLI (confidential)", "type": "confidential",
		"token_endpoint_auth_method": "client_secret_basic", "grant_types": flow, "response_types": []string{"code"},
		"redirect_uris": []string{confRedirect}, "scopes": []string{"orders:read"}, "access_token_ttl": 60})
	c := newCLI(t, clk)
	c.setVar("CONF_SECRET", confSecret)
	var seen pagesSeen
	person := latchkeyBrowser(lk, "carol", userPassword, &seen)

	t.Run("public client with --no-browser, then token refresh rotates", func(t *testing.T) {
		out, err, authURL, berr := runNoBrowser(t, c, person, "--server", lk.issuer, "--client-id", "cli-public",
			"--auth-method", "none", "--redirect-uri", "http://127.0.0.1:0/OauthRedirect",
			"--scope", "openid offline_access orders:read", "-o", "json")
		if err != nil || berr != nil {
			t.Fatalf("code flow: %v; browser: %v; stderr: %s", err, berr, c.stderr.String())
		}
		checkAuthURL(t, authURL, "cli-public")
		if seen.logins.Load() != 1 || seen.consents.Load() != 1 {
			t.Fatalf("the browser answered %d sign-in and %d consent pages, want 1 and 1", seen.logins.Load(), seen.consents.Load())
		}
		doc := jsonOut(t, out)
		claims, _ := doc["id_token_claims"].(map[string]any)
		if claims["sub"] != userID || str(doc, "refresh_token") == "" || str(doc, "id_token") == "" {
			t.Fatalf("response %v", doc)
		}
		idt := lk.verifyIDToken(t, clk, "cli-public", str(doc, "id_token"))
		if idt["sub"] != userID || idt["nonce"] != urlParam(authURL, "nonce") {
			t.Fatalf("ID token claims %v", idt)
		}
		if at := lk.verifyAccessToken(t, clk, str(doc, "access_token")); at["sub"] != userID || at["client_id"] != "cli-public" {
			t.Fatalf("access token claims %v", at)
		}

		rt := str(doc, "refresh_token")
		c.setVar("RT", rt)
		refresh := []string{"refresh", "--server", lk.issuer, "--client-id", "cli-public", "--auth-method", "none",
			"--refresh-token", "env:RT", "-o", "json"}
		next := jsonOut(t, c.mustToken(refresh...))
		if str(next, "refresh_token") == "" || str(next, "refresh_token") == rt || str(next, "access_token") == str(doc, "access_token") {
			t.Fatalf("refresh did not rotate: %v", next)
		}
		lk.verifyAccessToken(t, clk, str(next, "access_token"))
		// The old refresh token is spent (no grace period by default).
		_, err = c.token(t.Context(), refresh...)
		if oe := oauthErr(t, err); oe.Code != "invalid_grant" {
			t.Fatalf("reused refresh token: %v", err)
		}
	})

	t.Run("confidential client connection: get caches, then refreshes after expiry", func(t *testing.T) {
		c.browser = person
		defer func() { c.browser = nil }()
		before := seen.opened.Load()
		c.mustToken("connections", "add", "crm", "--server", lk.issuer, "--client-id", "cli-conf",
			"--client-secret", "env:CONF_SECRET", "--auth-method", "client_secret_basic", "--flow", "code",
			"--redirect-uri", confRedirect, "--scope", "openid offline_access orders:read")
		first := strings.TrimSpace(c.mustToken("get", "crm"))
		if seen.opened.Load() != before+1 || seen.logins.Load() != 2 || seen.consents.Load() != 2 {
			t.Fatalf("the browser was opened %d times (%d sign-ins, %d consents), want once more", seen.opened.Load()-before,
				seen.logins.Load(), seen.consents.Load())
		}
		claims := lk.verifyAccessToken(t, clk, first)
		if claims["sub"] != userID || claims["client_id"] != "cli-conf" {
			t.Fatalf("access token claims %v", claims)
		}
		if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 60 {
			t.Fatalf("access token lifetime %v s, want the client's 60 s", exp-iat)
		}

		clk.Advance(20 * time.Second) // 40 s left: served from the cache
		if again := strings.TrimSpace(c.mustToken("get", "crm")); again != first {
			t.Fatal("the cached token was not reused")
		}
		clk.Advance(15 * time.Second) // 25 s left: within the 30 s skew, refreshed
		refreshed := strings.TrimSpace(c.mustToken("get", "crm"))
		if refreshed == first || seen.opened.Load() != before+1 {
			t.Fatalf("not refreshed without the browser (browser opened %d times)", seen.opened.Load()-before)
		}
		lk.verifyAccessToken(t, clk, refreshed)

		clk.Advance(2 * time.Minute) // the cached token has expired: never printed
		doc := jsonOut(t, c.mustToken("get", "crm", "-o", "json"))
		if str(doc, "access_token") == refreshed || doc["expires_in"].(float64) <= 30 {
			t.Fatalf("an expired token was printed: %v", doc)
		}
		rt := str(doc, "refresh_token")
		// "token refresh NAME" redeems the cached refresh token and
		// caches the rotated one.
		next := jsonOut(t, c.mustToken("refresh", "crm", "-o", "json"))
		if str(next, "refresh_token") == "" || str(next, "refresh_token") == rt {
			t.Fatalf("refresh NAME did not rotate: %v", next)
		}
		if seen.opened.Load() != before+1 {
			t.Fatal("a refresh opened the browser")
		}
	})

	t.Run("redirect URI mismatch", func(t *testing.T) {
		out, err, _, berr := runNoBrowser(t, c, person, "--server", lk.issuer, "--client-id", "cli-conf",
			"--client-secret", "env:CONF_SECRET", "--redirect-uri", "http://127.0.0.1:0/Other")
		var pe *pageError
		if !errors.As(berr, &pe) || pe.Status != 400 || pe.Code != "invalid_request" {
			t.Fatalf("browser: %v", berr)
		}
		// The error is on Latchkey's page, in the browser; the hint rules
		// recognise its text, and the command says what to check.
		hint := (&oauthclient.Error{Code: pe.Code, Description: pe.Description}).Hint()
		if !strings.HasPrefix(hint, "redirect URI mismatch") {
			t.Errorf("Latchkey's %q gets hint %q", pe.Description, hint)
		}
		if err == nil || out != "" || !strings.Contains(err.Error(), "registered on the client") {
			t.Fatalf("command: %q %v", out, err)
		}
	})
}

// checkAuthURL: the authorization request the CLI built carries PKCE S256
// (RFC 7636), a state and a nonce, each of 128 bits.
func checkAuthURL(t *testing.T, raw, clientID string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("client_id") != clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 22 || len(q.Get("nonce")) < 22 {
		t.Fatalf("authorization URL %s", raw)
	}
}

func urlParam(raw, k string) string {
	u, _ := url.Parse(raw)
	return u.Query().Get(k)
}
