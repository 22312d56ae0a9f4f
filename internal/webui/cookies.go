package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie names before Cookies.Name adds the prefix (package documentation).
const (
	BrowserCookie       = "lk_b"
	sessionCookiePrefix = "lk_s_"
)

// hostPrefix marks a cookie that browsers accept only with Secure, Path=/
// and no Domain (RFC 6265bis §4.1.3.2), so no sibling host or port can
// set or shadow it.
const hostPrefix = "__Host-"

// SessionCookieName is the session cookie of workspace wsID, before
// Cookies.Name.
func SessionCookieName(wsID string) string { return sessionCookiePrefix + wsID }

// Cookies is the one decision about the names and attributes of every
// cookie Latchkey sets (sign-in session, CSRF binding, login device,
// console), taken from the configured base URL (docs/security.md K6).
// The zero value is the https form: "__Host-" names with Secure.
type Cookies struct {
	// plainHTTP: the base URL is http, as on a developer's loopback run.
	// Standard cookie jars (curl, Python requests) never send a Secure
	// cookie back over http, so the names lose "__Host-" (which requires
	// Secure) and the cookies lose Secure; HttpOnly, SameSite, Path=/ and
	// the absent Domain stay.
	plainHTTP bool
}

// CookiesFor decides from the public base URL: "__Host-" + Secure for
// every https base URL, plain names without Secure for http ones.
func CookiesFor(baseURL string) Cookies {
	u, err := url.Parse(baseURL)
	return Cookies{plainHTTP: err == nil && strings.EqualFold(u.Scheme, "http")}
}

// Secure reports whether cookies carry the Secure attribute.
func (c Cookies) Secure() bool { return !c.plainHTTP }

// Name is the name under which cookie name is set and read.
func (c Cookies) Name(name string) string {
	if c.plainHTTP {
		return name
	}
	return hostPrefix + name
}

// Set writes cookie name with HttpOnly, Path=/, no Domain, the given
// SameSite and Secure as decided. maxAge follows http.Cookie.MaxAge: 0 for
// a cookie that ends with the browser session, negative to delete it.
func (c Cookies) Set(w http.ResponseWriter, name, value string, maxAge int, site http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: c.Name(name), Value: value, Path: "/", MaxAge: maxAge,
		Secure: c.Secure(), HttpOnly: true, SameSite: site,
	})
}

// Clear deletes cookie name.
func (c Cookies) Clear(w http.ResponseWriter, name string, site http.SameSite) {
	c.Set(w, name, "", -1, site)
}

// Read returns the value of cookie name, "" when it is missing, empty or
// longer than maxLen.
func (c Cookies) Read(r *http.Request, name string, maxLen int) string {
	ck, err := r.Cookie(c.Name(name))
	if err != nil || len(ck.Value) == 0 || len(ck.Value) > maxLen {
		return ""
	}
	return ck.Value
}

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

func seconds(d time.Duration) int { return int(d / time.Second) }

// BrowserSecret returns the browser-binding secret of r, creating and
// setting one when the browser has none.
func (c Cookies) BrowserSecret(w http.ResponseWriter, r *http.Request) string {
	if v := c.ExistingBrowserSecret(r); v != "" {
		return v
	}
	v := RandomValue()
	c.Set(w, BrowserCookie, v, 0, http.SameSiteLaxMode)
	// Later reads in this same request see it too.
	r.AddCookie(&http.Cookie{Name: c.Name(BrowserCookie), Value: v})
	return v
}

// ExistingBrowserSecret returns the browser-binding secret, "" when the
// browser sent none.
func (c Cookies) ExistingBrowserSecret(r *http.Request) string {
	return c.Read(r, BrowserCookie, maxCookieValue)
}
