package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey/internal/storage"
)

const certColumns = `workspace_id, client_id, kid, der, subject, issuer, serial, not_before, not_after, thumbprint, created_at`

// CreateClientCertificate inserts c. A duplicate kid for the client is
// ErrAlreadyExists; a missing client is ErrNotFound (foreign key).
func (s *Store) CreateClientCertificate(ctx context.Context, c storage.ClientCertificate) error {
	if err := checkText("create client certificate", c.WorkspaceID, c.ClientID, c.KID, c.Subject, c.Issuer, c.Serial, c.ThumbprintS256); err != nil {
		return err
	}
	return s.inTx(ctx, "create client certificate", func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO client_certificates (`+certColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.WorkspaceID, c.ClientID, c.KID, nonNil(c.DER), c.Subject, c.Issuer, c.Serial,
			toMillis(c.NotBefore), toMillis(c.NotAfter), c.ThumbprintS256, toMillis(c.CreatedAt)); err != nil {
			return err
		}
		return s.recordChange(ctx, tx, c.WorkspaceID, storage.ChangeCertificates, c.ClientID)
	})
}

// ListClientCertificates returns the client's certificates, oldest first.
func (s *Store) ListClientCertificates(ctx context.Context, workspaceID, clientID string) ([]storage.ClientCertificate, error) {
	if !findable(workspaceID, clientID) {
		return nil, nil
	}
	rows, err := s.reader().query(ctx, `SELECT `+certColumns+` FROM client_certificates WHERE workspace_id = ? AND client_id = ? ORDER BY created_at, kid`,
		workspaceID, clientID)
	if err != nil {
		return nil, mapError("list client certificates", err)
	}
	defer rows.Close()
	var out []storage.ClientCertificate
	for rows.Next() {
		var c storage.ClientCertificate
		var nb, na, created int64
		if err := rows.Scan(&c.WorkspaceID, &c.ClientID, &c.KID, &c.DER, &c.Subject, &c.Issuer, &c.Serial,
			&nb, &na, &c.ThumbprintS256, &created); err != nil {
			return nil, mapError("list client certificates", err)
		}
		c.NotBefore, c.NotAfter, c.CreatedAt = fromMillis(nb), fromMillis(na), fromMillis(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, mapError("list client certificates", err)
	}
	return out, nil
}

// DeleteClientCertificate removes one certificate of a client.
func (s *Store) DeleteClientCertificate(ctx context.Context, workspaceID, clientID, kid string) error {
	return s.deleteRow(ctx, "delete client certificate",
		`DELETE FROM client_certificates WHERE workspace_id = ? AND client_id = ? AND kid = ?`,
		workspaceID, storage.ChangeCertificates, clientID, workspaceID, clientID, kid)
}

var _ storage.Directory = (*Store)(nil)
