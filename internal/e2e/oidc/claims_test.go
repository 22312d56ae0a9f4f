package oidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestClaimMappingTargets: a client's mapped claims reach exactly their
// targets through the code flow with golang.org/x/oauth2 and go-oidc: the
// access token (and its introspection), the ID token and UserInfo, on
// SQLite and PostgreSQL.
func TestClaimMappingTargets(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) {
		c := e.createClient(t, testWS, clientSpec{ID: "claims-rp", RedirectURIs: []string{rpRedirect}})
		e.adminDo(t, http.MethodPut, "/workspaces/"+testWS+"/clients/"+c.ID+"/claims", map[string]any{"claims": []map[string]any{
			{"name": "tenant", "expression": `workspace.id + "||" + user.username`, "targets": []string{"access_token", "introspection"}},
			{"name": "nick", "expression": `user.username.upperAscii()`, "targets": []string{"id_token"}},
			{"name": "grant", "expression": `{"scopes": request.scopes, "n": size(request.scopes)}`, "targets": []string{"userinfo"}},
		}}, http.StatusOK, nil)

		params := authParams(c, "scope", "openid")
		res := e.codeFlowIn(t, e.browser(), params, flowOpts{user: &e.user})
		conf := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURI,
			Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
		tok, err := conf.Exchange(e.oauth2Context(t), res.Params.Get("code"))
		if err != nil {
			t.Fatalf("golang.org/x/oauth2 Exchange: %v", err)
		}
		e.secrets.AddToken(tok.AccessToken)
		raw, _ := tok.Extra("id_token").(string)
		e.secrets.AddToken(raw)

		tenant := testWS + "||" + e.user.Username
		at := jwtPayload(t, tok.AccessToken)
		if at["tenant"] != tenant || at["nick"] != nil || at["grant"] != nil {
			t.Errorf("access token claims %v: want tenant only", at)
		}
		id := e.verifyIDToken(t, c.ID, raw, params.Get("nonce"), tok.AccessToken)
		if id.Claims["nick"] != strings.ToUpper(e.user.Username) || id.Claims["tenant"] != nil {
			t.Errorf("ID token claims %v: want nick only", id.Claims)
		}
		info := e.userinfo(t, http.MethodGet, tok.AccessToken, false)
		grant, _ := info.json["grant"].(map[string]any)
		if grant["n"] != float64(1) || info.json["tenant"] != nil || info.json["nick"] != nil {
			t.Errorf("UserInfo %s: want grant only", info.raw)
		}
		r := e.postForm(t, "/oauth2/introspect", c, map[string][]string{"token": {tok.AccessToken}})
		if r.json["tenant"] != tenant || r.json["rtf"] != nil {
			t.Errorf("introspection %s: want tenant and no internal claim", r.raw)
		}
	})
}

// jwtPayload decodes a JWT's payload (introspection checks the signature
// in the same test).
func jwtPayload(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatal("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return m
}
