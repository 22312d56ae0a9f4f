// Package cli holds the cobra commands of the latchkey binary: serve,
// migrate (and migrate status), version, the admin command tree of package
// admincmd and the bench command.
//
// Commands only parse flags into a config.Options and call into the
// library packages (Dex's cmd/dex is the model): no business logic lives
// here. Flags of serve and migrate are generated from config.Settings, so
// the flags, the environment variables and the README reference agree.
package cli
