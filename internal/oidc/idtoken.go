package oidc

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"time"

	"github.com/latchkey/latchkey/internal/signing"
)

// IDToken is the content of an ID token (OIDC Core §2).
type IDToken struct {
	Issuer, Subject, ClientID string
	IssuedAt, ExpiresAt       time.Time
	AuthTime                  time.Time
	Nonce, ACR, SessionID     string
	AMR                       []string
	// AccessToken, when set, is hashed into at_hash (§3.1.3.6).
	AccessToken string
	// Claims are user claims requested for the ID token (§5.5).
	Claims map[string]any
}

// reservedIDClaims may not be overridden by user claims.
var reservedIDClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "auth_time": true, "nonce": true,
	"acr": true, "amr": true, "azp": true, "sid": true, "at_hash": true, "c_hash": true,
}

// MintIDToken signs t with s (typ "JWT").
func MintIDToken(s signing.Signer, t IDToken) (string, error) {
	claims, err := t.ClaimSet(s.Alg())
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oidc: encode id token: %w", err)
	}
	tok, err := s.Sign(payload, "JWT")
	if err != nil {
		return "", fmt.Errorf("oidc: sign id token: %w", err)
	}
	return tok, nil
}

// ClaimSet is the claims object of the ID token signed with alg (which
// at_hash depends on): what MintIDToken signs, and what the what-if tool
// shows.
func (t IDToken) ClaimSet(alg string) (map[string]any, error) {
	claims := map[string]any{}
	for k, v := range t.Claims {
		if !reservedIDClaims[k] {
			claims[k] = v
		}
	}
	claims["iss"], claims["sub"], claims["aud"], claims["azp"] = t.Issuer, t.Subject, t.ClientID, t.ClientID
	claims["iat"], claims["exp"] = t.IssuedAt.Unix(), t.ExpiresAt.Unix()
	if !t.AuthTime.IsZero() {
		claims["auth_time"] = t.AuthTime.Unix()
	}
	setIf(claims, "nonce", t.Nonce)
	setIf(claims, "acr", t.ACR)
	setIf(claims, "sid", t.SessionID)
	if len(t.AMR) > 0 {
		claims["amr"] = t.AMR
	}
	if t.AccessToken != "" {
		h, err := TokenHash(alg, t.AccessToken)
		if err != nil {
			return nil, err
		}
		claims["at_hash"] = h
	}
	return claims, nil
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// TokenHash is at_hash / c_hash (OIDC Core §3.1.3.6): the left half of
// the hash of the token's ASCII octets with the hash of the JWS alg;
// SHA-512 for EdDSA with Ed25519 (OIDC Core errata).
func TokenHash(alg, token string) (string, error) {
	var h hash.Hash
	switch alg {
	case "RS256", "PS256", "ES256":
		h = sha256.New()
	case "EdDSA":
		h = sha512.New()
	default:
		return "", fmt.Errorf("oidc: no token hash for alg %q", alg)
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}
