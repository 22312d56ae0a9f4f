package endpoint

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// ClientCertificate is the certificate a client presented for mutual TLS
// (RFC 8705 §2): on the server's own TLS connection, or passed by a
// trusted TLS-terminating proxy.
type ClientCertificate struct {
	// Leaf is the client's certificate; Intermediates the rest of the
	// chain it sent (empty through a proxy).
	Leaf          *x509.Certificate
	Intermediates []*x509.Certificate
	// ViaProxy is true when a trusted proxy terminated TLS: the proxy
	// verified the chain it accepted, so only the registered subject is
	// matched here (RFC 8705 §2.1: the authorization server "may" rely on
	// a proxy's verification).
	ViaProxy bool
}

// Thumbprint is the certificate's x5t#S256 confirmation value: the
// base64url SHA-256 of its DER encoding (RFC 8705 §3.1).
func (c *ClientCertificate) Thumbprint() string {
	if c == nil || c.Leaf == nil {
		return ""
	}
	sum := sha256.Sum256(c.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ClientCertSource finds the client certificate of a request. Header and
// Trusted configure a proxy (config tls.client_cert_header and
// tls.trusted_proxies); both empty: only the server's own TLS connection.
type ClientCertSource struct {
	Header  string
	Trusted []netip.Prefix
}

// maxCertHeader bounds the proxy header before it is decoded.
const maxCertHeader = 16 << 10

type clientCertKey struct{}

// Presented returns ctx carrying the client certificate of r, and removes
// the proxy header from r unless it came from a trusted proxy, so that no
// handler ever reads a certificate a client claimed for itself. A header
// from a trusted proxy wins over the TLS connection's certificate (the
// connection is then the proxy's). A header that does not decode is
// treated as no certificate.
func (s *ClientCertSource) Presented(ctx context.Context, r *http.Request) context.Context {
	var cc *ClientCertificate
	if s != nil && s.Header != "" {
		values := r.Header.Values(s.Header)
		r.Header.Del(s.Header)
		if s.trusted(r) && len(values) == 1 {
			cc = fromHeader(values[0])
		}
		if s.trusted(r) {
			return context.WithValue(ctx, clientCertKey{}, cc)
		}
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cc = &ClientCertificate{Leaf: r.TLS.PeerCertificates[0], Intermediates: r.TLS.PeerCertificates[1:]}
	}
	if cc == nil {
		return ctx
	}
	return context.WithValue(ctx, clientCertKey{}, cc)
}

func (s *ClientCertSource) trusted(r *http.Request) bool {
	a, err := netip.ParseAddr(RemoteIP(r))
	if err != nil {
		return false
	}
	a = a.Unmap()
	return slices.ContainsFunc(s.Trusted, func(p netip.Prefix) bool { return p.Contains(a) })
}

// fromHeader decodes a URL-encoded PEM certificate (nginx
// $ssl_client_escaped_cert; Envoy and others send the same shape) or an
// RFC 9440 §2.2 Client-Cert value (a structured-field byte sequence:
// base64 DER between colons). nil when it is empty or does not parse.
func fromHeader(v string) *ClientCertificate {
	if v == "" || len(v) > maxCertHeader {
		return nil
	}
	if inner, ok := strings.CutPrefix(v, ":"); ok {
		inner, ok = strings.CutSuffix(inner, ":")
		der, err := base64.StdEncoding.DecodeString(inner)
		if !ok || err != nil {
			return nil
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil
		}
		return &ClientCertificate{Leaf: cert, ViaProxy: true}
	}
	// nginx escapes spaces as %20 and keeps nothing raw; other proxies
	// form-encode spaces as "+". A raw "+" of base64 survives only the
	// first reading, a "+" for a space only the second.
	var block *pem.Block
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		if dec, err := unescape(v); err == nil {
			if block, _ = pem.Decode([]byte(dec)); block != nil {
				break
			}
		}
	}
	if block == nil || block.Type != "CERTIFICATE" {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return &ClientCertificate{Leaf: cert, ViaProxy: true}
}

// PresentedCertificate returns the client certificate of the request
// whose context is ctx (nil when none was presented or the server
// middleware did not run).
func PresentedCertificate(ctx context.Context) *ClientCertificate {
	cc, _ := ctx.Value(clientCertKey{}).(*ClientCertificate)
	return cc
}

// RequestCertificate is PresentedCertificate of r's context.
func RequestCertificate(r *http.Request) *ClientCertificate {
	return PresentedCertificate(r.Context())
}

// X5TConfirmation is the confirmation method of certificate-bound tokens
// inside cnf (RFC 8705 §3.1).
const X5TConfirmation = "x5t#S256"

// BoundThumbprint returns the cnf.x5t#S256 of a token's claims ("" when
// the token is not certificate-bound).
func BoundThumbprint(claims map[string]any) string {
	cnf, _ := claims["cnf"].(map[string]any)
	t, _ := cnf[X5TConfirmation].(string)
	return t
}

// CheckCertificateBinding enforces a certificate-bound token at a
// protected resource (RFC 8705 §3): the request must come with the
// certificate whose thumbprint the token carries, or the token is
// refused as invalid_token (401). Unbound tokens pass.
func CheckCertificateBinding(ctx context.Context, claims map[string]any) error {
	want := BoundThumbprint(claims)
	if want == "" {
		return nil
	}
	got := PresentedCertificate(ctx).Thumbprint()
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return oauth2.NewError(oauth2.ErrInvalidToken, "the access token is bound to a TLS client certificate (RFC 8705 §3) that this request did not present")
	}
	return nil
}
