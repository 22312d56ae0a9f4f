package authorize

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const testBaseURL = "https://as.example"

var testNow = time.Unix(1_800_000_000, 0)

// parStore holds one workspace and its clients; the request-object errors
// under test happen before anything else of the store is used.
type parStore struct {
	RequestStore
	ws      storage.Workspace
	clients map[string]storage.Client
}

func (s *parStore) GetWorkspace(_ context.Context, id string) (storage.Workspace, error) {
	if id != s.ws.ID {
		return storage.Workspace{}, storage.ErrNotFound
	}
	return s.ws, nil
}

func (s *parStore) GetClient(_ context.Context, _, id string) (storage.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return storage.Client{}, storage.ErrNotFound
	}
	return c, nil
}

// assertionAuth authenticates every push as client, the way a
// private_key_jwt assertion names its client without a client_id
// parameter (RFC 7523 §3, RFC 9126 §3).
type assertionAuth struct{ client storage.Client }

func (a assertionAuth) Authenticate(context.Context, clientauth.Request, string) (clientauth.Result, error) {
	return clientauth.Result{Client: a.client, Method: "private_key_jwt"}, nil
}

// noKeys is a key source these tests never reach: every request object
// below is refused before its signature is checked.
type noKeys struct{}

func (noKeys) VerifyClientSigned(context.Context, storage.Client, *jwtx.Token) error {
	return errors.New("no keys in this test")
}

func (noKeys) ClientKeys(context.Context, storage.Client) ([]jose.JSONWebKey, error) {
	return nil, errors.New("no keys in this test")
}

func parHandler() *Handler {
	client := storage.Client{ID: "app", WorkspaceID: "acme", Enabled: true, RedirectURIs: []string{"https://app.example/cb"}}
	other := storage.Client{ID: "other", WorkspaceID: "acme", Enabled: true, RedirectURIs: []string{"https://other.example/cb"}}
	return &Handler{
		Store: &parStore{
			ws:      storage.Workspace{ID: "acme", Enabled: true},
			clients: map[string]storage.Client{client.ID: client, other.ID: other},
		},
		BaseURL: testBaseURL, Now: func() time.Time { return testNow },
		Auth: assertionAuth{client}, ClientKeys: noKeys{},
	}
}

