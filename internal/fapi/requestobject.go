package fapi

import (
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// CheckRequestObjectNotBefore enforces MS §5.3.1 item 3: under Message
// Signing the request object must carry an nbf claim (its bounds, no
// more than 60 minutes in the past and exp no more than 60 minutes after
// it, items 3 and 4, apply to every request object and are checked by
// package authorize). Outside Message Signing nbf stays optional, as RFC
// 9101 leaves it.
func CheckRequestObjectNotBefore(ws storage.Workspace, hasNotBefore bool) error {
	if hasNotBefore || !MessageSigning(ws) {
		return nil
	}
	return oauth2.NewError(errInvalidRequestObject,
		"FAPI 2.0 Message Signing requires an nbf claim in the request object (at most 60 minutes in the past)")
}
