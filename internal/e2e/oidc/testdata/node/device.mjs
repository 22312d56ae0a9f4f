// Drives Latchkey's device authorization grant (RFC 8628) with the npm
// openid-client package: discovery must list device_authorization_endpoint;
// the device authorization response's verification_uri_complete is printed
// as the first line (the test approves it on the device page), then the
// package polls the token endpoint until the tokens come.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID (a public client); the
// server's test CA comes in through NODE_EXTRA_CA_CERTS.
// Output: two JSON lines on stdout. Any failure exits non-zero with the
// reason on stderr.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

const config = await client.discovery(new URL(env('LK_ISSUER')), env('LK_CLIENT_ID'), undefined, client.None());
const endpoint = config.serverMetadata().device_authorization_endpoint || '';

const da = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
process.stdout.write(JSON.stringify({ verification_uri_complete: da.verification_uri_complete, interval: da.interval }) + '\n');

const tokens = await client.pollDeviceAuthorizationGrant(config, da);
process.stdout.write(JSON.stringify({
  endpoint,
  sub: tokens.claims()?.sub || '',
  scope: tokens.scope || '',
  access_token: Boolean(tokens.access_token),
}) + '\n');
