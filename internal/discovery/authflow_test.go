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
		{"request_parameter_supported (E9)", !md.RequestParameterSupported},
		{"request_uri_parameter_supported (E9)", !md.RequestURIParameterSupported},
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
