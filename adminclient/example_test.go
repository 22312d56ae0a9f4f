package adminclient_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey/adminclient"
)

// Register a service with a scope and a client allowed to use it, then
// handle an error of the API.
func Example() {
	tb := &exampleTB{}
	defer tb.stop()
	baseURL, token := startLatchkey(tb) // a real Latchkey admin API on httptest

	ctx := context.Background()
	c := adminclient.New(baseURL, token)

	svc, err := c.Services("default").Create(ctx, adminclient.ServiceRequest{
		ID:         adminclient.Ptr("orders"),
		Name:       adminclient.Ptr("Orders API"),
		Identifier: adminclient.Ptr("https://api.example.com/orders"),
		Scopes:     &[]adminclient.Scope{{Name: "orders:read", Description: "Read orders"}},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("service:", svc.ID, svc.Identifier, svc.Scopes[0].Name)

	client, err := c.Clients("default").Create(ctx, adminclient.OAuthClientRequest{
		Name:       adminclient.Ptr("Billing job"),
		GrantTypes: &[]string{"client_credentials"},
		Scopes:     &[]string{"orders:read"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("client:", client.Name, client.TokenEndpointAuthMethod, "secret of", len(client.ClientSecret), "characters")

	_, err = c.Clients("default").Get(ctx, "no-such-client")
	var apiErr *adminclient.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("error:", apiErr.Status, apiErr.Code)
	}
	// Output:
	// service: orders https://api.example.com/orders orders:read
	// client: Billing job client_secret_basic secret of 43 characters
	// error: 404 not_found
}
