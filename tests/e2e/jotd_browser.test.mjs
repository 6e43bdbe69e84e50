// jotd and browsers: the redirect URIs a client registers for the authorization code flow
// (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1): `jotd client add|update --redirect-uri`, shown by
// `client list` and by /admin/clients, validated the same way on both paths; the login page
// (GET/POST /login, POST /logout from it): headers and CSP, the form, CSRF, messages,
// throttling, the browser session cookie, logout. The harness serves plain HTTP on loopback,
// where the cookies are named without the __Host- prefix (docs/jotd.md, "Login page").
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import crypto from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { Jotd, bearer, describeResponse, show } from './lib/jotd.mjs';

// codes live 60 s by default: a test waits out a short lifetime instead
const CODE_TTL = 3;
let srv;

before(async () => {
  srv = await Jotd.start({ args: ['--authorization-code-ttl', `${CODE_TTL}s`] });
});

after(async () => {
  await srv?.stop();
});

const BAD_URIS = [
  'http://app.e2e.test/cb', // plain http off loopback
  'https://app.e2e.test/cb#frag', // a fragment
  'https://user@app.e2e.test/cb', // user information
  '/cb', // relative
  'https:///cb', // no host
  'HTTPS://app.e2e.test/cb', // the scheme in capitals: never equal to what is sent
  'custom:/cb', // neither https nor http
  'https://app.e2e.test/a b', // a space
  `https://app.e2e.test/${'a'.repeat(1024)}`, // too long
];

describe('redirect URIs: jotd client add|update, client list', () => {
  test('add with several, list shows them; update replaces them; --no-redirect-uris clears them', () => {
    let r = srv.cmd(['client', 'add', 'web', '--public', '--redirect-uri', 'https://app.e2e.test/cb',
      '--redirect-uri', 'http://127.0.0.1:8123/cb?x=1', '--redirect-uri', 'http://localhost/cb',
      '--redirect-uri', 'http://[::1]:9/cb']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    assert.equal(r.status, 0, show(r));
    const line = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.ok(line, show(r));
    assert.match(line, /redirect_uris=https:\/\/app\.e2e\.test\/cb,http:\/\/127\.0\.0\.1:8123\/cb\?x=1,http:\/\/localhost\/cb,http:\/\/\[::1\]:9\/cb/);
    r = srv.cmd(['client', 'update', 'web', '--redirect-uri', 'https://app.e2e.test/cb2']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    const l2 = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.match(l2, /redirect_uris=https:\/\/app\.e2e\.test\/cb2(\s|$)/, l2);
    r = srv.cmd(['client', 'update', 'web', '--no-redirect-uris']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    const l3 = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.doesNotMatch(l3, /redirect_uris=\S/, l3);
  });

  test('invalid redirect URIs are refused by add and update, with the rule in the message', () => {
    for (const u of BAD_URIS) {
      let r = srv.cmd(['client', 'add', 'bad-web', '--public', '--redirect-uri', u]);
      assert.equal(r.status, 2, `${u}: ${show(r)}`);
      assert.match(r.stderr, /invalid redirect-uri/, show(r));
      r = srv.cmd(['client', 'update', 'default', '--redirect-uri', u]);
      assert.equal(r.status, 2, `${u}: ${show(r)}`);
    }
    const r = srv.cmd(['client', 'list']);
    assert.ok(!r.stdout.includes('bad-web'), show(r));
  });
});

describe('redirect URIs: /admin/clients', () => {
  let adminTok;
  const call = (method, p, json) => srv.request(p, { method, json, headers: { authorization: bearer(adminTok) } });

  before(async () => {
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
  });

  test('POST with redirect_uris, GET shows them, PATCH replaces them, [] clears them', async () => {
    let r = await call('POST', '/admin/clients', { client_id: 'web-api', type: 'public', redirect_uris: ['https://app.e2e.test/cb'] });
    assert.equal(r.status, 201, describeResponse(r));
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/cb']);
    r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: ['https://app.e2e.test/a', 'http://127.0.0.1:1/b'] });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b']);
    r = await call('PATCH', '/admin/clients/web-api', { scopes: ['x'] });
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b'], 'another list leaves them');
    r = await call('GET', '/admin/clients/web-api');
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b']);
    r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: [] });
    assert.deepEqual(r.json.redirect_uris, []);
  });

  test('invalid redirect_uris: 400 invalid_request, nothing changed', async () => {
    for (const u of BAD_URIS) {
      const r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: [u] });
      assert.equal(r.status, 400, `${u}: ${describeResponse(r)}`);
      assert.match(r.json.error_description ?? '', /redirect_uris/);
    }
    const r = await call('POST', '/admin/clients', { client_id: 'web-bad', type: 'public', redirect_uris: [BAD_URIS[0]] });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal((await call('GET', '/admin/clients/web-bad')).status, 404);
  });
});

