package grants

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// goPreAuthorized is the pre-authorization check the JWT bearer grant ran
// in Go before its settings became the "profiles" template: the reference
// the template must match user for user.
func goPreAuthorized(s *storage.JWTBearerSettings, u storage.User) bool {
	if s == nil {
		return false
	}
	if s.PreAuth == storage.PreAuthAllUsers {
		return true
	}
	if slices.Contains(s.AllowedUsers, u.ID) {
		return true
	}
	for _, p := range u.Profiles {
		if slices.Contains(s.AllowedProfiles, p) {
			return true
		}
	}
	return false
}

// TestPreAuthorizationAsProfilesTemplate: a client's JWT bearer
// pre-authorization is the "profiles" template (policy.PreAuthorizationOf),
// and the grant's check (preAuthorized, which evaluates that template)
// admits exactly the users the former Go check admitted, with the same
// error for the others. Where the parameters are a policy an admin could
// save (Render accepts them), that policy decides the same too.
func TestPreAuthorizationAsProfilesTemplate(t *testing.T) {
	var many []string // longer than an expression a person may write (4 KiB)
	for i := range 300 {
		many = append(many, fmt.Sprintf("user-%03d-%s", i, "0123456789abcdef0123456789"))
	}
	settings := []*storage.JWTBearerSettings{
		{PreAuth: storage.PreAuthAdminApproved, AllowedProfiles: []string{"sales", "ops"}},
		{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{"u-1", "u~2"}},
		{PreAuth: storage.PreAuthAdminApproved, AllowedProfiles: []string{"ops"}, AllowedUsers: []string{"u-3"}},
		{PreAuth: "", AllowedProfiles: []string{"ops"}},
		{PreAuth: storage.PreAuthAllUsers, AllowedProfiles: []string{"ops"}},
		{PreAuth: storage.PreAuthAllUsers},
		{PreAuth: storage.PreAuthAdminApproved},
		{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: append(slices.Clone(many), "u-6")},
		{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{`u"] || true || ["`}},
		nil,
	}
	users := []storage.User{
		{ID: "u-1"}, {ID: "u~2", Profiles: []string{"dev"}}, {ID: "u-3"}, {ID: "u-4", Profiles: []string{"ops"}},
		{ID: "u-5", Profiles: []string{"sales", "dev"}}, {ID: "u-6", Profiles: []string{"dev"}},
		{ID: many[299]}, {ID: `u"] || true || ["`}, {ID: "u-7", Profiles: []string{`ops"`}},
	}
	for i, s := range settings {
		view := policy.PreAuthorizationOf(s)
		if view.Template != "profiles" {
			t.Fatalf("settings %d: template %q", i, view.Template)
		}
		saved := savedProfilesPolicy(t, view.Params)
		for _, u := range users {
			want := goPreAuthorized(s, u)
			c := storage.Client{WorkspaceID: "acme", ID: fmt.Sprintf("c-%d", i), JWTBearer: s}
			err := preAuthorized(c, u)
			if got := err == nil; got != want {
				t.Errorf("settings %d (%+v), user %s: grant admits %v, Go check %v", i, s, u.ID, got, want)
			}
			var oe *oauth2.Error
			if err != nil && (!errors.As(err, &oe) || oe.Code != oauth2.ErrInvalidGrant || oe.Description != "user is not pre-authorized for this app") {
				t.Errorf("settings %d, user %s: error %v, want invalid_grant 'user is not pre-authorized for this app'", i, u.ID, err)
			}
			if saved != nil {
				if got := saved.Evaluate(context.Background(), policy.Input{User: policy.FromUser(u)}).Allow; got != want {
					t.Errorf("settings %d, user %s: the saved profiles policy admits %v, Go check %v", i, u.ID, got, want)
				}
			}
		}
	}
}

// savedProfilesPolicy compiles the profiles template with params as the
// policy save path does, or returns nil when it refuses them: an empty
// list (nobody approved), more than 100 values, or a value that is not an
// ID, none of which a saved policy may hold.
func savedProfilesPolicy(t *testing.T, params map[string]string) *policy.Program {
	t.Helper()
	rules, err := policy.Render("profiles", params)
	if err != nil {
		return nil
	}
	prg, err := policy.Compile(rules)
	if err != nil {
		return nil
	}
	return prg
}

// TestPreAuthorizationFollowsClientVersion: the compiled pre-authorization
// is cached per client version and a changed client (new UpdatedAt, as the
// service writes it) is judged by its new settings at once; a client whose
// settings change without a new UpdatedAt is never judged by the cached
// program of the old ones.
func TestPreAuthorizationFollowsClientVersion(t *testing.T) {
	v1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := storage.Client{WorkspaceID: "acme", ID: "preauth-version", UpdatedAt: v1,
		JWTBearer: &storage.JWTBearerSettings{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{"u-1"}}}
	u1, u2 := storage.User{ID: "u-1"}, storage.User{ID: "u-2"}
	var e policy.PreAuthEngine
	p1, _, err := e.Program(c)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _, _ := e.Program(c); p2 != p1 {
		t.Fatal("the same client version was compiled twice")
	}
	if preAuthorized(c, u1) != nil || preAuthorized(c, u2) == nil {
		t.Fatal("version 1: want u-1 admitted, u-2 refused")
	}
	c.UpdatedAt = v1.Add(time.Second)
	c.JWTBearer = &storage.JWTBearerSettings{PreAuth: storage.PreAuthAdminApproved, AllowedUsers: []string{"u-2"}}
	if preAuthorized(c, u1) == nil || preAuthorized(c, u2) != nil {
		t.Fatal("version 2: want u-2 admitted, u-1 refused")
	}
	c.JWTBearer = &storage.JWTBearerSettings{PreAuth: storage.PreAuthAllUsers}
	if preAuthorized(c, u1) != nil {
		t.Fatal("settings changed under the same UpdatedAt: the cached program of the old ones was used")
	}
	if _, view, _ := e.Program(c); !maps.Equal(view.Params, map[string]string{"all_users": "true"}) {
		t.Fatalf("all_users renders %v", view.Params)
	}
}
