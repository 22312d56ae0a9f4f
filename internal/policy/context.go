package policy

import (
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/storage"

	"google.golang.org/protobuf/types/known/structpb"
)

// User is the user variable of a policy. It is the zero value when the
// request involves no user.
type User struct {
	ID          string            `cel:"id"`
	Username    string            `cel:"username"`
	Email       string            `cel:"email"`
	Profiles    []string          `cel:"profiles"`
	Attributes  map[string]string `cel:"attributes"`
	Active      bool              `cel:"active"`
	ServiceUser bool              `cel:"service_user"`
	// Authentication is the user's sign-in, where a sign-in session
	// exists (see Authentication).
	Authentication Authentication `cel:"authentication"`
}

// Authentication is how and when the user signed in (OIDC Core §2 amr
// and auth_time). It is set at the authorization endpoint (the browser's
// sign-in session), at the authorization code grant and at refresh (both
// from what the session recorded when the code was issued). It is empty
// (no methods; time is timestamp 0, 1970-01-01T00:00:00Z, so that
// int(user.authentication.time) == 0) where no sign-in session exists: the
// JWT bearer grant, refresh of its token families, client_credentials
// and token exchange.
type Authentication struct {
	// Methods are the methods used, amr-like: "pwd", "webauthn", "otp"...
	Methods []string `cel:"methods"`
	// Time is when the user authenticated (auth_time); CEL sees the zero
	// time.Time as timestamp 0 (the Unix epoch) when unknown.
	Time time.Time `cel:"time"`
}

// Client is the client variable of a policy.
type Client struct {
	ID   string `cel:"id"`
	Type string `cel:"type"`
	// ApplicationType is web, native, spa or service: the stored type,
	// or the inferred one of a client stored without (see
	// storage.Client.EffectiveApplicationType).
	ApplicationType string            `cel:"application_type"`
	Metadata        map[string]string `cel:"metadata"`
	GrantTypes      []string          `cel:"grant_types"`
}

// Request is the request variable of a policy.
type Request struct {
	GrantType  string    `cel:"grant_type"`
	Scopes     []string  `cel:"scopes"`
	Resources  []string  `cel:"resources"`
	Audience   []string  `cel:"audience"`
	RemoteIP   string    `cel:"remote_ip"`
	Time       time.Time `cel:"time"`
	AuthMethod string    `cel:"auth_method"`
	// Claims are the validated claims of an assertion; set them with
	// SetClaims. CEL sees them as map(string, dyn).
	Claims *structpb.Struct `cel:"claims"`
}

// SetClaims sets the claims from decoded JSON. Values that JSON cannot
// hold are dropped (claims come from JSON, so none are).
func (r *Request) SetClaims(claims map[string]any) {
	s, err := structpb.NewStruct(claims)
	if err != nil {
		s = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	r.Claims = s
}

// Workspace is the workspace variable of a policy.
type Workspace struct {
	ID string `cel:"id"`
}

// Input is everything a policy sees.
type Input struct {
	User      User
	Client    Client
	Request   Request
	Workspace Workspace
}

// Shared empty values for normalized: CEL only reads its input, so one
// instance serves every request instead of fresh garbage on each.
var (
	emptyStringMap = map[string]string{}
	emptyClaims    = &structpb.Struct{Fields: map[string]*structpb.Value{}}
)

// normalized fills nil collections so that conditions such as
// "x in user.profiles" see an empty list rather than null.
func (in Input) normalized() Input {
	if in.User.Profiles == nil {
		in.User.Profiles = []string{}
	}
	if in.User.Attributes == nil {
		in.User.Attributes = emptyStringMap
	}
	if in.User.Authentication.Methods == nil {
		in.User.Authentication.Methods = []string{}
	}
	if in.Client.Metadata == nil {
		in.Client.Metadata = emptyStringMap
	}
	if in.Client.GrantTypes == nil {
		in.Client.GrantTypes = []string{}
	}
	if in.Request.Scopes == nil {
		in.Request.Scopes = []string{}
	}
	if in.Request.Resources == nil {
		in.Request.Resources = []string{}
	}
	if in.Request.Audience == nil {
		in.Request.Audience = []string{}
	}
	if in.Request.Claims == nil {
		in.Request.Claims = emptyClaims
	}
	if in.Request.Time.IsZero() {
		in.Request.Time = time.Now()
	}
	return in
}

// FromUser is the user variable of a policy for a directory user, without
// a sign-in (set User.Authentication where a session exists).
func FromUser(u storage.User) User {
	return User{ID: u.ID, Username: u.Username, Email: u.Email, Profiles: u.Profiles,
		Attributes: u.Attributes, Active: u.Active, ServiceUser: u.ServiceUser}
}

// FromClient is the client variable of a policy.
func FromClient(c storage.Client) Client {
	return Client{ID: c.ID, Type: c.Type, ApplicationType: c.EffectiveApplicationType(), Metadata: c.Metadata,
		GrantTypes: c.GrantTypes}
}

// AccessPolicies lists, without repeats and in scope order, the access
// policies of the services defining scopes.
func AccessPolicies(refs []storage.ScopeRef, scopes []string) []string {
	var out []string
	for _, s := range scopes {
		for _, r := range refs {
			if r.Name == s && r.AccessPolicyID != "" && !slices.Contains(out, r.AccessPolicyID) {
				out = append(out, r.AccessPolicyID)
			}
		}
	}
	return out
}
