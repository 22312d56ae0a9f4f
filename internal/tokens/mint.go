package tokens

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
)

// AccessToken is the content of an RFC 9068 access token.
type AccessToken struct {
	Issuer, Subject, ClientID, Scope, JTI string
	Audience                              []string
	IssuedAt, ExpiresAt                   time.Time
	Extra                                 map[string]any // additional claims
}

// reservedClaims are set by Mint from AccessToken's fields; Extra may not
// override them (a grant must not be able to change, say, the issuer).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "client_id": true, "scope": true,
	"jti": true, "iat": true, "exp": true, "nbf": true,
}

// ErrInvalidInput is returned by Mint for an AccessToken that would not be
// a valid RFC 9068 token.
var ErrInvalidInput = errors.New("tokens: invalid access token content")

// wireClaims is the JSON form of the registered claims, in the order
// RFC 9068 §2.2 lists them. Aud holds a string or a []string.
type wireClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience any    `json:"aud"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty"`
	JTI      string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
}

// claimsBufSize fits a typical claim set without growing.
const claimsBufSize = 512

var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, claimsBufSize)) }}

// Mint signs t as an RFC 9068 JWT (typ "at+jwt") with s.
func Mint(s signing.Signer, t AccessToken) (string, error) {
	if err := t.validate(); err != nil {
		return "", err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	if err := t.encode(buf); err != nil {
		return "", err
	}
	tok, err := s.Sign(buf.Bytes(), oauth2.AccessTokenJWTType)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	return tok, nil
}

// ClaimSet is the claims object Mint would sign (the same encoder), decoded:
// what the what-if tool shows.
func (t AccessToken) ClaimSet() (map[string]any, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.encode(&buf); err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("tokens: decode claims: %w", err)
	}
	return out, nil
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return // do not keep a buffer grown by an unusually large token
	}
	b.Reset()
	bufPool.Put(b)
}

// validate checks what RFC 9068 §2.2 requires of the content.
func (t *AccessToken) validate() error {
	switch {
	case t.Issuer == "" || t.Subject == "" || t.ClientID == "" || t.JTI == "":
		return fmt.Errorf("%w: iss, sub, client_id and jti are required", ErrInvalidInput)
	case len(t.Audience) == 0:
		return fmt.Errorf("%w: aud is required (RFC 9068 §2.2)", ErrInvalidInput)
	case t.IssuedAt.IsZero() || !t.ExpiresAt.After(t.IssuedAt):
		return fmt.Errorf("%w: exp must be after iat", ErrInvalidInput)
	}
	for _, a := range t.Audience {
		if a == "" {
			return fmt.Errorf("%w: empty audience", ErrInvalidInput)
		}
	}
	for name := range t.Extra {
		if reservedClaims[name] {
			return fmt.Errorf("%w: extra claim %q would override a registered claim", ErrInvalidInput, name)
		}
	}
	return nil
}

// encode writes the claims JSON: the registered claims, then Extra (in
// key order, as encoding/json writes maps) spliced into the same object.
func (t *AccessToken) encode(buf *bytes.Buffer) error {
	if t.appendPlain(buf) {
		return nil
	}
	return t.encodeJSON(buf)
}

// encodeJSON is encode through encoding/json, for any content.
func (t *AccessToken) encodeJSON(buf *bytes.Buffer) error {
	w := wireClaims{
		Issuer: t.Issuer, Subject: t.Subject, ClientID: t.ClientID, Scope: t.Scope, JTI: t.JTI,
		IssuedAt: t.IssuedAt.Unix(), Expiry: t.ExpiresAt.Unix(),
	}
	if len(t.Audience) == 1 {
		w.Audience = t.Audience[0]
	} else {
		w.Audience = t.Audience
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return fmt.Errorf("tokens: encode claims: %w", err)
	}
	buf.Truncate(buf.Len() - 1) // Encode's trailing newline
	if len(t.Extra) == 0 {
		return nil
	}
	return appendExtra(buf, t.Extra)
}

