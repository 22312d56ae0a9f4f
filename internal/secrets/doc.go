// Package secrets holds the master keyring that encrypts data at rest:
// client secrets and private signing keys (SECURITY.md D3, D8, P3).
//
// Client secrets are encrypted rather than hashed (SECURITY.md D3 records
// why), so the master key is the crown jewel. It is kept outside the
// database, in a key file with mode 0600 or in an environment variable, and
// never logged.
//
// A keyring is an ordered list of AES-256 keys. The first key encrypts; every
// key decrypts. Rotating the master key therefore means prepending a new key
// (RotateFile), restarting, and re-encrypting in the background whatever
// IsCurrent reports as encrypted under an older key; an old key is removed
// from the list only after nothing uses it any more.
//
// Ciphertext format (all of it authenticated by AES-GCM, NIST SP 800-38D):
//
//	version (1 byte, 0x01) | key id (8 bytes) | nonce (12 bytes) | sealed data + tag (16 bytes)
//
// The key id is derived one-way from the key itself, so decryption picks the
// right key directly, and the same key gets the same id whether it comes
// from the key file or from the environment. Version and key id are bound to
// the ciphertext by passing them to GCM as part of the additional data,
// together with the caller's AAD, which names what the plaintext is (for
// instance "client-secret\x00" + workspace + "\x00" + client id), so a
// ciphertext cannot be moved to another row and still decrypt.
//
// Nonces are 96 random bits. With random nonces a key must not encrypt more
// than 2^32 messages (SP 800-38D §8.3); secrets and keys are written rarely,
// far below that bound, and rotation resets the count.
package secrets
