package console

import (
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// The client page's Protocols tab and the workspace settings' protocol
// section: DPoP (RFC 9449), mutual TLS (RFC 8705), pushed and signed
// authorization requests and responses (RFC 9126, RFC 9101, JARM), token
// exchange (RFC 8693), logout channels (OpenID Connect Back-Channel and
// Front-Channel Logout 1.0) and backchannel authentication (CIBA Core).
// Each section is its own form saving only its own fields, through the
// service calls the admin API makes (UpdateClient, SetClientTokenExchange,
// UpdateWorkspace).

// protocolsView is what the Protocols tab shows.
type protocolsView struct {
	// Signed requests: the algorithms each select offers.
	RequestObjectAlgs []string
	ResponseSignAlgs  []string
	EncryptionAlgs    []string
	EncryptionEncs    []string
	// Token exchange: the client's settings, the subject token types and
	// the workspace's trusted issuers the allowed issuers are chosen from.
	TokenExchange     storage.TokenExchangeSettings
	SubjectTokenTypes []string
	Issuers           []storage.TrustedIssuer
	// UnknownIssuers are allowed issuer IDs no longer among the trusted
	// issuers (shown so that saving does not drop them unseen).
	UnknownIssuers []string
	// CIBAModes are the token delivery modes a client may register.
	CIBAModes []string
	// DetailTypes are the workspace's RFC 9396 types the client's
	// authorization_details_types is chosen from; UnknownDetailTypes
	// those it lists that no service declares any more (detailtypes.go).
	DetailTypes        []detailTypeChoice
	UnknownDetailTypes []string
}

// loadProtocols fills the Protocols tab.
func (h *Handler) loadProtocols(r *http.Request, ws storage.Workspace, cl storage.Client) (*protocolsView, error) {
	issuers, err := h.Service.ListTrustedIssuers(r.Context(), ws.ID, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	v := &protocolsView{TokenExchange: service.EffectiveTokenExchange(cl), SubjectTokenTypes: storage.SubjectTokenTypes, Issuers: issuers.Items}
	if v.DetailTypes, err = h.detailTypeChoices(r, ws.ID); err != nil {
		return nil, err
	}
	v.options(ws, cl)
	return v, nil
}

// options fills the selects' choices and the unknown issuers from the
// values shown (stored, or those of a refused save).
func (v *protocolsView) options(ws storage.Workspace, cl storage.Client) {
	alg := ws.Settings.SigningAlg
	if alg == "" {
		alg = oauth2.AlgRS256
	}
	v.RequestObjectAlgs = withCurrent(oauth2.RequestObjectSigningAlgs, cl.RequestObjectSigningAlg)
	v.ResponseSignAlgs = withCurrent([]string{alg}, cl.AuthorizationSignedResponseAlg)
	v.EncryptionAlgs = withCurrent(oauth2.AuthorizationEncryptionAlgs, cl.AuthorizationEncryptedResponseAlg)
	v.EncryptionEncs = withCurrent(oauth2.AuthorizationEncryptionEncs, cl.AuthorizationEncryptedResponseEnc)
	v.CIBAModes = withCurrent(service.CIBADeliveryModes, cl.BackchannelTokenDeliveryMode)
	v.UnknownDetailTypes = unknownDetailTypes(v.DetailTypes, cl.AuthorizationDetailsTypes)
	v.UnknownIssuers = nil
	for _, id := range v.TokenExchange.AllowedIssuers {
		known := false
		for _, ti := range v.Issuers {
			known = known || ti.ID == id
		}
		if !known {
			v.UnknownIssuers = append(v.UnknownIssuers, id)
		}
	}
}

// withCurrent is list plus cur when cur is set and not in it, so a select
// always shows the stored value.
func withCurrent(list []string, cur string) []string {
	if cur == "" || contains(list, cur) {
		return list
	}
	return append(append([]string{}, list...), cur)
}

// protocolSections name the Protocols tab's forms and their notices.
var protocolSections = map[string]string{
	"dpop":            "DPoP settings saved.",
	"mtls":            "Mutual TLS settings saved.",
	"signed-requests": "Pushed and signed request settings saved.",
	"token-exchange":  "Token exchange settings saved.",
	"logout-channels": "Logout channel settings saved.",
	"ciba":            "Backchannel authentication settings saved.",
	// RFC 9396 §10 (detailtypes.go).
	"authorization-details": "Authorization details types saved.",
}

// saveProtocolSection stores one section of the Protocols tab.
func (h *Handler) saveProtocolSection(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	section := r.PathValue("section")
	notice, ok := protocolSections[section]
	if !ok {
		h.renderError(w, r, c, http.StatusNotFound, "This section has nothing to save.")
		return
	}
	f := formOf(r)
	ctx, ws, id := r.Context(), c.ws, r.PathValue("id")
	// values are the form's values by field, as the service names them
	// (a list's error "allowed_audiences[1]" names the second line).
	values := url.Values{}
	for k, v := range r.PostForm {
		values[k] = v
	}
	var err error
	var refused func(d *clientData)
	if section == "token-exchange" {
		st := storage.TokenExchangeSettings{
			SubjectTokenTypes: f.list("subject_token_types"), AllowedIssuers: f.list("allowed_issuers"),
			AllowedAudiences: splitLines(f.get("allowed_audiences")),
			MayImpersonate:   f.checked("may_impersonate"), MayDelegate: f.checked("may_delegate"),
			RefreshTokens: f.checked("refresh_tokens"),
		}
		values["allowed_audiences"] = st.AllowedAudiences
		_, err = h.Service.SetClientTokenExchange(ctx, ws, id, st)
		refused = func(d *clientData) {
			d.Protocols.TokenExchange = service.EffectiveTokenExchange(storage.Client{TokenExchange: &st})
		}
	} else {
		p := protocolPatch(section, f)
		_, err = h.Service.UpdateClient(ctx, ws, id, p)
		refused = func(d *clientData) { d.Client = withProtocolPatch(d.Client, p) }
	}
	h.protocolsResult(w, r, c, err, notice, values, refused)
}

// withProtocolPatch is cl showing a refused patch's values, so the form
// shows what was sent next to the messages about it (nothing is stored).
func withProtocolPatch(cl storage.Client, p service.ClientPatch) storage.Client {
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	flag := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	flag(&cl.DPoPBoundAccessTokens, p.DPoPBoundAccessTokens)
	str(&cl.TLSClientAuthSubjectDN, p.TLSClientAuthSubjectDN)
	str(&cl.TLSClientAuthSANDNS, p.TLSClientAuthSANDNS)
	str(&cl.TLSClientAuthSANURI, p.TLSClientAuthSANURI)
	str(&cl.TLSClientAuthSANIP, p.TLSClientAuthSANIP)
	str(&cl.TLSClientAuthSANEmail, p.TLSClientAuthSANEmail)
	flag(&cl.TLSClientCertificateBoundAccessTokens, p.TLSClientCertificateBoundAccessTokens)
	flag(&cl.RequirePushedAuthorizationRequests, p.RequirePushedAuthorizationRequests)
	str(&cl.RequestObjectSigningAlg, p.RequestObjectSigningAlg)
	str(&cl.AuthorizationSignedResponseAlg, p.AuthorizationSignedResponseAlg)
	str(&cl.AuthorizationEncryptedResponseAlg, p.AuthorizationEncryptedResponseAlg)
	str(&cl.AuthorizationEncryptedResponseEnc, p.AuthorizationEncryptedResponseEnc)
	str(&cl.BackchannelLogoutURI, p.BackchannelLogoutURI)
	flag(&cl.BackchannelLogoutSessionRequired, p.BackchannelLogoutSessionRequired)
	str(&cl.FrontchannelLogoutURI, p.FrontchannelLogoutURI)
	flag(&cl.FrontchannelLogoutSessionRequired, p.FrontchannelLogoutSessionRequired)
	str(&cl.BackchannelTokenDeliveryMode, p.BackchannelTokenDeliveryMode)
	str(&cl.BackchannelClientNotificationEndpoint, p.BackchannelClientNotificationEndpoint)
	if p.AuthorizationDetailsTypes != nil {
		cl.AuthorizationDetailsTypes = *p.AuthorizationDetailsTypes
	}
	return cl
}

// protocolPatch is the ClientPatch of one section: only its fields are
// set (an unticked box is false; a missing text field is left alone).
func protocolPatch(section string, f form) service.ClientPatch {
	var p service.ClientPatch
	on := func(k string) *bool { b := f.checked(k); return &b }
	switch section {
	case "dpop":
		p.DPoPBoundAccessTokens = on("dpop_bound_access_tokens")
	case "mtls":
		p.TLSClientAuthSubjectDN, p.TLSClientAuthSANDNS = f.str("tls_client_auth_subject_dn"), f.str("tls_client_auth_san_dns")
		p.TLSClientAuthSANURI, p.TLSClientAuthSANIP = f.str("tls_client_auth_san_uri"), f.str("tls_client_auth_san_ip")
		p.TLSClientAuthSANEmail = f.str("tls_client_auth_san_email")
		p.TLSClientCertificateBoundAccessTokens = on("tls_client_certificate_bound_access_tokens")
	case "signed-requests":
		p.RequirePushedAuthorizationRequests = on("require_pushed_authorization_requests")
		p.RequestObjectSigningAlg = f.str("request_object_signing_alg")
		p.AuthorizationSignedResponseAlg = f.str("authorization_signed_response_alg")
		p.AuthorizationEncryptedResponseAlg = f.str("authorization_encrypted_response_alg")
		p.AuthorizationEncryptedResponseEnc = f.str("authorization_encrypted_response_enc")
	case "logout-channels":
		p.BackchannelLogoutURI, p.FrontchannelLogoutURI = f.str("backchannel_logout_uri"), f.str("frontchannel_logout_uri")
		p.BackchannelLogoutSessionRequired = on("backchannel_logout_session_required")
		p.FrontchannelLogoutSessionRequired = on("frontchannel_logout_session_required")
	case "ciba":
		p.BackchannelTokenDeliveryMode = f.str("backchannel_token_delivery_mode")
		p.BackchannelClientNotificationEndpoint = f.str("backchannel_client_notification_endpoint")
	case "authorization-details":
		// RFC 9396 §10: no box ticked is the empty list (every type of
		// the client's services).
		types := append([]string{}, f.list("authorization_details_types")...)
		p.AuthorizationDetailsTypes = &types
	}
	return p
}

// protocolsResult re-renders the Protocols tab after a save: a refused
// save shows the section with the values sent (refused applies them to
// the page's data) and each problem next to its field (and in the page's
// alert).
func (h *Handler) protocolsResult(w http.ResponseWriter, r *http.Request, c *reqCtx, err error, notice string, values url.Values, refused func(d *clientData)) {
	d, derr := h.clientData(r, c, "protocols")
	if derr != nil {
		h.fail(w, r, c, derr)
		return
	}
	v := h.newView(r, c, d.Client.Name, "clients", d)
	v.URL = h.clientURL(c.ws, d.Client.ID, "protocols")
	if err != nil {
		status, ok := formErrors(v, err)
		if !ok {
			h.fail(w, r, c, err)
			return
		}
		d.Errs = groupFieldErrors(v.Errors, values)
		refused(d)
		d.Protocols.options(d.Workspace, d.Client)
		h.render(w, r, status, "client", v)
		return
	}
	v.Notice = notice
	h.render(w, r, http.StatusOK, "client", v)
}

// saveWorkspaceProtocols stores the settings page's protocol section:
// server DPoP nonces (RFC 9449 §8), "require PAR" for every client
// (RFC 9126 §5) and the lifetime of PAR request_uri values (RFC 9126
// §2.2), leaving every other workspace setting alone.
func (h *Handler) saveWorkspaceProtocols(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	nonce, par := f.checked("dpop_nonce"), f.checked("require_pushed_authorization_requests")
	p := service.WorkspacePatch{DPoPNonce: &nonce, RequirePushedAuthorizationRequests: &par}
	var verr fieldErrs
	if ttl, ok := verr.seconds(f, "settings.pushed_request_ttl", "pushed_request_ttl"); ok {
		p.PushedRequestTTL = &ttl
	}
	ws, err := orRun(&verr, func() (storage.Workspace, error) { return h.Service.UpdateWorkspace(r.Context(), c.ws, p) })
	h.renderSettingsSaved(w, r, c, ws, err, "Protocol settings saved.")
}
