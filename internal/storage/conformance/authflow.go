package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunAuthFlowTests runs the suite of the authorization-flow part of the
// contract (storage.AuthFlow): passwords, sessions, pending requests,
// codes, refresh-token families, consents and sign-in counters.
func RunAuthFlowTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"Passwords", testPasswords},
		{"PasswordTokensSingleUse", testPasswordTokens},
		{"BrowserSessions", testBrowserSessions},
		{"AuthRequests", testAuthRequests},
		{"AuthCodeRedeemOnce", testAuthCodeRedeem},
		{"AuthCodeExpired", testAuthCodeExpired},
		{"CreateTokenFamily", testCreateTokenFamily},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshReuseRevokesFamily", testRefreshReuse},
		{"RefreshGrace", testRefreshGrace},
		{"RefreshNoRotation", testRefreshNoRotation},
		{"RefreshLifetimes", testRefreshLifetimes},
		{"RevokeFamilies", testRevokeFamilies},
		{"Consents", testConsents},
		{"LoginCounter", testLoginCounter},
		{"CascadeOnUserDelete", testAuthFlowCascade},
		{"DeleteExpiredAuthFlow", testDeleteExpiredAuthFlow},
		{"PairwiseSaltAndRefreshLookup", testPairwiseSaltAndRefreshLookup},
		{"ExchangedFamily", testExchangedFamily},
		{"DPoPBindings", testDPoPBindings},
		// RFC 9396 (authzdetails.go).
		{"AuthorizationDetails", testAuthorizationDetailsFlow},
		{"CertificateBindings", testCertificateBindings}, // RFC 8705 §4 (mtls.go)
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
	subtest(t, "ConcurrentCodeRedemption", newStorage, concurrentRedeem)
	subtest(t, "ConcurrentRefreshRotation", newStorage, concurrentRotate)
	subtest(t, "ConcurrentRotationOfManyFamilies", newStorage, concurrentRotateMany)
	subtest(t, "ConcurrentLoginCounter", newStorage, concurrentLoginCounter)
}

// RunAuthFlowIsolationTests proves that nothing of the authorization flow
// of workspace A is visible or usable through workspace B (SECURITY.md J3, G6).
func RunAuthFlowIsolationTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	subtest(t, "AuthFlowIsolation", newStorage, testAuthFlowIsolation)
}

func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// flowFixture creates workspace ws with user u1 and client c1.
func flowFixture(t *testing.T, s storage.Storage, ws string) {
	t.Helper()
	createWorkspace(t, s, ws)
	must(t, s.CreateUser(t.Context(), newUser(ws, "u1", "alice", "alice@example.com")))
	must(t, s.CreateClient(t.Context(), newClient(ws, "c1")))
}

func newFamily(ws, id string) storage.TokenFamily {
	return storage.TokenFamily{
		WorkspaceID: ws, ID: id, ClientID: "c1", UserID: "u1", SessionID: "s1",
		Scopes: []string{"openid", "offline_access"}, AuthTime: at(0), AMR: []string{"pwd"}, ACR: "0",
		Claims: json.RawMessage(`{"userinfo":{"name":{"essential":true}}}`), Refresh: true, Generation: 1,
		CreatedAt: at(0), RotatedAt: at(0), LastUsedAt: at(0),
	}
}

func newCode(ws, code, family string, expires time.Duration) storage.AuthCode {
	return storage.AuthCode{
		WorkspaceID: ws, Hash: hashOf(code), FamilyID: family, ClientID: "c1", UserID: "u1",
		RedirectURI: "https://app.example.com/cb", Scopes: []string{"openid"}, CodeChallenge: "abc",
		Nonce: "n", SessionID: "s1", AuthTime: at(0), AMR: []string{"pwd"}, ACR: "0",
		Claims: json.RawMessage(`{"id_token":{"acr":null}}`), CreatedAt: at(0), ExpiresAt: at(expires),
	}
}

func testPasswords(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	_, err := s.GetUserPassword(ctx, "ws", "u1")
	wantErr(t, err, storage.ErrNotFound, "no password yet")
	must(t, s.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "ws", UserID: "u1", Hash: "h1", ChangedAt: at(0)}))
	must(t, s.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "ws", UserID: "u1", Hash: "h2", ChangedAt: at(time.Minute)}))
	p, err := s.GetUserPassword(ctx, "ws", "u1")
	must(t, err)
	if p.Hash != "h2" {
		t.Fatalf("hash %q, want h2", p.Hash)
	}
	sameTime(t, "changed_at", p.ChangedAt, at(time.Minute))
	err = s.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "ws", UserID: "nobody", Hash: "h", ChangedAt: at(0)})
	wantErr(t, err, storage.ErrNotFound, "password of a missing user")
}

func testPasswordTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	tok := storage.PasswordToken{WorkspaceID: "ws", Hash: hashOf("t1"), UserID: "u1", CreatedAt: at(0), ExpiresAt: at(time.Hour)}
	must(t, s.CreatePasswordToken(ctx, tok))
	_, err := s.ConsumePasswordToken(ctx, "ws", hashOf("t1"), at(2*time.Hour))
	wantErr(t, err, storage.ErrNotFound, "expired token")
	got, err := s.ConsumePasswordToken(ctx, "ws", hashOf("t1"), at(time.Minute))
	must(t, err)
	if got.UserID != "u1" {
		t.Fatalf("user %q", got.UserID)
	}
	_, err = s.ConsumePasswordToken(ctx, "ws", hashOf("t1"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "second use")

	// A newer link voids the user's earlier ones (SECURITY.md X11), not
	// other users' links.
	must(t, s.CreateUser(ctx, newUser("ws", "u2", "bob", "bob@example.com")))
	must(t, s.CreatePasswordToken(ctx, storage.PasswordToken{WorkspaceID: "ws", Hash: hashOf("old"), UserID: "u1", CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.CreatePasswordToken(ctx, storage.PasswordToken{WorkspaceID: "ws", Hash: hashOf("other"), UserID: "u2", CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.CreatePasswordToken(ctx, storage.PasswordToken{WorkspaceID: "ws", Hash: hashOf("new"), UserID: "u1", CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour)}))
	_, err = s.ConsumePasswordToken(ctx, "ws", hashOf("old"), at(2*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "a link replaced by a newer one")
	_, err = s.ConsumePasswordToken(ctx, "ws", hashOf("new"), at(2*time.Minute))
	must(t, err)
	_, err = s.ConsumePasswordToken(ctx, "ws", hashOf("other"), at(2*time.Minute))
	must(t, err)
}

func testBrowserSessions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	bs := storage.BrowserSession{
		WorkspaceID: "ws", ID: "s1", IDHash: hashOf("cookie1"), UserID: "u1", AuthTime: at(0),
		AMR: []string{"pwd"}, ACR: "0", CreatedAt: at(0), ExpiresAt: at(time.Hour),
	}
	must(t, s.CreateBrowserSession(ctx, bs))
	must(t, s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "ws", ID: "s2", IDHash: hashOf("cookie2"),
		UserID: "u1", AuthTime: at(time.Minute), CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour)}))
	got, err := s.GetBrowserSession(ctx, "ws", hashOf("cookie1"))
	must(t, err)
	sameTime(t, "auth_time", got.AuthTime, bs.AuthTime)
	if got.ID != "s1" || got.UserID != "u1" || !reflect.DeepEqual(got.AMR, bs.AMR) || got.ACR != "0" {
		t.Fatalf("session %+v", got)
	}
	list, err := s.ListBrowserSessions(ctx, "ws", "u1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "s2" {
		t.Fatalf("list %+v, want s2 first", list)
	}
	wantErr(t, s.CreateBrowserSession(ctx, bs), storage.ErrAlreadyExists, "duplicate session")
	must(t, s.DeleteBrowserSession(ctx, "ws", "s1"))
	wantErr(t, s.DeleteBrowserSession(ctx, "ws", "s1"), storage.ErrNotFound, "second delete")
	_, err = s.GetBrowserSession(ctx, "ws", hashOf("cookie1"))
	wantErr(t, err, storage.ErrNotFound, "deleted session")
	n, err := s.DeleteUserBrowserSessions(ctx, "ws", "u1")
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d sessions, want 1", n)
	}
}

