package dcr_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// sectorDoc is the sector identifier document the tests' fetcher serves.
const sectorDoc = "https://sector.example/redirects.json"

// withSectors makes the service fetch sector identifier documents from
// docs, counting the fetches. Like the server's fetcher (an SSRF-safe
// client) it refuses URLs the server may not fetch.
func withSectors(svc *service.Service, docs map[string][]string) *atomic.Int32 {
	var fetches atomic.Int32
	svc.FetchSector = func(_ context.Context, uri string) ([]string, error) {
		if err := ssrf.ValidateURL(uri, false); err != nil {
			return nil, err
		}
		fetches.Add(1)
		if d, ok := docs[uri]; ok {
			return d, nil
		}
		return nil, errors.New("not found")
	}
	return &fetches
}

// TestRegisterOpenIDConnectMetadata: the OpenID Connect Dynamic Client
// Registration 1.0 §2 metadata a Latchkey client keeps (subject_type,
// sector_identifier_uri, id_token_signed_response_alg, require_auth_time)
// and RP-Initiated Logout 1.0 §3.1 post_logout_redirect_uris are stored,
// returned in the registration response (§3.2) and in the RFC 7592 read
// and update responses, and an update omitting them clears them (RFC 7592
// §2.2), on SQLite and PostgreSQL.
func TestRegisterOpenIDConnectMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dsn string) {
		v := newProcess(t, dsn, newKeyring(t), true)
		redirects := []string{"https://app.example/cb", "https://other.example/cb"}
		withSectors(v.e.Service, map[string][]string{sectorDoc: redirects})
		md := map[string]any{
			"redirect_uris": redirects, "subject_type": "pairwise", "sector_identifier_uri": sectorDoc,
			"post_logout_redirect_uris": []string{"https://app.example/logged-out"}, "id_token_signed_response_alg": "ES256",
			"require_auth_time": true,
		}
		status, body, _ := v.call("POST", reg, v.iat(1), md)
		if status != 201 {
			t.Fatalf("register: %d %v", status, body)
		}
		id, rat := body["client_id"].(string), body["registration_access_token"].(string)
		requireOIDCMetadata(t, "registration response", body, md)
		c, err := v.e.Service.GetClient(context.Background(), "default", id)
		if err != nil || c.SubjectType != "pairwise" || c.EffectiveSubjectFormat() != storage.SubjectFormatPairwise ||
			c.SectorIdentifierURI != sectorDoc || !slices.Equal(c.PostLogoutRedirectURIs, []string{"https://app.example/logged-out"}) ||
			c.IDTokenSignedResponseAlg != "ES256" || c.Extra["require_auth_time"] != true {
			t.Fatalf("stored: %+v %v", c, err)
		}

		status, body, _ = v.call("GET", reg+"/"+id, rat, nil)
		if status != 200 {
			t.Fatalf("read: %d %v", status, body)
		}
		rat = rotated(t, rat, body)
		requireOIDCMetadata(t, "read response", body, md)

		md["client_id"], md["post_logout_redirect_uris"] = id, []string{"https://other.example/bye"}
		status, body, _ = v.call("PUT", reg+"/"+id, rat, md)
		if status != 200 {
			t.Fatalf("update: %d %v", status, body)
		}
		rat = rotated(t, rat, body)
		requireOIDCMetadata(t, "update response", body, md)

		status, body, _ = v.call("PUT", reg+"/"+id, rat, map[string]any{"client_id": id, "redirect_uris": redirects})
		if status != 200 || body["subject_type"] != "public" || body["sector_identifier_uri"] != nil ||
			body["post_logout_redirect_uris"] != nil || body["id_token_signed_response_alg"] != nil || body["require_auth_time"] != nil {
			t.Fatalf("update omitting the members: %d %v", status, body)
		}
		c, err = v.e.Service.GetClient(context.Background(), "default", id)
		if err != nil || c.EffectiveSubjectFormat() != storage.SubjectFormatID || c.SectorIdentifierURI != "" ||
			c.PostLogoutRedirectURIs != nil || c.IDTokenSignedResponseAlg != "" || c.Extra["require_auth_time"] != nil {
			t.Fatalf("stored after the update: %+v %v", c, err)
		}
	})
}

// requireOIDCMetadata checks that a client information response reports
// the OpenID Connect members registered in md.
func requireOIDCMetadata(t *testing.T, what string, body, md map[string]any) {
	t.Helper()
	for _, k := range []string{"subject_type", "sector_identifier_uri", "id_token_signed_response_alg", "require_auth_time"} {
		if body[k] != md[k] {
			t.Errorf("%s: %s = %v, want %v", what, k, body[k], md[k])
		}
	}
	got, _ := body["post_logout_redirect_uris"].([]any)
	want := md["post_logout_redirect_uris"].([]string)
	if len(got) != len(want) || len(got) > 0 && got[0] != want[0] {
		t.Errorf("%s: post_logout_redirect_uris = %v, want %v", what, got, want)
	}
}

