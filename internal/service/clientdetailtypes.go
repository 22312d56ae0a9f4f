package service

import (
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/authzdetails"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxClientDetailTypes bounds a client's authorization_details_types
// like a service's declared types, so a hostile list costs bounded work
// (SECURITY.md M5).
const maxClientDetailTypes = authzdetails.MaxTypesPerService

// validateClientDetailTypes checks a client's authorization_details_types
// (RFC 9396 §10): no duplicates, and each a type a service of the
// workspace declares (scopes is the workspace's scope list, whose
// services carry their types), so a client cannot register a type that
// nothing validates. The refusal names the field and the unknown types.
// An update that leaves the list alone skips the check (buildClient): a
// type whose service stopped declaring it is refused at every endpoint
// anyway, and should not block an unrelated edit.
func validateClientDetailTypes(v *validator, types []string, scopes []storage.ScopeRef) {
	const field = "authorization_details_types"
	if !v.check(len(types) <= maxClientDetailTypes, field, "max_items", "at most %d types", maxClientDetailTypes) {
		return
	}
	for i, t := range types {
		v.check(!slices.Contains(types[:i], t), field, "unique", "lists %q twice", t)
	}
	if unknown := authzdetails.UndeclaredTypes(scopes, types); len(unknown) > 0 {
		quoted := make([]string, len(unknown))
		for i, t := range unknown {
			quoted[i] = fmt.Sprintf("%q", t)
		}
		v.add(field, "declared", "no service of the workspace declares %s (RFC 9396 §10: only types in authorization_details_types_supported)",
			strings.Join(quoted, ", "))
	}
}
