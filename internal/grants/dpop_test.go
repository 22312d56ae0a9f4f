package grants_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestDPoPProofSingleUseConcurrent: the same proof sent by many
// concurrent client_credentials requests yields exactly one token, for a
// JWT access token (the jti is spent while the token is signed, and the
// token is answered only after the spend committed) and for an opaque one
// (spent while its row is written); a later replay is refused too (RFC 9449 §11.1,
// SECURITY.md S7). Every refusal is invalid_dpop_proof, never a 500.
func TestDPoPProofSingleUseConcurrent(t *testing.T) {
	f := newFixture(t, oauth2.AlgES256)
	f.handler.DPoP.Verifier = &dpop.Verifier{Store: f.env.Store, Now: f.env.Clock.Now}
	f.client(t, storage.Client{ID: "svc-opaque", Scopes: allScopes, AccessTokenFormat: storage.AccessTokenOpaque})
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := dpop.NewProofSigner(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   map[string]any
	}
	post := func(t *testing.T, client, proof string) answer {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/w/acme/oauth2/token", strings.NewReader(cc("orders:read").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(client, f.secrets[client])
		req.Header.Set("DPoP", proof)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return answer{}
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return answer{resp.StatusCode, body}
	}
	for _, client := range []string{"svc", "svc-opaque"} {
		t.Run(client, func(t *testing.T) {
			proof, err := s.Proof("POST", f.env.Issuer("acme")+"/oauth2/token", "", "", f.env.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			const n = 12
			answers := make([]answer, n)
			var wg sync.WaitGroup
			for i := range answers {
				wg.Go(func() { answers[i] = post(t, client, proof) })
			}
			wg.Wait()
			answers = append(answers, post(t, client, proof))
			ok := 0
			for _, a := range answers {
				switch {
				case a.status == http.StatusOK:
					ok++
					if a.body["token_type"] != "DPoP" || a.body["access_token"] == "" {
						t.Errorf("token response %v", a.body)
					}
				case a.status != http.StatusBadRequest || a.body["error"] != string(dpop.ErrInvalidProof) || a.body["access_token"] != nil:
					t.Errorf("replay answered %d %v, want 400 invalid_dpop_proof", a.status, a.body)
				}
			}
			if ok != 1 {
				t.Fatalf("%d tokens for one proof, want exactly 1", ok)
			}
		})
	}
}
