package oauthclient

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Token is a token endpoint response (RFC 6749 §5.1). Raw keeps every
// member as it came, for --output json.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	Expiry       time.Time `json:"-"` // zero when the server gave no expires_in
	// IDTokenClaims are the claims of the verified ID token, if any.
	IDTokenClaims map[string]any `json:"-"`
	Raw           map[string]any `json:"-"`
}

// Valid reports whether t can still be used at now with skew to spare.
// A token without a known expiry is never considered valid from a cache.
func (t *Token) Valid(now time.Time, skew time.Duration) bool {
	return t != nil && t.AccessToken != "" && !t.Expiry.IsZero() && now.Add(skew).Before(t.Expiry)
}

type endpoints struct{ Issuer, Token, Authorization, JWKS string }

// Client talks to one authorization server.
type Client struct {
	HTTP *http.Client
	// Issuer is the server's issuer identifier; when Metadata is nil and
	// TokenEndpoint is empty, Metadata is discovered from it.
	Issuer                string
	TokenEndpoint         string
	AuthorizationEndpoint string
	JWKSURI               string
	Auth                  ClientAuth
	Now                   func() time.Time
	Logger                *slog.Logger

	// DeviceAuthorizationEndpoint is RFC 8628's (device.go); discovered
	// when empty.
	DeviceAuthorizationEndpoint string

	md *Metadata
}

// Resolve discovers the server's metadata when endpoints are missing;
// explicit endpoints always win over discovered ones.
func (c *Client) Resolve(ctx context.Context) error {
	if c.HTTP == nil {
		hc, err := NewHTTPClient("", 0)
		if err != nil {
			return err
		}
		c.HTTP = hc
	}
	if c.TokenEndpoint != "" && (c.Issuer == "" || c.md != nil) {
		return nil
	}
	if c.Issuer == "" {
		return fmt.Errorf("oauthclient: give an issuer (for discovery) or a token endpoint")
	}
	md, err := Discover(ctx, c.HTTP, c.Issuer)
	if err != nil {
		return err
	}
	c.md = md
	c.TokenEndpoint = firstNonEmpty(c.TokenEndpoint, md.TokenEndpoint)
	c.AuthorizationEndpoint = firstNonEmpty(c.AuthorizationEndpoint, md.AuthorizationEndpoint)
	c.JWKSURI = firstNonEmpty(c.JWKSURI, md.JWKSURI)
	return nil
}

// Metadata is the discovered document, nil when endpoints were explicit.
func (c *Client) Metadata() *Metadata { return c.md }

func (c *Client) endpoints() endpoints {
	return endpoints{Issuer: c.Issuer, Token: c.TokenEndpoint, Authorization: c.AuthorizationEndpoint, JWKS: c.JWKSURI}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// tokenRequest POSTs form (plus client authentication) to the token
// endpoint and decodes the answer (RFC 6749 §5.1 and §5.2).
func (c *Client) tokenRequest(ctx context.Context, form url.Values) (*Token, error) {
	if err := c.Resolve(ctx); err != nil {
		return nil, err
	}
	if err := c.Auth.Validate(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenEndpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: token endpoint %q: %w", c.TokenEndpoint, err)
	}
	if err := c.Auth.apply(req, form, c.endpoints(), c.now()); err != nil {
		return nil, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	c.logger().DebugContext(ctx, "token request", "endpoint", c.TokenEndpoint, "grant_type", form.Get("grant_type"), "auth_method", string(c.Auth.Method))
	return c.do(req)
}

func (c *Client) do(req *http.Request) (*Token, error) {
	sent := c.now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: POST %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("oauthclient: reading the token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseError(resp, raw)
	}
	return parseToken(resp.Header.Get("Content-Type"), raw, sent)
}

func parseToken(contentType string, raw []byte, sent time.Time) (*Token, error) {
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "" && mt != "application/json" {
		return nil, fmt.Errorf("oauthclient: the token endpoint answered %s, not JSON (RFC 6749 §5.1)", mt)
	}
	var t Token
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("oauthclient: the token response is not valid JSON: %w", err)
	}
	if err := json.Unmarshal(raw, &t.Raw); err != nil {
		return nil, fmt.Errorf("oauthclient: the token response is not a JSON object: %w", err)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("oauthclient: the token response has no access_token")
	}
	if t.ExpiresIn > 0 {
		// Counted from when the request was sent, so network time never
		// makes a token look fresher than it is.
		t.Expiry = sent.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return &t, nil
}

func newJTI() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
