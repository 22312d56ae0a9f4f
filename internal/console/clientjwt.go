package console

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// The OAuth tab's JWT bearer sections: X.509 certificates that verify the
// client's JWT bearer assertions (RFC 7523 §2.1), and the JWT bearer
// settings with the client_credentials service user.

// maxCertUpload bounds an uploaded certificate file; real certificates
// are a few KiB (the server middleware caps bodies too, SECURITY.md M1).
const maxCertUpload = 64 << 10

// jwtData is what the OAuth tab shows of the JWT bearer flow.
type jwtData struct {
	Certificates []service.CertificateView
	Bearer       storage.JWTBearerSettings
	Enabled      bool // the jwt-bearer grant type is on
	Users        []storage.User
	ServiceUsers []storage.User
	Profiles     []storage.Profile
	Issuers      []storage.TrustedIssuer
	UserFields   []string
	Policies     []string
	MaxLifetime  int64 // seconds
	// PreAuthPolicy is what the pre-authorization settings are: the
	// profiles template, its parameters and rules, shown read-only.
	PreAuthPolicy policy.PreAuthorization
}

// loadJWTData fills the OAuth tab's JWT bearer sections.
func (h *Handler) loadJWTData(r *http.Request, ws string, cl storage.Client) (*jwtData, error) {
	ctx := r.Context()
	certs, err := h.Service.ListClientCertificates(ctx, ws, cl.ID)
	if err != nil {
		return nil, err
	}
	users, err := h.Service.ListUsers(ctx, ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	profiles, err := h.Service.ListProfiles(ctx, ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	issuers, err := h.Service.ListTrustedIssuers(ctx, ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	d := &jwtData{
		Certificates: certs, Users: users.Items, Profiles: profiles.Items, Issuers: issuers.Items,
		UserFields: service.UserFields, Policies: service.PreAuthPolicies,
		Enabled: contains(cl.GrantTypes, oauth2.GrantJWTBearer),
	}
	d.Bearer = service.EffectiveJWTBearer(cl)
	d.PreAuthPolicy = policy.PreAuthorizationOf(&d.Bearer)
	d.MaxLifetime = int64(d.Bearer.MaxAssertionLifetime / time.Second)
	for _, u := range users.Items {
		if u.ServiceUser {
			d.ServiceUsers = append(d.ServiceUsers, u)
		}
	}
	return d, nil
}

// addCertificate stores an uploaded PEM, CRT or DER certificate.
func (h *Handler) addCertificate(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	var data []byte
	file, _, err := r.FormFile("certificate")
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(file, maxCertUpload+1))
		_ = file.Close()
	}
	if text := strings.TrimSpace(r.PostFormValue("certificate_pem")); len(data) == 0 && text != "" {
		data, err = []byte(text), nil
	}
	if err != nil || len(data) == 0 {
		h.oauthResult(w, r, c, &service.ValidationError{Errors: []service.FieldError{{
			Field: "certificate", Rule: "required", Message: "certificate: choose a PEM, CRT or DER file, or paste a PEM certificate"}}}, "")
		return
	}
	if len(data) > maxCertUpload {
		h.oauthResult(w, r, c, &service.ValidationError{Errors: []service.FieldError{{
			Field: "certificate", Rule: "size", Message: "certificate: the file is larger than 64 KiB"}}}, "")
		return
	}
	cv, err := h.Service.AddClientCertificate(r.Context(), c.ws, r.PathValue("id"), data, r.PostFormValue("kid"))
	h.oauthResult(w, r, c, err, "Certificate added (kid "+cv.KID+").")
}

func (h *Handler) removeCertificate(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	err := h.Service.RemoveClientCertificate(r.Context(), c.ws, r.PathValue("id"), r.PathValue("kid"))
	h.oauthResult(w, r, c, err, "Deleted the certificate “"+r.PathValue("kid")+"”: assertions signed with its key are refused from now on.")
}

// saveJWTBearer stores the JWT bearer settings, and only those: the
// grant type itself ("Enable JWT Bearer Flow" of the seed guide) is one
// of the grant types of the OAuth form, the single control of that
// setting, so saving this section never changes another field.
func (h *Handler) saveJWTBearer(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	var verr fieldErrs
	st := storage.JWTBearerSettings{
		UserField: f.get("user_field"), PreAuth: f.get("pre_auth"),
		AllowedProfiles: f.list("allowed_profiles"), AllowedUsers: f.list("allowed_users"),
		ExtraAudiences: splitLines(f.get("extra_audiences")), AllowedTrustedIssuers: f.list("allowed_trusted_issuers"),
		AllowHS256: f.checked("allow_hs256"), RefreshTokens: f.checked("refresh_tokens"),
	}
	if d, ok := verr.seconds(f, "max_assertion_lifetime", "max_assertion_lifetime"); ok {
		st.MaxAssertionLifetime = d
	}
	ctx, ws, id := r.Context(), c.ws, r.PathValue("id")
	_, err := orRun(&verr, func() (storage.Client, error) {
		return h.Service.SetClientJWTBearer(ctx, ws, id, service.ClientJWTInput{Settings: st, ServiceUserID: f.get("service_user_id")})
	})
	h.oauthResult(w, r, c, err, "JWT bearer settings saved.")
}

// oauthResult re-renders the OAuth tab with a notice or the errors.
func (h *Handler) oauthResult(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, notice string) {
	h.clientTabResult(w, r, c, "oauth", err, notice, "")
}

// clientTabResult re-renders tab of the client page after a save: with
// the form's errors when err is a validation error, else with notice and,
// when the save created one, the secret (shown this once).
func (h *Handler) clientTabResult(w http.ResponseWriter, r *http.Request, c *reqCtx, tab string, err error, notice, secret string) {
	d, derr := h.clientData(r, c, tab)
	if derr != nil {
		h.fail(w, r, c, derr)
		return
	}
	v := h.newView(r, c, d.Client.Name, "clients", d)
	v.URL = h.clientURL(c.ws, d.Client.ID, tab)
	if err != nil {
		status, ok := formErrors(v, err)
		if !ok {
			h.fail(w, r, c, err)
			return
		}
		h.render(w, r, status, "client", v)
		return
	}
	v.Notice = notice
	if secret != "" {
		d.Secret = secret
	}
	h.render(w, r, http.StatusOK, "client", v)
}
