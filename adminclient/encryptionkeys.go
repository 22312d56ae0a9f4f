package adminclient

import (
	"context"
	"net/http"
	"time"
)

// EncryptionKey is the metadata of a workspace's request object
// encryption key (RFC 9101 §6.1), published in its JWKS with
// "use": "enc"; never its private material.
type EncryptionKey struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
	// State is "active" (published first: the key clients should
	// encrypt to) or "previous" (left by a rotation: still published and
	// still decrypting until removed).
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

// ListEncryptionKeys lists the request object encryption keys of
// workspace ws, the active key first.
func (c *Client) ListEncryptionKeys(ctx context.Context, ws string) ([]EncryptionKey, error) {
	return items[EncryptionKey](ctx, c, http.MethodGet, wsPath(ws)+"/encryption-keys", nil)
}

// RotateEncryptionKeys creates a new active request object encryption
// key; the active key before it stays published and decrypting as a
// previous key until RemoveEncryptionKey. It answers the keys.
func (c *Client) RotateEncryptionKeys(ctx context.Context, ws string) ([]EncryptionKey, error) {
	return items[EncryptionKey](ctx, c, http.MethodPost, wsPath(ws)+"/encryption-keys/rotate", nil)
}

// RemoveEncryptionKey removes a previous request object encryption key
// at once; the active key cannot be removed (409).
func (c *Client) RemoveEncryptionKey(ctx context.Context, ws, kid string) error {
	return c.noContent(ctx, http.MethodDelete, wsPath(ws)+"/encryption-keys/"+seg(kid), nil)
}
