// Crash safety of jotd: 8 parallel clients run refresh-token chains (and now and then revoke
// a session or an access token) against one jotd, which is killed with SIGKILL at random
// moments and restarted on the same data directory and port. A client whose request was cut
// off by the kill does not know whether the server committed it; it retries the same
// request once the server is back. The server runs with --refresh-grace 60s, the documented
// way to make such a retry safe: a rotation that was committed but never answered is
// answered again with the same successor (derived with HMAC from the old token).
//
// At the end (server stopped cleanly, database read with the sqlite3 CLI, then served again):
//   - every refresh token the server ever answered is either still valid, or was rotated
//     and its successor was answered too, or belongs to a session whose revocation was
//     answered: nothing answered is lost, and no client ever got invalid_grant for a token
//     it was given;
//   - no session has two live refresh tokens, no token has two predecessors, no successor
//     is dangling;
//   - every revocation answered 200 (sessions and access-token jtis) is still in force;
//   - PRAGMA integrity_check and foreign_key_check are clean.
// Bounded: about 25 s of traffic, at most ~60 s in all.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const JOT_BIN = path.resolve(process.env.JOT_BIN ?? '../../build/bin');
const JOTD = path.join(JOT_BIN, 'jotd');
const CHEAP = ['--argon2-m-kib', '1024', '--argon2-t', '1'];
const ISSUER = 'https://issuer.crash.test';
const PW = 'crash-tests-password';
const RS_ID = 'rs';
const RS_SECRET = 'resource-server-secret-0123456789';
const CLIENTS = 8;
const TRAFFIC_MS = Number(process.env.JOTD_CRASH_TRAFFIC_MS ?? 25_000);
const DRAIN_MS = 15_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = (lo, hi) => lo + Math.random() * (hi - lo);
const sha256hex = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex').toUpperCase();
const jwtClaims = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8'));

const haveSqlite3 = spawnSync('sh', ['-c', 'command -v sqlite3']).status === 0;

// ---- cleanup ------------------------------------------------------------------------------

const cleanups = [];
function runCleanups() {
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', runCleanups);
after(runCleanups);

// ---- HTTP -----------------------------------------------------------------------------------

/** One request on a fresh connection. Resolves { status, json, text } or rejects on any
 *  transport failure (refused, reset, timeout): the outcome is then unknown. */
function post(port, p, form, headers = {}) {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: p,
        method: 'POST',
        agent: false,
        timeout: 10_000,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, json, text });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

function get(port, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, agent: false, timeout: 10_000, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---- the server, killed and restarted ---------------------------------------------------------

class Server {
  constructor(data, port) {
    this.data = data;
    this.port = port;
    this.proc = null;
    this.starts = 0;
    this.kills = 0;
    this.stderrTail = '';
  }

  async start() {
    const p = spawn(
      JOTD,
      ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--issuer', ISSUER,
        '--refresh-grace', '60s', ...CHEAP],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = p;
    this.starts++;
    cleanups.push(() => p.kill('SIGKILL'));
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (this.stderrTail = (this.stderrTail + d).slice(-4000)));
    p.exitInfo = null;
    p.exited = new Promise((r) =>
      p.on('exit', (code, signal) => {
        p.exitInfo = { code, signal };
        r(p.exitInfo);
      }),
    );
    const deadline = Date.now() + 15_000;
    while (!/jotd listening on/.test(out)) {
      if (p.exitInfo) throw new Error(`jotd exited at start ${this.starts}: ${JSON.stringify(p.exitInfo)}\n${this.stderrTail}`);
      if (Date.now() > deadline) throw new Error(`jotd did not start\n${this.stderrTail}`);
      await sleep(5);
    }
    this.up = true;
  }

  async kill() {
    this.up = false;
    const p = this.proc;
    p.kill('SIGKILL');
    await p.exited;
    this.kills++;
    assert.equal(p.exitInfo.signal, 'SIGKILL');
  }

  async stop() {
    this.up = false;
    const p = this.proc;
    p.kill('SIGTERM');
    await p.exited;
    assert.deepEqual(p.exitInfo, { code: 0, signal: null }, `clean stop\n${this.stderrTail}`);
  }

  /** Wait until the server is up (between a kill and its restart clients wait here). */
  async waitUp(deadline) {
    while (!this.up) {
      if (Date.now() > deadline) throw new Error('server not back in time');
      await sleep(20);
    }
  }
}

