package e2e

import (
	"bytes"
	"compress/zlib"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// statusRef reads the status claim of a JWT access token (draft-ietf-
// oauth-status-list §6.2) without verifying it (the tests verify tokens
// elsewhere).
func statusRef(t *testing.T, raw string) (uri string, idx int) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Status struct {
			StatusList *struct {
				Idx *int   `json:"idx"`
				URI string `json:"uri"`
			} `json:"status_list"`
		} `json:"status"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	sl := c.Status.StatusList
	if sl == nil || sl.Idx == nil || sl.URI == "" {
		t.Fatalf("access token without status.status_list {idx, uri}: %s", payload)
	}
	return sl.URI, *sl.Idx
}

// publishedList is a fetched and verified Status List Token.
type publishedList struct {
	raw    []byte // the decompressed byte array (draft §4.1)
	claims map[string]any
	header http.Header
}

// bit is the 1-bit status of idx: byte idx/8, bit idx%8 from the least
// significant (draft §4.1).
func (l publishedList) bit(t *testing.T, idx int) int {
	t.Helper()
	if idx/8 >= len(l.raw) {
		t.Fatalf("index %d beyond the list of %d bytes", idx, len(l.raw))
	}
	return int(l.raw[idx/8]>>(idx%8)) & 1
}

// statusList fetches the Status List Token at uri and checks it as a
// relying party must (draft §5.1, §8): media type, typ statuslist+jwt, a
// signature by a key of the workspace's JWKS (go-jose with an allowlist),
// sub equal to uri, iat, exp, ttl, bits 1 and a ZLIB-compressed lst. The
// list is fetched from this process (uri names the public base URL).
func (lk *instance) statusList(t *testing.T, ws, uri string) publishedList {
	t.Helper()
	at := strings.Replace(uri, lk.issuer(ws), lk.wsURL(ws), 1)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/statuslist+jwt")
	r := lk.client.do(t, req)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/statuslist+jwt" ||
		r.header.Get("Cache-Control") != "public, max-age=30" {
		t.Fatalf("GET %s: %d %v %s", uri, r.status, r.header, r.raw)
	}
	jws, err := jose.ParseSignedCompact(string(r.raw), []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("status list token: %v", err)
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "statuslist+jwt" || h.KeyID == "" {
		t.Fatalf("status list token header typ %v kid %q", h.ExtraHeaders[jose.HeaderType], h.KeyID)
	}
	jr := lk.client.get(t, lk.wsURL(ws)+"/oauth2/jwks")
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jr.raw, &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %s not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("status list token does not verify against the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	sl, _ := claims["status_list"].(map[string]any)
	lst, _ := sl["lst"].(string)
	if claims["sub"] != uri || iat == 0 || exp <= iat || claims["ttl"] != float64(30) || sl["bits"] != float64(1) || lst == "" {
		t.Fatalf("status list claims %s", payload)
	}
	compressed, err := base64.RawURLEncoding.DecodeString(lst)
	if err != nil {
		t.Fatalf("lst is not base64url: %v", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatalf("lst is not ZLIB: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return publishedList{raw: raw, claims: claims, header: r.header}
}

// TestStatusList: every JWT access token carries a status claim pointing
// into the workspace's status list, with indexes handed out in sequence
// from a reserved block; the published Status List Token verifies against
// the JWKS; discovery advertises the aggregation endpoint, which lists
// the list; RFC 7009 revocation of a token flips its bit (at once on the
// process that revoked it) and no other; a bad list name is a 404 JSON
// error and other methods a 405.
func TestStatusList(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
		cred := basic{c.ClientID, c.ClientSecret}
		first, second := lk.secretToken(t, ws, c), lk.secretToken(t, ws, c)
		uri, idx := statusRef(t, first)
		uri2, idx2 := statusRef(t, second)
		if uri != lk.issuer(ws)+"/statuslists/0" || uri2 != uri || idx2 != idx+1 {
			t.Fatalf("status references %s#%d and %s#%d: want list 0 of the issuer, consecutive indexes", uri, idx, uri2, idx2)
		}
		// Discovery names the aggregation (draft §9), which lists list 0.
		md := lk.client.get(t, lk.wsURL(ws)+"/.well-known/openid-configuration")
		agg := md.str("status_list_aggregation_endpoint")
		if agg != lk.issuer(ws)+"/statuslists" {
			t.Fatalf("status_list_aggregation_endpoint %q", agg)
		}
		if r := lk.client.get(t, agg); r.status != http.StatusOK || !reflect.DeepEqual(r.json["status_lists"], []any{uri}) {
			t.Fatalf("aggregation: %d %s, want [%s]", r.status, r.raw, uri)
		}
		before := lk.statusList(t, ws, uri)
		if len(before.raw) != 1<<17 || before.bit(t, idx) != 0 || before.bit(t, idx2) != 0 {
			t.Fatalf("fresh list of %d bytes, bits %d %d: want 2^20 entries, both valid", len(before.raw), before.bit(t, idx), before.bit(t, idx2))
		}

		lk.revoke(t, ws, first, cred)
		after := lk.statusList(t, ws, uri)
		if after.bit(t, idx) != 1 || after.bit(t, idx2) != 0 {
			t.Fatalf("after revoking the first token: bits %d %d, want 1 0", after.bit(t, idx), after.bit(t, idx2))
		}
		lk.revoke(t, ws, first, cred) // RFC 7009 §2.2: again is fine
		wantActive(t, lk.introspect(t, ws, first, cred), false)

		for _, bad := range []string{"01", "-1", "+0", "x", "99999999"} {
			r := lk.client.get(t, lk.wsURL(ws)+"/statuslists/"+bad)
			if r.status != http.StatusNotFound || r.str("error") != "invalid_request" || r.str("error_description") == "" {
				t.Errorf("list %q: %d %s, want 404 invalid_request", bad, r.status, r.raw)
			}
		}
		r := lk.client.postForm(t, uri, nil, basic{})
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("POST to the status list: %d, want 405", r.status)
		}
		if r := lk.client.get(t, lk.base+"/w/nope/statuslists/0"); r.status != http.StatusNotFound {
			t.Errorf("unknown workspace: %d", r.status)
		}
	})
}

// TestStatusListFamilies: access tokens issued from a refresh-token family
// (the JWT bearer grant with refresh tokens, then a refresh) are revoked
// in the published list when the family is revoked, by RFC 7009
// revocation of the refresh token (at once) or by an administrator
// resetting the user's password (which revokes the user's families, seen
// by the list within the documented rebuild interval of 5 s: the test
// moves the server's clock).
func TestStatusListFamilies(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		wsPath := "/workspaces/" + ws
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		lk.adminOK(t, http.MethodPost, wsPath+"/users", map[string]any{"id": "u-ada", "username": "ada"}, http.StatusCreated, nil)
		c := lk.createClient(t, ws, map[string]any{"name": "JWT bearer with refresh",
			"grant_types": []string{jwtBearerGrant, "refresh_token"}, "scopes": []string{"api:read"}})
		s := newJWTBearerSigner(t)
		lk.adminOK(t, http.MethodPost, wsPath+"/clients/"+c.ClientID+"/certificates",
			map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
		lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+c.ClientID+"/jwt-bearer",
			map[string]any{"refresh_tokens": true, "pre_auth": "all_users"}, http.StatusOK, nil)
		der, err := x509.MarshalPKCS8PrivateKey(s.key)
		if err != nil {
			t.Fatal(err)
		}
		tokenURL := lk.wsURL(ws) + "/oauth2/token"
		bearer := &jwt.Config{Email: c.ClientID, Subject: "ada", TokenURL: tokenURL, Scopes: []string{"api:read"},
			PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), PrivateKeyID: "e2e"}
		grant := func() (*oauth2.Token, string) {
			cfg := *bearer // a fresh jti: two assertions in one second differ
			cfg.PrivateClaims = map[string]any{"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16))}
			tok, err := cfg.TokenSource(t.Context()).Token()
			if err != nil {
				t.Fatalf("x/oauth2/jwt: %v", err)
			}
			lk.leaks.AddToken(tok.AccessToken)
			rt, _ := tok.Extra("refresh_token").(string)
			if rt == "" {
				t.Fatal("no refresh token")
			}
			lk.leaks.Add(rt)
			return tok, rt
		}
		conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}}

		// Family A: first token, refreshed; family B: another grant.
		a1, rtA := grant()
		a2, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rtA, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		lk.leaks.AddToken(a2.AccessToken)
		lk.leaks.Add(a2.RefreshToken)
		b1, _ := grant()
		uri, ia1 := statusRef(t, a1.AccessToken)
		_, ia2 := statusRef(t, a2.AccessToken)
		_, ib1 := statusRef(t, b1.AccessToken)
		l := lk.statusList(t, ws, uri)
		if l.bit(t, ia1)+l.bit(t, ia2)+l.bit(t, ib1) != 0 {
			t.Fatal("fresh family tokens already revoked in the list")
		}

		lk.revoke(t, ws, a2.RefreshToken, basic{c.ClientID, c.ClientSecret})
		l = lk.statusList(t, ws, uri)
		if l.bit(t, ia1) != 1 || l.bit(t, ia2) != 1 || l.bit(t, ib1) != 0 {
			t.Fatalf("after revoking family A: bits %d %d %d, want 1 1 0", l.bit(t, ia1), l.bit(t, ia2), l.bit(t, ib1))
		}

		// Admin revocation of the user's grants goes through the admin
		// API, not this endpoint: the list shows it after the rebuild
		// interval.
		lk.adminOK(t, http.MethodPut, wsPath+"/users/u-ada/password", map[string]any{"password": "correct horse battery staple"}, http.StatusNoContent, nil)
		if l = lk.statusList(t, ws, uri); l.bit(t, ib1) != 0 {
			t.Log("family B already revoked in the list (rebuilt meanwhile)")
		}
		lk.clock.Advance(5 * time.Second)
		if l = lk.statusList(t, ws, uri); l.bit(t, ib1) != 1 {
			t.Fatal("family B not revoked in the list one rebuild interval after the administrator revoked it")
		}
	})
}

// TestStatusListTokenExchange: tokens exchanged from a user's grant (RFC
// 8693) are revoked in the published list with the subject's family: a
// JWT exchanged from the user's refresh token, and an access token
// refreshed from a family begun by exchange (tied to its parent family).
func TestStatusListTokenExchange(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		e := newExchangeEnv(t, lk)
		lk.adminOK(t, http.MethodPut, "/workspaces/"+e.ws+"/clients/"+e.web.ClientID+"/token-exchange", map[string]any{
			"subject_token_types": []string{ttRefreshToken}, "may_impersonate": true, "refresh_tokens": true}, http.StatusOK, nil)
		down := e.exchange(t, e.web, url.Values{"subject_token": {e.userRefresh}, "subject_token_type": {ttRefreshToken},
			"requested_token_type": {ttJWT}, "resource": {"https://api.example"}, "scope": {"api:read"}})
		xr := e.exchange(t, e.web, url.Values{"subject_token": {e.userRefresh}, "subject_token_type": {ttRefreshToken},
			"requested_token_type": {ttRefreshToken}, "scope": {"api:read"}})
		lk.leaks.Add(xr.AccessToken)
		conf := &oauth2.Config{ClientID: e.web.ClientID, ClientSecret: e.web.ClientSecret,
			Endpoint: oauth2.Endpoint{TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInHeader}}
		refreshed, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: xr.AccessToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		if err != nil {
			t.Fatalf("refresh with the exchanged refresh token: %v", err)
		}
		lk.leaks.AddToken(refreshed.AccessToken)
		lk.leaks.Add(refreshed.RefreshToken)
		other := lk.secretClient(t, e.ws, "client_secret_basic", "api:read")
		unrelated := lk.secretToken(t, e.ws, other)

		uri, iu := statusRef(t, e.userToken.AccessToken)
		_, id := statusRef(t, down.AccessToken)
		_, ir := statusRef(t, refreshed.AccessToken)
		_, io := statusRef(t, unrelated)
		if l := lk.statusList(t, e.ws, uri); l.bit(t, iu)+l.bit(t, id)+l.bit(t, ir)+l.bit(t, io) != 0 {
			t.Fatal("tokens revoked in the list before any revocation")
		}
		lk.revoke(t, e.ws, e.userRefresh, basic{e.web.ClientID, e.web.ClientSecret})
		l := lk.statusList(t, e.ws, uri)
		if l.bit(t, iu) != 1 || l.bit(t, id) != 1 || l.bit(t, ir) != 1 || l.bit(t, io) != 0 {
			t.Fatalf("after revoking the user's family: user %d, exchanged %d, refreshed from the exchange %d, unrelated %d; want 1 1 1 0",
				l.bit(t, iu), l.bit(t, id), l.bit(t, ir), l.bit(t, io))
		}
	})
}

// TestStatusListMultiProcess: two `latchkey serve` processes on one
// PostgreSQL reserve disjoint index blocks, and a token revoked on one
// shows as revoked in the list the other publishes within the documented
// rebuild interval (5 s; real clocks here).
func TestStatusListMultiProcess(t *testing.T) {
	t.Parallel()
	p1, p2, _ := startProcessPair(t, "status list multi-process test")
	const ws = "default"
	p1.createService(t, ws, "api", "https://api.example", "api:read")
	c := p1.secretClient(t, ws, "client_secret_basic", "api:read")
	cred := basic{c.ClientID, c.ClientSecret}
	t1 := p1.secretToken(t, ws, c)
	t2 := eventually(t, func() (string, bool) {
		tok, err := p2.fetchToken(t, ccConfig(p2.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil))
		if err != nil {
			return "", false
		}
		return tok.AccessToken, true
	})
	uri, i1 := statusRef(t, t1)
	uri2, i2 := statusRef(t, t2)
	if uri != p1.issuer(ws)+"/statuslists/0" || uri2 != uri || i1/1024 == i2/1024 {
		t.Fatalf("references %s#%d (process 1) and %s#%d (process 2): want list 0, indexes from different blocks", uri, i1, uri2, i2)
	}
	if l := p2.statusList(t, ws, uri); l.bit(t, i1) != 0 {
		t.Fatal("fresh token revoked in process 2's list")
	}
	p1.revoke(t, ws, t1, cred)
	revoked := time.Now()
	if l := p1.statusList(t, ws, uri); l.bit(t, i1) != 1 {
		t.Fatal("process 1's list does not show its own revocation at once")
	}
	for {
		if l := p2.statusList(t, ws, uri); l.bit(t, i1) == 1 {
			if l.bit(t, i2) != 0 {
				t.Fatal("process 2's own token revoked too")
			}
			break
		}
		if time.Since(revoked) > 6*time.Second {
			t.Fatal("process 2's list does not show the revocation 6 s after it (bound: 5 s rebuild interval)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("revocation on process 1 visible on process 2 after %s", time.Since(revoked).Round(10*time.Millisecond))
}
