// Drives Latchkey with the npm openid-client package through the whole
// code flow with DPoP (RFC 9449): pushed authorization request (RFC 9126)
// carrying a DPoP proof, a JWT-secured authorization response (JARM),
// the authorization code grant, UserInfo, a refresh and a protected
// resource request, all with proofs of one key pair. The workspace
// requires server nonces, so openid-client must retry each first call
// after a use_dpop_nonce answer (RFC 9449 §8, §9). With
// LK_CLIENT_AUTH=private_key_jwt the request is also a signed request
// object (RFC 9101) and the client authenticates with private_key_jwt;
// with LK_CLIENT_AUTH=none it is a public client.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID, LK_CLIENT_AUTH,
// LK_PRIVATE_JWK (private_key_jwt only: the client's ES256 key as a JWK
// with kid), LK_REDIRECT_URI, LK_USERNAME, LK_PASSWORD; the server's test
// CA comes in through NODE_EXTRA_CA_CERTS. Output: one JSON object on
// stdout (the tokens, the DPoP public key and how many use_dpop_nonce
// answers openid-client retried). Any failure exits non-zero with the
// reason on stderr.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
};

// --- a minimal browser: cookie jar, manual redirects, form parsing

const jar = new Map();

function storeCookies(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*max-age\s*=\s*(0|-)/i.test(a));
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
}

function cookieHeader() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

async function request(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set('cookie', cookieHeader());
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  storeCookies(res);
  return { url: new URL(url), status: res.status, location: res.headers.get('location'), body: await res.text() };
}

const decode = (s) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&#34;/g, '"')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function attrs(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    out[m[1].toLowerCase()] = decode(m[3] ?? m[4] ?? m[5] ?? '');
  }
  return out;
}

// form returns {action, fields} of the form with the given id, or null.
function form(page, id) {
  const re = new RegExp(`<form\\b[^>]*\\bid\\s*=\\s*["']${id}["'][^>]*>([\\s\\S]*?)</form>`, 'i');
  const m = page.body.match(re);
  if (!m) return null;
  const open = attrs(m[0].slice(0, m[0].indexOf('>') + 1));
  const fields = {};
  for (const input of m[1].matchAll(/<input\b[^>]*>/gi)) {
    const a = attrs(input[0]);
    if (!a.name || ['submit', 'button', 'image'].includes((a.type || '').toLowerCase())) continue;
    fields[a.name] = a.value ?? '';
  }
  return { action: new URL(open.action || page.url.href, page.url), fields };
}

