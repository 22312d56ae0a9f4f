package grants

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultAccessTokenTTL is the access token lifetime when neither the
// client, the workspace nor Defaults set one.
const DefaultAccessTokenTTL = time.Hour

// Authenticator authenticates the client of a request. *clientauth.Authenticator
// implements it; the narrow interface keeps the handler testable.
type Authenticator interface {
	Authenticate(ctx context.Context, r clientauth.Request, remoteIP string) (clientauth.Result, error)
}

// SignerSource hands out the active signer of a workspace.
// *signing.Manager implements it.
type SignerSource interface {
	Signer(ctx context.Context, wsID string) (signing.Signer, error)
}

// Store is what the token endpoint needs from storage: workspace
// resolution and the methods each grant declares next to its code. The
// cached store implements it, so the client_credentials path makes no
// database round trip.
type Store interface {
	endpoint.WorkspaceStore
	clientCredentialsStore
	authCodeStore
	refreshStore
	jwtBearerStore
	opaqueStore
	tokenExchangeStore
	deviceCodeStore
	cibaStore
}

// The production implementations.
var (
	_ Store         = storage.Storage(nil)
	_ Authenticator = (*clientauth.Authenticator)(nil)
	_ SignerSource  = (*signing.Manager)(nil)
)

// Metrics receives token endpoint events. Labels are bounded: grantType is
// a registered grant type or "unsupported", outcome is "success" or an
// OAuth error code.
type Metrics interface {
	TokenIssued(grantType string)
	TokenRequest(grantType, outcome string)
}

// Defaults are the server-wide fallbacks for per-workspace settings.
type Defaults struct {
	AccessTokenTTL time.Duration
}

// Handler serves the token endpoint of every workspace.
type Handler struct {
	Store    Store // the cached store: no database round trip on the hot path
	Auth     Authenticator
	Keys     SignerSource
	BaseURL  string
	Now      func() time.Time
	Logger   *slog.Logger
	Metrics  Metrics // may be nil
	Defaults Defaults
	// JWTBearer holds what only the JWT bearer grant needs (jwtbearer.go).
	JWTBearer JWTBearerDeps
	// AuthCode holds what the authorization_code and refresh_token grants
	// need (authcode.go).
	AuthCode AuthCodeDeps
	// Policies evaluates the policies attached to clients (policy.go);
	// nil checks none.
	Policies policy.Checker
	// Claims caches the compiled claim mappings of clients (claims.go);
	// nil compiles them on each request.
	Claims *policy.ClaimEngine
	// DPoP verifies DPoP proofs and binds tokens to their keys (dpop.go).
	DPoP DPoPDeps
	// Status gives JWT access tokens a status list entry (statuslist.go).
	Status StatusDeps
}

// Mount registers POST /w/{ws}/oauth2/token behind workspace resolution,
// and a 405 for every other method on that path (SECURITY.md Q1).
func (h *Handler) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	mux.Handle("POST /w/{ws}/oauth2/token", workspaces.Resolve(h.serveToken, h.workspaceFailed))
	mux.HandleFunc("/w/{ws}/oauth2/token", endpoint.MethodNotAllowed)
}

// workspaceFailed answers a request whose workspace did not resolve
// (logged by the resolution) and counts it like any failed token request.
func (h *Handler) workspaceFailed(w http.ResponseWriter, _ *http.Request, e *oauth2.Error) {
	h.recordRequest(metricLabel(""), string(e.Code))
	oauth2.WriteError(w, e)
}

