package grants

import (
	"context"
	"errors"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
)

// maxVerifyKeys caps the keys considered for one assertion, as remote key
// sets are capped.
const maxVerifyKeys = ssrf.DefaultMaxKeys

// verifyBearer checks the assertion's signature against the keys of its
// signer only (A4): the client's certificates and JWKS, or the trusted
// issuer's JWKS. HMAC is possible only with the client's own secret and
// only when the client allows it; never with a public key (A3, C4).
func (h *Handler) verifyBearer(ctx context.Context, req *request, src assertionSource, tok *jwtx.Token) error {
	if jwtx.IsHMAC(tok.Header.Alg) {
		if src.issuer != nil {
			return errBadAlgorithm(tok)
		}
		return h.verifyBearerHMAC(req, tok)
	}
	keys, uri, err := h.bearerKeys(ctx, req, src)
	if err != nil {
		return err
	}
	err = tok.Verify(keys)
	if errors.Is(err, jwtx.ErrNoMatchingKey) && uri != "" && h.JWTBearer.JWKS != nil {
		// The signer may have rotated: one refetch, bounded by the cache's
		// cool-down however many requests ask (A5).
		if set, rerr := h.JWTBearer.JWKS.Refresh(ctx, uri); rerr == nil {
			err = tok.Verify(append(keys, set.Keys...))
		}
	}
	return verifyError(tok, src, err)
}

// verifyError turns a verification failure into an actionable invalid_grant.
func verifyError(tok *jwtx.Token, src assertionSource, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwtx.ErrNoMatchingKey) && tok.Header.Kid != "":
		what := "certificate"
		if src.issuer != nil {
			what = "key of the trusted issuer"
		}
		return oauth2.Wrap(oauth2.ErrInvalidGrant, "no "+what+" matches kid "+describable(tok.Header.Kid), err)
	case errors.Is(err, jwtx.ErrNoMatchingKey):
		return oauth2.Wrap(oauth2.ErrInvalidGrant, "no certificate or key can verify the assertion", err)
	case errors.Is(err, jwtx.ErrAlgorithm):
		return errBadAlgorithm(tok)
	}
	return oauth2.Wrap(oauth2.ErrInvalidGrant, "assertion signature is invalid", err)
}

func errBadAlgorithm(tok *jwtx.Token) error {
	return oauth2.NewError(oauth2.ErrInvalidGrant, "assertion algorithm "+describable(tok.Header.Alg)+" is not allowed for this key")
}

// verifyBearerHMAC accepts HS256 keyed by the client secret when the
// client explicitly allows it.
func (h *Handler) verifyBearerHMAC(req *request, tok *jwtx.Token) error {
	c := req.client
	if c.JWTBearer == nil || !c.JWTBearer.AllowHS256 || tok.Header.Alg != "HS256" ||
		len(c.SecretCiphertext) == 0 || h.JWTBearer.Secrets == nil {
		return errBadAlgorithm(tok)
	}
	secret, err := h.JWTBearer.Secrets.Decrypt(c.SecretCiphertext, []byte("client-secret\x00"+req.ws.ID+"\x00"+c.ID))
	if err != nil {
		return errUnavailable(err)
	}
	defer clear(secret)
	if err := tok.VerifyHMAC(secret); err != nil {
		return oauth2.Wrap(oauth2.ErrInvalidGrant, "assertion signature is invalid", err)
	}
	return nil
}

// bearerKeys returns the signer's keys and, when they (partly) come from
// a jwks_uri, that URI for an unknown-kid refetch.
func (h *Handler) bearerKeys(ctx context.Context, req *request, src assertionSource) ([]jose.JSONWebKey, string, error) {
	if src.issuer != nil {
		return h.keySet(ctx, src.issuer.JWKS, src.issuer.JWKSURI)
	}
	certs, err := h.Store.ListClientCertificates(ctx, req.ws.ID, req.client.ID)
	if err != nil {
		return nil, "", errUnavailable(err)
	}
	keys := clientauth.CertificateKeys(certs, h.now())
	set, uri, err := h.keySet(ctx, req.client.JWKS, req.client.JWKSURI)
	if err != nil && len(keys) == 0 {
		return nil, "", err
	}
	keys = append(keys, set...)
	if len(keys) > maxVerifyKeys {
		keys = keys[:maxVerifyKeys]
	}
	return keys, uri, nil
}

// keySet loads an inline JWKS or one from jwks_uri through the SSRF-safe
// cache. Fetch failures stay generic on the wire (L6).
func (h *Handler) keySet(ctx context.Context, inline []byte, uri string) ([]jose.JSONWebKey, string, error) {
	switch {
	case len(inline) > 0:
		set, err := ssrf.ParseJWKS(inline, maxVerifyKeys)
		if err != nil {
			return nil, "", oauth2.Wrap(oauth2.ErrInvalidGrant, "the registered key set is unusable", err)
		}
		return set.Keys, "", nil
	case uri == "":
		return nil, "", nil
	case h.JWTBearer.JWKS == nil:
		return nil, "", oauth2.NewError(oauth2.ErrInvalidGrant, "the registered key set cannot be fetched")
	}
	set, err := h.JWTBearer.JWKS.Get(ctx, uri)
	if err != nil {
		return nil, uri, oauth2.Wrap(oauth2.ErrInvalidGrant, "the registered key set cannot be fetched", err)
	}
	return set.Keys, uri, nil
}
