// Single-page apps (docs/browser.md, "Single-page apps (cookie mode)"): the client properties
// allowed_origins, cookie_mode and refresh_grace (CLI and /admin/clients, validated alike);
// /token for a cookie-mode client: the refresh token only in the HttpOnly cookie
// jotd-refresh-<client> (plain HTTP on loopback drops the __Secure- prefix and Secure), read
// back on refresh, with the CSRF defence (Origin, a preflighted request, Sec-Fetch-Site) and
// nothing rotated on any refusal; the per-client grace window (two tabs); /logout clearing
// the cookie; CORS on /token, /revoke, /logout, /userinfo and "*" on the public documents.
// Requests are sent by node with the Origin, Cookie and Sec-Fetch-* headers a browser would
// set (the real browser is tests/e2e/jotd_browser_chromium*).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Jotd, bearer, describeResponse, show, sleep } from './lib/jotd.mjs';

const ISSUER = 'https://issuer.e2e.test/auth'; // the cookie's Path: /auth/token
const APP = 'https://app.e2e.test';
const EVIL = 'https://evil.e2e.test';
const CB = `${APP}/cb`;
const IDLE = 3600;
const PASSWORD = 'spa-password-1';
const COOKIE = 'jotd-refresh-spa';
let srv;

before(async () => {
  srv = await Jotd.start({ issuer: ISSUER, args: ['--refresh-idle-ttl', `${IDLE}s`] });
  let r = srv.cmd(['client', 'add', 'spa', '--public', '--redirect-uri', CB, '--allowed-origin', APP,
    '--allowed-origin', 'http://localhost:5173', '--cookie-mode']);
  assert.equal(r.status, 0, show(r));
  // the same app with a short grace window of its own (the reuse test)
  r = srv.cmd(['client', 'add', 'spa-short', '--public', '--allowed-origin', APP, '--cookie-mode',
    '--refresh-grace', '1']);
  assert.equal(r.status, 0, show(r));
  // a public client with an allowed origin, not in cookie mode (CORS only)
  r = srv.cmd(['client', 'add', 'plain', '--public', '--allowed-origin', 'https://plain.e2e.test']);
  assert.equal(r.status, 0, show(r));
  // a confidential client's origins are never honoured (a page keeps no secret)
  r = srv.cmd(['client', 'add', 'svc', '--generate-secret', '--allowed-origin', 'https://svc.e2e.test']);
  assert.equal(r.status, 0, show(r));
  srv.addUser('sam', PASSWORD);
  await waitOrigin(APP);
});

after(async () => {
  await srv?.stop();
});

/** Changes made by `jotd client` reach a running jotd through the events poll (1 s). */
async function waitOrigin(origin, want = 204) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await srv.request('/token', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    if (r.status === want) return r;
    if (Date.now() > deadline) assert.fail(`preflight for ${origin} never ${want}: ${describeResponse(r)}`);
    await sleep(100);
  }
}

const cookieLine = (r, name = COOKIE) => r.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));
const cookieValue = (r, name = COOKIE) => cookieLine(r, name)?.split(';')[0].slice(name.length + 1);

/** What a page of \p origin sends to /token with fetch(..., {credentials: 'include'}). */
function tokenFromPage(params, { origin = APP, cookie, json = true, xrw, site = 'same-site' } = {}) {
  const headers = {};
  if (origin) headers.origin = origin;
  if (cookie) headers.cookie = `${COOKIE}=${cookie}`;
  if (xrw) headers['x-requested-with'] = xrw;
  if (site) headers['sec-fetch-site'] = site;
  return json
    ? srv.request('/token', { method: 'POST', json: params, headers })
    : srv.request('/token', { method: 'POST', form: params, headers });
}
const refreshFromPage = (cookie, o = {}) => tokenFromPage({ grant_type: 'refresh_token', client_id: o.client ?? 'spa' }, { cookie, ...o });

