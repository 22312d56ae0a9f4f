package jwtx

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultMaxSize caps the size of a token when the caller passes no size
// (SECURITY.md A16, M3): large enough for an RSA-4096 signature and a
// generous claim set, small enough that nothing downstream is costly.
const DefaultMaxSize = 16 << 10

// Token is a parsed JWS compact token. Claims are unverified until Verify or
// VerifyHMAC succeeds; Validate refuses to run before that.
type Token struct {
	Header Header
	Claims Claims

	raw       string
	payload   []byte
	audSingle bool // aud was one JSON string rather than an array
	verified  bool
}

// Header holds the JOSE header members Latchkey reads.
type Header struct {
	Alg, Kid, Typ string
}

// Claims holds the registered claims (RFC 7519 §4.1) in typed form and every
// member of the claim set as raw JSON for callers that need more.
type Claims struct {
	Issuer, Subject, JTI string
	Audience             []string
	Expiry               *time.Time
	NotBefore            *time.Time
	IssuedAt             *time.Time
	Raw                  map[string]json.RawMessage
}

// Errors callers may want to tell apart with errors.Is. Every error this
// package returns is one of them or a case of one (an *Error); Describe
// gives its public description.
var (
	ErrTooLarge         = sentinel("token is too large")
	ErrMalformed        = sentinel("token is malformed")
	ErrNoMatchingKey    = sentinel("no key matches")
	ErrSignatureInvalid = sentinel("signature is invalid")
	ErrExpired          = sentinel("assertion expired")
	ErrAudienceInvalid  = sentinel("audience is invalid")
	ErrNotVerified      = sentinel("signature has not been verified")
	ErrAlgorithm        = sentinel("algorithm is not allowed")
)

// forbiddenHeaders are header members we never honour. jku and x5u would make
// us fetch keys from a URL the attacker chose (RFC 8725 §3.10, A6); jwk and
// x5c would let the token carry its own verification key (A7); crit asks us
// to understand extensions we do not implement (RFC 7515 §4.1.11, A8); enc
// and zip belong to JWE (A10), which is never accepted where a JWS is due.
var forbiddenHeaders = []string{"crit", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "enc", "zip", "b64"}

// b64 is strict unpadded base64url (RFC 7515 §2, A12): Strict rejects
// non-canonical trailing bits so each token has exactly one encoding.
var b64 = base64.RawURLEncoding.Strict()

// Parse does the structural checks before any crypto: size cap, exactly two
// dots, strict RawURLEncoding, JSON objects with no duplicate members, no
// "crit", no jku/x5u/jwk/x5c, alg in allowed (never "none" in any case),
// strict claim types. It returns the unverified token.
//
// maxSize <= 0 means DefaultMaxSize.
func Parse(raw string, allowedAlgs []string, maxSize int) (*Token, error) {
	parts, err := splitCompact(raw, maxSize)
	if err != nil {
		return nil, err
	}
	header, err := decodeObject(parts[0], "header")
	if err != nil {
		return nil, err
	}
	t := &Token{raw: raw}
	if t.Header, err = parseHeader(header, allowedAlgs); err != nil {
		return nil, err
	}
	if t.payload, err = decodeSegment(parts[1], "claim set"); err != nil {
		return nil, err
	}
	claims, err := objectMembers(t.payload, "claim set")
	if err != nil {
		return nil, err
	}
	if err := t.parseClaims(claims); err != nil {
		return nil, err
	}
	if parts[2] == "" {
		return nil, malformed("signature is missing", "empty third part")
	}
	if _, err := decodeSegment(parts[2], "signature"); err != nil {
		return nil, err
	}
	return t, nil
}

// splitCompact enforces the size cap before looking at the content, then the
// JWS compact form: only [A-Za-z0-9-_.] and exactly two dots (RFC 8725bis
// §3.14). That rules out the JSON serializations, JWE's five parts and
// whitespace or padding tricks in one pass without allocating per dot.
func splitCompact(raw string, maxSize int) ([]string, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	if len(raw) > maxSize {
		return nil, fail(ErrTooLarge, fmt.Sprintf("token is larger than %d bytes", maxSize), "%d bytes", len(raw))
	}
	dots := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '.':
			dots++
		case !isBase64URLChar(c):
			return nil, notCompact("byte 0x%02x at offset %d is not base64url", c, i)
		}
	}
	if dots != 2 {
		return nil, notCompact("%d dots instead of 2", dots)
	}
	return strings.SplitN(raw, ".", 3), nil
}

// notCompact is the public description for every token that is not the
// JWS compact serialization, JWE and JSON serializations included.
func notCompact(format string, args ...any) error {
	return malformed("token is not a compact JWS (three base64url parts separated by dots)", format, args...)
}

func isBase64URLChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// decodeSegment decodes one part; what names it in the description
// ("header", "claim set", "signature").
func decodeSegment(seg, what string) ([]byte, error) {
	b, err := b64.DecodeString(seg)
	if err != nil {
		return nil, malformed(what+" is not unpadded base64url", "%v", err)
	}
	return b, nil
}

func decodeObject(seg, what string) (map[string]json.RawMessage, error) {
	b, err := decodeSegment(seg, what)
	if err != nil {
		return nil, err
	}
	return objectMembers(b, what)
}

func parseHeader(h map[string]json.RawMessage, allowedAlgs []string) (Header, error) {
	for _, name := range forbiddenHeaders {
		if _, ok := h[name]; ok {
			return Header{}, malformed("header member '"+name+"' is not allowed", "")
		}
	}
	var hd Header
	var err error
	if hd.Alg, err = requiredString(h, "alg", "header member"); err != nil {
		return Header{}, err
	}
	if err := checkAlg(hd.Alg, allowedAlgs); err != nil {
		return Header{}, err
	}
	if hd.Kid, err = optionalString(h, "kid", "header member"); err != nil {
		return Header{}, err
	}
	if hd.Typ, err = optionalString(h, "typ", "header member"); err != nil {
		return Header{}, err
	}
	return hd, nil
}

// checkAlg applies the caller's allowlist, case-sensitively (RFC 7515
// §4.1.1), and refuses "none" in any spelling even if a careless caller put
// it on the list (RFC 8725 §3.1, A1).
func checkAlg(alg string, allowed []string) error {
	if strings.EqualFold(alg, "none") {
		return refusedAlg(alg, "algorithm 'none' is not allowed: the token must be signed")
	}
	if !slices.Contains(allowed, alg) {
		return algNotAllowed(alg)
	}
	return nil
}

func requiredString(m map[string]json.RawMessage, name, where string) (string, error) {
	if _, ok := m[name]; !ok {
		return "", malformed(where+" '"+name+"' is missing", "")
	}
	return optionalString(m, name, where)
}

func optionalString(m map[string]json.RawMessage, name, where string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", nil
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", malformed(where+" '"+name+"' must be a string", "value %s", quote(string(v)))
	}
	return s, nil
}
