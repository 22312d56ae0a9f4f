package discovery

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultMaxAge is the Cache-Control max-age of the documents: half of
// the signing manager's default PublishLead of 10 minutes.
const DefaultMaxAge = 5 * time.Minute

// JWKSSource returns the JWKS document of a workspace (cached bytes).
// *signing.Manager implements it.
type JWKSSource interface {
	JWKS(ctx context.Context, wsID string) ([]byte, error)
}

// ScopeStore is what the documents need from storage: the workspace and
// its scopes (scopes_supported).
type ScopeStore interface {
	endpoint.WorkspaceStore
	ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error)
}

// The production implementations.
var (
	_ JWKSSource = (*signing.Manager)(nil)
	_ ScopeStore = storage.Storage(nil)
)

// Handler serves discovery and JWKS for every workspace.
type Handler struct {
	Store   ScopeStore // the cached store
	Keys    JWKSSource
	BaseURL string
	Logger  *slog.Logger
	// GrantTypes lists the grant types the token endpoint accepts
	// (grants.Supported in the server), so what is advertised is what is
	// accepted (SECURITY.md P1); nil advertises none.
	GrantTypes func() []string
	// NoRegistration omits registration_endpoint, for a server that does
	// not mount dynamic client registration.
	NoRegistration bool
	// ServiceDocumentation is an optional URL of human documentation.
	ServiceDocumentation string
	// EncryptionKeys publishes each workspace's request object encryption
	// key in its JWKS (signedrequests.go); nil: encrypted request objects
	// are not advertised.
	EncryptionKeys EncryptionKeySource
	// DPoPAlgs are the DPoP proof algorithms the token endpoint and
	// UserInfo accept (dpop.Verifier.SupportedAlgs), advertised as
	// dpop_signing_alg_values_supported (RFC 9449 §5.1); nil: DPoP is
	// not supported and the member is omitted.
	DPoPAlgs []string
	// MTLS is set when clients can authenticate with TLS client
	// certificates (RFC 8705, mtls.go); nil: the mTLS methods are not
	// advertised.
	MTLS *MTLS
	// MaxAge is the Cache-Control max-age; 0 means DefaultMaxAge. Keep it
	// at most PublishLead/2 (package documentation).
	MaxAge time.Duration
	// StatusLists advertises the Token Status List aggregation endpoint
	// (status_list_aggregation_endpoint) when the server publishes lists.
	StatusLists bool
}

// Mount registers the three GET endpoints behind workspace resolution.
func (h *Handler) Mount(mux *http.ServeMux) {
	workspaces := endpoint.Workspaces{Store: h.Store, BaseURL: h.BaseURL, Logger: h.Logger}
	metadata := workspaces.Resolve(h.serveMetadata, endpoint.WriteJSONError)
	mux.Handle("GET /w/{ws}/.well-known/openid-configuration", metadata)
	mux.Handle("GET /.well-known/oauth-authorization-server/w/{ws}", metadata)
	mux.Handle("GET /w/{ws}/oauth2/jwks", workspaces.Resolve(h.serveJWKS, endpoint.WriteJSONError))
}

