package adminclient

import (
	"context"
	"net/http"
)

func wsPath(ws string) string { return "/workspaces/" + seg(ws) }

// --- collections

// Workspaces are the server's workspaces (tenants). Deleting one deletes
// everything in it.
func (c *Client) Workspaces() Collection[Workspace, WorkspaceRequest] {
	return Collection[Workspace, WorkspaceRequest]{c, "/workspaces"}
}

// Services are the resource servers of workspace ws and their scopes.
func (c *Client) Services(ws string) Collection[Service, ServiceRequest] {
	return Collection[Service, ServiceRequest]{c, wsPath(ws) + "/services"}
}

// Clients are the OAuth clients of workspace ws. Create (and an update
// that issues a first secret) answers the client secret once.
func (c *Client) Clients(ws string) Collection[OAuthClient, OAuthClientRequest] {
	return Collection[OAuthClient, OAuthClientRequest]{c, wsPath(ws) + "/clients"}
}

// Users are the directory users of workspace ws.
func (c *Client) Users(ws string) Collection[User, UserRequest] {
	return Collection[User, UserRequest]{c, wsPath(ws) + "/users"}
}

// Profiles are the named groups of users of workspace ws.
func (c *Client) Profiles(ws string) Collection[Profile, ProfileRequest] {
	return Collection[Profile, ProfileRequest]{c, wsPath(ws) + "/profiles"}
}

// TrustedIssuers are the external issuers workspace ws accepts JWT bearer
// assertions from.
func (c *Client) TrustedIssuers(ws string) Collection[TrustedIssuer, TrustedIssuerRequest] {
	return Collection[TrustedIssuer, TrustedIssuerRequest]{c, wsPath(ws) + "/trusted-issuers"}
}

// --- clients

func clientPath(ws, id string) string { return wsPath(ws) + "/clients/" + seg(id) }

// EnableClient enables a client.
func (c *Client) EnableClient(ctx context.Context, ws, id string) (OAuthClient, error) {
	return call[OAuthClient](ctx, c, http.MethodPost, clientPath(ws, id)+"/enable", nil, nil)
}

// DisableClient disables a client: it can no longer authenticate.
func (c *Client) DisableClient(ctx context.Context, ws, id string) (OAuthClient, error) {
	return call[OAuthClient](ctx, c, http.MethodPost, clientPath(ws, id)+"/disable", nil, nil)
}

// RotateClientSecret replaces the client secret; the old one stops
// working at once. The answer carries the new secret, once.
func (c *Client) RotateClientSecret(ctx context.Context, ws, id string) (OAuthClient, error) {
	return call[OAuthClient](ctx, c, http.MethodPost, clientPath(ws, id)+"/secret", nil, nil)
}

// RequestClientSecretCode e-mails a one-time code to the client's contact
// address, the first step of viewing its secret. The code is bound to the
// calling admin token.
func (c *Client) RequestClientSecretCode(ctx context.Context, ws, id string) (SecretCodeSent, error) {
	return call[SecretCodeSent](ctx, c, http.MethodPost, clientPath(ws, id)+"/secret/code", nil, nil)
}

// RevealClientSecret spends one try of the caller's code and answers the
// secret when it matches.
func (c *Client) RevealClientSecret(ctx context.Context, ws, id, code string) (RevealedSecret, error) {
	return call[RevealedSecret](ctx, c, http.MethodPost, clientPath(ws, id)+"/secret/reveal", nil,
		RevealSecretRequest{Code: code})
}

// ListClientCertificates lists a client's X.509 certificates.
func (c *Client) ListClientCertificates(ctx context.Context, ws, id string) ([]Certificate, error) {
	return items[Certificate](ctx, c, http.MethodGet, clientPath(ws, id)+"/certificates", nil)
}

// AddClientCertificate uploads a certificate for a client.
func (c *Client) AddClientCertificate(ctx context.Context, ws, id string, up CertificateUpload) (Certificate, error) {
	return call[Certificate](ctx, c, http.MethodPost, clientPath(ws, id)+"/certificates", nil, up)
}

// RemoveClientCertificate removes one certificate of a client.
func (c *Client) RemoveClientCertificate(ctx context.Context, ws, id, kid string) error {
	return c.noContent(ctx, http.MethodDelete, clientPath(ws, id)+"/certificates/"+seg(kid), nil)
}

// ClientJWTBearer returns a client's JWT bearer settings, defaults filled
// in.
func (c *Client) ClientJWTBearer(ctx context.Context, ws, id string) (JWTBearerSettings, error) {
	return call[JWTBearerSettings](ctx, c, http.MethodGet, clientPath(ws, id)+"/jwt-bearer", nil, nil)
}

// SetClientJWTBearer replaces a client's JWT bearer settings.
func (c *Client) SetClientJWTBearer(ctx context.Context, ws, id string, s JWTBearerSettings) (JWTBearerSettings, error) {
	return call[JWTBearerSettings](ctx, c, http.MethodPut, clientPath(ws, id)+"/jwt-bearer", nil, s)
}

// --- keys

// ListKeys lists the signing keys of workspace ws.
func (c *Client) ListKeys(ctx context.Context, ws string) ([]Key, error) {
	return items[Key](ctx, c, http.MethodGet, wsPath(ws)+"/keys", nil)
}

