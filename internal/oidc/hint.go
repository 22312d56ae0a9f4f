package oidc

import (
	"encoding/json"
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// maxHintSize bounds an id_token_hint before parsing (SECURITY.md A16).
const maxHintSize = 16 << 10

// hintAlgs are the algorithms our ID tokens are signed with.
var hintAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// ErrInvalidHint reports an id_token_hint that is not an ID token we
// issued.
var ErrInvalidHint = errors.New("oidc: invalid id_token_hint")

// Hint is what an id_token_hint tells: whose token, for which client.
type Hint struct {
	Subject  string
	Audience []string
}

// VerifyHint checks that raw is an ID token issued by issuer and signed by
// one of keys. Expiry is not checked: an expired ID token is still a valid
// hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
func VerifyHint(raw string, keys jose.JSONWebKeySet, issuer string) (Hint, error) {
	if len(raw) > maxHintSize || strings.Count(raw, ".") != 2 {
		return Hint{}, ErrInvalidHint
	}
	jws, err := jose.ParseSignedCompact(raw, hintAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return Hint{}, ErrInvalidHint
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "" && typ != "JWT" {
		return Hint{}, ErrInvalidHint // never an access token or anything else (A14)
	}
	var payload []byte
	for _, k := range keys.Key(h.KeyID) {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		if payload, err = jws.Verify(k.Key); err == nil {
			break
		}
	}
	if payload == nil {
		return Hint{}, ErrInvalidHint
	}
	return decodeHint(payload, issuer)
}

func decodeHint(payload []byte, issuer string) (Hint, error) {
	var c struct {
		Issuer   string          `json:"iss"`
		Subject  string          `json:"sub"`
		Audience json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Issuer != issuer || c.Subject == "" {
		return Hint{}, ErrInvalidHint
	}
	var one string
	if json.Unmarshal(c.Audience, &one) == nil && one != "" {
		return Hint{Subject: c.Subject, Audience: []string{one}}, nil
	}
	var many []string
	if json.Unmarshal(c.Audience, &many) != nil || len(many) == 0 {
		return Hint{}, ErrInvalidHint
	}
	return Hint{Subject: c.Subject, Audience: many}, nil
}