// TestRegisterPairwiseSubject: the review's case — subject_type pairwise
// with one redirect host needs no sector identifier and is kept.
func TestRegisterPairwiseSubject(t *testing.T) {
	v := setup(t)
	status, body, _ := v.call("POST", reg, v.iat(1), map[string]any{"redirect_uris": []string{"https://x.example/cb"}, "subject_type": "pairwise"})
	if status != 201 || body["subject_type"] != "pairwise" {
		t.Fatalf("register: %d %v", status, body)
	}
	c, err := v.e.Service.GetClient(context.Background(), "default", body["client_id"].(string))
	if err != nil || c.EffectiveSubjectFormat() != storage.SubjectFormatPairwise {
		t.Fatalf("stored: %+v %v", c, err)
	}
	// Omitted, the subject type is public (OIDC Registration §2), and
	// reported as such.
	status, body, _ = v.call("POST", reg, v.iat(1), map[string]any{"redirect_uris": []string{"https://x.example/cb"}})
	if status != 201 || body["subject_type"] != "public" {
		t.Fatalf("register without subject_type: %d %v", status, body)
	}
}

// TestOpenIDConnectMetadataErrors: each invalid or unsupported member is
// refused, at registration and at RFC 7592 update, with the admin API's
// rule as 400 invalid_client_metadata naming the member (RFC 7591
// §3.2.2); a refused update leaves the client and its token as they were.
func TestOpenIDConnectMetadataErrors(t *testing.T) {
	v := setup(t)
	fetches := withSectors(v.e.Service, map[string][]string{sectorDoc: {"https://app.example/cb"}})
	const cb = "https://app.example/cb"
	const signedUserInfo = "is not supported: UserInfo answers with a plain JSON object only (OpenID Connect Registration section 2: omit the member)"
	const signedIDTokens = "is not supported: ID tokens are signed, never encrypted (omit the member)"
	// An update fetches the sector identifier document before the
	// service validates the rest (an updater may not do I/O): the SSRF-safe
	// fetch refuses what validation refuses at registration.
	const notFetched = "sector_identifier_uri: could not be fetched as a JSON array of URIs"
	updateDesc := map[string]string{"sector over http": notFetched, "sector on a private address": notFetched}
	cases := []struct {
		name string
		md   map[string]any
		desc string
	}{
		{"unknown subject_type", map[string]any{"subject_type": "secret"}, "subject_type: must be 'public' or 'pairwise'"},
		{"subject_type of the wrong type", map[string]any{"subject_type": 1}, "subject_type: has the wrong type"},
		{"pairwise over two hosts without a sector", map[string]any{"subject_type": "pairwise",
			"redirect_uris": []string{cb, "https://other.example/cb"}},
			"sector_identifier_uri: is required for a pairwise client whose redirect URIs have more than one host (OIDC Core section 8.1)"},
		{"sector over http", map[string]any{"sector_identifier_uri": "http://sector.example/r.json"},
			"sector_identifier_uri: must be an https URL the server may fetch: URL must use https (http only when the server enables outbound.allow_http)"},
		{"sector on a private address", map[string]any{"sector_identifier_uri": "https://10.0.0.1/r.json"},
			"sector_identifier_uri: must be an https URL the server may fetch: URL points to a private, loopback or reserved address (allowed only when the server enables outbound.allow_private_addresses)"},
		{"sector not listing the redirect URIs", map[string]any{"sector_identifier_uri": sectorDoc, "redirect_uris": []string{"https://app.example/other"}},
			"sector_identifier_uri: must list every redirect URI of the client (missing 'https://app.example/other')"},
		{"sector not served", map[string]any{"sector_identifier_uri": "https://sector.example/missing.json"},
			"sector_identifier_uri: could not be fetched as a JSON array of URIs"},
		{"javascript post-logout URI", map[string]any{"post_logout_redirect_uris": []string{"javascript:alert(1)"}},
			"post_logout_redirect_uris: must not use the javascript: scheme"},
		{"post-logout URI with a fragment", map[string]any{"post_logout_redirect_uris": []string{"https://app.example/bye#x"}},
			"post_logout_redirect_uris: must not contain a fragment (RFC 6749 section 3.1.2)"},
		{"post-logout URI over http", map[string]any{"post_logout_redirect_uris": []string{"http://app.example/bye"}},
			"post_logout_redirect_uris: must use https (or http on a loopback address)"},
		{"id token alg none", map[string]any{"id_token_signed_response_alg": "none"},
			"id_token_signed_response_alg: must be empty or the workspace's signing algorithm ES256"},
		{"id token alg HS256", map[string]any{"id_token_signed_response_alg": "HS256"},
			"id_token_signed_response_alg: must be empty or the workspace's signing algorithm ES256"},
		{"signed UserInfo", map[string]any{"userinfo_signed_response_alg": "ES256"}, "userinfo_signed_response_alg: " + signedUserInfo},
		{"unsigned JWT UserInfo", map[string]any{"userinfo_signed_response_alg": "none"}, "userinfo_signed_response_alg: " + signedUserInfo},
		{"encrypted UserInfo", map[string]any{"userinfo_encrypted_response_alg": "RSA-OAEP-256", "userinfo_encrypted_response_enc": "A128GCM"},
			"userinfo_encrypted_response_alg: " + signedUserInfo + "; userinfo_encrypted_response_enc: " + signedUserInfo},
		{"encrypted ID tokens", map[string]any{"id_token_encrypted_response_alg": "RSA-OAEP-256"}, "id_token_encrypted_response_alg: " + signedIDTokens},
		{"encrypted ID token enc", map[string]any{"id_token_encrypted_response_enc": "A128GCM"}, "id_token_encrypted_response_enc: " + signedIDTokens},
		{"default_max_age", map[string]any{"default_max_age": 3600},
			"default_max_age: is not supported: send max_age with each authorization request instead (OpenID Connect Core section 3.1.2.1)"},
		{"require_auth_time of the wrong type", map[string]any{"require_auth_time": "yes"}, "require_auth_time: has the wrong type"},
	}
	tok := v.iat(0)
	_, ok, _ := v.call("POST", reg, tok, map[string]any{"redirect_uris": []string{cb}})
	id, rat := ok["client_id"].(string), ok["registration_access_token"].(string)
	for _, tc := range cases {
		if tc.md["redirect_uris"] == nil {
			tc.md["redirect_uris"] = []string{cb}
		}
		t.Run("register "+tc.name, func(t *testing.T) { v.refused(t, "POST", reg, tok, tc.md, tc.desc) })
		t.Run("update "+tc.name, func(t *testing.T) {
			tc.md["client_id"] = id
			want := tc.desc
			if d, ok := updateDesc[tc.name]; ok {
				want = d
			}
			v.refused(t, "PUT", reg+"/"+id, rat, tc.md, want)
		})
	}
	if n := fetches.Load(); n != 4 {
		// Twice each for the documents the server may fetch: the listed
		// one and the missing one; never for a refused URL.
		t.Errorf("%d sector fetches, want 4", n)
	}
	if status, body, _ := v.call("GET", reg+"/"+id, rat, nil); status != 200 || body["subject_type"] != "public" {
		t.Fatalf("read after refused updates: %d %v", status, body)
	}
}

