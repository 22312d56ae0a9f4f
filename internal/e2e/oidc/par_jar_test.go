package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// rpKey is a client's key pair written in the test with go-jose: it signs
// request objects and client assertions, and (RSA) decrypts encrypted
// authorization responses.
type rpKey struct {
	priv crypto.Signer
	alg  jose.SignatureAlgorithm
	kid  string
}

func newRPKey(t *testing.T, alg jose.SignatureAlgorithm, kid string) rpKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	if alg == jose.ES256 {
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rpKey{priv: priv, alg: alg, kid: kid}
}

// jwk is the public key as registered; use "" leaves "use" unset.
func (k rpKey) jwk(use string) map[string]any {
	raw, err := json.Marshal(jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: use})
	if err != nil {
		panic(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func jwks(keys ...map[string]any) map[string]any { return map[string]any{"keys": keys} }

// sign returns a compact JWS of claims with header typ (none when "").
func (k rpKey) sign(t *testing.T, claims map[string]any, typ string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// requestClaims are the claims of a good request object for c: iss, aud,
// exp (5 minutes), nbf, iat, a fresh jti and the authorization parameters.
func (e *env) requestClaims(c clientCreds, params url.Values) map[string]any {
	now := e.clock.Now()
	claims := map[string]any{
		"iss": c.ID, "aud": e.issuer, "exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(),
		"jti": e2etest.RandomToken(16),
	}
	for k := range params {
		claims[k] = params.Get(k)
	}
	return claims
}

// assertion is a private_key_jwt client assertion (RFC 7523 §2.2).
func (e *env) assertion(t *testing.T, c clientCreds, k rpKey) url.Values {
	now := e.clock.Now()
	a := k.sign(t, map[string]any{"iss": c.ID, "sub": c.ID, "aud": e.issuer, "exp": now.Add(time.Minute).Unix(),
		"iat": now.Unix(), "jti": e2etest.RandomToken(16)}, "")
	return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
}

// push sends a pushed authorization request (RFC 9126 §2.1).
func (e *env) push(t *testing.T, c clientCreds, form url.Values) reply {
	t.Helper()
	return e.postForm(t, "/oauth2/par", c, form)
}

// requirePushed is requirePushed whose request_uri must never reach the
// log (SECURITY.md G8, checked at cleanup).
func (e *env) requirePushed(t *testing.T, r reply) string {
	t.Helper()
	e.secrets.Add(r.str("request_uri"))
	return requirePushed(t, r)
}

// requirePushed requires the RFC 9126 §2.2 answer and returns request_uri.
func requirePushed(t *testing.T, r reply) string {
	t.Helper()
	if r.status != http.StatusCreated {
		t.Fatalf("PAR status %d, want 201: %s", r.status, r.raw)
	}
	requireNoStore(t, r.header)
	uri := r.str("request_uri")
	exp, _ := r.json["expires_in"].(float64)
	if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || len(uri) < len("urn:ietf:params:oauth:request_uri:")+22 {
		t.Errorf("T4 request_uri %q is not a PAR URN with at least 128 random bits", uri)
	}
	if exp <= 0 || exp > 600 {
		t.Errorf("T2 expires_in %v, want 1..600", exp)
	}
	return uri
}

// jarm decodes and verifies a JWT-secured authorization response (JARM
// §2.4) in res: signature with the workspace JWKS, iss, aud, exp within
// ten minutes; an encrypted one is decrypted with dec first. The
// response's claims replace res.Params, so the plain checks apply.
func (e *env) jarm(t *testing.T, res *flowResult, clientID string, dec *rsa.PrivateKey) map[string]any {
	t.Helper()
	raw := res.Params.Get("response")
	if raw == "" || res.Params.Get("code") != "" || res.Params.Get("error") != "" {
		t.Fatalf("T13 JARM response %v: want only the response parameter", res.Params)
	}
	e.secrets.AddToken(raw)
	if dec != nil {
		jwe, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A128CBC_HS256})
		if err != nil {
			t.Fatalf("T15 encrypted response: %v", err)
		}
		if jwe.Header.ExtraHeaders["cty"] != "JWT" {
			t.Errorf("T15 nested JWT without cty JWT: %v", jwe.Header.ExtraHeaders)
		}
		plain, err := jwe.Decrypt(dec)
		if err != nil {
			t.Fatalf("T15 decrypt: %v", err)
		}
		raw = string(plain)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("T13 response JWT: %v", err)
	}
	var set jose.JSONWebKeySet
	if r := e.get(t, e.issuer+"/oauth2/jwks", nil); json.Unmarshal(r.raw, &set) != nil {
		t.Fatalf("jwks: %s", r.raw)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("T13 response signed with kid %q, not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("T13 response signature: %v", err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	exp, _ := claims["exp"].(float64)
	now := float64(e.clock.Now().Unix())
	if claims["iss"] != e.issuer || claims["aud"] != clientID || exp < now || exp > now+600+5 {
		t.Errorf("T13 response claims %v: want iss %s, aud %s, exp within 10 minutes", claims, e.issuer, clientID)
	}
	params := url.Values{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			params.Set(k, s)
		}
	}
	res.Params = params
	return claims
}

// TestPARJARJARM: pushed authorization requests, request objects and
// JWT-secured responses end to end, with the client written here in
// go-jose, and every negative of SECURITY.md T1–T15 that applies, on SQLite and on
// PostgreSQL.
func TestPARJARJARM(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPARJARJARM(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testPARJARJARM(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

func testPARJARJARM(t *testing.T, e *env) {
	key := newRPKey(t, jose.ES256, "rp-es")
	other := newRPKey(t, jose.ES256, "rp-other")
	off := false
	jar := e.createClient(t, testWS, clientSpec{ID: "jar-app", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(key.jwk("sig"))}})
	pinned := e.createClient(t, testWS, clientSpec{ID: "jar-pinned", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(key.jwk("sig")), "request_object_signing_alg": "ES256"}})
	e.createClient(t, testWS, clientSpec{ID: "jar-other", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect2},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(other.jwk("sig"))}})

	t.Run("discovery", func(t *testing.T) {
		d := e.discovery(t)
		if d.str("pushed_authorization_request_endpoint") != e.issuer+"/oauth2/par" || !supported(d, "request_parameter_supported") ||
			!supported(d, "request_uri_parameter_supported") {
			t.Errorf("discovery: %s", d.raw)
		}
		modes, _ := d.json["response_modes_supported"].([]any)
		if len(modes) != 7 {
			t.Errorf("response_modes_supported %v, want the three plain and four JARM modes", modes)
		}
	})

	t.Run("T8 request object by value", func(t *testing.T) {
		inner := authParams(jar, "scope", "openid", "response_mode", "")
		// Outer parameters other than client_id are ignored (RFC 9101 §5):
		// an outer scope the client may not have and another redirect URI
		// change nothing.
		outer := url.Values{"client_id": {jar.ID}, "request": {key.sign(t, e.requestClaims(jar, inner), "oauth-authz-req+jwt")},
			"scope": {"openid admin:all"}, "redirect_uri": {rpRedirect2}, "state": {"outer"}}
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, outer), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, inner.Get("state"))
		tok := e.exchange(t, clientCreds{ID: jar.ID, RedirectURI: rpRedirect, AuthMethod: "private_key_jwt"}, res.Params.Get("code"),
			e.assertion(t, jar, key))
		if tk := requireTokens(t, tok); tk.Scope != "openid" {
			t.Errorf("T8 granted scope %q, want openid (the object's)", tk.Scope)
		}
	})

	t.Run("T9 T10 T11 T12 request object negatives", func(t *testing.T) {
		good := func(c clientCreds) map[string]any { return e.requestClaims(c, authParams(c)) }
		with := func(c clientCreds, k, v string) map[string]any {
			m := good(c)
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		now := e.clock.Now()
		replayed := key.sign(t, good(jar), "")
		cases := []struct {
			name    string
			client  clientCreds
			request string
			want    string
		}{
			{"T9 unsigned (alg none)", jar, unsignedRequestObjectFor(t, good(jar)), "invalid_request_object"},
			{"T9 signed with another client's key", jar, other.sign(t, good(jar), ""), "invalid_request_object"},
			{"T9 alg other than the registered request_object_signing_alg", pinned,
				newRPKeyFrom(t, key, jose.ES384).sign(t, good(pinned), ""), "invalid_request_object"},
			{"T10 aud another issuer", jar, key.sign(t, with(jar, "aud", "https://other.example"), ""), "invalid_request_object"},
			{"T10 aud the token endpoint", jar, key.sign(t, with(jar, "aud", e.issuer+"/oauth2/token"), ""), "invalid_request_object"},
			{"T10 iss not the client", jar, key.sign(t, with(jar, "iss", "someone"), ""), "invalid_request_object"},
			{"T10 no exp", jar, key.sign(t, with(jar, "exp", ""), ""), "invalid_request_object"},
			{"T10 no jti", jar, key.sign(t, with(jar, "jti", ""), ""), "invalid_request_object"},
			{"T10 expired", jar, key.sign(t, withTimes(good(jar), now.Add(-20*time.Minute), now.Add(-10*time.Minute)), ""), "invalid_request_object"},
			{"T10 nbf in the future", jar, key.sign(t, withTimes(good(jar), now.Add(5*time.Minute), now.Add(10*time.Minute)), ""), "invalid_request_object"},
			{"T10 exp two hours after nbf", jar, key.sign(t, withTimes(good(jar), now.Add(-time.Minute), now.Add(119*time.Minute)), ""), "invalid_request_object"},
			{"T10 replayed jti (first use)", jar, replayed, ""},
			{"T10 replayed jti", jar, replayed, "invalid_request_object"},
			{"T11 typed as an access token", jar, key.sign(t, good(jar), "at+jwt"), "invalid_request_object"},
			{"T12 encrypted request object", jar, "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4R0NNIn0.a.b.c.d", "invalid_request_object"},
			{"T9 plain request of a client that requires signed ones", pinned, "", "invalid_request_object"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				q := url.Values{"client_id": {tc.client.ID}, "request": {tc.request}}
				state := ""
				if tc.request == "" {
					q = authParams(tc.client)
					state = q.Get("state")
				}
				b := e.browser()
				if tc.want == "" {
					res := e.drive(t, b, e.authorize(t, b, q), rpRedirect, flowOpts{user: &e.user})
					if res.Params.Get("code") == "" {
						t.Fatalf("first use refused: %v", res.Params)
					}
					e.secrets.Add(res.Params.Get("code"))
					return
				}
				res := e.drive(t, b, e.authorize(t, b, q), rpRedirect, flowOpts{noUI: true})
				e.requireRedirectError(t, res, state, tc.want)
			})
		}
		t.Run("T8 client_id differs from the object's", func(t *testing.T) {
			b := e.browser()
			p := e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {other.sign(t, good(clientCreds{ID: "jar-other"}), "")}})
			requireErrorPage(t, p, "invalid_request_object")
		})
		t.Run("T8 request and request_uri together", func(t *testing.T) {
			b := e.browser()
			res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {key.sign(t, good(jar), "")},
				"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}), rpRedirect, flowOpts{noUI: true})
			e.requireRedirectError(t, res, "", "invalid_request")
		})
	})

	t.Run("T12 encrypted request objects", func(t *testing.T) {
		var set jose.JSONWebKeySet
		if r := e.get(t, e.issuer+"/oauth2/jwks", nil); json.Unmarshal(r.raw, &set) != nil {
			t.Fatalf("jwks: %s", r.raw)
		}
		var encKey *jose.JSONWebKey
		for i, k := range set.Keys {
			if k.Use == "enc" {
				encKey = &set.Keys[i]
			}
		}
		if encKey == nil || encKey.Algorithm != "RSA-OAEP-256" {
			t.Fatalf("JWKS has no RSA-OAEP-256 encryption key: %+v", set.Keys)
		}
		if algs, _ := e.discovery(t).json["request_object_encryption_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RSA-OAEP-256" {
			t.Errorf("request_object_encryption_alg_values_supported %v", algs)
		}
		stranger := newRPKey(t, jose.RS256, "stranger")
		encrypt := func(obj string, alg jose.KeyAlgorithm, to any, kid string) string {
			enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: to, KeyID: kid},
				(&jose.EncrypterOptions{}).WithContentType("JWT"))
			if err != nil {
				t.Fatal(err)
			}
			o, err := enc.Encrypt([]byte(obj))
			if err != nil {
				t.Fatal(err)
			}
			s, _ := o.CompactSerialize()
			return s
		}
		inner := authParams(jar)
		good := encrypt(key.sign(t, e.requestClaims(jar, inner), "oauth-authz-req+jwt"), jose.RSA_OAEP_256, encKey.Key, encKey.KeyID)
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {good}}), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, inner.Get("state"))
		for _, tc := range []struct{ name, request string }{
			{"to a key that is not the workspace's", encrypt(key.sign(t, e.requestClaims(jar, authParams(jar)), ""), jose.RSA_OAEP_256,
				stranger.priv.Public(), encKey.KeyID)},
			{"RSA1_5", encrypt(key.sign(t, e.requestClaims(jar, authParams(jar)), ""), jose.RSA1_5, encKey.Key, encKey.KeyID)},
			{"wrapping an unsigned object", encrypt(unsignedRequestObjectFor(t, e.requestClaims(jar, authParams(jar))), jose.RSA_OAEP_256,
				encKey.Key, encKey.KeyID)},
			{"wrapping another client's object", encrypt(other.sign(t, e.requestClaims(jar, authParams(jar)), ""), jose.RSA_OAEP_256,
				encKey.Key, encKey.KeyID)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := e.browser()
				res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {tc.request}}), rpRedirect, flowOpts{noUI: true})
				e.requireRedirectError(t, res, "", "invalid_request_object")
			})
		}
	})

	t.Run("T1 T5 PAR then authorize once", func(t *testing.T) {
		params := authParams(e.client)
		r := e.push(t, e.client, params)
		uri := e.requirePushed(t, r)
		q := url.Values{"client_id": {e.client.ID}, "request_uri": {uri}}
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, q), e.client.RedirectURI, flowOpts{user: &e.user})
		e.requireCode(t, res, params.Get("state"))
		requireTokens(t, e.exchange(t, e.client, res.Params.Get("code"), nil))
		// T1: the second use is refused on our page.
		requireErrorPage(t, e.authorize(t, b, q), "invalid_request_uri")
	})

	t.Run("T2 T3 T6 T7 PAR negatives", func(t *testing.T) {
		fresh := func() string { return e.requirePushed(t, e.push(t, e.client, authParams(e.client))) }
		expired := fresh()
		e.clock.Advance(61 * time.Second)
		pages := []struct {
			name string
			q    url.Values
		}{
			{"T2 expired request_uri", url.Values{"client_id": {e.client.ID}, "request_uri": {expired}}},
			{"T3 another client's request_uri", url.Values{"client_id": {e.client2.ID}, "request_uri": {fresh()}}},
			{"T3 without client_id", url.Values{"request_uri": {fresh()}}},
			{"T4 tampered request_uri", url.Values{"client_id": {e.client.ID}, "request_uri": {fresh() + "x"}}},
			{"T7 made-up request_uri", url.Values{"client_id": {e.client.ID}, "request_uri": {"urn:ietf:params:oauth:request_uri:made-up"}}},
		}
		for _, tc := range pages {
			t.Run(tc.name, func(t *testing.T) {
				requireErrorPage(t, e.authorize(t, e.browser(), tc.q), "")
			})
		}
		t.Run("T7 request_uri not from PAR", func(t *testing.T) {
			b := e.browser()
			q := authParams(e.client, "request_uri", "https://127.0.0.1:1/r.jwt")
			res := e.drive(t, b, e.authorize(t, b, q), e.client.RedirectURI, flowOpts{noUI: true})
			e.requireRedirectError(t, res, q.Get("state"), "request_uri_not_supported")
		})
		jsonErrors := []struct {
			name   string
			c      clientCreds
			form   url.Values
			status int
			code   string
		}{
			{"T6 request_uri sent to PAR", e.client, authParams(e.client, "request_uri", "urn:ietf:params:oauth:request_uri:x"), 400, "invalid_request"},
			{"T6 unregistered redirect_uri", e.client, authParams(e.client, "redirect_uri", "https://evil.example/cb"), 400, "invalid_request"},
			{"T6 response_type token", e.client, authParams(e.client, "response_type", "token"), 400, "unsupported_response_type"},
			// As at the token endpoint: the credentials name another client.
			{"T5 another client's client_id", e.client2, authParams(e.client), 401, "invalid_client"},
			{"T5 no credentials", clientCreds{ID: e.client.ID, AuthMethod: "none"}, authParams(e.client), 401, "invalid_client"},
			{"T5 wrong secret", clientCreds{ID: e.client.ID, Secret: "wrong", AuthMethod: "client_secret_basic"}, authParams(e.client), 401, "invalid_client"},
			{"T9 unsigned request object at PAR", clientCreds{ID: jar.ID, AuthMethod: "private_key_jwt"},
				mergeValues(e.assertion(t, jar, key), url.Values{"request": {unsignedRequestObjectFor(t, e.requestClaims(jar, authParams(jar)))}}),
				400, "invalid_request_object"},
		}
		for _, tc := range jsonErrors {
			t.Run(tc.name, func(t *testing.T) {
				requireOAuthError(t, e.push(t, tc.c, tc.form), tc.status, tc.code)
			})
		}
		t.Run("T6 GET is 405", func(t *testing.T) {
			if r := e.get(t, e.issuer+"/oauth2/par", nil); r.status != http.StatusMethodNotAllowed {
				t.Errorf("GET /par = %d, want 405", r.status)
			}
		})
	})

	t.Run("require PAR per client and per workspace", func(t *testing.T) {
		c := e.createClient(t, testWS, clientSpec{ID: "par-only", RedirectURIs: []string{rpRedirect},
			Extra: map[string]any{"require_pushed_authorization_requests": true}})
		b := e.browser()
		q := authParams(c)
		res := e.drive(t, b, e.authorize(t, b, q), rpRedirect, flowOpts{noUI: true})
		e.requireRedirectError(t, res, q.Get("state"), "invalid_request")
		pushed := authParams(c)
		uri := e.requirePushed(t, e.push(t, c, pushed))
		res = e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {c.ID}, "request_uri": {uri}}), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, pushed.Get("state"))

		setRequirePAR := func(on bool) {
			e.adminDo(t, http.MethodPatch, "/workspaces/"+testWS, map[string]any{"settings": map[string]any{"require_pushed_authorization_requests": on}}, http.StatusOK, nil)
			waitFor(t, func() bool { return supported(e.discovery(t), "require_pushed_authorization_requests") == on })
		}
		setRequirePAR(true)
		q = authParams(e.client)
		res = e.drive(t, b, e.authorize(t, b, q), e.client.RedirectURI, flowOpts{noUI: true})
		e.requireRedirectError(t, res, q.Get("state"), "invalid_request")
		setRequirePAR(false)
	})

	t.Run("T13 JARM modes", func(t *testing.T) {
		for _, mode := range []string{"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"} {
			t.Run(mode, func(t *testing.T) {
				q := authParams(e.client, "response_mode", mode)
				res := e.codeFlowJARM(t, q, e.client.RedirectURI, q.Get("state"), e.client.ID, nil)
				if mode == "form_post.jwt" && !res.FormPost || mode == "fragment.jwt" && res.Callback.Fragment == "" {
					t.Errorf("%s answered as %s", mode, res.Callback)
				}
				requireTokens(t, e.exchange(t, e.client, res.Params.Get("code"), nil))
			})
		}
	})

	t.Run("T14 JARM error response", func(t *testing.T) {
		b := e.browser()
		q := authParams(e.client, "response_mode", "jwt", "prompt", "none")
		res := e.drive(t, b, e.authorize(t, b, q), e.client.RedirectURI, flowOpts{noUI: true})
		e.jarm(t, &res, e.client.ID, nil)
		e.requireRedirectError(t, res, q.Get("state"), "login_required")
		// An unknown client never gets a JWT: our page.
		requireErrorPage(t, e.authorize(t, e.browser(), authParams(clientCreds{ID: "nobody", RedirectURI: rpRedirect}, "response_mode", "jwt")), "")
	})

	t.Run("T15 JARM encryption", func(t *testing.T) {
		enc := newRPKey(t, jose.RS256, "rp-enc")
		// No key to encrypt to: refused at registration.
		for _, tc := range []struct {
			name  string
			extra map[string]any
		}{
			{"no keys", map[string]any{"authorization_encrypted_response_alg": "RSA-OAEP-256"}},
			{"EC key for RSA-OAEP-256", map[string]any{"authorization_encrypted_response_alg": "RSA-OAEP-256", "jwks": jwks(key.jwk(""))}},
			{"RSA key only for signing", map[string]any{"authorization_encrypted_response_alg": "RSA-OAEP-256", "jwks": jwks(enc.jwk("sig"))}},
			{"RSA1_5", map[string]any{"authorization_encrypted_response_alg": "RSA1_5", "jwks": jwks(enc.jwk("enc"))}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := clientSpec{ID: "enc-bad", RedirectURIs: []string{rpRedirect}, Extra: tc.extra}.body()
				if r := e.adminRaw(t, http.MethodPost, "/workspaces/"+testWS+"/clients", body); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
					t.Errorf("registration %d, want 400/422: %s", r.status, r.raw)
				}
			})
		}
		c := e.createClient(t, testWS, clientSpec{ID: "jarm-enc", RedirectURIs: []string{rpRedirect},
			Extra: map[string]any{"jwks": jwks(enc.jwk("enc")), "authorization_encrypted_response_alg": "RSA-OAEP-256"}})
		q := authParams(c, "response_mode", "query.jwt")
		res := e.codeFlowJARM(t, q, rpRedirect, q.Get("state"), c.ID, enc.priv.(*rsa.PrivateKey))
		requireTokens(t, e.exchange(t, c, res.Params.Get("code"), nil))
	})

	t.Run("PAR with JAR, JARM and private_key_jwt", func(t *testing.T) {
		inner := authParams(jar, "response_mode", "jwt")
		form := mergeValues(e.assertion(t, jar, key), url.Values{"client_id": {jar.ID},
			"request": {key.sign(t, e.requestClaims(jar, inner), "oauth-authz-req+jwt")}})
		uri := e.requirePushed(t, e.push(t, clientCreds{ID: jar.ID, AuthMethod: "private_key_jwt"}, form))
		res := e.codeFlowJARM(t, url.Values{"client_id": {jar.ID}, "request_uri": {uri}}, rpRedirect, inner.Get("state"), jar.ID, nil)
		requireTokens(t, e.exchange(t, clientCreds{ID: jar.ID, RedirectURI: rpRedirect, AuthMethod: "private_key_jwt"},
			res.Params.Get("code"), e.assertion(t, jar, key)))
	})
}

