//go:build linux && cgo

package signing

import "testing"

// TestMissingLibcryptoIsAnError: a machine without libcrypto 3 gets a
// reason, which SelectBackend turns into Go's crypto under "auto".
func TestMissingLibcryptoIsAnError(t *testing.T) {
	requireOpenSSL(t)
	if _, err := openLibcrypto([]string{"libcrypto-latchkey-absent.so.9"}); err == nil {
		t.Fatal("a missing library loaded")
	}
}
