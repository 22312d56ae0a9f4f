package admincmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// mtlsFlags are a client's mutual TLS settings (RFC 8705): the
// certificate subject of tls_client_auth (§2.1.2, exactly one) and
// certificate-bound access tokens (§3).
type mtlsFlags struct {
	subjectDN, sanDNS, sanURI, sanIP, sanEmail string
	bound                                      bool
}

func (mf *mtlsFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&mf.subjectDN, "tls-client-auth-subject-dn", "", "tls_client_auth: subject DN of the client certificate (RFC 4514, e.g. CN=app,O=Example)")
	f.StringVar(&mf.sanDNS, "tls-client-auth-san-dns", "", "tls_client_auth: DNS name in the certificate's subjectAltName")
	f.StringVar(&mf.sanURI, "tls-client-auth-san-uri", "", "tls_client_auth: URI in the certificate's subjectAltName")
	f.StringVar(&mf.sanIP, "tls-client-auth-san-ip", "", "tls_client_auth: IP address in the certificate's subjectAltName")
	f.StringVar(&mf.sanEmail, "tls-client-auth-san-email", "", "tls_client_auth: email address in the certificate's subjectAltName")
	f.BoolVar(&mf.bound, "tls-client-certificate-bound-access-tokens", false,
		"bind access tokens to the TLS client certificate (cnf.x5t#S256, RFC 8705 §3)")
}

func (mf *mtlsFlags) apply(cmd *cobra.Command, body *adminclient.OAuthClientRequest) {
	body.TLSClientAuthSubjectDN = ifChanged(cmd, "tls-client-auth-subject-dn", mf.subjectDN)
	body.TLSClientAuthSANDNS = ifChanged(cmd, "tls-client-auth-san-dns", mf.sanDNS)
	body.TLSClientAuthSANURI = ifChanged(cmd, "tls-client-auth-san-uri", mf.sanURI)
	body.TLSClientAuthSANIP = ifChanged(cmd, "tls-client-auth-san-ip", mf.sanIP)
	body.TLSClientAuthSANEmail = ifChanged(cmd, "tls-client-auth-san-email", mf.sanEmail)
	body.TLSClientCertificateBoundAccessTokens = ifChanged(cmd, "tls-client-certificate-bound-access-tokens", mf.bound)
}

// mtlsDetail prints the settings that are set.
func mtlsDetail(w io.Writer, c adminclient.OAuthClient) {
	kvSet(w,
		setting{"TLS subject DN", c.TLSClientAuthSubjectDN},
		setting{"TLS SAN DNS", c.TLSClientAuthSANDNS},
		setting{"TLS SAN URI", c.TLSClientAuthSANURI},
		setting{"TLS SAN IP", c.TLSClientAuthSANIP},
		setting{"TLS SAN email", c.TLSClientAuthSANEmail})
	kvYes(w, "Certificate-bound tokens", c.TLSClientCertificateBoundAccessTokens)
}

// setting is one optional string setting of a detail view.
type setting struct {
	label string
	v     *string
}

// kvSet prints, in order, the settings that are set and not empty.
func kvSet(w io.Writer, settings ...setting) {
	for _, p := range settings {
		if p.v != nil && *p.v != "" {
			kv(w, p.label, *p.v)
		}
	}
}

// kvYes prints "label: yes" when the switch is set and on.
func kvYes(w io.Writer, label string, on *bool) {
	if on != nil && *on {
		kv(w, label, "yes")
	}
}
