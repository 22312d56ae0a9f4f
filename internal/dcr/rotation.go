package dcr

import (
	"context"
	"crypto/subtle"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Registration access tokens are stored as hashes, so a client
// information response can only carry a token by issuing a new one. RFC
// 7592 §3 requires registration_access_token in it and lets the server
// issue a new one on read and update ("the authorization server MAY issue
// a new registration access token"); Latchkey does so on every successful
// read and update, and the presented token stops working at once.
//
// The token is a single-use value, so its spending is atomic in the
// database, never in process memory: the rotation is a conditional update
// of the client row, which Store.UpdateClient locks (FOR UPDATE on
// PostgreSQL, the write lock on SQLite) before the updater compares the
// stored hash with the presented one. Of concurrent requests presenting
// the same token, across processes, exactly one finds its hash there and
// gets a working new token; the others answer 401 invalid_token.

// tokenGate is a storage.Storage whose UpdateClient runs only while the
// client row holds the presented token's hash and stores next in the same
// transaction, after the wrapped updater. Every other method passes
// through, so it can stand in for the service's store (gatedService).
type tokenGate struct {
	storage.Storage
	presented, next []byte
}

// UpdateClient checks and replaces the token hash in the transaction of
// the update; a mismatch aborts it with 401 invalid_token and writes
// nothing. The updater may run more than once (storage.Storage), and the
// check runs each time on the row as locked then.
func (g tokenGate) UpdateClient(ctx context.Context, wsID, id string, updater func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	return g.Storage.UpdateClient(ctx, wsID, id, func(c storage.Client) (storage.Client, error) {
		if !holdsToken(c, g.presented) {
			return c, errInvalidToken()
		}
		out, err := updater(c)
		if err != nil {
			return out, err
		}
		out.RegistrationAccessTokenHash = g.next
		return out, nil
	})
}

// gatedService is h.Service with its store behind g: service.UpdateClient
// does its validation and write through Store.UpdateClient, so the RFC
// 7592 update and the token's rotation are one transaction, and an update
// the service refuses leaves the presented token working.
func (h *Handler) gatedService(g tokenGate) *service.Service {
	g.Storage = h.Service.Store
	svc := *h.Service
	svc.Store = g
	return &svc
}

// holdsToken reports, in constant time, whether c's registration access
// token has the hash presented. Clients without one (created by the admin
// API) hold none.
func holdsToken(c storage.Client, presented []byte) bool {
	return len(c.RegistrationAccessTokenHash) > 0 &&
		subtle.ConstantTimeCompare(c.RegistrationAccessTokenHash, presented) == 1
}

// unchanged is the updater of a rotation that changes nothing else.
func unchanged(c storage.Client) (storage.Client, error) { return c, nil }
