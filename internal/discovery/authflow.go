package discovery

import (
	"github.com/latchkey/latchkey/internal/authorize"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// addAuthorizationFlow fills the members of the authorization code flow
// and OpenID Connect from the packages that implement them, so the
// document lists exactly what is accepted: response type code only, the
// three response modes, S256 only (SECURITY.md F8), no request objects
// (E9), iss in every authorization response (E6), and ID tokens signed
// with the workspace's algorithm (its keys sign with one at a time).
func addAuthorizationFlow(md *Metadata, ws storage.Workspace) {
	issuer := md.Issuer
	md.AuthorizationEndpoint = issuer + "/oauth2/authorize"
	md.UserInfoEndpoint = issuer + "/oauth2/userinfo"
	md.EndSessionEndpoint = issuer + "/oauth2/logout"
	md.ResponseTypesSupported = []string{"code"}
	md.ResponseModesSupported = authorize.ResponseModes
	md.SubjectTypesSupported = oidc.SubjectTypes
	md.IDTokenSigningAlgValuesSupported = []string{idTokenAlg(ws)}
	md.CodeChallengeMethodsSupported = []string{"S256"}
	md.ClaimsSupported = oidc.SupportedClaims()
	md.ClaimsParameterSupported = true
	md.AuthorizationResponseIssParameterSupported = true
	md.UILocalesSupported = webui.Languages()
	// Logout tokens always carry sid, and front-channel logout URIs get
	// iss and sid when the client asks (package logoutchannel).
	md.BackchannelLogoutSupported, md.BackchannelLogoutSessionSupported = true, true
	md.FrontchannelLogoutSupported, md.FrontchannelLogoutSessionSupported = true, true
	addSignedRequests(md, ws)
}

func idTokenAlg(ws storage.Workspace) string {
	if ws.Settings.SigningAlg != "" {
		return ws.Settings.SigningAlg
	}
	return oauth2.AlgRS256
}
