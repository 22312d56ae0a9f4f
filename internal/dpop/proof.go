package dpop

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/latchkey/latchkey/internal/storage"
)

// Type is the typ header of a DPoP proof (RFC 9449 §4.2), compared exactly.
const Type = "dpop+jwt"

// Limits of a proof.
const (
	// MaxProofSize caps the DPoP header before any parsing (SECURITY.md
	// A16, S4): room for an RSA-4096 jwk and signature.
	MaxProofSize = 8 << 10
	// maxJTILen bounds the jti that goes to the replay store (S7).
	maxJTILen = 256
	// RSA modulus bounds of a proof key (FAPI 2.0 Security Profile §5.4.1
	// item 2, SECURITY.md A15).
	minRSABits = 2048
	maxRSABits = 8192
)

// Default freshness window of iat (RFC 9449 §4.3 check 11, §11.1: "a
// relatively brief period").
const (
	DefaultMaxAge    = 60 * time.Second
	DefaultMaxFuture = 10 * time.Second
)

// JTINamespace separates DPoP proof IDs from every other jti in the shared
// replay store (SECURITY.md B8).
const JTINamespace = "dpop"

// DefaultAlgs are the proof algorithms accepted when a Verifier names none:
// asymmetric only (RFC 9449 §4.2), the ones discovery advertises as
// dpop_signing_alg_values_supported (§5.1).
var DefaultAlgs = []string{"ES256", "ES384", "EdDSA", "PS256", "RS256"}

// forbiddenHeaders are the header members a proof may not carry; any
// other member the check does not use (an extension parameter) is ignored,
// as RFC 7515 §4 requires of Header Parameters that are not understood and
// not listed in crit. What is refused would have the key, or the way the
// proof is read, come from somewhere other than the jwk and a plain JWS:
//   - kid, jku, x5u, x5c, x5t and x5t#S256 name, point to or carry a key
//     besides the jwk (a URL we would have to dereference, RFC 8725 §3.10,
//     SECURITY.md A6; a certificate chain or thumbprint, A7; a key ID that
//     a verifier might resolve instead of the embedded key), and the key
//     comes from jwk alone (RFC 9449 §4.2; docs/security.md S3 refuses
//     jwk plus kid outright, so that no resource server behind us resolves
//     kid against another key set);
//   - crit, with any value, asks for extensions we do not implement, which
//     RFC 7515 §4.1.11 then requires us to refuse (A8);
//   - enc and zip belong to JWE (A10), and b64 changes the signing input
//     (RFC 7797 §3).
var forbiddenHeaders = []string{"kid", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "enc", "zip", "b64"}

// forbiddenReason completes the description of a refused header member.
func forbiddenReason(name string) string {
	switch name {
	case "crit":
		return "no JWS extension is supported"
	case "enc", "zip", "b64":
		return "a DPoP proof is a plain JWS"
	}
	return "the key is taken from 'jwk' only"
}

// privateMembers are JWK members of private or symmetric keys (RFC 7518
// §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a proof's jwk MUST NOT contain a
// private key (RFC 9449 §4.2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// JTIStore is the shared single-use store (storage.Storage implements it).
type JTIStore interface {
	UseJTI(ctx context.Context, j storage.JTI) error
}

// Proof is a verified DPoP proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof key, base64url:
	// the value of cnf.jkt (RFC 9449 §6.1).
	JKT      string
	Alg      string
	JTI      string
	Method   string
	URI      string
	IssuedAt time.Time
	Nonce    string
	ATH      string

	// htu is URI normalized (NormalizeURI), set by the check that
	// matched it to the request; Spend keys the jti by it.
	htu string
}

// Verifier checks DPoP proofs. The zero value is not usable: Store is
// required.
type Verifier struct {
	Store JTIStore
	// Nonces issues and checks server nonces; nil means nonces are never
	// required.
	Nonces *Nonces
	// Algs is the allowlist; nil means DefaultAlgs.
	Algs []string
	// MaxAge and MaxFuture bound iat; zero means the defaults.
	MaxAge, MaxFuture time.Duration
	Now               func() time.Time
}

