package authorize

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// RequestURIPrefix starts every request_uri the PAR endpoint issues
// (RFC 9126 §2.2 uses the "urn:ietf:params:oauth:request_uri:" URN).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// PAR lifetimes: RFC 9126 §2.2 suggests 5 to 600 seconds; FAPI 2.0
// Security Profile §5.3.2.2 item 12 requires expires_in below 600 (package
// fapi caps it under the profile).
const (
	DefaultPushedRequestTTL = 60 * time.Second
	MaxPushedRequestTTL     = 600 * time.Second
)

// PAREndpoint is the path of the PAR endpoint under the issuer.
const PAREndpoint = "/oauth2/par"

// Authenticator is client authentication as the token endpoint runs it
// (*clientauth.Authenticator): RFC 9126 §2 has the PAR endpoint accept
// every method the token endpoint accepts.
type Authenticator interface {
	Authenticate(ctx context.Context, r clientauth.Request, remoteIP string) (clientauth.Result, error)
}

// PushedForm are the limits of the PAR endpoint: the authorization
// endpoint's parameters plus client authentication, in a POSTed form
// body only, repeats refused (RFC 9126 §2.1, RFC 6749 §3.1).
var PushedForm = endpoint.FormOptions{
	MaxBody:     64 << 10,
	MaxParams:   100,
	MaxNameLen:  128,
	MaxValueLen: 4 << 10,
	ValueLimits: map[string]int{
		"id_token_hint": 16 << 10, "claims": 16 << 10, "request": 16 << 10, "client_assertion": 16 << 10,
		"authorization_details": 16 << 10, // RFC 9396 §2
	},
}

// clientAuthParams are the client authentication parameters of a pushed
// request: they authenticate the push and are not part of the
// authorization request that is stored.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// parResponse is the RFC 9126 §2.2 success body.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int64  `json:"expires_in"`
}

// PushedRequestTTL is the lifetime of the workspace's request_uri values
// (RFC 9126 §2.2 expires_in): the workspace's setting when set, else
// fallback when in (0, 600 s], else DefaultPushedRequestTTL.
func PushedRequestTTL(ws storage.Workspace, fallback time.Duration) time.Duration {
	for _, d := range []time.Duration{ws.Settings.PushedRequestTTL, fallback} {
		if d > 0 && d <= MaxPushedRequestTTL {
			return d
		}
	}
	return DefaultPushedRequestTTL
}

func (h *Handler) pushedTTL(ws storage.Workspace) time.Duration {
	return PushedRequestTTL(ws, h.PushedRequestTTL)
}

// servePAR is the pushed authorization request endpoint (RFC 9126 §2):
// client authentication as at the token endpoint, then the validation the
// authorization endpoint runs (request objects included), then the
// request is stored, bound to the client, and answered with 201 and a
// one-time request_uri.
func (h *Handler) servePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, _ := endpoint.WorkspaceFromContext(ctx)
	issuer := endpoint.IssuerFromContext(ctx)
	resp, err := h.push(w, r, ws, issuer)
	if err != nil {
		var pe errPage
		e := oauth2.AsError(err)
		if errors.As(err, &pe) {
			e = pe.e
		}
		if !endpoint.Logged(err) { // a client authentication failure, logged by clientauth
			endpoint.LogFailure(ctx, h.Logger, "pushed authorization request failed", e, slog.String("workspace", ws.ID))
		}
		oauth2.WriteError(w, e)
		return
	}
	oauth2.WriteJSON(w, http.StatusCreated, resp)
}

