package grants_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// FuzzJWTBearerAssertion: no assertion, in either request shape, produces
// a 5xx or a panic; only a genuine assertion is accepted (SECURITY.md A).
func FuzzJWTBearerAssertion(f *testing.F) {
	bearerKeys(f)
	fx := newFixture(f, oauth2.AlgES256)
	now := time.Now()
	fx.user(f, "acme", storage.User{ID: "usr-alice", Username: "alice"})
	fx.client(f, storage.Client{ID: "fz", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer}})
	fx.uploadCert(f, "fz", "k1", selfSigned(f, rsaKeyA, "fz", 0, now.Add(-time.Hour), now.Add(24*time.Hour)))
	mux := http.NewServeMux()
	fx.handler.Mount(mux)
	good := sign(f, jose.RS256, rsaKeyA, "k1", bearerClaims("fz", "alice", fx.tokenURL("acme")))
	for _, s := range []string{good, good + "x", "a.b.c", "..", "", b64(`{"alg":"none"}`) + "." + b64(`{"iss":"fz"}`) + "."} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, assertion string, withSecret bool) {
		form := url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {assertion}}
		id, secret := "", ""
		if withSecret {
			id, secret = "fz", fx.secrets["fz"]
		}
		rec := httptestPost(mux, "/w/acme/oauth2/token", form, id, secret)
		if rec.Code >= 500 {
			t.Fatalf("assertion %q: status %d %s", assertion, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK && assertion != good {
			t.Fatalf("accepted a forged assertion %q", assertion)
		}
	})
}
