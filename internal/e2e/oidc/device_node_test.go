package oidc

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestDeviceOpenIDClientNode runs the npm openid-client package's device
// flow (initiateDeviceAuthorization, pollDeviceAuthorizationGrant) against
// the server over TLS: the test approves the printed
// verification_uri_complete on the device page while the package polls.
func TestDeviceOpenIDClientNode(t *testing.T) {
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
	c := e.deviceClient(t, "node-tv")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "device.mjs")
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+ca.CAFile, "LK_ISSUER="+e.issuer, "LK_CLIENT_ID="+c.ID)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	stderr := &e2etest.SyncBuffer{}
	cmd.Stderr = stderr
	must(t, cmd.Start())
	lines := bufio.NewScanner(stdout)
	var started struct {
		Complete string `json:"verification_uri_complete"`
		Interval int    `json:"interval"`
	}
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &started) != nil || started.Complete == "" {
		_ = cmd.Wait()
		t.Fatalf("device.mjs printed no device authorization: %q\nstderr: %s", lines.Text(), stderr.String())
	}
	e.approveDevice(t, started.Complete, "device-approve")
	var got struct {
		Endpoint    string `json:"endpoint"`
		Sub         string `json:"sub"`
		Scope       string `json:"scope"`
		AccessToken bool   `json:"access_token"`
	}
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &got) != nil {
		_ = cmd.Wait()
		t.Fatalf("device.mjs printed no tokens: %q\nstderr: %s", lines.Text(), stderr.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node device.mjs: %v\nstderr: %s", err, stderr.String())
	}
	if got.Endpoint != e.issuer+"/oauth2/device_authorization" || got.Sub != e.user.ID || got.Scope != "openid" || !got.AccessToken || started.Interval != 5 {
		t.Errorf("openid-client device flow %+v (interval %d)", got, started.Interval)
	}
}