// Request is what one proof must match.
type Request struct {
	WorkspaceID string
	// Method is the HTTP method (htm) and URI the expected htu: the
	// endpoint URL built from the configured issuer, never from Host or
	// forwarded headers (SECURITY.md J2, S5).
	Method, URI string
	// AccessToken is the token presented with the proof at a protected
	// resource: ath must be its hash (§4.3 check 12). Empty at the token
	// endpoint.
	AccessToken string
	// RequireNonce demands a nonce issued by Nonces (§8, §9).
	RequireNonce bool
}

// Verify checks the DPoP header values of one request against req
// (package documentation) and spends the proof's jti. values are all the
// DPoP header fields of the request (http.Header.Values).
func (v *Verifier) Verify(ctx context.Context, values []string, req Request) (*Proof, error) {
	p, err := v.Check(values, req)
	if err != nil {
		return nil, err
	}
	if err := v.Spend(ctx, p, req); err != nil {
		return nil, err
	}
	return p, nil
}

// Check is Verify without spending the jti: every check but the replay
// one. The caller must call Spend before acting on the proof; the token
// endpoint checks (and asks for a nonce) before client authentication, so
// that a nonce retry never replays a client assertion, and spends after.
func (v *Verifier) Check(values []string, req Request) (*Proof, error) {
	raw, err := single(values)
	if err != nil {
		return nil, err
	}
	p, err := v.parse(raw)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(p, req); err != nil {
		return nil, err
	}
	return p, nil
}

// single returns the one proof of a request (§4.3 checks 1–2: "not more
// than one DPoP HTTP request header field", "a single, well-formed JWT").
func single(values []string) (string, error) {
	switch {
	case len(values) == 0:
		return "", invalidProof("the DPoP header is missing", nil)
	case len(values) > 1:
		return "", invalidProof("the request carries more than one DPoP header", nil)
	case len(values[0]) > MaxProofSize:
		return "", invalidProof(fmt.Sprintf("the DPoP proof is larger than %d bytes", MaxProofSize), nil)
	}
	return values[0], nil
}

// proofHeader is the JOSE header of a proof, decoded in one strict pass
// (decodeSegment): member names matched exactly, so "TYP" is not typ.
// A forbidden member is refused when present at all, null included; any
// other member is ignored (forbiddenHeaders), though the whole header is
// still one JSON object without duplicate member names.
type proofHeader struct {
	Typ string `json:"typ"`
	Alg string `json:"alg"`
	// JWK is kept raw: checkHeader reads its private members (jwkMembers)
	// and proofKey has go-jose decode the key from the same bytes.
	JWK jsontext.Value `json:"jwk"`

	Kid     jsontext.Value `json:"kid"`
	JKU     jsontext.Value `json:"jku"`
	X5U     jsontext.Value `json:"x5u"`
	X5C     jsontext.Value `json:"x5c"`
	X5T     jsontext.Value `json:"x5t"`
	X5TS256 jsontext.Value `json:"x5t#S256"`
	Crit    jsontext.Value `json:"crit"`
	Enc     jsontext.Value `json:"enc"`
	Zip     jsontext.Value `json:"zip"`
	B64     jsontext.Value `json:"b64"`
}

// forbidden returns the first member of forbiddenHeaders the header has.
func (h *proofHeader) forbidden() (string, bool) {
	for i, v := range [...]jsontext.Value{h.Kid, h.JKU, h.X5U, h.X5C, h.X5T, h.X5TS256, h.Crit, h.Enc, h.Zip, h.B64} {
		if len(v) > 0 {
			return forbiddenHeaders[i], true
		}
	}
	return "", false
}

// jwkMembers are the members of the header's jwk we look at ourselves:
// those of private or symmetric keys (privateMembers), refused when
// present at all. go-jose decodes the key.
type jwkMembers struct {
	D   jsontext.Value `json:"d"`
	P   jsontext.Value `json:"p"`
	Q   jsontext.Value `json:"q"`
	DP  jsontext.Value `json:"dp"`
	DQ  jsontext.Value `json:"dq"`
	QI  jsontext.Value `json:"qi"`
	Oth jsontext.Value `json:"oth"`
	K   jsontext.Value `json:"k"`
}

func (m *jwkMembers) private() bool {
	for _, v := range [...]jsontext.Value{m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.Oth, m.K} {
		if len(v) > 0 {
			return true
		}
	}
	return false
}