// ---- the login page -------------------------------------------------------------------------

/** A browser's cookie jar, as much of one as the tests need: name → value from Set-Cookie
 *  (Max-Age=0 deletes), sent back as one Cookie header. */
class Jar {
  constructor() {
    this.c = new Map();
  }
  take(r) {
    for (const line of r.headers.getSetCookie()) {
      const [nv] = line.split(';');
      const i = nv.indexOf('=');
      const name = nv.slice(0, i);
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.c.delete(name);
      else this.c.set(name, nv.slice(i + 1));
    }
    return r;
  }
  header() {
    return [...this.c].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const PASSWORD = 'browser-password-1';
const csrfOf = (html) => html.match(/<input type="hidden" name="csrf" value="([A-Za-z0-9_-]{43})">/)?.[1];
const cookieLine = (r, name) => r.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));

async function getLogin(jar) {
  return jar.take(await srv.request('/login', { headers: { cookie: jar.header() } }));
}
async function postForm(jar, p, form) {
  return jar.take(await srv.request(p, { method: 'POST', form, headers: { cookie: jar.header() } }));
}
/** A signed-in jar for \p user. */
async function signIn(user, password = PASSWORD) {
  const jar = new Jar();
  const csrf = csrfOf((await getLogin(jar)).text);
  const r = await postForm(jar, '/login', { username: user, password, csrf });
  assert.equal(r.status, 303, describeResponse(r));
  assert.equal(r.headers.get('location'), '/login');
  return jar;
}

