// jotd in a real browser: headless Chromium from Debian driven by playwright-core
// (lib/browser.mjs), HTTPS through a real nginx with a CA made for this run, host names under
// jot.test mapped to loopback inside Chromium. What a unit or HTTP-level test cannot show:
// what a browser does with jotd's headers, cookies, redirects and CORS answers.
//
//   auth.jot.test    jotd (--insecure-http behind nginx, --trusted-proxy 127.0.0.1/32)
//   app.jot.test     the forward-auth portal: examples/resource-server behind auth_request
//   spa.jot.test     examples/spa as static files (a copy, with this run's config.js), its
//                    API (/api/) the resource server
//   client.jot.test  a static callback page for the code flow driven by the browser
//   evil.jot.test    another origin (same site, so SameSite alone protects nothing there)
//
// All on one nginx port (name-based vhosts). The portal's nginx config is the committed
// recipe examples/portal/nginx.conf with its placeholders filled in (a provisional copy of the
// agreed recipe below until that file exists); the other vhosts are this test's own.
//
// The resource server (C, libcurl) fetches jotd's JWKS and status lists from the issuer,
// https://auth.jot.test:PORT, a name only Chromium resolves: it gets an HTTPS proxy from its
// environment (https_proxy, which libcurl honours), a CONNECT proxy in this file that sends
// *.jot.test to 127.0.0.1 and nothing else anywhere; TLS stays end to end (--ca-file).
//
// Screenshots (login page: empty, wrong password, throttled; and the steps of the portal and
// SPA scenarios) go to build/test-artifacts/browser/ (or $JOT_ARTIFACTS).
//
// The portal (issue 14 part 4: --cookie-domain) and the SPA (part 3: cookie-mode clients,
// examples/spa/) are skipped with a message when this build does not have them.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireChromium, testCA, launchChromium, screenshot, collectProblems, loginPageShots, artifactDir, REPO } from './lib/browser.mjs';
import { JOT_BIN, JOTD, Jotd, httpRequest, mkTmp, show, sleep } from './lib/jotd.mjs';
import { Nginx, freePort, requireNginx } from './lib/nginx.mjs';

requireChromium('jotd_chromium');
requireNginx('jotd_chromium');

const oauth = await import('oauth4webapi');

const RS = path.join(JOT_BIN, 'resource-server');
const PASSWORD = 'chromium-password-1';
const ACCESS_TTL = 3; // seconds: the portal waits it out once
const WAIT = 30_000; // every wait in a browser
const RECIPE = path.join(REPO, 'examples/portal/nginx.conf');
const SPA_DIR = path.join(REPO, 'examples/spa');

// ---- what this build has --------------------------------------------------------------------

