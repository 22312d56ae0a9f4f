package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"
)

// Scale points the client_credentials scenario at a seeded workspace
// (RunSeed): every request authenticates as a client drawn at random from
// all Clients, so most first requests miss every cache, as they do when
// 10^5 clients share one server.
type Scale struct {
	Workspace string
	Clients   int
	Key       string // the seed's key (Seed.Key)
	Alg       string // the workspace's signing algorithm, for the raw rate
}

// RunScale measures client_credentials against the seeded workspace.
func RunScale(ctx context.Context, cfg Config, sc Scale, signFor time.Duration, progress io.Writer) (Row, error) {
	if sc.Clients < 1 || sc.Key == "" {
		return Row{}, fmt.Errorf("bench: a scale run needs the seeded client count and the seed's key")
	}
	f := &Fixture{cfg: cfg, client: cfg.httpClient(), Workspace: sc.Workspace, tokenPath: "/oauth2/token",
		Issuer: strings.TrimRight(cfg.Server, "/") + "/w/" + sc.Workspace}
	f.cfg.NetHTTP = false
	if err := f.useWire(); err != nil {
		return Row{}, err
	}
	defer f.wire.close()
	headers := make([]string, sc.Clients)
	for i := range headers {
		id := ScaleClientID(i)
		auth := url.QueryEscape(id) + ":" + url.QueryEscape(ScaleClientSecret(sc.Key, id))
		headers[i] = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	}
	rates, err := SignRates(ctx, sc.Alg, signFor)
	if err != nil {
		return Row{}, err
	}
	fmt.Fprintf(progress, "measuring client_credentials %s over %d seeded clients at random...\n", sc.Alg, sc.Clients)
	load := f.load(func(ctx context.Context) error {
		return f.wire.post(ctx, f.issuerPath+f.tokenPath, headers[rand.IntN(len(headers))], "grant_type=client_credentials", nil)
	})
	row := Row{Scenario: fmt.Sprintf("client_credentials (%d clients at random)", sc.Clients), Alg: sc.Alg,
		Result: load.Run(ctx), RawSign: fastest(rates), RawByBackend: rates}
	return row, nil
}
