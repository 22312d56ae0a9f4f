// Package signing manages each workspace's token signing keys: generation,
// encryption at rest, the JWKS document, cached signers, and rotation
// (SECURITY.md P1–P5, reliability invariant 5).
//
// # Key life cycle
//
// A workspace normally holds one active key (signs new tokens), one next key
// (published in the JWKS but not yet signing) and any number of retired keys
// (published, never signing, until every token they signed has expired):
//
//	next ──Rotate──▶ active ──Rotate──▶ retired ──RetireUntil passed──▶ deleted
//
// Publishing the next key before it signs lets relying parties that cache
// the JWKS (for at most PublishLead) verify the first token it signs
// (SECURITY.md P2; OIDC Core §10.1.1). A retired key stays published until
// RetireUntil = retirement + MaxTokenTTL + 60 s clock skew.
//
// Rotation is a compare-and-swap through storage.UpdateSigningKeys: the
// caller records the active and next key IDs it saw, and the update is a
// no-op when another process rotated first. Several processes may therefore
// run the scheduler, or an admin may rotate while it runs, and exactly one
// new key results (reliability invariant 5).
//
// # Keys at rest
//
// kid is the RFC 7638 JWK thumbprint (SHA-256, base64url) of the public
// key, so kids are unique by construction (SECURITY.md P5). The private key
// is stored as PKCS#8 DER encrypted with the master keyring (package
// secrets) under the AAD "signing-key\x00" + workspace + "\x00" + kid, so a
// ciphertext copied to another workspace or kid does not decrypt
// (SECURITY.md P3). The public JWK is stored as published: use "sig", alg,
// kid, and no private members (SECURITY.md O6).
//
// # Hot path
//
// Manager caches, per workspace, the active key's parsed private key, its
// base64url protected header per JOSE "typ" (made once by go-jose), and
// the JWKS bytes. A signature is then the payload's encoding, one
// private-key operation and one string (RFC 7515 §7.1 compact form; tests
// hold it to go-jose's bytes and verifier). Signing never touches the
// database. Invalidate drops a workspace's cache; the server
// calls it on storage.ChangeKeys events so other processes pick up
// rotations.
package signing
