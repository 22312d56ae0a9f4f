package adminapi

import (
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// clientFlowJSON is the part of the client document about the
// authorization code flow: the console's presentation settings and the
// OpenID Connect and refresh token settings (issue 5). Embedded in both
// the client view and the client request, so the members sit at the top
// level of the document like the RFC 7591 metadata they mirror.
type clientFlowJSON struct {
	PolicyURI                *string           `json:"policy_uri,omitempty"`
	TOSURI                   *string           `json:"tos_uri,omitempty"`
	ClientURI                *string           `json:"client_uri,omitempty"`
	LogoURI                  *string           `json:"logo_uri,omitempty"`
	Trusted                  *bool             `json:"trusted,omitempty"`
	RequirePKCE              *bool             `json:"require_pkce,omitempty"`
	SubjectType              *string           `json:"subject_type,omitempty"`
	SectorIdentifierURI      *string           `json:"sector_identifier_uri,omitempty"`
	PostLogoutRedirectURIs   *[]string         `json:"post_logout_redirect_uris,omitempty"`
	IDTokenSignedResponseAlg *string           `json:"id_token_signed_response_alg,omitempty"`
	RefreshTokens            *refreshTokenJSON `json:"refresh_tokens,omitempty"`
}

// refreshTokenJSON is storage.RefreshTokenSettings with durations in
// seconds, like every duration of the admin API.
type refreshTokenJSON struct {
	Always      bool  `json:"always"`
	NoRotation  bool  `json:"no_rotation"`
	GracePeriod int64 `json:"grace_period"`
	IdleTTL     int64 `json:"idle_ttl"`
	AbsoluteTTL int64 `json:"absolute_ttl"`
}

func clientFlowView(c storage.Client) clientFlowJSON {
	pkce := c.PKCERequired()
	subject := c.SubjectType
	if subject == "" {
		subject = service.SubjectPublic
	}
	v := clientFlowJSON{
		PolicyURI: &c.PolicyURI, TOSURI: &c.TOSURI, ClientURI: &c.ClientURI, LogoURI: &c.LogoURI,
		Trusted: &c.Trusted, RequirePKCE: &pkce, SubjectType: &subject,
		SectorIdentifierURI: &c.SectorIdentifierURI, IDTokenSignedResponseAlg: &c.IDTokenSignedResponseAlg,
	}
	uris := nonNil(c.PostLogoutRedirectURIs)
	v.PostLogoutRedirectURIs = &uris
	if r := c.RefreshTokens; r != nil {
		v.RefreshTokens = &refreshTokenJSON{Always: r.Always, NoRotation: r.NoRotation, GracePeriod: toSeconds(r.GracePeriod),
			IdleTTL: toSeconds(r.IdleTTL), AbsoluteTTL: toSeconds(r.AbsoluteTTL)}
	}
	return v
}

func (f clientFlowJSON) presentationPatch() service.PresentationPatch {
	return service.PresentationPatch{
		PolicyURI: f.PolicyURI, TOSURI: f.TOSURI, ClientURI: f.ClientURI, LogoURI: f.LogoURI,
		Trusted: f.Trusted, RequirePKCE: f.RequirePKCE, SubjectType: f.SubjectType,
	}
}

func (f clientFlowJSON) authFlowPatch() service.AuthFlowPatch {
	p := service.AuthFlowPatch{
		SectorIdentifierURI: f.SectorIdentifierURI, PostLogoutRedirectURIs: f.PostLogoutRedirectURIs,
		IDTokenSignedResponseAlg: f.IDTokenSignedResponseAlg,
	}
	if f.RefreshTokens != nil {
		r := f.RefreshTokens.settings()
		p.RefreshTokens = &r
	}
	return p
}

func (r refreshTokenJSON) settings() *storage.RefreshTokenSettings {
	return &storage.RefreshTokenSettings{
		Always: r.Always, NoRotation: r.NoRotation, GracePeriod: time.Duration(r.GracePeriod) * time.Second,
		IdleTTL: time.Duration(r.IdleTTL) * time.Second, AbsoluteTTL: time.Duration(r.AbsoluteTTL) * time.Second,
	}
}

// withFlow applies the flow members of a create request to in.
func (f clientFlowJSON) withFlow(in service.ClientInput) service.ClientInput {
	in.Presentation = service.Presentation{
		PolicyURI: deref(f.PolicyURI), TOSURI: deref(f.TOSURI), ClientURI: deref(f.ClientURI), LogoURI: deref(f.LogoURI),
		Trusted: deref(f.Trusted), RequirePKCE: f.RequirePKCE, SubjectType: deref(f.SubjectType),
	}
	in.AuthFlowSettings = f.authFlowPatch().Apply(in.AuthFlowSettings)
	return in
}
