package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// policyEnv is a workspace with a signed-in admin, two users (one per
// email domain) and a client.
type policyEnv struct {
	b          *browser
	tok        string
	client     string // the client page's path
	alice, bob string // user IDs: alice@corp.example, bob@other.example
	ws, pol    string
}

func startPolicyEnv(t *testing.T) *policyEnv {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	p := &policyEnv{b: b, tok: tok, ws: "/console/w/default", pol: "/console/w/default/policies"}
	newUser := func(name, email string) string {
		resp, _ := b.post(p.ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {name}, "email": {email}, "active": {"on"}})
		wantStatus(t, "create user "+name, resp, 200)
		return resp.Request.URL.Path[strings.LastIndex(resp.Request.URL.Path, "/")+1:]
	}
	p.alice, p.bob = newUser("alice", "alice@corp.example"), newUser("bob", "bob@other.example")
	resp, _ := b.post(p.ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Portal"}, "type": {"service"}, "contact_email": {"o@example.com"}})
	wantStatus(t, "create client", resp, 200)
	p.client = strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	return p
}

// createStaff creates the user policy "staff" from the email-domain
// template: only corp.example addresses.
func (p *policyEnv) createStaff(t *testing.T) {
	t.Helper()
	resp, body := p.b.post(p.pol+"/new", url.Values{"csrf_token": {p.tok}, "id": {"staff"}, "name": {"Staff"}, "kind": {"user"},
		"mode": {"template"}, "template": {"email-domain"}, "param.email-domain.domain": {"corp.example"},
		"param.ip-ranges.cidrs": {"10.0.0.0/8"}, "op": {"save"}})
	wantStatus(t, "create from template", resp, 200)
	mustContain(t, "created policy", body, "Policy Staff created.", "version 1", `&#34;@corp.example&#34;`,
		"sign in with an email address of an allowed domain", `name="condition"`)
}

