package oidc

// The FAPI 2.0 switch (package fapi, docs/fapi.md): a workspace under
// the Security Profile and then under Message Signing, with compliant
// clients written here in go-jose (private_key_jwt with ES256 and PS256,
// PAR, PKCE S256, DPoP; JAR and JARM under Message Signing) passing the
// whole code flow and refresh, and every rule broken alone refused, on
// SQLite and on PostgreSQL.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const fapiWS = "fapi"

func TestFAPI2(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testFAPI2(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testFAPI2(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

func fapiProfile(p string) map[string]any {
	return map[string]any{"settings": map[string]any{"fapi_profile": p}}
}

// fapiClient is a registered FAPI client and its key.
type fapiClient struct {
	creds clientCreds
	key   rpKey
}

func testFAPI2(t *testing.T, base *env) {
	t.Run("switch refused while the active signing key is RS256", func(t *testing.T) {
		r := base.adminRaw(t, http.MethodPatch, "/workspaces/"+testWS, fapiProfile("fapi2-security"))
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "RS256") || !strings.Contains(string(r.raw), "fapi_signing_key") {
			t.Fatalf("got %d %s, want 400 naming the RS256 signing key", r.status, r.raw)
		}
	})

	base.adminDo(t, http.MethodPost, "/workspaces", map[string]any{"id": fapiWS, "name": "FAPI",
		"settings": map[string]any{"signing_alg": "ES256"}}, http.StatusCreated, nil)
	fe := *base
	fe.issuer = base.base + "/w/" + fapiWS
	e := &fe
	e.user = e.createUser(t, fapiWS, "grace", "grace@example.test")

	legacy := e.createClient(t, fapiWS, clientSpec{ID: "legacy", RedirectURIs: []string{rpRedirect}, Scopes: []string{}})
	t.Run("switch refused with the offending clients listed", func(t *testing.T) {
		r := e.adminRaw(t, http.MethodPatch, "/workspaces/"+fapiWS, fapiProfile("fapi2-security"))
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), legacy.ID) || !strings.Contains(string(r.raw), "fapi_clients") {
			t.Fatalf("got %d %s, want 400 listing client %s", r.status, r.raw, legacy.ID)
		}
		r = e.adminRaw(t, http.MethodPatch, "/workspaces/"+fapiWS, fapiProfile("fapi3"))
		if r.status != http.StatusBadRequest {
			t.Fatalf("unknown profile: %d %s", r.status, r.raw)
		}
	})
	e.adminDo(t, http.MethodDelete, "/workspaces/"+fapiWS+"/clients/"+legacy.ID, nil, http.StatusNoContent, nil)
	var ws struct {
		Settings struct {
			FAPIProfile string `json:"fapi_profile"`
		} `json:"settings"`
	}
	e.adminDo(t, http.MethodPatch, "/workspaces/"+fapiWS, fapiProfile("fapi2-security"), http.StatusOK, &ws)
	if ws.Settings.FAPIProfile != "fapi2-security" {
		t.Fatalf("fapi_profile %q after PATCH", ws.Settings.FAPIProfile)
	}

	on := true
	register := func(id string, alg jose.SignatureAlgorithm, extra map[string]any) fapiClient {
		k := newRPKey(t, alg, id+"-key")
		x := map[string]any{"jwks": jwks(k.jwk("sig"))}
		for name, v := range extra {
			x[name] = v
		}
		c := e.createClient(t, fapiWS, clientSpec{ID: id, AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
			Scopes: []string{}, RequirePKCE: &on, Extra: x})
		return fapiClient{creds: c, key: k}
	}
	es := register("fapi-es", jose.ES256, map[string]any{"token_endpoint_auth_signing_alg": "ES256"})
	ps := register("fapi-ps", jose.PS256, nil)

	t.Run("discovery under the Security Profile", func(t *testing.T) {
		d := e.discovery(t)
		requireList(t, d, "code_challenge_methods_supported", "S256")
		requireList(t, d, "response_types_supported", "code")
		requireList(t, d, "token_endpoint_auth_signing_alg_values_supported", "PS256", "ES256", "EdDSA")
		requireList(t, d, "request_object_signing_alg_values_supported", "PS256", "ES256", "EdDSA")
		requireList(t, d, "id_token_signing_alg_values_supported", "ES256")
		for _, alg := range listOf(d, "dpop_signing_alg_values_supported") {
			if !slices.Contains([]string{"PS256", "ES256", "EdDSA"}, alg) {
				t.Errorf("dpop_signing_alg_values_supported advertises %s", alg)
			}
		}
		if !supported(d, "require_pushed_authorization_requests") || !supported(d, "authorization_response_iss_parameter_supported") {
			t.Errorf("require_pushed_authorization_requests / iss parameter not advertised: %s", d.raw)
		}
		methods := listOf(d, "token_endpoint_auth_methods_supported")
		if !slices.Contains(methods, "private_key_jwt") {
			t.Errorf("token_endpoint_auth_methods_supported %v lacks private_key_jwt", methods)
		}
		for _, m := range methods {
			if !slices.Contains([]string{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"}, m) {
				t.Errorf("token_endpoint_auth_methods_supported advertises %q", m)
			}
		}
		if supported(d, "require_signed_request_object") {
			t.Error("require_signed_request_object advertised under the Security Profile alone")
		}
	})

	t.Run("compliant clients pass the code flow and refresh", func(t *testing.T) {
		for _, c := range []fapiClient{es, ps} {
			t.Run(string(c.key.alg), func(t *testing.T) {
				signer := newProofSigner(t)
				verifier := newVerifier()
				code := e.fapiCode(t, c, e.fapiParams(c, verifier), false)
				tok := dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "authorization_code", "code", code,
					"redirect_uri", c.creds.RedirectURI, "code_verifier", verifier), e.fapiProof(t, signer)))
				if atJKT(t, tok.AccessToken) == "" {
					t.Error("access token without cnf.jkt")
				}
				if tok.RefreshToken == "" {
					t.Fatal("no refresh token")
				}
				// SP §5.3.2.1 item 9: no rotation by default; the same
				// refresh token is answered and keeps working.
				for range 2 {
					again := dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "refresh_token", "refresh_token", tok.RefreshToken),
						e.fapiProof(t, signer)))
					if again.RefreshToken != tok.RefreshToken {
						t.Fatal("refresh token rotated under the profile without a grace period (SP §5.3.2.1 item 9)")
					}
				}
			})
		}
	})

	t.Run("refresh rotation only with a retry of the previous token (SP §5.3.2.1 item 9 Note 1)", func(t *testing.T) {
		c := register("fapi-grace", jose.ES256, map[string]any{"refresh_tokens": map[string]any{"grace_period": 30}})
		signer := newProofSigner(t)
		verifier := newVerifier()
		code := e.fapiCode(t, c, e.fapiParams(c, verifier), false)
		first := dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "authorization_code", "code", code,
			"redirect_uri", c.creds.RedirectURI, "code_verifier", verifier), e.fapiProof(t, signer)))
		refresh := func(rt string) tokens {
			return dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "refresh_token", "refresh_token", rt), e.fapiProof(t, signer)))
		}
		second := refresh(first.RefreshToken)
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
			t.Fatal("a client asking for rotation with a grace period was not rotated")
		}
		// The client lost the response: its retry with the previous token
		// within the grace period gets the same successor.
		if retry := refresh(first.RefreshToken); retry.RefreshToken != second.RefreshToken {
			t.Fatal("the retry with the previous refresh token did not get the successor")
		}
		refresh(second.RefreshToken)
	})

	t.Run("each rule broken alone is refused", func(t *testing.T) {
		rsKey := rpKey{priv: ps.key.priv, alg: jose.RS256, kid: ps.key.kid}
		par := func(c fapiClient, params url.Values) reply {
			return e.push(t, c.creds, mergeValues(params, e.assertion(t, c.creds, c.key)))
		}
		parCases := []struct {
			name   string
			send   func() reply
			status int
			code   string
			desc   string
		}{
			{"plain PKCE", func() reply {
				v := newVerifier()
				return par(es, mergeValues(e.fapiParams(es, v), url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}}))
			}, 400, "invalid_request", "PKCE"},
			{"no PKCE", func() reply {
				p := e.fapiParams(es, newVerifier())
				p.Del("code_challenge")
				p.Del("code_challenge_method")
				return par(es, p)
			}, 400, "invalid_request", "PKCE"},
			{"response_type other than code", func() reply {
				return par(es, mergeValues(e.fapiParams(es, newVerifier()), url.Values{"response_type": {"code id_token"}}))
			}, 400, "unsupported_response_type", "FAPI 2.0"},
			{"no redirect_uri in the pushed request", func() reply {
				p := e.fapiParams(es, newVerifier())
				p.Del("redirect_uri")
				return par(es, p)
			}, 400, "invalid_request", "redirect_uri"},
			{"client assertion aud = token endpoint", func() reply {
				now := e.clock.Now()
				a := es.key.sign(t, map[string]any{"iss": es.creds.ID, "sub": es.creds.ID, "aud": e.issuer + "/oauth2/token",
					"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "jti": e2etest.RandomToken(16)}, "")
				return e.push(t, es.creds, mergeValues(e.fapiParams(es, newVerifier()), url.Values{
					"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}))
			}, 401, "invalid_client", "audience"},
			{"client assertion signed with RS256", func() reply {
				return e.push(t, ps.creds, mergeValues(e.fapiParams(ps, newVerifier()), e.assertion(t, ps.creds, rsKey)))
			}, 401, "invalid_client", "FAPI 2.0"},
			{"request object signed with RS256", func() reply {
				obj := rsKey.sign(t, e.requestClaims(ps.creds, e.fapiParams(ps, newVerifier())), "oauth-authz-req+jwt")
				return par(ps, url.Values{"client_id": {ps.creds.ID}, "request": {obj}})
			}, 400, "invalid_request_object", "FAPI 2.0"},
		}
		for _, tc := range parCases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.send()
				requireOAuthError(t, r, tc.status, tc.code)
				if !strings.Contains(r.str("error_description"), tc.desc) {
					t.Errorf("error_description %q, want it to say %q", r.str("error_description"), tc.desc)
				}
			})
		}

		t.Run("no PAR", func(t *testing.T) {
			q := e.fapiParams(es, newVerifier())
			b := e.browser()
			res := e.drive(t, b, e.authorize(t, b, q), rpRedirect, flowOpts{noUI: true})
			e.requireRedirectError(t, res, q.Get("state"), "invalid_request")
		})
		t.Run("request_uri not from PAR", func(t *testing.T) {
			q := e.fapiParams(es, newVerifier())
			q.Set("request_uri", "https://127.0.0.1:1/r.jwt")
			b := e.browser()
			res := e.drive(t, b, e.authorize(t, b, q), rpRedirect, flowOpts{noUI: true})
			e.requireRedirectError(t, res, q.Get("state"), "request_uri_not_supported")
		})
		t.Run("no DPoP proof or client certificate at the token endpoint", func(t *testing.T) {
			v := newVerifier()
			code := e.fapiCode(t, es, e.fapiParams(es, v), false)
			form := e.fapiForm(t, es, "grant_type", "authorization_code", "code", code, "redirect_uri", rpRedirect, "code_verifier", v)
			r := e.fapiToken(t, form, "")
			requireOAuthError(t, r, 400, "invalid_request")
			if !strings.Contains(r.str("error_description"), "sender-constrained") {
				t.Errorf("error_description %q", r.str("error_description"))
			}
		})
		t.Run("DPoP proof signed with RS256", func(t *testing.T) {
			rk, ok := ps.key.priv.(*rsa.PrivateKey)
			if !ok {
				t.Fatal("PS256 client key is not RSA")
			}
			signer, err := dpop.NewProofSigner(rk, jose.RS256)
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier()
			code := e.fapiCode(t, ps, e.fapiParams(ps, v), false)
			form := e.fapiForm(t, ps, "grant_type", "authorization_code", "code", code, "redirect_uri", rpRedirect, "code_verifier", v)
			requireOAuthError(t, e.fapiToken(t, form, e.fapiProof(t, signer)), 400, "invalid_dpop_proof")
		})
		t.Run("code older than 60 seconds", func(t *testing.T) {
			v := newVerifier()
			code := e.fapiCode(t, es, e.fapiParams(es, v), false)
			e.clock.Advance(61 * time.Second)
			form := e.fapiForm(t, es, "grant_type", "authorization_code", "code", code, "redirect_uri", rpRedirect, "code_verifier", v)
			requireOAuthError(t, e.fapiToken(t, form, e.fapiProof(t, newProofSigner(t))), 400, "invalid_grant")
		})
	})

	t.Run("non-compliant clients refused at registration and update", func(t *testing.T) {
		weak, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			t.Fatal(err)
		}
		weakJWK := jwks(rpKey{priv: weak, alg: jose.PS256, kid: "weak"}.jwk("sig"))
		good := map[string]any{"jwks": jwks(es.key.jwk("sig"))}
		with := func(extra map[string]any) map[string]any {
			out := map[string]any{}
			for k, v := range good {
				out[k] = v
			}
			for k, v := range extra {
				out[k] = v
			}
			return out
		}
		cases := []struct {
			name string
			spec clientSpec
			want string
		}{
			{"public client", clientSpec{Type: "public"}, "type"},
			{"client_secret_basic", clientSpec{AuthMethod: "client_secret_basic"}, "token_endpoint_auth_method"},
			{"client_secret_post", clientSpec{AuthMethod: "client_secret_post"}, "token_endpoint_auth_method"},
			{"assertion alg RS256", clientSpec{AuthMethod: "private_key_jwt", Extra: with(map[string]any{"token_endpoint_auth_signing_alg": "RS256"})}, "token_endpoint_auth_signing_alg"},
			{"request object alg RS256", clientSpec{AuthMethod: "private_key_jwt", Extra: with(map[string]any{"request_object_signing_alg": "RS256"})}, "request_object_signing_alg"},
			{"ID token alg RS256", clientSpec{AuthMethod: "private_key_jwt", Extra: with(map[string]any{"id_token_signed_response_alg": "RS256"})}, "id_token_signed_response_alg"},
			{"RSA key of 1024 bits", clientSpec{AuthMethod: "private_key_jwt", Extra: map[string]any{"jwks": weakJWK}}, "jwks"},
			{"http redirect URI of a web client (SP §5.3.2.2 item 8)", clientSpec{AuthMethod: "private_key_jwt",
				Extra: with(map[string]any{"application_type": "web", "redirect_uris": []string{"http://127.0.0.1:9/cb"}})}, "only for native clients"},
			{"refresh rotation without a grace period (SP §5.3.2.1 item 9)", clientSpec{AuthMethod: "private_key_jwt",
				Extra: with(map[string]any{"refresh_tokens": map[string]any{"always": true}})}, "refresh_tokens.grace_period"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.spec.ID, tc.spec.RedirectURIs, tc.spec.Scopes, tc.spec.RequirePKCE = "bad-"+e2etest.RandomToken(4), []string{rpRedirect}, []string{}, &on
				r := e.adminRaw(t, http.MethodPost, "/workspaces/"+fapiWS+"/clients", tc.spec.body())
				if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" || !strings.Contains(string(r.raw), tc.want) {
					t.Fatalf("got %d %s, want 400 invalid_request naming %s", r.status, r.raw, tc.want)
				}
			})
		}
		t.Run("update to client_secret_basic", func(t *testing.T) {
			r := e.adminRaw(t, http.MethodPatch, "/workspaces/"+fapiWS+"/clients/"+ps.creds.ID,
				map[string]any{"token_endpoint_auth_method": "client_secret_basic"})
			if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "token_endpoint_auth_method") {
				t.Fatalf("got %d %s, want 400", r.status, r.raw)
			}
		})
		t.Run("dynamic registration", func(t *testing.T) {
			var iat struct {
				Token string `json:"token"`
			}
			e.adminDo(t, http.MethodPost, "/workspaces/"+fapiWS+"/initial-access-tokens",
				map[string]any{"description": "fapi", "expires_in": 600, "max_uses": 1}, http.StatusCreated, &iat)
			e.secrets.Add(iat.Token)
			body, _ := json.Marshal(map[string]any{"client_name": "DCR", "redirect_uris": []string{rpRedirect},
				"grant_types": []string{"authorization_code"}, "token_endpoint_auth_method": "client_secret_basic"})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/oauth2/register", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+iat.Token)
			r := e.send(t, req)
			e.secrets.Add(r.str("client_secret"))
			if r.status != http.StatusBadRequest || r.str("error") != "invalid_client_metadata" {
				t.Fatalf("got %d %s, want 400 invalid_client_metadata", r.status, r.raw)
			}
		})
		t.Run("key rotation to RS256", func(t *testing.T) {
			r := e.adminRaw(t, http.MethodPost, "/workspaces/"+fapiWS+"/keys/rotate", map[string]any{"alg": "RS256"})
			if r.status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 400", r.status, r.raw)
			}
		})
	})

	t.Run("request_uri lifetime of 600 seconds (SP §5.3.2.2 item 12)", func(t *testing.T) {
		r := e.adminRaw(t, http.MethodPatch, "/workspaces/"+fapiWS, map[string]any{"settings": map[string]any{"pushed_request_ttl": 600}})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "settings.pushed_request_ttl") || !strings.Contains(string(r.raw), "below 600") {
			t.Fatalf("got %d %s, want 400 naming settings.pushed_request_ttl", r.status, r.raw)
		}
		e.adminDo(t, http.MethodPatch, "/workspaces/"+fapiWS, map[string]any{"settings": map[string]any{"pushed_request_ttl": 599}}, http.StatusOK, nil)
		e.adminDo(t, http.MethodPatch, "/workspaces/"+fapiWS, map[string]any{"settings": map[string]any{"pushed_request_ttl": 0}}, http.StatusOK, nil)
	})

	e.adminDo(t, http.MethodPatch, "/workspaces/"+fapiWS, fapiProfile("fapi2-message-signing"), http.StatusOK, nil)

	t.Run("discovery under Message Signing", func(t *testing.T) {
		d := e.discovery(t)
		if !supported(d, "require_signed_request_object") || !supported(d, "require_pushed_authorization_requests") {
			t.Errorf("require_signed_request_object / require_pushed_authorization_requests: %s", d.raw)
		}
		requireList(t, d, "response_modes_supported", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt")
	})

	t.Run("Message Signing: JAR and JARM code flow and refresh", func(t *testing.T) {
		for _, c := range []fapiClient{ps, es} {
			t.Run(string(c.key.alg), func(t *testing.T) {
				signer := newProofSigner(t)
				verifier := newVerifier()
				params := e.fapiParams(c, verifier)
				params.Set("response_mode", "jwt")
				code := e.fapiCode(t, c, params, true)
				tok := dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "authorization_code", "code", code,
					"redirect_uri", c.creds.RedirectURI, "code_verifier", verifier), e.fapiProof(t, signer)))
				dpopTokens(t, e.fapiToken(t, e.fapiForm(t, c, "grant_type", "refresh_token", "refresh_token", tok.RefreshToken),
					e.fapiProof(t, signer)))
			})
		}
	})

	t.Run("Message Signing: each rule broken alone is refused", func(t *testing.T) {
		signed := func(c fapiClient, params url.Values) url.Values {
			obj := c.key.sign(t, e.requestClaims(c.creds, params), "oauth-authz-req+jwt")
			return mergeValues(url.Values{"client_id": {c.creds.ID}, "request": {obj}}, e.assertion(t, c.creds, c.key))
		}
		jwtParams := func() url.Values {
			p := e.fapiParams(es, newVerifier())
			p.Set("response_mode", "jwt")
			return p
		}
		cases := []struct {
			name   string
			form   url.Values
			status int
			code   string
			desc   string
		}{
			{"unsigned pushed request", mergeValues(jwtParams(), e.assertion(t, es.creds, es.key)), 400, "invalid_request_object", "signed request object"},
			{"response_mode query", signed(es, mergeValues(jwtParams(), url.Values{"response_mode": {"query"}})), 400, "invalid_request", "JWT-secured"},
			{"no response_mode", signed(es, e.fapiParams(es, newVerifier())), 400, "invalid_request", "JWT-secured"},
			{"request object without nbf (MS §5.3.1)", func() url.Values {
				claims := e.requestClaims(es.creds, jwtParams())
				delete(claims, "nbf")
				return mergeValues(url.Values{"client_id": {es.creds.ID}, "request": {es.key.sign(t, claims, "oauth-authz-req+jwt")}},
					e.assertion(t, es.creds, es.key))
			}(), 400, "invalid_request_object", "nbf"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.push(t, es.creds, tc.form)
				requireOAuthError(t, r, tc.status, tc.code)
				if !strings.Contains(r.str("error_description"), tc.desc) {
					t.Errorf("error_description %q, want it to say %q", r.str("error_description"), tc.desc)
				}
			})
		}
	})

	t.Run("switch off", func(t *testing.T) {
		e.adminDo(t, http.MethodPatch, "/workspaces/"+fapiWS, fapiProfile(""), http.StatusOK, nil)
		d := e.discovery(t)
		if supported(d, "require_pushed_authorization_requests") || len(listOf(d, "response_modes_supported")) != 7 {
			t.Errorf("discovery still narrowed after the switch is off: %s", d.raw)
		}
	})
}

