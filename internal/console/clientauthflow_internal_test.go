package console

import (
	"testing"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestAuthFlowViewFAPINote: the OAuth tab explains the profile's refresh
// token rule (FAPI 2.0 SP §5.3.2.1 item 9, docs/fapi.md) only on a
// workspace under the profile.
func TestAuthFlowViewFAPINote(t *testing.T) {
	cl := storage.Client{ID: "c"}
	for profile, want := range map[string]bool{fapi.ProfileNone: false, fapi.ProfileSecurity: true, fapi.ProfileMessageSigning: true} {
		ws := storage.Workspace{ID: "w", Settings: storage.WorkspaceSettings{FAPIProfile: profile, SigningAlg: "ES256"}}
		if got := newAuthFlowView(ws, cl).FAPI; got != want {
			t.Errorf("profile %q: FAPI = %v, want %v", profile, got, want)
		}
	}
}
