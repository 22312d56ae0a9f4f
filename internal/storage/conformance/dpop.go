package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testDPoPBindings: the DPoP key thumbprints (RFC 9449 §5, §10) survive
// the round trip of a pending authorization request (dpop_jkt), of its
// code, and of a token family through redemption and refresh rotation.
func testDPoPBindings(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	must(t, s.CreateAuthRequest(ctx, storage.AuthRequest{
		WorkspaceID: "ws", ID: "r1", ClientID: "c1", RedirectURI: "https://app.example.com/cb", MaxAge: -1,
		DPoPJKT: jkt, CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}))
	r, err := s.GetAuthRequest(ctx, "ws", "r1", at(time.Minute))
	must(t, err)
	code := newCode("ws", "code1", "f1", time.Minute)
	code.DPoPJKT = r.DPoPJKT
	must(t, s.CreateAuthCode(ctx, code))
	c, err := s.GetAuthCode(ctx, "ws", hashOf("code1"))
	must(t, err)
	if r.DPoPJKT != jkt || c.DPoPJKT != jkt {
		t.Fatalf("request dpop_jkt %q, code %q; want %q", r.DPoPJKT, c.DPoPJKT, jkt)
	}
	fam := newFamily("ws", "f1")
	fam.DPoPJKT = jkt
	must(t, s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(time.Second), fam, hashOf("rt1")))
	res, err := s.RotateRefreshToken(ctx, storage.RefreshRotation{WorkspaceID: "ws", Hash: hashOf("rt1"), NewHash: hashOf("rt2"), Now: at(time.Minute)})
	must(t, err)
	got, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt2"))
	must(t, err)
	if res.Family.DPoPJKT != jkt || got.DPoPJKT != jkt {
		t.Fatalf("family binding after rotation %q / %q, want %q", res.Family.DPoPJKT, got.DPoPJKT, jkt)
	}
	unbound := newFamily("ws", "f2")
	must(t, s.CreateTokenFamily(ctx, unbound, hashOf("rt3")))
	if f, err := s.GetTokenFamily(ctx, "ws", "f2"); err != nil || f.DPoPJKT != "" {
		t.Fatalf("unbound family: %+v, %v", f, err)
	}
}
