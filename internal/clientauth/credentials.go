package clientauth

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// methodAssertion stands for client_secret_jwt or private_key_jwt until the
// assertion's alg tells which.
const methodAssertion = "client_assertion"

// credentials are what one request presents.
type credentials struct {
	method       string
	ids          []string // candidate client IDs, preferred first
	secretForms  []string // candidate secrets (Basic: decoded and raw)
	formClientID string
	assertion    string
}

// extract finds the authentication method of a request (RFC 6749 §2.3,
// RFC 7521 §4.2) and refuses requests that use more than one (B10) or
// repeat a parameter (RFC 6749 §3.2).
func extract(r Request) (credentials, error) {
	for _, name := range []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(r.Form[name]) > 1 {
			return credentials{}, invalidRequest("parameter " + name + " is repeated")
		}
	}
	basic, hasBasic := basicPayload(r.Authorization)
	_, hasPost := r.Form["client_secret"]
	hasAssertion := r.Form.Has("client_assertion") || r.Form.Has("client_assertion_type")
	if count(hasBasic, hasPost, hasAssertion) > 1 {
		return credentials{}, invalidRequest("multiple client authentication methods used")
	}
	formID := r.Form.Get("client_id")
	switch {
	case hasBasic:
		return basicCredentials(basic, formID)
	case hasPost:
		return postCredentials(formID, r.Form.Get("client_secret"))
	case hasAssertion:
		return assertionCredentials(r.Form)
	case formID == "":
		return credentials{}, failed(errNoCredentials)
	}
	return credentials{method: oauth2.AuthNone, ids: []string{formID}, formClientID: formID}, nil
}

func count(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

// basicPayload returns the credentials part of a Basic Authorization header
// (RFC 7617 §2; the scheme name is case-insensitive). Other schemes are not
// client authentication and are ignored here.
func basicPayload(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// basicCredentials decodes client_secret_basic. RFC 6749 §2.3.1 has clients
// form-urlencode id and secret before base64, so a secret may carry ':',
// '+' or '%' (D5); many clients send them raw instead, so both readings are
// candidates and the one that matches wins.
func basicCredentials(payload, formID string) (credentials, error) {
	decoded, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return credentials{}, failed(errMalformedBasic)
	}
	rawID, rawSecret, ok := strings.Cut(string(decoded), ":")
	if !ok || rawID == "" {
		return credentials{}, failed(errMalformedBasic)
	}
	ids := readings(rawID)
	if formID != "" && !contains(ids, formID) {
		return credentials{}, invalidClient("client_id does not match the authenticated client", errIDMismatch)
	}
	return credentials{method: oauth2.AuthClientSecretBasic, ids: ids, secretForms: readings(rawSecret), formClientID: formID}, nil
}

// readings lists the form-urldecoded value first, then the raw one when it
// differs or decoding fails.
func readings(raw string) []string {
	dec, err := url.QueryUnescape(raw)
	if err != nil || dec == raw {
		return []string{raw}
	}
	return []string{dec, raw}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func postCredentials(formID, secret string) (credentials, error) {
	if formID == "" {
		return credentials{}, failed(errNoCredentials)
	}
	return credentials{method: oauth2.AuthClientSecretPost, ids: []string{formID}, secretForms: []string{secret}, formClientID: formID}, nil
}

// assertionCredentials checks the RFC 7523 §2.2 parameters: the type must be
// exactly the jwt-bearer URN and the assertion present (B3).
func assertionCredentials(form url.Values) (credentials, error) {
	if form.Get("client_assertion_type") != oauth2.ClientAssertionTypeJWTBearer {
		return credentials{}, invalidRequest("client_assertion_type must be " + oauth2.ClientAssertionTypeJWTBearer)
	}
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return credentials{}, invalidRequest("client_assertion is missing")
	}
	return credentials{method: methodAssertion, assertion: assertion, formClientID: form.Get("client_id")}, nil
}

// attemptedID is the client ID an attempt claims, for budgets and logs.
func (c credentials) attemptedID() string {
	if c.formClientID != "" {
		return c.formClientID
	}
	if len(c.ids) > 0 {
		return c.ids[0]
	}
	return ""
}
