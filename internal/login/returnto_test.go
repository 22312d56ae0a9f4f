package login

import (
	"net/url"
	"testing"
)

// TestSafeReturn: a sign-in returns only to the fixed pages that send
// users to it (the device page, RFC 8628 §3.3; the CIBA approval page)
// and drops everything else, near misses and encodings included
// (SECURITY.md K11: never off the issuer).
func TestSafeReturn(t *testing.T) {
	for _, ok := range []string{
		"/device",
		"/device?user_code=ABCD-EFGH",
		"/ciba",
	} {
		if got := safeReturn(ok); got != ok {
			t.Errorf("safeReturn(%q) = %q, want it kept", ok, got)
		}
	}
	for _, bad := range []string{
		"", "/", "/account", "/login",
		// open redirects
		"https://evil.example/", "//evil.example/", "//evil.example/ciba", "/\\evil.example", "\\\\evil.example",
		"javascript:alert(1)", "https://evil.example/ciba", "http:/ciba",
		// near misses of /ciba
		"//ciba", "ciba", "/ciba/", "/cibax", "/ciba/x", "/ciba/../x", "/ciba/../../evil", "/./ciba", "/x/../ciba",
		"/CIBA", "/ciba?", "/ciba?x=1", "/ciba?link=https://evil.example/", "/ciba#x", "/ciba\n", "/ciba\r\n", " /ciba", "/ciba ",
		"/ciba;x", "/ciba%00", "/ciba\x00",
		// encoded variants (the value is compared after one decoding)
		"%2Fciba", "%2F%2Fciba", "/ci%62a", "/%63iba", "/ciba%2F..%2Fx", "/ciba%3Fx", "%2fciba",
		// near misses of /device
		"//device", "/devicex", "/device/", "/device/../x", "/device?user_code=abcd-efgh",
		"/device?user_code=ABCD-EFGH&x=1", "/device?user_code=ABCD-EFGHI", "/device?user_code=ABCD-EFGH\n",
		"/device?user_code=ABCD-EFGH/ciba", "/device/ciba", "/ciba/device",
	} {
		if got := safeReturn(bad); got != "" {
			t.Errorf("safeReturn(%q) = %q, want it dropped", bad, got)
		}
	}
	// As the CIBA page sends it: /login?return_to=%2Fciba decodes to /ciba;
	// a double-encoded value does not decode to it.
	for raw, want := range map[string]string{"return_to=%2Fciba": "/ciba", "return_to=%252Fciba": ""} {
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := safeReturn(q.Get("return_to")); got != want {
			t.Errorf("%s: safeReturn = %q, want %q", raw, got, want)
		}
	}
}