// codeFlowJARM runs a flow whose response is JARM and requires a code.
func (e *env) codeFlowJARM(t *testing.T, q url.Values, redirect, state, clientID string, dec *rsa.PrivateKey) flowResult {
	t.Helper()
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, q), redirect, flowOpts{user: &e.user})
	e.jarm(t, &res, clientID, dec)
	e.requireCode(t, res, state)
	return res
}

func mergeValues(a, b url.Values) url.Values {
	out := cloneValues(a)
	for k, vs := range b {
		out[k] = vs
	}
	return out
}

func withTimes(m map[string]any, nbf, exp time.Time) map[string]any {
	m["nbf"], m["iat"], m["exp"] = nbf.Unix(), nbf.Unix(), exp.Unix()
	return m
}

// newRPKeyFrom signs with k's key under another algorithm name (for an
// alg other than the pinned one, ES384 needs a P-384 key: a fresh one).
func newRPKeyFrom(t *testing.T, k rpKey, alg jose.SignatureAlgorithm) rpKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return rpKey{priv: priv, alg: alg, kid: k.kid}
}

// unsignedRequestObjectFor is an alg=none object with the given claims.
func unsignedRequestObjectFor(t *testing.T, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "none"})
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// waitFor polls cond for up to 5 s (the cache invalidation interval).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