func TestPolicyPagesCreateEditRollback(t *testing.T) {
	p := startPolicyEnv(t)
	b, tok := p.b, p.tok

	resp, body := b.get(p.pol)
	wantStatus(t, "empty list", resp, 200)
	mustContain(t, "empty list", body, `href="`+p.pol+`" aria-current="page">Policies</a>`, "No policies yet.",
		`href="`+p.pol+`/new"`, `name="client_id"`, "Run what-if")
	resp, body = b.get(p.pol + "/new")
	wantStatus(t, "new form", resp, 200)
	mustContain(t, "new form", body, `name="template" value="email-domain" checked`, `name="param.time-window.hours"`,
		`name="kind" value="user" checked`, `name="kind" value="machine"`)

	// A bad template parameter is refused next to the template, input kept.
	resp, body = b.post(p.pol+"/new", url.Values{"csrf_token": {tok}, "name": {"Net"}, "kind": {"user"}, "mode": {"template"},
		"template": {"ip-ranges"}, "param.ip-ranges.cidrs": {"not-a-range"}, "op": {"save"}})
	wantStatus(t, "bad template parameter", resp, 400)
	mustContain(t, "bad template parameter", body, `id="template-error"`, "is not a CIDR range", `value="not-a-range"`, `value="Net"`)

	p.createStaff(t)

	// A rule that does not type-check: refused with rule, line and
	// column next to that rule, everything typed kept, nothing saved.
	form := url.Values{"csrf_token": {tok}, "name": {"Staff only"}, "description": {"corp users"},
		"condition": {`user.email.endsWith("@corp.example")`, "request.scopes.size() >\n  user.nmae"},
		"outcome":   {"allow", "deny"}, "message": {"", "too many scopes"}, "op": {"save"}}
	resp, body = b.post(p.pol+"/staff", form)
	wantStatus(t, "type error", resp, 400)
	mustContain(t, "type error", body, `id="rule-1-error"`, "Rule 2, line 2, column", `aria-describedby="rule-1-error"`,
		">request.scopes.size() &gt;\n  user.nmae</textarea>", `value="too many scopes"`, `value="Staff only"`, ">corp users</textarea>",
		"Nothing was saved")
	_, body = b.get(p.pol + "/staff")
	mustContain(t, "after refusal", body, "version 1", `value="Staff"`)

	// Add, move and remove rows: each a form submission, input kept.
	form.Set("op", "add")
	resp, body = b.post(p.pol+"/staff", form)
	wantStatus(t, "add row", resp, 200)
	if n := strings.Count(body, `name="condition"`); n != 3 {
		t.Fatalf("add row: %d rows, want 3", n)
	}
	form.Set("op", "up-1")
	_, body = b.post(p.pol+"/staff", form)
	if i, j := strings.Index(body, "user.nmae"), strings.Index(body, `user.email.endsWith(&#34;@corp.example&#34;)`); i < 0 || j < 0 || i > j {
		t.Fatalf("up-1 did not move the second rule first (%d, %d)\n%s", i, j, body)
	}
	form.Set("op", "down-0") // the form as posted, not as moved above
	_, body = b.post(p.pol+"/staff", form)
	if i, j := strings.Index(body, "user.nmae"), strings.Index(body, `user.email.endsWith(&#34;@corp.example&#34;)`); i < 0 || i > j {
		t.Fatalf("down-0 did not move the first rule down")
	}
	form.Set("op", "remove-1")
	_, body = b.post(p.pol+"/staff", form)
	if strings.Contains(body, "user.nmae") || strings.Count(body, `name="condition"`) != 1 {
		t.Fatalf("remove-1 left the rule")
	}

	// A good edit is saved as version 2.
	resp, body = b.post(p.pol+"/staff", url.Values{"csrf_token": {tok}, "name": {"Staff"}, "description": {""},
		"condition": {`!user.email.endsWith("@corp.example")`, "true"}, "outcome": {"deny", "allow"},
		"message": {"use your corp.example account", ""}, "op": {"save"}})
	wantStatus(t, "edit", resp, 200)
	mustContain(t, "edit", body, "saved as version 2", "use your corp.example account", `aria-label="Restore version 1"`)

	resp, body = b.post(p.pol+"/staff/rollback", url.Values{"csrf_token": {tok}, "version": {"1"}})
	wantStatus(t, "rollback", resp, 200)
	mustContain(t, "rollback", body, "Version 1 restored as version 3.", "sign in with an email address of an allowed domain")
	resp, _ = b.post(p.pol+"/staff/rollback", url.Values{"csrf_token": {tok}, "version": {"9"}})
	wantStatus(t, "rollback to a missing version", resp, 404)

	// The workspace default user policy.
	resp, body = b.post(p.pol+"/default", url.Values{"csrf_token": {tok}, "policy_id": {"staff"}})
	wantStatus(t, "set default", resp, 200)
	mustContain(t, "set default", body, "now the workspace&#39;s default user policy", `<option value="staff" selected>`, "workspace default")
	resp, body = b.post(p.pol+"/default", url.Values{"csrf_token": {tok}, "policy_id": {""}})
	wantStatus(t, "clear default", resp, 200)
	mustContain(t, "clear default", body, "no default user policy")
}

