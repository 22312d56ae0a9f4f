package console_test

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// pageProblems checks one page for accessibility: every form control
// has a label (a <label for> or an enclosing <label>; hidden inputs and
// buttons excepted), no inline script or style (CSP default-src 'self'
// would block them), no event-handler attributes, and no resource from
// another origin.
func pageProblems(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return []string{"unparsable HTML: " + err.Error()}
	}
	labels := map[string]bool{}
	var controls []*html.Node
	var problems []string
	var walk func(n *html.Node, inLabel bool)
	walk = func(n *html.Node, inLabel bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "label":
				labels[attr(n, "for")] = true
				inLabel = true
			case "input", "select", "textarea":
				t := attr(n, "type")
				if t != "hidden" && t != "submit" && t != "button" && !inLabel {
					controls = append(controls, n)
				}
			case "script":
				if attr(n, "src") == "" {
					problems = append(problems, "inline <script>")
				}
			case "style":
				problems = append(problems, "inline <style>")
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "style":
					problems = append(problems, "style attribute on <"+n.Data+">")
				case strings.HasPrefix(a.Key, "on"):
					problems = append(problems, a.Key+" attribute on <"+n.Data+">")
				case (a.Key == "src" || a.Key == "href" && n.Data == "link") && strings.Contains(a.Val, "//"):
					problems = append(problems, "third-party resource "+a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inLabel)
		}
	}
	walk(doc, false)
	for _, c := range controls {
		if id := attr(c, "id"); id == "" || !labels[id] {
			problems = append(problems, "<"+c.Data+" name="+attr(c, "name")+"> has no label")
		}
	}
	return problems
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestPagesAccessible visits every console page with data on it and
// checks labels, inline code and third-party resources.
func TestPagesAccessible(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	pages := []string{"/console/setup", "/console/signin"}
	for _, p := range pages {
		resp, err := b.c.Get(e.base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, pr := range pageProblems(string(body)) {
			t.Errorf("%s: %s", p, pr)
		}
	}
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	b.post(ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"svc1"}, "name": {"API"}, "identifier": {"https://api.example"}, "scopes": {"api Access"}})
	resp, _ := b.post(ws+"/services/svc1/claims", url.Values{"csrf_token": {tok}, "op": {"claim-save"}, "claim_name": {"tier"}, "claim_expression": {`"gold"`},
		"claim_target_0": {"access_token", "userinfo"}})
	wantStatus(t, "service claims", resp, 200)
	resp, _ = b.post(ws+"/services/svc1/authorization-details", url.Values{"csrf_token": {tok}, "op": {"detail-save"}, "detail_type": {"payment_initiation"},
		"detail_description": {"Pay"}, "detail_schema": {`{"type":"object"}`}})
	wantStatus(t, "service authorization details types", resp, 200)
	b.post(ws+"/profiles", url.Values{"csrf_token": {tok}, "id": {"p1"}, "name": {"P1"}})
	resp, _ = b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"u1"}, "active": {"on"}, "service_user": {"on"}})
	user := resp.Request.URL.Path
	// A person (not a service user): the page adds passwords, sessions
	// and consents.
	resp, _ = b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"alice"}, "email": {"alice@example.com"}, "active": {"on"}})
	person := resp.Request.URL.Path
	b.post(ws+"/trusted-issuers/new", url.Values{"csrf_token": {tok}, "id": {"ti1"}, "name": {"TI"}, "issuer": {"https://idp.example"},
		"jwks_uri": {"https://idp.example/jwks"}, "claim": {"sub"}, "claim_format": {"plain"}, "enabled": {"on"}})
	resp, _ = b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"C"}, "type": {"service"}, "contact_email": {"o@example.com"}})
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	b.post(client+"/action/secret-code", url.Values{"csrf_token": {tok}})
	b.post(ws+"/initial-access-tokens/new", url.Values{"csrf_token": {tok}, "description": {"D"}, "grant_types": {"client_credentials"},
		"scopes": {"api"}, "expires_in": {"0"}, "max_uses": {"0"}})
	b.post(ws+"/policies/new", url.Values{"csrf_token": {tok}, "id": {"pol1"}, "name": {"Net"}, "kind": {"machine"}, "mode": {"template"},
		"template": {"ip-ranges"}, "param.ip-ranges.cidrs": {"10.0.0.0/8"}, "op": {"save"}})
	b.post(client+"/policies", url.Values{"csrf_token": {tok}, "machine_policy_id": {"pol1"}})
	resp, _ = b.post(client+"/claims", url.Values{"csrf_token": {tok}, "op": {"claim-save"}, "claim_name": {"tenant", "region"},
		"claim_expression": {`"acme"`, `"eu"`}, "claim_target_0": {"access_token"}, "claim_target_1": {"id_token"}})
	wantStatus(t, "client claims", resp, 200)
	clientID := client[strings.LastIndex(client, "/")+1:]
	_, body := b.get("/console/users")
	admin := "/console/users/" + between(body, `href="/console/users/`, `"`)

	for _, p := range []string{
		ws + "/clients", ws + "/clients/new", client + "/overview", client + "/oauth", client + "/protocols", client + "/scopes", client + "/endpoints",
		client + "/metadata", client + "/credentials", ws + "/services", ws + "/services/new", ws + "/services/svc1", ws + "/keys", ws + "/audit",
		ws + "/settings", ws + "/users", ws + "/users/new", user, person, ws + "/profiles", ws + "/profiles/p1", ws + "/trusted-issuers",
		ws + "/trusted-issuers/new", ws + "/trusted-issuers/ti1", ws + "/initial-access-tokens", ws + "/initial-access-tokens/new",
		"/console/users", admin, "/console/outbox", "/console/workspaces/new",
		ws + "/policies", ws + "/policies/new", ws + "/policies/pol1", client + "/policies",
		client + "/policies?run=1&scopes=api&remote_ip=bad", ws + "/policies?run=1&client_id=" + clientID,
	} {
		resp, body := b.get(p)
		wantStatus(t, p, resp, 200)
		for _, pr := range pageProblems(body) {
			t.Errorf("%s: %s", p, pr)
		}
		for _, d := range duplicateControls(body) {
			t.Errorf("%s: one setting, two controls: %s", p, d)
		}
	}
}

