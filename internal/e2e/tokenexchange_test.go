package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/oauth2/jwt"
)

// RFC 8693 identifiers.
const (
	tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
	ttAccessToken      = "urn:ietf:params:oauth:token-type:access_token"
	ttRefreshToken     = "urn:ietf:params:oauth:token-type:refresh_token"
	ttIDToken          = "urn:ietf:params:oauth:token-type:id_token"
	ttJWT              = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeConfig is golang.org/x/oauth2's client credentials flow with
// grant_type overridden to token exchange (x/oauth2 lets EndpointParams
// replace grant_type) and the RFC 8693 §2.1 parameters; the client
// authenticates with client_secret_basic as at any grant.
func exchangeConfig(tokenURL string, c clientInfo, params url.Values) *clientcredentials.Config {
	p := url.Values{"grant_type": {tokenExchangeGrant}}
	for k, v := range params {
		p[k] = v
	}
	return &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: tokenURL,
		AuthStyle: oauth2.AuthStyleInHeader, EndpointParams: p}
}

// exchangeEnv is the workspace of the token exchange tests: an API, two
// services that call on (svc-a, svc-b, whose clients' IDs are their
// service identifiers, so a user token for them names them in aud), the
// user ada and a web client that obtains ada's token (JWT bearer with a
// refresh token, so the token belongs to a family).
type exchangeEnv struct {
	lk              *instance
	ws, tokenURL    string
	web, svcA, svcB clientInfo
	userToken       *oauth2.Token
	userRefresh     string
}

func newExchangeEnv(t *testing.T, lk *instance) *exchangeEnv {
	const ws = "default"
	wsPath := "/workspaces/" + ws
	e := &exchangeEnv{lk: lk, ws: ws, tokenURL: lk.wsURL(ws) + "/oauth2/token"}
	lk.createService(t, ws, "api", "https://api.example", "api:read", "api:write")
	lk.createService(t, ws, "svc-a", "urn:svc:a", "a:call")
	lk.createService(t, ws, "svc-b", "urn:svc:b", "b:call")
	lk.adminOK(t, http.MethodPost, wsPath+"/users", map[string]any{"id": "u-ada", "username": "ada"}, http.StatusCreated, nil)

	e.web = lk.createClient(t, ws, map[string]any{"name": "web", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{jwtBearerGrant, "refresh_token", tokenExchangeGrant},
		"scopes":      []string{"api:read", "api:write", "a:call", "b:call"}})
	s := newJWTBearerSigner(t)
	lk.adminOK(t, http.MethodPost, wsPath+"/clients/"+e.web.ClientID+"/certificates",
		map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+e.web.ClientID+"/jwt-bearer",
		map[string]any{"refresh_tokens": true, "pre_auth": "all_users"}, http.StatusOK, nil)
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		t.Fatal(err)
	}
	bearer := &jwt.Config{Email: e.web.ClientID, Subject: "ada", TokenURL: e.tokenURL,
		Scopes:     []string{"api:read", "api:write", "a:call", "b:call"},
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), PrivateKeyID: "e2e"}
	e.userToken, err = bearer.TokenSource(t.Context()).Token()
	if err != nil {
		t.Fatalf("user token through the JWT bearer grant: %v", err)
	}
	lk.leaks.AddToken(e.userToken.AccessToken)
	e.userRefresh, _ = e.userToken.Extra("refresh_token").(string)
	if e.userRefresh == "" {
		t.Fatal("no refresh token for the user")
	}
	lk.leaks.Add(e.userRefresh)

	exchanger := func(id string, scopes ...string) clientInfo {
		c := lk.createClient(t, ws, map[string]any{"client_id": id, "name": id, "token_endpoint_auth_method": "client_secret_basic",
			"grant_types": []string{"client_credentials", tokenExchangeGrant}, "scopes": scopes})
		lk.adminOK(t, http.MethodPut, wsPath+"/clients/"+seg(id)+"/token-exchange", map[string]any{
			"subject_token_types": []string{ttAccessToken}, "may_delegate": true}, http.StatusOK, nil)
		return c
	}
	e.svcA = exchanger("urn:svc:a", "api:read", "api:write", "b:call")
	e.svcB = exchanger("urn:svc:b", "api:read", "api:write")
	return e
}

func seg(s string) string { return url.PathEscape(s) }

