package oidc

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestCIBAOpenIDClientNode runs the npm openid-client package's CIBA poll
// mode (initiateBackchannelAuthentication, pollBackchannelAuthenticationGrant)
// against the server over TLS: the test approves the request as the user
// on the approval page while the package polls.
func TestCIBAOpenIDClientNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("openid-client test skipped: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "openid-client", "package.json")); err != nil {
		t.Skipf("openid-client test skipped: run `npm ci` in internal/e2e/oidc/%s first (%v)", nodeDir, err)
	}
	ca := newTestTLS(t, t.TempDir())
	e := newEnv(t, envOptions{tls: ca})
	c := e.cibaClient(t, "node-rp", "poll", "")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ciba.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca.CAFile, "LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID,
		"LK_CLIENT_SECRET="+c.Secret, "LK_LOGIN_HINT="+e.user.Username)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	stderr := &e2etest.SyncBuffer{}
	cmd.Stderr = stderr
	must(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	var started struct {
		Started   bool `json:"started"`
		ExpiresIn int  `json:"expires_in"`
		Interval  int  `json:"interval"`
	}
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &started) != nil || !started.Started {
		_ = cmd.Wait()
		t.Fatalf("ciba.mjs started no request: %q\nstderr: %s", lines.Text(), stderr.String())
	}
	b := e.signedInBrowser(t)
	if p := e.decideOn(t, b, e.issuer+"/ciba", "approve", "NODE 42"); p.Status != http.StatusOK {
		t.Fatalf("approval: %d %s", p.Status, clip(p.Body))
	}
	var got struct {
		Endpoint    string `json:"endpoint"`
		Sub         string `json:"sub"`
		Scope       string `json:"scope"`
		AccessToken bool   `json:"access_token"`
	}
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &got) != nil {
		_ = cmd.Wait()
		t.Fatalf("ciba.mjs printed no tokens: %q\nstderr: %s", lines.Text(), stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node ciba.mjs: %v\nstderr: %s", err, stderr.String())
	}
	if got.Endpoint != e.issuer+"/oauth2/bc-authorize" || got.Sub != e.user.ID || got.Scope != "openid" || !got.AccessToken ||
		started.Interval != 5 || started.ExpiresIn != 600 {
		t.Errorf("openid-client CIBA flow %+v (started %+v)", got, started)
	}
}
