package adminclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
)

// TestMethodsAgainstTheServer calls every typed method once against the
// real handler, so a wrong path, method or type fails here.
func TestMethodsAgainstTheServer(t *testing.T) {
	baseURL, token := startLatchkey(t)
	c := adminclient.New(baseURL, token)
	ctx := t.Context()
	const ws = "default"

	must(t, "create workspace", func() error {
		_, err := c.Workspaces().Create(ctx, adminclient.WorkspaceRequest{ID: adminclient.Ptr("acme"), Name: adminclient.Ptr("Acme")})
		return err
	})
	page, err := c.Workspaces().List(ctx, adminclient.ListOptions{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.NextPageToken == "" {
		t.Fatalf("list workspaces limit 1: %+v %v", page, err)
	}
	if page, err = c.Workspaces().List(ctx, adminclient.ListOptions{Limit: 1, PageToken: page.NextPageToken}); err != nil || len(page.Items) != 1 {
		t.Fatalf("second page: %+v %v", page, err)
	}
	w, err := c.Workspaces().Update(ctx, "acme", adminclient.WorkspaceRequest{
		Settings: &adminclient.SettingsRequest{Branding: &adminclient.BrandingRequest{PrimaryColor: adminclient.Ptr("#0A5")}}})
	if err != nil || w.Settings.Branding.PrimaryColor != "#00aa55" {
		t.Fatalf("update workspace: %+v %v", w, err)
	}
	must(t, "delete workspace", func() error { return c.Workspaces().Delete(ctx, "acme") })

	cl, err := c.Clients(ws).Create(ctx, adminclient.OAuthClientRequest{Name: adminclient.Ptr("job")})
	if err != nil || cl.ClientSecret == "" {
		t.Fatalf("create client: %+v %v", cl, err)
	}
	id := cl.ClientID
	if cl, err = c.DisableClient(ctx, ws, id); err != nil || cl.Enabled {
		t.Fatalf("disable: %+v %v", cl, err)
	}
	if cl, err = c.EnableClient(ctx, ws, id); err != nil || !cl.Enabled {
		t.Fatalf("enable: %+v %v", cl, err)
	}
	if rot, err := c.RotateClientSecret(ctx, ws, id); err != nil || rot.ClientSecret == "" || rot.ClientSecret == cl.ClientSecret {
		t.Fatalf("rotate: %v", err)
	}
	s, err := c.SetClientJWTBearer(ctx, ws, id, adminclient.JWTBearerSettings{UserField: "email", MaxAssertionLifetime: 300})
	if err != nil || s.UserField != "email" {
		t.Fatalf("set jwt bearer: %+v %v", s, err)
	}
	if s, err = c.ClientJWTBearer(ctx, ws, id); err != nil || s.MaxAssertionLifetime != 300 {
		t.Fatalf("get jwt bearer: %+v %v", s, err)
	}
	if certs, err := c.ListClientCertificates(ctx, ws, id); err != nil || len(certs) != 0 {
		t.Fatalf("certificates: %v %v", certs, err)
	}
	expectStatus(t, "reveal without a code", 400, func() error {
		_, err := c.RevealClientSecret(ctx, ws, id, "123456")
		return err
	})

	keys, err := c.ListKeys(ctx, ws)
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if keys, err = c.RotateKeys(ctx, ws, ""); err != nil || keys[0].KID == "" {
		t.Fatalf("rotate keys: %v %v", keys, err)
	}
	iat, err := c.CreateInitialAccessToken(ctx, ws, adminclient.InitialAccessTokenRequest{Description: "ci", MaxUses: 2})
	if err != nil || !strings.HasPrefix(iat.Token, "lki_") || *iat.UsesLeft != 2 {
		t.Fatalf("create iat: %+v %v", iat, err)
	}
	if list, err := c.ListInitialAccessTokens(ctx, ws); err != nil || len(list) != 1 {
		t.Fatalf("list iats: %v %v", list, err)
	}
	must(t, "delete iat", func() error { return c.DeleteInitialAccessToken(ctx, ws, iat.ID) })

	u, err := c.Users(ws).Create(ctx, adminclient.UserRequest{Username: adminclient.Ptr("alice"), Email: adminclient.Ptr("alice@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	must(t, "set password", func() error { return c.SetUserPassword(ctx, ws, u.ID, "a long enough password") })
	if list, err := c.ListUserConsents(ctx, ws, u.ID); err != nil || len(list) != 0 {
		t.Fatalf("consents: %v %v", list, err)
	}
	if list, err := c.ListUserSessions(ctx, ws, u.ID); err != nil || len(list) != 0 {
		t.Fatalf("sessions: %v %v", list, err)
	}
	must(t, "revoke sessions", func() error { return c.RevokeUserSessions(ctx, ws, u.ID, "") })
	must(t, "delete user", func() error { return c.Users(ws).Delete(ctx, u.ID) })

	p, err := c.Profiles(ws).Create(ctx, adminclient.ProfileRequest{Name: adminclient.Ptr("integration")})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = c.Profiles(ws).Get(ctx, p.ID); err != nil || p.Name != "integration" {
		t.Fatalf("get profile: %+v %v", p, err)
	}
	if _, err := c.TrustedIssuers(ws).List(ctx, adminclient.ListOptions{}); err != nil {
		t.Fatal(err)
	}

	cu, err := c.CreateConsoleUser(ctx, adminclient.ConsoleUserCreate{Username: "vera", Password: "correct horse battery",
		Role: "workspace_viewer", Workspaces: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	if cu, err = c.UpdateConsoleUser(ctx, cu.ID, adminclient.ConsoleUserUpdate{DisplayName: adminclient.Ptr("Vera")}); err != nil || cu.DisplayName != "Vera" {
		t.Fatalf("update console user: %+v %v", cu, err)
	}
	must(t, "console user password", func() error { return c.SetConsoleUserPassword(ctx, cu.ID, "another long password") })
	if list, err := c.ListConsoleUsers(ctx, adminclient.ListOptions{Query: "vera"}); err != nil || len(list.Items) != 1 {
		t.Fatalf("list console users: %+v %v", list, err)
	}
	must(t, "delete console user", func() error { return c.DeleteConsoleUser(ctx, cu.ID) })
}

// TestErrors: API errors arrive typed, with every field error.
func TestErrors(t *testing.T) {
	baseURL, token := startLatchkey(t)
	ctx := t.Context()
	_, err := adminclient.New(baseURL, token).Clients("default").Create(ctx, adminclient.OAuthClientRequest{
		Name: adminclient.Ptr("web"), GrantTypes: &[]string{"authorization_code"}, RedirectURIs: &[]string{"http://app.example/cb"},
	})
	var ae *adminclient.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_request" || len(ae.Errors) == 0 ||
		ae.Errors[0].Field != "redirect_uris[0]" {
		t.Fatalf("got %#v", err)
	}
	if !strings.Contains(err.Error(), "server answered 400 invalid_request\n  - redirect_uris[0]: must use https") {
		t.Errorf("Error() = %q", err.Error())
	}
	expectStatus(t, "wrong token", 401, func() error {
		_, err := adminclient.New(baseURL, "wrong").Workspaces().Get(ctx, "default")
		return err
	})
	if _, err := adminclient.New(baseURL, "").Workspaces().Get(ctx, "default"); !errors.Is(err, adminclient.ErrNoToken) {
		t.Errorf("no token: %v", err)
	}
	// A body that is not the API's JSON still gives an *APIError.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err = adminclient.New(srv.URL, token).ListKeys(context.Background(), "default")
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Code != "Bad Gateway" {
		t.Fatalf("proxy error: %#v", err)
	}
}

func must(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func expectStatus(t *testing.T, what string, status int, f func() error) {
	t.Helper()
	var ae *adminclient.APIError
	if err := f(); !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("%s: want %d, got %v", what, status, err)
	}
}
