package endpoint

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/webui"
)

// PageErrors is the ErrorWriter of the browser-facing pages (authorize,
// consent, sign-in, account, set-password, logout): an unknown workspace
// is a plain 404 with the page security headers, as for any unknown page;
// anything else, such as a storage failure, is the error page with its
// status and, for a 503, Retry-After (RFC 9110 §10.2.3; docs/security.md
// R5). The workspace could not be read, so the page carries no branding.
func PageErrors(baseURL string, logger *slog.Logger) ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, e *oauth2.Error) {
		status := e.HTTPStatus()
		if status == http.StatusNotFound {
			webui.SetPageHeaders(w)
			http.NotFound(w, r)
			return
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(oauth2.DefaultRetryAfterSeconds))
		}
		id := r.PathValue("ws")
		page := webui.Page{
			Localizer: webui.ChooseLanguage(nil, r), Brand: webui.Brand{Name: id},
			Issuer: Issuer(baseURL, id), AssetBase: baseURL,
			Data: webui.ErrorData{Code: string(e.Code), Description: e.Description},
		}
		page.Title = page.T("error_title")
		webui.Render(w, logger, status, "error", page)
	}
}
