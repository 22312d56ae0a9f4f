package sqlstore

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

const auditColumns = `id, at, actor_kind, actor_id, actor_name, ip, workspace_id, action, target_type, target_id, details`

// AppendAuditEvent inserts e. The ID comes from the database sequence, so
// events of every process share one order.
func (s *Store) AppendAuditEvent(ctx context.Context, e storage.AuditEvent) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	details := "{}"
	if len(e.Details) > 0 {
		if !json.Valid(e.Details) {
			return mapError("append audit event", errInvalidDetails)
		}
		details = string(e.Details)
	}
	// An attempt with hostile text is still recorded, its text made
	// storable (text.go), rather than lost.
	_, err := s.reader().exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, ip, workspace_id, action, target_type, target_id, details)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		toMillis(e.Time), storableText(e.ActorKind), storableText(e.ActorID), storableText(e.ActorName), storableText(e.IP),
		storableText(e.WorkspaceID), storableText(e.Action), storableText(e.TargetType), storableText(e.TargetID), storableText(details))
	return mapError("append audit event", err)
}

type auditError string

func (e auditError) Error() string { return string(e) }

const errInvalidDetails = auditError("audit details are not valid JSON")

// ListAuditEvents returns events newest first (by ID), filtered by f.
func (s *Store) ListAuditEvents(ctx context.Context, f storage.AuditFilter) (storage.AuditPage, error) {
	q, args, limit := auditQuery(f)
	if checkArgs("list audit events", args) != nil {
		return storage.AuditPage{}, nil // no stored event holds such text (text.go)
	}
	rows, err := s.reader().query(ctx, q, args...)
	if err != nil {
		return storage.AuditPage{}, mapError("list audit events", err)
	}
	defer rows.Close()
	var items []storage.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return storage.AuditPage{}, mapError("list audit events", err)
		}
		items = append(items, e)
	}
	if err := rows.Err(); err != nil {
		return storage.AuditPage{}, mapError("list audit events", err)
	}
	page := storage.AuditPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.Next = items[limit-1].ID
	}
	return page, nil
}

func auditQuery(f storage.AuditFilter) (string, []any, int) {
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT ` + auditColumns + ` FROM audit_events WHERE 1 = 1`)
	add := func(cond string, vals ...any) {
		b.WriteString(" AND " + cond)
		args = append(args, vals...)
	}
	if !f.AllWorkspaces {
		add("workspace_id = ?", f.WorkspaceID)
	}
	if f.Actor != "" {
		add("(actor_id = ? OR actor_name = ?)", f.Actor, f.Actor)
	}
	if f.TargetType != "" {
		add("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		add("at >= ?", toMillis(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", toMillis(f.Until))
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	limit := storage.ClampAuditLimit(f.Limit)
	b.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, limit+1)
	return b.String(), args, limit
}

func scanAuditEvent(row interface{ Scan(...any) error }) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	var at int64
	var details string
	if err := row.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.ActorName, &e.IP, &e.WorkspaceID, &e.Action,
		&e.TargetType, &e.TargetID, &details); err != nil {
		return storage.AuditEvent{}, err
	}
	e.Time = fromMillis(at)
	if details != "{}" {
		e.Details = json.RawMessage(details)
	}
	return e, nil
}
