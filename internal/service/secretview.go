package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Mailer sends one plain-text message (package mail's *Outbox).
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

// One-time codes of "View secret".
const (
	CodeDigits   = 6
	CodeLifetime = 10 * time.Minute
	CodeTries    = 5
)

// RequestSecretCode e-mails a one-time code to the client's contact
// address; RevealClientSecret then shows the secret to the same admin user
// when the code is entered. Proving access to the contact mailbox keeps a
// hijacked console session alone from reading secrets. It returns the
// address the code went to.
func (s *Service) RequestSecretCode(ctx context.Context, wsID, clientID, adminUserID string) (string, error) {
	c, err := s.GetClient(ctx, wsID, clientID)
	if err != nil {
		return "", err
	}
	if len(c.SecretCiphertext) == 0 {
		return "", conflict(nil, "client %q has no secret (token_endpoint_auth_method %s)", clientID, c.TokenEndpointAuthMethod)
	}
	if c.ContactEmail == "" {
		return "", conflict(nil, "client %q has no contact email: set one on the Overview tab first", clientID)
	}
	if s.Mailer == nil {
		return "", errors.New("service: no mailer configured")
	}
	code := newCode()
	now := s.now()
	key := storage.OneTimeCodeKey{AdminUserID: adminUserID, WorkspaceID: wsID, ClientID: clientID}
	if err := s.Store.PutOneTimeCode(ctx, storage.OneTimeCode{
		OneTimeCodeKey: key, CodeHash: codeHash(key, code), ExpiresAt: now.Add(CodeLifetime),
		TriesLeft: CodeTries, CreatedAt: now,
	}); err != nil {
		return "", err
	}
	subject := "Latchkey verification code: " + code
	body := fmt.Sprintf("Your Latchkey verification code is %s\n\nIt lets an administrator view the secret of "+
		"client %q in workspace %q. It expires in %d minutes.\nIf you did not expect this, tell your Latchkey administrators.\n",
		code, clientID, wsID, int(CodeLifetime.Minutes()))
	if err := s.Mailer.SendMail(ctx, c.ContactEmail, subject, body); err != nil {
		return "", fmt.Errorf("service: send verification code: %w", err)
	}
	s.audit(ctx, wsID, AuditSecretCodeSent, TargetClient, clientID, map[string]any{"to": c.ContactEmail})
	return c.ContactEmail, nil
}

// RevealClientSecret spends one try of the admin user's code and, when it
// matches, returns the client's secret. Wrong codes answer with the tries
// left; five wrong codes or ten minutes end the code.
func (s *Service) RevealClientSecret(ctx context.Context, wsID, clientID, adminUserID, code string) (string, error) {
	c, err := s.GetClient(ctx, wsID, clientID)
	if err != nil {
		return "", err
	}
	key := storage.OneTimeCodeKey{AdminUserID: adminUserID, WorkspaceID: wsID, ClientID: clientID}
	left, err := s.Store.ConsumeOneTimeCode(ctx, key, codeHash(key, code), s.now())
	var v validator
	switch {
	case errors.Is(err, storage.ErrWrongCode):
		s.audit(ctx, wsID, AuditSecretCodeWrong, TargetClient, clientID, map[string]any{"tries_left": left})
		v.add("code", "match", "is not correct (%d tries left)", left)
		return "", v.err()
	case errors.Is(err, storage.ErrNotFound):
		v.add("code", "expired", "has expired or was used up: request a new code")
		return "", v.err()
	case err != nil:
		return "", err
	}
	secret, err := s.ClientSecret(c)
	if err != nil {
		return "", err
	}
	s.audit(ctx, wsID, AuditSecretView, TargetClient, clientID, nil)
	return secret, nil
}

// newCode is a uniformly random 6-digit code.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash binds the code to its key, so one stored hash is useless for
// any other admin user or client.
func codeHash(k storage.OneTimeCodeKey, code string) []byte {
	h := sha256.Sum256([]byte("console-code\x00" + k.AdminUserID + "\x00" + k.WorkspaceID + "\x00" + k.ClientID + "\x00" + code))
	return h[:]
}
