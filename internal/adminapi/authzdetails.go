package adminapi

import (
	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

// detailTypesView is a service's RFC 9396 types in the API (never null).
func detailTypesView(ts []storage.AuthorizationDetailType) []adminclient.AuthorizationDetailType {
	out := make([]adminclient.AuthorizationDetailType, len(ts))
	for i, t := range ts {
		out[i] = adminclient.AuthorizationDetailType(t)
	}
	return out
}

// detailTypes is the request's list, nil when absent (unchanged on
// update).
func (req serviceRequest) detailTypes() *[]storage.AuthorizationDetailType {
	if req.AuthorizationDetailTypes == nil {
		return nil
	}
	out := make([]storage.AuthorizationDetailType, len(*req.AuthorizationDetailTypes))
	for i, t := range *req.AuthorizationDetailTypes {
		out[i] = storage.AuthorizationDetailType(t)
	}
	return &out
}