// Metadata is the authorization server metadata document (RFC 8414 §2,
// OpenID Connect Discovery 1.0 §3), in RFC 8414 member order.
type Metadata struct {
	Issuer                                             string   `json:"issuer"`
	TokenEndpoint                                      string   `json:"token_endpoint"`
	JWKSURI                                            string   `json:"jwks_uri"`
	RegistrationEndpoint                               string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                                    []string `json:"scopes_supported"`
	ResponseTypesSupported                             []string `json:"response_types_supported"`
	GrantTypesSupported                                []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported                  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	ServiceDocumentation                               string   `json:"service_documentation,omitempty"`
	RevocationEndpoint                                 string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported             []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpoint                              string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	// DeviceAuthorizationEndpoint is RFC 8628 §4 (package device).
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// Backchannel authentication: OpenID Connect CIBA Core 1.0 §4
	// (package ciba). No signed requests, so no
	// backchannel_authentication_request_signing_alg_values_supported.
	BackchannelAuthenticationEndpoint      string   `json:"backchannel_authentication_endpoint,omitempty"`
	BackchannelTokenDeliveryModesSupported []string `json:"backchannel_token_delivery_modes_supported,omitempty"`
	BackchannelUserCodeParameterSupported  *bool    `json:"backchannel_user_code_parameter_supported,omitempty"`
	// DPoPSigningAlgValuesSupported is RFC 9449 §5.1.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// StatusListAggregationEndpoint lists the Token Status Lists of the
	// workspace (draft-ietf-oauth-status-list §9; package statuslist).
	StatusListAggregationEndpoint string `json:"status_list_aggregation_endpoint,omitempty"`

	// Authorization code flow and OpenID Connect (OpenID Connect
	// Discovery 1.0 §3, RFC 9207 §3, RFC 7636 §6.2).
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	UserInfoEndpoint                           string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	UILocalesSupported                         []string `json:"ui_locales_supported"`

	// Logout channels: OpenID Connect Back-Channel Logout 1.0 §2.1 and
	// Front-Channel Logout 1.0 §3 (package logoutchannel).
	BackchannelLogoutSupported         bool `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported  bool `json:"backchannel_logout_session_supported,omitempty"`
	FrontchannelLogoutSupported        bool `json:"frontchannel_logout_supported,omitempty"`
	FrontchannelLogoutSessionSupported bool `json:"frontchannel_logout_session_supported,omitempty"`

	// Pushed and signed authorization requests and responses
	// (signedrequests.go).
	SignedRequestsMetadata

	// Mutual TLS (RFC 8705, mtls.go).
	MTLSMetadata

	// AuthorizationDetailsTypesSupported is RFC 9396 §10: the union of
	// the types the workspace's services declare (authzdetails.go).
	AuthorizationDetailsTypesSupported []string `json:"authorization_details_types_supported,omitempty"`

	// RequireSignedRequestObject is RFC 9101 §10.5, true under FAPI 2.0
	// Message Signing (fapi.go).
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`
}

func (h *Handler) serveMetadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	md, err := h.Build(ctx, ws)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := json.Marshal(md)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.write(w, "application/json", body)
}

// Build assembles the metadata document of ws from the sources that gate
// behaviour (package documentation).
func (h *Handler) Build(ctx context.Context, ws storage.Workspace) (Metadata, error) {
	scopes, err := h.scopeNames(ctx, ws.ID)
	if err != nil {
		return Metadata{}, err
	}
	issuer := endpoint.Issuer(h.BaseURL, ws.ID)
	methods := AuthMethods(ws)
	algs := AuthSigningAlgs(methods)
	md := Metadata{
		Issuer:                            issuer,
		TokenEndpoint:                     endpoint.TokenEndpoint(issuer),
		JWKSURI:                           issuer + "/oauth2/jwks",
		ScopesSupported:                   scopes,
		ResponseTypesSupported:            []string{},
		GrantTypesSupported:               h.grantTypes(),
		TokenEndpointAuthMethodsSupported: methods,
		TokenEndpointAuthSigningAlgValuesSupported:         algs,
		ServiceDocumentation:                               h.ServiceDocumentation,
		RevocationEndpoint:                                 issuer + "/oauth2/revoke",
		RevocationEndpointAuthMethodsSupported:             methods,
		RevocationEndpointAuthSigningAlgValuesSupported:    algs,
		IntrospectionEndpoint:                              issuer + "/oauth2/introspect",
		IntrospectionEndpointAuthMethodsSupported:          withoutNone(methods),
		IntrospectionEndpointAuthSigningAlgValuesSupported: algs,
		DeviceAuthorizationEndpoint:                        issuer + "/oauth2/device_authorization",
	}
	addCIBA(&md, issuer)
	if !h.NoRegistration {
		md.RegistrationEndpoint = issuer + "/oauth2/register"
	}
	md.DPoPSigningAlgValuesSupported = h.DPoPAlgs
	if h.StatusLists {
		md.StatusListAggregationEndpoint = issuer + "/statuslists"
	}
	addAuthorizationFlow(&md, ws)
	h.addRequestObjectEncryption(&md)
	h.addMTLS(&md, ws.ID) // RFC 8705 §3.3, §5 (mtls.go)
	// RFC 9396 §10 (authzdetails.go).
	if err := h.addAuthorizationDetails(ctx, &md, ws.ID); err != nil {
		return Metadata{}, err
	}
	addFAPI(&md, ws) // FAPI 2.0 profiles narrow the lists (fapi.go)
	return md, nil
}

