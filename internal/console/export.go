package console

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/adminapi"
)

// exportConfig downloads the workspace as its configuration document
// (README "Configuration as code"), the same YAML as
// `latchkey admin export`; it never holds a secret. Any role that may read
// the workspace may download it, as viewers may export through the API.
func (h *Handler) exportConfig(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	b, err := adminapi.ExportYAML(r.Context(), h.Service, c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/yaml")
	// The export found the workspace, so its ID matched the service's
	// pattern (lower-case letters, digits, '-'): safe in the quoted
	// filename (RFC 6266 §4.3).
	hd.Set("Content-Disposition", `attachment; filename="`+c.ws+`.yaml"`)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
