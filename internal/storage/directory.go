package storage

// Directory is the part of Storage that holds the people and keys behind
// the JWT bearer grant: users, profiles, client certificates and trusted
// external issuers.
type Directory interface {
}
