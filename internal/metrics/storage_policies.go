package metrics

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

// GetPolicy is on the request path (policies are evaluated at the
// authorization and token endpoints); the other policy methods are admin
// operations and pass through uncounted.
func (i *instrumented) GetPolicy(ctx context.Context, ws, id string) (storage.Policy, error) {
	p, err := i.s.GetPolicy(ctx, ws, id)
	return p, i.count(ctx, err)
}
