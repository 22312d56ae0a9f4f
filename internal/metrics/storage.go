package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// InstrumentStorage wraps s so that every failed operation increments
// latchkey_storage_errors_total. ErrNotFound and ErrAlreadyExists are
// answers, not failures, ErrInvalidText is the caller's bad input
// (docs/security.md R4), and cancelled requests are the caller's doing, so
// neither counts; neither do errors returned by an Update* updater (they
// are the caller's validation errors passed through unchanged).
func InstrumentStorage(s storage.Storage, m *Metrics) storage.Storage {
	return &instrumented{Storage: s, s: s, m: m}
}

// instrumented counts the failures of the operations on the request path
// (the methods below). The embedded Storage passes every other method
// through uncounted, so extending the storage contract never breaks it.
type instrumented struct {
	storage.Storage
	s storage.Storage
	m *Metrics
}

var _ storage.Storage = (*instrumented)(nil)

// count records err when it is a storage failure and returns it unchanged.
// A call made for a request whose client went away (ctx canceled) is not
// counted whatever its error: drivers report an interrupted call in their
// own words (SQLite's "interrupted", a closed connection), not always
// wrapping context.Canceled; the server counts such requests apart.
func (i *instrumented) count(ctx context.Context, err error) error {
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrAlreadyExists) &&
		!errors.Is(err, storage.ErrInvalidText) && !errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.Canceled) {
		i.m.StorageError()
	}
	return err
}

// update runs an Update* call, counting its error only when the updater
// itself did not produce it.
func update[T any](ctx context.Context, i *instrumented, fn func(func(T) (T, error)) (T, error), updater func(T) (T, error)) (T, error) {
	var fromUpdater error
	out, err := fn(func(v T) (T, error) {
		nv, uerr := updater(v)
		fromUpdater = uerr
		return nv, uerr
	})
	if err != nil && (fromUpdater == nil || !errors.Is(err, fromUpdater)) {
		i.count(ctx, err)
	}
	return out, err
}

func (i *instrumented) Ping(ctx context.Context) error { return i.count(ctx, i.s.Ping(ctx)) }
func (i *instrumented) Close() error                   { return i.s.Close() }

func (i *instrumented) CheckWritable(ctx context.Context) error {
	return i.count(ctx, i.s.CheckWritable(ctx))
}

func (i *instrumented) CreateWorkspace(ctx context.Context, w storage.Workspace) error {
	return i.count(ctx, i.s.CreateWorkspace(ctx, w))
}

func (i *instrumented) GetWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	w, err := i.s.GetWorkspace(ctx, id)
	return w, i.count(ctx, err)
}

func (i *instrumented) ListWorkspaces(ctx context.Context, o storage.ListOptions) (storage.Page[storage.Workspace], error) {
	p, err := i.s.ListWorkspaces(ctx, o)
	return p, i.count(ctx, err)
}

func (i *instrumented) UpdateWorkspace(ctx context.Context, id string, u func(storage.Workspace) (storage.Workspace, error)) (storage.Workspace, error) {
	return update(ctx, i, func(f func(storage.Workspace) (storage.Workspace, error)) (storage.Workspace, error) {
		return i.s.UpdateWorkspace(ctx, id, f)
	}, u)
}

func (i *instrumented) DeleteWorkspace(ctx context.Context, id string) error {
	return i.count(ctx, i.s.DeleteWorkspace(ctx, id))
}

func (i *instrumented) CreateService(ctx context.Context, s storage.Service) error {
	return i.count(ctx, i.s.CreateService(ctx, s))
}

func (i *instrumented) GetService(ctx context.Context, ws, id string) (storage.Service, error) {
	s, err := i.s.GetService(ctx, ws, id)
	return s, i.count(ctx, err)
}

func (i *instrumented) ListServices(ctx context.Context, ws string, o storage.ListOptions) (storage.Page[storage.Service], error) {
	p, err := i.s.ListServices(ctx, ws, o)
	return p, i.count(ctx, err)
}

func (i *instrumented) UpdateService(ctx context.Context, ws, id string, u func(storage.Service) (storage.Service, error)) (storage.Service, error) {
	return update(ctx, i, func(f func(storage.Service) (storage.Service, error)) (storage.Service, error) {
		return i.s.UpdateService(ctx, ws, id, f)
	}, u)
}

func (i *instrumented) DeleteService(ctx context.Context, ws, id string) error {
	return i.count(ctx, i.s.DeleteService(ctx, ws, id))
}

func (i *instrumented) ListScopes(ctx context.Context, ws string) ([]storage.ScopeRef, error) {
	s, err := i.s.ListScopes(ctx, ws)
	return s, i.count(ctx, err)
}

func (i *instrumented) CreateClient(ctx context.Context, c storage.Client) error {
	return i.count(ctx, i.s.CreateClient(ctx, c))
}

func (i *instrumented) GetClient(ctx context.Context, ws, id string) (storage.Client, error) {
	c, err := i.s.GetClient(ctx, ws, id)
	return c, i.count(ctx, err)
}

func (i *instrumented) ListClients(ctx context.Context, ws string, o storage.ListOptions) (storage.Page[storage.Client], error) {
	p, err := i.s.ListClients(ctx, ws, o)
	return p, i.count(ctx, err)
}

