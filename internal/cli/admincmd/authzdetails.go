package admincmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/adminclient"
)

// detailTypeFlag is the flag that declares a service's RFC 9396
// authorization_details types.
const detailTypeFlag = "authorization-detail-type"

func addDetailTypeFlag(cmd *cobra.Command, files *[]string) {
	cmd.Flags().StringArrayVar(files, detailTypeFlag, nil,
		"JSON file with an authorization_details type {\"type\", \"description\", \"schema\"} or an array of them "+
			"(RFC 9396; repeat; replaces the list; a file holding [] clears it)")
}

// readDetailTypes reads --authorization-detail-type files: each holds one
// type object or an array of them. The server validates the schemas.
func readDetailTypes(files []string) ([]adminclient.AuthorizationDetailType, error) {
	out := []adminclient.AuthorizationDetailType{}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", detailTypeFlag, err)
		}
		raw = bytes.TrimSpace(raw)
		dec := func(v any) error {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			return d.Decode(v)
		}
		if len(raw) > 0 && raw[0] == '[' {
			var list []adminclient.AuthorizationDetailType
			if err := dec(&list); err != nil {
				return nil, fmt.Errorf("--%s %s: %w", detailTypeFlag, name, err)
			}
			out = append(out, list...)
			continue
		}
		var t adminclient.AuthorizationDetailType
		if err := dec(&t); err != nil {
			return nil, fmt.Errorf("--%s %s: %w", detailTypeFlag, name, err)
		}
		out = append(out, t)
	}
	return out, nil
}
