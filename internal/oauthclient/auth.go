package oauthclient

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/latchkey/latchkey/internal/keystore"
)

// AuthMethod is a token endpoint client authentication method (RFC 7591
// §2 token_endpoint_auth_method values).
type AuthMethod string

// The supported methods. AuthNone sends only client_id (public clients);
// the empty AuthMethod sends nothing at all (a JWT bearer assertion on its
// own, RFC 7523 §2.1 without §2.2).
const (
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	AuthClientSecretPost  AuthMethod = "client_secret_post"
	AuthClientSecretJWT   AuthMethod = "client_secret_jwt"
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"
	AuthNone              AuthMethod = "none"
	// Mutual TLS (RFC 8705 §2): client_id in the body, the TLS client
	// certificate of the HTTP client is the credential.
	AuthTLSClient           AuthMethod = "tls_client_auth"
	AuthSelfSignedTLSClient AuthMethod = "self_signed_tls_client_auth"
)

// ClientAssertionType is the client_assertion_type of RFC 7523 §2.2.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionLifetime is the lifetime of client assertions: short, since
// each is used once (RFC 7523 §3 item 4).
const AssertionLifetime = 60 * time.Second

// ParseAuthMethod accepts the five method names ("" stays empty).
func ParseAuthMethod(s string) (AuthMethod, error) {
	switch m := AuthMethod(s); m {
	case "", AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT, AuthNone,
		AuthTLSClient, AuthSelfSignedTLSClient:
		return m, nil
	}
	return "", fmt.Errorf("oauthclient: auth method %q: choose client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth or none", s)
}

// Audience choices for client assertions: some servers want their issuer,
// others their token endpoint URL (OIDC Core §9 says the token endpoint;
// RFC 7523 §3 allows the issuer).
const (
	AudienceIssuer        = "issuer"
	AudienceTokenEndpoint = "token_endpoint"
)

// ClientAuth holds a client's credentials and how to present them.
type ClientAuth struct {
	Method       AuthMethod
	ClientID     string
	ClientSecret string
	// Key signs private_key_jwt assertions; KeyID is their kid (empty:
	// the key's certificate x5t#S256, or no kid); Alg empty = the key's
	// default (RS256, ES256...). client_secret_jwt uses HS256 unless Alg
	// says HS384/HS512.
	Key   crypto.Signer
	KeyID string
	Alg   jose.SignatureAlgorithm
	// Audience of client assertions: AudienceIssuer (default),
	// AudienceTokenEndpoint, or an explicit URL.
	Audience string
}

// Validate reports missing pieces before any request is made.
func (a ClientAuth) Validate() error {
	if a.Method != "" && a.ClientID == "" {
		return errors.New("oauthclient: a client id is required")
	}
	switch a.Method {
	case AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT:
		if a.ClientSecret == "" {
			return fmt.Errorf("oauthclient: %s needs a client secret", a.Method)
		}
	case AuthPrivateKeyJWT:
		if a.Key == nil {
			return errors.New("oauthclient: private_key_jwt needs a signing key (--key)")
		}
	}
	return nil
}

// apply adds the credentials to a token request (RFC 6749 §2.3).
func (a ClientAuth) apply(req *http.Request, form url.Values, ep endpoints, now time.Time) error {
	switch a.Method {
	case "":
	case AuthNone, AuthTLSClient, AuthSelfSignedTLSClient:
		form.Set("client_id", a.ClientID)
	case AuthClientSecretBasic:
		req.Header.Set("Authorization", "Basic "+basicCredentials(a.ClientID, a.ClientSecret))
	case AuthClientSecretPost:
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret)
	case AuthClientSecretJWT, AuthPrivateKeyJWT:
		return a.applyAssertion(form, ep, now)
	default:
		return fmt.Errorf("oauthclient: unknown auth method %q", a.Method)
	}
	return nil
}

// basicCredentials encodes client_secret_basic: id and secret are each
// application/x-www-form-urlencoded before being joined and base64-encoded
// (RFC 6749 §2.3.1), so a ':' or non-ASCII byte in either survives.
func basicCredentials(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

func (a ClientAuth) applyAssertion(form url.Values, ep endpoints, now time.Time) error {
	signer, err := a.assertionSigner()
	if err != nil {
		return err
	}
	claims := jwt.Claims{
		Issuer: a.ClientID, Subject: a.ClientID, Audience: jwt.Audience{a.audience(ep)},
		ID: newJTI(), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(AssertionLifetime)),
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return fmt.Errorf("oauthclient: signing the client assertion: %w", err)
	}
	form.Set("client_id", a.ClientID)
	form.Set("client_assertion_type", ClientAssertionType)
	form.Set("client_assertion", s)
	return nil
}

func (a ClientAuth) audience(ep endpoints) string {
	switch a.Audience {
	case "", AudienceIssuer:
		if ep.Issuer != "" {
			return ep.Issuer
		}
		return ep.Token
	case AudienceTokenEndpoint:
		return ep.Token
	}
	return a.Audience
}

func (a ClientAuth) assertionSigner() (jose.Signer, error) {
	if a.Method == AuthClientSecretJWT {
		alg := a.Alg
		if alg == "" {
			alg = jose.HS256
		}
		if alg != jose.HS256 && alg != jose.HS384 && alg != jose.HS512 {
			return nil, fmt.Errorf("oauthclient: client_secret_jwt uses HS256/HS384/HS512, not %s", alg)
		}
		return newSigner(jose.SigningKey{Algorithm: alg, Key: []byte(a.ClientSecret)}, "")
	}
	return keySigner(a.Key, a.Alg, a.KeyID)
}

// keySigner signs with an asymmetric key, checking that alg fits it.
func keySigner(key crypto.Signer, alg jose.SignatureAlgorithm, kid string) (jose.Signer, error) {
	if key == nil {
		return nil, errors.New("oauthclient: no signing key")
	}
	if alg == "" {
		var err error
		if alg, err = keystore.DefaultAlgorithm(key.Public()); err != nil {
			return nil, err
		}
	}
	if err := keystore.CheckAlgorithm(key.Public(), alg); err != nil {
		return nil, err
	}
	return newSigner(jose.SigningKey{Algorithm: alg, Key: key}, kid)
}

func newSigner(k jose.SigningKey, kid string) (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(k, opts)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: %w", err)
	}
	return s, nil
}
