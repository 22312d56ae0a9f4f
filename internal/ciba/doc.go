// Package ciba implements OpenID Connect Client-Initiated Backchannel
// Authentication Flow - Core 1.0 (CIBA), poll and ping modes, except the
// token endpoint's half: the urn:openid:params:grant-type:ciba grant is in
// package grants (ciba.go) and shares the device code grant's polling.
//
// # Backchannel authentication endpoint (§7)
//
// POST /w/{ws}/oauth2/bc-authorize, advertised as
// backchannel_authentication_endpoint (§4). The client authenticates as at
// the token endpoint (package clientauth); it must be confidential (§7.1),
// have the CIBA grant type (never by default) and a delivery mode (poll or
// ping; push is not offered). The request (§7.1, checked per §7.2, errors
// per §13): scope with openid; exactly one hint: login_hint (username,
// then e-mail address) or id_token_hint (an ID token of
// this workspace for this client, expired or not, mapped to its user by
// the client's subject format; pairwise subjects cannot be mapped);
// login_hint_token, signed requests and user_code are not supported
// (invalid_request) and not advertised. binding_message is 1 to 64
// printable characters (invalid_binding_message); requested_expiry is
// positive and lowered to MaxLifetime; ping mode needs
// client_notification_token. The user policy runs before anything is
// stored (access_denied 403). Per-client and per-user budgets (§14 prompt
// fatigue) answer 429.
//
// The response (§7.3) is auth_req_id (lkbc_ + 256 random bits; only its
// SHA-256 is stored), expires_in and interval (5 s). In ping mode the
// auth_req_id and the client_notification_token are kept sealed with the
// server keyring (Sealer) until the notification is sent.
//
// # Approval (§8)
//
// The user approves while signed in: pending requests are listed on the
// account page (package login renders them through PendingFor) and on GET
// /w/{ws}/ciba, with the client, the scopes in words and the binding
// message; Allow and Deny are POSTs with the page's CSRF token. Each
// request also mails the user a one-time link (mail outbox): GET shows a
// button only; its POST spends the link with one conditional update, signs
// the browser in as that user when needed (amr "otp") and shows the
// approval page. At Allow the client's user policy (or the workspace
// default) and the scopes' access policies run with the user; a denial is
// recorded. Each decision is one conditional update of a pending,
// unexpired request of that user.
//
// # Ping mode (§10.2)
//
// After a decision, a ping-mode client's notification endpoint receives
// POST {"auth_req_id": ...} as JSON with Authorization: Bearer
// <client_notification_token>, through the SSRF-safe client, at most three
// attempts. The client then makes its token request.
package ciba
