package oauthclient

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/keystore"
)

// Secured are the ways the code flow can protect its authorization
// request and response (CodeOptions.Secured).
type Secured struct {
	// PAR pushes the request to the pushed authorization request endpoint
	// with the client's authentication and sends only client_id and the
	// request_uri through the browser (RFC 9126).
	PAR bool
	// RequestObject sends the request as a request object signed with the
	// client's key (RFC 9101), the key private_key_jwt uses.
	RequestObject bool
	// JWTResponse asks for response_mode=jwt and verifies the JWT-secured
	// response with the server's JWKS before anything in it is used
	// (JARM §2.4).
	JWTResponse bool
	// DecryptionKey opens a JWT response the server encrypted to the
	// client's key (JARM §2.2, the client's
	// authorization_encrypted_response_alg): RSA for RSA-OAEP, EC for
	// ECDH-ES (jarmenc.go).
	DecryptionKey crypto.Signer
	// RequireEncryption refuses a JWT response that is only signed.
	RequireEncryption bool
}

// RequestObjectLifetime is the exp of request objects this client signs.
const RequestObjectLifetime = 5 * time.Minute

// securedAuthURL turns the plain authorization URL into the secured one.
func (f *codeFlow) securedAuthURL(ctx context.Context, plain string, s Secured) (string, error) {
	if !s.PAR && !s.RequestObject && !s.JWTResponse {
		return plain, nil
	}
	u, err := url.Parse(plain)
	if err != nil {
		return "", err
	}
	params := u.Query()
	if s.JWTResponse {
		params.Set("response_mode", "jwt")
	}
	if s.RequestObject {
		obj, err := f.c.signRequestObject(params)
		if err != nil {
			return "", err
		}
		params = url.Values{"client_id": {f.c.Auth.ClientID}, "request": {obj}}
	}
	if s.PAR {
		uri, err := f.c.push(ctx, params)
		if err != nil {
			return "", err
		}
		params = url.Values{"client_id": {f.c.Auth.ClientID}, "request_uri": {uri}}
	}
	u.RawQuery = params.Encode()
	return u.String(), nil
}

// signRequestObject signs params as a request object (RFC 9101 §4): every
// parameter as a claim, iss the client, aud the issuer, exp, nbf, iat and
// a fresh jti, typed oauth-authz-req+jwt (RFC 9101 §10.8).
func (c *Client) signRequestObject(params url.Values) (string, error) {
	a := c.Auth
	if a.Key == nil {
		return "", errors.New("oauthclient: a request object is signed with the client's key: give --key")
	}
	if c.Issuer == "" {
		return "", errors.New("oauthclient: a request object is addressed to the issuer: give --server")
	}
	alg := a.Alg
	if alg == "" {
		var err error
		if alg, err = keystore.DefaultAlgorithm(a.Key.Public()); err != nil {
			return "", err
		}
	}
	if err := keystore.CheckAlgorithm(a.Key.Public(), alg); err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType("oauth-authz-req+jwt")
	if a.KeyID != "" {
		opts = opts.WithHeader("kid", a.KeyID)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: a.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("oauthclient: request object signer: %w", err)
	}
	now := c.now()
	claims := map[string]any{
		"iss": a.ClientID, "aud": c.Issuer, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(RequestObjectLifetime).Unix(), "jti": newJTI(),
	}
	for k := range params {
		claims[k] = params.Get(k)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oauthclient: signing the request object: %w", err)
	}
	return obj.CompactSerialize()
}

// push sends params to the PAR endpoint with the client's authentication
// (RFC 9126 §2.1) and returns the request_uri of the 201 answer (§2.2).
func (c *Client) push(ctx context.Context, params url.Values) (string, error) {
	endpoint := ""
	if c.md != nil {
		endpoint = c.md.PushedAuthorizationRequestEndpoint
	}
	if endpoint == "" {
		return "", errors.New("oauthclient: the server advertises no pushed_authorization_request_endpoint (RFC 9126 §5)")
	}
	if err := c.Auth.Validate(); err != nil {
		return "", err
	}
	form := url.Values{}
	for k, vs := range params {
		form[k] = vs
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return "", err
	}
	if err := c.Auth.apply(req, form, c.endpoints(), c.now()); err != nil {
		return "", err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("oauthclient: POST %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", fmt.Errorf("oauthclient: reading the PAR response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", parseError(resp, raw)
	}
	var doc struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.RequestURI == "" {
		return "", errors.New("oauthclient: the PAR response has no request_uri (RFC 9126 §2.2)")
	}
	return doc.RequestURI, nil
}

// unwrapJWTResponse verifies a JWT-secured authorization response (JARM
// §2.4): decrypted first when the server encrypted it to the client's key
// (openJWTResponse), then signature with the issuer's JWKS (go-oidc,
// asymmetric algorithms only), iss, aud = client_id, exp; its claims
// become the response parameters. Without JWTResponse the query is returned unchanged.
func (f *codeFlow) unwrapJWTResponse(ctx context.Context, q url.Values) (url.Values, error) {
	if !f.secured.JWTResponse {
		return q, nil
	}
	raw := q.Get("response")
	if raw == "" {
		return nil, errors.New("oauthclient: the authorization response has no JWT (response parameter) although response_mode=jwt was asked for")
	}
	raw, err := openJWTResponse(raw, f.secured)
	if err != nil {
		return nil, err
	}
	c := f.c
	if c.Issuer == "" || c.JWKSURI == "" {
		return nil, errors.New("oauthclient: a JWT response cannot be verified without the issuer and jwks_uri")
	}
	ctx = oidc.ClientContext(ctx, c.HTTP)
	v := oidc.NewVerifier(c.Issuer, oidc.NewRemoteKeySet(ctx, c.JWKSURI),
		&oidc.Config{ClientID: c.Auth.ClientID, SupportedSigningAlgs: asymmetricAlgs, Now: c.now})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: the JWT authorization response is not valid: %w", err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	out := url.Values{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			out.Set(k, s)
		}
	}
	return out, nil
}
