package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// FamilyClaim is the access token claim naming the token family.
const FamilyClaim = "rtf"

// KeySource returns a workspace's published keys (*signing.Manager).
type KeySource interface {
	PublicKeys(ctx context.Context, wsID string) (jose.JSONWebKeySet, error)
}

// FamilyStore is what ActiveFamily needs from storage: revocation marks,
// token families and clients.
type FamilyStore interface {
	IsTokenRevoked(ctx context.Context, workspaceID, jti string) (bool, error)
	GetTokenFamily(ctx context.Context, workspaceID, id string) (storage.TokenFamily, error)
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
}

// UserInfoStore is what the UserInfo endpoint needs from storage: the
// workspace, the access token's family and client, and its user.
type UserInfoStore interface {
	endpoint.WorkspaceStore
	FamilyStore
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	tokens.OpaqueReader
	// The claim mappings of the token's services, through the cached
	// store's shared scope index (storage.IndexScopes).
	storage.ScopeLister
}

// The production implementation.
var _ UserInfoStore = storage.Storage(nil)

// UserInfo serves the UserInfo endpoint (OIDC Core §5.3).
type UserInfo struct {
	Store    UserInfoStore
	Keys     KeySource
	Subjects *Subjects
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	// Claims computes the clients' claim mappings; nil compiles them on
	// each request.
	Claims *policy.ClaimEngine
	// DPoP checks the proofs of DPoP-bound tokens (RFC 9449 §7); nil
	// refuses the DPoP scheme, and bound tokens with it.
	DPoP *dpop.Verifier
}

// Mount registers GET and POST /w/{ws}/oauth2/userinfo behind workspace
// resolution, whose failures carry the Bearer challenge too.
func (h *UserInfo) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	fail := func(w http.ResponseWriter, r *http.Request, e *oauth2.Error) {
		oauth2.WriteBearerError(w, endpoint.Issuer(h.BaseURL, r.PathValue("ws")), e)
	}
	mux.Handle("GET /w/{ws}/oauth2/userinfo", workspaces.Resolve(h.serve, fail))
	mux.Handle("POST /w/{ws}/oauth2/userinfo", workspaces.Resolve(h.serve, fail))
}

// maxUserInfoBody caps a POST body carrying access_token.
const maxUserInfoBody = 32 << 10

// serve answers UserInfo requests; failures carry the RFC 6750 §3 Bearer
// challenge with the workspace's issuer as realm.
func (h *UserInfo) serve(w http.ResponseWriter, r *http.Request) {
	claims, err := h.userInfo(r)
	if err != nil && h.dpopChallenge(r, err) {
		endpoint.LogFailure(r.Context(), h.Logger, "userinfo request failed", oauth2.AsError(err))
		dpop.WriteChallenge(w, err, h.DPoP.SupportedAlgs(), h.dpopNonce(r))
		return
	}
	if err != nil {
		// A request without a token is the normal first step of RFC 6750
		// §3, not a failure.
		if !errors.Is(err, oauth2.ErrNoBearerToken) {
			endpoint.LogFailure(r.Context(), h.Logger, "userinfo request failed", oauth2.AsError(err))
		}
		oauth2.WriteBearerError(w, endpoint.IssuerFromContext(r.Context()), err)
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, claims)
}

func invalidToken() error {
	return oauth2.NewError(oauth2.ErrInvalidToken, "the access token is invalid")
}

func (h *UserInfo) userInfo(r *http.Request) (map[string]any, error) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	raw, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	at, fam, err := h.validate(ctx, ws.ID, endpoint.IssuerFromContext(ctx), raw)
	if err != nil {
		return nil, err
	}
	if err := h.checkDPoP(r, ws, raw, at); err != nil {
		return nil, err
	}
	// RFC 8705 §3: a certificate-bound token only with its certificate.
	if err := endpoint.CheckCertificateBinding(ctx, at.Extra); err != nil {
		return nil, err
	}
	user, err := h.Store.GetUser(ctx, ws.ID, fam.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalidToken()
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if !user.Active {
		return nil, invalidToken()
	}
	out := UserInfoClaims(user, strings.Fields(at.Scope), DecodeClaims(fam.Claims))
	if err := h.addMappedClaims(r, ws, at, user, out); err != nil {
		return nil, err
	}
	out["sub"] = at.Subject
	return out, nil
}

