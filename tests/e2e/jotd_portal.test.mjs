// The forward-auth portal end to end, as committed: nginx running examples/portal/nginx.conf
// (its placeholders substituted) over HTTPS with a throwaway CA made here with the openssl
// CLI, jotd behind it (--insecure-http --trusted-proxy --cookie-domain jot.test, a short
// --access-ttl), and examples/resource-server as the protected app (--token-header
// X-Auth-Token). The walk of a browser, with the cookies kept by hand (a jar that honours
// Domain, host-only cookies and Max-Age): no cookie -> 302 to the login page with rd ->
// the form -> 303 back with the access cookie -> the app shows the user from the token it
// verified -> client-sent X-Auth-* never reach it -> the access cookie expires -> a silent
// refresh (no form) -> logout clears every cookie -> the old access cookie is refused.
// Open-redirect attempts never produce a Location off the cookie domain.
//
// Host names: nginx listens on 127.0.0.1; every request names its host in SNI (servername)
// and Host. The resource server fetches jotd's JWKS and status lists from
// https://auth.jot.test:PORT through a CONNECT proxy in this file (libcurl honours
// https_proxy), which maps every name to 127.0.0.1: no /etc/hosts, no DNS.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JOT_BIN, Jotd, describeResponse, httpRequest, mkTmp, rmTmp, sleep } from './lib/jotd.mjs';
import { testCA } from './lib/browser.mjs';
import { NGINX_BIN, freePort, requireNginx, wrap } from './lib/nginx.mjs';

requireNginx('jotd_portal');
const RS = path.join(JOT_BIN, 'resource-server');
if (!fs.existsSync(RS)) {
  const msg = `SKIP: jotd_portal: ${RS} not built (libjot without libcurl: Debian libcurl4-openssl-dev)`;
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}

const SRC = path.resolve(process.env.JOT_SOURCE_DIR ?? '../..');
const RECIPE = path.join(SRC, 'examples', 'portal', 'nginx.conf');
const ACCESS_TTL = 2;
const PASSWORD = 'portal-password-1';
const AUTH = 'auth.jot.test';
const APP = 'app.jot.test';

/** The recipe with its placeholders substituted. */
function substitute(text, v) {
  let out = text;
  for (const [k, val] of Object.entries(v)) out = out.replaceAll(`@${k}@`, val);
  assert.doesNotMatch(out, /@[A-Z_]+@/, 'every placeholder substituted');
  return out;
}

// ---- a browser's cookie jar ------------------------------------------------------------------

class Jar {
  constructor() {
    this.c = []; // {name, value, domain (null: host-only), host, expires, line}
  }
  take(host, r) {
    for (const line of r.headers.getSetCookie()) {
      const [nv, ...attrs] = line.split(';').map((s) => s.trim());
      const i = nv.indexOf('=');
      const name = nv.slice(0, i);
      const value = nv.slice(i + 1);
      let domain = null;
      let expires = Infinity;
      for (const a of attrs) {
        const [k, v] = a.split('=');
        if (/^domain$/i.test(k)) domain = v.toLowerCase().replace(/^\./, '');
        if (/^max-age$/i.test(k)) expires = Date.now() + Number(v) * 1000;
      }
      if (domain && !(host === domain || host.endsWith('.' + domain))) continue; // a browser refuses it
      this.c = this.c.filter((x) => !(x.name === name && x.domain === domain && (domain || x.host === host)));
      if (expires > Date.now()) this.c.push({ name, value, domain, host, expires, line });
    }
    return r;
  }
  header(host) {
    const now = Date.now();
    return this.c
      .filter((x) => x.expires > now && (x.domain ? host === x.domain || host.endsWith('.' + x.domain) : x.host === host))
      .map((x) => `${x.name}=${x.value}`)
      .join('; ');
  }
  get(name) {
    return this.c.find((x) => x.name === name && x.expires > Date.now())?.value;
  }
}

// ---- the parts -------------------------------------------------------------------------------

