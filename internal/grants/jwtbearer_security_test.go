package grants_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// TestJWTBearerSecurityRows runs SECURITY.md groups A and C against the
// JWT bearer grant, row by row. Every case must fail with the named error
// (never a 500), in both request shapes where they apply.
func TestJWTBearerSecurityRows(t *testing.T) {
	f := newBearerFixture(t)
	tok := f.tokenURL("acme")
	good := func(mods ...any) map[string]any { return bearerClaims("rows", "alice", tok, mods...) }
	hdr := func(extra string) string { return `{"alg":"RS256","kid":"k1"` + extra + `}` }
	pubPEM := publicPEM(t, rsaKeyA)
	now := time.Now()

	// A6: a listener that must never be contacted.
	var jkuHits atomic.Int32
	jku := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { jkuHits.Add(1) }))
	defer jku.Close()

	// Our own access token, for A14.
	ownAT := decodeToken(t, f.post(t, "acme", cc(""), "svc", f.secrets["svc"])).AccessToken

	type shape int
	const (
		rows shape = iota // client_id + client_secret + assertion (ServiceNow)
		bare              // assertion only
		cmic              // client "cmic" with Basic + a trusted issuer's assertion
	)
	cases := []struct {
		name      string
		shape     shape
		assertion string
		form      url.Values // overrides the default form when set
		status    int
		code      string
		desc      string // expected description prefix ("" = not checked)
	}{
		{name: "A1 alg none", assertion: b64(`{"alg":"none"}`) + "." + b64(claimsJSON(good())) + ".", status: 400, code: "invalid_grant", desc: "assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A1 alg None", assertion: b64(`{"alg":"None"}`) + "." + b64(claimsJSON(good())) + ".", status: 400, code: "invalid_grant", desc: "assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A1 alg NONE", assertion: b64(`{"alg":"NONE"}`) + "." + b64(claimsJSON(good())) + ".", status: 400, code: "invalid_grant", desc: "assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A1 alg nOnE assertion only", shape: bare, assertion: b64(`{"alg":"nOnE"}`) + "." + b64(claimsJSON(good())) + ".", status: 400, code: "invalid_grant", desc: "assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A2 ES256 with an RSA certificate's kid", assertion: sign(t, jose.ES256, ecKeyA, "k1", good()), status: 400, code: "invalid_grant", desc: "assertion algorithm"},
		{name: "A2 key the client does not own", assertion: sign(t, jose.RS256, rsaKeyB, "k1", good()), status: 400, code: "invalid_grant", desc: "assertion signature is invalid"},
		{name: "A3 HS256 keyed by the certificate's public key", assertion: sign(t, jose.HS256, pubPEM, "k1", good()), status: 400, code: "invalid_grant"},
		{name: "A3 HS256 keyed by the public key, assertion only", shape: bare, assertion: sign(t, jose.HS256, pubPEM, "", good()), status: 400, code: "invalid_grant"},
		{name: "A4 kid SQL injection", assertion: sign(t, jose.RS256, rsaKeyA, "' OR '1'='1", good()), status: 400, code: "invalid_grant", desc: "no certificate matches kid"},
		{name: "A4 kid path traversal", assertion: sign(t, jose.RS256, rsaKeyA, "../../etc/passwd", good()), status: 400, code: "invalid_grant"},
		{name: "A4 kid with NUL", assertion: sign(t, jose.RS256, rsaKeyA, "k1\x00", good()), status: 400, code: "invalid_grant"},
		{name: "A4 kid of another client", assertion: sign(t, jose.RS256, rsaKeyB, "k-other", good()), status: 400, code: "invalid_grant", desc: "no certificate matches kid 'k-other'"},
		{name: "A4 64 KiB kid", assertion: sign(t, jose.RS256, rsaKeyA, strings.Repeat("k", 60<<10), good()), status: 413, code: "invalid_request"},
		{name: "A6 jku header", assertion: craft(t, hdr(`,"jku":"`+jku.URL+`/jwks"`), claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: header member 'jku' is not allowed"},
		{name: "A6 x5u header", assertion: craft(t, hdr(`,"x5u":"`+jku.URL+`/cert"`), claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: header member 'x5u' is not allowed"},
		{name: "A7 embedded jwk", assertion: craft(t, hdr(`,"jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}`), claimsJSON(good()), rsaKeyB), status: 400, code: "invalid_grant", desc: "assertion is invalid: header member 'jwk' is not allowed"},
		{name: "A7 embedded x5c", assertion: craft(t, hdr(`,"x5c":["MIIB"]`), claimsJSON(good()), rsaKeyB), status: 400, code: "invalid_grant", desc: "assertion is invalid: header member 'x5c' is not allowed"},
		{name: "A8 crit", assertion: craft(t, hdr(`,"crit":["exp-x"],"exp-x":1`), claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: header member 'crit' is not allowed"},
		{name: "A9 JSON serialization", assertion: `{"payload":"` + b64(claimsJSON(good())) + `","signatures":[]}`, status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A10 JWE (5 parts)", assertion: b64(`{"alg":"RSA-OAEP","enc":"A128GCM"}`) + ".a.b.c.d", status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A10 PBES2 p2c", assertion: b64(`{"alg":"PBES2-HS256+A128KW","p2c":2147483647,"enc":"A128GCM"}`) + ".a.b.c.d", status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A11 duplicate alg", assertion: craft(t, `{"alg":"RS256","alg":"none","kid":"k1"}`, claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: header has the same member name twice"},
		{name: "A11 duplicate sub", assertion: craft(t, hdr(""), `{"iss":"rows","sub":"bob","sub":"alice","aud":"`+tok+`","exp":`+itoa(now.Add(time.Minute).Unix())+`}`, rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: claim set has the same member name twice"},
		{name: "A12 padded base64", assertion: strings.Replace(f.rowsAssertion(t), ".", "=.", 1), status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A13 expired with bad signature", assertion: sign(t, jose.RS256, rsaKeyB, "k1", good("exp", now.Add(-time.Hour).Unix(), "iat", now.Add(-2*time.Hour).Unix())), status: 400, code: "invalid_grant", desc: "assertion signature is invalid"},
		{name: "A13 expired with good signature", assertion: sign(t, jose.RS256, rsaKeyA, "k1", good("exp", now.Add(-time.Hour).Unix(), "iat", now.Add(-2*time.Hour).Unix())), status: 400, code: "invalid_grant", desc: "assertion expired"},
		{name: "A14 typ at+jwt", assertion: craft(t, hdr(`,"typ":"at+jwt"`), claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "token type is not accepted here"},
		{name: "A14 our own access token", assertion: ownAT, status: 400, code: "invalid_grant", desc: "assertion issuer is not trusted"},
		{name: "A14 DPoP proof type", assertion: craft(t, hdr(`,"typ":"dpop+jwt"`), claimsJSON(good()), rsaKeyA), status: 400, code: "invalid_grant", desc: "token type is not accepted here"},
		{name: "A16 1 MB of dots", assertion: strings.Repeat(".", 1<<20), status: 413, code: "invalid_request"},
		{name: "A16 40 KB assertion", assertion: craft(t, hdr(""), claimsJSON(good("pad", strings.Repeat("x", 40<<10))), rsaKeyA), status: 400, code: "invalid_request"},
		{name: "A17 exp as string", assertion: sign(t, jose.RS256, rsaKeyA, "k1", good("exp", "123")), status: 400, code: "invalid_grant", desc: "assertion is invalid: claim 'exp' must be an integer NumericDate (seconds since 1970, not negative, not quoted)"},
		{name: "A17 exp 1e308", assertion: craft(t, hdr(""), `{"iss":"rows","sub":"alice","aud":"`+tok+`","exp":1e308}`, rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: claim 'exp' must be an integer NumericDate (seconds since 1970, not negative, not quoted)"},
		{name: "A17 aud object", assertion: sign(t, jose.RS256, rsaKeyA, "k1", good("aud", map[string]any{})), status: 400, code: "invalid_grant", desc: "assertion is invalid: claim 'aud' must be a string or an array of strings"},
		{name: "A17 fractional iat", assertion: craft(t, hdr(""), `{"iss":"rows","sub":"alice","aud":"`+tok+`","iat":1.5,"exp":`+itoa(now.Add(time.Minute).Unix())+`}`, rsaKeyA), status: 400, code: "invalid_grant", desc: "assertion is invalid: claim 'iat' must be an integer NumericDate (seconds since 1970, not negative, not quoted)"},

		{name: "C1 untrusted issuer", shape: cmic, assertion: sign(t, jose.RS256, issuerKey, "idp-1", bearerClaims("https://evil.example", "x", "cmic-app-id", "cmicuser", "acme||svc-user")), status: 400, code: "invalid_grant", desc: "assertion issuer is not trusted"},
		{name: "C2 issuer of another workspace", shape: cmic, assertion: sign(t, jose.RS256, issuerKey, "idp-1", bearerClaims(f.otherIdP.URL, "x", "cmic-app-id", "cmicuser", "acme||svc-user")), status: 400, code: "invalid_grant", desc: "assertion issuer is not trusted"},
		{name: "C3 disabled issuer", shape: cmic, assertion: sign(t, jose.RS256, issuerKey, "idp-1", bearerClaims("https://disabled.example", "x", "cmic-app-id", "cmicuser", "svc-user")), status: 400, code: "invalid_grant", desc: "assertion issuer is disabled"},
		{name: "C3 disabled user", assertion: f.rowsAssertion(t, "sub", "carol"), status: 400, code: "invalid_grant", desc: "user is disabled"},
		{name: "C4 HS256 with the issuer's public key", shape: cmic, assertion: sign(t, jose.HS256, publicPEM(t, issuerKey), "idp-1", bearerClaims(f.idp.URL, "x", "cmic-app-id", "cmicuser", "acme||svc-user")), status: 400, code: "invalid_grant"},
		{name: "C5 aud missing", assertion: f.rowsAssertion(t, "aud", nil), status: 400, code: "invalid_grant", desc: "audience is invalid"},
		{name: "C5 aud of another workspace", assertion: f.rowsAssertion(t, "aud", f.env.Issuer("other")), status: 400, code: "invalid_grant", desc: "audience is invalid"},
		{name: "C5 aud = the issuer's own audience", shape: cmic, assertion: f.idpAssertion(t, "aud", f.idp.URL), status: 400, code: "invalid_grant", desc: "audience is invalid"},
		{name: "C6 no exp", assertion: f.rowsAssertion(t, "exp", nil), status: 400, code: "invalid_grant", desc: "assertion has no expiry"},
		{name: "C6 expired", assertion: f.rowsAssertion(t, "exp", now.Add(-2*time.Minute).Unix(), "iat", now.Add(-5*time.Minute).Unix()), status: 400, code: "invalid_grant", desc: "assertion expired"},
		{name: "C6 iat 70 s in the future", assertion: f.rowsAssertion(t, "iat", now.Add(70*time.Second).Unix()), status: 400, code: "invalid_grant", desc: "assertion was issued in the future"},
		{name: "C6 exp = iat + 30 days", assertion: f.rowsAssertion(t, "iat", now.Unix(), "exp", now.Add(30*24*time.Hour).Unix()), status: 400, code: "invalid_grant", desc: "assertion lifetime 2592000 s exceeds the maximum of 3600 s"},
		{name: "C6 nbf in the future", assertion: f.rowsAssertion(t, "nbf", now.Add(10*time.Minute).Unix()), status: 400, code: "invalid_grant", desc: "assertion is not yet valid"},
		{name: "C8 sub missing", assertion: f.rowsAssertion(t, "sub", nil), status: 400, code: "invalid_grant", desc: "assertion has no subject"},
		{name: "C8 sub with no local user", assertion: f.rowsAssertion(t, "sub", "mallory"), status: 400, code: "invalid_grant", desc: "no user matches"},
		{name: "C8 claim of a non-service user", shape: cmic, assertion: f.idpAssertion(t, "cmicuser", "acme||alice"), status: 400, code: "invalid_grant", desc: "the mapped user is not a service user"},
		{name: "C8 claim in the wrong format", shape: cmic, assertion: f.idpAssertion(t, "cmicuser", "svc-user"), status: 400, code: "invalid_grant"},
		{name: "C9 two JWTs joined by a space", assertion: f.rowsAssertion(t) + " " + f.rowsAssertion(t), status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "C9 two JWTs joined by a comma", assertion: f.rowsAssertion(t) + "," + f.rowsAssertion(t), status: 400, code: "invalid_grant", desc: "assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "C10 scope beyond allowed", form: withScope(t, f, "orders:read admin"), status: 400, code: "invalid_scope"},
		{name: "C11 client without the grant", form: url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {f.rowsAssertion(t)}, "client_id": {"svc-post"}, "client_secret": {f.secrets["svc-post"]}}, status: 400, code: "unauthorized_client"},
		{name: "C11 assertion only, iss is no client", shape: bare, assertion: f.idpAssertion(t), status: 401, code: "invalid_client"},
		{name: "C11 wrong client secret", form: url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {f.rowsAssertion(t)}, "client_id": {"rows"}, "client_secret": {"wrong"}}, status: 401, code: "invalid_client"},
		{name: "C12 no assertion", form: url.Values{"grant_type": {oauth2.GrantJWTBearer}, "client_id": {"rows"}, "client_secret": {f.secrets["rows"]}}, status: 400, code: "invalid_request"},
		{name: "C12 grant type typo", form: url.Values{"grant_type": {oauth2.GrantJWTBearer + "X"}, "assertion": {f.rowsAssertion(t)}, "client_id": {"rows"}, "client_secret": {f.secrets["rows"]}}, status: 400, code: "unsupported_grant_type"},
		{name: "C12 repeated assertion", form: url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {f.rowsAssertion(t), f.rowsAssertion(t)}, "client_id": {"rows"}, "client_secret": {f.secrets["rows"]}}, status: 400, code: "invalid_request"},
		{name: "C13 issuer not allowed for this client", shape: cmic, form: url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {f.idpAssertion(t)}}, status: 400, code: "invalid_grant", desc: "assertion issuer is not allowed for this client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			switch {
			case tc.name == "C13 issuer not allowed for this client":
				resp = f.postCMiC(t, "cmic-not-allowed", tc.form.Get("assertion"))
			case tc.form != nil:
				resp = f.post(t, "acme", tc.form, "", "")
			case tc.shape == bare:
				resp = f.post(t, "acme", bearerForm(tc.assertion), "", "")
			case tc.shape == cmic:
				resp = f.postCMiC(t, "cmic", tc.assertion)
			default:
				resp = f.postRows(t, tc.assertion)
			}
			e := assertError(t, resp, tc.status, tc.code)
			if tc.desc != "" && !strings.HasPrefix(e.Description, tc.desc) {
				t.Fatalf("description %q, want prefix %q", e.Description, tc.desc)
			}
		})
	}
	if n := jkuHits.Load(); n != 0 {
		t.Fatalf("A6: the jku/x5u listener was contacted %d times", n)
	}
}

func withScope(t *testing.T, f *bearerFixture, scope string) url.Values {
	return url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {f.rowsAssertion(t)},
		"client_id": {"rows"}, "client_secret": {f.secrets["rows"]}, "scope": {scope}}
}

// TestJWTBearerDescriptions asserts the exact error_description of a
// representative failure of each class jwtx reports, through the JWT
// bearer grant (400 invalid_grant) and through client authentication at
// the same endpoint (401 invalid_client), and that the detail (the
// token's own content, decoder messages) reaches only the log, with the
// request ID.
func TestJWTBearerDescriptions(t *testing.T) {
	f := newBearerFixture(t)
	// Requests are served in process (postWithRequestID), so every log
	// line is written before ServeHTTP returns.
	var logged bytes.Buffer
	f.handler.Logger = slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.env.Auth.Logger = f.handler.Logger
	tok := f.tokenURL("acme")
	good := func(mods ...any) map[string]any { return bearerClaims("rows", "alice", tok, mods...) }
	hdr := func(extra string) string { return `{"alg":"RS256","kid":"k1"` + extra + `}` }
	now := time.Now()
	const p = "assertion is invalid: "
	cases := []struct {
		name, assertion, desc, log string
	}{
		{"segments", "a.b.c.d.e", p + "token is not a compact JWS (three base64url parts separated by dots)", "4 dots instead of 2"},
		{"base64", "e." + b64(claimsJSON(good())) + ".c2ln", p + "header is not unpadded base64url", "illegal base64 data"},
		{"JSON syntax", craft(t, hdr(""), `{"iss":"rows",}`, rsaKeyA), p + "claim set is not a JSON object", "invalid character '}'"},
		{"duplicate member", craft(t, `{"alg":"RS256","kid":"k1","kid":"k2"}`, claimsJSON(good()), rsaKeyA), p + "header has the same member name twice", `duplicate member \"kid\"`},
		{"header member", craft(t, hdr(`,"x5u":"https://evil.example/c"`), claimsJSON(good()), rsaKeyA), p + "header member 'x5u' is not allowed", ""},
		{"alg none", b64(`{"alg":"none"}`) + "." + b64(claimsJSON(good())) + ".", p + "algorithm 'none' is not allowed: the token must be signed", `alg \"none\"`},
		{"alg off the list", sign(t, jose.HS384, []byte(strings.Repeat("k", 48)), "", good()), p + "algorithm 'HS384' is not allowed", ""},
		{"alg unknown", b64(`{"alg":"RS256 \u0007"}`) + "." + b64(claimsJSON(good())) + ".c2ln", p + "algorithm is not one this server accepts", `alg \"RS256 \\a\"`},
		{"claim type", sign(t, jose.RS256, rsaKeyA, "k1", good("sub", 42)), p + "claim 'sub' must be a string", `value \"42\"`},
		{"NumericDate", sign(t, jose.RS256, rsaKeyA, "k1", good("exp", "soon")), p + "claim 'exp' must be an integer NumericDate (seconds since 1970, not negative, not quoted)", `value \"\\\"soon\\\"\"`},
		{"control character", sign(t, jose.RS256, rsaKeyA, "k1", good("sub", "alice\r\nadmin")), p + "claim 'sub' contains a control character", `value \"alice\\r\\nadmin\"`},
		{"typ", craft(t, hdr(`,"typ":"dpop+jwt"`), claimsJSON(good()), rsaKeyA), "token type is not accepted here", ""},
		{"expired", f.rowsAssertion(t, "exp", now.Add(-2*time.Minute).Unix(), "iat", now.Add(-5*time.Minute).Unix()), "assertion expired", ""},
		{"not yet valid", f.rowsAssertion(t, "nbf", now.Add(10*time.Minute).Unix()), "assertion is not yet valid", ""},
		{"issued in the future", f.rowsAssertion(t, "iat", now.Add(2*time.Minute).Unix()), "assertion was issued in the future", ""},
		{"lifetime", f.rowsAssertion(t, "iat", now.Unix(), "exp", now.Add(2*time.Hour).Unix()), "assertion lifetime 7200 s exceeds the maximum of 3600 s", ""},
		{"audience", f.rowsAssertion(t, "aud", "https://other.example"), "audience is invalid", ""},
		{"no expiry", f.rowsAssertion(t, "exp", nil), "assertion has no expiry", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := bearerForm(tc.assertion)
			form.Set("client_id", "rows")
			form.Set("client_secret", f.secrets["rows"])
			logged.Reset()
			requestID := "req-desc-" + itoa(int64(i))
			e := assertError(t, f.postWithRequestID(t, form, requestID), http.StatusBadRequest, "invalid_grant")
			if e.Description != tc.desc {
				t.Fatalf("description %q, want %q", e.Description, tc.desc)
			}
			if tc.log != "" {
				assertLoggedDetail(t, logged.String(), requestID, tc.log)
			}
		})
	}

	t.Run("client assertion at the token endpoint", func(t *testing.T) {
		form := bearerForm(f.rowsAssertion(t))
		form.Set("client_assertion_type", oauth2.ClientAssertionTypeJWTBearer)
		form.Set("client_assertion", craft(t, hdr(`,"jwk":{"kty":"oct","k":"AA"}`), claimsJSON(good()), rsaKeyA))
		logged.Reset()
		e := assertError(t, f.postWithRequestID(t, form, "req-desc-client"), http.StatusUnauthorized, "invalid_client")
		if want := "client assertion is invalid: header member 'jwk' is not allowed"; e.Description != want {
			t.Fatalf("description %q, want %q", e.Description, want)
		}
	})
	t.Run("malformed client assertion", func(t *testing.T) {
		form := bearerForm(f.rowsAssertion(t))
		form.Set("client_assertion_type", oauth2.ClientAssertionTypeJWTBearer)
		form.Set("client_assertion", craft(t, `{"alg":"RS256","kid":"k1"}`, `{"iss":"rows","iss":"x"}`, rsaKeyA))
		logged.Reset()
		e := assertError(t, f.postWithRequestID(t, form, "req-desc-client-2"), http.StatusUnauthorized, "invalid_client")
		if want := "client assertion is invalid: claim set has the same member name twice"; e.Description != want {
			t.Fatalf("description %q, want %q", e.Description, want)
		}
		assertLoggedDetail(t, logged.String(), "req-desc-client-2", `duplicate member \"iss\"`)
		// One failure, one line: clientauth's, which names the client
		// tried; the token endpoint does not repeat it.
		if n := strings.Count(logged.String(), `"request_id":"req-desc-client-2"`); n != 1 {
			t.Fatalf("%d log lines for one failed client authentication, want 1:\n%s", n, logged.String())
		}
	})
}

// postWithRequestID serves a POST of form to acme's token endpoint in
// process, under the request ID the server middleware would have assigned.
func (f *bearerFixture) postWithRequestID(t *testing.T, form url.Values, requestID string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, f.tokenURL("acme"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req = req.WithContext(endpoint.WithRequestID(req.Context(), requestID))
	rec := httptest.NewRecorder()
	f.env.Mux.ServeHTTP(rec, req)
	return rec.Result()
}

// assertLoggedDetail finds the failure logged under requestID and checks
// that its cause carries detail (as JSON-encoded in the log line).
func assertLoggedDetail(t *testing.T, log, requestID, detail string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"request_id":"`+requestID+`"`) && strings.Contains(line, detail) {
			return
		}
	}
	t.Fatalf("no log line with request_id %s carries %s:\n%s", requestID, detail, log)
}
