package tokencmd

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

// securedFlags protect the code flow's request and response: pushed
// (RFC 9126), signed as a request object (RFC 9101) and answered as a
// verified JWT (JARM).
func securedFlags(fs *pflag.FlagSet, c *Connection) {
	fs.BoolVar(&c.PAR, "par", false, "push the authorization request to the server's PAR endpoint first (RFC 9126)")
	fs.BoolVar(&c.RequestObject, "request-object", false,
		"send the authorization request as a request object signed with --key (RFC 9101)")
	fs.StringVar(&c.ResponseMode, "response-mode", "",
		"\"jwt\": ask for a JWT-secured authorization response and verify it with the server's JWKS (JARM)")
	fs.StringVar(&c.ResponseKey, "response-key", "",
		"key file (PEM, PKCS#12 or JKS without password) that decrypts an encrypted JWT response; "+
			"given, an unencrypted response is refused (default: --key)")
}

// secured turns the connection's settings into oauthclient's and gives
// the client the key request objects are signed with (the one
// private_key_jwt uses, also when the client authenticates otherwise).
func secured(c Connection, cl *oauthclient.Client, key *keystore.Contents) (oauthclient.Secured, error) {
	s := oauthclient.Secured{PAR: c.PAR, RequestObject: c.RequestObject}
	switch c.ResponseMode {
	case "":
	case "jwt":
		s.JWTResponse = true
	default:
		return s, fmt.Errorf("--response-mode %q: only \"jwt\" (JARM) is offered; plain modes need no flag", c.ResponseMode)
	}
	if err := responseDecryption(c, key, &s); err != nil {
		return s, err
	}
	if s.RequestObject && cl.Auth.Key == nil {
		if key == nil {
			return s, errors.New("--request-object needs the client's signing key: --key FILE (PEM, PKCS#12 or JKS)")
		}
		cl.Auth.Key, cl.Auth.KeyID = key.Signer, firstNonEmpty(c.KID, key.DefaultKID())
	}
	return s, nil
}

// responseDecryption gives the code flow the key that opens a JWT
// response encrypted to the client (JARM §2.2): the --response-key file
// (a client usually registers a separate "use": "enc" key), or else the
// client's --key, which then also decrypts when the server encrypts.
func responseDecryption(c Connection, key *keystore.Contents, s *oauthclient.Secured) error {
	if c.ResponseKey == "" {
		if key != nil {
			s.DecryptionKey = key.Signer
		}
		return nil
	}
	if !s.JWTResponse {
		return errors.New("--response-key decrypts JWT responses: add --response-mode jwt")
	}
	k, err := keystore.Load(c.ResponseKey, keystore.Options{})
	if err != nil {
		return err
	}
	if k.Signer == nil {
		return fmt.Errorf("%s holds no private key", c.ResponseKey)
	}
	s.DecryptionKey, s.RequireEncryption = k.Signer, true
	return nil
}
