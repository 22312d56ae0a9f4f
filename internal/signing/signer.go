package signing

import (
	"crypto"
	"fmt"
	"runtime"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Signer signs with one key. Implementations are safe for concurrent use.
type Signer interface {
	KID() string
	Alg() string
	// Sign returns a compact JWS of payload with header {alg, kid, typ}.
	Sign(payload []byte, typ string) (string, error)
}

// maxCachedTypes bounds the per-key cache of go-jose signers. Callers use a
// handful of fixed types ("at+jwt", "JWT"); the bound only guards against a
// caller passing unbounded input as typ.
const maxCachedTypes = 16

// KeySigner signs with one private key. It builds one go-jose signer per
// JOSE "typ" on first use and reuses it, so signing allocates only what
// go-jose needs per signature.
type KeySigner struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	pub  jose.JSONWebKey
	// key is what go-jose signs with: priv, or priv held by libcrypto
	// (backend.go).
	key any

	mu      sync.RWMutex
	signers map[string]jose.Signer
}

var _ Signer = (*KeySigner)(nil)

func newKeySigner(priv crypto.Signer, alg string) (*KeySigner, error) {
	return newKeySignerOn(priv, alg, "")
}

// newKeySignerOn builds a signer on the given backend; "" is the one
// SelectBackend chose.
func newKeySignerOn(priv crypto.Signer, alg, backend string) (*KeySigner, error) {
	if !keyFitsAlg(priv.Public(), alg) {
		return nil, fmt.Errorf("%w: %q for this key type", ErrUnsupportedAlg, alg)
	}
	pub, err := publicJWK(priv.Public(), alg)
	if err != nil {
		return nil, err
	}
	return &KeySigner{
		kid: pub.KeyID, alg: jose.SignatureAlgorithm(alg), priv: priv, pub: pub,
		key:     signingKeyFor(priv, alg, pub, backend),
		signers: make(map[string]jose.Signer, 2),
	}, nil
}

// EphemeralSigner returns a signer over a fresh in-memory key for alg, not
// stored anywhere. The benchmark command uses it to measure the raw signing
// rate of an algorithm; tests use it to mint tokens.
func EphemeralSigner(alg string) (*KeySigner, error) {
	priv, err := generatePrivate(alg)
	if err != nil {
		return nil, err
	}
	return newKeySigner(priv, alg)
}

// EphemeralSignerOn is EphemeralSigner on a given backend (BackendGo or
// BackendOpenSSL), so that a benchmark can report the raw rate of both.
func EphemeralSignerOn(alg, backend string) (*KeySigner, error) {
	if backend == BackendOpenSSL {
		if _, err := loadOpenSSL(); err != nil {
			return nil, err
		}
	}
	priv, err := generatePrivate(alg)
	if err != nil {
		return nil, err
	}
	return newKeySignerOn(priv, alg, backend)
}

// Backend names the backend this signer signs with.
func (s *KeySigner) Backend() string {
	if _, ok := s.key.(jose.OpaqueSigner); ok {
		return BackendOpenSSL
	}
	return BackendGo
}

// KID is the key's RFC 7638 thumbprint.
func (s *KeySigner) KID() string { return s.kid }

// Alg is the JWS algorithm of the key.
func (s *KeySigner) Alg() string { return string(s.alg) }

// Public returns the key's public JWK (use "sig", alg, kid).
func (s *KeySigner) Public() jose.JSONWebKey { return s.pub }

// Sign returns a compact JWS of payload with protected header
// {alg, kid, typ} (typ omitted when empty).
func (s *KeySigner) Sign(payload []byte, typ string) (string, error) {
	js, err := s.joseSigner(typ)
	if err != nil {
		return "", err
	}
	obj, err := signAdmitted(js, payload)
	if err != nil {
		return "", fmt.Errorf("signing: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// signSlots admits as many private-key operations at once as there are
// cores; the others queue here in arrival order. An RS256 signature is
// about a millisecond of CPU that the scheduler does not interrupt: with
// dozens of requests signing at once, every one of them finishes late
// (processor sharing), and the short work waiting behind them —
// introspection, health checks, the SQLite group commit that a JWT bearer
// token waits for — queues behind whole signatures. Bounding the signers
// keeps the same throughput, answers requests in order, and leaves the
// scheduler's run queues short.
var signSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// signAdmitted signs in one of the signSlots; the slot is given back even
// if the signer panics, so a panic cannot shrink the pool for good.
func signAdmitted(js jose.Signer, payload []byte) (*jose.JSONWebSignature, error) {
	signSlots <- struct{}{}
	defer func() { <-signSlots }()
	return js.Sign(payload)
}

func (s *KeySigner) joseSigner(typ string) (jose.Signer, error) {
	s.mu.RLock()
	js, ok := s.signers[typ]
	s.mu.RUnlock()
	if ok {
		return js, nil
	}
	js, err := s.newJoseSigner(typ)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.signers) < maxCachedTypes {
		s.signers[typ] = js
	}
	return js, nil
}

func (s *KeySigner) newJoseSigner(typ string) (jose.Signer, error) {
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), s.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		return nil, fmt.Errorf("signing: new signer: %w", err)
	}
	return js, nil
}
