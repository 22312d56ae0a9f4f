package oidc

// Request objects (RFC 9101 §6.2) and private_key_jwt client assertions
// (RFC 7523 §2.2) verified with a client's uploaded certificates, as the
// JWT bearer grant verifies its assertions: only certificates within their
// validity period, named by the kid they were stored under (x5t#S256 by
// default).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// certKey makes an ES256 key and a self-signed certificate for it valid
// from an hour ago for validFor; kid is the certificate's x5t#S256.
func certKey(t *testing.T, validFor time.Duration) (rpKey, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "e2e-jar"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validFor), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	kid := base64.RawURLEncoding.EncodeToString(sum[:])
	return rpKey{priv: priv, alg: jose.ES256, kid: kid}, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestJARUploadedCertificates(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testJARUploadedCertificates(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testJARUploadedCertificates(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

func testJARUploadedCertificates(t *testing.T, e *env) {
	off := false
	key, pemCert := certKey(t, 2*time.Hour)
	stranger, _ := certKey(t, 2*time.Hour)
	jwksKey := newRPKey(t, jose.ES256, "rp-jwks")
	// A client_secret_basic client with no JWKS at all: its request
	// objects can only be verified with its certificate.
	c := e.createClient(t, testWS, clientSpec{ID: "jar-cert", RedirectURIs: []string{rpRedirect}, RequirePKCE: &off})
	// A private_key_jwt client whose JWKS holds another key: its
	// certificate's key authenticates it as well.
	pkj := e.createClient(t, testWS, clientSpec{ID: "pkj-cert", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(jwksKey.jwk("sig"))}})
	for _, id := range []string{c.ID, pkj.ID} {
		e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/clients/"+id+"/certificates",
			map[string]any{"certificate": pemCert}, http.StatusCreated, nil)
	}
	object := func(k rpKey, params url.Values) url.Values {
		return url.Values{"client_id": {c.ID}, "request": {k.sign(t, e.requestClaims(c, params), "oauth-authz-req+jwt")}}
	}

	t.Run("T8 request object signed with the certificate's key", func(t *testing.T) {
		inner := authParams(c, "response_mode", "")
		uri := e.requirePushed(t, e.push(t, c, object(key, inner)))
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {c.ID}, "request_uri": {uri}}), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, inner.Get("state"))
		requireTokens(t, e.exchange(t, c, res.Params.Get("code"), nil))
	})
	t.Run("T8 by value at the authorization endpoint", func(t *testing.T) {
		inner := authParams(c, "response_mode", "")
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, object(key, inner)), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, inner.Get("state"))
	})
	t.Run("T9 key of no certificate of the client", func(t *testing.T) {
		requireOAuthError(t, e.push(t, c, object(stranger, authParams(c))), http.StatusBadRequest, "invalid_request_object")
		named := rpKey{priv: stranger.priv, alg: stranger.alg, kid: key.kid} // the certificate's kid, the wrong key
		requireOAuthError(t, e.push(t, c, object(named, authParams(c))), http.StatusBadRequest, "invalid_request_object")
	})
	t.Run("B private_key_jwt with the certificate's key", func(t *testing.T) {
		form := mergeValues(authParams(pkj), e.assertion(t, pkj, key))
		e.requirePushed(t, e.push(t, clientCreds{ID: pkj.ID, AuthMethod: "private_key_jwt"}, form))
		form = mergeValues(authParams(pkj), e.assertion(t, pkj, stranger))
		requireOAuthError(t, e.push(t, clientCreds{ID: pkj.ID, AuthMethod: "private_key_jwt"}, form), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("expired certificate no longer verifies", func(t *testing.T) {
		e.clock.Advance(3 * time.Hour)
		requireOAuthError(t, e.push(t, c, object(key, authParams(c))), http.StatusBadRequest, "invalid_request_object")
		form := mergeValues(authParams(pkj), e.assertion(t, pkj, key))
		requireOAuthError(t, e.push(t, clientCreds{ID: pkj.ID, AuthMethod: "private_key_jwt"}, form), http.StatusUnauthorized, "invalid_client")
		// The JWKS key still works.
		form = mergeValues(authParams(pkj), e.assertion(t, pkj, jwksKey))
		e.requirePushed(t, e.push(t, clientCreds{ID: pkj.ID, AuthMethod: "private_key_jwt"}, form))
	})
}