// addMappedClaims adds the claims the token's services and client map to
// UserInfo, computed now by the same function as the token endpoint's
// (policy.ClaimEngine.Claims):
// request holds the token's scopes and audience, and this call's address
// and time. An evaluation error fails closed (docs/security.md Z8).
func (h *UserInfo) addMappedClaims(r *http.Request, ws storage.Workspace, at tokens.AccessToken, user storage.User, out map[string]any) error {
	ctx := r.Context()
	c, err := h.Store.GetClient(ctx, ws.ID, at.ClientID)
	if err != nil {
		return nil // ActiveFamily has checked the client just before
	}
	catalog, err := storage.IndexScopes(ctx, h.Store, ws.ID)
	if err != nil {
		return unavailable(err)
	}
	scopes := strings.Fields(at.Scope)
	owners := policy.ServiceOwners(catalog.RefsOf(scopes), scopes)
	if len(c.ClaimMappings) > 0 {
		owners = append(owners, policy.ClientOwner(c))
	}
	if len(owners) == 0 {
		return nil
	}
	set, err := h.Claims.Claims(ctx, ws.ID, owners, policy.Input{
		User: policy.FromUser(user), Client: policy.FromClient(c), Workspace: policy.Workspace{ID: ws.ID},
		Request: policy.Request{Scopes: scopes, Audience: at.Audience,
			RemoteIP: endpoint.RemoteIP(r), Time: h.now().UTC()},
	})
	if err != nil {
		if h.Logger != nil {
			h.Logger.ErrorContext(ctx, "claim mapping could not be evaluated", slog.String("workspace", ws.ID),
				slog.String("client", c.ID), slog.Any("error", err))
		}
		return &oauth2.Error{Code: oauth2.ErrServerError, Description: "the client's claim mapping could not be evaluated", Cause: err}
	}
	for k, v := range set[policy.TargetUserInfo] {
		out[k] = v
	}
	return nil
}

// bearerToken reads the token from the Authorization header (RFC 6750
// §2.1) or, on POST, the access_token form field (§2.2); never both.
func bearerToken(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	var form string
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, maxUserInfoBody)
		if err := r.ParseForm(); err != nil {
			return "", oauth2.NewError(oauth2.ErrInvalidRequest, "malformed request body")
		}
		if len(r.PostForm["access_token"]) > 1 {
			return "", oauth2.NewError(oauth2.ErrInvalidRequest, "access_token is repeated")
		}
		form = r.PostForm.Get("access_token")
	}
	scheme, tok, _ := strings.Cut(header, " ")
	switch {
	case header != "" && form != "":
		return "", oauth2.NewError(oauth2.ErrInvalidRequest, "more than one way of sending the access token")
	case form != "":
		return form, nil
	case header == "":
		return "", oauth2.ErrNoBearerToken
	case !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, dpop.Scheme) || strings.TrimSpace(tok) == "":
		return "", invalidToken()
	}
	return strings.TrimSpace(tok), nil
}

// validate checks the token and its family: signature, issuer and expiry;
// the openid scope; not revoked by jti; issued by the code flow to a
// client that is still enabled; family not revoked.
func (h *UserInfo) validate(ctx context.Context, wsID, issuer, raw string) (tokens.AccessToken, storage.TokenFamily, error) {
	at, err := h.verify(ctx, wsID, issuer, raw)
	if err != nil {
		return at, storage.TokenFamily{}, err
	}
	if !slices.Contains(strings.Fields(at.Scope), ScopeOpenID) {
		return at, storage.TokenFamily{}, oauth2.NewError(oauth2.ErrInsufficientScope, "the access token lacks the openid scope")
	}
	fam, err := ActiveFamily(ctx, h.Store, wsID, at)
	if err != nil {
		return at, fam, err
	}
	return at, fam, nil
}

