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
	{Template{"profiles", "User profiles", "Only users in one of the listed profiles, or listed by ID: what a client's JWT bearer pre-authorization is (PreAuthorizationOf).",
		[]TemplateParam{{"profiles", "profile IDs, comma-separated"},
			{"users", "user IDs, comma-separated (optional; profiles or users is required)"},
			{"all_users", `"true" admits every user, as the pre-authorization all_users does (optional; then without profiles and users)`}}}, renderProfiles},
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

// renderProfiles admits users in one of the profiles or listed by ID, or
// every user with all_users=true: exactly what a client's JWT bearer
// pre-authorization admits (PreAuthorizationOf renders it with the same
// profilesRule).
func renderProfiles(params map[string]string) (storage.PolicyRule, error) {
	var all bool
	switch strings.TrimSpace(params["all_users"]) {
	case "", "false":
	case "true":
		all = true
	default:
		return storage.PolicyRule{}, fmt.Errorf(`parameter all_users must be "true" or "false"`)
	}
	hasLists := len(splitList(params["profiles"])) > 0 || len(splitList(params["users"])) > 0
	switch {
	case all && hasLists:
		return storage.PolicyRule{}, fmt.Errorf("all_users=true admits every user: leave profiles and users empty")
	case all:
		return profilesRule(true, nil, nil, profilesDenyMessage), nil
	case !hasLists:
		return storage.PolicyRule{}, fmt.Errorf("parameter profiles (or users) is required")
	}
	lists := map[string][]string{}
	for _, l := range []struct{ param, what string }{{"profiles", "profile ID"}, {"users", "user ID"}} {
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
		lists[l.param] = vals
	}
	return profilesRule(false, lists["profiles"], lists["users"], profilesDenyMessage), nil
}

const profilesDenyMessage = "your account is not in a profile allowed to use this application"

// profilesRule is the deny rule of the profiles template: it denies
// whom it does not admit, everyone (all), members of one of profiles, or
// users listed by ID; with neither list, nobody. Values are quoted as CEL
// string literals (Z1).
func profilesRule(all bool, profiles, users []string, message string) storage.PolicyRule {
	var admit []string
	switch {
	case all:
		admit = []string{"true"}
	default:
		if len(profiles) > 0 {
			admit = append(admit, fmt.Sprintf("user.profiles.exists(p, p in %s)", celList(profiles)))
		}
		if len(users) > 0 {
			admit = append(admit, fmt.Sprintf("user.id in %s", celList(users)))
		}
		if len(admit) == 0 {
			admit = []string{"false"}
		}
	}
	return storage.PolicyRule{Condition: "!(" + strings.Join(admit, " || ") + ")", Message: message}
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
