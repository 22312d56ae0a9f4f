package config

import "strings"

// Setting describes one configuration key: where it can be set and what it
// means. The table returned by Settings is the single source for the
// environment lookup, the CLI flags and Reference.
type Setting struct {
	Key         string // dotted YAML key, e.g. "tls.cert_file"
	Env         string // environment variable
	Flag        string // long flag name without dashes; "" when there is none
	Default     string // the default, as documentation
	Description string
	// Secret settings are never echoed back in errors or listings.
	Secret bool

	field func(*File) *string
	list  func(*File) *StringList
}

// set stores a raw value (from the environment or a flag) into f.
func (s Setting) set(f *File, v string) {
	if s.list != nil {
		*s.list(f) = splitList(v)
		return
	}
	*s.field(f) = v
}

// isSet reports whether f holds a value for s.
func (s Setting) isSet(f *File) bool {
	if s.list != nil {
		return len(*s.list(f)) > 0
	}
	return strings.TrimSpace(*s.field(f)) != ""
}

// EnvConfigFile names the environment variable holding the config file path.
const EnvConfigFile = "LATCHKEY_CONFIG"

func str(key, env, flag, def, desc string, field func(*File) *string) Setting {
	return Setting{Key: key, Env: env, Flag: flag, Default: def, Description: desc, field: field}
}