/** A session of the spa client by the password grant (the cookie's value). */
async function passwordSession(client = 'spa') {
  const r = await tokenFromPage({ grant_type: 'password', client_id: client, username: 'sam', password: PASSWORD });
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json.refresh_token, undefined, 'never in the JSON');
  const v = cookieValue(r, `jotd-refresh-${client}`);
  assert.match(v ?? '', /^[A-Za-z0-9_-]{43}$/, describeResponse(r));
  return { cookie: v, access: r.json.access_token };
}

// ---- registration ------------------------------------------------------------------------

const BAD_ORIGINS = [
  'http://app.e2e.test', // plain http off loopback
  'https://App.e2e.test', // capitals: never what a browser sends
  'https://app.e2e.test/', // a trailing slash
  'https://app.e2e.test/path', // a path
  'https://app.e2e.test:443', // the default port: never in an Origin
  'https://user@app.e2e.test', // user information
  'app.e2e.test', // no scheme
  'null', // an opaque origin
  'https://app.e2e.test:0', // no such port
  'https://app.e2e.test:99999', // no such port
];

describe('registration: allowed origins, cookie mode, refresh grace', () => {
  test('client list shows them; update replaces and clears them', () => {
    let r = srv.cmd(['client', 'add', 'reg-1', '--public', '--allowed-origin', 'https://a.e2e.test', '--allowed-origin', 'http://[::1]:8080']);
    assert.equal(r.status, 0, show(r));
    const line = () => srv.cmd(['client', 'list']).stdout.split('\n').find((l) => l.startsWith('reg-1\t'));
    assert.match(line(), /allowed_origins=https:\/\/a\.e2e\.test,http:\/\/\[::1\]:8080\tcookie_mode=no\trefresh_grace=default/);
    r = srv.cmd(['client', 'update', 'reg-1', '--cookie-mode', '--refresh-grace', '5']);
    assert.equal(r.status, 0, show(r));
    assert.match(line(), /cookie_mode=yes\trefresh_grace=5/);
    r = srv.cmd(['client', 'update', 'reg-1', '--no-refresh-grace', '--no-cookie-mode', '--no-allowed-origins']);
    assert.equal(r.status, 0, show(r));
    assert.match(line(), /allowed_origins=\tcookie_mode=no\trefresh_grace=default/);
  });

  test('invalid origins are refused by add and update, with the rule in the message', () => {
    for (const o of BAD_ORIGINS) {
      let r = srv.cmd(['client', 'add', 'reg-bad', '--public', '--allowed-origin', o]);
      assert.equal(r.status, 2, `${o}: ${show(r)}`); // a usage error
      assert.match(r.stderr, /invalid allowed-origin/, show(r));
      r = srv.cmd(['client', 'update', 'plain', '--allowed-origin', o]);
      assert.equal(r.status, 2, `${o}: ${show(r)}`);
    }
    assert.ok(!srv.cmd(['client', 'list']).stdout.includes('reg-bad'));
  });

  test('cookie mode only for a public client with an allowed origin and a cookie-safe id', () => {
    const cases = [
      [['client', 'add', 'reg-2', '--public', '--cookie-mode'], /at least one allowed origin/],
      [['client', 'add', 'reg-3', '--generate-secret', '--allowed-origin', APP, '--cookie-mode'], /public clients only/],
      [['client', 'add', 'reg@4', '--public', '--allowed-origin', APP, '--cookie-mode'], /cookie name/],
      [['client', 'update', 'spa', '--no-allowed-origins'], /at least one allowed origin/],
      [['client', 'update', 'svc', '--cookie-mode'], /public clients only/],
      [['client', 'add', 'reg-5', '--public', '--refresh-grace', '61'], /0-60/, 2],
    ];
    for (const [args, msg, status = 1] of cases) {
      const r = srv.cmd(args);
      assert.equal(r.status, status, show(r));
      assert.match(r.stderr, msg, show(r));
    }
    const list = srv.cmd(['client', 'list']).stdout;
    assert.match(list.split('\n').find((l) => l.startsWith('spa\t')), /allowed_origins=https:\/\/app\.e2e\.test,http:\/\/localhost:5173\tcookie_mode=yes/);
  });

  describe('/admin/clients', () => {
    let adminTok;
    const call = (method, p, json) => srv.request(p, { method, json, headers: { authorization: bearer(adminTok) } });
    before(async () => {
      adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
    });

    test('POST, GET, PATCH carry allowed_origins, cookie_mode, refresh_grace (null: default)', async () => {
      let r = await call('POST', '/admin/clients', { client_id: 'adm-spa', type: 'public', allowed_origins: [APP], cookie_mode: true });
      assert.equal(r.status, 201, describeResponse(r));
      assert.deepEqual(r.json.allowed_origins, [APP]);
      assert.equal(r.json.cookie_mode, true);
      assert.equal(r.json.refresh_grace, null);
      r = await call('PATCH', '/admin/clients/adm-spa', { refresh_grace: 4 });
      assert.equal(r.status, 200, describeResponse(r));
      assert.equal(r.json.refresh_grace, 4);
      assert.equal(r.json.cookie_mode, true, 'left as it was');
      r = await call('PATCH', '/admin/clients/adm-spa', { refresh_grace: null, cookie_mode: false, allowed_origins: [] });
      assert.equal(r.status, 200, describeResponse(r));
      assert.equal(r.json.refresh_grace, null);
      assert.equal(r.json.cookie_mode, false);
      assert.deepEqual(r.json.allowed_origins, []);
      r = await call('GET', '/admin/clients/spa');
      assert.deepEqual(r.json.allowed_origins, [APP, 'http://localhost:5173']);
      assert.equal(r.json.cookie_mode, true);
    });

    test('the same rules as the CLI: 400 with the reason, nothing stored', async () => {
      for (const o of BAD_ORIGINS) {
        const r = await call('POST', '/admin/clients', { client_id: 'adm-bad', type: 'public', allowed_origins: [o] });
        assert.equal(r.status, 400, `${o}: ${describeResponse(r)}`);
        assert.match(r.json.error_description, /allowed_origins/);
      }
      const cases = [
        [{ client_id: 'adm-bad', type: 'public', cookie_mode: true }, /at least one allowed origin/],
        [{ client_id: 'adm-bad', type: 'confidential', allowed_origins: [APP], cookie_mode: true }, /public clients only/],
        [{ client_id: 'adm@bad', type: 'public', allowed_origins: [APP], cookie_mode: true }, /cookie name/],
        [{ client_id: 'adm-bad', type: 'public', refresh_grace: 61 }, /refresh_grace/],
        [{ client_id: 'adm-bad', type: 'public', refresh_grace: -1 }, /refresh_grace/],
        [{ client_id: 'adm-bad', type: 'public', cookie_mode: 'yes' }, /unknown member or wrong type/],
      ];
      for (const [body, msg] of cases) {
        const r = await call('POST', '/admin/clients', body);
        assert.equal(r.status, 400, describeResponse(r));
        assert.match(r.json.error_description, msg);
      }
      assert.equal((await call('GET', '/admin/clients/adm-bad')).status, 404);
      let r = await call('PATCH', '/admin/clients/spa', { allowed_origins: [] });
      assert.equal(r.status, 400, describeResponse(r));
      assert.match(r.json.error_description, /at least one allowed origin/);
      r = await call('PATCH', '/admin/clients/svc', { cookie_mode: true });
      assert.equal(r.status, 400, describeResponse(r));
      r = await call('GET', '/admin/clients/spa');
      assert.deepEqual(r.json.allowed_origins, [APP, 'http://localhost:5173'], 'unchanged');
    });
  });
});

