package rs

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// DefaultAlgorithms is the signature algorithm allowlist when
// Options.Algorithms is empty: the asymmetric algorithms Latchkey signs
// with.
var DefaultAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// Defaults of Options.
const (
	DefaultLeeway          = 10 * time.Second
	DefaultRefetchInterval = 30 * time.Second
	DefaultJWKSMaxAge      = 5 * time.Minute
	DefaultHTTPTimeout     = 10 * time.Second
)

// Options configure a Verifier. Issuer and Audience are required.
type Options struct {
	// Issuer is the workspace's issuer identifier, e.g.
	// https://auth.example.com/w/acme. Its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// Audience is this API's identifier: tokens must list it in aud.
	Audience string
	// Algorithms is the signature algorithm allowlist; empty means
	// DefaultAlgorithms. MAC algorithms are never accepted.
	Algorithms []jose.SignatureAlgorithm
	// Leeway is the clock skew allowed on exp, nbf and iat; 0 means
	// DefaultLeeway.
	Leeway time.Duration
	// RefetchInterval is the least time between two JWKS fetches caused
	// by unknown key IDs; 0 means DefaultRefetchInterval.
	RefetchInterval time.Duration
	// JWKSMaxAge is how long a fetched JWKS is used before it is fetched
	// again; 0 means DefaultJWKSMaxAge.
	JWKSMaxAge time.Duration
	// HTTPClient fetches the discovery document, the JWKS and status
	// lists; nil means a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
	// ResourceURL is the public base URL of this API (scheme and host,
	// e.g. https://api.example.com): with the request path it is the htu
	// DPoP proofs must carry (RFC 9449 §4.3). Empty means the scheme of
	// the connection and the request's Host header, which is only right
	// when no proxy rewrites them.
	ResourceURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Token is a verified access token.
type Token struct {
	Issuer, Subject, ClientID, JTI string
	Audience                       []string
	Scopes                         []string
	IssuedAt, ExpiresAt            time.Time
	// Claims holds every claim of the token, decoded.
	Claims map[string]any
	// Raw is the token as presented.
	Raw string
}

// HasScope reports whether the token was granted scope.
func (t *Token) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

type ctxKey struct{}

// FromContext returns the token the middleware verified for a request.
func FromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Token)
	return t, ok
}

// Verifier verifies access tokens of one issuer and audience. It is safe
// for concurrent use; create one per issuer and reuse it.
type Verifier struct {
	opts  Options
	algs  []jose.SignatureAlgorithm
	keys  *keyCache
	lists *statusCache
	dpop  *dpop.Verifier
}

// New checks the options and returns a Verifier. Nothing is fetched
// until the first request.
func New(opts Options) (*Verifier, error) {
	if opts.Issuer == "" || opts.Audience == "" {
		return nil, errors.New("rs: Issuer and Audience are required")
	}
	if !strings.HasPrefix(opts.Issuer, "https://") && !strings.HasPrefix(opts.Issuer, "http://") {
		return nil, fmt.Errorf("rs: issuer %q is not an http(s) URL", opts.Issuer)
	}
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	algs := opts.Algorithms
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	for _, a := range algs {
		if !slices.Contains(DefaultAlgorithms, a) {
			return nil, fmt.Errorf("rs: algorithm %q is not an asymmetric signature algorithm", a)
		}
	}
	if opts.Leeway <= 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	v := &Verifier{opts: opts, algs: slices.Clone(algs)}
	v.keys = &keyCache{v: v}
	v.lists = &statusCache{v: v}
	var dpopAlgs []string
	for _, a := range v.algs {
		dpopAlgs = append(dpopAlgs, string(a))
	}
	v.dpop = &dpop.Verifier{Store: newJTICache(opts.Now), Algs: dpopAlgs, Now: opts.Now}
	return v, nil
}

// Require returns middleware that lets a request through only with a
// valid access token granted every one of scopes (none: any valid token).
// The verified Token is in the request's context (FromContext).
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	scopes = slices.Clone(scopes)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := v.Verify(r, scopes...)
			if err != nil {
				v.writeError(w, r, err, scopes)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, tok)))
		})
	}
}

// errNoToken is a request without credentials (RFC 6750 §3.1: the
// challenge carries no error code).
var errNoToken = errors.New("rs: no access token")

// Verify checks the access token of r (package documentation) and that it
// was granted scopes. Errors are for the middleware's answer; use
// Require unless you write the answer yourself.
func (v *Verifier) Verify(r *http.Request, scopes ...string) (*Token, error) {
	raw, err := credentials(r)
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	payload, err := v.keys.verify(ctx, raw, []string{"at+jwt", "application/at+jwt"})
	if err != nil {
		return nil, err
	}
	tok, err := v.claims(raw, payload)
	if err != nil {
		return nil, err
	}
	for _, s := range scopes {
		if !tok.HasScope(s) {
			return nil, oauth2.NewError(oauth2.ErrInsufficientScope,
				"the access token was not granted the scope "+s+" this request needs").WithStatus(http.StatusForbidden)
		}
	}
	if err := v.checkBinding(r, tok); err != nil {
		return nil, err
	}
	if err := v.lists.check(ctx, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// credentials reads the token of the Authorization header (RFC 6750 §2.1;
// RFC 9449 §7.1). Only the header is read: tokens in the query or the
// body are not accepted.
func credentials(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errNoToken
	}
	if len(values) > 1 {
		return "", invalidRequest("send exactly one Authorization header")
	}
	scheme, tok, ok := strings.Cut(values[0], " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, dpop.Scheme)) {
		return "", errNoToken
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", invalidRequest("the Authorization header does not carry one access token")
	}
	return tok, nil
}

func invalidRequest(description string) error {
	return oauth2.NewError(oauth2.ErrInvalidRequest, description).WithStatus(http.StatusBadRequest)
}

func invalidToken(description string) error {
	return oauth2.NewError(oauth2.ErrInvalidToken, description).WithStatus(http.StatusUnauthorized)
}

// wireToken is the RFC 9068 §2.2 claims set, strictly typed.
type wireToken struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	ClientID string          `json:"client_id"`
	Scope    string          `json:"scope"`
	JTI      string          `json:"jti"`
	IssuedAt *json.Number    `json:"iat"`
	Expiry   *json.Number    `json:"exp"`
	NotBef   *json.Number    `json:"nbf"`
}

