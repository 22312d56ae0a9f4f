package admincmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// auditCmd reads the audit log: "list" one page at a time, "export" every
// page as JSON lines for a SIEM.
func auditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log (who changed what, and when)"}
	cmd.AddCommand(auditListCmd(g), auditExportCmd(g))
	return cmd
}

// auditFlags are the filters shared by list and export.
type auditFlags struct {
	since, until, actor, action, client string
	all                                 bool
}

func (af *auditFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&af.since, "since", "", "events at or after this time: RFC 3339 (2026-03-01T00:00:00Z) or an age such as 24h")
	f.StringVar(&af.until, "until", "", "events before this time (exclusive): RFC 3339 or an age such as 1h")
	f.StringVar(&af.actor, "actor", "", "events of this actor (console username, user ID or token:<id>)")
	f.StringVar(&af.action, "action", "", "events of this action, e.g. client.update")
	f.StringVar(&af.client, "client", "", "events about this client ID")
	f.BoolVar(&af.all, "all-workspaces", false, "every workspace and server-wide changes (super_admin), instead of --workspace")
}

// query turns the flags into the API's query, resolving ages against now.
func (af *auditFlags) query(now time.Time) (adminclient.AuditQuery, error) {
	q := adminclient.AuditQuery{Actor: af.actor, Action: af.action, Client: af.client}
	var err error
	if q.Since, err = parseWhen("since", af.since, now); err != nil {
		return q, err
	}
	if q.Until, err = parseWhen("until", af.until, now); err != nil {
		return q, err
	}
	return q, nil
}

// parseWhen reads an RFC 3339 time or an age (a Go duration before now).
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--%s must be an RFC 3339 time such as 2026-03-01T00:00:00Z or an age such as 24h, not %q", flag, s)
}

func (af *auditFlags) path(g *globals) string {
	if af.all {
		return "/audit"
	}
	return g.wsPath() + "/audit"
}

func auditListCmd(g *globals) *cobra.Command {
	var af auditFlags
	var limit int
	var pageToken string
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List audit events, newest first (one page; --page-token for the next)", Args: cobra.NoArgs,
		Example: `  latchkey admin audit list --since 24h --actor alice --action client.update
  latchkey admin audit list --client my-app --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := af.query(time.Now())
			if err != nil {
				return err
			}
			q.Limit, q.PageToken = limit, pageToken
			raw, err := g.do(cmd.Context(), "GET", af.path(g), q.Values(), nil)
			if err != nil {
				return err
			}
			if asJSON {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			return g.print(cmd, raw, auditTable)
		}}
	af.add(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "page size (1-500; default 50)")
	cmd.Flags().StringVar(&pageToken, "page-token", "", "next_page_token of the previous page (same filters)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON (as --output json)")
	return cmd
}

// auditExportCmd writes every matching event, one JSON object a line
// (JSON Lines), following the page tokens to the end. Each line is the
// event exactly as the API returns it.
func auditExportCmd(g *globals) *cobra.Command {
	var af auditFlags
	var file string
	cmd := &cobra.Command{Use: "export", Short: "Write every matching audit event as JSON lines (for a SIEM), newest first", Args: cobra.NoArgs,
		Example: `  latchkey admin audit export --since 2026-03-01T00:00:00Z > audit.jsonl
  latchkey admin audit export --all-workspaces --since 24h --file /var/log/latchkey-audit.jsonl`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := af.query(time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if file != "" {
				f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return fmt.Errorf("open --file: %w", err)
				}
				defer f.Close()
				out = f
			}
			bw := bufio.NewWriter(out)
			n, err := exportAudit(cmd, g, af.path(g), q, bw)
			if ferr := bw.Flush(); err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
			if file != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d events to %s\n", n, file)
			}
			return nil
		}}
	af.add(cmd)
	cmd.Flags().StringVar(&file, "file", "", "write to this file (mode 0600) instead of standard output")
	return cmd
}

func exportAudit(cmd *cobra.Command, g *globals, path string, q adminclient.AuditQuery, w io.Writer) (int, error) {
	q.Limit = 500
	n := 0
	for {
		raw, err := g.do(cmd.Context(), "GET", path, q.Values(), nil)
		if err != nil {
			return n, err
		}
		page, err := decode[adminclient.Page[json.RawMessage]](raw)
		if err != nil {
			return n, err
		}
		for _, item := range page.Items {
			if _, err := w.Write(append(item, '\n')); err != nil {
				return n, err
			}
			n++
		}
		if page.NextPageToken == "" {
			return n, nil
		}
		q.PageToken = page.NextPageToken
	}
}

func auditTable(w io.Writer, raw []byte) error {
	p, err := decode[adminclient.Page[adminclient.AuditEvent]](raw)
	if err != nil {
		return err
	}
	row(w, "TIME", "ACTOR", "ACTION", "TARGET", "WORKSPACE", "DETAILS")
	for _, e := range p.Items {
		actor := e.ActorName
		if actor == "" {
			actor = e.ActorID
		}
		target := e.TargetType + "/" + e.TargetID
		if e.TargetType == "" {
			target = "-"
		}
		details := strings.TrimSpace(string(e.Details))
		row(w, fmtTime(&e.Time), dash(e.ActorKind+":"+actor), e.Action, target, dash(e.WorkspaceID), dash(details))
	}
	nextPage(w, p.NextPageToken)
	return nil
}
