package authorize

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// FuzzRequestObject: the request object parser (structure, then the
// claims-to-parameters conversion) never panics, and every failure is an
// invalid_request_object protocol error with a description for people.
func FuzzRequestObject(f *testing.F) {
	f.Add(b64(`{"alg":"ES256","kid":"k"}`) + "." + b64(`{"iss":"c","aud":"https://as","client_id":"c","scope":"openid","max_age":0,"claims":{"id_token":{"acr":null}}}`) + "." + b64("sig"))
	f.Add(b64(`{"alg":"none"}`) + "." + b64(`{}`) + ".")
	f.Add(b64(`{"alg":"RS256"}`) + "." + b64(`{"request":"x"}`) + "." + b64("s"))
	f.Add(b64(`{"alg":"HS256"}`) + "." + b64(`{"a":1}`) + "." + b64("s"))
	f.Add("a.b.c.d.e")
	f.Add(b64(`{"alg":"ES256"}`) + "." + b64(`{"x":true,"y":null,"z":[1,"2"]}`) + "." + b64("s"))
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := decodeRequestObject(raw)
		if err != nil {
			requireObjectError(t, err)
			return
		}
		params, err := requestObjectParams(tok.Claims.Raw)
		if err != nil {
			requireObjectError(t, err)
			return
		}
		for _, name := range jwtClaims {
			if params.Has(name) {
				t.Fatalf("registered claim %q became a parameter", name)
			}
		}
		if params.Has("request") || params.Has("request_uri") {
			t.Fatal("request or request_uri passed through")
		}
	})
}

func requireObjectError(t *testing.T, err error) {
	t.Helper()
	var e *oauth2.Error
	if !errors.As(err, &e) || e.Code != ErrInvalidRequestObject || e.Description == "" {
		t.Fatalf("error %v is not invalid_request_object with a description", err)
	}
}

// TestRequestObjectParams: values become parameters as RFC 9101 §4 and
// OIDC Core §6.1 have them; other types, and request or request_uri
// inside, are refused.
func TestRequestObjectParams(t *testing.T) {
	raw := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	p, err := requestObjectParams(raw(`{"iss":"c","aud":"a","exp":1,"jti":"j","client_id":"c","max_age":300,
		"claims":{ "id_token" : {"acr":null} },"authorization_details":[{"type":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Get("client_id") != "c" || p.Get("max_age") != "300" || p.Get("claims") != `{"id_token":{"acr":null}}` ||
		p.Get("authorization_details") != `[{"type":"x"}]` || p.Has("iss") || p.Has("exp") || p.Has("jti") {
		t.Fatalf("params %v", p)
	}
	for _, bad := range []string{`{"request":"x"}`, `{"request_uri":"urn:x"}`, `{"prompt":true}`, `{"state":null}`} {
		if _, err := requestObjectParams(raw(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		} else {
			requireObjectError(t, err)
		}
	}
}
