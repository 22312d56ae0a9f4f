package webui

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

//go:embed assets/pages.html assets/latchkey.css assets/formpost.js assets/logoutframes.js
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
	if md, ok := p.Data.(MessageData); ok && len(md.Frames) > 0 {
		w.Header().Set("Content-Security-Policy", ContentSecurityPolicy+"; frame-src "+frameSources(md.Frames))
	}
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
	// Frames are loaded in hidden iframes (the front-channel logout URIs
	// of the signed-out page, OpenID Connect Front-Channel Logout §4); the
	// page's CSP then allows exactly their origins as frame-src.
	Frames []string
	// FollowLink sends the browser to Link once the Frames have loaded or
	// after a timeout (assets/logoutframes.js): the RP-initiated logout's
	// post_logout_redirect_uri (Front-Channel Logout §4). The link stays
	// for browsers without JavaScript.
	FollowLink bool
}

// FormPostData is the OAuth 2.0 Form Post response: the page posts Fields
// to Action.
type FormPostData struct {
	Action string
	Fields []Field
}

// Field is one hidden input.
type Field struct{ Name, Value string }

// frameSources is the CSP source list of exactly the origins of frames
// (scheme://host[:port]), each once; 'none' when none parses.
func frameSources(frames []string) string {
	var out []string
	for _, f := range frames {
		u, err := url.Parse(f)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	if len(out) == 0 {
		return "'none'"
	}
	return strings.Join(out, " ")
}
