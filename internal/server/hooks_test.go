package server

import "net/http"

// withExtraRoutes mounts test-only handlers behind the real middleware.
func withExtraRoutes(fn func(*http.ServeMux)) Option {
	return func(o *options) { o.extraRoutes = fn }
}
