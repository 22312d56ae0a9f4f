package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// consoleRoutes are the routes of the console that the console offers too:
// console users (server-wide) and "View secret" by e-mailed code, so that
// nothing is possible in the console and impossible through the API.
func (h *Handler) consoleRoutes(ws string) []route {
	const cu = Prefix + "/console-users"
	return []route{
		{"GET " + cu, h.listConsoleUsers, false},
		{"POST " + cu, h.createConsoleUser, false},
		{"GET " + cu + "/{id}", h.getConsoleUser, false},
		{"PATCH " + cu + "/{id}", h.updateConsoleUser, false},
		{"DELETE " + cu + "/{id}", h.deleteConsoleUser, false},
		{"PUT " + cu + "/{id}/password", h.setConsoleUserPassword, false},
		{"POST " + ws + "/clients/{id}/secret/code", h.requestSecretCode, false},
		{"POST " + ws + "/clients/{id}/secret/reveal", h.revealSecret, false},
	}
}

func consoleUserView(u storage.AdminUser) adminclient.ConsoleUser {
	return adminclient.ConsoleUser{
		ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role,
		Workspaces: nonNil(u.Workspaces), Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// consoleUserCreate is the body of a create, plus the id the server
// refuses by name (it assigns ids).
type consoleUserCreate struct {
	ID *string `json:"id"`
	adminclient.ConsoleUserCreate
}

func (req consoleUserCreate) input() service.ConsoleUserInput {
	return service.ConsoleUserInput{
		Username: req.Username, Email: req.Email, DisplayName: req.DisplayName, Password: req.Password,
		Role: req.Role, Workspaces: req.Workspaces, Disabled: req.Disabled,
	}
}

// consoleUserUpdate is the body of an update, plus the members the server
// refuses by name: the id and username are permanent and the password has
// its own route.
type consoleUserUpdate struct {
	ID       *string `json:"id"`
	Username *string `json:"username"`
	Password *string `json:"password"`
	adminclient.ConsoleUserUpdate
}

func (req consoleUserUpdate) patch() service.ConsoleUserPatch {
	return service.ConsoleUserPatch{
		Email: req.Email, DisplayName: req.DisplayName, Role: req.Role, Workspaces: req.Workspaces, Disabled: req.Disabled,
	}
}

func (h *Handler) listConsoleUsers(w http.ResponseWriter, r *http.Request) {
	serveList(h, w, r, "console-users", func(opts storage.ListOptions) (storage.Page[storage.AdminUser], error) {
		return h.Service.ListConsoleUsers(r.Context(), opts)
	}, consoleUserView)
}

func (h *Handler) createConsoleUser(w http.ResponseWriter, r *http.Request) {
	var req consoleUserCreate
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	if req.ID != nil {
		h.writeError(w, r, badRequest("id: is assigned by the server"))
		return
	}
	u, err := h.Service.CreateConsoleUser(r.Context(), req.input())
	h.respond(w, r, http.StatusCreated, consoleUserView(u), err)
}

func (h *Handler) getConsoleUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.Service.GetConsoleUser(r.Context(), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, consoleUserView(u), err)
}

// updateConsoleUser changes role, workspaces, disabled flag, e-mail or
// display name. The username is the sign-in name and stays; the password
// has its own route so that it never travels with other changes.
func (h *Handler) updateConsoleUser(w http.ResponseWriter, r *http.Request) {
	var req consoleUserUpdate
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	switch {
	case req.ID != nil && *req.ID != r.PathValue("id"):
		h.writeError(w, r, badRequest("id: cannot be changed"))
		return
	case req.Username != nil:
		h.writeError(w, r, badRequest("username: cannot be changed"))
		return
	case req.Password != nil:
		h.writeError(w, r, badRequest("password: use PUT /console-users/{id}/password"))
		return
	}
	u, err := h.Service.UpdateConsoleUser(r.Context(), r.PathValue("id"), req.patch())
	h.respond(w, r, http.StatusOK, consoleUserView(u), err)
}

func (h *Handler) deleteConsoleUser(w http.ResponseWriter, r *http.Request) {
	h.respond(w, r, http.StatusNoContent, nil, h.Service.DeleteConsoleUser(r.Context(), r.PathValue("id")))
}

func (h *Handler) setConsoleUserPassword(w http.ResponseWriter, r *http.Request) {
	var req adminclient.PasswordRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	err := h.Service.SetConsoleUserPassword(r.Context(), r.PathValue("id"), req.Password)
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// --- "View secret" by e-mailed code

// secretHolder binds codes to the calling admin token.
func secretHolder(r *http.Request) (string, error) {
	a, _ := service.ActorFrom(r.Context())
	holder, err := service.SecretCodeHolder(a)
	if err != nil {
		return "", badRequest("the admin token cannot be identified to hold a code")
	}
	return holder, nil
}

// requestSecretCode e-mails a one-time code to the client's contact
// address (202: the code travels out of band).
func (h *Handler) requestSecretCode(w http.ResponseWriter, r *http.Request) {
	holder, err := secretHolder(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	to, err := h.Service.RequestSecretCode(r.Context(), r.PathValue("ws"), r.PathValue("id"), holder)
	h.respond(w, r, http.StatusAccepted, adminclient.SecretCodeSent{
		SentTo: to, ExpiresIn: toSeconds(service.CodeLifetime), Tries: service.CodeTries,
	}, err)
}

// revealSecret spends one try of the caller's code and answers the
// secret when it matches; the service audits every view and wrong code.
func (h *Handler) revealSecret(w http.ResponseWriter, r *http.Request) {
	holder, err := secretHolder(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req adminclient.RevealSecretRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	secret, err := h.Service.RevealClientSecret(r.Context(), r.PathValue("ws"), id, holder, req.Code)
	h.respond(w, r, http.StatusOK, adminclient.RevealedSecret{ClientID: id, ClientSecret: secret}, err)
}
