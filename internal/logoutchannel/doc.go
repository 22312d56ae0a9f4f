// Package logoutchannel makes a sign-out reach every application the user
// signed in to.
//
// Back-channel (OpenID Connect Back-Channel Logout 1.0): ending a browser
// session queues, in the same database transaction, one message per
// client that was issued tokens in the session and registered a
// backchannel_logout_uri (storage.LogoutQueue). A Deliverer, run by every
// server process, claims due messages atomically, signs a logout token
// (§2.4: typ logout+jwt, iss, aud, iat, exp, jti, events, sid, sub, never
// nonce) with the workspace's active key and POSTs it as
// application/x-www-form-urlencoded logout_token (§2.5) through the
// SSRF-safe client; 200 and 204 mean delivered (§2.8). Failures are
// retried with exponential backoff up to MaxAttempts, then abandoned with
// a log line and an audit event.
//
// Front-channel (OpenID Connect Front-Channel Logout 1.0): Frames lists
// the frontchannel_logout_uri of each client of the ending session, with
// iss and sid when the client asked for them (§2), for the signed-out page
// to load in hidden iframes (§4); FrameSources is the CSP frame-src that
// allows exactly those origins.
package logoutchannel
