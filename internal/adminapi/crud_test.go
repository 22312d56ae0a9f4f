package adminapi_test

import (
	"strings"
	"testing"
)

// TestCollectionsRefuseNewID: a PATCH body may repeat the resource's id
// but never change it, on every workspace collection.
func TestCollectionsRefuseNewID(t *testing.T) {
	a := newAPI(t)
	a.seedService()
	for _, c := range []struct {
		path, idField, wantDesc string
		create                  map[string]any
	}{
		{"services/api", "id", "id: cannot be changed", nil},
		{"clients/app", "client_id", "client_id: cannot be changed", map[string]any{"client_id": "app", "name": "App"}},
		{"profiles/ops", "id", "id: cannot be changed", map[string]any{"id": "ops", "name": "Ops"}},
		{"users/bob", "id", "id: cannot be changed", map[string]any{"id": "bob", "username": "bob"}},
		{"trusted-issuers/idp", "id", "id: cannot be changed", map[string]any{
			"id": "idp", "name": "IdP", "issuer": "https://idp.example.com",
			"jwks_uri": "https://idp.example.com/jwks", "claim": "sub",
		}},
	} {
		t.Run(c.path, func(t *testing.T) {
			collection, id, _ := strings.Cut(c.path, "/")
			if c.create != nil {
				a.want(a.do("POST", ws+"/"+collection, c.create), 201)
			}
			r := a.want(a.do("PATCH", ws+"/"+c.path, map[string]any{c.idField: "other"}), 400)
			if r.body["error"] != "invalid_request" || r.body["error_description"] != c.wantDesc {
				t.Fatalf("changed id: %s", r.raw)
			}
			r = a.want(a.do("PATCH", ws+"/"+c.path, map[string]any{c.idField: id}), 200)
			if r.body[c.idField] != id {
				t.Fatalf("same id: %s", r.raw)
			}
			a.want(a.do("GET", ws+"/"+collection+"/other", nil), 404)
		})
	}
}

// TestPageTokensBoundToCollection covers SECURITY.md M8 across the
// generic collections: a users page token does not open the profiles list.
func TestPageTokensBoundToCollection(t *testing.T) {
	a := newAPI(t)
	for _, n := range []string{"p1", "p2"} {
		a.want(a.do("POST", ws+"/profiles", map[string]any{"id": n, "name": n}), 201)
		a.want(a.do("POST", ws+"/users", map[string]any{"id": n, "username": n}), 201)
	}
	r := a.want(a.do("GET", ws+"/users?limit=1", nil), 200)
	tok, _ := r.body["next_page_token"].(string)
	if tok == "" {
		t.Fatalf("no page token: %s", r.raw)
	}
	r = a.want(a.do("GET", ws+"/users?limit=1&page_token="+tok, nil), 200)
	if items := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != "p2" {
		t.Fatalf("users page 2: %s", r.raw)
	}
	r = a.want(a.do("GET", ws+"/profiles?limit=1&page_token="+tok, nil), 400)
	if r.body["error_description"] != "page_token: invalid or tampered page token" {
		t.Fatalf("profiles with a users token: %s", r.raw)
	}
}
