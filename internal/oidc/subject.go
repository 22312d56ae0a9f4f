package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Subject types (OIDC Core §8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// SubjectTypes are the subject types Latchkey supports, as discovery
// advertises them. The id, username and email subject formats are all
// public identifiers (OIDC Core §8), so the list names no more.
var SubjectTypes = []string{SubjectPublic, SubjectPairwise}

// SaltStore provides the per-workspace pairwise salt
// (storage.Storage implements it).
type SaltStore interface {
	PairwiseSalt(ctx context.Context, workspaceID string, candidate []byte) ([]byte, error)
}

// The production implementation.
var _ SaltStore = storage.Storage(nil)

// Subjects computes the sub a client sees for a user.
type Subjects struct {
	Store SaltStore
}

// Subject returns the sub client c sees for user (package doc): the
// one place a user's sub is computed, for access tokens, ID tokens,
// UserInfo, introspection and id_token_hint checks alike. A user who lacks
// the value the client's format names gets invalid_grant (an *oauth2.Error)
// rather than an empty sub; other errors are storage failures.
func (s *Subjects) Subject(ctx context.Context, c storage.Client, user storage.User) (string, error) {
	switch c.EffectiveSubjectFormat() {
	case storage.SubjectFormatPairwise:
		salt, err := s.Store.PairwiseSalt(ctx, c.WorkspaceID, newSalt())
		if err != nil {
			return "", err
		}
		return PairwiseSubject(SectorOf(c), user.ID, salt), nil
	case storage.SubjectFormatUsername:
		return publicName(c, user.Username, "username")
	case storage.SubjectFormatEmail:
		return publicName(c, user.Email, "e-mail address")
	}
	return user.ID, nil
}

// publicName is a username or e-mail subject. It must not be empty, and
// must not equal the client's ID: sub == client_id marks a client's own
// client_credentials token (RFC 9068 §2.2, docs/security.md J4), which a
// user token must never pass for.
func publicName(c storage.Client, value, what string) (string, error) {
	switch {
	case value == "":
		return "", oauth2.NewError(oauth2.ErrInvalidGrant, "the user has no "+what+", which this client uses as subject")
	case value == c.ID:
		return "", oauth2.NewError(oauth2.ErrInvalidGrant, "the user's "+what+" equals the client's ID, so it cannot be this client's subject")
	}
	return value, nil
}

// PairwiseSubject is the pairwise identifier of a user in a sector.
func PairwiseSubject(sector, userID string, salt []byte) string {
	h := sha256.New()
	h.Write([]byte(sector))
	h.Write([]byte{0})
	h.Write([]byte(userID))
	h.Write([]byte{0})
	h.Write(salt)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// SectorOf is the sector identifier of c: the host of its
// sector_identifier_uri, else the host of its first redirect URI (OIDC
// Core §8.1).
func SectorOf(c storage.Client) string {
	if c.SectorIdentifierURI != "" {
		if u, err := url.Parse(c.SectorIdentifierURI); err == nil {
			return u.Hostname()
		}
	}
	for _, r := range c.RedirectURIs {
		if u, err := url.Parse(r); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	return c.ID
}

func newSalt() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
