package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
)

// dpopKey is a test client's DPoP key: go-jose builds every proof, the
// well-formed ones and the forged ones.
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newDPoPKey(t *testing.T) dpopKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(jose.JSONWebKey{Key: k.Public()})
	if err != nil {
		t.Fatal(err)
	}
	return dpopKey{priv: k, jkt: jkt}
}

// proofClaims are the claims of a proof for method and uri now.
func proofClaims(method, uri string) map[string]any {
	return map[string]any{"jti": base64.RawURLEncoding.EncodeToString(randomBytes(16)), "htm": method, "htu": uri, "iat": time.Now().Unix()}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// signProof signs claims with key under alg and the header members
// given (typ and jwk are the caller's, so forgeries can change them).
func signProof(t *testing.T, key any, alg jose.SignatureAlgorithm, header, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{}}
	for k, v := range header {
		opts.ExtraHeaders[jose.HeaderKey(k)] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// proof is a well-formed proof by k; edit changes its claims first.
func (k dpopKey) proof(t *testing.T, method, uri string, edit func(map[string]any)) string {
	t.Helper()
	c := proofClaims(method, uri)
	if edit != nil {
		edit(c)
	}
	return signProof(t, k.priv, jose.ES256, map[string]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: k.priv.Public()}}, c)
}

