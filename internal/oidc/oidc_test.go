package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

type saltStore struct{ salt []byte }

func (s *saltStore) PairwiseSalt(_ context.Context, _ string, candidate []byte) ([]byte, error) {
	if s.salt == nil {
		s.salt = candidate
	}
	return s.salt, nil
}

func TestSubjects(t *testing.T) {
	s := &Subjects{Store: &saltStore{}}
	ctx := context.Background()
	u1 := storage.User{ID: "u1", Username: "ada", Email: "ada@example.test"}
	pub := storage.Client{ID: "a", RedirectURIs: []string{"https://a.example/cb"}}
	if sub, _ := s.Subject(ctx, pub, u1); sub != "u1" {
		t.Fatalf("public sub %q", sub)
	}
	a := storage.Client{ID: "a", SubjectType: SubjectPairwise, RedirectURIs: []string{"https://a.example/cb"}}
	a2 := storage.Client{ID: "a2", SubjectType: SubjectPairwise, RedirectURIs: []string{"https://a.example/other"}}
	b := storage.Client{ID: "b", SubjectType: SubjectPairwise, RedirectURIs: []string{"https://b.example/cb"}}
	sb := storage.Client{ID: "c", SubjectType: SubjectPairwise, SectorIdentifierURI: "https://a.example/sector.json",
		RedirectURIs: []string{"https://c.example/cb"}}
	subA, _ := s.Subject(ctx, a, u1)
	subA2, _ := s.Subject(ctx, a2, u1)
	subB, _ := s.Subject(ctx, b, u1)
	subSector, _ := s.Subject(ctx, sb, u1)
	subOther, _ := s.Subject(ctx, a, storage.User{ID: "u2"})
	switch {
	case subA == "u1" || subA != subA2 || subA != subSector:
		t.Fatalf("same sector must give the same pairwise sub: %q %q %q", subA, subA2, subSector)
	case subA == subB || subA == subOther:
		t.Fatal("pairwise subs must differ across sectors and users")
	}
}

// TestSubjectFormats: each format names the user as documented; a
// missing username or e-mail, or one equal to the client's ID (which
// would pass for a client_credentials token of the client, RFC 9068
// §2.2), is invalid_grant, never an empty sub.
func TestSubjectFormats(t *testing.T) {
	s := &Subjects{Store: &saltStore{}}
	u := storage.User{ID: "u1", Username: "ada", Email: "ada@example.test"}
	legacy := storage.Client{ID: "c", SubjectType: SubjectPairwise, RedirectURIs: []string{"https://a.example/cb"}}
	pairwise, err := s.Subject(t.Context(), legacy, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, format string
		user         storage.User
		want, desc   string
	}{
		{"default", "", u, "u1", ""},
		{"id", storage.SubjectFormatID, u, "u1", ""},
		{"username", storage.SubjectFormatUsername, u, "ada", ""},
		{"email", storage.SubjectFormatEmail, u, "ada@example.test", ""},
		{"pairwise", storage.SubjectFormatPairwise, u, pairwise, ""},
		{"email missing", storage.SubjectFormatEmail, storage.User{ID: "u1", Username: "ada"}, "",
			"the user has no e-mail address, which this client uses as subject"},
		{"username missing", storage.SubjectFormatUsername, storage.User{ID: "u1"}, "",
			"the user has no username, which this client uses as subject"},
		{"username is the client ID", storage.SubjectFormatUsername, storage.User{ID: "u1", Username: "c"}, "",
			"the user's username equals the client's ID, so it cannot be this client's subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := storage.Client{ID: "c", SubjectFormat: tc.format, RedirectURIs: []string{"https://a.example/cb"}}
			got, err := s.Subject(t.Context(), c, tc.user)
			if tc.desc == "" {
				if err != nil || got != tc.want {
					t.Fatalf("sub %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			e := oauth2.AsError(err)
			if got != "" || e.Code != oauth2.ErrInvalidGrant || e.Description != tc.desc {
				t.Fatalf("sub %q, %v; want invalid_grant %q", got, err, tc.desc)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	u := storage.User{Username: "alice", Email: "a@example.com", DisplayName: "Alice", UpdatedAt: time.Unix(100, 0),
		Attributes: map[string]string{"given_name": "Al", "phone_number": "+1 555", "address.locality": "Paris", "secret": "x"}}
	cr, err := ParseClaims(`{"userinfo":{"secret":{"essential":true},"nickname":null},"id_token":{"name":{"essential":true}}}`)
	if err != nil {
		t.Fatal(err)
	}
	got := UserInfoClaims(u, []string{"openid", "profile", "email", "address", "phone"}, cr)
	if got["name"] != "Alice" || got["given_name"] != "Al" || got["preferred_username"] != "alice" || got["email"] != "a@example.com" ||
		got["email_verified"] != false || got["phone_number"] != "+1 555" || got["updated_at"] != int64(100) {
		t.Fatalf("userinfo claims %v", got)
	}
	if addr, _ := got["address"].(map[string]string); addr["locality"] != "Paris" {
		t.Fatalf("address %v", got["address"])
	}
	if _, ok := got["secret"]; ok {
		t.Fatal("a non-standard attribute leaked through the claims parameter")
	}
	if id := IDTokenClaims(u, cr); id["name"] != "Alice" || len(id) != 1 {
		t.Fatalf("id token claims %v", id)
	}
	for _, bad := range []string{"{", `{"userinfo":[]}`, `{"userinfo":{"name":{"essential":"yes"}}}`, `{} {}`, strings.Repeat(" ", 5000)} {
		if _, err := ParseClaims(bad); err == nil {
			t.Errorf("ParseClaims(%.20q) accepted", bad)
		}
	}
}

func TestTokenHash(t *testing.T) {
	// OIDC Core §A.3 example: at_hash of this access token with RS256.
	got, err := TokenHash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
	if err != nil || got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Fatalf("at_hash %q %v", got, err)
	}
	if _, err := TokenHash("HS256", "x"); err == nil {
		t.Fatal("HS256 accepted")
	}
}

// TestIDTokenAndHint: an ID token we mint is a valid hint; an access
// token (typ at+jwt), another issuer or a foreign key is not (A14).
func TestIDTokenAndHint(t *testing.T) {
	signer, err := signing.EphemeralSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	keys := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{signer.Public()}}
	now := time.Now()
	tok, err := MintIDToken(signer, IDToken{Issuer: "https://id.example/w/a", Subject: "u1", ClientID: "c1",
		IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour), Nonce: "n", AccessToken: "at",
		Claims: map[string]any{"name": "Alice", "sub": "override"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := VerifyHint(tok, keys, "https://id.example/w/a")
	if err != nil || h.Subject != "u1" || h.Audience[0] != "c1" {
		t.Fatalf("hint %+v %v", h, err)
	}
	if _, err := VerifyHint(tok, keys, "https://other.example"); err == nil {
		t.Fatal("hint of another issuer accepted")
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreign := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: other.Public(), KeyID: signer.KID(), Algorithm: "ES256"}}}
	if _, err := VerifyHint(tok, foreign, "https://id.example/w/a"); err == nil {
		t.Fatal("hint verified with a foreign key")
	}
	payload, _ := json.Marshal(map[string]any{"iss": "https://id.example/w/a", "sub": "u1", "aud": "c1"})
	at, _ := signer.Sign(payload, "at+jwt")
	if _, err := VerifyHint(at, keys, "https://id.example/w/a"); err == nil {
		t.Fatal("an access token passed as id_token_hint (A14)")
	}
}
