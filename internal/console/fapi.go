package console

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/service"
)

// saveWorkspaceFAPI stores the settings page's FAPI 2.0 section (package
// fapi, docs/fapi.md), leaving every other workspace setting alone. A
// refusal (clients breaking the profile, an RS256 signing key) is shown
// on the page with the service's words, which name the clients.
func (h *Handler) saveWorkspaceFAPI(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	profile := r.PostFormValue("fapi_profile")
	ws, err := h.Service.UpdateWorkspace(r.Context(), c.ws, service.WorkspacePatch{FAPIProfile: &profile})
	h.renderSettingsSaved(w, r, c, ws, err, "FAPI 2.0 setting saved.")
}
