package tokencmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/skip2/go-qrcode"
	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/oauthclient"
)

// deviceCommand is "latchkey token device": the device authorization grant
// (RFC 8628) for machines without a usable browser. It prints the user
// code and the verification URI (and a QR code of verification_uri_complete
// for a phone), then polls the token endpoint until the user decides.
func (e *env) deviceCommand() *cobra.Command {
	var c Connection
	var output, endpoint string
	var noQR bool
	cmd := &cobra.Command{
		Use:   "device",
		Short: "Run the device authorization grant (RFC 8628): show a code, wait for approval",
		Long: "Ask the server for a device code, print the user code and where to enter it (and a QR code\n" +
			"of the complete URL), then poll the token endpoint until the user approves or denies.\n" +
			"The prompt goes to stderr, the token to stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := finishConnection(&c, nil, true); err != nil {
				return err
			}
			t, err := e.device(cmd.Context(), c, endpoint, !noQR)
			if err != nil {
				return e.run(err)
			}
			return e.outputToken(t, output)
		},
	}
	serverFlags(cmd.Flags(), &c)
	keyFlags(cmd.Flags(), &c)
	cmd.Flags().StringVar(&endpoint, "device-endpoint", "", "device authorization endpoint URL (instead of discovery)")
	cmd.Flags().BoolVar(&noQR, "no-qr", false, "do not print a QR code")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text (the access token only) or json (the whole response)")
	return cmd
}

// device runs the grant: a client without credentials is a public client
// ("none", RFC 8628 §3.1 sends client_id).
func (e *env) device(ctx context.Context, c Connection, endpoint string, qr bool) (*oauthclient.Token, error) {
	key, err := e.loadKey(c)
	if err != nil {
		return nil, err
	}
	cl, err := e.client(c, key)
	if err != nil {
		return nil, err
	}
	if cl.Auth.Method == "" {
		cl.Auth.Method = oauthclient.AuthNone
	}
	cl.DeviceAuthorizationEndpoint = endpoint
	da, err := cl.DeviceAuthorize(ctx, c.params())
	if err != nil {
		return nil, err
	}
	printDevicePrompt(e.stderr, da, qr)
	return cl.DeviceToken(ctx, da, nil)
}

// printDevicePrompt tells the person what to do (RFC 8628 §3.3): the URI
// and the code, and the complete URI as a QR code (§3.3.1).
func printDevicePrompt(w io.Writer, da *oauthclient.DeviceAuthorization, qr bool) {
	fmt.Fprintf(w, "To sign in, open %s\nand enter the code: %s\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(w, "(or open %s)\n", da.VerificationURIComplete)
		if qr {
			if q, err := qrcode.New(da.VerificationURIComplete, qrcode.Medium); err == nil {
				fmt.Fprint(w, q.ToSmallString(false))
			}
		}
	}
	fmt.Fprintf(w, "Waiting for approval (the code expires in %s)...\n", time.Duration(da.ExpiresIn)*time.Second)
}