// ---- the code flow and the refresh cookie ---------------------------------------------------

/** A browser's cookie jar for jotd's own cookies (the login page's session). */
class Jar {
  constructor() {
    this.c = new Map();
  }
  take(r) {
    for (const line of r.headers.getSetCookie()) {
      const [nv] = line.split(';');
      const i = nv.indexOf('=');
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.c.delete(nv.slice(0, i));
      else this.c.set(nv.slice(0, i), nv.slice(i + 1));
    }
    return r;
  }
  header() {
    return [...this.c].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function signedInJar() {
  const jar = new Jar();
  const page = jar.take(await srv.request('/login'));
  const csrf = page.text.match(/name="csrf" value="([A-Za-z0-9_-]{43})"/)[1];
  const r = jar.take(await srv.request('/login', { method: 'POST', form: { username: 'sam', password: PASSWORD, csrf }, headers: { cookie: jar.header() } }));
  assert.equal(r.status, 303, describeResponse(r));
  return jar;
}

/** A code for the spa client (PKCE S256, state), from the signed-in jar. */
async function codeFor(jar) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ response_type: 'code', client_id: 'spa', redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-9' });
  const r = await srv.request(`/authorize?${q}`, { headers: { cookie: jar.header() } });
  assert.equal(r.status, 302, describeResponse(r));
  const u = new URL(r.headers.get('location'));
  assert.equal(u.searchParams.get('state'), 'st-9');
  return { code: u.searchParams.get('code'), verifier };
}

describe('cookie mode at /token', () => {
  let jar;
  before(async () => {
    jar = await signedInJar();
  });

  test('code + PKCE: no refresh_token in the JSON; the cookie HttpOnly, SameSite=Strict, Path=/auth/token, Max-Age, host-only', async () => {
    const c = await codeFor(jar);
    const r = await tokenFromPage({ grant_type: 'authorization_code', client_id: 'spa', redirect_uri: CB, code: c.code, code_verifier: c.verifier });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.json.refresh_token, undefined);
    assert.equal(typeof r.json.access_token, 'string');
    await srv.verifyAccess(r.json.access_token);
    const line = cookieLine(r);
    assert.ok(line, describeResponse(r));
    const attrs = line.split(/;\s*/).slice(1);
    assert.ok(attrs.includes('HttpOnly'), line);
    assert.ok(attrs.includes('SameSite=Strict'), line);
    assert.ok(attrs.includes('Path=/auth/token'), line);
    assert.ok(attrs.includes(`Max-Age=${IDLE}`), line);
    assert.ok(!attrs.some((a) => /^Domain=/i.test(a)), line);
    assert.ok(!attrs.includes('Secure'), 'plain HTTP on loopback: no Secure (and no __Secure- prefix)');
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
  });

  test('a code sent from another origin is refused (403, audited) and stays unused', async () => {
    const c = await codeFor(jar);
    const params = { grant_type: 'authorization_code', client_id: 'spa', redirect_uri: CB, code: c.code, code_verifier: c.verifier };
    let r = await tokenFromPage(params, { origin: EVIL });
    assert.equal(r.status, 403, describeResponse(r));
    assert.deepEqual(r.json, { error: 'invalid_request', error_description: 'origin not allowed' });
    assert.equal(cookieLine(r), undefined);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    await srv.waitLog((l) => JSON.stringify(l).includes('"cors_refused"') && JSON.stringify(l).includes(EVIL));
    r = await tokenFromPage(params, { origin: null });
    assert.equal(r.status, 403, 'no Origin at all: refused too');
    r = await tokenFromPage(params);
    assert.equal(r.status, 200, describeResponse(r));
  });

  test('the password grant of a cookie-mode client: the cookie, not the JSON; another origin refused', async () => {
    await passwordSession();
    const r = await tokenFromPage({ grant_type: 'password', client_id: 'spa', username: 'sam', password: PASSWORD }, { origin: EVIL });
    assert.equal(r.status, 403, describeResponse(r));
  });

  test('refresh from the cookie (JSON body, or a form with X-Requested-With): rotated, in the cookie again', async () => {
    const s = await passwordSession();
    let r = await refreshFromPage(s.cookie);
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.json.refresh_token, undefined);
    await srv.verifyAccess(r.json.access_token);
    const next = cookieValue(r);
    assert.ok(next && next !== s.cookie, describeResponse(r));
    r = await refreshFromPage(next, { json: false, xrw: 'XMLHttpRequest' });
    assert.equal(r.status, 200, describeResponse(r));
    assert.ok(cookieValue(r) && cookieValue(r) !== next);
  });

