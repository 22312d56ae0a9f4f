package dcr

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxBodyBytes caps registration requests; inline JWKS make them larger
// than token requests.
const maxBodyBytes = 256 << 10

// Handler serves RFC 7591/7592 for every workspace.
type Handler struct {
	Service *service.Service
	Store   endpoint.WorkspaceStore // resolves workspaces (normally the cached store)
	BaseURL string                  // public base URL, e.g. http://127.0.0.1:8080
	Logger  *slog.Logger
	// MTLS is the value discovery's Handler.MTLS gets: nil when no TLS
	// client certificate can reach the server, and then the RFC 8705
	// methods and certificate-bound tokens, which discovery does not
	// advertise, are refused at registration and update (mtls.go). The
	// server passes the same value to both.
	MTLS *discovery.MTLS
}

// Mount registers the registration endpoints on mux, behind workspace
// resolution: an unknown or disabled workspace is 404, a storage failure
// 503 (docs/security.md R5).
func (h *Handler) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	route := func(pattern string, serve http.HandlerFunc) {
		mux.Handle(pattern, workspaces.Resolve(serve, endpoint.WriteJSONError))
	}
	route("POST /w/{ws}/oauth2/register", h.register)
	route("GET /w/{ws}/oauth2/register/{client_id}", h.read)
	route("PUT /w/{ws}/oauth2/register/{client_id}", h.update)
	route("DELETE /w/{ws}/oauth2/register/{client_id}", h.remove)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func errInvalidToken() error {
	return oauth2.NewError(oauth2.ErrInvalidToken, "a valid access token is required")
}

// register implements RFC 7591 §3.1: authorize with the initial access
// token, create the client, answer 201 with the client information.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	// Authenticate before looking at the body, so that callers without a
	// token learn nothing from validation errors. Authenticating does not
	// spend a use: only a successful registration does, atomically with
	// the insert (RFC 7591 §3; docs/security.md R3).
	iat, err := h.authenticateInitialToken(ctx, r, ws.ID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	m, err := decodeMetadata(w, r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := m.clientInput()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.checkOffered(in, service.NormalizeRegistrationPolicy(iat.Policy)); err != nil {
		h.writeError(w, r, err)
		return
	}
	rat, ratHash := service.NewRegistrationAccessToken()
	in.RegistrationAccessTokenHash = ratHash
	c, err := h.Service.RegisterClient(ctx, ws.ID, iat, in, in.ApplicationType)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.logger().InfoContext(ctx, "dcr: client registered", slog.String("workspace", ws.ID), slog.String("client_id", c.ID))
	oauth2.WriteJSON(w, http.StatusCreated, h.response(c.Client, c.Secret, rat))
}

func (h *Handler) authenticateInitialToken(ctx context.Context, r *http.Request, wsID string) (storage.InitialAccessToken, error) {
	tok, err := bearer(r)
	if err != nil {
		return storage.InitialAccessToken{}, err
	}
	if !strings.HasPrefix(tok, service.InitialAccessTokenPrefix) {
		return storage.InitialAccessToken{}, errInvalidToken()
	}
	t, err := h.Service.AuthenticateInitialAccessToken(ctx, wsID, tok)
	if errors.Is(err, service.ErrNotFound) {
		return storage.InitialAccessToken{}, errInvalidToken()
	}
	return t, err
}

// response builds the client information response (RFC 7591 §3.2.1,
// RFC 7592 §3). secret and rat are included only when just issued.
func (h *Handler) response(c storage.Client, secret, rat string) response {
	m := clientMetadata(c)
	m.ClientSecret = secret
	out := response{
		metadata: m, ClientIDIssuedAt: c.CreatedAt.Unix(), RegistrationAccessToken: rat,
		RegistrationClientURI: h.BaseURL + "/w/" + c.WorkspaceID + "/oauth2/register/" + url.PathEscape(c.ID),
	}
	if len(c.SecretCiphertext) > 0 {
		var never int64 // secrets do not expire (RFC 7591 §3.2.1: 0)
		out.ClientSecretExpiresAt = &never
	}
	return out
}

// checkOffered makes the checks of registration that the service, shared
// with the admin API, does not: the mutual TLS metadata of a server
// without mutual TLS (mtls.go), and post-logout redirect URIs outside the
// registration policy (oidc.go).
func (h *Handler) checkOffered(in service.ClientInput, policy storage.RegistrationPolicy) error {
	if err := h.checkMTLSOffered(in); err != nil {
		return err
	}
	return checkPostLogoutPolicy(policy, in.PostLogoutRedirectURIs)
}

// read implements RFC 7592 §2.1 and §3: the client information response
// carries a registration_access_token (REQUIRED), and as only its hash is
// stored, a new one; the presented token stops working (rotation.go). The
// secret is not returned: Latchkey never reveals a stored secret through a
// read (SECURITY.md D3).
func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	c, presented, err := h.authorizeManagement(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rat, next := service.NewRegistrationAccessToken()
	gate := tokenGate{Storage: h.Service.Store, presented: presented, next: next}
	c, err = gate.UpdateClient(r.Context(), c.WorkspaceID, c.ID, unchanged)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, h.response(c, "", rat))
}

