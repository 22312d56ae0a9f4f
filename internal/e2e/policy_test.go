package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestMachinePolicyClientCredentials: a machine token policy attached to a
// client decides client_credentials (docs/security.md Z10 within one
// process): denied with 400 unauthorized_client and the rule's message,
// allowed after an update (version 2), denied again after a rollback to
// version 1; a policy in use cannot be deleted; a condition that does not
// type-check is refused with its position and nothing is saved.
func TestMachinePolicyClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "pol"
		lk.createWorkspace(t, ws, "")
		lk.createService(t, ws, "api", "https://api.example", "read")
		c := lk.secretClient(t, ws, "client_secret_basic", "read")
		cfg := ccConfig(lk.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, []string{"read"}, nil)
		lk.mustToken(t, cfg) // no policy attached: today's behaviour

		base := "/workspaces/" + ws
		// Only 10.0.0.0/8 may get tokens; the test client is on loopback.
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "office", "name": "Office network", "kind": "machine",
			"template": "ip-ranges", "params": map[string]string{"cidrs": "10.0.0.0/8"},
		}, http.StatusCreated, nil)
		// A user policy cannot be attached as a machine policy.
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "people", "name": "People", "kind": "user", "rules": []map[string]string{{"condition": "true", "outcome": "allow"}},
		}, http.StatusCreated, nil)
		r := lk.adminDo(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies", map[string]any{"machine_policy_id": "people"})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "not machine") {
			t.Fatalf("attaching a user policy as machine policy: %d %s", r.status, r.raw)
		}
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies",
			map[string]any{"machine_policy_id": "office"}, http.StatusOK, nil)

		_, err := lk.fetchToken(t, cfg)
		wantOAuthError(t, err, http.StatusBadRequest, "unauthorized_client")
		wantDescription(t, err, "this application may only be used from an allowed network")

		// A rule that does not type-check: 400 naming rule, line and column; nothing saved.
		r = lk.adminDo(t, http.MethodPatch, base+"/policies/office", map[string]any{
			"rules": []map[string]string{
				{"condition": "true", "outcome": "allow"},
				{"condition": "request.remote_ip ==\n  client.nme", "outcome": "deny"},
			},
		})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "rule 1, line 2, column 9") {
			t.Fatalf("bad condition: %d %s", r.status, r.raw)
		}

		// Version 2 lets loopback in.
		var p struct {
			Version int `json:"version"`
		}
		lk.adminOK(t, http.MethodPatch, base+"/policies/office", map[string]any{
			"rules": []map[string]string{
				{"condition": `ip_in(request.remote_ip, ["127.0.0.0/8", "::1/128"])`, "outcome": "allow"},
				{"condition": "true", "outcome": "deny", "message": "outside the office"},
			},
		}, http.StatusOK, &p)
		if p.Version != 2 {
			t.Fatalf("version after update = %d, want 2", p.Version)
		}
		lk.mustToken(t, cfg)

		var versions struct {
			Items []struct {
				Version int `json:"version"`
			} `json:"items"`
		}
		lk.adminOK(t, http.MethodGet, base+"/policies/office/versions", nil, http.StatusOK, &versions)
		if len(versions.Items) != 2 || versions.Items[0].Version != 2 {
			t.Fatalf("versions = %+v", versions)
		}
		// Rolling back to version 1 saves version 3 with its rules.
		lk.adminOK(t, http.MethodPost, base+"/policies/office/rollback", map[string]any{"version": 1}, http.StatusOK, &p)
		if p.Version != 3 {
			t.Fatalf("version after rollback = %d, want 3", p.Version)
		}
		_, err = lk.fetchToken(t, cfg)
		wantOAuthError(t, err, http.StatusBadRequest, "unauthorized_client")
		lk.adminOK(t, http.MethodPost, base+"/policies/office/rollback", map[string]any{"version": 9}, http.StatusNotFound, nil)

		// Attached: cannot be deleted; detached: can.
		lk.adminOK(t, http.MethodDelete, base+"/policies/office", nil, http.StatusConflict, nil)
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies", map[string]any{}, http.StatusOK, nil)
		lk.mustToken(t, cfg)
		lk.adminOK(t, http.MethodDelete, base+"/policies/office", nil, http.StatusNoContent, nil)

		// Another workspace sees none of it (Z11).
		lk.createWorkspace(t, "other", "")
		lk.adminOK(t, http.MethodGet, "/workspaces/other/policies/people", nil, http.StatusNotFound, nil)
	})
}

// wantDescription checks the error_description of a token endpoint error.
func wantDescription(t *testing.T, err error, want string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorDescription != want {
		t.Fatalf("error_description of %v, want %q", err, want)
	}
}

