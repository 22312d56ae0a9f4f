package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

// outboxRoutes read the mail outbox, as the console's outbox page does:
// an administrator without a mail server reads the one-time codes and
// password links the server wrote. Server-wide, so super_admin only
// (routeAccess), as in the console.
func (h *Handler) outboxRoutes() []route {
	return []route{
		{"GET " + Prefix + "/outbox", h.listOutbox, false},
		{"GET " + Prefix + "/outbox/{id}", h.getOutboxMail, false},
	}
}

// listOutbox answers the newest messages, newest first (limit, default 50).
func (h *Handler) listOutbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := storage.DefaultPageSize
	if len(q["limit"]) > 1 {
		h.writeError(w, r, badRequest("limit: given more than once"))
		return
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxPageSize {
			h.writeError(w, r, badRequest(fmt.Sprintf("limit: must be an integer between 1 and %d", storage.MaxPageSize)))
			return
		}
		limit = n
	}
	mails, err := h.Service.Store.ListMail(r.Context(), limit)
	out := adminclient.List[adminclient.OutboxMail]{Items: make([]adminclient.OutboxMail, len(mails))}
	for i, m := range mails {
		out.Items[i] = outboxView(m)
	}
	h.respond(w, r, http.StatusOK, out, err)
}

// getOutboxMail answers one message; an unknown ID is 404.
func (h *Handler) getOutboxMail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, err := h.Service.Store.GetMail(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		err = &httpError{status: http.StatusNotFound, code: codeNotFound, desc: fmt.Sprintf("message %q not found in the outbox", id)}
	}
	h.respond(w, r, http.StatusOK, outboxView(m), err)
}

func outboxView(m storage.Mail) adminclient.OutboxMail {
	v := adminclient.OutboxMail{ID: m.ID, To: m.To, Subject: m.Subject, Body: m.Body, CreatedAt: m.CreatedAt.UTC(), Error: m.Error}
	if !m.SentAt.IsZero() {
		t := m.SentAt.UTC()
		v.SentAt = &t
	}
	return v
}
