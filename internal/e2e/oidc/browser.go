package oidc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxPageBytes caps how much of a response body the browser reads: no page
// of the authorization flow comes near it, and a runaway response must not
// exhaust the test's memory.
const maxPageBytes = 4 << 20

// maxRedirects bounds FollowRedirects, as browsers do (Chrome stops at 20).
const maxRedirects = 20

// Browser is a scripted browser: a cookie jar and an HTTP client that never
// follows redirects by itself (so that 302/303 and Location can be
// asserted), plus HTML form handling by field name.
//
// Go's cookie jar treats loopback hosts as secure origins, like browsers,
// so Secure and __Host- cookies set on http://127.0.0.1 would be sent
// back; Latchkey sets neither on an http base URL (docs/security.md K6).
type Browser struct {
	client *http.Client
	// Header is added to every request (e.g. Accept-Language, Origin).
	Header http.Header
}

// NewBrowser returns a browser with an empty cookie jar. transport may be
// nil (http.DefaultTransport); tests pass one that trusts their test CA.
func NewBrowser(transport http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil) // cookiejar.New never fails without options
	return &Browser{
		client: &http.Client{
			Transport: transport,
			Jar:       jar,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		Header: http.Header{},
	}
}

// Jar returns the browser's cookie jar.
func (b *Browser) Jar() http.CookieJar { return b.client.Jar }

// HTTPClient returns the underlying client (cookie jar, no redirects).
func (b *Browser) HTTPClient() *http.Client { return b.client }

// Get loads rawURL.
func (b *Browser) Get(ctx context.Context, rawURL string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("browser: GET %s: %w", rawURL, err)
	}
	return b.Do(req)
}

