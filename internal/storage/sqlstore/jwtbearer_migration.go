package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/storage"
)

// Audit fields of the changes migration 6 makes. The action is the one the
// service records for JWT bearer settings changes, so the console's audit
// page shows them next to an admin's own changes.
const (
	migrationAuditAction = "client.jwt_bearer.update"
	migrationActorID     = "migration-0006"
	migrationActorName   = "schema migration 6 (JWT bearer default)"
	grantJWTBearer       = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// migrateJWTBearerDefault is the Go part of migration 6 (docs/security.md
// R1). An absent pre-authorization setting used to mean "all users may
// self-authorize" and now means "admin approved, nobody approved". So that
// no admin-created client changes behaviour silently, every admin-created
// client with the JWT bearer grant and no explicit setting gets an explicit
// "all_users"; every dynamically registered client whose setting is not
// already "admin_approved" gets "admin_approved" (its allowed lists kept),
// because nothing but its own registration ever chose otherwise. Each
// change is written to the audit log.
func migrateJWTBearerDefault(ctx context.Context, s *Store, tx conn) error {
	changes, err := pendingBearerChanges(ctx, tx)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if _, err := tx.exec(ctx, `UPDATE clients SET data = ? WHERE workspace_id = ? AND id = ?`, c.data, c.wsID, c.id); err != nil {
			return fmt.Errorf("update client %s/%s: %w", c.wsID, c.id, err)
		}
		details, err := json.Marshal(map[string]any{
			"pre_auth": c.to, "previous_pre_auth": c.from, "dynamic": c.dynamic, "reason": c.reason,
		})
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, ip, workspace_id, action, target_type, target_id, details)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, toMillis(s.now()), storage.ActorSystem, migrationActorID, migrationActorName, "",
			c.wsID, migrationAuditAction, "client", c.id, string(details)); err != nil {
			return fmt.Errorf("audit client %s/%s: %w", c.wsID, c.id, err)
		}
	}
	// Change events last (recordChange must end the transaction's writes):
	// processes still running the old version drop their cached copies.
	for _, c := range changes {
		if err := s.recordChange(ctx, tx, c.wsID, storage.ChangeClient, c.id); err != nil {
			return err
		}
	}
	return nil
}

// bearerChange is one client document migration 6 rewrites.
type bearerChange struct {
	wsID, id, data   string
	from, to, reason string
	dynamic          bool
}

// pendingBearerChanges reads every client and computes the rewritten
// documents. The document is edited as raw JSON members, so fields this
// version of the code does not know survive unchanged.
func pendingBearerChanges(ctx context.Context, tx conn) ([]bearerChange, error) {
	rows, err := tx.query(ctx, `SELECT workspace_id, id, data FROM clients ORDER BY workspace_id, id`)
	if err != nil {
		return nil, fmt.Errorf("read clients: %w", err)
	}
	defer rows.Close()
	var out []bearerChange
	for rows.Next() {
		var wsID, id, data string
		if err := rows.Scan(&wsID, &id, &data); err != nil {
			return nil, fmt.Errorf("read clients: %w", err)
		}
		c, changed, err := migrateBearerDocument(data)
		if err != nil {
			return nil, fmt.Errorf("client %s/%s: %w", wsID, id, err)
		}
		if changed {
			c.wsID, c.id = wsID, id
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// migrateBearerDocument applies the rule of migrateJWTBearerDefault to one
// client's JSON document.
func migrateBearerDocument(data string) (bearerChange, bool, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		return bearerChange{}, false, err
	}
	var (
		dynamic bool
		grants  []string
		bearer  map[string]json.RawMessage
		preAuth string
	)
	if err := unmarshalMember(doc, "dynamic", &dynamic); err != nil {
		return bearerChange{}, false, err
	}
	if err := unmarshalMember(doc, "grant_types", &grants); err != nil {
		return bearerChange{}, false, err
	}
	if err := unmarshalMember(doc, "jwt_bearer", &bearer); err != nil {
		return bearerChange{}, false, err
	}
	if err := unmarshalMember(bearer, "pre_auth", &preAuth); err != nil {
		return bearerChange{}, false, err
	}
	c := bearerChange{from: preAuth, dynamic: dynamic}
	switch {
	case dynamic && preAuth != storage.PreAuthAdminApproved:
		c.to, c.reason = storage.PreAuthAdminApproved, "dynamically registered clients issue user tokens only for users an admin approves"
	case !dynamic && preAuth == "" && slices.Contains(grants, grantJWTBearer):
		c.to, c.reason = storage.PreAuthAllUsers, "kept the previous default explicitly; the default is now admin_approved"
	default:
		return bearerChange{}, false, nil
	}
	if bearer == nil {
		bearer = map[string]json.RawMessage{}
	}
	bearer["pre_auth"], _ = json.Marshal(c.to)
	var err error
	if doc["jwt_bearer"], err = json.Marshal(bearer); err != nil {
		return bearerChange{}, false, err
	}
	out, err := json.Marshal(doc)
	c.data = string(out)
	return c, true, err
}

// unmarshalMember decodes doc[key] into dst; absent and null leave dst as is.
func unmarshalMember(doc map[string]json.RawMessage, key string, dst any) error {
	raw, ok := doc[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("member %s: %w", key, err)
	}
	return nil
}