// update implements RFC 7592 §2.2: the request replaces the metadata;
// client_id must match and client_secret, if sent, must be the current one.
// The response carries a new registration access token (§3), which
// replaces the presented one in the transaction of the update.
func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	c, presented, err := h.authorizeManagement(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, err := h.replacement(w, r, c)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rat, next := service.NewRegistrationAccessToken()
	svc := h.gatedService(tokenGate{presented: presented, next: next})
	u, err := svc.UpdateClient(r.Context(), c.WorkspaceID, c.ID, replacePatch(in))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, h.response(u.Client, u.Secret, rat))
}

// replacement reads and checks the metadata of an RFC 7592 update of c.
func (h *Handler) replacement(w http.ResponseWriter, r *http.Request, c storage.Client) (service.ClientInput, error) {
	m, err := decodeMetadata(w, r)
	if err != nil {
		return service.ClientInput{}, err
	}
	if err := h.checkIdentity(c, m); err != nil {
		return service.ClientInput{}, err
	}
	in, err := m.clientInput()
	if err != nil {
		return service.ClientInput{}, err
	}
	// The policy of the registration's initial access token binds every
	// update too, so the registration access token cannot widen grants,
	// scopes or redirect URIs (docs/security.md R2).
	policy := service.EffectiveRegistrationPolicy(c)
	if err := service.CheckRegistrationPolicy(policy, in, in.ApplicationType); err != nil {
		return service.ClientInput{}, err
	}
	return in, h.checkOffered(in, policy)
}

func (h *Handler) checkIdentity(c storage.Client, m metadata) error {
	if m.ClientID != c.ID {
		return oauth2.NewError(oauth2.ErrInvalidClientMetadata, "client_id must be present and equal the registered client_id (RFC 7592 §2.2)")
	}
	if m.ClientSecret == "" {
		return nil
	}
	cur, err := h.Service.ClientSecret(c)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(cur), []byte(m.ClientSecret)) != 1 {
		return oauth2.NewError(oauth2.ErrInvalidClientMetadata, "client_secret does not match the issued secret (RFC 7592 §2.2)")
	}
	return nil
}

