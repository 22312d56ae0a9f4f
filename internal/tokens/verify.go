package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// MaxTokenSize bounds the tokens Verify parses (SECURITY.md A16): ours
// are well under 2 KiB.
const MaxTokenSize = 16 << 10

// IssuedAtSkew is how far in the future iat or nbf may be, for clock skew
// between the processes that mint and verify.
const IssuedAtSkew = 60 * time.Second

// Verification errors. Each Verify error wraps exactly one of them.
var (
	ErrMalformed   = errors.New("tokens: malformed token")
	ErrType        = errors.New("tokens: not an access token (typ must be at+jwt)")
	ErrUnknownKey  = errors.New("tokens: no published key matches the token")
	ErrSignature   = errors.New("tokens: invalid signature")
	ErrIssuer      = errors.New("tokens: wrong issuer")
	ErrExpired     = errors.New("tokens: token expired")
	ErrNotYetValid = errors.New("tokens: token not yet valid")
	ErrClaims      = errors.New("tokens: invalid claims")
)

// allowedAlgs is the algorithm allowlist: exactly what workspaces sign
// with (RFC 8725 §3.1). HMAC and "none" can never pass.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// Verify checks an access token against the workspace's published keys and
// returns its content: alg in the allowlist, typ at+jwt, kid among keys
// (with a key type and alg that fit the header alg), a valid signature,
// iss equal to issuer, exp after now. It does not check revocation.
func Verify(raw string, keys jose.JSONWebKeySet, issuer string, now time.Time) (AccessToken, error) {
	if len(raw) > MaxTokenSize || strings.Count(raw, ".") != 2 {
		return AccessToken{}, ErrMalformed
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs)
	if err != nil {
		return AccessToken{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return AccessToken{}, ErrMalformed
	}
	h := jws.Signatures[0].Header
	if !isAccessTokenType(h.ExtraHeaders[jose.HeaderType]) {
		return AccessToken{}, ErrType
	}
	pub, err := verificationKey(keys, h)
	if err != nil {
		return AccessToken{}, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return AccessToken{}, ErrSignature
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil || members == nil {
		return AccessToken{}, fmt.Errorf("%w: claims are not a JSON object", ErrClaims)
	}
	at, err := decodeClaims(members)
	if err == nil {
		err = checkTimesAndIssuer(at, members, issuer, now)
	}
	if err != nil {
		return AccessToken{}, err
	}
	return at, nil
}

// isAccessTokenType accepts "at+jwt" and its full media type form
// "application/at+jwt" (RFC 9068 §4), case-insensitively (RFC 7515 §4.1.9).
func isAccessTokenType(v any) bool {
	typ, ok := v.(string)
	if !ok {
		return false
	}
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	return typ == oauth2.AccessTokenJWTType
}

// verificationKey finds the key named by the header kid. A kid that is
// missing, unknown or not unique is rejected, and the key must fit the
// header alg (RFC 8725 §3.1: a key is used with one algorithm only).
func verificationKey(keys jose.JSONWebKeySet, h jose.Header) (crypto.PublicKey, error) {
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	found := keys.Key(h.KeyID)
	if len(found) != 1 {
		return nil, ErrUnknownKey
	}
	k := found[0]
	if (k.Algorithm != "" && k.Algorithm != h.Algorithm) || (k.Use != "" && k.Use != "sig") {
		return nil, fmt.Errorf("%w: key %s is not for %s signatures", ErrUnknownKey, h.KeyID, h.Algorithm)
	}
	pub, ok := publicKeyFor(h.Algorithm, k.Key)
	if !ok {
		return nil, fmt.Errorf("%w: key %s does not fit %s", ErrUnknownKey, h.KeyID, h.Algorithm)
	}
	return pub, nil
}

// publicKeyFor returns the public key to verify alg with, or false when
// key is of the wrong type. Symmetric keys never fit (SECURITY.md A3).
func publicKeyFor(alg string, key any) (crypto.PublicKey, bool) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	switch alg {
	case string(jose.RS256), string(jose.PS256):
		k, ok := key.(*rsa.PublicKey)
		return k, ok && k.N.BitLen() >= 2048
	case string(jose.ES256):
		k, ok := key.(*ecdsa.PublicKey)
		return k, ok && k.Curve == elliptic.P256()
	case string(jose.EdDSA):
		k, ok := key.(ed25519.PublicKey)
		return k, ok && len(k) == ed25519.PublicKeySize
	}
	return nil, false
}

// decodeClaims reads the claims with strict types: strings must be JSON
// strings, dates JSON numbers, aud a string or an array of strings.
func decodeClaims(m map[string]json.RawMessage) (AccessToken, error) {
	var at AccessToken
	var err error
	strs := []struct {
		name string
		dst  *string
	}{{"iss", &at.Issuer}, {"sub", &at.Subject}, {"client_id", &at.ClientID}, {"jti", &at.JTI}}
	for _, s := range strs {
		if *s.dst, err = requiredString(m, s.name); err != nil {
			return AccessToken{}, err
		}
	}
	if raw, ok := m["scope"]; ok {
		if err := json.Unmarshal(raw, &at.Scope); err != nil {
			return AccessToken{}, fmt.Errorf("%w: scope is not a string", ErrClaims)
		}
	}
	if at.Audience, err = decodeAudience(m["aud"]); err != nil {
		return AccessToken{}, err
	}
	if at.ExpiresAt, err = numericDate(m, "exp", true); err != nil {
		return AccessToken{}, err
	}
	if at.IssuedAt, err = numericDate(m, "iat", false); err != nil {
		return AccessToken{}, err
	}
	at.Extra, err = extraClaims(m)
	return at, err
}

func requiredString(m map[string]json.RawMessage, name string) (string, error) {
	raw, ok := m[name]
	var s string
	if !ok || len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil || s == "" {
		return "", fmt.Errorf("%w: %s must be a non-empty string", ErrClaims, name)
	}
	return s, nil
}

func decodeAudience(raw json.RawMessage) ([]string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" {
			return []string{s}, nil
		}
	}
	var list []string
	if len(raw) > 0 && raw[0] == '[' && json.Unmarshal(raw, &list) == nil && len(list) > 0 && !containsEmpty(list) {
		return list, nil
	}
	return nil, fmt.Errorf("%w: aud must be a string or a non-empty array of strings", ErrClaims)
}