// fapiParams are the authorization parameters of a FAPI client: code,
// openid and offline_access, PKCE S256 with verifier.
func (e *env) fapiParams(c fapiClient, verifier string) url.Values {
	return authParams(c.creds, "scope", "openid offline_access", "code_challenge", s256(verifier), "code_challenge_method", "S256")
}

// fapiCode pushes params (as a signed request object when signed), runs
// the authorization with the request_uri and returns the code, from a
// JARM response when params ask for one.
func (e *env) fapiCode(t *testing.T, c fapiClient, params url.Values, signed bool) string {
	t.Helper()
	form := params
	if signed {
		form = url.Values{"client_id": {c.creds.ID}, "request": {c.key.sign(t, e.requestClaims(c.creds, params), "oauth-authz-req+jwt")}}
	}
	uri := e.requirePushed(t, e.push(t, c.creds, mergeValues(form, e.assertion(t, c.creds, c.key))))
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {c.creds.ID}, "request_uri": {uri}}), c.creds.RedirectURI,
		flowOpts{user: &e.user})
	if params.Get("response_mode") == "jwt" {
		e.jarm(t, &res, c.creds.ID, nil)
	}
	e.requireCode(t, res, params.Get("state"))
	return res.Params.Get("code")
}

// fapiForm is a token request form authenticated with a fresh
// private_key_jwt assertion (aud the issuer).
func (e *env) fapiForm(t *testing.T, c fapiClient, kv ...string) url.Values {
	form := e.assertion(t, c.creds, c.key)
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return form
}