func TestPolicyAttachWhatIfDelete(t *testing.T) {
	p := startPolicyEnv(t)
	b, tok := p.b, p.tok
	p.createStaff(t)

	// The client's Policies tab offers only policies of the right kind.
	resp, body := b.get(p.client + "/policies")
	wantStatus(t, "client tab", resp, 200)
	mustContain(t, "client tab", body, `aria-current="page">Policies</a>`, `<option value="staff">Staff (staff)</option>`,
		`<option value="`+p.alice+`">alice (alice@corp.example)</option>`)
	if strings.Count(body, `value="staff"`) != 1 {
		t.Fatalf("a user policy is offered as a machine token policy\n%s", body)
	}
	resp, body = b.post(p.client+"/policies", url.Values{"csrf_token": {tok}, "user_policy_id": {""}, "machine_policy_id": {"staff"}})
	wantStatus(t, "wrong kind", resp, 400)
	mustContain(t, "wrong kind", body, "is of kind user, not machine")
	resp, body = b.post(p.client+"/policies", url.Values{"csrf_token": {tok}, "user_policy_id": {"staff"}, "machine_policy_id": {""}})
	wantStatus(t, "attach", resp, 200)
	mustContain(t, "attach", body, "Saved.", `<option value="staff" selected>`)

	// What-if: bob is refused with the rule's message, alice allowed with
	// the claims that would be issued.
	q := url.Values{"run": {"1"}, "user_id": {p.bob}, "scopes": {"openid"}, "remote_ip": {"192.0.2.1"}}
	resp, body = b.get(p.client + "/policies?" + q.Encode())
	wantStatus(t, "what-if bob", resp, 200)
	mustContain(t, "what-if bob", body, `id="whatif-decision" class="badge off">deny`, "access_denied",
		"sign in with an email address of an allowed domain", "user policy Staff", "matched", "not reached")
	q.Set("user_id", p.alice)
	_, body = b.get(p.client + "/policies?" + q.Encode())
	mustContain(t, "what-if alice", body, `id="whatif-decision" class="badge on">allow`, `id="whatif-access-token"`,
		`id="whatif-id-token"`, "&#34;sub&#34;: &#34;"+p.alice+"&#34;")
	// The JWT bearer grant asks the client's pre-authorization first, as
	// its own stage: nobody is approved on this client.
	jb := url.Values{"run": {"1"}, "user_id": {p.alice}, "grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}}
	_, body = b.get(p.client + "/policies?" + jb.Encode())
	mustContain(t, "what-if JWT bearer", body, `id="whatif-decision" class="badge off">deny`, "invalid_grant",
		"user is not pre-authorized for this app", "JWT bearer pre-authorization (the client's settings as the <code>profiles</code> template, no parameters)")
	q.Set("remote_ip", "not-an-ip")
	resp, body = b.get(p.client + "/policies?" + q.Encode())
	wantStatus(t, "what-if bad ip", resp, 200)
	mustContain(t, "what-if bad ip", body, `id="remote_ip-error"`, "must be an IPv4 or IPv6 address", `value="not-an-ip"`)
	q.Set("remote_ip", "")
	q.Set("user_id", "nobody")
	_, body = b.get(p.client + "/policies?" + q.Encode())
	mustContain(t, "what-if unknown user", body, `id="user_id-error"`, "does not exist")

	// The client alone: its machine token policy decides client_credentials.
	resp, _ = b.post(p.pol+"/new", url.Values{"csrf_token": {tok}, "id": {"office"}, "name": {"Office"}, "kind": {"machine"},
		"mode": {"template"}, "template": {"ip-ranges"}, "param.ip-ranges.cidrs": {"10.0.0.0/8"}, "op": {"save"}})
	wantStatus(t, "create machine policy", resp, 200)
	resp, _ = b.post(p.client+"/policies", url.Values{"csrf_token": {tok}, "user_policy_id": {"staff"}, "machine_policy_id": {"office"}})
	wantStatus(t, "attach machine policy", resp, 200)
	_, body = b.get(p.client + "/policies?" + url.Values{"run": {"1"}, "remote_ip": {"192.0.2.1"}}.Encode())
	mustContain(t, "what-if client alone", body, "Answer for <code>client_credentials</code>", `class="badge off">deny`,
		"unauthorized_client", "this application may only be used from an allowed network", "machine policy Office")
	_, body = b.get(p.client + "/policies?" + url.Values{"run": {"1"}, "remote_ip": {"10.1.2.3"}}.Encode())
	mustContain(t, "what-if client alone, office network", body, `class="badge on">allow`, `id="whatif-access-token"`)
	if strings.Contains(body, `id="whatif-id-token"`) {
		t.Error("what-if without a user shows an ID token")
	}

	// The Policies page asks the same question with a client chooser.
	cid := p.client[strings.LastIndex(p.client, "/")+1:]
	_, body = b.get(p.pol + "?" + url.Values{"run": {"1"}, "client_id": {cid}, "user_id": {p.bob}}.Encode())
	mustContain(t, "policies page what-if", body, `<option value="`+cid+`" selected>`, `class="badge off">deny`)

	// Deleting an attached policy is refused, naming where; after
	// detaching it goes.
	resp, body = b.post(p.pol+"/staff/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete attached", resp, 409)
	mustContain(t, "delete attached", body, "is attached to client", "detach it first", `value="Staff"`)
	b.post(p.client+"/policies", url.Values{"csrf_token": {tok}, "user_policy_id": {""}, "machine_policy_id": {"office"}})
	resp, body = b.post(p.pol+"/staff/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete detached", resp, 200)
	mustContain(t, "delete detached", body, "Policy staff and its versions were deleted.", `href="/console/w/default/policies/office"`)

	// A service's access policy: only access policies are offered.
	resp, _ = b.post(p.pol+"/new", url.Values{"csrf_token": {tok}, "id": {"orders-access"}, "name": {"Orders access"}, "kind": {"access"},
		"mode": {"rules"}, "condition": {"true"}, "outcome": {"allow"}, "message": {""}, "op": {"save"}})
	wantStatus(t, "create access policy", resp, 200)
	resp, _ = b.post(p.ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"orders"}, "name": {"Orders"},
		"identifier": {"https://api.example/orders"}, "scopes": {"orders:read Read"}})
	wantStatus(t, "create service", resp, 200)
	resp, body = b.post(p.ws+"/services/orders/access-policy", url.Values{"csrf_token": {tok}, "access_policy_id": {"orders-access"}})
	wantStatus(t, "set access policy", resp, 200)
	mustContain(t, "service page", body, `<option value="orders-access" selected>`)
	resp, _ = b.post(p.ws+"/services/orders/access-policy", url.Values{"csrf_token": {tok}, "access_policy_id": {"nope"}})
	wantStatus(t, "unknown access policy", resp, 400)
}

