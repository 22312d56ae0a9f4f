package console

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestBrowserAuthorizationDetailsTypes drives the RFC 9396 editors in a
// real chromium: on a service's page it adds an authorization_details
// type, sees a schema that does not compile refused next to the field
// with its location in the schema, saves a good one (an unsaved edit of
// the service form is kept); on a client's Protocols tab it ticks the
// type (authorization_details_types, RFC 9396 §10). Then a real
// client_credentials request (x/oauth2) carrying the type is accepted
// with the details in the token, one that breaks the schema is refused
// with invalid_authorization_details, and one with a type the client did
// not list is refused too. On SQLite and PostgreSQL. Screenshots go to
// LATCHKEY_TEST_ARTIFACTS/<test>.
func TestBrowserAuthorizationDetailsTypes(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutChromium(t)
	t.Run("sqlite", func(t *testing.T) { testAuthorizationDetailsTypes(t, startServer(t)) })
	t.Run("postgres", func(t *testing.T) {
		testAuthorizationDetailsTypes(t, startServerOn(t, true, e2etest.PostgresSchemaDSN(t, "consolerar")))
	})
}

const transferSchema = `{"type": "object", "required": ["type", "amount"], "additionalProperties": false,
 "properties": {"type": {"const": "transfer"}, "amount": {"type": "string", "pattern": "^[0-9]+$"}}}`

