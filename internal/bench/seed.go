package bench

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// Seed is a scale data set for one workspace (docs/benchmarks.md
// "Scale"): clients the load can draw from at random, users, services
// and stored grants, in the numbers real deployments hold.
type Seed struct {
	Workspace string
	Clients   int
	Users     int
	Services  int
	// Grants are token families with a refresh token each, and Consents
	// remembered consents, spread over random users and clients.
	Grants   int
	Consents int
	// Batch is the rows per transaction.
	Batch int
	// Key derives every seeded client's secret (ScaleClientSecret), so
	// that the load generator can authenticate as any of them without a
	// list of secrets.
	Key string
}

// SeedStore is what seeding writes through: *sqlstore.Store.
type SeedStore interface {
	GetWorkspace(ctx context.Context, id string) (storage.Workspace, error)
	BulkCreateClients(ctx context.Context, clients []storage.Client) error
	BulkCreateUsers(ctx context.Context, users []storage.User) error
	BulkCreateServices(ctx context.Context, services []storage.Service) error
	BulkCreateGrants(ctx context.Context, grants []sqlstore.BulkGrant) error
	BulkPutConsents(ctx context.Context, consents []storage.Consent) error
}

// Encrypter encrypts client secrets under the master key: *secrets.Keyring.
type Encrypter interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
}

// Seeded names: deterministic, so the load generator and the seed agree.
func ScaleClientID(i int) string  { return fmt.Sprintf("scale-client-%06d", i) }
func ScaleUserID(i int) string    { return fmt.Sprintf("scale-user-%07d", i) }
func ScaleServiceID(i int) string { return fmt.Sprintf("scale-service-%04d", i) }
func ScaleFamilyID(i int) string  { return fmt.Sprintf("scale-family-%08d", i) }
func scaleScope(i int) string     { return fmt.Sprintf("svc%04d:read", i) }