func testAuthRequests(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	r := storage.AuthRequest{
		WorkspaceID: "ws", ID: "r1", BrowserHash: hashOf("b"), ClientID: "c1", RedirectURI: "https://app.example.com/cb",
		ResponseMode: "query", State: "st", Nonce: "n", Scopes: []string{"openid", "email"}, CodeChallenge: "cc",
		Prompt: []string{"login"}, MaxAge: 30, LoginHint: "alice", HintSubject: "u1", UILocales: []string{"fr", "en"},
		ACRValues: []string{"0"}, Claims: json.RawMessage(`{"userinfo":{"email":null}}`),
		Resources: []string{"https://api.example.com/orders"},
		CreatedAt: at(0), ExpiresAt: at(10 * time.Minute),
	}
	must(t, s.CreateAuthRequest(ctx, r))
	got, err := s.GetAuthRequest(ctx, "ws", "r1", at(time.Minute))
	must(t, err)
	sameTime(t, "created", got.CreatedAt, r.CreatedAt)
	sameTime(t, "expires", got.ExpiresAt, r.ExpiresAt)
	got.CreatedAt, got.ExpiresAt, r.CreatedAt, r.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("request:\n got %+v\nwant %+v", got, r)
	}
	_, err = s.GetAuthRequest(ctx, "ws", "r1", at(11*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "expired request")
	must(t, s.DeleteAuthRequest(ctx, "ws", "r1"))
	wantErr(t, s.DeleteAuthRequest(ctx, "ws", "r1"), storage.ErrNotFound, "second delete")
}

func testAuthCodeRedeem(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	c := newCode("ws", "code1", "f1", time.Minute)
	must(t, s.CreateAuthCode(ctx, c))
	got, err := s.GetAuthCode(ctx, "ws", hashOf("code1"))
	must(t, err)
	if got.FamilyID != "f1" || got.RedirectURI != c.RedirectURI || got.CodeChallenge != "abc" || !got.UsedAt.IsZero() ||
		!bytes.Equal(got.Claims, c.Claims) || got.SessionID != "s1" || !reflect.DeepEqual(got.AMR, c.AMR) {
		t.Fatalf("code %+v", got)
	}
	sameTime(t, "auth_time", got.AuthTime, c.AuthTime)
	must(t, s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(time.Second), newFamily("ws", "f1"), hashOf("rt1")))
	err = s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(2*time.Second), newFamily("ws", "f1"), hashOf("rt1b"))
	wantErr(t, err, storage.ErrNotFound, "second redemption (G1)")
	got, err = s.GetAuthCode(ctx, "ws", hashOf("code1"))
	must(t, err)
	sameTime(t, "used_at", got.UsedAt, at(time.Second))
	f, err := s.GetTokenFamily(ctx, "ws", "f1")
	must(t, err)
	if f.Generation != 1 || !f.Refresh || f.ClientID != "c1" || !bytes.Equal(f.Claims, newFamily("ws", "f1").Claims) {
		t.Fatalf("family %+v", f)
	}
	// The first refresh token was recorded with the family.
	res, err := s.RotateRefreshToken(ctx, storage.RefreshRotation{WorkspaceID: "ws", Hash: hashOf("rt1"), NewHash: hashOf("rt2"), Now: at(time.Minute)})
	must(t, err)
	if res.Family.Generation != 2 {
		t.Fatalf("generation %d", res.Family.Generation)
	}
}

func testAuthCodeExpired(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateAuthCode(ctx, newCode("ws", "code1", "f1", time.Minute)))
	err := s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(time.Minute), newFamily("ws", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "expired code (G5)")
	_, err = s.GetTokenFamily(ctx, "ws", "f1")
	wantErr(t, err, storage.ErrNotFound, "no family from an expired code")
	err = s.RedeemAuthCode(ctx, "ws", hashOf("nope"), at(0), newFamily("ws", "f2"), nil)
	wantErr(t, err, storage.ErrNotFound, "unknown code")
}