// appendPlain writes the registered claims without reflection when every
// string among them is plain (printable ASCII needing no JSON escape),
// and the Extra claims when appendPlainExtra can: the client_credentials
// token of every request, with or without mapped claims. The bytes are
// those encoding/json writes for wireClaims (same order, same omitempty)
// followed by json.Marshal's of Extra, which
// TestEncodeFastPathMatchesEncodingJSON and FuzzEncodeFastPath check; any
// other content takes the encoding/json path. It reports whether it
// wrote.
func (t *AccessToken) appendPlain(buf *bytes.Buffer) bool {
	if !plain(t.Issuer) || !plain(t.Subject) || !plain(t.ClientID) ||
		!plain(t.Scope) || !plain(t.JTI) {
		return false
	}
	for _, a := range t.Audience {
		if !plain(a) {
			return false
		}
	}
	b := buf.AvailableBuffer()
	b = append(b, `{"iss":"`...)
	b = append(b, t.Issuer...)
	b = append(b, `","sub":"`...)
	b = append(b, t.Subject...)
	b = append(b, `","aud":`...)
	if len(t.Audience) == 1 {
		b = append(b, '"')
		b = append(b, t.Audience[0]...)
		b = append(b, '"')
	} else {
		b = append(b, '[')
		for i, a := range t.Audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, a...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	b = append(b, `,"client_id":"`...)
	b = append(b, t.ClientID...)
	b = append(b, '"')
	if t.Scope != "" {
		b = append(b, `,"scope":"`...)
		b = append(b, t.Scope...)
		b = append(b, '"')
	}
	b = append(b, `,"jti":"`...)
	b = append(b, t.JTI...)
	b = append(b, `","iat":`...)
	b = strconv.AppendInt(b, t.IssuedAt.Unix(), 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, t.ExpiresAt.Unix(), 10)
	b, ok := appendPlainMembers(b, t.Extra, 0, true)
	if !ok {
		return false // nothing written: b is buf's spare capacity
	}
	b = append(b, '}')
	buf.Write(b)
	return true
}

// maxPlainDepth bounds the nesting appendPlainValue writes; deeper values
// (and a map holding itself) go to encoding/json, which refuses cycles.
const maxPlainDepth = 32

// appendPlainMembers writes m's members as json.Marshal writes them: keys
// in byte order, comma-separated (and the first one too when splice, to
// follow the registered claims), and only when every key and value is
// plain (plainValue, appendPlainValue). It reports whether it could.
func appendPlainMembers(b []byte, m map[string]any, depth int, splice bool) ([]byte, bool) {
	if len(m) == 0 {
		return b, true
	}
	var small [8]string // a token's mapped claims are few: no allocation to sort them
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if !plainValue(k) {
			return b, false
		}
		if splice || i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		var ok bool
		if b, ok = appendPlainValue(b, m[k], depth); !ok {
			return b, false
		}
	}
	return b, true
}

// appendPlainValue writes v as json.Marshal does when v is a plain string,
// a bool, nil, an integer, or a list or map of those; floats (whose
// formatting is encoding/json's own) and anything else report false.
func appendPlainValue(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxPlainDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		if !plainValue(x) {
			return b, false
		}
		b = append(b, '"')
		b = append(b, x...)
		return append(b, '"'), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendPlainValue(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '{')
		b, ok := appendPlainMembers(b, x, depth+1, false)
		if !ok {
			return b, false
		}
		return append(b, '}'), true
	}
	return b, false
}

// plainValue reports whether json.Marshal, which escapes HTML characters
// (unlike the registered claims' encoder), writes s as itself between
// quotes.
func plainValue(s string) bool {
	if !plain(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plain reports whether s is written by encoding/json (SetEscapeHTML
// false) as itself between quotes: printable ASCII other than '"' and '\\'
// (RFC 8259 §7).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func appendExtra(buf *bytes.Buffer, extra map[string]any) error {
	raw, err := json.Marshal(extra)
	if err != nil {
		return fmt.Errorf("%w: extra claims: %v", ErrInvalidInput, err)
	}
	buf.Truncate(buf.Len() - 1) // the closing brace
	buf.WriteByte(',')
	buf.Write(raw[1:]) // raw is a non-empty object: drop its opening brace
	return nil
}

// NewJTI returns a fresh token ID: 128 random bits, base64url.
func NewJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}