const helpOf = (args) => {
  const r = spawnSync(JOTD, args, { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`;
};
const rsUsage = () => {
  if (!fs.existsSync(RS)) return '';
  const r = spawnSync(RS, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`;
};
const HAVE_RS = fs.existsSync(RS);
const PORTAL_MISSING = !/--cookie-domain/.test(helpOf(['serve', '--help']))
  ? 'jotd serve has no --cookie-domain (issue 14 part 4, the forward-auth portal)'
  : !HAVE_RS ? `${RS} not built (libcurl missing)`
  : !/--token-header/.test(rsUsage()) ? 'examples/resource-server has no --token-header (issue 14 part 4)'
  : null;
const SPA_MISSING = !/--cookie-mode/.test(helpOf(['client', 'add', '--help']))
  ? 'jotd client add has no --cookie-mode (issue 14 part 3, cookie mode for SPAs)'
  : !fs.existsSync(path.join(SPA_DIR, 'index.html')) ? 'examples/spa/index.html does not exist (issue 14 part 3)'
  : !HAVE_RS ? `${RS} not built (libcurl missing)`
  : null;

// ---- the world: CA, jotd, a CONNECT proxy, the resource server, nginx, Chromium --------------

let tmp, ca, other, port, srv, rs, proxy, nginx, browser;
const origin = (host) => `https://${host}.jot.test:${port}`;

/** A request from node to a *.jot.test URL through nginx (127.0.0.1:port), TLS checked
 *  against the test CA with the URL's name: { status, headers, text, json }. */
function jotTest(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(u, {
      method, headers, ca: fs.readFileSync(ca.caFile), agent: false, timeout: 30_000,
      lookup: (host, opts, cb) => (opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) for (const one of [].concat(v)) h.append(k, one);
        resolve({ status: res.statusCode, headers: h, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** fetch() for oauth4webapi: the same, as a Response. */
async function jotFetch(url, init = {}) {
  const headers = Object.fromEntries(new Headers(init.headers));
  const body = init.body === undefined ? undefined : String(init.body);
  const r = await jotTest(String(url), { method: init.method ?? 'GET', headers, body });
  return new Response(r.text, { status: r.status, headers: r.headers });
}

/** An HTTP CONNECT proxy on 127.0.0.1 that tunnels to *.jot.test (as 127.0.0.1) only. */
function startConnectProxy() {
  const s = http.createServer((req, res) => {
    res.writeHead(405);
    res.end();
  });
  s.on('connect', (req, client, head) => {
    const m = /^([a-z0-9.-]+):(\d+)$/i.exec(req.url);
    if (!m || !/(^|\.)jot\.test$/i.test(m[1])) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const up = net.connect(Number(m[2]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head?.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** examples/resource-server against the issuer, through the CONNECT proxy. */
async function startResourceServer(extra) {
  const out = { text: '', err: '' };
  const p = spawn(RS, ['--issuer', srv.issuer, '--audience', srv.audience, '--listen', '127.0.0.1:0', '--ca-file', ca.caFile,
    '--cache-min', '1', '--cooldown', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, https_proxy: `http://127.0.0.1:${proxy.address().port}`, HTTPS_PROXY: '', no_proxy: '', NO_PROXY: '' },
  });
  p.stdout.setEncoding('utf8').on('data', (d) => (out.text += d));
  p.stderr.setEncoding('utf8').on('data', (d) => (out.err += d));
  p.unref();
  process.on('exit', () => p.exitCode === null && p.kill('SIGKILL'));
  const t0 = Date.now();
  let m;
  while (!(m = out.text.match(/listening on http:\/\/(\S+)/))) {
    if (p.exitCode !== null || Date.now() - t0 > WAIT) throw new Error(`resource-server did not start: ${out.text} ${out.err}`);
    await sleep(20);
  }
  return { proc: p, addr: m[1], out };
}

/** The portal recipe as agreed (docs: examples/portal/nginx.conf), used only while that file
 *  does not exist yet; its placeholders are filled in by nginxConfig(). */
const PROVISIONAL_RECIPE = `# provisional copy of examples/portal/nginx.conf (tests/e2e/jotd_chromium.test.mjs)
upstream jotd {
    server @JOTD@;
}
upstream app {
    server @APP@;
}
# jotd itself: its login page, /authorize, /token, ...
server {
    listen 127.0.0.1:@PORT@ ssl;
    server_name @AUTH_HOST@;
    ssl_certificate @CERT@;
    ssl_certificate_key @KEY@;
    location / {
        proxy_pass http://jotd;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
    }
}
# the protected app: every request asks jotd first
server {
    listen 127.0.0.1:@PORT@ ssl;
    server_name @APP_HOST@;
    ssl_certificate @CERT@;
    ssl_certificate_key @KEY@;
    location = /_jotd_verify {
        internal;
        proxy_pass http://jotd/verify;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URL https://$http_host$request_uri;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
    }
    location @login {
        return 302 $login;
    }
    location / {
        auth_request /_jotd_verify;
        auth_request_set $login $upstream_http_location;
        auth_request_set $auth_user $upstream_http_x_auth_user;
        auth_request_set $auth_subject $upstream_http_x_auth_subject;
        auth_request_set $auth_client $upstream_http_x_auth_client;
        auth_request_set $auth_scope $upstream_http_x_auth_scope;
        auth_request_set $auth_roles $upstream_http_x_auth_roles;
        auth_request_set $auth_permissions $upstream_http_x_auth_permissions;
        auth_request_set $auth_token $upstream_http_x_auth_token;
        error_page 401 = @login;
        proxy_set_header X-Auth-User $auth_user;
        proxy_set_header X-Auth-Subject $auth_subject;
        proxy_set_header X-Auth-Client $auth_client;
        proxy_set_header X-Auth-Scope $auth_scope;
        proxy_set_header X-Auth-Roles $auth_roles;
        proxy_set_header X-Auth-Permissions $auth_permissions;
        proxy_set_header X-Auth-Token $auth_token;
        proxy_pass http://app;
    }
}
`;

/** The static files of this test's own vhosts (readable by nginx's worker). */
function writeStatic(dir) {
  const www = path.join(dir, 'www');
  fs.mkdirSync(www, { recursive: true, mode: 0o755 });
  fs.chmodSync(www, 0o755);
  const put = (name, text) => fs.writeFileSync(path.join(www, name), text, { mode: 0o644 });
  put('cb.html', '<!doctype html><html lang="en"><title>callback</title><p id="cb">callback</p></html>\n');
  put('evil.html', '<!doctype html><html lang="en"><title>another origin</title><p id="evil">another origin</p></html>\n');
  if (!SPA_MISSING) {
    // a copy: nginx's worker (nobody, when we are root) may not reach into the source tree
    // (a clone under /root is 0700 in CI); its config.js is this run's
    const spa = path.join(www, 'spa');
    fs.cpSync(SPA_DIR, spa, { recursive: true });
    fs.writeFileSync(path.join(spa, 'config.js'), `window.JOT_CONFIG = ${JSON.stringify({
      issuer: srv.issuer, clientId: 'spa', redirectUri: `${origin('spa')}/`, api: `${origin('spa')}/api`,
    })};\n`);
    const readable = (d) => {
      fs.chmodSync(d, 0o755);
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) readable(path.join(d, e.name));
        else fs.chmodSync(path.join(d, e.name), 0o644);
      }
    };
    readable(spa);
  }
  return www;
}

/** The whole nginx configuration (inside http {}): the recipe, then this test's vhosts. */
function nginxConfig(www) {
  let recipe = fs.existsSync(RECIPE) ? fs.readFileSync(RECIPE, 'utf8') : PROVISIONAL_RECIPE;
  // a recipe written as a whole nginx.conf: what is inside its http { } block
  const h = /^http\s*\{/m.exec(recipe);
  if (h) recipe = recipe.slice(h.index + h[0].length, recipe.lastIndexOf('}'));
  const fill = {
    '@AUTH_HOST@': 'auth.jot.test', '@APP_HOST@': 'app.jot.test', '@PORT@': String(port),
    '@CERT@': ca.certFile, '@KEY@': ca.keyFile, '@JOTD@': new URL(srv.base).host, '@APP@': rs?.addr ?? '127.0.0.1:9',
  };
  for (const [k, v] of Object.entries(fill)) recipe = recipe.replaceAll(k, v);
  assert.doesNotMatch(recipe, /@[A-Z_]+@/, 'every placeholder of the recipe filled in');
  // name-based vhosts share one listening socket: ours listen as the recipe does (nginx
  // groups server blocks by listen address; a 127.0.0.1:PORT block would shadow *:PORT ones)
  const listen = /^\s*listen\s+([^\s;]+)/m.exec(recipe)?.[1] ?? `127.0.0.1:${port}`;
  const tls = `listen ${listen} ssl;\n        ssl_certificate ${ca.certFile};\n        ssl_certificate_key ${ca.keyFile};`;
  const spa = SPA_MISSING ? '' : `
        location /api/ {
            proxy_pass http://${rs.addr}/;
        }
        location / {
            root ${www}/spa;
            index index.html;
        }`;
  return `${recipe}
    # ---- this test's own vhosts ----
    server {
        server_name client.jot.test;
        ${tls}
        location = /cb { default_type text/html; alias ${www}/cb.html; }
    }
    server {
        server_name evil.jot.test;
        ${tls}
        root ${www};
        location / { default_type text/html; try_files /evil.html =404; }
    }
    # the harness checking itself: a certificate not from this run's CA; a CSP violation
    server {
        server_name untrusted.jot.test;
        listen ${listen} ssl;
        ssl_certificate ${other.certFile};
        ssl_certificate_key ${other.keyFile};
        location / { return 204; }
    }
    server {
        server_name csp.jot.test;
        ${tls}
        location / {
            default_type text/html;
            add_header Content-Security-Policy "default-src 'none'" always;
            return 200 '<!doctype html><title>csp</title><p style="color:red">x</p><img src="/x.png">';
        }
    }
    server {
        server_name spa.jot.test;
        ${tls}${spa}
    }
`;
}

before(async () => {
  tmp = mkTmp('jot-chromium-');
  fs.chmodSync(tmp, 0o711);
  ca = testCA(path.join(tmp, 'ca'));
  other = testCA(path.join(tmp, 'other-ca')); // the same names, another key: not trusted
  port = await freePort();
  const issuer = `https://auth.jot.test:${port}`;
  srv = await Jotd.start({
    issuer,
    args: ['--insecure-http', '--trusted-proxy', '127.0.0.1/32', '--access-ttl', `${ACCESS_TTL}s`, '--status-list-ttl', '1s',
      ...(PORTAL_MISSING ? [] : ['--cookie-domain', 'jot.test'])],
  });
  proxy = await startConnectProxy();
  if (HAVE_RS) rs = await startResourceServer(PORTAL_MISSING ? [] : ['--token-header', 'X-Auth-Token', '--signout-url', `${issuer}/login`]);
  const www = writeStatic(tmp);
  nginx = await Nginx.startServers(() => nginxConfig(www), { port });
  browser = await launchChromium({ spki: ca.spki });
  console.log(`# chromium ${browser.version()}; nginx on ${port}; portal: ${PORTAL_MISSING ?? 'yes'}; spa: ${SPA_MISSING ?? 'yes'}; artefacts in ${artifactDir()}`);
});

after(async () => {
  await browser?.close().catch(() => {});
  await nginx?.stop();
  if (rs && rs.proc.exitCode === null) rs.proc.kill('SIGTERM');
  proxy?.close();
  proxy?.closeAllConnections?.();
  await srv?.stop();
});

/** A new browser context (its own cookie jar) and the list of the problems its pages report. */
async function freshContext() {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const problems = await collectProblems(context);
  return { context, problems };
}

const noProblems = (problems) => assert.deepEqual(problems, [], `the pages reported problems:\n${problems.map((p) => `${p.kind} ${p.url}: ${p.text}`).join('\n')}`);

/** Sign in on jotd's form (the page is on it). */
async function submitLogin(page, user, password = PASSWORD) {
  await page.locator('#username').waitFor({ timeout: WAIT });
  assert.equal(new URL(page.url()).host, `auth.jot.test:${port}`, `the login form is jotd's: ${page.url()}`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation({ timeout: WAIT }), page.click('button[type=submit]')]);
}

// ---- the harness itself ------------------------------------------------------------------------

describe('the harness', () => {
  test('Chromium trusts exactly the leaf named by its SPKI hash: another certificate for the same names fails', async () => {
    const { context } = await freshContext();
    try {
      const page = await context.newPage();
      await assert.rejects(page.goto(`${origin('untrusted')}/`), /ERR_CERT/);
      const ok = await (await context.newPage()).goto(`${origin('evil')}/`);
      assert.equal(ok.status(), 200);
    } finally {
      await context.close();
    }
  });

  test('the resource server reaches jotd at https://auth.jot.test:PORT through the CONNECT proxy', { skip: HAVE_RS ? false : `${RS} not built` }, async () => {
    srv.addUser('rsuser', PASSWORD);
    const t = await srv.login('rsuser', PASSWORD);
    const r = await httpRequest(`http://${rs.addr}/hello`, { headers: { authorization: `Bearer ${t.access_token}` } });
    assert.equal(r.status, 200, `${r.status} ${r.text} ${rs.out.err}`);
    assert.equal(r.json.sub, t.claims.sub);
  });

  test('a CSP violation is caught by the problem collector', async () => {
    const { context, problems } = await freshContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin('csp')}/`);
      const deadline = Date.now() + WAIT;
      while (!problems.some((p) => p.kind === 'csp') && Date.now() < deadline) await sleep(50);
      assert.ok(problems.some((p) => p.kind === 'csp' && /style-src|img-src|default-src/.test(p.text)), JSON.stringify(problems));
    } finally {
      await context.close();
    }
  });
});

// ---- a: the login page ------------------------------------------------------------------------

describe('the login page in Chromium', () => {
  before(() => {
    srv.addUser('alice', PASSWORD);
    srv.addUser('mallory', PASSWORD);
  });

  test('empty, wrong password, throttled: screenshots, the #error alert, nothing blocked by the CSP', async () => {
    const { context, problems } = await freshContext();
    try {
      const page = await context.newPage();
      const r = await page.goto(`${origin('auth')}/login`);
      assert.equal(r.status(), 200);
      assert.match(r.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      // the fields have accessible names (their labels)
      assert.equal(await page.getByLabel('Username').getAttribute('id'), 'username');
      assert.equal(await page.getByLabel('Password').getAttribute('autocomplete'), 'current-password');
      assert.ok(await page.getByRole('button', { name: /sign in/i }).isVisible());
      // the page's own style applies (the CSP hash lets it): the error colour is not default
      await page.close();

      const shots = await loginPageShots(context, `${origin('auth')}/login`, { user: 'mallory', name: 'login' });
      for (const f of Object.values(shots.files)) assert.ok(fs.statSync(f).size > 1000, f);
      console.log(`# screenshots: ${Object.values(shots.files).join(' ')}`);
      assert.match(shots.messages.wrong, /wrong username or password/i);
      assert.match(shots.messages.throttled, /too many failed sign-in attempts/i);
      console.log(`# throttled after ${shots.attempts} wrong passwords`);
      // the alert is announced as one
      const p2 = await context.newPage();
      await p2.goto(`${origin('auth')}/login`);
      await p2.fill('#username', 'alice');
      await p2.fill('#password', 'wrong-password-2');
      await Promise.all([p2.waitForNavigation(), p2.click('button[type=submit]')]);
      assert.match(await p2.getByRole('alert').textContent(), /wrong username or password/i);
      assert.equal(await p2.locator('#username').getAttribute('aria-describedby'), 'error');
      const color = await p2.locator('#error').evaluate((e) => getComputedStyle(e).color);
      assert.notEqual(color, 'rgb(0, 0, 0)', 'the inline style (allowed by its hash) applies');
      noProblems(problems);
    } finally {
      await context.close();
    }
  });

  test('keyboard only: Tab to the fields, Enter signs in', async () => {
    const { context, problems } = await freshContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin('auth')}/login`);
      // the form's first field has the focus (autofocus), or Tab reaches it
      for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.id)) !== 'username'; i++) await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');
      await page.keyboard.type('alice');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
      await page.keyboard.type(PASSWORD);
      await Promise.all([page.waitForNavigation({ timeout: WAIT }), page.keyboard.press('Enter')]);
      assert.equal(await page.locator('#user').textContent(), 'alice');
      // the browser session: an HttpOnly __Host- cookie on jotd's host, never readable by script
      const cookies = await context.cookies(origin('auth'));
      const s = cookies.find((c) => c.name === '__Host-jotd-session');
      assert.ok(s, JSON.stringify(cookies));
      assert.equal(s.httpOnly, true);
      assert.equal(s.secure, true);
      assert.equal(s.sameSite, 'Lax');
      assert.ok(!(await page.evaluate(() => document.cookie)).includes(s.value));
      await screenshot(page, 'login-signed-in');
      noProblems(problems);
    } finally {
      await context.close();
    }
  });
});

// ---- b: the code flow ------------------------------------------------------------------------

describe('authorization code + PKCE in Chromium', () => {
  test('/authorize → the login form → back to the registered redirect URI with code, state, iss; oauth4webapi exchanges the code', async () => {
    srv.addUser('bob', PASSWORD);
    const CB = `${origin('client')}/cb`;
    const r0 = srv.cmd(['client', 'add', 'web', '--public', '--scope', 'profile', '--redirect-uri', CB]);
    assert.equal(r0.status, 0, show(r0));
    const issuer = new URL(srv.issuer);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.customFetch]: jotFetch, algorithm: 'oauth2' }));
    const client = { client_id: 'web' };
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({ client_id: 'web', redirect_uri: CB, response_type: 'code', scope: 'profile', state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' })) url.searchParams.set(k, v);

    const { context, problems } = await freshContext();
    try {
      const page = await context.newPage();
      await page.goto(url.href);
      await submitLogin(page, 'bob');
      await page.waitForURL((u) => u.origin === origin('client'), { timeout: WAIT });
      const landed = new URL(page.url());
      assert.equal(`${landed.origin}${landed.pathname}`, CB);
      assert.equal(landed.searchParams.get('state'), state);
      assert.equal(landed.searchParams.get('iss'), srv.issuer);
      assert.match(landed.searchParams.get('code') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.equal(await page.locator('#cb').textContent(), 'callback');
      const params = oauth.validateAuthResponse(as, client, landed, state);
      const resp = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CB, verifier, { [oauth.customFetch]: jotFetch });
      const result = await oauth.processAuthorizationCodeResponse(as, client, resp);
      const v = await srv.verifyAccess(result.access_token);
      assert.equal(v.payload.client_id, 'web');
      assert.equal(v.payload.scope, 'profile');
      noProblems(problems);
    } finally {
      await context.close();
    }
  });
});

// ---- c: the forward-auth portal --------------------------------------------------------------

/** The value of the first cookie whose name ends with \p suffix, and the cookie. */
async function cookieEnding(context, suffix) {
  const c = (await context.cookies()).find((x) => x.name.endsWith(suffix));
  return c;
}

const jwtExp = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).exp;

describe('the forward-auth portal in Chromium', { skip: PORTAL_MISSING ?? false }, () => {
  test('app → login → the app shows the user → reload → past the access TTL still in (silent refresh) → sign out → login again; the old cookie replayed: 401', async () => {
    srv.addUser('carol', PASSWORD);
    const { context, problems } = await freshContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin('app')}/`);
      // nginx → 401 from /verify → 302 to jotd's form, carrying where we were going
      await page.locator('#username').waitFor({ timeout: WAIT });
      const login = new URL(page.url());
      assert.equal(login.origin, origin('auth'));
      assert.equal(login.pathname, '/login');
      assert.equal(login.searchParams.get('rd'), `${origin('app')}/`);
      await screenshot(page, 'portal-login');
      await submitLogin(page, 'carol');
      await page.waitForURL((u) => u.origin === origin('app'), { timeout: WAIT });
      assert.equal(await page.locator('#user').textContent(), 'carol');
      await screenshot(page, 'portal-app');
      // the access cookie: the whole site's (Domain=jot.test), HttpOnly, Secure, Lax
      let access = await cookieEnding(context, 'jotd-access');
      assert.ok(access, JSON.stringify(await context.cookies()));
      assert.match(access.domain, /^\.?jot\.test$/);
      assert.equal(access.httpOnly, true);
      assert.equal(access.secure, true);
      assert.equal(access.sameSite, 'Lax');
      assert.ok(!(await page.evaluate(() => document.cookie)).includes(access.value));
      // the token replayed by hand passes /verify now (so the 401 after logout means something)
      const replay = (v) => jotTest(`${origin('auth')}/verify`, { headers: { cookie: `${access.name}=${v}` } });
      await page.reload();
      assert.equal(await page.locator('#user').textContent(), 'carol');
      // past the access token's lifetime: the browser drops the cookie (Max-Age), /verify
      // answers 401, jotd's /login refreshes silently from the session cookie and sends it back
      const first = access.value;
      const until = (jwtExp(first) + 1) * 1000;
      await sleep(Math.max(0, until - Date.now()));
      await page.reload();
      await page.waitForURL((u) => u.origin === origin('app'), { timeout: WAIT });
      assert.equal(await page.locator('#user').textContent(), 'carol');
      access = await cookieEnding(context, 'jotd-access');
      assert.ok(access && access.value !== first, 'a new access token after the silent refresh');
      const before = await replay(access.value);
      if (before.status !== 200) assert.ok(Date.now() / 1000 > jwtExp(access.value), `the current cookie passes /verify: ${before.status} ${before.text}`);
      else assert.equal(before.headers.get('x-auth-user'), 'carol');
      // what a client sends as X-Auth-* never reaches the app: nginx sets them from /verify
      const fresh = await srv.login('carol', PASSWORD);
      const forged = await jotTest(`${origin('app')}/`, {
        headers: { authorization: `Bearer ${fresh.access_token}`, 'x-auth-token': 'x.y.z', 'x-auth-user': 'root', 'x-auth-subject': 'root' },
      });
      assert.equal(forged.status, 200, `${forged.status} ${forged.text}`);
      assert.match(forged.text, /<strong id="user">carol<\/strong>/);
      // sign out: the app's link → jotd's page → its Sign out button
      await Promise.all([page.waitForNavigation({ timeout: WAIT }), page.click('#signout')]);
      assert.equal(new URL(page.url()).origin, origin('auth'));
      await Promise.all([page.waitForNavigation({ timeout: WAIT }), page.getByRole('button', { name: /sign out/i }).click()]);
      await page.locator('#username').waitFor({ timeout: WAIT });
      assert.equal(await cookieEnding(context, 'jotd-access'), undefined, 'the access cookie cleared');
      // the app again: the login form
      await page.goto(`${origin('app')}/`);
      await page.locator('#username').waitFor({ timeout: WAIT });
      assert.equal(new URL(page.url()).origin, origin('auth'));
      // the old cookie replayed: refused (its session ended; whether or not it has expired)
      const stillUnexpired = Date.now() / 1000 < jwtExp(access.value);
      const r = await replay(access.value);
      assert.equal(r.status, 401, `${r.status} ${r.text}`);
      console.log(`# old access cookie replayed after logout: 401 (${stillUnexpired ? 'before' : 'after'} its expiry)`);
      const app = await jotTest(`${origin('app')}/`, { headers: { cookie: `${access.name}=${access.value}` } });
      assert.equal(app.status, 302, `${app.status} ${app.text}`);
      assert.ok(app.headers.get('location').startsWith(`${origin('auth')}/login?rd=`), app.headers.get('location'));
      noProblems(problems);
    } finally {
      await context.close();
    }
  });

  test('without a session, forged X-Auth-* headers get the redirect to the login page', async () => {
    const r = await jotTest(`${origin('app')}/`, { headers: { 'x-auth-user': 'root', 'x-auth-token': 'x.y.z' } });
    assert.equal(r.status, 302, `${r.status} ${r.text}`);
    assert.ok(r.headers.get('location').startsWith(`${origin('auth')}/login?rd=`), r.headers.get('location'));
  });
});

// ---- d: the single-page app ------------------------------------------------------------------

describe('the single-page app (cookie mode) in Chromium', { skip: SPA_MISSING ?? false }, () => {
  let expectedSub;
  before(async () => {
    srv.addUser('dana', PASSWORD);
    const r = srv.cmd(['client', 'add', 'spa', '--public', '--cookie-mode', '--allowed-origin', origin('spa'), '--redirect-uri', `${origin('spa')}/`]);
    assert.equal(r.status, 0, show(r));
    expectedSub = (await srv.login('dana', PASSWORD)).claims.sub;
    // the client was added by a command, not by this jotd: its origin reaches the running
    // server as a client_changed event (within --events-poll-interval); until then a
    // preflight from it is refused, as it should be
    const deadline = Date.now() + WAIT;
    for (;;) {
      const p = await jotTest(`${origin('auth')}/token`, { method: 'OPTIONS', headers: { origin: origin('spa'), 'access-control-request-method': 'POST' } });
      if (p.status === 204) break;
      assert.ok(Date.now() < deadline, `the SPA's origin never became allowed: ${p.status}`);
      await sleep(100);
    }
  });

  const status = (page) => page.locator('#status');
  const waitStatus = async (page, re) => {
    try {
      await page.waitForFunction((src) => new RegExp(src).test((document.querySelector('#status')?.textContent ?? '').trim()), re.source, { timeout: WAIT });
    } catch (err) {
      throw new Error(`#status never matched ${re} at ${page.url()}: it says ${JSON.stringify(await status(page).textContent().catch(() => null))} (${err.message})`);
    }
    return (await status(page).textContent()).trim();
  };
  const apiSub = async (page) => {
    await page.locator('#api-result').evaluate((e) => (e.textContent = '')); // not the last answer
    await page.click('#call');
    await page.waitForFunction(() => /"sub"/.test(document.querySelector('#api-result')?.textContent ?? ''), null, { timeout: WAIT });
    return JSON.parse(await page.locator('#api-result').textContent()).sub;
  };
  // the cookie's Path is the token endpoint's: only URLs under it see it
  const refreshCookie = async (context) => (await context.cookies(`${origin('auth')}/token`)).find((c) => /jotd-refresh-spa$/.test(c.name));

  test('sign in, API call, reload, HttpOnly refresh cookie, two tabs, another origin refused, sign out everywhere', async () => {
    const { context, problems } = await freshContext();
    try {
      const a = await context.newPage();
      await a.goto(`${origin('spa')}/`);
      assert.equal(await waitStatus(a, /^signed-out$/), 'signed-out');
      await Promise.all([a.waitForNavigation({ timeout: WAIT }), a.click('#signin')]);
      await submitLogin(a, 'dana');
      await a.waitForURL((u) => u.origin === origin('spa'), { timeout: WAIT });
      await waitStatus(a, /^signed-in$/);
      await screenshot(a, 'spa-signed-in');
      assert.equal(await apiSub(a), expectedSub);

      // the refresh token: an HttpOnly, SameSite=Strict cookie of jotd's host, limited to the
      // token endpoint; never in document.cookie, never in the token response the page saw
      const rc = await refreshCookie(context);
      assert.ok(rc, JSON.stringify(await context.cookies()));
      assert.equal(rc.httpOnly, true);
      assert.equal(rc.secure, true);
      assert.equal(rc.sameSite, 'Strict');
      assert.equal(rc.domain, 'auth.jot.test');
      assert.equal(rc.path, '/token');
      assert.ok(!(await a.evaluate(() => document.cookie)).includes(rc.value));

      // reload: the access token was in memory only; the cookie brings the session back
      await a.reload();
      await waitStatus(a, /^signed-in$/);
      assert.equal(await apiSub(a), expectedSub);
      assert.ok(!(await a.evaluate(() => document.cookie)).includes((await refreshCookie(context)).value));

      // another origin: CORS keeps it from reading a token; jotd refuses its blind posts. The
      // app's page goes away meanwhile, so that only the other origin could rotate the cookie
      await a.goto('about:blank');
      const before = (await refreshCookie(context)).value;
      const evilCtx = context; // the same browser profile: the victim's cookies are there
      const e = await evilCtx.newPage();
      await e.goto(`${origin('evil')}/`);
      const tokenUrl = `${origin('auth')}/token`;
      const cors = await e.evaluate(async (u) => {
        try {
          const r = await fetch(u, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ grant_type: 'refresh_token', client_id: 'spa' }) });
          return `resolved ${r.status} ${await r.text()}`;
        } catch (err) {
          return `rejected ${err.name}`;
        }
      }, tokenUrl);
      assert.match(cors, /^rejected TypeError/, cors);
      const blind = await e.evaluate(async (u) => {
        const r = await fetch(u, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa' }) });
        return r.type;
      }, tokenUrl);
      assert.equal(blind, 'opaque');
      // a plain form post (a top-level navigation: SameSite does not stop it, same site)
      const [nav] = await Promise.all([
        e.waitForNavigation({ timeout: WAIT }),
        e.evaluate((u) => {
          const f = document.createElement('form');
          f.method = 'POST';
          f.action = u;
          for (const [k, v] of Object.entries({ grant_type: 'refresh_token', client_id: 'spa' })) {
            const i = document.createElement('input');
            i.type = 'hidden';
            i.name = k;
            i.value = v;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }, tokenUrl),
      ]);
      assert.equal(nav?.status(), 403, 'the form post refused');
      assert.doesNotMatch(await e.content(), /access_token/);
      await e.close();
      await srv.waitLog((l) => l.event === 'cors_refused');
      assert.equal((await refreshCookie(context)).value, before, 'nothing rotated by the other origin');
      await a.goto(`${origin('spa')}/`);
      await waitStatus(a, /^signed-in$/);
      assert.equal(await apiSub(a), expectedSub);

      // two tabs refreshing at the same moment: both stay signed in (grace window)
      const b = await context.newPage();
      await b.goto(`${origin('spa')}/`);
      await waitStatus(b, /^signed-in$/);
      await Promise.all([a.reload(), b.reload()]);
      await Promise.all([waitStatus(a, /^signed-in$/), waitStatus(b, /^signed-in$/)]);
      assert.equal(await apiSub(a), expectedSub);
      assert.equal(await apiSub(b), expectedSub);

      // sign out in one tab, with an access token that has expired meanwhile (the refresh
      // cookie never reaches /logout: the app refreshes first): the session ends, the cookie
      // is cleared, the other tab's refresh fails
      await sleep((ACCESS_TTL + 1) * 1000);
      await a.click('#signout');
      await waitStatus(a, /^signed-out$/);
      assert.equal(await refreshCookie(context), undefined, 'the refresh cookie cleared');
      await b.reload();
      assert.equal(await waitStatus(b, /^signed-out$/), 'signed-out');
      await screenshot(b, 'spa-signed-out');
      // the other origin's page made the console report CORS errors: only the app's pages
      // count, and of theirs not the refusals they expect and handle (a refresh without a
      // session, an API call with an expired access token)
      noProblems(problems.filter((p) => !p.url.startsWith(origin('evil')) &&
        !(p.kind === 'console.error' && /^Failed to load resource: the server responded with a status of 4\d\d/.test(p.text) &&
          /^\/(token|api\/)/.test(new URL(p.where).pathname))));
    } finally {
      await context.close();
    }
  });
});
