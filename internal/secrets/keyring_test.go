package secrets

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func mustNew(t *testing.T, keys ...[]byte) *Keyring {
	t.Helper()
	kr, err := New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestRoundTrip(t *testing.T) {
	kr := mustNew(t, GenerateKey())
	aad := []byte("client-secret\x00ws\x00client")
	for _, plain := range [][]byte{{}, []byte("s"), bytes.Repeat([]byte("x"), 4096)} {
		ct, err := kr.Encrypt(plain, aad)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) >= 16 && bytes.Contains(ct, plain) {
			t.Fatal("ciphertext contains the plaintext")
		}
		got, err := kr.Decrypt(ct, aad)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip: got %q", got)
		}
	}
}

func TestEncryptUsesFreshNonces(t *testing.T) {
	kr := mustNew(t, GenerateKey())
	a, _ := kr.Encrypt([]byte("same"), nil)
	b, _ := kr.Encrypt([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of the same plaintext are identical")
	}
}

func TestDecryptFailures(t *testing.T) {
	key := GenerateKey()
	kr := mustNew(t, key)
	aad := []byte("client-secret\x00ws\x00a")
	ct, _ := kr.Encrypt([]byte("secret"), aad)
	flip := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	cases := []struct {
		name string
		kr   *Keyring
		ct   []byte
		aad  []byte
		want error
	}{
		{"AADMismatch_ClientMoved", kr, ct, []byte("client-secret\x00ws\x00b"), ErrDecrypt},
		{"AADMissing", kr, ct, nil, ErrDecrypt},
		{"WrongKey", mustNew(t, GenerateKey()), ct, aad, ErrUnknownKey},
		{"TamperedVersion", kr, flip(0), aad, ErrMalformed},
		{"TamperedKeyID", kr, flip(1), aad, ErrUnknownKey},
		{"TamperedNonce", kr, flip(headerSize), aad, ErrDecrypt},
		{"TamperedBody", kr, flip(headerSize + nonceSize), aad, ErrDecrypt},
		{"TamperedTag", kr, flip(len(ct) - 1), aad, ErrDecrypt},
		{"Truncated", kr, ct[:overhead-1], aad, ErrMalformed},
		{"Empty", kr, nil, aad, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.kr.Decrypt(tc.ct, tc.aad)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got != nil {
				t.Fatal("plaintext returned on error")
			}
		})
	}
}

func TestKeyIDDerivedFromKey(t *testing.T) {
	// Key ids are derived from the key: the same key always has the same
	// id, and distinct keys have distinct ids.
	a, b := GenerateKey(), GenerateKey()
	if KeyID(a) == KeyID(b) || KeyID(a) != KeyID(bytes.Clone(a)) {
		t.Fatal("two random keys share an id")
	}
}

// TestRotation covers SECURITY.md D8/P3: the new key encrypts, old
// ciphertexts still decrypt, and IsCurrent tells them apart.
func TestRotation(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	before := mustNew(t, oldKey)
	after := mustNew(t, newKey, oldKey)
	aad := []byte("signing-key\x00ws\x00kid")
	oldCT, _ := before.Encrypt([]byte("old"), aad)
	if got, err := after.Decrypt(oldCT, aad); err != nil || string(got) != "old" {
		t.Fatalf("old ciphertext after rotation: %q, %v", got, err)
	}
	if after.IsCurrent(oldCT) || !before.IsCurrent(oldCT) {
		t.Fatal("IsCurrent does not track the first key")
	}
	newCT, _ := after.Encrypt([]byte("new"), aad)
	if !after.IsCurrent(newCT) {
		t.Fatal("new ciphertext is not under the new key")
	}
	if _, err := before.Decrypt(newCT, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old keyring decrypted a new-key ciphertext: %v", err)
	}
	if after.CurrentKeyID() != KeyID(newKey) {
		t.Fatal("CurrentKeyID is not the first key")
	}
}

func TestIsCurrentGarbage(t *testing.T) {
	kr := mustNew(t, GenerateKey())
	for _, c := range [][]byte{nil, {formatVersion}, {0x02, 1, 2, 3, 4, 5, 6, 7, 8}} {
		if kr.IsCurrent(c) {
			t.Fatalf("IsCurrent(%x) = true", c)
		}
	}
}

func TestNewValidation(t *testing.T) {
	k := GenerateKey()
	cases := map[string][][]byte{
		"NoKeys":    nil,
		"Short":     {make([]byte, 16)},
		"Long":      {make([]byte, 64)},
		"Duplicate": {k, k},
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New(keys...); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestFromBase64List(t *testing.T) {
	k1, k2 := GenerateKey(), GenerateKey()
	std := base64.StdEncoding.EncodeToString
	url := base64.RawURLEncoding.EncodeToString
	kr, err := FromBase64List(" " + std(k1) + " ," + url(k2))
	if err != nil {
		t.Fatal(err)
	}
	if kr.Len() != 2 || kr.CurrentKeyID() != KeyID(k1) {
		t.Fatal("first key of the list must encrypt")
	}
	ct, _ := mustNew(t, k2).Encrypt([]byte("x"), nil)
	if _, err := kr.Decrypt(ct, nil); err != nil {
		t.Fatalf("second key does not decrypt: %v", err)
	}
	bad := map[string]string{
		"Empty":      "",
		"EmptyItem":  std(k1) + ",",
		"NotBase64":  "!!!!",
		"ShortKey":   std(make([]byte, 31)),
		"Duplicated": std(k1) + "," + url(k1),
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := FromBase64List(s)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), std(k1)) {
				t.Fatal("error message contains key material")
			}
		})
	}
}

func FuzzDecrypt(f *testing.F) {
	kr, _ := New(bytes.Repeat([]byte{7}, KeySize))
	ct, _ := kr.Encrypt([]byte("seed"), []byte("aad"))
	f.Add(ct, []byte("aad"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{formatVersion, 0, 0}, []byte("x"))
	f.Fuzz(func(t *testing.T, c, aad []byte) {
		plain, err := kr.Decrypt(c, aad)
		// Only genuine ciphertexts (the seed, made under this fixed key)
		// may open; anything the fuzzer derives from them must not.
		if err == nil && (string(aad) != "aad" || string(plain) != "seed") {
			t.Fatalf("forged ciphertext accepted: %x", c)
		}
		_ = kr.IsCurrent(c)
	})
}
