package oidc

// SECURITY.md group S (RFC 9449 DPoP) in the authorization code flow:
// refresh tokens of public clients bound to the key (S12), UserInfo
// honouring the binding (S9, S11) and code binding with dpop_jkt (S14).
// The token endpoint negatives are in internal/e2e/dpop_test.go.

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
)

func newProofSigner(t *testing.T) *dpop.ProofSigner {
	t.Helper()
	s, err := dpop.NewProofSigner(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func proofFor(t *testing.T, s *dpop.ProofSigner, method, uri, accessToken string) string {
	t.Helper()
	p, err := s.Proof(method, uri, "", accessToken, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// postDPoP is postForm to the token endpoint with a DPoP proof (none
// when proof is "").
func (e *env) postDPoP(t *testing.T, c clientCreds, form url.Values, proof string) reply {
	t.Helper()
	return e.postDPoPTo(t, "/oauth2/token", c, form, proof)
}

func (e *env) postDPoPTo(t *testing.T, path string, c clientCreds, form url.Values, proof string) reply {
	t.Helper()
	form = cloneValues(form)
	if c.AuthMethod == "none" {
		form.Set("client_id", c.ID)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.AuthMethod != "none" {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	r := e.send(t, req)
	e.secrets.AddToken(r.str("access_token"))
	e.secrets.Add(r.str("refresh_token"))
	e.secrets.AddToken(r.str("id_token"))
	return r
}

// dpopTokens requires a 200 token response with token_type DPoP.
func dpopTokens(t *testing.T, r reply) tokens {
	t.Helper()
	if r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("token response %d %s, want 200 token_type DPoP", r.status, clip(r.raw))
	}
	return tokens{AccessToken: r.str("access_token"), RefreshToken: r.str("refresh_token"), TokenType: "DPoP"}
}

func atJKT(t *testing.T, at string) string {
	t.Helper()
	parts := strings.Split(at, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Cnf.JKT
}

// userinfoDPoP calls UserInfo with scheme and, when set, a DPoP header.
func (e *env) userinfoDPoP(t *testing.T, scheme, at, proof string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.issuer+"/oauth2/userinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", scheme+" "+at)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return e.send(t, req)
}

func requireDPoPChallenge(t *testing.T, r reply, code string) {
	t.Helper()
	ch := r.header.Get("WWW-Authenticate")
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="`+code+`"`) {
		t.Fatalf("got %d WWW-Authenticate %q %s, want 401 DPoP error=%q", r.status, ch, clip(r.raw), code)
	}
	if r.json["sub"] != nil {
		t.Fatal("claims returned with an error")
	}
}

func TestDPoPCodeFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	pub := e.createClient(t, testWS, clientSpec{ID: "native-dpop", Type: "public", RedirectURIs: []string{"http://127.0.0.1/cb"}})
	tokenURL := e.issuer + "/oauth2/token"
	userinfoURL := e.issuer + "/oauth2/userinfo"
	k1, k2 := newProofSigner(t), newProofSigner(t)
	publicTokens := func(t *testing.T, extra ...string) tokens {
		v := newVerifier()
		params := append([]string{"scope", "openid offline_access", "prompt", "consent",
			"code_challenge", s256(v), "code_challenge_method", "S256"}, extra...)
		code := e.code(t, pub, params...)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pub.RedirectURI}, "code_verifier": {v}}
		return dpopTokens(t, e.postDPoP(t, pub, form, proofFor(t, k1, "POST", tokenURL, "")))
	}
	refresh := func(c clientCreds, rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	}

	t.Run("S12 public client refresh bound to the key", func(t *testing.T) {
		tk := publicTokens(t)
		if atJKT(t, tk.AccessToken) != k1.JKT() || tk.RefreshToken == "" {
			t.Fatalf("code exchange: cnf.jkt %q, refresh token %v", atJKT(t, tk.AccessToken), tk.RefreshToken != "")
		}
		requireOAuthError(t, e.postDPoP(t, pub, refresh(pub, tk.RefreshToken), proofFor(t, k2, "POST", tokenURL, "")), http.StatusBadRequest, "invalid_grant")
		requireOAuthError(t, e.postDPoP(t, pub, refresh(pub, tk.RefreshToken), ""), http.StatusBadRequest, "invalid_grant")
		next := dpopTokens(t, e.postDPoP(t, pub, refresh(pub, tk.RefreshToken), proofFor(t, k1, "POST", tokenURL, "")))
		if atJKT(t, next.AccessToken) != k1.JKT() {
			t.Fatal("refreshed token not bound to the key")
		}
	})
	t.Run("S12 confidential client may change key", func(t *testing.T) {
		code := e.code(t, e.client, "scope", "openid offline_access", "prompt", "consent")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.client.RedirectURI}}
		tk := dpopTokens(t, e.postDPoP(t, e.client, form, proofFor(t, k1, "POST", tokenURL, "")))
		next := dpopTokens(t, e.postDPoP(t, e.client, refresh(e.client, tk.RefreshToken), proofFor(t, k2, "POST", tokenURL, "")))
		if atJKT(t, next.AccessToken) != k2.JKT() {
			t.Fatalf("cnf.jkt %q, want the new key's", atJKT(t, next.AccessToken))
		}
	})
	t.Run("S9 S11 UserInfo", func(t *testing.T) {
		at := publicTokens(t).AccessToken
		good := func() string { return proofFor(t, k1, "GET", userinfoURL, at) }
		requireDPoPChallenge(t, e.userinfoDPoP(t, "Bearer", at, ""), "invalid_token")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "Bearer", at, good()), "invalid_token")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, ""), "invalid_dpop_proof")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, proofFor(t, k1, "GET", userinfoURL, "")), "invalid_dpop_proof")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, proofFor(t, k1, "GET", userinfoURL, "another token")), "invalid_dpop_proof")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, proofFor(t, k1, "POST", userinfoURL, at)), "invalid_dpop_proof")
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, proofFor(t, k2, "GET", userinfoURL, at)), "invalid_token")
		ok := e.userinfoDPoP(t, "DPoP", at, good())
		if ok.status != http.StatusOK || ok.str("sub") == "" {
			t.Fatalf("UserInfo with a valid proof: %d %s", ok.status, clip(ok.raw))
		}
		replay := good()
		if r := e.userinfoDPoP(t, "DPoP", at, replay); r.status != http.StatusOK {
			t.Fatalf("first use: %d", r.status)
		}
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", at, replay), "invalid_dpop_proof")
		// A plain Bearer token presented with the DPoP scheme and a proof.
		plain := requireTokens(t, e.exchange(t, e.client, e.code(t, e.client), nil)).AccessToken
		requireDPoPChallenge(t, e.userinfoDPoP(t, "DPoP", plain, proofFor(t, k1, "GET", userinfoURL, plain)), "invalid_token")
		if r := e.userinfo(t, http.MethodGet, plain, false); r.status != http.StatusOK {
			t.Fatalf("plain Bearer token at UserInfo: %d", r.status)
		}
	})
	t.Run("S14 code bound with dpop_jkt", func(t *testing.T) {
		v := newVerifier()
		code := e.code(t, pub, "code_challenge", s256(v), "code_challenge_method", "S256", "dpop_jkt", k1.JKT())
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {pub.RedirectURI}, "code_verifier": {v}}
		requireOAuthError(t, e.postDPoP(t, pub, form, proofFor(t, k2, "POST", tokenURL, "")), http.StatusBadRequest, "invalid_grant")
		requireOAuthError(t, e.postDPoP(t, pub, form, ""), http.StatusBadRequest, "invalid_grant")
		tk := dpopTokens(t, e.postDPoP(t, pub, form, proofFor(t, k1, "POST", tokenURL, "")))
		if atJKT(t, tk.AccessToken) != k1.JKT() {
			t.Fatal("token not bound to dpop_jkt's key")
		}
		e.requireAuthzError(t, authParams(pub, "code_challenge", s256(v), "code_challenge_method", "S256", "dpop_jkt", "short"), "invalid_request")
	})
	t.Run("S14 DPoP at PAR binds the code", func(t *testing.T) {
		parURL := e.issuer + "/oauth2/par"
		v := newVerifier()
		params := authParams(pub, "code_challenge", s256(v), "code_challenge_method", "S256")
		mismatch := cloneValues(params)
		mismatch.Set("dpop_jkt", k2.JKT())
		r := e.postDPoPTo(t, "/oauth2/par", pub, mismatch, proofFor(t, k1, "POST", parURL, ""))
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof")
		r = e.postDPoPTo(t, "/oauth2/par", pub, params, proofFor(t, k1, "POST", tokenURL, ""))
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof") // htu of the token endpoint
		uri := requirePushed(t, e.postDPoPTo(t, "/oauth2/par", pub, params, proofFor(t, k1, "POST", parURL, "")))
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {pub.ID}, "request_uri": {uri}}), pub.RedirectURI, flowOpts{user: &e.user})
		e.requireCode(t, res, params.Get("state"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Params.Get("code")}, "redirect_uri": {pub.RedirectURI}, "code_verifier": {v}}
		requireOAuthError(t, e.postDPoP(t, pub, form, proofFor(t, k2, "POST", tokenURL, "")), http.StatusBadRequest, "invalid_grant")
		if tk := dpopTokens(t, e.postDPoP(t, pub, form, proofFor(t, k1, "POST", tokenURL, ""))); atJKT(t, tk.AccessToken) != k1.JKT() {
			t.Fatal("token not bound to the PAR proof's key")
		}
	})
}

// TestDPoPPARRequestObject: a DPoP proof sent to the PAR endpoint binds
// the authorization code to its key even when the push carries a signed
// request object, whose parameters replace the outer ones (RFC 9449
// §10.1, RFC 9101 §6.3); a request object whose own dpop_jkt names
// another key than the proof's is refused with invalid_dpop_proof.
func TestDPoPPARRequestObject(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDPoPPARRequestObject(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testDPoPPARRequestObject(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

func testDPoPPARRequestObject(t *testing.T, e *env) {
	key := newRPKey(t, jose.ES256, "rp-dpop-jar")
	c := e.createClient(t, testWS, clientSpec{ID: "dpop-jar", RedirectURIs: []string{rpRedirect},
		Extra: map[string]any{"jwks": jwks(key.jwk("sig")), "request_object_signing_alg": "ES256"}})
	parURL := e.issuer + "/oauth2/par"
	tokenURL := e.issuer + "/oauth2/token"
	k1, k2 := newProofSigner(t), newProofSigner(t)
	push := func(inner url.Values, proof string) reply {
		form := url.Values{"client_id": {c.ID}, "request": {key.sign(t, e.requestClaims(c, inner), "oauth-authz-req+jwt")}}
		return e.postDPoPTo(t, "/oauth2/par", c, form, proof)
	}

	t.Run("S14 request object without dpop_jkt bound to the proof's key", func(t *testing.T) {
		inner := authParams(c, "response_mode", "")
		uri := e.requirePushed(t, push(inner, proofFor(t, k1, "POST", parURL, "")))
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {c.ID}, "request_uri": {uri}}), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, inner.Get("state"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Params.Get("code")}, "redirect_uri": {rpRedirect}}
		requireOAuthError(t, e.postDPoP(t, c, form, ""), http.StatusBadRequest, "invalid_grant")
		requireOAuthError(t, e.postDPoP(t, c, form, proofFor(t, k2, "POST", tokenURL, "")), http.StatusBadRequest, "invalid_grant")
		if tk := dpopTokens(t, e.postDPoP(t, c, form, proofFor(t, k1, "POST", tokenURL, ""))); atJKT(t, tk.AccessToken) != k1.JKT() {
			t.Fatal("token not bound to the PAR proof's key")
		}
	})
	t.Run("S14 request object with the proof's dpop_jkt", func(t *testing.T) {
		uri := e.requirePushed(t, push(authParams(c, "dpop_jkt", k1.JKT()), proofFor(t, k1, "POST", parURL, "")))
		if uri == "" {
			t.Fatal("no request_uri")
		}
	})
	t.Run("S14 request object with another key's dpop_jkt", func(t *testing.T) {
		r := push(authParams(c, "dpop_jkt", k2.JKT()), proofFor(t, k1, "POST", parURL, ""))
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof")
	})
}
