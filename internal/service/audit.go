package service

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/latchkey/latchkey/internal/storage"
)

// Audit actions. The console's audit page and the API read them back.
const (
	AuditWorkspaceCreate   = "workspace.create"
	AuditWorkspaceUpdate   = "workspace.update"
	AuditWorkspaceDelete   = "workspace.delete"
	AuditServiceCreate     = "service.create"
	AuditServiceUpdate     = "service.update"
	AuditServiceDelete     = "service.delete"
	AuditClientCreate      = "client.create"
	AuditClientUpdate      = "client.update"
	AuditClientEnable      = "client.enable"
	AuditClientDisable     = "client.disable"
	AuditClientDelete      = "client.delete"
	AuditSecretRotate      = "client.secret.rotate"
	AuditSecretCodeSent    = "client.secret.code_sent"
	AuditSecretCodeWrong   = "client.secret.code_wrong"
	AuditSecretView        = "client.secret.view"
	AuditKeysRotate        = "keys.rotate"
	AuditKeyRemove         = "keys.remove"
	AuditIATCreate         = "initial_access_token.create"
	AuditIATDelete         = "initial_access_token.delete"
	AuditConsoleUserCreate = "console_user.create"
	AuditConsoleUserUpdate = "console_user.update"
	AuditConsoleUserDelete = "console_user.delete"
	AuditConsoleUserPass   = "console_user.password"
	AuditConsoleSignIn     = "console.sign_in"
)

// Audit target types.
const (
	TargetWorkspace   = "workspace"
	TargetService     = "service"
	TargetClient      = "client"
	TargetKey         = "key"
	TargetIAT         = "initial_access_token"
	TargetConsoleUser = "console_user"
)

// audit records one change made by the actor of ctx. The change has
// already happened, so a failure to record it is logged, not returned: the
// caller must not retry a change that succeeded. details must never hold
// secrets (field names, IDs and non-secret values only).
func (s *Service) audit(ctx context.Context, wsID, action, targetType, targetID string, details map[string]any) {
	a, ok := ActorFrom(ctx)
	if !ok {
		a = Actor{Kind: storage.ActorUnknown}
	}
	var raw json.RawMessage
	if len(details) > 0 {
		b, err := json.Marshal(details)
		if err == nil {
			raw = b
		}
	}
	err := s.Store.AppendAuditEvent(ctx, storage.AuditEvent{
		Time: s.now(), ActorKind: a.Kind, ActorID: a.ID, ActorName: a.Name, IP: a.IP,
		WorkspaceID: wsID, Action: action, TargetType: targetType, TargetID: targetID, Details: raw,
	})
	if err != nil {
		s.log().ErrorContext(ctx, "service: record audit event", slog.String("action", action),
			slog.String("target", targetType+"/"+targetID), slog.Any("error", err))
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// ListAuditEvents returns audit events, newest first. A WorkspaceID that
// does not exist is not an error: the events of a deleted workspace stay
// readable.
func (s *Service) ListAuditEvents(ctx context.Context, f storage.AuditFilter) (storage.AuditPage, error) {
	return s.Store.ListAuditEvents(ctx, f)
}

// setFields lists the names of the fields a patch sets, for audit details.
func setFields(pairs ...any) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if set, _ := pairs[i+1].(bool); set {
			out = append(out, pairs[i].(string))
		}
	}
	return out
}
