package clientauth

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// grantParser stands in for the JWT bearer grant's parser of its
// assertion parameter and counts its calls.
type grantParser struct{ calls int }

func (p *grantParser) parse(form url.Values) (*jwtx.Token, error) {
	p.calls++
	raw := form.Get("assertion")
	if raw == "" {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "assertion is required")
	}
	tok, err := jwtx.Parse(raw, oauth2.AsymmetricVerifyAlgs, 0)
	if err != nil {
		return nil, oauth2.Wrap(oauth2.ErrInvalidGrant, "assertion is invalid: "+jwtx.Describe(err), err)
	}
	return tok, nil
}

// grantAssertion is a JWT bearer grant assertion issued by iss; clientauth
// never verifies it (the grant does), so any key signs it.
func grantAssertion(t *testing.T, iss string) string {
	t.Helper()
	c := claims(iss)
	if iss == "" {
		delete(c, "iss")
	}
	c["sub"] = "alice"
	return assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, c)
}

// TestAssertionOnly covers the JWT bearer grant's assertion-only shape
// (RFC 7521 §4.1): without credentials the client is the assertion's iss,
// a client_id equal to that iss is no credential, and anything carrying
// credentials (or a client_id naming another client) is ordinary client
// authentication, in which the grant's assertion plays no part.
func TestAssertionOnly(t *testing.T) {
	genKeys()
	cases := []struct {
		name       string
		form       func(t *testing.T) url.Values
		authz      string
		noParser   bool // the endpoint does not admit the shape
		wantMethod string
		wantClient string
		wantCode   oauth2.ErrorCode
		wantStatus int
		wantDesc   string
		wantParsed bool // the grant's parser ran
	}{
		{name: "no client_id: the client is iss", form: bare("rsa-client", ""),
			wantMethod: MethodAssertionOnly, wantClient: "rsa-client", wantParsed: true},
		{name: "client_id equal to iss is no credential", form: bare("rsa-client", "rsa-client"),
			wantMethod: MethodAssertionOnly, wantClient: "rsa-client", wantParsed: true},
		{name: "client_id of another public client is none", form: bare("rsa-client", "public-client"),
			wantMethod: oauth2.AuthNone, wantClient: "public-client", wantParsed: true},
		{name: "client_id of another confidential client is a failed none", form: bare("rsa-client", "basic-client"),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_basic", wantParsed: true},
		{name: "C11 unknown iss", form: bare("nobody", ""),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic, wantParsed: true},
		{name: "C11 disabled iss", form: bare("disabled-client", ""),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic, wantParsed: true},
		{name: "C11 iss of another workspace", form: bare("other-ws-client", ""),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic, wantParsed: true},
		{name: "C11 no iss", form: bare("", ""),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic, wantParsed: true},
		{name: "assertion missing: the grant's error", form: func(*testing.T) url.Values { return url.Values{} },
			wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "assertion is required", wantParsed: true},
		{name: "assertion malformed: the grant's error", form: func(*testing.T) url.Values { return form("assertion", "a.b") },
			wantCode: oauth2.ErrInvalidGrant, wantStatus: 400, wantDesc: "assertion is invalid: token is not a compact JWS", wantParsed: true},
		{name: "malformed assertion with client_id is ordinary authentication", form: func(*testing.T) url.Values {
			return form("assertion", "a.b", "client_id", "public-client")
		}, wantMethod: oauth2.AuthNone, wantClient: "public-client", wantParsed: true},
		{name: "Basic credentials: ordinary authentication", form: bare("rsa-client", ""), authz: basic("basic-client", basicSecret),
			wantMethod: oauth2.AuthClientSecretBasic, wantClient: "basic-client"},
		{name: "wrong Basic secret is never rescued by the assertion", form: bare("rsa-client", ""), authz: basic("basic-client", "wrong"),
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "any Authorization header counts as credentials", form: bare("rsa-client", ""), authz: "Bearer abc",
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "client_secret: ordinary authentication", form: func(t *testing.T) url.Values {
			f := bare("rsa-client", "post-client")(t)
			f.Set("client_secret", postSecret)
			return f
		}, wantMethod: oauth2.AuthClientSecretPost, wantClient: "post-client"},
		{name: "client_assertion_type alone: ordinary authentication", form: func(t *testing.T) url.Values {
			f := bare("rsa-client", "")(t)
			f.Set("client_assertion_type", oauth2.ClientAssertionTypeJWTBearer)
			return f
		}, wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_assertion is missing"},
		{name: "other grants and endpoints: no credentials fails", form: bare("rsa-client", ""), noParser: true,
			wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := &grantParser{}
			r := e.request(tc.form(t), tc.authz)
			if !tc.noParser {
				r.GrantAssertion = p.parse
			}
			res, err := e.auth.Authenticate(context.Background(), r, "192.0.2.1")
			if (p.calls > 0) != tc.wantParsed {
				t.Fatalf("grant parser calls = %d, want parsed %v", p.calls, tc.wantParsed)
			}
			if tc.wantMethod == "" {
				wantErr(t, err, tc.wantCode, tc.wantStatus, tc.wantDesc)
				return
			}
			if err != nil {
				t.Fatalf("Authenticate = %v", err)
			}
			if res.Method != tc.wantMethod || res.Client.ID != tc.wantClient {
				t.Fatalf("got %s by %s, want %s by %s", res.Client.ID, res.Method, tc.wantClient, tc.wantMethod)
			}
			if (res.Assertion != nil) != (tc.wantMethod == MethodAssertionOnly) {
				t.Fatalf("Result.Assertion = %v for method %s", res.Assertion, res.Method)
			}
			if res.Assertion != nil && res.Assertion.Raw() != r.Form.Get("assertion") {
				t.Fatal("Result.Assertion is not the request's assertion")
			}
		})
	}
}

// bare is the form of the assertion-only shape: an assertion issued by
// iss and, when set, a client_id.
func bare(iss, clientID string) func(t *testing.T) url.Values {
	return func(t *testing.T) url.Values {
		f := form("assertion", grantAssertion(t, iss))
		if clientID != "" {
			f.Set("client_id", clientID)
		}
		return f
	}
}

// TestAssertionOnlyStorageFailure: a failing client lookup is 503
// temporarily_unavailable, never an identified client (SECURITY.md I8).
func TestAssertionOnlyStorageFailure(t *testing.T) {
	genKeys()
	e := newEnv(t)
	e.store.getErr = context.DeadlineExceeded
	r := e.request(bare("rsa-client", "")(t), "")
	r.GrantAssertion = (&grantParser{}).parse
	_, err := e.auth.Authenticate(context.Background(), r, "192.0.2.1")
	wantErr(t, err, oauth2.ErrTemporarilyUnavailable, 503, "")
}

// TestAssertionOnlyFailureBudget: an assertion naming no client is a
// failed client authentication like any other, charged to the address's
// budget (SECURITY.md M7); the genuine client still gets through.
func TestAssertionOnlyFailureBudget(t *testing.T) {
	genKeys()
	e := newEnv(t)
	e.auth.Limiter = newLimiter(e)
	ctx := context.Background()
	parser := (&grantParser{}).parse
	attempt := func(iss string) error {
		r := e.request(bare(iss, "")(t), "")
		r.GrantAssertion = parser
		_, err := e.auth.Authenticate(ctx, r, "198.51.100.7")
		return err
	}
	for i := range 3 {
		if err := attempt("nobody"); oauth2.AsError(err).HTTPStatus() != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	wantErr(t, attempt("nobody"), oauth2.ErrInvalidClient, http.StatusTooManyRequests, "too many failed")
	if err := attempt("rsa-client"); err != nil {
		t.Fatalf("the genuine client was limited: %v", err)
	}
}
