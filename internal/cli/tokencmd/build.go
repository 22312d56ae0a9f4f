package tokencmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

// client builds the oauthclient.Client of a connection, resolving secret
// references and loading the key when the connection uses one.
func (e *env) client(c Connection, key *keystore.Contents) (*oauthclient.Client, error) {
	method, err := oauthclient.ParseAuthMethod(c.AuthMethod)
	if err != nil {
		return nil, err
	}
	method = inferAuthMethod(method, c, key)
	hc, err := oauthclient.NewHTTPClient(c.Proxy, 0)
	if err != nil {
		return nil, err
	}
	if err := e.withMTLS(hc, c, key, method); err != nil { // RFC 8705 (mtls.go)
		return nil, err
	}
	if _, err := withDPoP(hc, c, e.now); err != nil { // RFC 9449 (dpop.go)
		return nil, err
	}
	secret := ""
	if method == oauthclient.AuthClientSecretBasic || method == oauthclient.AuthClientSecretPost || method == oauthclient.AuthClientSecretJWT {
		if secret, err = e.resolveSecret(c.ClientSecret, "client secret"); err != nil {
			return nil, err
		}
	}
	auth := oauthclient.ClientAuth{
		Method: method, ClientID: c.ClientID, ClientSecret: secret, Audience: c.ClientAssertionAudience,
		Alg: jose.SignatureAlgorithm(c.Alg),
	}
	if method == oauthclient.AuthClientSecretJWT {
		auth.Alg = ""
	}
	if method == oauthclient.AuthPrivateKeyJWT {
		if key == nil {
			return nil, errors.New("private_key_jwt needs --key")
		}
		auth.Key, auth.KeyID = key.Signer, firstNonEmpty(c.KID, key.DefaultKID())
	}
	return &oauthclient.Client{
		HTTP: hc, Issuer: c.Issuer, TokenEndpoint: c.TokenEndpoint, AuthorizationEndpoint: c.AuthorizationEndpoint,
		JWKSURI: c.JWKSURI, Auth: auth, Now: e.now,
	}, nil
}

// inferAuthMethod picks the client authentication a person obviously
// means when --auth-method is not given: a client secret means
// client_secret_basic (the method every server must support, RFC 6749
// §2.3.1); a key with the client_credentials flow means private_key_jwt.
// For the jwt flow the key signs the grant assertion, not a client
// assertion, so nothing is inferred from it.
func inferAuthMethod(method oauthclient.AuthMethod, c Connection, key *keystore.Contents) oauthclient.AuthMethod {
	switch {
	case method != "":
		return method
	case c.ClientSecret != "":
		return oauthclient.AuthClientSecretBasic
	case key != nil && (c.Flow == FlowClientCredentials || c.Flow == ""):
		return oauthclient.AuthPrivateKeyJWT
	}
	return method
}

// loadKey opens the connection's key file (and separate certificate file)
// when it has one.
func (e *env) loadKey(c Connection) (*keystore.Contents, error) {
	if c.Key == "" {
		return nil, nil
	}
	storePass, err := e.resolveSecret(c.StorePassword, "key store password")
	if err != nil {
		return nil, err
	}
	keyPass, err := e.resolveSecret(c.KeyPassword, "key password")
	if err != nil {
		return nil, err
	}
	k, err := keystore.Load(c.Key, keystore.Options{Alias: c.Alias, StorePassword: []byte(storePass), KeyPassword: []byte(keyPass)})
	if err != nil {
		return nil, err
	}
	if k.Signer == nil {
		return nil, fmt.Errorf("%s holds no private key", c.Key)
	}
	return k, e.attachCert(k, c.Cert)
}

func (e *env) attachCert(k *keystore.Contents, certFile string) error {
	if certFile == "" {
		return nil
	}
	cc, err := keystore.Load(certFile, keystore.Options{})
	if err != nil {
		return err
	}
	if cc.Certificate == nil {
		return fmt.Errorf("%s holds no certificate", certFile)
	}
	k.Certificate, k.Chain = cc.Certificate, cc.Chain
	if err := (&keystore.Contents{Signer: k.Signer, Certificate: k.Certificate}).CheckPair(); err != nil {
		return fmt.Errorf("%s: %w", certFile, err)
	}
	return nil
}

func (c Connection) params() oauthclient.Params {
	return oauthclient.Params{Scopes: splitScopes(c.Scopes), Resources: c.Resources, Audience: c.Audience}
}

// splitScopes accepts both repeated flags and space-separated lists.
func splitScopes(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// obtain runs the connection's flow.
func (e *env) obtain(ctx context.Context, c Connection) (*oauthclient.Token, error) {
	key, err := e.loadKey(c)
	if err != nil {
		return nil, err
	}
	cl, err := e.client(c, key)
	if err != nil {
		return nil, err
	}
	switch c.Flow {
	case FlowClientCredentials, "":
		return cl.ClientCredentials(ctx, c.params())
	case FlowJWT:
		return e.jwtBearer(ctx, cl, c, key)
	case FlowCode:
		sec, err := secured(c, cl, key)
		if err != nil {
			return nil, err
		}
		return cl.AuthorizationCode(ctx, oauthclient.CodeOptions{
			RedirectURI: c.RedirectURI, Params: c.params(), NoBrowser: c.NoBrowser, Out: e.stderr, Browser: e.browser,
			Secured: sec,
		})
	}
	return nil, fmt.Errorf("flow %q: choose client_credentials, jwt or code", c.Flow)
}

func (e *env) jwtBearer(ctx context.Context, cl *oauthclient.Client, c Connection, key *keystore.Contents) (*oauthclient.Token, error) {
	if key == nil {
		return nil, errors.New("the jwt flow needs a signing key: --key FILE (PEM, PKCS#12 or JKS)")
	}
	claims, err := parseClaims(c.JWTClaims)
	if err != nil {
		return nil, err
	}
	a := oauthclient.Assertion{
		Issuer: firstNonEmpty(c.JWTIssuer, c.ClientID), Subject: c.JWTSubject, Audience: c.JWTAudience,
		Lifetime: time.Duration(c.JWTExpiresIn) * time.Minute, Claims: claims,
		Key: key.Signer, KeyID: firstNonEmpty(c.KID, key.DefaultKID()), Alg: jose.SignatureAlgorithm(c.Alg),
	}
	return cl.JWTBearer(ctx, a, c.params())
}

// parseClaims turns name=value pairs into claims; a value that is valid
// JSON (number, boolean, array, object, quoted string) keeps its type.
func parseClaims(in map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(in))
	for k, v := range in {
		var j any
		if err := json.Unmarshal([]byte(v), &j); err == nil {
			out[k] = j
			continue
		}
		out[k] = v
	}
	return out, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