// ---- what the clients saw ----------------------------------------------------------------------

const answered = new Map(); // refresh token -> { sid, client }
const successorOf = new Map(); // refresh token -> the token answered for it
const revokedSids = new Set(); // sessions whose revocation was answered 200
const revokedTokens = []; // refresh tokens revoked (answered 200)
const deniedAccess = []; // access tokens whose revocation was answered 200
const violations = [];
const stats = { logins: 0, refreshes: 0, retries: 0, unknown: 0, graceReplays: 0, revokes: 0, accessRevokes: 0, s503: 0 };

/** Send until there is an answer (retrying after transport failures and 503). */
async function until(srv, deadline, fn, what) {
  for (;;) {
    await srv.waitUp(deadline);
    let r;
    try {
      r = await fn();
    } catch {
      stats.unknown++;
      if (Date.now() > deadline) throw new Error(`${what}: no answer before the deadline`);
      await sleep(rand(10, 60));
      stats.retries++;
      continue;
    }
    if (r.status === 503) {
      stats.s503++;
      await sleep(100);
      continue;
    }
    return r;
  }
}

async function client(srv, id, stopAt, hardDeadline) {
  const user = `u${id}`;
  let cur = null; // { refresh, access, sid }
  const login = async () => {
    const r = await until(srv, hardDeadline, () => post(srv.port, '/token', { grant_type: 'password', username: user, password: PW }), 'login');
    assert.equal(r.status, 200, `login ${user}: ${r.status} ${r.text}`);
    stats.logins++;
    const sid = jwtClaims(r.json.access_token).sid;
    answered.set(r.json.refresh_token, { sid, client: id });
    cur = { refresh: r.json.refresh_token, access: r.json.access_token, sid };
  };
  await login();
  while (Date.now() < stopAt) {
    const dice = Math.random();
    if (dice < 0.04) {
      // revoke the whole session with its refresh token (RFC 7009), then log in again
      const tok = cur.refresh;
      const r = await until(srv, hardDeadline, () => post(srv.port, '/revoke', { token: tok }), 'revoke');
      assert.equal(r.status, 200, `revoke: ${r.status} ${r.text}`);
      stats.revokes++;
      revokedSids.add(cur.sid);
      revokedTokens.push({ token: tok, sid: cur.sid, access: cur.access });
      await login();
      continue;
    }
    if (dice < 0.07) {
      // revoke the current access token (denylist its jti); the session lives on
      const acc = cur.access;
      const r = await until(srv, hardDeadline, () => post(srv.port, '/revoke', { token: acc }), 'revoke access');
      assert.equal(r.status, 200, `revoke access: ${r.status} ${r.text}`);
      stats.accessRevokes++;
      deniedAccess.push(acc);
    }
    const old = cur.refresh;
    let attempts = 0;
    const r = await until(
      srv,
      hardDeadline,
      () => {
        attempts++;
        return post(srv.port, '/token', { grant_type: 'refresh_token', refresh_token: old });
      },
      'refresh',
    );
    if (r.status !== 200) {
      violations.push(`client ${id}: refresh of an answered token (session ${cur.sid}) got ${r.status} ${r.text} after ${attempts} attempt(s)`);
      await login();
      continue;
    }
    stats.refreshes++;
    if (attempts > 1) stats.graceReplays++;
    const next = r.json.refresh_token;
    if (successorOf.has(old) && successorOf.get(old) !== next)
      violations.push(`client ${id}: token answered with two different successors`);
    successorOf.set(old, next);
    const sid = jwtClaims(r.json.access_token).sid;
    if (sid !== cur.sid) violations.push(`client ${id}: refresh moved to another session (${cur.sid} -> ${sid})`);
    answered.set(next, { sid, client: id });
    cur = { refresh: next, access: r.json.access_token, sid };
  }
  return cur;
}

