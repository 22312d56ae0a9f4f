package clientauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"

	"github.com/latchkey/latchkey/internal/storage"
)

// dummyAAD binds the dummy ciphertext to a purpose no real secret uses.
var dummyAAD = []byte("client-secret\x00\x00latchkey-dummy")

// secretAAD is the associated data client secrets are encrypted with
// (docs/architecture.md), binding each ciphertext to its workspace and
// client so that a ciphertext copied to another row does not decrypt.
func secretAAD(wsID, clientID string) []byte {
	return []byte("client-secret\x00" + wsID + "\x00" + clientID)
}

// checkSecret compares the presented secret with the stored one in constant
// time over the full value (D3). Expiry is reported only after a correct
// secret, so it tells nothing to someone who does not know the secret.
func (a *Authenticator) checkSecret(wsID string, client storage.Client, given []string) error {
	if len(client.SecretCiphertext) == 0 {
		a.dummyCompare(given)
		return failed(errNoSecret)
	}
	plain, err := a.decryptSecret(wsID, client)
	if err != nil {
		return err
	}
	defer clear(plain)
	if !matchAny(plain, given) {
		return failed(errWrongSecret)
	}
	return a.checkSecretExpiry(client)
}

func (a *Authenticator) checkSecretExpiry(client storage.Client) error {
	if !client.SecretExpiresAt.IsZero() && !a.now().Before(client.SecretExpiresAt) {
		return invalidClient("client secret has expired", errSecretExpired)
	}
	return nil
}

func (a *Authenticator) decryptSecret(wsID string, client storage.Client) ([]byte, error) {
	if a.Keyring == nil {
		return nil, serverError(errNoKeyring)
	}
	plain, err := a.Keyring.Decrypt(client.SecretCiphertext, secretAAD(wsID, client.ID))
	if err != nil {
		return nil, serverError(err)
	}
	return plain, nil
}

func matchAny(plain []byte, given []string) bool {
	match := 0
	for _, g := range given {
		match |= subtle.ConstantTimeCompare(plain, []byte(g))
	}
	return match == 1 && len(plain) > 0
}

// dummyCompare does the work of a real secret check (one AES-GCM decryption
// and a constant-time compare) for requests naming an unknown client, so the
// response time does not reveal which client IDs exist (D2).
func (a *Authenticator) dummyCompare(given []string) {
	if a.Keyring == nil {
		return
	}
	a.dummyOnce.Do(func() {
		buf := make([]byte, 32)
		_, _ = rand.Read(buf)
		a.dummy, _ = a.Keyring.Encrypt([]byte(base64.RawURLEncoding.EncodeToString(buf)), dummyAAD)
	})
	if plain, err := a.Keyring.Decrypt(a.dummy, dummyAAD); err == nil {
		matchAny(plain, given)
	}
}
