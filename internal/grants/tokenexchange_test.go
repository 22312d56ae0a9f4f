package grants_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// TestTokenExchangeIDToken: an ID token of ours issued to the requesting
// client is a subject token (the user it names, bounded by the client's
// scopes) and an actor token (its sub in act); one issued to another
// client, expired, or of another type (an access token declared as an ID
// token, an ID token declared as an access token) is invalid_request
// (RFC 8693 §2.2.2).
func TestTokenExchangeIDToken(t *testing.T) {
	fx := newFixture(t, oauth2.AlgES256)
	fx.user(t, "acme", storage.User{ID: "usr-alice", Username: "alice"})
	fx.user(t, "acme", storage.User{ID: "usr-bob", Username: "bob"})
	settings := &storage.TokenExchangeSettings{SubjectTokenTypes: storage.SubjectTokenTypes, MayImpersonate: true, MayDelegate: true}
	fx.client(t, storage.Client{ID: "tx", Scopes: []string{"orders:read"},
		GrantTypes: []string{oauth2.GrantClientCredentials, oauth2.GrantTokenExchange}, TokenExchange: settings})
	now := fx.env.Clock.Now().Truncate(time.Second)
	idToken := func(aud, sub string, exp time.Time) string {
		s, err := fx.env.Keys.Signer(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		raw, err := oidc.MintIDToken(s, oidc.IDToken{Issuer: fx.env.Issuer("acme"), Subject: sub, ClientID: aud,
			IssuedAt: now.Add(-time.Minute), ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	exchange := func(form url.Values) (int, map[string]any) {
		form.Set("grant_type", oauth2.GrantTokenExchange)
		resp := fx.post(t, "acme", form, "tx", fx.secrets["tx"])
		defer func() { _ = resp.Body.Close() }()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	claimsOf := func(raw string) map[string]any {
		jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &m)
		return m
	}

	status, body := exchange(url.Values{"subject_token": {idToken("tx", "usr-alice", now.Add(time.Hour))},
		"subject_token_type": {storage.TokenTypeIDToken}})
	if status != http.StatusOK || body["issued_token_type"] != storage.TokenTypeAccessToken || body["token_type"] != "Bearer" {
		t.Fatalf("ID token subject: %d %v", status, body)
	}
	c := claimsOf(body["access_token"].(string))
	if c["sub"] != "usr-alice" || c["client_id"] != "tx" || c["scope"] != "orders:read" || c["act"] != nil ||
		int64(c["exp"].(float64)) > now.Add(time.Hour).Unix() {
		t.Fatalf("claims of the token exchanged for an ID token: %v", c)
	}

	// Delegation: bob's ID token as actor for alice.
	status, body = exchange(url.Values{"subject_token": {idToken("tx", "usr-alice", now.Add(time.Hour))},
		"subject_token_type": {storage.TokenTypeIDToken}, "actor_token": {idToken("tx", "usr-bob", now.Add(time.Hour))},
		"actor_token_type": {storage.TokenTypeIDToken}})
	if status != http.StatusOK {
		t.Fatalf("ID token actor: %d %v", status, body)
	}
	if act, _ := claimsOf(body["access_token"].(string))["act"].(map[string]any); act["sub"] != "usr-bob" {
		t.Fatalf("act of the delegated token: %v", act)
	}

	ccResp := httptestPost(fx.env.Mux, "/w/acme/oauth2/token", url.Values{"grant_type": {oauth2.GrantClientCredentials}}, "tx", fx.secrets["tx"])
	var cc map[string]any
	_ = json.Unmarshal(ccResp.Body.Bytes(), &cc)
	accessToken, _ := cc["access_token"].(string)
	if accessToken == "" {
		t.Fatalf("client_credentials: %d %s", ccResp.Code, ccResp.Body)
	}
	cases := []struct {
		name, token, typ, want string
	}{
		{"issued to another client", idToken("svc", "usr-alice", now.Add(time.Hour)), storage.TokenTypeIDToken, "not issued to this client"},
		{"expired", idToken("tx", "usr-alice", now.Add(-2*time.Minute)), storage.TokenTypeIDToken, "expired"},
		{"unknown user", idToken("tx", "usr-nobody", now.Add(time.Hour)), storage.TokenTypeIDToken, "no longer exists"},
		{"access token declared as ID token", accessToken, storage.TokenTypeIDToken, "subject_token is invalid"},
		{"ID token declared as access token", idToken("tx", "usr-alice", now.Add(time.Hour)), storage.TokenTypeAccessToken, "not an access token"},
		{"ID token declared as refresh token", idToken("tx", "usr-alice", now.Add(time.Hour)), storage.TokenTypeRefreshToken, "not a refresh token"},
		{"ID token declared as an external JWT", idToken("tx", "usr-alice", now.Add(time.Hour)), storage.TokenTypeJWT, "trusted issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := exchange(url.Values{"subject_token": {tc.token}, "subject_token_type": {tc.typ}})
			desc, _ := body["error_description"].(string)
			if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, tc.want) {
				t.Fatalf("%d %v, want 400 invalid_request with %q", status, body, tc.want)
			}
		})
	}
}

// TestTokenExchangeBoundSubject: an access token bound to a key (cnf,
// RFC 9449 §6, RFC 8705 §3) is never exchanged, as subject or actor,
// since the exchange takes no proof of that key (SECURITY.md U9).
func TestTokenExchangeBoundSubject(t *testing.T) {
	fx := newFixture(t, oauth2.AlgES256)
	fx.client(t, storage.Client{ID: "tx", Scopes: []string{"orders:read"},
		GrantTypes:    []string{oauth2.GrantClientCredentials, oauth2.GrantTokenExchange},
		TokenExchange: &storage.TokenExchangeSettings{SubjectTokenTypes: storage.SubjectTokenTypes, MayImpersonate: true, MayDelegate: true}})
	s, err := fx.env.Keys.Signer(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	now := fx.env.Clock.Now().Truncate(time.Second)
	mint := func(extra map[string]any) string {
		raw, err := tokens.Mint(s, tokens.AccessToken{Issuer: fx.env.Issuer("acme"), Subject: "tx", ClientID: "tx",
			Scope: "orders:read", JTI: tokens.NewJTI(), Audience: []string{ordersAPI}, IssuedAt: now, ExpiresAt: now.Add(time.Hour), Extra: extra})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	bound, plain := mint(map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}), mint(nil)
	for name, form := range map[string]url.Values{
		"subject": {"subject_token": {bound}, "subject_token_type": {storage.TokenTypeAccessToken}},
		"actor": {"subject_token": {plain}, "subject_token_type": {storage.TokenTypeAccessToken},
			"actor_token": {bound}, "actor_token_type": {storage.TokenTypeAccessToken}},
	} {
		form.Set("grant_type", oauth2.GrantTokenExchange)
		rec := httptestPost(fx.env.Mux, "/w/acme/oauth2/token", form, "tx", fx.secrets["tx"])
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"invalid_request"`) ||
			!strings.Contains(rec.Body.String(), "bound to a key") {
			t.Fatalf("bound %s token: %d %s, want 400 invalid_request", name, rec.Code, rec.Body)
		}
	}
	form := url.Values{"grant_type": {oauth2.GrantTokenExchange}, "subject_token": {plain}, "subject_token_type": {storage.TokenTypeAccessToken}}
	if rec := httptestPost(fx.env.Mux, "/w/acme/oauth2/token", form, "tx", fx.secrets["tx"]); rec.Code != http.StatusOK {
		t.Fatalf("the same token unbound: %d %s", rec.Code, rec.Body)
	}
}

// TestTokenExchangeChainCap: each delegation nests the previous act
// (RFC 8693 §4.1) and a sixth actor is refused with invalid_request
// (SECURITY.md U8); the subject here is a client alone (its own token).
func TestTokenExchangeChainCap(t *testing.T) {
	fx := newFixture(t, oauth2.AlgES256)
	fx.client(t, storage.Client{ID: "tx", Scopes: []string{"orders:read"},
		GrantTypes:    []string{oauth2.GrantClientCredentials, oauth2.GrantTokenExchange},
		TokenExchange: &storage.TokenExchangeSettings{SubjectTokenTypes: storage.SubjectTokenTypes, MayDelegate: true}})
	post := func(form url.Values) (int, map[string]any) {
		rec := httptestPost(fx.env.Mux, "/w/acme/oauth2/token", form, "tx", fx.secrets["tx"])
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	status, body := post(url.Values{"grant_type": {oauth2.GrantClientCredentials}})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	own := body["access_token"].(string)
	subject := own
	for i := 1; i <= 6; i++ {
		status, body = post(url.Values{"grant_type": {oauth2.GrantTokenExchange},
			"subject_token": {subject}, "subject_token_type": {storage.TokenTypeAccessToken},
			"actor_token": {own}, "actor_token_type": {storage.TokenTypeAccessToken}})
		if i == 6 {
			if status != http.StatusBadRequest || body["error"] != "invalid_request" ||
				!strings.Contains(body["error_description"].(string), "delegation chain is too long") {
				t.Fatalf("sixth actor: %d %v, want 400 invalid_request", status, body)
			}
			return
		}
		if status != http.StatusOK {
			t.Fatalf("exchange %d: %d %v", i, status, body)
		}
		subject = body["access_token"].(string)
		jws, err := jose.ParseSignedCompact(subject, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims)
		depth := 0
		for act, _ := claims["act"].(map[string]any); act != nil; act, _ = act["act"].(map[string]any) {
			if act["sub"] != "tx" {
				t.Fatalf("act member %v", act)
			}
			depth++
		}
		if claims["sub"] != "tx" || depth != i {
			t.Fatalf("exchange %d: sub %v, act depth %d", i, claims["sub"], depth)
		}
	}
}
