package keyscmd

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runKeys(t *testing.T, vars map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	e := &env{stdout: &out, now: time.Now,
		lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		prompt:    func(string) ([]byte, error) { return []byte("prompted1"), nil }}
	cmd := newCommand(e)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestKeysNewAndInspect(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"SP": "storepass1"}
	out, err := runKeys(t, vars, "new", "--type", "ec", "--subject", "CN=my-app,O=Example", "--days", "20",
		"--out-dir", dir, "--name", "app", "--alias", "signer", "--storepass", "env:SP")
	if err != nil || !strings.Contains(out, "x5t#S256") {
		t.Fatalf("%s %v", out, err)
	}
	text, err := runKeys(t, vars, "inspect", filepath.Join(dir, "app.jks"), "--alias", "signer", "--password", "env:SP")
	if err != nil || !strings.Contains(text, "EC P-256") || !strings.Contains(text, "Digital Signature") || !strings.Contains(text, "30 days") {
		t.Fatalf("%s %v", text, err)
	}
	js, err := runKeys(t, vars, "inspect", filepath.Join(dir, "app.pem"), "-o", "json")
	var r map[string]any
	if err != nil || json.Unmarshal([]byte(js), &r) != nil || r["has_private_key"] != false {
		t.Fatalf("%s %v", js, err)
	}
}

func TestKeysNewErrors(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"new", "--subject", "CN=x", "--out-dir", dir, "--storepass", "plainvalue"},
		{"new", "--subject", "CN=x", "--out-dir", dir, "--storepass", "env:NOPE"},
		{"new", "--subject", "", "--out-dir", dir, "--storepass", "prompt"},
		{"new", "--subject", "CN=x", "--bits", "1024", "--out-dir", dir, "--storepass", "prompt"},
		{"inspect", filepath.Join(dir, "missing.pem")},
	}
	for _, args := range cases {
		if _, err := runKeys(t, nil, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
