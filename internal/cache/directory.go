package cache

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// directoryCache holds the directory lookups on the JWT bearer hot path:
// a client's certificates, trusted issuers by iss and users by each unique
// field. They follow the same rule as clients: a write through this Store
// invalidates at once (a user disabled here is refused on the next
// request, SECURITY.md C3), a write by another process within PollInterval.
type directoryCache struct {
	certs   bounded[clientKey, []storage.ClientCertificate]
	issuers bounded[issuerKey, storage.TrustedIssuer]
	// users holds each user under every field it was looked up by, so
	// it counts lookups, not users, against its bound.
	users bounded[userKey, storage.User]
	// salts are the workspaces' pairwise-subject salts: created once,
	// never changed, gone with their workspace.
	salts bounded[string, []byte]
}

func newDirectoryCache(max int) directoryCache {
	return directoryCache{
		certs:   newBounded[clientKey, []storage.ClientCertificate](max),
		issuers: newBounded[issuerKey, storage.TrustedIssuer](max),
		users:   newBounded[userKey, storage.User](max),
		salts:   newBounded[string, []byte](max),
	}
}

func (d *directoryCache) reset() {
	d.certs.reset()
	d.issuers.reset()
	d.users.reset()
	d.salts.reset()
}

type issuerKey struct{ workspace, iss string }

// userKey is a user lookup: by field ("id", "username", "email" lower-cased,
// "external_id") and value.
type userKey struct{ workspace, field, value string }

func (c *Store) invalidateDirectoryLocked(ch storage.Change) {
	switch ch.Kind {
	case storage.ChangeUser:
		// Keyed by several fields, invalidated by ID: drop the workspace's users.
		c.dir.users.removeIf(func(k userKey) bool { return k.workspace == ch.WorkspaceID })
	case storage.ChangeCertificates:
		c.dir.certs.remove(clientKey{ch.WorkspaceID, ch.Key})
	case storage.ChangeTrustedIssuer:
		// Keyed by iss, invalidated by ID: drop the workspace's issuers.
		c.dir.issuers.removeIf(func(k issuerKey) bool { return k.workspace == ch.WorkspaceID })
	}
}

func (c *Store) dropDirectoryLocked(ws string) {
	c.dir.certs.removeIf(func(k clientKey) bool { return k.workspace == ws })
	c.dir.issuers.removeIf(func(k issuerKey) bool { return k.workspace == ws })
	c.dir.users.removeIf(func(k userKey) bool { return k.workspace == ws })
	c.dir.salts.remove(ws)
}

// PairwiseSalt serves the workspace's salt from memory once read: every
// pairwise subject needs it (on the JWT bearer grant, on every token), and
// the store's call writes (insert if absent) before it reads.
func (c *Store) PairwiseSalt(ctx context.Context, workspaceID string, candidate []byte) ([]byte, error) {
	return readThrough(c, &c.dir.salts, workspaceID, bytes.Clone, func() ([]byte, error) {
		return c.Storage.PairwiseSalt(ctx, workspaceID, candidate)
	})
}

// GetUser serves a user by ID from memory when cached.
func (c *Store) GetUser(ctx context.Context, workspaceID, id string) (storage.User, error) {
	return c.cachedUser(ctx, userKey{workspaceID, "id", id}, func() (storage.User, error) {
		return c.Storage.GetUser(ctx, workspaceID, id)
	})
}

// GetUserByUsername serves a user by username from memory when cached.
func (c *Store) GetUserByUsername(ctx context.Context, workspaceID, username string) (storage.User, error) {
	return c.cachedUser(ctx, userKey{workspaceID, "username", username}, func() (storage.User, error) {
		return c.Storage.GetUserByUsername(ctx, workspaceID, username)
	})
}

// GetUserByEmail serves a user by email (case-insensitive) from memory when cached.
func (c *Store) GetUserByEmail(ctx context.Context, workspaceID, email string) (storage.User, error) {
	return c.cachedUser(ctx, userKey{workspaceID, "email", strings.ToLower(email)}, func() (storage.User, error) {
		return c.Storage.GetUserByEmail(ctx, workspaceID, email)
	})
}

// GetUserByExternalID serves a user by external ID from memory when cached.
func (c *Store) GetUserByExternalID(ctx context.Context, workspaceID, externalID string) (storage.User, error) {
	return c.cachedUser(ctx, userKey{workspaceID, "external_id", externalID}, func() (storage.User, error) {
		return c.Storage.GetUserByExternalID(ctx, workspaceID, externalID)
	})
}

