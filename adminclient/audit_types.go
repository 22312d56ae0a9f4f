package adminclient

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// AuditEvent is one recorded change (who did what to which object, and
// when). Details never hold secrets: field names, IDs and non-secret
// values only.
type AuditEvent struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	ActorKind   string    `json:"actor_kind"` // console, api, system, client or unknown
	ActorID     string    `json:"actor_id"`
	ActorName   string    `json:"actor_name"`
	IP          string    `json:"ip"`
	WorkspaceID string    `json:"workspace_id"` // "" for server-wide changes
	Action      string    `json:"action"`       // e.g. client.create
	TargetType  string    `json:"target_type"`  // e.g. client
	TargetID    string    `json:"target_id"`
	// Details is a JSON object, or absent.
	Details json.RawMessage `json:"details,omitempty"`
}

// AuditQuery filters and pages an audit log listing. Zero fields do not
// filter. Since is inclusive and Until exclusive. Actor matches the
// actor's ID or name; Client keeps the events whose target is that client.
type AuditQuery struct {
	Since     time.Time
	Until     time.Time
	Actor     string
	Action    string
	Client    string
	Limit     int
	PageToken string
}

// Values are the query parameters of q, for Client.Do.
func (q AuditQuery) Values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	for k, s := range map[string]string{"actor": q.Actor, "action": q.Action, "client": q.Client, "page_token": q.PageToken} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// OutboxMail is one message of the server's mail outbox: every e-mail the
// server wrote (one-time codes, password links), sent or not. Without a
// mail server configured, messages stay here for a super admin to read.
type OutboxMail struct {
	ID        string     `json:"id"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	// Error is the last delivery failure, if any.
	Error string `json:"error,omitempty"`
}
