package console_test

import (
	"regexp"
	"testing"
)

var encKeyRowRE = regexp.MustCompile(`<td class="mono">([^<]+)</td><td>RSA-OAEP-256</td><td><span class="badge">(active|previous)</span>`)

// encKeyRows reads the request object encryption keys table of the keys
// page as "kid:state".
func encKeyRows(body string) []string {
	var out []string
	for _, m := range encKeyRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return out
}

// TestConsoleEncryptionKeys: the keys page lists the request object
// encryption key, "Rotate encryption key" makes a new active key and
// keeps the old one as previous, the active key has no remove control
// and is refused if posted anyway (409), removing without the
// confirmation box is refused (400), and removing the previous key with
// it leaves only the active key (docs/security.md T12a).
func TestConsoleEncryptionKeys(t *testing.T) {
	e := startServer(t)
	root := e.browser()
	tok := root.setupAdmin(t)
	resp, body := root.get("/console/w/default/keys")
	wantStatus(t, "keys page", resp, 200)
	first := encKeyRows(body)
	if len(first) != 1 || first[0][len(first[0])-len(":active"):] != ":active" {
		t.Fatalf("encryption keys before rotation: %v, want one active key", first)
	}
	oldKID := first[0][:len(first[0])-len(":active")]

	resp, body = root.post("/console/w/default/encryption-keys/rotate", map[string][]string{"csrf_token": {tok}})
	wantStatus(t, "rotate encryption key", resp, 200)
	rows := encKeyRows(body)
	if len(rows) != 2 || rows[1] != oldKID+":previous" || rows[0] == oldKID+":active" {
		t.Fatalf("after rotation: %v, want a new active key and %s previous", rows, oldKID)
	}
	newKID := rows[0][:len(rows[0])-len(":active")]

	resp, _ = root.post("/console/w/default/encryption-keys/"+newKID+"/delete", map[string][]string{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "remove the active encryption key", resp, 409)
	resp, _ = root.post("/console/w/default/encryption-keys/"+oldKID+"/delete", map[string][]string{"csrf_token": {tok}})
	wantStatus(t, "remove without confirmation", resp, 400)
	resp, _ = root.post("/console/w/default/encryption-keys/"+oldKID+"/delete", map[string][]string{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "remove the previous encryption key", resp, 200)
	_, body = root.get("/console/w/default/keys")
	if rows := encKeyRows(body); len(rows) != 1 || rows[0] != newKID+":active" {
		t.Fatalf("after removal: %v, want only %s active", rows, newKID)
	}
}
