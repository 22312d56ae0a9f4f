package adminapi

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

// claimRoutes are the routes of the claim mappings of clients and
// services: a sub-resource replaced whole, so that one PUT is one audited
// version.
func (h *Handler) claimRoutes(ws string) []route {
	return []route{
		{"GET " + ws + "/clients/{id}/claims", h.getClaims((*svc).GetClientClaims), false},
		{"PUT " + ws + "/clients/{id}/claims", h.setClaims((*svc).SetClientClaims), false},
		{"GET " + ws + "/services/{id}/claims", h.getClaims((*svc).GetServiceClaims), false},
		{"PUT " + ws + "/services/{id}/claims", h.setClaims((*svc).SetServiceClaims), false},
	}
}

func claimMappingsView(ms []storage.ClaimMapping) adminclient.ClaimMappings {
	out := adminclient.ClaimMappings{Claims: make([]adminclient.ClaimMapping, len(ms))}
	for i, m := range ms {
		out.Claims[i] = adminclient.ClaimMapping(m)
	}
	return out
}

func (h *Handler) getClaims(get func(*svc, context.Context, string, string) ([]storage.ClaimMapping, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ms, err := get(h.Service, r.Context(), r.PathValue("ws"), r.PathValue("id"))
		h.respond(w, r, http.StatusOK, claimMappingsView(ms), err)
	}
}

func (h *Handler) setClaims(set func(*svc, context.Context, string, string, []storage.ClaimMapping) ([]storage.ClaimMapping, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req adminclient.ClaimMappings
		if err := decodeJSON(w, r, &req, true); err != nil {
			h.writeError(w, r, err)
			return
		}
		in := make([]storage.ClaimMapping, len(req.Claims))
		for i, m := range req.Claims {
			in[i] = storage.ClaimMapping(m)
		}
		ms, err := set(h.Service, r.Context(), r.PathValue("ws"), r.PathValue("id"), in)
		h.respond(w, r, http.StatusOK, claimMappingsView(ms), err)
	}
}
