package login

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/webui"
)

// postedForm is the opening of every POST of this package: the workspace
// page, the form read with its size cap, and its CSRF token checked
// against purpose (SECURITY.md K1) before anything else is looked at. ok
// is false when a page has been written.
func (h *Handler) postedForm(w http.ResponseWriter, r *http.Request, purpose func(wsID string) string) (*page, url.Values, bool) {
	pg, ok := h.begin(w, r)
	if !ok {
		return nil, nil, false
	}
	form, ok := h.parseForm(w, r, pg)
	if !ok {
		return nil, nil, false
	}
	if !h.Sessions.CheckCSRF(r, form.Get("csrf_token"), purpose(pg.ws.ID)) {
		h.forbidden(w, pg)
		return nil, nil, false
	}
	return pg, form, true
}

// signedIn returns the browser's live session in the page's workspace,
// sending a browser without one to the sign-in page. ok is false when a
// page has been written.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, pg *page) (webui.Signed, bool) {
	s, in, err := h.Sessions.Current(r.Context(), r, pg.ws.ID)
	if err != nil {
		h.unavailable(w, r, pg, err)
		return webui.Signed{}, false
	}
	if !in {
		seeOther(w, pg.issuer+"/login")
		return webui.Signed{}, false
	}
	return s, true
}