// PostForm posts form as application/x-www-form-urlencoded, as a browser
// submits a form with method="post".
func (b *Browser) PostForm(ctx context.Context, rawURL string, form url.Values) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("browser: POST %s: %w", rawURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// Do sends req with the browser's cookies and headers and reads the whole
// response. It does not follow redirects.
func (b *Browser) Do(req *http.Request) (*Page, error) {
	for k, vs := range b.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("browser: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
	if err != nil {
		return nil, fmt.Errorf("browser: read %s: %w", req.URL.Redacted(), err)
	}
	return &Page{URL: req.URL, Method: req.Method, Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Follow loads the Location of a redirect page with GET (a 307/308 would
// repeat the method and body; the authorization flow must never send one,
// SECURITY.md E11, so Follow refuses them).
func (b *Browser) Follow(ctx context.Context, p *Page) (*Page, error) {
	if p.Status == http.StatusTemporaryRedirect || p.Status == http.StatusPermanentRedirect {
		return nil, fmt.Errorf("browser: %d from %s: method-preserving redirects are not followed", p.Status, p.URL.Redacted())
	}
	loc, err := p.Location()
	if err != nil {
		return nil, err
	}
	return b.Get(ctx, loc.String())
}

// FollowRedirects follows redirects from p until a page that is not a
// redirect, or until stop reports true for a redirect's Location (the
// redirect is then returned unfollowed: e.g. a client's redirect_uri that
// no server listens on).
func (b *Browser) FollowRedirects(ctx context.Context, p *Page, stop func(*url.URL) bool) (*Page, error) {
	for range maxRedirects {
		if !p.IsRedirect() {
			return p, nil
		}
		loc, err := p.Location()
		if err != nil {
			return nil, err
		}
		if stop != nil && stop(loc) {
			return p, nil
		}
		if p, err = b.Follow(ctx, p); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("browser: more than %d redirects", maxRedirects)
}

// Submit submits f as if the button with id submitID was clicked (""
// submits without a button, like pressing Enter in a form without one).
func (b *Browser) Submit(ctx context.Context, f *Form, submitID string) (*Page, error) {
	values, err := f.Values(submitID)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(f.Method, http.MethodPost) {
		return b.PostForm(ctx, f.Action.String(), values)
	}
	u := *f.Action
	u.RawQuery = values.Encode()
	return b.Get(ctx, u.String())
}

// Page is one HTTP response as the browser saw it.
type Page struct {
	URL    *url.URL // the request URL
	Method string
	Status int
	Header http.Header
	Body   []byte

	doc *html.Node
}

// IsRedirect reports whether the response is a 3xx with a Location.
func (p *Page) IsRedirect() bool {
	return p.Status >= 300 && p.Status < 400 && p.Header.Get("Location") != ""
}

// Location is the redirect target, resolved against the request URL.
func (p *Page) Location() (*url.URL, error) {
	raw := p.Header.Get("Location")
	if raw == "" {
		return nil, fmt.Errorf("browser: %d from %s has no Location", p.Status, p.URL.Redacted())
	}
	loc, err := p.URL.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("browser: bad Location %q: %w", raw, err)
	}
	return loc, nil
}

// Doc parses the body as HTML (once).
func (p *Page) Doc() (*html.Node, error) {
	if p.doc != nil {
		return p.doc, nil
	}
	doc, err := html.Parse(bytes.NewReader(p.Body))
	if err != nil {
		return nil, fmt.Errorf("browser: parse HTML of %s: %w", p.URL.Redacted(), err)
	}
	p.doc = doc
	return doc, nil
}

// ElementByID returns the element with the given id, or nil.
func (p *Page) ElementByID(id string) *html.Node {
	doc, err := p.Doc()
	if err != nil {
		return nil
	}
	return findFirst(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id })
}

// TextByID returns the whitespace-normalised text of the element with the
// given id, and whether it exists.
func (p *Page) TextByID(id string) (string, bool) {
	n := p.ElementByID(id)
	if n == nil {
		return "", false
	}
	return textOf(n), true
}

// Elements returns every element for which match reports true, in
// document order.
func (p *Page) Elements(match func(*html.Node) bool) []*html.Node {
	doc, err := p.Doc()
	if err != nil {
		return nil
	}
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

// Forms returns every form of the page.
func (p *Page) Forms() ([]*Form, error) {
	doc, err := p.Doc()
	if err != nil {
		return nil, err
	}
	var forms []*Form
	var ferr error
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form && ferr == nil {
			f, err := newForm(p.URL, n)
			if err != nil {
				ferr = err
				return
			}
			forms = append(forms, f)
		}
	})
	return forms, ferr
}

// Form returns the form with the given id.
func (p *Page) Form(id string) (*Form, error) {
	forms, err := p.Forms()
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, fmt.Errorf("browser: %s (status %d) has no form with id %q", p.URL.Redacted(), p.Status, id)
}

// HasForm reports whether the page has a form with the given id.
func (p *Page) HasForm(id string) bool {
	_, err := p.Form(id)
	return err == nil
}

// Form is a parsed HTML form. Fields keep document order.
type Form struct {
	ID      string
	Action  *url.URL // resolved; the page URL when the form has no action
	Method  string   // "GET" or "POST"
	Fields  []Field
	Buttons []Button
}

// Field is one successful control of a form (RFC-free: HTML §4.10.21.4):
// text-like inputs, hidden inputs, checked checkboxes and radios,
// textareas and selects.
type Field struct {
	Name, Value, Type, ID string
}

// Button is a submit control: <button> (type submit by default) or
// <input type="submit">.
type Button struct {
	ID, Name, Value string
}

var errNoAction = errors.New("browser: form action is not a URL")

func newForm(base *url.URL, n *html.Node) (*Form, error) {
	action, err := base.Parse(attr(n, "action"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q", errNoAction, attr(n, "action"))
	}
	action.Fragment = ""
	method := strings.ToUpper(strings.TrimSpace(attr(n, "method")))
	if method != http.MethodPost {
		method = http.MethodGet
	}
	f := &Form{ID: attr(n, "id"), Action: action, Method: method}
	walk(n, func(c *html.Node) {
		if c != n && c.Type == html.ElementNode {
			f.addControl(c)
		}
	})
	return f, nil
}

func (f *Form) addControl(n *html.Node) {
	name := attr(n, "name")
	switch n.DataAtom {
	case atom.Input:
		f.addInput(n, name)
	case atom.Button:
		if t := strings.ToLower(attr(n, "type")); t == "" || t == "submit" {
			f.Buttons = append(f.Buttons, Button{ID: attr(n, "id"), Name: name, Value: attr(n, "value")})
		}
	case atom.Textarea:
		if name != "" {
			f.Fields = append(f.Fields, Field{Name: name, Value: textOf(n), Type: "textarea", ID: attr(n, "id")})
		}
	case atom.Select:
		if name != "" {
			f.Fields = append(f.Fields, Field{Name: name, Value: selectedOption(n), Type: "select", ID: attr(n, "id")})
		}
	}
}

func (f *Form) addInput(n *html.Node, name string) {
	typ := strings.ToLower(attr(n, "type"))
	switch typ {
	case "submit", "image":
		f.Buttons = append(f.Buttons, Button{ID: attr(n, "id"), Name: name, Value: attr(n, "value")})
		return
	case "button", "reset", "file":
		return
	case "checkbox", "radio":
		if !hasAttr(n, "checked") {
			return
		}
	}
	if name == "" || hasAttr(n, "disabled") {
		return
	}
	if typ == "" {
		typ = "text"
	}
	f.Fields = append(f.Fields, Field{Name: name, Value: attr(n, "value"), Type: typ, ID: attr(n, "id")})
}

// Has reports whether the form has a field with the given name.
func (f *Form) Has(name string) bool {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return true
		}
	}
	return false
}

// Get returns the value of the first field with the given name.
func (f *Form) Get(name string) string {
	for _, fl := range f.Fields {
		if fl.Name == name {
			return fl.Value
		}
	}
	return ""
}

// Set sets the value of the field with the given name. The field must
// exist: tests are bound to the documented names, and a renamed field
// must fail loudly rather than be silently added.
func (f *Form) Set(name, value string) error {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			f.Fields[i].Value = value
			return nil
		}
	}
	return fmt.Errorf("browser: form %q has no field %q", f.ID, name)
}