// request is what every grant receives once the shared steps passed: the
// resolved workspace and the authenticated client. Grant parameters are
// not here: each grant parses its own into a typed request of its own
// (registry.go).
type request struct {
	ws         storage.Workspace
	issuer     string
	grantType  string
	client     storage.Client
	authMethod string
	// identifiedBy is the assertion that identified the client when the
	// request carried no credentials (clientauth.MethodAssertionOnly), nil
	// otherwise: authentication evidence, which the JWT bearer grant's
	// parse reuses rather than parse the same JWT twice.
	identifiedBy *jwtx.Token
	// remoteIP is the peer address (endpoint.RemoteIP), and resources the
	// requested RFC 8707 resources, for policies.
	remoteIP  string
	resources []string
	// claims are the validated claims of the JWT bearer assertion.
	claims map[string]json.RawMessage
	// auth is the user's sign-in behind a code or refresh token (OIDC
	// amr and auth_time), for policies; empty without a sign-in session.
	auth policy.Authentication
	// dpopJKT is the thumbprint of the request's verified DPoP proof key
	// ("" without a proof): the access token is bound to it (dpop.go).
	dpopJKT string
	// dpopSpent delivers the outcome of a DPoP jti spend running while
	// the token is minted (bindDPoP, awaitDPoPSpend); nil otherwise.
	dpopSpent <-chan error
	// certThumbprint is the x5t#S256 of the request's TLS client
	// certificate when the client wants certificate-bound tokens
	// (RFC 8705 §3, mtls.go); "" otherwise.
	certThumbprint string
	// scopeIndex is the workspace's scope catalog, read once per request
	// (scopeCatalogOf): scope resolution, access policies and claim
	// mappings all need it.
	scopeIndex *storage.ScopeIndex
	// authzDetails are the authorization details of the tokens issued
	// (RFC 9396, authzdetails.go), narrowDetails those a code or refresh
	// request asked for (nil: all granted).
	authzDetails  json.RawMessage
	narrowDetails []authzdetails.Detail
}

// scopeCatalogOf returns the workspace's scope catalog of req, reading it
// through the cached store on first use only, so the steps of one request
// agree on one catalog. The cached store shares one index per workspace
// (storage.IndexScopes), so the hot path neither copies the list nor
// indexes it.
func (h *Handler) scopeCatalogOf(ctx context.Context, req *request) (*storage.ScopeIndex, error) {
	if req.scopeIndex != nil {
		return req.scopeIndex, nil
	}
	idx, err := storage.IndexScopes(ctx, h.Store, req.ws.ID)
	if err != nil {
		return nil, errUnavailable(err)
	}
	req.scopeIndex = idx
	return idx, nil
}

// tokenResponse is the RFC 6749 §5.1 success body. scope is always
// present, even when empty, so clients never have to guess what was
// granted (RFC 6749 §5.1 makes it optional only when identical to the
// request).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	// RefreshToken comes from the code flow and, when the client enables
	// it, the JWT bearer grant; IDToken from the code flow only.
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	// IssuedTokenType is set by token exchange only (RFC 8693 §2.2.1
	// issued_token_type, REQUIRED there).
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// AuthorizationDetails are those the access token carries (RFC 9396
	// §7.1).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

func (h *Handler) serveToken(w http.ResponseWriter, r *http.Request) {
	req := &request{}
	resp, err := h.process(w, r, req)
	label := metricLabel(req.grantType)
	if err != nil {
		e := oauth2.AsError(err)
		if !endpoint.Logged(err) { // a client authentication failure, logged by clientauth
			h.logFailure(r, req, e)
		}
		h.recordRequest(label, string(e.Code))
		oauth2.WriteError(w, e)
		return
	}
	h.recordRequest(label, "success")
	if h.Metrics != nil {
		h.Metrics.TokenIssued(label)
	}
	writeTokenResponse(w, resp) // (response.go)
}