// own is a client's own client_credentials token (its actor token).
func (e *exchangeEnv) own(t *testing.T, c clientInfo) string {
	t.Helper()
	return e.lk.mustToken(t, ccConfig(e.tokenURL, c, oauth2.AuthStyleInHeader, nil, nil)).AccessToken
}

func (e *exchangeEnv) exchange(t *testing.T, c clientInfo, params url.Values) *oauth2.Token {
	t.Helper()
	tok, err := e.lk.fetchToken(t, exchangeConfig(e.tokenURL, c, params))
	if err != nil {
		t.Fatalf("token exchange by %s: %v", c.ClientID, err)
	}
	return tok
}

// TestTokenExchange runs RFC 8693 through a real server with
// golang.org/x/oauth2 on every backend: a delegation chain (user token →
// service A → service B) whose final token carries the nested act and
// whose introspection shows it; impersonation refused for a client not
// allowed it and allowed (with a refresh token that the exchange leaves
// usable) where allowed; widening of scope, audience or resource refused;
// and every exchanged token revoked with its subject's family.
func TestTokenExchange(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testTokenExchange)
}

func testTokenExchange(t *testing.T, lk *instance) {
	e := newExchangeEnv(t, lk)
	issuer := lk.issuer(e.ws)
	if d := lk.discover(t, e.ws); !slices.Contains(d.GrantTypesSupported, tokenExchangeGrant) {
		t.Fatalf("discovery grant_types_supported %v lacks %s", d.GrantTypesSupported, tokenExchangeGrant)
	}

	// Service A, called with ada's token, calls service B on her behalf.
	t1 := e.exchange(t, e.svcA, url.Values{"subject_token": {e.userToken.AccessToken}, "subject_token_type": {ttAccessToken},
		"actor_token": {e.own(t, e.svcA)}, "actor_token_type": {ttAccessToken}, "scope": {"api:read b:call"}})
	if got := t1.Extra("issued_token_type"); got != ttAccessToken || t1.TokenType != "Bearer" {
		t.Fatalf("issued_token_type %v, token_type %q: want %s, Bearer (RFC 8693 §2.2.1)", got, t1.TokenType, ttAccessToken)
	}
	c1 := verifiedClaims(t, issuer, lk.wsURL(e.ws), t1.AccessToken)
	if c1["sub"] != "u-ada" || c1["client_id"] != e.svcA.ClientID || c1["scope"] != "api:read b:call" ||
		!sameJSON(c1["act"], map[string]any{"sub": e.svcA.ClientID}) {
		t.Fatalf("first exchange claims: %v", c1)
	}
	if exp, _ := c1["exp"].(float64); int64(exp) > e.userToken.Expiry.Unix()+1 {
		t.Fatalf("exchanged token outlives its subject token: exp %v > %v", exp, e.userToken.Expiry.Unix())
	}
	// Service B exchanges that token in turn: the act chain nests
	// (RFC 8693 §4.1) and the scope narrows further.
	t2 := e.exchange(t, e.svcB, url.Values{"subject_token": {t1.AccessToken}, "subject_token_type": {ttAccessToken},
		"actor_token": {e.own(t, e.svcB)}, "actor_token_type": {ttAccessToken}, "scope": {"api:read"}})
	c2 := verifiedClaims(t, issuer, lk.wsURL(e.ws), t2.AccessToken)
	wantAct := map[string]any{"sub": e.svcB.ClientID, "act": map[string]any{"sub": e.svcA.ClientID}}
	if c2["sub"] != "u-ada" || c2["scope"] != "api:read" || c2["aud"] != "https://api.example" || !sameJSON(c2["act"], wantAct) {
		t.Fatalf("chained exchange claims: %v, want act %v", c2, wantAct)
	}
	intro := lk.introspect(t, e.ws, t2.AccessToken, basic{e.svcB.ClientID, e.svcB.ClientSecret})
	wantActive(t, intro, true)
	if !sameJSON(intro.json["act"], wantAct) || intro.json["sub"] != "u-ada" {
		t.Fatalf("introspection of the chained token: %s, want act %v", intro.raw, wantAct)
	}

	// Widening is refused: a scope beyond the subject token's, an
	// audience the client may not have, a resource that is no service.
	widen := []struct {
		name, code string
		params     url.Values
	}{
		{"scope beyond the subject token", "invalid_scope", url.Values{"scope": {"api:write"}}},
		{"audience not allowed", "invalid_target", url.Values{"audience": {"https://api.internal/admin"}}},
		{"resource not a service", "invalid_target", url.Values{"resource": {"https://other.example"}}},
		{"resource without a granted scope", "invalid_target", url.Values{"resource": {"urn:svc:a"}}},
	}
	for _, tc := range widen {
		p := url.Values{"subject_token": {t1.AccessToken}, "subject_token_type": {ttAccessToken},
			"actor_token": {e.own(t, e.svcB)}, "actor_token_type": {ttAccessToken}}
		for k, v := range tc.params {
			p[k] = v
		}
		_, err := lk.fetchToken(t, exchangeConfig(e.tokenURL, e.svcB, p))
		t.Run(tc.name, func(t *testing.T) { wantOAuthError(t, err, http.StatusBadRequest, tc.code) })
	}

	// Impersonation (no actor) is refused for a client allowed only
	// delegation.
	_, err := lk.fetchToken(t, exchangeConfig(e.tokenURL, e.svcA, url.Values{
		"subject_token": {e.userToken.AccessToken}, "subject_token_type": {ttAccessToken}}))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
	if _, err := lk.fetchToken(t, exchangeConfig(e.tokenURL, e.web, url.Values{
		"subject_token": {e.userRefresh}, "subject_token_type": {ttRefreshToken}})); err == nil {
		t.Fatal("the web client exchanged before an admin allowed it")
	}

	// Where allowed, the web client exchanges its refresh token for a
	// narrower JWT (requested_token_type jwt: token_type N_A); the refresh
	// token is neither consumed nor rotated.
	lk.adminOK(t, http.MethodPut, "/workspaces/"+e.ws+"/clients/"+e.web.ClientID+"/token-exchange", map[string]any{
		"subject_token_types": []string{ttRefreshToken}, "may_impersonate": true, "refresh_tokens": true}, http.StatusOK, nil)
	down := e.exchange(t, e.web, url.Values{"subject_token": {e.userRefresh}, "subject_token_type": {ttRefreshToken},
		"requested_token_type": {ttJWT}, "resource": {"https://api.example"}, "scope": {"api:read"}})
	if down.Extra("issued_token_type") != ttJWT || down.TokenType != "N_A" {
		t.Fatalf("requested jwt: issued_token_type %v token_type %q, want %s and N_A", down.Extra("issued_token_type"), down.TokenType, ttJWT)
	}
	cd := verifiedClaims(t, issuer, lk.wsURL(e.ws), down.AccessToken)
	if cd["sub"] != "u-ada" || cd["scope"] != "api:read" || cd["aud"] != "https://api.example" || cd["act"] != nil {
		t.Fatalf("impersonation token claims: %v", cd)
	}
	webCred := basic{e.web.ClientID, e.web.ClientSecret}
	wantActive(t, lk.introspect(t, e.ws, e.userRefresh, webCred), true)

	// A refresh token by exchange (RFC 8693 §2.2.1: in access_token,
	// token_type N_A) of a new family, narrowed to api:read, redeemed by
	// golang.org/x/oauth2's refresh.
	xr := e.exchange(t, e.web, url.Values{"subject_token": {e.userRefresh}, "subject_token_type": {ttRefreshToken},
		"requested_token_type": {ttRefreshToken}, "scope": {"api:read"}})
	lk.leaks.Add(xr.AccessToken)
	if xr.Extra("issued_token_type") != ttRefreshToken || xr.TokenType != "N_A" || !strings.HasPrefix(xr.AccessToken, "lkrt_") ||
		xr.Extra("scope") != "api:read" {
		t.Fatalf("requested refresh token: %q issued_token_type %v token_type %q scope %v", xr.AccessToken[:5],
			xr.Extra("issued_token_type"), xr.TokenType, xr.Extra("scope"))
	}
	if xr.Expiry.After(time.Now().Add(91 * 24 * time.Hour)) {
		t.Fatalf("exchanged refresh token family ends %v, after its subject's", xr.Expiry)
	}
	conf := &oauth2.Config{ClientID: e.web.ClientID, ClientSecret: e.web.ClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInHeader}}
	refreshed, err := conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: xr.AccessToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err != nil {
		t.Fatalf("refresh with the exchanged refresh token: %v", err)
	}
	lk.leaks.AddToken(refreshed.AccessToken)
	lk.leaks.Add(refreshed.RefreshToken)
	cr := verifiedClaims(t, issuer, lk.wsURL(e.ws), refreshed.AccessToken)
	if cr["sub"] != "u-ada" || cr["scope"] != "api:read" || cr["client_id"] != e.web.ClientID {
		t.Fatalf("access token refreshed from the exchanged family: %v", cr)
	}

	// Revoking ada's refresh token revokes its family: the user token and
	// every token exchanged from it introspect inactive, and they can be
	// exchanged no more.
	lk.revoke(t, e.ws, e.userRefresh, webCred)
	wantActive(t, lk.introspect(t, e.ws, e.userToken.AccessToken, webCred), false)
	wantActive(t, lk.introspect(t, e.ws, t1.AccessToken, basic{e.svcA.ClientID, e.svcA.ClientSecret}), false)
	wantActive(t, lk.introspect(t, e.ws, t2.AccessToken, basic{e.svcB.ClientID, e.svcB.ClientSecret}), false)
	wantActive(t, lk.introspect(t, e.ws, down.AccessToken, webCred), false)
	// The family begun by the exchange ends with its parent.
	wantActive(t, lk.introspect(t, e.ws, refreshed.AccessToken, webCred), false)
	wantActive(t, lk.introspect(t, e.ws, refreshed.RefreshToken, webCred), false)
	_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshed.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
	_, err = lk.fetchToken(t, exchangeConfig(e.tokenURL, e.svcB, url.Values{"subject_token": {t1.AccessToken},
		"subject_token_type": {ttAccessToken}, "actor_token": {e.own(t, e.svcB)}, "actor_token_type": {ttAccessToken}}))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
}