// postDPoP posts form to target as cred with the given DPoP headers.
func (c *httpClient) postDPoP(t *testing.T, target string, form url.Values, cred basic, proofs ...string) reply {
	t.Helper()
	req := newRequest(t, http.MethodPost, target, []byte(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cred.id != "" {
		req.SetBasicAuth(url.QueryEscape(cred.id), url.QueryEscape(cred.secret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	r := c.do(t, req)
	c.leaks.AddToken(r.str("access_token"))
	return r
}

func wantStatusCode(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, code)
	}
	if d := r.str("error_description"); d == "" {
		t.Fatalf("error without a description: %s", r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
}

// jwtClaimSet decodes the (already verified elsewhere) claims of a JWT.
func jwtClaimSet(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func cnfJKT(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

// TestDPoP proves RFC 9449 at the token endpoint through a real server on
// both stores: binding (S10), every negative of S1–S7 as a table,
// per-client "require DPoP" (S13), server nonces (S8), opaque tokens and
// discovery (S2: advertised = accepted).
func TestDPoP(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
		cred := basic{c.ClientID, c.ClientSecret}
		tokenURL := lk.issuer(ws) + "/oauth2/token"
		target := lk.wsURL(ws) + "/oauth2/token"
		cc := url.Values{"grant_type": {"client_credentials"}}
		key := newDPoPKey(t)

		t.Run("discovery", func(t *testing.T) {
			r := lk.client.get(t, lk.wsURL(ws)+"/.well-known/openid-configuration")
			var got []string
			for _, a := range r.json["dpop_signing_alg_values_supported"].([]any) {
				got = append(got, a.(string))
			}
			if !slices.Equal(got, dpop.DefaultAlgs) {
				t.Fatalf("dpop_signing_alg_values_supported %v, want %v", got, dpop.DefaultAlgs)
			}
		})
		t.Run("S10 bound token and introspection", func(t *testing.T) {
			r := lk.client.postDPoP(t, target, cc, cred, key.proof(t, "POST", tokenURL, nil))
			if r.status != http.StatusOK || r.str("token_type") != "DPoP" {
				t.Fatalf("token response %d %s, want 200 token_type DPoP", r.status, r.raw)
			}
			at := r.str("access_token")
			if got := cnfJKT(jwtClaimSet(t, at)); got != key.jkt {
				t.Fatalf("cnf.jkt %q, want %q", got, key.jkt)
			}
			in := lk.introspect(t, ws, at, cred)
			if cnfJKT(in.json) != key.jkt || in.str("token_type") != "DPoP" {
				t.Fatalf("introspection %s, want cnf.jkt and token_type DPoP", in.raw)
			}
			plain := lk.client.postDPoP(t, target, cc, cred)
			if plain.str("token_type") != "Bearer" || jwtClaimSet(t, plain.str("access_token"))["cnf"] != nil {
				t.Fatalf("without a proof: %s, want a Bearer token without cnf", plain.raw)
			}
			if in := lk.introspect(t, ws, plain.str("access_token"), cred); in.json["cnf"] != nil || in.str("token_type") != "Bearer" {
				t.Fatalf("introspection of a Bearer token %s", in.raw)
			}
		})
		t.Run("S5 accepted htu variants", func(t *testing.T) {
			u, _ := url.Parse(tokenURL)
			for _, htu := range []string{
				strings.Replace(tokenURL, u.Host, strings.ToUpper(u.Host), 1), tokenURL + "?x=1", tokenURL + "#frag",
				strings.Replace(tokenURL, "http://", "HTTP://", 1),
			} {
				r := lk.client.postDPoP(t, target, cc, cred, key.proof(t, "POST", htu, nil))
				if r.status != http.StatusOK {
					t.Fatalf("htu %q: %d %s", htu, r.status, r.raw)
				}
			}
			r := lk.client.postDPoP(t, target, cc, cred, key.proof(t, "POST", tokenURL, func(c map[string]any) { c["iat"] = time.Now().Unix() - 5 }))
			if r.status != http.StatusOK {
				t.Fatalf("iat now-5: %d %s", r.status, r.raw)
			}
		})
		t.Run("negatives", func(t *testing.T) { dpopNegatives(t, lk, target, tokenURL, cred, key) })
		t.Run("S13 client requires DPoP", func(t *testing.T) {
			req := lk.createClient(t, ws, map[string]any{
				"name": "dpop-only", "grant_types": []string{"client_credentials"}, "scopes": []string{"api:read"},
				"token_endpoint_auth_method": "client_secret_basic", "dpop_bound_access_tokens": true,
			})
			rc := basic{req.ClientID, req.ClientSecret}
			wantStatusCode(t, lk.client.postDPoP(t, target, cc, rc), http.StatusBadRequest, "invalid_dpop_proof")
			if r := lk.client.postDPoP(t, target, cc, rc, key.proof(t, "POST", tokenURL, nil)); r.status != http.StatusOK || r.str("token_type") != "DPoP" {
				t.Fatalf("with a proof: %d %s", r.status, r.raw)
			}
		})
		t.Run("opaque token keeps the binding", func(t *testing.T) {
			oc := lk.createClient(t, ws, map[string]any{
				"name": "dpop-opaque", "grant_types": []string{"client_credentials"}, "scopes": []string{"api:read"},
				"token_endpoint_auth_method": "client_secret_basic", "access_token_format": "opaque",
			})
			ocred := basic{oc.ClientID, oc.ClientSecret}
			r := lk.client.postDPoP(t, target, cc, ocred, key.proof(t, "POST", tokenURL, nil))
			if r.status != http.StatusOK || !strings.HasPrefix(r.str("access_token"), "lkat_") || r.str("token_type") != "DPoP" {
				t.Fatalf("opaque DPoP token: %d %s", r.status, r.raw)
			}
			if in := lk.introspect(t, ws, r.str("access_token"), ocred); cnfJKT(in.json) != key.jkt || in.str("token_type") != "DPoP" {
				t.Fatalf("opaque introspection %s, want cnf.jkt", in.raw)
			}
		})
		t.Run("S8 server nonces", func(t *testing.T) { dpopNonces(t, lk, ws, target, tokenURL, cred, key) })
	})
}

// dpopNegatives is the table of SECURITY.md S1–S7 at the token endpoint:
// each proof alone is refused with 400 invalid_dpop_proof.
func dpopNegatives(t *testing.T, lk *instance, target, tokenURL string, cred basic, key dpopKey) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub := jose.JSONWebKey{Key: key.priv.Public()}
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "jwk": pub}
		edit(h)
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := proofClaims("POST", tokenURL)
		edit(c)
		return c
	}
	none := func(map[string]any) {}
	replayed := key.proof(t, "POST", tokenURL, nil)
	if r := lk.client.postDPoP(t, target, url.Values{"grant_type": {"client_credentials"}}, cred, replayed); r.status != http.StatusOK {
		t.Fatalf("first use of the proof: %d %s", r.status, r.raw)
	}
	// Over dpop.MaxProofSize (8 KiB) but under the server's header limit;
	// a 64 KiB header is refused by the HTTP server itself (431), before
	// any handler runs.
	big := key.proof(t, "POST", tokenURL, func(c map[string]any) { c["pad"] = strings.Repeat("x", 9<<10) })
	huge := key.proof(t, "POST", tokenURL, func(c map[string]any) { c["pad"] = strings.Repeat("x", 64<<10) })
	if r := lk.client.postDPoP(t, target, url.Values{"grant_type": {"client_credentials"}}, cred, huge); r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB proof: %d, want 431", r.status)
	}
	cases := []struct {
		name   string
		proofs []string
	}{
		{"S1 typ missing", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { delete(h, "typ") }), claims(none))}},
		{"S1 typ JWT", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["typ"] = "JWT" }), claims(none))}},
		{"S1 typ at+jwt", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["typ"] = "at+jwt" }), claims(none))}},
		{"S1 typ DPOP+JWT", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["typ"] = "DPOP+JWT" }), claims(none))}},
		{"S2 alg none", []string{"eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ." + base64.RawURLEncoding.EncodeToString(mustJSON(t, claims(none))) + "."}},
		{"S2 HS256 with oct jwk", []string{signProof(t, []byte(strings.Repeat("k", 32)), jose.HS256,
			hdr(func(h map[string]any) {
				h["jwk"] = map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))}
			}), claims(none))}},
		{"S2 RS256 with EC jwk", []string{signProof(t, rsaKey, jose.RS256, hdr(none), claims(none))}},
		{"S2 ES512 not advertised", []string{signES512(t, tokenURL)}},
		{"S2 ES256 with a P-384 jwk", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["jwk"] = jose.JSONWebKey{Key: ec384.Public()} }), claims(none))}},
		{"S3 private key in jwk", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["jwk"] = jose.JSONWebKey{Key: key.priv} }), claims(none))}},
		{"S3 jwk missing", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { delete(h, "jwk") }), claims(none))}},
		{"S3 jwk plus jku", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["jku"] = "http://127.0.0.1:9/jwks" }), claims(none))}},
		{"S3 jwk plus kid", []string{signProof(t, key.priv, jose.ES256, hdr(func(h map[string]any) { h["kid"] = "k1" }), claims(none))}},
		{"S4 two DPoP headers", []string{key.proof(t, "POST", tokenURL, nil), key.proof(t, "POST", tokenURL, nil)}},
		{"S4 two proofs in one header", []string{key.proof(t, "POST", tokenURL, nil) + "," + key.proof(t, "POST", tokenURL, nil)}},
		{"S4 no jti", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { delete(c, "jti") })}},
		{"S4 no htm", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { delete(c, "htm") })}},
		{"S4 no htu", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { delete(c, "htu") })}},
		{"S4 no iat", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { delete(c, "iat") })}},
		{"S4 9 KiB proof", []string{big}},
		{"S5 htm GET", []string{key.proof(t, "GET", tokenURL, nil)}},
		{"S5 htu of another endpoint", []string{key.proof(t, "POST", strings.TrimSuffix(tokenURL, "/token")+"/par", nil)}},
		{"S5 htu of another workspace", []string{key.proof(t, "POST", strings.Replace(tokenURL, "/w/default/", "/w/other/", 1), nil)}},
		{"S5 htu with a trailing slash", []string{key.proof(t, "POST", tokenURL+"/", nil)}},
		{"S5 htu of another host", []string{key.proof(t, "POST", "https://evil.example/w/default/oauth2/token", nil)}},
		{"S6 iat 600 s old", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { c["iat"] = time.Now().Unix() - 600 })}},
		{"S6 iat 600 s ahead", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { c["iat"] = time.Now().Unix() + 600 })}},
		{"S7 replayed jti", []string{replayed}},
		{"S7 jti of 257 characters", []string{key.proof(t, "POST", tokenURL, func(c map[string]any) { c["jti"] = strings.Repeat("j", 257) })}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := lk.client.postDPoP(t, target, url.Values{"grant_type": {"client_credentials"}}, cred, c.proofs...)
			wantStatusCode(t, r, http.StatusBadRequest, "invalid_dpop_proof")
			if r.str("access_token") != "" {
				t.Fatal("a token was issued")
			}
		})
	}
}