// proofClaims is the claim set of a proof with strict types (SECURITY.md
// A17): the strings must be JSON strings, iat is checked by numericDate.
type proofClaims struct {
	JTI   *string        `json:"jti"`
	HTM   *string        `json:"htm"`
	HTU   *string        `json:"htu"`
	Nonce string         `json:"nonce"`
	ATH   string         `json:"ath"`
	IAT   jsontext.Value `json:"iat"`
}

// parse runs the structural, header and signature checks and returns the
// proof with its claims decoded (not yet checked against the request).
// Each part is base64url-decoded once and its JSON read once, strictly,
// into a struct. go-jose decodes and validates the jwk (the same key
// checks as its JWS parser), and the signature over the parts as received
// is checked with the standard library (verifySignature): go-jose's
// compact JWS parser would decode the header a second time and re-encode
// the jwk, which cost more than a third of the verification itself
// (docs/benchmarks.md, "DPoP proof cost, round three").
func (v *Verifier) parse(raw string) (*Proof, error) {
	hseg, pseg, sseg, err := splitCompact(raw)
	if err != nil {
		return nil, err
	}
	var h proofHeader
	if err := decodeSegment(hseg, "header", &h); err != nil {
		return nil, err
	}
	if err := v.checkHeader(&h); err != nil {
		return nil, err
	}
	var c proofClaims
	if err := decodeSegment(pseg, "claim set", &c); err != nil {
		return nil, err
	}
	key, jkt, err := proofKey(h.JWK, h.Alg)
	if err != nil {
		return nil, err
	}
	sig, err := b64.DecodeString(sseg)
	if err != nil {
		return nil, invalidProof("the DPoP proof is not a valid JWS", err)
	}
	// The signing input is the header and payload exactly as received
	// (RFC 7515 §5.2 step 8).
	if !verifySignature(h.Alg, key, raw[:len(hseg)+1+len(pseg)], sig) {
		return nil, invalidProof("the DPoP proof signature does not verify with its jwk", nil)
	}
	p, err := claimsProof(&c)
	if err != nil {
		return nil, err
	}
	p.JKT, p.Alg = jkt, h.Alg
	return p, nil
}

// splitCompact: only [A-Za-z0-9-_.] and exactly two dots, so the JSON
// serializations, JWE and padding or whitespace variants are refused in
// one pass (RFC 8725bis §3.14, SECURITY.md A9, A12). It returns the
// header, payload and signature parts.
func splitCompact(raw string) (string, string, string, error) {
	first, second, dots := -1, -1, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '.':
			switch dots {
			case 0:
				first = i
			case 1:
				second = i
			}
			dots++
		case !isBase64URLChar(c):
			return "", "", "", invalidProof("the DPoP proof is not a compact JWS (three base64url parts separated by dots)", nil)
		}
	}
	if dots != 2 {
		return "", "", "", invalidProof("the DPoP proof is not a compact JWS (three base64url parts separated by dots)", nil)
	}
	return raw[:first], raw[first+1 : second], raw[second+1:], nil
}

func isBase64URLChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

var b64 = base64.RawURLEncoding.Strict()

// decodeSegment decodes one base64url part holding one JSON object into
// dst. The JSON is read once, by the strict decoder of encoding/json/v2
// (go-json-experiment): valid UTF-8, no duplicate member names at any
// depth (RFC 7515 §4, SECURITY.md A11), exact member names, nothing after
// the object, and a type error for a member of the wrong JSON type (A17).
func decodeSegment(seg, what string, dst any) error {
	b := make([]byte, b64.DecodedLen(len(seg)))
	n, err := b64.Decode(b, []byte(seg))
	if err != nil {
		return invalidProof("the DPoP proof "+what+" is not unpadded base64url", err)
	}
	return decodeObject(b[:n], what, dst)
}

// decodeObject is the JSON half of decodeSegment.
func decodeObject(b []byte, what string, dst any) error {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return invalidProof("the DPoP proof "+what+" is not a JSON object", nil)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var se *json.SemanticError
		if errors.As(err, &se) && se.JSONPointer != "" && se.Err == nil {
			return invalidProof("the DPoP proof "+what+" member '"+strings.TrimPrefix(string(se.JSONPointer), "/")+"' has the wrong JSON type", err)
		}
		return invalidProof("the DPoP proof "+what+" is not a JSON object with unique member names", err)
	}
	return nil
}

