package grants_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// newAssertionClient registers a private_key_jwt client with an inline
// ES256 key and returns a function producing fresh assertions.
func newAssertionClient(t *testing.T, f *fixture, id string) func(jti string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: key.Public(), KeyID: id + "-key", Algorithm: "ES256", Use: "sig"}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	f.client(t, storage.Client{ID: id, Scopes: allScopes, TokenEndpointAuthMethod: oauth2.AuthPrivateKeyJWT, JWKS: set})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: id + "-key"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	return func(jti string) string {
		now := f.env.Clock.Now()
		raw, err := jwt.Signed(signer).Claims(jwt.Claims{
			Issuer: id, Subject: id, Audience: jwt.Audience{f.env.Issuer("acme")}, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute)),
		}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
}

func assertionForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {oauth2.GrantClientCredentials},
		"client_assertion_type": {oauth2.ClientAssertionTypeJWTBearer},
		"client_assertion":      {assertion},
	}
}

// TestPrivateKeyJWT covers a go-jose-signed private_key_jwt client
// (RFC 7523 §2.2) and B7: an assertion is single use; and an unsupported
// grant type is refused before client authentication, so it burns no jti.
func TestPrivateKeyJWT(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	assertion := newAssertionClient(t, f, "pkjwt")
	first := assertion(tokens.NewJTI())
	tb := decodeToken(t, f.post(t, "acme", assertionForm(first), "", ""))
	claims, _ := verifyWithOIDC(t, f, tb.AccessToken, oauth2.AlgES256)
	if claims.ClientID != "pkjwt" || claims.Subject != "pkjwt" {
		t.Fatalf("claims %+v", claims)
	}
	assertError(t, f.post(t, "acme", assertionForm(first), "", ""), http.StatusUnauthorized, "invalid_client")
	// An unsupported grant type does not spend the assertion's jti.
	fresh := assertion(tokens.NewJTI())
	form := assertionForm(fresh)
	form.Set("grant_type", "password")
	assertError(t, f.post(t, "acme", form, "", ""), http.StatusBadRequest, "unsupported_grant_type")
	decodeToken(t, f.post(t, "acme", assertionForm(fresh), "", ""))
}
