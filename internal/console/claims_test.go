package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// claimForm is the claims editor's submission: rows of name, expression
// and targets (each row's checkboxes are named after its index).
func claimForm(tok, op string, rows ...[3]string) url.Values {
	f := url.Values{"csrf_token": {tok}, "op": {op}}
	for i, r := range rows {
		f.Add("claim_name", r[0])
		f.Add("claim_expression", r[1])
		for _, t := range strings.Fields(r[2]) {
			f.Add("claim_target_"+strconv.Itoa(i), t)
		}
	}
	return f
}

func TestClientClaimsSaveWhatIfAndRefusals(t *testing.T) {
	p := startPolicyEnv(t)
	b, tok := p.b, p.tok
	cid := p.client[strings.LastIndex(p.client, "/")+1:]

	resp, body := b.get(p.client + "/policies")
	wantStatus(t, "tab", resp, 200)
	mustContain(t, "tab", body, `id="claims-h">Claims</h2>`, "No claims are mapped.", `action="`+p.client+`/claims"`,
		"The what-if answer on this tab shows the claims these mappings produce", "Add a claim")

	// Add a row: a form submission that keeps what was typed.
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-add", [3]string{"tenant", `"acme"`, "access_token"}))
	wantStatus(t, "add a row", resp, 200)
	mustContain(t, "add a row", body, `id="claim-1-name"`, `value="tenant"`, `name="claim_target_1" value="access_token" checked`)

	// A reserved name is refused next to its row, all input kept, nothing saved.
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-save",
		[3]string{"tenant", `"acme"`, "access_token id_token"}, [3]string{"sub", `"x"`, "access_token"}))
	wantStatus(t, "reserved name", resp, 400)
	mustContain(t, "reserved name", body, "Nothing was saved", `id="claim-1-error"`,
		"Claim 2 (&#34;sub&#34;): is a reserved claim that Latchkey sets itself", `aria-describedby="claim-1-error"`,
		`value="tenant"`, `value="sub"`, `name="claim_target_0" value="id_token" checked`)
	if strings.Contains(body, `id="claim-0-error"`) {
		t.Error("the valid row is marked")
	}
	_, body = b.get(p.client + "/policies")
	mustContain(t, "nothing saved", body, "No claims are mapped.")

	// A type error: its line and column under the row.
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-save", [3]string{"tenant", "\"acme\" +\n  client.nmae", "access_token"}))
	wantStatus(t, "type error", resp, 400)
	mustContain(t, "type error", body, `id="claim-0-error"`, "Claim 1 (&#34;tenant&#34;), line 2, column",
		">&#34;acme&#34; &#43;\n  client.nmae</textarea>")

	// Valid mappings are saved; the what-if answer shows the mapped claim.
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-save",
		[3]string{"tenant", `"acme||" + client.id`, "access_token"}, [3]string{"", "", "access_token"}))
	wantStatus(t, "save", resp, 200)
	mustContain(t, "save", body, "Claims saved.", `value="tenant"`, `name="claim_target_0" value="access_token" checked`)
	if strings.Contains(body, `id="claim-1-name"`) {
		t.Error("a blank row was saved")
	}
	_, body = b.get(p.client + "/policies?" + url.Values{"run": {"1"}, "remote_ip": {"192.0.2.1"}}.Encode())
	mustContain(t, "what-if", body, `id="whatif-access-token"`, "&#34;tenant&#34;: &#34;acme||"+cid+"&#34;")

	// Remove a row, then save: the claim is gone.
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-remove-0", [3]string{"tenant", `"acme"`, "access_token"}))
	wantStatus(t, "remove", resp, 200)
	mustContain(t, "remove", body, "No claims are mapped.")
	resp, body = b.post(p.client+"/claims", claimForm(tok, "claim-save"))
	wantStatus(t, "save empty", resp, 200)
	mustContain(t, "save empty", body, "Claims saved.", "No claims are mapped.")
	_, body = b.get(p.client + "/policies?run=1")
	if strings.Contains(body, "tenant") {
		t.Error("the removed claim is still issued")
	}
	_, body = b.get(p.ws + "/audit")
	mustContain(t, "audited", body, "client.claims")
}

func TestServiceClaims(t *testing.T) {
	p := startPolicyEnv(t)
	b, tok := p.b, p.tok
	resp, _ := b.post(p.ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"orders"}, "name": {"Orders"},
		"identifier": {"https://api.example/orders"}, "scopes": {"orders:read Read"}})
	wantStatus(t, "create service", resp, 200)
	svc := p.ws + "/services/orders"
	resp, body := b.get(svc)
	wantStatus(t, "service page", resp, 200)
	mustContain(t, "service page", body, `id="claims-h">Claims</h2>`, `action="`+svc+`/claims"`, "No claims are mapped.",
		`href="`+p.pol+`">Policies</a> page`)

	resp, body = b.post(svc+"/claims", claimForm(tok, "claim-save", [3]string{"aud", `"x"`, "access_token"}))
	wantStatus(t, "reserved", resp, 400)
	mustContain(t, "reserved", body, `id="claim-0-error"`, "is a reserved claim", `value="aud"`, `value="Orders"`)

	resp, body = b.post(svc+"/claims", claimForm(tok, "claim-save", [3]string{"orders_tier", `"gold"`, "access_token introspection"}))
	wantStatus(t, "save", resp, 200)
	mustContain(t, "save", body, "Claims saved.", `value="orders_tier"`, `name="claim_target_0" value="introspection" checked`)

	// The token endpoint adds it to a token carrying the service's scope.
	cid := p.client[strings.LastIndex(p.client, "/")+1:]
	resp, _ = b.post(p.client+"/scopes", url.Values{"csrf_token": {tok}, "scopes": {"orders:read"}})
	wantStatus(t, "allow scope", resp, 200)
	_, body = b.get(p.pol + "?" + url.Values{"run": {"1"}, "client_id": {cid}, "scopes": {"orders:read"}}.Encode())
	mustContain(t, "what-if", body, "&#34;orders_tier&#34;: &#34;gold&#34;")
}

func TestClaimsViewerReadOnly(t *testing.T) {
	p := startPolicyEnv(t)
	b, tok := p.b, p.tok
	b.post(p.ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"orders"}, "name": {"Orders"},
		"identifier": {"https://api.example/orders"}, "scopes": {"orders:read Read"}})
	for _, path := range []string{p.client + "/claims", p.ws + "/services/orders/claims"} {
		resp, _ := b.post(path, claimForm(tok, "claim-save", [3]string{"tenant", `"acme"`, "access_token"}))
		wantStatus(t, "save "+path, resp, 200)
	}
	v, vtok := b.signedInViewer(t, tok)
	for _, page := range []string{p.client + "/policies", p.ws + "/services/orders"} {
		resp, body := v.get(page)
		wantStatus(t, "viewer reads "+page, resp, 200)
		mustContain(t, "viewer reads "+page, body, `value="tenant" class="mono" readonly`, `value="access_token" checked disabled`)
		for _, control := range []string{"Save claims", "Add a claim", "Remove claim", `name="op"`} {
			if strings.Contains(body, control) {
				t.Errorf("viewer sees %q on %s", control, page)
			}
		}
	}
	for _, path := range []string{p.client + "/claims", p.ws + "/services/orders/claims"} {
		resp, _ := v.post(path, claimForm(vtok, "claim-save"))
		wantStatus(t, "viewer posts "+path, resp, http.StatusForbidden)
	}
}
