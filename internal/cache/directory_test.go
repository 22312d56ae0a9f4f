package cache

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestDirectoryConformanceThroughCache(t *testing.T) {
	conformance.RunDirectoryTests(t, newCached)
	conformance.RunDirectoryIsolationTests(t, newCached)
}

// The wrapper passes every suite the SQL backend passes: the sign-in and
// code flow data and the console's go through it too.
func TestAuthFlowConformanceThroughCache(t *testing.T) {
	conformance.RunAuthFlowTests(t, newCached)
	conformance.RunAuthFlowIsolationTests(t, newCached)
}

func TestConsoleConformanceThroughCache(t *testing.T) { conformance.RunConsoleTests(t, newCached) }

type dirCounting struct {
	storage.Storage
	certs, issuers, salts atomic.Int32
}

func (d *dirCounting) PairwiseSalt(ctx context.Context, ws string, candidate []byte) ([]byte, error) {
	d.salts.Add(1)
	return d.Storage.PairwiseSalt(ctx, ws, candidate)
}

func (d *dirCounting) ListClientCertificates(ctx context.Context, ws, id string) ([]storage.ClientCertificate, error) {
	d.certs.Add(1)
	return d.Storage.ListClientCertificates(ctx, ws, id)
}

func (d *dirCounting) GetTrustedIssuerByIssuer(ctx context.Context, ws, iss string) (storage.TrustedIssuer, error) {
	d.issuers.Add(1)
	return d.Storage.GetTrustedIssuerByIssuer(ctx, ws, iss)
}

func dirFixture(t *testing.T) (*Store, *dirCounting, storage.Storage) {
	t.Helper()
	base := openSQLite(t)
	ctx := t.Context()
	now := time.Now().UTC()
	if err := base.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "ws", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := base.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "c1", Name: "c1", Enabled: true, Type: "confidential"}); err != nil {
		t.Fatal(err)
	}
	if err := base.CreateTrustedIssuer(ctx, storage.TrustedIssuer{WorkspaceID: "ws", ID: "ti", Issuer: "https://idp", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	counter := &dirCounting{Storage: base}
	return New(counter, Options{}), counter, base
}

// Certificates and trusted issuers are served from memory and invalidated
// by writes through the wrapper.
func TestDirectoryCachedAndInvalidatedLocally(t *testing.T) {
	c, counter, _ := dirFixture(t)
	ctx := t.Context()
	for range 3 {
		if _, err := c.ListClientCertificates(ctx, "ws", "c1"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetTrustedIssuerByIssuer(ctx, "ws", "https://idp"); err != nil {
			t.Fatal(err)
		}
	}
	if counter.certs.Load() != 1 || counter.issuers.Load() != 1 {
		t.Fatalf("reads: certs %d issuers %d, want 1 each", counter.certs.Load(), counter.issuers.Load())
	}
	if err := c.CreateClientCertificate(ctx, storage.ClientCertificate{WorkspaceID: "ws", ClientID: "c1", KID: "k", DER: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	certs, err := c.ListClientCertificates(ctx, "ws", "c1")
	if err != nil || len(certs) != 1 {
		t.Fatalf("after upload: %v %v", certs, err)
	}
	if _, err := c.UpdateTrustedIssuer(ctx, "ws", "ti", func(ti storage.TrustedIssuer) (storage.TrustedIssuer, error) {
		ti.Enabled = false
		return ti, nil
	}); err != nil {
		t.Fatal(err)
	}
	ti, err := c.GetTrustedIssuerByIssuer(ctx, "ws", "https://idp")
	if err != nil || ti.Enabled {
		t.Fatalf("disabled issuer still cached as enabled (SECURITY.md C3): %+v %v", ti, err)
	}
}

// Writes by another process arrive through the changes feed.
func TestDirectoryInvalidatedByChangesFeed(t *testing.T) {
	c, _, base := dirFixture(t)
	ctx := t.Context()
	if _, err := c.GetTrustedIssuerByIssuer(ctx, "ws", "https://idp"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListClientCertificates(ctx, "ws", "c1"); err != nil {
		t.Fatal(err)
	}
	// "Another process" writes straight to the database.
	if _, err := base.UpdateTrustedIssuer(ctx, "ws", "ti", func(ti storage.TrustedIssuer) (storage.TrustedIssuer, error) {
		ti.Enabled = false
		return ti, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := base.CreateClientCertificate(ctx, storage.ClientCertificate{WorkspaceID: "ws", ClientID: "c1", KID: "k", DER: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	c.Poll(ctx)
	ti, err := c.GetTrustedIssuerByIssuer(ctx, "ws", "https://idp")
	if err != nil || ti.Enabled {
		t.Fatalf("issuer change not applied: %+v %v", ti, err)
	}
	certs, err := c.ListClientCertificates(ctx, "ws", "c1")
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificate change not applied: %v %v", certs, err)
	}
	// Deleting the client drops its cached certificates.
	if err := base.DeleteClient(ctx, "ws", "c1"); err != nil {
		t.Fatal(err)
	}
	c.Poll(ctx)
	certs, err = c.ListClientCertificates(ctx, "ws", "c1")
	if err != nil || len(certs) != 0 {
		t.Fatalf("certificates outlived their client in the cache: %v %v", certs, err)
	}
}

// The pairwise salt is read from the store once; a workspace deleted and
// created again gets (and is served) its new salt.
func TestPairwiseSaltCached(t *testing.T) {
	c, counter, _ := dirFixture(t)
	ctx := t.Context()
	first, err := c.PairwiseSalt(ctx, "ws", []byte("salt-one"))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := c.PairwiseSalt(ctx, "ws", []byte("other"))
		if err != nil || string(again) != string(first) {
			t.Fatalf("salt %q err %v, want %q", again, err, first)
		}
	}
	if n := counter.salts.Load(); n != 1 {
		t.Fatalf("%d store calls, want 1", n)
	}
	if err := c.DeleteWorkspace(ctx, "ws"); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if err := c.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "ws", Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	fresh, err := c.PairwiseSalt(ctx, "ws", []byte("salt-two"))
	if err != nil || string(fresh) != "salt-two" {
		t.Fatalf("salt of the recreated workspace %q err %v, want salt-two", fresh, err)
	}
}
