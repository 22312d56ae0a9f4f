package endpoint

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

const formType = "application/x-www-form-urlencoded"

func postForm(target, contentType, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestParseFormErrors(t *testing.T) {
	manyParams := strings.Repeat("a=b&", TokenForm.MaxParams) + "a=b"
	tests := []struct {
		name        string
		target      string
		contentType string
		body        string
		status      int
		wantDesc    string
		encoding    []string // Content-Encoding header fields
	}{
		{"Q2 json content type", "/t", "application/json", `{"grant_type":"client_credentials"}`, 400, "Content-Type", nil},
		{"Q2 missing content type", "/t", "", "grant_type=client_credentials", 400, "Content-Type", nil},
		{"Q2 malformed content type", "/t", "application/x-www-form-urlencoded; =", "grant_type=x", 400, "Content-Type", nil},
		{"M1 body over 64 KiB", "/t", formType, "scope=" + strings.Repeat("a", int(TokenForm.MaxBody)), 413, "request body too large", nil},
		{"M2 too many parameters", "/t", formType, manyParams, 400, "too many parameters", nil},
		{"M2 long parameter name", "/t", formType, strings.Repeat("n", TokenForm.MaxNameLen+1) + "=v", 400, "name too long", nil},
		{"M6 scope over 4 KiB", "/t", formType, "scope=" + strings.Repeat("s", 4<<10+1), 400, "'scope' is too long", nil},
		{"value over default cap", "/t", formType, "client_assertion=" + strings.Repeat("x", TokenForm.MaxValueLen+1), 400, "too long", nil},
		{"repeated grant_type (RFC 6749 §3.2)", "/t", formType, "grant_type=a&grant_type=a", 400, "more than once", nil},
		{"repeated unknown parameter", "/t", formType, "x=1&x=2", 400, "more than once", nil},
		{"D4 client_secret in query", "/t?client_secret=s", formType, "grant_type=client_credentials", 400, "query string", nil},
		{"D4 client_assertion in query", "/t?client_assertion=a", formType, "grant_type=client_credentials", 400, "query string", nil},
		{"malformed escape", "/t", formType, "scope=%zz", 400, "malformed", nil},
		{"semicolon separator", "/t", formType, "a=b;c=d", 400, "malformed", nil},
		// A compressed body is refused before it is read, not parsed as
		// form text (RFC 9110 §8.4).
		{"gzip body", "/t", formType, "\x1f\x8b\x08\x00", 400, "the request body must not be compressed (Content-Encoding 'gzip' is not supported)", []string{"gzip"}},
		{"gzip after identity", "/t", formType, "grant_type=client_credentials", 400, "Content-Encoding 'gzip' is not supported", []string{"identity, gzip"}},
		{"br in a second field", "/t", formType, "grant_type=client_credentials", 400, "Content-Encoding 'br' is not supported", []string{"identity", "br"}},
		{"deflate upper case", "/t", formType, "grant_type=client_credentials", 400, "Content-Encoding 'DEFLATE' is not supported", []string{"DEFLATE"}},
		{"unprintable coding", "/t", formType, "grant_type=client_credentials", 400, "Content-Encoding (unprintable) is not supported", []string{"x\"y"}},
		{"gzip with a JSON body", "/t", "application/json", "{}", 400, "must not be compressed", []string{"gzip"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := postForm(tc.target, tc.contentType, tc.body)
			for _, v := range tc.encoding {
				r.Header.Add("Content-Encoding", v)
			}
			body := &readCounter{r: r.Body}
			r.Body = body
			_, err := ParseForm(w, r, TokenForm)
			var e *oauth2.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *oauth2.Error", err)
			}
			if e.Code != oauth2.ErrInvalidRequest || e.HTTPStatus() != tc.status {
				t.Fatalf("got %s/%d, want invalid_request/%d", e.Code, e.HTTPStatus(), tc.status)
			}
			if !strings.Contains(e.Description, tc.wantDesc) {
				t.Fatalf("description %q does not contain %q", e.Description, tc.wantDesc)
			}
			if tc.encoding != nil && (body.n != 0 || w.Header().Get("Accept-Encoding") != "identity") {
				t.Fatalf("compressed body: %d bytes read, Accept-Encoding %q", body.n, w.Header().Get("Accept-Encoding"))
			}
		})
	}
}

// readCounter counts the bytes read from a request body.
type readCounter struct {
	r io.ReadCloser
	n int
}