// TestTokenExchangeErrors is a table of the RFC 8693 §2.2.2 error paths,
// in plain HTTP so each answer's status, error and description are
// checked: malformed requests and unacceptable subject or actor tokens
// are invalid_request, a client without the grant type
// unauthorized_client, a request without client authentication
// invalid_client; nothing is issued.
func TestTokenExchangeErrors(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testTokenExchangeErrors)
}

func testTokenExchangeErrors(t *testing.T, lk *instance) {
	e := newExchangeEnv(t, lk)
	plain := lk.secretClient(t, e.ws, "client_secret_basic", "api:read")
	off := lk.createClient(t, e.ws, map[string]any{"name": "grant but no settings", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{tokenExchangeGrant}, "scopes": []string{"api:read"}})
	subject := e.userToken.AccessToken
	actorA, actorB := e.own(t, e.svcA), e.own(t, e.svcB)
	credA := basic{e.svcA.ClientID, e.svcA.ClientSecret}
	base := func(extra ...string) url.Values {
		v := url.Values{"grant_type": {tokenExchangeGrant}, "subject_token": {subject}, "subject_token_type": {ttAccessToken},
			"actor_token": {actorA}, "actor_token_type": {ttAccessToken}}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] == "" {
				v.Del(extra[i])
			} else {
				v.Set(extra[i], extra[i+1])
			}
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		cred   basic
		status int
		code   string
		desc   string
	}{
		{"missing subject_token", base("subject_token", ""), credA, 400, "invalid_request", "subject_token is required"},
		{"missing subject_token_type", base("subject_token_type", ""), credA, 400, "invalid_request", "subject_token_type is required"},
		{"unsupported subject_token_type", base("subject_token_type", "urn:ietf:params:oauth:token-type:saml2"), credA, 400, "invalid_request", "not supported"},
		{"subject type not allowed for the client", base("subject_token_type", ttRefreshToken), credA, 400, "invalid_request", "may not exchange"},
		{"actor_token without actor_token_type", base("actor_token_type", ""), credA, 400, "invalid_request", "actor_token_type is required"},
		{"actor_token_type without actor_token", base("actor_token", ""), credA, 400, "invalid_request", "without actor_token"},
		{"unsupported actor_token_type", base("actor_token_type", ttRefreshToken), credA, 400, "invalid_request", "not supported"},
		{"unsupported requested_token_type", base("requested_token_type", ttIDToken), credA, 400, "invalid_request", "not supported"},
		{"refresh token not allowed for the client", base("requested_token_type", ttRefreshToken), credA, 400, "invalid_request", "may not obtain refresh tokens"},
		{"garbage subject token", base("subject_token", "not-a-token"), credA, 400, "invalid_request", "subject_token is invalid"},
		{"refresh token declared as access token", base("subject_token", e.userRefresh), credA, 400, "invalid_request", "subject_token is invalid"},
		{"truncated subject token", base("subject_token", subject[:len(subject)-5]), credA, 400, "invalid_request", "subject_token is invalid"},
		{"subject token not for this client", base("subject_token", actorB), credA, 400, "invalid_request", "not issued to this client"},
		{"actor token of another client", base("actor_token", actorB), credA, 400, "invalid_request", "actor_token is invalid"},
		{"jwt subject type not allowed for the client", base("subject_token_type", ttJWT), credA, 400, "invalid_request", "may not exchange"},
		{"client without the grant type", base(), basic{plain.ClientID, plain.ClientSecret}, 400, "unauthorized_client", "not allowed to use this grant type"},
		{"client with the grant type but no settings", base(), basic{off.ClientID, off.ClientSecret}, 400, "unauthorized_client", "not enabled"},
		{"no client authentication", base(), basic{}, 401, "invalid_client", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := lk.client.postForm(t, e.tokenURL, tc.form, tc.cred)
			if r.status != tc.status || r.str("error") != tc.code || !strings.Contains(r.str("error_description"), tc.desc) {
				t.Fatalf("%d %s, want %d %s with %q", r.status, r.raw, tc.status, tc.code, tc.desc)
			}
			if r.json["access_token"] != nil {
				t.Fatal("an error answer carries a token")
			}
		})
	}
	// A repeated subject_token is refused by the shared form parser
	// (RFC 6749 §3.2), never resolved to one of the values.
	body := base().Encode() + "&subject_token=" + url.QueryEscape(actorA)
	req := newRequest(t, http.MethodPost, e.tokenURL, []byte(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(credA.id), url.QueryEscape(credA.secret))
	if r := lk.client.do(t, req); r.status != 400 || r.str("error") != "invalid_request" {
		t.Fatalf("repeated subject_token: %d %s, want 400 invalid_request", r.status, r.raw)
	}
	// An expired subject token is refused.
	lk.clock.Advance(2 * time.Hour)
	r := lk.client.postForm(t, e.tokenURL, base("actor_token", e.own(t, e.svcA)), credA)
	if r.status != 400 || r.str("error") != "invalid_request" || !strings.Contains(r.str("error_description"), "expired") {
		t.Fatalf("expired subject token: %d %s, want 400 invalid_request naming the expiry", r.status, r.raw)
	}
}

