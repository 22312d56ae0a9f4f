package grants

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
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
	keys := certificateKeys(certs, h.now())
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

// certificateKeys turns the client's certificates into verification keys
// named by their kid. Certificates outside their validity are skipped: an
// expired certificate no longer vouches for its key. jwtx enforces the key
// size and the alg/key-type fit (A2, A15).
func certificateKeys(certs []storage.ClientCertificate, now time.Time) []jose.JSONWebKey {
	out := make([]jose.JSONWebKey, 0, len(certs))
	for _, c := range certs {
		if now.After(c.NotAfter) || c.NotBefore.After(now.Add(jwtx.DefaultSkew)) {
			continue
		}
		key, ok := certificatePublicKey(c.DER)
		if !ok {
			continue
		}
		out = append(out, jose.JSONWebKey{Key: key, KeyID: c.KID, Use: "sig"})
	}
	return out
}

// parsedKeys remembers the public key of each certificate seen, keyed by
// its DER: parsing an X.509 certificate costs several microseconds, on
// every JWT bearer request. A certificate's bytes determine its key, so an
// entry is never stale; removing a certificate removes it from the client's
// list, which is read on every request. The map stops growing at
// maxParsedKeys. (A plain map: looking up string(der) in it does not copy
// the bytes, as a sync.Map key would.)
var parsedKeys = struct {
	sync.RWMutex
	m map[string]crypto.PublicKey
}{m: map[string]crypto.PublicKey{}}

const maxParsedKeys = 4096

// certificatePublicKey returns the public key of the DER certificate, or
// false when it does not parse (upload validation makes that rare).
func certificatePublicKey(der []byte) (crypto.PublicKey, bool) {
	parsedKeys.RLock()
	k, ok := parsedKeys.m[string(der)]
	parsedKeys.RUnlock()
	if ok {
		return k, true
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false
	}
	parsedKeys.Lock()
	if len(parsedKeys.m) < maxParsedKeys {
		parsedKeys.m[string(der)] = cert.PublicKey
	}
	parsedKeys.Unlock()
	return cert.PublicKey, true
}
