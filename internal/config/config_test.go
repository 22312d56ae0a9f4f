package config

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env returns a LookupEnv backed by m, so tests never see the real
// environment.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func noHome() (string, error) { return "", errors.New("no home") }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, o Options) Resolved {
	t.Helper()
	if o.LookupEnv == nil {
		o.LookupEnv = env(nil)
	}
	if o.HomeDir == nil {
		o.HomeDir = noHome
	}
	r, err := Load(o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return r
}

func TestDefaults(t *testing.T) {
	r := mustLoad(t, Options{HomeDir: func() (string, error) { return "/home/u", nil }})
	want := Resolved{
		Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", BaseURLDefaulted: true,
		DataDir: "/home/u/.local/share/latchkey", Storage: "sqlite:/home/u/.local/share/latchkey/latchkey.db",
		StorageDriver: DriverSQLite, SQLitePath: "/home/u/.local/share/latchkey/latchkey.db",
		MasterKeyFile: "/home/u/.local/share/latchkey/master.key", LogLevel: slog.LevelInfo, LogFormat: "json",
		AccessTokenTTL: time.Hour, SigningAlg: "RS256", RotationPeriod: 90 * 24 * time.Hour,
		RotationCheckInterval: time.Minute, CachePollInterval: 500 * time.Millisecond,
		FailedAuthRate: 1, FailedAuthBurst: 20,
	}
	if !equalResolved(r, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", r, want)
	}
}

func equalResolved(a, b Resolved) bool {
	return a.Listen == b.Listen && a.BaseURL == b.BaseURL && a.BaseURLDefaulted == b.BaseURLDefaulted &&
		a.DataDir == b.DataDir && a.Storage == b.Storage && a.StorageDriver == b.StorageDriver &&
		a.SQLitePath == b.SQLitePath && a.MasterKeyFile == b.MasterKeyFile && len(a.MasterKeys) == len(b.MasterKeys) &&
		a.TLS == b.TLS && a.LogLevel == b.LogLevel && a.LogFormat == b.LogFormat &&
		a.AccessTokenTTL == b.AccessTokenTTL && a.SigningAlg == b.SigningAlg && a.RotationPeriod == b.RotationPeriod &&
		a.RotationCheckInterval == b.RotationCheckInterval && a.AdminToken == b.AdminToken &&
		a.CachePollInterval == b.CachePollInterval && a.FailedAuthRate == b.FailedAuthRate &&
		a.FailedAuthBurst == b.FailedAuthBurst
}

