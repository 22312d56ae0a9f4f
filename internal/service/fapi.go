package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxFAPIOffenders bounds the client IDs named when turning the FAPI 2.0
// profile on is refused.
const maxFAPIOffenders = 20

// validateFAPISettings checks the fapi_profile setting and, when a
// profile is on, the workspace's own settings against it (package fapi:
// the signing key's algorithm, FAPI 2.0 Security Profile §5.4.1 item 1;
// the request_uri lifetime, §5.3.2.2 item 12).
func validateFAPISettings(v *validator, st storage.WorkspaceSettings) {
	if !v.check(fapi.Valid(st.FAPIProfile), "settings.fapi_profile", "enum",
		"must be one of \"\", %q or %q", fapi.ProfileSecurity, fapi.ProfileMessageSigning) {
		return
	}
	for _, x := range fapi.CheckWorkspace(st) {
		v.add(x.Field, x.Rule, "%s", x.Message)
	}
}

// checkFAPIClient refuses, at registration and update (DCR included), a
// client that breaks a rule of the workspace's FAPI 2.0 profile.
func checkFAPIClient(ws storage.Workspace, c storage.Client) error {
	var v validator
	for _, x := range fapi.CheckClient(ws.Settings.FAPIProfile, c) {
		v.add(x.Field, x.Rule, "%s", x.Message)
	}
	return v.err()
}

// checkFAPIClients refuses turning a FAPI 2.0 profile on while clients of
// the workspace break its rules, naming them (the safer of the two
// choices: no client is left registered in a state the profile refuses
// at runtime; docs/fapi.md).
func (s *Service) checkFAPIClients(ctx context.Context, wsID, profile string) error {
	if profile == fapi.ProfileNone || !fapi.Valid(profile) {
		return nil
	}
	if err := s.checkFAPIKeys(ctx, wsID); err != nil {
		return err
	}
	var offenders []string
	opts := storage.ListOptions{Limit: 200}
	for {
		page, err := s.Store.ListClients(ctx, wsID, opts)
		if err != nil {
			return mapStore(err, "workspace", wsID)
		}
		for _, c := range page.Items {
			// A disabled client is checked when it is enabled again
			// (UpdateClient validates the whole client).
			if !c.Enabled {
				continue
			}
			if vs := fapi.CheckClient(profile, c); len(vs) > 0 {
				offenders = append(offenders, fmt.Sprintf("%s (%s)", c.ID, fapi.Describe(vs)))
			}
		}
		if page.Next == "" {
			break
		}
		opts.After = page.Next
	}
	if len(offenders) == 0 {
		return nil
	}
	total, more := len(offenders), ""
	if len(offenders) > maxFAPIOffenders {
		more = fmt.Sprintf(" and %d more", len(offenders)-maxFAPIOffenders)
		offenders = offenders[:maxFAPIOffenders]
	}
	var v validator
	v.add("settings.fapi_profile", "fapi_clients",
		"%d client(s) of the workspace break the rules of %s; change or disable them first: %s%s",
		total, profile, strings.Join(offenders, "; "), more)
	return v.err()
}

// checkFAPIKeys refuses turning the profile on while the workspace's
// active signing key (which signs ID tokens and JARM responses now, not
// after the next rotation) uses an algorithm outside FAPI 2.0 Security
// Profile §5.4.1. The keys are not switched silently: the administrator
// rotates them to PS256, ES256 or EdDSA first.
func (s *Service) checkFAPIKeys(ctx context.Context, wsID string) error {
	keys, err := s.Keys.Keys(ctx, wsID)
	if err != nil {
		return mapStore(err, "workspace", wsID)
	}
	for _, k := range keys {
		if k.State == storage.KeyActive && !contains(fapi.Algs, k.Alg) {
			var v validator
			v.add("settings.fapi_profile", "fapi_signing_key",
				"the workspace's active signing key uses %s, which FAPI 2.0 does not allow (FAPI 2.0 Security Profile §5.4.1 item 1); rotate the keys to one of %s until the active key uses it (twice: the first rotation publishes a key of the new algorithm, the second makes it active; latchkey admin keys rotate --alg ...)",
				k.Alg, strings.Join(fapi.Algs, ", "))
			return v.err()
		}
	}
	return nil
}

// checkFAPIRotation refuses rotating a FAPI workspace's keys to an
// algorithm the profile does not allow (FAPI 2.0 Security Profile §5.4.1 item 1).
func checkFAPIRotation(ws storage.Workspace, alg string) error {
	if alg == "" || !fapi.On(ws) || contains(fapi.Algs, alg) {
		return nil
	}
	var v validator
	v.add("alg", "fapi", "the workspace runs under FAPI 2.0, which allows only %s (FAPI 2.0 Security Profile §5.4.1 item 1)", strings.Join(fapi.Algs, ", "))
	return v.err()
}
