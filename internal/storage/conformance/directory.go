package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunDirectoryTests runs the conformance tests of the Directory part of the
// contract (users, profiles, client certificates, trusted issuers).
func RunDirectoryTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"UserCRUD", testUserCRUD},
		{"UserUniqueness", testUserUniqueness},
		{"UserListQuery", testUserListQuery},
		{"UserSearchAcrossWindow", testSearchUsersAcrossWindow},
		{"ProfileCRUD", testProfileCRUD},
		{"ClientCertificates", testClientCertificates},
		{"TrustedIssuerCRUD", testTrustedIssuerCRUD},
		{"DirectoryChanges", testDirectoryChanges},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
}

func newUser(ws, id, username, email string) storage.User {
	return storage.User{
		WorkspaceID: ws, ID: id, Username: username, Email: email,
		DisplayName: "User " + id, ExternalID: "ext-" + id, Active: true,
		Profiles: []string{"p1"}, Attributes: map[string]string{"dept": "ops"},
		CreatedAt: at(0), UpdatedAt: at(time.Second),
	}
}

func sameUser(t *testing.T, got, want storage.User) {
	t.Helper()
	sameTime(t, "user created_at", got.CreatedAt, want.CreatedAt)
	sameTime(t, "user updated_at", got.UpdatedAt, want.UpdatedAt)
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("user:\n got %+v\nwant %+v", got, want)
	}
}

func testUserCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	u := newUser("ws1", "u1", "alice", "Alice@Example.com")
	u.ServiceUser = true
	must(t, s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, "ws1", "u1")
	must(t, err)
	sameUser(t, got, u)
	for name, get := range map[string]func() (storage.User, error){
		"username":    func() (storage.User, error) { return s.GetUserByUsername(ctx, "ws1", "alice") },
		"email":       func() (storage.User, error) { return s.GetUserByEmail(ctx, "ws1", "alice@EXAMPLE.com") },
		"external id": func() (storage.User, error) { return s.GetUserByExternalID(ctx, "ws1", "ext-u1") },
	} {
		got, err := get()
		must(t, err)
		if got.ID != "u1" {
			t.Fatalf("by %s: got %q", name, got.ID)
		}
	}
	_, err = s.GetUserByUsername(ctx, "ws1", "ALICE")
	wantErr(t, err, storage.ErrNotFound, "usernames are case-sensitive")
	_, err = s.GetUserByEmail(ctx, "ws1", "")
	wantErr(t, err, storage.ErrNotFound, "empty email")
	_, err = s.GetUserByExternalID(ctx, "ws1", "")
	wantErr(t, err, storage.ErrNotFound, "empty external id")

	upd, err := s.UpdateUser(ctx, "ws1", "u1", func(u storage.User) (storage.User, error) {
		u.Active, u.Email, u.ExternalID = false, "", ""
		u.Profiles = []string{"p1", "p2"}
		return u, nil
	})
	must(t, err)
	got, err = s.GetUser(ctx, "ws1", "u1")
	must(t, err)
	sameUser(t, got, upd)
	if got.Active || got.Email != "" || len(got.Profiles) != 2 {
		t.Fatalf("update not stored: %+v", got)
	}
	_, err = s.GetUserByEmail(ctx, "ws1", "alice@example.com")
	wantErr(t, err, storage.ErrNotFound, "cleared email")
	_, err = s.UpdateUser(ctx, "ws1", "u1", func(u storage.User) (storage.User, error) { return u, errBoom })
	wantErr(t, err, errBoom, "updater error returned unchanged")
	_, err = s.UpdateUser(ctx, "ws1", "nope", func(u storage.User) (storage.User, error) { return u, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing user")
	must(t, s.DeleteUser(ctx, "ws1", "u1"))
	wantErr(t, s.DeleteUser(ctx, "ws1", "u1"), storage.ErrNotFound, "delete twice")
	_, err = s.GetUser(ctx, "ws1", "u1")
	wantErr(t, err, storage.ErrNotFound, "get deleted user")
	wantErr(t, s.CreateUser(ctx, newUser("nows", "u1", "x", "")), storage.ErrNotFound, "user in missing workspace")
}

func testUserUniqueness(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	createWorkspace(t, s, "ws2")
	must(t, s.CreateUser(ctx, newUser("ws1", "u1", "alice", "alice@example.com")))
	dupID := newUser("ws1", "u1", "other", "")
	dupID.ExternalID = ""
	wantErr(t, s.CreateUser(ctx, dupID), storage.ErrAlreadyExists, "duplicate id")
	dupName := newUser("ws1", "u2", "alice", "")
	dupName.ExternalID = ""
	wantErr(t, s.CreateUser(ctx, dupName), storage.ErrAlreadyExists, "duplicate username")
	dupEmail := newUser("ws1", "u3", "bob", "ALICE@example.COM")
	dupEmail.ExternalID = ""
	wantErr(t, s.CreateUser(ctx, dupEmail), storage.ErrAlreadyExists, "duplicate email, other case")
	dupExt := newUser("ws1", "u4", "carol", "")
	dupExt.ExternalID = "ext-u1"
	wantErr(t, s.CreateUser(ctx, dupExt), storage.ErrAlreadyExists, "duplicate external id")
	// Empty email and external id never collide.
	for _, id := range []string{"u5", "u6"} {
		u := newUser("ws1", id, "name-"+id, "")
		u.ExternalID = ""
		must(t, s.CreateUser(ctx, u))
	}
	// The same values in another workspace are fine.
	must(t, s.CreateUser(ctx, newUser("ws2", "u1", "alice", "alice@example.com")))
	// An update into a collision is refused.
	_, err := s.UpdateUser(ctx, "ws1", "u5", func(u storage.User) (storage.User, error) {
		u.Email = "Alice@Example.com"
		return u, nil
	})
	wantErr(t, err, storage.ErrAlreadyExists, "update into duplicate email")
}

func testUserListQuery(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	for i, name := range []string{"alice", "bob", "carol", "dave"} {
		u := newUser("ws1", "u"+string(rune('1'+i)), name, name+"@Example.com")
		must(t, s.CreateUser(ctx, u))
	}
	page, err := s.ListUsers(ctx, "ws1", storage.ListOptions{Limit: 3})
	must(t, err)
	if len(page.Items) != 3 || page.Next != "u3" {
		t.Fatalf("first page: %d items, next %q", len(page.Items), page.Next)
	}
	page, err = s.ListUsers(ctx, "ws1", storage.ListOptions{After: page.Next, Limit: 3})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].Username != "dave" || page.Next != "" {
		t.Fatalf("second page: %+v", page)
	}
	page, err = s.ListUsers(ctx, "ws1", storage.ListOptions{Query: "CAROL@example"})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].Username != "carol" {
		t.Fatalf("query by email: %+v", page.Items)
	}
	page, err = s.ListUsers(ctx, "ws1", storage.ListOptions{Query: "%"})
	must(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("LIKE wildcard must match literally: %+v", page.Items)
	}
}

func testProfileCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	p := storage.Profile{WorkspaceID: "ws1", ID: "p1", Name: "Integration", Description: "API users", CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.CreateProfile(ctx, p))
	wantErr(t, s.CreateProfile(ctx, storage.Profile{WorkspaceID: "ws1", ID: "p2", Name: "Integration"}), storage.ErrAlreadyExists, "duplicate name")
	wantErr(t, s.CreateProfile(ctx, storage.Profile{WorkspaceID: "ws1", ID: "p1", Name: "Other"}), storage.ErrAlreadyExists, "duplicate id")
	got, err := s.GetProfile(ctx, "ws1", "p1")
	must(t, err)
	if got.Name != "Integration" || got.Description != "API users" {
		t.Fatalf("profile: %+v", got)
	}
	sameTime(t, "profile created_at", got.CreatedAt, p.CreatedAt)
	_, err = s.UpdateProfile(ctx, "ws1", "p1", func(p storage.Profile) (storage.Profile, error) {
		p.Name = "Integrations"
		return p, nil
	})
	must(t, err)
	page, err := s.ListProfiles(ctx, "ws1", storage.ListOptions{Query: "integrations"})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].Name != "Integrations" {
		t.Fatalf("list: %+v", page.Items)
	}
	must(t, s.DeleteProfile(ctx, "ws1", "p1"))
	wantErr(t, s.DeleteProfile(ctx, "ws1", "p1"), storage.ErrNotFound, "delete twice")
}

