package policy

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestProfilesTemplateAllUsers: the profiles template's all_users
// parameter admits everyone and is refused with lists or an unknown value,
// so that every pre-authorization shape but "nobody" is a policy an admin
// can save.
func TestProfilesTemplateAllUsers(t *testing.T) {
	rules, err := Render("profiles", map[string]string{"all_users": "true"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []User{{}, {ID: "u-1", Profiles: []string{"x"}}} {
		if d := p.Evaluate(context.Background(), Input{User: u}); !d.Allow {
			t.Errorf("all_users=true refused %+v: %+v", u, d)
		}
	}
	for _, bad := range []map[string]string{
		{"all_users": "true", "profiles": "sales"},
		{"all_users": "yes"},
		{"all_users": "false"},
	} {
		if _, err := Render("profiles", bad); err == nil {
			t.Errorf("Render(profiles, %v) accepted", bad)
		}
	}
}

// TestPreAuthorizationOf: each settings shape renders as the profiles
// template with the parameters an admin reads, and its rules decide as the
// shape says, with the grant's message.
func TestPreAuthorizationOf(t *testing.T) {
	in := func(id string, profiles ...string) Input { return Input{User: User{ID: id, Profiles: profiles}} }
	for _, tc := range []struct {
		name     string
		s        *storage.JWTBearerSettings
		params   map[string]string
		admitted []Input
		refused  []Input
	}{
		{"no settings", nil, map[string]string{}, nil, []Input{in("u-1"), in("u-2", "ops")}},
		{"nobody approved", &storage.JWTBearerSettings{PreAuth: storage.PreAuthAdminApproved}, map[string]string{}, nil, []Input{in("u-1")}},
		{"all users", &storage.JWTBearerSettings{PreAuth: storage.PreAuthAllUsers, AllowedUsers: []string{"u-9"}},
			map[string]string{"all_users": "true"}, []Input{in("u-1"), in("u-2", "ops")}, nil},
		{"lists", &storage.JWTBearerSettings{AllowedProfiles: []string{"ops", "sales"}, AllowedUsers: []string{"u-1"}},
			map[string]string{"profiles": "ops,sales", "users": "u-1"}, []Input{in("u-1"), in("u-2", "dev", "sales")}, []Input{in("u-3", "dev")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pa := PreAuthorizationOf(tc.s)
			if pa.Template != "profiles" || !maps.Equal(pa.Params, tc.params) {
				t.Fatalf("rendered as %s %v, want profiles %v", pa.Template, pa.Params, tc.params)
			}
			if len(pa.Rules) != 2 || pa.Rules[0].Message != PreAuthDenyMessage || pa.Rules[1].Condition != "true" {
				t.Fatalf("rules %+v", pa.Rules)
			}
			p, err := compileGenerated(pa.Rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range tc.admitted {
				if d := p.Evaluate(context.Background(), i); !d.Allow {
					t.Errorf("%+v refused: %+v", i.User, d)
				}
			}
			for _, i := range tc.refused {
				if d := p.Evaluate(context.Background(), i); d.Allow || d.Message != PreAuthDenyMessage || d.Err != nil {
					t.Errorf("%+v: %+v, want a denial with %q", i.User, d, PreAuthDenyMessage)
				}
			}
		})
	}
}

// TestPreAuthorizationLongListsCompile: approved lists longer than an
// expression a person may save still compile and decide (they were valid
// settings before they became a template), and their values stay data.
func TestPreAuthorizationLongListsCompile(t *testing.T) {
	var users []string
	for range 200 {
		users = append(users, strings.Repeat("u", 40))
	}
	users = append(users, `x"] || true || ["`, "last")
	var e PreAuthEngine
	c := storage.Client{WorkspaceID: "w", ID: "c", JWTBearer: &storage.JWTBearerSettings{AllowedUsers: users}}
	prg, view, err := e.Program(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Rules[0].Condition) <= MaxExpressionSize {
		t.Fatalf("the list is only %d bytes; the test needs more than %d", len(view.Rules[0].Condition), MaxExpressionSize)
	}
	if d := prg.Evaluate(context.Background(), Input{User: User{ID: "last"}}); !d.Allow {
		t.Fatalf("last listed user refused: %+v", d)
	}
	if d := prg.Evaluate(context.Background(), Input{User: User{ID: "other"}}); d.Allow {
		t.Fatal("an unlisted user was admitted")
	}
}
