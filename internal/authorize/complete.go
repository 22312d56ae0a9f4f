package authorize

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// CodePrefix makes authorization codes greppable in logs and scanners.
const CodePrefix = "lkac_"

// complete ends a pending request: the request is deleted first (of
// concurrent completions only one gets past this gate), then a code is
// stored by hash and sent to the client with state and iss (RFC 6749
// §4.1.2, RFC 9207 §2).
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, f *flow, v *validated, s webui.Signed) {
	ctx := r.Context()
	if err := h.Store.DeleteAuthRequest(ctx, f.ws.ID, v.req.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			h.expired(w, f)
			return
		}
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	code := CodePrefix + webui.RandomValue()
	now := h.now()
	err := h.Store.CreateAuthCode(ctx, storage.AuthCode{
		WorkspaceID: f.ws.ID, Hash: webui.Hash(code), FamilyID: webui.RandomValue()[:22],
		ClientID: v.client.ID, UserID: s.User.ID, RedirectURI: v.req.RedirectURI, Scopes: v.req.Scopes,
		CodeChallenge: v.req.CodeChallenge, Nonce: v.req.Nonce, SessionID: s.Session.ID,
		AuthTime: s.Session.AuthTime, AMR: s.Session.AMR, ACR: s.Session.ACR, Claims: v.req.Claims,
		CreatedAt: now, ExpiresAt: now.Add(fapi.CodeTTL(f.ws, h.codeTTL())), DPoPJKT: v.req.DPoPJKT,
		AuthorizationDetails: v.req.AuthorizationDetails, // RFC 9396 §2
	})
	if err != nil {
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	params := url.Values{"code": {code}, "iss": {f.issuer}}
	if v.req.State != "" {
		params.Set("state", v.req.State)
	}
	h.respond(w, r, f, v, params)
}

// expired renders the page for a pending request that is gone (expired,
// completed or never existed).
func (h *Handler) expired(w http.ResponseWriter, f *flow) {
	f.page.Title = f.page.T("error_title")
	f.page.Data = webui.ErrorData{Code: "invalid_request", Description: f.page.T("request_expired")}
	webui.Render(w, h.Logger, http.StatusBadRequest, "error", f.page)
}
