// Drives Latchkey's token exchange (RFC 8693) with the npm openid-client
// package's generic grant: discovery must list the grant type; an ID token
// of the client is exchanged for an access token narrowed to one scope; a
// request without subject_token_type must fail with invalid_request.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID, LK_CLIENT_SECRET,
// LK_ID_TOKEN; the server's test CA comes in through NODE_EXTRA_CA_CERTS.
// Output: one JSON object on stdout. Any other failure exits non-zero with
// the reason on stderr.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

const grant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const idTokenType = 'urn:ietf:params:oauth:token-type:id_token';

// The client authenticates with client_secret_basic, as registered.
const config = await client.discovery(new URL(env('LK_ISSUER')), env('LK_CLIENT_ID'), undefined,
  client.ClientSecretBasic(env('LK_CLIENT_SECRET')));
const advertised = (config.serverMetadata().grant_types_supported || []).includes(grant);

const res = await client.genericGrantRequest(config, grant, {
  subject_token: env('LK_ID_TOKEN'),
  subject_token_type: idTokenType,
  scope: 'api:read',
});

let missingTypeError = '';
try {
  await client.genericGrantRequest(config, grant, { subject_token: env('LK_ID_TOKEN') });
} catch (err) {
  missingTypeError = err.error || err.code || String(err);
}

process.stdout.write(JSON.stringify({
  advertised,
  access_token: res.access_token,
  issued_token_type: res.issued_token_type,
  token_type: res.token_type,
  scope: res.scope,
  missing_type_error: missingTypeError,
}));
