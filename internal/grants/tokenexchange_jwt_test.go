package grants_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// jwtSubjectFixture adds to the JWT bearer fixture two clients that may
// exchange the trusted issuer "idp"'s JWTs (subject_token_type jwt):
// "tx-both", which also has the JWT bearer grant for that issuer and
// whose JWT bearer settings pre-authorize the service user usr-svc, and
// "tx-none", whose JWT bearer settings pre-authorize nobody (the default,
// docs/security.md R1).
func newJWTSubjectFixture(t *testing.T) *bearerFixture {
	t.Helper()
	f := newBearerFixture(t)
	exchange := &storage.TokenExchangeSettings{SubjectTokenTypes: []string{storage.TokenTypeJWT},
		AllowedIssuers: []string{"idp"}, MayImpersonate: true}
	f.client(t, storage.Client{ID: "tx-both", Scopes: allScopes, TokenExchange: exchange,
		GrantTypes: []string{oauth2.GrantJWTBearer, oauth2.GrantTokenExchange},
		JWTBearer: &storage.JWTBearerSettings{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{"usr-svc"},
			AllowedTrustedIssuers: []string{"idp"}}})
	f.client(t, storage.Client{ID: "tx-none", Scopes: allScopes, TokenExchange: exchange,
		GrantTypes: []string{oauth2.GrantTokenExchange}})
	return f
}

// jwtSubjectStep is one request with the assertion of the case: at the
// token exchange grant (as subject_token of type jwt) or at the JWT
// bearer grant, by a client, with an optional scope; and its answer.
type jwtSubjectStep struct {
	bearer       bool
	client       string
	scope        string
	status       int
	code, inDesc string
}

func (f *bearerFixture) jwtSubjectPost(t *testing.T, s jwtSubjectStep, assertion string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {oauth2.GrantTokenExchange}, "subject_token": {assertion},
		"subject_token_type": {storage.TokenTypeJWT}}
	if s.bearer {
		form = bearerForm(assertion)
	}
	if s.scope != "" {
		form.Set("scope", s.scope)
	}
	resp := f.post(t, "acme", form, s.client, f.secrets[s.client])
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return resp.StatusCode, body
}

// TestTokenExchangeJWTSubjectAsJWTBearer: a trusted issuer's JWT as
// subject token is checked as a JWT bearer assertion (README "Token
// exchange"): single use in the JWT bearer grant's replay namespace, so
// it is accepted once at either grant (SECURITY.md C7), and only for a
// user the client's JWT bearer settings pre-authorize (docs/security.md
// R1, the grant's invalid_grant). A request refused by a later check
// (pre-authorization, scope, lifetime) does not spend it (B8).
func TestTokenExchangeJWTSubjectAsJWTBearer(t *testing.T) {
	f := newJWTSubjectFixture(t)
	var (
		exchangeOK = jwtSubjectStep{client: "tx-both", status: http.StatusOK}
		bearerOK   = jwtSubjectStep{bearer: true, client: "tx-both", status: http.StatusOK}
		replayed   = jwtSubjectStep{client: "tx-both", status: http.StatusBadRequest, code: "invalid_request",
			inDesc: "subject_token is invalid: assertion has already been used"}
		bearerReplayed = jwtSubjectStep{bearer: true, client: "tx-both", status: http.StatusBadRequest, code: "invalid_grant",
			inDesc: "assertion has already been used"}
		notPreAuthorized = jwtSubjectStep{client: "tx-none", status: http.StatusBadRequest, code: "invalid_grant",
			inDesc: "user is not pre-authorized for this app"}
	)
	cases := []struct {
		name  string
		mods  []any // claims of the assertion (bearerClaims)
		steps []jwtSubjectStep
	}{
		{"pre-authorized client accepted", nil, []jwtSubjectStep{exchangeOK}},
		{"replay at token exchange", nil, []jwtSubjectStep{exchangeOK, replayed, replayed}},
		{"replay without jti, by the assertion's hash", []any{"jti", nil}, []jwtSubjectStep{exchangeOK, replayed}},
		{"used at the JWT bearer grant, then exchanged", nil, []jwtSubjectStep{bearerOK, replayed}},
		{"exchanged, then used at the JWT bearer grant", nil, []jwtSubjectStep{exchangeOK, bearerReplayed}},
		{"client without pre-authorization refused", nil, []jwtSubjectStep{notPreAuthorized, notPreAuthorized}},
		{"refused for pre-authorization, not spent", nil, []jwtSubjectStep{notPreAuthorized, exchangeOK, replayed}},
		{"refused for scope, not spent", nil, []jwtSubjectStep{
			{client: "tx-both", scope: "nope:read", status: http.StatusBadRequest, code: "invalid_scope"}, exchangeOK}},
		{"refused as about to expire, not spent", []any{"exp", time.Now().Unix()}, []jwtSubjectStep{
			{client: "tx-both", status: http.StatusBadRequest, code: "invalid_request", inDesc: "about to expire"}, bearerOK}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertion := f.idpAssertion(t, tc.mods...)
			for i, s := range tc.steps {
				status, body := f.jwtSubjectPost(t, s, assertion)
				desc, _ := body["error_description"].(string)
				if status != s.status || (s.code != "" && body["error"] != s.code) || !strings.Contains(desc, s.inDesc) {
					t.Fatalf("step %d: %d %v, want %d %s %q", i+1, status, body, s.status, s.code, s.inDesc)
				}
				if status != http.StatusOK {
					continue
				}
				c := decodeClaims(t, body["access_token"].(string))
				if c.Subject != "usr-svc" || c.ClientID != s.client {
					t.Fatalf("step %d: sub %q client_id %q, want usr-svc and %s", i+1, c.Subject, c.ClientID, s.client)
				}
			}
		})
	}
}

// TestTokenExchangeJWTSubjectConcurrent: the same assertion sent at once
// to both grants is accepted exactly once (SECURITY.md C7: one atomic
// spend in the database, whichever grant wins).
func TestTokenExchangeJWTSubjectConcurrent(t *testing.T) {
	f := newJWTSubjectFixture(t)
	assertion := f.idpAssertion(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
	)
	for i := range 8 {
		wg.Go(func() {
			form := url.Values{"grant_type": {oauth2.GrantTokenExchange}, "subject_token": {assertion},
				"subject_token_type": {storage.TokenTypeJWT}}
			if i%2 == 0 {
				form = bearerForm(assertion)
			}
			rec := httptestPost(f.env.Mux, "/w/acme/oauth2/token", form, "tx-both", f.secrets["tx-both"])
			mu.Lock()
			codes[rec.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 1 || codes[http.StatusBadRequest] != 7 {
		t.Fatalf("concurrent uses at both grants: %v, want one 200 and seven 400", codes)
	}
}
