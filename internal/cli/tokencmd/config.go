package tokencmd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"gopkg.in/yaml.v3"
)

// ConfigEnv overrides the connections file path (tests, several setups).
const ConfigEnv = "LATCHKEY_TOKEN_CONFIG"

// Connection is one named profile. Secret fields hold references, see
// resolveSecret.
type Connection struct {
	Issuer                  string   `yaml:"issuer,omitempty"`
	TokenEndpoint           string   `yaml:"token_endpoint,omitempty"`
	AuthorizationEndpoint   string   `yaml:"authorization_endpoint,omitempty"`
	JWKSURI                 string   `yaml:"jwks_uri,omitempty"`
	ClientID                string   `yaml:"client_id,omitempty"`
	ClientSecret            string   `yaml:"client_secret,omitempty"`
	AuthMethod              string   `yaml:"auth_method,omitempty"`
	ClientAssertionAudience string   `yaml:"client_assertion_audience,omitempty"`
	Flow                    string   `yaml:"flow"`
	Scopes                  []string `yaml:"scopes,omitempty"`
	Resources               []string `yaml:"resources,omitempty"`
	Audience                string   `yaml:"audience,omitempty"`
	Proxy                   string   `yaml:"proxy,omitempty"`

	Key           string `yaml:"key,omitempty"`
	Cert          string `yaml:"cert,omitempty"`
	Alias         string `yaml:"alias,omitempty"`
	StorePassword string `yaml:"store_password,omitempty"`
	KeyPassword   string `yaml:"key_password,omitempty"`
	KID           string `yaml:"kid,omitempty"`
	Alg           string `yaml:"alg,omitempty"`

	JWTIssuer    string            `yaml:"jwt_issuer,omitempty"`
	JWTSubject   string            `yaml:"jwt_subject,omitempty"`
	JWTAudience  string            `yaml:"jwt_audience,omitempty"`
	JWTExpiresIn int               `yaml:"jwt_expires_in,omitempty"` // minutes
	JWTClaims    map[string]string `yaml:"jwt_claims,omitempty"`

	RedirectURI string `yaml:"redirect_uri,omitempty"`
	NoBrowser   bool   `yaml:"no_browser,omitempty"`

	// PAR, RequestObject and ResponseMode ("jwt") secure the code flow
	// (secured.go).
	PAR           bool   `yaml:"par,omitempty"`
	RequestObject bool   `yaml:"request_object,omitempty"`
	ResponseMode  string `yaml:"response_mode,omitempty"`
	// ResponseKey decrypts JWT responses encrypted to the client.
	ResponseKey string `yaml:"response_key,omitempty"`

	// DPoP asks for DPoP-bound tokens (RFC 9449), with the key in
	// DPoPKey or a key generated per run (dpop.go).
	DPoP    bool   `yaml:"dpop,omitempty"`
	DPoPKey string `yaml:"dpop_key,omitempty"`

	// TLSClientCert and TLSClientKey are the TLS client certificate of
	// mutual TLS (RFC 8705), TLSCA the CAs trusted for the server
	// (mtls.go).
	TLSClientCert string `yaml:"tls_client_cert,omitempty"`
	TLSClientKey  string `yaml:"tls_client_key,omitempty"`
	TLSCA         string `yaml:"tls_ca,omitempty"`
}

// The flows a connection can use.
const (
	FlowClientCredentials = "client_credentials"
	FlowJWT               = "jwt"
	FlowCode              = "code"
)

type configFile struct {
	Connections map[string]Connection `yaml:"connections"`
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("connection name %q: use letters, digits, '.', '_' and '-' (at most 64)", name)
	}
	return nil
}

// configPath is $LATCHKEY_TOKEN_CONFIG or the user config dir's file.
func configPath(getenv func(string) string) (string, error) {
	if p := getenv(ConfigEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory (set %s): %w", ConfigEnv, err)
	}
	return filepath.Join(dir, "latchkey", "connections.yaml"), nil
}

func loadConfig(path string) (*configFile, error) {
	cf := &configFile{Connections: map[string]Connection{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cf, nil
	}
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, cf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cf.Connections == nil {
		cf.Connections = map[string]Connection{}
	}
	return cf, nil
}

// save writes the file atomically with mode 0600 (it may hold secret
// references that reveal where secrets are, or an inline secret).
func (cf *configFile) save(path string) error {
	data, err := yaml.Marshal(cf)
	if err != nil {
		return err
	}
	return writePrivate(path, data)
}

func writePrivate(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (cf *configFile) names() []string {
	out := make([]string, 0, len(cf.Connections))
	for n := range cf.Connections {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (cf *configFile) get(name string) (Connection, error) {
	c, ok := cf.Connections[name]
	if !ok {
		return c, fmt.Errorf("no connection %q (see: latchkey token connections list)", name)
	}
	return c, nil
}

// fingerprint changes whenever the connection does, so a cached token
// obtained with old settings is not reused.
func (c Connection) fingerprint() string {
	data, _ := yaml.Marshal(c)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
