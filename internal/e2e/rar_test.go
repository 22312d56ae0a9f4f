package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
	e2eoidc "github.com/latchkey/latchkey/internal/e2e/oidc"
)

// rarCallback is the redirect URI of the test clients; nothing listens
// there, the browser stops at it.
const rarCallback = "https://rp.example.test/rar-cb"

// paymentSchema is the JSON Schema of the payment_initiation type of
// RFC 9396 §1 (its first example), as a bank would declare it.
const paymentSchema = `{
  "type": "object",
  "required": ["type", "instructedAmount", "creditorName", "creditorAccount"],
  "properties": {
    "type": {"const": "payment_initiation"},
    "actions": {"type": "array", "items": {"enum": ["initiate", "status", "cancel"]}},
    "locations": {"type": "array", "items": {"type": "string", "format": "uri"}},
    "instructedAmount": {
      "type": "object", "required": ["currency", "amount"], "additionalProperties": false,
      "properties": {"currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "amount": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"}}
    },
    "creditorName": {"type": "string", "maxLength": 140},
    "creditorAccount": {
      "type": "object", "required": ["iban"], "additionalProperties": false,
      "properties": {"iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"}}
    },
    "remittanceInformationUnstructured": {"type": "string", "maxLength": 140}
  },
  "additionalProperties": false
}`

// accountSchema is the account_information type of RFC 9396 §2.
const accountSchema = `{
  "type": "object", "required": ["type", "actions"],
  "properties": {
    "type": {"const": "account_information"},
    "actions": {"type": "array", "minItems": 1, "items": {"enum": ["list_accounts", "read_balances", "read_transactions"]}},
    "locations": {"type": "array", "items": {"type": "string"}}
  },
  "additionalProperties": false
}`

// The RFC 9396 §1 payment, and an account_information entry.
const (
	paymentDetail = `{"type":"payment_initiation","actions":["initiate","status","cancel"],` +
		`"locations":["https://example.com/payments"],"instructedAmount":{"currency":"EUR","amount":"123.50"},` +
		`"creditorName":"Merchant A","creditorAccount":{"iban":"DE02100100109307118603"},` +
		`"remittanceInformationUnstructured":"Ref Number Merchant"}`
	accountDetail = `{"type":"account_information","actions":["list_accounts","read_balances"],"locations":["https://example.com/accounts"]}`
)

// rarSetup declares the two services with their types.
func rarSetup(t *testing.T, lk *instance, ws string) {
	t.Helper()
	for _, s := range []struct{ id, identifier, scope, typ, desc, schema string }{
		{"payments", "https://payments.example", "payments:initiate", "payment_initiation", "Initiate a payment from your account", paymentSchema},
		{"accounts", "https://accounts.example", "accounts:read", "account_information", "Read your account information", accountSchema},
	} {
		lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/services", map[string]any{
			"id": s.id, "name": "Service " + s.id, "identifier": s.identifier,
			"scopes":                     []map[string]string{{"name": s.scope, "description": "e2e " + s.scope}},
			"authorization_detail_types": []map[string]any{{"type": s.typ, "description": s.desc, "schema": json.RawMessage(s.schema)}},
		}, http.StatusCreated, nil)
	}
}

// rarCodeClient is a confidential code-flow client with refresh tokens,
// allowed scopes.
func rarCodeClient(t *testing.T, lk *instance, ws string, scopes ...string) clientInfo {
	t.Helper()
	return lk.createClient(t, ws, map[string]any{
		"name": "e2e RAR code", "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"redirect_uris": []string{rarCallback}, "require_pkce": false, "scopes": scopes,
	})
}

// rarUser creates a user with a password.
func rarUser(t *testing.T, lk *instance, ws string) (name, password string) {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	name = "rar-" + strings.ToLower(e2etest.RandomToken(6))
	lk.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/users", map[string]any{"username": name, "email": name + "@example.com"},
		http.StatusCreated, &out)
	password = "correct horse battery " + e2etest.RandomToken(8)
	lk.leaks.Add(password)
	lk.adminOK(t, http.MethodPut, "/workspaces/"+ws+"/users/"+out.ID+"/password", map[string]any{"password": password},
		http.StatusNoContent, nil)
	return name, password
}

