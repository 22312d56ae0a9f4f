package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

// authFlowRoutes are the routes of user sign-in: user passwords, consents and
// browser sessions (docs/authorization-flow.md).
func (h *Handler) authFlowRoutes(ws string) []route {
	u := ws + "/users/{id}"
	return []route{
		{"PUT " + u + "/password", h.setUserPassword, false},
		{"POST " + u + "/password-link", h.sendPasswordLink, false},
		{"GET " + u + "/consents", h.listConsents, false},
		{"DELETE " + u + "/consents/{client_id}", h.revokeConsent, false},
		{"GET " + u + "/sessions", h.listSessions, false},
		{"DELETE " + u + "/sessions", h.revokeAllSessions, false},
		{"DELETE " + u + "/sessions/{sid}", h.revokeSession, false},
	}
}

func (h *Handler) setUserPassword(w http.ResponseWriter, r *http.Request) {
	var req adminclient.PasswordRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	err := h.Service.SetUserPassword(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.Password)
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// sendPasswordLink e-mails a set-password link to the user (202: the mail
// is on its way; the link itself is never in the response).
func (h *Handler) sendPasswordLink(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("ws")
	to, err := h.Service.SendPasswordLink(r.Context(), ws, r.PathValue("id"), h.BaseURL+"/w/"+ws+"/password/set")
	h.respond(w, r, http.StatusAccepted, adminclient.PasswordLinkSent{SentTo: to}, err)
}

func (h *Handler) listConsents(w http.ResponseWriter, r *http.Request) {
	list, err := h.Service.ListUserConsents(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	out := adminclient.List[adminclient.Consent]{Items: []adminclient.Consent{}}
	for _, c := range list {
		out.Items = append(out.Items, adminclient.Consent{ClientID: c.ClientID, Scopes: nonNil(c.Scopes), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	h.respond(w, r, http.StatusOK, out, err)
}

func (h *Handler) revokeConsent(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RevokeUserConsent(r.Context(), r.PathValue("ws"), r.PathValue("id"), r.PathValue("client_id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

func sessionView(s storage.BrowserSession) adminclient.BrowserSession {
	return adminclient.BrowserSession{ID: s.ID, AuthTime: s.AuthTime, AMR: nonNil(s.AMR), CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
}

func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request) {
	list, err := h.Service.ListUserSessions(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	out := adminclient.List[adminclient.BrowserSession]{Items: []adminclient.BrowserSession{}}
	for _, s := range list {
		out.Items = append(out.Items, sessionView(s))
	}
	h.respond(w, r, http.StatusOK, out, err)
}

func (h *Handler) revokeSession(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RevokeUserSession(r.Context(), r.PathValue("ws"), r.PathValue("id"), r.PathValue("sid"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

func (h *Handler) revokeAllSessions(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RevokeUserSession(r.Context(), r.PathValue("ws"), r.PathValue("id"), "")
	h.respond(w, r, http.StatusNoContent, nil, err)
}
