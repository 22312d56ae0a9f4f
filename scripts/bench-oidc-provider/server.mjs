// node oidc-provider configured as Latchkey's benchmark workspace is: one
// confidential client (client_secret_basic) with client_credentials, and
// RS256-signed JWT access tokens (RFC 9068) for one resource server, so
// both servers do the same work per token: authenticate, sign, answer.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 3000);
const secret = process.env.CLIENT_SECRET;
if (!secret) throw new Error('CLIENT_SECRET is required');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'bench' };
const resource = 'https://bench.example/api';

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: secret,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'bench:read',
  }],
  jwks: { keys: [jwk] },
  scopes: ['bench:read'],
  routes: { token: '/oauth2/token' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'bench:read',
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${port}`));