  test('refusals rotate nothing: the same cookie refreshes afterwards', async () => {
    const s = await passwordSession();
    const refusals = [
      [{ origin: EVIL }, 403, /origin not allowed/],
      [{ origin: null }, 403, /origin not allowed/],
      [{ origin: 'https://plain.e2e.test' }, 403, /origin not allowed/], // another client's origin
      [{ json: false }, 403, /JSON body or an X-Requested-With/], // a form, not preflighted
      [{ json: false, xrw: '' }, 403, /JSON body or an X-Requested-With/],
      [{ site: 'cross-site' }, 403, /cross-site/],
      [{ site: 'cross-site', xrw: 'x' }, 403, /cross-site/],
    ];
    for (const [o, status, msg] of refusals) {
      const r = await refreshFromPage(s.cookie, o);
      assert.equal(r.status, status, `${JSON.stringify(o)}: ${describeResponse(r)}`);
      assert.equal(r.json.error, 'invalid_request');
      assert.match(r.json.error_description, msg);
      assert.equal(cookieLine(r), undefined);
    }
    // the body's refresh_token: refused even with the cookie, and even with the cookie's value
    let r = await tokenFromPage({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: s.cookie }, { cookie: s.cookie });
    assert.equal(r.status, 400, describeResponse(r));
    assert.match(r.json.error_description, /cookie only/);
    r = await tokenFromPage({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: s.cookie });
    assert.equal(r.status, 400, describeResponse(r));
    // no cookie
    r = await refreshFromPage(undefined);
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
    // Sec-Fetch-Site other than cross-site, or none (a browser without it): fine
    for (const site of ['same-origin', 'same-site', 'none', undefined]) {
      r = await refreshFromPage(s.cookie, { site });
      if (r.status === 200) break;
    }
    assert.equal(r.status, 200, describeResponse(r));
  });

