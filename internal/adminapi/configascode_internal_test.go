package adminapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/declarative"
)

// A failure of the real apply after validation passed keeps its status
// and member, and says that part of the apply may have been made.
func TestPartialApplyIsSaid(t *testing.T) {
	h := &Handler{}
	rec := httptest.NewRecorder()
	err := partialApply{&declarative.Error{Status: http.StatusConflict, Code: codeConflict, Errors: []adminclient.FieldError{
		{Field: "clients[a].name", Rule: "conflict", Message: "clients[a].name: taken"}}}}
	h.writeApplyError(rec, httptest.NewRequest(http.MethodPost, "/", nil), err)
	var body adminclient.APIError
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusConflict || !strings.HasPrefix(body.Description, partialNote) ||
		!strings.HasSuffix(body.Description, "clients[a].name: taken") || body.Errors[0].Field != "clients[a].name" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
