package grants

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// scopeStore is what the scope and audience policy reads: the scopes of
// the workspace with the service that defines each.
type scopeStore interface {
	ListScopes(ctx context.Context, workspaceID string) ([]storage.ScopeRef, error)
}

// scopeParams are the scope (RFC 6749 §3.3) and resource (RFC 8707 §2)
// parameters of a request, syntax checked; whether they name anything of
// the workspace is resolveScopes' business.
type scopeParams struct {
	// scopes are the requested scope tokens without duplicates; nil when
	// the parameter is absent or empty, which means "the default".
	scopes []string
	// resources are absolute URIs without fragment, in request order
	// without duplicates.
	resources []string
}

// parseScopeParams reads the scope and resource parameters: invalid_target
// for a resource that is not an absolute URI without fragment,
// invalid_scope for a character outside scope-token.
func parseScopeParams(form url.Values) (scopeParams, error) {
	resources, err := parseResources(form["resource"])
	if err != nil {
		return scopeParams{}, err
	}
	scopes, err := parseScopeParam(form.Get("scope"))
	if err != nil {
		return scopeParams{}, err
	}
	return scopeParams{scopes: scopes, resources: resources}, nil
}

// scopeGrant is what a client_credentials request is granted: the scopes
// and the audience of the access token.
type scopeGrant struct {
	scopes   []string
	audience []string
}

// resolveScopes applies the scope and audience policy of client_credentials
// and the JWT bearer grant to the parsed parameters:
//
//   - requested scopes (RFC 6749 §3.3) must be allowed to the client and
//     exist in the workspace (SECURITY.md D7 → invalid_scope naming the
//     scope); without "scope" the client gets every scope it is allowed;
//   - each "resource" (RFC 8707 §2) must name a service of the workspace
//     (else invalid_target); resources
//     narrow the granted scopes to those services' scopes, and each
//     resource must keep at least one granted scope, so aud and scope of
//     the token always agree;
//   - without "resource", the audience is the services owning the granted
//     scopes (RFC 9700 §2.3 audience restriction, SECURITY.md Q5).
//
// When no scope is granted at all the audience is the workspace issuer:
// RFC 9068 §2.2 makes aud REQUIRED, and the issuer is an audience no
// resource server claims, so the token authorizes nothing anywhere except
// being introspected, which is exactly what a scope-less token is worth.
func resolveScopes(client storage.Client, catalog *storage.ScopeIndex, p scopeParams, issuer string) (scopeGrant, error) {
	for _, res := range p.resources {
		if !catalog.HasService(res) {
			return scopeGrant{}, oauth2.NewError(oauth2.ErrInvalidTarget, "resource "+describable(res)+" is not a service of this workspace")
		}
	}
	scopes, err := grantedScopes(client, catalog, p.resources, p.scopes)
	if err != nil {
		return scopeGrant{}, err
	}
	audience, err := audienceOf(scopes, catalog, p.resources, issuer)
	if err != nil {
		return scopeGrant{}, err
	}
	return scopeGrant{scopes: scopes, audience: audience}, nil
}

// parseResources checks the syntax of the RFC 8707 resource parameters,
// returning them in request order without duplicates.
func parseResources(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		if !isAbsoluteURIWithoutFragment(v) {
			return nil, oauth2.NewError(oauth2.ErrInvalidTarget, "resource must be an absolute URI without a fragment")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// isAbsoluteURIWithoutFragment is the RFC 8707 §2 syntax rule: "MUST be an
// absolute URI ... MUST NOT include a fragment component".
func isAbsoluteURIWithoutFragment(v string) bool {
	if strings.ContainsRune(v, '#') {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && (u.Host != "" || u.Opaque != "")
}

// grantedScopes returns the sorted scopes to grant; requested nil means
// the default.
func grantedScopes(client storage.Client, catalog *storage.ScopeIndex, resources, requested []string) ([]string, error) {
	if requested == nil {
		return defaultScopes(client, catalog, resources), nil
	}
	for _, s := range requested {
		if err := checkRequestedScope(s, client, catalog, resources); err != nil {
			return nil, err
		}
	}
	slices.Sort(requested)
	return requested, nil
}

// defaultScopes is every scope the client is allowed that still exists in
// the workspace (a client may keep a scope name whose service was deleted),
// narrowed to the requested resources.
func defaultScopes(client storage.Client, catalog *storage.ScopeIndex, resources []string) []string {
	out := []string{}
	for _, s := range client.Scopes {
		id, ok := catalog.ServiceOf(s)
		if !ok || (len(resources) > 0 && !slices.Contains(resources, id)) || slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func checkRequestedScope(s string, client storage.Client, catalog *storage.ScopeIndex, resources []string) error {
	id, exists := catalog.ServiceOf(s)
	if !exists || !slices.Contains(client.Scopes, s) {
		return oauth2.NewError(oauth2.ErrInvalidScope, "scope "+describable(s)+" is not allowed for this client")
	}
	if len(resources) > 0 && !slices.Contains(resources, id) {
		return oauth2.NewError(oauth2.ErrInvalidScope, "scope "+describable(s)+" does not belong to the requested resources")
	}
	return nil
}

// parseScopeParam splits the RFC 6749 §3.3 scope parameter. It returns nil
// when the parameter is absent or empty (meaning "the default"), and the
// scope tokens without duplicates otherwise. Runs of spaces are tolerated;
// any character outside scope-token (%x21 / %x23-5B / %x5D-7E) is
// invalid_scope.
func parseScopeParam(raw string) ([]string, error) {
	var out []string
	for _, tok := range strings.Split(raw, " ") {
		if tok == "" {
			continue
		}
		if !isScopeToken(tok) {
			return nil, oauth2.NewError(oauth2.ErrInvalidScope, "scope contains invalid characters")
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// audienceOf derives the token audience (see resolveScopes).
func audienceOf(scopes []string, catalog *storage.ScopeIndex, resources []string, issuer string) ([]string, error) {
	owners := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if id, _ := catalog.ServiceOf(s); !slices.Contains(owners, id) {
			owners = append(owners, id)
		}
	}
	if len(resources) > 0 {
		for _, res := range resources {
			if !slices.Contains(owners, res) {
				return nil, oauth2.NewError(oauth2.ErrInvalidTarget, "no granted scope belongs to resource "+describable(res))
			}
		}
		return resources, nil
	}
	if len(owners) == 0 {
		return []string{issuer}, nil
	}
	slices.Sort(owners)
	return owners, nil
}
