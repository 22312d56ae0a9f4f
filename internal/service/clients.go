package service

import (
	"context"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// ClientInput creates a client, or is the full desired state of one on
// update. Empty Type, GrantTypes and TokenEndpointAuthMethod take defaults
// (see CreateClient).
type ClientInput struct {
	// ID is generated (128 random bits, base64url) when empty.
	ID                          string
	Name                        string
	Description                 string
	ContactEmail                string
	Type                        string
	GrantTypes                  []string
	ResponseTypes               []string
	RedirectURIs                []string
	Scopes                      []string
	TokenEndpointAuthMethod     string
	TokenEndpointAuthSigningAlg string
	// JWKS is an inline JWK set as JSON; JWKSURI a URL serving one.
	JWKS           []byte
	JWKSURI        string
	AccessTokenTTL time.Duration
	Metadata       map[string]string
	Enabled        *bool // nil: enabled
	// ApplicationType is "web", "native", "spa" or "service"
	// (clientvalidate.go); "" leaves it inferred (EffectiveApplicationType).
	ApplicationType string

	// Set by dynamic client registration only (package dcr).
	Dynamic                     bool
	RegistrationAccessTokenHash []byte
	Extra                       map[string]any
	// InitialAccessTokenID and RegistrationPolicy record the initial
	// access token of the registration (see RegisterClient).
	InitialAccessTokenID string
	RegistrationPolicy   *storage.RegistrationPolicy

	Presentation
	AuthFlowSettings
	TokenSettings
	SignedRequestSettings
	MTLSSettings // RFC 8705 (mtls.go)
	// AuthorizationDetailsTypes narrows the RFC 9396 types the client may
	// use (clientdetailtypes.go); empty allows its services' types.
	AuthorizationDetailsTypes []string
	// detailTypesKept is set by an update that leaves the list alone, so
	// a type a service stopped declaring does not block other edits.
	detailTypesKept bool
}

// ClientPatch updates a client; nil fields are left unchanged. JWKS set to
// an empty slice clears the inline key set.
type ClientPatch struct {
	Name                        *string
	Description                 *string
	ContactEmail                *string
	Type                        *string
	GrantTypes                  *[]string
	ResponseTypes               *[]string
	RedirectURIs                *[]string
	Scopes                      *[]string
	TokenEndpointAuthMethod     *string
	TokenEndpointAuthSigningAlg *string
	JWKS                        *[]byte
	JWKSURI                     *string
	AccessTokenTTL              *time.Duration
	Metadata                    *map[string]string
	Enabled                     *bool
	Extra                       *map[string]any
	ApplicationType             *string

	PresentationPatch
	AuthFlowPatch
	TokenSettingsPatch
	SignedRequestPatch
	MTLSPatch // RFC 8705 (mtls.go)
	// AuthorizationDetailsTypes, when set, replaces the list (RFC 9396 §10).
	AuthorizationDetailsTypes *[]string
}

// ClientWithSecret is a client together with its plaintext secret. Only
// CreateClient, RotateClientSecret and an UpdateClient that had to issue a
// first secret return one; the secret is never readable again through the
// service layer's read operations (SECURITY.md D3).
type ClientWithSecret struct {
	storage.Client
	Secret string // "" when the client has no secret or it was not (re)issued
}

// secretBytes is the entropy of generated client secrets: 256 bits, 43
// base64url characters.
const secretBytes = 32

// CreateClient validates in against the workspace, generates the client ID
// and (for confidential clients using a secret-based method) the secret,
// encrypts the secret under the master key and stores the client.
//
// Defaults: type confidential; grant types [client_credentials] for
// confidential and [authorization_code] for public clients; auth method
// none for public clients, private_key_jwt for confidential clients with
// keys, client_secret_basic otherwise; response types [code] when the
// authorization_code grant is enabled.
func (s *Service) CreateClient(ctx context.Context, wsID string, in ClientInput) (ClientWithSecret, error) {
	return s.createClient(ctx, wsID, in, s.Store.CreateClient)
}

// createClient is CreateClient with the storage insert as a parameter, so
// that dynamic registration can spend its initial access token in the
// insert's transaction (RegisterClient).
func (s *Service) createClient(ctx context.Context, wsID string, in ClientInput, insert func(context.Context, storage.Client) error) (ClientWithSecret, error) {
	ws, err := s.requireWorkspace(ctx, wsID)
	if err != nil {
		return ClientWithSecret{}, err
	}
	scopes, err := s.Store.ListScopes(ctx, ws.ID)
	if err != nil {
		return ClientWithSecret{}, err
	}
	c, err := s.buildClient(ws, scopes, in, true)
	if err != nil {
		return ClientWithSecret{}, err
	}
	if err := s.checkSector(ctx, in); err != nil {
		return ClientWithSecret{}, err
	}
	if err := s.checkIDFreeOfUser(ctx, ws.ID, c.ID); err != nil {
		return ClientWithSecret{}, err
	}
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	secret, err := s.issueSecretIfNeeded(&c, now)
	if err != nil {
		return ClientWithSecret{}, err
	}
	if err := insert(ctx, c); err != nil {
		return ClientWithSecret{}, mapStore(err, "client", c.ID)
	}
	s.audit(ctx, wsID, AuditClientCreate, TargetClient, c.ID, map[string]any{
		"name": c.Name, "type": c.Type, "application_type": EffectiveApplicationType(c), "token_endpoint_auth_method": c.TokenEndpointAuthMethod, "dynamic": c.Dynamic,
		"initial_access_token_id": c.InitialAccessTokenID})
	return ClientWithSecret{Client: c, Secret: secret}, nil
}

// buildClient applies defaults to in, validates it against the workspace
// and its scopes and returns the client to store (without times and
// secret). It does no I/O, so it may run inside a storage updater.
func (s *Service) buildClient(ws storage.Workspace, scopes []storage.ScopeRef, in ClientInput, creating bool) (storage.Client, error) {
	applyClientDefaults(&in)
	var v validator
	if creating {
		validateClientID(&v, in.ID)
	}
	jwks := s.validateClient(&v, ws, in, scopes)
	s.validateAuthFlow(&v, ws, in)
	validateTokenSettings(&v, in.TokenSettings)
	validateSignedRequests(&v, ws, in, jwks)
	validateMTLS(&v, in)
	if !in.detailTypesKept {
		validateClientDetailTypes(&v, in.AuthorizationDetailsTypes, scopes) // RFC 9396 §10 (clientdetailtypes.go)
	}
	if err := v.err(); err != nil {
		return storage.Client{}, err
	}
	c := withMTLS(withSignedRequests(withTokenSettings(withAuthFlow(withPresentation(storage.Client{
		WorkspaceID: ws.ID, ID: in.ID, Name: in.Name, Enabled: in.Enabled == nil || *in.Enabled,
		Description: in.Description, ContactEmail: in.ContactEmail, Type: in.Type,
		GrantTypes: in.GrantTypes, ResponseTypes: in.ResponseTypes, RedirectURIs: in.RedirectURIs,
		Scopes: in.Scopes, TokenEndpointAuthMethod: in.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: in.TokenEndpointAuthSigningAlg, JWKS: jwks, JWKSURI: in.JWKSURI,
		AccessTokenTTL: in.AccessTokenTTL, Metadata: in.Metadata, Dynamic: in.Dynamic,
		RegistrationAccessTokenHash: in.RegistrationAccessTokenHash, Extra: in.Extra,
		InitialAccessTokenID: in.InitialAccessTokenID, RegistrationPolicy: in.RegistrationPolicy,
		ApplicationType: in.ApplicationType,
	}, in.Presentation), in.AuthFlowSettings), in.TokenSettings), in.SignedRequestSettings), in.MTLSSettings)
	c.AuthorizationDetailsTypes = in.AuthorizationDetailsTypes
	// FAPI 2.0: a client breaking the workspace's profile is refused at
	// registration and update, not only at runtime (fapi.go).
	if err := checkFAPIClient(ws, c); err != nil {
		return storage.Client{}, err
	}
	return c, nil
}

func applyClientDefaults(in *ClientInput) {
	if in.ID == "" {
		in.ID = newClientID()
	}
	applicationTypeDefaults(in)
	if in.Type == "" {
		in.Type = oauth2.ClientConfidential
	}
	if len(in.GrantTypes) == 0 {
		in.GrantTypes = []string{oauth2.GrantClientCredentials}
		if in.Type == oauth2.ClientPublic {
			in.GrantTypes = []string{oauth2.GrantAuthorizationCode}
		}
	}
	if len(in.ResponseTypes) == 0 && contains(in.GrantTypes, oauth2.GrantAuthorizationCode) {
		in.ResponseTypes = []string{"code"}
	}
	if in.TokenEndpointAuthMethod == "" {
		in.TokenEndpointAuthMethod = defaultAuthMethod(*in)
	}
	in.Presentation = subjectDefaults(in.Presentation)
}

func defaultAuthMethod(in ClientInput) string {
	switch {
	case in.Type == oauth2.ClientPublic:
		return oauth2.AuthNone
	case len(in.JWKS) > 0 || in.JWKSURI != "":
		return oauth2.AuthPrivateKeyJWT
	}
	return oauth2.AuthClientSecretBasic
}

// usesSecret reports whether the auth method needs a shared secret.
func usesSecret(method string) bool {
	return method == oauth2.AuthClientSecretBasic || method == oauth2.AuthClientSecretPost ||
		method == oauth2.AuthClientSecretJWT
}

// issueSecretIfNeeded keeps c's secret consistent with its auth method:
// a secret-based method without a secret gets a fresh one (returned in
// plaintext once); other methods drop any stored secret so that it can
// no longer authenticate (SECURITY.md B10).
func (s *Service) issueSecretIfNeeded(c *storage.Client, now time.Time) (string, error) {
	if !usesSecret(c.TokenEndpointAuthMethod) {
		c.SecretCiphertext, c.SecretRotatedAt = nil, time.Time{}
		return "", nil
	}
	if len(c.SecretCiphertext) > 0 {
		return "", nil
	}
	return s.setNewSecret(c, now)
}

func (s *Service) setNewSecret(c *storage.Client, now time.Time) (string, error) {
	secret := randomToken(secretBytes)
	ct, err := s.Keyring.Encrypt([]byte(secret), SecretAAD(c.WorkspaceID, c.ID))
	if err != nil {
		return "", fmt.Errorf("service: encrypt client secret: %w", err)
	}
	c.SecretCiphertext, c.SecretRotatedAt = ct, now
	return secret, nil
}

// SecretAAD binds a secret's ciphertext to its workspace and client, so a
// ciphertext copied onto another client row does not decrypt.
func SecretAAD(wsID, clientID string) []byte {
	return []byte("client-secret\x00" + wsID + "\x00" + clientID)
}

// ClientSecret decrypts a client's stored secret (for RFC 7592 checks and
// client authentication helpers). It returns "" for clients without one.
func (s *Service) ClientSecret(c storage.Client) (string, error) {
	if len(c.SecretCiphertext) == 0 {
		return "", nil
	}
	pt, err := s.Keyring.Decrypt(c.SecretCiphertext, SecretAAD(c.WorkspaceID, c.ID))
	if err != nil {
		return "", fmt.Errorf("service: decrypt client secret: %w", err)
	}
	return string(pt), nil
}

// GetClient returns one client of the workspace.
func (s *Service) GetClient(ctx context.Context, wsID, id string) (storage.Client, error) {
	c, err := s.Store.GetClient(ctx, wsID, id)
	return c, mapStore(err, "client", id)
}

// ListClients returns one page of the workspace's clients.
func (s *Service) ListClients(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.Client], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.Client]{}, err
	}
	return s.Store.ListClients(ctx, wsID, opts)
}

