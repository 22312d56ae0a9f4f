package logoutchannel

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// FrameStore is what Frames reads.
type FrameStore interface {
	SessionClients(ctx context.Context, workspaceID, userID, sessionID string) ([]string, error)
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
}

// Frames returns the URLs the signed-out page loads in hidden iframes
// (Front-Channel Logout §4): the frontchannel_logout_uri of every enabled
// client that was issued tokens in session bs, with iss and sid added to
// its query (which is kept) when the client registered
// frontchannel_logout_session_required (§2). issuer is the workspace's.
func Frames(ctx context.Context, store FrameStore, issuer string, bs storage.BrowserSession) ([]string, error) {
	ids, err := store.SessionClients(ctx, bs.WorkspaceID, bs.UserID, bs.ID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		c, err := store.GetClient(ctx, bs.WorkspaceID, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !c.Enabled || c.FrontchannelLogoutURI == "" {
			continue
		}
		u, err := url.Parse(c.FrontchannelLogoutURI)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue // validated at registration; never render anything else
		}
		if c.FrontchannelLogoutSessionRequired {
			q := u.Query()
			q.Set("iss", issuer)
			q.Set("sid", bs.ID)
			u.RawQuery = q.Encode()
		}
		u.Fragment = ""
		out = append(out, u.String())
	}
	return out, nil
}

// CurrentFrames returns the Frames of the browser's live session in wsID,
// to be called before the session ends; nil when the browser is not
// signed in or store cannot list a session's clients.
func CurrentFrames(ctx context.Context, sessions *webui.Sessions, store any, r *http.Request, wsID, issuer string) ([]string, error) {
	fs, ok := store.(FrameStore)
	if !ok || sessions == nil {
		return nil, nil
	}
	signed, in, err := sessions.Current(ctx, r, wsID)
	if err != nil || !in {
		return nil, err
	}
	return Frames(ctx, fs, issuer, signed.Session)
}
