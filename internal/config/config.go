package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Defaults.
const (
	DefaultListen                = "127.0.0.1:8080"
	DefaultLogLevel              = "info"
	DefaultLogFormat             = "json"
	DefaultAccessTokenTTL        = time.Hour
	DefaultSigningAlg            = "RS256"
	DefaultRotationPeriod        = 90 * 24 * time.Hour
	DefaultRotationCheckInterval = time.Minute
	DefaultCachePollInterval     = 500 * time.Millisecond
	DefaultCacheMaxEntries       = 10_000
	DefaultFailedAuthRate        = 1.0
	DefaultFailedAuthBurst       = 20
)

// Storage drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Resolved is the validated configuration the server runs with. Every
// default is filled in; durations and numbers are parsed.
type Resolved struct {
	Listen string
	// BaseURL has no trailing slash. BaseURLDefaulted is true when it was
	// derived from Listen, so that the server may replace it with the bound
	// address when Listen uses port 0.
	BaseURL          string
	BaseURLDefaulted bool
	DataDir          string

	// Storage is the DSN as configured; StorageDriver is DriverSQLite or
	// DriverPostgres and SQLitePath the database file for SQLite.
	Storage       string
	StorageDriver string
	SQLitePath    string

	MasterKeyFile string
	// MasterKeys, when not empty, replace the key file (first encrypts).
	MasterKeys [][]byte

	TLS TLS

	LogLevel  slog.Level
	LogFormat string

	AccessTokenTTL time.Duration
	SigningAlg     string
	// CryptoBackend signs with OpenSSL's libcrypto or Go's crypto: "auto"
	// (OpenSSL when it loads), "openssl" or "go".
	CryptoBackend         string
	RotationPeriod        time.Duration
	RotationCheckInterval time.Duration

	AdminToken string

	CachePollInterval time.Duration
	// CacheMaxEntries bounds each kind of in-memory cache entry (clients,
	// users per lookup field, ...); internal/cache evicts past it.
	CacheMaxEntries int

	FailedAuthRate  float64
	FailedAuthBurst int

	// SMTP delivers console mail; zero Host keeps mail in the outbox.
	SMTP SMTP

	// OutboundAllowPrivate and OutboundAllowHTTP relax the SSRF rules of
	// the server's own HTTP requests, for operators whose JWKS servers
	// are internal (SECURITY.md L: both off by default).
	OutboundAllowPrivate bool
	OutboundAllowHTTP    bool

	// ConfigFile is the YAML file that was read ("" when none).
	ConfigFile string
}

// TLS holds the certificate and key files; both empty means plain HTTP.
type TLS struct {
	CertFile string
	KeyFile  string
	// ClientCAFile, MTLSBaseURL and Proxy configure mutual TLS client
	// authentication (RFC 8705; mtls.go).
	ClientCAFile string
	MTLSBaseURL  string
	Proxy        *ClientCertProxy
}

// Enabled reports whether the server should speak TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" && t.KeyFile != "" }

// Options tell Load where to look.
type Options struct {
	// ConfigFile is the --config flag; "" falls back to $LATCHKEY_CONFIG.
	ConfigFile string
	// Flags maps flag names (or dotted keys) to the values of the flags the
	// user set explicitly; they win over everything else.
	Flags map[string]string
	// LookupEnv defaults to os.LookupEnv; tests inject a map.
	LookupEnv func(string) (string, bool)
	// HomeDir defaults to os.UserHomeDir.
	HomeDir func() (string, error)
}

func (o *Options) defaults() {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.HomeDir == nil {
		o.HomeDir = os.UserHomeDir
	}
}

// env returns a non-empty environment value.
func (o *Options) env(name string) (string, bool) {
	v, ok := o.LookupEnv(name)
	return v, ok && v != ""
}

// Load builds the configuration from defaults, the YAML file, the
// environment and flags (in increasing precedence) and validates it. The
// error lists every problem found, one "key: problem" per line.
func Load(opts Options) (Resolved, error) {
	opts.defaults()
	l := &loader{opts: opts, src: map[string]string{}}
	l.readFile()
	l.applyEnv()
	l.applyFlags()
	r := l.resolve()
	if len(l.errs) > 0 {
		return Resolved{}, &Error{Problems: l.errs}
	}
	return r, nil
}

// Error lists every configuration problem.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	return "invalid configuration:\n  " + joinLines(e.Problems)
}

// Unwrap exposes each problem to errors.Is / errors.As.
func (e *Error) Unwrap() []error { return e.Problems }

func joinLines(errs []error) string {
	s := ""
	for i, err := range errs {
		if i > 0 {
			s += "\n  "
		}
		s += err.Error()
	}
	return s
}

// loader accumulates the layered raw values and the problems found.
type loader struct {
	opts Options
	file File
	path string
	// src maps a key to where its value came from ("" = default).
	src  map[string]string
	errs []error
}

func (l *loader) readFile() {
	l.path = l.opts.ConfigFile
	if l.path == "" {
		l.path, _ = l.opts.env(EnvConfigFile)
	}
	if l.path == "" {
		return
	}
	f, problems := ReadFile(l.path)
	l.errs = append(l.errs, problems...)
	l.file = f
	for _, s := range Settings() {
		if s.isSet(&l.file) {
			l.src[s.Key] = "config file"
		}
	}
}

func (l *loader) applyEnv() {
	for _, s := range Settings() {
		if v, ok := l.opts.env(s.Env); ok {
			s.set(&l.file, v)
			l.src[s.Key] = "env " + s.Env
		}
	}
}

func (l *loader) applyFlags() {
	for name, v := range l.opts.Flags {
		s, ok := lookupSetting(name)
		if !ok {
			l.errs = append(l.errs, fmt.Errorf("flag --%s: not a configuration setting", name))
			continue
		}
		s.set(&l.file, v)
		l.src[s.Key] = "flag --" + s.Flag
	}
}

// fail records a problem with key, naming where the bad value came from.
func (l *loader) fail(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if src := l.src[key]; src != "" {
		msg += " (from " + src + ")"
	}
	l.errs = append(l.errs, errors.New(key+": "+msg))
}

// defaultDataDir follows the XDG base directory specification.
func (l *loader) defaultDataDir() string {
	if x, ok := l.opts.env("XDG_DATA_HOME"); ok && filepath.IsAbs(x) {
		return filepath.Join(x, "latchkey")
	}
	if home, err := l.opts.HomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "latchkey")
	}
	return "latchkey-data"
}
