package grants

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
)

// idToken mints the ID token of a token response (OIDC Core §3.1.3.3,
// §12.2): sub as the client sees it, nonce of the authorization request
// (never on refresh), auth_time, acr, amr, sid and at_hash. The client's
// id_token_signed_response_alg must be the workspace key's algorithm: a
// workspace signs with one algorithm at a time.
func (h *Handler) idToken(req *request, signer signing.Signer, fam storage.TokenFamily, user storage.User, sub, nonce, at string, now time.Time, ttl time.Duration, mapped map[string]any) (string, error) {
	if err := idTokenAlgMatches(req, signer); err != nil {
		return "", err
	}
	content := idTokenContent(req, fam, user, sub, nonce, at, now, ttl)
	content.Claims = withIDTokenClaims(content.Claims, mapped)
	tok, err := oidc.MintIDToken(signer, content)
	if err != nil {
		return "", errUnavailable(err)
	}
	return tok, nil
}

// idTokenAlgMatches refuses a client whose id_token_signed_response_alg is
// not the workspace key's algorithm. Registration refuses this; it happens
// only after the workspace's algorithm changed under an existing client.
// Say so, never 500.
func idTokenAlgMatches(req *request, signer signing.Signer) error {
	if alg := req.client.IDTokenSignedResponseAlg; alg != "" && alg != signer.Alg() {
		return oauth2.NewError(oauth2.ErrUnauthorizedClient, "the client's id_token_signed_response_alg "+alg+
			" is not the workspace's signing algorithm "+signer.Alg()+": update the client registration")
	}
	return nil
}

// idTokenContent is the content of an ID token; the what-if tool shows
// the same.
func idTokenContent(req *request, fam storage.TokenFamily, user storage.User, sub, nonce, at string, now time.Time, ttl time.Duration) oidc.IDToken {
	return oidc.IDToken{
		Issuer: req.issuer, Subject: sub, ClientID: req.client.ID, IssuedAt: now, ExpiresAt: now.Add(ttl),
		AuthTime: fam.AuthTime, Nonce: nonce, ACR: fam.ACR, AMR: fam.AMR, SessionID: fam.SessionID,
		AccessToken: at, Claims: oidc.IDTokenClaims(user, oidc.DecodeClaims(fam.Claims)),
	}
}

// newOpaque returns 256 random bits, base64url (SECURITY.md G8).
func newOpaque() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// withIDTokenClaims adds the claims mapped to the ID token (the client's
// claim mappings, claims.go) to the requested user claims.
func withIDTokenClaims(claims, mapped map[string]any) map[string]any {
	if len(mapped) == 0 {
		return claims
	}
	if claims == nil {
		claims = make(map[string]any, len(mapped))
	}
	for k, v := range mapped {
		claims[k] = v
	}
	return claims
}
