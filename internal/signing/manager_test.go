package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const ws = "default"

var allAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

func setup(t *testing.T, alg string) (*Manager, *memStore, *clock) {
	t.Helper()
	store, c := newMemStore(), newClock()
	m := newTestManager(t, store, testKeyring(t), c)
	if err := m.EnsureKeys(t.Context(), ws, alg); err != nil {
		t.Fatal(err)
	}
	return m, store, c
}

func sign(t *testing.T, m *Manager, payload string) (string, string) {
	t.Helper()
	s, err := m.Signer(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign([]byte(payload), oauth2.AccessTokenJWTType)
	if err != nil {
		t.Fatal(err)
	}
	return tok, s.KID()
}

// verify checks tok against the JWKS document exactly as a relying party
// would: parse the served bytes, pick the key by kid.
func verify(t *testing.T, m *Manager, tok string) error {
	t.Helper()
	raw, err := m.JWKS(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, allAlgs)
	if err != nil {
		return err
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		return errors.New("kid not in JWKS")
	}
	_, err = jws.Verify(keys[0])
	return err
}

func kidsIn(t *testing.T, m *Manager) map[string]bool {
	t.Helper()
	set, err := m.PublicKeys(t.Context(), ws)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		if out[k.KeyID] {
			t.Fatalf("duplicate kid %s in JWKS (P5)", k.KeyID)
		}
		out[k.KeyID] = true
	}
	return out
}

func TestEnsureKeys(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			m, store, _ := setup(t, alg)
			keys := store.snapshot(ws)
			active, next := one(t, keys, storage.KeyActive), one(t, keys, storage.KeyNext)
			if active.Alg != alg || next.Alg != alg || active.KID == next.KID {
				t.Fatalf("bad keys: %+v", keys)
			}
			if active.ActivatedAt.IsZero() || !next.ActivatedAt.IsZero() {
				t.Fatal("activation times wrong")
			}
			_, before := store.counts()
			if err := m.EnsureKeys(t.Context(), ws, alg); err != nil {
				t.Fatal(err)
			}
			if _, after := store.counts(); after != before {
				t.Fatal("EnsureKeys rewrote a complete key set")
			}
		})
	}
}

func TestEnsureKeysRejectsUnknownAlg(t *testing.T) {
	m := newTestManager(t, newMemStore(), testKeyring(t), newClock())
	for _, alg := range []string{"", "none", "HS256", "rs256", "ES384"} {
		if err := m.EnsureKeys(t.Context(), ws, alg); !errors.Is(err, ErrUnsupportedAlg) {
			t.Errorf("EnsureKeys(%q) = %v", alg, err)
		}
		if err := m.Rotate(t.Context(), ws, alg); alg != "" && !errors.Is(err, ErrUnsupportedAlg) {
			t.Errorf("Rotate(%q) = %v", alg, err)
		}
	}
}

// TestSignVerifyEachAlg (P1): each alg signs a JWS with {alg, kid, typ}
// that verifies against the published JWKS; kid is the RFC 7638 thumbprint.
func TestSignVerifyEachAlg(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			m, _, _ := setup(t, alg)
			tok, kid := sign(t, m, `{"sub":"x"}`)
			if err := verify(t, m, tok); err != nil {
				t.Fatal(err)
			}
			jws, _ := jose.ParseSignedCompact(tok, allAlgs)
			h := jws.Signatures[0].Header
			if h.Algorithm != alg || h.KeyID != kid || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
				t.Fatalf("header = %+v", h)
			}
			set, _ := m.PublicKeys(t.Context(), ws)
			k := set.Key(kid)[0]
			tp, _ := k.Thumbprint(crypto.SHA256)
			if base64.RawURLEncoding.EncodeToString(tp) != kid {
				t.Fatal("kid is not the RFC 7638 thumbprint")
			}
			if k.Use != "sig" || k.Algorithm != alg {
				t.Fatalf("JWK use/alg = %q/%q", k.Use, k.Algorithm)
			}
		})
	}
}

// TestJWKSHasNoPrivateMembers is SECURITY.md O6.
func TestJWKSHasNoPrivateMembers(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			m, _, _ := setup(t, alg)
			if err := m.Rotate(t.Context(), ws, ""); err != nil { // adds a retired key
				t.Fatal(err)
			}
			raw, _ := m.JWKS(t.Context(), ws)
			var doc struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Keys) != 3 {
				t.Fatalf("%d keys published, want 3", len(doc.Keys))
			}
			for _, k := range doc.Keys {
				for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
					if _, ok := k[member]; ok {
						t.Fatalf("JWKS key has private member %q", member)
					}
				}
				for _, member := range []string{"kid", "alg", "use", "kty"} {
					if _, ok := k[member]; !ok {
						t.Fatalf("JWKS key lacks %q", member)
					}
				}
			}
		})
	}
}

