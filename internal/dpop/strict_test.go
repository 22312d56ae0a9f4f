package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// craftES256 signs raw header and claim-set bytes as a compact ES256 JWS,
// so that the test can send JSON no encoder would produce (duplicate or
// differently cased member names, null members, odd numbers).
func craftES256(t *testing.T, key *ecdsa.PrivateKey, header, claims string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestVerifyStrictJSON: the proof's header and claim set are read by one
// strict JSON pass (RFC 7515 §4 duplicate members, SECURITY.md A11, A17,
// S1–S3): every shape below is refused with invalid_dpop_proof, and the
// canonical shape built the same way is accepted.
func TestVerifyStrictJSON(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	jwk := string(jwkJSON)
	iat := strconv.FormatInt(now.Unix(), 10)
	hdr := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwk + `}`
	n := 0
	claimsWith := func(extra string) string {
		n++
		return `{"jti":"j` + strconv.Itoa(n) + `","htm":"POST","htu":"` + tokenURL + `","iat":` + iat + extra + `}`
	}
	req := dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL}
	for name, c := range map[string][2]string{
		"canonical":             {hdr, claimsWith("")},
		"whitespace around iat": {hdr, strings.Replace(claimsWith(""), `"iat":`, "\"iat\" :\n ", 1)},
		"unknown members":       {`{"typ":"dpop+jwt","alg":"ES256","x":[1,{"a":null}],"jwk":` + jwk + `}`, claimsWith(`,"extra":{"a":1}`)},
		"leading whitespace":    {" \n" + hdr, "\t" + claimsWith("")},
		"escaped typ":           {`{"typ":"dpop\u002bjwt","alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
	} {
		t.Run("accepts "+name, func(t *testing.T) {
			if _, err := newVerifier().Verify(context.Background(), []string{craftES256(t, key, c[0], c[1])}, req); err != nil {
				t.Fatal(err)
			}
		})
	}
	for name, c := range map[string][2]string{
		"header TYP upper case name": {`{"TYP":"dpop+jwt","alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
		"header duplicate typ":       {`{"typ":"dpop+jwt","typ":"dpop+jwt","alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
		"header duplicate alg":       {`{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
		"header typ number":          {`{"typ":1,"alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
		"header typ null":            {`{"typ":null,"alg":"ES256","jwk":` + jwk + `}`, claimsWith("")},
		"header x5c empty":           {`{"typ":"dpop+jwt","alg":"ES256","x5c":[],"jwk":` + jwk + `}`, claimsWith("")},
		"header crit":                {`{"typ":"dpop+jwt","alg":"ES256","crit":["exp"],"exp":1,"jwk":` + jwk + `}`, claimsWith("")},
		"header jwk null":            {`{"typ":"dpop+jwt","alg":"ES256","jwk":null}`, claimsWith("")},
		"header jwk string":          {`{"typ":"dpop+jwt","alg":"ES256","jwk":"x"}`, claimsWith("")},
		"header jwk d null":          {`{"typ":"dpop+jwt","alg":"ES256","jwk":` + strings.Replace(jwk, "{", `{"d":null,`, 1) + `}`, claimsWith("")},
		"header jwk k":               {`{"typ":"dpop+jwt","alg":"ES256","jwk":` + strings.Replace(jwk, "{", `{"k":"AAAA",`, 1) + `}`, claimsWith("")},
		"header jwk duplicate kty":   {`{"typ":"dpop+jwt","alg":"ES256","jwk":` + strings.Replace(jwk, "{", `{"kty":"EC",`, 1) + `}`, claimsWith("")},
		"header nested duplicate":    {`{"typ":"dpop+jwt","alg":"ES256","x":{"a":1,"a":2},"jwk":` + jwk + `}`, claimsWith("")},
		"header trailing data":       {hdr + ` {}`, claimsWith("")},
		"header array":               {`[` + hdr + `]`, claimsWith("")},
		"header invalid UTF-8":       {`{"typ":"dpop+jwt","alg":"ES256","x":"` + "\xff" + `","jwk":` + jwk + `}`, claimsWith("")},
		"claims duplicate jti":       {hdr, claimsWith(`,"jti":"other"`)},
		"claims duplicate iat":       {hdr, claimsWith(`,"iat":` + iat)},
		"claims JTI upper case name": {hdr, `{"JTI":"j","htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `}`},
		"claims jti null":            {hdr, `{"jti":null,"htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `}`},
		"claims jti number":          {hdr, `{"jti":5,"htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `}`},
		"claims htm array":           {hdr, `{"jti":"j","htm":["POST"],"htu":"` + tokenURL + `","iat":` + iat + `}`},
		"claims nonce number":        {hdr, claimsWith(`,"nonce":1`)},
		"claims iat null":            {hdr, `{"jti":"j","htm":"POST","htu":"` + tokenURL + `","iat":null}`},
		"claims iat exponent":        {hdr, `{"jti":"j","htm":"POST","htu":"` + tokenURL + `","iat":18e8}`},
		"claims iat negative":        {hdr, `{"jti":"j","htm":"POST","htu":"` + tokenURL + `","iat":-1}`},
		"claims iat fraction":        {hdr, `{"jti":"j","htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `.0}`},
		"claims iat beyond int64":    {hdr, `{"jti":"j","htm":"POST","htu":"` + tokenURL + `","iat":99999999999999999999}`},
		"claims nested duplicate":    {hdr, claimsWith(`,"x":[{"a":1,"a":1}]`)},
		"claims trailing data":       {hdr, claimsWith("") + `x`},
		"claims not an object":       {hdr, `"jti"`},
		"claims jti control char":    {hdr, `{"jti":"a\u0000b","htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `}`},
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := newVerifier().Verify(context.Background(), []string{craftES256(t, key, c[0], c[1])}, req)
			wantCode(t, err, dpop.ErrInvalidProof)
		})
	}
}

// TestVerifyHeaderMembers: extension members the check does not use are
// ignored (RFC 7515 §4); crit with any value and every member that names
// or brings a key besides the jwk, kid included, are refused, naming the
// member (RFC 9449 §4.2, RFC 7515 §4.1.11, SECURITY.md S3); typ, alg and
// jwk stay strictly decoded whatever else the header holds.
func TestVerifyHeaderMembers(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwkJSON, err := json.Marshal(jose.JSONWebKey{Key: key.Public()})
	if err != nil {
		t.Fatal(err)
	}
	jwk := string(jwkJSON)
	header := func(extra string) string { return `{"typ":"dpop+jwt","alg":"ES256",` + extra + `"jwk":` + jwk + `}` }
	iat := strconv.FormatInt(now.Unix(), 10)
	n := 0
	verify := func(t *testing.T, hdr string) error {
		n++
		c := `{"jti":"m` + strconv.Itoa(n) + `","htm":"POST","htu":"` + tokenURL + `","iat":` + iat + `}`
		_, err := newVerifier().Verify(context.Background(), []string{craftES256(t, key, hdr, c)},
			dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL})
		return err
	}
	cases := []struct {
		name   string
		header string
		refuse string // "" when accepted; else a word of the description
	}{
		{"extension member", header(`"x-lib":{"v":[1,2]},`), ""},
		{"cty and an extension member", header(`"cty":"x","x-lib":"1",`), ""},
		{"kid", header(`"kid":"k1",`), "kid"},
		{"kid after jwk", `{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwk + `,"kid":"k1"}`, "kid"},
		{"kid of another type", header(`"kid":7,`), "kid"},
		{"kid null", header(`"kid":null,`), "kid"},
		{"crit", header(`"crit":["exp"],"exp":1,`), "crit"},
		{"crit empty", header(`"crit":[],`), "crit"},
		{"crit null", header(`"crit":null,`), "crit"},
		{"jku", header(`"jku":"https://127.0.0.1:1/jwks",`), "jku"},
		{"x5u", header(`"x5u":"https://127.0.0.1:1/cert",`), "x5u"},
		{"x5c", header(`"x5c":["MIIB"],`), "x5c"},
		{"x5t", header(`"x5t":"AAAA",`), "x5t"},
		{"x5t#S256", header(`"x5t#S256":"AAAA",`), "x5t#S256"},
		{"enc", header(`"enc":"A128GCM",`), "enc"},
		{"zip", header(`"zip":"DEF",`), "zip"},
		{"b64", header(`"b64":false,`), "b64"},
		{"duplicate extension member", header(`"x-lib":"1","x-lib":"2",`), "unique member names"},
		{"duplicate typ beside an extension member", `{"typ":"dpop+jwt","x-lib":"1","typ":"JWT","alg":"ES256","jwk":` + jwk + `}`, "unique member names"},
		{"duplicate alg beside an extension member", header(`"x-lib":"1","alg":"ES256",`), "unique member names"},
		{"duplicate jwk beside an extension member", `{"typ":"dpop+jwt","alg":"ES256","x-lib":"1","jwk":` + jwk + `,"jwk":` + jwk + `}`, "unique member names"},
		{"alg of the wrong type beside an extension member", `{"typ":"dpop+jwt","alg":["ES256"],"x-lib":"1","jwk":` + jwk + `}`, "wrong JSON type"},
		{"typ of the wrong type beside an extension member", `{"typ":["dpop+jwt"],"alg":"ES256","x-lib":"1","jwk":` + jwk + `}`, "wrong JSON type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verify(t, c.header)
			if c.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantCode(t, err, dpop.ErrInvalidProof)
			if d := oauth2.AsError(err).Description; !strings.Contains(d, c.refuse) {
				t.Fatalf("description %q does not name %q", d, c.refuse)
			}
		})
	}
}
