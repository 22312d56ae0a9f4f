package logoutchannel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

// EventBackchannelLogout is the member of the logout token's events claim
// (Back-Channel Logout §2.4).
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// TokenType is the JOSE typ of logout tokens (Back-Channel Logout §2.4,
// explicit typing against cross-JWT confusion, §4.1).
const TokenType = "logout+jwt"

// Defaults of a Deliverer.
const (
	DefaultPoll        = time.Second
	DefaultLease       = time.Minute
	DefaultMaxAttempts = 10
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 10 * time.Minute
	// TokenLifetime is the exp of a logout token after its iat: short,
	// as a fresh token is signed for every attempt (§2.4 exp).
	TokenLifetime = 2 * time.Minute
	// batch is how many messages one poll claims and delivers at once.
	batch = 8
)

// SignerSource gives a workspace's active signing key.
type SignerSource interface {
	Signer(ctx context.Context, wsID string) (signing.Signer, error)
}

// SubjectSource computes the sub a client sees for a user (public or
// pairwise, OIDC Core §8).
type SubjectSource interface {
	Subject(ctx context.Context, c storage.Client, u storage.User) (string, error)
}

// Deliverer delivers queued back-channel logout messages. Any number of
// processes may run one on the same database: each message is claimed by
// one of them at a time (storage.LogoutQueue).
type Deliverer struct {
	Store    storage.Storage
	Signers  SignerSource
	Subjects SubjectSource
	// Client must be the SSRF-safe client (package ssrf): no redirects,
	// public addresses only unless the operator allowed otherwise.
	Client  *http.Client
	BaseURL string
	Logger  *slog.Logger
	Now     func() time.Time

	Poll        time.Duration // between polls of the queue; 0: DefaultPoll
	Lease       time.Duration // how long a claim lasts; 0: DefaultLease
	MaxAttempts int           // 0: DefaultMaxAttempts
	Backoff     time.Duration // first retry delay, doubled each time; 0: DefaultBackoff
	MaxBackoff  time.Duration // 0: DefaultMaxBackoff
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(or(d.Poll, DefaultPoll))
	defer t.Stop()
	for {
		for d.RunOnce(ctx) == batch && ctx.Err() == nil {
			// A full batch: more may be due.
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims the due messages (one batch) and attempts each; it
// returns how many it claimed.
func (d *Deliverer) RunOnce(ctx context.Context) int {
	msgs, err := d.Store.ClaimLogoutMessages(ctx, d.now(), or(d.Lease, DefaultLease), batch)
	if err != nil {
		if ctx.Err() == nil {
			d.Logger.Warn("back-channel logout: claiming queued messages failed", "error", err)
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, m := range msgs {
		wg.Go(func() { d.attempt(ctx, m) })
	}
	wg.Wait()
	return len(msgs)
}

// errDrop marks a message that can no longer be delivered (its client
// was disabled or dropped its URI): it is removed without retries.
var errDrop = errors.New("logoutchannel: client no longer takes back-channel logout")

func (d *Deliverer) attempt(ctx context.Context, m storage.LogoutMessage) {
	log := d.Logger.With("workspace", m.WorkspaceID, "client", m.ClientID, "jti", m.ID, "attempt", m.Attempts)
	err := d.deliver(ctx, m)
	// What follows records the attempt's outcome. It must survive a
	// shutdown that starts now: a delivered message whose removal is
	// cancelled would be sent again once its lease runs out, and a
	// failed one whose rescheduling is cancelled would wait the whole
	// lease instead of its backoff.
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	switch {
	case err == nil:
		log.Info("back-channel logout delivered")
		d.finish(settle, log, m)
	case errors.Is(err, errDrop):
		log.Info("back-channel logout dropped", "reason", err.Error())
		d.finish(settle, log, m)
	case ctx.Err() != nil:
		// Shutting down mid-delivery: hand the message back at once, so
		// that the next process need not wait for the lease to run out
		// (if this fails too, the lease does it).
		_ = d.Store.RetryLogoutMessage(settle, m, d.now(), "interrupted by shutdown")
	case m.Attempts >= or(d.MaxAttempts, DefaultMaxAttempts):
		log.Warn("back-channel logout abandoned", "error", err)
		d.audit(settle, m, err)
		d.finish(settle, log, m)
	default:
		next := d.now().Add(d.backoff(m.Attempts))
		log.Info("back-channel logout failed; will retry", "error", err, "next_attempt", next)
		if rerr := d.Store.RetryLogoutMessage(settle, m, next, err.Error()); rerr != nil && !errors.Is(rerr, storage.ErrNotFound) {
			log.Warn("back-channel logout: rescheduling failed", "error", rerr)
		}
	}
}

// settleTimeout bounds the bookkeeping after an attempt, which runs even
// when the process is shutting down.
const settleTimeout = 2 * time.Second

func (d *Deliverer) finish(ctx context.Context, log *slog.Logger, m storage.LogoutMessage) {
	if err := d.Store.DeleteLogoutMessage(ctx, m); err != nil && !errors.Is(err, storage.ErrNotFound) {
		log.Warn("back-channel logout: removing the message failed", "error", err)
	}
}

// backoff is the delay after the attempts-th failed attempt: Backoff,
// doubled for each earlier failure, at most MaxBackoff.
func (d *Deliverer) backoff(attempts int) time.Duration {
	delay, limit := or(d.Backoff, DefaultBackoff), or(d.MaxBackoff, DefaultMaxBackoff)
	for i := 1; i < attempts && delay < limit; i++ {
		delay *= 2
	}
	return min(delay, limit)
}

func (d *Deliverer) audit(ctx context.Context, m storage.LogoutMessage, cause error) {
	details, _ := json.Marshal(map[string]any{"sid": m.SessionID, "attempts": m.Attempts, "error": cause.Error()})
	err := d.Store.AppendAuditEvent(ctx, storage.AuditEvent{
		ActorKind: storage.ActorSystem, ActorName: "back-channel logout", WorkspaceID: m.WorkspaceID,
		Action: "client.backchannel_logout.abandoned", TargetType: "client", TargetID: m.ClientID, Details: details,
	})
	if err != nil {
		d.Logger.Warn("back-channel logout: audit failed", "error", err)
	}
}

// deliver signs a fresh logout token for m and POSTs it (§2.5).
func (d *Deliverer) deliver(ctx context.Context, m storage.LogoutMessage) error {
	c, err := d.Store.GetClient(ctx, m.WorkspaceID, m.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return errDrop
	}
	if err != nil {
		return err
	}
	if !c.Enabled || c.BackchannelLogoutURI == "" {
		return errDrop
	}
	token, err := d.token(ctx, c, m)
	if err != nil {
		return err
	}
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(body))
	if err != nil {
		return errDrop
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	// §2.8: 200 OK on success (204 is accepted as well); anything else,
	// including 400 and redirects, is a failure to retry.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("receiver answered status %d", resp.StatusCode)
	}
	return nil
}

// token builds and signs the logout token (Back-Channel Logout §2.4).
func (d *Deliverer) token(ctx context.Context, c storage.Client, m storage.LogoutMessage) (string, error) {
	now := d.now()
	claims := map[string]any{
		"iss":    endpoint.Issuer(d.BaseURL, m.WorkspaceID),
		"aud":    c.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(TokenLifetime).Unix(),
		"jti":    m.ID,
		"events": map[string]any{EventBackchannelLogout: map[string]any{}},
		"sid":    m.SessionID,
	}
	// sub as the client sees it; a user deleted since leaves sid alone,
	// which §2.4 allows.
	if u, err := d.Store.GetUser(ctx, m.WorkspaceID, m.UserID); err == nil {
		if sub, err := d.Subjects.Subject(ctx, c, u); err == nil {
			claims["sub"] = sub
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := d.Signers.Signer(ctx, m.WorkspaceID)
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	return signer.Sign(payload, TokenType)
}
