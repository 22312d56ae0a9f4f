package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// requireOpenSSL skips when this machine or build has no libcrypto 3; CI
// machines have it, so there the differential tests always run.
func requireOpenSSL(tb testing.TB) {
	tb.Helper()
	if _, err := loadOpenSSL(); err != nil {
		tb.Skipf("OpenSSL backend unavailable: %v", err)
	}
}

// pairOf returns two signers over one key: Go's and OpenSSL's.
func pairOf(t *testing.T, alg string) (goSigner, sslSigner *KeySigner) {
	t.Helper()
	priv, err := generatePrivate(alg)
	if err != nil {
		t.Fatal(err)
	}
	goSigner, err = newKeySignerOn(priv, alg, BackendGo)
	if err != nil {
		t.Fatal(err)
	}
	sslSigner, err = newKeySignerOn(priv, alg, BackendOpenSSL)
	if err != nil {
		t.Fatal(err)
	}
	if goSigner.Backend() != BackendGo || sslSigner.Backend() != BackendOpenSSL {
		t.Fatalf("backends = %s, %s", goSigner.Backend(), sslSigner.Backend())
	}
	return goSigner, sslSigner
}

// verifyWithGo checks a compact JWS with go-jose and Go's crypto only.
func verifyWithGo(t testing.TB, s *KeySigner, jws string, payload []byte) {
	t.Helper()
	obj, err := jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{s.alg})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	got, err := obj.Verify(s.priv.Public())
	if err != nil {
		t.Fatalf("%s signature from %s does not verify with Go: %v", s.alg, s.Backend(), err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("payload changed")
	}
}

// TestOpenSSLSignaturesVerifyWithGo: every algorithm's OpenSSL signatures
// verify with Go's verifier, and Go's with the same key, so the two
// backends are interchangeable on the wire.
func TestOpenSSLSignaturesVerifyWithGo(t *testing.T) {
	requireOpenSSL(t)
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			goSigner, sslSigner := pairOf(t, alg)
			for _, payload := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("claims"), 500)} {
				for _, s := range []*KeySigner{goSigner, sslSigner} {
					jws, err := s.Sign(payload, "at+jwt")
					if err != nil {
						t.Fatal(err)
					}
					verifyWithGo(t, s, jws, payload)
				}
			}
		})
	}
}

// TestOpenSSLDeterministicSignaturesAreIdentical: RSASSA-PKCS1-v1_5 and
// Ed25519 are deterministic, so both backends must produce the very same
// bytes (the JWS, header included).
func TestOpenSSLDeterministicSignaturesAreIdentical(t *testing.T) {
	requireOpenSSL(t)
	for _, alg := range []string{"RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			goSigner, sslSigner := pairOf(t, alg)
			payload := []byte(`{"iss":"https://issuer.example","sub":"x"}`)
			a, err := goSigner.Sign(payload, "JWT")
			if err != nil {
				t.Fatal(err)
			}
			b, err := sslSigner.Sign(payload, "JWT")
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Fatalf("%s signatures differ between backends:\n go      %s\n openssl %s", alg, a, b)
			}
		})
	}
}

