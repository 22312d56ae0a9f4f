package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestRecordsAndExposes(t *testing.T) {
	m := New()
	m.TokenIssued("client_credentials")
	m.TokenRequest("client_credentials", "success")
	m.TokenRequest("client_credentials", "invalid_client")
	m.StorageError()
	m.ObserveHTTP("/w/{ws}/oauth2/token", "POST", 200, 3*time.Millisecond)
	m.ObserveHTTP("", "BREW", 404, time.Millisecond)
	out := scrape(t, m)
	for _, want := range []string{
		`latchkey_tokens_issued_total{grant_type="client_credentials"} 1`,
		`latchkey_token_requests_total{grant_type="client_credentials",outcome="success"} 1`,
		`latchkey_token_requests_total{grant_type="client_credentials",outcome="invalid_client"} 1`,
		`latchkey_storage_errors_total 1`,
		`latchkey_http_requests_total{code="200",endpoint="/w/{ws}/oauth2/token",method="POST"} 1`,
		`latchkey_http_requests_total{code="404",endpoint="unmatched",method="OTHER"} 1`,
		`latchkey_http_request_duration_seconds_count{endpoint="/w/{ws}/oauth2/token"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics output lacks %s", want)
		}
	}
}

// TestLabelsBounded: client-controlled strings never become label values.
func TestLabelsBounded(t *testing.T) {
	m := New()
	for i := range 100 {
		m.TokenRequest(fmt.Sprintf("Evil Grant %d", i), strings.Repeat("x", 100))
	}
	m.TokenRequest("urn:ietf:params:oauth:grant-type:jwt-bearer", "invalid_grant")
	out := scrape(t, m)
	if !strings.Contains(out, `latchkey_token_requests_total{grant_type="other",outcome="other"} 100`) {
		t.Errorf("unbounded labels leaked:\n%s", out)
	}
	if !strings.Contains(out, `grant_type="urn:ietf:params:oauth:grant-type:jwt-bearer",outcome="invalid_grant"`) {
		t.Error("URN grant type was not kept")
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	m.TokenIssued("x")
	m.TokenRequest("x", "y")
	m.StorageError()
	m.ObserveHTTP("/", "GET", 200, 0)
}

// failing is a storage whose methods used here fail with err.
type failing struct {
	storage.Storage
	err error
}

func (f failing) Ping(context.Context) error { return f.err }
func (f failing) GetClient(context.Context, string, string) (storage.Client, error) {
	return storage.Client{}, f.err
}
func (f failing) UpdateClient(_ context.Context, _, _ string, u func(storage.Client) (storage.Client, error)) (storage.Client, error) {
	if f.err != nil {
		return storage.Client{}, f.err
	}
	return u(storage.Client{})
}

func TestInstrumentStorage(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("db down")
	validation := errors.New("name is required")
	keep := func(c storage.Client) (storage.Client, error) { return c, nil }
	reject := func(storage.Client) (storage.Client, error) { return storage.Client{}, validation }
	tests := []struct {
		name  string
		inner error
		call  func(s storage.Storage)
		want  string
	}{
		{"real failure counts", boom, func(s storage.Storage) { _ = s.Ping(ctx) }, "1"},
		{"success does not count", nil, func(s storage.Storage) { _ = s.Ping(ctx) }, "0"},
		{"not found is an answer", storage.ErrNotFound, func(s storage.Storage) { _, _ = s.GetClient(ctx, "w", "c") }, "0"},
		{"already exists is an answer", fmt.Errorf("x: %w", storage.ErrAlreadyExists), func(s storage.Storage) { _, _ = s.GetClient(ctx, "w", "c") }, "0"},
		{"cancelled is the caller's doing", context.Canceled, func(s storage.Storage) { _ = s.Ping(ctx) }, "0"},
		{"updater error is not a storage error", nil, func(s storage.Storage) { _, _ = s.UpdateClient(ctx, "w", "c", reject) }, "0"},
		{"update failure counts", boom, func(s storage.Storage) { _, _ = s.UpdateClient(ctx, "w", "c", keep) }, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			tt.call(InstrumentStorage(failing{err: tt.inner}, m))
			if got := scrape(t, m); !strings.Contains(got, "latchkey_storage_errors_total "+tt.want+"\n") {
				t.Errorf("want storage errors %s", tt.want)
			}
		})
	}
}

// TestCanceledRequestsCountedApart: a storage call of a request whose
// client went away is not a storage error, even when the driver reports
// it in its own words rather than as context.Canceled; the request is
// counted in latchkey_http_requests_canceled_total instead. A deadline
// that passed is the server's failure and still counts.
func TestCanceledRequestsCountedApart(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancelExpired := context.WithTimeout(context.Background(), 0)
	defer cancelExpired()
	<-expired.Done()
	interrupted := errors.New("interrupted (9)")
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"client gone, driver's words", gone, interrupted, "0"},
		{"deadline passed", expired, fmt.Errorf("x: %w: %w", storage.ErrUnavailable, context.DeadlineExceeded), "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			s := InstrumentStorage(failing{err: tt.err}, m)
			_ = s.Ping(tt.ctx)
			if !strings.Contains(scrape(t, m), "latchkey_storage_errors_total "+tt.want+"\n") {
				t.Errorf("want storage errors %s", tt.want)
			}
		})
	}
	t.Run("update of a canceled request", func(t *testing.T) {
		m := New()
		_, _ = InstrumentStorage(failing{err: interrupted}, m).UpdateClient(gone, "w", "c", func(c storage.Client) (storage.Client, error) { return c, nil })
		if !strings.Contains(scrape(t, m), "latchkey_storage_errors_total 0\n") {
			t.Error("a canceled update counted as a storage error")
		}
	})
	m := New()
	m.RequestCanceled("/w/{ws}/oauth2/token")
	m.RequestCanceled("")
	out := scrape(t, m)
	for _, want := range []string{
		`latchkey_http_requests_canceled_total{endpoint="/w/{ws}/oauth2/token"} 1`,
		`latchkey_http_requests_canceled_total{endpoint="unmatched"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics output lacks %s", want)
		}
	}
	var none *Metrics
	none.RequestCanceled("/x")
}
