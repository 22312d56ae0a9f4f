package admincmd

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// clientDetailTypesFlag sets a client's RFC 9396 §10
// authorization_details_types (the service's own types are declared with
// --authorization-detail-type FILE on services create/update).
const clientDetailTypesFlag = "authorization-details-type"

type clientDetailTypesFlags struct{ types []string }

func (df *clientDetailTypesFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&df.types, clientDetailTypesFlag, nil,
		"authorization_details type the client may use (RFC 9396 §10; repeat; replaces the list; \"\" clears it, "+
			"allowing every type of the services it has scopes of)")
}

// apply sets the list when the flag was given; empty values are dropped,
// so a single "" sends an empty list.
func (df *clientDetailTypesFlags) apply(cmd *cobra.Command, body *adminclient.OAuthClientRequest) {
	if !cmd.Flags().Changed(clientDetailTypesFlag) {
		return
	}
	types := []string{}
	for _, t := range df.types {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	body.AuthorizationDetailsTypes = &types
}

// clientDetailTypesDetail prints the list when the client has one.
func clientDetailTypesDetail(w io.Writer, c adminclient.OAuthClient) {
	if c.AuthorizationDetailsTypes != nil && len(*c.AuthorizationDetailsTypes) > 0 {
		kv(w, "Authorization details types", strings.Join(*c.AuthorizationDetailsTypes, ", "))
	}
}
