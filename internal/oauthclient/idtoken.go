package oauthclient

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/coreos/go-oidc/v3/oidc"
)

// asymmetricAlgs are accepted for ID tokens when discovery does not list
// id_token_signing_alg_values_supported; never "none" or HMAC.
var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.ES256, oidc.ES384, oidc.ES512, oidc.EdDSA,
}

// verifyIDToken checks the ID token of t with go-oidc (OIDC Core §3.1.3.7:
// signature by the issuer's JWKS, iss, aud = client_id, exp), then nonce
// (§3.1.3.7 item 11) and at_hash when present (§3.2.2.9).
func (c *Client) verifyIDToken(ctx context.Context, t *Token, nonce string) error {
	if c.Issuer == "" || c.JWKSURI == "" {
		return errors.New("oauthclient: an ID token came back but it cannot be verified without the issuer and jwks_uri (use discovery or give --issuer and --jwks-uri)")
	}
	ctx = oidc.ClientContext(ctx, c.HTTP)
	keys := oidc.NewRemoteKeySet(ctx, c.JWKSURI)
	v := oidc.NewVerifier(c.Issuer, keys, &oidc.Config{ClientID: c.Auth.ClientID, SupportedSigningAlgs: c.idTokenAlgs(), Now: c.now})
	idt, err := v.Verify(ctx, t.IDToken)
	if err != nil {
		return fmt.Errorf("oauthclient: the ID token is not valid: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return errors.New("oauthclient: the ID token's nonce does not match the one sent (replayed or mixed-up response)")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(t.AccessToken); err != nil {
			return fmt.Errorf("oauthclient: the ID token's at_hash does not match the access token: %w", err)
		}
	}
	t.IDTokenClaims = map[string]any{}
	return idt.Claims(&t.IDTokenClaims)
}

func (c *Client) idTokenAlgs() []string {
	if c.md != nil && len(c.md.IDTokenSigningAlgs) > 0 {
		var out []string
		for _, a := range c.md.IDTokenSigningAlgs {
			if a != "none" && a != "HS256" && a != "HS384" && a != "HS512" {
				out = append(out, a)
			}
		}
		return out
	}
	return asymmetricAlgs
}