describe('the login page', () => {
  before(() => {
    srv.addUser('carol', PASSWORD);
    srv.addUser('dave', PASSWORD);
    srv.addUser('erin', PASSWORD);
  });

  test('GET /login: an accessible form, CSRF field and cookie, strict headers', async () => {
    const jar = new Jar();
    const r = await getLogin(jar);
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8$/);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /(^|; )default-src 'none'(;|$)/);
    assert.match(csp, /(^|; )style-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.match(csp, /(^|; )form-action /);
    assert.match(csp, /(^|; )frame-ancestors 'none'(;|$)/);
    assert.match(csp, /(^|; )base-uri 'none'(;|$)/);
    assert.doesNotMatch(csp, /script-src|unsafe/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.match(r.headers.get('cache-control'), /no-store/);
    // the inline style is the one the hash allows
    const style = r.text.match(/<style>([^<]*)<\/style>/)[1];
    const hash = (await import('node:crypto')).createHash('sha256').update(style).digest('base64');
    assert.ok(csp.includes(`'sha256-${hash}'`), csp);
    // no script, no external asset
    assert.doesNotMatch(r.text, /<script|src=|href=/i);
    assert.match(r.text, /<html lang="en">/);
    assert.match(r.text, /<label for="username">[^<]+<\/label>/);
    assert.match(r.text, /<input id="username" name="username"[^>]* autocomplete="username"[^>]* required/);
    assert.match(r.text, /<label for="password">[^<]+<\/label>/);
    assert.match(r.text, /<input id="password" name="password" type="password" autocomplete="current-password" required>/);
    assert.match(r.text, /<form method="post" action="\/login">/);
    assert.ok(csrfOf(r.text), r.text);
    const c = cookieLine(r, 'jotd-csrf');
    assert.ok(c, r.headers.getSetCookie().join('\n'));
    assert.match(c, /; Path=\//);
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Strict/);
    assert.doesNotMatch(c, /Secure/, 'plain HTTP on loopback: no Secure, no __Host- prefix');
    // HEAD too
    const h = await srv.request('/login', { method: 'HEAD' });
    assert.equal(h.status, 200);
  });

  test('CSRF: a post without the field, without the cookie, or with a wrong field is refused (403)', async () => {
    const jar = new Jar();
    const csrf = csrfOf((await getLogin(jar)).text);
    let r = await postForm(jar, '/login', { username: 'carol', password: PASSWORD });
    assert.equal(r.status, 403, describeResponse(r));
    assert.match(r.text, /expired or did not come from this page/);
    assert.equal(cookieLine(r, 'jotd-session'), undefined);
    const csrf2 = csrfOf(r.text); // the refusal renders a new form (a new nonce)
    r = await srv.request('/login', { method: 'POST', form: { username: 'carol', password: PASSWORD, csrf: csrf2 } });
    assert.equal(r.status, 403, 'no cookie');
    r = await postForm(jar, '/login', { username: 'carol', password: PASSWORD, csrf: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') });
    assert.equal(r.status, 403, 'a wrong field');
    const other = new Jar();
    await getLogin(other);
    r = await srv.request('/login', { method: 'POST', form: { username: 'carol', password: PASSWORD, csrf: csrfOf(r.text) }, headers: { cookie: other.header() } });
    assert.equal(r.status, 403, "another browser's nonce");
    assert.equal(cookieLine(r, 'jotd-session'), undefined);
  });

  test('a wrong password: 400, a clear message, the form again, no session', async () => {
    const jar = new Jar();
    const csrf = csrfOf((await getLogin(jar)).text);
    const r = await postForm(jar, '/login', { username: 'carol', password: 'wrong-password-1', csrf });
    assert.equal(r.status, 400, describeResponse(r));
    assert.match(r.text, /role="alert"[^>]*>Wrong username or password\.</);
    assert.match(r.text, /<form method="post" action="\/login">/);
    assert.equal(cookieLine(r, 'jotd-session'), undefined);
    const a = await srv.waitLog((l) => l.event === 'login_failure' && l.user === 'carol');
    assert.equal(a.client_id, 'default', 'audited as the portal client');
  });

  test('throttled as the password grant is (one counter): 429 page with Retry-After', async () => {
    // failures through /token and the page count together
    for (let i = 0; i < 3; i++) assert.equal((await srv.token({ grant_type: 'password', username: 'dave', password: 'nope-nope-1' })).status, 400);
    let r;
    for (let i = 0; i < 5; i++) {
      const jar = new Jar();
      const csrf = csrfOf((await getLogin(jar)).text);
      r = await postForm(jar, '/login', { username: 'dave', password: 'nope-nope-1', csrf });
      if (r.status === 429) break;
      assert.equal(r.status, 400, describeResponse(r));
    }
    assert.equal(r.status, 429, describeResponse(r));
    assert.match(r.headers.get('retry-after'), /^[1-9]\d*$/);
    // the wait in the text is Retry-After's, in words that agree with it ("1 second")
    const wait = Number(r.headers.get('retry-after'));
    assert.match(r.text, new RegExp(`Too many failed sign-in attempts\\. Please wait ${wait} second${wait === 1 ? '' : 's'} and try again\\.`));
    assert.match(r.headers.get('content-security-policy'), /default-src 'none'/);
    // the right password is refused while throttled, on both paths
    const jar = new Jar();
    const csrf = csrfOf((await getLogin(jar)).text);
    assert.equal((await postForm(jar, '/login', { username: 'dave', password: PASSWORD, csrf })).status, 429);
    assert.equal((await srv.token({ grant_type: 'password', username: 'dave', password: PASSWORD })).status, 429);
    await srv.waitLog((l) => l.event === 'login_throttled' && l.user === 'dave');
  });

  test('sign in: a session cookie (HttpOnly, SameSite=Lax, Path=/), a session of the portal client; a signed-in visit skips the form', async () => {
    const jar = new Jar();
    const csrf = csrfOf((await getLogin(jar)).text);
    const r = await postForm(jar, '/login', { username: 'erin', password: PASSWORD, csrf });
    assert.equal(r.status, 303, describeResponse(r));
    const c = cookieLine(r, 'jotd-session');
    assert.match(c, /^jotd-session=[A-Za-z0-9_-]{43}; /);
    assert.match(c, /; Path=\//);
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Lax/);
    assert.match(c, /; Max-Age=\d+/);
    const ok = await srv.waitLog((l) => l.event === 'login_success' && l.user === 'erin');
    assert.equal(ok.client_id, 'default');
    const page = await getLogin(jar);
    assert.equal(page.status, 200);
    assert.match(page.text, /You are signed in as <strong id="user">erin<\/strong>/);
    assert.doesNotMatch(page.text, /name="password"/, 'no form');
    assert.match(page.text, /<form method="post" action="\/logout">/);
    // the cookie's refresh token is the session's: it works at /token (portal client)
    const rt = jar.c.get('jotd-session');
    const probe = await srv.refresh(rt);
    assert.equal(probe.claims.client_id, 'default');
  });

  test('logout: ends the session, clears every cookie; the old cookie replayed gets the form, its refresh token dead', async () => {
    const jar = await signIn('carol');
    const sessionTok = jar.c.get('jotd-session');
    // a logout without the right CSRF field changes nothing
    let r = await postForm(jar, '/logout', { csrf: 'x'.repeat(43) });
    assert.equal(r.status, 403, describeResponse(r));
    assert.match((await srv.request('/login', { headers: { cookie: `jotd-session=${sessionTok}` } })).text, /signed in as/);
    const page = await getLogin(jar);
    const csrf = csrfOf(page.text);
    r = await srv.request('/logout', { method: 'POST', form: { csrf }, headers: { cookie: jar.header() } });
    assert.equal(r.status, 303, describeResponse(r));
    assert.equal(r.headers.get('location'), '/login');
    const set = r.headers.getSetCookie();
    for (const name of ['jotd-session', 'jotd-csrf']) {
      const l = set.find((x) => x.startsWith(`${name}=`));
      assert.ok(l, `${name} cleared: ${set.join('\n')}`);
      assert.match(l, new RegExp(`^${name}=; Path=/; HttpOnly; SameSite=\\w+; Max-Age=0$`));
    }
    // the old cookie replayed: the form again
    const again = await srv.request('/login', { headers: { cookie: `jotd-session=${sessionTok}` } });
    assert.equal(again.status, 200);
    assert.match(again.text, /name="password"/);
    assert.doesNotMatch(again.text, /signed in as/);
    // its refresh token is dead
    const t = await srv.token({ grant_type: 'refresh_token', refresh_token: sessionTok });
    assert.equal(t.status, 400, describeResponse(t));
    assert.equal(t.json.error, 'invalid_grant');
  });

  test('a garbage or unknown session cookie gets the form', async () => {
    for (const v of ['x', 'A'.repeat(43), '']) {
      const r = await srv.request('/login', { headers: { cookie: `jotd-session=${v}` } });
      assert.equal(r.status, 200);
      assert.match(r.text, /name="password"/);
    }
  });
});

// ---- /authorize and the code grant (RFC 6749 §4.1, RFC 7636, RFC 9207) ---------------------

const CB = 'https://app.e2e.test/cb';
const pkce = () => {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
};
const authzQuery = (o) => new URLSearchParams(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))).toString();
const authorize = (jar, o) => srv.request(`/authorize?${authzQuery(o)}`, { headers: { cookie: jar ? jar.header() : '' } });
const locationParams = (r) => {
  const l = r.headers.get('location');
  assert.ok(l, describeResponse(r));
  const u = new URL(l);
  return { base: `${u.origin}${u.pathname}`, p: u.searchParams };
};

