package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
)

// discoveryFields are the endpoints the Endpoints tab lists, in order,
// when the discovery document advertises them (so authorize and userinfo
// appear once the server serves them).
var discoveryFields = []struct{ key, label string }{
	{"issuer", "Issuer"},
	{"authorization_endpoint", "Authorization endpoint"},
	{"token_endpoint", "Token endpoint"},
	{"jwks_uri", "JWKS"},
	{"introspection_endpoint", "Introspection endpoint"},
	{"revocation_endpoint", "Revocation endpoint"},
	{"userinfo_endpoint", "UserInfo endpoint"},
	{"registration_endpoint", "Registration endpoint"},
	{"pushed_authorization_request_endpoint", "Pushed authorization request endpoint"},
	{"end_session_endpoint", "End session endpoint"},
}

// endpoints reads the workspace's discovery document in process: what
// the tab shows is exactly what discovery advertises.
func (h *Handler) endpoints(r *http.Request, ws string) []endpoint {
	discovery := h.BaseURL + "/w/" + url.PathEscape(ws) + "/.well-known/openid-configuration"
	out := []endpoint{{"OpenID Connect discovery", discovery}}
	if h.Discovery == nil {
		return out
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/w/"+url.PathEscape(ws)+"/.well-known/openid-configuration", nil)
	if err != nil {
		return out
	}
	rec := &bufferWriter{header: http.Header{}}
	h.Discovery.ServeHTTP(rec, req)
	var doc map[string]any
	if rec.status != 0 && rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &doc) != nil {
		return out
	}
	for _, f := range discoveryFields {
		if s, ok := doc[f.key].(string); ok && s != "" {
			out = append(out, endpoint{f.label, s})
		}
	}
	return out
}

// bufferWriter captures an in-process response.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
