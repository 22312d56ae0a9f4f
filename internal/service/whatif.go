package service

import (
	"context"
	"errors"
	"net/netip"

	"github.com/latchkey/latchkey/internal/grants"
)

// WhatIfRunner plays a token request without issuing anything; the token
// endpoint's grants implement it, so the what-if tool evaluates exactly
// what the endpoints evaluate, through the same code.
type WhatIfRunner interface {
	WhatIf(ctx context.Context, in grants.WhatIfRequest) (grants.WhatIfResult, error)
}

// WhatIfInput is a what-if question: client ClientID, for user UserID or
// alone, asking for Scopes and Resources from RemoteIP with GrantType.
type WhatIfInput struct {
	ClientID  string
	UserID    string
	GrantType string
	Scopes    []string
	Resources []string
	RemoteIP  string
}

// WhatIf answers what the token endpoint would do now: each policy and
// rule evaluated, the decision and the claims that would be issued.
func (s *Service) WhatIf(ctx context.Context, wsID string, in WhatIfInput) (grants.WhatIfResult, error) {
	ws, err := s.requireWorkspace(ctx, wsID)
	if err != nil {
		return grants.WhatIfResult{}, err
	}
	var v validator
	v.required("client_id", in.ClientID)
	if in.RemoteIP != "" {
		_, perr := netip.ParseAddr(in.RemoteIP)
		v.check(perr == nil, "remote_ip", "ip", "must be an IPv4 or IPv6 address, like 192.0.2.1")
	}
	v.maxItems("scopes", len(in.Scopes), 100)
	v.maxItems("resources", len(in.Resources), 100)
	if err := v.err(); err != nil {
		return grants.WhatIfResult{}, err
	}
	c, err := s.GetClient(ctx, wsID, in.ClientID)
	if err != nil {
		return grants.WhatIfResult{}, err
	}
	if s.WhatIfRunner == nil {
		return grants.WhatIfResult{}, errors.New("service: no what-if runner configured")
	}
	res, err := s.WhatIfRunner.WhatIf(ctx, grants.WhatIfRequest{Workspace: ws, Client: c, UserID: in.UserID,
		GrantType: in.GrantType, Scopes: in.Scopes, Resources: in.Resources, RemoteIP: in.RemoteIP})
	if errors.Is(err, grants.ErrWhatIfUser) {
		v.add("user_id", "exists", "user %q does not exist", in.UserID)
		return grants.WhatIfResult{}, v.err()
	}
	return res, err
}