// TestTokenExchangeTrustedIssuer exchanges a JWT of another identity
// provider directly (the CMiC case, RFC 8693 with subject_token_type jwt,
// no wrapping JWT bearer assertion): workspace acme issues a
// client_credentials token naming service user svc-cmic in cmicuser; the
// cmic workspace trusts acme, and a client allowed that issuer exchanges
// the token for one of its own service user. A client not allowed the
// issuer is refused.
func TestTokenExchangeTrustedIssuer(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true", "LATCHKEY_OUTBOUND_ALLOW_HTTP": "true"}
	t.Run("sqlite", func(t *testing.T) { testTokenExchangeTrustedIssuer(t, startInstanceEnv(t, "", env)) })
	t.Run("postgres", func(t *testing.T) { testTokenExchangeTrustedIssuer(t, startInstanceEnv(t, postgresSchemaDSN(t), env)) })
}

func testTokenExchangeTrustedIssuer(t *testing.T, lk *instance) {
	const idp, cmic = "acme", "cmic"
	lk.createWorkspace(t, idp, "")
	lk.createWorkspace(t, cmic, "")
	lk.createService(t, idp, "cmic-api", "https://cmic.example/api", "cmic:api")
	lk.adminOK(t, http.MethodPost, "/workspaces/"+idp+"/users",
		map[string]any{"id": "u-svc-cmic", "username": "svc-cmic", "service_user": true}, http.StatusCreated, nil)
	c := lk.secretClient(t, idp, "client_secret_basic", "cmic:api")
	lk.adminOK(t, http.MethodPut, "/workspaces/"+idp+"/clients/"+c.ClientID+"/jwt-bearer",
		map[string]any{"service_user_id": "u-svc-cmic"}, http.StatusOK, nil)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+idp+"/clients/"+c.ClientID+"/claims", map[string]any{"claims": []map[string]any{
		{"name": "cmicuser", "expression": `workspace.id + "||" + user.username`, "targets": []string{"access_token"}},
	}}, http.StatusOK, nil)
	idpTok := lk.mustToken(t, ccConfig(lk.wsURL(idp)+"/oauth2/token", c, oauth2.AuthStyleInHeader, []string{"cmic:api"}, nil))

	lk.createService(t, cmic, "api", "https://api.cmic.example", "api")
	lk.adminOK(t, http.MethodPost, "/workspaces/"+cmic+"/users",
		map[string]any{"id": "cmic-svc", "username": "svc-cmic", "service_user": true}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPost, "/workspaces/"+cmic+"/trusted-issuers", map[string]any{
		"id": "latchkey-acme", "name": "Latchkey acme", "issuer": lk.issuer(idp), "jwks_uri": lk.wsURL(idp) + "/oauth2/jwks",
		"audience": "https://cmic.example/api", "enabled": true, "claim": "cmicuser", "claim_format": "tenant||username",
	}, http.StatusCreated, nil)
	newClient := func(name string, issuers []string) clientInfo {
		cc := lk.createClient(t, cmic, map[string]any{"name": name, "token_endpoint_auth_method": "client_secret_basic",
			"grant_types": []string{tokenExchangeGrant}, "scopes": []string{"api"}})
		lk.adminOK(t, http.MethodPut, "/workspaces/"+cmic+"/clients/"+cc.ClientID+"/token-exchange", map[string]any{
			"subject_token_types": []string{ttJWT}, "allowed_issuers": issuers, "may_impersonate": true}, http.StatusOK, nil)
		return cc
	}
	allowed, other := newClient("CMiC integration", []string{"latchkey-acme"}), newClient("not allowed", nil)
	tokenURL := lk.wsURL(cmic) + "/oauth2/token"
	params := url.Values{"subject_token": {idpTok.AccessToken}, "subject_token_type": {ttJWT}, "scope": {"api"}}
	// As at the JWT bearer grant (docs/security.md U12, R1): nobody is
	// pre-authorized until the client's JWT bearer settings name the user,
	// and the refusal spends nothing.
	_, err := lk.fetchToken(t, exchangeConfig(tokenURL, allowed, params))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
	lk.adminOK(t, http.MethodPut, "/workspaces/"+cmic+"/clients/"+allowed.ClientID+"/jwt-bearer",
		map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"cmic-svc"}}, http.StatusOK, nil)
	tok, err := lk.fetchToken(t, exchangeConfig(tokenURL, allowed, params))
	if err != nil {
		t.Fatalf("exchange of the identity provider's token: %v", err)
	}
	got := verifiedClaims(t, lk.issuer(cmic), lk.wsURL(cmic), tok.AccessToken)
	if got["sub"] != "cmic-svc" || got["client_id"] != allowed.ClientID || got["scope"] != "api" || tok.Extra("issued_token_type") != ttAccessToken {
		t.Fatalf("exchanged CMiC token claims: %v", got)
	}
	// Single use, spent in the database (SECURITY.md C7).
	_, err = lk.fetchToken(t, exchangeConfig(tokenURL, allowed, params))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
	_, err = lk.fetchToken(t, exchangeConfig(tokenURL, other, params))
	wantOAuthError(t, err, http.StatusBadRequest, "invalid_request")
}

