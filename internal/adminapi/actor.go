package adminapi

import (
	"crypto/sha256"
	"net"
	"net/http"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// ActorNamer is implemented by authorizers that can name the credential
// of an authorized request, for the audit log.
type ActorNamer interface {
	Actor(r *http.Request) service.Actor
}

// Actor names the admin token of r: the configured static token is
// "LATCHKEY_ADMIN_TOKEN", stored tokens go by their name. Only called
// after Authorize succeeded.
func (a Auth) Actor(r *http.Request) service.Actor {
	act := service.Actor{Kind: storage.ActorAPIToken, Name: "LATCHKEY_ADMIN_TOKEN", IP: peerIP(r)}
	token, ok := BearerToken(r)
	if !ok || a.Store == nil {
		return act
	}
	sum := sha256.Sum256([]byte(token))
	if t, err := a.Store.GetAdminTokenByHash(r.Context(), sum[:]); err == nil {
		act.ID, act.Name = t.ID, t.Name
	}
	return act
}

// withActor puts the caller into the request context so that the service
// layer records who made each change.
func (h *Handler) withActor(r *http.Request) *http.Request {
	n, ok := h.Auth.(ActorNamer)
	if !ok {
		return r.WithContext(service.WithActor(r.Context(), service.Actor{Kind: storage.ActorAPIToken, IP: peerIP(r)}))
	}
	return r.WithContext(service.WithActor(r.Context(), n.Actor(r)))
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
