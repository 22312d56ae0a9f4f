package signing

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// RequestObjectEncryptionAlg is the key management algorithm of encrypted
// request objects (RFC 9101 §6.1): RSA-OAEP with SHA-256 only (never
// RSA1_5, RFC 8725 §3.2).
const RequestObjectEncryptionAlg = "RSA-OAEP-256"

// encryptionKeyTTL is how long a process keeps a workspace's encryption
// key in memory before reading it again (a deleted and re-created
// workspace gets a new one).
const encryptionKeyTTL = time.Minute

// EncryptionKeyStore is what EncryptionKeys needs from storage.
type EncryptionKeyStore interface {
	ListEncryptionKeys(ctx context.Context, workspaceID string) ([]storage.EncryptionKey, error)
	CreateEncryptionKey(ctx context.Context, k storage.EncryptionKey) error
}

// The production implementation.
var _ EncryptionKeyStore = storage.Storage(nil)

// EncryptionKeys owns each workspace's request object decryption key: an
// RSA key created on first use, its private part encrypted at rest under
// the master key like signing keys, its public part published in the
// workspace JWKS with "use": "enc". It is safe for concurrent use.
type EncryptionKeys struct {
	Store   EncryptionKeyStore
	Keyring *secrets.Keyring
	Now     func() time.Time

	cache sync.Map // workspace ID → *encEntry
}

// EncryptionKey is a workspace's decryption key and its published JWK.
type EncryptionKey struct {
	Private *rsa.PrivateKey
	Public  jose.JSONWebKey
}

type encEntry struct {
	key    EncryptionKey
	loaded time.Time
}

// encryptionAAD binds an encrypted private key to its workspace and kid,
// apart from signing keys' (KeyAAD).
func encryptionAAD(wsID, kid string) []byte {
	return []byte("encryption-key\x00" + wsID + "\x00" + kid)
}

func (e *EncryptionKeys) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Key returns the workspace's key, creating it on first use: of
// concurrent creators on any number of processes one key wins (the
// store's insert is ON CONFLICT DO NOTHING) and everybody uses it.
//
// A key loaded before is kept in memory and re-read after a minute; when
// that read fails (the database is unavailable) the known key is used
// on, so serving the JWKS and decrypting never depend on the database
// once a process has the key.
func (e *EncryptionKeys) Key(ctx context.Context, wsID string) (EncryptionKey, error) {
	var known *encEntry
	if v, ok := e.cache.Load(wsID); ok {
		known = v.(*encEntry)
		if e.now().Sub(known.loaded) < encryptionKeyTTL {
			return known.key, nil
		}
	}
	k, err := e.load(ctx, wsID)
	if err != nil && known != nil && !errors.Is(err, storage.ErrNotFound) {
		return known.key, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		if err = e.create(ctx, wsID); err == nil || errors.Is(err, storage.ErrAlreadyExists) {
			k, err = e.load(ctx, wsID)
		}
	}
	if err != nil {
		return EncryptionKey{}, err
	}
	e.cache.Store(wsID, &encEntry{key: k, loaded: e.now()})
	return k, nil
}

// PublicKey is the JWK Key publishes (use "enc").
func (e *EncryptionKeys) PublicKey(ctx context.Context, wsID string) (jose.JSONWebKey, error) {
	k, err := e.Key(ctx, wsID)
	return k.Public, err
}

// DecryptionKey is the private key of Key.
func (e *EncryptionKeys) DecryptionKey(ctx context.Context, wsID string) (*rsa.PrivateKey, error) {
	k, err := e.Key(ctx, wsID)
	return k.Private, err
}

func (e *EncryptionKeys) load(ctx context.Context, wsID string) (EncryptionKey, error) {
	keys, err := e.Store.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return EncryptionKey{}, err
	}
	for _, k := range keys {
		if k.Alg == RequestObjectEncryptionAlg {
			return e.open(k)
		}
	}
	return EncryptionKey{}, storage.ErrNotFound
}

// open decrypts a stored key and checks that its public JWK is its own.
func (e *EncryptionKeys) open(k storage.EncryptionKey) (EncryptionKey, error) {
	der, err := e.Keyring.Decrypt(k.PrivateCiphertext, encryptionAAD(k.WorkspaceID, k.KID))
	if err != nil {
		return EncryptionKey{}, fmt.Errorf("signing: encryption key %s: %w", k.KID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	priv, ok := parsed.(*rsa.PrivateKey)
	if err != nil || !ok || priv.N.BitLen() < rsaBits {
		return EncryptionKey{}, fmt.Errorf("signing: encryption key %s is not an RSA key of at least %d bits", k.KID, rsaBits)
	}
	pub, err := encryptionJWK(priv)
	if err != nil || pub.KeyID != k.KID {
		return EncryptionKey{}, fmt.Errorf("signing: encryption key %s does not match its kid", k.KID)
	}
	return EncryptionKey{Private: priv, Public: pub}, nil
}

func (e *EncryptionKeys) create(ctx context.Context, wsID string) error {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return err
	}
	pub, err := encryptionJWK(priv)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	defer clear(der)
	ct, err := e.Keyring.Encrypt(der, encryptionAAD(wsID, pub.KeyID))
	if err != nil {
		return fmt.Errorf("signing: encrypt encryption key: %w", err)
	}
	raw, err := pub.MarshalJSON()
	if err != nil {
		return err
	}
	return e.Store.CreateEncryptionKey(ctx, storage.EncryptionKey{
		WorkspaceID: wsID, Alg: RequestObjectEncryptionAlg, KID: pub.KeyID,
		PrivateCiphertext: ct, PublicJWK: raw, CreatedAt: e.now().UTC(),
	})
}

// encryptionJWK is the published form: use "enc", alg RSA-OAEP-256, the
// RFC 7638 thumbprint as kid.
func encryptionJWK(priv *rsa.PrivateKey) (jose.JSONWebKey, error) {
	jwk := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: RequestObjectEncryptionAlg, Use: "enc"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}
