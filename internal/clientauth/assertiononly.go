package clientauth

import (
	"context"
	"net/url"

	"github.com/latchkey/latchkey/internal/jwtx"
)

// MethodAssertionOnly names, in results, logs and metrics, a client that
// sent no credentials and was identified by the iss of its own JWT bearer
// grant assertion.
const MethodAssertionOnly = "jwt_bearer_assertion"

// GrantAssertionParser parses the JWT bearer grant's assertion parameter
// (RFC 7523 §2.1). The grant owns that parameter's rules (algorithm
// allowlist, size cap, error descriptions); client authentication only
// reads the issuer of what it returns.
type GrantAssertionParser func(form url.Values) (*jwtx.Token, error)

// assertionOnly tells the assertion-only shape of the JWT bearer grant
// (RFC 7521 §4.1) apart from a request that authenticates its client. The
// shape exists only where r.GrantAssertion admits it and only without any
// credential. A client_id alone is no credential: RFC 7521 §4.1 needs it
// only when the client authenticates with it, and libraries that send it
// anyway send the assertion's own iss. So a request whose only client
// parameter is a client_id equal to the assertion's iss is this shape, not
// a failed "none" authentication; a client_id naming anyone else goes
// through client authentication as always (and fails there unless it is a
// public client of that ID). Without a client_id the shape can only be this
// one, so an assertion that does not parse is answered with the grant's
// own error.
func assertionOnly(r Request) (tok *jwtx.Token, ok bool, err error) {
	if r.GrantAssertion == nil || hasCredentials(r) {
		return nil, false, nil
	}
	tok, err = r.GrantAssertion(r.Form)
	if !r.Form.Has("client_id") {
		return tok, true, err
	}
	iss := ""
	if err == nil {
		iss = tok.Claims.Issuer
	}
	return tok, iss != "" && iss == r.Form.Get("client_id"), nil
}

// hasCredentials reports whether a request carries any client
// authentication (RFC 6749 §2.3, RFC 7521 §4.2): an Authorization header
// of any scheme, a client secret or a client assertion.
func hasCredentials(r Request) bool {
	if r.Authorization != "" {
		return true
	}
	for _, name := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
		if r.Form.Has(name) {
			return true
		}
	}
	return false
}

// identifyFromAssertion is the assertion-only shape (Salesforce,
// golang.org/x/oauth2/jwt): the client is the registered client whose
// client_id is the assertion's iss (RFC 7523 §3 item 1). It only
// identifies the client: the JWT bearer grant then verifies the assertion
// with that client's own certificates or keys and issues nothing
// otherwise, so the signature is the client's authentication. An iss that
// names no enabled client is the generic invalid_client (SECURITY.md C11,
// D2), charged to the failure budget like any failed authentication.
func (a *Authenticator) identifyFromAssertion(ctx context.Context, wsID string, tok *jwtx.Token, attempted *string) (Result, error) {
	*attempted = tok.Claims.Issuer
	client, err := a.lookup(ctx, wsID, []string{tok.Claims.Issuer})
	if err != nil {
		return Result{}, err
	}
	if !client.Enabled {
		return Result{}, failed(errDisabled)
	}
	return Result{Client: client, Method: MethodAssertionOnly, Assertion: tok}, nil
}
