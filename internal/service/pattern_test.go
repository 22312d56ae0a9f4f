package service

import "testing"

// TestPatternsCompile compiles every syntax pattern (each would panic on
// its first use otherwise) and checks one value each side of it.
func TestPatternsCompile(t *testing.T) {
	for name, tc := range map[string]struct {
		p         lazyPattern
		good, bad string
	}{
		"brand colour":     {brandColorPattern, "#1a2B3c", "#12345"},
		"kid":              {kidPattern, "key-2026:01", "key 1"},
		"client ID":        {clientIDPattern, "billing.app~1", "a/b"},
		"metadata key":     {metadataKeyPattern, "team.name", "team name"},
		"console username": {usernamePattern, "ada@example.com", "Ada"},
		"claim name":       {claimNamePattern, "cmicuser", "a/b"},
		"scope name":       {scopeNamePattern, "https://api.example/read", "read write"},
		"service ID":       {serviceIDPattern, "billing", "a/b"},
		"user ID":          {userIDPattern, "u_1", "a b"},
		"directory user":   {dirUsernamePattern, "acme||svc-cmic", "svc cmic"},
		"attribute name":   {attrNamePattern, "department", "dept name"},
		"workspace ID":     {workspaceIDPattern, "acme-prod", "-acme"},
	} {
		if !tc.p.MatchString(tc.good) || tc.p.MatchString(tc.bad) {
			t.Errorf("%s: %q should match and %q should not", name, tc.good, tc.bad)
		}
	}
}
