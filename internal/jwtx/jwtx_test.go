package jwtx

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestParseRejects(t *testing.T) {
	testKeys(t)
	good := claimsJSON(t, goodClaims())
	big := strings.Repeat("a", 20<<10)
	tests := []struct {
		name, raw, want string
	}{
		{"A16 oversized", big + "." + big + "." + big, "token is too large"},
		{"A16 megabyte of dots", strings.Repeat(".", 1<<20), "token is too large"},
		{"A9 only dots", "...", "not a compact JWS"},
		{"A10 JWE five parts", "a.b.c.d.e", "not a compact JWS"},
		{"A9 JSON serialization", `{"payload":"x","signatures":[]}`, "not a compact JWS"},
		{"A12 padding", enc(hdr("RS256", "")) + "=." + enc(good) + ".c2ln", "not a compact JWS"},
		{"A12 std alphabet", "ab+/." + enc(good) + ".c2ln", "not a compact JWS"},
		{"A12 whitespace", enc(hdr("RS256", "")) + " ." + enc(good) + ".c2ln", "not a compact JWS"},
		{"A12 non-canonical base64", "eyJhbGciOiJSUzI1NiJ9." + enc(good) + ".c2l", "signature"},
		{"A1 none", craft(t, hdr("none", ""), good, nil), `algorithm "none" is not allowed`},
		{"A1 None", craft(t, hdr("None", ""), good, nil) + "c2ln", `algorithm "none" is not allowed`},
		{"A1 NONE", craft(t, hdr("NONE", ""), good, nil) + "c2ln", `algorithm "none" is not allowed`},
		{"A1 nOnE", craft(t, hdr("nOnE", ""), good, nil) + "c2ln", `algorithm "none" is not allowed`},
		{"A2 alg off list", craft(t, hdr("HS256", ""), good, []byte(strings.Repeat("k", 32))), `algorithm "HS256" is not allowed`},
		{"A2 alg case differs", craft(t, hdr("rs256", ""), good, rsaKey), `algorithm "rs256" is not allowed`},
		{"alg missing", craft(t, `{"typ":"JWT"}`, good, rsaKey), `"alg" is missing`},
		{"alg not a string", craft(t, `{"alg":["RS256"]}`, good, rsaKey), `"alg" must be a string`},
		{"A11 duplicate alg", craft(t, `{"alg":"RS256","alg":"none"}`, good, rsaKey), `duplicate member "alg"`},
		{"A11 duplicate nested header", craft(t, `{"alg":"RS256","x":{"a":1,"a":2}}`, good, rsaKey), `duplicate member "a"`},
		{"A11 duplicate aud", craft(t, hdr("RS256", ""), `{"aud":"a","sub":"x","aud":"b"}`, rsaKey), `duplicate member "aud"`},
		{"A11 duplicate sub", craft(t, hdr("RS256", ""), `{"sub":"a","sub":"b"}`, rsaKey), `duplicate member "sub"`},
		{"A11 duplicate in array object", craft(t, hdr("RS256", ""), `{"x":[{"k":1,"k":1}]}`, rsaKey), `duplicate member "k"`},
		{"A8 crit", craft(t, `{"alg":"ES256","crit":["exp-x"],"exp-x":1}`, good, ecKey), `"crit" is not allowed`},
		{"A6 jku", craft(t, hdr("RS256", `,"jku":"http://127.0.0.1:1/jwks"`), good, rsaKey), `"jku" is not allowed`},
		{"A6 x5u", craft(t, hdr("RS256", `,"x5u":"http://127.0.0.1:1/c"`), good, rsaKey), `"x5u" is not allowed`},
		{"A7 jwk", craft(t, hdr("RS256", `,"jwk":{"kty":"oct","k":"AA"}`), good, rsaKey), `"jwk" is not allowed`},
		{"A7 x5c", craft(t, hdr("RS256", `,"x5c":["MII"]`), good, rsaKey), `"x5c" is not allowed`},
		{"A10 enc header", craft(t, hdr("RS256", `,"enc":"A128GCM"`), good, rsaKey), `"enc" is not allowed`},
		{"header not object", craft(t, `["RS256"]`, good, rsaKey), "not a JSON object"},
		{"header trailing data", craft(t, hdr("RS256", "")+"{}", good, rsaKey), "trailing data"},
		{"claims not object", craft(t, hdr("RS256", ""), `"x"`, rsaKey), "not a JSON object"},
		{"claims invalid UTF-8", craft(t, hdr("RS256", ""), "{\"sub\":\"\xff\"}", rsaKey), "invalid UTF-8"},
		{"A17 exp string", craft(t, hdr("RS256", ""), `{"exp":"123"}`, rsaKey), `"exp" must be an integer`},
		{"R4 NUL in jti", craft(t, hdr("RS256", ""), `{"jti":"a\u0000b"}`, rsaKey), `claim "jti" contains a control character`},
		{"R4 control character in iss", craft(t, hdr("RS256", ""), `{"iss":"a\u001bb"}`, rsaKey), `claim "iss" contains a control character`},
		{"R4 NUL in sub", craft(t, hdr("RS256", ""), `{"sub":"\u0000"}`, rsaKey), `claim "sub" contains a control character`},
		{"A17 exp 1e308", craft(t, hdr("RS256", ""), `{"exp":1e308}`, rsaKey), `"exp" must be an integer`},
		{"A17 exp negative", craft(t, hdr("RS256", ""), `{"exp":-1}`, rsaKey), `"exp" must be an integer`},
		{"A17 exp huge", craft(t, hdr("RS256", ""), `{"exp":99999999999999}`, rsaKey), `"exp" must be an integer`},
		{"A17 iat fraction", craft(t, hdr("RS256", ""), `{"iat":1700000000.5}`, rsaKey), `"iat" must be an integer`},
		{"A17 nbf null", craft(t, hdr("RS256", ""), `{"nbf":null}`, rsaKey), `"nbf" must be an integer`},
		{"A17 aud object", craft(t, hdr("RS256", ""), `{"aud":{}}`, rsaKey), `"aud" must be a string or an array`},
		{"A17 aud array of numbers", craft(t, hdr("RS256", ""), `{"aud":[1]}`, rsaKey), `"aud" must be a string or an array`},
		{"A17 sub number", craft(t, hdr("RS256", ""), `{"sub":1}`, rsaKey), `"sub" must be a string`},
		{"A17 iss bool", craft(t, hdr("RS256", ""), `{"iss":true}`, rsaKey), `"iss" must be a string`},
		{"A17 jti array", craft(t, hdr("RS256", ""), `{"jti":["a"]}`, rsaKey), `"jti" must be a string`},
		{"kid number", craft(t, hdr("RS256", `,"kid":1`), good, rsaKey), `"kid" must be a string`},
		{"empty signature", enc(hdr("RS256", "")) + "." + enc(good) + ".", "signature is missing"},
		{"deep nesting", craft(t, hdr("RS256", ""), `{"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, rsaKey), "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.raw, asym, 0)
			if err == nil {
				t.Fatalf("Parse accepted %q: %+v", tc.name, tok)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	testKeys(t)
	raw := sign(t, jose.RS256, rsaKey, "k1", "client-authentication+jwt", goodClaims())
	tok, err := Parse(raw, asym, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.Claims
	if tok.Header.Alg != "RS256" || tok.Header.Kid != "k1" || tok.Header.Typ != "client-authentication+jwt" {
		t.Fatalf("header = %+v", tok.Header)
	}
	if c.Issuer != "client-1" || c.Subject != "client-1" || c.JTI != "jti-1" || len(c.Audience) != 1 {
		t.Fatalf("claims = %+v", c)
	}
	if !c.Expiry.Equal(testNow.Add(5*time.Minute)) || !c.IssuedAt.Equal(testNow) || c.NotBefore != nil {
		t.Fatalf("times = %v %v %v", c.Expiry, c.IssuedAt, c.NotBefore)
	}
	if tok.Verified() {
		t.Fatal("a parsed token must not count as verified")
	}
}

func TestParseCustomMaxSize(t *testing.T) {
	testKeys(t)
	raw := sign(t, jose.ES256, ecKey, "", "", goodClaims())
	if _, err := Parse(raw, asym, len(raw)-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := Parse(raw, asym, len(raw)); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	testKeys(t)
	claims := goodClaims()
	rsaJWK := pubJWK(rsaKey, "rsa", "RS256")
	ecJWK := pubJWK(ecKey, "ec", "ES256")
	edJWK := pubJWK(edKey, "ed", "EdDSA")
	tests := []struct {
		name string
		raw  string
		keys []jose.JSONWebKey
		want error // nil = success
	}{
		{"RS256 by kid", sign(t, jose.RS256, rsaKey, "rsa", "", claims), []jose.JSONWebKey{ecJWK, rsaJWK}, nil},
		{"PS256 without kid", sign(t, jose.PS256, rsaKey, "", "", claims), []jose.JSONWebKey{{Key: &rsaKey.PublicKey}}, nil},
		{"ES256 by kid", sign(t, jose.ES256, ecKey, "ec", "", claims), []jose.JSONWebKey{rsaJWK, ecJWK}, nil},
		{"EdDSA without kid", sign(t, jose.EdDSA, edKey, "", "", claims), []jose.JSONWebKey{rsaJWK, ecJWK, edJWK}, nil},
		{"private JWK is used by its public part", sign(t, jose.ES256, ecKey, "ec", "", claims), []jose.JSONWebKey{{Key: ecKey, KeyID: "ec"}}, nil},
		{"A4 unknown kid", sign(t, jose.RS256, rsaKey, "' OR '1'='1", "", claims), []jose.JSONWebKey{rsaJWK}, ErrNoMatchingKey},
		{"A4 kid with NUL", sign(t, jose.RS256, rsaKey, "rsa\x00", "", claims), []jose.JSONWebKey{rsaJWK}, ErrNoMatchingKey},
		{"A4 kid path", sign(t, jose.RS256, rsaKey, "../../etc/passwd", "", claims), []jose.JSONWebKey{rsaJWK}, ErrNoMatchingKey},
		{"B9 other key same kid", sign(t, jose.RS256, rsaKey2, "rsa", "", claims), []jose.JSONWebKey{rsaJWK}, ErrSignatureInvalid},
		{"A2 key alg mismatch", sign(t, jose.PS256, rsaKey, "rsa", "", claims), []jose.JSONWebKey{rsaJWK}, ErrAlgorithm},
		{"A2 EC key for RS alg", sign(t, jose.RS256, rsaKey, "ec", "", claims), []jose.JSONWebKey{{Key: &ecKey.PublicKey, KeyID: "ec"}}, ErrAlgorithm},
		{"no key of fitting type", sign(t, jose.EdDSA, edKey, "", "", claims), []jose.JSONWebKey{rsaJWK, ecJWK}, ErrNoMatchingKey},
		{"encryption key not used", sign(t, jose.RS256, rsaKey, "", "", claims), []jose.JSONWebKey{{Key: &rsaKey.PublicKey, Use: "enc"}}, ErrNoMatchingKey},
		{"empty key set", sign(t, jose.RS256, rsaKey, "", "", claims), nil, ErrNoMatchingKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.raw, asym, 0)
			if err != nil {
				t.Fatal(err)
			}
			err = tok.Verify(tc.keys)
			if tc.want == nil {
				if err != nil || !tok.Verified() {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || tok.Verified() {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyErrorTexts(t *testing.T) {
	testKeys(t)
	tok, err := Parse(sign(t, jose.RS256, rsaKey, "x", "", goodClaims()), asym, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify([]jose.JSONWebKey{pubJWK(rsaKey, "y", "")}); err == nil || err.Error() != `no key matches kid "x"` {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyTriesAtMostEightKeys: without kid, only the first 8 fitting keys
// are tried, so a huge key set cannot multiply verification work.
func TestVerifyTriesAtMostEightKeys(t *testing.T) {
	testKeys(t)
	var keys []jose.JSONWebKey
	for range 8 {
		keys = append(keys, jose.JSONWebKey{Key: &rsaKey2.PublicKey})
	}
	keys = append(keys, jose.JSONWebKey{Key: &rsaKey.PublicKey})
	tok, err := Parse(sign(t, jose.RS256, rsaKey, "", "", goodClaims()), asym, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(keys); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("ninth key was tried: %v", err)
	}
	if err := tok.Verify(keys[7:]); err != nil {
		t.Fatalf("Verify = %v", err)
	}
}

// TestA3PublicKeyAsHMACSecret: an attacker signs HS256 with the RSA public
// key bytes. Neither Verify (type binding) nor a key-set path may accept it.
func TestA3PublicKeyAsHMACSecret(t *testing.T) {
	testKeys(t)
	jwk := pubJWK(rsaKey, "rsa", "")
	pubJSON, err := jwk.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	nBytes := rsaKey.PublicKey.N.Bytes()
	for _, secret := range [][]byte{pubJSON, nBytes, []byte(base64.RawURLEncoding.EncodeToString(nBytes))} {
		raw := craft(t, hdr("HS256", `,"kid":"rsa"`), claimsJSON(t, goodClaims()), secret)
		tok, err := Parse(raw, []string{"RS256", "HS256"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.Verify([]jose.JSONWebKey{jwk}); err == nil {
			t.Fatal("public key accepted as HMAC key")
		}
		if err := tok.Validate(expected()); !errors.Is(err, ErrNotVerified) {
			t.Fatalf("Validate after failed Verify = %v", err)
		}
	}
}

func TestVerifyHMAC(t *testing.T) {
	testKeys(t)
	secret := []byte("0123456789abcdef0123456789abcdef0123456789a")
	hs := []string{"HS256", "HS384", "HS512"}
	raw := sign(t, jose.HS256, secret, "", "", goodClaims())
	tok, err := Parse(raw, hs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.VerifyHMAC([]byte("wrong-secret-wrong-secret-wrong-secret")); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := tok.VerifyHMAC(nil); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("empty secret: %v", err)
	}
	if err := tok.VerifyHMAC(secret); err != nil {
		t.Fatal(err)
	}
	if err := tok.Validate(expected()); err != nil {
		t.Fatal(err)
	}
	// Symmetric keys in a key set work for HMAC algs.
	tok2, _ := Parse(raw, hs, 0)
	if err := tok2.Verify([]jose.JSONWebKey{{Key: secret}}); err != nil {
		t.Fatal(err)
	}
	// An asymmetric token never goes through VerifyHMAC.
	tok3, _ := Parse(sign(t, jose.RS256, rsaKey, "", "", goodClaims()), asym, 0)
	if err := tok3.VerifyHMAC(secret); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("VerifyHMAC on RS256 = %v", err)
	}
}

func TestValidate(t *testing.T) {
	testKeys(t)
	mod := func(f func(m map[string]any)) map[string]any {
		m := goodClaims()
		f(m)
		return m
	}
	now := testNow.Unix()
	tests := []struct {
		name   string
		claims map[string]any
		typ    string
		exp    func(e *Expected)
		want   error
	}{
		{"ok", goodClaims(), "", nil, nil},
		{"ok typed client-authentication+jwt", goodClaims(), "client-authentication+jwt", nil, nil},
		{"B5 exp missing", mod(func(m map[string]any) { delete(m, "exp") }), "", nil, ErrNoExpiry},
		{"exp missing not required", mod(func(m map[string]any) { delete(m, "exp") }), "", func(e *Expected) { e.RequireExp = false }, nil},
		{"B5 expired 5 minutes ago", mod(func(m map[string]any) { m["exp"] = now - 300; m["iat"] = now - 400 }), "", nil, ErrExpired},
		{"expired within skew accepted", mod(func(m map[string]any) { m["exp"] = now - 30; m["iat"] = now - 90 }), "", nil, nil},
		{"B5 exp one year ahead", mod(func(m map[string]any) { m["exp"] = now + 365*86400 }), "", nil, ErrLifetimeTooLong},
		{"B5 exp-iat too long", mod(func(m map[string]any) { m["iat"] = now - 590; m["exp"] = now + 60 }), "", nil, ErrLifetimeTooLong},
		{"B6 nbf now+8 accepted", mod(func(m map[string]any) { m["nbf"] = now + 8; m["iat"] = now + 8 }), "", nil, nil},
		{"B6 nbf now+70 rejected", mod(func(m map[string]any) { m["nbf"] = now + 70; m["iat"] = now + 70; m["exp"] = now + 130 }), "", nil, ErrNotYetValid},
		{"B6 iat now+70 rejected", mod(func(m map[string]any) { m["iat"] = now + 70; m["exp"] = now + 130 }), "", nil, ErrIssuedInFuture},
		{"B1 iss other", mod(func(m map[string]any) { m["iss"] = "client-2" }), "", nil, ErrIssuerInvalid},
		{"B1 sub missing", mod(func(m map[string]any) { delete(m, "sub") }), "", nil, ErrSubjectInvalid},
		{"B1 sub differs", mod(func(m map[string]any) { m["sub"] = "client-2" }), "", nil, ErrSubjectInvalid},
		{"B4 aud other AS", mod(func(m map[string]any) { m["aud"] = "https://other.example" }), "", nil, ErrAudienceInvalid},
		{"aud missing", mod(func(m map[string]any) { delete(m, "aud") }), "", nil, ErrAudienceInvalid},
		{"aud empty string", mod(func(m map[string]any) { m["aud"] = "" }), "", func(e *Expected) { e.Audiences = []string{"x", ""} }, ErrAudienceInvalid},
		{"aud array with issuer compat", mod(func(m map[string]any) { m["aud"] = []string{"https://as.example/w/default", "https://evil"} }), "", nil, nil},
		{"B4 aud array strict", mod(func(m map[string]any) { m["aud"] = []string{"https://as.example/w/default"} }), "", func(e *Expected) { e.AudienceSingleString = true }, ErrAudienceInvalid},
		{"B4 aud string strict", goodClaims(), "", func(e *Expected) { e.AudienceSingleString = true }, nil},
		{"B7 jti missing", mod(func(m map[string]any) { delete(m, "jti") }), "", nil, ErrNoJTI},
		{"A14 at+jwt", goodClaims(), "at+jwt", nil, ErrTypeRejected},
		{"A14 application/AT+JWT", goodClaims(), "application/AT+JWT", nil, ErrTypeRejected},
		{"A14 dpop+jwt", goodClaims(), "dpop+jwt", nil, ErrTypeRejected},
		{"A14 request object", goodClaims(), "oauth-authz-req+jwt", nil, ErrTypeRejected},
		{"A14 logout token", goodClaims(), "logout+jwt", nil, ErrTypeRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(sign(t, jose.ES256, ecKey, "ec", tc.typ, tc.claims), asym, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := tok.Verify([]jose.JSONWebKey{pubJWK(ecKey, "ec", "ES256")}); err != nil {
				t.Fatal(err)
			}
			e := expected()
			if tc.exp != nil {
				tc.exp(&e)
			}
			err = tok.Validate(e)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestA13ExpiredAndBadSignature: an expired token with a bad signature fails
// on the signature, and Validate refuses to run on it, so no caller can read
// "only expired" as "authentic"; an expired, well-signed token fails too.
func TestA13ExpiredAndBadSignature(t *testing.T) {
	testKeys(t)
	expired := goodClaims()
	expired["exp"] = testNow.Add(-time.Hour).Unix()
	expired["iat"] = testNow.Add(-time.Hour - time.Minute).Unix()
	keys := []jose.JSONWebKey{pubJWK(rsaKey, "rsa", "RS256")}

	forged, _ := Parse(sign(t, jose.RS256, rsaKey2, "rsa", "", expired), asym, 0)
	if err := forged.Verify(keys); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("bad signature: Verify = %v", err)
	}
	if err := forged.Validate(expected()); !errors.Is(err, ErrNotVerified) || errors.Is(err, ErrExpired) {
		t.Fatalf("bad signature: Validate = %v", err)
	}

	genuine, _ := Parse(sign(t, jose.RS256, rsaKey, "rsa", "", expired), asym, 0)
	if err := genuine.Verify(keys); err != nil {
		t.Fatal(err)
	}
	if err := genuine.Validate(expected()); !errors.Is(err, ErrExpired) || err.Error() != "assertion expired" {
		t.Fatalf("good signature: Validate = %v", err)
	}
}

// TestTamperedPayload: flipping the claims after signing breaks the signature.
func TestTamperedPayload(t *testing.T) {
	testKeys(t)
	raw := sign(t, jose.ES256, ecKey, "", "", goodClaims())
	parts := strings.Split(raw, ".")
	m := goodClaims()
	m["sub"] = "admin"
	parts[1] = enc(claimsJSON(t, m))
	tok, err := Parse(strings.Join(parts, "."), asym, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify([]jose.JSONWebKey{pubJWK(ecKey, "", "")}); !errors.Is(err, ErrSignatureInvalid) {
		t.Fatalf("Verify = %v", err)
	}
}

func TestCheckJSONObject(t *testing.T) {
	for in, ok := range map[string]bool{
		`{}`: true, ` {"a":1} `: true, `{"a":{"a":{"a":[1,{"a":2}]}}}`: true, `{"a":1,"A":2}`: true,
		`{"a":1,"a":1}`: false, `{"a":[{"b":1},{"b":1,"b":2}]}`: false, `[]`: false, `{"a":1}{}`: false,
		`{"a":}`: false, ``: false, `{"a":1`: false, `null`: false,
	} {
		if err := CheckJSONObject([]byte(in)); (err == nil) != ok {
			t.Errorf("CheckJSONObject(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

// TestA15WeakRSAKeyNotUsed: a 1024-bit RSA key is never a verification key.
func TestA15WeakRSAKeyNotUsed(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(sign(t, jose.RS256, weak, "", "", goodClaims()), asym, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify([]jose.JSONWebKey{{Key: &weak.PublicKey}}); !errors.Is(err, ErrNoMatchingKey) {
		t.Fatalf("Verify with 1024-bit key = %v", err)
	}
}
