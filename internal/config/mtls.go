package config

import (
	"crypto/x509"
	"errors"
	"net/netip"
	"net/url"
	"os"
	"strings"
)

// ClientCertProxy is a TLS-terminating proxy that passes the client
// certificate of mutual TLS (RFC 8705) in a request header. The header is
// believed only from the Trusted addresses; from anyone else it is
// ignored, or a client could claim any certificate.
type ClientCertProxy struct {
	Header  string
	Trusted []netip.Prefix
}

// resolveMTLS reads the mutual TLS settings (RFC 8705): the client CA
// bundle must parse, the proxy header needs trusted addresses (and they
// need the header), and the mTLS base URL is an absolute https URL.
func resolveMTLS(l *loader, r *Resolved) {
	t := l.file.TLS
	r.TLS.ClientCAFile = strings.TrimSpace(t.ClientCAFile)
	if f := r.TLS.ClientCAFile; f != "" && readable(l, "tls.client_ca_file", f) {
		if _, err := LoadClientCAs(f); err != nil {
			l.fail("tls.client_ca_file", "%v", err)
		}
	}
	if u := strings.TrimRight(strings.TrimSpace(t.MTLSBaseURL), "/"); u != "" {
		p, err := url.Parse(u)
		if err != nil || p.Scheme != "https" || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			l.fail("tls.mtls_base_url", "must be an absolute https URL without query or fragment")
		}
		r.TLS.MTLSBaseURL = u
	}
	header := strings.TrimSpace(t.ClientCertHeader)
	var trusted []netip.Prefix
	for _, s := range t.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				l.fail("tls.trusted_proxies", "%q is neither an IP address nor a CIDR range", s)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		trusted = append(trusted, p.Masked())
	}
	switch {
	case header != "" && len(trusted) == 0:
		l.fail("tls.trusted_proxies", "required when tls.client_cert_header is set: the header is believed only from these addresses")
	case header == "" && len(trusted) > 0:
		l.fail("tls.client_cert_header", "required when tls.trusted_proxies is set")
	case header != "":
		r.TLS.Proxy = &ClientCertProxy{Header: header, Trusted: trusted}
	}
	if r.TLS.MTLSBaseURL != "" && !r.TLS.Enabled() && header == "" {
		l.fail("tls.mtls_base_url", "requires tls.cert_file or tls.client_cert_header: otherwise no client certificate reaches the server")
	}
}

// LoadClientCAs reads a PEM bundle of CA certificates.
func LoadClientCAs(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errNoCertificates
	}
	return pool, nil
}

var errNoCertificates = errors.New("holds no PEM certificates")
