package policy

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestContextAuthenticationAndApplicationType: the documented variables
// user.authentication.methods/time, client.application_type and
// request.resources are bound and typed as doc.go says.
func TestContextAuthenticationAndApplicationType(t *testing.T) {
	signedIn := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := signedIn.Add(10 * time.Minute)
	withSession := Input{
		User:    User{ID: "u1", Authentication: Authentication{Methods: []string{"pwd", "webauthn"}, Time: signedIn}},
		Client:  FromClient(storage.Client{ID: "c1", Type: "public", RedirectURIs: []string{"com.example.app:/cb"}}),
		Request: Request{Time: now, Resources: []string{"https://api.example/orders"}},
	}
	noSession := Input{User: User{ID: "u1"}, Client: FromClient(storage.Client{ID: "c2", Type: "confidential",
		GrantTypes: []string{"client_credentials"}, ApplicationType: storage.ApplicationTypeService}), Request: Request{Time: now}}
	cases := []struct {
		cond       string
		with, none bool
	}{
		{`"webauthn" in user.authentication.methods`, true, false},
		{`user.authentication.methods.size() == 0`, false, true},
		{`request.time - user.authentication.time < duration("1h")`, true, false},
		{`int(user.authentication.time) == 0`, false, true},
		{`client.application_type == "native"`, true, false},
		{`client.application_type == "service"`, false, true},
		{`"https://api.example/orders" in request.resources`, true, false},
		{`request.resources.size() == 0`, false, true},
	}
	for _, tc := range cases {
		p := mustCompile(t, []storage.PolicyRule{{Condition: tc.cond, Outcome: storage.PolicyAllow}})
		for _, x := range []struct {
			in   Input
			want bool
		}{{withSession, tc.with}, {noSession, tc.none}} {
			d := p.Evaluate(context.Background(), x.in)
			if d.Err != nil || d.Allow != x.want {
				t.Errorf("%s on client %s: allow=%v err=%v, want %v", tc.cond, x.in.Client.ID, d.Allow, d.Err, x.want)
			}
		}
	}
}

// TestFromClientInfersApplicationType: clients stored before application
// types get the documented inferred type.
func TestFromClientInfersApplicationType(t *testing.T) {
	cases := []struct {
		name string
		c    storage.Client
		want string
	}{
		{"stored wins", storage.Client{ApplicationType: "spa", Type: "confidential"}, "spa"},
		{"machine", storage.Client{Type: "confidential", GrantTypes: []string{"client_credentials"}}, "service"},
		{"web", storage.Client{Type: "confidential", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://a.example/cb"}}, "web"},
		{"native scheme", storage.Client{Type: "public", RedirectURIs: []string{"com.example:/cb"}}, "native"},
		{"native loopback", storage.Client{Type: "public", RedirectURIs: []string{"http://127.0.0.1/cb"}}, "native"},
		{"spa", storage.Client{Type: "public", RedirectURIs: []string{"https://app.example/cb"}}, "spa"},
		{"dynamic registration", storage.Client{Type: "public", RedirectURIs: []string{"https://app.example/cb"},
			Extra: map[string]any{"application_type": "native"}}, "native"},
	}
	for _, tc := range cases {
		if got := FromClient(tc.c).ApplicationType; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestProfilesTemplateUsers: the profiles template also lists users by
// ID (the JWT bearer pre-authorization's allowed users).
func TestProfilesTemplateUsers(t *testing.T) {
	r, err := Render("profiles", map[string]string{"users": "u-1, u~2", "profiles": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, r)
	for _, tc := range []struct {
		u    User
		want bool
	}{{User{ID: "u-1"}, true}, {User{ID: "u~2"}, true}, {User{ID: "x", Profiles: []string{"ops"}}, true}, {User{ID: "u-3"}, false}} {
		if d := p.Evaluate(context.Background(), Input{User: tc.u}); d.Allow != tc.want {
			t.Errorf("%+v: %+v", tc.u, d)
		}
	}
	for _, bad := range []map[string]string{{"users": `u"] || true`}, {"profiles": " , "}} {
		if _, err := Render("profiles", bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
