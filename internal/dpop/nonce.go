package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Nonce timing. A nonce names the bucket it was issued in; it is accepted
// while its bucket is at most NonceLifetime old, so a nonce lives between
// NonceLifetime-NonceBucket and NonceLifetime.
const (
	NonceBucket   = 30 * time.Second
	NonceLifetime = 3 * time.Minute
)

// nonceMACSize is the truncated HMAC-SHA256 of a nonce: 128 bits.
const nonceMACSize = 16

// Nonces issues and checks stateless server nonces (RFC 9449 §8, §9): the
// bucket number and an HMAC of the workspace and bucket under Secret. The
// same secret on every process (derived from the shared master keyring)
// makes a nonce from one process good on all, with no write.
type Nonces struct {
	// Secret keys the MAC: at least 32 bytes from a CSPRNG or a KDF.
	Secret []byte
}

// Issue returns the current nonce of the workspace: what to send in the
// DPoP-Nonce header.
func (n *Nonces) Issue(wsID string, now time.Time) string {
	return n.nonce(wsID, bucketOf(now))
}

// Check accepts a nonce issued for the workspace within NonceLifetime;
// anything else is use_dpop_nonce, which tells the client to retry with
// the DPoP-Nonce of the response (§8 "the authorization server MUST
// reject" and provide a new one).
func (n *Nonces) Check(wsID, nonce string, now time.Time) error {
	if nonce == "" {
		return useNonce("the authorization server requires a nonce in the DPoP proof: use the DPoP-Nonce header value")
	}
	b, ok := decodeBucket(nonce)
	cur := bucketOf(now)
	if !ok || b > cur || cur-b > int64(NonceLifetime/NonceBucket) ||
		!hmac.Equal([]byte(nonce), []byte(n.nonce(wsID, b))) {
		return useNonce("the DPoP proof nonce is unknown or expired: use the DPoP-Nonce header value")
	}
	return nil
}

func bucketOf(t time.Time) int64 { return t.Unix() / int64(NonceBucket/time.Second) }

func (n *Nonces) nonce(wsID string, bucket int64) string {
	var buf [8 + nonceMACSize]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(bucket))
	m := hmac.New(sha256.New, n.Secret)
	m.Write([]byte("latchkey dpop nonce\x00"))
	m.Write([]byte(wsID))
	m.Write([]byte{0})
	m.Write(buf[:8])
	copy(buf[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

func decodeBucket(nonce string) (int64, bool) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(nonce)
	if err != nil || len(raw) != 8+nonceMACSize {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:8])), true
}