// codeQuery is an authorization request of c with the parameters extra.
func codeQuery(c clientInfo, extra url.Values) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {rarCallback}, "state": {"rar-state"}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

// rarAuthorize sends the authorization request q in browser b, signs in
// when asked and returns the consent page, or (without one) the code.
func rarAuthorize(t *testing.T, lk *instance, b *e2eoidc.Browser, ws, user, password string, q url.Values) (*e2eoidc.Page, string) {
	t.Helper()
	ctx := t.Context()
	p, err := b.Get(ctx, lk.wsURL(ws)+"/oauth2/authorize?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		switch {
		case p.IsRedirect():
			loc, err := p.Location()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(loc.String(), rarCallback) {
				if e := loc.Query().Get("error"); e != "" {
					t.Fatalf("authorization error %s: %s", e, loc.Query().Get("error_description"))
				}
				return nil, loc.Query().Get("code")
			}
			if p, err = b.Follow(ctx, p); err != nil {
				t.Fatal(err)
			}
		case p.HasForm("consent-form"):
			return p, ""
		case p.HasForm("login-form"):
			f, err := p.Form("login-form")
			if err != nil {
				t.Fatal(err)
			}
			_ = f.Set("username", user)
			_ = f.Set("password", password)
			if p, err = b.Submit(ctx, f, "login-submit"); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("authorization stopped at %s: %d\n%s", p.URL.Redacted(), p.Status, p.Body)
		}
	}
	t.Fatal("authorization did not finish")
	return nil, ""
}

// rarAllow submits the consent page and returns the code.
func rarAllow(t *testing.T, b *e2eoidc.Browser, consent *e2eoidc.Page) string {
	t.Helper()
	f, err := consent.Form("consent-form")
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Submit(t.Context(), f, "consent-allow")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := p.Location()
	if err != nil || !strings.HasPrefix(loc.String(), rarCallback) || loc.Query().Get("code") == "" {
		t.Fatalf("after consent: %d %v (%v)\n%s", p.Status, loc, err, p.Body)
	}
	return loc.Query().Get("code")
}

// consentDetails reads the authorization details the consent page shows:
// per type, its heading and its field names and values.
func consentDetails(t *testing.T, p *e2eoidc.Page) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, sec := range p.Elements(func(n *html.Node) bool { return e2eoidc.HasClass(n, "authorization-detail") }) {
		typ := e2eoidc.Attr(sec, "data-type")
		fields := map[string]string{}
		var dt string
		for n := range sec.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			switch n.Data {
			case "h2":
				fields["heading"] = e2eoidc.Text(n)
			case "dt":
				dt = e2eoidc.Text(n)
			case "dd":
				fields[dt] = e2eoidc.Text(n)
			}
		}
		out[typ] = fields
	}
	return out
}

// detailTypes decodes an authorization_details member into its entries'
// types, in order.
func detailTypes(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("authorization_details %v is not an array", v)
	}
	var out []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		s, _ := m["type"].(string)
		out = append(out, s)
	}
	return out
}

// sameDetails compares two authorization_details values as JSON.
func sameDetails(t *testing.T, got any, want string) bool {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}

