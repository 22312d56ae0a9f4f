package adminapi

import (
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
// "LATCHKEY_ADMIN_TOKEN", stored tokens go by "token:<id>" and their name.
// Only called after Authorize succeeded.
func (a Auth) Actor(r *http.Request) service.Actor {
	if p, ok, err := a.Principal(r); err == nil && ok {
		return p.Actor
	}
	return service.Actor{Kind: storage.ActorAPIToken, Name: "LATCHKEY_ADMIN_TOKEN", IP: peerIP(r)}
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
