package signing

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// goJoseCompact is the compact JWS go-jose makes of payload with the
// options Sign uses: the serialization Sign replaced.
func goJoseCompact(t *testing.T, s *KeySigner, payload []byte, typ string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), s.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSignMatchesGoJose: Sign's own compact serialization (RFC 7515 §7.1)
// carries the same header and payload bytes as go-jose's, its signature
// verifies with go-jose and Go's crypto, and where the algorithm is
// deterministic (PKCS#1 v1.5, Ed25519) the whole token is byte-identical,
// on every backend, for every typ in use and for none.
func TestSignMatchesGoJose(t *testing.T) {
	backends := []string{BackendGo}
	if _, err := loadOpenSSL(); err == nil {
		backends = append(backends, BackendOpenSSL)
	}
	payloads := [][]byte{{}, []byte(`{"a":"<&>"}`), bytes.Repeat([]byte("claims"), 300)}
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		priv, err := generatePrivate(alg)
		if err != nil {
			t.Fatal(err)
		}
		for _, backend := range backends {
			s, err := newKeySignerOn(priv, alg, backend)
			if err != nil {
				t.Fatal(err)
			}
			for _, typ := range []string{"at+jwt", "JWT", ""} {
				for _, payload := range payloads {
					got, err := s.Sign(payload, typ)
					if err != nil {
						t.Fatal(err)
					}
					want := goJoseCompact(t, s, payload, typ)
					gp, wp := strings.Split(got, "."), strings.Split(want, ".")
					if len(gp) != 3 || gp[0] != wp[0] || gp[1] != wp[1] {
						t.Fatalf("%s/%s typ %q: header or payload differs:\n got %s\nwant %s", alg, backend, typ, got, want)
					}
					if (alg == "RS256" || alg == "EdDSA") && got != want {
						t.Fatalf("%s/%s: deterministic signature differs from go-jose's", alg, backend)
					}
					verifyWithGo(t, s, got, payload)
				}
			}
		}
	}
}

// TestSignRejectsTamperedToken: a token Sign made no longer verifies once
// one byte of its signing input changes, so the test above cannot pass
// with a signature over something else.
func TestSignRejectsTamperedToken(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		s, err := EphemeralSigner(alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign([]byte(`{"sub":"a"}`), "at+jwt")
		if err != nil {
			t.Fatal(err)
		}
		tampered := strings.Replace(tok, ".eyJzdWIiOiJhIn0.", ".eyJzdWIiOiJiIn0.", 1)
		if tampered == tok {
			t.Fatal("payload segment not found")
		}
		obj, err := jose.ParseSignedCompact(tampered, []jose.SignatureAlgorithm{s.alg})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := obj.Verify(s.priv.Public()); err == nil {
			t.Fatalf("%s: tampered token verifies", alg)
		}
	}
}