// cachedUser is the read-through for users. Misses are not cached.
func (c *Store) cachedUser(_ context.Context, key userKey, load func() (storage.User, error)) (storage.User, error) {
	return readThrough(c, &c.dir.users, key, copyUser, load)
}

func copyUser(u storage.User) storage.User {
	u.Profiles = slices.Clone(u.Profiles)
	u.Attributes = maps.Clone(u.Attributes)
	return u
}

// User writes go through, then invalidate and notify.

// CreateUser writes through, then invalidates and notifies.
func (c *Store) CreateUser(ctx context.Context, u storage.User) error {
	defer c.wrote(u.WorkspaceID, storage.ChangeUser, u.ID)
	return c.Storage.CreateUser(ctx, u)
}

// UpdateUser writes through, then invalidates and notifies.
func (c *Store) UpdateUser(ctx context.Context, workspaceID, id string, updater func(storage.User) (storage.User, error)) (storage.User, error) {
	defer c.wrote(workspaceID, storage.ChangeUser, id)
	return c.Storage.UpdateUser(ctx, workspaceID, id, updater)
}

// DeleteUser writes through, then invalidates and notifies.
func (c *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	defer c.wrote(workspaceID, storage.ChangeUser, id)
	return c.Storage.DeleteUser(ctx, workspaceID, id)
}

// ListClientCertificates serves a client's certificates from memory when cached.
func (c *Store) ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]storage.ClientCertificate, error) {
	return readThrough(c, &c.dir.certs, clientKey{workspaceID, clientID}, copyCerts, func() ([]storage.ClientCertificate, error) {
		return c.Storage.ListClientCertificates(ctx, workspaceID, clientID)
	})
}

// GetTrustedIssuerByIssuer serves a trusted issuer from memory when cached.
// Misses are not cached, so a newly trusted issuer works at once.
func (c *Store) GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (storage.TrustedIssuer, error) {
	return readThrough(c, &c.dir.issuers, issuerKey{workspaceID, iss}, copyIssuer, func() (storage.TrustedIssuer, error) {
		return c.Storage.GetTrustedIssuerByIssuer(ctx, workspaceID, iss)
	})
}

// copyCerts deep-copies in; the copy is never nil, since a cached empty
// slice means "cached, no certificates".
func copyCerts(in []storage.ClientCertificate) []storage.ClientCertificate {
	out := append([]storage.ClientCertificate{}, in...)
	for i := range out {
		out[i].DER = bytes.Clone(out[i].DER)
	}
	return out
}

func copyIssuer(ti storage.TrustedIssuer) storage.TrustedIssuer {
	ti.JWKS = bytes.Clone(ti.JWKS)
	ti.AllowedClients = slices.Clone(ti.AllowedClients)
	return ti
}

// Directory writes of cached kinds go through, then invalidate and notify.

// CreateClientCertificate writes through, then invalidates and notifies.
func (c *Store) CreateClientCertificate(ctx context.Context, cert storage.ClientCertificate) error {
	defer c.wrote(cert.WorkspaceID, storage.ChangeCertificates, cert.ClientID)
	return c.Storage.CreateClientCertificate(ctx, cert)
}

// DeleteClientCertificate writes through, then invalidates and notifies.
func (c *Store) DeleteClientCertificate(ctx context.Context, workspaceID, clientID, kid string) error {
	defer c.wrote(workspaceID, storage.ChangeCertificates, clientID)
	return c.Storage.DeleteClientCertificate(ctx, workspaceID, clientID, kid)
}

// CreateTrustedIssuer writes through, then invalidates and notifies.
func (c *Store) CreateTrustedIssuer(ctx context.Context, ti storage.TrustedIssuer) error {
	defer c.wrote(ti.WorkspaceID, storage.ChangeTrustedIssuer, ti.ID)
	return c.Storage.CreateTrustedIssuer(ctx, ti)
}

// UpdateTrustedIssuer writes through, then invalidates and notifies.
func (c *Store) UpdateTrustedIssuer(ctx context.Context, workspaceID, id string, updater func(storage.TrustedIssuer) (storage.TrustedIssuer, error)) (storage.TrustedIssuer, error) {
	defer c.wrote(workspaceID, storage.ChangeTrustedIssuer, id)
	return c.Storage.UpdateTrustedIssuer(ctx, workspaceID, id, updater)
}

// DeleteTrustedIssuer writes through, then invalidates and notifies.
func (c *Store) DeleteTrustedIssuer(ctx context.Context, workspaceID, id string) error {
	defer c.wrote(workspaceID, storage.ChangeTrustedIssuer, id)
	return c.Storage.DeleteTrustedIssuer(ctx, workspaceID, id)
}
