package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestLogFailure: one line per failure, with the request ID, at the level
// of its kind; a request whose client went away is debug and marked
// canceled, whatever its error says (a driver may report the interrupted
// call in its own words).
func TestLogFailure(t *testing.T) {
	live := WithRequestID(context.Background(), "rid-1")
	gone, cancel := context.WithCancel(live)
	cancel()
	sqliteInterrupted := errors.New("interrupted (9)")
	tests := []struct {
		name     string
		ctx      context.Context
		err      *oauth2.Error
		level    string
		canceled bool
	}{
		{"server error", live, oauth2.AsError(errors.New("bug")), "ERROR", false},
		{"storage unavailable", live, ErrUnavailable(fmt.Errorf("x: %w", storage.ErrUnavailable)), "WARN", false},
		{"storage failure of another kind", live, ErrUnavailable(errors.New("corrupt row")), "ERROR", false},
		{"deadline", live, ErrUnavailable(fmt.Errorf("x: %w: %w", storage.ErrUnavailable, context.DeadlineExceeded)), "WARN", false},
		{"client authentication", live, oauth2.NewError(oauth2.ErrInvalidClient, "client authentication failed"), "INFO", false},
		{"client mistake", live, oauth2.NewError(oauth2.ErrInvalidRequest, "grant_type is required"), "DEBUG", false},
		{"client gone, storage says canceled", gone, ErrUnavailable(fmt.Errorf("x: %w: %w", storage.ErrUnavailable, context.Canceled)), "DEBUG", true},
		{"client gone, driver's own words", gone, ErrUnavailable(sqliteInterrupted), "DEBUG", true},
		{"client gone, server error", gone, oauth2.AsError(sqliteInterrupted), "DEBUG", true},
		{"client gone after a client mistake", gone, oauth2.NewError(oauth2.ErrInvalidRequest, "grant_type is required"), "DEBUG", false},
		{"canceled cause on a live request", live, ErrUnavailable(context.Canceled), "DEBUG", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			LogFailure(tt.ctx, logger, "request failed", tt.err, slog.String("workspace", "acme"))
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("want one JSON line, got %q", buf.String())
			}
			if line["level"] != tt.level || line["request_id"] != "rid-1" || line["error"] != string(tt.err.Code) || line["workspace"] != "acme" {
				t.Fatalf("line %v, want level %s with request_id, error and workspace", line, tt.level)
			}
			if _, marked := line["canceled"]; marked != tt.canceled {
				t.Fatalf("canceled marked %v, want %v: %v", marked, tt.canceled, line)
			}
		})
	}
	LogFailure(live, nil, "no logger", oauth2.AsError(errors.New("x"))) // must not panic
}

func TestClientGone(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-expired.Done()
	if !ClientGone(gone) || ClientGone(expired) || ClientGone(context.Background()) {
		t.Fatal("ClientGone: only a canceled context means the client went away; an expired deadline is the server's")
	}
}

// MarkLogged keeps the error what it was for everyone else: the same
// *oauth2.Error through oauth2.AsError, its cause through errors.Is; nil
// stays nil, and an unmarked error is not Logged.
func TestMarkLogged(t *testing.T) {
	cause := errors.New("wrong client secret")
	e := &oauth2.Error{Code: oauth2.ErrInvalidClient, Description: "client authentication failed", Cause: cause}
	marked := MarkLogged(e)
	if !Logged(marked) || Logged(e) {
		t.Fatalf("Logged(marked) = %v, Logged(unmarked) = %v", Logged(marked), Logged(e))
	}
	if oauth2.AsError(marked) != e || !errors.Is(marked, cause) {
		t.Fatalf("marking changed the error: %v", marked)
	}
	if MarkLogged(nil) != nil || Logged(nil) {
		t.Fatal("nil is not an error to mark")
	}
}