// Settings returns every configuration key in documentation order.
func Settings() []Setting {
	s := []Setting{
		str("listen", "LATCHKEY_LISTEN", "listen", DefaultListen,
			"TCP address to listen on (host:port; port 0 picks a free port).",
			func(f *File) *string { return &f.Listen }),
		str("base_url", "LATCHKEY_BASE_URL", "base-url", "`http://` + listen",
			"Public base URL; workspace issuers are `{base_url}/w/{workspace}`. Never taken from request headers.",
			func(f *File) *string { return &f.BaseURL }),
		str("data_dir", "LATCHKEY_DATA_DIR", "data-dir", "`$XDG_DATA_HOME/latchkey`, else `~/.local/share/latchkey`, else `./latchkey-data`",
			"Directory for the SQLite database and the master key file (created with mode 0700).",
			func(f *File) *string { return &f.DataDir }),
		str("storage", "LATCHKEY_STORAGE", "storage", "`sqlite:<data_dir>/latchkey.db`",
			"Storage DSN: `sqlite:<path>` or `postgres://user@host:port/db?sslmode=...`.",
			func(f *File) *string { return &f.Storage }),
		str("master_key_file", "LATCHKEY_MASTER_KEY_FILE", "master-key-file", "`<data_dir>/master.key`",
			"Master key file (mode 0600) encrypting client secrets and signing keys; created on first start.",
			func(f *File) *string { return &f.MasterKeyFile }),
		{Key: "master_keys", Env: "LATCHKEY_MASTER_KEYS", Default: "(none)", Secret: true,
			Description: "Master keys given directly instead of a file: base64 of 32 bytes each, comma-separated in the environment; the first encrypts, all decrypt.",
			list:        func(f *File) *StringList { return &f.MasterKeys }},
		str("tls.cert_file", "LATCHKEY_TLS_CERT_FILE", "tls-cert", "(none)",
			"PEM certificate chain; with tls.key_file the server speaks HTTPS (TLS 1.2 or later).",
			func(f *File) *string { return &f.TLS.CertFile }),
		str("tls.key_file", "LATCHKEY_TLS_KEY_FILE", "tls-key", "(none)",
			"PEM private key of tls.cert_file.",
			func(f *File) *string { return &f.TLS.KeyFile }),
		str("tls.client_ca_file", "LATCHKEY_TLS_CLIENT_CA_FILE", "tls-client-ca", "(none)",
			"PEM bundle of the CAs that issue certificates of tls_client_auth clients (RFC 8705 §2.1) on direct TLS connections; without it only self_signed_tls_client_auth works there.",
			func(f *File) *string { return &f.TLS.ClientCAFile }),
		str("tls.client_cert_header", "LATCHKEY_TLS_CLIENT_CERT_HEADER", "tls-client-cert-header", "(none)",
			"Header in which a TLS-terminating proxy passes the client certificate as URL-encoded PEM (nginx `$ssl_client_escaped_cert`); honoured only from tls.trusted_proxies.",
			func(f *File) *string { return &f.TLS.ClientCertHeader }),
		{Key: "tls.trusted_proxies", Env: "LATCHKEY_TLS_TRUSTED_PROXIES", Flag: "tls-trusted-proxies", Default: "(none)",
			Description: "Addresses or CIDR ranges of the proxies whose tls.client_cert_header is believed; comma-separated in the environment.",
			list:        func(f *File) *StringList { return &f.TLS.TrustedProxies }},
		str("tls.mtls_base_url", "LATCHKEY_TLS_MTLS_BASE_URL", "tls-mtls-base-url", "base_url when the server speaks TLS",
			"Base URL of the mutual-TLS endpoints published as mtls_endpoint_aliases (RFC 8705 §5), e.g. a proxy host that requests client certificates.",
			func(f *File) *string { return &f.TLS.MTLSBaseURL }),
		str("log.level", "LATCHKEY_LOG_LEVEL", "log-level", "info",
			"Log level: debug, info, warn or error.",
			func(f *File) *string { return &f.Log.Level }),
		str("log.format", "LATCHKEY_LOG_FORMAT", "log-format", "json",
			"Log format: json or text.",
			func(f *File) *string { return &f.Log.Format }),
		str("token.access_token_ttl", "LATCHKEY_TOKEN_ACCESS_TOKEN_TTL", "access-token-ttl", "1h",
			"Default access token lifetime (Go duration, 1m to 24h); workspaces and clients may override it.",
			func(f *File) *string { return &f.Token.AccessTokenTTL }),
		str("keys.signing_alg", "LATCHKEY_KEYS_SIGNING_ALG", "signing-alg", "RS256",
			"Signing algorithm of new workspaces' keys: RS256, ES256, PS256 or EdDSA.",
			func(f *File) *string { return &f.Keys.SigningAlg }),
		str("keys.crypto_backend", "LATCHKEY_KEYS_CRYPTO_BACKEND", "crypto-backend", "auto",
			"Who makes private-key signatures: auto (the system's OpenSSL 3 libcrypto when it loads, else Go's crypto), openssl (fail to start without it) or go. RSA signs about 3-4 times faster on OpenSSL; EdDSA always uses Go.",
			func(f *File) *string { return &f.Keys.CryptoBackend }),
		str("keys.rotation_period", "LATCHKEY_KEYS_ROTATION_PERIOD", "", "2160h (90 days)",
			"How long a signing key stays active before scheduled rotation; 0 disables scheduled rotation.",
			func(f *File) *string { return &f.Keys.RotationPeriod }),
		str("keys.rotation_check_interval", "LATCHKEY_KEYS_ROTATION_CHECK_INTERVAL", "", "1m",
			"How often the key scheduler looks for keys to rotate or purge (1s to 1h).",
			func(f *File) *string { return &f.Keys.RotationCheckInterval }),
		{Key: "admin.token", Env: "LATCHKEY_ADMIN_TOKEN", Default: "(generated on first start, printed once)", Secret: true,
			Description: "Admin API bearer token (at least 32 characters). When unset and none is stored, one is generated and printed once.",
			field:       func(f *File) *string { return &f.Admin.Token }},
		str("cache.poll_interval", "LATCHKEY_CACHE_POLL_INTERVAL", "", "500ms",
			"How often each process polls the database for changes made by other processes (10ms to 1m).",
			func(f *File) *string { return &f.Cache.PollInterval }),
		str("cache.max_entries", "LATCHKEY_CACHE_MAX_ENTRIES", "", "10000",
			"How many clients (and, separately, user lookups, policies, certificates, ...) each process keeps in memory; the least recently used are evicted past it (100 to 10000000).",
			func(f *File) *string { return &f.Cache.MaxEntries }),
		str("limits.failed_auth_rate", "LATCHKEY_LIMITS_FAILED_AUTH_RATE", "", "1",
			"Failed client authentications allowed per second, per client, per IP and per client-and-IP pair, after the burst. Past it failures answer `429`; a pair that spent its budget guessing secrets (new wrong secrets) is paused: `429` without its credentials being checked, until the budget refills (docs/security.md M7).",
			func(f *File) *string { return &f.Limits.FailedAuthRate }),
		str("limits.failed_auth_burst", "LATCHKEY_LIMITS_FAILED_AUTH_BURST", "", "20",
			"Failed client authentications allowed in a burst, per client, per IP and per client-and-IP pair.",
			func(f *File) *string { return &f.Limits.FailedAuthBurst }),
		str("smtp.host", "LATCHKEY_SMTP_HOST", "", "(none)",
			"SMTP server for console mail (one-time codes). Without it mail stays in the outbox the super admin reads in the console.",
			func(f *File) *string { return &f.SMTP.Host }),
		str("smtp.port", "LATCHKEY_SMTP_PORT", "", "587 (465 with tls)",
			"SMTP port.", func(f *File) *string { return &f.SMTP.Port }),
		str("smtp.tls", "LATCHKEY_SMTP_TLS", "", "starttls",
			"SMTP transport security: none, starttls or tls (implicit, port 465).", func(f *File) *string { return &f.SMTP.TLS }),
		str("smtp.username", "LATCHKEY_SMTP_USERNAME", "", "(none)",
			"SMTP AUTH PLAIN user name; empty sends without authentication.", func(f *File) *string { return &f.SMTP.Username }),
		{Key: "smtp.password", Env: "LATCHKEY_SMTP_PASSWORD", Default: "(none)", Secret: true,
			Description: "SMTP password (set it in the environment rather than the file).",
			field:       func(f *File) *string { return &f.SMTP.Password }},
		str("smtp.from", "LATCHKEY_SMTP_FROM", "", "(required with smtp.host)",
			"Sender address of console mail.", func(f *File) *string { return &f.SMTP.From }),
		str("outbound.allow_private_addresses", "LATCHKEY_OUTBOUND_ALLOW_PRIVATE_ADDRESSES", "", "false",
			"Let jwks_uri and other URLs the server fetches resolve to loopback or private addresses (SSRF protection off for them; only for internal JWKS servers).",
			func(f *File) *string { return &f.Outbound.AllowPrivateAddresses }),
		str("outbound.allow_http", "LATCHKEY_OUTBOUND_ALLOW_HTTP", "", "false",
			"Let URLs the server fetches use plain http instead of https.",
			func(f *File) *string { return &f.Outbound.AllowHTTP }),
	}
	return s
}

// lookupSetting returns the setting with the given key.
func lookupSetting(key string) (Setting, bool) {
	for _, s := range Settings() {
		if s.Key == key || (s.Flag != "" && s.Flag == key) {
			return s, true
		}
	}
	return Setting{}, false
}