// UpdateClient applies p and validates the whole resulting client. When
// the auth method changes to a secret-based one and the client has no
// secret yet, a secret is issued and returned once.
func (s *Service) UpdateClient(ctx context.Context, wsID, id string, p ClientPatch) (ClientWithSecret, error) {
	ws, err := s.requireWorkspace(ctx, wsID)
	if err != nil {
		return ClientWithSecret{}, err
	}
	scopes, err := s.Store.ListScopes(ctx, wsID)
	if err != nil {
		return ClientWithSecret{}, err
	}
	if err := s.checkSectorOfPatch(ctx, wsID, id, p); err != nil {
		return ClientWithSecret{}, err
	}
	var secret string
	c, err := s.Store.UpdateClient(ctx, wsID, id, func(old storage.Client) (storage.Client, error) {
		secret = ""
		in := clientToInput(old)
		if p.RequirePKCE == nil && in.Type == oauth2.ClientPublic {
			// A public client stored with require_pkce false (accepted
			// and ignored before the rule existed) is read as required,
			// so an unrelated edit does not fail on it.
			in.RequirePKCE = nil
		}
		in = applyClientPatch(in, p)
		in.detailTypesKept = p.AuthorizationDetailsTypes == nil
		c, err := s.buildClient(ws, scopes, in, false)
		if err != nil {
			return old, err
		}
		c.CreatedAt, c.UpdatedAt = old.CreatedAt, s.now()
		c.SecretCiphertext, c.SecretRotatedAt, c.SecretExpiresAt = old.SecretCiphertext, old.SecretRotatedAt, old.SecretExpiresAt
		// JWT bearer settings and the service user change only through
		// SetClientJWTBearer: a patch of other fields keeps them.
		c.JWTBearer, c.ServiceUserID = old.JWTBearer, old.ServiceUserID
		// Token exchange settings change only through SetClientTokenExchange.
		c.TokenExchange = old.TokenExchange
		// Attached policies change only through SetClientPolicies.
		c.UserPolicyID, c.MachinePolicyID = old.UserPolicyID, old.MachinePolicyID
		// Claim mappings change only through SetClientClaims.
		c.ClaimMappings = old.ClaimMappings
		secret, err = s.issueSecretIfNeeded(&c, c.UpdatedAt)
		return c, err
	})
	if err != nil {
		return ClientWithSecret{}, mapStore(err, "client", id)
	}
	s.audit(ctx, wsID, AuditClientUpdate, TargetClient, id, map[string]any{
		"fields": clientPatchFields(p), "secret_issued": secret != ""})
	return ClientWithSecret{Client: c, Secret: secret}, nil
}

