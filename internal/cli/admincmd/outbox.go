package admincmd

import (
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// outboxCmd reads the mail outbox (super_admin), for administrators
// without a mail server: one-time codes and password links wait there.
func outboxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "Read the mail outbox (messages the server wrote, sent or not)"}
	var limit int
	list := &cobra.Command{Use: "list", Short: "List the newest outbox messages, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			raw, err := g.do(cmd.Context(), "GET", "/outbox", q, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, outboxTable)
		}}
	list.Flags().IntVar(&limit, "limit", 0, "number of messages (1-500; default 50)")
	show := &cobra.Command{Use: "show ID", Short: "Show one outbox message with its body", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := g.do(cmd.Context(), "GET", "/outbox/"+seg(args[0]), nil, nil)
			if err != nil {
				return err
			}
			return g.print(cmd, raw, outboxDetail)
		}}
	cmd.AddCommand(list, show)
	return cmd
}

func mailStatus(m adminclient.OutboxMail) string {
	switch {
	case m.SentAt != nil:
		return "sent " + fmtTime(m.SentAt)
	case m.Error != "":
		return "not sent: " + m.Error
	}
	return "not sent"
}

func outboxTable(w io.Writer, raw []byte) error {
	l, err := decode[adminclient.List[adminclient.OutboxMail]](raw)
	if err != nil {
		return err
	}
	row(w, "ID", "CREATED", "TO", "SUBJECT", "STATUS")
	for _, m := range l.Items {
		row(w, m.ID, fmtTime(&m.CreatedAt), m.To, m.Subject, mailStatus(m))
	}
	return nil
}

func outboxDetail(w io.Writer, raw []byte) error {
	m, err := decode[adminclient.OutboxMail](raw)
	if err != nil {
		return err
	}
	kv(w, "ID", m.ID, "Created", fmtTime(&m.CreatedAt), "To", m.To, "Subject", m.Subject, "Status", mailStatus(m))
	// The body goes after the table, as written, so that codes and links
	// can be copied.
	_, err = fmt.Fprintf(w, "\n%s\n", m.Body)
	return err
}
