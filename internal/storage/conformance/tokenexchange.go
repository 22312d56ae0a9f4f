package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testExchangedFamily: a family begun by token exchange keeps its parent
// family (storage.TokenFamily.ParentFamilyID) through creation, reads,
// its refresh token's lookup and rotation, and the parent's revocation
// is visible to whoever reads the parent, which is how the child ends
// with it (RFC 8693 exchanged tokens revoked with their subject's family).
func testExchangedFamily(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	parent := newFamily("ws", "parent")
	must(t, s.CreateTokenFamily(ctx, parent, hashOf("rt-parent")))
	child := newFamily("ws", "child")
	child.GrantType, child.ParentFamilyID = "urn:ietf:params:oauth:grant-type:token-exchange", "parent"
	must(t, s.CreateTokenFamily(ctx, child, hashOf("rt-child")))

	got, err := s.GetTokenFamily(ctx, "ws", "child")
	must(t, err)
	if got.ParentFamilyID != "parent" || got.GrantType != child.GrantType {
		t.Fatalf("child family %+v, want parent_family_id parent", got)
	}
	if f, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt-child")); err != nil || f.ParentFamilyID != "parent" {
		t.Fatalf("child family by its refresh token: %+v, %v", f, err)
	}
	res, err := s.RotateRefreshToken(ctx, rotation("ws", "rt-child", "rt-child-2", time.Minute))
	must(t, err)
	if res.Family.ParentFamilyID != "parent" {
		t.Fatalf("rotated child family lost its parent: %+v", res.Family)
	}
	if p, err := s.GetTokenFamily(ctx, "ws", "parent"); err != nil || p.ParentFamilyID != "" {
		t.Fatalf("parent family %+v, %v: want no parent", p, err)
	}
	must(t, s.RevokeTokenFamily(ctx, "ws", "parent", at(2*time.Minute)))
	if p, err := s.GetTokenFamily(ctx, "ws", "parent"); err != nil || p.RevokedAt.IsZero() {
		t.Fatalf("revoked parent %+v, %v", p, err)
	}
	if f, err := s.GetTokenFamily(ctx, "ws", "child"); err != nil || f.ParentFamilyID != "parent" {
		t.Fatalf("child after the parent's revocation %+v, %v", f, err)
	}
}
