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
	RotateEncryptionKey(ctx context.Context, k storage.EncryptionKey) error
	DeleteEncryptionKey(ctx context.Context, workspaceID, kid string) error
}

// The production implementation.
var _ EncryptionKeyStore = storage.Storage(nil)

// EncryptionKeys owns each workspace's request object decryption keys:
// RSA keys, the first created on first use, their private parts
// encrypted at rest under the master key like signing keys, their public
// parts published in the workspace JWKS with "use": "enc".
//
// Rotation (Rotate) creates a new active key, published first so clients
// that pick the first "enc" key encrypt to it, and keeps the keys before
// it as previous keys: published and decrypting until an administrator
// removes them (Remove), so request objects encrypted by clients that
// still cache the old JWKS keep working through the overlap
// (docs/security.md T12a). It is safe for concurrent use.
type EncryptionKeys struct {
	Store   EncryptionKeyStore
	Keyring *secrets.Keyring
	Now     func() time.Time

	cache sync.Map // workspace ID → *encEntry
}

// EncryptionKey is one of a workspace's decryption keys and its
// published JWK.
type EncryptionKey struct {
	Private   *rsa.PrivateKey
	Public    jose.JSONWebKey
	State     string // storage.EncryptionKeyActive or EncryptionKeyPrevious
	CreatedAt time.Time
	RetiredAt time.Time
}

type encEntry struct {
	keys   []EncryptionKey // the active key first
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

// Keys returns the workspace's keys, the active one first, creating the
// first key on first use: of concurrent creators on any number of
// processes one key wins (the store's insert is ON CONFLICT DO NOTHING)
// and everybody uses it.
//
// Keys loaded before are kept in memory and re-read after a minute, or
// at once after Invalidate (the server calls it on storage.ChangeKeys
// events, which rotations and removals record); when that read fails
// (the database is unavailable) the known keys are used on, so serving
// the JWKS and decrypting never depend on the database once a process
// has the keys.
func (e *EncryptionKeys) Keys(ctx context.Context, wsID string) ([]EncryptionKey, error) {
	var known *encEntry
	if v, ok := e.cache.Load(wsID); ok {
		known = v.(*encEntry)
		if e.now().Sub(known.loaded) < encryptionKeyTTL {
			return known.keys, nil
		}
	}
	keys, err := e.load(ctx, wsID)
	if err != nil && known != nil && !errors.Is(err, storage.ErrNotFound) {
		return known.keys, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		if err = e.create(ctx, wsID); err == nil || errors.Is(err, storage.ErrAlreadyExists) {
			keys, err = e.load(ctx, wsID)
		}
	}
	if err != nil {
		return nil, err
	}
	e.cache.Store(wsID, &encEntry{keys: keys, loaded: e.now()})
	return keys, nil
}

// Key returns the workspace's active key (Keys).
func (e *EncryptionKeys) Key(ctx context.Context, wsID string) (EncryptionKey, error) {
	keys, err := e.Keys(ctx, wsID)
	if err != nil {
		return EncryptionKey{}, err
	}
	return keys[0], nil
}

// PublicKeys are the JWKs the workspace publishes (use "enc"): the
// active key first, then the previous ones.
func (e *EncryptionKeys) PublicKeys(ctx context.Context, wsID string) ([]jose.JSONWebKey, error) {
	keys, err := e.Keys(ctx, wsID)
	out := make([]jose.JSONWebKey, len(keys))
	for i, k := range keys {
		out[i] = k.Public
	}
	return out, err
}

// DecryptionKeys are the private keys of PublicKeys, each with its kid,
// the active one first: a request object encrypted to any of them
// decrypts.
func (e *EncryptionKeys) DecryptionKeys(ctx context.Context, wsID string) ([]jose.JSONWebKey, error) {
	keys, err := e.Keys(ctx, wsID)
	out := make([]jose.JSONWebKey, len(keys))
	for i, k := range keys {
		out[i] = jose.JSONWebKey{Key: k.Private, KeyID: k.Public.KeyID, Algorithm: k.Public.Algorithm, Use: "enc"}
	}
	return out, err
}

// Rotate creates a new active key and keeps the active one before it as
// a previous key (storage.RotateEncryptionKey), then drops this
// process's cached keys; other processes reload on the ChangeKeys event.
// A workspace without keys gets its first one before the rotation.
func (e *EncryptionKeys) Rotate(ctx context.Context, wsID string) error {
	if _, err := e.Keys(ctx, wsID); err != nil {
		return err
	}
	k, err := e.generate(wsID)
	if err != nil {
		return err
	}
	if err := e.Store.RotateEncryptionKey(ctx, k); err != nil {
		return err
	}
	e.Invalidate(wsID)
	return nil
}

// List returns the workspace's keys as stored, read now rather than from
// the cache (for the admin listing), the active key first; the first
// key is created when there is none. The private parts stay sealed.
func (e *EncryptionKeys) List(ctx context.Context, wsID string) ([]storage.EncryptionKey, error) {
	if _, err := e.Keys(ctx, wsID); err != nil {
		return nil, err
	}
	stored, err := e.Store.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return nil, err
	}
	out := stored[:0]
	for _, k := range stored {
		if k.Alg == RequestObjectEncryptionAlg {
			out = append(out, k)
		}
	}
	return out, nil
}

