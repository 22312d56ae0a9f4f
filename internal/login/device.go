package login

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// Device cookies (OWASP Authentication Cheat Sheet, "device cookies";
// docs/security.md R10): a browser that signed in to an account gets a
// sealed cookie naming the account and a random device ID. Its later
// attempts for that account are counted on their own counter, so failures
// from unknown browsers cannot hold the real user at 429.

// DeviceSealer seals and opens device cookies with authenticated
// encryption; *secrets.Keyring implements it, so cookies survive a master
// key rotation while the old key stays in the keyring.
type DeviceSealer interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ciphertext, aad []byte) ([]byte, error)
}

const (
	deviceCookiePrefix = "lk_d_"
	// DeviceCookieLifetime is how long a device cookie is honoured.
	DeviceCookieLifetime = 365 * 24 * time.Hour
	// maxDeviceCookie bounds what is decoded from the cookie.
	maxDeviceCookie = 1024
)

// DeviceCookieName is the device cookie of workspace wsID, before
// webui.Cookies.Name adds the "__Host-" prefix of https base URLs.
func DeviceCookieName(wsID string) string { return deviceCookiePrefix + wsID }

// device is the content of a device cookie.
type device struct {
	UserID   string `json:"u"`
	DeviceID string `json:"d"`
	IssuedAt int64  `json:"t"`
}

// deviceAAD binds a cookie to its workspace: one sealed for another
// workspace does not open.
func deviceAAD(wsID string) []byte { return []byte("latchkey login device cookie\x00" + wsID) }

// readDevice returns the device cookie of r for workspace wsID when it is
// sealed by this server, unexpired and names userID.
func (h *Handler) readDevice(r *http.Request, wsID, userID string) (device, bool) {
	if h.Devices == nil || userID == "" {
		return device{}, false
	}
	value := h.Sessions.Read(r, DeviceCookieName(wsID), maxDeviceCookie)
	if value == "" {
		return device{}, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return device{}, false
	}
	plain, err := h.Devices.Decrypt(sealed, deviceAAD(wsID))
	if err != nil {
		return device{}, false
	}
	var d device
	if json.Unmarshal(plain, &d) != nil || d.UserID != userID || d.DeviceID == "" {
		return device{}, false
	}
	issued := time.Unix(d.IssuedAt, 0)
	if now := h.now(); issued.After(now.Add(time.Minute)) || now.Sub(issued) > DeviceCookieLifetime {
		return device{}, false
	}
	return d, true
}

// setDevice gives the browser a device cookie for userID, keeping the
// device ID of a cookie it already had for that user.
func (h *Handler) setDevice(w http.ResponseWriter, wsID, userID string, previous device) {
	if h.Devices == nil {
		return
	}
	d := device{UserID: userID, DeviceID: previous.DeviceID, IssuedAt: h.now().Unix()}
	if d.DeviceID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
		d.DeviceID = base64.RawURLEncoding.EncodeToString(b[:])
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return
	}
	sealed, err := h.Devices.Encrypt(plain, deviceAAD(wsID))
	if err != nil {
		return // no cookie: the browser simply stays unknown
	}
	// Named and flagged like the session cookie (docs/security.md K6).
	h.Sessions.Set(w, DeviceCookieName(wsID), base64.RawURLEncoding.EncodeToString(sealed),
		int(DeviceCookieLifetime/time.Second), http.SameSiteLaxMode)
}

// dropDevice deletes the browser's device cookie (it kept failing).
func (h *Handler) dropDevice(w http.ResponseWriter, wsID string) {
	h.Sessions.Clear(w, DeviceCookieName(wsID), http.SameSiteLaxMode)
}