describe('/authorize and grant_type=authorization_code', () => {
  let jar;
  before(async () => {
    let r = srv.cmd(['client', 'add', 'app', '--public', '--scope', 'profile', '--scope', 'email', '--default-scope', 'profile', '--redirect-uri', CB]);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'add', 'other-app', '--public', '--redirect-uri', CB]);
    assert.equal(r.status, 0, show(r));
    srv.addUser('frank', PASSWORD);
    jar = await signIn('frank');
  });

  /** A code for a fresh verifier, issued to the signed-in jar. */
  async function code(extra = {}) {
    const k = pkce();
    const r = await authorize(jar, { response_type: 'code', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256', state: 'st-1', ...extra });
    assert.equal(r.status, 302, describeResponse(r));
    const { base, p } = locationParams(r);
    assert.equal(base, CB);
    return { code: p.get('code'), ...k, p };
  }
  const exchange = (c, o = {}) => srv.token({ grant_type: 'authorization_code', client_id: 'app', redirect_uri: CB, code: c.code, code_verifier: c.verifier, ...o });

  test('metadata: authorization_endpoint, code, S256, authorization_code, iss parameter', async () => {
    const m = (await srv.get('/.well-known/oauth-authorization-server')).json;
    assert.equal(m.authorization_endpoint, `${srv.issuer}/authorize`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.ok(m.grant_types_supported.includes('authorization_code'));
    assert.equal(m.authorization_response_iss_parameter_supported, true);
  });

  test('an unknown client, a missing or unregistered redirect_uri: an error page, never a redirect', async () => {
    const k = pkce();
    const base = { response_type: 'code', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256' };
    for (const o of [{ client_id: 'nobody' }, { client_id: undefined }, { redirect_uri: undefined }, { redirect_uri: 'https://evil.e2e.test/cb' },
      { redirect_uri: `${CB}/` }, { redirect_uri: `${CB}?x=1` }, { redirect_uri: CB.toUpperCase() }]) {
      const r = await authorize(jar, { ...base, ...o });
      assert.equal(r.status, 400, `${JSON.stringify(o)}: ${describeResponse(r)}`);
      assert.equal(r.headers.get('location'), null);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      assert.match(r.headers.get('content-security-policy'), /default-src 'none'/);
    }
  });

  test('PKCE required: missing, plain or a malformed challenge → error redirect invalid_request (state and iss)', async () => {
    const k = pkce();
    for (const o of [{ code_challenge: undefined, code_challenge_method: undefined }, { code_challenge_method: 'plain' }, { code_challenge_method: undefined },
      { code_challenge: 'short' }]) {
      const r = await authorize(jar, { response_type: 'code', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256', state: 'xyz', ...o });
      assert.equal(r.status, 302, describeResponse(r));
      const { base, p } = locationParams(r);
      assert.equal(base, CB);
      assert.equal(p.get('error'), 'invalid_request', JSON.stringify(o));
      assert.equal(p.get('state'), 'xyz');
      assert.equal(p.get('iss'), srv.issuer);
      assert.equal(p.get('code'), null);
    }
    let r = await authorize(jar, { response_type: 'token', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256' });
    assert.equal(locationParams(r).p.get('error'), 'unsupported_response_type');
    r = await authorize(jar, { response_type: 'code', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256', scope: 'admin' });
    assert.equal(locationParams(r).p.get('error'), 'invalid_scope');
  });

  test('code: state round trip, iss; exchange with the right verifier → tokens verified with jose', async () => {
    const c = await code({ state: 'a b&c=é', scope: 'profile email' });
    assert.equal(c.p.get('state'), 'a b&c=é');
    assert.equal(c.p.get('iss'), srv.issuer);
    assert.match(c.code, /^[A-Za-z0-9_-]{43}$/);
    const r = await exchange(c);
    assert.equal(r.status, 200, describeResponse(r));
    const t = await srv.checkTokenResponse(r);
    assert.equal(t.scope, 'profile email');
    assert.equal(t.claims.client_id, 'app');
    const u = await srv.get('/userinfo', { authorization: bearer(t.access_token) });
    assert.equal(u.json.preferred_username ?? u.json.username ?? u.json.name ?? 'frank', 'frank');
    await srv.refresh(t.refresh_token, { client_id: 'app' });
  });

  test('refused exchanges: wrong verifier, wrong redirect_uri, another client, a malformed verifier', async () => {
    let c = await code();
    let r = await exchange(c, { code_verifier: pkce().verifier });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
    c = await code();
    r = await exchange(c, { redirect_uri: `${CB}/` });
    assert.equal(r.json.error, 'invalid_grant');
    c = await code();
    r = await exchange(c, { client_id: 'other-app' });
    assert.equal(r.json.error, 'invalid_grant');
    c = await code();
    r = await exchange(c, { code_verifier: 'too-short' });
    assert.equal(r.json.error, 'invalid_request');
    r = await exchange({ code: 'A'.repeat(43), verifier: c.verifier });
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('a code used twice: invalid_grant, and the first exchange\'s tokens are revoked', async () => {
    const c = await code();
    const first = await srv.checkTokenResponse(await exchange(c));
    const again = await exchange(c);
    assert.equal(again.status, 400, describeResponse(again));
    assert.equal(again.json.error, 'invalid_grant');
    const r = await srv.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: 'app' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
    await srv.waitLog((l) => l.event === 'code_replay');
  });

  // A replay can land between the first exchange's redemption of the code and the insert of
  // its session, where there is nothing to revoke yet: the replay marks the code, and the
  // first exchange, after storing its session, sees the mark and revokes it itself (store.h
  // jotd_store_code_replayed). Many parallel presentations make that window likely; whatever
  // the interleaving, no token issued from a replayed code may stay usable.
  test('one code presented 12 times at once: at most one 200, and nothing it issued stays usable', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await code();
      const answers = await Promise.all(Array.from({ length: 12 }, () => exchange(c)));
      const ok = answers.filter((a) => a.status === 200);
      assert.ok(ok.length <= 1, `${ok.length} exchanges succeeded`);
      for (const a of answers.filter((x) => x.status !== 200)) {
        assert.equal(a.status, 400, describeResponse(a));
        assert.equal(a.json.error, 'invalid_grant');
      }
      for (const a of ok) {
        const r = await srv.token({ grant_type: 'refresh_token', refresh_token: a.json.refresh_token, client_id: 'app' });
        assert.equal(r.status, 400, `round ${round}: the refresh token of a replayed code still works: ${describeResponse(r)}`);
        const v = await srv.request('/userinfo', { headers: { authorization: bearer(a.json.access_token) } });
        assert.equal(v.status, 401, describeResponse(v));
      }
    }
  });

  test('an expired code (past --authorization-code-ttl) is refused', async () => {
    const c = await code();
    await new Promise((res) => setTimeout(res, (CODE_TTL + 1) * 1000 + 100));
    const r = await exchange(c);
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('without a session: the login form carries the request; after login back to /authorize, which issues the code', async () => {
    const k = pkce();
    const fresh = new Jar();
    const q = { response_type: 'code', client_id: 'app', redirect_uri: CB, code_challenge: k.challenge, code_challenge_method: 'S256', state: 's2' };
    let r = fresh.take(await authorize(fresh, q));
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.text, /name="password"/);
    assert.match(r.headers.get('content-security-policy'), /form-action 'self' https:\/\/app\.e2e\.test;/);
    const cont = r.text.match(/name="authorize" value="([^"]+)"/)[1].replaceAll('&amp;', '&');
    // a wrong password first: the form again, still carrying the request, the CSP still
    // allowing the client's origin for the redirects after the next post
    r = await postForm(fresh, '/login', { username: 'frank', password: 'wrong-password-9', csrf: csrfOf(r.text), authorize: cont });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.text.match(/name="authorize" value="([^"]+)"/)[1].replaceAll('&amp;', '&'), cont);
    assert.match(r.headers.get('content-security-policy'), /form-action 'self' https:\/\/app\.e2e\.test;/);
    r = await postForm(fresh, '/login', { username: 'frank', password: PASSWORD, csrf: csrfOf(r.text), authorize: cont });
    assert.equal(r.status, 303, describeResponse(r));
    const loc = r.headers.get('location');
    assert.ok(loc.startsWith('/authorize?'), loc);
    r = await srv.request(loc, { headers: { cookie: fresh.header() } });
    assert.equal(r.status, 302, describeResponse(r));
    const { p } = locationParams(r);
    assert.equal(p.get('state'), 's2');
    const t = await exchange({ code: p.get('code'), verifier: k.verifier });
    assert.equal(t.status, 200, describeResponse(t));
  });
});

// ---- a standard OAuth client library: oauth4webapi (panva) ----------------------------------

describe('oauth4webapi completes the code flow', () => {
  test('discovery, PKCE, the authorization URL, the login form over plain HTTP, callback validation, code exchange', async () => {
    srv.addUser('grace', PASSWORD);
    const r0 = srv.cmd(['client', 'add', 'o4w', '--public', '--scope', 'profile', '--redirect-uri', CB]);
    assert.equal(r0.status, 0, show(r0));
    // the issuer is https://issuer.e2e.test; the test server listens on 127.0.0.1
    const local = (u) => String(u).replace(srv.issuer, srv.base);
    const opts = { [oauth.customFetch]: (url, init) => fetch(local(url), init) };
    const issuer = new URL(srv.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...opts, algorithm: 'oauth2' }));
    assert.equal(as.authorization_endpoint, `${srv.issuer}/authorize`);
    const client = { client_id: 'o4w' };
    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', CB);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'profile');
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    // the browser: the login form, then back to /authorize, then the redirect
    const jar = new Jar();
    const u = new URL(local(url));
    let r = jar.take(await srv.request(`${u.pathname}${u.search}`, { headers: { cookie: jar.header() } }));
    assert.equal(r.status, 200, describeResponse(r));
    const cont = r.text.match(/name="authorize" value="([^"]+)"/)[1].replaceAll('&amp;', '&');
    r = await postForm(jar, '/login', { username: 'grace', password: PASSWORD, csrf: csrfOf(r.text), authorize: cont });
    assert.equal(r.status, 303, describeResponse(r));
    r = await srv.request(r.headers.get('location'), { headers: { cookie: jar.header() } });
    assert.equal(r.status, 302, describeResponse(r));
    const callback = new URL(r.headers.get('location'));
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const resp = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CB, verifier, opts);
    const result = await oauth.processAuthorizationCodeResponse(as, client, resp);
    assert.equal(result.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof result.refresh_token, 'string');
    const v = await srv.verifyAccess(result.access_token);
    assert.equal(v.payload.client_id, 'o4w');
    assert.equal(v.payload.scope, 'profile');
    // a wrong state or a forged iss is caught by the library
    assert.throws(() => oauth.validateAuthResponse(as, client, callback, 'other-state'));
    const forged = new URL(callback);
    forged.searchParams.set('iss', 'https://evil.e2e.test');
    assert.throws(() => oauth.validateAuthResponse(as, client, forged, state));
  });
});
