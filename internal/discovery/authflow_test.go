package discovery_test

import (
	"context"
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/authorize"
)

// TestAuthorizationFlowMetadata: the code flow and OpenID Connect members
// list exactly what the endpoints accept (SECURITY.md E6, E9, F8, P1).
func TestAuthorizationFlowMetadata(t *testing.T) {
	f := newFixture(t)
	ws, err := f.env.Store.GetWorkspace(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	md, err := f.h.Build(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"authorization_endpoint", md.AuthorizationEndpoint == md.Issuer+"/oauth2/authorize"},
		{"userinfo_endpoint", md.UserInfoEndpoint == md.Issuer+"/oauth2/userinfo"},
		{"end_session_endpoint", md.EndSessionEndpoint == md.Issuer+"/oauth2/logout"},
		{"response_types_supported", slices.Equal(md.ResponseTypesSupported, []string{"code"})},
		{"response_modes_supported", slices.Equal(md.ResponseModesSupported, authorize.ResponseModes)},
		{"code_challenge_methods_supported (F8)", slices.Equal(md.CodeChallengeMethodsSupported, []string{"S256"})},
		{"subject_types_supported", slices.Equal(md.SubjectTypesSupported, []string{"public", "pairwise"})},
		{"id_token_signing_alg_values_supported", slices.Equal(md.IDTokenSigningAlgValuesSupported, []string{ws.Settings.SigningAlg})},
		// Request objects by value, request_uri from PAR only (RFC 9101
		// §10.5, RFC 9126 §5; SECURITY.md T).
		{"request_parameter_supported (T8)", md.RequestParameterSupported},
		{"request_uri_parameter_supported (T7)", md.RequestURIParameterSupported},
		{"pushed_authorization_request_endpoint (T5)", md.PushedAuthorizationRequestEndpoint == md.Issuer+"/oauth2/par"},
		{"require_pushed_authorization_requests", md.RequirePushedAuthorizationRequests == ws.Settings.RequirePushedAuthorizationRequests},
		{"request_object_signing_alg_values_supported (T9)", len(md.RequestObjectSigningAlgValuesSupported) > 0 &&
			!slices.Contains(md.RequestObjectSigningAlgValuesSupported, "none") && !slices.Contains(md.RequestObjectSigningAlgValuesSupported, "HS256")},
		{"authorization_signing_alg_values_supported (T13)", slices.Equal(md.AuthorizationSigningAlgValuesSupported, []string{ws.Settings.SigningAlg})},
		{"authorization_encryption_alg_values_supported (T15)", !slices.Contains(md.AuthorizationEncryptionAlgValuesSupported, "RSA1_5")},
		{"claims_parameter_supported", md.ClaimsParameterSupported},
		{"authorization_response_iss_parameter_supported (E6)", md.AuthorizationResponseIssParameterSupported},
		{"claims_supported has sub and email", slices.Contains(md.ClaimsSupported, "sub") && slices.Contains(md.ClaimsSupported, "email")},
		{"scopes include openid and offline_access", slices.Contains(md.ScopesSupported, "openid") && slices.Contains(md.ScopesSupported, "offline_access")},
		{"grant types include the code flow", slices.Contains(md.GrantTypesSupported, "authorization_code") && slices.Contains(md.GrantTypesSupported, "refresh_token")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s is wrong: %+v", c.name, md)
		}
	}
}