async function submit(f, extra) {
  const body = new URLSearchParams({ ...f.fields, ...extra });
  return request(f.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

// drive follows the flow until the browser is sent to redirectUri and
// returns that URL (with the authorization response).
async function drive(start, redirectUri, username, password) {
  let page = await request(start);
  for (let step = 0; step < 12; step++) {
    if (page.status >= 300 && page.status < 400 && page.location) {
      const next = new URL(page.location, page.url);
      if (next.href.startsWith(redirectUri)) return next;
      page = await request(next);
      continue;
    }
    const login = form(page, 'login-form');
    if (login) {
      page = await submit(login, { username, password, action: 'login' });
      continue;
    }
    const consent = form(page, 'consent-form');
    if (consent) {
      page = await submit(consent, { action: 'allow' });
      continue;
    }
    throw new Error(`flow stopped at ${page.url} with status ${page.status}: ${page.body.slice(0, 500)}`);
  }
  throw new Error('flow did not reach the redirect URI');
}

// --- the relying party

// nonceRounds counts the server's use_dpop_nonce answers: at the token
// and PAR endpoints a 400 error, at UserInfo a 401 DPoP challenge.
// tokenTypes are the token_type members of the token responses as sent
// (openid-client lowercases them).
let nonceRounds = 0;
const tokenTypes = [];

async function countingFetch(url, options) {
  const res = await fetch(url, options);
  const challenge = res.headers.get('www-authenticate') || '';
  if (res.status === 401 && /error="use_dpop_nonce"/.test(challenge)) nonceRounds++;
  if (res.status === 400 || (res.status === 200 && String(url).endsWith('/oauth2/token'))) {
    const body = await res.clone().text();
    try {
      const json = JSON.parse(body);
      if (json.error === 'use_dpop_nonce') nonceRounds++;
      if (json.token_type) tokenTypes.push(json.token_type);
    } catch {
      // not JSON: neither a nonce answer nor a token response
    }
  }
  return res;
}

async function clientAuth() {
  if (env('LK_CLIENT_AUTH') === 'none') return { auth: client.None(), privateKey: null };
  const { kid, ...jwk } = JSON.parse(env('LK_PRIVATE_JWK'));
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const privateKey = { key, kid };
  return { auth: client.PrivateKeyJwt(privateKey), privateKey };
}

// authorizationUrl pushes the request with a DPoP proof (RFC 9449 §10.1:
// the code is bound to the key), as a signed request object when the
// client has a key.
async function authorizationUrl(config, params, privateKey, DPoP) {
  let pushed = params;
  if (privateKey) {
    pushed = (await client.buildAuthorizationUrlWithJAR(config, params, privateKey)).searchParams;
  }
  const url = await client.buildAuthorizationUrlWithPAR(config, pushed, { DPoP });
  if (!url.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:')) {
    throw new Error(`authorization URL without a PAR request_uri: ${url}`);
  }
  return url;
}

async function main() {
  const issuer = new URL(env('LK_ISSUER'));
  const redirectUri = env('LK_REDIRECT_URI');
  const { auth, privateKey } = await clientAuth();
  const config = await client.discovery(issuer, env('LK_CLIENT_ID'), undefined, auth, {
    execute: [client.useJwtResponseMode],
  });
  config[client.customFetch] = countingFetch;
  const meta = config.serverMetadata();
  if (!meta.dpop_signing_alg_values_supported?.includes('ES256')) {
    throw new Error(`discovery does not list ES256 for DPoP: ${meta.dpop_signing_alg_values_supported}`);
  }
  const keyPair = await client.randomDPoPKeyPair('ES256', { extractable: true });
  const DPoP = client.getDPoPHandle(config, keyPair);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = await authorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile offline_access',
    prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    response_mode: 'jwt',
  }, privateKey, DPoP);
  const callback = await drive(authUrl, redirectUri, env('LK_USERNAME'), env('LK_PASSWORD'));
  if (!callback.searchParams.get('response') || callback.searchParams.get('code')) {
    throw new Error(`callback is not a JARM response: ${callback.search.slice(0, 200)}`);
  }

  // Verifies the JARM response, state, PKCE and the ID token; the token
  // request carries a proof of the key the code is bound to.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  }, undefined, { DPoP });
  if (tokens.token_type?.toLowerCase() !== 'dpop') throw new Error(`token_type ${tokens.token_type}, want DPoP`);
  if (!tokens.refresh_token) throw new Error('no refresh token for offline_access');
  const sub = tokens.claims().sub;

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  if (refreshed.token_type?.toLowerCase() !== 'dpop') throw new Error(`refreshed token_type ${refreshed.token_type}, want DPoP`);
  // The UserInfo endpoint as a protected resource: fetchProtectedResource
  // sends the DPoP scheme, a proof with ath and the nonce it learnt.
  const res = await client.fetchProtectedResource(config, refreshed.access_token, new URL(meta.userinfo_endpoint), 'GET', undefined, undefined, { DPoP });
  if (res.status !== 200) throw new Error(`protected resource answered ${res.status}: ${await res.text()}`);
  const resource = await res.json();

  const publicJwk = await crypto.subtle.exportKey('jwk', keyPair.publicKey);
  process.stdout.write(JSON.stringify({
    issuer: meta.issuer,
    sub,
    userinfo_sub: userinfo.sub,
    resource_sub: resource.sub,
    token_types: tokenTypes,
    access_token: tokens.access_token,
    refreshed_access_token: refreshed.access_token,
    refresh_token: refreshed.refresh_token,
    dpop_public_jwk: publicJwk,
    nonce_rounds: nonceRounds,
  }));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack || err}\n${err?.cause ? JSON.stringify(err.cause) : ''}\n`);
  process.exit(1);
});