func clientToInput(c storage.Client) ClientInput {
	enabled := c.Enabled
	return ClientInput{
		ID: c.ID, Name: c.Name, Description: c.Description, ContactEmail: c.ContactEmail, Type: c.Type,
		GrantTypes: c.GrantTypes, ResponseTypes: c.ResponseTypes, RedirectURIs: c.RedirectURIs,
		Scopes: c.Scopes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg, JWKS: c.JWKS, JWKSURI: c.JWKSURI,
		AccessTokenTTL: c.AccessTokenTTL, Metadata: c.Metadata, Enabled: &enabled,
		Dynamic: c.Dynamic, RegistrationAccessTokenHash: c.RegistrationAccessTokenHash, Extra: c.Extra,
		InitialAccessTokenID: c.InitialAccessTokenID, RegistrationPolicy: c.RegistrationPolicy,
		AuthorizationDetailsTypes: c.AuthorizationDetailsTypes, ApplicationType: c.ApplicationType, Presentation: presentationOf(c), AuthFlowSettings: authFlowOf(c), TokenSettings: tokenSettingsOf(c),
		SignedRequestSettings: signedRequestsOf(c),
		MTLSSettings:          mtlsOf(c),
	}
}

func applyClientPatch(in ClientInput, p ClientPatch) ClientInput {
	setString(&in.Name, p.Name)
	setString(&in.Description, p.Description)
	setString(&in.ContactEmail, p.ContactEmail)
	setString(&in.Type, p.Type)
	setString(&in.ApplicationType, p.ApplicationType)
	setList(&in.GrantTypes, p.GrantTypes)
	setList(&in.ResponseTypes, p.ResponseTypes)
	setList(&in.RedirectURIs, p.RedirectURIs)
	setList(&in.Scopes, p.Scopes)
	setString(&in.TokenEndpointAuthMethod, p.TokenEndpointAuthMethod)
	setString(&in.TokenEndpointAuthSigningAlg, p.TokenEndpointAuthSigningAlg)
	setString(&in.JWKSURI, p.JWKSURI)
	if p.JWKS != nil {
		in.JWKS = *p.JWKS
	}
	if p.AccessTokenTTL != nil {
		in.AccessTokenTTL = *p.AccessTokenTTL
	}
	if p.Metadata != nil {
		in.Metadata = *p.Metadata
	}
	if p.Enabled != nil {
		in.Enabled = p.Enabled
	}
	if p.Extra != nil {
		in.Extra = *p.Extra
	}
	in.Presentation = p.PresentationPatch.apply(in.Presentation)
	in.AuthFlowSettings = p.AuthFlowPatch.Apply(in.AuthFlowSettings)
	in.TokenSettings = p.TokenSettingsPatch.apply(in.TokenSettings)
	in.SignedRequestSettings = p.SignedRequestPatch.Apply(in.SignedRequestSettings)
	in.MTLSSettings = p.MTLSPatch.Apply(in.MTLSSettings)
	setList(&in.AuthorizationDetailsTypes, p.AuthorizationDetailsTypes)
	return in
}

