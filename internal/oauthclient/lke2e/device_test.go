package lke2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	e2eoidc "github.com/latchkey/latchkey/internal/e2e/oidc"
)

// completeURIRe finds verification_uri_complete in what "token device"
// prints.
var completeURIRe = regexp.MustCompile(`\(or open (http://\S+/device\?user_code=\S+)\)`)

// approveOnDevicePage is the person: opens the URL, signs in on the
// sign-in page it is sent to, submits the prefilled code and allows.
func approveOnDevicePage(ctx context.Context, complete, username, password string) error {
	b := e2eoidc.NewBrowser(http.DefaultTransport)
	p, err := b.Get(ctx, complete)
	if err == nil {
		p, err = b.FollowRedirects(ctx, p, nil)
	}
	if err != nil {
		return err
	}
	steps := []struct {
		form, button string
		fill         map[string]string
	}{
		{"login-form", "login-submit", map[string]string{"username": username, "password": password}},
		{"device-form", "device-submit", nil},
		{"device-confirm-form", "device-approve", nil},
	}
	for _, s := range steps {
		f, err := p.Form(s.form)
		if err != nil {
			return fmt.Errorf("%s: %w", s.form, err)
		}
		for k, v := range s.fill {
			if err := f.Set(k, v); err != nil {
				return err
			}
		}
		if p, err = b.Submit(ctx, f, s.button); err == nil {
			p, err = b.FollowRedirects(ctx, p, nil)
		}
		if err != nil {
			return err
		}
	}
	if p.Status != http.StatusOK {
		return fmt.Errorf("approval answered %d", p.Status)
	}
	return nil
}

// TestDeviceCommandAgainstLatchkey: "latchkey token device" with a public
// client prints the code, the URL and a QR code, the person approves on
// Latchkey's device page, and the command's poll (after the 5 s interval)
// prints the tokens; the ID token verifies with go-oidc.
func TestDeviceCommandAgainstLatchkey(t *testing.T) {
	clk := &clock{}
	lk := startLatchkey(t)
	userID := lk.user(t, "dave", "dave@example.com", userPassword)
	lk.registerClient(t, map[string]any{"client_id": "tv-cli", "name": "TV", "type": "public",
		"token_endpoint_auth_method": "none", "grant_types": []string{"urn:ietf:params:oauth:grant-type:device_code"},
		"scopes": []string{"orders:read"}})
	c := newCLI(t, clk)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var once atomic.Bool
	approved := make(chan error, 1)
	c.onStderr = func(text string) {
		if m := completeURIRe.FindStringSubmatch(text); m != nil && once.CompareAndSwap(false, true) {
			go func() { approved <- approveOnDevicePage(ctx, m[1], "dave", userPassword) }()
		}
	}
	out, err := c.token(ctx, "device", "--server", lk.issuer, "--client-id", "tv-cli", "--scope", "openid orders:read", "-o", "json")
	if err != nil {
		t.Fatalf("token device: %v\nstderr: %s", err, c.stderr.String())
	}
	if berr := <-approved; berr != nil {
		t.Fatalf("device page: %v", berr)
	}
	prompt := c.stderr.String()
	if !strings.Contains(prompt, "enter the code: ") || !strings.Contains(prompt, lk.issuer+"/device\n") || !strings.ContainsAny(prompt, "█▀▄") {
		t.Fatalf("prompt lacks the code, the URL or the QR code:\n%s", prompt)
	}
	doc := jsonOut(t, out)
	if str(doc, "scope") != "openid orders:read" || str(doc, "access_token") == "" {
		t.Fatalf("token response %v", doc)
	}
	if idt := lk.verifyIDToken(t, clk, "tv-cli", str(doc, "id_token")); idt["sub"] != userID {
		t.Fatalf("ID token claims %v", idt)
	}
}
