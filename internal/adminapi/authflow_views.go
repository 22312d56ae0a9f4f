package adminapi

import (
	"time"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// clientFlow is the part of the client document about the authorization
// code flow (adminclient.ClientFlow), embedded in both the client view and
// the client request.
type clientFlow adminclient.ClientFlow

func clientFlowView(c storage.Client) adminclient.ClientFlow {
	pkce := c.PKCERequired()
	format := c.EffectiveSubjectFormat()
	subject := service.SubjectPublic
	if format == storage.SubjectFormatPairwise {
		subject = service.SubjectPairwise
	}
	v := adminclient.ClientFlow{
		PolicyURI: &c.PolicyURI, TOSURI: &c.TOSURI, ClientURI: &c.ClientURI, LogoURI: &c.LogoURI,
		Trusted: &c.Trusted, RequirePKCE: &pkce, SubjectType: &subject, SubjectFormat: &format,
		SectorIdentifierURI: &c.SectorIdentifierURI, IDTokenSignedResponseAlg: &c.IDTokenSignedResponseAlg,
	}
	uris := nonNil(c.PostLogoutRedirectURIs)
	v.PostLogoutRedirectURIs = &uris
	v.AccessTokenFormat, v.IDTokenTTL = tokenSettingsView(c)
	v.DPoPBoundAccessTokens = &c.DPoPBoundAccessTokens
	v.BackchannelLogoutURI, v.BackchannelLogoutSessionRequired = &c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired
	v.FrontchannelLogoutURI, v.FrontchannelLogoutSessionRequired = &c.FrontchannelLogoutURI, &c.FrontchannelLogoutSessionRequired
	v.BackchannelTokenDeliveryMode, v.BackchannelClientNotificationEndpoint = &c.BackchannelTokenDeliveryMode, &c.BackchannelClientNotificationEndpoint
	v.BackchannelUserCodeParameter = &c.BackchannelUserCodeParameter
	signedRequestsView(&v, c)
	mtlsView(&v, c) // RFC 8705 (mtls_views.go)
	clientDetailTypesView(&v, c)
	if r := c.RefreshTokens; r != nil {
		v.RefreshTokens = &adminclient.RefreshTokenSettings{Always: r.Always, NoRotation: r.NoRotation,
			GracePeriod: toSeconds(r.GracePeriod), IdleTTL: toSeconds(r.IdleTTL), AbsoluteTTL: toSeconds(r.AbsoluteTTL)}
	}
	return v
}

func (f clientFlow) presentationPatch() service.PresentationPatch {
	return service.PresentationPatch{
		PolicyURI: f.PolicyURI, TOSURI: f.TOSURI, ClientURI: f.ClientURI, LogoURI: f.LogoURI,
		Trusted: f.Trusted, RequirePKCE: f.RequirePKCE, SubjectType: f.SubjectType, SubjectFormat: f.SubjectFormat,
	}
}

func (f clientFlow) authFlowPatch() service.AuthFlowPatch {
	p := service.AuthFlowPatch{
		SectorIdentifierURI: f.SectorIdentifierURI, PostLogoutRedirectURIs: f.PostLogoutRedirectURIs,
		IDTokenSignedResponseAlg: f.IDTokenSignedResponseAlg,
		LogoutChannelsPatch: service.LogoutChannelsPatch{
			BackchannelLogoutURI: f.BackchannelLogoutURI, BackchannelLogoutSessionRequired: f.BackchannelLogoutSessionRequired,
			FrontchannelLogoutURI: f.FrontchannelLogoutURI, FrontchannelLogoutSessionRequired: f.FrontchannelLogoutSessionRequired,
		},
		CIBASettingsPatch: service.CIBASettingsPatch{
			BackchannelTokenDeliveryMode:          f.BackchannelTokenDeliveryMode,
			BackchannelClientNotificationEndpoint: f.BackchannelClientNotificationEndpoint,
			BackchannelUserCodeParameter:          f.BackchannelUserCodeParameter,
		},
	}
	if f.RefreshTokens != nil {
		r := refreshTokenSettings(*f.RefreshTokens)
		p.RefreshTokens = &r
	}
	return p
}

func refreshTokenSettings(r adminclient.RefreshTokenSettings) *storage.RefreshTokenSettings {
	return &storage.RefreshTokenSettings{
		Always: r.Always, NoRotation: r.NoRotation, GracePeriod: time.Duration(r.GracePeriod) * time.Second,
		IdleTTL: time.Duration(r.IdleTTL) * time.Second, AbsoluteTTL: time.Duration(r.AbsoluteTTL) * time.Second,
	}
}

// withFlow applies the flow members of a create request to in.
func (f clientFlow) withFlow(in service.ClientInput) service.ClientInput {
	in.Presentation = service.Presentation{
		PolicyURI: deref(f.PolicyURI), TOSURI: deref(f.TOSURI), ClientURI: deref(f.ClientURI), LogoURI: deref(f.LogoURI),
		Trusted: deref(f.Trusted), RequirePKCE: f.RequirePKCE, SubjectType: deref(f.SubjectType),
		SubjectFormat: deref(f.SubjectFormat),
	}
	in.AuthFlowSettings = f.authFlowPatch().Apply(in.AuthFlowSettings)
	in.TokenSettings = f.tokenSettings()
	in.SignedRequestSettings = f.signedRequestPatch().Apply(in.SignedRequestSettings)
	in.MTLSSettings = f.mtlsPatch().Apply(in.MTLSSettings)
	in.AuthorizationDetailsTypes = deref(f.AuthorizationDetailsTypes)
	return in
}
