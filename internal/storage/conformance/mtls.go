package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testCertificateBindings: a token family's certificate binding (RFC 8705
// §4, x5t#S256) and a client's mutual TLS metadata (§2.1.2, §3.4) survive
// the storage round trip, the family's through redemption and refresh
// rotation.
func testCertificateBindings(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	const x5t = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"
	must(t, s.CreateAuthCode(ctx, newCode("ws", "code1", "f1", time.Minute)))
	fam := newFamily("ws", "f1")
	fam.CertThumbprint = x5t
	must(t, s.RedeemAuthCode(ctx, "ws", hashOf("code1"), at(time.Second), fam, hashOf("rt1")))
	res, err := s.RotateRefreshToken(ctx, storage.RefreshRotation{WorkspaceID: "ws", Hash: hashOf("rt1"), NewHash: hashOf("rt2"), Now: at(time.Minute)})
	must(t, err)
	got, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt2"))
	must(t, err)
	if res.Family.CertThumbprint != x5t || got.CertThumbprint != x5t {
		t.Fatalf("family binding after rotation %q / %q, want %q", res.Family.CertThumbprint, got.CertThumbprint, x5t)
	}
	must(t, s.CreateTokenFamily(ctx, newFamily("ws", "f2"), hashOf("rt3")))
	if f, err := s.GetTokenFamily(ctx, "ws", "f2"); err != nil || f.CertThumbprint != "" {
		t.Fatalf("unbound family: %+v, %v", f, err)
	}

	c, err := s.GetClient(ctx, "ws", "c1")
	must(t, err)
	c.TokenEndpointAuthMethod = "tls_client_auth"
	c.TLSClientAuthSANURI = "spiffe://example.org/app"
	c.TLSClientCertificateBoundAccessTokens = true
	_, err = s.UpdateClient(ctx, "ws", "c1", func(storage.Client) (storage.Client, error) { return c, nil })
	must(t, err)
	back, err := s.GetClient(ctx, "ws", "c1")
	must(t, err)
	if back.TLSClientAuthSANURI != c.TLSClientAuthSANURI || !back.TLSClientCertificateBoundAccessTokens {
		t.Fatalf("client mutual TLS metadata after round trip: %+v", back)
	}
}
