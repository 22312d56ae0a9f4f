package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/signing"
)

// maxAssertionPool bounds the assertions signed before a JWT bearer run:
// each is single use, and signing them during the run would take the
// server's CPU on a shared machine.
const maxAssertionPool = 40000

// errPoolExhausted ends a JWT bearer run early (ErrEndRun): the rate is
// then measured over the shorter run, and the shortening is reported.
var errPoolExhausted = fmt.Errorf("bench: the pre-signed assertion pool is used up: %w", ErrEndRun)

// RunJWTBearer measures the JWT bearer grant (RFC 7523) for each access
// token algorithm: RS256 assertions from a client with an uploaded
// certificate, for one user. Its RawSign is the raw rate of one RS256
// verification plus one signature of alg on this machine, measured in the
// same run.
func RunJWTBearer(ctx context.Context, cfg Config, algs []string, signFor time.Duration, progress io.Writer) ([]Row, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for i, alg := range algs {
		raw, err := VerifySignRate(ctx, key, alg, signFor)
		if err != nil {
			return rows, err
		}
		row, err := jwtBearerRow(ctx, cfg, fmt.Sprintf("bench-jwt-%d", i), alg, key, raw, progress)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func jwtBearerRow(ctx context.Context, cfg Config, ws, alg string, key *rsa.PrivateKey, raw float64, progress io.Writer) (Row, error) {
	f, err := NewFixture(ctx, cfg, ws, alg)
	if err != nil {
		return Row{}, err
	}
	defer func() { _ = f.Close(context.WithoutCancel(ctx)) }()
	if err := f.enableJWTBearer(ctx, key); err != nil {
		return Row{}, err
	}
	n := min(int(raw*cfg.Duration.Seconds()*1.2)+1000, maxAssertionPool)
	fmt.Fprintf(progress, "signing %d RS256 assertions for jwt-bearer %s (raw verify+sign %.0f/s)...\n", n, alg, raw)
	pool, err := f.assertionPool(key, n)
	if err != nil {
		return Row{}, err
	}
	fmt.Fprintf(progress, "measuring jwt-bearer %s...\n", alg)
	res := f.JWTBearer(pool).Run(ctx)
	if res.Elapsed < cfg.Duration*9/10 {
		fmt.Fprintf(progress, "jwt-bearer %s used all %d assertions after %.1fs; its rate is measured over that time\n", alg, n, res.Elapsed.Seconds())
	}
	return Row{Scenario: "jwt_bearer", Alg: alg, Result: res, RawSign: raw}, nil
}

// enableJWTBearer lets the fixture's client use the grant, uploads a
// certificate for key under kid "bench" and creates the user "bench-user".
func (f *Fixture) enableJWTBearer(ctx context.Context, key *rsa.PrivateKey) error {
	base := "/workspaces/" + f.Workspace
	if err := f.admin(ctx, http.MethodPatch, base+"/clients/"+url.PathEscape(f.ClientID), map[string]any{
		"grant_types": []string{"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
	}, nil); err != nil {
		return err
	}
	certPEM, err := selfSignedPEM(key)
	if err != nil {
		return err
	}
	if err := f.admin(ctx, http.MethodPost, base+"/clients/"+url.PathEscape(f.ClientID)+"/certificates",
		map[string]any{"certificate": certPEM, "kid": "bench"}, nil); err != nil {
		return err
	}
	if err := f.admin(ctx, http.MethodPost, base+"/users", map[string]any{"id": "bench-user", "username": "bench-user"}, nil); err != nil {
		return err
	}
	// Nobody is pre-authorized by default (docs/security.md R1): approve
	// the bench user only.
	return f.admin(ctx, http.MethodPut, base+"/clients/"+url.PathEscape(f.ClientID)+"/jwt-bearer",
		map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"bench-user"}}, nil)
}

func selfSignedPEM(key *rsa.PrivateKey) (string, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "latchkey-bench"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// assertionPool signs n single-use assertions on every core.
func (f *Fixture) assertionPool(key *rsa.PrivateKey, n int) ([]string, error) {
	return f.AssertionPool(jose.SigningKey{Algorithm: jose.RS256, Key: key}, "bench", "bench-user", n)
}

// AssertionPool signs n single-use JWT bearer assertions (RFC 7523) of
// subject sub for this fixture's client with key, kid in their header, on
// every core, so that a load generator does not sign while it measures.
// Each has a random jti.
func (f *Fixture) AssertionPool(key jose.SigningKey, kid, sub string, n int) ([]string, error) {
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	exp := time.Now().Add(30 * time.Minute).Unix()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				claims, _ := json.Marshal(map[string]any{
					"iss": f.ClientID, "sub": sub, "aud": f.Issuer + "/oauth2/token",
					"jti": rand.Text(), "iat": time.Now().Unix(), "exp": exp,
				})
				obj, err := signer.Sign(claims)
				if err == nil {
					out[i], err = obj.CompactSerialize()
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return out, firstErr
}

// JWTBearer is the load of the token endpoint with the JWT bearer grant in
// its assertion-only shape, one fresh assertion per request.
func (f *Fixture) JWTBearer(pool []string) Load {
	var next atomic.Int64
	return f.load(func(ctx context.Context) error {
		i := int(next.Add(1) - 1)
		if i >= len(pool) {
			return errPoolExhausted
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {pool[i]}}.Encode()
		return f.post(ctx, "/oauth2/token", false, form, nil)
	})
}

// VerifySignRate measures, on every core for d, one RS256 JWT verification
// (jwtx, as the grant does it) plus one access token signature with a
// fresh key of alg: the crypto floor of one JWT bearer token.
func VerifySignRate(ctx context.Context, key *rsa.PrivateKey, alg string, d time.Duration) (float64, error) {
	s, err := signing.EphemeralSigner(alg)
	if err != nil {
		return 0, err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "bench"))
	if err != nil {
		return 0, err
	}
	obj, err := signer.Sign([]byte(`{"iss":"bench","sub":"bench-user","aud":"x","exp":1900000000,"jti":"x"}`))
	if err != nil {
		return 0, err
	}
	assertion, err := obj.CompactSerialize()
	if err != nil {
		return 0, err
	}
	keys := []jose.JSONWebKey{{Key: key.Public(), KeyID: "bench"}}
	return parallelRate(ctx, d, func() bool {
		tok, err := jwtx.Parse(assertion, []string{"RS256"}, 0)
		if err != nil || tok.Verify(keys) != nil {
			return false
		}
		_, err = s.Sign(samplePayload, "at+jwt")
		return err == nil
	}), nil
}
