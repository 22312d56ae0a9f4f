package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"

	"github.com/latchkey/latchkey/internal/storage"
)

// Subject types (OIDC Core §8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// SubjectTypes are the subject types Latchkey supports, as discovery
// advertises them.
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

// Subject returns the sub of user userID for client c (package doc).
func (s *Subjects) Subject(ctx context.Context, c storage.Client, userID string) (string, error) {
	if c.SubjectType != SubjectPairwise {
		return userID, nil
	}
	salt, err := s.Store.PairwiseSalt(ctx, c.WorkspaceID, newSalt())
	if err != nil {
		return "", err
	}
	return PairwiseSubject(SectorOf(c), userID, salt), nil
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
