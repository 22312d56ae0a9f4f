package clientauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"net/netip"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Causes of failed mutual TLS authentication (logged, never on the wire).
var (
	errNoCertificate    = errors.New("no TLS client certificate presented")
	errNoClientCAs      = errors.New("tls_client_auth on a direct TLS connection needs tls.client_ca_file")
	errUntrustedChain   = errors.New("client certificate does not chain to tls.client_ca_file")
	errSubjectMismatch  = errors.New("client certificate does not carry the registered subject")
	errNoRegisteredSubj = errors.New("client registers no certificate subject")
	errKeyMismatch      = errors.New("client certificate key is not among the client's registered keys")
)

// IsMTLSMethod reports whether method is one of RFC 8705's.
func IsMTLSMethod(method string) bool {
	return method == oauth2.AuthTLSClient || method == oauth2.AuthSelfSignedTLSClient
}

// authenticateMTLS authenticates a client registered for tls_client_auth
// or self_signed_tls_client_auth whose request carries its client_id and
// no other credentials (RFC 8705 §2: client_id is required, the TLS
// connection is the credential).
func (a *Authenticator) authenticateMTLS(ctx context.Context, ws storage.Workspace, client storage.Client) (Result, error) {
	method := client.TokenEndpointAuthMethod
	if err := a.checkClient(ws, client, method); err != nil {
		return Result{}, err
	}
	cc := endpoint.PresentedCertificate(ctx)
	if cc == nil {
		return Result{}, invalidClient("the client authenticates with a TLS client certificate (RFC 8705 §2) and none was presented", errNoCertificate)
	}
	var err error
	if method == oauth2.AuthTLSClient {
		err = a.checkPKI(cc, client)
	} else {
		err = a.checkSelfSigned(ctx, cc, client)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Client: client, Method: method}, nil
}

// checkPKI is RFC 8705 §2.1: on a direct connection the chain must verify
// against the configured client CAs for client authentication at the
// current time; a trusted proxy did that already. Then the certificate
// must carry the one subject value the client registered (§2.1.2).
func (a *Authenticator) checkPKI(cc *endpoint.ClientCertificate, client storage.Client) error {
	if !cc.ViaProxy {
		var roots *x509.CertPool
		if a.ClientCAs != nil {
			roots = a.ClientCAs()
		}
		if roots == nil {
			return failed(errNoClientCAs)
		}
		inter := x509.NewCertPool()
		for _, c := range cc.Intermediates {
			inter.AddCert(c)
		}
		_, err := cc.Leaf.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, CurrentTime: a.now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return failed(errors.Join(errUntrustedChain, err))
		}
	}
	ok, err := SubjectMatches(cc.Leaf, client)
	if err != nil {
		return failed(err)
	}
	if !ok {
		return failed(errSubjectMismatch)
	}
	return nil
}

// SubjectMatches compares the certificate with the client's registered
// subject (RFC 8705 §2.1.2): the subject DN, compared in RFC 4514 string
// form without case and without spaces around separators, or one
// subjectAltName entry of the registered type, compared exactly (DNS
// names and email domains without case, IP addresses as addresses).
func SubjectMatches(cert *x509.Certificate, c storage.Client) (bool, error) {
	switch {
	case c.TLSClientAuthSubjectDN != "":
		return normalizeDN(cert.Subject.String()) == normalizeDN(c.TLSClientAuthSubjectDN), nil
	case c.TLSClientAuthSANDNS != "":
		for _, n := range cert.DNSNames {
			if strings.EqualFold(n, c.TLSClientAuthSANDNS) {
				return true, nil
			}
		}
	case c.TLSClientAuthSANURI != "":
		for _, u := range cert.URIs {
			if u.String() == c.TLSClientAuthSANURI {
				return true, nil
			}
		}
	case c.TLSClientAuthSANIP != "":
		want, err := netip.ParseAddr(c.TLSClientAuthSANIP)
		if err != nil {
			return false, errNoRegisteredSubj
		}
		for _, ip := range cert.IPAddresses {
			if got, ok := netip.AddrFromSlice(ip); ok && got.Unmap() == want.Unmap() {
				return true, nil
			}
		}
	case c.TLSClientAuthSANEmail != "":
		for _, e := range cert.EmailAddresses {
			if emailEqual(e, c.TLSClientAuthSANEmail) {
				return true, nil
			}
		}
	default:
		return false, errNoRegisteredSubj
	}
	return false, nil
}

// normalizeDN lowers case and drops the spaces RFC 4514 §3 tolerates
// around ',', '+' and '=' (Go writes the subject in RFC 4514 order,
// most specific RDN first).
func normalizeDN(dn string) string {
	var b strings.Builder
	parts := strings.FieldsFunc(dn, func(r rune) bool { return r == ',' })
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		k, v, _ := strings.Cut(p, "=")
		b.WriteString(strings.ToLower(strings.TrimSpace(k)))
		b.WriteByte('=')
		b.WriteString(strings.ToLower(strings.TrimSpace(v)))
	}
	return b.String()
}

// emailEqual compares the local part exactly and the domain without case.
func emailEqual(a, b string) bool {
	la, da, okA := strings.Cut(a, "@")
	lb, db, okB := strings.Cut(b, "@")
	return okA && okB && la == lb && strings.EqualFold(da, db)
}

// checkSelfSigned is RFC 8705 §2.2: no chain is built; the certificate
// (or its public key) must be one the client registered in its jwks or
// jwks_uri (§2.2.2). On a miss a jwks_uri is fetched again once, bounded
// by the cache's cool-down, so a client that rotated its certificate is
// not refused until the cache expires.
func (a *Authenticator) checkSelfSigned(ctx context.Context, cc *endpoint.ClientCertificate, client storage.Client) error {
	keys, remote, err := a.clientKeys(ctx, client)
	if err != nil {
		return failed(err)
	}
	if certInKeys(cc.Leaf, keys) {
		return nil
	}
	if remote {
		if set, rerr := a.JWKS.Refresh(ctx, client.JWKSURI); rerr == nil && certInKeys(cc.Leaf, set.Keys) {
			return nil
		}
	}
	return failed(errKeyMismatch)
}

// certInKeys: a key's x5c leaf is the certificate, or the key is the
// certificate's public key.
func certInKeys(cert *x509.Certificate, keys []jose.JSONWebKey) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false
	}
	for _, k := range keys {
		if k.Use == "enc" {
			continue
		}
		if len(k.Certificates) > 0 && bytes.Equal(k.Certificates[0].Raw, cert.Raw) {
			return true
		}
		if k.Key != nil && pub.Equal(k.Public().Key) {
			return true
		}
	}
	return false
}
