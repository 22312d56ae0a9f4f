package tokencmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/keystore"
)

// dpopFlags ask for DPoP-bound tokens (RFC 9449).
func dpopFlags(fs *pflag.FlagSet, c *Connection) {
	fs.BoolVar(&c.DPoP, "dpop", false, "send a DPoP proof with every token request, for sender-constrained tokens (RFC 9449)")
	fs.StringVar(&c.DPoPKey, "dpop-key", "", "DPoP key file (PEM, PKCS#12 or JKS without password; default: a new ES256 key for this run)")
}

// withDPoP makes hc sign a DPoP proof for each form POST it sends (the
// token endpoint, and PAR, RFC 9449 §10.1), with the key of --dpop-key or
// a fresh P-256 key, and retry once with the server's nonce when it
// answers use_dpop_nonce (§8). It returns the key's thumbprint (cnf.jkt of
// the tokens obtained), or "" without --dpop.
func withDPoP(hc *http.Client, c Connection, now func() time.Time) (string, error) {
	if !c.DPoP && c.DPoPKey == "" {
		return "", nil
	}
	signer, err := dpopSigner(c.DPoPKey)
	if err != nil {
		return "", err
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &dpopTransport{base: base, signer: signer, now: now}
	return signer.JKT(), nil
}

func dpopSigner(path string) (*dpop.ProofSigner, error) {
	if path == "" {
		return dpop.NewProofSigner(nil, "")
	}
	k, err := keystore.Load(path, keystore.Options{})
	if err != nil {
		return nil, err
	}
	if k.Signer == nil {
		return nil, fmt.Errorf("%s holds no private key", path)
	}
	return dpop.NewProofSigner(k.Signer, "")
}

// dpopTransport adds the DPoP header. It keeps the last nonce the server
// sent, as §8 expects clients to.
type dpopTransport struct {
	base   http.RoundTripper
	signer *dpop.ProofSigner
	now    func() time.Time

	mu    sync.Mutex
	nonce string
}

// maxReplayBody bounds the form body kept for the nonce retry.
const maxReplayBody = 1 << 20

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return t.base.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxReplayBody))
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	resp, err := t.send(req, body)
	if err != nil || !t.wantsNonce(resp) {
		return resp, err
	}
	_ = resp.Body.Close()
	return t.send(req, body)
}

// send sends one attempt with a fresh proof for the request URL without
// query and fragment (§4.2 htu).
func (t *dpopTransport) send(orig *http.Request, body []byte) (*http.Response, error) {
	req := orig.Clone(orig.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	u := *req.URL
	u.RawQuery, u.Fragment = "", ""
	t.mu.Lock()
	nonce := t.nonce
	t.mu.Unlock()
	proof, err := t.signer.Proof(http.MethodPost, u.String(), nonce, "", t.now())
	if err != nil {
		return nil, err
	}
	req.Header.Set(dpop.HeaderProof, proof)
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		if n := resp.Header.Get(dpop.HeaderNonce); n != "" {
			t.mu.Lock()
			t.nonce = n
			t.mu.Unlock()
		}
	}
	return resp, err
}

// wantsNonce reports a use_dpop_nonce answer carrying a DPoP-Nonce (§8):
// the one case worth a retry. It leaves resp's body readable.
func (t *dpopTransport) wantsNonce(resp *http.Response) bool {
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get(dpop.HeaderNonce) == "" {
		return false
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(raw, &e) == nil && e.Error == string(dpop.ErrUseNonce)
}
