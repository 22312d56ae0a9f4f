// Package publish serves the Token Status Lists of package statuslist
// (draft-ietf-oauth-status-list §5.1, §8, §9): GET /w/{ws}/statuslists/{n}
// answers a Status List Token signed with the workspace key, built from
// the revoked indexes in storage and cached per process for
// RebuildInterval (Invalidate rebuilds at once after a local revocation);
// GET /w/{ws}/statuslists is the aggregation. It is apart from package
// statuslist so that the resource-server package (rs) imports the format
// without the server's signing and web layers.
package publish