func newCert(ws, client, kid string) storage.ClientCertificate {
	return storage.ClientCertificate{
		WorkspaceID: ws, ClientID: client, KID: kid, DER: []byte{0x30, 0x82, 0x01},
		Subject: "CN=" + client, Issuer: "CN=ca", Serial: "0a1b",
		NotBefore: at(-time.Hour), NotAfter: at(365 * 24 * time.Hour),
		ThumbprintS256: "thumb-" + kid, CreatedAt: at(0),
	}
}

func testClientCertificates(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	must(t, s.CreateClient(ctx, newClient("ws1", "c1")))
	must(t, s.CreateClient(ctx, newClient("ws1", "c2")))
	c := newCert("ws1", "c1", "k1")
	must(t, s.CreateClientCertificate(ctx, c))
	later := newCert("ws1", "c1", "k0")
	later.CreatedAt = at(time.Minute)
	must(t, s.CreateClientCertificate(ctx, later))
	wantErr(t, s.CreateClientCertificate(ctx, newCert("ws1", "c1", "k1")), storage.ErrAlreadyExists, "duplicate kid for client")
	must(t, s.CreateClientCertificate(ctx, newCert("ws1", "c2", "k1"))) // same kid, other client
	wantErr(t, s.CreateClientCertificate(ctx, newCert("ws1", "nope", "k1")), storage.ErrNotFound, "missing client")
	list, err := s.ListClientCertificates(ctx, "ws1", "c1")
	must(t, err)
	if len(list) != 2 || list[0].KID != "k1" || list[1].KID != "k0" {
		t.Fatalf("list order by created_at: %+v", list)
	}
	got := list[0]
	sameTime(t, "not_after", got.NotAfter, c.NotAfter)
	sameTime(t, "not_before", got.NotBefore, c.NotBefore)
	if string(got.DER) != string(c.DER) || got.Subject != c.Subject || got.Serial != c.Serial || got.ThumbprintS256 != c.ThumbprintS256 {
		t.Fatalf("certificate round trip: %+v", got)
	}
	must(t, s.DeleteClientCertificate(ctx, "ws1", "c1", "k1"))
	wantErr(t, s.DeleteClientCertificate(ctx, "ws1", "c1", "k1"), storage.ErrNotFound, "delete twice")
	// Deleting the client removes its certificates.
	must(t, s.DeleteClient(ctx, "ws1", "c2"))
	list, err = s.ListClientCertificates(ctx, "ws1", "c2")
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("certificates outlived their client: %+v", list)
	}
}

func newIssuer(ws, id, iss string) storage.TrustedIssuer {
	return storage.TrustedIssuer{
		WorkspaceID: ws, ID: id, Name: "IdP " + id, Issuer: iss,
		JWKSURI: "https://idp.example.com/jwks", Audience: "app-123",
		AllowedClients: []string{"c1"}, MaxAssertionLifetime: 5 * time.Minute, Enabled: true,
		Claim: "cmicuser", ClaimFormat: storage.ClaimFormatTenantUsername,
		CreatedAt: at(0), UpdatedAt: at(0),
	}
}

func testTrustedIssuerCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	ti := newIssuer("ws1", "ti1", "https://idp.example.com")
	must(t, s.CreateTrustedIssuer(ctx, ti))
	wantErr(t, s.CreateTrustedIssuer(ctx, newIssuer("ws1", "ti2", "https://idp.example.com")), storage.ErrAlreadyExists, "duplicate issuer URL")
	wantErr(t, s.CreateTrustedIssuer(ctx, newIssuer("ws1", "ti1", "https://other.example.com")), storage.ErrAlreadyExists, "duplicate id")
	for name, get := range map[string]func() (storage.TrustedIssuer, error){
		"id": func() (storage.TrustedIssuer, error) { return s.GetTrustedIssuer(ctx, "ws1", "ti1") },
		"iss": func() (storage.TrustedIssuer, error) {
			return s.GetTrustedIssuerByIssuer(ctx, "ws1", "https://idp.example.com")
		},
	} {
		got, err := get()
		must(t, err)
		sameTime(t, "issuer created_at", got.CreatedAt, ti.CreatedAt)
		got.CreatedAt, got.UpdatedAt = ti.CreatedAt, ti.UpdatedAt
		if !reflect.DeepEqual(got, ti) {
			t.Fatalf("by %s:\n got %+v\nwant %+v", name, got, ti)
		}
	}
	_, err := s.GetTrustedIssuerByIssuer(ctx, "ws1", "https://idp.example.com/")
	wantErr(t, err, storage.ErrNotFound, "issuer match is exact")
	_, err = s.UpdateTrustedIssuer(ctx, "ws1", "ti1", func(ti storage.TrustedIssuer) (storage.TrustedIssuer, error) {
		ti.Enabled, ti.JWKSURI, ti.JWKS = false, "", []byte(`{"keys":[]}`)
		ti.ServiceUserID, ti.Claim, ti.ClaimFormat = "svc", "", ""
		return ti, nil
	})
	must(t, err)
	got, err := s.GetTrustedIssuer(ctx, "ws1", "ti1")
	must(t, err)
	if got.Enabled || got.JWKSURI != "" || string(got.JWKS) != `{"keys":[]}` || got.ServiceUserID != "svc" {
		t.Fatalf("update not stored: %+v", got)
	}
	page, err := s.ListTrustedIssuers(ctx, "ws1", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 {
		t.Fatalf("list: %+v", page)
	}
	must(t, s.DeleteTrustedIssuer(ctx, "ws1", "ti1"))
	wantErr(t, s.DeleteTrustedIssuer(ctx, "ws1", "ti1"), storage.ErrNotFound, "delete twice")
}

// testDirectoryChanges: every directory write records a change event so
// caches of other processes invalidate.
func testDirectoryChanges(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws1")
	must(t, s.CreateClient(ctx, newClient("ws1", "c1")))
	last, err := s.LastChangeID(ctx)
	must(t, err)
	must(t, s.CreateUser(ctx, newUser("ws1", "u1", "alice", "")))
	must(t, s.CreateProfile(ctx, storage.Profile{WorkspaceID: "ws1", ID: "p1", Name: "P"}))
	must(t, s.CreateClientCertificate(ctx, newCert("ws1", "c1", "k1")))
	must(t, s.CreateTrustedIssuer(ctx, newIssuer("ws1", "ti1", "https://idp.example.com")))
	must(t, s.DeleteClientCertificate(ctx, "ws1", "c1", "k1"))
	changes, err := s.Changes(ctx, last, 100)
	must(t, err)
	want := []storage.Change{
		{Kind: storage.ChangeUser, Key: "u1"},
		{Kind: storage.ChangeProfile, Key: "p1"},
		{Kind: storage.ChangeCertificates, Key: "c1"},
		{Kind: storage.ChangeTrustedIssuer, Key: "ti1"},
		{Kind: storage.ChangeCertificates, Key: "c1"},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes: got %+v", changes)
	}
	for i, c := range changes {
		if c.WorkspaceID != "ws1" || c.Kind != want[i].Kind || c.Key != want[i].Key {
			t.Fatalf("change %d: got %+v want %+v", i, c, want[i])
		}
	}
}

