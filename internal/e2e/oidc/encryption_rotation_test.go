package oidc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestRequestObjectEncryptionKeyRotation: docs/security.md T12a on
// SQLite and PostgreSQL. Rotating the workspace's request object
// encryption key publishes a new key first in the JWKS and keeps the old
// one published and decrypting; a request object encrypted to either
// key is accepted (with or without kid). The active key cannot be
// removed (409); once the previous key is removed it leaves the JWKS and
// a request object encrypted to it is refused with
// invalid_request_object and a description that says why. Both changes
// are in the audit log, and the workspace export carries no encryption
// key.
func TestRequestObjectEncryptionKeyRotation(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testEncryptionKeyRotation(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testEncryptionKeyRotation(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

// TestRequestObjectEncryptionKeyRotationTwoProcesses: two servers on one
// PostgreSQL database. Server B has the encryption key in memory; a
// rotation and a removal made through server A reach B through the
// change feed within seconds (not after B's one-minute key cache):
// B publishes the new key first, decrypts request objects encrypted to
// it, and refuses the removed key.
func TestRequestObjectEncryptionKeyRotationTwoProcesses(t *testing.T) {
	a := newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})
	srvB := e2etest.StartServer(t, a.cfg, a.clock.Now, a.logs)
	t.Cleanup(func() { srvB.Stop(t) })
	b := *a
	b.base, b.issuer = srvB.BaseURL, srvB.BaseURL+"/w/"+testWS
	key := newRPKey(t, jose.ES256, "rot2-es")
	off := false
	jar := a.createClient(t, testWS, clientSpec{ID: "jar-rotation-2", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(key.jwk("sig"))}})
	old := b.encKeys(t) // B loads and caches the key
	if len(old) != 1 {
		t.Fatalf("B publishes %v", kids(old))
	}
	keysPath := "/workspaces/" + testWS + "/encryption-keys"
	rotated := a.adminEncKeys(t, http.MethodPost, keysPath+"/rotate")
	newKID, _, _ := strings.Cut(rotated[0], ":")
	waitForEncKeys(t, &b, newKID, old[0].KeyID)
	current := b.encKeys(t)[0]

	authorizeAtB := func(t *testing.T, to jose.JSONWebKey) flowResult {
		t.Helper()
		inner := authParams(jar)
		signed := key.sign(t, b.requestClaims(jar, inner), "oauth-authz-req+jwt")
		enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: to.Key, KeyID: to.KeyID},
			(&jose.EncrypterOptions{}).WithContentType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		o, err := enc.Encrypt([]byte(signed))
		if err != nil {
			t.Fatal(err)
		}
		request, _ := o.CompactSerialize()
		br := b.browser()
		return b.drive(t, br, b.authorize(t, br, url.Values{"client_id": {jar.ID}, "request": {request}}), rpRedirect, flowOpts{user: &b.user})
	}
	t.Run("B decrypts to the new key", func(t *testing.T) {
		res := authorizeAtB(t, current)
		if res.Params.Get("code") == "" {
			t.Fatalf("B refused a request object encrypted to the new key: %v", res.Params)
		}
		b.secrets.Add(res.Params.Get("code"))
	})
	a.adminDo(t, http.MethodDelete, keysPath+"/"+old[0].KeyID, nil, http.StatusNoContent, nil)
	waitForEncKeys(t, &b, newKID, "")
	t.Run("B refuses the removed key", func(t *testing.T) {
		res := authorizeAtB(t, old[0])
		if res.Params.Get("error") != "invalid_request_object" || !strings.Contains(res.Params.Get("error_description"), "does not publish") {
			t.Fatalf("B answered %v, want invalid_request_object for the removed key", res.Params)
		}
	})
}

