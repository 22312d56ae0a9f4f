package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Template is a built-in policy shape: Render turns its parameters into
// rules. Every template denies what it does not admit and ends with a
// final allow rule, so more deny rules can be put in front of it.
type Template struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Params      []TemplateParam `json:"params"`
}

// TemplateParam is one parameter of a template; list values are separated
// by commas.
type TemplateParam struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type template struct {
	Template
	render func(params map[string]string) (storage.PolicyRule, error)
}

var templates = []template{
	{Template{"profiles", "User profiles", "Only users in one of the listed profiles, or listed by ID: the JWT bearer pre-authorization as a policy.",
		[]TemplateParam{{"profiles", "profile IDs, comma-separated"},
			{"users", "user IDs, comma-separated (optional; profiles or users is required)"}}}, renderProfiles},
	{Template{"email-domain", "Email domain", "Only users whose email address is in one of the listed domains.",
		[]TemplateParam{{"domain", "domains, comma-separated (example.com)"}}}, renderEmailDomain},
	{Template{"ip-ranges", "IP ranges", "Only requests from one of the listed CIDR ranges.",
		[]TemplateParam{{"cidrs", "CIDR ranges, comma-separated (10.0.0.0/8)"}}}, renderIPRanges},
	{Template{"service-users-only", "Service users only", "Only service users (no interactive accounts).", nil},
		renderServiceUsers},
	{Template{"time-window", "Time window", "Only during the given UTC hours and weekdays.",
		[]TemplateParam{{"hours", "UTC hours START-END, end exclusive (9-17)"},
			{"weekdays", "weekdays, comma-separated (mon,tue,wed,thu,fri); empty means every day"}}}, renderTimeWindow},
}

// Templates lists the built-in templates.
func Templates() []Template {
	out := make([]Template, len(templates))
	for i, t := range templates {
		out[i] = t.Template
	}
	return out
}

