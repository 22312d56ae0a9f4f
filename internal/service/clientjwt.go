package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// JWT bearer settings limits.
const (
	// DefaultBearerAssertionLifetime is used when a client sets none; it
	// lets golang.org/x/oauth2/jwt's defaults (exp = iat + 1h) work.
	DefaultBearerAssertionLifetime = 60 * time.Minute
	MaxBearerAssertionLifetime     = 24 * time.Hour
	maxBearerListItems             = 100
	maxAudienceLength              = 2048
)

// UserFields and PreAuthPolicies are the accepted enum values.
var (
	UserFields      = []string{storage.UserFieldUsername, storage.UserFieldEmail, storage.UserFieldUserID, storage.UserFieldExternalID}
	PreAuthPolicies = []string{storage.PreAuthAllUsers, storage.PreAuthAdminApproved}
)

// ClientJWTInput sets a client's JWT bearer grant settings and its
// client_credentials service user. It replaces
// the whole settings block.
type ClientJWTInput struct {
	Settings storage.JWTBearerSettings
	// ServiceUserID ("" for none) becomes the sub of the client's
	// client_credentials tokens; it must name a service user.
	ServiceUserID string
}

// SetClientJWTBearer validates and stores a client's JWT bearer settings.
func (s *Service) SetClientJWTBearer(ctx context.Context, wsID, clientID string, in ClientJWTInput) (storage.Client, error) {
	current, err := s.GetClient(ctx, wsID, clientID)
	if err != nil {
		return storage.Client{}, err
	}
	settings := normalizeBearer(in.Settings)
	var v validator
	if err := s.validateBearer(ctx, &v, wsID, settings, in.ServiceUserID); err != nil {
		return storage.Client{}, err
	}
	checkBearerRefresh(&v, settings, current)
	if err := v.err(); err != nil {
		return storage.Client{}, err
	}
	now := s.now()
	c, err := s.Store.UpdateClient(ctx, wsID, clientID, func(c storage.Client) (storage.Client, error) {
		c.JWTBearer = &settings
		c.ServiceUserID = in.ServiceUserID
		c.UpdatedAt = now
		return c, nil
	})
	if err != nil {
		return storage.Client{}, mapStore(err, "client", clientID)
	}
	s.audit(ctx, wsID, AuditClientJWTBearer, TargetClient, clientID, map[string]any{
		"user_field": settings.UserField, "pre_auth": settings.PreAuth, "service_user_id": in.ServiceUserID,
	})
	return c, nil
}

// checkBearerRefresh: refresh tokens on the JWT bearer grant are redeemed
// through the refresh_token grant, so asking for them on a client that may
// not use that grant would promise tokens the client can never use. The
// token endpoint issues none in that case either (a client whose grant
// type is removed later simply stops getting them).
func checkBearerRefresh(v *validator, st storage.JWTBearerSettings, c storage.Client) {
	v.check(!st.RefreshTokens || slices.Contains(c.GrantTypes, oauth2.GrantRefreshToken),
		"refresh_tokens", "grant_type", "requires the %s grant type", oauth2.GrantRefreshToken)
}

// EffectiveJWTBearer returns a client's settings with defaults filled in,
// as the API and console show them.
func EffectiveJWTBearer(c storage.Client) storage.JWTBearerSettings {
	if c.JWTBearer == nil {
		return normalizeBearer(storage.JWTBearerSettings{})
	}
	return normalizeBearer(*c.JWTBearer)
}

func normalizeBearer(st storage.JWTBearerSettings) storage.JWTBearerSettings {
	if st.UserField == "" {
		st.UserField = storage.UserFieldUsername
	}
	if st.PreAuth == "" {
		// Admin approved with nobody approved: a client issues user
		// tokens only after an admin names profiles or users
		// (docs/security.md R1).
		st.PreAuth = storage.PreAuthAdminApproved
	}
	if st.MaxAssertionLifetime == 0 {
		st.MaxAssertionLifetime = DefaultBearerAssertionLifetime
	}
	return st
}

func (s *Service) validateBearer(ctx context.Context, v *validator, wsID string, st storage.JWTBearerSettings, serviceUser string) error {
	v.check(slices.Contains(UserFields, st.UserField), "user_field", "enum", "must be one of %s", strings.Join(UserFields, ", "))
	v.check(slices.Contains(PreAuthPolicies, st.PreAuth), "pre_auth", "enum", "must be one of %s", strings.Join(PreAuthPolicies, ", "))
	v.check(st.MaxAssertionLifetime >= time.Second && st.MaxAssertionLifetime <= MaxBearerAssertionLifetime,
		"max_assertion_lifetime", "range", "must be between 1s and %s", MaxBearerAssertionLifetime)
	if v.maxItems("extra_audiences", len(st.ExtraAudiences), maxBearerListItems) {
		for i, a := range st.ExtraAudiences {
			f := fmt.Sprintf("extra_audiences[%d]", i)
			if v.required(f, a) {
				v.maxLen(f, a, maxAudienceLength)
			}
		}
	}
	if v.maxItems("allowed_profiles", len(st.AllowedProfiles), maxBearerListItems) {
		if err := s.checkProfilesExist(ctx, v, wsID, "allowed_profiles", st.AllowedProfiles); err != nil {
			return err
		}
	}
	if v.maxItems("allowed_users", len(st.AllowedUsers), maxBearerListItems) {
		if err := s.checkUsersExist(ctx, v, wsID, st.AllowedUsers); err != nil {
			return err
		}
	}
	if v.maxItems("allowed_trusted_issuers", len(st.AllowedTrustedIssuers), maxBearerListItems) {
		if err := s.checkIssuersExist(ctx, v, wsID, st.AllowedTrustedIssuers); err != nil {
			return err
		}
	}
	if serviceUser != "" {
		return s.checkServiceUser(ctx, v, wsID, "service_user_id", serviceUser)
	}
	return nil
}

func (s *Service) checkUsersExist(ctx context.Context, v *validator, wsID string, ids []string) error {
	for _, id := range ids {
		if _, err := s.Store.GetUser(ctx, wsID, id); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			v.add("allowed_users", "exists", "user %q does not exist", truncate(id, 128))
		}
	}
	return nil
}

func (s *Service) checkIssuersExist(ctx context.Context, v *validator, wsID string, ids []string) error {
	for _, id := range ids {
		if _, err := s.Store.GetTrustedIssuer(ctx, wsID, id); err != nil {
			if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			v.add("allowed_trusted_issuers", "exists", "trusted issuer %q does not exist", truncate(id, 128))
		}
	}
	return nil
}
