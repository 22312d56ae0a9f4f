// Drives Latchkey's Client-Initiated Backchannel Authentication (OpenID
// Connect CIBA Core 1.0, poll mode) with the npm openid-client package:
// discovery must list backchannel_authentication_endpoint; the
// authentication request's response is printed as the first line (the
// test then approves the request as the user), then the package polls the
// token endpoint until the tokens come.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID, LK_CLIENT_SECRET (a
// confidential client, client_secret_basic), LK_LOGIN_HINT; the server's
// test CA comes in through NODE_EXTRA_CA_CERTS.
// Output: two JSON lines on stdout. Any failure exits non-zero with the
// reason on stderr.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

const config = await client.discovery(new URL(env('LK_ISSUER')), env('LK_CLIENT_ID'), undefined,
  client.ClientSecretBasic(env('LK_CLIENT_SECRET')));
const endpoint = config.serverMetadata().backchannel_authentication_endpoint || '';

const req = await client.initiateBackchannelAuthentication(config, {
  scope: 'openid', login_hint: env('LK_LOGIN_HINT'), binding_message: 'NODE 42',
});
process.stdout.write(JSON.stringify({ started: Boolean(req.auth_req_id), expires_in: req.expires_in, interval: req.interval }) + '\n');

const tokens = await client.pollBackchannelAuthenticationGrant(config, req);
process.stdout.write(JSON.stringify({
  endpoint,
  sub: tokens.claims()?.sub || '',
  scope: tokens.scope || '',
  access_token: Boolean(tokens.access_token),
}) + '\n');
