package rs_test

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/rs"
)

// The identifiers of the example's APIs, as registered in Latchkey.
const (
	ordersAPI  = "https://api.example/orders"
	billingAPI = "https://api.example/billing"
)

// newOrdersAPI is the example's API: reading orders needs orders:read,
// creating one orders:write. now is the clock (nil: time.Now). TestExample
// runs it against a real Latchkey server.
func newOrdersAPI(issuer string, now func() time.Time) (http.Handler, error) {
	v, err := rs.New(rs.Options{Issuer: issuer, Audience: ordersAPI, Now: now})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", v.Require("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := rs.FromContext(r.Context())
		fmt.Fprintf(w, "orders of %s\n", tok.ClientID)
	})))
	mux.Handle("POST /orders", v.Require("orders:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))
	return mux, nil
}

// An API that accepts Latchkey's access tokens: each route names the
// scopes it needs; the middleware verifies the token (signature against
// the issuer's JWKS, RFC 9068 claims, audience, scopes, DPoP or
// certificate binding, and the token status list) before the handler
// runs.
func Example() {
	api, err := newOrdersAPI("https://auth.example.com/w/acme", nil)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", api))
}
