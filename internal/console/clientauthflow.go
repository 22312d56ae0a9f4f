package console

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// saveAuthFlow stores the OAuth tab's authorization code and OpenID
// Connect settings: subject format (subject type pairwise follows it)
// and sector identifier (OIDC Core §8.1), post-logout redirect URIs, the ID token algorithm and the
// refresh token settings, through the same UpdateClient as the API.
func (h *Handler) saveAuthFlow(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	var verr fieldErrs
	rt := &storage.RefreshTokenSettings{Always: f.checked("rt_always"), NoRotation: f.checked("rt_no_rotation")}
	rt.GracePeriod, _ = verr.seconds(f, "refresh_tokens.grace_period", "rt_grace_period")
	rt.IdleTTL, _ = verr.seconds(f, "refresh_tokens.idle_ttl", "rt_idle_ttl")
	rt.AbsoluteTTL, _ = verr.seconds(f, "refresh_tokens.absolute_ttl", "rt_absolute_ttl")
	if *rt == (storage.RefreshTokenSettings{}) {
		rt = nil // the defaults
	}
	logout := splitLines(f.get("post_logout_redirect_uris"))
	var p service.ClientPatch
	p.SubjectFormat = f.str("subject_format")
	p.SectorIdentifierURI, p.IDTokenSignedResponseAlg = f.str("sector_identifier_uri"), f.str("id_token_signed_response_alg")
	p.PostLogoutRedirectURIs, p.RefreshTokens = &logout, &rt
	ctx, ws, id := r.Context(), c.ws, r.PathValue("id")
	_, err := orRun(&verr, func() (service.ClientWithSecret, error) { return h.Service.UpdateClient(ctx, ws, id, p) })
	h.oauthResult(w, r, c, err, "Authorization code and OpenID Connect settings saved.")
}

// authFlowView is what the OAuth tab shows of those settings.
type authFlowView struct {
	RT   storage.RefreshTokenSettings
	Algs []string
	// SubjectFormat is the client's, SubjectWarnings what the admin API
	// warns about it (a username or e-mail subject changes on rename).
	SubjectFormat   string
	SubjectWarnings []string
	// FAPI: the workspace runs under a FAPI 2.0 profile, which keeps
	// refresh tokens unless a grace period is set (fapi.RotateRefresh).
	FAPI bool
}

// newAuthFlowView offers the ID token algorithms the service accepts: the
// workspace's signing algorithm (its keys sign ID tokens), plus the
// client's current value should it differ after a workspace change.
func newAuthFlowView(ws storage.Workspace, cl storage.Client) authFlowView {
	v := authFlowView{Algs: []string{ws.Settings.SigningAlg}, SubjectFormat: cl.EffectiveSubjectFormat(),
		SubjectWarnings: service.SubjectFormatWarnings(cl), FAPI: fapi.On(ws)}
	if a := cl.IDTokenSignedResponseAlg; a != "" && a != ws.Settings.SigningAlg {
		v.Algs = append(v.Algs, a)
	}
	if cl.RefreshTokens != nil {
		v.RT = *cl.RefreshTokens
	}
	return v
}
