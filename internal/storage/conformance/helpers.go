package conformance

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// NewStorage returns a fresh, empty store; the suite closes it.
type NewStorage func(t *testing.T) storage.Storage

// subtest runs fn as a named subtest with its own store.
func subtest(t *testing.T, name string, newStorage NewStorage, fn func(t *testing.T, s storage.Storage)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		s := newStorage(t)
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// baseTime is a fixed instant in a non-UTC zone with millisecond
// precision, so round trips prove the store returns UTC and keeps the
// instant (reliability invariant 7).
var baseTime = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("UTC+5", 5*3600))

func at(d time.Duration) time.Time { return baseTime.Add(d) }

// sameTime fails unless got is the instant want (to the millisecond) in UTC.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Fatalf("%s: got %v, want zero time", what, got)
		}
		return
	}
	if !got.Equal(want.Truncate(time.Millisecond)) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Fatalf("%s: location %v, want UTC", what, got.Location())
	}
}

var errBoom = errors.New("conformance: updater refused")

func newWorkspace(id string) storage.Workspace {
	return storage.Workspace{
		ID: id, Name: "Workspace " + id, Enabled: true,
		Settings: storage.WorkspaceSettings{
			AccessTokenTTL:          time.Hour,
			AllowedAuthMethods:      []string{"client_secret_basic", "private_key_jwt"},
			SigningAlg:              "RS256",
			KeyRotationPeriod:       90 * 24 * time.Hour,
			MaxAssertionLifetime:    10 * time.Minute,
			StrictAssertionAudience: true,
		},
		CreatedAt: at(0), UpdatedAt: at(time.Second),
	}
}

func createWorkspace(t *testing.T, s storage.Storage, id string) storage.Workspace {
	t.Helper()
	w := newWorkspace(id)
	must(t, s.CreateWorkspace(t.Context(), w))
	return w
}

func newService(ws, id string, scopes ...string) storage.Service {
	svc := storage.Service{
		WorkspaceID: ws, ID: id, Name: "Service " + id, Description: "about " + id,
		Identifier: "https://api.example.com/" + id, CreatedAt: at(0), UpdatedAt: at(0),
	}
	for _, sc := range scopes {
		svc.Scopes = append(svc.Scopes, storage.Scope{Name: sc, Description: "can " + sc})
	}
	return svc
}

func newClient(ws, id string) storage.Client {
	return storage.Client{
		WorkspaceID: ws, ID: id, Name: "Client " + id, Enabled: true,
		CreatedAt: at(0), UpdatedAt: at(2 * time.Second),
		Description: "a client", ContactEmail: "ops@example.com",
		Type: "confidential", GrantTypes: []string{"client_credentials"},
		Scopes:                  []string{"read", "write"},
		TokenEndpointAuthMethod: "client_secret_basic",
		AccessTokenTTL:          5 * time.Minute,
		Metadata:                map[string]string{"team": "payments"},
		SecretCiphertext:        []byte{0x01, 0x02, 0xff},
		SecretRotatedAt:         at(3 * time.Second).UTC(),
	}
}

func newKey(ws, kid, state string, created time.Duration) storage.SigningKey {
	return storage.SigningKey{
		WorkspaceID: ws, KID: kid, Alg: "RS256", State: state,
		PrivateCiphertext: []byte("enc-" + kid),
		PublicJWK:         fmt.Appendf(nil, `{"kty":"RSA","kid":%q}`, kid),
		CreatedAt:         at(created),
	}
}

func kids(keys []storage.SigningKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KID
	}
	return out
}
