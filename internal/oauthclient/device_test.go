package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// TestDeviceTokenPolling scripts a server through the RFC 8628 §3.5
// answers: the client waits the interval before every poll, adds 5 s on
// slow_down for that and every later poll, keeps polling on
// authorization_pending and stops at the token or at any other error.
func TestDeviceTokenPolling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []string // error codes, "" = the token
		waits   []time.Duration
		wantErr string
	}{
		{"pending then token", []string{"authorization_pending", ""}, []time.Duration{2 * time.Second, 2 * time.Second}, ""},
		{"slow_down raises the interval for good", []string{"slow_down", "authorization_pending", ""},
			[]time.Duration{2 * time.Second, 7 * time.Second, 7 * time.Second}, ""},
		{"denied stops", []string{"authorization_pending", "access_denied"}, []time.Duration{2 * time.Second, 2 * time.Second}, "access_denied"},
		{"expired stops", []string{"expired_token"}, []time.Duration{2 * time.Second}, "expired_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var polls int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				if r.PostForm.Get("grant_type") != GrantDeviceCode || r.PostForm.Get("device_code") != "dc" || r.PostForm.Get("client_id") != "tv" {
					t.Errorf("poll form %v", r.PostForm)
				}
				answer := tc.answers[min(polls, len(tc.answers)-1)]
				polls++
				w.Header().Set("Content-Type", "application/json")
				if answer != "" {
					w.WriteHeader(http.StatusBadRequest)
					_ = json.NewEncoder(w).Encode(map[string]string{"error": answer})
					return
				}
				_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60})
			}))
			defer srv.Close()
			c := &Client{HTTP: srv.Client(), TokenEndpoint: srv.URL, Auth: ClientAuth{Method: AuthNone, ClientID: "tv"}}
			var waits []time.Duration
			wait := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			tok, err := c.DeviceToken(t.Context(), &DeviceAuthorization{DeviceCode: "dc", ExpiresIn: 600, Interval: 2}, wait)
			if tc.wantErr != "" {
				var oe *Error
				if !errors.As(err, &oe) || oe.Code != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
			} else if err != nil || tok.AccessToken != "at" {
				t.Fatalf("token %v, %v", tok, err)
			}
			if !slices.Equal(waits, tc.waits) {
				t.Fatalf("waits %v, want %v", waits, tc.waits)
			}
		})
	}
}
