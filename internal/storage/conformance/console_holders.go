package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// testOneTimeCodeHolders checks that a code may belong to an admin API
// token (a holder that is not a console user, so "View secret" works from
// the API and the CLI too) and that deleting a console user deletes its
// codes.
func testOneTimeCodeHolders(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	api := storage.OneTimeCodeKey{AdminUserID: "api:tok1", WorkspaceID: "acme", ClientID: "c1"}
	putCode(t, s, api, "right", 5, at(10*time.Minute))
	_, err := s.ConsumeOneTimeCode(ctx, api, []byte("right"), at(time.Minute))
	must(t, err)

	createAdminUser(t, s, "au1", "alice")
	user := storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "acme", ClientID: "c1"}
	putCode(t, s, user, "right", 5, at(10*time.Minute))
	must(t, s.DeleteAdminUser(ctx, "au1"))
	createAdminUser(t, s, "au1", "alice")
	_, err = s.ConsumeOneTimeCode(ctx, user, []byte("right"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "code of a deleted user")
}
