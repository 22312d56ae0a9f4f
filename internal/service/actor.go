package service

import "context"

// Actor is who performs a change, for the audit log. The admin API auth
// middleware sets it from the bearer token, the console from the signed-in
// admin user; changes without one are recorded as ActorUnknown.
type Actor struct {
	Kind string // storage.ActorConsole, storage.ActorAPIToken, ...
	ID   string // admin user ID or admin token ID
	Name string // username or token name: what people read in the log
	IP   string // the client address of the request
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
