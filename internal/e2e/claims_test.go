package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// verifiedClaims verifies raw with go-oidc against the workspace's JWKS,
// fetched at wsURL (the issuer's own address but with several processes),
// and returns all its claims.
func verifiedClaims(t *testing.T, issuer, wsURL, raw string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	v := oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, wsURL+"/oauth2/jwks"),
		&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"RS256"}})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc verification: %v", err)
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCMiCRoundTrip follows the CMiC guide with Latchkey as the identity
// provider: in workspace acme a client_credentials client acting as
// service user svc-cmic gets a token with the mapped claim
// cmicuser = "acme||svc-cmic"; a second workspace configured as the guide
// says (trusted issuer = acme's issuer and JWKS, claim cmicuser, format
// tenant||username, its own service user svc-cmic) accepts that token as
// a JWT bearer assertion and issues its own token for its service user.
// Both steps use golang.org/x/oauth2.
func TestCMiCRoundTrip(t *testing.T) {
	t.Parallel()
	lk := startInstanceEnv(t, "", map[string]string{
		"LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES": "true",
		"LATCHKEY_OUTBOUND_ALLOW_HTTP":              "true",
	})
	const idp, cmic = "acme", "cmic"
	lk.createWorkspace(t, idp, "")
	lk.createWorkspace(t, cmic, "")

	// Identity provider side.
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
	claims := verifiedClaims(t, lk.issuer(idp), lk.wsURL(idp), idpTok.AccessToken)
	if claims["cmicuser"] != "acme||svc-cmic" || claims["sub"] != "u-svc-cmic" || claims["client_id"] != c.ClientID {
		t.Fatalf("identity provider token claims: %v", claims)
	}
	if r := lk.introspect(t, idp, idpTok.AccessToken, basic{c.ClientID, c.ClientSecret}); r.json["cmicuser"] != "acme||svc-cmic" {
		t.Fatalf("introspection of the JWT: %s", r.raw)
	}

	// CMiC side, configured as in the guide.
	lk.createService(t, cmic, "api", "https://api.cmic.example", "api")
	lk.adminOK(t, http.MethodPost, "/workspaces/"+cmic+"/users",
		map[string]any{"id": "cmic-svc", "username": "svc-cmic", "service_user": true}, http.StatusCreated, nil)
	cc := lk.createClient(t, cmic, map[string]any{"name": "CMiC integration", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api"}})
	lk.adminOK(t, http.MethodPost, "/workspaces/"+cmic+"/trusted-issuers", map[string]any{
		"id": "latchkey-acme", "name": "Latchkey acme", "issuer": lk.issuer(idp), "jwks_uri": lk.wsURL(idp) + "/oauth2/jwks",
		"audience": "https://cmic.example/api", "allowed_clients": []string{cc.ClientID}, "enabled": true,
		"claim": "cmicuser", "claim_format": "tenant||username",
	}, http.StatusCreated, nil)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+cmic+"/clients/"+cc.ClientID+"/jwt-bearer",
		map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"cmic-svc"}}, http.StatusOK, nil)
	cfg := &clientcredentials.Config{ClientID: cc.ClientID, ClientSecret: cc.ClientSecret, TokenURL: lk.wsURL(cmic) + "/oauth2/token",
		AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"api"},
		EndpointParams: url.Values{"grant_type": {jwtBearerGrant}, "assertion": {idpTok.AccessToken}}}
	cmicTok := lk.mustToken(t, cfg)
	got := verifiedClaims(t, lk.issuer(cmic), lk.wsURL(cmic), cmicTok.AccessToken)
	if got["sub"] != "cmic-svc" || got["client_id"] != cc.ClientID {
		t.Fatalf("CMiC token claims: %v, want the service user cmic-svc", got)
	}

	// A workspace's own access tokens stay refused as assertions (A14),
	// even through a trusted issuer naming the workspace itself.
	own := lk.createClient(t, idp, map[string]any{"name": "self", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{jwtBearerGrant}, "scopes": []string{"cmic:api"}})
	r := lk.adminDo(t, http.MethodPost, "/workspaces/"+idp+"/trusted-issuers", map[string]any{
		"id": "self", "name": "Self", "issuer": lk.issuer(idp), "jwks_uri": lk.wsURL(idp) + "/oauth2/jwks",
		"audience": "https://cmic.example/api", "allowed_clients": []string{own.ClientID}, "enabled": true,
		"claim": "cmicuser", "claim_format": "tenant||username",
	})
	if r.status == http.StatusCreated {
		lk.adminOK(t, http.MethodPut, "/workspaces/"+idp+"/clients/"+own.ClientID+"/jwt-bearer",
			map[string]any{"pre_auth": "all_users"}, http.StatusOK, nil)
		rr := lk.client.postForm(t, lk.wsURL(idp)+"/oauth2/token", url.Values{"grant_type": {jwtBearerGrant},
			"assertion": {idpTok.AccessToken}}, basic{own.ClientID, own.ClientSecret})
		if rr.status != http.StatusBadRequest || rr.str("error") != "invalid_grant" {
			t.Fatalf("own access token as assertion: %d %s, want 400 invalid_grant", rr.status, rr.raw)
		}
	} else if r.status != http.StatusBadRequest {
		t.Fatalf("trusted issuer naming the workspace itself: %d %s", r.status, r.raw)
	}
}

