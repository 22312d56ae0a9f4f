package service

import (
	"errors"

	"github.com/latchkey/latchkey/internal/storage"
)

// ErrNoSecretHolder is returned when a "View secret" code is requested
// or used without an identified caller: a code must be bound to one
// holder so that nobody else can spend it.
var ErrNoSecretHolder = errors.New("service: no caller to bind the code to")

// SecretCodeHolder names who holds a "View secret" code for the actor of
// a request: a console user by its ID, an admin API token (also the CLI)
// as "api:" plus the token's ID, or its name for the configured static
// token. The console, the admin API and the CLI thus share one flow
// while a code requested by one caller is useless to
// any other.
func SecretCodeHolder(a Actor) (string, error) {
	switch {
	case a.Kind == storage.ActorConsole && a.ID != "":
		return a.ID, nil
	case a.Kind == storage.ActorAPIToken && a.ID != "":
		return "api:" + a.ID, nil
	case a.Kind == storage.ActorAPIToken && a.Name != "":
		return "api-name:" + a.Name, nil
	}
	return "", ErrNoSecretHolder
}
