package adminapi

import (
	"net/http"
)

// directoryRoutes are the routes of issue 3: users, profiles, client
// certificates, client JWT bearer settings and trusted issuers.
func (h *Handler) directoryRoutes(ws string) []route {
	return []route{
		{"GET " + ws + "/users", h.listUsers, false},
		{"POST " + ws + "/users", h.createUser, false},
		{"GET " + ws + "/users/{id}", h.getUser, false},
		{"PATCH " + ws + "/users/{id}", h.updateUser, false},
		{"DELETE " + ws + "/users/{id}", h.deleteUser, false},
		{"GET " + ws + "/profiles", h.listProfiles, false},
		{"POST " + ws + "/profiles", h.createProfile, false},
		{"GET " + ws + "/profiles/{id}", h.getProfile, false},
		{"PATCH " + ws + "/profiles/{id}", h.updateProfile, false},
		{"DELETE " + ws + "/profiles/{id}", h.deleteProfile, false},
		{"GET " + ws + "/clients/{id}/certificates", h.listCertificates, false},
		{"POST " + ws + "/clients/{id}/certificates", h.addCertificate, false},
		{"DELETE " + ws + "/clients/{id}/certificates/{kid}", h.removeCertificate, false},
		{"GET " + ws + "/clients/{id}/jwt-bearer", h.getJWTBearer, false},
		{"PUT " + ws + "/clients/{id}/jwt-bearer", h.setJWTBearer, false},
		{"GET " + ws + "/trusted-issuers", h.listTrustedIssuers, false},
		{"POST " + ws + "/trusted-issuers", h.createTrustedIssuer, false},
		{"GET " + ws + "/trusted-issuers/{id}", h.getTrustedIssuer, false},
		{"PATCH " + ws + "/trusted-issuers/{id}", h.updateTrustedIssuer, false},
		{"DELETE " + ws + "/trusted-issuers/{id}", h.deleteTrustedIssuer, false},
	}
}

// checkSameID refuses a body whose id differs from the path's.
func checkSameID(id *string, path string) error {
	if id != nil && *id != path {
		return badRequest("id: cannot be changed")
	}
	return nil
}

// --- users

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("ws")
	opts, err := h.listParams(r, "users\x00"+ws)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.Service.ListUsers(r.Context(), ws, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writePage(h, w, r, "users\x00"+ws, opts, page, userView)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.Service.CreateUser(r.Context(), r.PathValue("ws"), req.input())
	h.respond(w, r, http.StatusCreated, userView(u), err)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.Service.GetUser(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, userView(u), err)
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := checkSameID(req.ID, r.PathValue("id")); err != nil {
		h.writeError(w, r, err)
		return
	}
	u, err := h.Service.UpdateUser(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.patch())
	h.respond(w, r, http.StatusOK, userView(u), err)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	err := h.Service.DeleteUser(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// --- profiles

func (h *Handler) listProfiles(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("ws")
	opts, err := h.listParams(r, "profiles\x00"+ws)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.Service.ListProfiles(r.Context(), ws, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writePage(h, w, r, "profiles\x00"+ws, opts, page, profileView)
}

func (h *Handler) createProfile(w http.ResponseWriter, r *http.Request) {
	var req profileRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := h.Service.CreateProfile(r.Context(), r.PathValue("ws"), serviceProfileInput(req))
	h.respond(w, r, http.StatusCreated, profileView(p), err)
}

func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := h.Service.GetProfile(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, profileView(p), err)
}

func (h *Handler) updateProfile(w http.ResponseWriter, r *http.Request) {
	var req profileRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := checkSameID(req.ID, r.PathValue("id")); err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := h.Service.UpdateProfile(r.Context(), r.PathValue("ws"), r.PathValue("id"), serviceProfilePatch(req))
	h.respond(w, r, http.StatusOK, profileView(p), err)
}

func (h *Handler) deleteProfile(w http.ResponseWriter, r *http.Request) {
	err := h.Service.DeleteProfile(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// --- certificates

func (h *Handler) listCertificates(w http.ResponseWriter, r *http.Request) {
	certs, err := h.Service.ListClientCertificates(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	items := make([]certificateJSON, len(certs))
	for i, c := range certs {
		items[i] = certificateView(c)
	}
	h.respond(w, r, http.StatusOK, map[string]any{"items": items}, err)
}

func (h *Handler) addCertificate(w http.ResponseWriter, r *http.Request) {
	var req certificateRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Service.AddClientCertificate(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.bytes(), req.KID)
	h.respond(w, r, http.StatusCreated, certificateView(c), err)
}

func (h *Handler) removeCertificate(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RemoveClientCertificate(r.Context(), r.PathValue("ws"), r.PathValue("id"), r.PathValue("kid"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}

// --- client JWT bearer settings

func (h *Handler) getJWTBearer(w http.ResponseWriter, r *http.Request) {
	c, err := h.Service.GetClient(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, jwtBearerView(c), err)
}

func (h *Handler) setJWTBearer(w http.ResponseWriter, r *http.Request) {
	var req jwtBearerRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Service.SetClientJWTBearer(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.input())
	h.respond(w, r, http.StatusOK, jwtBearerView(c), err)
}

// --- trusted issuers

func (h *Handler) listTrustedIssuers(w http.ResponseWriter, r *http.Request) {
	ws := r.PathValue("ws")
	opts, err := h.listParams(r, "trusted-issuers\x00"+ws)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := h.Service.ListTrustedIssuers(r.Context(), ws, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writePage(h, w, r, "trusted-issuers\x00"+ws, opts, page, trustedIssuerView)
}

func (h *Handler) createTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	var req trustedIssuerRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	ti, err := h.Service.CreateTrustedIssuer(r.Context(), r.PathValue("ws"), req.input())
	h.respond(w, r, http.StatusCreated, trustedIssuerView(ti), err)
}

func (h *Handler) getTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	ti, err := h.Service.GetTrustedIssuer(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusOK, trustedIssuerView(ti), err)
}

func (h *Handler) updateTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	var req trustedIssuerRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := checkSameID(req.ID, r.PathValue("id")); err != nil {
		h.writeError(w, r, err)
		return
	}
	ti, err := h.Service.UpdateTrustedIssuer(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.patch())
	h.respond(w, r, http.StatusOK, trustedIssuerView(ti), err)
}

func (h *Handler) deleteTrustedIssuer(w http.ResponseWriter, r *http.Request) {
	err := h.Service.DeleteTrustedIssuer(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}