// TestClaimMappingsSaveAndTargets: refusals at save (reserved name,
// expression with its position, oversized constant) are 400 and save
// nothing; an opaque token's mapped claims show through introspection; an
// evaluation error fails the token request closed with server_error.
func TestClaimMappingsSaveAndTargets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "claims"
		lk.createWorkspace(t, ws, "")
		lk.createService(t, ws, "api", "https://api.example", "read")
		c := lk.secretClient(t, ws, "client_secret_basic", "read")
		path := "/workspaces/" + ws + "/clients/" + c.ClientID + "/claims"
		put := func(claims ...map[string]any) reply {
			return lk.adminDo(t, http.MethodPut, path, map[string]any{"claims": claims})
		}
		big := func(name string, n int) map[string]any {
			return map[string]any{"name": name, "expression": `"` + strings.Repeat("x", n) + `"`, "targets": []string{"id_token"}}
		}
		for name, tc := range map[string]struct {
			claims []map[string]any
			want   string
		}{
			"reserved":  {[]map[string]any{{"name": "sub", "expression": `"x"`, "targets": []string{"access_token"}}}, "reserved claim"},
			"position":  {[]map[string]any{{"name": "a", "expression": "client.id +\n  client.nope", "targets": []string{"access_token"}}}, "line 2, column 9"},
			"too large": {[]map[string]any{big("a", 3000), big("b", 2000)}, "more than the limit"},
			"target":    {[]map[string]any{{"name": "a", "expression": `"x"`, "targets": []string{"cookie"}}}, "unknown target"},
		} {
			if r := put(tc.claims...); r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), tc.want) {
				t.Errorf("%s: %d %s, want 400 containing %q", name, r.status, r.raw, tc.want)
			}
		}
		var got struct {
			Claims []map[string]any `json:"claims"`
		}
		lk.adminOK(t, http.MethodGet, path, nil, http.StatusOK, &got)
		if len(got.Claims) != 0 {
			t.Fatalf("refused mappings were saved: %v", got.Claims)
		}

		lk.adminOK(t, http.MethodPatch, "/workspaces/"+ws+"/clients/"+c.ClientID,
			map[string]any{"access_token_format": "opaque"}, http.StatusOK, nil)
		lk.adminOK(t, http.MethodPut, path, map[string]any{"claims": []map[string]any{
			{"name": "tenant", "expression": `workspace.id`, "targets": []string{"introspection"}},
			{"name": "scopes", "expression": `request.scopes`, "targets": []string{"access_token"}},
		}}, http.StatusOK, nil)
		cfg := ccConfig(lk.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, []string{"read"}, nil)
		tok := lk.mustToken(t, cfg)
		r := lk.introspect(t, ws, tok.AccessToken, basic{c.ClientID, c.ClientSecret})
		if r.json["tenant"] != ws || len(r.json["scopes"].([]any)) != 1 || r.json["sub"] != c.ClientID {
			t.Fatalf("introspection of the opaque token: %s", r.raw)
		}

		// A claim that fails at run time: no token, server_error, cause logged.
		lk.adminOK(t, http.MethodPut, path, map[string]any{"claims": []map[string]any{
			{"name": "tenant", "expression": `client.metadata["tenant"]`, "targets": []string{"access_token"}},
		}}, http.StatusOK, nil)
		_, err := lk.fetchToken(t, cfg)
		wantOAuthError(t, err, http.StatusInternalServerError, "server_error")
		wantDescription(t, err, "the client's claim mapping could not be evaluated")
		if !strings.Contains(lk.logs.String(), "claim mapping could not be evaluated") {
			t.Error("no log line for the failed claim mapping")
		}
	})
}

