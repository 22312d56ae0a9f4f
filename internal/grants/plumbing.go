package grants

import "github.com/latchkey/latchkey/internal/endpoint"

// The shared endpoint plumbing under the names the grants use.
var (
	// describable quotes attacker input for an error_description.
	describable = endpoint.Describable
	// errUnavailable is the 503 of a storage or key failure.
	errUnavailable = endpoint.ErrUnavailable
)
