package conformance

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testServiceDetailTypes: a service's RFC 9396 authorization_details
// types (name, description, JSON Schema) survive create, get, list,
// ListScopes (which the endpoints read through the cache) and update,
// and clearing them leaves none.
func testServiceDetailTypes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "acme")
	svc := newService("acme", "pay", "payments:initiate")
	svc.AuthorizationDetailTypes = []storage.AuthorizationDetailType{{
		Type: "payment_initiation", Description: "Initiate a payment",
		Schema: json.RawMessage(`{"type":"object","required":["instructedAmount"]}`),
	}}
	must(t, s.CreateService(ctx, svc))
	got, err := s.GetService(ctx, "acme", "pay")
	must(t, err)
	if !sameDetailTypes(got.AuthorizationDetailTypes, svc.AuthorizationDetailTypes) {
		t.Fatalf("GetService types = %+v", got.AuthorizationDetailTypes)
	}
	refs, err := s.ListScopes(ctx, "acme")
	must(t, err)
	if len(refs) != 1 || !sameDetailTypes(refs[0].ServiceAuthorizationDetailTypes, svc.AuthorizationDetailTypes) {
		t.Fatalf("ListScopes = %+v", refs)
	}
	page, err := s.ListServices(ctx, "acme", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 || !sameDetailTypes(page.Items[0].AuthorizationDetailTypes, svc.AuthorizationDetailTypes) {
		t.Fatalf("ListServices = %+v", page.Items)
	}
	_, err = s.UpdateService(ctx, "acme", "pay", func(sv storage.Service) (storage.Service, error) {
		sv.AuthorizationDetailTypes, sv.UpdatedAt = nil, sv.UpdatedAt.Add(time.Second)
		return sv, nil
	})
	must(t, err)
	got, err = s.GetService(ctx, "acme", "pay")
	must(t, err)
	refs, err = s.ListScopes(ctx, "acme")
	must(t, err)
	if got.AuthorizationDetailTypes != nil || refs[0].ServiceAuthorizationDetailTypes != nil {
		t.Fatalf("after clearing: service %+v, scope %+v", got.AuthorizationDetailTypes, refs[0].ServiceAuthorizationDetailTypes)
	}
}

// sameDetailTypes compares types with their schemas as JSON values
// (PostgreSQL and SQLite may keep the text differently spaced).
func sameDetailTypes(a, b []storage.AuthorizationDetailType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		var x, y any
		if a[i].Type != b[i].Type || a[i].Description != b[i].Description ||
			json.Unmarshal(a[i].Schema, &x) != nil || json.Unmarshal(b[i].Schema, &y) != nil || !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// testAuthorizationDetailsFlow: the authorization_details of a pending
// request (RFC 9396 §2) survive into its code and, through redemption
// and refresh rotation, the token family.
func testAuthorizationDetailsFlow(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	details := json.RawMessage(`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"123.50"}}]`)
	must(t, s.CreateAuthRequest(ctx, storage.AuthRequest{
		WorkspaceID: "ws", ID: "r1", ClientID: "c1", RedirectURI: "https://app.example.com/cb", MaxAge: -1,
		AuthorizationDetails: details, CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}))
	r, err := s.GetAuthRequest(ctx, "ws", "r1", at(time.Minute))
	must(t, err)
	code := newCode("ws", "code1", "f1", time.Minute)
	code.AuthorizationDetails = r.AuthorizationDetails
	must(t, s.CreateAuthCode(ctx, code))
	c, err := s.GetAuthCode(ctx, "ws", hashOf("code1"))
	must(t, err)
	if string(r.AuthorizationDetails) != string(details) || string(c.AuthorizationDetails) != string(details) {
		t.Fatalf("request details %s, code %s; want %s", r.AuthorizationDetails, c.AuthorizationDetails, details)
	}
	fam := newFamily("ws", "f1")
	fam.AuthorizationDetails = c.AuthorizationDetails
	must(t, s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(time.Second), fam, hashOf("rt1")))
	res, err := s.RotateRefreshToken(ctx, storage.RefreshRotation{WorkspaceID: "ws", Hash: hashOf("rt1"), NewHash: hashOf("rt2"), Now: at(time.Minute)})
	must(t, err)
	got, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt2"))
	must(t, err)
	if string(res.Family.AuthorizationDetails) != string(details) || string(got.AuthorizationDetails) != string(details) {
		t.Fatalf("family details after rotation %s / %s, want %s", res.Family.AuthorizationDetails, got.AuthorizationDetails, details)
	}
	plain := newFamily("ws", "f2")
	must(t, s.CreateTokenFamily(ctx, plain, hashOf("rt3")))
	if f, err := s.GetTokenFamily(ctx, "ws", "f2"); err != nil || f.AuthorizationDetails != nil {
		t.Fatalf("family without details: %+v, %v", f, err)
	}
}
