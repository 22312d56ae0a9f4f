package tokens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// OpaquePrefix starts every opaque (reference) access token, so that a
// leaked one is easy to find in logs and code (secret scanners), and so
// that introspection, revocation and UserInfo tell it apart from a JWT
// without a hint (SECURITY.md I4).
const OpaquePrefix = "lkat_"

// familyClaim names the token family in a user access token (the same
// claim as oidc.FamilyClaim; tokens cannot import oidc).
const familyClaim = "rtf"

// IsOpaque reports whether raw has the form of an opaque access token.
func IsOpaque(raw string) bool { return strings.HasPrefix(raw, OpaquePrefix) }

// OpaqueHash is the stored form of an opaque token's value (SECURITY.md G8).
func OpaqueHash(raw string) []byte {
	s := sha256.Sum256([]byte(raw))
	return s[:]
}

// NewOpaque returns a fresh opaque token value for t and the row to store
// for it: 256 random bits after OpaquePrefix; only the value's hash is
// kept. It checks t as Mint does, so both formats carry the same content.
func NewOpaque(wsID string, t AccessToken) (string, storage.OpaqueToken, error) {
	if err := t.validate(); err != nil {
		return "", storage.OpaqueToken{}, err
	}
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	raw := OpaquePrefix + base64.RawURLEncoding.EncodeToString(b[:])
	fam, _ := t.Extra[familyClaim].(string)
	return raw, storage.OpaqueToken{
		WorkspaceID: wsID, Hash: OpaqueHash(raw), ClientID: t.ClientID, Subject: t.Subject, Scope: t.Scope,
		JTI: t.JTI, Audience: t.Audience, FamilyID: fam, Extra: t.Extra, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt,
	}, nil
}

// OpaqueReader reads stored opaque tokens.
type OpaqueReader interface {
	GetOpaqueToken(ctx context.Context, workspaceID string, hash []byte) (storage.OpaqueToken, error)
}

// ErrInactive: the opaque token is unknown (never issued, revoked or
// cleaned up) or expired.
var ErrInactive = errors.New("tokens: opaque token unknown or expired")

// ResolveOpaque returns the content of the opaque access token raw as Verify
// returns a JWT's: the same claims, issuer included. It reads the database
// on every call (no cache), so a revocation on any process shows at once.
// Errors other than ErrInactive are storage failures.
func ResolveOpaque(ctx context.Context, store OpaqueReader, wsID, issuer, raw string, now time.Time) (AccessToken, error) {
	row, err := store.GetOpaqueToken(ctx, wsID, OpaqueHash(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return AccessToken{}, ErrInactive
	}
	if err != nil {
		return AccessToken{}, err
	}
	if !now.Before(row.ExpiresAt) {
		return AccessToken{}, ErrInactive
	}
	extra := row.Extra
	if row.FamilyID != "" {
		if extra == nil {
			extra = map[string]any{}
		}
		extra[familyClaim] = row.FamilyID
	}
	return AccessToken{
		Issuer: issuer, Subject: row.Subject, ClientID: row.ClientID, Scope: row.Scope, JTI: row.JTI,
		Audience: row.Audience, IssuedAt: row.IssuedAt, ExpiresAt: row.ExpiresAt, Extra: extra,
	}, nil
}
