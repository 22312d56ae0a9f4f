package adminclient_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
)

// TestAdminTokenMethods creates, lists and deletes a scoped admin token,
// and uses it: a viewer token reads its workspace and may not write.
func TestAdminTokenMethods(t *testing.T) {
	baseURL, token := startLatchkey(t)
	c := adminclient.New(baseURL, token)
	ctx := t.Context()
	created, err := c.CreateAdminToken(ctx, adminclient.AdminTokenCreate{Name: "reader", Role: "workspace_viewer",
		Workspaces: []string{"default"}, ExpiresIn: 3600})
	if err != nil || !strings.HasPrefix(created.Token, "lka_") || created.ExpiresAt == nil {
		t.Fatalf("create admin token: %+v %v", created, err)
	}
	viewer := adminclient.New(baseURL, created.Token)
	if _, err := viewer.ListKeys(ctx, "default"); err != nil {
		t.Fatalf("viewer read: %v", err)
	}
	_, err = viewer.RotateKeys(ctx, "default", "")
	var apiErr *adminclient.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != "forbidden" {
		t.Fatalf("viewer write: %v", err)
	}
	list, err := c.ListAdminTokens(ctx)
	if err != nil || len(list) == 0 {
		t.Fatalf("list admin tokens: %+v %v", list, err)
	}
	for _, l := range list {
		if l.Token != "" {
			t.Fatalf("list carries a token value: %+v", l)
		}
	}
	must(t, "delete admin token", func() error { return c.DeleteAdminToken(ctx, created.ID) })
	if _, err := viewer.ListKeys(ctx, "default"); err == nil {
		t.Fatal("deleted token still reads")
	}
}
