package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a master key: AES-256.
const KeySize = 32

// Ciphertext layout.
const (
	formatVersion = 0x01
	keyIDSize     = 8
	nonceSize     = 12 // GCM standard nonce, SP 800-38D §8.2.2
	headerSize    = 1 + keyIDSize
	overhead      = headerSize + nonceSize + 16 // 16 = GCM tag
)

// Errors returned by Decrypt. They deliberately do not say whether the key,
// the AAD or the data was wrong: all three look the same to GCM.
var (
	ErrMalformed  = errors.New("secrets: malformed ciphertext")
	ErrUnknownKey = errors.New("secrets: ciphertext is encrypted under a key that is not in the keyring")
	ErrDecrypt    = errors.New("secrets: decryption failed (wrong key, wrong context or tampered data)")
)

// Keyring is an ordered list of master keys: the first encrypts, all
// decrypt. It is immutable and safe for concurrent use.
type Keyring struct {
	keys []ringKey
}

type ringKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
	// prk is the HKDF pseudorandom key of the master key (RFC 5869 §2.2),
	// from which DeriveSecret expands per-purpose secrets.
	prk []byte
}

// New returns a keyring of the given 32-byte keys; the first encrypts.
func New(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secrets: a keyring needs at least one key")
	}
	kr := &Keyring{keys: make([]ringKey, 0, len(keys))}
	for i, raw := range keys {
		rk, err := newRingKey(raw)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %d: %w", i+1, err)
		}
		if kr.find(rk.id) != nil {
			return nil, fmt.Errorf("secrets: key %d appears twice in the keyring", i+1)
		}
		kr.keys = append(kr.keys, rk)
	}
	return kr, nil
}

// FromBase64List builds a keyring from a comma-separated list of base64
// keys (standard or URL alphabet, padded or not), so that the master keys
// can come from an environment variable. The first key encrypts.
func FromBase64List(s string) (*Keyring, error) {
	parts := strings.Split(s, ",")
	keys := make([][]byte, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("secrets: key %d of the list is empty", i+1)
		}
		k, err := decodeKey(p)
		if err != nil {
			return nil, fmt.Errorf("secrets: key %d of the list: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return New(keys...)
}

// GenerateKey returns a fresh random master key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+).
	return k
}

// KeyID is the identifier a key carries in ciphertexts, as hex. It is a
// one-way function of the key and reveals nothing useful about it.
func KeyID(key []byte) string {
	id := deriveID(key)
	return hex.EncodeToString(id[:])
}

// CurrentKeyID is the id (as KeyID) of the key that encrypts.
func (k *Keyring) CurrentKeyID() string { return hex.EncodeToString(k.keys[0].id[:]) }

// Len is the number of keys in the ring.
func (k *Keyring) Len() int { return len(k.keys) }

// Encrypt seals plaintext under the first key. aad names the context of the
// plaintext; Decrypt must be given the same aad.
func (k *Keyring) Encrypt(plaintext, aad []byte) ([]byte, error) {
	cur := &k.keys[0]
	out := make([]byte, headerSize+nonceSize, overhead+len(plaintext))
	out[0] = formatVersion
	copy(out[1:headerSize], cur.id[:])
	nonce := out[headerSize : headerSize+nonceSize]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+).
	return cur.aead.Seal(out, nonce, plaintext, fullAAD(out[:headerSize], aad)), nil
}

// Decrypt opens a ciphertext made by Encrypt with any key of the ring.
func (k *Keyring) Decrypt(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < overhead || ciphertext[0] != formatVersion {
		return nil, ErrMalformed
	}
	rk := k.find([keyIDSize]byte(ciphertext[1:headerSize]))
	if rk == nil {
		return nil, ErrUnknownKey
	}
	nonce := ciphertext[headerSize : headerSize+nonceSize]
	sealed := ciphertext[headerSize+nonceSize:]
	plain, err := rk.aead.Open(nil, nonce, sealed, fullAAD(ciphertext[:headerSize], aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// DeriveSecret returns a 32-byte secret for purpose, expanded with HKDF
// (RFC 5869) from the current master key: the same on every process that
// shares the keyring, different for each purpose, and useless for
// recovering the master key. It changes when the master key is rotated.
func (k *Keyring) DeriveSecret(purpose string) []byte {
	out, err := hkdf.Expand(sha256.New, k.keys[0].prk, purpose, 32)
	if err != nil {
		panic("secrets: hkdf expand: " + err.Error()) // only for lengths over 255*32
	}
	return out
}

// IsCurrent reports whether ciphertext is encrypted under the first key. A
// background job re-encrypts what is not, after a master key rotation.
func (k *Keyring) IsCurrent(ciphertext []byte) bool {
	if len(ciphertext) < headerSize || ciphertext[0] != formatVersion {
		return false
	}
	return [keyIDSize]byte(ciphertext[1:headerSize]) == k.keys[0].id
}

func (k *Keyring) find(id [keyIDSize]byte) *ringKey {
	for i := range k.keys {
		if k.keys[i].id == id {
			return &k.keys[i]
		}
	}
	return nil
}

func newRingKey(raw []byte) (ringKey, error) {
	if len(raw) != KeySize {
		return ringKey{}, fmt.Errorf("a master key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return ringKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return ringKey{}, err
	}
	prk, err := hkdf.Extract(sha256.New, raw, []byte("latchkey derived secrets"))
	if err != nil {
		return ringKey{}, err
	}
	return ringKey{id: deriveID(raw), aead: aead, prk: prk}, nil
}

// deriveID hashes the key with a domain-separation prefix, so the id is not
// a hash that any other system computes over the same key.
func deriveID(key []byte) [keyIDSize]byte {
	h := sha256.New()
	h.Write([]byte("latchkey master key id\x00"))
	h.Write(key)
	var id [keyIDSize]byte
	copy(id[:], h.Sum(nil))
	return id
}

// fullAAD authenticates the header (version, key id) together with the
// caller's AAD. The header has a fixed length, so the concatenation is
// unambiguous.
func fullAAD(header, aad []byte) []byte {
	out := make([]byte, 0, len(header)+len(aad))
	out = append(out, header...)
	return append(out, aad...)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	k, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("a master key must be %d bytes, got %d", KeySize, len(k))
	}
	return k, nil
}
