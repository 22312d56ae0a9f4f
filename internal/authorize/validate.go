package authorize

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// Response modes (OAuth 2.0 Multiple Response Types §2.1, Form Post
// Response Mode §2).
const (
	ModeQuery    = "query"
	ModeFragment = "fragment"
	ModeFormPost = "form_post"
)

// ResponseModes are the supported response modes, as discovery lists them:
// the plain ones and JARM's (jarm.go).
var ResponseModes = []string{ModeQuery, ModeFragment, ModeFormPost, ModeJWT, ModeQueryJWT, ModeFragmentJWT, ModeFormPostJWT}

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// ErrorCodes of the authorization endpoint that oauth2 does not define.
const (
	ErrUnsupportedResponseType oauth2.ErrorCode = "unsupported_response_type"
	ErrLoginRequired           oauth2.ErrorCode = "login_required"
	ErrConsentRequired         oauth2.ErrorCode = "consent_required"
	ErrRequestNotSupported     oauth2.ErrorCode = "request_not_supported"
	ErrRequestURINotSupported  oauth2.ErrorCode = "request_uri_not_supported"
)

// challengePattern is an S256 code_challenge: base64url of 32 bytes
// (RFC 7636 §4.2, SECURITY.md F3).
var challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// validated is a request whose client and redirect URI are trusted; req is
// filled as far as validation got, so errors can be redirected.
type validated struct {
	client storage.Client
	req    storage.AuthRequest
	// params are the parameters validated: the request's own, or those of
	// its request object or pushed request (jar.go, par.go).
	params url.Values
}

// validate checks an authorization request. Until the redirect URI is
// trusted it returns (nil, errPage); afterwards (v, err) with v usable for
// an error redirect.
func (h *Handler) validate(ctx context.Context, f *flow, p url.Values) (*validated, error) {
	return h.validateFrom(ctx, f, p, origin{})
}

// validateFrom is validate for a request that came as at says (the
// authorization endpoint, or the PAR endpoint).
func (h *Handler) validateFrom(ctx context.Context, f *flow, p url.Values, at origin) (*validated, error) {
	p, at, fallback, err := h.assemble(ctx, f, p, at)
	if err != nil {
		return fallback, err
	}
	client, redirectURI, err := h.trustedClient(ctx, f.ws.ID, p)
	if err != nil {
		return nil, err
	}
	now := h.now()
	v := &validated{client: client, req: storage.AuthRequest{
		WorkspaceID: f.ws.ID, ID: webui.RandomValue(), ClientID: client.ID, RedirectURI: redirectURI,
		ResponseMode: responseMode(p), MaxAge: -1, CreatedAt: now, ExpiresAt: now.Add(h.requestTTL()),
	}, params: p}
	v.req.State, _ = single(p, "state")
	if err := checkRequirements(f, v, at); err != nil {
		return v, err
	}
	steps := []func(context.Context, *flow, url.Values, *validated) error{
		checkBasics, h.checkScopes, checkPKCE, checkPrompt, checkClaims, h.checkHint, checkResources,
		checkDPoPJKT, // RFC 9449 §10 (dpop.go)
		// RFC 9396 §2, §5 (authzdetails.go)
		h.checkAuthorizationDetails,
	}
	for _, step := range steps {
		if err := step(ctx, f, p, v); err != nil {
			return v, err
		}
	}
	return v, nil
}

// trustedClient resolves client_id and redirect_uri (E1, E2, E4): any
// failure here is shown on the error page.
func (h *Handler) trustedClient(ctx context.Context, wsID string, p url.Values) (storage.Client, string, error) {
	id, ok := single(p, "client_id")
	if !ok || id == "" || len(id) > 255 {
		return storage.Client{}, "", pageError(oauth2.ErrInvalidRequest, "client_id is missing or invalid")
	}
	client, err := h.Store.GetClient(ctx, wsID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && !client.Enabled):
		return storage.Client{}, "", pageError(oauth2.ErrInvalidRequest, "unknown client")
	case err != nil:
		return storage.Client{}, "", errPage{oauth2.AsError(unavailable(err))}
	}
	uri, ok := single(p, "redirect_uri")
	if !p.Has("redirect_uri") && carriesRequestObject(p) && len(client.RedirectURIs) == 1 {
		// The redirect_uri may sit inside a request object Latchkey cannot
		// read yet. With a single registered URI the redirect is safe
		// (RFC 6749 §3.1.2.3), so the client learns request_not_supported
		// or request_uri_not_supported instead of an error page.
		uri, ok = client.RedirectURIs[0], true
	}
	if !ok || uri == "" {
		return storage.Client{}, "", pageError(oauth2.ErrInvalidRequest, "redirect_uri is missing or repeated")
	}
	if !MatchRedirectURI(client.RedirectURIs, uri) {
		return storage.Client{}, "", pageError(oauth2.ErrInvalidRequest, "redirect_uri is not registered for the client")
	}
	return client, uri, nil
}

// carriesRequestObject reports a request passed by value or by reference
// (RFC 9101 §5).
func carriesRequestObject(p url.Values) bool {
	return p.Has("request") || p.Has("request_uri")
}

