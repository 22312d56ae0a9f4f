package oauthclient

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Grant type identifiers.
const (
	GrantClientCredentials = "client_credentials"
	GrantJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Params are the request parameters every grant may carry.
type Params struct {
	Scopes []string
	// Resources are RFC 8707 resource indicators; Audience is the
	// non-standard "audience" parameter some servers (Auth0, Okta) use.
	Resources []string
	Audience  string
	Extra     url.Values
}

func (p Params) apply(form url.Values) {
	if len(p.Scopes) > 0 {
		form.Set("scope", strings.Join(p.Scopes, " "))
	}
	for _, r := range p.Resources {
		form.Add("resource", r)
	}
	if p.Audience != "" {
		form.Set("audience", p.Audience)
	}
	for k, vs := range p.Extra {
		for _, v := range vs {
			form.Add(k, v)
		}
	}
}

// ClientCredentials runs the client_credentials grant (RFC 6749 §4.4).
func (c *Client) ClientCredentials(ctx context.Context, p Params) (*Token, error) {
	if c.Auth.Method == "" || c.Auth.Method == AuthNone {
		return nil, errors.New("oauthclient: client_credentials needs client authentication (a confidential client)")
	}
	form := url.Values{"grant_type": {GrantClientCredentials}}
	p.apply(form)
	return c.tokenRequest(ctx, form)
}

// Refresh redeems a refresh token (RFC 6749 §6). Scopes may narrow the
// original grant, never widen it.
func (c *Client) Refresh(ctx context.Context, refreshToken string, p Params) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("oauthclient: no refresh token")
	}
	form := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {refreshToken}}
	p.apply(form)
	t, err := c.tokenRequest(ctx, form)
	if err == nil && t.RefreshToken == "" {
		// RFC 6749 §6: the server may keep the old refresh token.
		t.RefreshToken = refreshToken
	}
	return t, err
}

// Assertion describes the JWT of the JWT bearer grant (RFC 7523 §3).
type Assertion struct {
	Issuer, Subject string
	// Audience defaults to the token endpoint URL (RFC 7523 §3 item 3).
	Audience string
	// Lifetime defaults to 5 minutes; servers bound it (Salesforce: 3).
	Lifetime time.Duration
	// Claims are added to the registered ones (and cannot replace them).
	Claims map[string]any
	Key    crypto.Signer
	// KeyID is the header kid; empty = none. Callers usually pass the
	// certificate's x5t#S256 (keystore.Contents.DefaultKID).
	KeyID string
	Alg   jose.SignatureAlgorithm
}

// DefaultAssertionLifetime is used when Assertion.Lifetime is zero.
const DefaultAssertionLifetime = 5 * time.Minute

// reserved claims are set from Assertion fields only.
var reserved = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true}

// JWTBearer signs a, then runs the JWT bearer grant (RFC 7523 §2.1), with
// client authentication when c.Auth.Method is set (RFC 7521 §4.2), or the
// assertion alone when it is empty.
func (c *Client) JWTBearer(ctx context.Context, a Assertion, p Params) (*Token, error) {
	if err := c.Resolve(ctx); err != nil {
		return nil, err
	}
	s, err := c.SignAssertion(a)
	if err != nil {
		return nil, err
	}
	return c.JWTBearerAssertion(ctx, s, p)
}

// JWTBearerAssertion runs the JWT bearer grant with an assertion signed
// elsewhere (for example a JWT issued by the organisation's identity
// provider), with client authentication as in JWTBearer.
func (c *Client) JWTBearerAssertion(ctx context.Context, assertion string, p Params) (*Token, error) {
	if assertion == "" {
		return nil, errors.New("oauthclient: no assertion")
	}
	form := url.Values{"grant_type": {GrantJWTBearer}, "assertion": {assertion}}
	p.apply(form)
	return c.tokenRequest(ctx, form)
}

// SignAssertion builds and signs the grant assertion of a.
func (c *Client) SignAssertion(a Assertion) (string, error) {
	if a.Issuer == "" || a.Subject == "" {
		return "", errors.New("oauthclient: the assertion needs an issuer and a subject (RFC 7523 §3)")
	}
	for k := range a.Claims {
		if reserved[k] {
			return "", fmt.Errorf("oauthclient: claim %q is set by its own option, not as an extra claim", k)
		}
	}
	signer, err := keySigner(a.Key, a.Alg, a.KeyID)
	if err != nil {
		return "", err
	}
	s, err := jwt.Signed(signer).Claims(c.assertionClaims(a)).Claims(a.Claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("oauthclient: signing the assertion: %w", err)
	}
	return s, nil
}

func (c *Client) assertionClaims(a Assertion) jwt.Claims {
	now := c.now()
	life := a.Lifetime
	if life <= 0 {
		life = DefaultAssertionLifetime
	}
	return jwt.Claims{
		Issuer: a.Issuer, Subject: a.Subject, Audience: jwt.Audience{firstNonEmpty(a.Audience, c.TokenEndpoint)},
		ID: newJTI(), IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(life)),
	}
}