// TestRotationOrder is SECURITY.md P2: the next key is published before it
// signs, a token signed just before rotation still verifies after it, and
// new tokens carry the new kid.
func TestRotationOrder(t *testing.T) {
	m, store, c := setup(t, oauth2.AlgES256)
	before := store.snapshot(ws)
	oldActive, next := one(t, before, storage.KeyActive), one(t, before, storage.KeyNext)
	if !kidsIn(t, m)[next.KID] {
		t.Fatal("next key not published before rotation")
	}
	oldTok, kid := sign(t, m, `{"n":1}`)
	if kid != oldActive.KID {
		t.Fatal("signing with a key that is not active")
	}

	c.Advance(time.Second)
	if err := m.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	after := store.snapshot(ws)
	retired := one(t, after, storage.KeyRetired)
	active := one(t, after, storage.KeyActive)
	newNext := one(t, after, storage.KeyNext)
	if retired.KID != oldActive.KID || active.KID != next.KID {
		t.Fatal("rotation did not move next→active→retired")
	}
	if want := c.Now().Add(testTTL + RetireSkew); !retired.RetireUntil.Equal(want) {
		t.Fatalf("RetireUntil = %v, want %v", retired.RetireUntil, want)
	}
	if err := verify(t, m, oldTok); err != nil {
		t.Fatalf("token signed before rotation does not verify after: %v", err)
	}
	newTok, newKid := sign(t, m, `{"n":2}`)
	if newKid != next.KID {
		t.Fatalf("new token kid %s, want the former next key %s", newKid, next.KID)
	}
	if err := verify(t, m, newTok); err != nil {
		t.Fatal(err)
	}
	if !kidsIn(t, m)[newNext.KID] {
		t.Fatal("new next key not published")
	}

	// Once every token of the retired key has expired it leaves the JWKS.
	c.Advance(testTTL + RetireSkew)
	m.Invalidate(ws)
	if kidsIn(t, m)[retired.KID] {
		t.Fatal("retired key still published after RetireUntil")
	}
}

func TestRotateWithNewAlgPublishesFirst(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgRS256)
	if err := m.Rotate(t.Context(), ws, oauth2.AlgEdDSA); err != nil {
		t.Fatal(err)
	}
	keys := store.snapshot(ws)
	if a, n := one(t, keys, storage.KeyActive), one(t, keys, storage.KeyNext); a.Alg != oauth2.AlgRS256 || n.Alg != oauth2.AlgEdDSA {
		t.Fatalf("after first rotation active=%s next=%s", a.Alg, n.Alg)
	}
	if err := m.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	keys = store.snapshot(ws)
	if a, n := one(t, keys, storage.KeyActive), one(t, keys, storage.KeyNext); a.Alg != oauth2.AlgEdDSA || n.Alg != oauth2.AlgEdDSA {
		t.Fatalf("after second rotation active=%s next=%s", a.Alg, n.Alg)
	}
	if _, kid := sign(t, m, "{}"); kid != one(t, keys, storage.KeyActive).KID {
		t.Fatal("signer not updated")
	}
}

