// Package keystore reads and writes the signing keys and X.509
// certificates that OAuth integrations are asked to create: PEM (PKCS#1,
// PKCS#8, SEC1 EC), DER, PKCS#12 (.p12/.pfx) and Java KeyStore (JKS, as
// keytool writes it).
//
// Binary containers are parsed by well-kept libraries
// (software.sslmate.com/src/go-pkcs12 and
// github.com/pavlo-v-chernykh/keystore-go/v4), never by hand. Inspect checks
// a certificate against the upload rules of the JWT bearer grant (RSA of at
// least 2048 bits or EC P-256/P-384, Digital Signature key usage when the
// extension is present, validity) and computes the "x5t#S256" thumbprint
// (RFC 7515 §4.1.8) and the public JWK (RFC 7517).
package keystore