// replacePatch turns a full metadata set into a patch that sets every
// field RFC 7591 and OpenID Connect metadata cover, so that omitted values
// are cleared (RFC 7592 §2.2). Settings only the admin API edits (token
// lifetimes, refresh token settings, PKCE, trust) are left as they are.
func replacePatch(in service.ClientInput) service.ClientPatch {
	jwks := in.JWKS
	if jwks == nil {
		jwks = []byte{}
	}
	return service.ClientPatch{
		Name: &in.Name, ContactEmail: &in.ContactEmail, Type: &in.Type, GrantTypes: &in.GrantTypes,
		ResponseTypes: &in.ResponseTypes, RedirectURIs: &in.RedirectURIs, Scopes: &in.Scopes,
		TokenEndpointAuthMethod: &in.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: &in.TokenEndpointAuthSigningAlg,
		JWKS: &jwks, JWKSURI: &in.JWKSURI, Extra: &in.Extra, ApplicationType: &in.ApplicationType,
		TokenSettingsPatch: service.TokenSettingsPatch{AccessTokenFormat: &in.AccessTokenFormat, DPoPBoundAccessTokens: &in.DPoPBoundAccessTokens},
		MTLSPatch:          mtlsPatch(in.MTLSSettings), // RFC 8705 (mtls.go)
		// RFC 9396 §10: an omitted list clears the restriction.
		AuthorizationDetailsTypes: &in.AuthorizationDetailsTypes,
		// OIDC Registration §2: subject_type alone, so that a subject
		// format the admin API chose (username, email) survives an update
		// that keeps subject_type public.
		PresentationPatch:  service.PresentationPatch{SubjectType: &in.SubjectType},
		AuthFlowPatch:      authFlowPatch(in.AuthFlowSettings),
		SignedRequestPatch: signedRequestPatch(in.SignedRequestSettings), // signedrequests.go
	}
}

// authFlowPatch sets the OpenID Connect, logout and CIBA members.
func authFlowPatch(a service.AuthFlowSettings) service.AuthFlowPatch {
	return service.AuthFlowPatch{
		SectorIdentifierURI: &a.SectorIdentifierURI, PostLogoutRedirectURIs: &a.PostLogoutRedirectURIs,
		IDTokenSignedResponseAlg: &a.IDTokenSignedResponseAlg,
		LogoutChannelsPatch:      logoutChannelsPatch(a.LogoutChannels), // logoutchannels.go
		CIBASettingsPatch:        cibaPatch(a.CIBASettings),             // ciba.go
	}
}

// remove implements RFC 7592 §2.3: 204 on success. The token is checked
// against the database's row, not a cache, so a token another process
// just rotated away cannot delete the client.
func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	c, presented, err := h.authorizeManagement(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	gate := tokenGate{Storage: h.Service.Store, presented: presented, next: presented}
	if _, err := gate.UpdateClient(r.Context(), c.WorkspaceID, c.ID, unchanged); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.Service.DeleteClient(r.Context(), c.WorkspaceID, c.ID); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// authorizeManagement checks the registration access token against the
// client's stored hash in constant time and returns the client and the
// hash of the presented token. A missing client, a client not created by
// registration and a wrong token all answer 401 invalid_token (RFC 7592
// §2.1), so the endpoint reveals nothing about which clients exist. The
// client is read through the cache: this check turns wrong tokens away
// without a write; the one that decides is the token gate's, in the
// database (rotation.go).
func (h *Handler) authorizeManagement(r *http.Request) (storage.Client, []byte, error) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	tok, err := bearer(r)
	if err != nil {
		return storage.Client{}, nil, err
	}
	c, err := h.Service.GetClient(ctx, ws.ID, r.PathValue("client_id"))
	if errors.Is(err, service.ErrNotFound) {
		return storage.Client{}, nil, errInvalidToken()
	}
	if err != nil {
		return storage.Client{}, nil, err
	}
	presented := service.HashToken(tok)
	if !holdsToken(c, presented) {
		return storage.Client{}, nil, errInvalidToken()
	}
	return c, presented, nil
}

// bearer returns the bearer token of the Authorization header. A request
// without the header has no credentials at all: oauth2.ErrNoBearerToken,
// answered with the bare challenge of RFC 6750 §3.1, as UserInfo does.
func bearer(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", oauth2.ErrNoBearerToken
	}
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 1024 {
		return "", errInvalidToken()
	}
	return tok, nil
}