let dir, certs, port, jotd, rs, tap, nginx, proxy;
let tapped = []; // request headers the app's upstream received, newest last
const logs = { nginx: '', rs: '' };

/** One HTTPS request to nginx for \p host (SNI and Host), answered in full. */
function req(host, p, { method = 'GET', headers = {}, form } = {}) {
  const h = { host: `${host}:${port}`, ...headers };
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
    h['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const r = https.request({ host: '127.0.0.1', port, servername: host, ca: certs.ca, path: p, method, headers: h, agent: false, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const hs = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of Array.isArray(v) ? v : [v]) hs.append(k, one);
        resolve({ status: res.statusCode, headers: hs, text });
      });
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`timeout: ${method} ${host}${p}`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** A request of the browser \p jar to \p url (https://host:port/path): cookies sent and kept. */
async function browse(jar, url, opts = {}) {
  const u = new URL(url);
  assert.equal(u.port, String(port), url);
  const headers = { ...(opts.headers ?? {}) };
  const c = jar.header(u.hostname);
  if (c) headers.cookie = c;
  return jar.take(u.hostname, await req(u.hostname, u.pathname + u.search, { ...opts, headers }));
}

const csrfOf = (html) => html.match(/<input type="hidden" name="csrf" value="([A-Za-z0-9_-]{43})">/)?.[1];
const rdOf = (html) => html.match(/<input type="hidden" name="rd" value="([^"]*)">/)?.[1];
const cookieLine = (r, name) => r.headers.getSetCookie().find((l) => l.startsWith(`${name}=`));

