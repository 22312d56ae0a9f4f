package tokencmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/latchkey/latchkey/internal/oauthclient"
)

// ExpirySkew: a cached token is used only while it has more than this
// left, so it cannot expire between "get" and its use.
const ExpirySkew = 30 * time.Second

// cacheEntry is the 0600 file next to the connections file.
type cacheEntry struct {
	Fingerprint  string         `json:"fingerprint"`
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token,omitempty"`
	Expiry       time.Time      `json:"expiry,omitzero"`
	Raw          map[string]any `json:"raw"`
}

func cachePath(configFile, name string) string {
	return filepath.Join(filepath.Dir(configFile), "tokens", name+".json")
}

func readCache(path, fingerprint string) *cacheEntry {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var ce cacheEntry
	if json.Unmarshal(data, &ce) != nil || ce.Fingerprint != fingerprint {
		return nil // settings changed: start over
	}
	return &ce
}

func writeCache(path, fingerprint string, t *oauthclient.Token) error {
	data, err := json.Marshal(cacheEntry{
		Fingerprint: fingerprint, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry, Raw: t.Raw,
	})
	if err != nil {
		return err
	}
	return writePrivate(path, data)
}

func (ce *cacheEntry) token() *oauthclient.Token {
	return &oauthclient.Token{AccessToken: ce.AccessToken, RefreshToken: ce.RefreshToken, Expiry: ce.Expiry, Raw: ce.Raw}
}

// getToken returns a token of connection name valid for more than
// ExpirySkew: from the cache, by refresh, or by running the flow again.
func (e *env) getToken(ctx context.Context, cfgPath, name string, c Connection, force bool) (*oauthclient.Token, error) {
	path, fp := cachePath(cfgPath, name), c.fingerprint()
	ce := readCache(path, fp)
	if ce != nil && !force && ce.token().Valid(e.now(), ExpirySkew) {
		return ce.token(), nil
	}
	var t *oauthclient.Token
	if ce != nil && ce.RefreshToken != "" {
		t = e.tryRefresh(ctx, c, ce.RefreshToken)
	}
	if t == nil {
		var err error
		if t, err = e.obtain(ctx, c); err != nil {
			return nil, err
		}
	}
	if err := writeCache(path, fp, t); err != nil {
		fmt.Fprintf(e.stderr, "warning: cannot cache the token: %v\n", err)
	}
	return t, nil
}

// tryRefresh returns nil when the refresh fails; the caller then runs the
// flow again (the refresh token may have expired or been revoked).
func (e *env) tryRefresh(ctx context.Context, c Connection, rt string) *oauthclient.Token {
	key, err := e.loadKey(c)
	if err != nil {
		return nil
	}
	cl, err := e.client(c, key)
	if err != nil {
		return nil
	}
	t, err := cl.Refresh(ctx, rt, oauthclient.Params{})
	if err != nil {
		var oe *oauthclient.Error
		if errors.As(err, &oe) {
			fmt.Fprintf(e.stderr, "refresh refused (%s); obtaining a new token\n", oe.Code)
		}
		return nil
	}
	return t
}

// outputToken prints the access token alone, or the whole response as
// JSON with expires_in counted from now.
func (e *env) outputToken(t *oauthclient.Token, format string) error {
	if format != "json" {
		_, err := fmt.Fprintln(e.stdout, t.AccessToken)
		return err
	}
	doc := map[string]any{}
	for k, v := range t.Raw {
		doc[k] = v
	}
	if doc["access_token"] == nil {
		doc["access_token"] = t.AccessToken
	}
	if !t.Expiry.IsZero() {
		doc["expires_in"] = int64(t.Expiry.Sub(e.now()).Seconds())
	}
	if t.IDTokenClaims != nil {
		doc["id_token_claims"] = t.IDTokenClaims
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
