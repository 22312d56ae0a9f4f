package storage

import (
	"context"
	"time"
)

// EncryptionKeys holds each workspace's keys for encrypted request
// objects (RFC 9101 §6.1): one per algorithm, never rotated in place.
type EncryptionKeys interface {
	// ListEncryptionKeys returns the workspace's keys (none when it has
	// none yet).
	ListEncryptionKeys(ctx context.Context, workspaceID string) ([]EncryptionKey, error)
	// CreateEncryptionKey stores k unless the workspace already has a key
	// for k.Alg, in which case it returns ErrAlreadyExists and changes
	// nothing: of concurrent creations on any number of processes exactly
	// one wins. An unknown workspace is ErrNotFound.
	CreateEncryptionKey(ctx context.Context, k EncryptionKey) error
}

// EncryptionKey is a workspace's decryption key: the private part
// encrypted under the master key, the public part as the JWK published
// with "use": "enc".
type EncryptionKey struct {
	WorkspaceID       string
	Alg               string
	KID               string
	PrivateCiphertext []byte
	PublicJWK         []byte
	CreatedAt         time.Time
}
