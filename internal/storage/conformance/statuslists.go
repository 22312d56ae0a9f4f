package conformance

import (
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunStatusListTests runs the suite of the token status list part of the
// contract (storage.StatusLists, draft-ietf-oauth-status-list).
func RunStatusListTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	subtest(t, "StatusIndexReservation", newStorage, testStatusReserve)
	subtest(t, "StatusRevocation", newStorage, testStatusRevoke)
	subtest(t, "StatusFamilies", newStorage, testStatusFamilies)
	subtest(t, "ConcurrentStatusReservation", newStorage, concurrentStatusReserve)
	subtest(t, "ConcurrentStatusFamilies", newStorage, concurrentStatusFamilies)
}

func testStatusReserve(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	if n, err := s.ReservedStatusIndexes(ctx, "ws"); err != nil || n != 0 {
		t.Fatalf("reserved before any reservation: %d, %v", n, err)
	}
	first, err := s.ReserveStatusIndexes(ctx, "ws", 1024)
	must(t, err)
	second, err := s.ReserveStatusIndexes(ctx, "ws", 16)
	must(t, err)
	third, err := s.ReserveStatusIndexes(ctx, "ws", 1024)
	must(t, err)
	if first != 0 || second != 1024 || third != 1040 {
		t.Fatalf("reserved ranges start at %d, %d, %d; want 0, 1024, 1040", first, second, third)
	}
	if n, err := s.ReservedStatusIndexes(ctx, "ws"); err != nil || n != 2064 {
		t.Fatalf("reserved: %d, %v; want 2064", n, err)
	}
	if n, err := s.ReservedStatusIndexes(ctx, "missing"); err != nil || n != 0 {
		t.Fatalf("reserved in an unknown workspace: %d, %v", n, err)
	}
	// Workspaces count apart.
	o, err := s.ReserveStatusIndexes(ctx, "other", 1024)
	must(t, err)
	if o != 0 {
		t.Fatalf("other workspace starts at %d", o)
	}
	_, err = s.ReserveStatusIndexes(ctx, "missing", 1024)
	wantErr(t, err, storage.ErrNotFound, "reserve in an unknown workspace")
	if _, err := s.ReserveStatusIndexes(ctx, "ws", 0); err == nil {
		t.Fatal("reserving 0 indexes succeeded")
	}
}

func testStatusRevoke(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	for _, idx := range []int64{7, 3, 2000} {
		must(t, s.RevokeStatus(ctx, "ws", idx, at(time.Hour), at(0)))
	}
	must(t, s.RevokeStatus(ctx, "ws", 7, at(time.Hour), at(time.Second))) // again: no error
	must(t, s.RevokeStatus(ctx, "other", 5, at(time.Hour), at(0)))
	got, err := s.RevokedStatuses(ctx, "ws", 0, 1024, at(0))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{3, 7}) {
		t.Fatalf("revoked in [0,1024): %v", got)
	}
	got, err = s.RevokedStatuses(ctx, "ws", 1024, 4096, at(0))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{2000}) {
		t.Fatalf("revoked in [1024,4096): %v", got)
	}
	got, err = s.RevokedStatuses(ctx, "other", 0, 1024, at(0))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{5}) {
		t.Fatalf("other workspace: %v", got)
	}
	got, err = s.RevokedStatuses(ctx, "missing", 0, 1024, at(0))
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("unknown workspace: %v", got)
	}
}

// testStatusFamilies: revoking a family (or deleting it) revokes the
// indexes recorded against it, and only those.
func testStatusFamilies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateTokenFamily(ctx, newFamily("ws", "f1"), hashOf("rt1")))
	must(t, s.CreateTokenFamily(ctx, newFamily("ws", "f2"), hashOf("rt2")))
	must(t, s.RecordStatusFamily(ctx, "ws", 10, "f1", at(time.Hour), at(0)))
	must(t, s.RecordStatusFamily(ctx, "ws", 11, "f1", at(time.Hour), at(0)))
	must(t, s.RecordStatusFamily(ctx, "ws", 12, "f2", at(time.Hour), at(0)))
	must(t, s.RecordStatusFamily(ctx, "ws", 12, "f2", at(time.Hour), at(0))) // the same tie again: nothing
	must(t, s.RecordStatusFamily(ctx, "ws", 14, "f2", at(time.Hour), at(0)))
	must(t, s.RecordStatusFamily(ctx, "ws", 14, "f1", at(time.Hour), at(0))) // exchanged from f1: either revokes it
	must(t, s.RecordStatusFamily(ctx, "ws", 13, "gone", at(time.Hour), at(0)))
	must(t, s.RevokeStatus(ctx, "ws", 11, at(time.Hour), at(0)))
	// A tie to a family that does not exist counts only once it is older
	// than orphanedBefore (the family may be about to be written).
	got, err := s.RevokedStatuses(ctx, "ws", 0, 1024, at(0))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{11}) {
		t.Fatalf("before the family is revoked, fresh orphan: %v (want the direct revocation)", got)
	}
	got, err = s.RevokedStatuses(ctx, "ws", 0, 1024, at(time.Second))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{11, 13}) {
		t.Fatalf("before the family is revoked: %v (want the direct revocation and the missing family)", got)
	}
	must(t, s.RevokeTokenFamily(ctx, "ws", "f1", at(time.Minute)))
	got, err = s.RevokedStatuses(ctx, "ws", 0, 1024, at(time.Second))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{10, 11, 13, 14}) {
		t.Fatalf("after the family is revoked: %v", got)
	}
	n, err := s.RevokeTokenFamilies(ctx, "ws", "u1", "", at(2*time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("revoked %d families of the user", n)
	}
	got, err = s.RevokedStatuses(ctx, "ws", 0, 1024, at(time.Second))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{10, 11, 12, 13, 14}) {
		t.Fatalf("after the user's families are revoked: %v", got)
	}
	got, err = s.RevokedStatuses(ctx, "ws", 12, 13, at(time.Second))
	must(t, err)
	if !reflect.DeepEqual(got, []int64{12}) {
		t.Fatalf("range [12,13): %v", got)
	}
}

// concurrentStatusReserve: reservations racing on every connection get
// disjoint ranges (no index handed out twice).
func concurrentStatusReserve(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	const workers, each, n = 8, 5, 100
	var mu sync.Mutex
	var firsts []int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				first, err := s.ReserveStatusIndexes(ctx, "ws", n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				firsts = append(firsts, first)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	if len(firsts) != workers*each {
		t.Fatalf("%d reservations succeeded", len(firsts))
	}
	for i, f := range firsts {
		if f != int64(i*n) {
			t.Fatalf("reservation %d starts at %d, want %d: ranges overlap or leave gaps", i, f, i*n)
		}
	}
}
