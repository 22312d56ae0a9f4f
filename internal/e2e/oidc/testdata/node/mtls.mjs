// Drives Latchkey with the npm openid-client package over mutual TLS
// (RFC 8705): discovery, the authorization code flow with PKCE as a
// tls_client_auth client whose access tokens are certificate-bound,
// UserInfo with the certificate (and without it: refused), and a refresh.
// The sign-in and consent pages are driven with plain fetch and a cookie
// jar (no client certificate there); the token and UserInfo requests go
// through a customFetch that presents the client certificate.
//
// Input (environment): LK_ISSUER, LK_CLIENT_ID, LK_REDIRECT_URI,
// LK_USERNAME, LK_PASSWORD, LK_CERT_FILE, LK_KEY_FILE (PEM); the server's
// test CA comes in through NODE_EXTRA_CA_CERTS. Output: one JSON object on
// stdout. Any failure exits non-zero with the reason on stderr.
import * as client from 'openid-client';
import https from 'node:https';
import { readFileSync } from 'node:fs';

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

async function request(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
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
  return request(f.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...f.fields, ...extra }),
  });
}

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

// mtlsFetch is an openid-client customFetch presenting the client
// certificate on every connection (node's fetch cannot).
function mtlsFetch(cert, key) {
  return (url, options = {}) => new Promise((resolve, reject) => {
    const headers = {};
    new Headers(options.headers || {}).forEach((v, k) => { headers[k] = v; });
    let body = options.body;
    if (body instanceof URLSearchParams) body = body.toString();
    const req = https.request(url, { method: options.method || 'GET', headers, cert, key, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
          else if (v !== undefined) h.set(k, String(v));
        }
        const empty = res.statusCode === 204 || res.statusCode === 304;
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode, headers: h }));
      });
    });
    req.on('error', reject);
    if (options.signal) options.signal.addEventListener('abort', () => req.destroy(new Error('aborted')));
    if (body) req.write(body);
    req.end();
  });
}

const x5tOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).cnf?.['x5t#S256'];

async function main() {
  const issuer = new URL(env('LK_ISSUER'));
  const redirectUri = env('LK_REDIRECT_URI');
  const withCert = mtlsFetch(readFileSync(env('LK_CERT_FILE')), readFileSync(env('LK_KEY_FILE')));
  const config = await client.discovery(issuer, env('LK_CLIENT_ID'), { use_mtls_endpoint_aliases: true },
    client.TlsClientAuth(), { [client.customFetch]: withCert });
  const meta = config.serverMetadata();
  if (!meta.tls_client_certificate_bound_access_tokens || !meta.mtls_endpoint_aliases?.token_endpoint) {
    throw new Error(`discovery does not advertise mutual TLS: ${JSON.stringify(meta)}`);
  }

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
  });
  const callback = await drive(authUrl, redirectUri, env('LK_USERNAME'), env('LK_PASSWORD'));
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const withoutCert = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  process.stdout.write(JSON.stringify({
    sub: claims.sub,
    userinfo_sub: userinfo.sub,
    x5t: x5tOf(tokens.access_token),
    refreshed_x5t: x5tOf(refreshed.access_token),
    userinfo_without_certificate: withoutCert.status,
  }));
}

main().catch((err) => {
  process.stderr.write(`${err?.stack || err}\n${err?.cause ? JSON.stringify(err.cause) : ''}\n`);
  process.exit(1);
});
