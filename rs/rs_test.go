package rs_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/rs"
)

// TestExample runs the package example's API against a real Latchkey
// server: a token with orders:read reads, without orders:write it may not
// write (403 insufficient_scope with the scope named), a token for
// another API, a missing token and an unparsable one are refused with the
// RFC 6750 §3 challenge.
func TestExample(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *latchkey) {
		c := lk.setUp(t, "default", nil)
		h, err := newOrdersAPI(lk.issuer("default"), lk.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(h)
		defer api.Close()
		read := lk.token(t, "default", c, "orders:read")
		billing := lk.token(t, "default", c, "billing:read")

		status, _, body := call(t, api.URL+"/orders", "Bearer "+read, nil)
		if status != http.StatusOK || body != "orders of "+c.ClientID+"\n" {
			t.Fatalf("valid token: %d %q", status, body)
		}
		for _, tc := range []struct {
			name, method, auth string
			status             int
			challenge          string
		}{
			{"no token", http.MethodGet, "", http.StatusUnauthorized, `Bearer realm="` + ordersAPI + `"`},
			{"basic scheme", http.MethodGet, "Basic Zm9vOmJhcg==", http.StatusUnauthorized, `Bearer realm="` + ordersAPI + `"`},
			{"wrong scope", http.MethodPost, "Bearer " + read, http.StatusForbidden, `error="insufficient_scope"`},
			{"wrong audience", http.MethodGet, "Bearer " + billing, http.StatusUnauthorized, `error="invalid_token", error_description="the access token is not meant for this API (aud)"`},
			{"garbage", http.MethodGet, "Bearer not.a.jwt", http.StatusUnauthorized, `error="invalid_token"`},
			{"two tokens", http.MethodGet, "Bearer a b", http.StatusBadRequest, `error="invalid_request"`},
		} {
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, api.URL+"/orders", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != tc.status || !strings.Contains(ch, tc.challenge) {
				t.Errorf("%s: %d %q, want %d with %q", tc.name, resp.StatusCode, ch, tc.status, tc.challenge)
			}
		}
		if _, ch, _ := call(t, api.URL+"/orders", "", nil); strings.Contains(ch, "error=") {
			t.Errorf("no token: challenge %q carries an error code (RFC 6750 §3.1)", ch)
		}
		resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodPost, api.URL+"/orders", "Bearer "+read))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ch := resp.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `scope="orders:write"`) {
			t.Errorf("insufficient_scope challenge %q does not name the scope", ch)
		}
	})
}

func mustRequest(t *testing.T, method, target, auth string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	return req
}

// TestExpiredAndForged: an expired token (the verifier's clock past exp
// plus leeway) and a token signed by another key under the server's kid
// are refused with invalid_token; options without an issuer or with a MAC
// algorithm are refused by New.
func TestExpiredAndForged(t *testing.T) {
	t.Parallel()
	lk := startLatchkey(t, "")
	c := lk.setUp(t, "default", nil)
	tok := lk.token(t, "default", c, "orders:read")
	later := func() time.Time { return lk.clock.Now().Add(2 * time.Hour) }
	v, err := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(v.Require()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer api.Close()
	if status, ch, _ := call(t, api.URL, "Bearer "+tok, nil); status != http.StatusUnauthorized || !strings.Contains(ch, "has expired") {
		t.Fatalf("expired token: %d %q", status, ch)
	}

	// Same claims and kid, signed with an attacker's key.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	raw, _ := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, &jose.SignerOptions{
		ExtraHeaders: map[jose.HeaderKey]any{"typ": "at+jwt", "kid": raw.Signatures[0].Header.KeyID}})
	forged, _ := s.Sign(raw.UnsafePayloadWithoutVerification())
	fs, _ := forged.CompactSerialize()
	now, _ := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Now: lk.clock.Now})
	api2 := httptest.NewServer(now.Require()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer api2.Close()
	if status, ch, _ := call(t, api2.URL, "Bearer "+fs, nil); status != http.StatusUnauthorized || !strings.Contains(ch, "signature does not verify") {
		t.Fatalf("forged token: %d %q", status, ch)
	}
	if status, _, _ := call(t, api2.URL, "Bearer "+tok, nil); status != http.StatusOK {
		t.Fatalf("genuine token: %d", status)
	}

	if _, err := rs.New(rs.Options{Audience: ordersAPI}); err == nil {
		t.Error("New without an issuer succeeded")
	}
	if _, err := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Algorithms: []jose.SignatureAlgorithm{jose.HS256}}); err == nil {
		t.Error("New with HS256 succeeded")
	}
}

// TestRevokedToken: a token revoked with RFC 7009 is accepted while the
// verifier's copy of the status list is fresh (its ttl, 30 s) and refused
// once the verifier fetches the list again (the verifier's and the
// server's clocks moved past the ttl): the documented bound.
func TestRevokedToken(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *latchkey) {
		c := lk.setUp(t, "default", nil)
		v, err := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Now: lk.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(v.Require("orders:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		defer api.Close()
		tok := lk.token(t, "default", c, "orders:read")
		other := lk.token(t, "default", c, "orders:read")
		if status, _, body := call(t, api.URL, "Bearer "+tok, nil); status != http.StatusOK {
			t.Fatalf("before revocation: %d %s", status, body)
		}
		lk.revoke(t, "default", c, tok)
		if status, _, _ := call(t, api.URL, "Bearer "+tok, nil); status != http.StatusOK {
			t.Fatalf("within the list's ttl the cached list still says valid; got %d", status)
		}
		lk.clock.Advance(30 * time.Second)
		status, ch, _ := call(t, api.URL, "Bearer "+tok, nil)
		if status != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, "revoked") {
			t.Fatalf("revoked token after the ttl: %d %q", status, ch)
		}
		if status, _, _ := call(t, api.URL, "Bearer "+other, nil); status != http.StatusOK {
			t.Fatalf("another token of the same list: %d", status)
		}
	})
}

