package grants

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// respBufPool holds the buffers token responses are written into: an
// access token and its envelope fit in 1 KiB for ES256 and EdDSA.
var respBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeTokenResponse writes the RFC 6749 §5.1 success body. The common
// response (access token, type, lifetime, scope; nothing optional) is
// appended without reflection, byte for byte what oauth2.WriteJSON's
// encoding/json writes (TestTokenResponseFastPathMatchesEncodingJSON);
// any other response goes through oauth2.WriteJSON.
func writeTokenResponse(w http.ResponseWriter, resp *tokenResponse) {
	bp := respBufPool.Get().(*[]byte)
	b, ok := resp.appendPlain((*bp)[:0])
	if !ok {
		respBufPool.Put(bp)
		oauth2.WriteJSON(w, http.StatusOK, resp)
		return
	}
	endpoint.WriteNoStoreJSON(w, http.StatusOK, b)
	if cap(b) <= 16<<10 { // do not keep a buffer grown by an unusually large token
		*bp = b
		respBufPool.Put(bp)
	}
}

// appendPlain appends resp as encoding/json's Encoder (HTML escaping on,
// trailing newline) writes it, when no optional member is set and every
// string needs no escape; it reports whether it did.
func (resp *tokenResponse) appendPlain(b []byte) ([]byte, bool) {
	if resp.RefreshToken != "" || resp.IDToken != "" || resp.IssuedTokenType != "" ||
		len(resp.AuthorizationDetails) != 0 ||
		!plainJSON(resp.AccessToken) || !plainJSON(resp.TokenType) || !plainJSON(resp.Scope) {
		return b, false
	}
	b = append(b, `{"access_token":"`...)
	b = append(b, resp.AccessToken...)
	b = append(b, `","token_type":"`...)
	b = append(b, resp.TokenType...)
	b = append(b, `","expires_in":`...)
	b = strconv.AppendInt(b, resp.ExpiresIn, 10)
	b = append(b, `,"scope":"`...)
	b = append(b, resp.Scope...)
	b = append(b, "\"}\n"...)
	return b, true
}

// plainJSON reports whether encoding/json (HTML escaping on) writes s as
// itself between quotes: printable ASCII other than '"', '\\', '<', '>'
// and '&' (RFC 8259 §7; encoding/json escapes the last three too).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
