package signing

import (
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// panickySigner is a jose.OpaqueSigner whose SignPayload panics.
type panickySigner struct{}

func (panickySigner) Public() *jose.JSONWebKey                                    { return nil }
func (panickySigner) Algs() []jose.SignatureAlgorithm                             { return []jose.SignatureAlgorithm{jose.ES256} }
func (panickySigner) SignPayload([]byte, jose.SignatureAlgorithm) ([]byte, error) { panic("boom") }

// A signer that panics gives its admission slot back: after more panics
// than there are slots, signing still gets a slot at once.
func TestSignAdmissionSurvivesPanics(t *testing.T) {
	s := &KeySigner{alg: jose.ES256, key: panickySigner{}}
	for range cap(signSlots) + 1 {
		func() {
			defer func() { _ = recover() }()
			_, _ = s.signAdmitted([]byte("{}"))
		}()
	}
	if n := len(signSlots); n != 0 {
		t.Fatalf("%d slots still taken after the panics", n)
	}
}