func TestECDSADERToJOSERefusesMalformed(t *testing.T) {
	for name, der := range map[string][]byte{
		"empty":     {},
		"not a seq": {0x02, 0x01, 0x01},
		"trailing":  {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00},
		"zero r":    {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01},
		"too long":  append([]byte{0x30, 0x26, 0x02, 0x21, 0x01}, append(bytes.Repeat([]byte{0xff}, 32), 0x02, 0x01, 0x01)...),
	} {
		if _, err := ecdsaDERToJOSE(der, 32); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzOpenSSLSignVerify signs fuzzed payloads with OpenSSL and verifies
// each with Go; PKCS#1 v1.5 must also match Go's bytes.
func FuzzOpenSSLSignVerify(f *testing.F) {
	requireOpenSSL(f)
	f.Add([]byte(`{"sub":"a"}`), uint8(0))
	f.Add([]byte{}, uint8(1))
	f.Add(bytes.Repeat([]byte{0}, 300), uint8(2))
	keys := map[uint8][2]*KeySigner{}
	for i, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		priv, err := generatePrivate(alg)
		if err != nil {
			f.Fatal(err)
		}
		g, _ := newKeySignerOn(priv, alg, BackendGo)
		o, _ := newKeySignerOn(priv, alg, BackendOpenSSL)
		keys[uint8(i)] = [2]*KeySigner{g, o}
	}
	f.Fuzz(func(t *testing.T, payload []byte, which uint8) {
		pair := keys[which%4]
		jws, err := pair[1].Sign(payload, "JWT")
		if err != nil {
			t.Fatal(err)
		}
		verifyWithGo(t, pair[1], jws, payload)
		switch pair[1].priv.(type) {
		case *rsa.PrivateKey, ed25519.PrivateKey:
			if pair[1].alg == jose.RS256 || pair[1].alg == jose.EdDSA {
				if want, _ := pair[0].Sign(payload, "JWT"); want != jws {
					t.Fatal("deterministic signature differs from Go's")
				}
			}
		case *ecdsa.PrivateKey:
		}
	})
}

// BenchmarkRawSign reports each backend's raw signing cost, the
// denominator of every ratio in docs/benchmarks.md.
func BenchmarkRawSign(b *testing.B) {
	for _, alg := range []string{"RS256", "PS256", "ES256", "EdDSA"} {
		for _, backend := range []string{BackendGo, BackendOpenSSL} {
			b.Run(alg+"/"+backend, func(b *testing.B) {
				if backend == BackendOpenSSL {
					requireOpenSSL(b)
				}
				s, err := EphemeralSignerOn(alg, backend)
				if err != nil {
					b.Fatal(err)
				}
				payload := []byte(`{"aud":"https://api.example.com","client_id":"bench","exp":1900000000}`)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Sign(payload, "at+jwt"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestSelectBackendGo: choosing Go makes every new signer sign with Go,
// whatever the machine has; an unknown choice is refused.
func TestSelectBackendGo(t *testing.T) {
	prev := useOpenSSL.Load()
	t.Cleanup(func() { useOpenSSL.Store(prev) })
	name, _, err := SelectBackend(BackendGo)
	if err != nil || name != BackendGo || ActiveBackend() != BackendGo {
		t.Fatalf("SelectBackend(go) = %q, %v; active %q", name, err, ActiveBackend())
	}
	s, err := EphemeralSigner("RS256")
	if err != nil || s.Backend() != BackendGo {
		t.Fatalf("signer backend = %v, %v", s.Backend(), err)
	}
	if _, _, err := SelectBackend("boring"); err == nil {
		t.Fatal("unknown backend accepted")
	}
	if _, err := loadOpenSSL(); err == nil {
		name, detail, err := SelectBackend(BackendAuto)
		if err != nil || name != BackendOpenSSL || detail == "" {
			t.Fatalf("SelectBackend(auto) = %q, %q, %v", name, detail, err)
		}
		if s, _ := EphemeralSigner("EdDSA"); s.Backend() != BackendGo {
			t.Fatal("EdDSA left Go's crypto under auto")
		}
	}
}

// TestOpenSSLConcurrentSigning: one key signs from many goroutines at once
// (each signature copies the key's shared initialised context), and every
// signature verifies.
func TestOpenSSLConcurrentSigning(t *testing.T) {
	requireOpenSSL(t)
	for _, alg := range []string{"ES256", "PS256", "EdDSA"} {
		_, s := pairOf(t, alg)
		errs := make(chan error, 8)
		for g := range 8 {
			go func() {
				var err error
				for i := range 40 {
					payload := []byte{byte(g), byte(i)}
					var jws string
					if jws, err = s.Sign(payload, "JWT"); err != nil {
						break
					}
					var obj *jose.JSONWebSignature
					if obj, err = jose.ParseSignedCompact(jws, []jose.SignatureAlgorithm{s.alg}); err != nil {
						break
					}
					if _, err = obj.Verify(s.priv.Public()); err != nil {
						break
					}
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatalf("%s: %v", alg, err)
			}
		}
	}
}