  test('two tabs refreshing at once both get 200 and the same successor (grace, 10 s by default)', async () => {
    const s = await passwordSession();
    const [a, b] = await Promise.all([refreshFromPage(s.cookie), refreshFromPage(s.cookie)]);
    assert.equal(a.status, 200, describeResponse(a));
    assert.equal(b.status, 200, describeResponse(b));
    assert.equal(cookieValue(a), cookieValue(b));
    // 3 s later: past the server's --refresh-grace (0) but within the cookie-mode default
    await sleep(3000);
    const c = await refreshFromPage(s.cookie);
    assert.equal(c.status, 200, describeResponse(c));
    assert.equal(cookieValue(c), cookieValue(a));
    assert.ok(srv.logs().some((l) => JSON.stringify(l).includes('"refresh_grace"')), 'audited refresh_grace');
  });

  test('after the client\'s grace window (1 s) the old cookie is reuse: the session is revoked', async () => {
    const s = await passwordSession('spa-short');
    const send = (cookie) => srv.request('/token', {
      method: 'POST', json: { grant_type: 'refresh_token', client_id: 'spa-short' },
      headers: { origin: APP, cookie: `jotd-refresh-spa-short=${cookie}` },
    });
    let r = await send(s.cookie);
    assert.equal(r.status, 200, describeResponse(r));
    const next = cookieValue(r, 'jotd-refresh-spa-short');
    await sleep(2500);
    r = await send(s.cookie);
    assert.equal(r.status, 400, describeResponse(r));
    assert.match(r.json.error_description, /reused/);
    assert.match(cookieLine(r, 'jotd-refresh-spa-short') ?? '', /Max-Age=0/, 'the dead cookie is cleared');
    r = await send(next);
    assert.equal(r.status, 400, 'the successor died with the session');
    assert.match(cookieLine(r, 'jotd-refresh-spa-short') ?? '', /Max-Age=0/);
  });
});

// ---- /logout ----------------------------------------------------------------------------------