// TestRichAuthorizationRequests proves RFC 9396 end to end on both stores:
// declared types with JSON Schemas (admin API, discovery §10), the code
// flow with the §1 payment (consent page in words, code, token response
// §7, access token §9.1, introspection §9.2), refresh narrowing and the
// refusal of widening (§6, §7), client_credentials with details, and
// invalid_authorization_details (§5, §8) at the authorization, PAR and
// token endpoints.
func TestRichAuthorizationRequests(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, lk *instance) {
		const ws = "default"
		rarSetup(t, lk, ws)
		svcPath := "/workspaces/" + ws + "/services"

		t.Run("service types: stored, validated at save", func(t *testing.T) {
			var svc struct {
				Types []struct {
					Type        string          `json:"type"`
					Description string          `json:"description"`
					Schema      json.RawMessage `json:"schema"`
				} `json:"authorization_detail_types"`
			}
			lk.adminOK(t, http.MethodGet, svcPath+"/payments", nil, http.StatusOK, &svc)
			if len(svc.Types) != 1 || svc.Types[0].Type != "payment_initiation" || !strings.Contains(string(svc.Types[0].Schema), "instructedAmount") {
				t.Fatalf("service types %+v", svc.Types)
			}
			for name, types := range map[string]any{
				"schema not a schema":    []map[string]any{{"type": "x_bad", "schema": map[string]any{"type": 12}}},
				"schema not an object":   []map[string]any{{"type": "x_bad", "schema": []int{1}}},
				"external $ref":          []map[string]any{{"type": "x_bad", "schema": map[string]any{"$ref": "file:///etc/passwd"}}},
				"bad type name":          []map[string]any{{"type": "has space", "schema": map[string]any{"type": "object"}}},
				"duplicate in a service": []map[string]any{{"type": "x_dup", "schema": map[string]any{}}, {"type": "x_dup", "schema": map[string]any{}}},
			} {
				r := lk.adminDo(t, http.MethodPatch, svcPath+"/accounts", map[string]any{"authorization_detail_types": types})
				if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), "authorization_detail_types[") {
					t.Errorf("%s: %d %s, want 400 naming the field", name, r.status, r.raw)
				}
			}
			r := lk.adminDo(t, http.MethodPost, svcPath, map[string]any{
				"id": "other", "name": "Other", "identifier": "https://other.example",
				"authorization_detail_types": []map[string]any{{"type": "payment_initiation", "schema": map[string]any{}}},
			})
			if r.status != http.StatusConflict {
				t.Errorf("a type another service declares: %d %s, want 409", r.status, r.raw)
			}
		})

		t.Run("discovery", func(t *testing.T) {
			r := lk.client.get(t, lk.wsURL(ws)+"/.well-known/openid-configuration")
			got, _ := r.json["authorization_details_types_supported"].([]any)
			if len(got) != 2 || got[0] != "account_information" || got[1] != "payment_initiation" {
				t.Fatalf("authorization_details_types_supported %v", r.json["authorization_details_types_supported"])
			}
		})

		c := rarCodeClient(t, lk, ws, "payments:initiate", "accounts:read")
		cred := basic{c.ClientID, c.ClientSecret}
		user, password := rarUser(t, lk, ws)
		b := e2eoidc.NewBrowser(nil)
		both := "[" + paymentDetail + "," + accountDetail + "]"
		var refresh string

		t.Run("code flow: consent in words, token, introspection", func(t *testing.T) {
			consent, _ := rarAuthorize(t, lk, b, ws, user, password, codeQuery(c, url.Values{
				"scope": {"openid offline_access payments:initiate accounts:read"}, "authorization_details": {both}}))
			if consent == nil {
				t.Fatal("no consent page for a request with authorization details")
			}
			shown := consentDetails(t, consent)
			pay := shown["payment_initiation"]
			for k, want := range map[string]string{
				"heading": "Initiate a payment from your account", "actions": "initiate, status, cancel",
				"instructedAmount.amount": "123.50", "instructedAmount.currency": "EUR", "creditorName": "Merchant A",
				"creditorAccount.iban": "DE02100100109307118603", "locations": "https://example.com/payments",
			} {
				if pay[k] != want {
					t.Errorf("consent page %s = %q, want %q (shown: %v)", k, pay[k], want, pay)
				}
			}
			if shown["account_information"]["heading"] != "Read your account information" {
				t.Errorf("consent page account_information: %v", shown["account_information"])
			}
			code := rarAllow(t, b, consent)
			r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{
				"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rarCallback}}, cred)
			if r.status != http.StatusOK {
				t.Fatalf("token: %d %s", r.status, r.raw)
			}
			lk.leaks.AddToken(r.str("access_token"))
			lk.leaks.AddToken(r.str("refresh_token"))
			refresh = r.str("refresh_token")
			if !sameDetails(t, r.json["authorization_details"], both) {
				t.Errorf("token response authorization_details %v, want the consented ones", r.json["authorization_details"])
			}
			at := jwtClaimSet(t, r.str("access_token"))
			if !sameDetails(t, at["authorization_details"], both) {
				t.Errorf("access token authorization_details %v", at["authorization_details"])
			}
			in := lk.introspect(t, ws, r.str("access_token"), cred)
			if !sameDetails(t, in.json["authorization_details"], both) {
				t.Errorf("introspection %s, want authorization_details", in.raw)
			}
		})

		t.Run("consent is asked again for new details", func(t *testing.T) {
			other := strings.Replace(paymentDetail, "123.50", "9999.00", 1)
			consent, _ := rarAuthorize(t, lk, b, ws, user, password, codeQuery(c, url.Values{
				"scope": {"payments:initiate"}, "authorization_details": {"[" + other + "]"}}))
			if consent == nil {
				t.Fatal("a new payment was covered by the earlier consent")
			}
			if got := consentDetails(t, consent)["payment_initiation"]["instructedAmount.amount"]; got != "9999.00" {
				t.Fatalf("consent page shows amount %q, want 9999.00", got)
			}
			// Without details, the remembered consent of the scopes holds.
			if consent, code := rarAuthorize(t, lk, b, ws, user, password, codeQuery(c, url.Values{"scope": {"payments:initiate"}})); consent != nil || code == "" {
				t.Fatalf("a request without details asked for consent again")
			}
		})

		t.Run("refresh narrows, never widens", func(t *testing.T) {
			if refresh == "" {
				t.Skip("no refresh token from the code flow")
			}
			tokenURL := lk.wsURL(ws) + "/oauth2/token"
			r := lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
				"authorization_details": {"[" + accountDetail + "]"}}, cred)
			if r.status != http.StatusOK {
				t.Fatalf("narrowing refresh: %d %s", r.status, r.raw)
			}
			lk.leaks.AddToken(r.str("access_token"))
			lk.leaks.AddToken(r.str("refresh_token"))
			if got := detailTypes(t, r.json["authorization_details"]); !slices.Equal(got, []string{"account_information"}) {
				t.Fatalf("narrowed response details %v", got)
			}
			if got := detailTypes(t, jwtClaimSet(t, r.str("access_token"))["authorization_details"]); !slices.Equal(got, []string{"account_information"}) {
				t.Fatalf("narrowed access token details %v", got)
			}
			refresh = r.str("refresh_token")
			widen := strings.Replace(paymentDetail, "123.50", "124.00", 1)
			for name, details := range map[string]string{
				"a larger amount":  "[" + widen + "]",
				"an extra action":  "[" + strings.Replace(accountDetail, `"read_balances"`, `"read_balances","read_transactions"`, 1) + "]",
				"not an array":     paymentDetail,
				"granted plus one": "[" + paymentDetail + "," + widen + "]",
			} {
				r := lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh},
					"authorization_details": {details}}, cred)
				if r.status != http.StatusBadRequest || r.str("error") != "invalid_authorization_details" || r.str("error_description") == "" {
					t.Errorf("%s: %d %s, want 400 invalid_authorization_details", name, r.status, r.raw)
				}
			}
			// The refused requests spent nothing: the full grant is still there.
			r = lk.client.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, cred)
			if r.status != http.StatusOK || !sameDetails(t, r.json["authorization_details"], both) {
				t.Fatalf("refresh without details: %d %s, want all granted details", r.status, r.raw)
			}
			lk.leaks.AddToken(r.str("access_token"))
			lk.leaks.AddToken(r.str("refresh_token"))
		})

		cc := lk.createClient(t, ws, map[string]any{
			"name": "e2e RAR machine", "grant_types": []string{"client_credentials"},
			"token_endpoint_auth_method": "client_secret_basic", "scopes": []string{"payments:initiate"},
		})
		ccCred := basic{cc.ClientID, cc.ClientSecret}

		t.Run("client_credentials", func(t *testing.T) {
			r := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
				"authorization_details": {"[" + paymentDetail + "]"}}, ccCred)
			if r.status != http.StatusOK {
				t.Fatalf("client_credentials: %d %s", r.status, r.raw)
			}
			lk.leaks.AddToken(r.str("access_token"))
			if !sameDetails(t, r.json["authorization_details"], "["+paymentDetail+"]") ||
				!sameDetails(t, jwtClaimSet(t, r.str("access_token"))["authorization_details"], "["+paymentDetail+"]") {
				t.Fatalf("client_credentials details: %s", r.raw)
			}
			in := lk.introspect(t, ws, r.str("access_token"), ccCred)
			if !sameDetails(t, in.json["authorization_details"], "["+paymentDetail+"]") {
				t.Fatalf("introspection %s", in.raw)
			}
			// An opaque token carries them too, seen through introspection.
			opaque := lk.createClient(t, ws, map[string]any{
				"name": "e2e RAR opaque", "grant_types": []string{"client_credentials"}, "access_token_format": "opaque",
				"token_endpoint_auth_method": "client_secret_basic", "scopes": []string{"payments:initiate"},
			})
			oCred := basic{opaque.ClientID, opaque.ClientSecret}
			r = lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
				"authorization_details": {"[" + paymentDetail + "]"}}, oCred)
			lk.leaks.AddToken(r.str("access_token"))
			if r.status != http.StatusOK || strings.Count(r.str("access_token"), ".") == 2 {
				t.Fatalf("opaque client_credentials: %d %s", r.status, r.raw)
			}
			if in := lk.introspect(t, ws, r.str("access_token"), oCred); !sameDetails(t, in.json["authorization_details"], "["+paymentDetail+"]") {
				t.Fatalf("introspection of an opaque token %s", in.raw)
			}
		})

		// The negatives of §5: each is invalid_authorization_details at the
		// authorization endpoint (redirected), at PAR and at the token
		// endpoint, with a description naming the entry.
		invalid := []struct{ name, details, mentions string }{
			{"unknown type", `[{"type":"crypto_transfer","amount":"1"}]`, "authorization_details[0].type"},
			{"schema violation", "[" + strings.Replace(paymentDetail, "123.50", "12x", 1) + "]", "instructedAmount/amount"},
			{"missing required field", `[{"type":"payment_initiation","creditorName":"Merchant A"}]`, "authorization_details[0]"},
			{"extra field", "[" + strings.Replace(paymentDetail, `"creditorName"`, `"debtor":"me","creditorName"`, 1) + "]", "authorization_details[0]"},
			{"not an array", paymentDetail, "JSON array"},
			{"not JSON", "payment please", "JSON array"},
			{"empty array", "[]", "must not be empty"},
			{"entry not an object", `["payment_initiation"]`, "authorization_details[0]"},
			{"type missing", `[{"actions":["initiate"]}]`, "authorization_details[0].type"},
			{"common field of the wrong shape", `[{"type":"payment_initiation","actions":"initiate"}]`, "authorization_details[0].actions"},
			{"service the client may not use", "[" + accountDetail + "]", "may not use"},
		}
		payClient := rarCodeClient(t, lk, ws, "payments:initiate")
		payCred := basic{payClient.ClientID, payClient.ClientSecret}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tc := range invalid {
			t.Run("invalid/"+tc.name, func(t *testing.T) {
				q := url.Values{"response_type": {"code"}, "client_id": {payClient.ClientID}, "redirect_uri": {rarCallback},
					"scope": {"payments:initiate"}, "state": {"st"}, "authorization_details": {tc.details}}
				resp, err := noRedirect.Get(lk.wsURL(ws) + "/oauth2/authorize?" + q.Encode())
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound || loc == nil ||
					!strings.HasPrefix(loc.String(), rarCallback) || loc.Query().Get("error") != "invalid_authorization_details" ||
					!strings.Contains(loc.Query().Get("error_description"), tc.mentions) || loc.Query().Get("state") != "st" {
					t.Errorf("authorize: %d Location %v, want a redirect with invalid_authorization_details mentioning %q",
						resp.StatusCode, loc, tc.mentions)
				}

				par := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/par", url.Values{"response_type": {"code"},
					"client_id": {payClient.ClientID}, "redirect_uri": {rarCallback}, "scope": {"payments:initiate"},
					"authorization_details": {tc.details}}, payCred)
				wantStatusCode(t, par, http.StatusBadRequest, "invalid_authorization_details")
				if d := par.str("error_description"); !strings.Contains(d, tc.mentions) {
					t.Errorf("PAR error_description %q, want it to mention %q", d, tc.mentions)
				}

				tok := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
					"authorization_details": {tc.details}}, ccCred)
				wantStatusCode(t, tok, http.StatusBadRequest, "invalid_authorization_details")
				if d := tok.str("error_description"); !strings.Contains(d, tc.mentions) {
					t.Errorf("token error_description %q, want it to mention %q", d, tc.mentions)
				}
			})
		}

		t.Run("request object with details as a JSON array (RFC 9396 §3, RFC 9101)", func(t *testing.T) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := json.Marshal(jose.JSONWebKey{Key: key.Public(), KeyID: "rar-1", Algorithm: "ES256", Use: "sig"})
			if err != nil {
				t.Fatal(err)
			}
			jar := lk.createClient(t, ws, map[string]any{
				"name": "e2e RAR JAR", "type": "confidential", "token_endpoint_auth_method": "client_secret_basic",
				"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
				"redirect_uris": []string{rarCallback}, "require_pkce": false, "scopes": []string{"payments:initiate"},
				"jwks": map[string]any{"keys": []json.RawMessage{pub}}, "request_object_signing_alg": "ES256",
			})
			signed := func(details string) string {
				now := lk.clock.Now()
				claims := map[string]any{"iss": jar.ClientID, "aud": lk.issuer(ws), "exp": now.Add(5 * time.Minute).Unix(),
					"nbf": now.Unix(), "iat": now.Unix(), "jti": e2etest.RandomToken(16), "response_type": "code",
					"client_id": jar.ClientID, "redirect_uri": rarCallback, "scope": "payments:initiate", "state": "rar-state",
					"authorization_details": json.RawMessage(details)}
				return signProof(t, key, jose.ES256, map[string]any{"typ": "oauth-authz-req+jwt", "kid": "rar-1"}, claims)
			}
			consent, _ := rarAuthorize(t, lk, b, ws, user, password, url.Values{"client_id": {jar.ClientID}, "request": {signed("[" + paymentDetail + "]")}})
			if consent == nil || consentDetails(t, consent)["payment_initiation"]["instructedAmount.amount"] != "123.50" {
				t.Fatal("the request object's details are not on the consent page")
			}
			q := url.Values{"client_id": {jar.ClientID}, "request": {signed(`[{"type":"payment_initiation","creditorName":7}]`)}}
			resp, err := noRedirect.Get(lk.wsURL(ws) + "/oauth2/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if loc == nil || loc.Query().Get("error") != "invalid_authorization_details" {
				t.Fatalf("invalid details in a request object: %d Location %v", resp.StatusCode, loc)
			}
		})

		t.Run("PAR carries valid details to the consent page", func(t *testing.T) {
			par := lk.client.postForm(t, lk.wsURL(ws)+"/oauth2/par", url.Values{"response_type": {"code"},
				"client_id": {c.ClientID}, "redirect_uri": {rarCallback}, "scope": {"payments:initiate"},
				"state": {"rar-state"}, "authorization_details": {"[" + paymentDetail + "]"}}, cred)
			if par.status != http.StatusCreated {
				t.Fatalf("PAR: %d %s", par.status, par.raw)
			}
			consent, _ := rarAuthorize(t, lk, b, ws, user, password, url.Values{"client_id": {c.ClientID}, "request_uri": {par.str("request_uri")}})
			if consent == nil || consentDetails(t, consent)["payment_initiation"]["creditorName"] != "Merchant A" {
				t.Fatal("the pushed request's details are not on the consent page")
			}
		})
	})
}