// Render returns the rules of template id with params. Unknown templates,
// unknown or missing parameters and invalid values are errors written for
// a person. Parameter values are always quoted as CEL string literals,
// never spliced into expressions (docs/security.md Z1).
func Render(id string, params map[string]string) ([]storage.PolicyRule, error) {
	for _, t := range templates {
		if t.ID != id {
			continue
		}
		known := map[string]bool{}
		for _, p := range t.Params {
			known[p.Name] = true
		}
		for k := range params {
			if !known[k] {
				return nil, fmt.Errorf("template %s has no parameter %q", id, k)
			}
		}
		deny, err := t.render(params)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", id, err)
		}
		deny.Outcome = storage.PolicyDeny
		return []storage.PolicyRule{deny, {Condition: "true", Outcome: storage.PolicyAllow}}, nil
	}
	ids := make([]string, len(templates))
	for i, t := range templates {
		ids[i] = t.ID
	}
	sort.Strings(ids)
	return nil, fmt.Errorf("unknown template %q (known: %s)", id, strings.Join(ids, ", "))
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func celList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var (
	// profileIDRe matches profile and user IDs (the service's ID rule).
	profileIDRe = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)
	domainRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}$`)
)

// listParam reads the required list parameter name, each value checked
// and normalised by norm.
func listParam(params map[string]string, name string, norm func(string) (string, error)) ([]string, error) {
	vals := splitList(params[name])
	if len(vals) == 0 {
		return nil, fmt.Errorf("parameter %s is required", name)
	}
	if len(vals) > 100 {
		return nil, fmt.Errorf("parameter %s has more than 100 values", name)
	}
	for i, v := range vals {
		n, err := norm(v)
		if err != nil {
			return nil, err
		}
		vals[i] = n
	}
	return vals, nil
}

// renderProfiles admits users in one of the profiles or listed by ID:
// exactly what the JWT bearer grant's admin_approved pre-authorization
// admits (PreAuthorizationParams).
func renderProfiles(params map[string]string) (storage.PolicyRule, error) {
	if len(splitList(params["profiles"])) == 0 && len(splitList(params["users"])) == 0 {
		return storage.PolicyRule{}, fmt.Errorf("parameter profiles (or users) is required")
	}
	var admit []string
	for _, l := range []struct {
		param, what, cond string
	}{{"profiles", "profile ID", "user.profiles.exists(p, p in %s)"}, {"users", "user ID", "user.id in %s"}} {
		if len(splitList(params[l.param])) == 0 {
			continue
		}
		vals, err := listParam(params, l.param, func(v string) (string, error) {
			if !profileIDRe.MatchString(v) {
				return "", fmt.Errorf("%q is not a %s", v, l.what)
			}
			return v, nil
		})
		if err != nil {
			return storage.PolicyRule{}, err
		}
		admit = append(admit, fmt.Sprintf(l.cond, celList(vals)))
	}
	return storage.PolicyRule{
		Condition: "!(" + strings.Join(admit, " || ") + ")",
		Message:   "your account is not in a profile allowed to use this application",
	}, nil
}

// PreAuthorizationParams are the "profiles" template parameters that
// admit exactly the users a client's JWT bearer pre-authorization admits
// (storage.JWTBearerSettings, RFC 7523 §3 leaves the authorization of the
// subject to the server), so existing settings can become a user policy.
// ok is false when no policy is needed (all_users: everyone is admitted)
// or the template cannot express it (no settings, or admin_approved with
// empty lists, admit nobody: that is a single deny rule, not the
// template). Any PreAuth other than all_users reads the lists, as the
// grant does.
func PreAuthorizationParams(s *storage.JWTBearerSettings) (params map[string]string, ok bool) {
	if s == nil || s.PreAuth == storage.PreAuthAllUsers {
		return nil, false
	}
	if len(s.AllowedProfiles) == 0 && len(s.AllowedUsers) == 0 {
		return nil, false
	}
	params = map[string]string{}
	if len(s.AllowedProfiles) > 0 {
		params["profiles"] = strings.Join(s.AllowedProfiles, ",")
	}
	if len(s.AllowedUsers) > 0 {
		params["users"] = strings.Join(s.AllowedUsers, ",")
	}
	return params, true
}

func renderEmailDomain(params map[string]string) (storage.PolicyRule, error) {
	vals, err := listParam(params, "domain", func(v string) (string, error) {
		v = strings.ToLower(v)
		if !domainRe.MatchString(v) {
			return "", fmt.Errorf("%q is not a domain name", v)
		}
		return "@" + v, nil
	})
	return storage.PolicyRule{
		Condition: fmt.Sprintf("!%s.exists(d, user.email.lowerAscii().endsWith(d))", celList(vals)),
		Message:   "sign in with an email address of an allowed domain",
	}, err
}

func renderIPRanges(params map[string]string) (storage.PolicyRule, error) {
	vals, err := listParam(params, "cidrs", func(v string) (string, error) {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return "", fmt.Errorf("%q is not a CIDR range (like 10.0.0.0/8)", v)
		}
		return p.Masked().String(), nil
	})
	return storage.PolicyRule{
		Condition: fmt.Sprintf("!ip_in(request.remote_ip, %s)", celList(vals)),
		Message:   "this application may only be used from an allowed network",
	}, err
}

func renderServiceUsers(map[string]string) (storage.PolicyRule, error) {
	return storage.PolicyRule{
		Condition: "!user.service_user",
		Message:   "only service users may use this application",
	}, nil
}

var weekdayNums = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

func renderTimeWindow(params map[string]string) (storage.PolicyRule, error) {
	h := strings.TrimSpace(params["hours"])
	if h == "" {
		h = "0-24"
	}
	from, to, ok := strings.Cut(h, "-")
	start, err1 := strconv.Atoi(strings.TrimSpace(from))
	end, err2 := strconv.Atoi(strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil || start < 0 || end > 24 || start >= end {
		return storage.PolicyRule{}, fmt.Errorf("hours must be START-END with 0 <= START < END <= 24, like 9-17")
	}
	cond := fmt.Sprintf(`request.time.getHours("UTC") >= %d && request.time.getHours("UTC") < %d`, start, end)
	if days := splitList(params["weekdays"]); len(days) > 0 {
		nums := make([]string, len(days))
		for i, d := range days {
			n, ok := weekdayNums[strings.ToLower(d)]
			if !ok {
				return storage.PolicyRule{}, fmt.Errorf("%q is not a weekday (sun, mon, tue, wed, thu, fri, sat)", d)
			}
			nums[i] = strconv.Itoa(n)
		}
		cond += fmt.Sprintf(` && request.time.getDayOfWeek("UTC") in [%s]`, strings.Join(nums, ", "))
	}
	return storage.PolicyRule{
		Condition: "!(" + cond + ")",
		Message:   fmt.Sprintf("this application may only be used between %02d:00 and %02d:00 UTC on the allowed days", start, end),
	}, nil
}