describe('/logout and the refresh cookie', () => {
  test('with the bearer: 204, the cookie cleared (Max-Age=0, same Path), the session gone', async () => {
    const s = await passwordSession();
    const r = await srv.request('/logout', { method: 'POST', headers: { origin: APP, authorization: bearer(s.access) } });
    assert.equal(r.status, 204, describeResponse(r));
    const line = cookieLine(r);
    assert.ok(line, describeResponse(r));
    assert.match(line, /^jotd-refresh-spa=;/);
    assert.match(line, /Max-Age=0/);
    assert.match(line, /Path=\/auth\/token/);
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    const again = await refreshFromPage(s.cookie);
    assert.equal(again.status, 400, describeResponse(again));
    assert.equal(again.json.error, 'invalid_grant');
  });

  test('with the cookie (client_id in a JSON body): the session ends; not from another origin or unpreflighted', async () => {
    const s = await passwordSession();
    const send = (o) => srv.request('/logout', { method: 'POST', ...o });
    let r = await send({ json: { client_id: 'spa' }, headers: { origin: EVIL, cookie: `${COOKIE}=${s.cookie}` } });
    assert.equal(r.status, 403, describeResponse(r));
    r = await send({ form: { client_id: 'spa' }, headers: { origin: APP, cookie: `${COOKIE}=${s.cookie}` } });
    assert.equal(r.status, 403, describeResponse(r));
    r = await refreshFromPage(s.cookie);
    assert.equal(r.status, 200, 'the refusals ended nothing');
    const cur = cookieValue(r);
    r = await send({ json: { client_id: 'spa' }, headers: { origin: APP, cookie: `${COOKIE}=${cur}` } });
    assert.equal(r.status, 204, describeResponse(r));
    assert.match(cookieLine(r) ?? '', /Max-Age=0/);
    r = await refreshFromPage(cur);
    assert.equal(r.status, 400, describeResponse(r));
  });
});

// ---- CORS -------------------------------------------------------------------------------------

