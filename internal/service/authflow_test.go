package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

func codeClient(id string) service.ClientInput {
	return service.ClientInput{
		ID: id, Name: id, Type: oauth2.ClientConfidential,
		GrantTypes:   []string{oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken},
		RedirectURIs: []string{"https://app.example.com/cb"},
	}
}

// TestAuthFlowSettingsValidation: each bad setting is a field error.
func TestAuthFlowSettingsValidation(t *testing.T) {
	env, ctx := newEnv(t)
	tests := []struct {
		name, field string
		mutate      func(in *service.ClientInput)
	}{
		{"post-logout javascript (K11, E3)", "post_logout_redirect_uris", func(in *service.ClientInput) {
			in.PostLogoutRedirectURIs = []string{"javascript:alert(1)"}
		}},
		{"unknown id token alg", "id_token_signed_response_alg", func(in *service.ClientInput) { in.IDTokenSignedResponseAlg = "none" }},
		{"id token alg the workspace does not sign with", "id_token_signed_response_alg", func(in *service.ClientInput) { in.IDTokenSignedResponseAlg = "PS256" }},
		{"sector uri over http (L1)", "sector_identifier_uri", func(in *service.ClientInput) { in.SectorIdentifierURI = "http://sector.example/x" }},
		{"pairwise over two hosts needs a sector", "sector_identifier_uri", func(in *service.ClientInput) {
			in.SubjectType = service.SubjectPairwise
			in.RedirectURIs = []string{"https://a.example/cb", "https://b.example/cb"}
		}},
		{"grace too long (H11)", "refresh_tokens.grace_period", func(in *service.ClientInput) {
			in.RefreshTokens = &storage.RefreshTokenSettings{GracePeriod: time.Hour}
		}},
		{"public client without rotation (H2)", "refresh_tokens.no_rotation", func(in *service.ClientInput) {
			in.Type, in.TokenEndpointAuthMethod = oauth2.ClientPublic, oauth2.AuthNone
			in.RefreshTokens = &storage.RefreshTokenSettings{NoRotation: true}
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := codeClient("c" + string(rune('a'+i)))
			tc.mutate(&in)
			_, err := env.Service.CreateClient(ctx, "default", in)
			if _, ok := fieldErrors(t, err)[tc.field]; !ok {
				t.Fatalf("no error on %s: %v", tc.field, err)
			}
		})
	}
}

// TestSectorIdentifierURI is L7: the document must list every redirect URI.
func TestSectorIdentifierURI(t *testing.T) {
	env, ctx := newEnv(t)
	env.Service.FetchSector = func(_ context.Context, uri string) ([]string, error) {
		if uri == "https://sector.example/broken" {
			return nil, errors.New("boom")
		}
		return []string{"https://app.example.com/cb"}, nil
	}
	in := codeClient("ok")
	in.SubjectType, in.SectorIdentifierURI = service.SubjectPairwise, "https://sector.example/ok"
	c, err := env.Service.CreateClient(ctx, "default", in)
	if err != nil || c.SectorIdentifierURI != in.SectorIdentifierURI {
		t.Fatalf("create: %v %+v", err, c.Client)
	}
	in = codeClient("missing")
	in.SectorIdentifierURI, in.RedirectURIs = "https://sector.example/ok", []string{"https://app.example.com/cb", "https://app.example.com/other"}
	_, err = env.Service.CreateClient(ctx, "default", in)
	if msg := fieldErrors(t, err)["sector_identifier_uri"]; !strings.Contains(msg, "other") {
		t.Fatalf("missing redirect not reported: %v", err)
	}
	broken := "https://sector.example/broken"
	_, err = env.Service.UpdateClient(ctx, "default", "ok", service.ClientPatch{AuthFlowPatch: service.AuthFlowPatch{SectorIdentifierURI: &broken}})
	if _, ok := fieldErrors(t, err)["sector_identifier_uri"]; !ok {
		t.Fatalf("unfetchable sector accepted: %v", err)
	}
}

type captureMailer struct{ to, body string }

func (m *captureMailer) SendMail(_ context.Context, to, _, body string) error {
	m.to, m.body = to, body
	return nil
}

// TestUserPasswords: admin-set passwords are argon2id hashes; the e-mailed
// link carries a single-use token stored only as a hash.
func TestUserPasswords(t *testing.T) {
	env, ctx := newEnv(t)
	now := time.Now()
	if err := env.Store.CreateUser(ctx, storage.User{WorkspaceID: "default", ID: "u1", Username: "alice", Email: "alice@example.com",
		Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := env.Service.SetUserPassword(ctx, "default", "u1", "short"); err == nil {
		t.Fatal("short password accepted")
	}
	if err := env.Service.SetUserPassword(ctx, "default", "u1", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Store.GetUserPassword(ctx, "default", "u1")
	if err != nil || !strings.HasPrefix(p.Hash, "$argon2id$") || !service.VerifyPassword(p.Hash, "correct-horse") {
		t.Fatalf("stored %q %v", p.Hash, err)
	}
	if err := env.Service.SetUserPassword(ctx, "default", "nobody", "correct-horse"); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	m := &captureMailer{}
	env.Service.Mailer = m
	to, err := env.Service.SendPasswordLink(ctx, "default", "u1", "https://id.example/w/default/password/set")
	if err != nil || to != "alice@example.com" || !strings.Contains(m.body, "/password/set?token=lkpw_") {
		t.Fatalf("link: %v %q %q", err, to, m.body)
	}
}
