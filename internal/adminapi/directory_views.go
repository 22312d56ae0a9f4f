package adminapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// --- users

func userView(u storage.User) adminclient.User {
	attrs := u.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return adminclient.User{
		ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, ExternalID: u.ExternalID,
		Active: u.Active, ServiceUser: u.ServiceUser, Profiles: nonNil(u.Profiles), Attributes: attrs,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

type userRequest adminclient.UserRequest

func (req userRequest) input() service.UserInput {
	return service.UserInput{
		ID: deref(req.ID), Username: deref(req.Username), Email: deref(req.Email), DisplayName: deref(req.DisplayName),
		ExternalID: deref(req.ExternalID), Active: req.Active, ServiceUser: deref(req.ServiceUser),
		Profiles: deref(req.Profiles), Attributes: deref(req.Attributes),
	}
}

func (req userRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

func (req userRequest) patch() service.UserPatch {
	return service.UserPatch{
		Username: req.Username, Email: req.Email, DisplayName: req.DisplayName, ExternalID: req.ExternalID,
		Active: req.Active, ServiceUser: req.ServiceUser, Profiles: req.Profiles, Attributes: req.Attributes,
	}
}

// --- profiles

func profileView(p storage.Profile) adminclient.Profile {
	return adminclient.Profile{ID: p.ID, Name: p.Name, Description: p.Description, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type profileRequest adminclient.ProfileRequest

func (req profileRequest) input() service.ProfileInput {
	return service.ProfileInput{ID: deref(req.ID), Name: deref(req.Name), Description: deref(req.Description)}
}

func (req profileRequest) patch() service.ProfilePatch {
	return service.ProfilePatch{Name: req.Name, Description: req.Description}
}

func (req profileRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

// --- certificates

func certificateView(c service.CertificateView) adminclient.Certificate {
	return adminclient.Certificate{
		KID: c.KID, Subject: c.Subject, Issuer: c.Issuer, Serial: c.Serial, NotBefore: c.NotBefore,
		NotAfter: c.NotAfter, ThumbprintS256: c.ThumbprintS256, KeyType: c.KeyType, Warning: c.Warning,
		CreatedAt: c.CreatedAt,
	}
}

// certificateRequest uploads a certificate: PEM text, or DER in base64.
type certificateRequest adminclient.CertificateUpload

// bytes returns the upload: PEM as is, anything else base64-decoded (DER).
// Undecodable text is passed on so the service names the problem.
func (req certificateRequest) bytes() []byte {
	s := strings.TrimSpace(req.Certificate)
	if strings.HasPrefix(s, "-----BEGIN") {
		return []byte(s)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if der, err := enc.DecodeString(s); err == nil {
			return der
		}
	}
	return []byte(s)
}

// --- client JWT bearer settings

func jwtBearerView(c storage.Client) adminclient.JWTBearerSettings {
	s := service.EffectiveJWTBearer(c)
	return adminclient.JWTBearerSettings{
		UserField: s.UserField, PreAuth: s.PreAuth, AllowedProfiles: nonNil(s.AllowedProfiles),
		AllowedUsers: nonNil(s.AllowedUsers), ExtraAudiences: nonNil(s.ExtraAudiences),
		MaxAssertionLifetime: toSeconds(s.MaxAssertionLifetime), AllowHS256: s.AllowHS256,
		RefreshTokens: s.RefreshTokens, AllowedTrustedIssuers: nonNil(s.AllowedTrustedIssuers),
		ServiceUserID: c.ServiceUserID, PreAuthorizationPolicy: preAuthorizationView(&s),
	}
}

// preAuthorizationView is the policy the pre-authorization settings are
// (policy.PreAuthorizationOf), shown read-only.
func preAuthorizationView(s *storage.JWTBearerSettings) *adminclient.PreAuthorizationPolicy {
	pa := policy.PreAuthorizationOf(s)
	rules := make([]adminclient.PolicyRule, len(pa.Rules))
	for i, r := range pa.Rules {
		rules[i] = adminclient.PolicyRule{Condition: r.Condition, Outcome: r.Outcome, Message: r.Message}
	}
	return &adminclient.PreAuthorizationPolicy{Template: pa.Template, Params: pa.Params, Rules: rules}
}

type jwtBearerRequest adminclient.JWTBearerSettings

func (req jwtBearerRequest) input() service.ClientJWTInput {
	return service.ClientJWTInput{
		Settings: storage.JWTBearerSettings{
			UserField: req.UserField, PreAuth: req.PreAuth, AllowedProfiles: req.AllowedProfiles,
			AllowedUsers: req.AllowedUsers, ExtraAudiences: req.ExtraAudiences,
			MaxAssertionLifetime: seconds(req.MaxAssertionLifetime), AllowHS256: req.AllowHS256,
			RefreshTokens: req.RefreshTokens, AllowedTrustedIssuers: req.AllowedTrustedIssuers,
		},
		ServiceUserID: req.ServiceUserID,
	}
}

// --- trusted issuers

func trustedIssuerView(ti storage.TrustedIssuer) adminclient.TrustedIssuer {
	return adminclient.TrustedIssuer{
		ID: ti.ID, Name: ti.Name, Issuer: ti.Issuer, JWKSURI: ti.JWKSURI, JWKS: json.RawMessage(ti.JWKS),
		Audience: ti.Audience, AllowedClients: nonNil(ti.AllowedClients),
		MaxAssertionLifetime: toSeconds(ti.MaxAssertionLifetime), Enabled: ti.Enabled,
		ServiceUserID: ti.ServiceUserID, Claim: ti.Claim, ClaimFormat: ti.ClaimFormat,
		CreatedAt: ti.CreatedAt, UpdatedAt: ti.UpdatedAt,
	}
}

type trustedIssuerRequest adminclient.TrustedIssuerRequest

func (req trustedIssuerRequest) input() service.TrustedIssuerInput {
	return service.TrustedIssuerInput{
		ID: deref(req.ID), Name: deref(req.Name), Issuer: deref(req.Issuer), JWKSURI: deref(req.JWKSURI),
		JWKS: deref(patchJWKS(req.JWKS)), Audience: deref(req.Audience), AllowedClients: deref(req.AllowedClients),
		MaxAssertionLifetime: seconds(deref(req.MaxAssertionLifetime)), Enabled: req.Enabled,
		ServiceUserID: deref(req.ServiceUserID), Claim: deref(req.Claim), ClaimFormat: deref(req.ClaimFormat),
	}
}

func (req trustedIssuerRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

func (req trustedIssuerRequest) patch() service.TrustedIssuerPatch {
	return service.TrustedIssuerPatch{
		Name: req.Name, Issuer: req.Issuer, JWKSURI: req.JWKSURI, JWKS: patchJWKS(req.JWKS), Audience: req.Audience,
		AllowedClients: req.AllowedClients, MaxAssertionLifetime: secondsPtr(req.MaxAssertionLifetime),
		Enabled: req.Enabled, ServiceUserID: req.ServiceUserID, Claim: req.Claim, ClaimFormat: req.ClaimFormat,
	}
}