// signES512 is a proof with a P-521 key and ES512, an asymmetric
// algorithm the server does not advertise (S2).
func signES512(t *testing.T, tokenURL string) string {
	k, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	return signProof(t, k, jose.ES512, map[string]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: k.Public()}}, proofClaims("POST", tokenURL))
}

// dpopNonces: with the workspace's nonces on, a proof without a nonce or
// with a forged one gets 400 use_dpop_nonce and a DPoP-Nonce header; the
// proof with that nonce succeeds (S8).
func dpopNonces(t *testing.T, lk *instance, ws, target, tokenURL string, cred basic, key dpopKey) {
	lk.adminOK(t, http.MethodPatch, "/workspaces/"+ws, map[string]any{"settings": map[string]any{"dpop_nonce": true}}, http.StatusOK, nil)
	defer lk.adminOK(t, http.MethodPatch, "/workspaces/"+ws, map[string]any{"settings": map[string]any{"dpop_nonce": false}}, http.StatusOK, nil)
	cc := url.Values{"grant_type": {"client_credentials"}}
	var nonce string
	eventually(t, func() (string, bool) { // the cached workspace learns of the change
		r := lk.client.postDPoP(t, target, cc, cred, key.proof(t, "POST", tokenURL, nil))
		nonce = r.header.Get("DPoP-Nonce")
		return "", r.status == http.StatusBadRequest && r.str("error") == "use_dpop_nonce" && nonce != ""
	})
	forged := key.proof(t, "POST", tokenURL, func(c map[string]any) { c["nonce"] = base64.RawURLEncoding.EncodeToString(randomBytes(24)) })
	r := lk.client.postDPoP(t, target, cc, cred, forged)
	wantStatusCode(t, r, http.StatusBadRequest, "use_dpop_nonce")
	if r.header.Get("DPoP-Nonce") == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	r = lk.client.postDPoP(t, target, cc, cred, key.proof(t, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce }))
	if r.status != http.StatusOK || r.str("token_type") != "DPoP" {
		t.Fatalf("proof with the server's nonce: %d %s", r.status, r.raw)
	}
}

