package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestClientAuthorizationDetailsTypes: the RFC 9396 §10 client metadata
// authorization_details_types. Registration (admin API create and update,
// RFC 7591 registration and RFC 7592 update) refuses a type no service of
// the workspace declares, naming the member; a client that lists types
// gets invalid_authorization_details for any other at the authorization
// endpoint, PAR, request objects and client_credentials, while the listed
// type passes (x/oauth2 for client_credentials, a pushed request for the
// code flow); a client with an empty list keeps the rule of its scopes.
func TestClientAuthorizationDetailsTypes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		rarSetup(t, lk, ws)
		clients := "/workspaces/" + ws + "/clients"
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := json.Marshal(jose.JSONWebKey{Key: key.Public(), KeyID: "adt-1", Algorithm: "ES256", Use: "sig"})
		if err != nil {
			t.Fatal(err)
		}
		// Allowed both services' scopes, but listing only payments.
		only := lk.createClient(t, ws, map[string]any{
			"name": "e2e RAR listed types", "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
			"grant_types": []string{"authorization_code", "client_credentials"}, "response_types": []string{"code"},
			"redirect_uris": []string{rarCallback}, "require_pkce": false, "scopes": []string{"payments:initiate", "accounts:read"},
			"jwks": map[string]any{"keys": []json.RawMessage{pub}}, "authorization_details_types": []string{"payment_initiation"},
		})
		cred := basic{only.ClientID, only.ClientSecret}

		t.Run("admin API shows and refuses", func(t *testing.T) {
			var got struct {
				Types []string `json:"authorization_details_types"`
			}
			lk.adminOK(t, http.MethodGet, clients+"/"+only.ClientID, nil, http.StatusOK, &got)
			if !slices.Equal(got.Types, []string{"payment_initiation"}) {
				t.Fatalf("stored authorization_details_types %v", got.Types)
			}
			for _, tc := range []struct {
				name, method, path string
				body               map[string]any
				want               string
			}{
				{"create with an undeclared type", http.MethodPost, clients, map[string]any{"name": "x", "scopes": []string{"payments:initiate"},
					"authorization_details_types": []string{"crypto_transfer"}}, `no service of the workspace declares \"crypto_transfer\"`},
				{"update with an undeclared type", http.MethodPatch, clients + "/" + only.ClientID,
					map[string]any{"authorization_details_types": []string{"payment_initiation", "wire"}}, `declares \"wire\"`},
				{"a type listed twice", http.MethodPatch, clients + "/" + only.ClientID,
					map[string]any{"authorization_details_types": []string{"payment_initiation", "payment_initiation"}}, "twice"},
			} {
				r := lk.adminDo(t, tc.method, tc.path, tc.body)
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), `"field":"authorization_details_types"`) ||
					!strings.Contains(string(r.raw), tc.want) {
					t.Errorf("%s: %d %s, want 400 naming authorization_details_types and %s", tc.name, r.status, r.raw, tc.want)
				}
			}
			lk.adminOK(t, http.MethodGet, clients+"/"+only.ClientID, nil, http.StatusOK, &got)
			if !slices.Equal(got.Types, []string{"payment_initiation"}) {
				t.Fatalf("a refused update changed the list: %v", got.Types)
			}
		})

		t.Run("dynamic registration", func(t *testing.T) {
			d := lk.discover(t, ws)
			var iat struct {
				Token string `json:"token"`
			}
			lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/initial-access-tokens",
				map[string]any{"description": "e2e RAR", "expires_in": 600, "max_uses": 3}, http.StatusCreated, &iat)
			lk.leaks.Add(iat.Token)
			meta := map[string]any{"client_name": "registered RAR", "grant_types": []string{"client_credentials"},
				"token_endpoint_auth_method": "client_secret_basic", "scope": "payments:initiate",
				"authorization_details_types": []string{"account_information", "crypto_transfer"}}
			r := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, iat.Token, meta)
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_client_metadata" ||
				!strings.Contains(r.str("error_description"), "authorization_details_types: no service of the workspace declares 'crypto_transfer'") {
				t.Fatalf("RFC 7591 registration with an undeclared type: %d %s, want 400 invalid_client_metadata naming the member", r.status, r.raw)
			}
			meta["authorization_details_types"] = []string{"payment_initiation"}
			r = lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, iat.Token, meta)
			if r.status != http.StatusCreated {
				t.Fatalf("RFC 7591 registration: %d %s", r.status, r.raw)
			}
			lk.leaks.Add(r.str("client_secret"))
			lk.leaks.Add(r.str("registration_access_token"))
			if got := detailTypeList(r.json["authorization_details_types"]); !slices.Equal(got, []string{"payment_initiation"}) {
				t.Fatalf("registration response authorization_details_types %v", got)
			}
			uri, rat := r.str("registration_client_uri"), r.str("registration_access_token")
			meta["client_id"] = r.str("client_id")
			meta["authorization_details_types"] = []string{"wire"}
			if u := lk.registerJSON(t, uri, http.MethodPut, rat, meta); u.status != http.StatusBadRequest ||
				u.str("error") != "invalid_client_metadata" || !strings.Contains(u.str("error_description"), "authorization_details_types") {
				t.Fatalf("RFC 7592 update with an undeclared type: %d %s", u.status, u.raw)
			}
			delete(meta, "authorization_details_types")
			u := lk.registerJSON(t, uri, http.MethodPut, rat, meta)
			if u.status != http.StatusOK || u.json["authorization_details_types"] != nil {
				t.Fatalf("RFC 7592 update without the member clears it: %d %s", u.status, u.raw)
			}
		})

		other := "[" + accountDetail + "]"
		const mentions = "is not one of the client's registered authorization_details_types"
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		authorizeError := func(t *testing.T, q url.Values) (int, string, string) {
			t.Helper()
			resp, err := noRedirect.Get(lk.wsURL(ws) + "/oauth2/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if loc == nil || !strings.HasPrefix(loc.String(), rarCallback) {
				t.Fatalf("authorize: %d Location %v, want a redirect to the client", resp.StatusCode, loc)
			}
			return resp.StatusCode, loc.Query().Get("error"), loc.Query().Get("error_description")
		}
		signed := func(details string) string {
			now := lk.clock.Now()
			claims := map[string]any{"iss": only.ClientID, "aud": lk.issuer(ws), "exp": now.Add(5 * time.Minute).Unix(),
				"nbf": now.Unix(), "iat": now.Unix(), "jti": e2etest.RandomToken(16), "response_type": "code",
				"client_id": only.ClientID, "redirect_uri": rarCallback, "scope": "accounts:read", "state": "adt",
				"authorization_details": json.RawMessage(details)}
			return signProof(t, key, jose.ES256, map[string]any{"typ": "oauth-authz-req+jwt", "kid": "adt-1"}, claims)
		}

		// Each way in refuses the unlisted type with the RFC 9396 §5
		// error, status and a description naming the rule.
		for _, tc := range []struct {
			name string
			run  func(t *testing.T) (status int, code, desc string)
		}{
			{"authorization endpoint", func(t *testing.T) (int, string, string) {
				return authorizeError(t, url.Values{"response_type": {"code"}, "client_id": {only.ClientID}, "redirect_uri": {rarCallback},
					"scope": {"accounts:read"}, "state": {"adt"}, "authorization_details": {other}})
			}},
			{"request object", func(t *testing.T) (int, string, string) {
				return authorizeError(t, url.Values{"client_id": {only.ClientID}, "request": {signed(other)}})
			}},
			{"PAR", func(t *testing.T) (int, string, string) {
				r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {only.ClientID},
					"redirect_uri": {rarCallback}, "scope": {"accounts:read"}, "authorization_details": {other}}, cred)
				return r.status, r.str("error"), r.str("error_description")
			}},
			{"client_credentials", func(t *testing.T) (int, string, string) {
				r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
					"authorization_details": {other}}, cred)
				if r.header.Get("Cache-Control") != "no-store" {
					t.Error("token error without Cache-Control: no-store")
				}
				return r.status, r.str("error"), r.str("error_description")
			}},
		} {
			t.Run("refused/"+tc.name, func(t *testing.T) {
				status, code, desc := tc.run(t)
				want := http.StatusBadRequest
				if tc.name == "authorization endpoint" || tc.name == "request object" {
					want = http.StatusSeeOther // redirected to the client (RFC 6749 §4.1.2.1)
					if status == http.StatusFound {
						status = want
					}
				}
				if status != want || code != "invalid_authorization_details" ||
					desc != "authorization_details[0].type account_information "+mentions {
					t.Errorf("%d %s %q, want %d invalid_authorization_details %q", status, code, desc, want, mentions)
				}
			})
		}

		t.Run("accepted: the listed type", func(t *testing.T) {
			cfg := ccConfig(lk.wsURL(ws)+"/oauth2/token", only, oauth2.AuthStyleInHeader, []string{"payments:initiate"},
				url.Values{"authorization_details": {"[" + paymentDetail + "]"}})
			tok := lk.mustToken(t, cfg)
			if !sameDetails(t, tok.Extra("authorization_details"), "["+paymentDetail+"]") ||
				!sameDetails(t, jwtClaimSet(t, tok.AccessToken)["authorization_details"], "["+paymentDetail+"]") {
				t.Fatalf("x/oauth2 token: details %v", tok.Extra("authorization_details"))
			}
			par := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/par", url.Values{"response_type": {"code"}, "client_id": {only.ClientID},
				"redirect_uri": {rarCallback}, "scope": {"payments:initiate"}, "authorization_details": {"[" + paymentDetail + "]"}}, cred)
			if par.status != http.StatusCreated || !strings.HasPrefix(par.str("request_uri"), "urn:ietf:params:oauth:request_uri:") {
				t.Fatalf("PAR with the listed type: %d %s", par.status, par.raw)
			}
		})

		t.Run("an empty list keeps the rule of the scopes", func(t *testing.T) {
			lk.adminOK(t, http.MethodPatch, clients+"/"+only.ClientID, map[string]any{"authorization_details_types": []string{}}, http.StatusOK, nil)
			r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
				"authorization_details": {other}}, cred)
			if r.status != http.StatusOK || !sameDetails(t, r.json["authorization_details"], other) {
				t.Fatalf("unrestricted client: %d %s", r.status, r.raw)
			}
			lk.leaks.AddToken(r.str("access_token"))
		})

		t.Run("a type no longer declared blocks only a change of the list", func(t *testing.T) {
			lk.adminOK(t, http.MethodPatch, clients+"/"+only.ClientID, map[string]any{"authorization_details_types": []string{"account_information"}}, http.StatusOK, nil)
			lk.adminOK(t, http.MethodPatch, "/workspaces/"+ws+"/services/accounts", map[string]any{"authorization_detail_types": []any{}}, http.StatusOK, nil)
			lk.adminOK(t, http.MethodPatch, clients+"/"+only.ClientID, map[string]any{"name": "renamed"}, http.StatusOK, nil)
			r := lk.adminDo(t, http.MethodPatch, clients+"/"+only.ClientID, map[string]any{"authorization_details_types": []string{"account_information"}})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), `declares \"account_information\"`) {
				t.Fatalf("setting a type no longer declared: %d %s", r.status, r.raw)
			}
			tok := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
				"authorization_details": {other}}, cred)
			wantStatusCode(t, tok, http.StatusBadRequest, "invalid_authorization_details")
		})
	})
}

// detailTypeList reads a JSON array of strings.
func detailTypeList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
