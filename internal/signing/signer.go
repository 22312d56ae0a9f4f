package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
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

// maxCachedTypes bounds the per-key cache of encoded headers. Callers use a
// handful of fixed types ("at+jwt", "JWT"); the bound only guards against a
// caller passing unbounded input as typ.
const maxCachedTypes = 16

// KeySigner signs with one private key. The protected header of each JOSE
// "typ" is produced once by go-jose and kept base64url-encoded, so a
// signature costs the payload's encoding, one signing operation and one
// string: no header JSON, map or go-jose object per token (docs/benchmarks.md,
// "ES256 overheads").
type KeySigner struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
	pub  jose.JSONWebKey
	// key is what go-jose signs with: priv, or priv held by libcrypto
	// (backend.go).
	key any
	// sigLen is the length of the JWS signature value (RFC 7518 §3.3, §3.4,
	// §3.5; RFC 8037 §3.1), to size the token in one allocation.
	sigLen int

	mu      sync.RWMutex
	headers map[string]string
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
		sigLen:  signatureLen(priv),
		headers: make(map[string]string, 2),
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

// Sign returns a compact JWS of payload (RFC 7515 §7.1) with protected
// header {alg, kid, typ} (typ omitted when empty).
func (s *KeySigner) Sign(payload []byte, typ string) (string, error) {
	hdr, err := s.header(typ)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	inputLen := len(hdr) + 1 + enc.EncodedLen(len(payload))
	buf := make([]byte, inputLen, inputLen+1+enc.EncodedLen(s.sigLen))
	copy(buf, hdr)
	buf[len(hdr)] = '.'
	enc.Encode(buf[len(hdr)+1:], payload)
	sig, err := s.signAdmitted(buf)
	if err != nil {
		return "", fmt.Errorf("signing: sign: %w", err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
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

// signAdmitted signs the JWS signing input in one of the signSlots; the
// slot is given back even if the signer panics, so a panic cannot shrink
// the pool for good.
func (s *KeySigner) signAdmitted(input []byte) ([]byte, error) {
	signSlots <- struct{}{}
	defer func() { <-signSlots }()
	return s.signInput(input)
}

// signInput computes the JWS signature value of input with the library
// that holds the key: libcrypto (jose.OpaqueSigner, backend.go) or Go's
// crypto through crypto.Signer, in the forms RFC 7518 §3.3 (PKCS#1 v1.5),
// §3.5 (PSS, salt as long as the hash, as go-jose signs), §3.4 (ECDSA, r
// and s of 32 bytes each) and RFC 8037 §3.1 (Ed25519, the message itself)
// define. The differential tests check each against go-jose's verifier.
func (s *KeySigner) signInput(input []byte) ([]byte, error) {
	if o, ok := s.key.(jose.OpaqueSigner); ok {
		return o.SignPayload(input, s.alg)
	}
	switch s.alg {
	case jose.EdDSA:
		return s.priv.Sign(nil, input, crypto.Hash(0))
	case jose.RS256:
		d := sha256.Sum256(input)
		return s.priv.Sign(rand.Reader, d[:], crypto.SHA256)
	case jose.PS256:
		d := sha256.Sum256(input)
		return s.priv.Sign(rand.Reader, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	case jose.ES256:
		d := sha256.Sum256(input)
		der, err := s.priv.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return ecdsaDERToJOSE(der, 32)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, s.alg)
}

// signatureLen is the length of the key's JWS signature value.
func signatureLen(priv crypto.Signer) int {
	switch k := priv.Public().(type) {
	case *rsa.PublicKey:
		return k.Size()
	case *ecdsa.PublicKey:
		return 2 * ((k.Curve.Params().BitSize + 7) / 8)
	}
	return ed25519.SignatureSize
}

// header returns the base64url protected header for typ. It is the first
// part of a JWS go-jose makes with the same options, so the bytes are what
// every earlier token carried ({"alg","kid","typ"} in go-jose's order and
// escaping).
func (s *KeySigner) header(typ string) (string, error) {
	s.mu.RLock()
	h, ok := s.headers[typ]
	s.mu.RUnlock()
	if ok {
		return h, nil
	}
	h, err := s.joseHeader(typ)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.headers) < maxCachedTypes {
		s.headers[typ] = h
	}
	return h, nil
}

func (s *KeySigner) joseHeader(typ string) (string, error) {
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), s.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		return "", fmt.Errorf("signing: new signer: %w", err)
	}
	obj, err := js.Sign(nil)
	if err != nil {
		return "", fmt.Errorf("signing: sign: %w", err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("signing: sign: %w", err)
	}
	h, _, ok := strings.Cut(compact, ".")
	if !ok || h == "" {
		return "", errors.New("signing: go-jose made a JWS without a header")
	}
	return h, nil
}