before(async () => {
  dir = mkTmp('jotd-portal-');
  if (process.getuid?.() === 0) fs.chmodSync(dir, 0o711); // nginx's worker (nobody) reaches its temp paths
  certs = testCA(path.join(dir, 'ca'));
  certs.ca = fs.readFileSync(certs.caFile);
  port = await freePort();
  const issuer = `https://${AUTH}:${port}`;
  jotd = await Jotd.start({
    issuer,
    args: ['--insecure-http', '--trusted-proxy', '127.0.0.1/32', '--cookie-domain', 'jot.test', '--access-ttl', `${ACCESS_TTL}s`],
  });
  jotd.addUser('alice', PASSWORD);

  // the CONNECT proxy of the resource server's fetches: every name is 127.0.0.1
  proxy = http.createServer();
  proxy.on('connect', (r, sock, head) => {
    const [, p] = r.url.split(':');
    const up = net.connect(Number(p), '127.0.0.1', () => {
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => sock.destroy());
    sock.on('error', () => up.destroy());
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));

  rs = spawn(RS, ['--issuer', issuer, '--audience', issuer, '--listen', '127.0.0.1:0', '--ca-file', certs.caFile, '--cache-min', '1', '--cooldown', '1',
    '--token-header', 'X-Auth-Token', '--signout-url', `${issuer}/login`], {
    env: { ...process.env, https_proxy: `http://127.0.0.1:${proxy.address().port}`, HTTPS_PROXY: '', no_proxy: '', NO_PROXY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rs.stdout.setEncoding('utf8').on('data', (d) => (logs.rs += d));
  rs.stderr.setEncoding('utf8').on('data', (d) => (logs.rs += d));
  let m;
  for (const t0 = Date.now(); !(m = logs.rs.match(/listening on (http:\/\/\S+)/)); await sleep(20))
    assert.ok(Date.now() - t0 < 10_000, `resource-server did not start: ${logs.rs}`);
  const rsBase = new URL(m[1]);

  // the app's upstream as nginx sees it: a tap that records the headers, then the resource server
  tap = http.createServer((r, res) => {
    tapped.push(r.headers);
    const up = http.request({ host: rsBase.hostname, port: rsBase.port, path: r.url, method: r.method, headers: r.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', (e) => res.destroy(e));
    r.pipe(up);
  });
  await new Promise((r) => tap.listen(0, '127.0.0.1', r));

  const conf = substitute(fs.readFileSync(RECIPE, 'utf8'), {
    AUTH_HOST: AUTH,
    APP_HOST: APP,
    PORT: String(port),
    CERT: certs.certFile,
    KEY: certs.keyFile,
    JOTD: `127.0.0.1:${jotd.port}`,
    APP: `127.0.0.1:${tap.address().port}`,
  });
  fs.writeFileSync(path.join(dir, 'portal.conf'), conf);
  fs.writeFileSync(path.join(dir, 'nginx.conf'), wrap(dir, `    include ${dir}/portal.conf;`));
  const ngArgs = ['-p', dir + '/', '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  execFileSync(NGINX_BIN, [...ngArgs, '-t'], { stdio: 'pipe' }); // `nginx -t` of the recipe as committed
  nginx = spawn(NGINX_BIN, [...ngArgs, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stderr.setEncoding('utf8').on('data', (d) => (logs.nginx += d));
  for (const t0 = Date.now(); ; await sleep(50)) {
    try {
      const r = await req(AUTH, '/healthz');
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    assert.ok(Date.now() - t0 < 10_000, `nginx did not start: ${logs.nginx}`);
  }
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    const gone = new Promise((r) => nginx.on('exit', r));
    nginx.kill('SIGQUIT');
    await Promise.race([gone, sleep(5000)]);
    if (nginx.exitCode === null) nginx.kill('SIGTERM');
  }
  if (rs && rs.exitCode === null) rs.kill('SIGTERM');
  tap?.close();
  proxy?.close();
  await jotd?.stop();
  if (dir) rmTmp(dir);
});

// ---- the walk ----------------------------------------------------------------------------------

const appUrl = (p = '/') => `https://${APP}:${port}${p}`;
const authUrl = (p) => `https://${AUTH}:${port}${p}`;

/** Where a 302 from the app says to sign in: the login page with rd = \p want. */
function assertLoginRedirect(r, want) {
  assert.equal(r.status, 302, describeResponse(r));
  const loc = new URL(r.headers.get('location'));
  assert.equal(loc.origin, authUrl(''));
  assert.equal(loc.pathname, '/login');
  assert.equal(loc.searchParams.get('rd'), want);
  return loc.href;
}

/** Sign \p jar in through the app: 302, the form, the post; the 303's answer. */
async function signIn(jar, p = '/') {
  let r = await browse(jar, appUrl(p));
  const login = assertLoginRedirect(r, appUrl(p));
  r = await browse(jar, login);
  assert.equal(r.status, 200, describeResponse(r));
  const csrf = csrfOf(r.text);
  assert.ok(csrf, r.text);
  assert.equal(rdOf(r.text), appUrl(p).replaceAll('&', '&amp;'));
  r = await browse(jar, authUrl('/login'), { method: 'POST', form: { username: 'alice', password: PASSWORD, csrf, rd: appUrl(p) } });
  assert.equal(r.status, 303, describeResponse(r));
  assert.equal(r.headers.get('location'), appUrl(p));
  return r;
}

describe('the portal walk', () => {
  const jar = new Jar();
  let firstAccess;

  test('no cookie: 302 to the login page with rd, the form carries it, form-action allows its origin', async () => {
    const r = await browse(jar, appUrl('/?x=1&y=a%2Fb'));
    const login = assertLoginRedirect(r, appUrl('/?x=1&y=a%2Fb'));
    const f = await browse(jar, login);
    assert.equal(f.status, 200, describeResponse(f));
    assert.equal(rdOf(f.text), appUrl('/?x=1&amp;y=a%2Fb'));
    assert.match(f.headers.get('content-security-policy'), new RegExp(`form-action 'self' https://${APP.replaceAll('.', '\\.')}:${port};`));
    assert.equal(tapped.length, 0, 'nothing reached the app');
  });

  test('login: 303 back to rd with the access cookie (Domain=jot.test, HttpOnly, Secure, SameSite=Lax) and the session cookie', async () => {
    const r = await signIn(jar, '/');
    const a = cookieLine(r, '__Secure-jotd-access');
    assert.ok(a, r.headers.getSetCookie().join('\n'));
    assert.match(a, /; Domain=jot\.test(;|$)/);
    assert.match(a, /; Path=\/(;|$)/);
    assert.match(a, /; HttpOnly(;|$)/);
    assert.match(a, /; Secure(;|$)/);
    assert.match(a, /; SameSite=Lax(;|$)/);
    assert.match(a, new RegExp(`; Max-Age=${ACCESS_TTL}(;|$)`));
    const s = cookieLine(r, '__Host-jotd-session');
    assert.ok(s, r.headers.getSetCookie().join('\n'));
    assert.doesNotMatch(s, /Domain=/, 'the session cookie stays with jotd');
    assert.match(s, /; Secure(;|$)/);
    firstAccess = jar.get('__Secure-jotd-access');
    assert.ok(firstAccess);
    // jotd's own cookies do not go to the app; the access cookie does
    assert.equal(jar.header(APP), `__Secure-jotd-access=${firstAccess}`);
  });

  test('the app shows the user, from the X-Auth-Token its upstream received and verified', async () => {
    tapped = [];
    const r = await browse(jar, appUrl('/'));
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.text, /Signed in as <strong id="user">alice<\/strong>/);
    assert.match(r.text, new RegExp(`<a id="signout" href="https://auth\\.jot\\.test:${port}/login">Sign out</a>`));
    assert.equal(tapped.length, 1);
    const h = tapped[0];
    assert.equal(h['x-auth-token'], firstAccess, 'the access token itself');
    assert.equal(h['x-auth-user'], 'alice');
    assert.ok(h['x-auth-subject']);
    assert.equal(h['x-original-url'], undefined, 'only the check sees it');
  });

  test('client-sent X-Auth-* never reach the app: replaced by what jotd said, or removed', async () => {
    tapped = [];
    const forged = {
      'X-Auth-User': 'admin',
      'X-Auth-Subject': '1',
      'X-Auth-Roles': 'admin',
      'X-Auth-Permissions': 'everything',
      'X-Auth-Scope': 'admin',
      'X-Auth-Client': 'admin-cli',
      'X-Auth-Token': 'forged.token.value',
    };
    const r = await browse(jar, appUrl('/'), { headers: forged });
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.text, /<strong id="user">alice<\/strong>/);
    const h = tapped[0];
    assert.equal(h['x-auth-user'], 'alice');
    assert.notEqual(h['x-auth-subject'], '1');
    assert.equal(h['x-auth-token'], firstAccess);
    assert.notEqual(h['x-auth-permissions'], 'everything');
    assert.notEqual(h['x-auth-client'], 'admin-cli');
    for (const [k, v] of Object.entries(h)) if (k.startsWith('x-auth-')) assert.ok(!Object.values(forged).includes(v) || v === 'alice', `${k}: ${v}`);
    // without a session the forged headers get the login redirect, never the app
    tapped = [];
    const stranger = new Jar();
    const r2 = await browse(stranger, appUrl('/'), { headers: forged });
    assert.equal(r2.status, 302);
    assert.equal(tapped.length, 0);
  });

  test('the resource server verifies a token from the header like a bearer one: a forged one is refused', async () => {
    const base = new URL(logs.rs.match(/listening on (http:\/\/\S+)/)[1]);
    let r = await httpRequest(new URL('/', base), { headers: { 'x-auth-token': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' } });
    assert.equal(r.status, 401, r.text);
    assert.doesNotMatch(r.text, /Signed in/);
    r = await httpRequest(new URL('/', base), { headers: { 'x-auth-token': firstAccess } });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /<strong id="user">alice<\/strong>/);
    r = await httpRequest(new URL('/', base), { headers: { authorization: `Bearer ${firstAccess}` } });
    assert.equal(r.status, 200, r.text);
  });

  test('the access cookie expires: /login?rd= with only the session cookie refreshes silently (no form) and 303s back', async () => {
    await sleep(ACCESS_TTL * 1000 + 300);
    assert.equal(jar.get('__Secure-jotd-access'), undefined, 'the browser dropped it (Max-Age)');
    let r = await browse(jar, appUrl('/page?n=2'));
    const login = assertLoginRedirect(r, appUrl('/page?n=2'));
    const oldSession = jar.get('__Host-jotd-session');
    r = await browse(jar, login);
    assert.equal(r.status, 303, describeResponse(r));
    assert.equal(r.headers.get('location'), appUrl('/page?n=2'));
    assert.ok(cookieLine(r, '__Secure-jotd-access'), 'a new access cookie');
    assert.notEqual(jar.get('__Host-jotd-session'), oldSession, 'the refresh token rotated');
    assert.notEqual(jar.get('__Secure-jotd-access'), firstAccess);
    r = await browse(jar, appUrl('/'));
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.text, /<strong id="user">alice<\/strong>/);
    await jotd.waitLog((l) => l.event === 'refresh' && l.client_id === 'default');
  });

  test('logout clears every cookie; the old access cookie replayed is refused (401)', async () => {
    const oldAccess = jar.get('__Secure-jotd-access');
    let r = await browse(jar, authUrl('/login'));
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.text, /Signed in/);
    r = await browse(jar, authUrl('/logout'), { method: 'POST', form: { csrf: csrfOf(r.text) } });
    assert.equal(r.status, 303, describeResponse(r));
    const cleared = r.headers.getSetCookie();
    for (const name of ['__Host-jotd-session', '__Host-jotd-csrf', '__Secure-jotd-access'])
      assert.ok(cleared.some((l) => l.startsWith(`${name}=;`) && /Max-Age=0/.test(l)), `${name} cleared: ${cleared.join('\n')}`);
    assert.ok(cleared.some((l) => l.startsWith('__Secure-jotd-access=;') && /Domain=jot\.test/.test(l)), 'with the Domain it was set with');
    assert.equal(jar.header(APP), '');
    assert.equal(jar.header(AUTH), '');
    r = await browse(jar, appUrl('/'));
    assertLoginRedirect(r, appUrl('/'));
    // the old cookie, replayed (curl would do the same): jotd refuses it, nginx does not let it in
    r = await req(APP, '/', { headers: { cookie: `__Secure-jotd-access=${oldAccess}` } });
    assert.equal(r.status, 302, describeResponse(r));
    r = await jotd.request('/verify', { headers: { cookie: `__Secure-jotd-access=${oldAccess}` } });
    assert.equal(r.status, 401, describeResponse(r));
    assert.match(r.headers.get('www-authenticate'), /invalid_token/);
  });
});

describe('silent refresh: the shared rotation and its grace window', () => {
  // jotd runs with the server's default --refresh-grace (0): the portal client's sessions get
  // the browser grace window (10 s) of their own, or the second tab would revoke the session
  test('two tabs refreshing at once with the same session cookie both go back signed in; the session lives on', async () => {
    const jar = new Jar();
    await signIn(jar, '/');
    const before = jotd.logs().filter((l) => l.event === 'refresh_grace').length;
    const cookie = `__Host-jotd-session=${jar.get('__Host-jotd-session')}`;
    const login = authUrl(`/login?rd=${encodeURIComponent(appUrl('/'))}`);
    const [a, b] = await Promise.all([req(AUTH, new URL(login).pathname + new URL(login).search, { headers: { cookie } }),
      req(AUTH, new URL(login).pathname + new URL(login).search, { headers: { cookie } })]);
    for (const r of [a, b]) {
      assert.equal(r.status, 303, describeResponse(r));
      assert.equal(r.headers.get('location'), appUrl('/'));
    }
    const next = (r) => cookieLine(r, '__Host-jotd-session').split(';')[0];
    assert.equal(next(a), next(b), 'within the grace window both get the one successor');
    await jotd.waitLog((l) => l.event === 'refresh_grace' && l.client_id === 'default');
    assert.equal(jotd.logs().filter((l) => l.event === 'refresh_grace').length, before + 1);
    assert.equal(jotd.logs().filter((l) => l.event === 'refresh_reuse_detected').length, 0);
    jar.take(AUTH, a);
    const r = await browse(jar, appUrl('/'));
    assert.equal(r.status, 200, describeResponse(r));
  });
});

describe('development: plain HTTP on loopback', () => {
  test('--cookie-domain localhost: a host-only cookie without prefix and Secure; /verify reads it', async () => {
    const p = await freePort();
    const dev = await Jotd.start({ issuer: `http://localhost:${p}`, listen: `127.0.0.1:${p}`, args: ['--cookie-domain', 'localhost'] });
    try {
      dev.addUser('bob', PASSWORD);
      const jar = new Jar();
      const rd = 'http://localhost:8081/app?x=1';
      let r = jar.take('localhost', await dev.request(`/login?rd=${encodeURIComponent(rd)}`));
      assert.equal(r.status, 200, describeResponse(r));
      assert.equal(rdOf(r.text), rd.replaceAll('&', '&amp;'));
      r = jar.take('localhost', await dev.request('/login', { method: 'POST', form: { username: 'bob', password: PASSWORD, csrf: csrfOf(r.text), rd }, headers: { cookie: jar.header('localhost') } }));
      assert.equal(r.status, 303, describeResponse(r));
      assert.equal(r.headers.get('location'), rd);
      const a = cookieLine(r, 'jotd-access');
      assert.ok(a, r.headers.getSetCookie().join('\n'));
      assert.doesNotMatch(a, /Domain=/, 'host-only: the same scope as Domain=localhost, kept by every browser');
      assert.doesNotMatch(a, /Secure/);
      r = await dev.request('/verify', { headers: { cookie: `jotd-access=${jar.get('jotd-access')}` } });
      assert.equal(r.status, 200, describeResponse(r));
      assert.equal(r.headers.get('x-auth-user'), 'bob');
      // http:// is accepted here, but still only for the cookie domain
      r = await dev.request(`/login?rd=${encodeURIComponent('http://127.0.0.1:8081/')}`);
      assert.equal(rdOf(r.text), undefined);
    } finally {
      await dev.stop();
    }
  });

  test('jotd refuses to start with a cookie domain its host is not under, naming the flag', async () => {
    const p = await freePort();
    await assert.rejects(
      Jotd.start({ issuer: `http://localhost:${p}`, listen: `127.0.0.1:${p}`, args: ['--cookie-domain', 'jot.test'] }),
      /--cookie-domain/,
    );
  });
});

describe('/verify with the cookie', () => {
  test('a bad cookie: 401; with an acceptable X-Original-URL a Location to the login page', async () => {
    for (const bad of ['x', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.', 'a'.repeat(5000)]) {
      let r = await jotd.request('/verify', { headers: { cookie: `__Secure-jotd-access=${bad}` } });
      assert.equal(r.status, 401, describeResponse(r));
      assert.equal(r.headers.get('location'), null);
      assert.equal(r.headers.get('x-auth-token'), null);
      r = await jotd.request('/verify', { headers: { cookie: `__Secure-jotd-access=${bad}`, 'x-original-url': appUrl('/a?b=c') } });
      assert.equal(r.status, 401, describeResponse(r));
      assert.equal(r.headers.get('location'), `${authUrl('/login')}?rd=${encodeURIComponent(appUrl('/a?b=c'))}`);
    }
  });

  test('a bearer token or the cookie: 200 with X-Auth-Token; over HTTPS the unprefixed cookie name is not read', async () => {
    const t = (await jotd.login('alice', PASSWORD)).access_token;
    let r = await jotd.request('/verify', { headers: { authorization: `Bearer ${t}` } });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.headers.get('x-auth-token'), t);
    assert.equal(r.headers.get('x-auth-user'), 'alice');
    r = await jotd.request('/verify', { headers: { cookie: `__Secure-jotd-access=${t}` } });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.headers.get('x-auth-token'), t);
    r = await jotd.request('/verify', { headers: { cookie: `jotd-access=${t}` } });
    assert.equal(r.status, 401, 'over HTTPS the cookie carries its __Secure- prefix');
  });

  // A location protected for another audience (auth_request /verify?audience=...) refuses the
  // portal's token, which is for jotd's own audience: a Location to the login page would
  // bring the browser back with a token for the same audience, round and round for ever.
  test('a valid cookie for another audience: 401 without a Location (no redirect loop)', async () => {
    const t = (await jotd.login('alice', PASSWORD)).access_token;
    const r = await jotd.request(`/verify?audience=${encodeURIComponent('https://orders.jot.test')}`, {
      headers: { cookie: `__Secure-jotd-access=${t}`, 'x-original-url': appUrl('/orders') } });
    assert.equal(r.status, 401, describeResponse(r));
    assert.match(r.headers.get('www-authenticate'), /invalid_token/);
    assert.equal(r.headers.get('location'), null);
  });
});

describe('open redirects', () => {
  const HOSTILE = [
    'https://evil.com/',
    'https://evil.com?.jot.test',
    'https://jot.test.evil.com/',
    'https://jot.test@evil.com/',
    'https://app.jot.test\\@evil.com/',
    '//evil.com/',
    '/\\evil.com',
    'javascript:alert(1)//.jot.test',
    'http://app.jot.test/',
    'https://APP.JOT.TEST/',
    'https://[::1]/',
    'https://app.jot.test%2eevil.com/',
    'https://app.jot.test/\u2028',
    `https://app.jot.test/${'a'.repeat(2100)}`,
    'app.jot.test/',
  ];

  test('/login?rd=: anything off the cookie domain is ignored (the form without it), audited redirect_refused', async () => {
    for (const rd of HOSTILE) {
      const jar = new Jar();
      const r = await browse(jar, authUrl(`/login?rd=${encodeURIComponent(rd)}`));
      assert.equal(r.status, 200, `${rd}: ${describeResponse(r)}`);
      assert.equal(r.headers.get('location'), null);
      assert.equal(rdOf(r.text), undefined, rd);
      assert.match(r.headers.get('content-security-policy'), /form-action 'self';/);
    }
    await jotd.waitLog((l) => l.event === 'redirect_refused' && l.rd === 'https://evil.com/');
  });

  test('signed in, a hostile rd gets no redirect (neither silent refresh nor after the form)', async () => {
    const jar = new Jar();
    await signIn(jar, '/');
    for (const rd of HOSTILE) {
      let r = await browse(jar, authUrl(`/login?rd=${encodeURIComponent(rd)}`));
      assert.equal(r.status, 200, `${rd}: ${describeResponse(r)}`);
      assert.equal(r.headers.get('location'), null, rd);
      r = await browse(jar, authUrl('/login'), { method: 'POST', form: { username: 'alice', password: PASSWORD, csrf: csrfOf(r.text), rd } });
      assert.equal(r.status, 303, describeResponse(r));
      assert.equal(r.headers.get('location'), '/login', rd);
    }
  });

  test('/verify: a hostile X-Original-URL gets no Location; nginx then answers 401, not a redirect', async () => {
    for (const u of HOSTILE.filter((h) => /^[\x20-\x7e]*$/.test(h))) {
      const r = await jotd.request('/verify', { headers: { 'x-original-url': u } });
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('location'), null, u);
    }
    // a Host the browser would never send (capitals): nginx matches the server, jotd refuses the URL
    const r = await req('APP.JOT.TEST', '/');
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal(r.headers.get('location'), null);
  });
});

test('docs/browser.md holds examples/portal/nginx.conf verbatim', () => {
  const doc = fs.readFileSync(path.join(SRC, 'docs', 'browser.md'), 'utf8');
  const recipe = fs.readFileSync(RECIPE, 'utf8');
  assert.ok(doc.includes('```nginx\n' + recipe + '```\n'), 'docs/browser.md: the recipe in a ```nginx block, as committed');
});
