package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// --- workspaces

func (h *Handler) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	serveList(h, w, r, "workspaces", func(opts storage.ListOptions) (storage.Page[storage.Workspace], error) {
		return h.Service.ListWorkspaces(r.Context(), opts)
	}, h.workspaceView)
}

func (h *Handler) createWorkspace(w http.ResponseWriter, r *http.Request) {
	var req workspaceRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	ws, err := h.Service.CreateWorkspace(r.Context(), req.input())
	h.respond(w, r, http.StatusCreated, h.workspaceView(ws), err)
}

func (h *Handler) getWorkspace(w http.ResponseWriter, r *http.Request) {
	ws, err := h.Service.GetWorkspace(r.Context(), r.PathValue("ws"))
	h.respond(w, r, http.StatusOK, h.workspaceView(ws), err)
}

func (h *Handler) updateWorkspace(w http.ResponseWriter, r *http.Request) {
	var req workspaceRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := checkSameID(req.ID, r.PathValue("ws")); err != nil {
		h.writeError(w, r, err)
		return
	}
	ws, err := h.Service.UpdateWorkspace(r.Context(), r.PathValue("ws"), req.patch())
	h.respond(w, r, http.StatusOK, h.workspaceView(ws), err)
}

func (h *Handler) deleteWorkspace(w http.ResponseWriter, r *http.Request) {
	h.respond(w, r, http.StatusNoContent, nil, h.Service.DeleteWorkspace(r.Context(), r.PathValue("ws")))
}

// --- clients

func (h *Handler) enableClient(w http.ResponseWriter, r *http.Request)  { h.setEnabled(w, r, true) }
func (h *Handler) disableClient(w http.ResponseWriter, r *http.Request) { h.setEnabled(w, r, false) }

func (h *Handler) setEnabled(w http.ResponseWriter, r *http.Request, enabled bool) {
	c, err := h.Service.SetClientEnabled(r.Context(), r.PathValue("ws"), r.PathValue("id"), enabled)
	h.respond(w, r, http.StatusOK, clientView(c), err)
}

func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request) {
	c, err := h.Service.RotateClientSecret(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, clientSecretView(c), err)
}

// --- keys

func keysView(keys []service.KeyInfo) adminclient.List[adminclient.Key] {
	out := adminclient.List[adminclient.Key]{Items: make([]adminclient.Key, len(keys))}
	for i, k := range keys {
		out.Items[i] = keyView(k)
	}
	return out
}

func (h *Handler) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Service.ListKeys(r.Context(), r.PathValue("ws"))
	h.respond(w, r, http.StatusOK, keysView(keys), err)
}

func (h *Handler) rotateKeys(w http.ResponseWriter, r *http.Request) {
	var req adminclient.RotateKeysRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	keys, err := h.Service.RotateKeys(r.Context(), r.PathValue("ws"), req.Alg)
	h.respond(w, r, http.StatusOK, keysView(keys), err)
}

func (h *Handler) removeKey(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RemoveKey(r.Context(), r.PathValue("ws"), r.PathValue("kid"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// --- initial access tokens

func (h *Handler) listIATs(w http.ResponseWriter, r *http.Request) {
	list, err := h.Service.ListInitialAccessTokens(r.Context(), r.PathValue("ws"))
	out := adminclient.List[adminclient.InitialAccessToken]{Items: make([]adminclient.InitialAccessToken, len(list))}
	for i, t := range list {
		out.Items[i] = iatView(t)
	}
	h.respond(w, r, http.StatusOK, out, err)
}

func (h *Handler) createIAT(w http.ResponseWriter, r *http.Request) {
	var req iatRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	t, token, err := h.Service.CreateInitialAccessToken(r.Context(), r.PathValue("ws"), service.InitialAccessTokenInput{
		Description: req.Description, ExpiresIn: seconds(req.ExpiresIn), MaxUses: req.MaxUses, Policy: req.policy(),
	})
	v := iatView(t)
	v.Token = token
	h.respond(w, r, http.StatusCreated, v, err)
}

func (h *Handler) deleteIAT(w http.ResponseWriter, r *http.Request) {
	err := h.Service.DeleteInitialAccessToken(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}
