package webui

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/latchkey/latchkey/internal/storage"
)

// colorPattern is the only colour syntax accepted in a theme.
var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ValidColor reports whether c may be used as a branding colour.
func ValidColor(c string) bool { return colorPattern.MatchString(c) }

// WorkspaceLookup resolves an enabled workspace by ID (endpoint.LookupWorkspace).
type WorkspaceLookup func(ctx context.Context, id string) (storage.Workspace, error)

// Assets serves the shared stylesheet and script, and each workspace's
// theme (its colours as CSS variables, so pages need no inline style).
type Assets struct {
	Workspace WorkspaceLookup
}

// Mount registers the asset routes.
func (a *Assets) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /assets/latchkey.css", serveAsset("assets/latchkey.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /assets/formpost.js", serveAsset("assets/formpost.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /assets/logoutframes.js", serveAsset("assets/logoutframes.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /w/{ws}/assets/theme.css", a.serveTheme)
}

func serveAsset(name, contentType string) http.HandlerFunc {
	body, err := assets.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("webui: embedded asset %s missing: %v", name, err))
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
}

func (a *Assets) serveTheme(w http.ResponseWriter, r *http.Request) {
	ws, err := a.Workspace(r.Context(), r.PathValue("ws"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	body := ThemeCSS(ws.Settings.Branding)
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(body))
}

// ThemeCSS returns the CSS variables of a branding; colours that are not
// #rrggbb are ignored, so nothing else can be injected into the stylesheet.
func ThemeCSS(b *storage.Branding) string {
	css := ":root {"
	if b != nil {
		if ValidColor(b.PrimaryColor) {
			css += " --lk-primary: " + b.PrimaryColor + ";"
		}
		if ValidColor(b.BackgroundColor) {
			css += " --lk-background: " + b.BackgroundColor + ";"
		}
	}
	return css + " }\n"
}