// ---- the database, read with the sqlite3 CLI ----------------------------------------------------

function sql(db, query) {
  const r = spawnSync('sqlite3', ['-readonly', '-separator', '|', db, query], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `sqlite3: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length).map((l) => l.split('|'));
}

test(
  'SIGKILL during parallel refresh chains: nothing answered is lost, no session gets two live tokens, revocations hold',
  { timeout: 120_000, skip: haveSqlite3 ? false : 'SKIPPED: sqlite3 CLI (Debian package sqlite3) missing' },
  async () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'jotd-crash-'));
    cleanups.push(() => fs.rmSync(top, { recursive: true, force: true }));
    const data = path.join(top, 'data');
    const db = path.join(data, 'jotd.db');
    const init = spawnSync(JOTD, ['init', '--data', data], { encoding: 'utf8' });
    assert.equal(init.status, 0, init.stderr); // operator commands do not create a data directory
    for (let i = 0; i < CLIENTS; i++) {
      const r = spawnSync(JOTD, ['user', 'add', `u${i}`, '--password-stdin', '--data', data, ...CHEAP], { input: PW + '\n', encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const c = spawnSync(JOTD, ['client', 'add', RS_ID, '--secret-stdin', '--introspect', ISSUER, '--data', data], { input: RS_SECRET + '\n', encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);

    const srv = new Server(data, await freePort());
    await srv.start();
    const t0 = Date.now();
    const stopAt = t0 + TRAFFIC_MS;
    const hardDeadline = stopAt + DRAIN_MS;

    // the killer: SIGKILL at random moments, restart on the same directory and port
    const killer = (async () => {
      await sleep(rand(700, 1500));
      while (Date.now() < stopAt - 1000) {
        await srv.kill();
        await sleep(rand(0, 300)); // down for a while: clients hit refused connections
        await srv.start();
        await sleep(rand(800, 3000));
      }
    })();
    const finals = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(srv, i, stopAt, hardDeadline)));
    await killer;
    const trafficMs = Date.now() - t0;
    await srv.stop();

    console.log(
      `# crash: ${trafficMs} ms of traffic, ${srv.kills} SIGKILLs, ${stats.logins} logins, ${stats.refreshes} refreshes ` +
        `(${stats.graceReplays} answered only after a retry), ${stats.unknown} requests cut off, ${stats.revokes} session ` +
        `revocations, ${stats.accessRevokes} access-token revocations, ${stats.s503} answers 503`,
    );
    assert.ok(srv.kills >= 4, `the server was killed several times (${srv.kills})`);
    assert.ok(stats.refreshes > 100, `enough refreshes ran (${stats.refreshes})`);
    assert.deepEqual(violations, [], 'no client was refused a token it had been given');

    // ---- the database, offline ----
    assert.deepEqual(sql(db, 'PRAGMA integrity_check'), [['ok']]);
    assert.deepEqual(sql(db, 'PRAGMA foreign_key_check'), []);
    const twoLive = sql(db, 'SELECT sid, count(*) FROM refresh_tokens WHERE used_at IS NULL GROUP BY sid HAVING count(*) > 1');
    assert.deepEqual(twoLive, [], 'no session has two live refresh tokens');
    const twoPred = sql(db, 'SELECT hex(successor), count(*) FROM refresh_tokens WHERE successor IS NOT NULL GROUP BY successor HAVING count(*) > 1');
    assert.deepEqual(twoPred, [], 'no token is the successor of two tokens');
    const dangling = sql(db, 'SELECT hex(t.hash) FROM refresh_tokens t WHERE t.successor IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refresh_tokens u WHERE u.hash = t.successor)');
    assert.deepEqual(dangling, [], 'every successor exists');
    const crossSession = sql(db, 'SELECT hex(t.hash) FROM refresh_tokens t JOIN refresh_tokens u ON u.hash = t.successor WHERE u.sid <> t.sid');
    assert.deepEqual(crossSession, [], 'successors stay in their session');

    const rows = new Map();
    for (const [hash, succ, live, sid] of sql(db, 'SELECT hex(hash), hex(successor), used_at IS NULL, sid FROM refresh_tokens'))
      rows.set(hash, { succ, live: live === '1', sid });
    const sessions = new Map();
    for (const [sid, revoked] of sql(db, 'SELECT sid, revoked_at IS NOT NULL FROM sessions')) sessions.set(sid, revoked === '1');

    const lost = [];
    for (const [tok, info] of answered) {
      const row = rows.get(sha256hex(tok));
      if (!row) {
        lost.push(`answered token of session ${info.sid} is not in the database`);
        continue;
      }
      if (row.sid !== info.sid) lost.push(`answered token in session ${row.sid}, answered for ${info.sid}`);
      if (row.live) continue;
      const next = successorOf.get(tok);
      if (row.succ) {
        if (!next) lost.push(`token of session ${info.sid} was rotated but its successor was never answered`);
        else if (sha256hex(next) !== row.succ) lost.push(`token of session ${info.sid}: the stored successor is not the one answered`);
        continue;
      }
      // used without a successor: killed by a revocation, which must have been answered
      if (!revokedSids.has(info.sid)) lost.push(`token of session ${info.sid} was killed without an answered revocation`);
    }
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} answered token(s) lost`);

    const withLiveToken = new Set(sql(db, 'SELECT DISTINCT sid FROM refresh_tokens WHERE used_at IS NULL').map((r) => r[0]));
    for (const sid of revokedSids) {
      assert.equal(sessions.get(sid), true, `revoked session ${sid} is marked revoked`);
      assert.ok(!withLiveToken.has(sid), `revoked session ${sid} has no live token`);
    }
    const denied = new Set(sql(db, 'SELECT jti FROM denylist').map((r) => r[0]));
    for (const acc of deniedAccess) assert.ok(denied.has(jwtClaims(acc).jti), 'a denied jti is in the denylist table');

    // ---- served again: the same answers over HTTP ----
    await srv.start();
    try {
      for (const fin of finals) {
        const r = await post(srv.port, '/token', { grant_type: 'refresh_token', refresh_token: fin.refresh });
        assert.equal(r.status, 200, `the last token of each client still refreshes: ${r.status} ${r.text}`);
      }
      for (const { token, access } of revokedTokens.slice(0, 40)) {
        const r = await post(srv.port, '/token', { grant_type: 'refresh_token', refresh_token: token });
        assert.equal(r.status, 400, `a revoked session stays revoked: ${r.text}`);
        assert.equal(r.json?.error, 'invalid_grant');
        const i = await post(srv.port, '/introspect', { token: access }, { authorization: 'Basic ' + Buffer.from(`${RS_ID}:${RS_SECRET}`).toString('base64') });
        assert.equal(i.status, 200);
        assert.equal(i.json.active, false, 'the access token of a revoked session is inactive');
      }
      for (const acc of deniedAccess.slice(0, 40)) {
        const v = await get(srv.port, '/verify', { authorization: `Bearer ${acc}` });
        assert.equal(v.status, 401, 'a denied access token stays denied after restarts');
      }
      assert.equal((await get(srv.port, '/healthz')).status, 200);
    } finally {
      await srv.stop();
    }
    assert.deepEqual(sql(db, 'PRAGMA integrity_check'), [['ok']]);
  },
);
