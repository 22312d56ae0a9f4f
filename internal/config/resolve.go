package config

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// check resolves and validates one part of the configuration. Checks run
// in table order (later ones may use earlier results) and never stop early,
// so every problem is reported at once.
type check func(l *loader, r *Resolved)

var checks = []check{
	resolveListen,
	resolveBaseURL,
	resolveDataDir,
	resolveStorage,
	resolveMasterKeys,
	resolveTLS,
	resolveLog,
	resolveDurations,
	resolveSigningAlg,
	resolveCryptoBackend,
	resolveAdminToken,
	resolveLimits,
	resolveSMTP,
	resolveOutbound,
}

func (l *loader) resolve() Resolved {
	r := Resolved{ConfigFile: l.path}
	for _, c := range checks {
		c(l, &r)
	}
	return r
}

func orDefault(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}

func resolveListen(l *loader, r *Resolved) {
	r.Listen = orDefault(l.file.Listen, DefaultListen)
	host, port, err := net.SplitHostPort(r.Listen)
	if err != nil {
		l.fail("listen", "%q is not a host:port address", r.Listen)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.fail("listen", "port %q must be a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		l.fail("listen", "host %q is neither an IP address nor a host name", host)
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, c := range label {
			if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// resolveBaseURL enforces an absolute http(s) URL without query, fragment,
// user info or trailing slash: issuers are built as base_url + "/w/" + id
// and must compare exactly (RFC 8414 §2, OIDC Discovery §4.3).
func resolveBaseURL(l *loader, r *Resolved) {
	raw := strings.TrimSpace(l.file.BaseURL)
	if raw == "" {
		r.BaseURL, r.BaseURLDefaulted = defaultBaseURL(l, r.Listen), true
		return
	}
	r.BaseURL = raw
	u, err := url.Parse(raw)
	if err != nil {
		l.fail("base_url", "%q is not a URL", raw)
		return
	}
	for _, p := range baseURLProblems(u) {
		l.fail("base_url", "%s", p)
	}
}

func baseURLProblems(u *url.URL) []string {
	var out []string
	if u.Scheme != "http" && u.Scheme != "https" {
		out = append(out, "must be an absolute http:// or https:// URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		out = append(out, "must name a host")
	}
	if u.User != nil {
		out = append(out, "must not contain user info")
	}
	if u.RawQuery != "" || u.ForceQuery {
		out = append(out, "must not contain a query")
	}
	if u.Fragment != "" || strings.Contains(u.String(), "#") {
		out = append(out, "must not contain a fragment")
	}
	if strings.HasSuffix(u.Path, "/") {
		out = append(out, "must not end with a slash (issuers are base_url + \"/w/{workspace}\")")
	}
	return out
}

func defaultBaseURL(l *loader, listen string) string {
	scheme := "http://"
	if strings.TrimSpace(l.file.TLS.CertFile) != "" {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return scheme + listen
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port)
}

func resolveDataDir(l *loader, r *Resolved) {
	r.DataDir = orDefault(l.file.DataDir, l.defaultDataDir())
	if fi, err := os.Stat(r.DataDir); err == nil && !fi.IsDir() {
		l.fail("data_dir", "%q exists and is not a directory", r.DataDir)
	}
}

func resolveStorage(l *loader, r *Resolved) {
	r.Storage = orDefault(l.file.Storage, "sqlite:"+filepath.Join(r.DataDir, "latchkey.db"))
	switch {
	case strings.HasPrefix(r.Storage, "sqlite:"):
		r.StorageDriver = DriverSQLite
		r.SQLitePath = strings.TrimPrefix(strings.TrimPrefix(r.Storage, "sqlite:"), "//")
		if r.SQLitePath == "" {
			l.fail("storage", "sqlite: needs a database file path, e.g. sqlite:/var/lib/latchkey/latchkey.db")
		}
	case strings.HasPrefix(r.Storage, "postgres://"), strings.HasPrefix(r.Storage, "postgresql://"):
		r.StorageDriver = DriverPostgres
		if u, err := url.Parse(r.Storage); err != nil || u.Host == "" {
			l.fail("storage", "PostgreSQL DSN must look like postgres://user@host:5432/db?sslmode=disable")
		}
	default:
		l.fail("storage", "unknown storage scheme (want sqlite:<path> or postgres://...)")
	}
}

// resolveMasterKeys accepts either the key file or inline keys. Inline
// keys are decoded here so that a bad key is reported with the others; the
// file itself (its mode and contents) is checked by package secrets.
func resolveMasterKeys(l *loader, r *Resolved) {
	r.MasterKeyFile = orDefault(l.file.MasterKeyFile, filepath.Join(r.DataDir, "master.key"))
	if len(l.file.MasterKeys) == 0 {
		if fi, err := os.Stat(r.MasterKeyFile); err == nil && fi.IsDir() {
			l.fail("master_key_file", "%q is a directory", r.MasterKeyFile)
		}
		return
	}
	if strings.TrimSpace(l.file.MasterKeyFile) != "" {
		l.fail("master_keys", "set either master_keys or master_key_file, not both")
	}
	for i, k := range l.file.MasterKeys {
		key, err := decodeKey(k)
		if err != nil {
			l.fail("master_keys", "key %d: %v", i+1, err)
			continue
		}
		r.MasterKeys = append(r.MasterKeys, key)
	}
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(strings.TrimSpace(s)); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("must be 32 bytes (AES-256), got %d", len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("is not base64")
}

func resolveTLS(l *loader, r *Resolved) {
	r.TLS = TLS{CertFile: strings.TrimSpace(l.file.TLS.CertFile), KeyFile: strings.TrimSpace(l.file.TLS.KeyFile)}
	switch {
	case r.TLS.CertFile != "" && r.TLS.KeyFile == "":
		l.fail("tls.key_file", "required when tls.cert_file is set")
	case r.TLS.CertFile == "" && r.TLS.KeyFile != "":
		l.fail("tls.cert_file", "required when tls.key_file is set")
	}
	certOK := r.TLS.CertFile == "" || readable(l, "tls.cert_file", r.TLS.CertFile)
	keyOK := r.TLS.KeyFile == "" || readable(l, "tls.key_file", r.TLS.KeyFile)
	if r.TLS.Enabled() && certOK && keyOK {
		if _, err := tls.LoadX509KeyPair(r.TLS.CertFile, r.TLS.KeyFile); err != nil {
			l.fail("tls.cert_file", "cannot load certificate and key: %v", err)
		}
	}
	resolveMTLS(l, r)
}

func readable(l *loader, key, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		l.fail(key, "cannot read %q: %v", path, unwrapPathError(err))
		return false
	}
	_ = f.Close()
	return true
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

func resolveLog(l *loader, r *Resolved) {
	level := strings.ToLower(orDefault(l.file.Log.Level, DefaultLogLevel))
	lv, ok := logLevels[level]
	if !ok {
		l.fail("log.level", "%q is not one of debug, info, warn, error", level)
	}
	r.LogLevel = lv
	r.LogFormat = strings.ToLower(orDefault(l.file.Log.Format, DefaultLogFormat))
	if r.LogFormat != "json" && r.LogFormat != "text" {
		l.fail("log.format", "%q is not one of json, text", r.LogFormat)
	}
}

// durationRule bounds one duration setting; zeroOK allows 0 as "disabled".
type durationRule struct {
	key      string
	raw      string
	def      time.Duration
	min, max time.Duration
	zeroOK   bool
	dst      *time.Duration
}

func resolveDurations(l *loader, r *Resolved) {
	rules := []durationRule{
		{"token.access_token_ttl", l.file.Token.AccessTokenTTL, DefaultAccessTokenTTL, time.Minute, 24 * time.Hour, false, &r.AccessTokenTTL},
		{"keys.rotation_period", l.file.Keys.RotationPeriod, DefaultRotationPeriod, time.Hour, 5 * 365 * 24 * time.Hour, true, &r.RotationPeriod},
		{"keys.rotation_check_interval", l.file.Keys.RotationCheckInterval, DefaultRotationCheckInterval, time.Second, time.Hour, false, &r.RotationCheckInterval},
		{"cache.poll_interval", l.file.Cache.PollInterval, DefaultCachePollInterval, 10 * time.Millisecond, time.Minute, false, &r.CachePollInterval},
	}
	for _, rule := range rules {
		*rule.dst = rule.resolve(l)
	}
}

func (d durationRule) resolve(l *loader) time.Duration {
	raw := strings.TrimSpace(d.raw)
	if raw == "" {
		return d.def
	}
	v, err := ParseDuration(raw)
	switch {
	case err != nil:
		l.fail(d.key, "%q is not a duration (examples: 90s, 15m, 1h, 90d)", raw)
	case v == 0 && d.zeroOK:
		return 0
	case v < d.min || v > d.max:
		l.fail(d.key, "%s is outside the allowed range %s to %s", raw, d.min, d.max)
	default:
		return v
	}
	return d.def
}

// ParseDuration is time.ParseDuration plus a whole-day form ("90d"),
// since key rotation periods are naturally counted in days.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("config: invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func resolveSigningAlg(l *loader, r *Resolved) {
	r.SigningAlg = orDefault(l.file.Keys.SigningAlg, DefaultSigningAlg)
	if !slices.Contains(oauth2.SigningAlgs, r.SigningAlg) {
		l.fail("keys.signing_alg", "%q is not one of %s", r.SigningAlg, strings.Join(oauth2.SigningAlgs, ", "))
	}
}

// cryptoBackends are the accepted keys.crypto_backend values (package
// signing: Backends).
var cryptoBackends = []string{"auto", "openssl", "go"}

func resolveCryptoBackend(l *loader, r *Resolved) {
	r.CryptoBackend = orDefault(strings.ToLower(strings.TrimSpace(l.file.Keys.CryptoBackend)), "auto")
	if !slices.Contains(cryptoBackends, r.CryptoBackend) {
		l.fail("keys.crypto_backend", "%q is not one of %s", r.CryptoBackend, strings.Join(cryptoBackends, ", "))
	}
}

// resolveAdminToken requires a given token to be long enough to resist
// guessing; its value never appears in a message.
func resolveAdminToken(l *loader, r *Resolved) {
	r.AdminToken = strings.TrimSpace(l.file.Admin.Token)
	if r.AdminToken == "" {
		return
	}
	if len(r.AdminToken) < 32 || len(r.AdminToken) > 512 {
		l.fail("admin.token", "must be 32 to 512 characters long")
	}
	for _, c := range r.AdminToken {
		if c <= ' ' || c > '~' {
			l.fail("admin.token", "must be printable ASCII without spaces")
			return
		}
	}
}

func resolveLimits(l *loader, r *Resolved) {
	r.FailedAuthRate = DefaultFailedAuthRate
	if raw := strings.TrimSpace(l.file.Limits.FailedAuthRate); raw != "" {
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil || !(v > 0 && v <= 1e6) { // also rejects NaN
			l.fail("limits.failed_auth_rate", "%q must be a number greater than 0 (per second)", raw)
		} else {
			r.FailedAuthRate = v
		}
	}
	r.CacheMaxEntries = DefaultCacheMaxEntries
	if raw := strings.TrimSpace(l.file.Cache.MaxEntries); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 100 || v > 1e7 {
			l.fail("cache.max_entries", "%q must be a whole number from 100 to 10000000", raw)
		} else {
			r.CacheMaxEntries = v
		}
	}
	r.FailedAuthBurst = DefaultFailedAuthBurst
	if raw := strings.TrimSpace(l.file.Limits.FailedAuthBurst); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > 1e6 {
			l.fail("limits.failed_auth_burst", "%q must be a whole number from 1 to 1000000", raw)
		} else {
			r.FailedAuthBurst = v
		}
	}
}

func resolveOutbound(l *loader, r *Resolved) {
	r.OutboundAllowPrivate = parseBool(l, "outbound.allow_private_addresses", l.file.Outbound.AllowPrivateAddresses)
	r.OutboundAllowHTTP = parseBool(l, "outbound.allow_http", l.file.Outbound.AllowHTTP)
}

// parseBool reads an optional boolean setting; "" is false.
func parseBool(l *loader, key, raw string) bool {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return false
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		l.fail(key, "%q must be true or false", raw)
	}
	return v
}