func (c *readCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func (c *readCounter) Close() error { return c.r.Close() }

func TestParseFormAccepts(t *testing.T) {
	tests := []struct {
		name        string
		target      string
		contentType string
		body        string
		check       func(t *testing.T, got map[string][]string)
	}{
		{"charset parameter", "/t", formType + "; charset=UTF-8", "grant_type=client_credentials", func(t *testing.T, got map[string][]string) {
			if got["grant_type"][0] != "client_credentials" {
				t.Fatalf("grant_type = %q", got["grant_type"])
			}
		}},
		{"resource may repeat (RFC 8707 §2)", "/t", formType, "resource=https://a&resource=https://b", func(t *testing.T, got map[string][]string) {
			if len(got["resource"]) != 2 {
				t.Fatalf("resource = %q", got["resource"])
			}
		}},
		{"query parameters are ignored (D4)", "/t?grant_type=password&scope=x", formType, "grant_type=client_credentials", func(t *testing.T, got map[string][]string) {
			if got["grant_type"][0] != "client_credentials" || got["scope"] != nil {
				t.Fatalf("query leaked into form: %v", got)
			}
		}},
		{"empty body", "/t", formType, "", func(t *testing.T, got map[string][]string) {
			if len(got) != 0 {
				t.Fatalf("form = %v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form, err := ParseForm(httptest.NewRecorder(), postForm(tc.target, tc.contentType, tc.body), TokenForm)
			if err != nil {
				t.Fatalf("ParseForm: %v", err)
			}
			tc.check(t, form)
		})
	}
}

// TestParseFormIdentityEncoding: a body without a content coding, said
// with "identity" or an empty list member, is read as usual (RFC 9110
// §8.4); only a coding is refused (TestParseFormErrors).
func TestParseFormIdentityEncoding(t *testing.T) {
	for _, values := range [][]string{{"identity"}, {"IDENTITY"}, {"identity, "}, {""}, {"identity", "identity"}} {
		r := postForm("/t", formType, "grant_type=client_credentials")
		for _, v := range values {
			r.Header.Add("Content-Encoding", v)
		}
		form, err := ParseForm(httptest.NewRecorder(), r, TokenForm)
		if err != nil || form.Get("grant_type") != "client_credentials" {
			t.Errorf("Content-Encoding %q: form %v, err %v", values, form, err)
		}
	}
}

func TestParseFormMaxParamsBoundary(t *testing.T) {
	// 99 "&" = 100 parameters, all distinct.
	var b strings.Builder
	for i := range TokenForm.MaxParams {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("p")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString("=1")
	}
	if _, err := ParseForm(httptest.NewRecorder(), postForm("/t", formType, b.String()), TokenForm); err != nil {
		t.Fatalf("100 parameters rejected: %v", err)
	}
	if _, err := ParseForm(httptest.NewRecorder(), postForm("/t", formType, b.String()+"&q=1"), TokenForm); err == nil {
		t.Fatal("101 parameters accepted")
	}
}

func TestDescribable(t *testing.T) {
	tests := map[string]string{
		"scope":                  "'scope'",
		"a\"b":                   "(unprintable)",
		"a\\b":                   "(unprintable)",
		"a\nb":                   "(unprintable)",
		"\u00e9":                 "(unprintable)",
		"":                       "(unprintable)",
		strings.Repeat("x", 201): "(unprintable)",
	}
	for in, want := range tests {
		if got := Describable(in); got != want {
			t.Errorf("Describable(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseForm checks that no body makes ParseForm panic or return an
// error that is not an invalid_request protocol error, and that accepted
// forms respect the caps.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"grant_type=client_credentials&scope=a+b",
		"resource=https://a&resource=https://b",
		"a=1&a=2",
		"%zz=1",
		"a=b;c=d",
		strings.Repeat("&", 200),
		"scope=" + strings.Repeat("s", 5000),
		"=&=&=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := ParseForm(httptest.NewRecorder(), postForm("/t", formType, body), TokenForm)
		if err != nil {
			var e *oauth2.Error
			if !errors.As(err, &e) || e.Code != oauth2.ErrInvalidRequest {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(form) > TokenForm.MaxParams {
			t.Fatalf("%d parameters accepted", len(form))
		}
		for name, values := range form {
			if len(values) > 1 && !TokenForm.Repeatable[name] {
				t.Fatalf("repeated %q accepted", name)
			}
		}
	})
}