// fapiProof is a DPoP proof for the token endpoint at the server's clock.
func (e *env) fapiProof(t *testing.T, s *dpop.ProofSigner) string {
	t.Helper()
	p, err := s.Proof(http.MethodPost, e.issuer+"/oauth2/token", "", "", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fapiToken posts form to the token endpoint with the DPoP proof (none
// when ""), without an Authorization header (the client authenticates
// with its assertion in the form).
func (e *env) fapiToken(t *testing.T, form url.Values, proof string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	r := e.send(t, req)
	e.secrets.AddToken(r.str("access_token"))
	e.secrets.Add(r.str("refresh_token"))
	e.secrets.AddToken(r.str("id_token"))
	return r
}

func listOf(d reply, key string) []string {
	raw, _ := d.json[key].([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// requireList requires the discovery member key to be exactly want.
func requireList(t *testing.T, d reply, key string, want ...string) {
	t.Helper()
	if got := listOf(d, key); !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}

// TestFAPI2MTLS: under the Security Profile, a client authenticating with
// self_signed_tls_client_auth (RFC 8705 §2.2) and asking for
// certificate-bound tokens passes PAR, the code flow and refresh over TLS
// without any DPoP proof (mTLS is its sender constraint, RFC 8705 §3);
// the same authentication without the certificate binding is refused
// (FAPI 2.0 Security Profile §5.3.2.1: sender-constrained tokens only).
func TestFAPI2MTLS(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testFAPI2MTLS(t, newEnv(t, envOptions{tls: newTestTLS(t, t.TempDir())}))
	})
	t.Run("postgres", func(t *testing.T) {
		testFAPI2MTLS(t, newEnv(t, envOptions{tls: newTestTLS(t, t.TempDir()), dsn: postgresSchemaDSN(t)}))
	})
}

func testFAPI2MTLS(t *testing.T, base *env) {
	base.adminDo(t, http.MethodPost, "/workspaces", map[string]any{"id": fapiWS, "name": "FAPI",
		"settings": map[string]any{"signing_alg": "ES256", "fapi_profile": "fapi2-security"}}, http.StatusCreated, nil)
	fe := *base
	fe.issuer = base.base + "/w/" + fapiWS
	e := &fe
	e.user = e.createUser(t, fapiWS, "grace", "grace@example.test")
	on := true
	register := func(id string, bound bool) (clientCreds, tls.Certificate) {
		cert := anyClientCert(t, id)
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: leaf.PublicKey, KeyID: id, Use: "sig",
			Certificates: []*x509.Certificate{leaf}}}})
		if err != nil {
			t.Fatal(err)
		}
		c := e.createClient(t, fapiWS, clientSpec{ID: id, AuthMethod: "self_signed_tls_client_auth", RedirectURIs: []string{rpRedirect},
			Scopes: []string{}, RequirePKCE: &on, Extra: map[string]any{"jwks": json.RawMessage(set),
				"tls_client_certificate_bound_access_tokens": bound}})
		return c, cert
	}
	withCert := func(cert tls.Certificate) {
		conf := e.tlsConf.Clone()
		conf.Certificates = []tls.Certificate{cert}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = conf
		e.http = noRedirectClient(tr)
	}
	code := func(c clientCreds, verifier string) string {
		params := authParams(c, "scope", "openid offline_access", "code_challenge", s256(verifier), "code_challenge_method", "S256")
		uri := e.requirePushed(t, e.push(t, c, params))
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {c.ID}, "request_uri": {uri}}), c.RedirectURI, flowOpts{user: &e.user})
		e.requireCode(t, res, params.Get("state"))
		return res.Params.Get("code")
	}
	tokenForm := func(c clientCreds, kv ...string) url.Values {
		form := url.Values{"client_id": {c.ID}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		return form
	}

	t.Run("certificate-bound tokens: code flow and refresh", func(t *testing.T) {
		c, cert := register("fapi-mtls", true)
		withCert(cert)
		v := newVerifier()
		tk := requireTokens(t, e.postForm(t, "/oauth2/token", c, tokenForm(c, "grant_type", "authorization_code",
			"code", code(c, v), "redirect_uri", c.RedirectURI, "code_verifier", v)))
		if got := x5tOf(t, tk.AccessToken); got != thumbprint(cert) {
			t.Fatalf("cnf.x5t#S256 = %q, want %q", got, thumbprint(cert))
		}
		rt := requireTokens(t, e.postForm(t, "/oauth2/token", c, tokenForm(c, "grant_type", "refresh_token", "refresh_token", tk.RefreshToken)))
		if got := x5tOf(t, rt.AccessToken); got != thumbprint(cert) {
			t.Fatalf("refreshed cnf.x5t#S256 = %q, want %q", got, thumbprint(cert))
		}
	})
	t.Run("mTLS authentication without bound tokens or DPoP is refused", func(t *testing.T) {
		c, cert := register("fapi-mtls-unbound", false)
		withCert(cert)
		v := newVerifier()
		r := e.postForm(t, "/oauth2/token", c, tokenForm(c, "grant_type", "authorization_code",
			"code", code(c, v), "redirect_uri", c.RedirectURI, "code_verifier", v))
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		if !strings.Contains(r.str("error_description"), "sender-constrained") {
			t.Errorf("error_description %q", r.str("error_description"))
		}
	})
}
