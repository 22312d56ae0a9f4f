package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// CSRFToken is the synchronizer token of a form: an HMAC of the purpose
// (workspace and form) keyed by the browser-binding secret. A token is
// useless in another browser, whose secret differs (SECURITY.md K1).
func CSRFToken(browserSecret, purpose string) string {
	m := hmac.New(sha256.New, []byte(browserSecret))
	m.Write([]byte("latchkey-csrf\x00"))
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// FormCSRF returns the CSRF token of a form for purpose, giving the
// browser its binding secret when it has none yet.
func (c Cookies) FormCSRF(w http.ResponseWriter, r *http.Request, purpose string) string {
	return CSRFToken(c.BrowserSecret(w, r), purpose)
}

// CheckCSRF reports whether the form's csrf_token matches the browser's
// secret for purpose. A browser without the cookie never passes.
func (c Cookies) CheckCSRF(r *http.Request, token, purpose string) bool {
	secret := c.ExistingBrowserSecret(r)
	if secret == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(CSRFToken(secret, purpose)))
}

// BoundTo reports whether r comes from the browser whose binding-secret
// hash is want (SECURITY.md E15).
func (c Cookies) BoundTo(r *http.Request, want []byte) bool {
	secret := c.ExistingBrowserSecret(r)
	return secret != "" && len(want) > 0 && hmac.Equal(Hash(secret), want)
}
