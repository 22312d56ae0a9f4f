package grants_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// FuzzTokenExchange: no subject or actor token, of any declared type,
// produces a 5xx or a panic, every refusal is an RFC 8693 §2.2.2 /
// RFC 6749 §5.2 error, and only a genuine token of ours is exchanged.
func FuzzTokenExchange(f *testing.F) {
	fx := newFixture(f, oauth2.AlgES256)
	fx.client(f, storage.Client{ID: "tx", Scopes: allScopes,
		GrantTypes: []string{oauth2.GrantClientCredentials, oauth2.GrantTokenExchange},
		TokenExchange: &storage.TokenExchangeSettings{SubjectTokenTypes: storage.SubjectTokenTypes,
			MayImpersonate: true, MayDelegate: true}})
	mux := http.NewServeMux()
	fx.handler.Mount(mux)
	rec := httptestPost(mux, "/w/acme/oauth2/token", url.Values{"grant_type": {oauth2.GrantClientCredentials}}, "tx", fx.secrets["tx"])
	var cc struct {
		AccessToken string `json:"access_token"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &cc) != nil {
		f.Fatalf("client_credentials: %d %s", rec.Code, rec.Body)
	}
	good := cc.AccessToken
	for _, s := range []string{good, good + "x", "a.b.c", "..", "", "lkrt_x", "lkat_x"} {
		for _, typ := range storage.SubjectTokenTypes {
			f.Add(s, typ, "", "")
			f.Add(good, storage.TokenTypeAccessToken, s, typ)
		}
	}
	allowed := map[string]bool{"invalid_request": true, "invalid_scope": true, "invalid_target": true, "unauthorized_client": true}
	f.Fuzz(func(t *testing.T, subject, subjectType, actor, actorType string) {
		form := url.Values{"grant_type": {oauth2.GrantTokenExchange}}
		for k, v := range map[string]string{"subject_token": subject, "subject_token_type": subjectType,
			"actor_token": actor, "actor_token_type": actorType} {
			if v != "" {
				form.Set(k, v)
			}
		}
		rec := httptestPost(mux, "/w/acme/oauth2/token", form, "tx", fx.secrets["tx"])
		var body struct {
			Error           string `json:"error"`
			IssuedTokenType string `json:"issued_token_type"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		switch {
		case rec.Code >= 500:
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		case rec.Code == http.StatusOK && subject != good:
			t.Fatalf("exchanged a forged subject token %q", subject)
		case rec.Code == http.StatusOK && body.IssuedTokenType == "":
			t.Fatalf("success without issued_token_type: %s", rec.Body)
		case rec.Code != http.StatusOK && !allowed[body.Error]:
			t.Fatalf("status %d error %q: %s", rec.Code, body.Error, rec.Body)
		}
	})
}
