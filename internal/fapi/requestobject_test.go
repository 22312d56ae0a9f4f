package fapi

import (
	"errors"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// TestCheckRequestObjectNotBefore: MS §5.3.1 item 3, nbf required under
// Message Signing only.
func TestCheckRequestObjectNotBefore(t *testing.T) {
	cases := []struct {
		name    string
		profile string
		nbf     bool
		refused bool
	}{
		{"MS without nbf", ProfileMessageSigning, false, true},
		{"MS with nbf", ProfileMessageSigning, true, false},
		{"SP without nbf", ProfileSecurity, false, false},
		{"off without nbf", ProfileNone, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckRequestObjectNotBefore(ws(tc.profile, "ES256"), tc.nbf)
			var oe *oauth2.Error
			switch {
			case !tc.refused && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused && (!errors.As(err, &oe) || oe.Code != errInvalidRequestObject):
				t.Fatalf("got %v, want invalid_request_object", err)
			}
		})
	}
}