// decodeMetadata reads the JSON request body (RFC 7591 §3.1: a JSON
// object). Unknown members are ignored; known ones must have the right
// type.
func decodeMetadata(w http.ResponseWriter, r *http.Request) (metadata, error) {
	var m metadata
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return m, oauth2.NewError(oauth2.ErrInvalidRequest, "request body too large").WithStatus(http.StatusRequestEntityTooLarge)
	}
	if err != nil {
		return m, oauth2.NewError(oauth2.ErrInvalidRequest, "could not read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return m, oauth2.NewError(oauth2.ErrInvalidClientMetadata, "the request body must be a JSON object")
	}
	if err := json.Unmarshal(body, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return m, oauth2.NewError(oauth2.ErrInvalidClientMetadata, memberName(te.Field)+": has the wrong type")
		}
		return m, oauth2.NewError(oauth2.ErrInvalidClientMetadata, "the request body is not valid JSON")
	}
	return m, nil
}

// memberName is the metadata member of a decoding error's field path,
// without the Go names of the structs metadata embeds ("oidcMetadata."),
// which the decoder puts in front of their members.
func memberName(field string) string {
	for {
		first, rest, ok := strings.Cut(field, ".")
		if !ok || !strings.HasSuffix(first, "Metadata") {
			return field
		}
		field = rest
	}
}

// writeError maps errors to RFC 7591 §3.2.2 responses: redirect URI
// problems are invalid_redirect_uri, other validation problems
// invalid_client_metadata, storage failures 503 temporarily_unavailable
// (docs/security.md R5); internal errors are generic. Token failures carry
// the RFC 6750 §3 Bearer challenge with the workspace's issuer as realm,
// and a request without a token only the challenge (§3.1: no error code).
// Every failure but a missing token is logged once, with the request ID.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	realm := endpoint.IssuerFromContext(r.Context())
	if errors.Is(err, oauth2.ErrNoBearerToken) {
		oauth2.WriteBearerError(w, realm, err)
		return
	}
	var ve *service.ValidationError
	switch {
	case errors.As(err, &ve):
		err = validationError(ve)
	case errors.Is(err, service.ErrConflict):
		err = oauth2.NewError(oauth2.ErrInvalidClientMetadata, service.PublicMessage(err))
	case errors.Is(err, service.ErrNotFound), errors.Is(err, storage.ErrNotFound):
		// The client was deleted after the token was checked.
		err = errInvalidToken()
	case errors.Is(err, storage.ErrUnavailable):
		err = endpoint.ErrUnavailable(err)
	}
	e := oauth2.AsError(err)
	endpoint.LogFailure(r.Context(), h.Logger, "registration request failed", e, slog.String("route", r.Pattern))
	if e.Code == oauth2.ErrInvalidToken {
		oauth2.WriteBearerError(w, realm, e)
		return
	}
	oauth2.WriteError(w, e)
}

func validationError(ve *service.ValidationError) error {
	code := oauth2.ErrInvalidClientMetadata
	msgs := make([]string, len(ve.Errors))
	for i, fe := range ve.Errors {
		if strings.HasPrefix(fe.Field, "redirect_uris") {
			code = oauth2.ErrInvalidRedirectURI
		}
		msgs[i] = renameField(fe.Message)
	}
	return oauth2.NewError(code, strings.Join(msgs, "; "))
}

// renameField reports service field names as RFC 7591 metadata names.
func renameField(msg string) string {
	for from, to := range map[string]string{"name:": "client_name:", "scopes[": "scope[", "contact_email:": "contacts[0]:",
		// The client type follows from token_endpoint_auth_method here.
		"type:": "token_endpoint_auth_method:"} {
		if strings.HasPrefix(msg, from) {
			return to + strings.TrimPrefix(msg, from)
		}
	}
	return msg
}