// waitForEncKeys polls e's JWKS until its encryption keys are first,
// then second ("" = none), within five seconds (the change feed polls
// every 500 ms; the key cache would otherwise keep the old set a
// minute).
func waitForEncKeys(t *testing.T, e *env, first, second string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := kids(e.encKeys(t))
		want := []string{first}
		if second != "" {
			want = append(want, second)
		}
		if strings.Join(got, " ") == strings.Join(want, " ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s publishes encryption keys %v, want %v", e.base, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// encKeys returns the "use": "enc" keys of the workspace JWKS, in order.
func (e *env) encKeys(t *testing.T) []jose.JSONWebKey {
	t.Helper()
	var set jose.JSONWebKeySet
	if r := e.get(t, e.issuer+"/oauth2/jwks", nil); r.status != http.StatusOK || json.Unmarshal(r.raw, &set) != nil {
		t.Fatalf("jwks: %d %s", r.status, r.raw)
	}
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.Use == "enc" {
			out = append(out, k)
		}
	}
	return out
}

// adminEncKeys lists the encryption keys through the admin API as
// "kid:state" strings.
func (e *env) adminEncKeys(t *testing.T, method, path string) []string {
	t.Helper()
	var out struct {
		Items []struct {
			KID   string `json:"kid"`
			State string `json:"state"`
			Alg   string `json:"alg"`
		} `json:"items"`
	}
	e.adminDo(t, method, path, nil, http.StatusOK, &out)
	var got []string
	for _, k := range out.Items {
		got = append(got, k.KID+":"+k.State)
	}
	return got
}

func testEncryptionKeyRotation(t *testing.T, e *env) {
	key := newRPKey(t, jose.ES256, "rot-es")
	off := false
	jar := e.createClient(t, testWS, clientSpec{ID: "jar-rotation", AuthMethod: "private_key_jwt", RedirectURIs: []string{rpRedirect},
		RequirePKCE: &off, Extra: map[string]any{"jwks": jwks(key.jwk("sig"))}})
	keysPath := "/workspaces/" + testWS + "/encryption-keys"

	before := e.encKeys(t)
	if len(before) != 1 {
		t.Fatalf("JWKS before rotation has %d encryption keys, want 1", len(before))
	}
	old := before[0]
	if got := e.adminEncKeys(t, http.MethodGet, keysPath); len(got) != 1 || got[0] != old.KeyID+":active" {
		t.Fatalf("admin list before rotation %v, want the published key active", got)
	}
	rotated := e.adminEncKeys(t, http.MethodPost, keysPath+"/rotate")
	after := e.encKeys(t)
	if len(after) != 2 || after[1].KeyID != old.KeyID || after[0].KeyID == old.KeyID || after[0].Algorithm != "RSA-OAEP-256" {
		t.Fatalf("JWKS after rotation %v, want a new key first and the old one second", kids(after))
	}
	current := after[0]
	if len(rotated) != 2 || rotated[0] != current.KeyID+":active" || rotated[1] != old.KeyID+":previous" {
		t.Fatalf("rotation answered %v, want the new key active and %s previous", rotated, old.KeyID)
	}

	encrypt := func(to jose.JSONWebKey, kid string) (string, string) {
		inner := authParams(jar)
		signed := key.sign(t, e.requestClaims(jar, inner), "oauth-authz-req+jwt")
		enc, err := jose.NewEncrypter(jose.A128CBC_HS256, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: to.Key, KeyID: kid},
			(&jose.EncrypterOptions{}).WithContentType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		o, err := enc.Encrypt([]byte(signed))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := o.CompactSerialize()
		return s, inner.Get("state")
	}
	accepted := func(t *testing.T, to jose.JSONWebKey, kid string) {
		t.Helper()
		request, state := encrypt(to, kid)
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {request}}), rpRedirect, flowOpts{user: &e.user})
		e.requireCode(t, res, state)
		e.secrets.Add(res.Params.Get("code"))
	}
	refused := func(t *testing.T, request, description string) {
		t.Helper()
		b := e.browser()
		res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {jar.ID}, "request": {request}}), rpRedirect, flowOpts{noUI: true})
		e.requireRedirectError(t, res, "", "invalid_request_object")
		if d := res.Params.Get("error_description"); !strings.Contains(d, description) {
			t.Errorf("error_description %q, want it to say %q", d, description)
		}
	}

	t.Run("old key still decrypts", func(t *testing.T) { accepted(t, old, old.KeyID) })
	t.Run("old key without kid", func(t *testing.T) { accepted(t, old, "") })
	t.Run("new key", func(t *testing.T) { accepted(t, current, current.KeyID) })
	// Encrypted before the removal, presented after it: what a client
	// with a stale JWKS cache sends.
	staleKID, _ := encrypt(old, old.KeyID)
	staleNoKID, _ := encrypt(old, "")

	t.Run("the active key cannot be removed", func(t *testing.T) {
		r := e.adminRaw(t, http.MethodDelete, keysPath+"/"+current.KeyID, nil)
		if r.status != http.StatusConflict {
			t.Fatalf("DELETE active key: %d %s, want 409", r.status, r.raw)
		}
	})
	e.adminDo(t, http.MethodDelete, keysPath+"/"+old.KeyID, nil, http.StatusNoContent, nil)
	if r := e.adminRaw(t, http.MethodDelete, keysPath+"/"+old.KeyID, nil); r.status != http.StatusNotFound {
		t.Fatalf("DELETE removed key again: %d %s, want 404", r.status, r.raw)
	}
	if now := e.encKeys(t); len(now) != 1 || now[0].KeyID != current.KeyID {
		t.Fatalf("JWKS after removal %v, want only %s", kids(now), current.KeyID)
	}
	t.Run("removed key refused (kid)", func(t *testing.T) { refused(t, staleKID, "does not publish") })
	t.Run("removed key refused (no kid)", func(t *testing.T) { refused(t, staleNoKID, "could not be decrypted") })
	t.Run("new key after removal", func(t *testing.T) { accepted(t, current, current.KeyID) })

	t.Run("audit", func(t *testing.T) {
		r := e.adminRaw(t, http.MethodGet, "/workspaces/"+testWS+"/audit", nil)
		for _, want := range []string{`"encryption_keys.rotate"`, `"encryption_keys.remove"`} {
			if !strings.Contains(string(r.raw), want) {
				t.Errorf("audit log lacks %s: %.600s", want, r.raw)
			}
		}
	})
	t.Run("export carries no encryption key", func(t *testing.T) {
		r := e.adminRaw(t, http.MethodGet, "/workspaces/"+testWS+"/export", nil)
		if r.status != http.StatusOK {
			t.Fatalf("export: %d %s", r.status, r.raw)
		}
		if strings.Contains(string(r.raw), current.KeyID) || strings.Contains(string(r.raw), old.KeyID) {
			t.Fatalf("the export names an encryption key: %.600s", r.raw)
		}
	})
}

func kids(keys []jose.JSONWebKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.KeyID
	}
	return out
}