// testCreateTokenFamily: a family issued without a code (JWT bearer with
// refresh tokens) is written with its first refresh token in one
// transaction, so a refused insert leaves neither behind.
func testCreateTokenFamily(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	flowFixture(t, s, "ws2")
	want := newFamily("ws", "f1")
	want.GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	must(t, s.CreateTokenFamily(ctx, want, hashOf("rt1")))
	got, err := s.GetTokenFamily(ctx, "ws", "f1")
	must(t, err)
	if got.ClientID != "c1" || got.UserID != "u1" || !got.Refresh || got.Generation != 1 || got.GrantType != want.GrantType ||
		!reflect.DeepEqual(got.Scopes, want.Scopes) || !bytes.Equal(got.Claims, want.Claims) {
		t.Fatalf("family %+v", got)
	}
	sameTime(t, "created_at", got.CreatedAt, want.CreatedAt)
	fam, gen, err := s.GetRefreshToken(ctx, "ws", hashOf("rt1"))
	must(t, err)
	if fam.ID != "f1" || gen != 1 {
		t.Fatalf("refresh token of family %q generation %d, want f1 generation 1", fam.ID, gen)
	}

	err = s.CreateTokenFamily(ctx, newFamily("ws", "f1"), hashOf("rt-dup-family"))
	wantErr(t, err, storage.ErrAlreadyExists, "duplicate family ID")
	_, _, err = s.GetRefreshToken(ctx, "ws", hashOf("rt-dup-family"))
	wantErr(t, err, storage.ErrNotFound, "refresh token of a refused family")

	err = s.CreateTokenFamily(ctx, newFamily("ws", "f2"), hashOf("rt1"))
	wantErr(t, err, storage.ErrAlreadyExists, "duplicate refresh token hash")
	_, err = s.GetTokenFamily(ctx, "ws", "f2")
	wantErr(t, err, storage.ErrNotFound, "family whose refresh token was refused (one transaction)")

	orphan := newFamily("ws", "f3")
	orphan.UserID = "nobody"
	wantErr(t, s.CreateTokenFamily(ctx, orphan, hashOf("rt3")), storage.ErrNotFound, "family of an unknown user")

	must(t, s.CreateTokenFamily(ctx, newFamily("ws2", "f1"), hashOf("rt1")))
	must(t, s.CreateTokenFamily(ctx, newFamily("ws", "f4"), nil))
	if f, err := s.GetTokenFamily(ctx, "ws", "f4"); err != nil || f.ID != "f4" {
		t.Fatalf("family without refresh token: %+v, %v", f, err)
	}
	// The family rotates like one redeemed from a code.
	res, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1", "rt2", time.Minute))
	must(t, err)
	if res.Family.ID != "f1" || res.Family.Generation != 2 {
		t.Fatalf("rotation %+v", res)
	}
}

// redeemed creates family f1 with refresh token rt1 through a code.
func redeemed(t *testing.T, s storage.Storage, f storage.TokenFamily) {
	t.Helper()
	must(t, s.CreateAuthCode(t.Context(), newCode(f.WorkspaceID, "code-"+f.ID, f.ID, time.Hour)))
	must(t, s.RedeemAuthCode(t.Context(), f.WorkspaceID, hashOf("code-"+f.ID), at(0), f, hashOf("rt1-"+f.ID)))
}

func rotation(ws, old, next string, now time.Duration) storage.RefreshRotation {
	r := storage.RefreshRotation{WorkspaceID: ws, Hash: hashOf(old), Now: at(now), SuccessorSealed: []byte("sealed-" + next)}
	if next != "" {
		r.NewHash = hashOf(next)
	}
	return r
}

func testRefreshRotation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	redeemed(t, s, newFamily("ws", "f1"))
	res, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "rt2", time.Minute))
	must(t, err)
	if res.Outcome != storage.RotationRotated || res.Family.Generation != 2 || string(res.Family.SuccessorSealed) != "sealed-rt2" {
		t.Fatalf("result %+v", res)
	}
	sameTime(t, "rotated_at", res.Family.RotatedAt, at(time.Minute))
	res, err = s.RotateRefreshToken(ctx, rotation("ws", "rt2", "rt3", 2*time.Minute))
	must(t, err)
	if res.Family.Generation != 3 {
		t.Fatalf("generation %d, want 3", res.Family.Generation)
	}
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "unknown", "x", 3*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "unknown refresh token")
}

// SECURITY.md H1: replaying any older generation revokes the family, and
// the current token then fails too.
func testRefreshReuse(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	redeemed(t, s, newFamily("ws", "f1"))
	_, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "rt2", time.Minute))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt2", "rt3", 2*time.Minute))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "rt4", 3*time.Minute))
	wantErr(t, err, storage.ErrRefreshReused, "reuse of generation 1")
	f, err := s.GetTokenFamily(ctx, "ws", "f1")
	must(t, err)
	sameTime(t, "revoked_at", f.RevokedAt, at(3*time.Minute))
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt3", "rt5", 4*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "current token after reuse")
}

// SECURITY.md H11: a retry of the previous token within the grace period
// gets the same successor; after it, it is reuse.
func testRefreshGrace(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	redeemed(t, s, newFamily("ws", "f1"))
	_, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "rt2", time.Minute))
	must(t, err)
	r := rotation("ws", "rt1-f1", "rt2-other", time.Minute+10*time.Second)
	r.Grace = 30 * time.Second
	res, err := s.RotateRefreshToken(ctx, r)
	must(t, err)
	if res.Outcome != storage.RotationGrace || string(res.Family.SuccessorSealed) != "sealed-rt2" || res.Family.Generation != 2 {
		t.Fatalf("grace result %+v", res)
	}
	r = rotation("ws", "rt1-f1", "rt2-late", time.Minute+31*time.Second)
	r.Grace = 30 * time.Second
	_, err = s.RotateRefreshToken(ctx, r)
	wantErr(t, err, storage.ErrRefreshReused, "retry after the grace period")
}

