package storage

// PKCERequired reports whether the client must use PKCE (RFC 7636) in the
// authorization code flow. Clients stored before the setting existed, and
// clients that never changed it, require it (RFC 9700 §2.1.1); public
// clients always do, whatever was stored for them.
func (c Client) PKCERequired() bool {
	return c.Type == "public" || c.RequirePKCE == nil || *c.RequirePKCE
}