// Button returns the submit button with the given id.
func (f *Form) Button(id string) (Button, bool) {
	for _, b := range f.Buttons {
		if b.ID == id {
			return b, true
		}
	}
	return Button{}, false
}

// Values is what submitting f with the button submitID sends: every field
// plus that button's name=value.
func (f *Form) Values(submitID string) (url.Values, error) {
	v := url.Values{}
	for _, fl := range f.Fields {
		v.Add(fl.Name, fl.Value)
	}
	if submitID == "" {
		return v, nil
	}
	b, ok := f.Button(submitID)
	if !ok {
		return nil, fmt.Errorf("browser: form %q has no submit button with id %q", f.ID, submitID)
	}
	if b.Name != "" {
		v.Add(b.Name, b.Value)
	}
	return v, nil
}

func selectedOption(sel *html.Node) string {
	var first, chosen *html.Node
	walk(sel, func(n *html.Node) {
		if n.Type != html.ElementNode || n.DataAtom != atom.Option {
			return
		}
		if first == nil {
			first = n
		}
		if chosen == nil && hasAttr(n, "selected") {
			chosen = n
		}
	})
	if chosen == nil {
		chosen = first
	}
	if chosen == nil {
		return ""
	}
	if hasAttr(chosen, "value") {
		return attr(chosen, "value")
	}
	return textOf(chosen)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

// Attr returns the value of an attribute of an element ("" when absent).
func Attr(n *html.Node, key string) string { return attr(n, key) }

// Text returns the whitespace-normalised text content of n.
func Text(n *html.Node) string { return textOf(n) }

// HasClass reports whether n's class attribute lists class.
func HasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// textOf is n's textContent with runs of whitespace collapsed, so that
// markup inside a message (<b>, line breaks) does not change its text.
func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func findFirst(n *html.Node, match func(*html.Node) bool) *html.Node {
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if m := findFirst(c, match); m != nil {
			return m
		}
	}
	return nil
}
