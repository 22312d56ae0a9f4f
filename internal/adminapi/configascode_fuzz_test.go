package adminapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzApplyDocument: any document gets an answer a caller can act on (a
// change list or a 4xx naming the problem), never a 5xx or a panic.
func FuzzApplyDocument(f *testing.F) {
	head := "apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: default}\n"
	for _, s := range []string{
		head,
		head + "clients:\n  - {client_id: a, name: A, grant_types: [client_credentials]}\n",
		head + "clients:\n  - {client_id: a, certificates: 5, jwt_bearer: [], claims: x}\n",
		head + "services:\n  - {id: s, name: S, identifier: 'https://s.example', scopes: [{name: r}], access_policy: nope}\n",
		head + "policies:\n  - {id: p, name: P, kind: user, rules: [{condition: 'true', outcome: allow}]}\n",
		"apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: default, settings: 5, default_user_policy: [1]}\n",
		"apiVersion: latchkey/v1\nkind: List\nitems: [{workspace: {id: default, name: [x]}}]\n",
	} {
		f.Add(s)
	}
	a := newAPI(f)
	f.Fuzz(func(t *testing.T, doc string) {
		b := &api{t: t, srv: a.srv, env: a.env}
		for _, path := range []string{ws + "/apply?dry_run=true", "/admin/v1/apply?dry_run=true"} {
			r := b.do("POST", path, doc)
			if r.status >= 500 || (r.status != http.StatusOK && !strings.Contains(string(r.raw), `"error_description"`)) {
				t.Fatalf("%s: %d %s\nfor:\n%s", path, r.status, r.raw, doc)
			}
		}
	})
}
