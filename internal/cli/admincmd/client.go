package admincmd

import (
	"context"
	"errors"
	"net/url"

	"github.com/latchkey/latchkey/adminclient"
)

// do sends one admin API request through the shared client and returns
// the raw body of a 2xx answer: --output json prints it unchanged, the
// tables decode it into the adminclient types the server encoded.
func (g *globals) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	raw, err := g.client.Do(ctx, method, path, query, body)
	if errors.Is(err, adminclient.ErrNoToken) {
		return nil, errors.New("admin: no admin token: pass --token or set LATCHKEY_ADMIN_TOKEN")
	}
	return raw, err
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
