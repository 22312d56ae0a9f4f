package grants

import (
	"context"
	"errors"
	"strings"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxSubjectLength bounds a subject or mapped claim before it reaches storage.
const maxSubjectLength = 512

// mapSubject finds the user the assertion speaks for (SECURITY.md C8): for the client's own assertions by the client's user
// field; for a trusted issuer by its fixed service user or its claim
// mapping, which may only name a service user. The user must
// exist in this workspace and be active (C3).
func (h *Handler) mapSubject(ctx context.Context, req *request, src assertionSource, tok *jwtx.Token) (storage.User, error) {
	var (
		user storage.User
		err  error
	)
	if src.issuer == nil {
		user, err = h.userByField(ctx, req.ws.ID, userField(req.client), subjectOf(tok))
	} else {
		user, err = h.issuerUser(ctx, req.ws.ID, src.issuer, tok)
	}
	if err != nil {
		return storage.User{}, err
	}
	if !user.Active {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "user is disabled")
	}
	if src.issuer != nil && !user.ServiceUser {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "the mapped user is not a service user")
	}
	return user, nil
}

func userField(c storage.Client) string {
	if c.JWTBearer != nil && c.JWTBearer.UserField != "" {
		return c.JWTBearer.UserField
	}
	return storage.UserFieldUsername
}

// userByField looks a user up by one of its unique fields.
func (h *Handler) userByField(ctx context.Context, wsID, field, value string) (storage.User, error) {
	if value == "" || len(value) > maxSubjectLength {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "no user matches the assertion subject")
	}
	var (
		u   storage.User
		err error
	)
	switch field {
	case storage.UserFieldEmail:
		u, err = h.Store.GetUserByEmail(ctx, wsID, value)
	case storage.UserFieldUserID:
		u, err = h.Store.GetUser(ctx, wsID, value)
	case storage.UserFieldExternalID:
		u, err = h.Store.GetUserByExternalID(ctx, wsID, value)
	default:
		u, err = h.Store.GetUserByUsername(ctx, wsID, value)
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "no user matches the assertion subject by "+field)
	case err != nil:
		return storage.User{}, errUnavailable(err)
	}
	return u, nil
}

// issuerUser applies a trusted issuer's identity mapping.
func (h *Handler) issuerUser(ctx context.Context, wsID string, ti *storage.TrustedIssuer, tok *jwtx.Token) (storage.User, error) {
	if ti.ServiceUserID != "" {
		return h.userByField(ctx, wsID, storage.UserFieldUserID, ti.ServiceUserID)
	}
	value := stringClaim(tok, ti.Claim)
	if ti.Claim == "" || value == "" {
		return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "assertion has no "+describable(ti.Claim)+" claim")
	}
	switch ti.ClaimFormat {
	case storage.ClaimFormatEmail:
		return h.userByField(ctx, wsID, storage.UserFieldEmail, value)
	case storage.ClaimFormatTenantUsername:
		tenant, username, ok := strings.Cut(value, "||")
		if !ok || tenant == "" || username == "" {
			return storage.User{}, oauth2.NewError(oauth2.ErrInvalidGrant, "claim "+describable(ti.Claim)+" is not in the form tenant||username")
		}
		return h.userByField(ctx, wsID, storage.UserFieldUsername, username)
	default:
		return h.userByField(ctx, wsID, storage.UserFieldUsername, value)
	}
}

// preAuthorizations caches each client version's compiled
// pre-authorization. It belongs to the package, not to a Handler, because
// preAuthorized serves both the JWT bearer grant and the refresh of its
// token families; the programs depend on the client's settings only.
var preAuthorizations policy.PreAuthEngine

// preAuthorized applies the client's pre-authorization
// (docs/security.md R1): everyone only under an explicit "all users may
// self-authorize"; otherwise, and by default (no settings, or no
// pre_auth), only the listed users and members of the listed profiles, so
// a client nobody approved issues no user tokens. The settings are the
// "profiles" policy template (policy.PreAuthorizationOf), and this
// evaluates that template's rules, compiled once per client version.
func preAuthorized(c storage.Client, u storage.User) error {
	return preAuthorizedCtx(context.Background(), c, u)
}

// preAuthorizedCtx is preAuthorized bounded by ctx as well as by the
// policy evaluation deadline. Any refusal, a failed evaluation included
// (fail closed, Z8), is the one error the grant has always given.
func preAuthorizedCtx(ctx context.Context, c storage.Client, u storage.User) error {
	d := preAuthorizations.Check(ctx, c, u)
	switch {
	case d.Allow:
		return nil
	case d.Err != nil:
		return oauth2.Wrap(oauth2.ErrInvalidGrant, policy.PreAuthDenyMessage, d.Err)
	}
	return errNotPreAuthorized
}

var errNotPreAuthorized = oauth2.NewError(oauth2.ErrInvalidGrant, policy.PreAuthDenyMessage)
