package adminapi

import (
	"net/http"
	"slices"

	"github.com/latchkey/latchkey/adminclient"
)

// directoryRoutes are the routes of the directory: users, profiles, client
// certificates, client JWT bearer settings and trusted issuers.
func (h *Handler) directoryRoutes(ws string) []route {
	return slices.Concat(
		collectionRoutes[userRequest](h, ws, "users", userView,
			(*svc).ListUsers, (*svc).CreateUser, (*svc).GetUser, (*svc).UpdateUser, (*svc).DeleteUser),
		collectionRoutes[profileRequest](h, ws, "profiles", profileView,
			(*svc).ListProfiles, (*svc).CreateProfile, (*svc).GetProfile, (*svc).UpdateProfile, (*svc).DeleteProfile),
		[]route{
			{"GET " + ws + "/clients/{id}/certificates", h.listCertificates, false},
			{"POST " + ws + "/clients/{id}/certificates", h.addCertificate, false},
			{"DELETE " + ws + "/clients/{id}/certificates/{kid}", h.removeCertificate, false},
			{"GET " + ws + "/clients/{id}/jwt-bearer", getHandler(h, (*svc).GetClient, jwtBearerView), false},
			{"PUT " + ws + "/clients/{id}/jwt-bearer", h.setJWTBearer, false},
			{"GET " + ws + "/clients/{id}/token-exchange", getHandler(h, (*svc).GetClient, tokenExchangeView), false},
			{"PUT " + ws + "/clients/{id}/token-exchange", h.setTokenExchange, false},
		},
		collectionRoutes[trustedIssuerRequest](h, ws, "trusted-issuers", trustedIssuerView,
			(*svc).ListTrustedIssuers, (*svc).CreateTrustedIssuer, (*svc).GetTrustedIssuer,
			(*svc).UpdateTrustedIssuer, (*svc).DeleteTrustedIssuer),
	)
}

// --- certificates

func (h *Handler) listCertificates(w http.ResponseWriter, r *http.Request) {
	certs, err := h.Service.ListClientCertificates(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	out := adminclient.List[adminclient.Certificate]{Items: make([]adminclient.Certificate, len(certs))}
	for i, c := range certs {
		out.Items[i] = certificateView(c)
	}
	h.respond(w, r, http.StatusOK, out, err)
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

// setJWTBearer replaces the settings (PUT, so an empty body is allowed:
// it sets the defaults).
func (h *Handler) setJWTBearer(w http.ResponseWriter, r *http.Request) {
	var req jwtBearerRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Service.SetClientJWTBearer(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.input())
	h.respond(w, r, http.StatusOK, jwtBearerView(c), err)
}