func testRefreshNoRotation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	redeemed(t, s, newFamily("ws", "f1"))
	for i := range 3 {
		res, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "", time.Duration(i+1)*time.Minute))
		must(t, err)
		if res.Family.Generation != 1 {
			t.Fatalf("generation %d without rotation", res.Family.Generation)
		}
		sameTime(t, "last_used_at", res.Family.LastUsedAt, at(time.Duration(i+1)*time.Minute))
	}
}

// SECURITY.md H10: idle and absolute lifetimes end a family.
func testRefreshLifetimes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	idle := newFamily("ws", "idle")
	idle.IdleTTL = time.Hour
	redeemed(t, s, idle)
	abs := newFamily("ws", "abs")
	abs.ExpiresAt = at(2 * time.Hour)
	redeemed(t, s, abs)

	_, err := s.RotateRefreshToken(ctx, rotation("ws", "rt1-idle", "i2", 59*time.Minute))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "i2", "i3", 2*time.Hour))
	wantErr(t, err, storage.ErrNotFound, "idle family")
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt1-abs", "a2", time.Hour))
	must(t, err)
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "a2", "a3", 2*time.Hour))
	wantErr(t, err, storage.ErrNotFound, "family past its absolute lifetime")
}

func testRevokeFamilies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateClient(ctx, newClient("ws", "c2")))
	redeemed(t, s, newFamily("ws", "f1"))
	f2 := newFamily("ws", "f2")
	f2.ClientID = "c2"
	redeemed(t, s, f2)
	f3 := newFamily("ws", "f3")
	redeemed(t, s, f3)

	must(t, s.RevokeTokenFamily(ctx, "ws", "f1", at(time.Minute)))
	must(t, s.RevokeTokenFamily(ctx, "ws", "f1", at(2*time.Minute)))
	f, err := s.GetTokenFamily(ctx, "ws", "f1")
	must(t, err)
	sameTime(t, "first revocation kept", f.RevokedAt, at(time.Minute))
	wantErr(t, s.RevokeTokenFamily(ctx, "ws", "nope", at(0)), storage.ErrNotFound, "unknown family")

	n, err := s.RevokeTokenFamilies(ctx, "ws", "u1", "c2", at(time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("revoked %d families of c2, want 1", n)
	}
	n, err = s.RevokeTokenFamilies(ctx, "ws", "u1", "", at(time.Minute))
	must(t, err)
	if n != 1 { // f3 only: f1 and f2 were already revoked
		t.Fatalf("revoked %d families, want 1", n)
	}
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt1-f3", "x", 2*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "refresh of a revoked family")
}

func testConsents(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateClient(ctx, newClient("ws", "c0")))
	c := storage.Consent{WorkspaceID: "ws", UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "email"}, CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.PutConsent(ctx, c))
	c.Scopes, c.UpdatedAt = []string{"openid", "email", "profile"}, at(time.Minute)
	must(t, s.PutConsent(ctx, c))
	must(t, s.PutConsent(ctx, storage.Consent{WorkspaceID: "ws", UserID: "u1", ClientID: "c0", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)}))
	got, err := s.GetConsent(ctx, "ws", "u1", "c1")
	must(t, err)
	if !reflect.DeepEqual(got.Scopes, c.Scopes) {
		t.Fatalf("scopes %v", got.Scopes)
	}
	sameTime(t, "created kept", got.CreatedAt, at(0))
	sameTime(t, "updated", got.UpdatedAt, at(time.Minute))
	list, err := s.ListConsents(ctx, "ws", "u1")
	must(t, err)
	if len(list) != 2 || list[0].ClientID != "c0" {
		t.Fatalf("list %+v", list)
	}
	must(t, s.DeleteConsent(ctx, "ws", "u1", "c1"))
	wantErr(t, s.DeleteConsent(ctx, "ws", "u1", "c1"), storage.ErrNotFound, "second delete")
	_, err = s.GetConsent(ctx, "ws", "u1", "c1")
	wantErr(t, err, storage.ErrNotFound, "deleted consent")
}