// RunDirectoryIsolationTests proves that no directory object of one
// workspace is visible or changeable from another (SECURITY.md J3, O1, C2).
func RunDirectoryIsolationTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	subtest(t, "DirectoryIsolation", newStorage, testDirectoryIsolation)
}

func testDirectoryIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "a")
	createWorkspace(t, s, "b")
	must(t, s.CreateClient(ctx, newClient("a", "c1")))
	must(t, s.CreateClient(ctx, newClient("b", "c1")))
	must(t, s.CreateUser(ctx, newUser("a", "u1", "alice", "alice@example.com")))
	must(t, s.CreateProfile(ctx, storage.Profile{WorkspaceID: "a", ID: "p1", Name: "P"}))
	must(t, s.CreateClientCertificate(ctx, newCert("a", "c1", "k1")))
	must(t, s.CreateTrustedIssuer(ctx, newIssuer("a", "ti1", "https://idp.example.com")))

	notFound := map[string]error{}
	_, notFound["user"] = s.GetUser(ctx, "b", "u1")
	_, notFound["user by username"] = s.GetUserByUsername(ctx, "b", "alice")
	_, notFound["user by email"] = s.GetUserByEmail(ctx, "b", "alice@example.com")
	_, notFound["user by external id"] = s.GetUserByExternalID(ctx, "b", "ext-u1")
	_, notFound["profile"] = s.GetProfile(ctx, "b", "p1")
	_, notFound["issuer"] = s.GetTrustedIssuer(ctx, "b", "ti1")
	_, notFound["issuer by iss"] = s.GetTrustedIssuerByIssuer(ctx, "b", "https://idp.example.com")
	_, notFound["update user"] = s.UpdateUser(ctx, "b", "u1", func(u storage.User) (storage.User, error) { return u, nil })
	_, notFound["update profile"] = s.UpdateProfile(ctx, "b", "p1", func(p storage.Profile) (storage.Profile, error) { return p, nil })
	_, notFound["update issuer"] = s.UpdateTrustedIssuer(ctx, "b", "ti1", func(ti storage.TrustedIssuer) (storage.TrustedIssuer, error) { return ti, nil })
	notFound["delete user"] = s.DeleteUser(ctx, "b", "u1")
	notFound["delete profile"] = s.DeleteProfile(ctx, "b", "p1")
	notFound["delete certificate"] = s.DeleteClientCertificate(ctx, "b", "c1", "k1")
	notFound["delete issuer"] = s.DeleteTrustedIssuer(ctx, "b", "ti1")
	for what, err := range notFound {
		wantErr(t, err, storage.ErrNotFound, what+" across workspaces")
	}
	certs, err := s.ListClientCertificates(ctx, "b", "c1")
	must(t, err)
	users, err := s.ListUsers(ctx, "b", storage.ListOptions{})
	must(t, err)
	profiles, err := s.ListProfiles(ctx, "b", storage.ListOptions{})
	must(t, err)
	issuers, err := s.ListTrustedIssuers(ctx, "b", storage.ListOptions{})
	must(t, err)
	if len(certs)+len(users.Items)+len(profiles.Items)+len(issuers.Items) != 0 {
		t.Fatalf("workspace b sees a's directory: %d %d %d %d", len(certs), len(users.Items), len(profiles.Items), len(issuers.Items))
	}
	// Everything of a goes with it.
	must(t, s.DeleteWorkspace(ctx, "a"))
	must(t, s.CreateWorkspace(ctx, newWorkspace("a")))
	_, err = s.GetUser(ctx, "a", "u1")
	wantErr(t, err, storage.ErrNotFound, "user outlived its workspace")
	_, err = s.GetTrustedIssuer(ctx, "a", "ti1")
	wantErr(t, err, storage.ErrNotFound, "issuer outlived its workspace")
}