func TestPolicyPagesViewerReadOnly(t *testing.T) {
	p := startPolicyEnv(t)
	p.createStaff(t)
	resp, _ := p.b.post("/console/users", url.Values{"csrf_token": {p.tok}, "username": {"viewer"}, "password": {"viewer password 1"},
		"role": {"workspace_viewer"}, "workspaces": {"default"}})
	wantStatus(t, "create viewer", resp, 200)
	v := p.b.e.browser()
	_, body := v.get("/console/signin")
	resp, body = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"viewer"}, "password": {"viewer password 1"}})
	wantStatus(t, "viewer sign-in", resp, 200)
	vtok := csrf(t, body)

	for _, page := range []string{p.pol, p.pol + "/staff", p.client + "/policies"} {
		resp, body = v.get(page)
		wantStatus(t, "viewer reads "+page, resp, 200)
		for _, control := range []string{"New policy", "Save default", "Save as a new version", "Add a rule", "Delete policy",
			"Save policies", `name="op"`} {
			if strings.Contains(body, control) {
				t.Errorf("viewer sees %q on %s", control, page)
			}
		}
	}
	_, body = v.get(p.client + "/policies?run=1&user_id=" + p.bob)
	mustContain(t, "viewer what-if", body, `class="badge on">allow`) // not attached: no policy applies
	resp, _ = v.get(p.pol + "/new")
	wantStatus(t, "viewer new form", resp, http.StatusForbidden)
	for _, post := range []struct {
		path string
		form url.Values
	}{
		{p.pol + "/new", url.Values{"name": {"x"}, "kind": {"user"}, "mode": {"rules"}, "condition": {"true"}, "outcome": {"allow"}}},
		{p.pol + "/staff", url.Values{"name": {"x"}, "op": {"add"}}},
		{p.pol + "/staff/rollback", url.Values{"version": {"1"}}},
		{p.pol + "/staff/delete", url.Values{"confirm": {"on"}}},
		{p.pol + "/default", url.Values{"policy_id": {"staff"}}},
		{p.client + "/policies", url.Values{"user_policy_id": {"staff"}}},
		{p.ws + "/services/x/access-policy", url.Values{"access_policy_id": {""}}},
	} {
		post.form.Set("csrf_token", vtok)
		resp, _ = v.post(post.path, post.form)
		wantStatus(t, "viewer posts "+post.path, resp, http.StatusForbidden)
	}
}
