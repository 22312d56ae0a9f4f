package introspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// MetadataIntrospect is the client metadata key that, set to
// MetadataIntrospectAll, lets a client introspect every token of its
// workspace (see the package documentation).
const (
	MetadataIntrospect    = "latchkey.introspect"
	MetadataIntrospectAll = "all"
)

// activeResponse is the RFC 7662 §2.2 answer for an active token.
type activeResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope"`
	ClientID  string   `json:"client_id"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	Issuer    string   `json:"iss"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	JTI       string   `json:"jti"`
	TokenType string   `json:"token_type"`
}

// inactiveResponse is the only thing an inactive token yields (I2).
type inactiveResponse struct {
	Active bool `json:"active"`
}

func (h *Handler) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	c := &call{introspection: true}
	if err := h.begin(w, r, c); err != nil {
		h.fail(w, r, "introspection failed", c, err)
		return
	}
	if isRefreshToken(c.token) {
		resp, err := h.introspectRefresh(r.Context(), c)
		if err != nil {
			h.fail(w, r, "introspection failed", c, err)
			return
		}
		oauth2.WriteJSON(w, http.StatusOK, resp)
		return
	}
	at, active, reason, err := h.introspect(r.Context(), c)
	if err != nil {
		h.fail(w, r, "introspection failed", c, err)
		return
	}
	if !active {
		h.debug(r, "introspection: inactive", c, slog.String("reason", reason))
		oauth2.WriteJSON(w, http.StatusOK, inactiveResponse{})
		return
	}
	oauth2.WriteJSON(w, http.StatusOK, withMappedClaims(activeOf(at), at.Extra))
}

// introspect decides whether the token is active for this caller. reason
// (for debug logs only) says why not; err is set only for storage failures,
// which answer 503 rather than a misleading "inactive".
func (h *Handler) introspect(ctx context.Context, c *call) (at tokens.AccessToken, active bool, reason string, err error) {
	at, ok, err := h.verify(ctx, c)
	if err != nil || !ok {
		return at, false, "not a valid access token of this workspace", err
	}
	// Cheap policy check before any store access.
	if !mayIntrospect(c.caller, at) {
		return at, false, "caller may not introspect this token", nil
	}
	if reason, err := h.clientState(ctx, c, at); reason != "" || err != nil {
		return at, false, reason, err
	}
	revoked, err := h.Store.IsTokenRevoked(ctx, c.ws.ID, at.JTI)
	if err != nil {
		return at, false, "", endpoint.ErrUnavailable(err)
	}
	if revoked {
		return at, false, "revoked", nil
	}
	if revoked, err = h.familyRevoked(ctx, c.ws.ID, at); err != nil || revoked {
		return at, false, "token family revoked", err
	}
	return at, true, "", nil
}

// mayIntrospect is the RFC 7662 §2.2 caller policy (package documentation,
// SECURITY.md I3). A public client proves nothing about itself beyond its
// client_id (RFC 7662 §4: the endpoint must not become an oracle for
// anyone), so it may see only tokens issued to it.
func mayIntrospect(caller storage.Client, at tokens.AccessToken) bool {
	if caller.ID == at.ClientID {
		return true
	}
	if caller.Type == oauth2.ClientPublic || caller.TokenEndpointAuthMethod == oauth2.AuthNone {
		return false
	}
	return slices.Contains(at.Audience, caller.ID) ||
		caller.Metadata[MetadataIntrospect] == MetadataIntrospectAll
}

// clientState returns a non-empty reason when the token's client no longer
// backs it: deleted, disabled (SECURITY.md O3), or re-created with the same
// ID after the token was issued (O2). The creation time is truncated to
// whole seconds because iat is; a client deleted and re-created within the
// second its token was issued is the one case this cannot tell apart.
//
// A token introspected by its own client needs no second read: the caller
// was read from the same cached store by this request's authentication
// and found enabled in this workspace.
func (h *Handler) clientState(ctx context.Context, c *call, at tokens.AccessToken) (string, error) {
	client := c.caller
	if client.ID != at.ClientID {
		var err error
		client, err = h.Store.GetClient(ctx, c.ws.ID, at.ClientID)
		if errors.Is(err, storage.ErrNotFound) {
			return "client no longer exists", nil
		}
		if err != nil {
			return "", endpoint.ErrUnavailable(err)
		}
	}
	if !client.Enabled {
		return "client disabled", nil
	}
	if client.CreatedAt.Truncate(time.Second).After(at.IssuedAt) {
		return "client re-created after the token was issued", nil
	}
	return "", nil
}

func activeOf(at tokens.AccessToken) activeResponse {
	resp := activeResponse{
		Active:    true,
		Scope:     at.Scope,
		ClientID:  at.ClientID,
		Subject:   at.Subject,
		Audience:  at.Audience,
		Issuer:    at.Issuer,
		ExpiresAt: at.ExpiresAt.Unix(),
		IssuedAt:  at.IssuedAt.Unix(),
		JTI:       at.JTI,
		TokenType: "Bearer",
	}
	if dpop.BoundJKT(at.Extra) != "" {
		// RFC 9449 §6.2: a DPoP-bound token is introspected with its
		// cnf (copied from the claims by withMappedClaims) and type DPoP.
		resp.TokenType = dpop.Scheme
	}
	return resp
}

// withMappedClaims adds a token's mapped claims (the client's claim
// mappings; "rtf" and "status", Latchkey's own, stay internal:
// statuslist.go) to the response, as RFC 7662 §2.2 allows; the registered
// members always win.
//
// The members are written in name order, as encoding a map of them would,
// each value encoded once: no round trip of the registered members
// through a map.
func withMappedClaims(resp activeResponse, extra map[string]any) any {
	if !hasMappedClaims(extra) {
		return resp
	}
	registered := resp.members()
	names := make([]string, 0, len(extra))
	for k := range extra {
		if !internalClaim(k) && !slices.ContainsFunc(registered[:], func(m member) bool { return m.name == k }) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.WriteByte('{')
	write := func(name string, v any) error {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		b.Write(key)
		b.WriteByte(':')
		val, err := json.Marshal(v)
		b.Write(val)
		return err
	}
	i := 0
	for _, m := range registered {
		for ; i < len(names) && names[i] < m.name; i++ {
			if err := write(names[i], extra[names[i]]); err != nil {
				return resp // a claim JSON cannot encode: registered members only
			}
		}
		_ = write(m.name, m.value)
	}
	for ; i < len(names); i++ {
		if err := write(names[i], extra[names[i]]); err != nil {
			return resp
		}
	}
	b.WriteByte('}')
	return json.RawMessage(b.Bytes())
}

// member is one registered member of an active response.
type member struct {
	name  string
	value any
}

// members are the registered members of r in name order, with the values
// encoding/json gives their fields.
func (r activeResponse) members() [10]member {
	return [10]member{
		{"active", r.Active},
		{"aud", r.Audience},
		{"client_id", r.ClientID},
		{"exp", r.ExpiresAt},
		{"iat", r.IssuedAt},
		{"iss", r.Issuer},
		{"jti", r.JTI},
		{"scope", r.Scope},
		{"sub", r.Subject},
		{"token_type", r.TokenType},
	}
}
