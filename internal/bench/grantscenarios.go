package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// The grant scenarios (refresh rotation, code redemption, signed-in flow; docs/benchmarks.md), each in a workspace of its own
// with the code-flow client and user of enableCodeFlow:
//
//   - refresh: one refresh token rotation per request (RS256 access token
//     only, scope without openid) and refresh_id_token (with an ID token
//     too), each worker holding its own token family so that many families
//     rotate at once and no rotation races another;
//   - code: one authorization code redemption per request (access, ID and
//     refresh token); the codes are minted before the timer by signed-in
//     browsers, so only the token request is timed;
//   - flow: the complete flow of a signed-in browser (authorize →
//     remembered consent → code → tokens) with no password sign-in, each
//     worker reusing its browser's session cookie.
//
// Each row's RawSign is the raw rate of the signatures the request makes
// (one for refresh, two for the others), measured before and after the
// scenario in the same run, so its ratio reads against the cryptography the
// request needs.

// Scenario names of `latchkey bench --scenario`.
const (
	ScenarioClientCredentials = "client_credentials"
	ScenarioJWTBearer         = "jwt_bearer"
	ScenarioRefresh           = "refresh"
	ScenarioCode              = "code"
	ScenarioFlow              = "flow"
	// ScenarioSignInFlow is the complete flow in a fresh browser (with
	// argon2id sign-in) and the refresh rotation of the earlier `--flows`.
	ScenarioSignInFlow = "signin_flow"
	ScenarioScale      = "scale"
)

// Scenarios lists every scenario name, in the order they run.
var Scenarios = []string{ScenarioClientCredentials, ScenarioPolicy, ScenarioJWTBearer, ScenarioRefresh, ScenarioCode, ScenarioFlow,
	ScenarioSignInFlow, ScenarioScale}

// maxCodePool bounds the codes minted before a code run: they live 60 s
// (authorize.DefaultCodeTTL), and the first minted must still be valid
// when the run reaches them.
const maxCodePool = 15000

// errCodesUsedUp ends a code run early when the minted codes are spent.
var errCodesUsedUp = fmt.Errorf("bench: the minted authorization codes are used up: %w", ErrEndRun)

// flowScopes are consented once per workspace; the scenarios request
// subsets of them.
const flowScopes = "openid offline_access bench:read"