// requestObject signs claims (the usual ones of a request object of
// client "app", with changes: a nil value removes the claim) with key
// under alg.
func requestObject(t *testing.T, alg jose.SignatureAlgorithm, key any, changes map[string]any) string {
	t.Helper()
	claims := map[string]any{
		"iss": "app", "aud": testBaseURL + "/w/acme", "client_id": "app", "response_type": "code",
		"redirect_uri": "https://app.example/cb", "scope": "openid", "jti": "j1",
		"exp": testNow.Add(time.Minute).Unix(), "nbf": testNow.Unix(),
	}
	for k, v := range changes {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	if alg == "none" {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wantDescription checks a refusal's code and that its description is
// wire-safe (RFC 6749 §5.2 characters), has every word of want and none
// of not.
func wantDescription(t *testing.T, e *oauth2.Error, code oauth2.ErrorCode, want []string, not string) {
	t.Helper()
	if e == nil || e.Code != code {
		t.Fatalf("error = %v, want %s", e, code)
	}
	for i := 0; i < len(e.Description); i++ {
		if c := e.Description[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			t.Fatalf("description %q is not wire-safe", e.Description)
		}
	}
	for _, w := range want {
		if !strings.Contains(e.Description, w) {
			t.Errorf("description %q does not contain %q", e.Description, w)
		}
	}
	if not != "" && strings.Contains(e.Description, not) {
		t.Errorf("description %q contains %q", e.Description, not)
	}
}

type objectCase struct {
	name     string
	clientID string // the client_id parameter; "" sends none
	object   string
	code     oauth2.ErrorCode
	want     []string
	not      string
}

func objectCases(t *testing.T) []objectCase {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	secret := []byte(strings.Repeat("s", 64))
	algs := strings.Join(oauth2.RequestObjectSigningAlgs, ", ")
	return []objectCase{
		{"HS256 signed", "app", requestObject(t, jose.HS256, secret, nil), ErrInvalidRequestObject,
			[]string{"signed with HS256", "symmetric", "not accepted", algs}, "unsigned"},
		{"HS512 signed", "app", requestObject(t, jose.HS512, secret, nil), ErrInvalidRequestObject,
			[]string{"signed with HS512", "symmetric", algs}, "unsigned"},
		{"alg none", "app", requestObject(t, "none", nil, nil), ErrInvalidRequestObject,
			[]string{"unsigned", algs}, "symmetric"},
		{"ES512 signed", "app", requestObject(t, jose.ES512, ec521, nil), ErrInvalidRequestObject,
			[]string{"signing algorithm is not accepted", "ES512", algs}, "unsigned"},
		{"no client_id claim", "app", requestObject(t, jose.ES256, ec, map[string]any{"client_id": nil}), ErrInvalidRequestObject,
			[]string{"client_id is required", "RFC 9101", "RFC 6749"}, "client_id parameter"},
		{"null client_id claim", "app", requestObject(t, jose.ES256, ec, map[string]any{"client_id": json.RawMessage("null")}), ErrInvalidRequestObject,
			[]string{"client_id is required"}, "client_id parameter"},
		{"another client's object", "app", requestObject(t, jose.ES256, ec, map[string]any{"client_id": "other"}), ErrInvalidRequestObject,
			[]string{"client_id must be the client_id parameter"}, "required"},
	}
}

// TestPARRequestObjectDescriptions: a request object refused at the PAR
// endpoint (RFC 9126 §3, RFC 9101) gets a description of what is wrong
// with it, including when the client authenticates with an assertion and
// sends no client_id parameter.
func TestPARRequestObjectDescriptions(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	secret := []byte(strings.Repeat("s", 32))
	cases := append(objectCases(t),
		objectCase{"HS256 signed without client_id parameter", "", requestObject(t, jose.HS256, secret, nil), ErrInvalidRequestObject,
			[]string{"signed with HS256", "symmetric", strings.Join(oauth2.RequestObjectSigningAlgs, ", ")}, "unsigned"},
		objectCase{"no client_id parameter nor claim", "", requestObject(t, jose.ES256, ec, map[string]any{"client_id": nil}), ErrInvalidRequestObject,
			[]string{"client_id is required", "RFC 9101", "RFC 6749"}, "client_id parameter"},
		objectCase{"no client_id parameter, another client's object", "", requestObject(t, jose.ES256, ec, map[string]any{"client_id": "other"}), ErrInvalidRequestObject,
			[]string{"client_id is not the authenticated client"}, "client_id parameter"},
	)
	mux := http.NewServeMux()
	parHandler().Mount(mux)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{
				"request":               {c.object},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {"assertion"},
			}
			if c.clientID != "" {
				form.Set("client_id", c.clientID)
			}
			r := httptest.NewRequest(http.MethodPost, "/w/acme"+PAREndpoint, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", w.Code, w.Body)
			}
			var body struct {
				Error       oauth2.ErrorCode `json:"error"`
				Description string           `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			wantDescription(t, &oauth2.Error{Code: body.Error, Description: body.Description}, c.code, c.want, c.not)
		})
	}
}

// TestAuthorizeRequestObjectDescriptions: the authorization endpoint
// describes the same request objects in the same words, and a request
// object without a client_id parameter is told that client_id is required
// (RFC 9101 §5).
func TestAuthorizeRequestObjectDescriptions(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cases := append(objectCases(t),
		objectCase{"no client_id parameter", "", requestObject(t, jose.ES256, ec, nil), oauth2.ErrInvalidRequest,
			[]string{"client_id is required", "RFC 9101", "RFC 6749"}, ""},
	)
	h := parHandler()
	f := &flow{ws: storage.Workspace{ID: "acme", Enabled: true}, issuer: testBaseURL + "/w/acme"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := url.Values{"request": {c.object}}
			if c.clientID != "" {
				p.Set("client_id", c.clientID)
			}
			_, err := h.validate(context.Background(), f, p)
			var pe errPage
			e := oauth2.AsError(err)
			if errors.As(err, &pe) {
				e = pe.e
			}
			wantDescription(t, e, c.code, c.want, c.not)
		})
	}
}