func containsEmpty(list []string) bool {
	for _, s := range list {
		if s == "" {
			return true
		}
	}
	return false
}

// maxNumericDate is year 9999: beyond it a date is not a real expiry.
const maxNumericDate = 253402300799

// numericDate parses an RFC 7519 §2 NumericDate: a JSON number of seconds,
// finite, non-negative and below year 10000 (SECURITY.md A17).
func numericDate(m map[string]json.RawMessage, name string, required bool) (time.Time, error) {
	raw, ok := m[name]
	if !ok {
		if required {
			return time.Time{}, fmt.Errorf("%w: %s is required", ErrClaims, name)
		}
		return time.Time{}, nil
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, fmt.Errorf("%w: %s must be a number", ErrClaims, name)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%w: %s is not a valid date", ErrClaims, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// extraClaims returns the members that are not AccessToken fields.
func extraClaims(m map[string]json.RawMessage) (map[string]any, error) {
	var extra map[string]any
	for name, raw := range m {
		switch name {
		case "iss", "sub", "aud", "client_id", "scope", "jti", "iat", "exp":
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrClaims, name)
		}
		if extra == nil {
			extra = make(map[string]any, len(m))
		}
		extra[name] = v
	}
	return extra, nil
}

func checkTimesAndIssuer(at AccessToken, m map[string]json.RawMessage, issuer string, now time.Time) error {
	if at.Issuer != issuer {
		return ErrIssuer
	}
	if !now.Before(at.ExpiresAt) {
		return ErrExpired
	}
	if !at.IssuedAt.IsZero() && at.IssuedAt.After(now.Add(IssuedAtSkew)) {
		return fmt.Errorf("%w: iat is in the future", ErrNotYetValid)
	}
	nbf, err := numericDate(m, "nbf", false)
	if err != nil {
		return err
	}
	if !nbf.IsZero() && nbf.After(now.Add(IssuedAtSkew)) {
		return ErrNotYetValid
	}
	return nil
}
