package ciba

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Sealer seals the ping secret with authenticated encryption
// (*secrets.Keyring).
type Sealer interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ciphertext, aad []byte) ([]byte, error)
}

// Ping notification delivery (CIBA Core §10.2): a bounded number of
// attempts with a growing pause, each through the SSRF-safe client.
const (
	pingAttempts = 3
	pingBackoff  = 500 * time.Millisecond
	pingTimeout  = 5 * time.Second
)

// pingSecret is what a ping notification sends back: the auth_req_id
// (stored only hashed for lookup) and the client_notification_token.
type pingSecret struct {
	ID    string `json:"i"`
	Token string `json:"t"`
}

// pingAAD binds a sealed secret to its workspace and request.
func pingAAD(wsID string, hash []byte) []byte {
	return append([]byte("latchkey ciba ping\x00"+wsID+"\x00"), hash...)
}

// sealPing seals the secret of a ping-mode request.
func (h *Handler) sealPing(wsID string, hash []byte, id, token string) (string, error) {
	if h.Sealer == nil {
		return "", errors.New("ciba: no sealer for ping mode")
	}
	plain, err := json.Marshal(pingSecret{ID: id, Token: token})
	if err != nil {
		return "", err
	}
	sealed, err := h.Sealer.Encrypt(plain, pingAAD(wsID, hash))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// notify tells a ping-mode client that its request was decided (CIBA Core
// §10.2): POST {"auth_req_id": ...} as JSON with the
// client_notification_token as bearer token, in the background, through
// the SSRF-safe client (no redirects, dial-time address checks), with at
// most pingAttempts tries. The client then makes its token request. The
// token is never logged.
func (h *Handler) notify(wsID string, req storage.CIBARequest) {
	if h.Notifier == nil || h.Sealer == nil || req.DeliveryMode != service.CIBAModePing ||
		req.NotificationEndpoint == "" || req.PingSecret == "" {
		return
	}
	sealed, err := base64.RawURLEncoding.DecodeString(req.PingSecret)
	if err != nil {
		return
	}
	plain, err := h.Sealer.Decrypt(sealed, pingAAD(wsID, req.Hash))
	if err != nil {
		h.logWarn("ping secret does not open", wsID, req.ClientID)
		return
	}
	var s pingSecret
	if json.Unmarshal(plain, &s) != nil {
		return
	}
	body, _ := json.Marshal(map[string]string{"auth_req_id": s.ID})
	go h.deliver(wsID, req.ClientID, req.NotificationEndpoint, s.Token, body)
}

func (h *Handler) deliver(wsID, clientID, endpointURL, token string, body []byte) {
	for attempt := range pingAttempts {
		if attempt > 0 {
			time.Sleep(pingBackoff << (attempt - 1))
		}
		if h.post(endpointURL, token, body) {
			return
		}
	}
	h.logWarn("ping notification not delivered", wsID, clientID)
}

// post makes one attempt; any 2xx is success (§10.2: the client responds
// 204 No Content, but 200 is accepted too).
func (h *Handler) post(endpointURL, token string, body []byte) bool {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.Notifier.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

func (h *Handler) logWarn(msg, wsID, clientID string) {
	if h.Logger != nil {
		h.Logger.Warn(msg, "workspace", wsID, "client_id", clientID)
	}
}
