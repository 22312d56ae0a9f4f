package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// Cookie names (package documentation).
const (
	BrowserCookie       = "__Host-lk_b"
	sessionCookiePrefix = "__Host-lk_s_"
)

// SessionCookieName is the session cookie of workspace wsID.
func SessionCookieName(wsID string) string { return sessionCookiePrefix + wsID }

// maxCookieValue bounds what is read from a cookie.
const maxCookieValue = 128

// RandomValue returns 256 random bits, base64url (cookie values, codes,
// refresh tokens: at least 128 bits of entropy, SECURITY.md G8).
func RandomValue() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash is the SHA-256 under which bearer values are stored.
func Hash(v string) []byte {
	h := sha256.Sum256([]byte(v))
	return h[:]
}

func readCookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) == 0 || len(c.Value) > maxCookieValue {
		return ""
	}
	return c.Value
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1,
	})
}

// BrowserSecret returns the browser-binding secret of r, creating and
// setting one when the browser has none.
func BrowserSecret(w http.ResponseWriter, r *http.Request) string {
	if v := readCookie(r, BrowserCookie); v != "" {
		return v
	}
	v := RandomValue()
	setCookie(w, BrowserCookie, v, 0)
	// Later reads in this same request see it too.
	r.AddCookie(&http.Cookie{Name: BrowserCookie, Value: v})
	return v
}

// ExistingBrowserSecret returns the browser-binding secret, "" when the
// browser sent none.
func ExistingBrowserSecret(r *http.Request) string { return readCookie(r, BrowserCookie) }
