package signing

import (
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// panickySigner is a jose.Signer whose Sign panics.
type panickySigner struct{}

func (panickySigner) Sign([]byte) (*jose.JSONWebSignature, error) { panic("boom") }
func (panickySigner) Options() jose.SignerOptions                 { return jose.SignerOptions{} }

// A signer that panics gives its admission slot back: after more panics
// than there are slots, signing still gets a slot at once.
func TestSignAdmissionSurvivesPanics(t *testing.T) {
	for range cap(signSlots) + 1 {
		func() {
			defer func() { _ = recover() }()
			_, _ = signAdmitted(panickySigner{}, []byte("{}"))
		}()
	}
	if n := len(signSlots); n != 0 {
		t.Fatalf("%d slots still taken after the panics", n)
	}
}
