package publish

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/statuslist"
)

// Defaults of the Publisher (package documentation: freshness bound).
const (
	DefaultRebuildInterval = 5 * time.Second
	DefaultTTL             = 30 * time.Second
	DefaultLifetime        = 10 * time.Minute
)

// OrphanGrace is how long a token tied to a family that does not exist
// stays valid: the token endpoint ties a token to its family just before
// it writes a new family. After it, a missing family (deleted with its
// user) revokes its tokens.
const OrphanGrace = time.Minute

// maxCached bounds the cached Status List Tokens of a process; past it the
// cache starts over (each entry is a few hundred bytes).
const maxCached = 4096

// Store is what the endpoint needs from storage: workspace resolution
// (the cached store) and the revoked indexes (a database read per
// rebuild).
type Store interface {
	endpoint.WorkspaceStore
	RevokedStatuses(ctx context.Context, workspaceID string, from, to int64, orphanedBefore time.Time) ([]int64, error)
	ReservedStatusIndexes(ctx context.Context, workspaceID string) (int64, error)
}

// SignerSource gives the workspace's current signing key.
type SignerSource interface {
	Signer(ctx context.Context, wsID string) (signing.Signer, error)
}

// Publisher serves the Status List Tokens of every workspace.
type Publisher struct {
	Store   Store
	Keys    SignerSource
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger
	// RebuildInterval is how long a built token is served before the list
	// is read again; TTL is its ttl claim and Cache-Control max-age;
	// Lifetime its exp - iat. Zero means the defaults.
	RebuildInterval, TTL, Lifetime time.Duration

	mu    sync.Mutex
	cache map[listKey]*entry
	// gen counts invalidations per workspace: an entry built before the
	// last Invalidate is stale whatever its age.
	gen map[string]uint64
}

type listKey struct {
	ws   string
	list int64
}

type entry struct {
	mu    sync.Mutex
	token string
	built time.Time
	gen   uint64
}

// Mount registers GET /w/{ws}/statuslists/{list} behind workspace
// resolution, and a 405 for other methods.
func (p *Publisher) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: p.Store, BaseURL: p.BaseURL, Logger: p.Logger}
	mux.Handle("GET /w/{ws}/statuslists/{list}", workspaces.Resolve(p.serve, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/statuslists/{list}", endpoint.MethodNotAllowed)
	mux.Handle("GET /w/{ws}/statuslists", workspaces.Resolve(p.serveAggregation, endpoint.WriteJSONError))
	mux.HandleFunc("/w/{ws}/statuslists", endpoint.MethodNotAllowed)
}

// AggregationPath is the Status List Aggregation endpoint under an issuer
// (draft §9), advertised in discovery as status_list_aggregation_endpoint.
const AggregationPath = "/statuslists"

// serveAggregation lists the URIs of the workspace's status lists that
// may hold entries (draft §9: {"status_lists": [...]}, application/json),
// so a resource server can fetch them ahead of the first token.
func (p *Publisher) serveAggregation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	n, err := p.Store.ReservedStatusIndexes(ctx, ws.ID)
	if err != nil {
		p.fail(w, r, endpoint.ErrUnavailable(err))
		return
	}
	issuer := endpoint.Issuer(p.BaseURL, ws.ID)
	out := struct {
		StatusLists []string `json:"status_lists"`
	}{StatusLists: []string{}}
	for list := int64(0); list*statuslist.ListSize < n && list < statuslist.MaxLists; list++ {
		out.StatusLists = append(out.StatusLists, statuslist.URI(issuer, list))
	}
	oauth2.WriteJSON(w, http.StatusOK, out)
}

// Invalidate makes the next request for any list of the workspace rebuild
// it: called after a revocation on this process, so that it is visible at
// once here (other processes see it within RebuildInterval).
func (p *Publisher) Invalidate(workspaceID string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gen == nil {
		p.gen = map[string]uint64{}
	}
	p.gen[workspaceID]++
}