func TestDataDirDefaults(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		home func() (string, error)
		want string
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/xdg"}, noHome, "/xdg/latchkey"},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "rel"}, func() (string, error) { return "/h", nil }, "/h/.local/share/latchkey"},
		{"home", nil, func() (string, error) { return "/h", nil }, "/h/.local/share/latchkey"},
		{"no home", nil, noHome, "latchkey-data"},
		{"env wins", map[string]string{"XDG_DATA_HOME": "/xdg", "LATCHKEY_DATA_DIR": "/d"}, noHome, "/d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustLoad(t, Options{LookupEnv: env(tt.env), HomeDir: tt.home})
			if r.DataDir != tt.want {
				t.Fatalf("data_dir = %q, want %q", r.DataDir, tt.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", "listen: 127.0.0.1:1001\nbase_url: https://file.example\nlog:\n  level: warn\n  format: text\ntoken:\n  access_token_ttl: 5m\n")
	t.Run("file over defaults", func(t *testing.T) {
		r := mustLoad(t, Options{ConfigFile: file})
		if r.Listen != "127.0.0.1:1001" || r.BaseURL != "https://file.example" || r.LogLevel != slog.LevelWarn ||
			r.LogFormat != "text" || r.AccessTokenTTL != 5*time.Minute || r.BaseURLDefaulted {
			t.Fatalf("file values not applied: %+v", r)
		}
	})
	t.Run("env over file", func(t *testing.T) {
		r := mustLoad(t, Options{ConfigFile: file, LookupEnv: env(map[string]string{
			"LATCHKEY_LISTEN": "127.0.0.1:1002", "LATCHKEY_LOG_LEVEL": "debug", "LATCHKEY_TOKEN_ACCESS_TOKEN_TTL": "2m",
		})})
		if r.Listen != "127.0.0.1:1002" || r.LogLevel != slog.LevelDebug || r.AccessTokenTTL != 2*time.Minute ||
			r.BaseURL != "https://file.example" {
			t.Fatalf("env not applied over file: %+v", r)
		}
	})
	t.Run("flags over env", func(t *testing.T) {
		r := mustLoad(t, Options{ConfigFile: file,
			LookupEnv: env(map[string]string{"LATCHKEY_LISTEN": "127.0.0.1:1002", "LATCHKEY_BASE_URL": "https://env.example"}),
			Flags:     map[string]string{"listen": "127.0.0.1:1003", "log-level": "error"},
		})
		if r.Listen != "127.0.0.1:1003" || r.LogLevel != slog.LevelError || r.BaseURL != "https://env.example" {
			t.Fatalf("flags not applied over env: %+v", r)
		}
	})
	t.Run("config file from env", func(t *testing.T) {
		r := mustLoad(t, Options{LookupEnv: env(map[string]string{EnvConfigFile: file})})
		if r.Listen != "127.0.0.1:1001" || r.ConfigFile != file {
			t.Fatalf("LATCHKEY_CONFIG not used: %+v", r)
		}
	})
	t.Run("empty env is unset", func(t *testing.T) {
		r := mustLoad(t, Options{ConfigFile: file, LookupEnv: env(map[string]string{"LATCHKEY_LISTEN": ""})})
		if r.Listen != "127.0.0.1:1001" {
			t.Fatalf("empty env overrode file: %q", r.Listen)
		}
	})
}

func TestEveryEnvVarApplies(t *testing.T) {
	// Each setting can be set through its environment variable: set all of
	// them to valid values and check that none is ignored.
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	values := map[string]string{
		"listen": "127.0.0.1:9", "base_url": "https://id.example/auth", "data_dir": dir,
		"storage": "postgres://u@db:5432/x", "master_key_file": "", "master_keys": key + "," + key,
		"tls.cert_file": "", "tls.key_file": "", "tls.client_ca_file": "", "tls.client_cert_header": "X-Client-Cert",
		"tls.trusted_proxies": "10.0.0.0/8,127.0.0.1", "tls.mtls_base_url": "https://mtls.example", "log.level": "warn", "log.format": "text",
		"token.access_token_ttl": "10m", "keys.signing_alg": "ES256", "keys.crypto_backend": "go", "keys.rotation_period": "30d",
		"keys.rotation_check_interval": "10s", "admin.token": strings.Repeat("a", 40),
		"cache.poll_interval": "1s", "cache.max_entries": "500", "limits.failed_auth_rate": "2.5", "limits.failed_auth_burst": "7",
		"outbound.allow_private_addresses": "true", "outbound.allow_http": "1",
		"smtp.host": "mail.example", "smtp.port": "2525", "smtp.tls": "tls", "smtp.username": "u",
		"smtp.password": "p", "smtp.from": "latchkey@example.com",
	}
	m := map[string]string{}
	for _, s := range Settings() {
		v, ok := values[s.Key]
		if !ok {
			t.Fatalf("setting %s has no test value: add one", s.Key)
		}
		m[s.Env] = v
	}
	r := mustLoad(t, Options{LookupEnv: env(m)})
	if r.Listen != "127.0.0.1:9" || r.BaseURL != "https://id.example/auth" || r.DataDir != dir ||
		r.StorageDriver != DriverPostgres || len(r.MasterKeys) != 2 || r.LogLevel != slog.LevelWarn ||
		r.LogFormat != "text" || r.AccessTokenTTL != 10*time.Minute || r.SigningAlg != "ES256" || r.CryptoBackend != "go" ||
		r.RotationPeriod != 30*24*time.Hour || r.RotationCheckInterval != 10*time.Second ||
		r.AdminToken != strings.Repeat("a", 40) || r.CachePollInterval != time.Second || r.CacheMaxEntries != 500 ||
		r.FailedAuthRate != 2.5 || r.FailedAuthBurst != 7 || !r.OutboundAllowPrivate || !r.OutboundAllowHTTP {
		t.Fatalf("env values not applied: %+v", r)
	}
}

func TestMasterKeysYAMLForms(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, yaml := range map[string]string{
		"sequence": "master_keys:\n  - " + key + "\n  - " + key + "\n",
		"string":   "master_keys: \"" + key + "," + key + "\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := mustLoad(t, Options{ConfigFile: writeFile(t, "c.yaml", yaml)})
			if len(r.MasterKeys) != 2 || len(r.MasterKeys[0]) != 32 {
				t.Fatalf("master keys = %d", len(r.MasterKeys))
			}
		})
	}
}

func TestBaseURLDefaults(t *testing.T) {
	tests := []struct{ listen, want string }{
		{"127.0.0.1:0", "http://127.0.0.1:0"},
		{":8080", "http://localhost:8080"},
		{"0.0.0.0:80", "http://localhost:80"},
		{"[::1]:8080", "http://[::1]:8080"},
	}
	for _, tt := range tests {
		r := mustLoad(t, Options{Flags: map[string]string{"listen": tt.listen}})
		if r.BaseURL != tt.want || !r.BaseURLDefaulted {
			t.Errorf("listen %q: base_url = %q, want %q", tt.listen, r.BaseURL, tt.want)
		}
	}
}

func TestStorageDSNs(t *testing.T) {
	tests := []struct{ dsn, driver, path string }{
		{"sqlite:/tmp/x.db", DriverSQLite, "/tmp/x.db"},
		{"sqlite:rel/x.db", DriverSQLite, "rel/x.db"},
		{"sqlite:///abs/x.db", DriverSQLite, "/abs/x.db"},
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", DriverPostgres, ""},
		{"postgresql://u@h/db", DriverPostgres, ""},
	}
	for _, tt := range tests {
		r := mustLoad(t, Options{Flags: map[string]string{"storage": tt.dsn}})
		if r.StorageDriver != tt.driver || r.SQLitePath != tt.path {
			t.Errorf("%s: driver %q path %q", tt.dsn, r.StorageDriver, r.SQLitePath)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true}, {"1h30m", 90 * time.Minute, true}, {"0", 0, true},
		{"d", 0, false}, {"-1d", 0, false}, {"1.5d", 0, false}, {"abc", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestReferenceListsEverySetting(t *testing.T) {
	ref := Reference()
	for _, s := range Settings() {
		if !strings.Contains(ref, "`"+s.Key+"`") || !strings.Contains(ref, "`"+s.Env+"`") {
			t.Errorf("reference misses %s / %s", s.Key, s.Env)
		}
		if s.Flag != "" && !strings.Contains(ref, "`--"+s.Flag+"`") {
			t.Errorf("reference misses flag --%s", s.Flag)
		}
		if s.Env != "LATCHKEY_"+strings.ToUpper(strings.NewReplacer(".", "_").Replace(s.Key)) {
			t.Errorf("env var %s does not follow the LATCHKEY_<KEY> convention for %s", s.Env, s.Key)
		}
	}
	if !strings.Contains(ref, "`--config`") {
		t.Error("reference misses --config")
	}
}
