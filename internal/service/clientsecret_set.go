package service

import (
	"context"
	"crypto/subtle"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Bounds of a client secret given by the administrator (configuration as
// code, README "Configuration as code"). 32 bytes is the smallest HMAC key
// RFC 7518 §3.2 allows for HS256, which client_secret_jwt signs with.
const (
	minGivenSecretBytes = 32
	maxGivenSecretBytes = 512
)

// AuditSecretSet is the audit action of a client secret set to a given
// value.
const AuditSecretSet = "client.secret.set"

// checkGivenSecret validates a secret chosen by the administrator.
func checkGivenSecret(secret string) error {
	v := &validator{}
	switch {
	case !utf8.ValidString(secret):
		v.add("client_secret", "client_secret", "must be UTF-8 text")
	case len(secret) < minGivenSecretBytes:
		v.add("client_secret", "client_secret", "must be at least %d bytes (RFC 7518 §3.2 requires a 256-bit key for HS256)", minGivenSecretBytes)
	case len(secret) > maxGivenSecretBytes:
		v.add("client_secret", "client_secret", "must be at most %d bytes", maxGivenSecretBytes)
	}
	return v.err()
}

// ClientSecretEquals reports whether the client's stored secret is secret,
// comparing in constant time. A client without a secret equals no secret.
func (s *Service) ClientSecretEquals(ctx context.Context, wsID, id, secret string) (bool, error) {
	c, err := s.GetClient(ctx, wsID, id)
	if err != nil {
		return false, err
	}
	cur, err := s.ClientSecret(c)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(cur), []byte(secret)) == 1, nil
}

// SetClientSecret replaces a confidential client's secret with one the
// administrator chose (configuration as code takes it by reference, so it
// can be kept in a secret store). It is encrypted at rest like a generated
// secret and audited without its value.
func (s *Service) SetClientSecret(ctx context.Context, wsID, id, secret string) error {
	if err := checkGivenSecret(secret); err != nil {
		return err
	}
	_, err := s.Store.UpdateClient(ctx, wsID, id, func(c storage.Client) (storage.Client, error) {
		if c.Type != oauth2.ClientConfidential || !usesSecret(c.TokenEndpointAuthMethod) {
			return c, conflict(nil, "client %q does not authenticate with a secret (token_endpoint_auth_method %s)",
				id, c.TokenEndpointAuthMethod)
		}
		now := s.now()
		ct, err := s.Keyring.Encrypt([]byte(secret), SecretAAD(c.WorkspaceID, c.ID))
		if err != nil {
			return c, err
		}
		c.SecretCiphertext, c.SecretRotatedAt, c.UpdatedAt = ct, now, now
		return c, nil
	})
	if err != nil {
		return mapStore(err, "client", id)
	}
	s.audit(ctx, wsID, AuditSecretSet, TargetClient, id, nil)
	return nil
}
