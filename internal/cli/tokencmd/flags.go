package tokencmd

import (
	"github.com/spf13/pflag"
)

// serverFlags are the connection settings every command takes.
func serverFlags(fs *pflag.FlagSet, c *Connection) {
	fs.StringVar(&c.Issuer, "server", "", "authorization server issuer URL (endpoints found by discovery)")
	fs.StringVar(&c.TokenEndpoint, "token-endpoint", "", "token endpoint URL (instead of, or overriding, discovery)")
	fs.StringVar(&c.AuthorizationEndpoint, "authorization-endpoint", "", "authorization endpoint URL (code flow)")
	fs.StringVar(&c.JWKSURI, "jwks-uri", "", "JWKS URL used to verify ID tokens")
	fs.StringVar(&c.ClientID, "client-id", "", "client id")
	fs.StringVar(&c.ClientSecret, "client-secret", "", "client secret reference: env:NAME, file:PATH or prompt")
	fs.StringVar(&c.AuthMethod, "auth-method", "", "client authentication: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none")
	fs.StringVar(&c.ClientAssertionAudience, "assertion-audience", "", "aud of client assertions: issuer (default), token_endpoint or a URL")
	fs.StringArrayVar(&c.Scopes, "scope", nil, "scope to request (repeatable, or space-separated)")
	fs.StringArrayVar(&c.Resources, "resource", nil, "RFC 8707 resource indicator (repeatable)")
	fs.StringVar(&c.Proxy, "proxy", "", "HTTP proxy URL, used for every request (http://user:pass@host:port)")
	dpopFlags(fs, c)
	mtlsFlags(fs, c) // RFC 8705 (mtls.go)
}

// keyFlags select a signing key (private_key_jwt and the jwt flow).
func keyFlags(fs *pflag.FlagSet, c *Connection) {
	fs.StringVar(&c.Key, "key", "", "signing key file: PEM (PKCS#1, PKCS#8, EC), PKCS#12 (.p12/.pfx) or JKS")
	fs.StringVar(&c.Cert, "cert", "", "certificate file when the key file has none (sets the default kid)")
	fs.StringVar(&c.Alias, "alias", "", "key store alias (JKS)")
	fs.StringVar(&c.StorePassword, "storepass", "", "key store password reference: env:NAME, file:PATH or prompt")
	fs.StringVar(&c.KeyPassword, "keypass", "", "key entry password reference (JKS; default: the store password)")
	fs.StringVar(&c.KID, "kid", "", "kid header (default: the certificate's x5t#S256, or none without a certificate)")
	fs.StringVar(&c.Alg, "alg", "", "signing algorithm (default RS256 for RSA, ES256/ES384 for EC)")
}

// codeFlags are the authorization code settings.
func codeFlags(fs *pflag.FlagSet, c *Connection) {
	fs.StringVar(&c.RedirectURI, "redirect-uri", "", "loopback redirect URI to listen on (default http://localhost:1717/OauthRedirect)")
	fs.BoolVar(&c.NoBrowser, "no-browser", false, "print the authorization URL instead of opening a browser")
	securedFlags(fs, c)
}

// jwtFlags are the assertion settings; prefix is "" on "token jwt" (as the
// issue names them) and "jwt-" on "connections add".
func jwtFlags(fs *pflag.FlagSet, c *Connection, prefix string, claims *[]string) {
	fs.StringVar(&c.JWTIssuer, prefix+"issuer", "", "assertion iss (default: the client id)")
	fs.StringVar(&c.JWTSubject, prefix+"subject", "", "assertion sub: the user the token is for")
	fs.StringVar(&c.JWTAudience, prefix+"audience", "", "assertion aud (default: the token endpoint)")
	fs.IntVar(&c.JWTExpiresIn, "expires-in", 5, "assertion lifetime in minutes")
	fs.StringArrayVar(claims, "claim", nil, "extra assertion claim name=value (JSON values keep their type; repeatable)")
}