// TestConcurrentRotateOneNewKey: managers in different processes that saw
// the same state rotate once between them (reliability invariant 5).
func TestConcurrentRotateOneNewKey(t *testing.T) {
	store, c := newMemStore(), newClock()
	kr := testKeyring(t)
	if err := newTestManager(t, store, kr, c).EnsureKeys(t.Context(), ws, oauth2.AlgES256); err != nil {
		t.Fatal(err)
	}
	const n = 4
	var barrier sync.WaitGroup
	barrier.Add(n)
	store.listHook = func() { barrier.Done(); barrier.Wait() } // all read before any writes
	var wg sync.WaitGroup
	for range n {
		m := newTestManager(t, store, kr, c)
		wg.Go(func() {
			if err := m.Rotate(context.Background(), ws, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	keys := store.snapshot(ws)
	if len(keys) != 3 || len(byState(keys, storage.KeyRetired)) != 1 {
		t.Fatalf("%d keys after concurrent rotation, want 3 (one new key): %+v", len(keys), keys)
	}
}

// TestUpdaterIsPure: a backend may run the updater twice; the result is
// still one rotation.
func TestUpdaterIsPure(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgEdDSA)
	store.rerun = true
	if err := m.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveKey(t.Context(), ws, one(t, store.snapshot(ws), storage.KeyActive).KID); err != nil {
		t.Fatal(err)
	}
	keys := store.snapshot(ws)
	one(t, keys, storage.KeyActive)
	one(t, keys, storage.KeyNext)
	one(t, keys, storage.KeyRetired)
}

// TestRemoveKey is SECURITY.md P4.
func TestRemoveKey(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgES256)
	tokA, kidA := sign(t, m, `{"a":1}`)
	if err := m.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	tokB, kidB := sign(t, m, `{"b":1}`)

	// Remove the retired key: tokens it signed stop verifying at once.
	if err := m.RemoveKey(t.Context(), ws, kidA); err != nil {
		t.Fatal(err)
	}
	if kidsIn(t, m)[kidA] || verify(t, m, tokA) == nil {
		t.Fatal("removed key still verifies")
	}
	if verify(t, m, tokB) != nil {
		t.Fatal("removing a retired key broke the active key")
	}

	// Remove the active key: next is promoted, a new next appears.
	next := one(t, store.snapshot(ws), storage.KeyNext)
	if err := m.RemoveKey(t.Context(), ws, kidB); err != nil {
		t.Fatal(err)
	}
	keys := store.snapshot(ws)
	if len(keys) != 2 || one(t, keys, storage.KeyActive).KID != next.KID {
		t.Fatalf("after removing the active key: %+v", keys)
	}
	one(t, keys, storage.KeyNext)
	if verify(t, m, tokB) == nil {
		t.Fatal("token of removed active key still verifies")
	}
	if _, kid := sign(t, m, "{}"); kid != next.KID {
		t.Fatal("signer still uses the removed key")
	}

	if err := m.RemoveKey(t.Context(), ws, "no-such-kid"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RemoveKey(unknown) = %v", err)
	}
}

func TestRemoveActiveWithoutNextCreatesFreshKeys(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgEdDSA)
	keys := store.snapshot(ws)
	if err := m.RemoveKey(t.Context(), ws, one(t, keys, storage.KeyNext).KID); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveKey(t.Context(), ws, one(t, keys, storage.KeyActive).KID); err != nil {
		t.Fatal(err)
	}
	after := store.snapshot(ws)
	if len(after) != 2 || one(t, after, storage.KeyActive).Alg != oauth2.AlgEdDSA {
		t.Fatalf("keys: %+v", after)
	}
	one(t, after, storage.KeyNext)
	if _, err := m.Signer(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
}

func TestRotateWithoutNextActivatesFreshKey(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgES256)
	keys := store.snapshot(ws)
	if err := m.RemoveKey(t.Context(), ws, one(t, keys, storage.KeyNext).KID); err != nil {
		t.Fatal(err)
	}
	if err := m.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	after := store.snapshot(ws)
	if one(t, after, storage.KeyRetired).KID != one(t, keys, storage.KeyActive).KID {
		t.Fatal("active key not retired")
	}
	one(t, after, storage.KeyActive)
	one(t, after, storage.KeyNext)
}

// TestPrivateKeysEncryptedAtRest is SECURITY.md P3.
func TestPrivateKeysEncryptedAtRest(t *testing.T) {
	store, c := newMemStore(), newClock()
	kr := testKeyring(t)
	m := newTestManager(t, store, kr, c)
	for _, alg := range oauth2.SigningAlgs {
		wsID := "ws-" + strings.ToLower(alg)
		if err := m.EnsureKeys(t.Context(), wsID, alg); err != nil {
			t.Fatal(err)
		}
		for _, k := range store.snapshot(wsID) {
			der, err := kr.Decrypt(k.PrivateCiphertext, KeyAAD(wsID, k.KID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(k.PrivateCiphertext, der[len(der)-32:]) || bytes.Contains(k.PublicJWK, []byte(`"d"`)) {
				t.Fatal("private key material stored in plaintext")
			}
			// Bound to its workspace and kid.
			if _, err := kr.Decrypt(k.PrivateCiphertext, KeyAAD("other", k.KID)); err == nil {
				t.Fatal("ciphertext decrypts under another workspace's AAD")
			}
		}
		listed, err := m.Keys(t.Context(), wsID)
		if err != nil || len(listed) != 2 || listed[0].State != storage.KeyActive {
			t.Fatalf("Keys = %+v, %v", listed, err)
		}
		for _, k := range listed {
			if k.PrivateCiphertext != nil {
				t.Fatal("Keys exposes private ciphertext")
			}
		}
	}
}

func TestUnusableActiveKey(t *testing.T) {
	store, c := newMemStore(), newClock()
	if err := newTestManager(t, store, testKeyring(t), c).EnsureKeys(t.Context(), ws, oauth2.AlgES256); err != nil {
		t.Fatal(err)
	}
	other := newTestManager(t, store, testKeyring(t), c) // another master key
	if _, err := other.Signer(t.Context(), ws); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Signer with the wrong master key = %v", err)
	}
	if len(kidsIn(t, other)) != 2 {
		t.Fatal("JWKS should still be served")
	}
	if _, err := newTestManager(t, newMemStore(), testKeyring(t), c).Signer(t.Context(), "empty"); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Signer of a workspace without keys = %v", err)
	}
}

func TestTamperedStoredKeysAreNotPublished(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgES256)
	store.mu.Lock()
	k := &store.keys[ws][1]
	priv, err := EphemeralSigner(oauth2.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	// A row whose JWK carries private members, or names another kid.
	withPrivate, _ := (&jose.JSONWebKey{Key: priv.priv, KeyID: k.KID, Algorithm: k.Alg, Use: "sig"}).MarshalJSON()
	k.PublicJWK = withPrivate
	store.mu.Unlock()
	m.Invalidate(ws)
	if n := len(kidsIn(t, m)); n != 1 {
		t.Fatalf("%d keys published, want 1 (the damaged one left out)", n)
	}
}

// TestSignerServedFromCache: the hot path does not touch the database.
func TestSignerServedFromCache(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgEdDSA)
	if _, err := m.Signer(t.Context(), ws); err != nil {
		t.Fatal(err)
	}
	lists, updates := store.counts()
	for range 100 {
		if _, err := m.Signer(t.Context(), ws); err != nil {
			t.Fatal(err)
		}
		if _, err := m.JWKS(t.Context(), ws); err != nil {
			t.Fatal(err)
		}
	}
	if l, u := store.counts(); l != lists || u != updates {
		t.Fatalf("hot path hit storage: %d lists, %d updates", l-lists, u-updates)
	}
}