// countingTransport counts requests per path.
type countingTransport struct {
	jwks atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/jwks") {
		c.jwks.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestKeyRotation: after the issuer rotates its key twice (so tokens are
// signed by a key the verifier has never seen), the verifier fetches the
// JWKS again on the unknown kid and accepts the token; a second unknown
// kid within RefetchInterval costs no fetch and is refused; the old
// token, its key retired but published, stays valid.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *latchkey) {
		c := lk.setUp(t, "default", nil)
		ct := &countingTransport{}
		v, err := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Now: lk.clock.Now,
			HTTPClient: &http.Client{Transport: ct}, RefetchInterval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(v.Require()(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		defer api.Close()
		old := lk.token(t, "default", c, "orders:read")
		if status, _, _ := call(t, api.URL, "Bearer "+old, nil); status != http.StatusOK {
			t.Fatalf("before rotation: %d", status)
		}
		if n := ct.jwks.Load(); n != 1 {
			t.Fatalf("%d JWKS fetches, want 1", n)
		}
		for range 2 {
			lk.adminOK(t, http.MethodPost, "/workspaces/default/keys/rotate", map[string]any{}, http.StatusOK, nil)
		}
		fresh := lk.token(t, "default", c, "orders:read")
		if status, ch, _ := call(t, api.URL, "Bearer "+fresh, nil); status != http.StatusOK {
			t.Fatalf("token of the new key: %d %q", status, ch)
		}
		if n := ct.jwks.Load(); n != 2 {
			t.Fatalf("%d JWKS fetches, want 2 (one refetch on the unknown kid)", n)
		}
		if status, _, _ := call(t, api.URL, "Bearer "+old, nil); status != http.StatusOK {
			t.Fatalf("token of the retired key: %d", status)
		}
		for range 2 {
			lk.adminOK(t, http.MethodPost, "/workspaces/default/keys/rotate", map[string]any{}, http.StatusOK, nil)
		}
		newer := lk.token(t, "default", c, "orders:read")
		if status, ch, _ := call(t, api.URL, "Bearer "+newer, nil); status != http.StatusUnauthorized || !strings.Contains(ch, "does not publish") {
			t.Fatalf("unknown kid within the refetch interval: %d %q", status, ch)
		}
		if n := ct.jwks.Load(); n != 2 {
			t.Fatalf("%d JWKS fetches, want still 2 (rate limited)", n)
		}
		lk.clock.Advance(time.Minute)
		if status, ch, _ := call(t, api.URL, "Bearer "+newer, nil); status != http.StatusOK {
			t.Fatalf("unknown kid after the refetch interval: %d %q", status, ch)
		}
	})
}

// TestDPoPBoundToken: a DPoP-bound token (cnf.jkt, RFC 9449 §6) is
// accepted with the DPoP scheme and a proof for the request signed by the
// bound key with ath (§7.1); refused as a Bearer token (§7.2), without a
// proof, with another key's proof, with a replayed proof, and with a
// proof for another URL, each with the DPoP challenge. An unbound token
// sent with the DPoP scheme is refused.
func TestDPoPBoundToken(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *latchkey) {
		c := lk.setUp(t, "default", nil)
		key, other := newDPoPKey(t), newDPoPKey(t)
		tok := lk.dpopToken(t, "default", c, key, "orders:read")
		if cnf, _ := claimsOf(t, tok)["cnf"].(map[string]any); cnf["jkt"] != key.jkt {
			t.Fatalf("token cnf %v, want jkt %s", cnf, key.jkt)
		}
		plain := lk.token(t, "default", c, "orders:read")
		v, err := rs.New(rs.Options{Issuer: lk.issuer("default"), Audience: ordersAPI, Now: lk.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(v.Require("orders:read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		defer api.Close()
		target := api.URL + "/orders"
		good := key.proof(t, http.MethodGet, target, tok)
		if status, ch, body := call(t, target, "DPoP "+tok, map[string]string{"DPoP": good}); status != http.StatusOK {
			t.Fatalf("valid DPoP request: %d %q %s", status, ch, body)
		}
		for _, tc := range []struct {
			name, auth, proof string
		}{
			{"bearer scheme", "Bearer " + tok, ""},
			{"no proof", "DPoP " + tok, ""},
			{"replayed proof", "DPoP " + tok, good},
			{"other key", "DPoP " + tok, other.proof(t, http.MethodGet, target, tok)},
			{"other URL", "DPoP " + tok, key.proof(t, http.MethodGet, api.URL+"/elsewhere", tok)},
			{"no ath", "DPoP " + tok, key.proof(t, http.MethodGet, target, "")},
			{"unbound token", "DPoP " + plain, key.proof(t, http.MethodGet, target, plain)},
		} {
			hdr := map[string]string{}
			if tc.proof != "" {
				hdr["DPoP"] = tc.proof
			}
			status, ch, _ := call(t, target, tc.auth, hdr)
			if status != http.StatusUnauthorized || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, "error=") {
				t.Errorf("%s: %d %q, want 401 with a DPoP challenge", tc.name, status, ch)
			}
		}
	})
}
