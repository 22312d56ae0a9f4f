package service

import (
	"context"
	"errors"

	"github.com/latchkey/latchkey/internal/storage"
)

// Users and clients of a workspace never share an ID. A user's access
// token has sub = the user's ID and a client's own token (client
// credentials) has sub = its client_id (RFC 9068 §2.2), so a shared ID
// would let a user token pass for the client's token or the reverse at a
// resource server that looks at sub alone (RFC 9700 §4.15, SECURITY.md J4).
// Creation refuses the collision.

// checkIDFreeOfClient refuses a new user ID that is a client's ID.
func (s *Service) checkIDFreeOfClient(ctx context.Context, wsID, id string) error {
	_, err := s.Store.GetClient(ctx, wsID, id)
	return idCollision(err, "id", "is the client_id of a client of this workspace; a user may not share it, or its tokens could pass for that client's own tokens")
}

// checkIDFreeOfUser refuses a new client ID that is a user's ID.
func (s *Service) checkIDFreeOfUser(ctx context.Context, wsID, id string) error {
	_, err := s.Store.GetUser(ctx, wsID, id)
	return idCollision(err, "client_id", "is the ID of a user of this workspace; a client may not share it, or its own tokens could pass for that user's tokens")
}

// idCollision turns the lookup of the other kind of object into the
// answer: none found is fine, one found is a validation error on field.
func idCollision(lookupErr error, field, message string) error {
	switch {
	case errors.Is(lookupErr, storage.ErrNotFound):
		return nil
	case lookupErr != nil:
		return lookupErr
	}
	var v validator
	v.add(field, "unique_subject", "%s", message)
	return v.err()
}