// TestUserPolicyJWTBearer: a user policy is checked at the JWT bearer grant
// in addition to the client's pre-authorization (which keeps working as
// before): a pre-authorized user outside the allowed email domain gets
// invalid_grant with the rule's message, and is admitted once the email
// changes.
func TestUserPolicyJWTBearer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "polbearer"
		base := "/workspaces/" + ws
		lk.createWorkspace(t, ws, "")
		lk.createService(t, ws, "api", "https://api.example", "api:read")
		c := lk.createClient(t, ws, map[string]any{"client_id": "jb-app", "name": "JWT bearer app",
			"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api:read"}})
		s := newJWTBearerSigner(t)
		lk.adminOK(t, http.MethodPost, base+"/clients/"+c.ClientID+"/certificates",
			map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
		for _, u := range []map[string]any{
			{"id": "u-ada", "username": "ada", "email": "ada@partner.example"},
			{"id": "u-bob", "username": "bob", "email": "bob@corp.example"},
		} {
			lk.adminOK(t, http.MethodPost, base+"/users", u, http.StatusCreated, nil)
		}
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/jwt-bearer",
			map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"u-ada"}}, http.StatusOK, nil)
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "corp", "name": "Corp email", "kind": "user",
			"template": "email-domain", "params": map[string]string{"domain": "corp.example"},
		}, http.StatusCreated, nil)
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies",
			map[string]any{"user_policy_id": "corp"}, http.StatusOK, nil)

		aud := lk.issuer(ws) + "/oauth2/token"
		post := func(sub string) reply {
			a := s.assertion(t, c.ClientID, sub, aud)
			lk.leaks.AddToken(a)
			r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token",
				url.Values{"grant_type": {jwtBearerGrant}, "assertion": {a}}, basic{})
			if r.status == http.StatusOK {
				lk.leaks.AddToken(r.str("access_token"))
			}
			return r
		}
		r := post("ada")
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" ||
			r.str("error_description") != "sign in with an email address of an allowed domain" {
			t.Fatalf("ada outside the domain: %d %s", r.status, r.raw)
		}
		// bob satisfies the policy but is not pre-authorized: still refused.
		if r := post("bob"); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
			t.Fatalf("bob not pre-authorized: %d %s", r.status, r.raw)
		}
		lk.adminOK(t, http.MethodPatch, base+"/users/u-ada", map[string]any{"email": "ada@corp.example"}, http.StatusOK, nil)
		if r := post("ada"); r.status != http.StatusOK {
			t.Fatalf("ada inside the domain: %d %s", r.status, r.raw)
		}
		// request.claims are the validated assertion's claims.
		lk.adminOK(t, http.MethodPatch, base+"/policies/corp", map[string]any{"rules": []map[string]string{
			{"condition": `request.claims.sub == "ada" && request.claims.iss == "jb-app"`, "outcome": "deny", "message": "not ada via jb-app"},
			{"condition": "true", "outcome": "allow"},
		}}, http.StatusOK, nil)
		if r := post("ada"); r.status != http.StatusBadRequest || r.str("error_description") != "not ada via jb-app" {
			t.Fatalf("claims rule: %d %s", r.status, r.raw)
		}
	})
}

// TestPolicyChangeAcrossProcesses: a policy changed through process 1 takes
// effect on process 2 within the change-feed bound (docs/security.md Z10):
// the cached policy is invalidated by the change feed, and the compiled
// program is keyed by version.
func TestPolicyChangeAcrossProcesses(t *testing.T) {
	t.Parallel()
	p1, p2, procs := startProcessPair(t, "multi-process policy test")
	const ws = "default"
	base := "/workspaces/" + ws
	p1.createService(t, ws, "api", "https://api.example", "api:read")
	c := p1.secretClient(t, ws, "client_secret_basic", "api:read")
	p1.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
		"id": "gate", "name": "Gate", "kind": "machine",
		"rules": []map[string]string{{"condition": "true", "outcome": "deny", "message": "gate closed"}},
	}, http.StatusCreated, nil)
	p1.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies",
		map[string]any{"machine_policy_id": "gate"}, http.StatusOK, nil)
	cfg := ccConfig(p2.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil)
	denied := func() bool {
		_, err := p2.fetchToken(t, cfg)
		var re *oauth2.RetrieveError
		return errors.As(err, &re) && re.ErrorCode == "unauthorized_client" && re.ErrorDescription == "gate closed"
	}
	eventually(t, func() (string, bool) { return "", denied() })

	p1.adminOK(t, http.MethodPatch, base+"/policies/gate", map[string]any{
		"rules": []map[string]string{{"condition": `request.grant_type == "client_credentials"`, "outcome": "allow"}},
	}, http.StatusOK, nil)
	start := time.Now()
	eventually(t, func() (string, bool) {
		_, err := p2.fetchToken(t, cfg)
		return "", err == nil
	})
	// The documented bound is the cache poll interval (500 ms by default)
	// plus a request (pollFor).
	if el := time.Since(start); el > pollFor {
		t.Fatalf("policy change reached process 2 after %s", el)
	}
	for _, p := range procs {
		p.StopAndCheckLog(t, p1.leaks)
	}
}

