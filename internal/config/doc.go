// Package config turns a YAML file, environment variables and command-line
// flags into one validated Resolved configuration for the server.
//
// The file format (File) is kept apart from the resolved configuration
// (Resolved), as Dex does with cmd/dex/config.go and server/config.go: the
// file holds strings exactly as the operator wrote them, and Load resolves
// defaults, applies the layers and parses every value once.
//
// Precedence, lowest first: built-in defaults, the YAML file (--config or
// LATCHKEY_CONFIG), environment variables (LATCHKEY_*), flags. Every setting
// is described once, in the table returned by Settings, which drives the
// environment lookup, the CLI flags and the README's configuration reference
// (Reference), so the three cannot drift apart.
//
// Validation is a table of checks that reports every problem at once, each
// as "key: problem", so an operator fixes a broken file in one pass.
//
// The public base URL is always configured, never derived from request
// headers (SECURITY.md J2): Resolved.BaseURL is the only source of issuers.
package config
