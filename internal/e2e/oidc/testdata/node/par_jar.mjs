// Drives Latchkey with the npm openid-client package through pushed
// authorization requests (RFC 9126) carrying a signed request object
// (RFC 9101), a JWT-secured authorization response (JARM) and
// private_key_jwt client authentication at the PAR and token endpoints.
// The sign-in and consent pages are driven as in flow.mjs.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID, LK_PRIVATE_JWK (the
// client's ES256 private key as a JWK with kid), LK_REDIRECT_URI,
// LK_USERNAME, LK_PASSWORD; the server's test CA comes in through
// NODE_EXTRA_CA_CERTS. Output: one JSON object on stdout. Any failure
// exits non-zero with the reason on stderr.
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

async function main() {
  const issuer = new URL(env('LK_ISSUER'));
  const redirectUri = env('LK_REDIRECT_URI');
  const { kid, ...jwk } = JSON.parse(env('LK_PRIVATE_JWK'));
  const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const privateKey = { key, kid };
  const config = await client.discovery(issuer, env('LK_CLIENT_ID'), undefined, client.PrivateKeyJwt(privateKey), {
    execute: [client.useJwtResponseMode],
  });
  const meta = config.serverMetadata();
  if (!meta.pushed_authorization_request_endpoint) throw new Error('no pushed_authorization_request_endpoint');

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  // JAR inside PAR: the signed request object is what is pushed.
  const { searchParams } = await client.buildAuthorizationUrlWithJAR(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    response_mode: 'jwt',
  }, privateKey);
  const authUrl = await client.buildAuthorizationUrlWithPAR(config, searchParams);
  if (!authUrl.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:')) {
    throw new Error(`authorization URL without a PAR request_uri: ${authUrl}`);
  }
  const callback = await drive(authUrl, redirectUri, env('LK_USERNAME'), env('LK_PASSWORD'));
  if (!callback.searchParams.get('response') || callback.searchParams.get('code')) {
    throw new Error(`callback is not a JARM response: ${callback.search.slice(0, 200)}`);
  }

  // Verifies the JARM response (signature with the JWKS, iss, aud, exp),
  // then state, PKCE and the ID token.
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  process.stdout.write(JSON.stringify({ issuer: meta.issuer, sub: claims.sub, jarm: true }));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack || err}\n${err?.cause ? JSON.stringify(err.cause) : ''}\n`);
  process.exit(1);
});