func (h *Handler) push(w http.ResponseWriter, r *http.Request, ws storage.Workspace, issuer string) (*parResponse, error) {
	ctx := r.Context()
	form, err := endpoint.ParseForm(w, r, PushedForm)
	if err != nil {
		return nil, err
	}
	if form.Has("request_uri") {
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "request_uri must not be sent to the pushed authorization request endpoint")
	}
	if h.Auth == nil {
		return nil, oauth2.NewError(oauth2.ErrServerError, "pushed authorization requests are not configured")
	}
	res, err := h.Auth.Authenticate(ctx, clientauth.Request{
		Workspace: ws, Issuer: issuer, TokenEndpoint: endpoint.TokenEndpoint(issuer), Endpoint: issuer + PAREndpoint,
		Form: form, Authorization: r.Header.Get("Authorization"),
	}, endpoint.RemoteIP(r))
	if err != nil {
		return nil, err
	}
	client := res.Client
	if !client.Enabled || client.WorkspaceID != ws.ID {
		return nil, oauth2.NewError(oauth2.ErrInvalidClient, "client authentication failed")
	}
	params := url.Values{}
	for k, vs := range form {
		if !slices.Contains(clientAuthParams, k) {
			params[k] = vs
		}
	}
	// RFC 9126 §2.1: the request is the authenticated client's. A client
	// authenticating with an assertion need not repeat its client_id
	// (RFC 9126 §3: the form then holds only the request object and the
	// client authentication parameters).
	at := origin{pushed: true, atPAR: true}
	switch id := params.Get("client_id"); {
	case id == "":
		params.Set("client_id", client.ID)
		at.authClientID = true
	case id != client.ID:
		return nil, oauth2.NewError(oauth2.ErrInvalidRequest, "client_id is not the authenticated client")
	}
	jkt, err := h.pushedDPoP(w, r, ws, issuer, params) // RFC 9449 §10.1 (dpop.go)
	if err != nil {
		return nil, err
	}
	f := &flow{ws: ws, issuer: issuer}
	v, err := h.validateFrom(ctx, f, params, at)
	if err != nil {
		return nil, err
	}
	if err := bindPushedJKT(v, jkt); err != nil {
		return nil, err
	}
	random := webui.RandomValue()
	now := h.now()
	ttl := h.pushedTTL(ws)
	err = h.Store.CreatePushedRequest(ctx, storage.PushedRequest{
		WorkspaceID: ws.ID, Hash: webui.Hash(random), ClientID: client.ID, Params: v.params,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return &parResponse{RequestURI: RequestURIPrefix + random, ExpiresIn: int64(ttl / time.Second)}, nil
}

// consumePushed spends a request_uri from the PAR endpoint (RFC 9126 §4):
// atomically, once, by the client that pushed it, before it expires. Any
// other request_uri is invalid_request_uri, with the same words whatever
// the reason, so that nothing is learnt about other clients' requests.
func (h *Handler) consumePushed(ctx context.Context, f *flow, client storage.Client, uri string) (url.Values, error) {
	random := strings.TrimPrefix(uri, RequestURIPrefix)
	if random == "" || len(random) > 128 {
		return nil, oauth2.NewError(ErrInvalidRequestURI, "request_uri is invalid, expired or already used")
	}
	p, err := h.Store.ConsumePushedRequest(ctx, f.ws.ID, client.ID, webui.Hash(random), h.now())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, oauth2.NewError(ErrInvalidRequestURI, "request_uri is invalid, expired or already used")
	case err != nil:
		return nil, unavailable(err)
	}
	return url.Values(p.Params), nil
}

// requirePAR refuses a request that did not come through the PAR
// endpoint when the workspace or the client requires it (RFC 9126 §4:
// invalid_request).
func requirePAR(ws storage.Workspace, client storage.Client, at origin) error {
	if at.pushed || !(ws.Settings.RequirePushedAuthorizationRequests || client.RequirePushedAuthorizationRequests) {
		return nil
	}
	return oauth2.NewError(oauth2.ErrInvalidRequest, "authorization requests of this client must be pushed to the pushed authorization request endpoint first (RFC 9126)")
}

// requireSignedRequest refuses a request without a request object signed
// with the client's registered request_object_signing_alg (OIDC
// Registration §2: "All Request Objects from this Client MUST be rejected,
// if not signed with this algorithm"; unsigned requests are refused
// too). A pushed request was checked when it was pushed.
func requireSignedRequest(client storage.Client, at origin) error {
	pin := client.RequestObjectSigningAlg
	if pin == "" || at.signed == pin || (at.pushed && at.signed == "" && !at.atPAR) {
		return nil
	}
	return oauth2.NewError(ErrInvalidRequestObject, "this client must send its authorization requests as request objects signed with "+pin)
}

// checkRequirements enforces the workspace's and the client's
// requirements on how requests arrive: pushed (RFC 9126 §4) and signed
// (RFC 9101 §10.2 via request_object_signing_alg).
func checkRequirements(f *flow, v *validated, at origin) error {
	// FAPI 2.0 Security Profile §5.3.2.2 and Message Signing §5.3.1, §5.4.1
	// (package fapi), when the workspace runs under a profile.
	if err := fapi.CheckAuthorization(f.ws, fapi.AuthorizationRequest{
		Pushed: at.pushed, AtPAR: at.atPAR, SignedAlg: at.signed, Params: v.params,
		JWTResponseMode: isJWTMode(v.req.ResponseMode),
	}); err != nil {
		return err
	}
	if err := requirePAR(f.ws, v.client, at); err != nil {
		return err
	}
	return requireSignedRequest(v.client, at)
}
