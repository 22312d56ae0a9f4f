package tokens

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/signing"
)

const issuer = "http://127.0.0.1:8080/w/default"

var (
	now     = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	signers sync.Map // alg → *signing.KeySigner (RSA generation is slow)
)

func signerFor(t testing.TB, alg string) *signing.KeySigner {
	t.Helper()
	if s, ok := signers.Load(alg); ok {
		return s.(*signing.KeySigner)
	}
	s, err := signing.EphemeralSigner(alg)
	if err != nil {
		t.Fatal(err)
	}
	signers.Store(alg, s)
	return s
}

func jwks(signers ...*signing.KeySigner) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, s := range signers {
		set.Keys = append(set.Keys, s.Public())
	}
	return set
}

func sample() AccessToken {
	return AccessToken{
		Issuer: issuer, Subject: "svc", ClientID: "svc", Scope: "read write", JTI: NewJTI(),
		Audience: []string{"https://api.example.com"},
		IssuedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

func mint(t *testing.T, s signing.Signer, at AccessToken) string {
	t.Helper()
	tok, err := Mint(s, at)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func decodePart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRoundTripEachAlg(t *testing.T) {
	for _, alg := range oauth2.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			s := signerFor(t, alg)
			in := sample()
			in.Extra = map[string]any{"roles": []any{"admin"}, "tenant": "acme"}
			tok := mint(t, s, in)

			h := decodePart(t, tok, 0)
			if h["typ"] != "at+jwt" || h["alg"] != alg || h["kid"] != s.KID() {
				t.Fatalf("header = %v", h)
			}
			c := decodePart(t, tok, 1)
			if c["aud"] != "https://api.example.com" {
				t.Fatalf("single audience not a string: %v", c["aud"])
			}
			if c["iat"] != float64(now.Unix()) || c["exp"] != float64(now.Add(time.Hour).Unix()) {
				t.Fatalf("times = %v %v", c["iat"], c["exp"])
			}

			out, err := Verify(tok, jwks(s), issuer, now.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
			}
		})
	}
}

func TestMintClaimsShape(t *testing.T) {
	s := signerFor(t, oauth2.AlgEdDSA)
	in := sample()
	in.Scope = ""
	in.Audience = []string{"https://a", "https://b"}
	c := decodePart(t, mint(t, s, in), 1)
	if _, ok := c["scope"]; ok {
		t.Fatal("empty scope not omitted")
	}
	if aud, ok := c["aud"].([]any); !ok || len(aud) != 2 {
		t.Fatalf("two audiences not an array: %v", c["aud"])
	}
	want := []string{"iss", "sub", "aud", "client_id", "jti", "iat", "exp"}
	for _, k := range want {
		if _, ok := c[k]; !ok {
			t.Fatalf("claim %s missing (RFC 9068 §2.2)", k)
		}
	}
	if len(c) != len(want) {
		t.Fatalf("unexpected claims: %v", c)
	}
	in.Audience = []string{"https://x?a=<b>&c"}
	c = decodePart(t, mint(t, s, in), 1)
	if c["aud"] != "https://x?a=<b>&c" {
		t.Fatalf("audience mangled: %v", c["aud"])
	}
}