// Remove deletes a previous key at once: it leaves the JWKS and request
// objects encrypted to it are refused. The active key cannot be removed
// (storage.ErrNotFound, like an unknown kid): rotate first.
func (e *EncryptionKeys) Remove(ctx context.Context, wsID, kid string) error {
	if err := e.Store.DeleteEncryptionKey(ctx, wsID, kid); err != nil {
		return err
	}
	e.Invalidate(wsID)
	return nil
}

// Invalidate drops a workspace's cached keys, so the next use reads them
// again (after a rotation or removal by this or another process).
func (e *EncryptionKeys) Invalidate(wsID string) { e.cache.Delete(wsID) }

func (e *EncryptionKeys) load(ctx context.Context, wsID string) ([]EncryptionKey, error) {
	stored, err := e.Store.ListEncryptionKeys(ctx, wsID)
	if err != nil {
		return nil, err
	}
	var keys []EncryptionKey
	for _, k := range stored {
		if k.Alg != RequestObjectEncryptionAlg {
			continue
		}
		opened, err := e.open(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, opened)
	}
	if len(keys) == 0 || keys[0].State != storage.EncryptionKeyActive {
		return nil, storage.ErrNotFound
	}
	return keys, nil
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
	return EncryptionKey{Private: priv, Public: pub, State: k.State, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt}, nil
}

func (e *EncryptionKeys) create(ctx context.Context, wsID string) error {
	k, err := e.generate(wsID)
	if err != nil {
		return err
	}
	return e.Store.CreateEncryptionKey(ctx, k)
}

// generate makes a new RSA key, its private part sealed under the master
// key for this workspace and kid.
func (e *EncryptionKeys) generate(wsID string) (storage.EncryptionKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return storage.EncryptionKey{}, err
	}
	pub, err := encryptionJWK(priv)
	if err != nil {
		return storage.EncryptionKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.EncryptionKey{}, err
	}
	defer clear(der)
	ct, err := e.Keyring.Encrypt(der, encryptionAAD(wsID, pub.KeyID))
	if err != nil {
		return storage.EncryptionKey{}, fmt.Errorf("signing: encrypt encryption key: %w", err)
	}
	raw, err := pub.MarshalJSON()
	if err != nil {
		return storage.EncryptionKey{}, err
	}
	return storage.EncryptionKey{
		WorkspaceID: wsID, Alg: RequestObjectEncryptionAlg, KID: pub.KeyID, State: storage.EncryptionKeyActive,
		PrivateCiphertext: ct, PublicJWK: raw, CreatedAt: e.now().UTC(),
	}, nil
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
