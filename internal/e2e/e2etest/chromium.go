package e2etest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// ArtifactsEnv names the directory screenshots and other artifacts go to.
const ArtifactsEnv = "LATCHKEY_TEST_ARTIFACTS"

// SkipWithoutChromium skips a browser test when ChromiumPath is absent.
func SkipWithoutChromium(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("browser test skipped: %s is absent (apt-get install -y chromium)", ChromiumPath)
	}
}

// Chromium starts ChromiumPath for the test, without sandbox or GPU (a
// container has neither), with opts (headless mode, window size, ...),
// and returns the context of its first tab. The browser is closed at the
// end of the test.
func Chromium(t testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts = append(opts, chromedp.ExecPath(ChromiumPath), chromedp.NoSandbox, chromedp.DisableGPU)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Steps runs the scripted steps of a browser test.
type Steps struct {
	Timeout time.Duration // for each step
	// Page is what a failure message shows of the page the step stopped
	// on, after its URL.
	Page chromedp.Action[string]
}

// Run runs actions within s.Timeout and fails t with what was being done,
// the error, the page's URL and s.Page.
func (s Steps) Run(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		defer dcancel()
		loc, _ := chromedp.Run(dctx, chromedp.Location())
		page, _ := chromedp.Run(dctx, s.Page)
		t.Fatalf("%s: %v\nat %s\n%s", what, err, loc, page)
	}
}

// Screenshot saves a full-page PNG of the current page as dir/name.
func Screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return savePNG(dir, name, chromedp.FullScreenshot(100))
}

// ViewportShot saves what the screen shows now as dir/name.
func ViewportShot(dir, name string) chromedp.Action[chromedp.Void] {
	return savePNG(dir, name, chromedp.CaptureScreenshot())
}

func savePNG(dir, name string, capture chromedp.Action[[]byte]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := capture(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), png, 0o644)
	})
}

// ArtifactsDir is $LATCHKEY_TEST_ARTIFACTS/<test name>, created when
// missing, or a temporary directory when the variable is unset.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv(ArtifactsEnv)
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
