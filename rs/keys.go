package rs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// maxDocument bounds every document fetched (discovery, JWKS, status
// list token).
const maxDocument = 1 << 20

// keyCache holds the issuer's JWKS (RFC 7517), found through its
// discovery document (RFC 8414 §3).
type keyCache struct {
	v *Verifier

	mu        sync.Mutex
	jwksURI   string
	keys      []jose.JSONWebKey
	fetchedAt time.Time // of keys; zero before the first fetch
	lastTry   time.Time // of the last fetch caused by an unknown kid
}

// errUnavailable: the issuer's documents could not be fetched; the
// request is answered 503, not 401 (the token may be fine).
func errUnavailable(cause error) error {
	return oauth2.Wrap(oauth2.ErrTemporarilyUnavailable, "the authorization server's keys or status lists cannot be fetched now", cause)
}

// verify checks the JWS raw: structure, algorithm allowlist, typ among
// types (case-insensitive, RFC 7515 §4.1.9), signature by a key of the
// JWKS named by kid. It returns the payload.
func (c *keyCache) verify(ctx context.Context, raw string, types []string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, c.v.algs)
	if err != nil {
		return nil, invalidToken("the token is not a JWS signed with an accepted algorithm")
	}
	if len(jws.Signatures) != 1 {
		return nil, invalidToken("the token must carry exactly one signature")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !containsFold(types, typ) {
		return nil, invalidToken(fmt.Sprintf("the token's typ must be %s", types[0]))
	}
	if h.KeyID == "" {
		return nil, invalidToken("the token names no signing key (kid)")
	}
	key, err := c.key(ctx, h.KeyID, h.Algorithm)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, invalidToken("the token's signature does not verify")
	}
	return payload, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// key returns the signing key kid for alg: from the cached set while it
// is younger than JWKSMaxAge; otherwise, or when kid is unknown, from a
// fresh fetch (for an unknown kid at most once per RefetchInterval).
func (c *keyCache) key(ctx context.Context, kid, alg string) (*jose.JSONWebKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.v.opts.Now()
	stale := c.fetchedAt.IsZero() || now.Sub(c.fetchedAt) >= c.v.jwksMaxAge() || now.Before(c.fetchedAt)
	if !stale {
		if k := find(c.keys, kid, alg); k != nil {
			return k, nil
		}
		if now.Sub(c.lastTry) < c.v.refetchInterval() && !now.Before(c.lastTry) {
			return nil, invalidToken("the token is signed by a key the authorization server does not publish")
		}
		c.lastTry = now
	}
	if err := c.fetch(ctx, now); err != nil {
		if k := find(c.keys, kid, alg); k != nil {
			return k, nil // the last set while the issuer is unreachable
		}
		return nil, err
	}
	if k := find(c.keys, kid, alg); k != nil {
		return k, nil
	}
	return nil, invalidToken("the token is signed by a key the authorization server does not publish")
}

// find returns the signature key kid usable with alg.
func find(keys []jose.JSONWebKey, kid, alg string) *jose.JSONWebKey {
	for i := range keys {
		k := &keys[i]
		if k.KeyID != kid || !k.IsPublic() || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != alg) {
			continue
		}
		return k
	}
	return nil
}

// fetch reads the discovery document (once) and the JWKS.
func (c *keyCache) fetch(ctx context.Context, now time.Time) error {
	if c.jwksURI == "" {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := c.v.getJSON(ctx, c.v.opts.Issuer+"/.well-known/openid-configuration", "application/json", &meta); err != nil {
			return errUnavailable(err)
		}
		// RFC 8414 §3.3: the issuer in the document must be the one asked for.
		if meta.Issuer != c.v.opts.Issuer || meta.JWKSURI == "" {
			return errUnavailable(fmt.Errorf("rs: discovery document of %q names issuer %q", c.v.opts.Issuer, meta.Issuer))
		}
		c.jwksURI = meta.JWKSURI
	}
	var set jose.JSONWebKeySet
	if err := c.v.getJSON(ctx, c.jwksURI, "application/jwk-set+json, application/json", &set); err != nil {
		return errUnavailable(err)
	}
	c.keys, c.fetchedAt = set.Keys, now
	return nil
}

// getJSON fetches url and decodes its JSON body into out.
func (v *Verifier) getJSON(ctx context.Context, url, accept string, out any) error {
	body, _, err := v.get(ctx, url, accept)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("rs: %s: %w", url, err)
	}
	return nil
}

// get fetches url, requiring 200, and returns the body and its media type.
func (v *Verifier) get(ctx context.Context, url, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("rs: %s: status %d", url, resp.StatusCode)
	}
	if len(body) > maxDocument {
		return nil, "", errors.New("rs: " + url + ": document too large")
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return body, mt, nil
}

func (v *Verifier) refetchInterval() time.Duration {
	if v.opts.RefetchInterval > 0 {
		return v.opts.RefetchInterval
	}
	return DefaultRefetchInterval
}

func (v *Verifier) jwksMaxAge() time.Duration {
	if v.opts.JWKSMaxAge > 0 {
		return v.opts.JWKSMaxAge
	}
	return DefaultJWKSMaxAge
}