// RotateKeys rotates the keys (next to active, active to retired, a new
// next key) and answers them. A non-empty alg switches the workspace's
// signing algorithm.
func (c *Client) RotateKeys(ctx context.Context, ws, alg string) ([]Key, error) {
	var body any
	if alg != "" {
		body = RotateKeysRequest{Alg: alg}
	}
	return items[Key](ctx, c, http.MethodPost, wsPath(ws)+"/keys/rotate", body)
}

// RemoveKey removes a next or retired key at once (emergency revocation).
func (c *Client) RemoveKey(ctx context.Context, ws, kid string) error {
	return c.noContent(ctx, http.MethodDelete, wsPath(ws)+"/keys/"+seg(kid), nil)
}

// --- initial access tokens

// ListInitialAccessTokens lists the initial access tokens of workspace ws
// (metadata only).
func (c *Client) ListInitialAccessTokens(ctx context.Context, ws string) ([]InitialAccessToken, error) {
	return items[InitialAccessToken](ctx, c, http.MethodGet, wsPath(ws)+"/initial-access-tokens", nil)
}

// CreateInitialAccessToken creates a token for RFC 7591 registration; the
// answer carries it once, in Token.
func (c *Client) CreateInitialAccessToken(ctx context.Context, ws string, req InitialAccessTokenRequest) (InitialAccessToken, error) {
	return call[InitialAccessToken](ctx, c, http.MethodPost, wsPath(ws)+"/initial-access-tokens", nil, req)
}

// DeleteInitialAccessToken revokes an initial access token.
func (c *Client) DeleteInitialAccessToken(ctx context.Context, ws, id string) error {
	return c.noContent(ctx, http.MethodDelete, wsPath(ws)+"/initial-access-tokens/"+seg(id), nil)
}

// --- users' sign-in

func userPath(ws, id string) string { return wsPath(ws) + "/users/" + seg(id) }

// SetUserPassword sets a user's sign-in password.
func (c *Client) SetUserPassword(ctx context.Context, ws, id, password string) error {
	return c.noContent(ctx, http.MethodPut, userPath(ws, id)+"/password", PasswordRequest{Password: password})
}

// SendPasswordLink e-mails the user a single-use link to choose a
// password.
func (c *Client) SendPasswordLink(ctx context.Context, ws, id string) (PasswordLinkSent, error) {
	return call[PasswordLinkSent](ctx, c, http.MethodPost, userPath(ws, id)+"/password-link", nil, nil)
}

// ListUserConsents lists the apps the user consented to.
func (c *Client) ListUserConsents(ctx context.Context, ws, id string) ([]Consent, error) {
	return items[Consent](ctx, c, http.MethodGet, userPath(ws, id)+"/consents", nil)
}

// RevokeUserConsent revokes a consent; the client's tokens for the user
// stop working.
func (c *Client) RevokeUserConsent(ctx context.Context, ws, id, clientID string) error {
	return c.noContent(ctx, http.MethodDelete, userPath(ws, id)+"/consents/"+seg(clientID), nil)
}

// ListUserSessions lists the user's browser sessions, newest first.
func (c *Client) ListUserSessions(ctx context.Context, ws, id string) ([]BrowserSession, error) {
	return items[BrowserSession](ctx, c, http.MethodGet, userPath(ws, id)+"/sessions", nil)
}

// RevokeUserSessions signs the user out of session sid, or of every
// browser when sid is empty.
func (c *Client) RevokeUserSessions(ctx context.Context, ws, id, sid string) error {
	path := userPath(ws, id) + "/sessions"
	if sid != "" {
		path += "/" + seg(sid)
	}
	return c.noContent(ctx, http.MethodDelete, path, nil)
}

// --- console users (server-wide)

const consoleUsersPath = "/console-users"

// ListConsoleUsers lists the admin users of the web console.
func (c *Client) ListConsoleUsers(ctx context.Context, opts ListOptions) (Page[ConsoleUser], error) {
	return call[Page[ConsoleUser]](ctx, c, http.MethodGet, consoleUsersPath, opts.Values(), nil)
}

// GetConsoleUser returns one console user.
func (c *Client) GetConsoleUser(ctx context.Context, id string) (ConsoleUser, error) {
	return call[ConsoleUser](ctx, c, http.MethodGet, consoleUsersPath+"/"+seg(id), nil, nil)
}

// CreateConsoleUser creates a console user.
func (c *Client) CreateConsoleUser(ctx context.Context, req ConsoleUserCreate) (ConsoleUser, error) {
	return call[ConsoleUser](ctx, c, http.MethodPost, consoleUsersPath, nil, req)
}

// UpdateConsoleUser changes the fields set in req.
func (c *Client) UpdateConsoleUser(ctx context.Context, id string, req ConsoleUserUpdate) (ConsoleUser, error) {
	return call[ConsoleUser](ctx, c, http.MethodPatch, consoleUsersPath+"/"+seg(id), nil, req)
}

// DeleteConsoleUser deletes a console user and its sessions.
func (c *Client) DeleteConsoleUser(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, consoleUsersPath+"/"+seg(id), nil)
}

// SetConsoleUserPassword replaces a console user's password and signs the
// user out everywhere.
func (c *Client) SetConsoleUserPassword(ctx context.Context, id, password string) error {
	return c.noContent(ctx, http.MethodPut, consoleUsersPath+"/"+seg(id)+"/password", PasswordRequest{Password: password})
}
