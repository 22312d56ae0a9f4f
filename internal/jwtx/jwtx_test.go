package jwtx

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestParseRejects runs every structural failure of Parse and asserts the
// exact public description (what a client sees as error_description), the
// sentinel, and that the detail (token content) reaches only Error(), the
// text callers log.
func TestParseRejects(t *testing.T) {
	testKeys(t)
	good := claimsJSON(t, goodClaims())
	big := strings.Repeat("a", 20<<10)
	const (
		notCompact = "token is not a compact JWS (three base64url parts separated by dots)"
		algNone    = "algorithm 'none' is not allowed: the token must be signed"
		dupHeader  = "header has the same member name twice"
		dupClaims  = "claim set has the same member name twice"
	)
	numericDate := func(name string) string {
		return "claim '" + name + "' must be an integer NumericDate (seconds since 1970, not negative, not quoted)"
	}
	tests := []struct {
		name, raw string
		kind      error
		desc      string // exact public description
		log       string // in Error() only ("" = not checked)
	}{
		// Size (A16).
		{"A16 oversized", big + "." + big + "." + big, ErrTooLarge, "token is larger than 16384 bytes", "61442 bytes"},
		{"A16 megabyte of dots", strings.Repeat(".", 1<<20), ErrTooLarge, "token is larger than 16384 bytes", ""},
		// Segments and alphabet (A9, A10, A12).
		{"A9 only dots", "...", ErrMalformed, notCompact, "3 dots instead of 2"},
		{"A10 JWE five parts", "a.b.c.d.e", ErrMalformed, notCompact, "4 dots"},
		{"A9 JSON serialization", `{"payload":"x","signatures":[]}`, ErrMalformed, notCompact, "byte 0x7b at offset 0"},
		{"A12 padding", enc(hdr("RS256", "")) + "=." + enc(good) + ".c2ln", ErrMalformed, notCompact, "byte 0x3d"},
		{"A12 std alphabet", "ab+/." + enc(good) + ".c2ln", ErrMalformed, notCompact, "byte 0x2b at offset 2"},
		{"A12 whitespace", enc(hdr("RS256", "")) + " ." + enc(good) + ".c2ln", ErrMalformed, notCompact, "byte 0x20"},
		// Base64url of each part (A12).
		{"A12 header not base64url", "e." + enc(good) + ".c2ln", ErrMalformed, "header is not unpadded base64url", "illegal base64 data"},
		{"A12 claims not base64url", enc(hdr("RS256", "")) + ".e.c2ln", ErrMalformed, "claim set is not unpadded base64url", "illegal base64 data"},
		{"A12 non-canonical signature", enc(hdr("RS256", "")) + "." + enc(good) + ".c2l", ErrMalformed, "signature is not unpadded base64url", "illegal base64 data"},
		{"empty signature", enc(hdr("RS256", "")) + "." + enc(good) + ".", ErrMalformed, "signature is missing", ""},
		// JSON syntax.
		{"header not object", craft(t, `["RS256"]`, good, rsaKey), ErrMalformed, "header is not a JSON object", ": not a JSON object"},
		{"header invalid JSON", craft(t, `{"alg":RS256}`, good, rsaKey), ErrMalformed, "header is not a JSON object", "invalid JSON: invalid character"},
		{"header trailing data", craft(t, hdr("RS256", "")+"{}", good, rsaKey), ErrMalformed, "header is not a JSON object", "trailing data"},
		{"claims not object", craft(t, hdr("RS256", ""), `"x"`, rsaKey), ErrMalformed, "claim set is not a JSON object", ""},
		{"claims invalid JSON", craft(t, hdr("RS256", ""), `{"sub":"x",}`, rsaKey), ErrMalformed, "claim set is not a JSON object", "invalid JSON"},
		{"claims invalid UTF-8", craft(t, hdr("RS256", ""), "{\"sub\":\"\xff\"}", rsaKey), ErrMalformed, "claim set is not valid UTF-8", "invalid UTF-8"},
		{"header invalid UTF-8", craft(t, "{\"alg\":\"RS256\",\"x\":\"\xfe\"}", good, rsaKey), ErrMalformed, "header is not valid UTF-8", ""},
		{"deep nesting", craft(t, hdr("RS256", ""), `{"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, rsaKey), ErrMalformed, "claim set is nested more than 32 levels deep", "nested too deeply"},
		// Duplicate members (A11).
		{"A11 duplicate alg", craft(t, `{"alg":"RS256","alg":"none"}`, good, rsaKey), ErrMalformed, dupHeader, `duplicate member "alg"`},
		{"A11 duplicate nested header", craft(t, `{"alg":"RS256","x":{"a":1,"a":2}}`, good, rsaKey), ErrMalformed, dupHeader, `duplicate member "a"`},
		{"A11 duplicate aud", craft(t, hdr("RS256", ""), `{"aud":"a","sub":"x","aud":"b"}`, rsaKey), ErrMalformed, dupClaims, `duplicate member "aud"`},
		{"A11 duplicate sub", craft(t, hdr("RS256", ""), `{"sub":"a","sub":"b"}`, rsaKey), ErrMalformed, dupClaims, `duplicate member "sub"`},
		{"A11 duplicate in array object", craft(t, hdr("RS256", ""), `{"x":[{"k":1,"k":1}]}`, rsaKey), ErrMalformed, dupClaims, `duplicate member "k"`},
		{"A11 duplicate long name", craft(t, hdr("RS256", ""), `{"`+strings.Repeat("n", 500)+`":1,"`+strings.Repeat("n", 500)+`":1}`, rsaKey), ErrMalformed, dupClaims, `duplicate member "` + strings.Repeat("n", maxQuoted) + `"...`},
		// Header members not allowed (A6, A7, A8, A10).
		{"A8 crit", craft(t, `{"alg":"ES256","crit":["exp-x"],"exp-x":1}`, good, ecKey), ErrMalformed, "header member 'crit' is not allowed", ""},
		{"A6 jku", craft(t, hdr("RS256", `,"jku":"http://127.0.0.1:1/jwks"`), good, rsaKey), ErrMalformed, "header member 'jku' is not allowed", ""},
		{"A6 x5u", craft(t, hdr("RS256", `,"x5u":"http://127.0.0.1:1/c"`), good, rsaKey), ErrMalformed, "header member 'x5u' is not allowed", ""},
		{"A7 jwk", craft(t, hdr("RS256", `,"jwk":{"kty":"oct","k":"AA"}`), good, rsaKey), ErrMalformed, "header member 'jwk' is not allowed", ""},
		{"A7 x5c", craft(t, hdr("RS256", `,"x5c":["MII"]`), good, rsaKey), ErrMalformed, "header member 'x5c' is not allowed", ""},
		{"x5t", craft(t, hdr("RS256", `,"x5t":"AA"`), good, rsaKey), ErrMalformed, "header member 'x5t' is not allowed", ""},
		{"x5t#S256", craft(t, hdr("RS256", `,"x5t#S256":"AA"`), good, rsaKey), ErrMalformed, "header member 'x5t#S256' is not allowed", ""},
		{"A10 enc header", craft(t, hdr("RS256", `,"enc":"A128GCM"`), good, rsaKey), ErrMalformed, "header member 'enc' is not allowed", ""},
		{"A10 zip header", craft(t, hdr("RS256", `,"zip":"DEF"`), good, rsaKey), ErrMalformed, "header member 'zip' is not allowed", ""},
		{"b64 header", craft(t, hdr("RS256", `,"b64":false`), good, rsaKey), ErrMalformed, "header member 'b64' is not allowed", ""},
		// Header member types.
		{"alg missing", craft(t, `{"typ":"JWT"}`, good, rsaKey), ErrMalformed, "header member 'alg' is missing", ""},
		{"alg not a string", craft(t, `{"alg":["RS256"]}`, good, rsaKey), ErrMalformed, "header member 'alg' must be a string", `value "[\"RS256\"]"`},
		{"kid number", craft(t, hdr("RS256", `,"kid":1`), good, rsaKey), ErrMalformed, "header member 'kid' must be a string", `value "1"`},
		{"typ object", craft(t, hdr("RS256", `,"typ":{}`), good, rsaKey), ErrMalformed, "header member 'typ' must be a string", ""},
		// alg (A1, A2).
		{"A1 none", craft(t, hdr("none", ""), good, nil), ErrAlgorithm, algNone, `alg "none"`},
		{"A1 None", craft(t, hdr("None", ""), good, nil) + "c2ln", ErrAlgorithm, algNone, `alg "None"`},
		{"A1 NONE", craft(t, hdr("NONE", ""), good, nil) + "c2ln", ErrAlgorithm, algNone, ""},
		{"A1 nOnE", craft(t, hdr("nOnE", ""), good, nil) + "c2ln", ErrAlgorithm, algNone, ""},
		{"A2 alg off list", craft(t, hdr("HS256", ""), good, []byte(strings.Repeat("k", 32))), ErrAlgorithm, "algorithm 'HS256' is not allowed", ""},
		{"A2 alg case differs", craft(t, hdr("rs256", ""), good, rsaKey), ErrAlgorithm, "algorithm is not one this server accepts", `alg "rs256"`},
		{"A2 alg with quotes", craft(t, hdr(`R"S\256`, ""), good, rsaKey), ErrAlgorithm, "algorithm is not one this server accepts", `alg "R\"S\\256"`},
		// Claim types (A17) for every registered claim.
		{"A17 iss bool", craft(t, hdr("RS256", ""), `{"iss":true}`, rsaKey), ErrMalformed, "claim 'iss' must be a string", `value "true"`},
		{"A17 sub number", craft(t, hdr("RS256", ""), `{"sub":1}`, rsaKey), ErrMalformed, "claim 'sub' must be a string", ""},
		{"A17 jti array", craft(t, hdr("RS256", ""), `{"jti":["a"]}`, rsaKey), ErrMalformed, "claim 'jti' must be a string", ""},
		{"A17 aud object", craft(t, hdr("RS256", ""), `{"aud":{}}`, rsaKey), ErrMalformed, "claim 'aud' must be a string or an array of strings", `value "{}"`},
		{"A17 aud array of numbers", craft(t, hdr("RS256", ""), `{"aud":[1]}`, rsaKey), ErrMalformed, "claim 'aud' must be a string or an array of strings", `value "1"`},
		{"A17 aud null", craft(t, hdr("RS256", ""), `{"aud":null}`, rsaKey), ErrMalformed, "claim 'aud' must be a string or an array of strings", ""},
		{"A17 exp string", craft(t, hdr("RS256", ""), `{"exp":"123"}`, rsaKey), ErrMalformed, numericDate("exp"), `value "\"123\""`},
		{"A17 exp 1e308", craft(t, hdr("RS256", ""), `{"exp":1e308}`, rsaKey), ErrMalformed, numericDate("exp"), `value "1e308"`},
		{"A17 exp negative", craft(t, hdr("RS256", ""), `{"exp":-1}`, rsaKey), ErrMalformed, numericDate("exp"), ""},
		{"A17 exp huge", craft(t, hdr("RS256", ""), `{"exp":99999999999999}`, rsaKey), ErrMalformed, numericDate("exp"), ""},
		{"A17 exp after year 9999", craft(t, hdr("RS256", ""), `{"exp":253402300800}`, rsaKey), ErrMalformed, numericDate("exp"), ""},
		{"A17 iat fraction", craft(t, hdr("RS256", ""), `{"iat":1700000000.5}`, rsaKey), ErrMalformed, numericDate("iat"), ""},
		{"A17 nbf null", craft(t, hdr("RS256", ""), `{"nbf":null}`, rsaKey), ErrMalformed, numericDate("nbf"), `value "null"`},
		// Control characters in identifiers (docs/security.md R4).
		{"R4 control character in iss", craft(t, hdr("RS256", ""), `{"iss":"a\u001bb"}`, rsaKey), ErrMalformed, "claim 'iss' contains a control character", `value "a\x1bb"`},
		{"R4 NUL in sub", craft(t, hdr("RS256", ""), `{"sub":"\u0000"}`, rsaKey), ErrMalformed, "claim 'sub' contains a control character", ""},
		{"R4 NUL in jti", craft(t, hdr("RS256", ""), `{"jti":"a\u0000b"}`, rsaKey), ErrMalformed, "claim 'jti' contains a control character", ""},
		{"R4 DEL in jti", craft(t, hdr("RS256", ""), `{"jti":"a\u007f"}`, rsaKey), ErrMalformed, "claim 'jti' contains a control character", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.raw, asym, 0)
			if err == nil {
				t.Fatalf("Parse accepted %q: %+v", tc.name, tok)
			}
			assertDescription(t, err, tc.kind, tc.desc, tc.log)
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

// TestVerifyAndValidateDescriptions runs every failure of Verify,
// VerifyHMAC and Validate and asserts the exact public description; kids
// and algs, which are token content, reach only the logged text.
func TestVerifyAndValidateDescriptions(t *testing.T) {
	testKeys(t)
	now := testNow.Unix()
	secret := []byte(strings.Repeat("s", 32))
	ecKeys := []jose.JSONWebKey{pubJWK(ecKey, "ec", "ES256")}
	mod := func(kv ...any) map[string]any {
		m := goodClaims()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	verify := func(keys []jose.JSONWebKey) func(*Token) error {
		return func(tok *Token) error { return tok.Verify(keys) }
	}
	validate := func(tok *Token) error {
		if err := tok.Verify(ecKeys); err != nil {
			return err
		}
		return tok.Validate(expected())
	}
	tests := []struct {
		name  string
		raw   string
		check func(*Token) error
		kind  error
		desc  string
		log   string
	}{
		// Verify.
		{"unknown kid", sign(t, jose.RS256, rsaKey, "x'; DROP", "", goodClaims()), verify([]jose.JSONWebKey{pubJWK(rsaKey, "y", "")}), ErrNoMatchingKey, "no registered key matches the token's kid", `kid "x'; DROP"`},
		{"no key fits the alg", sign(t, jose.EdDSA, edKey, "", "", goodClaims()), verify(ecKeys), ErrNoMatchingKey, "no registered key fits the token's algorithm", `alg "EdDSA"`},
		{"key of kid unfit for alg", sign(t, jose.PS256, rsaKey, "rsa", "", goodClaims()), verify([]jose.JSONWebKey{pubJWK(rsaKey, "rsa", "RS256")}), ErrAlgorithm, "the key named by kid cannot be used with the token's algorithm", `kid "rsa", alg "PS256"`},
		{"signature", sign(t, jose.RS256, rsaKey2, "rsa", "", goodClaims()), verify([]jose.JSONWebKey{pubJWK(rsaKey, "rsa", "RS256")}), ErrSignatureInvalid, "signature is invalid", ""},
		{"HMAC with an RS256 token", sign(t, jose.RS256, rsaKey, "", "", goodClaims()), func(tok *Token) error { return tok.VerifyHMAC(secret) }, ErrAlgorithm, "algorithm is not an HMAC algorithm", `alg "RS256"`},
		{"HMAC wrong secret", sign(t, jose.HS256, secret, "", "", goodClaims()), func(tok *Token) error { return tok.VerifyHMAC([]byte(strings.Repeat("w", 32))) }, ErrSignatureInvalid, "signature is invalid", ""},
		// Validate.
		{"A13 not verified", sign(t, jose.ES256, ecKey, "ec", "", goodClaims()), func(tok *Token) error { return tok.Validate(expected()) }, ErrNotVerified, "signature has not been verified", ""},
		{"A14 typ rejected", sign(t, jose.ES256, ecKey, "ec", "at+jwt", goodClaims()), validate, ErrTypeRejected, "token type is not accepted here", ""},
		{"exp missing", sign(t, jose.ES256, ecKey, "ec", "", mod("exp", nil)), validate, ErrNoExpiry, "assertion has no expiry", ""},
		{"expired", sign(t, jose.ES256, ecKey, "ec", "", mod("exp", now-300, "iat", now-400)), validate, ErrExpired, "assertion expired", ""},
		{"not yet valid", sign(t, jose.ES256, ecKey, "ec", "", mod("nbf", now+70, "iat", now, "exp", now+130)), validate, ErrNotYetValid, "assertion is not yet valid", ""},
		{"issued in the future", sign(t, jose.ES256, ecKey, "ec", "", mod("iat", now+70, "exp", now+130)), validate, ErrIssuedInFuture, "assertion was issued in the future", ""},
		{"lifetime exp-iat", sign(t, jose.ES256, ecKey, "ec", "", mod("iat", now-590, "exp", now+60)), validate, ErrLifetimeTooLong, "assertion lifetime 650 s exceeds the maximum of 600 s", ""},
		{"lifetime exp-now", sign(t, jose.ES256, ecKey, "ec", "", mod("iat", nil, "exp", now+3600)), validate, ErrLifetimeTooLong, "assertion lifetime 3600 s exceeds the maximum of 600 s", ""},
		{"issuer", sign(t, jose.ES256, ecKey, "ec", "", mod("iss", "client-2")), validate, ErrIssuerInvalid, "issuer is invalid", ""},
		{"subject", sign(t, jose.ES256, ecKey, "ec", "", mod("sub", "client-2")), validate, ErrSubjectInvalid, "subject is invalid", ""},
		{"audience", sign(t, jose.ES256, ecKey, "ec", "", mod("aud", "https://other.example")), validate, ErrAudienceInvalid, "audience is invalid", ""},
		{"jti", sign(t, jose.ES256, ecKey, "ec", "", mod("jti", nil)), validate, ErrNoJTI, "assertion has no jti", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.raw, []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.check(tok)
			if err == nil {
				t.Fatal("accepted")
			}
			assertDescription(t, err, tc.kind, tc.desc, tc.log)
		})
	}
}

// TestDescribeForeignError: an error jwtx did not make (a library's)
// never has its text shown.
func TestDescribeForeignError(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", errors.New(`json: cannot unmarshal number into Go value of type string`))
	if got := Describe(err); got != "token is invalid" {
		t.Fatalf("Describe = %q", got)
	}
	if got := Describe(fmt.Errorf("context: %w", ErrExpired)); got != "assertion expired" {
		t.Fatalf("Describe of a wrapped sentinel = %q", got)
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
