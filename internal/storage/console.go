package storage

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrWrongCode is returned by ConsumeOneTimeCode when a code exists but the
// presented one does not match; one try has been spent.
var ErrWrongCode = errors.New("storage: wrong code")

// Console is the part of Storage behind the web console: admin users,
// console sessions, one-time codes, the audit log and the mail outbox.
type Console interface {
	// Admin users of the console. Usernames are unique (case-sensitive;
	// the service layer lower-cases them): a duplicate is ErrAlreadyExists.
	CreateAdminUser(ctx context.Context, u AdminUser) error
	GetAdminUser(ctx context.Context, id string) (AdminUser, error)
	GetAdminUserByUsername(ctx context.Context, username string) (AdminUser, error)
	// ListAdminUsers pages by ID; Query matches ID or username.
	ListAdminUsers(ctx context.Context, opts ListOptions) (Page[AdminUser], error)
	UpdateAdminUser(ctx context.Context, id string, updater func(AdminUser) (AdminUser, error)) (AdminUser, error)
	// DeleteAdminUser removes the user, its sessions and its one-time codes.
	DeleteAdminUser(ctx context.Context, id string) error
	// CountAdminUsers counts users with role (all users when role is "").
	CountAdminUsers(ctx context.Context, role string) (int, error)

	// Console sessions are looked up by the SHA-256 of the session ID, so
	// a database dump does not reveal live cookies.
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	GetConsoleSession(ctx context.Context, idHash []byte) (ConsoleSession, error)
	TouchConsoleSession(ctx context.Context, idHash []byte, lastSeen time.Time) error
	DeleteConsoleSession(ctx context.Context, idHash []byte) error
	// DeleteAdminUserSessions signs a user out everywhere (password change,
	// role change, disable).
	DeleteAdminUserSessions(ctx context.Context, adminUserID string) error

	// PutOneTimeCode stores a code for (admin user, workspace, client),
	// replacing any earlier one for the same key.
	PutOneTimeCode(ctx context.Context, c OneTimeCode) error
	// ConsumeOneTimeCode spends one try of the code for the key with one
	// atomic decrement, so parallel guesses cannot exceed TriesLeft. When
	// codeHash matches, the code is deleted and nil returned. A mismatch
	// returns ErrWrongCode and the tries left; a missing, expired or
	// used-up code returns ErrNotFound.
	ConsumeOneTimeCode(ctx context.Context, key OneTimeCodeKey, codeHash []byte, now time.Time) (triesLeft int, err error)

	// AppendAuditEvent records one event; ID and a zero Time are filled in.
	AppendAuditEvent(ctx context.Context, e AuditEvent) error
	// ListAuditEvents returns events newest first.
	ListAuditEvents(ctx context.Context, f AuditFilter) (AuditPage, error)

	// EnqueueMail stores an outgoing message in the outbox.
	EnqueueMail(ctx context.Context, m Mail) error
	// MarkMail records the delivery outcome of a message.
	MarkMail(ctx context.Context, id string, sentAt time.Time, errText string) error
	// ListMail returns the newest limit messages, newest first.
	ListMail(ctx context.Context, limit int) ([]Mail, error)
	// GetMail returns one message; ErrNotFound when there is none.
	GetMail(ctx context.Context, id string) (Mail, error)

	// DeleteExpiredConsoleData removes sessions idle since before
	// idleBefore or created before createdBefore, and codes expired at now.
	DeleteExpiredConsoleData(ctx context.Context, idleBefore, createdBefore, now time.Time) (int64, error)
}

// Console admin roles.
const (
	RoleSuperAdmin      = "super_admin"      // everything, every workspace, console users, outbox
	RoleWorkspaceAdmin  = "workspace_admin"  // read and change the listed workspaces
	RoleWorkspaceViewer = "workspace_viewer" // read the listed workspaces
)

// AdminRoles lists the roles in decreasing power.
var AdminRoles = []string{RoleSuperAdmin, RoleWorkspaceAdmin, RoleWorkspaceViewer}

// AdminUser is a person who signs in to the console.
type AdminUser struct {
	ID          string
	Username    string
	Email       string
	DisplayName string
	// PasswordHash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
	PasswordHash string
	Role         string
	// Workspaces the workspace roles apply to (empty for super admins).
	Workspaces []string
	Disabled   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ConsoleSession is a signed-in browser.
type ConsoleSession struct {
	IDHash      []byte
	AdminUserID string
	CreatedAt   time.Time
	LastSeenAt  time.Time
	// CSRFSecret keys the synchronizer tokens of this session's forms.
	CSRFSecret []byte
}

// OneTimeCodeKey names whose code it is: one admin user revealing one
// client's secret.
type OneTimeCodeKey struct {
	AdminUserID string
	WorkspaceID string
	ClientID    string
}

// OneTimeCode is an e-mailed confirmation code, stored as a hash.
type OneTimeCode struct {
	OneTimeCodeKey
	CodeHash  []byte
	ExpiresAt time.Time
	TriesLeft int
	CreatedAt time.Time
}

// Audit actor kinds.
const (
	ActorConsole  = "console" // a signed-in console admin user
	ActorAPIToken = "api"     // an admin API bearer token (also the CLI)
	ActorSystem   = "system"  // the server itself (first start, schedules, DCR)
	ActorClient   = "client"  // a client managing itself (RFC 7592)
	ActorUnknown  = "unknown" // no actor in the context
	maxAuditLimit = MaxPageSize
)

// AuditEvent is one recorded change. Details never hold secrets.
type AuditEvent struct {
	ID          int64
	Time        time.Time
	ActorKind   string
	ActorID     string
	ActorName   string
	IP          string
	WorkspaceID string // "" for server-wide changes (console users)
	Action      string // e.g. "client.create", "client.secret.view"
	TargetType  string // e.g. "client"
	TargetID    string
	Details     json.RawMessage // a JSON object, or nil
}

// AuditFilter selects events. Empty fields do not filter. Actor matches
// ActorID or ActorName. Before is the ID of the last event of the previous
// page (0 for the first page).
type AuditFilter struct {
	WorkspaceID string
	// AllWorkspaces lists events of every workspace (super admins); when
	// false WorkspaceID is matched exactly, "" meaning server-wide events.
	AllWorkspaces bool
	Actor         string
	TargetType    string
	TargetID      string
	Action        string
	// Since and Until bound the event time: Since <= Time < Until; a zero
	// value leaves that side open.
	Since  time.Time
	Until  time.Time
	Before int64
	Limit  int
}

// AuditPage is one page of events; Next is the Before of the next page (0
// when this is the last one).
type AuditPage struct {
	Items []AuditEvent
	Next  int64
}

// ClampAuditLimit bounds an audit page size like ListOptions.Limit.
func ClampAuditLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > maxAuditLimit:
		return maxAuditLimit
	}
	return n
}

// Mail is one outgoing message. SentAt is zero until delivered; Error
// holds the last delivery failure. Without SMTP configured, messages stay
// here for the super admin to read in the console.
type Mail struct {
	ID        string
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
	SentAt    time.Time
	Error     string
}