// checkHeader checks typ, alg, the members a proof may not have and the
// jwk's members.
func (v *Verifier) checkHeader(h *proofHeader) error {
	if name, ok := h.forbidden(); ok {
		return invalidProof("the DPoP proof header may not contain '"+name+"': "+forbiddenReason(name), nil)
	}
	if h.Typ != Type {
		// Exact comparison: "DPOP+JWT", "JWT" or "at+jwt" are other types
		// (RFC 9449 §4.2, RFC 8725 §3.11, SECURITY.md S1).
		return invalidProof("the DPoP proof typ must be 'dpop+jwt'", nil)
	}
	if strings.EqualFold(h.Alg, "none") || !slices.Contains(v.algs(), h.Alg) {
		return invalidProof("the DPoP proof alg is not one of "+strings.Join(v.algs(), ", "), nil)
	}
	if len(h.JWK) == 0 || h.JWK.Kind() == 'n' {
		return invalidProof("the DPoP proof header must carry the public key as 'jwk'", nil)
	}
	var jwk jwkMembers
	if err := decodeObject(h.JWK, "jwk", &jwk); err != nil {
		return err
	}
	if jwk.private() {
		// Refused before any key is decoded (RFC 9449 §4.2).
		return invalidProof("the DPoP proof jwk must be a public key: it contains a private or symmetric key member", nil)
	}
	return nil
}

// proofKey has go-jose decode the jwk (checkHeader refused private
// members already) and checks it: a valid public key of a type and size
// that fits alg. It returns the key and its thumbprint.
func proofKey(raw jsontext.Value, alg string) (any, string, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, "", invalidProof("the DPoP proof jwk must be a valid public key", err)
	}
	if !keyFitsAlg(jwk.Key, alg) {
		return nil, "", invalidProof("the DPoP proof jwk does not fit alg '"+alg+"' or is too weak", nil)
	}
	jkt, err := keyThumbprint(jwk.Key)
	if err != nil {
		return nil, "", invalidProof("the DPoP proof jwk has no thumbprint", err)
	}
	return jwk.Key, jkt, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of key, base64url without
// padding: the jkt of RFC 9449 §6.1 and the dpop_jkt of §10.
func Thumbprint(key jose.JSONWebKey) (string, error) {
	t, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

// keyFitsAlg binds each algorithm to one key type and size (RFC 8725
// §3.1, SECURITY.md A2, A15, S2).
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		return (alg == "RS256" || alg == "PS256") && bits >= minRSABits && bits <= maxRSABits
	case *ecdsa.PublicKey:
		return alg == "ES256" && k.Curve == elliptic.P256() || alg == "ES384" && k.Curve == elliptic.P384()
	case ed25519.PublicKey:
		return alg == "EdDSA" && len(k) == ed25519.PublicKeySize
	}
	return false
}

// claimsProof checks the decoded claim set: jti, htm and htu present, the
// jti bounded (S7), iat a NumericDate.
func claimsProof(c *proofClaims) (*Proof, error) {
	for _, m := range [...]struct {
		name string
		v    *string
	}{{"jti", c.JTI}, {"htm", c.HTM}, {"htu", c.HTU}} {
		if m.v == nil {
			return nil, invalidProof("the DPoP proof claim '"+m.name+"' is missing", nil)
		}
	}
	p := &Proof{JTI: *c.JTI, Method: *c.HTM, URI: *c.HTU, Nonce: c.Nonce, ATH: c.ATH}
	if p.JTI == "" || len(p.JTI) > maxJTILen || strings.ContainsFunc(p.JTI, unicode.IsControl) {
		return nil, invalidProof(fmt.Sprintf("the DPoP proof jti must be 1 to %d printable characters", maxJTILen), nil)
	}
	iat, err := numericDate(c.IAT)
	if err != nil {
		return nil, err
	}
	p.IssuedAt = iat
	return p, nil
}

// maxNumericDate is 9999-12-31T23:59:59Z.
const maxNumericDate = 253402300799