func TestConcurrentColdLoadsShareOneRead(t *testing.T) {
	m, store, _ := setup(t, oauth2.AlgEdDSA)
	m.Invalidate(ws)
	release := make(chan struct{})
	store.listHook = func() { <-release }
	lists, _ := store.counts()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := m.Signer(context.Background(), ws); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if l, _ := store.counts(); l-lists != 1 {
		t.Fatalf("%d storage reads for one cold cache, want 1", l-lists)
	}
}

// TestInvalidate: another process rotates; this one picks it up on
// Invalidate (called on storage.ChangeKeys events).
func TestInvalidate(t *testing.T) {
	store, c := newMemStore(), newClock()
	kr := testKeyring(t)
	a, b := newTestManager(t, store, kr, c), newTestManager(t, store, kr, c)
	if err := a.EnsureKeys(t.Context(), ws, oauth2.AlgES256); err != nil {
		t.Fatal(err)
	}
	_, before := sign(t, a, "{}")
	if err := b.Rotate(t.Context(), ws, ""); err != nil {
		t.Fatal(err)
	}
	if _, kid := sign(t, a, "{}"); kid != before {
		t.Fatal("cache dropped without Invalidate")
	}
	a.Invalidate(ws)
	if _, kid := sign(t, a, "{}"); kid == before {
		t.Fatal("Invalidate did not reload the keys")
	}
}

func TestPublicKeysIsACopy(t *testing.T) {
	m, _, _ := setup(t, oauth2.AlgEdDSA)
	set, _ := m.PublicKeys(t.Context(), ws)
	set.Keys[0] = jose.JSONWebKey{}
	again, _ := m.VerifyKeys(t.Context(), ws)
	if again.Keys[0].KeyID == "" {
		t.Fatal("caller mutated the cached key set")
	}
}

func TestEphemeralSigner(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		s, err := EphemeralSigner(alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign([]byte("{}"), "")
		if err != nil {
			t.Fatal(err)
		}
		jws, err := jose.ParseSignedCompact(tok, allAlgs)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType]; ok {
			t.Fatal("typ set although empty")
		}
		pub := s.Public()
		if _, err := jws.Verify(&pub); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := EphemeralSigner("HS256"); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatal("HS256 accepted")
	}
}
