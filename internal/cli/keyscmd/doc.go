// Package keyscmd implements "latchkey keys": "keys new" makes an RSA or EC
// key pair with a self-signed certificate carrying the Digital Signature key
// usage and writes it in every form integration guides ask for (PKCS#8 PEM,
// certificate PEM and DER, PKCS#12, JKS); "keys inspect" describes a key or
// certificate file, checks it against the certificate upload rules and
// prints its x5t#S256 and public JWK. The work is done by internal/keystore.
package keyscmd
