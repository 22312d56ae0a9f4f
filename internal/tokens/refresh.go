package tokens

// RefreshTokenPrefix starts every refresh token Latchkey issues. Refresh
// tokens are opaque values kept only as hashes; the token endpoint mints
// them and introspection and revocation tell them apart from JWT access
// tokens by this prefix, never by a hint (SECURITY.md I4, Q6).
const RefreshTokenPrefix = "lkrt_"