// ScaleClientSecret is the secret of seeded client id: an HMAC of the id
// under the seed's key, so knowing one client's secret reveals no other.
func ScaleClientSecret(key, id string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// RunSeed writes the data set into an existing workspace, in transactions
// of seed.Batch rows, reporting progress as it goes.
func RunSeed(ctx context.Context, st SeedStore, kr Encrypter, seed Seed, progress io.Writer) error {
	if _, err := st.GetWorkspace(ctx, seed.Workspace); err != nil {
		return fmt.Errorf("bench seed: workspace %q: %w (create it first: latchkey admin workspaces create)", seed.Workspace, err)
	}
	if seed.Key == "" {
		return fmt.Errorf("bench seed: a key for the client secrets is required")
	}
	if seed.Clients > 0 && seed.Services < 1 {
		seed.Services = 1 // the clients' scope lives in the first service
	}
	seed.Batch = max(seed.Batch, 1)
	if pairs := seed.Users * seed.Clients; pairs > 0 && seed.Consents > pairs {
		// A consent is unique per (user, client): more would repeat a pair.
		seed.Consents = pairs
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	steps := []struct {
		name string
		n    int
		run  func(from, to int) error
	}{
		{"services", seed.Services, func(from, to int) error { return st.BulkCreateServices(ctx, seedServices(seed, now, from, to)) }},
		{"clients", seed.Clients, func(from, to int) error {
			cs, err := seedClients(seed, kr, now, from, to)
			if err != nil {
				return err
			}
			return st.BulkCreateClients(ctx, cs)
		}},
		{"users", seed.Users, func(from, to int) error { return st.BulkCreateUsers(ctx, seedUsers(seed, now, from, to)) }},
		{"grants", seed.Grants, func(from, to int) error { return st.BulkCreateGrants(ctx, seedGrants(seed, now, from, to)) }},
		{"consents", seed.Consents, func(from, to int) error { return st.BulkPutConsents(ctx, seedConsents(seed, now, from, to)) }},
	}
	for _, step := range steps {
		if step.n > 0 && (step.name == "grants" || step.name == "consents") && (seed.Users < 1 || seed.Clients < 1) {
			return fmt.Errorf("bench seed: %s need seeded users and clients", step.name)
		}
		start := time.Now()
		for from := 0; from < step.n; from += seed.Batch {
			if err := step.run(from, min(from+seed.Batch, step.n)); err != nil {
				return fmt.Errorf("bench seed: %s %d-%d: %w", step.name, from, min(from+seed.Batch, step.n)-1, err)
			}
		}
		if step.n > 0 {
			fmt.Fprintf(progress, "seeded %d %s in %s\n", step.n, step.name, time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

func seedServices(seed Seed, now time.Time, from, to int) []storage.Service {
	out := make([]storage.Service, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, storage.Service{
			WorkspaceID: seed.Workspace, ID: ScaleServiceID(i), Name: fmt.Sprintf("Scale service %d", i),
			Identifier: fmt.Sprintf("https://scale.example/svc/%04d", i),
			Scopes:     []storage.Scope{{Name: scaleScope(i), Description: "read"}},
			CreatedAt:  now, UpdatedAt: now,
		})
	}
	return out
}

// seedClients are confidential machine clients with client_secret_basic
// and client_credentials, as an operator creates them (their secret
// encrypted as the service layer does).
func seedClients(seed Seed, kr Encrypter, now time.Time, from, to int) ([]storage.Client, error) {
	out := make([]storage.Client, 0, to-from)
	for i := from; i < to; i++ {
		id := ScaleClientID(i)
		ct, err := kr.Encrypt([]byte(ScaleClientSecret(seed.Key, id)), service.SecretAAD(seed.Workspace, id))
		if err != nil {
			return nil, err
		}
		out = append(out, storage.Client{
			WorkspaceID: seed.Workspace, ID: id, Name: fmt.Sprintf("Scale client %d", i), Enabled: true,
			CreatedAt: now, UpdatedAt: now, Type: oauth2.ClientConfidential, ApplicationType: "service",
			GrantTypes: []string{oauth2.GrantClientCredentials}, Scopes: []string{scaleScope(0)},
			TokenEndpointAuthMethod: "client_secret_basic", SecretCiphertext: ct, SecretRotatedAt: now,
		})
	}
	return out, nil
}

func seedUsers(seed Seed, now time.Time, from, to int) []storage.User {
	out := make([]storage.User, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, storage.User{
			WorkspaceID: seed.Workspace, ID: ScaleUserID(i), Username: fmt.Sprintf("user%07d", i),
			Email: fmt.Sprintf("user%07d@scale.example", i), DisplayName: fmt.Sprintf("User %d", i),
			Active: true, CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}

// seedGrants are code-flow token families of user i mod Users, the k-th
// family of a user (k = i / Users) with client (i + k) mod Clients, so a
// user's families belong to different clients. Their refresh tokens'
// hashes are random (no token hashes to them: never usable), see
// orderedHash for their order.
func seedGrants(seed Seed, now time.Time, from, to int) []sqlstore.BulkGrant {
	out := make([]sqlstore.BulkGrant, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, sqlstore.BulkGrant{RefreshHash: orderedHash(i, seed.Grants), Family: storage.TokenFamily{
			WorkspaceID: seed.Workspace, ID: ScaleFamilyID(i),
			ClientID: ScaleClientID((i + i/seed.Users) % seed.Clients), UserID: ScaleUserID(i % seed.Users),
			Scopes: []string{"openid", "offline_access"}, AuthTime: now, GrantType: oauth2.GrantAuthorizationCode,
			Refresh: true, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now,
			ExpiresAt: now.Add(30 * 24 * time.Hour),
		}})
	}
	return out
}

// orderedHash is the i-th of n random 32-byte hashes that increase with i:
// its first 8 bytes are a uniform draw from the i-th of n equal slices of
// the 64-bit range, the other 24 uniform (a stratified sample: uniform
// over the key space like n independent draws). Written in key order, the
// refresh_tokens primary key grows by appending, where random order would
// dirty one page of a multi-gigabyte index per row and every commit would
// rewrite thousands of pages (docs/benchmarks.md "Scale at 10^7 stored
// grants"). A table filled in random order has pages about two-thirds
// full instead of full: the same depth, give or take one level.
func orderedHash(i, n int) []byte {
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	slice := math.MaxUint64 / uint64(max(n, 1))
	binary.BigEndian.PutUint64(h, uint64(i)*slice+binary.BigEndian.Uint64(h)%slice)
	return h
}

// seedConsents are the consents of user i mod Users for client
// (i / Users) mod Clients: unique pairs while i < Users × Clients.
func seedConsents(seed Seed, now time.Time, from, to int) []storage.Consent {
	out := make([]storage.Consent, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, storage.Consent{
			WorkspaceID: seed.Workspace, UserID: ScaleUserID(i % seed.Users),
			ClientID: ScaleClientID((i / seed.Users) % seed.Clients), Scopes: []string{"openid"},
			CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}