func TestMintRejectsInvalidContent(t *testing.T) {
	s := signerFor(t, oauth2.AlgEdDSA)
	cases := map[string]func(*AccessToken){
		"NoIssuer":          func(a *AccessToken) { a.Issuer = "" },
		"NoSubject":         func(a *AccessToken) { a.Subject = "" },
		"NoClientID":        func(a *AccessToken) { a.ClientID = "" },
		"NoJTI":             func(a *AccessToken) { a.JTI = "" },
		"NoAudience_Q5":     func(a *AccessToken) { a.Audience = nil },
		"EmptyAudience":     func(a *AccessToken) { a.Audience = []string{"x", ""} },
		"NoIssuedAt":        func(a *AccessToken) { a.IssuedAt = time.Time{} },
		"ExpBeforeIat":      func(a *AccessToken) { a.ExpiresAt = a.IssuedAt },
		"ExtraOverridesIss": func(a *AccessToken) { a.Extra = map[string]any{"iss": "evil"} },
		"ExtraOverridesExp": func(a *AccessToken) { a.Extra = map[string]any{"exp": 1} },
		"ExtraNotJSON":      func(a *AccessToken) { a.Extra = map[string]any{"f": func() {}} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			at := sample()
			mutate(&at)
			if _, err := Mint(s, at); !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Mint = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// signRaw signs an arbitrary payload with s, as an attacker holding no key
// cannot but a buggy minter could: it exercises Verify's claim checks.
func signRaw(t *testing.T, s signing.Signer, payload, typ string) string {
	t.Helper()
	tok, err := s.Sign([]byte(payload), typ)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func hs256(t *testing.T, secret []byte, kid, payload string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid)
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := obj.CompactSerialize()
	return tok
}

func TestVerifyRejects(t *testing.T) {
	rs := signerFor(t, oauth2.AlgRS256)
	es := signerFor(t, oauth2.AlgES256)
	keys := jwks(rs, es)
	good := mint(t, rs, sample())
	parts := strings.Split(good, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	okClaims := string(claims)
	pubDER, _ := x509.MarshalPKIXPublicKey(rs.Public().Key)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	withClaims := func(repl ...string) string {
		return signRaw(t, rs, strings.NewReplacer(repl...).Replace(okClaims), "at+jwt")
	}
	other := signerFor(t, oauth2.AlgPS256)
	wrongAlgKeys := jwks(es)
	wrongAlgKeys.Keys[0].KeyID = rs.KID() // an EC key under the RSA key's kid
	dupKeys := jwks(rs, rs)
	b64 := base64.RawURLEncoding.EncodeToString

	cases := []struct {
		name string
		tok  string
		keys jose.JSONWebKeySet
		iss  string
		at   time.Time
		want error
	}{
		{"WrongIssuer", good, keys, "http://127.0.0.1:8080/w/other", now, ErrIssuer},
		{"ExpiredAtExp", good, keys, issuer, now.Add(time.Hour), ErrExpired},
		{"ExpiredLater", good, keys, issuer, now.Add(48 * time.Hour), ErrExpired},
		{"WrongTyp_JWT_A14", signRaw(t, rs, okClaims, "JWT"), keys, issuer, now, ErrType},
		{"NoTyp", signRaw(t, rs, okClaims, ""), keys, issuer, now, ErrType},
		{"DPoPTyp_A14", signRaw(t, rs, okClaims, "dpop+jwt"), keys, issuer, now, ErrType},
		{"UnknownKid", mint(t, other, sample()), keys, issuer, now, ErrUnknownKey},
		{"KidOfOtherAlgKey_A2", good, wrongAlgKeys, issuer, now, ErrUnknownKey},
		{"DuplicateKid_P5", good, dupKeys, issuer, now, ErrUnknownKey},
		{"TamperedPayload", parts[0] + "." + b64([]byte(strings.Replace(okClaims, `"svc"`, `"adm"`, 1))) + "." + parts[2], keys, issuer, now, ErrSignature},
		{"TamperedSignature", parts[0] + "." + parts[1] + "." + b64(make([]byte, 256)), keys, issuer, now, ErrSignature},
		{"ExpiredAndBadSignature_A13", parts[0] + "." + parts[1] + "." + b64(make([]byte, 256)), keys, issuer, now.Add(48 * time.Hour), ErrSignature},
		{"SignatureFromOtherToken", parts[0] + "." + parts[1] + "." + strings.Split(mint(t, rs, sample()), ".")[2], keys, issuer, now, ErrSignature},
		{"AlgConfusion_HS256_PEM_A3", hs256(t, pubPEM, rs.KID(), okClaims), keys, issuer, now, ErrMalformed},
		{"AlgConfusion_HS256_DER_A3", hs256(t, pubDER, rs.KID(), okClaims), keys, issuer, now, ErrMalformed},
		{"AlgNone_A1", b64([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+rs.KID()+`"}`)) + "." + parts[1] + ".", keys, issuer, now, ErrMalformed},
		{"Oversized_A16", strings.Repeat("a", MaxTokenSize+1), keys, issuer, now, ErrMalformed},
		{"ManyDots_A16", strings.Repeat(".", 100000), keys, issuer, now, ErrMalformed},
		{"FourDots_JWE_A10", "a.b.c.d.e", keys, issuer, now, ErrMalformed},
		{"JSONSerialization_A9", `{"payload":"` + parts[1] + `","signatures":[]}`, keys, issuer, now, ErrMalformed},
		{"Padding_A12", good + "=", keys, issuer, now, ErrMalformed},
		{"Empty", "", keys, issuer, now, ErrMalformed},
		{"NoExp", withClaims(`,"exp":`+itoa(now.Add(time.Hour).Unix()), ``), keys, issuer, now, ErrClaims},
		{"ExpString_A17", withClaims(`"exp":`+itoa(now.Add(time.Hour).Unix()), `"exp":"`+itoa(now.Add(time.Hour).Unix())+`"`), keys, issuer, now, ErrClaims},
		{"ExpHuge_A17", withClaims(`"exp":`+itoa(now.Add(time.Hour).Unix()), `"exp":1e308`), keys, issuer, now, ErrClaims},
		{"ExpNegative_A17", withClaims(`"exp":`+itoa(now.Add(time.Hour).Unix()), `"exp":-1`), keys, issuer, now, ErrClaims},
		{"AudObject_A17", withClaims(`"aud":"https://api.example.com"`, `"aud":{}`), keys, issuer, now, ErrClaims},
		{"AudEmptyArray", withClaims(`"aud":"https://api.example.com"`, `"aud":[]`), keys, issuer, now, ErrClaims},
		{"NoSub", withClaims(`"sub":"svc",`, ``), keys, issuer, now, ErrClaims},
		{"IssNumber", withClaims(`"iss":"`+issuer+`"`, `"iss":1`), keys, issuer, now, ErrClaims},
		{"IatFarFuture", withClaims(`"iat":`+itoa(now.Unix()), `"iat":`+itoa(now.Add(time.Hour).Unix())), keys, issuer, now.Add(-time.Hour), ErrNotYetValid},
		{"NbfFuture", withClaims(`"iat":`, `"nbf":`+itoa(now.Add(10*time.Minute).Unix())+`,"iat":`), keys, issuer, now, ErrNotYetValid},
		{"ClaimsNotObject", signRaw(t, rs, `[1,2]`, "at+jwt"), keys, issuer, now, ErrClaims},
		{"ClaimsNull", signRaw(t, rs, `null`, "at+jwt"), keys, issuer, now, ErrClaims},
		{"NoKeys", good, jose.JSONWebKeySet{}, issuer, now, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, err := Verify(tc.tok, tc.keys, tc.iss, tc.at)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(at, AccessToken{}) {
				t.Fatal("content returned with an error")
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestVerifyAcceptsMediaTypeForm(t *testing.T) {
	s := signerFor(t, oauth2.AlgES256)
	c := decodePart(t, mint(t, s, sample()), 1)
	payload, _ := json.Marshal(c)
	for _, typ := range []string{"application/at+jwt", "AT+JWT"} {
		if _, err := Verify(signRaw(t, s, string(payload), typ), jwks(s), issuer, now); err != nil {
			t.Fatalf("typ %q: %v", typ, err)
		}
	}
}

func TestVerifyIgnoresKeysWithoutAlg(t *testing.T) {
	s := signerFor(t, oauth2.AlgEdDSA)
	keys := jwks(s)
	keys.Keys[0].Algorithm, keys.Keys[0].Use = "", ""
	if _, err := Verify(mint(t, s, sample()), keys, issuer, now); err != nil {
		t.Fatal(err)
	}
}

func TestNewJTI(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		j := NewJTI()
		raw, err := base64.RawURLEncoding.DecodeString(j)
		if err != nil || len(raw) != 16 {
			t.Fatalf("jti %q is not 128 bits of base64url", j)
		}
		if seen[j] {
			t.Fatal("duplicate jti")
		}
		seen[j] = true
	}
}

func FuzzVerify(f *testing.F) {
	s, err := signing.EphemeralSigner(oauth2.AlgES256)
	if err != nil {
		f.Fatal(err)
	}
	at := sample()
	tok, err := Mint(s, at)
	if err != nil {
		f.Fatal(err)
	}
	keys := jwks(s)
	f.Add(tok)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Repeat(".", 10))
	f.Add(`eyJhbGciOiJub25lIn0.e30.`)
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := Verify(raw, keys, issuer, now)
		if err == nil && (got.Issuer != issuer || got.ExpiresAt.Before(now)) {
			t.Fatalf("accepted invalid token %q", raw)
		}
	})
}
