package cache

import (
	"bytes"
	"context"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// directoryCache holds the directory lookups on the JWT bearer hot path:
// a client's certificates and trusted issuers by iss. Users are not
// cached: a disabled user must be refused at once (SECURITY.md C3), and
// the grant writes its jti anyway.
type directoryCache struct {
	certs   map[clientKey][]storage.ClientCertificate
	issuers map[issuerKey]storage.TrustedIssuer
}

type issuerKey struct{ workspace, iss string }

func (c *Store) invalidateDirectoryLocked(ch storage.Change) {
	switch ch.Kind {
	case storage.ChangeCertificates:
		delete(c.dir.certs, clientKey{ch.WorkspaceID, ch.Key})
	case storage.ChangeTrustedIssuer:
		// Keyed by iss, invalidated by ID: drop the workspace's issuers.
		for k := range c.dir.issuers {
			if k.workspace == ch.WorkspaceID {
				delete(c.dir.issuers, k)
			}
		}
	}
}

func (c *Store) dropDirectoryLocked(ws string) {
	for k := range c.dir.certs {
		if k.workspace == ws {
			delete(c.dir.certs, k)
		}
	}
	for k := range c.dir.issuers {
		if k.workspace == ws {
			delete(c.dir.issuers, k)
		}
	}
}

// ListClientCertificates serves a client's certificates from memory when cached.
func (c *Store) ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]storage.ClientCertificate, error) {
	key := clientKey{workspaceID, clientID}
	if !c.bypass.Load() {
		c.mu.RLock()
		certs, ok := c.dir.certs[key]
		c.mu.RUnlock()
		if ok {
			return copyCerts(certs), nil
		}
	}
	gen, cacheable := c.generation()
	certs, err := c.Storage.ListClientCertificates(ctx, workspaceID, clientID)
	if err != nil || !cacheable {
		return certs, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.dir.certs == nil {
			c.dir.certs = map[clientKey][]storage.ClientCertificate{}
		}
		// A non-nil empty slice marks "cached, no certificates".
		c.dir.certs[key] = append([]storage.ClientCertificate{}, copyCerts(certs)...)
	}
	c.mu.Unlock()
	return certs, nil
}

// GetTrustedIssuerByIssuer serves a trusted issuer from memory when cached.
// Misses are not cached, so a newly trusted issuer works at once.
func (c *Store) GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (storage.TrustedIssuer, error) {
	key := issuerKey{workspaceID, iss}
	if !c.bypass.Load() {
		c.mu.RLock()
		ti, ok := c.dir.issuers[key]
		c.mu.RUnlock()
		if ok {
			return copyIssuer(ti), nil
		}
	}
	gen, cacheable := c.generation()
	ti, err := c.Storage.GetTrustedIssuerByIssuer(ctx, workspaceID, iss)
	if err != nil || !cacheable {
		return ti, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.dir.issuers == nil {
			c.dir.issuers = map[issuerKey]storage.TrustedIssuer{}
		}
		c.dir.issuers[key] = copyIssuer(ti)
	}
	c.mu.Unlock()
	return ti, nil
}

func copyCerts(in []storage.ClientCertificate) []storage.ClientCertificate {
	out := slices.Clone(in)
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
