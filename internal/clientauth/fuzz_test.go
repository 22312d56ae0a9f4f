package clientauth

import (
	"context"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// FuzzAuthenticate drives arbitrary Authorization headers and form bodies
// through Authenticate. Seeds run as a unit test. Properties: no panic,
// every error is a protocol error with a client-facing code (never an
// internal one, since the fake store does not fail), and nothing but the
// genuine credentials succeeds.
func FuzzAuthenticate(f *testing.F) {
	genKeys()
	f.Add(basic("basic-client", basicSecret), "")
	f.Add(rawBasic("basic-client", "x:y"), "client_id=basic-client")
	f.Add("Basic !!", "client_secret=a&client_secret=b")
	f.Add("", "client_id=public-client")
	f.Add("", "client_assertion_type="+url.QueryEscape(oauth2.ClientAssertionTypeJWTBearer)+"&client_assertion=a.b.c")
	f.Add("", "client_assertion_type=x&client_assertion=....")
	e := newEnvForFuzz(f)
	genuine := assertion(f, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("ec-client"))
	f.Add("", "client_assertion_type="+url.QueryEscape(oauth2.ClientAssertionTypeJWTBearer)+"&client_assertion="+genuine)
	f.Fuzz(func(t *testing.T, authz, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		res, err := e.auth.Authenticate(context.Background(), e.request(form, authz), "192.0.2.1")
		if err == nil {
			if res.Client.ID == "" || res.Method == "" {
				t.Fatalf("success without a client: %+v", res)
			}
			return
		}
		switch oauth2.AsError(err).Code {
		case oauth2.ErrInvalidClient, oauth2.ErrInvalidRequest:
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
