package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// auditRoutes read the audit log: one workspace's (workspace roles reach
// their own) and the whole server's, server-wide changes included
// (super_admin, as routeAccess decides for routes outside a workspace).
// The console's audit page reads the same events.
func (h *Handler) auditRoutes(ws string) []route {
	return []route{
		{"GET " + ws + "/audit", h.listWorkspaceAudit, false},
		{"GET " + Prefix + "/audit", h.listServerAudit, false},
	}
}

func (h *Handler) listWorkspaceAudit(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("ws")
	h.serveAudit(w, r, "audit\x00"+ws, storage.AuditFilter{WorkspaceID: ws})
}

func (h *Handler) listServerAudit(w http.ResponseWriter, r *http.Request) {
	h.serveAudit(w, r, "audit\x00*", storage.AuditFilter{AllWorkspaces: true})
}

// maxAuditFilterLength bounds the text filters, as q is bounded for lists.
const maxAuditFilterLength = 200

// auditParams are the query parameters of an audit listing.
var auditParams = []string{"since", "until", "actor", "action", "client", "limit", "page_token"}

// serveAudit answers one page of audit events matching the query's
// filters. The page token seals the ID of the last event shown, bound to
// the listing and to the filters (SECURITY.md M8), so it cannot be forged
// or replayed with other filters to widen a listing.
func (h *Handler) serveAudit(w http.ResponseWriter, r *http.Request, list string, f storage.AuditFilter) {
	f, filters, err := parseAuditQuery(r.URL.Query(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		before, err := h.openCursor(tok, list, filters)
		id, perr := strconv.ParseInt(before, 10, 64)
		if err != nil || perr != nil || id <= 0 {
			h.writeError(w, r, badRequest("page_token: invalid or tampered page token, or the filters changed since it was issued"))
			return
		}
		f.Before = id
	}
	page, err := h.Service.ListAuditEvents(r.Context(), f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	next := ""
	if page.Next > 0 {
		next = strconv.FormatInt(page.Next, 10)
	}
	tok, err := h.sealCursor(next, list, filters)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	items := make([]adminclient.AuditEvent, len(page.Items))
	for i, e := range page.Items {
		items[i] = auditEventView(e)
	}
	writeJSON(w, http.StatusOK, adminclient.Page[adminclient.AuditEvent]{Items: items, NextPageToken: tok})
}

// parseAuditQuery reads the filters into f and returns them canonically
// encoded (the associated data of the page token). Every bad value is a
// 400 invalid_request naming the parameter.
func parseAuditQuery(q url.Values, f storage.AuditFilter) (storage.AuditFilter, string, error) {
	if err := singleParams(q, auditParams...); err != nil {
		return f, "", err
	}
	var err error
	if f.Since, err = auditTime(q, "since"); err != nil {
		return f, "", err
	}
	if f.Until, err = auditTime(q, "until"); err != nil {
		return f, "", err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, "", badRequest("until: must be later than since")
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"actor", &f.Actor}, {"action", &f.Action}, {"client", &f.TargetID}} {
		v := q.Get(p.name)
		if len(v) > maxAuditFilterLength {
			return f, "", badRequest(fmt.Sprintf("%s: must be at most %d characters", p.name, maxAuditFilterLength))
		}
		*p.dst = v
	}
	if f.TargetID != "" {
		f.TargetType = service.TargetClient
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxPageSize {
			return f, "", badRequest(fmt.Sprintf("limit: must be an integer between 1 and %d", storage.MaxPageSize))
		}
		f.Limit = n
	}
	// JSON keeps the encoding injective whatever the filters contain.
	filters, err := json.Marshal([]string{millis(f.Since), millis(f.Until), f.Actor, f.Action, f.TargetID})
	if err != nil {
		return f, "", err
	}
	return f, string(filters), nil
}

func auditTime(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest(name + ": must be an RFC 3339 date-time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

func millis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func auditEventView(e storage.AuditEvent) adminclient.AuditEvent {
	return adminclient.AuditEvent{
		ID: e.ID, Time: e.Time.UTC(), ActorKind: e.ActorKind, ActorID: e.ActorID, ActorName: e.ActorName, IP: e.IP,
		WorkspaceID: e.WorkspaceID, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Details: e.Details,
	}
}