// duplicateControls lists the settings (control name, and value for
// check boxes and radio buttons) that two settings forms of a page both
// hold: each setting has one control (action forms, data-action, carry
// their own hidden identifiers and are left out).
func duplicateControls(body string) []string {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return []string{"unparsable HTML: " + err.Error()}
	}
	owner := map[string]int{}
	var dups []string
	form := 0
	var walk func(n *html.Node, in int)
	walk = func(n *html.Node, in int) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				in = 0
				if strings.EqualFold(attr(n, "method"), "post") && !hasAttr(n, "data-action") {
					form++
					in = form
				}
			case "input", "select", "textarea":
				name, typ := attr(n, "name"), attr(n, "type")
				if in > 0 && name != "" && name != "csrf_token" && typ != "submit" {
					k := name
					if typ == "checkbox" || typ == "radio" {
						k += "=" + attr(n, "value")
					}
					if f, ok := owner[k]; ok && f != in {
						dups = append(dups, k)
					}
					owner[k] = in
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, in)
		}
	}
	walk(doc, 0)
	return dups
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

// TestDuplicateControlsFindsTwins keeps the one-control check honest.
func TestDuplicateControlsFindsTwins(t *testing.T) {
	twice := `<form method="post"><input type="checkbox" name="grant_types" value="jwt"></form>` +
		`<form method="post"><input type="checkbox" name="grant_types" value="jwt"></form>`
	if len(duplicateControls(twice)) != 1 {
		t.Error("a setting with two controls is not reported")
	}
	ok := `<form method="post"><input name="a"><input type="checkbox" name="g" value="1"><input type="checkbox" name="g" value="2"></form>` +
		`<form method="post" data-action><input type="hidden" name="a"></form><form method="post"><input name="b"></form>`
	if d := duplicateControls(ok); len(d) != 0 {
		t.Errorf("false positives: %v", d)
	}
}

// TestPageProblemsFindsFaults keeps the checker honest.
func TestPageProblemsFindsFaults(t *testing.T) {
	cases := map[string]string{
		"unlabelled input":   `<form><input name="x"></form>`,
		"wrong label":        `<label for="a">A</label><select id="b" name="b"></select>`,
		"inline script":      `<script>alert(1)</script>`,
		"style attribute":    `<p style="color:red">x</p>`,
		"handler attribute":  `<button onclick="x()">x</button>`,
		"third-party script": `<script src="https://cdn.example/x.js"></script>`,
	}
	for name, page := range cases {
		if len(pageProblems(page)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
	if p := pageProblems(`<label>Name <input name="n"></label><label for="e">E</label><textarea id="e"></textarea><input type="hidden" name="h">`); len(p) != 0 {
		t.Errorf("false positives: %v", p)
	}
}