// TestDPoPMultiProcess: a proof accepted by process 1 is a replay at
// process 2, 20 identical proofs over both give one token, and a nonce
// from one process is good at the other (S7, S8; reliability invariant 4).
func TestDPoPMultiProcess(t *testing.T) {
	t.Parallel()
	p1, p2, _ := startProcessPair(t, "DPoP multi-process test")
	const ws = "default"
	p1.createService(t, ws, "api", "https://api.example", "api:read")
	c := p1.secretClient(t, ws, "client_secret_basic", "api:read")
	cred := basic{c.ClientID, c.ClientSecret}
	tokenURL := p1.issuer(ws) + "/oauth2/token"
	cc := url.Values{"grant_type": {"client_credentials"}}
	key := newDPoPKey(t)
	eventually(t, func() (string, bool) { // process 2 learns of the client
		r := p2.client.postDPoP(t, p2.wsURL(ws)+"/oauth2/token", cc, cred, key.proof(t, "POST", tokenURL, nil))
		return "", r.status == http.StatusOK
	})
	t.Run("S7 proof used at 1 is a replay at 2", func(t *testing.T) {
		proof := key.proof(t, "POST", tokenURL, nil)
		if r := p1.client.postDPoP(t, p1.wsURL(ws)+"/oauth2/token", cc, cred, proof); r.status != http.StatusOK {
			t.Fatalf("process 1: %d %s", r.status, r.raw)
		}
		wantStatusCode(t, p2.client.postDPoP(t, p2.wsURL(ws)+"/oauth2/token", cc, cred, proof), http.StatusBadRequest, "invalid_dpop_proof")
	})
	t.Run("S7 20 concurrent identical proofs over both", func(t *testing.T) {
		proof := key.proof(t, "POST", tokenURL, nil)
		replies := make([]reply, 20)
		var wg sync.WaitGroup
		for i := range replies {
			target := []*instance{p1, p2}[i%2]
			wg.Go(func() { replies[i] = target.client.postDPoP(t, target.wsURL(ws)+"/oauth2/token", cc, cred, proof) })
		}
		wg.Wait()
		ok := 0
		for _, r := range replies {
			switch {
			case r.status == http.StatusOK:
				ok++
			case r.status != http.StatusBadRequest || r.str("error") != "invalid_dpop_proof":
				t.Errorf("unexpected answer %d %s", r.status, r.raw)
			}
		}
		if ok != 1 {
			t.Fatalf("%d successes, want exactly 1", ok)
		}
	})
	t.Run("S8 nonce from 1 accepted at 2", func(t *testing.T) {
		p1.adminOK(t, http.MethodPatch, "/workspaces/"+ws, map[string]any{"settings": map[string]any{"dpop_nonce": true}}, http.StatusOK, nil)
		nonce := eventually(t, func() (string, bool) {
			r := p1.client.postDPoP(t, p1.wsURL(ws)+"/oauth2/token", cc, cred, key.proof(t, "POST", tokenURL, nil))
			return r.header.Get("DPoP-Nonce"), r.str("error") == "use_dpop_nonce"
		})
		eventually(t, func() (string, bool) {
			r := p2.client.postDPoP(t, p2.wsURL(ws)+"/oauth2/token", cc, cred, key.proof(t, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce }))
			return "", r.status == http.StatusOK
		})
	})
}