func (i *instrumented) UpdateClient(ctx context.Context, ws, id string, u func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	return update(ctx, i, func(f func(storage.Client) (storage.Client, error)) (storage.Client, error) {
		return i.s.UpdateClient(ctx, ws, id, f)
	}, u)
}

func (i *instrumented) DeleteClient(ctx context.Context, ws, id string) error {
	return i.count(ctx, i.s.DeleteClient(ctx, ws, id))
}

func (i *instrumented) ListSigningKeys(ctx context.Context, ws string) ([]storage.SigningKey, error) {
	k, err := i.s.ListSigningKeys(ctx, ws)
	return k, i.count(ctx, err)
}

func (i *instrumented) UpdateSigningKeys(ctx context.Context, ws string, u func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
	return update(ctx, i, func(f func([]storage.SigningKey) ([]storage.SigningKey, error)) ([]storage.SigningKey, error) {
		return i.s.UpdateSigningKeys(ctx, ws, f)
	}, u)
}

func (i *instrumented) UseJTI(ctx context.Context, j storage.JTI) error {
	return i.count(ctx, i.s.UseJTI(ctx, j))
}

func (i *instrumented) RevokeToken(ctx context.Context, r storage.RevokedToken) error {
	return i.count(ctx, i.s.RevokeToken(ctx, r))
}

func (i *instrumented) IsTokenRevoked(ctx context.Context, ws, jti string) (bool, error) {
	v, err := i.s.IsTokenRevoked(ctx, ws, jti)
	return v, i.count(ctx, err)
}

func (i *instrumented) CreateInitialAccessToken(ctx context.Context, t storage.InitialAccessToken) error {
	return i.count(ctx, i.s.CreateInitialAccessToken(ctx, t))
}

func (i *instrumented) ListInitialAccessTokens(ctx context.Context, ws string) ([]storage.InitialAccessToken, error) {
	t, err := i.s.ListInitialAccessTokens(ctx, ws)
	return t, i.count(ctx, err)
}

func (i *instrumented) DeleteInitialAccessToken(ctx context.Context, ws, id string) error {
	return i.count(ctx, i.s.DeleteInitialAccessToken(ctx, ws, id))
}

func (i *instrumented) ConsumeInitialAccessToken(ctx context.Context, ws string, hash []byte, now time.Time) (storage.InitialAccessToken, error) {
	t, err := i.s.ConsumeInitialAccessToken(ctx, ws, hash, now)
	return t, i.count(ctx, err)
}

func (i *instrumented) GetInitialAccessTokenByHash(ctx context.Context, ws string, hash []byte) (storage.InitialAccessToken, error) {
	t, err := i.s.GetInitialAccessTokenByHash(ctx, ws, hash)
	return t, i.count(ctx, err)
}

func (i *instrumented) CreateClientWithInitialAccessToken(ctx context.Context, c storage.Client, hash []byte, now time.Time) error {
	return i.count(ctx, i.s.CreateClientWithInitialAccessToken(ctx, c, hash, now))
}

func (i *instrumented) CreateAdminToken(ctx context.Context, t storage.AdminToken) error {
	return i.count(ctx, i.s.CreateAdminToken(ctx, t))
}

func (i *instrumented) GetAdminTokenByHash(ctx context.Context, hash []byte) (storage.AdminToken, error) {
	t, err := i.s.GetAdminTokenByHash(ctx, hash)
	return t, i.count(ctx, err)
}

func (i *instrumented) ListAdminTokens(ctx context.Context) ([]storage.AdminToken, error) {
	t, err := i.s.ListAdminTokens(ctx)
	return t, i.count(ctx, err)
}

func (i *instrumented) DeleteAdminToken(ctx context.Context, id string) error {
	return i.count(ctx, i.s.DeleteAdminToken(ctx, id))
}

func (i *instrumented) TouchAdminToken(ctx context.Context, id string, now, notBefore time.Time) error {
	return i.count(ctx, i.s.TouchAdminToken(ctx, id, now, notBefore))
}

func (i *instrumented) Changes(ctx context.Context, afterID int64, limit int) ([]storage.Change, error) {
	c, err := i.s.Changes(ctx, afterID, limit)
	return c, i.count(ctx, err)
}

func (i *instrumented) LastChangeID(ctx context.Context) (int64, error) {
	id, err := i.s.LastChangeID(ctx)
	return id, i.count(ctx, err)
}

func (i *instrumented) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := i.s.DeleteExpired(ctx, now)
	return n, i.count(ctx, err)
}

func (i *instrumented) CreateOpaqueToken(ctx context.Context, t storage.OpaqueToken) error {
	return i.count(ctx, i.s.CreateOpaqueToken(ctx, t))
}

func (i *instrumented) GetOpaqueToken(ctx context.Context, ws string, hash []byte) (storage.OpaqueToken, error) {
	t, err := i.s.GetOpaqueToken(ctx, ws, hash)
	return t, i.count(ctx, err)
}

func (i *instrumented) DeleteOpaqueToken(ctx context.Context, ws string, hash []byte) error {
	return i.count(ctx, i.s.DeleteOpaqueToken(ctx, ws, hash))
}
