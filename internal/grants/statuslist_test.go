package grants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/statuslist"
)

// The writes of the status list part of the contract, for writeCounter.

func (w *writeCounter) ReserveStatusIndexes(ctx context.Context, ws string, n int64) (int64, error) {
	w.record("ReserveStatusIndexes")
	return w.Storage.ReserveStatusIndexes(ctx, ws, n)
}

func (w *writeCounter) RecordStatusFamily(ctx context.Context, ws string, idx int64, fam string, exp, now time.Time) error {
	w.record("RecordStatusFamily")
	return w.Storage.RecordStatusFamily(ctx, ws, idx, fam, exp, now)
}

func (w *writeCounter) RevokeStatus(ctx context.Context, ws string, idx int64, exp, now time.Time) error {
	w.record("RevokeStatus")
	return w.Storage.RevokeStatus(ctx, ws, idx, exp, now)
}

// countedStatus gives tokens status list entries from blocks of block
// indexes reserved through wc.
func countedStatus(wc *writeCounter, block int64) grants.StatusDeps {
	return grants.StatusDeps{Allocator: &statuslist.Allocator{Store: wc, Block: block}, Families: wc}
}

// TestStatusClaim: with status lists on, a client_credentials JWT carries
// status.status_list {idx, uri} (draft-ietf-oauth-status-list §6.2) with
// consecutive indexes in the issuer's list 0, from one reservation.
func TestStatusClaim(t *testing.T) {
	f := newFixture(t, "ES256")
	wc := &writeCounter{Storage: f.env.Store}
	h := *f.handler
	h.Status = countedStatus(wc, 16)
	mux := http.NewServeMux()
	h.Mount(mux)
	var idxs []float64
	for range 3 {
		rec := httptestPost(mux, "/w/acme/oauth2/token", cc(""), "svc", f.secrets["svc"])
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var resp struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatal(err)
		}
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(resp.AccessToken, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Status struct {
				StatusList struct {
					Idx float64 `json:"idx"`
					URI string  `json:"uri"`
				} `json:"status_list"`
			} `json:"status"`
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims.Status.StatusList.URI != f.env.BaseURL+"/w/acme/statuslists/0" {
			t.Fatalf("status claim %s", payload)
		}
		idxs = append(idxs, claims.Status.StatusList.Idx)
	}
	if idxs[1] != idxs[0]+1 || idxs[2] != idxs[1]+1 {
		t.Fatalf("indexes %v, want consecutive", idxs)
	}
	if len(wc.writes) != 1 || wc.writes[0] != "ReserveStatusIndexes" {
		t.Fatalf("writes %q, want one reservation", wc.writes)
	}
}

// BenchmarkTokenEndpointClientCredentialsStatusList is
// BenchmarkTokenEndpointClientCredentials with status list entries on (the
// server's configuration): `-bench BenchmarkTokenEndpointClientCredentials`
// runs both, so the cost of the claim and of the block reservations shows
// in one run (docs/benchmarks.md).
func BenchmarkTokenEndpointClientCredentialsStatusList(b *testing.B) {
	for _, alg := range oauth2.SigningAlgs {
		b.Run(alg, func(b *testing.B) {
			f := newFixture(b, alg)
			h := *f.handler
			h.Status = grants.StatusDeps{Allocator: &statuslist.Allocator{Store: f.env.Store}}
			mux := http.NewServeMux()
			h.Mount(mux)
			benchTokens(b, mux, cc("orders:read"), "svc", f.secrets["svc"])
		})
	}
}
