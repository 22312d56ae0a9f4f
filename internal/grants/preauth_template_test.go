package grants

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestPreAuthorizationAsProfilesTemplate: the "profiles" policy template
// rendered from a client's JWT bearer pre-authorization
// (policy.PreAuthorizationParams) admits exactly the users the grant's
// pre-authorization check admits, so existing settings can become that
// template without changing who gets tokens.
func TestPreAuthorizationAsProfilesTemplate(t *testing.T) {
	settings := []*storage.JWTBearerSettings{
		{PreAuth: storage.PreAuthAdminApproved, AllowedProfiles: []string{"sales", "ops"}},
		{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{"u-1", "u~2"}},
		{PreAuth: storage.PreAuthAdminApproved, AllowedProfiles: []string{"ops"}, AllowedUsers: []string{"u-3"}},
		{PreAuth: "", AllowedProfiles: []string{"ops"}},
		{PreAuth: storage.PreAuthAllUsers, AllowedProfiles: []string{"ops"}},
		{PreAuth: storage.PreAuthAdminApproved},
		nil,
	}
	users := []storage.User{
		{ID: "u-1"}, {ID: "u~2", Profiles: []string{"dev"}}, {ID: "u-3"}, {ID: "u-4", Profiles: []string{"ops"}},
		{ID: "u-5", Profiles: []string{"sales", "dev"}}, {ID: "u-6", Profiles: []string{"dev"}},
	}
	for i, s := range settings {
		params, ok := policy.PreAuthorizationParams(s)
		var prg *policy.Program
		if ok {
			rules, err := policy.Render("profiles", params)
			if err != nil {
				t.Fatalf("settings %d: render: %v", i, err)
			}
			if prg, err = policy.Compile(rules); err != nil {
				t.Fatalf("settings %d: compile: %v", i, err)
			}
		}
		for _, u := range users {
			want := preAuthorized(storage.Client{JWTBearer: s}, u) == nil
			var got bool
			switch {
			case ok:
				got = prg.Evaluate(context.Background(), policy.Input{User: policy.FromUser(u)}).Allow
			case s != nil && s.PreAuth == storage.PreAuthAllUsers:
				got = true // no policy needed: everyone is admitted
			default:
				got = false // nobody is admitted: a policy cannot be the template
			}
			if got != want {
				t.Errorf("settings %d (%+v), user %s: template admits %v, pre-authorization %v", i, s, u.ID, got, want)
			}
		}
	}
}
