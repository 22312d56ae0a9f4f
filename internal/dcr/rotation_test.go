package dcr_test

import "testing"

// TestRegistrationAccessTokenRotation: RFC 7592 §3 — every read and
// update answers with a new registration access token and the presented
// one stops working at once, in every process, even one whose cache
// still holds the old token's hash: the check that decides is made on the
// database's row. A refused update rotates nothing. SQLite and
// PostgreSQL, two processes sharing the database.
func TestRegistrationAccessTokenRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		kr := newKeyring(t)
		a := newProcess(t, dsn, kr, true)
		b := newProcess(t, dsn, kr, false)
		md := map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"}
		status, body, _ := a.call("POST", reg, a.iat(1), md)
		if status != 201 {
			t.Fatalf("register: %d %v", status, body)
		}
		id, rat := body["client_id"].(string), body["registration_access_token"].(string)
		uri := reg + "/" + id
		md["client_id"] = id
		refused := func(what, token string) {
			t.Helper()
			for _, p := range []*process{a, b} {
				for _, m := range []string{"GET", "PUT", "DELETE"} {
					var body any
					if m == "PUT" {
						body = md
					}
					if status, resp, h := p.call(m, uri, token, body); status != 401 || resp["error"] != "invalid_token" ||
						h.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: %s answered %d %v", what, m, status, resp)
					}
				}
			}
		}

		status, body, _ = a.call("GET", uri, rat, nil)
		if status != 200 {
			t.Fatalf("read: %d %v", status, body)
		}
		old := rat
		rat = rotated(t, rat, body)
		refused("token rotated by a read", old)

		status, body, _ = a.call("PUT", uri, rat, md)
		if status != 200 {
			t.Fatalf("update: %d %v", status, body)
		}
		old, rat = rat, rotated(t, rat, body)
		refused("token rotated by an update", old)

		// Process b reads the client into its cache through a refused
		// update, which rotates nothing ...
		bad := map[string]any{"client_id": id, "grant_types": []string{"client_credentials"}, "scope": "nope"}
		if status, body, _ := b.call("PUT", uri, rat, bad); status != 400 || body["error"] != "invalid_client_metadata" {
			t.Fatalf("refused update: %d %v", status, body)
		}
		// ... and a rotates the token: b's cache still has the old hash,
		// and the old token is refused there all the same.
		status, body, _ = a.call("GET", uri, rat, nil)
		if status != 200 {
			t.Fatalf("read after a refused update: %d %v", status, body)
		}
		old, rat = rat, rotated(t, rat, body)
		refused("token rotated by another process", old)

		if status, _, _ := a.call("DELETE", uri, rat, nil); status != 204 {
			t.Fatalf("delete with the current token: %d", status)
		}
	})
}

// TestConcurrentManagementOneWinner: the rotation is a single-use gate in
// the database: of concurrent reads and updates presenting the same
// token through two processes, exactly one answers 200 with a new token,
// the others 401 invalid_token, and only the winner's token works after.
// SQLite and PostgreSQL.
func TestConcurrentManagementOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		kr := newKeyring(t)
		procs := []*process{newProcess(t, dsn, kr, true)}
		procs = append(procs, newProcess(t, dsn, kr, false))
		md := map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"}
		status, body, _ := procs[0].call("POST", reg, procs[0].iat(1), md)
		if status != 201 {
			t.Fatalf("register: %d %v", status, body)
		}
		id, rat := body["client_id"].(string), body["registration_access_token"].(string)
		md["client_id"] = id
		const n = 16
		type answer struct {
			proc   int
			status int
			body   map[string]any
		}
		answers := make(chan answer, n)
		start := make(chan struct{})
		for i := range n {
			go func() {
				p, method, body := procs[i%2], "GET", any(nil)
				if i%4 >= 2 {
					method, body = "PUT", md
				}
				<-start
				status, resp, _ := p.call(method, reg+"/"+id, rat, body)
				answers <- answer{i % 2, status, resp}
			}()
		}
		close(start)
		var winners []answer
		for range n {
			switch a := <-answers; {
			case a.status == 200:
				winners = append(winners, a)
			case a.status != 401 || a.body["error"] != "invalid_token":
				t.Errorf("unexpected answer %d %v", a.status, a.body)
			}
		}
		if len(winners) != 1 {
			t.Fatalf("%d requests got a new token with one old token, want 1", len(winners))
		}
		next := rotated(t, rat, winners[0].body)
		for _, p := range procs {
			if status, resp, _ := p.call("GET", reg+"/"+id, rat, nil); status != 401 {
				t.Errorf("old token after the race: %d %v", status, resp)
			}
		}
		status, body, _ = procs[winners[0].proc].call("GET", reg+"/"+id, next, nil)
		if status != 200 {
			t.Fatalf("winner's token: %d %v", status, body)
		}
	})
}