describe('CORS', () => {
  const PATHS = [['/token', 'POST'], ['/revoke', 'POST'], ['/logout', 'POST'], ['/userinfo', 'GET, POST']];

  test('preflight: 204 with the headers for an allowed origin of a public client (cookie mode or not)', async () => {
    await waitOrigin('https://plain.e2e.test');
    for (const origin of [APP, 'http://localhost:5173', 'https://plain.e2e.test']) {
      for (const [p, methods] of PATHS) {
        const r = await srv.request(p, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
        assert.equal(r.status, 204, `${origin} ${p}: ${describeResponse(r)}`);
        assert.equal(r.headers.get('access-control-allow-origin'), origin);
        assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
        assert.equal(r.headers.get('access-control-allow-methods'), methods);
        assert.equal(r.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, X-Requested-With, DPoP');
        assert.equal(r.headers.get('access-control-max-age'), '600');
        assert.match(r.headers.get('vary') ?? '', /Origin/);
      }
    }
  });

  test('preflight: 403 without any Access-Control-* header for other origins (a confidential client\'s too)', async () => {
    for (const origin of [EVIL, 'https://svc.e2e.test', `${APP}/`, 'null', 'HTTPS://APP.E2E.TEST', undefined]) {
      for (const [p] of PATHS) {
        const headers = { 'access-control-request-method': 'POST' };
        if (origin) headers.origin = origin;
        const r = await srv.request(p, { method: 'OPTIONS', headers });
        assert.equal(r.status, 403, `${origin} ${p}: ${describeResponse(r)}`);
        const ac = [...r.headers.keys()].filter((k) => k.startsWith('access-control-'));
        assert.deepEqual(ac, [], `${origin} ${p}`);
      }
    }
  });

  test('actual requests: the exact origin with credentials for allowed origins, nothing for others', async () => {
    const s = await passwordSession();
    for (const [origin, allowed] of [[APP, true], ['https://plain.e2e.test', true], [EVIL, false], ['https://svc.e2e.test', false]]) {
      const rs = [
        await srv.request('/userinfo', { headers: { origin, authorization: bearer(s.access) } }),
        await srv.request('/revoke', { method: 'POST', form: { token: 'unknown-token', client_id: 'plain' }, headers: { origin } }),
        await srv.request('/token', { method: 'POST', form: { grant_type: 'password', client_id: 'plain', username: 'sam', password: 'wrong-pw-1' }, headers: { origin } }),
        await srv.request('/logout', { method: 'POST', form: {}, headers: { origin } }),
      ];
      for (const r of rs) {
        assert.equal(r.headers.get('access-control-allow-origin'), allowed ? origin : null, `${origin}: ${describeResponse(r)}`);
        assert.equal(r.headers.get('access-control-allow-credentials'), allowed ? 'true' : null);
        assert.match(r.headers.get('vary') ?? '', /Origin/);
      }
    }
    const r = await srv.request('/userinfo', { method: 'POST', headers: { origin: APP, authorization: bearer(s.access) } });
    assert.equal(r.status, 200, `POST /userinfo (OIDC Core §5.3.1): ${describeResponse(r)}`);
  });

  test('a change of a client\'s origins reaches the preflight (client update, the events poll)', async () => {
    const r = srv.cmd(['client', 'update', 'plain', '--allowed-origin', 'https://plain2.e2e.test']);
    assert.equal(r.status, 0, show(r));
    await waitOrigin('https://plain2.e2e.test');
    await waitOrigin('https://plain.e2e.test', 403);
    srv.cmd(['client', 'update', 'plain', '--allowed-origin', 'https://plain.e2e.test']);
    await waitOrigin('https://plain.e2e.test');
  });

  test('the JWKS, the metadata and the status lists: Access-Control-Allow-Origin *, no credentials', async () => {
    const s = await passwordSession();
    const claims = JSON.parse(Buffer.from(s.access.split('.')[1], 'base64url'));
    const list = new URL(claims.status.status_list.uri).pathname.replace(/^\/auth/, '');
    for (const p of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', list]) {
      const r = await srv.request(p, { headers: { origin: EVIL } });
      assert.equal(r.status, 200, `${p}: ${describeResponse(r)}`);
      assert.equal(r.headers.get('access-control-allow-origin'), '*', p);
      assert.equal(r.headers.get('access-control-allow-credentials'), null, p);
    }
  });
});

// ---- examples/spa -----------------------------------------------------------------------------

describe('examples/spa (static checks; the real browser runs it in the Chromium suite)', () => {
  const dir = new URL('../../examples/spa/', import.meta.url);
  const read = (f) => fs.readFileSync(new URL(f, dir), 'utf8');

  test('no external asset, no build step: every src/href is a local file; the ids the browser test uses', () => {
    const html = read('index.html');
    for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) {
      assert.ok(!/^[a-z]+:|^\/\//i.test(m[1]), `external asset ${m[1]}`);
      assert.ok(fs.existsSync(new URL(m[1], dir)), `missing ${m[1]}`);
    }
    for (const id of ['signin', 'signout', 'call', 'user', 'api-result', 'status']) assert.match(html, new RegExp(`id="${id}"`), id);
    assert.doesNotMatch(html, /<script>[^<]/, 'no inline script (a strict CSP works)');
    assert.doesNotMatch(read('style.css'), /@import|url\(/, 'no external style resource');
  });

  test('the access token in memory only; PKCE S256 and state; credentials: include', () => {
    const js = read('app.js').split('\n').filter((l) => !l.trim().startsWith('//')).join('\n'); // code, not comments
    assert.doesNotMatch(js, /localStorage/, 'never localStorage');
    assert.doesNotMatch(js, /document\.cookie/);
    assert.doesNotMatch(js, /sessionStorage\.setItem\([^)]*[Tt]oken/, 'no token in sessionStorage');
    assert.match(js, /code_challenge_method: 'S256'/);
    assert.match(js, /p\.get\('state'\) !== pending\.state/);
    assert.match(js, /credentials: 'include'/);
    assert.doesNotMatch(js, /refresh_token:/, 'never sends a refresh token itself');
    const cfg = read('config.js');
    assert.match(cfg, /window\.JOT_CONFIG = \{/);
    for (const k of ['issuer', 'clientId', 'redirectUri', 'api']) assert.match(cfg, new RegExp(`\\b${k}:`), k);
  });
});
