package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// TestJWTBearerRefreshTokens runs JWT bearer refresh tokens through the server as an
// outside client sees it, on every backend: the admin API refuses refresh
// tokens on the JWT bearer grant for a client without the refresh_token
// grant type; with both, a golang.org/x/oauth2/jwt client gets a refresh
// token, golang.org/x/oauth2 refreshes an expired token with it for the
// same user, and revoking the refresh token ends the family, so its
// access tokens introspect inactive.
func TestJWTBearerRefreshTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testJWTBearerRefreshTokens)
}

func testJWTBearerRefreshTokens(t *testing.T, lk *instance) {
	const ws = "default"
	wsPath := "/workspaces/" + ws
	lk.createService(t, ws, "api", "https://api.example", "api:read")
	lk.adminOK(t, http.MethodPost, wsPath+"/users", map[string]any{"id": "u-ada", "username": "ada"}, http.StatusCreated, nil)

	plain := lk.createClient(t, ws, map[string]any{"name": "no refresh grant",
		"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api:read"}})
	r := lk.adminDo(t, http.MethodPut, wsPath+"/clients/"+plain.ClientID+"/jwt-bearer", map[string]any{"refresh_tokens": true})
	if r.status != http.StatusBadRequest || !hasFieldError(r, "refresh_tokens") {
		t.Fatalf("refresh_tokens without the refresh_token grant type: %d %s, want 400 naming refresh_tokens", r.status, r.raw)
	}

	c := lk.createClient(t, ws, map[string]any{"name": "JWT bearer with refresh",
		"grant_types": []string{jwtBearerGrant, "refresh_token"}, "scopes": []string{"api:read"}})
	s := newJWTBearerSigner(t)
	lk.adminOK(t, http.MethodPost, wsPath+"/clients/"+c.ClientID+"/certificates",
		map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+c.ClientID+"/jwt-bearer",
		map[string]any{"refresh_tokens": true, "pre_auth": "all_users"}, http.StatusOK, nil)

	tokenURL := lk.wsURL(ws) + "/oauth2/token"
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		t.Fatal(err)
	}
	// Assertion only (Salesforce style): the client is the assertion's iss.
	bearer := &jwt.Config{Email: c.ClientID, Subject: "ada", TokenURL: tokenURL, Scopes: []string{"api:read"},
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), PrivateKeyID: "e2e"}
	first, err := bearer.TokenSource(t.Context()).Token()
	if err != nil {
		t.Fatalf("x/oauth2/jwt: %v", err)
	}
	lk.leaks.AddToken(first.AccessToken)
	rt, _ := first.Extra("refresh_token").(string)
	if rt == "" {
		t.Fatal("JWT bearer response without refresh_token although the client enabled them")
	}
	lk.leaks.Add(rt)

	// x/oauth2 refreshes an expired token with the client's secret.
	conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader}}
	next, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	lk.leaks.AddToken(next.AccessToken)
	lk.leaks.Add(next.RefreshToken)
	if next.AccessToken == first.AccessToken || next.RefreshToken == "" || next.RefreshToken == rt {
		t.Fatalf("refresh answered access token changed=%v, refresh token %q (first %q): want both new",
			next.AccessToken != first.AccessToken, next.RefreshToken, rt)
	}
	issuer := lk.issuer(ws)
	a := verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", first.AccessToken, "RS256")
	b := verifyWithOIDC(t, issuer, issuer+"/oauth2/jwks", next.AccessToken, "RS256")
	if a.Subject != "u-ada" || b.Subject != a.Subject || b.ClientID != c.ClientID || b.Scope != "api:read" {
		t.Fatalf("first sub %q; refreshed sub %q client_id %q scope %q; want u-ada, %s, api:read",
			a.Subject, b.Subject, b.ClientID, b.Scope, c.ClientID)
	}

	// Revoking the refresh token revokes its family (RFC 7009 §2.1): the
	// access tokens of the grant introspect inactive and it refreshes no more.
	cred := basic{c.ClientID, c.ClientSecret}
	wantActive(t, lk.introspect(t, ws, next.AccessToken, cred), true)
	lk.revoke(t, ws, next.RefreshToken, cred)
	wantActive(t, lk.introspect(t, ws, next.AccessToken, cred), false)
	wantActive(t, lk.introspect(t, ws, first.AccessToken, cred), false)
	_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: next.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
}

// hasFieldError reports whether an admin API error answer lists field.
func hasFieldError(r reply, field string) bool {
	errs, _ := r.json["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field {
			return true
		}
	}
	return false
}