// TestServiceClaimMappings: a service's mapped claims go into the tokens
// that carry its scopes and no others; a client mapping of the same name
// wins over the service's.
func TestServiceClaimMappings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "svcclaims"
		lk.createWorkspace(t, ws, "")
		lk.createService(t, ws, "billing", "https://billing.example", "billing:read")
		lk.createService(t, ws, "audit", "https://audit.example", "audit:read")
		lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/services/billing/claims", map[string]any{"claims": []map[string]any{
			{"name": "billing_tier", "expression": `"gold"`, "targets": []string{"access_token"}},
			{"name": "who", "expression": `"service"`, "targets": []string{"access_token"}},
		}}, http.StatusOK, nil)
		c := lk.secretClient(t, ws, "client_secret_basic", "billing:read", "audit:read")
		tokenURL := lk.wsURL(ws) + "/oauth2/token"
		claimsFor := func(scopes ...string) map[string]any {
			tok := lk.mustToken(t, ccConfig(tokenURL, c, oauth2.AuthStyleInHeader, scopes, nil))
			return verifiedClaims(t, lk.issuer(ws), lk.wsURL(ws), tok.AccessToken)
		}
		if got := claimsFor("billing:read"); got["billing_tier"] != "gold" || got["who"] != "service" {
			t.Errorf("billing token claims %v: want the billing service's claims", got)
		}
		if got := claimsFor("audit:read"); got["billing_tier"] != nil || got["who"] != nil {
			t.Errorf("audit token claims %v: want none of the billing service's claims", got)
		}
		lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/clients/"+c.ClientID+"/claims", map[string]any{"claims": []map[string]any{
			{"name": "who", "expression": `client.id`, "targets": []string{"access_token"}},
		}}, http.StatusOK, nil)
		if got := claimsFor("billing:read"); got["billing_tier"] != "gold" || got["who"] != c.ClientID {
			t.Errorf("billing token claims %v: want the client's who over the service's", got)
		}
		if r := lk.adminDo(t, http.MethodPut, "/workspaces/"+ws+"/services/billing/claims", map[string]any{"claims": []map[string]any{
			{"name": "aud", "expression": `"x"`, "targets": []string{"access_token"}},
		}}); r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "reserved claim") {
			t.Errorf("reserved service claim: %d %s", r.status, r.raw)
		}
		if r := lk.adminDo(t, http.MethodPut, "/workspaces/"+ws+"/services/nope/claims", map[string]any{"claims": []any{}}); r.status != http.StatusNotFound {
			t.Errorf("unknown service: %d %s", r.status, r.raw)
		}
	})
}

// TestClaimChangeAcrossProcesses: a change to a client's or a service's
// claim mappings made through one process reaches tokens issued by
// another sharing the database within the cache poll interval (the
// compiled programs are keyed by the owner's version).
func TestClaimChangeAcrossProcesses(t *testing.T) {
	t.Parallel()
	p1, p2, procs := startProcessPair(t, "multi-process claim test")
	const ws = "default"
	base := "/workspaces/" + ws
	p1.createService(t, ws, "api", "https://api.example", "api:read")
	c := p1.secretClient(t, ws, "client_secret_basic", "api:read")
	setClaim := func(path, value string) {
		p1.adminOK(t, http.MethodPut, base+path, map[string]any{"claims": []map[string]any{
			{"name": "v", "expression": `"` + value + `"`, "targets": []string{"access_token"}}}}, http.StatusOK, nil)
	}
	cfg := ccConfig(p2.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, []string{"api:read"}, nil)
	claimIs := func(want string) func() (string, bool) {
		return func() (string, bool) {
			tok, err := p2.fetchToken(t, cfg)
			if err != nil {
				return err.Error(), false
			}
			got := verifiedClaims(t, p2.issuer(ws), p2.wsURL(ws), tok.AccessToken)["v"]
			return fmt.Sprint(got), got == want
		}
	}
	setClaim("/services/api/claims", "service-1")
	eventually(t, claimIs("service-1"))
	for _, step := range []struct{ path, value string }{
		{"/services/api/claims", "service-2"},
		{"/clients/" + c.ClientID + "/claims", "client-1"},
		{"/clients/" + c.ClientID + "/claims", "client-2"},
	} {
		setClaim(step.path, step.value)
		start := time.Now()
		eventually(t, claimIs(step.value))
		if el := time.Since(start); el > pollFor {
			t.Fatalf("claim change %s reached process 2 after %s", step.value, el)
		}
	}
	for _, p := range procs {
		p.StopAndCheckLog(t, p1.leaks)
	}
}
