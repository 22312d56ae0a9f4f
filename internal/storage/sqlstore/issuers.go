package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Indexed trusted-issuer columns; the rest is the JSON document issuerData.
const issuerColumns = `workspace_id, id, name, issuer, enabled, created_at, updated_at, data`

type issuerData struct {
	JWKSURI              string        `json:"jwks_uri,omitempty"`
	JWKS                 []byte        `json:"jwks,omitempty"`
	Audience             string        `json:"audience,omitempty"`
	AllowedClients       []string      `json:"allowed_clients,omitempty"`
	MaxAssertionLifetime time.Duration `json:"max_assertion_lifetime,omitempty"`
	ServiceUserID        string        `json:"service_user_id,omitempty"`
	Claim                string        `json:"claim,omitempty"`
	ClaimFormat          string        `json:"claim_format,omitempty"`
}

func issuerDoc(ti storage.TrustedIssuer) (string, error) {
	data, err := json.Marshal(issuerData{
		JWKSURI: ti.JWKSURI, JWKS: ti.JWKS, Audience: ti.Audience, AllowedClients: ti.AllowedClients,
		MaxAssertionLifetime: ti.MaxAssertionLifetime, ServiceUserID: ti.ServiceUserID,
		Claim: ti.Claim, ClaimFormat: ti.ClaimFormat,
	})
	if err != nil {
		return "", fmt.Errorf("sqlstore: encode trusted issuer: %w", err)
	}
	return string(data), nil
}

// CreateTrustedIssuer inserts ti. A duplicate ID or issuer URL in the
// workspace is ErrAlreadyExists.
func (s *Store) CreateTrustedIssuer(ctx context.Context, ti storage.TrustedIssuer) error {
	data, err := issuerDoc(ti)
	if err != nil {
		return err
	}
	if err := checkText("create trusted issuer", ti.WorkspaceID, ti.ID, ti.Name, ti.Issuer); err != nil {
		return err
	}
	return s.inTx(ctx, "create trusted issuer", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO trusted_issuers (`+issuerColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			ti.WorkspaceID, ti.ID, ti.Name, ti.Issuer, ti.Enabled, toMillis(ti.CreatedAt), toMillis(ti.UpdatedAt), data); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, ti.WorkspaceID, storage.ChangeTrustedIssuer, ti.ID)
	})
}

// GetTrustedIssuer reads one trusted issuer by ID.
func (s *Store) GetTrustedIssuer(ctx context.Context, workspaceID, id string) (storage.TrustedIssuer, error) {
	ti, err := getIssuer(ctx, s.reader(), `id = ?`, workspaceID, id, "")
	return ti, mapError("get trusted issuer", err)
}

// GetTrustedIssuerByIssuer reads the trusted issuer with this exact iss.
func (s *Store) GetTrustedIssuerByIssuer(ctx context.Context, workspaceID, iss string) (storage.TrustedIssuer, error) {
	ti, err := getIssuer(ctx, s.reader(), `issuer = ?`, workspaceID, iss, "")
	return ti, mapError("get trusted issuer", err)
}

func getIssuer(ctx context.Context, c conn, cond, workspaceID, value, lock string) (storage.TrustedIssuer, error) {
	if !findable(workspaceID, value) {
		return storage.TrustedIssuer{}, storage.ErrNotFound
	}
	row := c.queryRow(ctx, `SELECT `+issuerColumns+` FROM trusted_issuers WHERE workspace_id = ? AND `+cond+lock, workspaceID, value)
	return scanIssuer(row)
}

func scanIssuer(row interface{ Scan(...any) error }) (storage.TrustedIssuer, error) {
	var ti storage.TrustedIssuer
	var created, updated int64
	var data string
	if err := row.Scan(&ti.WorkspaceID, &ti.ID, &ti.Name, &ti.Issuer, &ti.Enabled, &created, &updated, &data); err != nil {
		return storage.TrustedIssuer{}, err
	}
	var d issuerData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return storage.TrustedIssuer{}, fmt.Errorf("decode trusted issuer: %w", err)
	}
	ti.JWKSURI, ti.JWKS, ti.Audience, ti.AllowedClients = d.JWKSURI, d.JWKS, d.Audience, d.AllowedClients
	ti.MaxAssertionLifetime, ti.ServiceUserID, ti.Claim, ti.ClaimFormat = d.MaxAssertionLifetime, d.ServiceUserID, d.Claim, d.ClaimFormat
	ti.CreatedAt, ti.UpdatedAt = fromMillis(created), fromMillis(updated)
	return ti, nil
}

// ListTrustedIssuers returns one page of the workspace's trusted issuers.
func (s *Store) ListTrustedIssuers(ctx context.Context, workspaceID string, opts storage.ListOptions) (storage.Page[storage.TrustedIssuer], error) {
	q, args, limit := listQuery(`SELECT `+issuerColumns+` FROM trusted_issuers WHERE workspace_id = ?`, []any{workspaceID}, opts)
	return listPage(ctx, s, "list trusted issuers", q, args, limit, scanIssuer, func(ti storage.TrustedIssuer) string { return ti.ID })
}

// UpdateTrustedIssuer runs updater on the locked issuer and writes its result.
func (s *Store) UpdateTrustedIssuer(ctx context.Context, workspaceID, id string, updater func(storage.TrustedIssuer) (storage.TrustedIssuer, error)) (storage.TrustedIssuer, error) {
	out, err := updateRow(ctx, s, rowUpdate[storage.TrustedIssuer]{
		op: "update trusted issuer",
		lock: func(tx conn) (storage.TrustedIssuer, error) {
			return getIssuer(ctx, tx, `id = ?`, workspaceID, id, s.flavor.forUpdate)
		},
		prepare: func(next *storage.TrustedIssuer) ([]any, error) {
			next.WorkspaceID, next.ID = workspaceID, id
			if err := checkText("update trusted issuer", next.Name, next.Issuer); err != nil {
				return nil, err
			}
			data, err := issuerDoc(*next)
			if err != nil {
				return nil, err
			}
			return []any{next.Name, next.Issuer, next.Enabled, toMillis(next.CreatedAt), toMillis(next.UpdatedAt), data, workspaceID, id}, nil
		},
		write: execAndRecord[storage.TrustedIssuer](ctx, s, `UPDATE trusted_issuers SET name = ?, issuer = ?, enabled = ?, created_at = ?, updated_at = ?, data = ? WHERE workspace_id = ? AND id = ?`,
			workspaceID, storage.ChangeTrustedIssuer, id),
	}, updater)
	if err != nil {
		return storage.TrustedIssuer{}, err
	}
	out.CreatedAt, out.UpdatedAt = roundTime(out.CreatedAt), roundTime(out.UpdatedAt)
	return out, nil
}

// DeleteTrustedIssuer removes one trusted issuer.
func (s *Store) DeleteTrustedIssuer(ctx context.Context, workspaceID, id string) error {
	return s.deleteRow(ctx, "delete trusted issuer", `DELETE FROM trusted_issuers WHERE workspace_id = ? AND id = ?`,
		workspaceID, storage.ChangeTrustedIssuer, id, workspaceID, id)
}