func testAuthorizationDetailsTypes(t *testing.T, e *env) {
	e.createSuperAdmin(t, "root", "correct horse battery")
	ctx0 := t.Context()
	services := e.admin.Services("default")
	for _, s := range []struct{ id, scope string }{{"bank", "transfers"}, {"ledger", "ledger:read"}} {
		if _, err := services.Create(ctx0, adminclient.ServiceRequest{ID: adminclient.Ptr(s.id), Name: adminclient.Ptr("Service " + s.id),
			Identifier: adminclient.Ptr("https://" + s.id + ".example"), Scopes: &[]adminclient.Scope{{Name: s.scope}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := services.Update(ctx0, "ledger", adminclient.ServiceRequest{AuthorizationDetailTypes: &[]adminclient.AuthorizationDetailType{
		{Type: "ledger_entry", Schema: []byte(`{"type":"object"}`)}}}); err != nil {
		t.Fatal(err)
	}
	const id = "payer"
	created, err := e.admin.Clients("default").Create(ctx0, adminclient.OAuthClientRequest{
		ClientID: adminclient.Ptr(id), Name: adminclient.Ptr("Payer"), ApplicationType: adminclient.Ptr("service"),
		GrantTypes: &[]string{"client_credentials"}, Scopes: &[]string{"transfers", "ledger:read"},
		TokenEndpointAuthMethod: adminclient.Ptr("client_secret_basic")})
	if err != nil {
		t.Fatal(err)
	}
	e.leaks.Add(created.ClientSecret)
	ctx := chromium(t)
	shots := e2etest.ArtifactsDir(t)
	page := e.base + "/console/w/default/services/bank"

	steps.Run(t, ctx, "sign in", e.signIn("root", "correct horse battery"))
	steps.Run(t, ctx, "service page: add a type with a broken schema",
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("detail-types-h")),
		loaded,
		click(`form[action$="/authorization-details"] button[value=detail-add]`),
		chromedp.WaitVisible(chromedp.ID("detail-0-type")),
		loaded,
		chromedp.SendKeys(chromedp.ID("detail-0-type"), "transfer"),
		chromedp.SendKeys(chromedp.ID("detail-0-description"), "Move money between your accounts"),
		chromedp.SetValue(chromedp.ID("detail-0-schema"), `{"type": "object", "properties": {"amount": {"type": "strin"}}}`),
		e2etest.Screenshot(shots, "01-new-type.png"),
		click(`form[action$="/authorization-details"] button[value=detail-save]:not(.sr-only)`),
		chromedp.WaitVisible(chromedp.ID("detail-0-schema-error")),
		loaded,
		e2etest.Screenshot(shots, "02-schema-refused.png"),
	)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("detail-0-schema-error")))
	if err != nil || !strings.Contains(msg, "the schema is invalid at /properties/amount/type") {
		t.Errorf("schema error %q (%v), want the location /properties/amount/type", msg, err)
	}
	if svc, _ := services.Get(ctx0, "bank"); len(svc.AuthorizationDetailTypes) != 0 {
		t.Fatalf("a refused schema was stored: %+v", svc.AuthorizationDetailTypes)
	}

	steps.Run(t, ctx, "fix the schema and save, with an unsaved edit of the service form",
		chromedp.SetValue(chromedp.ID("name"), "Bank (unsaved name)"),
		chromedp.SetValue(chromedp.ID("detail-0-schema"), transferSchema),
		click(`form[action$="/authorization-details"] button[value=detail-save]:not(.sr-only)`),
		waitText(`.notice`, "Authorization details types saved"),
		loaded,
		chromedp.WaitVisible(chromedp.ID("unsaved-kept")),
		e2etest.Screenshot(shots, "03-type-saved-edit-kept.png"),
	)
	if name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("name").value`)); name != "Bank (unsaved name)" {
		t.Errorf("the unsaved service name was lost: %q", name)
	}
	svc, err := services.Get(ctx0, "bank")
	if err != nil || len(svc.AuthorizationDetailTypes) != 1 || svc.AuthorizationDetailTypes[0].Type != "transfer" ||
		svc.AuthorizationDetailTypes[0].Description != "Move money between your accounts" || svc.Name != "Service bank" {
		t.Fatalf("stored service %+v (%v)", svc, err)
	}

	steps.Run(t, ctx, "client Protocols tab: tick the type",
		// Undo the kept edit, so leaving the page does not ask first.
		chromedp.SetValue(chromedp.ID("name"), "Service bank"),
		chromedp.Navigate(e.base+"/console/w/default/clients/"+id+"/protocols"),
		chromedp.WaitVisible(chromedp.ID("adt-h")),
		loaded,
		checkbox(`input[name=authorization_details_types][value=transfer]`, true),
		click(`form[action$="/protocols/authorization-details"] button[type=submit]`),
		waitText(`.notice`, "Authorization details types saved"),
		loaded,
		chromedp.ScrollIntoView(chromedp.ID("adt-h")),
		e2etest.ViewportShot(shots, "04-client-types.png"),
	)
	got, err := e.admin.Clients("default").Get(ctx0, id)
	if err != nil || got.AuthorizationDetailsTypes == nil || !slices.Equal(*got.AuthorizationDetailsTypes, []string{"transfer"}) {
		t.Fatalf("admin API authorization_details_types %v (%v)", got.AuthorizationDetailsTypes, err)
	}

	token := func(details string) (*oauth2.Token, error) {
		cc := clientcredentials.Config{ClientID: id, ClientSecret: created.ClientSecret, TokenURL: e.base + "/w/default/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader, EndpointParams: url.Values{"authorization_details": {details}}}
		return cc.Token(ctx0)
	}
	tok, err := token(`[{"type":"transfer","amount":"100"}]`)
	if err != nil {
		t.Fatalf("client_credentials with the new type: %v", err)
	}
	e.leaks.Add(tok.AccessToken)
	if d, _ := tok.Extra("authorization_details").([]any); len(d) != 1 {
		t.Errorf("token response authorization_details %v", tok.Extra("authorization_details"))
	}
	for name, details := range map[string]string{
		"schema violation": `[{"type":"transfer","amount":"ten"}]`,
		"type not listed":  `[{"type":"ledger_entry"}]`,
	} {
		_, err := token(details)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != 400 || re.ErrorCode != "invalid_authorization_details" || re.ErrorDescription == "" {
			t.Errorf("%s: %v, want 400 invalid_authorization_details with a description", name, err)
		}
	}
}
