package logoutchannel

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func TestBackoff(t *testing.T) {
	d := &Deliverer{Backoff: time.Second, MaxBackoff: 10 * time.Second}
	var got []time.Duration
	for attempts := 1; attempts <= 6; attempts++ {
		got = append(got, d.backoff(attempts))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	if !slices.Equal(got, want) {
		t.Fatalf("backoff %v, want %v", got, want)
	}
	if (&Deliverer{}).backoff(100) != DefaultMaxBackoff {
		t.Fatal("default backoff is not capped")
	}
}

type frameStore map[string]storage.Client

func (f frameStore) SessionClients(context.Context, string, string, string) ([]string, error) {
	return []string{"a", "b", "c", "d", "gone"}, nil
}

func (f frameStore) GetClient(_ context.Context, _, id string) (storage.Client, error) {
	c, ok := f[id]
	if !ok {
		return storage.Client{}, storage.ErrNotFound
	}
	c.ID = id
	return c, nil
}

// TestFrames: one frame per enabled client with a front-channel URI; iss
// and sid only when the client asked (Front-Channel Logout 1.0 §2), the
// registered query kept.
func TestFrames(t *testing.T) {
	store := frameStore{
		"a": {Enabled: true, FrontchannelLogoutURI: "https://a.example/fc?keep=1", FrontchannelLogoutSessionRequired: true},
		"b": {Enabled: true, FrontchannelLogoutURI: "https://b.example/fc"},
		"c": {Enabled: false, FrontchannelLogoutURI: "https://c.example/fc"},
		"d": {Enabled: true},
	}
	got, err := Frames(t.Context(), store, "https://op.example/w/default", storage.BrowserSession{WorkspaceID: "default", ID: "s1", UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://a.example/fc?" + url.Values{"iss": {"https://op.example/w/default"}, "keep": {"1"}, "sid": {"s1"}}.Encode(),
		"https://b.example/fc",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames %v, want %v", got, want)
	}
}
