package storage

import (
	"context"
	"time"
)

// EncryptionKeys holds each workspace's keys for encrypted request
// objects (RFC 9101 §6.1): per algorithm one active key and any number of
// previous ones, left from rotations, that still decrypt until they are
// removed.
type EncryptionKeys interface {
	// ListEncryptionKeys returns the workspace's keys (none when it has
	// none yet), by alg, the active key of each alg first, then the
	// previous ones, newest first.
	ListEncryptionKeys(ctx context.Context, workspaceID string) ([]EncryptionKey, error)
	// CreateEncryptionKey stores k as the active key of k.Alg unless the
	// workspace already has an active key for it, in which case it
	// returns ErrAlreadyExists and changes nothing: of concurrent
	// creations on any number of processes exactly one wins. An unknown
	// workspace is ErrNotFound.
	CreateEncryptionKey(ctx context.Context, k EncryptionKey) error
	// RotateEncryptionKey makes k the active key of k.Alg and the key
	// active before it a previous key (RetiredAt = k.CreatedAt), in one
	// transaction, so that a workspace never has two active keys or
	// none. k.KID already used is ErrAlreadyExists; an unknown workspace
	// is ErrNotFound. It records a ChangeKeys change, so other processes
	// reload the keys.
	RotateEncryptionKey(ctx context.Context, k EncryptionKey) error
	// DeleteEncryptionKey removes a previous key: it leaves the JWKS and
	// no longer decrypts. The active key is never deleted (ErrNotFound,
	// as for a key that does not exist; callers check the state first to
	// say why). It records a ChangeKeys change.
	DeleteEncryptionKey(ctx context.Context, workspaceID, kid string) error
}

// Encryption key states.
const (
	// EncryptionKeyActive is published first in the JWKS: the key clients
	// should encrypt to. Exactly one per workspace and alg.
	EncryptionKeyActive = "active"
	// EncryptionKeyPrevious was active before a rotation: still published
	// and still decrypting, so request objects encrypted by clients that
	// cached the JWKS keep working, until an administrator removes it.
	EncryptionKeyPrevious = "previous"
)

// EncryptionKey is a workspace's decryption key: the private part
// encrypted under the master key, the public part as the JWK published
// with "use": "enc".
type EncryptionKey struct {
	WorkspaceID       string
	Alg               string
	KID               string
	State             string // EncryptionKeyActive or EncryptionKeyPrevious
	PrivateCiphertext []byte
	PublicJWK         []byte
	CreatedAt         time.Time
	RetiredAt         time.Time // zero while active
}
