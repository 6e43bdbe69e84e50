// The examples of docs/verifying.md against a real jotd: the C resource server
// (examples/resource-server: libjot alone, remote JWKS + Token Status List) and the Node.js
// verifier (examples/node-service/verify.mjs: jose + node zlib). Lags (a revocation reaching
// the service, fail-closed after jotd stopped) are printed; nothing is asserted about speed.
// A hostile issuer (a node HTTP server in this file) serves oversized, slow, redirecting,
// invalid and forged documents: the service refuses the tokens and stays up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { JOT_BIN, Jotd, bearer, httpRequest, jose, show, sleep } from './lib/jotd.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RS = path.join(JOT_BIN, 'resource-server');
const PW = 'examples-tests-password';
const DEADLINE_MS = 20_000;

if (!fs.existsSync(RS)) {
  // built only with libcurl (the remote key set): say so loudly
  const msg = `SKIP: jotd_examples: ${RS} not built (libjot without libcurl: Debian libcurl4-openssl-dev)`;
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}

/** The C resource server, started against \p issuer with the test intervals. */
class ResourceServer {
  static async start(issuer, audience, extra = []) {
    const s = new ResourceServer();
    s.out = '';
    s.err = '';
    s.proc = spawn(RS, ['--issuer', issuer, '--audience', audience, '--listen', '127.0.0.1:0', '--allow-http', '--cache-min', '1', '--cooldown', '1', ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    s.proc.stdout.setEncoding('utf8').on('data', (d) => (s.out += d));
    s.proc.stderr.setEncoding('utf8').on('data', (d) => (s.err += d));
    s.exited = new Promise((r) => s.proc.on('exit', (code, signal) => r({ code, signal })));
    const t0 = Date.now();
    let m;
    while (!(m = s.out.match(/listening on (http:\/\/\S+)/))) {
      if (Date.now() - t0 > 10_000) throw new Error(`resource-server did not start: ${s.out} ${s.err}`);
      await sleep(20);
    }
    s.base = m[1];
    return s;
  }

  hello(token) {
    return httpRequest(new URL('/hello', this.base), { headers: token ? { authorization: bearer(token) } : {} });
  }

  async alive() {
    const r = await httpRequest(new URL('/healthz', this.base));
    assert.equal(r.status, 200, `the service is down: ${this.err}`);
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const e = await this.exited;
    assert.equal(e.signal, null, `resource-server died of ${e.signal}: ${this.err}`);
  }
}

/** Wait until \p cond() holds; the milliseconds it took are printed and returned. */
async function lag(what, t0, cond) {
  for (;;) {
    if (await cond()) {
      const ms = Date.now() - t0;
      console.log(`# ${what}: ${ms} ms`);
      return ms;
    }
    assert.ok(Date.now() - t0 < DEADLINE_MS, `${what}: not within ${DEADLINE_MS} ms`);
    await sleep(20);
  }
}

/** The Node.js example, loaded from a copy next to tests/e2e/node_modules (where `jose` is). */
async function nodeExample() {
  const dir = fs.mkdtempSync(path.join(HERE, '.example-'));
  fs.copyFileSync(path.join(HERE, '../../examples/node-service/verify.mjs'), path.join(dir, 'verify.mjs'));
  try {
    return await import(path.join(dir, 'verify.mjs'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('against jotd', () => {
  let jotd;
  let rs;
  before(async () => {
    // issuer and audience: jotd's own URL (the default), which is where the service fetches
    jotd = await Jotd.start({ issuer: null, args: ['--status-list-ttl', '1s', '--jwks-max-age', '1s', '--key-lead-time', '2s'] });
    jotd.addUser('alice', PW);
    rs = await ResourceServer.start(jotd.base, jotd.base, ['--max-stale', '3']);
  });
  after(async () => {
    await rs?.stop();
    await jotd?.stop();
  });

  test('a valid token: 200 with its subject; none, garbage or another key: 401', async () => {
    const l = await jotd.login('alice', PW);
    const r = await rs.hello(l.access_token);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.sub, l.claims.sub);
    assert.equal((await rs.hello()).status, 401);
    assert.equal((await rs.hello('not.a.token')).status, 401);
    const { privateKey } = await jose.generateKeyPair('ES256');
    const forged = await new jose.SignJWT({ ...l.claims }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: l.header.kid }).sign(privateKey);
    const f = await rs.hello(forged);
    assert.equal(f.status, 401, show(f));
    assert.match(f.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('a session ended at jotd is refused by the service within the list ttl (no call to jotd per request)', async () => {
    const l = await jotd.login('alice', PW);
    assert.equal((await rs.hello(l.access_token)).status, 200);
    const lo = await jotd.request('/logout', { method: 'POST', headers: { authorization: bearer(l.access_token) } });
    assert.equal(lo.status, 204, show(lo));
    const t0 = Date.now();
    await lag('logout at jotd reaches the C service (status list ttl 1 s + fetch)', t0, async () => (await rs.hello(l.access_token)).status === 401);
    const r = await rs.hello(l.access_token);
    assert.match(r.json.reason, /revoked/);
    // the Node.js example sees it too
    const { makeVerifier } = await nodeExample();
    const verify = makeVerifier({ issuer: jotd.base, audience: jotd.base });
    await assert.rejects(verify(l.access_token), /token revoked/);
    const ok = await jotd.login('alice', PW);
    const claims = await verify(ok.access_token);
    assert.equal(claims.sub, ok.claims.sub);
  });

  test('jotd keys rotate: new tokens accepted without a restart of the service', async () => {
    const before = await jotd.login('alice', PW);
    const out = jotd.cmd(['keys', 'rotate', '--key-lead-time', '2s', '--jwks-max-age', '1s']);
    assert.equal(out.status, 0, show(out));
    const at = Date.parse(out.stdout.match(/signs from (\S+)/)[1]);
    await sleep(Math.max(0, at + 1100 - Date.now()));
    const after = await jotd.login('alice', PW);
    assert.notEqual(after.header.kid, before.header.kid, 'the new key signs');
    const r = await rs.hello(after.access_token);
    assert.equal(r.status, 200, show(r));
    assert.equal((await rs.hello(before.access_token)).status, 200, 'the old key still verifies');
  });

  test('jotd stopped: cached keys and lists serve until the staleness limit, then the service fails closed', async () => {
    const l = await jotd.login('alice', PW);
    assert.equal((await rs.hello(l.access_token)).status, 200);
    await jotd.stop();
    const t0 = Date.now();
    const first = await rs.hello(l.access_token);
    assert.equal(first.status, 200, `just after jotd stopped, from the cache: ${show(first)}`);
    await lag('jotd stopped: the service fails closed after', t0, async () => (await rs.hello(l.access_token)).status === 503);
    await rs.alive();
    jotd = undefined;
  });
});

describe('a hostile issuer', () => {
  let server;
  let base;
  let mode = 'good';
  let key;
  let jwks;
  let bits = Buffer.alloc(16); // 128 entries, all valid

  async function listToken(uri, { lst, sign = key.privateKey } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ sub: uri, iat: now, exp: now + 600, ttl: 1, status_list: { bits: 1, lst: lst ?? zlib.deflateSync(bits).toString('base64url') } })
      .setProtectedHeader({ alg: 'ES256', typ: 'statuslist+jwt', kid: 'k1' })
      .sign(sign);
  }

  async function accessToken(idx = 3) {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ sub: '7', scope: 'read', jti: crypto.randomUUID(), status: { status_list: { idx, uri: `${base}/statuslists/0` } } })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer(base).setAudience('api').setIssuedAt(now).setExpirationTime(now + 300)
      .sign(key.privateKey);
  }

  before(async () => {
    key = await jose.generateKeyPair('ES256');
    jwks = JSON.stringify({ keys: [{ ...(await jose.exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    const other = await jose.generateKeyPair('ES256');
    server = http.createServer(async (req, res) => {
      const isJwks = req.url === '/.well-known/jwks.json';
      const uri = `${base}${req.url}`;
      const m = isJwks ? mode.replace(/^list-.*/, 'good') : mode.startsWith('list-') ? mode.slice(5) : 'good';
      if (m === 'huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        for (let i = 0; i < 40 && !res.destroyed; i++) res.write(chunk); // 2.5 MiB of spaces
        return res.end();
      }
      if (m === 'drip') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 200);
        res.on('close', () => clearInterval(t));
        return undefined;
      }
      if (m === 'redirect') {
        res.writeHead(302, { location: 'file:///etc/passwd' });
        return res.end();
      }
      if (m === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"keys": [ this is not json');
      }
      if (isJwks) {
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=1' });
        return res.end(jwks);
      }
      let body;
      if (m === 'forged') body = await listToken(uri, { sign: other.privateKey });
      else if (m === 'bomb') body = await listToken(uri, { lst: zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64url') });
      else body = await listToken(uri);
      res.writeHead(200, { 'content-type': 'application/statuslist+jwt', 'cache-control': 'max-age=1' });
      return res.end(body);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => server?.close());

  /** A fresh service (empty caches) against the hostile issuer in \p m; the answer to a token. */
  async function against(m, tokenIdx = 3) {
    mode = m;
    const rs = await ResourceServer.start(base, 'api', ['--timeout', '1', '--max-stale', '0']);
    try {
      const r = await rs.hello(await accessToken(tokenIdx));
      await rs.alive();
      return r;
    } finally {
      await rs.stop();
    }
  }

  test('a well-behaved issuer: accepted; a revoked entry: refused', async () => {
    assert.equal((await against('good')).status, 200);
    bits = Buffer.alloc(16);
    bits[0] = 0b1000; // entry 3 revoked
    const r = await against('good');
    bits = Buffer.alloc(16);
    assert.equal(r.status, 401, show(r));
    assert.match(r.json.reason, /revoked/);
  });

  for (const [m, what] of [
    ['huge', 'a JWKS of 2.5 MiB (the cap is 1 MiB)'],
    ['drip', 'a JWKS dripping a byte every 200 ms (timeout 1 s)'],
    ['redirect', 'a redirect to file://'],
    ['garbage', 'invalid JSON'],
    ['list-forged', 'a status list signed by another key'],
    ['list-bomb', 'a status list that inflates to 64 MiB'],
    ['list-huge', 'a status list of 2.5 MiB'],
  ]) {
    test(`${what}: the token is refused, the service stays up`, async () => {
      const r = await against(m);
      assert.notEqual(r.status, 200, show(r));
      assert.ok([401, 503].includes(r.status), show(r));
    });
  }

  test('an index beyond the list: refused', async () => {
    const r = await against('good', 100000);
    assert.notEqual(r.status, 200, show(r));
  });
});