func testLoginCounter(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	inc := func(c storage.LoginCounter) (storage.LoginCounter, error) {
		c.Attempts++
		c.LastAt, c.ExpiresAt = at(time.Minute), at(time.Hour)
		return c, nil
	}
	c, err := s.UpdateLoginCounter(ctx, "ws", "acct:alice", inc)
	must(t, err)
	if c.Attempts != 1 {
		t.Fatalf("attempts %d", c.Attempts)
	}
	c, err = s.UpdateLoginCounter(ctx, "ws", "acct:alice", inc)
	must(t, err)
	if c.Attempts != 2 {
		t.Fatalf("attempts %d", c.Attempts)
	}
	sameTime(t, "last_at", c.LastAt, at(time.Minute))
	read, err := s.GetLoginCounter(ctx, "ws", "acct:alice")
	must(t, err)
	if read.Attempts != 2 {
		t.Fatalf("GetLoginCounter: attempts %d, want 2", read.Attempts)
	}
	sameTime(t, "read last_at", read.LastAt, at(time.Minute))
	sameTime(t, "read expires_at", read.ExpiresAt, at(time.Hour))
	_, err = s.GetLoginCounter(ctx, "ws", "acct:nobody")
	wantErr(t, err, storage.ErrNotFound, "missing login counter")
	_, err = s.UpdateLoginCounter(ctx, "ws", "acct:alice", func(storage.LoginCounter) (storage.LoginCounter, error) {
		return storage.LoginCounter{}, storage.ErrAttemptDenied
	})
	wantErr(t, err, storage.ErrAttemptDenied, "denying updater")
	c, err = s.UpdateLoginCounter(ctx, "ws", "acct:alice", func(c storage.LoginCounter) (storage.LoginCounter, error) { return c, nil })
	must(t, err)
	if c.Attempts != 2 {
		t.Fatalf("denied attempt was written: %d", c.Attempts)
	}
	must(t, s.DeleteLoginCounter(ctx, "ws", "acct:alice"))
	must(t, s.DeleteLoginCounter(ctx, "ws", "acct:alice"))
	c, err = s.UpdateLoginCounter(ctx, "ws", "acct:alice", inc)
	must(t, err)
	if c.Attempts != 1 {
		t.Fatalf("attempts after reset %d", c.Attempts)
	}
}

// SECURITY.md O2: a deleted and re-created user inherits nothing.
func testAuthFlowCascade(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "ws", UserID: "u1", Hash: "h", ChangedAt: at(0)}))
	must(t, s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "ws", ID: "s1", IDHash: hashOf("c"), UserID: "u1",
		AuthTime: at(0), CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.PutConsent(ctx, storage.Consent{WorkspaceID: "ws", UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)}))
	redeemed(t, s, newFamily("ws", "f1"))
	must(t, s.DeleteUser(ctx, "ws", "u1"))
	must(t, s.CreateUser(ctx, newUser("ws", "u1", "alice", "alice@example.com")))
	_, err := s.GetUserPassword(ctx, "ws", "u1")
	wantErr(t, err, storage.ErrNotFound, "password after re-creation")
	_, err = s.GetBrowserSession(ctx, "ws", hashOf("c"))
	wantErr(t, err, storage.ErrNotFound, "session after re-creation")
	_, err = s.GetConsent(ctx, "ws", "u1", "c1")
	wantErr(t, err, storage.ErrNotFound, "consent after re-creation")
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "x", time.Minute))
	wantErr(t, err, storage.ErrNotFound, "refresh token after re-creation")
}

func testDeleteExpiredAuthFlow(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateAuthRequest(ctx, storage.AuthRequest{WorkspaceID: "ws", ID: "r1", ClientID: "c1", MaxAge: -1, CreatedAt: at(0), ExpiresAt: at(time.Minute)}))
	must(t, s.CreateAuthCode(ctx, newCode("ws", "old", "f-old", time.Minute)))
	live := newFamily("ws", "live")
	redeemed(t, s, live)
	dead := newFamily("ws", "dead")
	redeemed(t, s, dead)
	must(t, s.RevokeTokenFamily(ctx, "ws", "dead", at(0)))
	n, err := s.DeleteExpiredAuthFlow(ctx, at(48*time.Hour))
	must(t, err)
	if n < 4 {
		t.Fatalf("removed %d rows, want at least 4", n)
	}
	_, err = s.GetTokenFamily(ctx, "ws", "dead")
	wantErr(t, err, storage.ErrNotFound, "dead family")
	_, err = s.GetTokenFamily(ctx, "ws", "live")
	must(t, err)
	_, err = s.GetAuthCode(ctx, "ws", hashOf("old"))
	wantErr(t, err, storage.ErrNotFound, "expired code")
}