func setString(dst *string, src *string) {
	if src != nil {
		*dst = *src
	}
}

func setList(dst *[]string, src *[]string) {
	if src != nil {
		*dst = append([]string(nil), (*src)...)
	}
}

// SetClientEnabled enables or disables a client. A disabled client cannot
// authenticate anywhere (SECURITY.md O3).
func (s *Service) SetClientEnabled(ctx context.Context, wsID, id string, enabled bool) (storage.Client, error) {
	c, err := s.Store.UpdateClient(ctx, wsID, id, func(c storage.Client) (storage.Client, error) {
		c.Enabled, c.UpdatedAt = enabled, s.now()
		return c, nil
	})
	if err != nil {
		return storage.Client{}, mapStore(err, "client", id)
	}
	action := AuditClientDisable
	if enabled {
		action = AuditClientEnable
	}
	s.audit(ctx, wsID, action, TargetClient, id, nil)
	return c, nil
}

// RotateClientSecret replaces the client's secret with a fresh one and
// returns it once. The old secret stops working at once.
func (s *Service) RotateClientSecret(ctx context.Context, wsID, id string) (ClientWithSecret, error) {
	var secret string
	c, err := s.Store.UpdateClient(ctx, wsID, id, func(c storage.Client) (storage.Client, error) {
		if c.Type != oauth2.ClientConfidential || !usesSecret(c.TokenEndpointAuthMethod) {
			return c, conflict(nil, "client %q does not authenticate with a secret (token_endpoint_auth_method %s)",
				id, c.TokenEndpointAuthMethod)
		}
		now := s.now()
		var err error
		secret, err = s.setNewSecret(&c, now)
		c.UpdatedAt = now
		return c, err
	})
	if err != nil {
		return ClientWithSecret{}, mapStore(err, "client", id)
	}
	s.audit(ctx, wsID, AuditSecretRotate, TargetClient, id, nil)
	return ClientWithSecret{Client: c, Secret: secret}, nil
}

// DeleteClient removes a client.
func (s *Service) DeleteClient(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteClient(ctx, wsID, id); err != nil {
		return mapStore(err, "client", id)
	}
	s.audit(ctx, wsID, AuditClientDelete, TargetClient, id, nil)
	return nil
}

// clientIDEncoding is lowercase base32 without padding: generated client IDs
// are letters and digits only, so they never start with '-' (which a command
// line would take for a flag), survive double-click selection and are
// case-insensitive to read aloud.
var clientIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newClientID returns a generated client_id: 128 random bits, 26 characters.
func newClientID() string {
	return clientIDEncoding.EncodeToString(randomBytes(16))
}
