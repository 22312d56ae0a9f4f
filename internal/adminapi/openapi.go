package adminapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"

	"gopkg.in/yaml.v3"
)

// openAPIYAML is the hand-written OpenAPI 3.0 document of this API.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var (
	openAPIOnce sync.Once
	openAPIJSON []byte
	openAPIErr  error
)

// OpenAPIJSON returns the OpenAPI document as JSON (converted once).
func OpenAPIJSON() ([]byte, error) {
	openAPIOnce.Do(func() {
		var doc map[string]any
		if openAPIErr = yaml.Unmarshal(openAPIYAML, &doc); openAPIErr == nil {
			openAPIJSON, openAPIErr = json.Marshal(doc)
		}
	})
	return openAPIJSON, openAPIErr
}

func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := OpenAPIJSON()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(doc)
}
