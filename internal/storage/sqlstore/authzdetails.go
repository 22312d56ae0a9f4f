package sqlstore

import (
	"encoding/json"

	"github.com/latchkey/latchkey/internal/storage"
)

// encodeDetailTypes is the authorization_detail_types column of services
// (migration 0018): a JSON array of RFC 9396 types with their schemas.
func encodeDetailTypes(ts []storage.AuthorizationDetailType) (string, error) {
	if len(ts) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(ts)
	return string(b), err
}

// decodeDetailTypes reads the authorization_detail_types column; an empty
// list is nil.
func decodeDetailTypes(s string) ([]storage.AuthorizationDetailType, error) {
	var ts []storage.AuthorizationDetailType
	if s == "" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, nil
	}
	return ts, nil
}