// process is the fixed pipeline (package doc). It fills req as it goes so
// that the caller can log and label failures.
func (h *Handler) process(w http.ResponseWriter, r *http.Request, req *request) (*tokenResponse, error) {
	ctx := r.Context()
	req.ws, _ = endpoint.WorkspaceFromContext(ctx)
	req.issuer = endpoint.IssuerFromContext(ctx)
	form, err := endpoint.ParseForm(w, r, endpoint.TokenForm)
	if err != nil {
		return nil, err
	}
	grant, err := lookupGrant(req, form)
	if err != nil {
		return nil, err
	}
	// RFC 9449 §5: one proof check and one binding for every grant.
	proof, err := h.checkDPoP(w, r, req)
	if err != nil {
		return nil, err
	}
	if err := h.authenticate(ctx, r, req, form); err != nil {
		return nil, err
	}
	if err := checkClientGrant(req); err != nil {
		return nil, err
	}
	if err := h.bindDPoP(ctx, req, proof); err != nil {
		return nil, err
	}
	// FAPI 2.0 Security Profile §5.3.2.1 items 4 and 5: sender-constrained tokens only.
	if err := checkFAPI(req, proof); err != nil { // (fapi.go)
		return nil, err
	}
	if err := h.requestedDetails(ctx, req, form); err != nil { // RFC 9396 §6
		return nil, err
	}
	resp, err := grant(h, ctx, req, form)
	if err != nil {
		return nil, err
	}
	if err := h.awaitDPoPSpend(req); err != nil { // RFC 9449 §11.1 (dpop.go)
		return nil, err
	}
	resp.AuthorizationDetails = req.authzDetails // RFC 9396 §7.1
	resp.TokenType = tokenType(req, resp.TokenType)
	return resp, nil
}

// lookupGrant resolves grant_type before client authentication, so an
// unsupported grant never spends a client assertion's jti.
func lookupGrant(req *request, form url.Values) (grantFunc, error) {
	gt := form.Get("grant_type")
	if gt == "" {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "grant_type is required")
	}
	grant, ok := registry[gt]
	if !ok {
		// RFC 6749 §5.2; the password grant is deliberately absent
		// (RFC 9700 §2.4, SECURITY.md Q3).
		return nil, oauth2.NewError(oauth2.ErrUnsupportedGrantType, "the grant type is not supported")
	}
	req.grantType = gt
	return grant, nil
}

// authenticate runs the one client authentication (RFC 6749 §2.3) for
// every grant, public clients included (through "none").
func (h *Handler) authenticate(ctx context.Context, r *http.Request, req *request, form url.Values) error {
	creq := clientauth.Request{
		Workspace:     req.ws,
		Issuer:        req.issuer,
		TokenEndpoint: endpoint.TokenEndpoint(req.issuer),
		Form:          form,
		Authorization: r.Header.Get("Authorization"),
	}
	if req.grantType == oauth2.GrantJWTBearer {
		// The assertion-only shape (RFC 7521 §4.1 lets client
		// authentication be absent), where clientauth identifies the
		// client by the assertion's iss: admitted for this grant only, so
		// no other grant ever goes without client authentication.
		creq.GrantAssertion = parseBearerAssertion
	}
	req.remoteIP = endpoint.RemoteIP(r)
	res, err := h.Auth.Authenticate(ctx, creq, req.remoteIP)
	if err != nil {
		return err
	}
	// Defence in depth: clientauth already refuses these.
	if !res.Client.Enabled || res.Client.WorkspaceID != req.ws.ID {
		return oauth2.NewError(oauth2.ErrInvalidClient, "client authentication failed")
	}
	req.client, req.authMethod, req.identifiedBy = res.Client, res.Method, res.Assertion
	return bindCertificate(ctx, req) // RFC 8705 §3 (mtls.go)
}

// checkClientGrant enforces the client's registered grant types
// (RFC 6749 §5.2 unauthorized_client; SECURITY.md Q4).
func checkClientGrant(req *request) error {
	if !slices.Contains(req.client.GrantTypes, req.grantType) {
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client is not allowed to use this grant type")
	}
	return nil
}

func metricLabel(grantType string) string {
	if _, ok := registry[grantType]; ok {
		return grantType
	}
	return "unsupported"
}

func (h *Handler) recordRequest(grantType, outcome string) {
	if h.Metrics != nil {
		h.Metrics.TokenRequest(grantType, outcome)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// logFailure logs a failed request with its request id and the error
// code; never a credential or a token (endpoint.LogFailure picks the
// level).
func (h *Handler) logFailure(r *http.Request, req *request, e *oauth2.Error) {
	endpoint.LogFailure(r.Context(), h.Logger, "token request failed", e,
		slog.String("workspace", req.ws.ID),
		slog.String("grant_type", metricLabel(req.grantType)),
		slog.String("client_id", req.client.ID))
}