func (p *Publisher) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	list, ok := statuslist.ParseList(r.PathValue("list"))
	if !ok {
		p.fail(w, r, oauth2.NewError(oauth2.ErrInvalidRequest,
			"the status list is not known: its identifier must be a list number without leading zeros").WithStatus(http.StatusNotFound))
		return
	}
	tok, err := p.Token(ctx, ws.ID, list)
	if err != nil {
		p.fail(w, r, endpoint.ErrUnavailable(err))
		return
	}
	hdr := w.Header()
	// Draft §8.2: the response's media type; §8.4 (caching): max-age as
	// long as the token's ttl, so a cache never holds it longer than a
	// verifier would.
	hdr.Set("Content-Type", statuslist.MediaType)
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(p.ttl()/time.Second)))
	hdr.Set("Content-Length", strconv.Itoa(len(tok)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(tok))
}

func (p *Publisher) fail(w http.ResponseWriter, r *http.Request, e *oauth2.Error) {
	endpoint.LogFailure(r.Context(), p.Logger, "status list failed", e)
	oauth2.WriteError(w, e)
}

// Token returns the Status List Token of list number list of the
// workspace, from the cache when it was built less than RebuildInterval
// ago and after the workspace's last Invalidate.
func (p *Publisher) Token(ctx context.Context, workspaceID string, list int64) (string, error) {
	e, gen := p.entry(listKey{workspaceID, list})
	e.mu.Lock()
	defer e.mu.Unlock()
	now := p.now()
	if e.token != "" && e.gen == gen && now.Sub(e.built) < p.rebuildInterval() && !now.Before(e.built) {
		return e.token, nil
	}
	tok, err := p.build(ctx, workspaceID, list, now)
	if err != nil {
		return "", err
	}
	e.token, e.built, e.gen = tok, now, gen
	return tok, nil
}

func (p *Publisher) entry(k listKey) (*entry, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil || len(p.cache) >= maxCached {
		p.cache = map[listKey]*entry{}
	}
	e := p.cache[k]
	if e == nil {
		e = &entry{}
		p.cache[k] = e
	}
	return e, p.gen[k.ws]
}

// tokenClaims is the claims set of a Status List Token (draft §5.1).
type tokenClaims struct {
	Subject    string        `json:"sub"`
	IssuedAt   int64         `json:"iat"`
	Expiry     int64         `json:"exp"`
	TTL        int64         `json:"ttl"`
	StatusList statusListObj `json:"status_list"`
}

// statusListObj is the JSON Status List (draft §4.2).
type statusListObj struct {
	Bits int    `json:"bits"`
	Lst  string `json:"lst"`
}

func (p *Publisher) build(ctx context.Context, workspaceID string, list int64, now time.Time) (string, error) {
	from := list * statuslist.ListSize
	revoked, err := p.Store.RevokedStatuses(ctx, workspaceID, from, from+statuslist.ListSize, now.Add(-OrphanGrace))
	if err != nil {
		return "", err
	}
	for i := range revoked {
		revoked[i] -= from
	}
	lst, err := statuslist.Encode(statuslist.ListSize, revoked)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(tokenClaims{
		Subject:  statuslist.URI(endpoint.Issuer(p.BaseURL, workspaceID), list),
		IssuedAt: now.Unix(), Expiry: now.Add(p.lifetime()).Unix(), TTL: int64(p.ttl() / time.Second),
		StatusList: statusListObj{Bits: 1, Lst: lst},
	})
	if err != nil {
		return "", err
	}
	signer, err := p.Keys.Signer(ctx, workspaceID)
	if err != nil {
		return "", err
	}
	return signer.Sign(payload, statuslist.JWTType)
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Publisher) rebuildInterval() time.Duration {
	if p.RebuildInterval > 0 {
		return p.RebuildInterval
	}
	return DefaultRebuildInterval
}

func (p *Publisher) ttl() time.Duration {
	if p.TTL >= time.Second {
		return p.TTL
	}
	return DefaultTTL
}

func (p *Publisher) lifetime() time.Duration {
	if p.Lifetime > p.ttl() {
		return p.Lifetime
	}
	return DefaultLifetime
}
