package endpoint

import (
	"context"
	"errors"
	"log/slog"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// ClientGone reports whether the client of the request behind ctx went
// away: net/http cancels a request's context when its connection closes.
// The request deadline the server middleware sets ends in
// context.DeadlineExceeded instead, which is a failure of the server.
func ClientGone(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.Canceled)
}

// LogFailure logs the failed request behind ctx once, with its request ID,
// at a level that fits e:
//
//   - the client went away before the answer (ClientGone, or a cause that
//     is context.Canceled): debug, marked canceled, since nothing failed
//     on the server's side; the server counts such requests apart;
//   - server_error: error (a bug);
//   - temporarily_unavailable: warn when storage reported that it cannot
//     serve now (storage.ErrUnavailable: a deadline, a lock, a lost
//     connection), error otherwise;
//   - invalid_client: info (it matters for abuse monitoring);
//   - anything else: debug (the client's mistake).
//
// The cause is logged; it never holds secrets (callers wrap storage and
// crypto errors, not request values).
func LogFailure(ctx context.Context, logger *slog.Logger, msg string, e *oauth2.Error, attrs ...slog.Attr) {
	if logger == nil {
		return
	}
	level := failureLevel(e)
	if canceled(ctx, e) {
		level = slog.LevelDebug
		attrs = append(attrs, slog.Bool("canceled", true))
	}
	attrs = append(attrs, slog.String("request_id", RequestIDFromContext(ctx)),
		slog.String("error", string(e.Code)), slog.String("description", e.Description))
	if e.Cause != nil {
		attrs = append(attrs, slog.String("cause", e.Cause.Error()))
	}
	logger.LogAttrs(ctx, level, msg, attrs...)
}

// loggedError is a failure logged where it happened: client
// authentication logs each of its failures with the client ID it tried
// and the cause (clientauth), so the endpoint that answers the request
// must not log the same failure again.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// MarkLogged returns err marked as logged already (nil stays nil); the
// error's chain, and so oauth2.AsError and errors.Is, are unchanged.
func MarkLogged(err error) error {
	if err == nil {
		return nil
	}
	return loggedError{err}
}

// Logged reports whether err was marked by MarkLogged: the endpoint
// answers it without logging it a second time.
func Logged(err error) bool {
	var l loggedError
	return errors.As(err, &l)
}

func failureLevel(e *oauth2.Error) slog.Level {
	switch e.Code {
	case oauth2.ErrServerError:
		return slog.LevelError
	case oauth2.ErrTemporarilyUnavailable:
		if errors.Is(e.Cause, storage.ErrUnavailable) {
			return slog.LevelWarn
		}
		return slog.LevelError
	case oauth2.ErrInvalidClient:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// canceled reports a failure on the server's side that only happened
// because the client went away.
func canceled(ctx context.Context, e *oauth2.Error) bool {
	if errors.Is(e.Cause, context.Canceled) {
		return true
	}
	serverSide := e.Code == oauth2.ErrServerError || e.Code == oauth2.ErrTemporarilyUnavailable
	return serverSide && ClientGone(ctx)
}
