package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryDoc holds the RFC 8414 members the journey relies on.
type discoveryDoc struct {
	Issuer                            string   `json:"issuer"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
}

// endpoints are the URLs of a discovery document, comparable as a whole.
type endpoints struct{ issuer, token, jwks, registration, introspection, revocation string }

// discover fetches both well-known documents of ws, requires them to be
// identical with the exact issuer (SECURITY.md J1: OIDC Discovery §4.3,
// RFC 8414 §3.3) and the documented endpoint URLs, and returns them.
func (lk *instance) discover(t *testing.T, ws string) discoveryDoc {
	t.Helper()
	issuer := lk.issuer(ws)
	oidcDoc := lk.client.get(t, issuer+"/.well-known/openid-configuration")
	rfc8414 := lk.client.get(t, lk.base+"/.well-known/oauth-authorization-server/w/"+ws)
	if oidcDoc.status != http.StatusOK || rfc8414.status != http.StatusOK {
		t.Fatalf("discovery status %d / %d", oidcDoc.status, rfc8414.status)
	}
	if !bytes.Equal(oidcDoc.raw, rfc8414.raw) {
		t.Fatalf("J1: the two discovery documents differ:\n%s\n%s", oidcDoc.raw, rfc8414.raw)
	}
	var d discoveryDoc
	if err := json.Unmarshal(oidcDoc.raw, &d); err != nil {
		t.Fatalf("discovery JSON: %v", err)
	}
	got := endpoints{d.Issuer, d.TokenEndpoint, d.JWKSURI, d.RegistrationEndpoint, d.IntrospectionEndpoint, d.RevocationEndpoint}
	want := endpoints{issuer, issuer + "/oauth2/token", issuer + "/oauth2/jwks", issuer + "/oauth2/register",
		issuer + "/oauth2/introspect", issuer + "/oauth2/revoke"}
	if got != want {
		t.Fatalf("J1: discovery endpoints\n got %+v\nwant %+v", got, want)
	}
	return d
}

// TestJourney is a new user's journey: services, scopes and clients
// through the admin API; tokens with x/oauth2 (client_secret_basic and
// client_secret_post, scopes, RFC 8707 resource); verification with
// go-oidc against the published JWKS; introspection, revocation,
// introspection again. Every endpoint used is the one discovery names.
func TestJourney(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testJourney)
}

func testJourney(t *testing.T, lk *instance) {
	const ws = "default" // created on first start
	lk.createService(t, ws, "orders", "https://orders.example", "orders:read", "orders:write")
	lk.createService(t, ws, "billing", "https://billing.example", "billing:read")
	d := lk.discover(t, ws)
	for _, s := range []string{"orders:read", "orders:write", "billing:read"} {
		if !slices.Contains(d.ScopesSupported, s) {
			t.Errorf("discovery scopes_supported %v lacks %s", d.ScopesSupported, s)
		}
	}
	if !slices.Contains(d.GrantTypesSupported, "client_credentials") {
		t.Errorf("discovery grant_types_supported %v lacks client_credentials", d.GrantTypesSupported)
	}
	for _, m := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"} {
		if !slices.Contains(d.TokenEndpointAuthMethodsSupported, m) {
			t.Errorf("discovery token_endpoint_auth_methods_supported lacks %s", m)
		}
	}
	// go-oidc's own discovery client accepts the document (issuer check).
	provider, err := oidc.NewProvider(t.Context(), d.Issuer)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	if provider.Endpoint().TokenURL != d.TokenEndpoint {
		t.Errorf("go-oidc token URL %q, want %q", provider.Endpoint().TokenURL, d.TokenEndpoint)
	}

	cases := []struct {
		name   string
		method string
		style  oauth2.AuthStyle
		allow  []string
		scopes []string
		params url.Values
		// wantScope and wantAud describe the token.
		wantScope string
		wantAud   []string
	}{
		{name: "basic all scopes", method: "client_secret_basic", style: oauth2.AuthStyleInHeader,
			allow:     []string{"orders:read", "orders:write", "billing:read"},
			wantScope: "billing:read orders:read orders:write", wantAud: []string{"https://orders.example", "https://billing.example"}},
		{name: "basic one scope", method: "client_secret_basic", style: oauth2.AuthStyleInHeader,
			allow: []string{"orders:read", "orders:write"}, scopes: []string{"orders:read"},
			wantScope: "orders:read", wantAud: []string{"https://orders.example"}},
		{name: "post scopes", method: "client_secret_post", style: oauth2.AuthStyleInParams,
			allow: []string{"orders:read", "orders:write"}, scopes: []string{"orders:write", "orders:read"},
			wantScope: "orders:read orders:write", wantAud: []string{"https://orders.example"}},
		{name: "post resource", method: "client_secret_post", style: oauth2.AuthStyleInParams,
			allow:     []string{"orders:read", "billing:read"},
			params:    url.Values{"resource": {"https://billing.example"}}, // RFC 8707 §2
			wantScope: "billing:read", wantAud: []string{"https://billing.example"}},
		{name: "basic resource and scope", method: "client_secret_basic", style: oauth2.AuthStyleInHeader,
			allow: []string{"orders:read", "orders:write", "billing:read"}, scopes: []string{"orders:read"},
			params:    url.Values{"resource": {"https://orders.example"}},
			wantScope: "orders:read", wantAud: []string{"https://orders.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := lk.secretClient(t, ws, tc.method, tc.allow...)
			before := lk.clock.Now().Truncate(time.Second)
			tok := lk.mustToken(t, ccConfig(d.TokenEndpoint, c, tc.style, tc.scopes, tc.params))
			checkTokenResponse(t, tok, tc.wantScope)
			claims := verifyWithOIDC(t, d.Issuer, d.JWKSURI, tok.AccessToken, "RS256")
			checkClaims(t, claims, c.ClientID, tc.wantScope, tc.wantAud, before, tok)
			checkIntrospectRevoke(t, lk, d, c, tok.AccessToken, claims)
		})
	}
}

// checkTokenResponse checks the RFC 6749 §5.1 response.
func checkTokenResponse(t *testing.T, tok *oauth2.Token, wantScope string) {
	t.Helper()
	if !strings.EqualFold(tok.TokenType, "Bearer") || tok.Expiry.IsZero() || tok.RefreshToken != "" {
		t.Errorf("token response: type %q, expiry %v, refresh token present %v (D6: none allowed)",
			tok.TokenType, tok.Expiry, tok.RefreshToken != "")
	}
	if s, _ := tok.Extra("scope").(string); s != wantScope {
		t.Errorf("token response scope %q, want %q", s, wantScope)
	}
}

// checkClaims checks the RFC 9068 §2.2 claims of a client_credentials token.
func checkClaims(t *testing.T, c atClaims, clientID, scope string, aud []string, before time.Time, tok *oauth2.Token) {
	t.Helper()
	if c.Subject != clientID || c.ClientID != clientID {
		t.Errorf("sub %q client_id %q, want both %q (RFC 9068 §2.2)", c.Subject, c.ClientID, clientID)
	}
	if c.Scope != scope {
		t.Errorf("scope claim %q, want %q", c.Scope, scope)
	}
	if !sameSet(c.Audience, aud) {
		t.Errorf("aud %v, want %v (Q5, RFC 8707)", c.Audience, aud)
	}
	if iat := time.Unix(c.IssuedAt, 0); iat.Before(before) || iat.After(before.Add(5*time.Second)) {
		t.Errorf("iat %v not at issuance (%v)", iat, before)
	}
	if ttl := time.Until(tok.Expiry).Round(time.Minute); c.Expiry-c.IssuedAt != int64(time.Hour/time.Second) || ttl != time.Hour {
		t.Errorf("exp - iat = %ds, expires_in ≈ %v, want the default 1h", c.Expiry-c.IssuedAt, ttl)
	}
}

// checkIntrospectRevoke introspects the token as its own client (active,
// fields equal to the claims), revokes it, and introspects it again
// (inactive), all at the endpoints discovery names.
func checkIntrospectRevoke(t *testing.T, lk *instance, d discoveryDoc, c clientInfo, raw string, claims atClaims) {
	t.Helper()
	cred := basic{c.ClientID, c.ClientSecret}
	if c.TokenEndpointAuthMethod == "client_secret_post" {
		cred = basic{}
	}
	form := func() url.Values {
		f := url.Values{"token": {raw}}
		if cred.id == "" {
			f.Set("client_id", c.ClientID)
			f.Set("client_secret", c.ClientSecret)
		}
		return f
	}
	r := lk.client.postForm(t, d.IntrospectionEndpoint, form(), cred)
	wantActive(t, r, true)
	wantIntrospection(t, r, claims)
	if rv := lk.client.postForm(t, d.RevocationEndpoint, form(), cred); rv.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", rv.status, rv.raw)
	}
	wantActive(t, lk.client.postForm(t, d.IntrospectionEndpoint, form(), cred), false)
}

// wantIntrospection compares an active RFC 7662 §2.2 answer to the claims.
func wantIntrospection(t *testing.T, r reply, c atClaims) {
	t.Helper()
	var got struct {
		Scope     string   `json:"scope"`
		ClientID  string   `json:"client_id"`
		Subject   string   `json:"sub"`
		Audience  []string `json:"aud"`
		Issuer    string   `json:"iss"`
		Expiry    int64    `json:"exp"`
		IssuedAt  int64    `json:"iat"`
		JTI       string   `json:"jti"`
		TokenType string   `json:"token_type"`
	}
	if err := json.Unmarshal(r.raw, &got); err != nil {
		t.Fatalf("introspection JSON: %v: %s", err, r.raw)
	}
	if got.Scope != c.Scope || got.ClientID != c.ClientID || got.Subject != c.Subject || got.Issuer != c.Issuer ||
		got.Expiry != c.Expiry || got.IssuedAt != c.IssuedAt || got.JTI != c.JTI || !sameSet(got.Audience, c.Audience) ||
		!strings.EqualFold(got.TokenType, "Bearer") {
		t.Errorf("introspection %s does not match the token claims %+v", r.raw, c)
	}
}
