package oauth2

// RequestObjectSigningAlgs are the algorithms accepted on request objects
// (RFC 9101 §10.1: an explicit allowlist; never "none", never HMAC, so a
// request object always proves the client's private key). Discovery
// advertises exactly these (request_object_signing_alg_values_supported).
var RequestObjectSigningAlgs = AsymmetricVerifyAlgs

// AuthorizationEncryptionAlgs and AuthorizationEncryptionEncs are the JWE
// algorithms of encrypted authorization responses (JARM §3, §4): RSA-OAEP
// with SHA-256 and ECDH-ES only (RSA1_5 is never offered, RFC 8725 §3.2).
var (
	AuthorizationEncryptionAlgs = []string{"RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A256KW"}
	AuthorizationEncryptionEncs = []string{"A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"}
)

// DefaultAuthorizationEncryptionEnc is the content encryption of a client
// that sets authorization_encrypted_response_alg alone (JARM §3).
const DefaultAuthorizationEncryptionEnc = "A128CBC-HS256"
