package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is the YAML configuration file format. Every value is kept as the
// string the operator wrote so that Load can report a bad value with its key
// instead of failing the whole decode on the first type mismatch.
type File struct {
	Listen        string       `yaml:"listen"`
	BaseURL       string       `yaml:"base_url"`
	DataDir       string       `yaml:"data_dir"`
	Storage       string       `yaml:"storage"`
	MasterKeyFile string       `yaml:"master_key_file"`
	MasterKeys    StringList   `yaml:"master_keys"`
	TLS           FileTLS      `yaml:"tls"`
	Log           FileLog      `yaml:"log"`
	Token         FileToken    `yaml:"token"`
	Keys          FileKeys     `yaml:"keys"`
	Admin         FileAdmin    `yaml:"admin"`
	Cache         FileCache    `yaml:"cache"`
	Limits        FileLimits   `yaml:"limits"`
	SMTP          FileSMTP     `yaml:"smtp"`
	Outbound      FileOutbound `yaml:"outbound"`
}

// FileOutbound is the outbound section: the HTTP requests the server makes
// itself (jwks_uri, trusted issuers' keys).
type FileOutbound struct {
	AllowPrivateAddresses string `yaml:"allow_private_addresses"`
	AllowHTTP             string `yaml:"allow_http"`
}

// FileTLS is the tls section.
type FileTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Mutual TLS (RFC 8705; mtls.go).
	ClientCAFile     string     `yaml:"client_ca_file"`
	ClientCertHeader string     `yaml:"client_cert_header"`
	TrustedProxies   StringList `yaml:"trusted_proxies"`
	MTLSBaseURL      string     `yaml:"mtls_base_url"`
}

// FileLog is the log section.
type FileLog struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// FileToken is the token section.
type FileToken struct {
	AccessTokenTTL string `yaml:"access_token_ttl"`
}

// FileKeys is the keys section.
type FileKeys struct {
	SigningAlg            string `yaml:"signing_alg"`
	CryptoBackend         string `yaml:"crypto_backend"`
	RotationPeriod        string `yaml:"rotation_period"`
	RotationCheckInterval string `yaml:"rotation_check_interval"`
}

// FileAdmin is the admin section.
type FileAdmin struct {
	Token string `yaml:"token"`
}

// FileCache is the cache section.
type FileCache struct {
	PollInterval string `yaml:"poll_interval"`
	MaxEntries   string `yaml:"max_entries"`
}

// FileLimits is the limits section.
type FileLimits struct {
	FailedAuthRate  string `yaml:"failed_auth_rate"`
	FailedAuthBurst string `yaml:"failed_auth_burst"`
}

// StringList accepts either a YAML sequence of strings or one
// comma-separated string, the form the environment variable uses.
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = splitList(n.Value)
		return nil
	}
	var items []string
	if err := n.Decode(&items); err != nil {
		return err
	}
	*l = items
	return nil
}

func splitList(s string) StringList {
	var out StringList
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// unknownField matches yaml.v3's KnownFields message so that it can be
// rewritten without the Go type name, which means nothing to an operator.
var unknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type .*$`)

// ReadFile decodes the YAML file at path strictly: unknown keys are errors
// (yaml KnownFields), each reported on its own. An empty file is valid.
func ReadFile(path string) (File, []error) {
	var f File
	raw, err := os.Open(path)
	if err != nil {
		return f, []error{fmt.Errorf("config file: %w", err)}
	}
	defer raw.Close()
	dec := yaml.NewDecoder(raw)
	dec.KnownFields(true)
	err = dec.Decode(&f)
	if err == nil || errors.Is(err, io.EOF) {
		return f, nil
	}
	return f, yamlProblems(path, err)
}

// yamlProblems splits a yaml.TypeError into one error per line so that
// every unknown key or malformed value is listed.
func yamlProblems(path string, err error) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []error{fmt.Errorf("config file %s: %w", path, err)}
	}
	out := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		if m := unknownField.FindStringSubmatch(msg); m != nil {
			msg = "unknown key " + m[2] + " (line " + m[1] + ")"
		}
		out = append(out, fmt.Errorf("config file %s: %s", path, msg))
	}
	return out
}
