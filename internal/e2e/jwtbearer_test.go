package e2e

import (
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// jwtBearerSigner is a client's RSA key with its certificate.
type jwtBearerSigner struct {
	key     *rsa.PrivateKey
	certPEM string
}

func newJWTBearerSigner(t *testing.T) jwtBearerSigner {
	t.Helper()
	s := e2etest.NewAssertionSigner(t)
	return jwtBearerSigner{key: s.Key, certPEM: s.CertPEM}
}

// assertion signs an RS256 JWT bearer assertion with kid "e2e".
func (s jwtBearerSigner) assertion(t *testing.T, iss, sub, aud string) string {
	t.Helper()
	return e2etest.AssertionSigner{Key: s.key, CertPEM: s.certPEM}.Assertion(t, iss, sub, aud)
}

// TestJWTBearerMultiProcess starts two `latchkey serve` processes on one
// PostgreSQL schema: a JWT bearer assertion used on one is refused as a
// replay on the other, concurrent use over both succeeds exactly once, and
// a user disabled through one is refused by the other (SECURITY.md C3, C7 "two nodes / concurrently").
func TestJWTBearerMultiProcess(t *testing.T) {
	t.Parallel()
	p1, p2, procs := startProcessPair(t, "multi-process JWT bearer test")
	const ws = "default"

	p1.createService(t, ws, "api", "https://api.example", "api:read")
	c := p1.createClient(t, ws, map[string]any{"client_id": "jb-app", "name": "JWT bearer app",
		"grant_types": []string{jwtBearerGrant}, "scopes": []string{"api:read"}})
	s := newJWTBearerSigner(t)
	p1.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients/"+c.ClientID+"/certificates",
		map[string]any{"certificate": s.certPEM, "kid": "e2e"}, http.StatusCreated, nil)
	p1.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users",
		map[string]any{"id": "u-ada", "username": "ada"}, http.StatusCreated, nil)
	p1.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/clients/"+c.ClientID+"/jwt-bearer",
		map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"u-ada"}}, http.StatusOK, nil)
	aud := p1.issuer(ws) + "/oauth2/token"
	post := func(lk *instance, assertion string) reply {
		p1.leaks.AddToken(assertion) // a bearer credential until it expires
		r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token",
			url.Values{"grant_type": {jwtBearerGrant}, "assertion": {assertion}}, basic{})
		if r.status == http.StatusOK {
			p1.leaks.AddToken(r.str("access_token"))
		}
		return r
	}

	t.Run("C7 assertion used on 1 is a replay on 2", func(t *testing.T) {
		// Process 2 may see the new client a poll interval later.
		eventually(t, func() (string, bool) {
			return "", post(p2, s.assertion(t, c.ClientID, "ada", aud)).status == http.StatusOK
		})
		a := s.assertion(t, c.ClientID, "ada", aud)
		if r := post(p1, a); r.status != http.StatusOK {
			t.Fatalf("process 1: %d %s", r.status, r.raw)
		}
		r := post(p2, a)
		if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" || r.str("error_description") != "assertion has already been used" {
			t.Fatalf("process 2 accepted a replay: %d %s", r.status, r.raw)
		}
	})
	t.Run("C7 20 concurrent identical assertions over both", func(t *testing.T) {
		a := s.assertion(t, c.ClientID, "ada", aud)
		replies := make([]reply, 20)
		done := make(chan struct{})
		for i := range replies {
			go func() {
				replies[i] = post([]*instance{p1, p2}[i%2], a)
				done <- struct{}{}
			}()
		}
		for range replies {
			<-done
		}
		ok := 0
		for _, r := range replies {
			switch {
			case r.status == http.StatusOK:
				ok++
			case r.status != http.StatusBadRequest || r.str("error") != "invalid_grant":
				t.Errorf("concurrent replay: %d %s", r.status, r.raw)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of 20 concurrent identical assertions succeeded, want exactly 1", ok)
		}
	})
	t.Run("C3 user disabled on 1 is refused on 2", func(t *testing.T) {
		p1.adminOK(t, http.MethodPatch, "/workspaces/"+ws+"/users/u-ada", map[string]any{"active": false}, http.StatusOK, nil)
		eventually(t, func() (string, bool) {
			r := post(p2, s.assertion(t, c.ClientID, "ada", aud))
			return "", r.status == http.StatusBadRequest && r.str("error_description") == "user is disabled"
		})
	})

	// Neither process logged an assertion or a token (SECURITY.md Q6).
	for _, p := range procs {
		p.StopAndCheckLog(t, p1.leaks)
	}
}
