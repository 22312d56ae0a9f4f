package secrets

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateCreatesFileWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "master.key")
	kr, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate = %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %04o, want 0600", fi.Mode().Perm())
	}
	ct, _ := kr.Encrypt([]byte("x"), nil)

	again, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate = %v, %v", created, err)
	}
	if got, err := again.Decrypt(ct, nil); err != nil || string(got) != "x" {
		t.Fatalf("reloaded keyring cannot decrypt: %v", err)
	}
	assertNoTempFiles(t, filepath.Dir(path))
}

// TestLoadOrCreateConcurrent: processes starting at once must end up with
// the same key, never one overwriting the other's.
func TestLoadOrCreateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	ids := make([]string, n)
	createdCount := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kr, created, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[i] = kr.CurrentKeyID()
			if created {
				createdCount++
			}
		})
	}
	wg.Wait()
	if createdCount != 1 {
		t.Fatalf("%d callers report creating the file, want 1", createdCount)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatal("callers got different keys")
		}
	}
}

func TestLoadOrCreateRefusesGroupOrOtherAccess(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX permission bits on Windows")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		path := filepath.Join(t.TempDir(), "master.key")
		if _, _, err := LoadOrCreate(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreate(path)
		if err == nil {
			t.Fatalf("mode %04o accepted", mode)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("error does not name the file and the fix: %v", err)
		}
		if err := RotateFile(path); err == nil {
			t.Fatalf("RotateFile accepted mode %04o", mode)
		}
	}
}

func TestLoadRejectsInvalidFiles(t *testing.T) {
	good := `{"id":"k1","key":"` + strings.Repeat("A", 43) + `="}`
	cases := map[string]string{
		"NotJSON":       "not json",
		"NoKeys":        `{"keys":[]}`,
		"ShortKey":      `{"keys":[{"id":"k1","key":"AAAA"}]}`,
		"BadBase64":     `{"keys":[{"id":"k1","key":"%%%"}]}`,
		"MissingID":     `{"keys":[{"key":"` + strings.Repeat("A", 43) + `="}]}`,
		"DuplicateID":   `{"keys":[` + good + `,` + strings.Replace(good, "AAAA", "AAAB", 1) + `]}`,
		"DuplicateKey":  `{"keys":[` + good + `,` + strings.Replace(good, "k1", "k2", 1) + `]}`,
		"UnknownFields": `{"keys":[` + good + `],"extra":1}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := LoadOrCreate(path); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestLoadRejectsDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("a directory was accepted as key file")
	}
}

func TestRotateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	before, _, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("client-secret\x00ws\x00c")
	oldCT, _ := before.Encrypt([]byte("old"), aad)
	if err := RotateFile(path); err != nil {
		t.Fatal(err)
	}
	after, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("reload after rotation: %v, %v", created, err)
	}
	if after.Len() != 2 || after.CurrentKeyID() == before.CurrentKeyID() {
		t.Fatal("rotation did not prepend a new key")
	}
	if got, err := after.Decrypt(oldCT, aad); err != nil || string(got) != "old" {
		t.Fatalf("old ciphertext after rotation: %v", err)
	}
	if after.IsCurrent(oldCT) {
		t.Fatal("old ciphertext reported current")
	}
	fi, _ := os.Stat(path)
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after rotation = %04o", fi.Mode().Perm())
	}
	var kf keyFile
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &kf); err != nil || kf.Keys[0].ID != after.CurrentKeyID() {
		t.Fatalf("file ids do not label the keys: %v", err)
	}
	assertNoTempFiles(t, filepath.Dir(path))
}

func TestRotateFileMissing(t *testing.T) {
	if err := RotateFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("rotating a missing file succeeded")
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}
