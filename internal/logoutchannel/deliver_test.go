package logoutchannel

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

type oneSigner struct{ s signing.Signer }

func (o oneSigner) Signer(context.Context, string) (signing.Signer, error) { return o.s, nil }

type idSubjects struct{}

func (idSubjects) Subject(_ context.Context, _ storage.Client, u storage.User) (string, error) {
	return u.ID, nil
}

// queueOne stores a workspace, a user, a client with backchannel URI uri
// and a session with a token family, then ends the session.
func queueOne(t *testing.T, s storage.Storage, uri string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "ws", Enabled: true, CreatedAt: now, UpdatedAt: now}))
	must(s.CreateUser(ctx, storage.User{WorkspaceID: "ws", ID: "u1", Username: "ada", Active: true, CreatedAt: now, UpdatedAt: now}))
	must(s.CreateClient(ctx, storage.Client{WorkspaceID: "ws", ID: "c1", Name: "c1", Enabled: true, Type: "confidential",
		TokenEndpointAuthMethod: "client_secret_basic", BackchannelLogoutURI: uri, CreatedAt: now, UpdatedAt: now}))
	must(s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "ws", ID: "s1", IDHash: []byte("h"), UserID: "u1",
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.CreateTokenFamily(ctx, storage.TokenFamily{WorkspaceID: "ws", ID: "f1", ClientID: "c1", UserID: "u1", SessionID: "s1",
		Scopes: []string{"openid"}, AuthTime: now, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now}, nil))
	must(s.DeleteBrowserSession(ctx, "ws", "s1"))
}

// queuedStore opens a SQLite store holding one message queued for a
// receiver at rcvURL, and returns it with a deliverer reading it (tests
// set their own retry settings, or wrap the store).
func queuedStore(t *testing.T, rcvURL string) (*sqlstore.Store, *Deliverer) {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "l.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	queueOne(t, s, rcvURL+"/bc")
	signer, err := signing.EphemeralSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return s, &Deliverer{
		Store: s, Signers: oneSigner{signer}, Subjects: idSubjects{},
		Client: ssrf.NewClient(ssrf.Options{AllowPrivate: true, AllowHTTP: true}), BaseURL: "http://op.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// TestDelivererAbandons: a receiver that always fails gets exactly
// MaxAttempts attempts (Back-Channel Logout §2.8: anything but 200/204
// is a failure); then the message is removed and an audit event
// records it.
func TestDelivererAbandons(t *testing.T) {
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadRequest)
	}))
	defer rcv.Close()
	s, d := queuedStore(t, rcv.URL)
	d.MaxAttempts, d.Backoff = 3, time.Millisecond
	for range 200 {
		d.RunOnce(t.Context())
		msgs, err := s.ListLogoutMessages(t.Context(), "ws")
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := hits.Load(); n != 3 {
		t.Fatalf("receiver got %d attempts, want 3", n)
	}
	page, err := s.ListAuditEvents(t.Context(), storage.AuditFilter{WorkspaceID: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Items {
		found = found || (e.Action == "client.backchannel_logout.abandoned" && e.TargetID == "c1")
	}
	if !found {
		t.Fatalf("no abandonment audit event in %+v", page.Items)
	}
}

// shutdownAtSettle is a store that starts the process's shutdown (it
// cancels the deliverer's context) just as the outcome of an attempt is
// recorded: the moment a SIGTERM can land between the receiver's answer
// and the bookkeeping.
type shutdownAtSettle struct {
	storage.Storage
	stop context.CancelFunc
}

func (s shutdownAtSettle) RetryLogoutMessage(ctx context.Context, m storage.LogoutMessage, next time.Time, lastError string) error {
	s.stop()
	return s.Storage.RetryLogoutMessage(ctx, m, next, lastError)
}

func (s shutdownAtSettle) DeleteLogoutMessage(ctx context.Context, m storage.LogoutMessage) error {
	s.stop()
	return s.Storage.DeleteLogoutMessage(ctx, m)
}

// TestDelivererSettlesThroughShutdown: a shutdown that starts after the
// receiver answered still records the answer. A delivered message is
// removed (not sent again when its lease ends) and a failed one is due
// again after its backoff, not after the whole lease.
func TestDelivererSettlesThroughShutdown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		queued int
	}{
		{"delivered", http.StatusOK, 0},
		{"failed", http.StatusServiceUnavailable, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) }))
			defer rcv.Close()
			s, d := queuedStore(t, rcv.URL)
			ctx, stop := context.WithCancel(t.Context())
			defer stop()
			start := time.Now()
			d.Store, d.Backoff, d.Lease = shutdownAtSettle{s, stop}, time.Second, time.Hour
			if n := d.RunOnce(ctx); n != 1 {
				t.Fatalf("claimed %d messages, want 1", n)
			}
			msgs, err := s.ListLogoutMessages(t.Context(), "ws")
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != tc.queued {
				t.Fatalf("%d messages queued after the attempt, want %d", len(msgs), tc.queued)
			}
			if tc.queued == 1 {
				m := msgs[0]
				if m.Claim != "" || m.NextAttemptAt.After(start.Add(time.Minute)) {
					t.Fatalf("failed message left claimed=%q until %s; want it due again after its 1 s backoff", m.Claim, m.NextAttemptAt)
				}
			}
		})
	}
}