// verify checks a JWT access token's signature, issuer and expiry, or
// reads an opaque token's stored claims (never cached, so a revocation
// shows at once).
func (h *UserInfo) verify(ctx context.Context, wsID, issuer, raw string) (tokens.AccessToken, error) {
	if tokens.IsOpaque(raw) {
		at, err := tokens.ResolveOpaque(ctx, h.Store, wsID, issuer, raw, h.now())
		switch {
		case errors.Is(err, tokens.ErrInactive):
			return at, invalidToken()
		case err != nil:
			return at, unavailable(err)
		}
		return at, nil
	}
	keys, err := h.Keys.PublicKeys(ctx, wsID)
	if err != nil {
		return tokens.AccessToken{}, unavailable(err)
	}
	at, err := tokens.Verify(raw, keys, issuer, h.now())
	if err != nil {
		return at, invalidToken()
	}
	return at, nil
}

// ActiveFamily returns the family of a user access token when the token is
// still good: not revoked by jti, family known and not revoked, client
// still there and enabled. Other tokens are invalid_token; storage
// failures temporarily_unavailable.
func ActiveFamily(ctx context.Context, store FamilyStore, wsID string, at tokens.AccessToken) (storage.TokenFamily, error) {
	famID, _ := at.Extra[FamilyClaim].(string)
	if famID == "" {
		return storage.TokenFamily{}, invalidToken()
	}
	revoked, err := store.IsTokenRevoked(ctx, wsID, at.JTI)
	if err != nil {
		return storage.TokenFamily{}, unavailable(err)
	}
	fam, err := store.GetTokenFamily(ctx, wsID, famID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fam, invalidToken()
	case err != nil:
		return fam, unavailable(err)
	case revoked || !fam.RevokedAt.IsZero() || fam.ClientID != at.ClientID:
		return fam, invalidToken()
	}
	if fam.ParentFamilyID != "" {
		// Begun by token exchange (RFC 8693): it ends with its parent.
		parent, err := store.GetTokenFamily(ctx, wsID, fam.ParentFamilyID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return fam, invalidToken()
		case err != nil:
			return fam, unavailable(err)
		case !parent.RevokedAt.IsZero():
			return fam, invalidToken()
		}
	}
	c, err := store.GetClient(ctx, wsID, fam.ClientID)
	if err != nil || !c.Enabled || c.CreatedAt.Truncate(time.Second).After(at.IssuedAt) {
		return fam, invalidToken()
	}
	return fam, nil
}

// checkDPoP enforces a token's DPoP binding (RFC 9449 §7): a bound token
// only with the DPoP scheme and a proof by its key, for this request's
// method and this endpoint's URL built from the issuer (never from Host),
// with ath; the DPoP scheme only for a bound token.
func (h *UserInfo) checkDPoP(r *http.Request, ws storage.Workspace, raw string, at tokens.AccessToken) error {
	jkt := dpop.BoundJKT(at.Extra)
	if h.DPoP == nil {
		if jkt != "" || dpop.UsesScheme(r) {
			return invalidToken()
		}
		return nil
	}
	err := h.DPoP.CheckResource(r.Context(), r, dpop.Resource{
		WorkspaceID: ws.ID, URI: endpoint.IssuerFromContext(r.Context()) + "/oauth2/userinfo",
		AccessToken: raw, BoundJKT: jkt, RequireNonce: ws.Settings.DPoPNonce,
	})
	if err != nil && !dpop.IsProofError(err) && !errors.Is(err, oauth2.NewError(oauth2.ErrInvalidToken, "")) {
		return unavailable(err)
	}
	return err
}

// dpopChallenge: the answer carries the DPoP challenge (RFC 9449 §7.1)
// when the request used the DPoP scheme, or the failure is about a proof
// or a DPoP-bound token sent as Bearer.
func (h *UserInfo) dpopChallenge(r *http.Request, err error) bool {
	if h.DPoP == nil || errors.Is(err, oauth2.ErrNoBearerToken) {
		return false
	}
	return dpop.UsesScheme(r) || dpop.IsProofError(err) || dpop.IsBindingError(err)
}

// dpopNonce is the DPoP-Nonce to send with a DPoP challenge when the
// workspace requires nonces (RFC 9449 §9).
func (h *UserInfo) dpopNonce(r *http.Request) string {
	ws, ok := endpoint.WorkspaceFromContext(r.Context())
	if !ok || !ws.Settings.DPoPNonce || h.DPoP.Nonces == nil {
		return ""
	}
	return h.DPoP.Nonces.Issue(ws.ID, h.now())
}

// unavailable is the 503 of a storage or key failure.
func unavailable(cause error) error { return endpoint.ErrUnavailable(cause) }

func (h *UserInfo) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
