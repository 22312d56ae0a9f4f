package grants

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// clientCredentialsStore is what the client credentials grant reads: the
// workspace's scopes and the client's service user.
type clientCredentialsStore interface {
	scopeStore
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
}

// clientCredentialsRequest is the client credentials grant's parameters
// (RFC 6749 §4.4.2): scope, and resource (RFC 8707 §2).
type clientCredentialsRequest struct {
	scopeParams
}

func parseClientCredentials(_ *request, form url.Values) (clientCredentialsRequest, error) {
	p, err := parseScopeParams(form)
	return clientCredentialsRequest{p}, err
}

// clientCredentials implements the client credentials grant (RFC 6749
// §4.4): a confidential client obtains an RFC 9068 JWT access token for
// itself. The path reads only cached data and signs in memory: no database
// write (docs/benchmarks.md).
//
// sub is the client_id, as RFC 9068 §2.2 prescribes for tokens issued to
// a client on its own behalf, and no extra claim is invented; a client that
// names a service user gets that user as sub instead. User and client IDs
// of a workspace are disjoint (the service refuses a collision at
// creation, SECURITY.md J4), so a user token never passes for a client's
// own token: sub == client_id only on client tokens.
func (h *Handler) clientCredentials(ctx context.Context, req *request, p clientCredentialsRequest) (*tokenResponse, error) {
	// RFC 6749 §4.4: "MUST only be used by confidential clients"
	// (SECURITY.md D6).
	if req.client.Type != oauth2.ClientConfidential || req.authMethod == oauth2.AuthNone {
		return nil, oauth2.NewError(oauth2.ErrUnauthorizedClient, "client_credentials is only available to confidential clients")
	}
	grant, subject, err := h.clientCredentialsGrant(ctx, req, p)
	if err != nil {
		return nil, err
	}
	return h.issueAccessToken(ctx, req, grant, subject, h.claimsUser(ctx, req))
}

// claimsUser is the user claim mappings see at client_credentials: the
// client's service user, or no user (read through the cache, as for the
// machine policy).
func (h *Handler) claimsUser(ctx context.Context, req *request) storage.User {
	return h.clientUser(ctx, req)
}

// clientCredentialsGrant resolves the scopes and subject and runs the
// policies: everything but minting, which the what-if tool shares.
func (h *Handler) clientCredentialsGrant(ctx context.Context, req *request, p clientCredentialsRequest) (scopeGrant, string, error) {
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return scopeGrant{}, "", err
	}
	grant, err := resolveScopes(req.client, catalog, p.scopeParams, req.issuer)
	if err != nil {
		return scopeGrant{}, "", err
	}
	subject, err := h.serviceUserSubject(ctx, req)
	if err != nil {
		return scopeGrant{}, "", err
	}
	req.resources = p.resources
	if err := h.checkMachinePolicy(ctx, req, grant); err != nil {
		return scopeGrant{}, "", err
	}
	if err := h.checkAccessPolicies(ctx, req, h.clientUser(ctx, req), grant); err != nil {
		return scopeGrant{}, "", err
	}
	return grant, subject, nil
}

// serviceUserSubject is the sub of a client_credentials token: the client
// itself, or the service user the client names, in the client's subject
// format like every user token;
// client_id still names the client. The user must exist, be active and be
// a service user, checked on every request so disabling it takes effect.
func (h *Handler) serviceUserSubject(ctx context.Context, req *request) (string, error) {
	id := req.client.ServiceUserID
	if id == "" {
		return req.client.ID, nil
	}
	u, err := h.Store.GetUser(ctx, req.ws.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client's service user does not exist")
	case err != nil:
		return "", errUnavailable(err)
	case !u.Active || !u.ServiceUser:
		return "", oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client's service user is disabled or not a service user")
	}
	return h.userSubject(ctx, req.client, u)
}

// issueAccessToken mints the access token. No refresh token is issued
// (RFC 6749 §4.4.3 "SHOULD NOT", SECURITY.md D6).
func (h *Handler) issueAccessToken(ctx context.Context, req *request, grant scopeGrant, subject string, user storage.User) (*tokenResponse, error) {
	set, err := h.mappedClaims(ctx, req, user, grant)
	if err != nil {
		return nil, err
	}
	var signer signing.Signer
	if !req.client.OpaqueAccessTokens() {
		if signer, err = h.Keys.Signer(ctx, req.ws.ID); err != nil {
			return nil, errUnavailable(err)
		}
	}
	// Whole seconds, so that exp - iat equals expires_in exactly.
	now := h.now().Truncate(time.Second)
	ttl := h.accessTokenTTL(req.ws, req.client)
	scope := strings.Join(grant.scopes, " ")
	raw, err := h.mintAccessToken(ctx, req, signer, withMappedClaims(h.machineAccessToken(req, grant, subject, now, ttl), req.client, set))
	if err != nil {
		return nil, err
	}
	return &tokenResponse{
		AccessToken: raw,
		TokenType:   "Bearer",
		ExpiresIn:   int64(ttl / time.Second),
		Scope:       scope,
	}, nil
}

// machineAccessToken is the content of a client_credentials access
// token; the what-if tool shows the same.
func (h *Handler) machineAccessToken(req *request, grant scopeGrant, subject string, now time.Time, ttl time.Duration) tokens.AccessToken {
	return tokens.AccessToken{
		Issuer:    req.issuer,
		Subject:   subject,
		ClientID:  req.client.ID,
		Scope:     strings.Join(grant.scopes, " "),
		JTI:       tokens.NewJTI(),
		Audience:  grant.audience,
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
	}
}

// accessTokenTTL resolves the lifetime: client override, then workspace
// setting, then server default.
func (h *Handler) accessTokenTTL(ws storage.Workspace, c storage.Client) time.Duration {
	for _, ttl := range []time.Duration{c.AccessTokenTTL, ws.Settings.AccessTokenTTL, h.Defaults.AccessTokenTTL} {
		if ttl >= time.Second {
			return ttl
		}
	}
	return DefaultAccessTokenTTL
}