// checkDPoP is what a resource server does with a request carrying a
// DPoP-bound access token (RFC 9449 §7), given the token's introspection
// answer (RFC 7662, with cnf per RFC 9449 §6.2): the DPoP scheme, one
// proof signed by the key the token is bound to, for this method and URL,
// fresh, with ath, and a jti not seen before. docs/dpop.md shows this
// function; TestDPoPResourceServerExample runs it against the server.
func checkDPoP(r *http.Request, introspected map[string]any, resourceURL string, seen func(jti string) bool) error {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cnf, _ := introspected["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	proofs := r.Header.Values("DPoP")
	if introspected["active"] != true || jkt == "" || !strings.EqualFold(scheme, "DPoP") || len(proofs) != 1 {
		return errors.New("not an active DPoP-bound token presented with the DPoP scheme and one proof")
	}
	jws, err := jose.ParseSignedCompact(proofs[0], []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.EdDSA, jose.PS256, jose.RS256})
	if err != nil {
		return err
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return errors.New("not a DPoP proof with a public jwk")
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil || base64.RawURLEncoding.EncodeToString(thumb) != jkt {
		return errors.New("the proof is not signed by the key the token is bound to")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return err
	}
	var c struct {
		JTI string `json:"jti"`
		HTM string `json:"htm"`
		HTU string `json:"htu"`
		ATH string `json:"ath"`
		IAT int64  `json:"iat"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(token))
	switch {
	case c.HTM != r.Method || c.HTU != resourceURL:
		return errors.New("the proof is for another request")
	case time.Since(time.Unix(c.IAT, 0)).Abs() > time.Minute:
		return errors.New("the proof is not fresh")
	case c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]):
		return errors.New("the proof is for another access token")
	case c.JTI == "" || seen(c.JTI):
		return errors.New("the proof was used before")
	}
	return nil
}

// TestDPoPResourceServerExample runs docs/dpop.md's resource server code
// (checkDPoP, which the document quotes verbatim) on a token and proofs
// from a real server.
func TestDPoPResourceServerExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/dpop.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("dpop_test.go")
	if err != nil {
		t.Fatal(err)
	}
	block := string(doc)
	if i := strings.Index(block, "```go\n"); i >= 0 {
		block = block[i+len("```go\n"):]
		block = block[:strings.Index(block, "```")]
	}
	if !strings.Contains(string(src), block) || !strings.Contains(block, "func checkDPoP(") {
		t.Fatal("docs/dpop.md's Go example differs from checkDPoP in internal/e2e/dpop_test.go")
	}

	lk := startInstance(t, "")
	const ws = "default"
	lk.createService(t, ws, "api", "https://api.example", "api:read")
	c := lk.secretClient(t, ws, "client_secret_basic", "api:read")
	cred := basic{c.ClientID, c.ClientSecret}
	key, other := newDPoPKey(t), newDPoPKey(t)
	tokenURL := lk.issuer(ws) + "/oauth2/token"
	r := lk.client.postDPoP(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cred, key.proof(t, "POST", tokenURL, nil))
	at := r.str("access_token")
	introspected := lk.introspect(t, ws, at, cred).json

	const resource = "https://api.example/orders"
	used := map[string]bool{}
	seen := func(jti string) bool { s := used[jti]; used[jti] = true; return s }
	request := func(k dpopKey, proofFor string) *http.Request {
		req := newRequest(t, http.MethodGet, resource, nil)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", k.proof(t, "GET", resource, func(c map[string]any) { c["ath"] = dpop.ATH(proofFor) }))
		return req
	}
	good := request(key, at)
	if err := checkDPoP(good, introspected, resource, seen); err != nil {
		t.Fatalf("valid request refused: %v", err)
	}
	if checkDPoP(good, introspected, resource, seen) == nil {
		t.Fatal("replayed proof accepted")
	}
	if checkDPoP(request(other, at), introspected, resource, seen) == nil {
		t.Fatal("proof by another key accepted")
	}
	if checkDPoP(request(key, "another token"), introspected, resource, seen) == nil {
		t.Fatal("proof for another token accepted")
	}
}
