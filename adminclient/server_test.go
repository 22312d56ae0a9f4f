package adminclient_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

const testToken = "example-admin-token-0123456789abcdef"

// startLatchkey serves a real Latchkey admin API (in-memory SQLite, the
// "default" workspace) on an httptest server until tb cleans up.
func startLatchkey(tb testing.TB) (baseURL, token string) {
	env := servicetest.New(tb)
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: testToken, Store: env.Store}}).Mount(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL, testToken
}

// exampleTB is the testing.TB of examples, which have none: servicetest
// needs only Helper, Fatalf and Cleanup.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (*exampleTB) Helper()                           {}
func (*exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleTB) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }

func (t *exampleTB) stop() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}