// TestAccessPolicyClientCredentials: a service's access policy decides
// whether a client may have the service's scopes: invalid_scope with the
// rule's message when denied; scopes of other services are unaffected.
func TestAccessPolicyClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "polaccess"
		base := "/workspaces/" + ws
		lk.createWorkspace(t, ws, "")
		lk.createService(t, ws, "billing", "https://billing.example", "billing:read")
		lk.createService(t, ws, "docs", "https://docs.example", "docs:read")
		c := lk.secretClient(t, ws, "client_secret_basic", "billing:read", "docs:read")
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "gold", "name": "Gold clients", "kind": "access",
			"rules": []map[string]string{
				{"condition": `"tier" in client.metadata && client.metadata.tier == "gold"`, "outcome": "allow"},
				{"condition": "true", "outcome": "deny", "message": "billing is for gold clients only"},
			},
		}, http.StatusCreated, nil)
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{
			"id": "m", "name": "Machine", "kind": "machine", "rules": []map[string]string{{"condition": "true", "outcome": "allow"}},
		}, http.StatusCreated, nil)
		r := lk.adminDo(t, http.MethodPut, base+"/services/billing/access-policy", map[string]any{"policy_id": "m"})
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "not access") {
			t.Fatalf("attaching a machine policy as access policy: %d %s", r.status, r.raw)
		}
		lk.adminOK(t, http.MethodPut, base+"/services/billing/access-policy", map[string]any{"policy_id": "gold"}, http.StatusOK, nil)

		token := lk.wsURL(ws) + "/oauth2/token"
		_, err := lk.fetchToken(t, ccConfig(token, c, oauth2.AuthStyleInHeader, []string{"billing:read"}, nil))
		wantOAuthError(t, err, http.StatusBadRequest, "invalid_scope")
		wantDescription(t, err, "billing is for gold clients only")
		lk.mustToken(t, ccConfig(token, c, oauth2.AuthStyleInHeader, []string{"docs:read"}, nil))

		lk.adminOK(t, http.MethodPatch, base+"/clients/"+c.ClientID, map[string]any{"metadata": map[string]string{"tier": "gold"}}, http.StatusOK, nil)
		lk.mustToken(t, ccConfig(token, c, oauth2.AuthStyleInHeader, []string{"billing:read", "docs:read"}, nil))

		lk.adminOK(t, http.MethodDelete, base+"/policies/gold", nil, http.StatusConflict, nil)
		lk.adminOK(t, http.MethodPut, base+"/services/billing/access-policy", map[string]any{"policy_id": ""}, http.StatusOK, nil)
		lk.adminOK(t, http.MethodDelete, base+"/policies/gold", nil, http.StatusNoContent, nil)
	})
}

// TestMachinePolicyTemplates: the service-users-only and time-window
// templates through the real server at client_credentials.
func TestMachinePolicyTemplates(t *testing.T) {
	lk := startInstance(t, "")
	const ws = "poltemplates"
	base := "/workspaces/" + ws
	lk.createWorkspace(t, ws, "")
	lk.createService(t, ws, "api", "https://api.example", "read")
	c := lk.secretClient(t, ws, "client_secret_basic", "read")
	cfg := ccConfig(lk.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil)
	attach := func(id string) {
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/policies", map[string]any{"machine_policy_id": id}, http.StatusOK, nil)
	}

	t.Run("service-users-only", func(t *testing.T) {
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{"id": "svc", "name": "Service users", "kind": "machine",
			"template": "service-users-only"}, http.StatusCreated, nil)
		attach("svc")
		_, err := lk.fetchToken(t, cfg)
		wantOAuthError(t, err, http.StatusBadRequest, "unauthorized_client")
		wantDescription(t, err, "only service users may use this application")
		lk.adminOK(t, http.MethodPost, base+"/users", map[string]any{"id": "svc-bot", "username": "bot", "service_user": true},
			http.StatusCreated, nil)
		lk.adminOK(t, http.MethodPut, base+"/clients/"+c.ClientID+"/jwt-bearer", map[string]any{"service_user_id": "svc-bot"},
			http.StatusOK, nil)
		lk.mustToken(t, cfg)
	})

	t.Run("time-window", func(t *testing.T) {
		h := lk.clock.Now().UTC().Hour()
		lk.adminOK(t, http.MethodPost, base+"/policies", map[string]any{"id": "hours", "name": "This hour", "kind": "machine",
			"template": "time-window", "params": map[string]string{"hours": fmt.Sprintf("%d-%d", h, h+1)}}, http.StatusCreated, nil)
		attach("hours")
		lk.mustToken(t, cfg)
		lk.clock.Advance(time.Hour)
		_, err := lk.fetchToken(t, cfg)
		wantOAuthError(t, err, http.StatusBadRequest, "unauthorized_client")
		wantDescription(t, err, fmt.Sprintf("this application may only be used between %02d:00 and %02d:00 UTC on the allowed days", h, h+1))
	})
}
