package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/latchkey/latchkey/internal/storage"
)

// PreAuthDenyMessage is the error_description of a user whom a client's
// JWT bearer pre-authorization does not admit (docs/security.md R1).
const PreAuthDenyMessage = "user is not pre-authorized for this app"

// PreAuthorization is a client's JWT bearer pre-authorization
// (storage.JWTBearerSettings: pre_auth, allowed_profiles, allowed_users)
// as what it is: the "profiles" template with parameters. The JWT bearer
// grant and the refresh of its token families decide by evaluating Rules
// (PreAuthEngine), the what-if tool traces them, and the admin API and
// console show all three, so an admin reads the policy the settings are.
//
// The shapes: all_users is {"all_users": "true"} and admits everyone;
// any other pre_auth (admin_approved, or none: the default, R1) is
// {"profiles": ..., "users": ...} with the non-empty lists and admits
// their members; with both lists empty (nobody approved yet) Params is
// empty and the rules admit nobody, which a saved policy cannot be
// (Render asks for profiles or users). Rules deny with
// PreAuthDenyMessage, the grant's error since before policies existed.
type PreAuthorization struct {
	Template string
	Params   map[string]string
	Rules    []storage.PolicyRule
}

// PreAuthorizationOf renders the pre-authorization of settings s (nil:
// no settings, the default: nobody). Values are quoted, never spliced
// (Z1); unlike Render, no list length or ID pattern is imposed, since the
// settings were validated when saved and must keep admitting exactly
// whom they admitted.
func PreAuthorizationOf(s *storage.JWTBearerSettings) PreAuthorization {
	all, profiles, users := preAuthLists(s)
	params := map[string]string{}
	switch {
	case all:
		params["all_users"] = "true"
	default:
		if len(profiles) > 0 {
			params["profiles"] = strings.Join(profiles, ",")
		}
		if len(users) > 0 {
			params["users"] = strings.Join(users, ",")
		}
	}
	return PreAuthorization{Template: "profiles", Params: params, Rules: []storage.PolicyRule{
		{Condition: profilesRule(all, profiles, users, "").Condition, Outcome: storage.PolicyDeny, Message: PreAuthDenyMessage},
		{Condition: "true", Outcome: storage.PolicyAllow},
	}}
}

// preAuthLists is what decides a pre-authorization: all_users, or the
// two lists (read under any other pre_auth, as the grant always did).
func preAuthLists(s *storage.JWTBearerSettings) (all bool, profiles, users []string) {
	switch {
	case s == nil:
		return false, nil, nil
	case s.PreAuth == storage.PreAuthAllUsers:
		return true, nil, nil
	}
	return false, s.AllowedProfiles, s.AllowedUsers
}

// compileGenerated compiles rules Latchkey rendered itself. They hold
// no expression a person wrote: the size and static cost bounds of the
// save path (Z2, Z3) are left out, so that long approved lists keep
// working; the evaluation deadline (Z4) and fail-closed evaluation (Z8)
// apply as to every policy.
func compileGenerated(rules []storage.PolicyRule) (*Program, error) {
	p := &Program{rules: make([]compiledRule, len(rules))}
	for i, r := range rules {
		ast, iss := generatedEnv.Compile(r.Condition)
		if iss != nil && iss.Err() != nil {
			return nil, fmt.Errorf("policy: rendered rule %d: %w", i, iss.Err())
		}
		prg, err := generatedEnv.Program(ast, cel.InterruptCheckFrequency(100), cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			return nil, fmt.Errorf("policy: rendered rule %d: %w", i, err)
		}
		p.rules[i] = compiledRule{prg: exprProgram{tracked: prg}, allow: r.Outcome == storage.PolicyAllow, message: r.Message}
	}
	return p, nil
}

// PreAuthEngine caches the compiled pre-authorization of each client
// version, as ClaimEngine caches claim programs: keyed by workspace,
// client and UpdatedAt, which the cached store's change feed renews after
// every change of the client, so a request compiles nothing once a
// version was seen. An entry is used only while the settings it was
// compiled from are still the client's, so a client handed out without a
// new UpdatedAt is never judged by stale lists. The zero value is ready.
type PreAuthEngine struct {
	mu    sync.Mutex
	progs map[claimKey]*preAuthProgram
}

type preAuthProgram struct {
	all             bool
	profiles, users []string
	prg             *Program
	view            PreAuthorization
}

// Program returns the compiled pre-authorization of c and what it is.
func (e *PreAuthEngine) Program(c storage.Client) (*Program, PreAuthorization, error) {
	all, profiles, users := preAuthLists(c.JWTBearer)
	k := claimKey{workspace: c.WorkspaceID, kind: "pre-authorization", id: c.ID, version: c.UpdatedAt}
	e.mu.Lock()
	p, ok := e.progs[k]
	e.mu.Unlock()
	if ok && p.all == all && slices.Equal(p.profiles, profiles) && slices.Equal(p.users, users) {
		return p.prg, p.view, nil
	}
	view := PreAuthorizationOf(c.JWTBearer)
	prg, err := compileGenerated(view.Rules)
	if err != nil {
		return nil, view, err
	}
	p = &preAuthProgram{all: all, profiles: slices.Clone(profiles), users: slices.Clone(users), prg: prg, view: view}
	e.mu.Lock()
	if e.progs == nil || len(e.progs) >= maxPrograms {
		e.progs = map[claimKey]*preAuthProgram{}
	}
	e.progs[k] = p
	e.mu.Unlock()
	return prg, view, nil
}

// Check evaluates c's pre-authorization for user u. A program that
// cannot be built denies (fail closed, Z8) with the cause in Err.
func (e *PreAuthEngine) Check(ctx context.Context, c storage.Client, u storage.User) Decision {
	prg, _, err := e.Program(c)
	if err != nil {
		return Decision{Rule: -1, Message: PreAuthDenyMessage, Err: err}
	}
	return prg.Evaluate(ctx, preAuthInput(u))
}

// Trace is Check with each rule's result and the rendered policy, for
// the what-if tool.
func (e *PreAuthEngine) Trace(ctx context.Context, c storage.Client, u storage.User) (Decision, []RuleResult, PreAuthorization) {
	prg, view, err := e.Program(c)
	if err != nil {
		return Decision{Rule: -1, Message: PreAuthDenyMessage, Err: err}, nil, view
	}
	d, rules := prg.Trace(ctx, preAuthInput(u))
	return d, rules, view
}

// preAuthInput is what the pre-authorization sees: the user (its ID and
// profiles decide).
func preAuthInput(u storage.User) Input {
	return Input{User: FromUser(u)}
}