// SECURITY.md G2, reliability invariant 1: of 20 concurrent redemptions of
// one code exactly one succeeds.
func concurrentRedeem(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	must(t, s.CreateAuthCode(t.Context(), newCode("ws", "code", "f1", time.Hour)))
	var wins, losses atomic.Int32
	parallel(20, func(i int) {
		err := s.RedeemAuthCode(t.Context(), "ws", hashOf("code"), at(time.Second), newFamily("ws", "f1"), hashOf("rt"+string(rune('a'+i))))
		switch {
		case err == nil:
			wins.Add(1)
		case errors.Is(err, storage.ErrNotFound):
			losses.Add(1)
		default:
			t.Errorf("redeem: %v", err)
		}
	})
	if wins.Load() != 1 || losses.Load() != 19 {
		t.Fatalf("wins %d losses %d, want 1 and 19", wins.Load(), losses.Load())
	}
}

// SECURITY.md H3–H6, reliability invariant 3: of 20 concurrent rotations
// of one refresh token exactly one rotates; the rest are reuse.
func concurrentRotate(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	redeemed(t, s, newFamily("ws", "f1"))
	var wins, reused atomic.Int32
	parallel(20, func(i int) {
		_, err := s.RotateRefreshToken(t.Context(), rotation("ws", "rt1-f1", "next"+string(rune('a'+i)), time.Minute))
		switch {
		case err == nil:
			wins.Add(1)
		case errors.Is(err, storage.ErrRefreshReused), errors.Is(err, storage.ErrNotFound):
			reused.Add(1)
		default:
			t.Errorf("rotate: %v", err)
		}
	})
	if wins.Load() != 1 || reused.Load() != 19 {
		t.Fatalf("wins %d reused %d, want 1 and 19", wins.Load(), reused.Load())
	}
}

// Reliability invariant 3 under group commit: 30 families rotating at
// once all rotate (rotations sharing one commit never fail each other),
// twice in a row, while a replay among them still revokes only its own
// family.
func concurrentRotateMany(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	const n = 30
	for i := range n {
		redeemed(t, s, newFamily("ws", fmt.Sprintf("m%02d", i)))
	}
	for round := 1; round <= 2; round++ {
		parallel(n, func(i int) {
			old := fmt.Sprintf("rt1-m%02d", i)
			if round == 2 {
				old = fmt.Sprintf("r1-m%02d", i)
			}
			res, err := s.RotateRefreshToken(t.Context(), rotation("ws", old, fmt.Sprintf("r%d-m%02d", round, i), time.Duration(round)*time.Minute))
			if err != nil {
				t.Errorf("round %d family %d: %v", round, i, err)
				return
			}
			if res.Family.Generation != round+1 || res.Outcome != storage.RotationRotated {
				t.Errorf("round %d family %d: generation %d outcome %v", round, i, res.Family.Generation, res.Outcome)
			}
		})
	}
	var reused atomic.Int32
	parallel(n, func(i int) {
		old := fmt.Sprintf("r2-m%02d", i)
		if i == 7 {
			old = "rt1-m07" // a replay of a long-rotated token
		}
		_, err := s.RotateRefreshToken(t.Context(), rotation("ws", old, fmt.Sprintf("r3-m%02d", i), 3*time.Minute))
		if errors.Is(err, storage.ErrRefreshReused) {
			reused.Add(1)
		} else if err != nil {
			t.Errorf("round 3 family %d: %v", i, err)
		}
	})
	if reused.Load() != 1 {
		t.Fatalf("%d reuses detected, want 1", reused.Load())
	}
	if f, err := s.GetTokenFamily(t.Context(), "ws", "m07"); err != nil || f.RevokedAt.IsZero() {
		t.Fatalf("replayed family not revoked: %+v %v", f.RevokedAt, err)
	}
	if f, err := s.GetTokenFamily(t.Context(), "ws", "m08"); err != nil || !f.RevokedAt.IsZero() || f.Generation != 4 {
		t.Fatalf("a neighbour of the replay was touched: generation %d revoked %v %v", f.Generation, f.RevokedAt, err)
	}
}

// SECURITY.md K7: 50 parallel attempts against a budget of 5 admit 5.
func concurrentLoginCounter(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	var admitted atomic.Int32
	parallel(50, func(int) {
		_, err := s.UpdateLoginCounter(t.Context(), "ws", "acct:alice", func(c storage.LoginCounter) (storage.LoginCounter, error) {
			if c.Attempts >= 5 {
				return c, storage.ErrAttemptDenied
			}
			c.Attempts++
			c.ExpiresAt = at(time.Hour)
			return c, nil
		})
		switch {
		case err == nil:
			admitted.Add(1)
		case !errors.Is(err, storage.ErrAttemptDenied):
			t.Errorf("counter: %v", err)
		}
	})
	if admitted.Load() != 5 {
		t.Fatalf("admitted %d attempts, want 5", admitted.Load())
	}
}

func testAuthFlowIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "a")
	flowFixture(t, s, "b")
	must(t, s.SetUserPassword(ctx, storage.UserPassword{WorkspaceID: "a", UserID: "u1", Hash: "h", ChangedAt: at(0)}))
	must(t, s.CreatePasswordToken(ctx, storage.PasswordToken{WorkspaceID: "a", Hash: hashOf("pt"), UserID: "u1", CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "a", ID: "s1", IDHash: hashOf("c"), UserID: "u1",
		AuthTime: at(0), CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.CreateAuthRequest(ctx, storage.AuthRequest{WorkspaceID: "a", ID: "r1", ClientID: "c1", MaxAge: -1, CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
	must(t, s.PutConsent(ctx, storage.Consent{WorkspaceID: "a", UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)}))
	must(t, s.CreateAuthCode(ctx, newCode("a", "code", "fx", time.Hour)))
	redeemed(t, s, newFamily("a", "f1"))

	_, err := s.GetUserPassword(ctx, "b", "u1")
	wantErr(t, err, storage.ErrNotFound, "password across workspaces")
	_, err = s.ConsumePasswordToken(ctx, "b", hashOf("pt"), at(0))
	wantErr(t, err, storage.ErrNotFound, "password token across workspaces")
	_, err = s.GetBrowserSession(ctx, "b", hashOf("c"))
	wantErr(t, err, storage.ErrNotFound, "session across workspaces")
	wantErr(t, s.DeleteBrowserSession(ctx, "b", "s1"), storage.ErrNotFound, "delete session across workspaces")
	_, err = s.GetAuthRequest(ctx, "b", "r1", at(0))
	wantErr(t, err, storage.ErrNotFound, "request across workspaces")
	wantErr(t, s.DeleteAuthRequest(ctx, "b", "r1"), storage.ErrNotFound, "delete request across workspaces")
	_, err = s.GetConsent(ctx, "b", "u1", "c1")
	wantErr(t, err, storage.ErrNotFound, "consent across workspaces")
	_, err = s.GetAuthCode(ctx, "b", hashOf("code"))
	wantErr(t, err, storage.ErrNotFound, "code across workspaces (G6)")
	err = s.RedeemAuthCode(ctx, "b", hashOf("code"), at(time.Second), newFamily("b", "fx"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem across workspaces (G6)")
	_, err = s.GetTokenFamily(ctx, "b", "f1")
	wantErr(t, err, storage.ErrNotFound, "family across workspaces")
	_, err = s.RotateRefreshToken(ctx, rotation("b", "rt1-f1", "x", time.Minute))
	wantErr(t, err, storage.ErrNotFound, "refresh across workspaces")
	wantErr(t, s.RevokeTokenFamily(ctx, "b", "f1", at(0)), storage.ErrNotFound, "revoke across workspaces")
	// Workspace a is untouched by all of that.
	_, err = s.RotateRefreshToken(ctx, rotation("a", "rt1-f1", "x", time.Minute))
	must(t, err)
	_, err = s.GetAuthRequest(ctx, "a", "r1", at(0))
	must(t, err)
}

func testPairwiseSaltAndRefreshLookup(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	salt, err := s.PairwiseSalt(ctx, "ws", []byte("first"))
	must(t, err)
	again, err := s.PairwiseSalt(ctx, "ws", []byte("second"))
	must(t, err)
	if string(salt) != "first" || string(again) != "first" {
		t.Fatalf("salts %q %q, want the first stored", salt, again)
	}
	_, err = s.PairwiseSalt(ctx, "missing", []byte("x"))
	wantErr(t, err, storage.ErrNotFound, "salt of a missing workspace")
	redeemed(t, s, newFamily("ws", "f1"))
	_, err = s.RotateRefreshToken(ctx, rotation("ws", "rt1-f1", "rt2", time.Minute))
	must(t, err)
	f, gen, err := s.GetRefreshToken(ctx, "ws", hashOf("rt1-f1"))
	must(t, err)
	if f.ID != "f1" || gen != 1 || f.Generation != 2 {
		t.Fatalf("family %s gen %d/%d", f.ID, gen, f.Generation)
	}
	_, _, err = s.GetRefreshToken(ctx, "other", hashOf("rt2"))
	wantErr(t, err, storage.ErrNotFound, "refresh token across workspaces")
}