// TestSectorNeedsFetcher: without a fetcher the sector identifier cannot
// be checked, and is refused rather than stored unchecked (OIDC
// Registration §5).
func TestSectorNeedsFetcher(t *testing.T) {
	v := setup(t)
	v.refused(t, "POST", reg, v.iat(1), map[string]any{"redirect_uris": []string{"https://app.example/cb"},
		"sector_identifier_uri": sectorDoc}, "sector_identifier_uri: cannot be checked: the server has no fetcher configured")
}

// TestPostLogoutRedirectURIsFollowPolicy: docs/security.md R2 — an
// initial access token restricting redirect URIs restricts
// post_logout_redirect_uris the same way, at registration and update.
func TestPostLogoutRedirectURIsFollowPolicy(t *testing.T) {
	v := setup(t)
	tok := v.iatPolicy(0, storage.RegistrationPolicy{RedirectURIPatterns: []string{"https://app.example/"}})
	const want = "post_logout_redirect_uris[1]: is not allowed by the initial access token (allowed: https://app.example/)"
	md := map[string]any{"redirect_uris": []string{"https://app.example/cb"},
		"post_logout_redirect_uris": []string{"https://app.example/bye", "https://evil.example/bye"}}
	v.refused(t, "POST", reg, tok, md, want)
	md["post_logout_redirect_uris"] = []string{"https://app.example/bye"}
	status, body, _ := v.call("POST", reg, tok, md)
	if status != 201 {
		t.Fatalf("register inside the policy: %d %v", status, body)
	}
	id, rat := body["client_id"].(string), body["registration_access_token"].(string)
	md["client_id"], md["post_logout_redirect_uris"] = id, []string{"https://app.example/bye", "https://evil.example/bye"}
	v.refused(t, "PUT", reg+"/"+id, rat, md, want)
}

// TestHarmlessMetadataIgnored: RFC 7591 §2 — metadata whose absence
// cannot mislead the client is ignored, not refused, and not reported.
func TestHarmlessMetadataIgnored(t *testing.T) {
	v := setup(t)
	status, body, _ := v.call("POST", reg, v.iat(1), map[string]any{"redirect_uris": []string{"https://app.example/cb"},
		"default_acr_values": []string{"urn:example:loa:2"}, "initiate_login_uri": "https://app.example/login",
		"request_uris": []string{"https://app.example/req"}, "request_object_encryption_alg": "RSA-OAEP-256",
		"userinfo_signed_response_alg": "", "default_max_age": nil})
	if status != 201 {
		t.Fatalf("register: %d %v", status, body)
	}
	for _, k := range []string{"default_acr_values", "initiate_login_uri", "request_uris", "request_object_encryption_alg",
		"userinfo_signed_response_alg", "default_max_age"} {
		if _, ok := body[k]; ok {
			t.Errorf("%s reported: %v", k, body)
		}
	}
}