// claims checks the RFC 9068 §4 claims of a verified payload.
func (v *Verifier) claims(raw string, payload []byte) (*Token, error) {
	var w wireToken
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, invalidToken("the access token's claims are not a JSON object of the expected types")
	}
	var all map[string]any
	dec = json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return nil, invalidToken("the access token's claims are not a JSON object")
	}
	aud, ok := audience(w.Audience)
	now := v.opts.Now()
	exp, expOK := numericDate(w.Expiry)
	iat, iatOK := numericDate(w.IssuedAt)
	switch {
	case w.Issuer != v.opts.Issuer:
		return nil, invalidToken("the access token was issued by another issuer")
	case !ok || !slices.Contains(aud, v.opts.Audience):
		return nil, invalidToken("the access token is not meant for this API (aud)")
	case w.Subject == "" || w.ClientID == "" || !expOK || !iatOK:
		return nil, invalidToken("the access token lacks a claim RFC 9068 requires (sub, client_id, iat, exp)")
	case !now.Before(exp.Add(v.opts.Leeway)):
		return nil, invalidToken("the access token has expired")
	case iat.After(now.Add(v.opts.Leeway)):
		return nil, invalidToken("the access token is issued in the future")
	}
	if w.NotBef != nil {
		nbf, ok := numericDate(w.NotBef)
		if !ok || nbf.After(now.Add(v.opts.Leeway)) {
			return nil, invalidToken("the access token is not valid yet (nbf)")
		}
	}
	return &Token{
		Issuer: w.Issuer, Subject: w.Subject, ClientID: w.ClientID, JTI: w.JTI,
		Audience: aud, Scopes: strings.Fields(w.Scope), IssuedAt: iat, ExpiresAt: exp,
		Claims: all, Raw: raw,
	}, nil
}

func audience(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, one != ""
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, len(many) > 0
	}
	return nil, false
}

func numericDate(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// checkBinding enforces the token's confirmation (cnf): DPoP (RFC 9449
// §7) through the proof verifier, and the client certificate of mutual
// TLS (RFC 8705 §3, the SHA-256 thumbprint of the certificate's DER).
func (v *Verifier) checkBinding(r *http.Request, tok *Token) error {
	cnf, _ := tok.Claims["cnf"].(map[string]any)
	if x5t, _ := cnf["x5t#S256"].(string); x5t != "" {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return invalidToken("the access token is bound to a client certificate: present it over mutual TLS")
		}
		sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(got), []byte(x5t)) != 1 {
			return invalidToken("the access token is bound to another client certificate")
		}
	}
	jkt, _ := cnf["jkt"].(string)
	return v.dpop.CheckResource(r.Context(), r, dpop.Resource{
		WorkspaceID: v.opts.Issuer, URI: v.resourceURL(r), AccessToken: tok.Raw, BoundJKT: jkt,
	})
}

// resourceURL is the htu a DPoP proof for r must carry.
func (v *Verifier) resourceURL(r *http.Request) string {
	base := strings.TrimSuffix(v.opts.ResourceURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + r.URL.EscapedPath()
}

// writeError answers a refused request (RFC 6750 §3; RFC 9449 §7.1).
func (v *Verifier) writeError(w http.ResponseWriter, r *http.Request, err error, scopes []string) {
	if errors.Is(err, errNoToken) {
		w.Header().Add("WWW-Authenticate", `Bearer realm="`+challengeValue(v.opts.Audience)+`"`)
		w.Header().Add("WWW-Authenticate", dpop.Scheme+` algs="`+strings.Join(v.dpop.SupportedAlgs(), " ")+`"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	e := oauth2.AsError(err)
	if dpop.UsesScheme(r) || dpop.IsProofError(err) || dpop.IsBindingError(err) {
		dpop.WriteChallenge(w, e, v.dpop.SupportedAlgs(), "")
		return
	}
	status := e.HTTPStatus()
	if e.Status != 0 {
		status = e.Status
	}
	if status >= http.StatusInternalServerError {
		oauth2.WriteError(w, e)
		return
	}
	challenge := `Bearer realm="` + challengeValue(v.opts.Audience) + `", error="` + string(e.Code) + `"`
	if e.Description != "" {
		challenge += `, error_description="` + challengeValue(e.Description) + `"`
	}
	if e.Code == oauth2.ErrInsufficientScope {
		challenge += `, scope="` + challengeValue(strings.Join(scopes, " ")) + `"`
	}
	h := w.Header()
	h.Set("WWW-Authenticate", challenge)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error       oauth2.ErrorCode `json:"error"`
		Description string           `json:"error_description,omitempty"`
	}{e.Code, e.Description})
}

// challengeValue keeps a quoted-string attribute within the characters
// RFC 6750 §3 allows.
func challengeValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}
