package clientauth

import (
	"context"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/storage"
)

// CertificateStore lists a client's uploaded certificates (storage
// client_certificates). The cached store implements it; an Authenticator
// whose Store does not verifies with the registered JWKS only.
type CertificateStore interface {
	ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]storage.ClientCertificate, error)
}

// maxCertificateKeys caps the certificate keys considered for one JWT, as
// inline and remote key sets are capped.
const maxCertificateKeys = maxInlineKeys

// verifyClientJWT checks tok's signature with every public key registered
// for the client: its JWKS (inline or jwks_uri, with one refetch on an
// unknown key, A5), then, when those do not verify it, the public keys of
// its uploaded certificates, named by their kid (x5t#S256 unless the admin
// set one) exactly as the JWT bearer grant uses them (RFC 7523 §3 item 9:
// keys of the issuer only; SECURITY.md A4). The certificates are read only
// when the JWKS fails, so a client signing with its JWKS costs nothing
// more. The first error (of the JWKS) is returned when no certificate
// helps, so callers keep their diagnostics.
func (a *Authenticator) verifyClientJWT(ctx context.Context, client storage.Client, tok *jwtx.Token) error {
	keys, remote, err := a.clientKeys(ctx, client)
	if err == nil {
		err = tok.Verify(keys)
		if errors.Is(err, jwtx.ErrNoMatchingKey) && remote {
			// The client may have rotated its keys: one refetch, limited
			// by the cache's cool-down however many requests ask (A5).
			if set, rerr := a.JWKS.Refresh(ctx, client.JWKSURI); rerr == nil {
				err = tok.Verify(set.Keys)
			}
		}
	}
	if err == nil {
		return nil
	}
	certKeys, cerr := a.certificateKeys(ctx, client)
	if cerr != nil {
		return serverError(cerr)
	}
	if len(certKeys) == 0 {
		return err
	}
	if verr := tok.Verify(certKeys); verr == nil {
		return nil
	} else if errors.Is(err, errNoKeys) {
		return verr // only certificates are registered: their failure is the one to report
	}
	return err
}

// certificateKeys returns the public keys of the client's uploaded
// certificates that are within their validity period now (an expired or
// not yet valid certificate vouches for nothing), with the kid the
// certificate was stored under. jwtx enforces key size and the alg/key
// type fit (A2, A15).
func (a *Authenticator) certificateKeys(ctx context.Context, client storage.Client) ([]jose.JSONWebKey, error) {
	cs, ok := a.Store.(CertificateStore)
	if !ok {
		return nil, nil
	}
	certs, err := cs.ListClientCertificates(ctx, client.WorkspaceID, client.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	out := CertificateKeys(certs, now)
	if len(out) > maxCertificateKeys {
		out = out[:maxCertificateKeys]
	}
	return out, nil
}
