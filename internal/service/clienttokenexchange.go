package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// AuditClientTokenExchange records a change of a client's token exchange
// settings.
const AuditClientTokenExchange = "client.token_exchange.update"

// maxTokenExchangeItems bounds each list of the settings.
const maxTokenExchangeItems = 100

// SetClientTokenExchange validates and stores a client's token exchange
// settings (RFC 8693), replacing the whole block. Every setting is off by
// default, so a client exchanges nothing until an admin allows subject
// token types and impersonation or delegation here; dynamic registration
// cannot set them.
func (s *Service) SetClientTokenExchange(ctx context.Context, wsID, clientID string, in storage.TokenExchangeSettings) (storage.Client, error) {
	current, err := s.GetClient(ctx, wsID, clientID)
	if err != nil {
		return storage.Client{}, err
	}
	in = normalizeTokenExchange(in)
	var v validator
	if err := s.validateTokenExchange(ctx, &v, wsID, in, current); err != nil {
		return storage.Client{}, err
	}
	if err := v.err(); err != nil {
		return storage.Client{}, err
	}
	now := s.now()
	c, err := s.Store.UpdateClient(ctx, wsID, clientID, func(c storage.Client) (storage.Client, error) {
		st := in
		c.TokenExchange = &st
		c.UpdatedAt = now
		return c, nil
	})
	if err != nil {
		return storage.Client{}, mapStore(err, "client", clientID)
	}
	s.audit(ctx, wsID, AuditClientTokenExchange, TargetClient, clientID, map[string]any{
		"subject_token_types": in.SubjectTokenTypes, "allowed_issuers": in.AllowedIssuers,
		"allowed_audiences": in.AllowedAudiences, "may_impersonate": in.MayImpersonate, "may_delegate": in.MayDelegate,
		"refresh_tokens": in.RefreshTokens,
	})
	return c, nil
}

// EffectiveTokenExchange returns a client's settings as the API and
// console show them (nil: everything off).
func EffectiveTokenExchange(c storage.Client) storage.TokenExchangeSettings {
	if c.TokenExchange == nil {
		return normalizeTokenExchange(storage.TokenExchangeSettings{})
	}
	return normalizeTokenExchange(*c.TokenExchange)
}

func normalizeTokenExchange(st storage.TokenExchangeSettings) storage.TokenExchangeSettings {
	for _, l := range []*[]string{&st.SubjectTokenTypes, &st.AllowedIssuers, &st.AllowedAudiences} {
		if *l == nil {
			*l = []string{}
		}
	}
	return st
}

func (s *Service) validateTokenExchange(ctx context.Context, v *validator, wsID string, st storage.TokenExchangeSettings, c storage.Client) error {
	enabled := st.MayImpersonate || st.MayDelegate || len(st.SubjectTokenTypes) > 0
	// RFC 8693 §5: the exchange relies on client authentication.
	v.check(!enabled || c.Type == oauth2.ClientConfidential, "token_exchange", "confidential",
		"token exchange is only available to confidential clients")
	if v.maxItems("subject_token_types", len(st.SubjectTokenTypes), len(storage.SubjectTokenTypes)) {
		validateEnumList(v, "subject_token_types", st.SubjectTokenTypes, storage.SubjectTokenTypes)
	}
	if v.maxItems("allowed_audiences", len(st.AllowedAudiences), maxTokenExchangeItems) {
		for i, a := range st.AllowedAudiences {
			f := fmt.Sprintf("allowed_audiences[%d]", i)
			if v.required(f, a) && v.maxLen(f, a, maxAudienceLength) {
				v.identifier(f, a)
			}
		}
	}
	if !v.maxItems("allowed_issuers", len(st.AllowedIssuers), maxTokenExchangeItems) {
		return nil
	}
	for i, id := range st.AllowedIssuers {
		if _, err := s.Store.GetTrustedIssuer(ctx, wsID, id); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			v.add(fmt.Sprintf("allowed_issuers[%d]", i), "exists", "trusted issuer %q does not exist", truncate(id, 128))
		}
	}
	v.check(!st.RefreshTokens || slices.Contains(c.GrantTypes, oauth2.GrantRefreshToken),
		"refresh_tokens", "grant_type", "requires the %s grant type", oauth2.GrantRefreshToken)
	v.check(len(st.AllowedIssuers) == 0 || slices.Contains(st.SubjectTokenTypes, storage.TokenTypeJWT) || st.MayDelegate,
		"allowed_issuers", "consistency", "trusted issuers are used only for subject_token_type %s or for actor tokens (may_delegate)",
		storage.TokenTypeJWT)
	return nil
}
