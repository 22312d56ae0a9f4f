package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// maxKeyFileSize bounds what LoadOrCreate reads: a key file holds a few
// keys, never megabytes.
const maxKeyFileSize = 1 << 20

// keyFile is the on-disk format:
// {"keys":[{"id":"...","key":"<base64 32 bytes>","created_at":"..."}]}.
// The first key encrypts. "id" is a label for people; ciphertexts carry an
// id derived from the key itself (see KeyID).
type keyFile struct {
	Keys []fileKey `json:"keys"`
}

type fileKey struct {
	ID        string    `json:"id"`
	Key       string    `json:"key"`
	CreatedAt time.Time `json:"created_at"`
}

// LoadOrCreate reads the key file at path, or, when it does not exist,
// creates it (and its directory) with one fresh key and mode 0600. It
// refuses a file that group or others may access, since anyone who reads it
// can decrypt every client secret and signing key.
//
// Creation is safe when several processes start at once: the file appears
// atomically and only once, and a process that loses the race loads the
// winner's key (created is then false).
func LoadOrCreate(path string) (kr *Keyring, created bool, err error) {
	kr, err = load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return kr, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secrets: create directory for key file: %w", err)
	}
	data, err := encodeFile(keyFile{Keys: []fileKey{newFileKey()}})
	if err != nil {
		return nil, false, err
	}
	created, err = createExclusive(path, data)
	if err != nil {
		return nil, false, err
	}
	kr, err = load(path)
	return kr, created && err == nil, err
}

// RotateFile prepends a fresh key to the key file: from the next start it
// encrypts, and the older keys still decrypt. The file is replaced
// atomically and keeps mode 0600.
func RotateFile(path string) error {
	kf, err := readFile(path)
	if err != nil {
		return err
	}
	kf.Keys = append([]fileKey{newFileKey()}, kf.Keys...)
	data, err := encodeFile(kf)
	if err != nil {
		return err
	}
	return replaceAtomic(path, data)
}

func load(path string) (*Keyring, error) {
	kf, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return kf.keyring(path)
}

func readFile(path string) (keyFile, error) {
	if err := checkMode(path); err != nil {
		return keyFile{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return keyFile{}, fmt.Errorf("secrets: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return keyFile{}, fmt.Errorf("secrets: key file %s is too large to be a key file", path)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return keyFile{}, fmt.Errorf("secrets: key file %s is not valid: %w", path, err)
	}
	return kf, nil
}

// checkMode refuses anything but a regular file without group/other
// permission bits. Windows has no such bits; its ACLs are the operator's job.
func checkMode(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("secrets: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("secrets: key file %s has mode %04o and may be read by other users; run: chmod 600 %s",
			path, fi.Mode().Perm(), path)
	}
	return nil
}

func (kf keyFile) keyring(path string) (*Keyring, error) {
	if len(kf.Keys) == 0 {
		return nil, fmt.Errorf("secrets: key file %s holds no keys", path)
	}
	seen := make(map[string]bool, len(kf.Keys))
	raw := make([][]byte, 0, len(kf.Keys))
	for i, fk := range kf.Keys {
		if fk.ID == "" || seen[fk.ID] {
			return nil, fmt.Errorf("secrets: key file %s: key %d needs a unique non-empty id", path, i+1)
		}
		seen[fk.ID] = true
		k, err := decodeKey(fk.Key)
		if err != nil {
			return nil, fmt.Errorf("secrets: key file %s: key %q: %w", path, fk.ID, err)
		}
		raw = append(raw, k)
	}
	kr, err := New(raw...)
	if err != nil {
		return nil, fmt.Errorf("secrets: key file %s: %w", path, err)
	}
	return kr, nil
}

func newFileKey() fileKey {
	k := GenerateKey()
	return fileKey{
		ID:        KeyID(k),
		Key:       base64.StdEncoding.EncodeToString(k),
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
}

func encodeFile(kf keyFile) ([]byte, error) {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("secrets: encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

// createExclusive writes data to a temporary file and hard-links it to path,
// which fails when path exists: the file appears complete or not at all,
// and a concurrent creator never overwrites the key another process already
// uses. It reports whether this call created the file.
func createExclusive(path string, data []byte) (bool, error) {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("secrets: create key file: %w", err)
	}
	return true, syncDir(path)
}

// replaceAtomic writes data to a temporary file and renames it over path.
func replaceAtomic(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("secrets: replace key file: %w", err)
	}
	return syncDir(path)
}

// writeTemp writes data, fsynced, to a new mode-0600 file next to path.
func writeTemp(path string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("secrets: write key file: %w", err)
	}
	name := f.Name()
	err = writeSyncClose(f, data)
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("secrets: write key file: %w", err)
	}
	return name, nil
}

func writeSyncClose(f *os.File, data []byte) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes the new directory entry durable. Not every platform can
// fsync a directory, so failure to open it is not an error.
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil
	}
	defer d.Close()
	if err := d.Sync(); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("secrets: sync key directory: %w", err)
	}
	return nil
}