// TestTokenExchangeDCR: dynamic registration never enables token
// exchange on its own (SECURITY.md Y3, docs/security.md R1): the grant
// type is refused with an ordinary initial access token, and a client
// registered with one that allows impersonation still has every token
// exchange setting off, so its exchanges are refused, whatever settings
// the registration request tried to send.
func TestTokenExchangeDCR(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		e := newExchangeEnv(t, lk)
		d := lk.discover(t, e.ws)
		newIAT := func(policy map[string]any) string {
			var iat struct {
				Token string `json:"token"`
			}
			body := map[string]any{"description": "token exchange", "expires_in": 600, "max_uses": 1}
			if policy != nil {
				body["policy"] = policy
			}
			lk.adminOK(t, http.MethodPost, "/workspaces/"+e.ws+"/initial-access-tokens", body, http.StatusCreated, &iat)
			lk.leaks.Add(iat.Token)
			return iat.Token
		}
		meta := map[string]any{"client_name": "self-granted", "grant_types": []string{tokenExchangeGrant}, "scope": "api:read",
			"token_endpoint_auth_method": "client_secret_basic",
			"token_exchange":             map[string]any{"subject_token_types": []string{ttAccessToken}, "may_impersonate": true}}
		r := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost, newIAT(nil), meta)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_client_metadata" ||
			!strings.Contains(r.str("error_description"), "grant_types") {
			t.Fatalf("registration with an ordinary token: %d %s, want 400 invalid_client_metadata naming grant_types", r.status, r.raw)
		}
		reg := lk.registerJSON(t, d.RegistrationEndpoint, http.MethodPost,
			newIAT(map[string]any{"grant_types": []string{tokenExchangeGrant}, "allow_impersonation": true}), meta)
		if reg.status != http.StatusCreated {
			t.Fatalf("registration allowed impersonation: %d %s", reg.status, reg.raw)
		}
		lk.leaks.Add(reg.str("client_secret"))
		lk.leaks.Add(reg.str("registration_access_token"))
		var st map[string]any
		lk.adminOK(t, http.MethodGet, "/workspaces/"+e.ws+"/clients/"+seg(reg.str("client_id"))+"/token-exchange", nil, http.StatusOK, &st)
		if st["may_impersonate"] != false || st["may_delegate"] != false || len(st["subject_token_types"].([]any)) != 0 {
			t.Fatalf("registered client's token exchange settings: %v, want everything off", st)
		}
		x := lk.client.postForm(t, e.tokenURL, url.Values{"grant_type": {tokenExchangeGrant}, "subject_token": {e.userToken.AccessToken},
			"subject_token_type": {ttAccessToken}}, basic{reg.str("client_id"), reg.str("client_secret")})
		if x.status != http.StatusBadRequest || x.str("error") != "unauthorized_client" {
			t.Fatalf("exchange by the registered client: %d %s, want 400 unauthorized_client", x.status, x.raw)
		}
	})
}

