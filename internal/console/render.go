package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// pages holds one parsed template set per page (layout, the shared
// _*.html, the page), each parsed on the page's first render: parsing the
// whole console at start held 6.6 MB of heap in every idle server, most
// of which never renders a console page (docs/benchmarks.md, "Memory").
type pages struct {
	byName sync.Map // page name → *template.Template
}

var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"join":     func(l []string, sep string) string { return strings.Join(l, sep) },
	"has":      func(l []string, v string) bool { return contains(l, v) },
	"prefix":   func() string { return Prefix },
	"duration": func(d time.Duration) string { return d.String() },
	"seconds":  func(d time.Duration) int64 { return int64(d / time.Second) },
	"hours":    func(d time.Duration) int64 { return int64(d / time.Hour) },
}

// get returns the parsed template set of page, parsing it on first use.
// Two first renders at once may both parse; either result is the same.
func (p *pages) get(page string) (*template.Template, error) {
	if t, ok := p.byName.Load(page); ok {
		return t.(*template.Template), nil
	}
	if page == "layout" || strings.HasPrefix(page, "_") || strings.ContainsAny(page, "/.*?[\\") {
		return nil, fmt.Errorf("console: %q is not a page", page)
	}
	file := "templates/" + page + ".html"
	if _, err := fs.Stat(templateFiles, file); err != nil {
		return nil, fmt.Errorf("console: unknown page %q", page)
	}
	// Files named _*.html hold templates several pages share.
	t, err := template.New(page).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", file)
	if err != nil {
		return nil, err
	}
	p.byName.Store(page, t)
	return t, nil
}

// pageNames lists every page of the console.
func pageNames() []string {
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	var out []string
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base != "layout" && !strings.HasPrefix(base, "_") {
			out = append(out, base)
		}
	}
	return out
}

// view is what every page template receives.
type view struct {
	Title      string
	User       *storage.AdminUser
	CSRF       string
	WS         string
	Workspaces []storage.Workspace
	Nav        string
	CanWrite   bool
	Super      bool
	Errors     []service.FieldError
	Error      string
	Notice     string
	Data       any
	// URL replaces the address bar's (history.replaceState in
	// console.js) when a POST renders a page that has a GET address.
	URL string
}

func (h *Handler) newView(r *http.Request, c *reqCtx, title, nav string, data any) *view {
	v := &view{Title: title, CSRF: c.csrf, WS: c.ws, Nav: nav, Data: data, Notice: deletedNotice(r)}
	if c.user.ID != "" {
		u := c.user
		v.User, v.Super = &u, u.Role == storage.RoleSuperAdmin
		v.CanWrite = canWrite(u, c.ws)
		v.Workspaces = h.visibleWorkspaces(r, u)
	}
	return v
}

// visibleWorkspaces feeds the workspace switcher.
func (h *Handler) visibleWorkspaces(r *http.Request, u storage.AdminUser) []storage.Workspace {
	page, err := h.Service.ListWorkspaces(r.Context(), storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil
	}
	var out []storage.Workspace
	for _, w := range page.Items {
		if u.Role == storage.RoleSuperAdmin || hasWorkspace(u, w.ID) {
			out = append(out, w)
		}
	}
	return out
}

// render executes page into a buffer first, so a template failure becomes
// a clean 500 instead of half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	t, err := h.pages.get(page)
	if err != nil {
		h.logger().ErrorContext(r.Context(), "console: unknown page", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.logger().ErrorContext(r.Context(), "console: render", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, msg string) {
	v := h.newView(r, c, http.StatusText(status), "", nil)
	v.Error = msg
	h.render(w, r, status, "error", v)
}

// retryAfterSeconds is the Retry-After of a storage failure, as the admin
// API sends it.
const retryAfterSeconds = "2"

// fail shows err: validation errors name field and rule (the service
// layer's text, the same the API returns); not-found and conflict errors
// show their public message; anything else is logged and shown as a
// generic failure.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	status, msg := h.classify(r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	h.renderError(w, r, c, status, msg)
}

func (h *Handler) classify(r *http.Request, err error) (int, string) {
	var ve *service.ValidationError
	switch {
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Error()
	case errors.Is(err, service.ErrNotFound):
		return http.StatusNotFound, service.PublicMessage(err)
	case errors.Is(err, service.ErrConflict):
		return http.StatusConflict, service.PublicMessage(err)
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// A locked, unreachable or slow database: worth a retry, and not
		// an internal error (docs/security.md R5, R6).
		h.logger().WarnContext(r.Context(), "console: storage unavailable", "path", r.URL.Path, "error", err)
		return http.StatusServiceUnavailable, "The database is temporarily unavailable, so this could not be completed. Try again in a few seconds."
	}
	h.logger().ErrorContext(r.Context(), "console: internal error", "path", r.URL.Path, "error", err)
	return http.StatusInternalServerError, "The server could not complete the request."
}

// formErrors fills v from err for re-rendering a form with its input;
// it reports false when err is not a user error (then call fail).
func formErrors(v *view, err error) (int, bool) {
	var ve *service.ValidationError
	switch {
	case errors.As(err, &ve):
		v.Errors = ve.Errors
		return http.StatusBadRequest, true
	case errors.Is(err, service.ErrConflict):
		v.Error = service.PublicMessage(err)
		return http.StatusConflict, true
	}
	return 0, false
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// static serves the embedded CSS and JS.
func (h *Handler) static(w http.ResponseWriter, r *http.Request, _ *reqCtx) {
	name := r.PathValue("file")
	b, err := staticFiles.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