func (h *Handler) scopeNames(ctx context.Context, wsID string) ([]string, error) {
	refs, err := h.Store.ListScopes(ctx, wsID)
	if err != nil {
		return nil, endpoint.ErrUnavailable(err)
	}
	names := make([]string, 0, len(refs)+len(oidc.StandardScopes))
	names = append(names, oidc.StandardScopes...)
	for _, ref := range refs {
		names = append(names, ref.Name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func (h *Handler) grantTypes() []string {
	if h.GrantTypes != nil {
		return h.GrantTypes()
	}
	return []string{}
}

// AuthMethods are the token endpoint auth methods of ws: its
// AllowedAuthMethods restricted to the ones Latchkey implements, in
// oauth2.AllAuthMethods order, or all of them when the workspace sets none.
// The same client authentication guards token, introspection and
// revocation (SECURITY.md B11), so all three endpoints advertise this list.
func AuthMethods(ws storage.Workspace) []string {
	if len(ws.Settings.AllowedAuthMethods) == 0 {
		return slices.Clone(oauth2.AllAuthMethods)
	}
	out := []string{}
	for _, m := range oauth2.AllAuthMethods {
		if slices.Contains(ws.Settings.AllowedAuthMethods, m) {
			out = append(out, m)
		}
	}
	return out
}

// AuthSigningAlgs are the client assertion algorithms accepted for the
// given methods: the asymmetric allowlist for private_key_jwt, the HMAC one
// for client_secret_jwt, nil when neither is offered (RFC 8414 §2: the
// member is then omitted). "none" is never listed.
func AuthSigningAlgs(methods []string) []string {
	var algs []string
	if slices.Contains(methods, oauth2.AuthPrivateKeyJWT) {
		algs = append(algs, oauth2.AsymmetricVerifyAlgs...)
	}
	if slices.Contains(methods, oauth2.AuthClientSecretJWT) {
		algs = append(algs, oauth2.HMACVerifyAlgs...)
	}
	return algs
}

func (h *Handler) serveJWKS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	body, err := h.Keys.JWKS(ctx, ws.ID)
	if err == nil {
		body, err = h.withEncryptionKey(ctx, ws.ID, body)
	}
	if err != nil {
		h.fail(w, r, endpoint.ErrUnavailable(err))
		return
	}
	// RFC 7517 §8.5.1 media type.
	h.write(w, "application/jwk-set+json", body)
}

func (h *Handler) write(w http.ResponseWriter, contentType string, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(h.maxAge()/time.Second)))
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (h *Handler) maxAge() time.Duration {
	if h.MaxAge > 0 {
		return h.MaxAge
	}
	return DefaultMaxAge
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := oauth2.AsError(err)
	endpoint.LogFailure(r.Context(), h.Logger, "discovery request failed", e,
		slog.String("workspace", r.PathValue("ws")))
	oauth2.WriteError(w, e)
}

// withoutNone is methods without "none": the introspection endpoint
// refuses public clients (RFC 7662 §2.1), so discovery does not offer it.
func withoutNone(methods []string) []string {
	return slices.DeleteFunc(slices.Clone(methods), func(m string) bool { return m == oauth2.AuthNone })
}