// responseMode picks the mode used for the response, including error
// responses: an unknown mode is refused later but answered in the default.
func responseMode(p url.Values) string {
	m, ok := single(p, "response_mode")
	if ok && m == ModeJWT {
		// JARM §2.3.4: "jwt" is the default JWT mode of the response
		// type, query.jwt for code.
		return ModeQueryJWT
	}
	if ok && slices.Contains(ResponseModes, m) {
		return m
	}
	return ModeQuery
}

// checkBasics: repeated or oversized parameters, request objects,
// response_type and the client's grant (RFC 6749 §4.1.2.1, E5, E7, E9).
func checkBasics(_ context.Context, _ *flow, p url.Values, v *validated) error {
	if err := checkParams(p); err != nil {
		return err
	}
	switch {
	case p.Has("request"):
		return oauth2.NewError(ErrRequestNotSupported, "request objects are not supported")
	case p.Has("request_uri"):
		return oauth2.NewError(ErrRequestURINotSupported, "request_uri is not supported")
	}
	switch rt := p.Get("response_type"); {
	case rt == "":
		return oauth2.NewError(oauth2.ErrInvalidRequest, "response_type is required")
	case rt != "code":
		return oauth2.NewError(ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if !slices.Contains(v.client.GrantTypes, oauth2.GrantAuthorizationCode) {
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client may not use the authorization code flow")
	}
	if m := p.Get("response_mode"); m != "" && !slices.Contains(ResponseModes, m) {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "response_mode is not supported")
	}
	v.req.Nonce, v.req.LoginHint = p.Get("nonce"), p.Get("login_hint")
	v.req.UILocales, v.req.ACRValues = splitSpaces(p.Get("ui_locales")), splitSpaces(p.Get("acr_values"))
	return nil
}

// checkScopes: every requested scope must be a standard OpenID scope or a
// scope of the workspace allowed to the client (E5 invalid_scope).
// offline_access is dropped when the client may not use refresh tokens
// (OIDC Core §11: the OP ignores what it will not grant).
func (h *Handler) checkScopes(ctx context.Context, f *flow, p url.Values, v *validated) error {
	catalog, err := storage.IndexScopes(ctx, h.Store, f.ws.ID)
	if err != nil {
		return unavailable(err)
	}
	for _, s := range splitSpaces(p.Get("scope")) {
		switch {
		case !isScopeToken(s):
			return oauth2.NewError(oauth2.ErrInvalidScope, "scope contains invalid characters")
		case s == oidc.ScopeOfflineAccess && !slices.Contains(v.client.GrantTypes, oauth2.GrantRefreshToken):
			continue
		case slices.Contains(oidc.StandardScopes, s):
		case !catalog.Has(s) || !slices.Contains(v.client.Scopes, s):
			return oauth2.NewError(oauth2.ErrInvalidScope, "a requested scope is not allowed for this client")
		}
		if !slices.Contains(v.req.Scopes, s) {
			v.req.Scopes = append(v.req.Scopes, s)
		}
	}
	return nil
}

func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// checkPKCE: S256 only (F2), a well-formed challenge (F3), required for
// public clients and clients requiring it (F1).
func checkPKCE(_ context.Context, _ *flow, p url.Values, v *validated) error {
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	if challenge == "" {
		if method != "" {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "code_challenge_method without code_challenge")
		}
		if v.client.Type == oauth2.ClientPublic || v.client.PKCERequired() {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "code_challenge is required (PKCE, S256)")
		}
		return nil
	}
	if method != "S256" {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "code_challenge_method must be S256")
	}
	if !challengePattern.MatchString(challenge) {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "code_challenge is malformed")
	}
	v.req.CodeChallenge = challenge
	return nil
}

// checkPrompt: prompt values and max_age (OIDC Core §3.1.2.1).
func checkPrompt(_ context.Context, _ *flow, p url.Values, v *validated) error {
	prompts := splitSpaces(p.Get("prompt"))
	for _, pr := range prompts {
		if !slices.Contains([]string{PromptNone, PromptLogin, PromptConsent, PromptSelectAccount}, pr) {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "prompt has an unsupported value")
		}
	}
	if slices.Contains(prompts, PromptNone) && len(prompts) > 1 {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "prompt=none cannot be combined with other values")
	}
	v.req.Prompt = prompts
	if raw := p.Get("max_age"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return oauth2.NewError(oauth2.ErrInvalidRequest, "max_age must be a non-negative integer")
		}
		v.req.MaxAge = n
	}
	return nil
}

// checkClaims validates the claims parameter (OIDC Core §5.5).
func checkClaims(_ context.Context, _ *flow, p url.Values, v *validated) error {
	cr, err := oidc.ParseClaims(p.Get("claims"))
	if err != nil {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "the claims parameter is invalid")
	}
	v.req.Claims = cr.Encode()
	return nil
}

// checkHint verifies id_token_hint (an ID token we issued, expired or not)
// and keeps its sub for the session check.
func (h *Handler) checkHint(ctx context.Context, f *flow, p url.Values, v *validated) error {
	raw := p.Get("id_token_hint")
	if raw == "" {
		return nil
	}
	keys, err := h.Keys.PublicKeys(ctx, f.ws.ID)
	if err != nil {
		return unavailable(err)
	}
	hint, err := oidc.VerifyHint(raw, keys, f.issuer)
	if err != nil || !slices.Contains(hint.Audience, v.client.ID) {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "id_token_hint is invalid")
	}
	v.req.HintSubject = hint.Subject
	return nil
}

func splitSpaces(s string) []string { return strings.Fields(s) }