// TestTokenExchangePolicy: the client's user policy decides token
// exchange for a user subject like any user grant, seeing request.grant_type
// and the subject token's validated claims in request.claims; a denial is
// 400 invalid_grant with the rule's message.
func TestTokenExchangePolicy(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		e := newExchangeEnv(t, lk)
		base := "/workspaces/" + e.ws
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "one-hop", "name": "One hop", "kind": "user", "rules": []map[string]string{
				{"condition": `request.grant_type == "` + tokenExchangeGrant + `" && "act" in request.claims`,
					"outcome": "deny", "message": "only one service may act for a user"},
				{"condition": "true", "outcome": "allow"},
			}}, http.StatusCreated, nil)
		lk.adminOK(t, http.MethodPut, base+"/clients/"+seg(e.svcB.ClientID)+"/policies",
			map[string]any{"user_policy_id": "one-hop"}, http.StatusOK, nil)

		t1 := e.exchange(t, e.svcA, url.Values{"subject_token": {e.userToken.AccessToken}, "subject_token_type": {ttAccessToken},
			"actor_token": {e.own(t, e.svcA)}, "actor_token_type": {ttAccessToken}, "scope": {"api:read b:call"}})
		// The user's own token (no act) passes the policy...
		e.exchange(t, e.svcB, url.Values{"subject_token": {e.userToken.AccessToken}, "subject_token_type": {ttAccessToken},
			"actor_token": {e.own(t, e.svcB)}, "actor_token_type": {ttAccessToken}, "scope": {"api:read"}})
		// ...a token already delegated once does not.
		_, err := lk.fetchToken(t, exchangeConfig(e.tokenURL, e.svcB, url.Values{"subject_token": {t1.AccessToken},
			"subject_token_type": {ttAccessToken}, "actor_token": {e.own(t, e.svcB)}, "actor_token_type": {ttAccessToken}}))
		wantOAuthError(t, err, http.StatusBadRequest, "invalid_grant")
		wantDescription(t, err, "only one service may act for a user")
	})
}

// sameJSON compares decoded JSON values.
func sameJSON(got any, want map[string]any) bool {
	m, ok := got.(map[string]any)
	if !ok || len(m) != len(want) {
		return false
	}
	for k, v := range want {
		if sub, ok := v.(map[string]any); ok {
			if !sameJSON(m[k], sub) {
				return false
			}
		} else if m[k] != v {
			return false
		}
	}
	return true
}
