package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Sealer encrypts and decrypts secrets at rest with associated data.
// *secrets.Keyring implements it (AES-256-GCM under the master key).
type Sealer interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ciphertext, aad []byte) ([]byte, error)
}

// KeyManager is the part of *signing.Manager the service layer uses.
type KeyManager interface {
	EnsureKeys(ctx context.Context, wsID, alg string) error
	Rotate(ctx context.Context, wsID, alg string) error
	RemoveKey(ctx context.Context, wsID, kid string) error
	Keys(ctx context.Context, wsID string) ([]storage.SigningKey, error)
}

// URLValidator checks a URL the server will fetch later (jwks_uri) at
// registration time; ssrf.ValidateURL has this signature.
type URLValidator func(raw string, allowPrivate bool) error

// Defaults are the server-wide defaults filled into zero workspace settings.
type Defaults struct {
	AccessTokenTTL          time.Duration
	SigningAlg              string
	MaxAssertionLifetime    time.Duration
	KeyRotationPeriod       time.Duration
	StrictAssertionAudience bool
}

// DefaultDefaults returns the built-in server defaults.
func DefaultDefaults() Defaults {
	return Defaults{
		AccessTokenTTL:       time.Hour,
		SigningAlg:           oauth2.AlgRS256,
		MaxAssertionLifetime: 10 * time.Minute,
		KeyRotationPeriod:    90 * 24 * time.Hour,
	}
}

// Service implements the business rules. All fields except Now and
// Defaults are required; a zero Defaults means DefaultDefaults().
type Service struct {
	Store storage.Storage
	// Keyring encrypts client secrets (normally a *secrets.Keyring).
	Keyring Sealer
	// Keys manages signing keys (normally a *signing.Manager).
	Keys     KeyManager
	Now      func() time.Time
	Defaults Defaults
	// ValidateURL checks jwks_uri values; nil means ssrf.ValidateURL.
	ValidateURL URLValidator
	// AllowPrivateURLs lets jwks_uri point at loopback/private addresses
	// (tests and closed networks only; SECURITY.md L2).
	AllowPrivateURLs bool
	// Logger records failures that must not fail the request (audit writes).
	Logger *slog.Logger
	// Mailer sends one-time codes (package mail); nil refuses to send.
	Mailer Mailer
	// FetchSector fetches sector_identifier_uri documents SSRF-safely;
	// nil refuses clients that set one.
	FetchSector SectorFetcher
	// WhatIfRunner answers the policies what-if tool; nil refuses it.
	WhatIfRunner WhatIfRunner
	// EncryptionKeys manages request object encryption keys (normally a
	// *signing.EncryptionKeys; encryptionkeys.go); nil refuses their
	// admin operations.
	EncryptionKeys EncryptionKeyManager
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) defaults() Defaults {
	if s.Defaults == (Defaults{}) {
		return DefaultDefaults()
	}
	d := s.Defaults
	def := DefaultDefaults()
	if d.AccessTokenTTL == 0 {
		d.AccessTokenTTL = def.AccessTokenTTL
	}
	if d.SigningAlg == "" {
		d.SigningAlg = def.SigningAlg
	}
	if d.MaxAssertionLifetime == 0 {
		d.MaxAssertionLifetime = def.MaxAssertionLifetime
	}
	return d
}

// requireWorkspace returns the workspace or a not-found error, so that
// operations on a missing workspace answer 404 rather than an empty list.
func (s *Service) requireWorkspace(ctx context.Context, wsID string) (storage.Workspace, error) {
	w, err := s.Store.GetWorkspace(ctx, wsID)
	return w, mapStore(err, "workspace", wsID)
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(n))
}

// randomBytes returns n bytes from crypto/rand, which never fails on
// supported platforms (Go 1.24+ panics internally rather than returning an
// error).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// HashToken is the SHA-256 of a bearer value (initial access tokens,
// registration access tokens, admin tokens). These values carry 256 bits of
// entropy, so a fast hash is enough: a database dump does not reveal them.
func HashToken(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// Prefixes make Latchkey bearer values greppable in logs and secret
// scanners.
const (
	InitialAccessTokenPrefix      = "lki_"
	RegistrationAccessTokenPrefix = "lkr_"
)

// NewRegistrationAccessToken returns a fresh RFC 7592 registration access
// token ("lkr_" + 256 random bits) and its hash for storage.
func NewRegistrationAccessToken() (token string, hash []byte) {
	token = RegistrationAccessTokenPrefix + randomToken(32)
	return token, HashToken(token)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
