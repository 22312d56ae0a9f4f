package webui

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/internal/storage"
)

//go:embed assets/pages.html assets/latchkey.css assets/formpost.js
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "assets/pages.html"))

// Brand is the workspace's presentation on a page.
type Brand struct {
	Name    string
	LogoURI string
}

// BrandOf returns the branding of ws: its display name (or name, or ID)
// and logo.
func BrandOf(ws storage.Workspace) Brand {
	b := Brand{Name: ws.Name}
	if b.Name == "" {
		b.Name = ws.ID
	}
	if br := ws.Settings.Branding; br != nil {
		if br.DisplayName != "" {
			b.Name = br.DisplayName
		}
		b.LogoURI = br.LogoURI
	}
	return b
}

// Page is what every template receives.
type Page struct {
	Localizer
	Brand Brand
	Title string
	// Issuer is the workspace issuer: form actions and the theme live under it.
	Issuer string
	// AssetBase is the server base URL, where the shared assets live.
	AssetBase string
	CSRF      string
	// Error is a message shown in the element with id "error".
	Error string
	Data  any
}

// Render writes page name with status and the page security headers. A
// template failure (a bug) answers a plain 500 without detail.
func Render(w http.ResponseWriter, logger *slog.Logger, status int, name string, p Page) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, p); err != nil {
		if logger != nil {
			logger.Error("webui: render page", "page", name, "err", err)
		}
		SetPageHeaders(w)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	SetPageHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorData is the data of the error page: id "error" holds the code and
// id "error-description" the description (docs/authorization-flow.md).
type ErrorData struct {
	Code        string
	Description string
}

// MessageData is the data of a page that only says something.
type MessageData struct {
	Text     string
	Link     string
	LinkText string
}

// FormPostData is the OAuth 2.0 Form Post response: the page posts Fields
// to Action.
type FormPostData struct {
	Action string
	Fields []Field
}

// Field is one hidden input.
type Field struct{ Name, Value string }