// RunRefresh measures refresh token rotation without and with an ID token.
func RunRefresh(ctx context.Context, cfg Config, alg string, signFor time.Duration, progress io.Writer) ([]Row, error) {
	fl, err := newFlowBench(ctx, cfg, "bench-refresh", alg)
	if err != nil {
		return nil, err
	}
	defer fl.close(ctx)
	var rows []Row
	for _, sc := range []struct {
		name, scope string
		sigs        int
	}{{"refresh", "offline_access bench:read", 1}, {"refresh_id_token", flowScopes, 2}} {
		row, err := measured(ctx, alg, sc.sigs, signFor, func(float64) (Row, error) {
			pool, err := fl.families(ctx, max(cfg.Concurrency, 1), sc.scope)
			if err != nil {
				return Row{}, err
			}
			fmt.Fprintf(progress, "measuring %s (%s)...\n", sc.name, alg)
			res := fl.f.load(func(ctx context.Context) error { return fl.rotate(ctx, pool) }).Run(ctx)
			return Row{Scenario: sc.name, Alg: alg, Result: res}, nil
		})
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// RunCode measures authorization code redemption alone.
func RunCode(ctx context.Context, cfg Config, alg string, signFor time.Duration, progress io.Writer) (Row, error) {
	fl, err := newFlowBench(ctx, cfg, "bench-code", alg)
	if err != nil {
		return Row{}, err
	}
	defer fl.close(ctx)
	return measured(ctx, alg, 2, signFor, func(raw float64) (Row, error) {
		n := min(int(raw*cfg.Duration.Seconds()*1.2)+100, maxCodePool)
		if cfg.MaxCodes > 0 {
			n = min(n, cfg.MaxCodes)
		}
		fmt.Fprintf(progress, "minting %d authorization codes (%s)...\n", n, alg)
		codes, err := fl.mintCodes(ctx, n)
		if err != nil {
			return Row{}, err
		}
		if len(codes) < n {
			fmt.Fprintf(progress, "minted %d codes in %s, the time they may take\n", len(codes), mintFor)
			n = len(codes)
		}
		fmt.Fprintf(progress, "measuring code redemption (%s)...\n", alg)
		res := fl.f.load(func(ctx context.Context) error {
			select {
			case form := <-codes:
				return fl.f.post(ctx, "/oauth2/token", true, form, checkRefresh(nil))
			default:
				return errCodesUsedUp
			}
		}).Run(ctx)
		if res.Elapsed < cfg.Duration*9/10 {
			fmt.Fprintf(progress, "code redemption used all %d codes after %.1fs; its rate is measured over that time\n", n, res.Elapsed.Seconds())
		}
		return Row{Scenario: "code", Alg: alg, Result: res}, nil
	})
}

// RunFlow measures the complete flow of signed-in browsers.
func RunFlow(ctx context.Context, cfg Config, alg string, signFor time.Duration, progress io.Writer) (Row, error) {
	fl, err := newFlowBench(ctx, cfg, "bench-flow", alg)
	if err != nil {
		return Row{}, err
	}
	defer fl.close(ctx)
	return measured(ctx, alg, 2, signFor, func(float64) (Row, error) {
		browsers := make(chan *http.Client, max(cfg.Concurrency, 1))
		for range cap(browsers) {
			b, err := fl.signIn(ctx)
			if err != nil {
				return Row{}, err
			}
			browsers <- b
		}
		fmt.Fprintf(progress, "measuring signed-in code flows (%s)...\n", alg)
		res := fl.f.load(func(ctx context.Context) error {
			b := <-browsers
			defer func() { browsers <- b }()
			form, err := fl.code(ctx, b, flowScopes)
			if err != nil {
				return err
			}
			return fl.f.post(ctx, "/oauth2/token", true, form, checkRefresh(nil))
		}).Run(ctx)
		return Row{Scenario: "flow", Alg: alg, Result: res}, nil
	})
}

// measured runs one scenario between two measurements of the raw signing
// rate of alg and reports their mean divided by sigs, the signatures one
// request makes. run gets the first measurement so divided (to size what
// it prepares).
func measured(ctx context.Context, alg string, sigs int, signFor time.Duration, run func(raw float64) (Row, error)) (Row, error) {
	before, err := SignRates(ctx, alg, signFor)
	if err != nil {
		return Row{}, err
	}
	row, err := run(fastest(before) / float64(sigs))
	if err != nil {
		return row, err
	}
	rows := []Row{row}
	if err := remeasure(ctx, rows, alg, before, signFor); err != nil {
		return row, err
	}
	row = rows[0]
	perRequest := map[string]float64{}
	for backend, rate := range row.RawByBackend {
		perRequest[backend] = rate / float64(sigs)
	}
	row.RawByBackend, row.RawSign = perRequest, fastest(perRequest)
	return row, nil
}

// flowBench is a workspace with the code-flow client, its user and the
// consent to flowScopes already given.
type flowBench struct {
	*flows
	verifier, challenge string
}

func newFlowBench(ctx context.Context, cfg Config, ws, alg string) (*flowBench, error) {
	f, err := NewFixture(ctx, cfg, ws, alg)
	if err != nil {
		return nil, err
	}
	password, err := f.enableCodeFlow(ctx)
	if err != nil {
		_ = f.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	fl := &flowBench{flows: &flows{f: f, password: password}, verifier: randomString()}
	sum := sha256.Sum256([]byte(fl.verifier))
	fl.challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	return fl, nil
}

func (fl *flowBench) close(ctx context.Context) { _ = fl.f.Close(context.WithoutCancel(ctx)) }

// browser is a fresh browser: a cookie jar and no redirects followed.
func (fl *flowBench) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: fl.f.client.Transport, Timeout: fl.f.client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn returns a browser signed in (one argon2id password check) whose
// consent to flowScopes is remembered.
func (fl *flowBench) signIn(ctx context.Context) (*http.Client, error) {
	b := fl.browser()
	loc, _, err := browse(ctx, b, http.MethodGet, fl.f.Issuer+"/oauth2/authorize?"+fl.authorizeQuery(flowScopes), nil)
	if err != nil {
		return nil, err
	}
	for step := 0; step < 4 && !strings.HasPrefix(loc, flowRedirect); step++ {
		if loc, err = fl.interact(ctx, b, loc); err != nil {
			return nil, err
		}
	}
	if _, err := codeIn(loc); err != nil {
		return nil, err
	}
	return b, nil
}

func (fl *flowBench) authorizeQuery(scope string) string {
	return url.Values{"response_type": {"code"}, "client_id": {fl.f.ClientID}, "redirect_uri": {flowRedirect},
		"scope": {scope}, "state": {"bench"}, "code_challenge_method": {"S256"}, "code_challenge": {fl.challenge}}.Encode()
}

// code asks the signed-in browser b for a code: the authorization endpoint
// must answer with the redirect at once (session and consent remembered).
// It returns the token request's form.
func (fl *flowBench) code(ctx context.Context, b *http.Client, scope string) (string, error) {
	loc, _, err := browse(ctx, b, http.MethodGet, fl.f.Issuer+"/oauth2/authorize?"+fl.authorizeQuery(scope), nil)
	if err != nil {
		return "", err
	}
	code, err := codeIn(loc)
	if err != nil {
		return "", err
	}
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
		"code_verifier": {fl.verifier}}.Encode(), nil
}

func codeIn(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, flowRedirect) || u.Query().Get("code") == "" {
		return "", fmt.Errorf("bench: expected a redirect with a code, got %.200q", loc)
	}
	return u.Query().Get("code"), nil
}

// mintCodes has signed-in browsers (up to mintBrowsers at once) mint up
// to n codes, returned as token request forms, oldest first. It stops
// after mintFor, so that on a busy machine the first codes minted are
// still valid when the run reaches them; the run then ends early when it
// has used them all (errCodesUsedUp) and its rate is measured over the
// time it lasted.
func (fl *flowBench) mintCodes(ctx context.Context, n int) (chan string, error) {
	forms := make(chan string, n)
	workers := min(max(fl.f.cfg.Concurrency, 1), mintBrowsers)
	errs := make(chan error, workers)
	deadline := time.Now().Add(mintFor)
	for w := range workers {
		go func() {
			b, err := fl.signIn(ctx)
			for i := w; err == nil && i < n && time.Now().Before(deadline); i += workers {
				var form string
				if form, err = fl.code(ctx, b, flowScopes); err == nil {
					forms <- form
				}
			}
			errs <- err
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return forms, first
}

// mintBrowsers bounds the browsers minting codes at once.
const mintBrowsers = 4

// mintFor bounds the time spent minting codes before a code run: a third
// of their 60 s lifetime (authorize.DefaultCodeTTL).
const mintFor = 20 * time.Second

// families begins n token families of scope and returns a pool holding
// their refresh tokens.
func (fl *flowBench) families(ctx context.Context, n int, scope string) (chan string, error) {
	b, err := fl.signIn(ctx)
	if err != nil {
		return nil, err
	}
	pool := make(chan string, n)
	for range n {
		form, err := fl.code(ctx, b, scope)
		if err != nil {
			return nil, err
		}
		var rt string
		if err := fl.f.post(ctx, "/oauth2/token", true, form, checkRefresh(&rt)); err != nil {
			return nil, err
		}
		pool <- rt
	}
	return pool, nil
}

// rotate rotates one refresh token of the pool and puts the new one back.
func (fl *flowBench) rotate(ctx context.Context, pool chan string) error {
	var rt string
	select {
	case rt = <-pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	next := rt
	err := fl.f.post(ctx, "/oauth2/token", true, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(), checkRefresh(&next))
	pool <- next
	return err
}

// checkRefresh accepts a token response with an access token and a
// refresh token, copying the refresh token into out when out is set.
func checkRefresh(out *string) func(body []byte) error {
	return func(body []byte) error {
		var resp struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" || resp.RefreshToken == "" {
			return errors.New("bench: token response without access_token or refresh_token")
		}
		if out != nil {
			*out = resp.RefreshToken
		}
		return nil
	}
}