// numericDate reads iat: a JSON integer, non-negative (RFC 7519 §2): only
// digits, so no fraction, exponent, sign or quotes.
func numericDate(v jsontext.Value) (time.Time, error) {
	if len(v) == 0 || string(v) == "null" {
		return time.Time{}, invalidProof("the DPoP proof claim 'iat' is missing", nil)
	}
	if len(v) > 1 && v[0] == '0' || strings.ContainsFunc(string(v), func(r rune) bool { return r < '0' || r > '9' }) {
		return time.Time{}, invalidProof("the DPoP proof claim 'iat' must be a whole, non-negative number of seconds", nil)
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || i > maxNumericDate {
		return time.Time{}, invalidProof("the DPoP proof claim 'iat' must be a whole, non-negative number of seconds", err)
	}
	return time.Unix(i, 0), nil
}

// checkClaims matches the proof to the request: htm, htu, iat, ath and
// nonce (§4.3 checks 8–12).
func (v *Verifier) checkClaims(p *Proof, req Request) error {
	if p.Method != req.Method {
		return invalidProof("the DPoP proof htm does not match the request method", nil)
	}
	want, err := NormalizeURI(req.URI)
	if err != nil {
		return fmt.Errorf("dpop: expected htu: %w", err)
	}
	got, err := NormalizeURI(p.URI)
	if err != nil || got != want {
		return invalidProof("the DPoP proof htu does not match the request URI", err)
	}
	p.htu = got
	now := v.now()
	if p.IssuedAt.Before(now.Add(-v.maxAge())) || p.IssuedAt.After(now.Add(v.maxFuture())) {
		return invalidProof(fmt.Sprintf("the DPoP proof iat is not within the accepted window (%d s before to %d s after the server time)",
			int(v.maxAge()/time.Second), int(v.maxFuture()/time.Second)), nil)
	}
	if req.AccessToken != "" {
		if err := checkATH(p.ATH, req.AccessToken); err != nil {
			return err
		}
	}
	if req.RequireNonce && v.Nonces != nil {
		if err := v.Nonces.Check(req.WorkspaceID, p.Nonce, now); err != nil {
			return err
		}
	}
	return nil
}

// ATH is the ath of an access token: base64url SHA-256 (RFC 9449 §4.2).
func ATH(accessToken string) string {
	s := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

func checkATH(ath, accessToken string) error {
	if ath == "" {
		return invalidProof("the DPoP proof must carry 'ath', the hash of the access token", nil)
	}
	if subtle.ConstantTimeCompare([]byte(ath), []byte(ATH(accessToken))) != 1 {
		return invalidProof("the DPoP proof ath does not match the access token", nil)
	}
	return nil
}

// Spend records the jti: one atomic insert keyed by workspace, thumbprint
// and htu, kept while the proof could still be accepted (§11.1, S7).
func (v *Verifier) Spend(ctx context.Context, p *Proof, req Request) error {
	htu := p.htu // the request URI's normalized form, when Check matched them
	if htu == "" {
		htu, _ = NormalizeURI(req.URI)
	}
	err := v.Store.UseJTI(ctx, storage.JTI{
		WorkspaceID: req.WorkspaceID, Namespace: JTINamespace, Issuer: p.JKT + " " + htu, JTI: p.JTI,
		ExpiresAt: p.IssuedAt.Add(v.maxAge() + time.Second),
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return invalidProof("the DPoP proof has been used before: send a fresh proof with a new jti", nil)
	}
	if err != nil {
		return fmt.Errorf("dpop: spend jti: %w", err)
	}
	return nil
}

func (v *Verifier) algs() []string {
	if v.Algs != nil {
		return v.Algs
	}
	return DefaultAlgs
}

// SupportedAlgs is the allowlist: dpop_signing_alg_values_supported
// (RFC 9449 §5.1), exactly what Verify accepts.
func (v *Verifier) SupportedAlgs() []string { return slices.Clone(v.algs()) }

func (v *Verifier) maxAge() time.Duration {
	if v.MaxAge > 0 {
		return v.MaxAge
	}
	return DefaultMaxAge
}

func (v *Verifier) maxFuture() time.Duration {
	if v.MaxFuture > 0 {
		return v.MaxFuture
	}
	return DefaultMaxFuture
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// BoundJKT returns the cnf.jkt of a token's extra claims (RFC 9449 §6),
// "" for a token not bound to a DPoP key.
func BoundJKT(extra map[string]any) string {
	cnf, _ := extra[ConfirmationClaim].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// ConfirmationClaim is the claim holding the key binding (RFC 7800 §3.1).
const ConfirmationClaim = "cnf"

// Confirmation is the cnf value of a token bound to jkt (RFC 9449 §6.1).
func Confirmation(jkt string) map[string]any { return map[string]any{"jkt": jkt} }
