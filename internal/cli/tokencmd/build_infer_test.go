package tokencmd

import (
	"testing"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient"
)

func TestInferAuthMethod(t *testing.T) {
	key := &keystore.Contents{}
	for name, tc := range map[string]struct {
		method oauthclient.AuthMethod
		conn   Connection
		key    *keystore.Contents
		want   oauthclient.AuthMethod
	}{
		"explicit wins":           {oauthclient.AuthClientSecretPost, Connection{ClientSecret: "env:X"}, nil, oauthclient.AuthClientSecretPost},
		"secret means basic":      {"", Connection{ClientSecret: "env:X", Flow: FlowClientCredentials}, nil, oauthclient.AuthClientSecretBasic},
		"key means private_key":   {"", Connection{Flow: FlowClientCredentials}, key, oauthclient.AuthPrivateKeyJWT},
		"jwt flow key is grant's": {"", Connection{Flow: FlowJWT}, key, ""},
		"nothing stays nothing":   {"", Connection{Flow: FlowJWT}, nil, ""},
	} {
		if got := inferAuthMethod(tc.method, tc.conn, tc.key); got != tc.want {
			t.Errorf("%s: got %q, want %q", name, got, tc.want)
		}
	}
}
