// jotd under storage faults: the database becoming read-only (while running, and at start),
// the disk full, and SQLite busy (another process holding the write lock past the 5 s busy
// timeout). In every case:
//   - writes (login, refresh, revocation) answer 503 with an RFC 6749 error body
//     ({"error":"temporarily_unavailable",...}, Cache-Control: no-store, Retry-After);
//   - reads (forward-auth /verify, JWKS, introspection, /healthz) keep working;
//   - the server stays alive (/healthz 200, the process has not exited);
//   - once the fault is gone writes work again without a restart, and nothing that was
//     answered before or during the fault is lost (refresh tokens that were answered still
//     refresh, a refresh that got 503 did not rotate its token, revocations answered 200
//     still hold); after the test the database passes PRAGMA integrity_check.
//
// Some faults need privileges:
//   - read-only while running: `chattr +i` on the database and WAL files (root, on a
//     filesystem with the immutable flag; when the temp directory's filesystem lacks it, a
//     small loop-mounted ext4 image is used). chmod cannot do it: an open file descriptor
//     keeps its write access, and root ignores permissions anyway.
//   - read-only at start: chmod 0444 on the files while jotd is stopped, then start it as an
//     unprivileged user (as root: `setpriv --reuid=65534`; otherwise as ourselves). Works
//     for root and non-root alike.
//   - disk full: a tiny tmpfs (mount needs root).
//   - busy: the sqlite3 CLI (Debian package sqlite3) holding BEGIN EXCLUSIVE; no privilege.
// A test that cannot run says why, visibly, through node:test's skip message.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const JOT_BIN = path.resolve(process.env.JOT_BIN ?? '../../build/bin');
const JOTD = path.join(JOT_BIN, 'jotd');
const CHEAP = ['--argon2-m-kib', '1024', '--argon2-t', '1'];
const ISSUER = 'https://issuer.faults.test';
const PW = 'fault-tests-password';
const RS_ID = 'rs';
const RS_SECRET = 'resource-server-secret-0123456789';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const NOBODY = 65534;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup: processes, immutable flags, mounts, directories -------------------------------

const cleanups = [];
function onCleanup(fn) {
  cleanups.push(fn);
}
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

function mkTmp(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function sh(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
}

function have(cmd) {
  return sh('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

// ---- HTTP ---------------------------------------------------------------------------------

function request(base, p, { method = 'GET', headers = {}, form, timeout = 30_000 } = {}) {
  const u = new URL(p, base);
  const h = { ...headers };
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers: h, agent: false, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, ms: Date.now() - t0 });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${p}`)));
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (id, secret) => 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
const show = (r) => `status=${r.status} retry-after=${r.headers['retry-after']} body=${r.text}`;

// ---- the server -----------------------------------------------------------------------------

/** How to run jotd and its operator commands: directly, or as an unprivileged user. */
class Runner {
  constructor({ unprivileged = false } = {}) {
    this.unprivileged = unprivileged && IS_ROOT;
    this.bin = JOTD;
    if (this.unprivileged) {
      // the build tree may sit below a directory nobody cannot enter: use a copy
      const d = mkTmp('jotd-bin-');
      fs.chmodSync(d, 0o755);
      this.bin = path.join(d, 'jotd');
      fs.copyFileSync(JOTD, this.bin);
      fs.chmodSync(this.bin, 0o755);
    }
  }
  argv(args) {
    return this.unprivileged
      ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', this.bin, ...args]]
      : [this.bin, args];
  }
  cmd(args, input) {
    const [c, a] = this.argv(args);
    const r = sh(c, a, { input: input ?? '' });
    assert.equal(r.status, 0, `jotd ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
}

class Server {
  constructor(runner, data) {
    this.runner = runner;
    this.data = data;
  }

  async start(extra = []) {
    const [c, a] = this.runner.argv([
      'serve', '--data', this.data, '--listen', '127.0.0.1:0', '--issuer', ISSUER, ...CHEAP, ...extra,
    ]);
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    onCleanup(() => {
      if (!this.exit) p.kill('SIGKILL');
    });
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (this.stdout += d));
    p.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) =>
      p.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    const deadline = Date.now() + 15_000;
    let m;
    while (!(m = this.stdout.match(/^jotd listening on (http:\/\/\S+)$/m))) {
      if (this.exit) throw new Error(`jotd exited: ${JSON.stringify(this.exit)}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`jotd did not start\n${this.stderr}`);
      await sleep(10);
    }
    this.base = m[1];
    await this.healthy();
    return this;
  }

  /** /healthz answers 200 and the process is alive. */
  async healthy() {
    assert.equal(this.exit, null, `jotd exited: ${JSON.stringify(this.exit)}\n${this.stderr.slice(-2000)}`);
    const r = await request(this.base, '/healthz', { timeout: 15_000 });
    assert.equal(r.status, 200, `healthz: ${show(r)}`);
    assert.equal(this.exit, null);
    return r;
  }

  async stop() {
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 20_000);
      await this.exited;
      clearTimeout(t);
    }
    assert.deepEqual(this.exit, { code: 0, signal: null }, `jotd exit after SIGTERM\n${this.stderr.slice(-2000)}`);
  }

  get(p, headers) {
    return request(this.base, p, { headers });
  }
  post(p, form, headers, timeout) {
    return request(this.base, p, { method: 'POST', form, headers, timeout });
  }
  login(user) {
    return this.post('/token', { grant_type: 'password', username: user, password: PW });
  }
  refresh(rt) {
    return this.post('/token', { grant_type: 'refresh_token', refresh_token: rt });
  }
  revoke(token) {
    return this.post('/revoke', { token });
  }
  introspect(token) {
    return this.post('/introspect', { token }, { authorization: basic(RS_ID, RS_SECRET) });
  }
  verify(access) {
    return this.get('/verify', { authorization: `Bearer ${access}` });
  }
}

/** A data directory with users alice, bob, carol and the confidential client rs. */
function prepareData(runner, data) {
  runner.cmd(['init', '--data', data]); // operator commands do not create a data directory
  for (const u of ['alice', 'bob', 'carol'])
    runner.cmd(['user', 'add', u, '--password-stdin', '--data', data, ...CHEAP], PW + '\n');
  runner.cmd(['client', 'add', RS_ID, '--secret-stdin', '--introspect', ISSUER, '--data', data], RS_SECRET + '\n');
}

// ---- assertions -----------------------------------------------------------------------------

function ok200(r, what) {
  assert.equal(r.status, 200, `${what}: ${show(r)}`);
  return r.json;
}

/** A write refused because of the store: 503 + RFC 6749 error body + Retry-After. */
function unavailable(r, what) {
  assert.equal(r.status, 503, `${what} must answer 503: ${show(r)}`);
  assert.ok(r.json && typeof r.json === 'object', `${what}: JSON error body: ${r.text}`);
  assert.equal(r.json.error, 'temporarily_unavailable', `${what}: RFC 6749 error code: ${r.text}`);
  assert.equal(typeof r.json.error_description, 'string');
  assert.match(r.headers['cache-control'] ?? '', /no-store/, `${what}: Cache-Control`);
  assert.match(r.headers['retry-after'] ?? '', /^\d+$/, `${what}: Retry-After: ${show(r)}`);
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
}

/** Reads that need no write: all must work during a write fault. */
async function readsWork(s, access, what) {
  const v = await s.verify(access);
  assert.equal(v.status, 200, `${what}: /verify: ${show(v)}`);
  assert.equal(typeof v.headers['x-auth-subject'], 'string');
  const j = await s.get('/.well-known/jwks.json');
  assert.equal(j.status, 200, `${what}: JWKS: ${show(j)}`);
  assert.ok(j.json.keys.length >= 1);
  const i = await s.introspect(access);
  assert.equal(i.status, 200, `${what}: introspect: ${show(i)}`);
  assert.equal(i.json.active, true, `${what}: introspect says active: ${i.text}`);
  const u = await s.get('/userinfo', { authorization: `Bearer ${access}` });
  assert.equal(u.status, 200, `${what}: userinfo: ${show(u)}`);
  await s.healthy();
}

/** Retry a write until it succeeds (the fault was just removed); bounded. */
async function eventually(fn, what, ms = 5000) {
  const deadline = Date.now() + ms;
  let r;
  for (;;) {
    r = await fn();
    if (r.status === 200) return r;
    if (Date.now() > deadline) assert.fail(`${what}: still failing ${ms} ms after the fault was removed: ${show(r)}`);
    await sleep(100);
  }
}

function integrityOk(db) {
  const r = sh('sqlite3', [db, 'PRAGMA integrity_check; PRAGMA foreign_key_check;']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok', `integrity_check: ${r.stdout}`);
}

/** Committed state check: every refresh token the server answered as the current one of its
 *  chain still refreshes. Returns the new current tokens. */
async function chainsIntact(s, current, what) {
  const next = [];
  for (const rt of current) {
    const r = await s.refresh(rt);
    assert.equal(r.status, 200, `${what}: an answered refresh token was lost: ${show(r)}`);
    next.push(r.json.refresh_token);
  }
  return next;
}

// ---- capabilities -------------------------------------------------------------------------

const haveSqlite3 = have('sqlite3');
const haveChattr = have('chattr') && have('lsattr');
const haveSetpriv = have('setpriv');

/** A directory where `chattr +i` works (root only), or a reason why there is none. */
function immutableCapableDir() {
  if (!IS_ROOT) return { reason: 'needs root: the immutable flag (chattr +i) takes CAP_LINUX_IMMUTABLE' };
  if (!haveChattr) return { reason: 'chattr not installed (Debian package e2fsprogs)' };
  const probeDir = mkTmp('jotd-faults-ro-');
  const probe = path.join(probeDir, 'probe');
  fs.writeFileSync(probe, 'x');
  if (sh('chattr', ['+i', probe]).status === 0) {
    sh('chattr', ['-i', probe]);
    return { dir: probeDir };
  }
  // the temp filesystem has no immutable flag (overlayfs, tmpfs): a small ext4 image
  if (!have('mkfs.ext4') || !have('mount')) return { reason: 'no immutable flag on the temp filesystem and no mkfs.ext4' };
  const img = path.join(probeDir, 'fs.img');
  const mnt = path.join(probeDir, 'mnt');
  fs.mkdirSync(mnt);
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 * 1024 * 1024);
  if (sh('mkfs.ext4', ['-q', '-F', img]).status !== 0) return { reason: 'mkfs.ext4 failed' };
  const m = sh('mount', ['-o', 'loop', img, mnt]);
  if (m.status !== 0) return { reason: `cannot loop-mount an ext4 image: ${m.stderr.trim()}` };
  onCleanup(() => sh('umount', ['-l', mnt]));
  fs.writeFileSync(path.join(mnt, 'probe'), 'x');
  if (sh('chattr', ['+i', path.join(mnt, 'probe')]).status !== 0) return { reason: 'chattr +i refused on ext4' };
  sh('chattr', ['-i', path.join(mnt, 'probe')]);
  return { dir: mnt };
}

function dbFiles(data) {
  return ['jotd.db', 'jotd.db-wal', 'jotd.db-shm'].map((f) => path.join(data, f)).filter((f) => fs.existsSync(f));
}

// ---- the tests ------------------------------------------------------------------------------

describe('jotd storage faults', { timeout: 180_000 }, () => {
  const ro = immutableCapableDir();
  test(
    'database read-only while running (chattr +i): writes 503, reads work, recovers, nothing lost',
    { skip: !haveSqlite3 ? 'sqlite3 CLI missing' : ro.reason ? `SKIPPED: ${ro.reason}` : false },
    async () => {
      const data = path.join(ro.dir, 'data');
      const runner = new Runner();
      prepareData(runner, data);
      const s = await new Server(runner, data).start();
      // committed state before the fault
      const a = ok200(await s.login('alice'), 'login alice');
      const a2 = ok200(await s.refresh(a.refresh_token), 'refresh alice');
      const b = ok200(await s.login('bob'), 'login bob');
      const revoked = ok200(await s.login('carol'), 'login carol');
      ok200(await s.revoke(revoked.refresh_token), 'revoke carol');
      const deniedAccess = ok200(await s.login('carol'), 'login carol again').access_token;
      ok200(await s.revoke(deniedAccess), 'revoke access token');

      const files = dbFiles(data);
      assert.ok(files.some((f) => f.endsWith('-wal')), 'WAL mode: the -wal file exists while running');
      const immutable = files.filter((f) => !f.endsWith('-shm'));
      onCleanup(() => sh('chattr', ['-i', ...immutable]));
      const c = sh('chattr', ['+i', ...immutable]);
      assert.equal(c.status, 0, c.stderr);
      try {
        unavailable(await s.login('alice'), 'login while read-only');
        unavailable(await s.refresh(a2.refresh_token), 'refresh while read-only');
        unavailable(await s.revoke(b.access_token), 'revoking an access token while read-only');
        unavailable(await s.revoke(b.refresh_token), 'revoking a refresh token while read-only');
        await readsWork(s, a2.access_token, 'read-only');
        // a refused revocation did not take effect in memory either
        assert.equal((await s.verify(b.access_token)).status, 200, 'access token whose revocation got 503 still works');
        // a revocation answered 200 before the fault still holds
        assert.equal((await s.verify(deniedAccess)).status, 401);
      } finally {
        sh('chattr', ['-i', ...immutable]);
      }
      // recovery without a restart
      await eventually(() => s.login('alice'), 'login after the fault');
      const a3 = ok200(await eventually(() => s.refresh(a2.refresh_token), 'refresh after the fault'), 'refresh');
      const b2 = ok200(await s.refresh(b.refresh_token), 'the refresh token whose revocation got 503 is alive');
      assert.equal((await s.refresh(revoked.refresh_token)).status, 400, 'revoked before the fault: still revoked');
      assert.equal((await s.verify(deniedAccess)).status, 401);
      await s.healthy();
      await s.stop();
      integrityOk(path.join(data, 'jotd.db'));
      // and after a restart
      const s2 = await new Server(runner, data).start();
      await chainsIntact(s2, [a3.refresh_token, b2.refresh_token], 'after restart');
      assert.equal((await s2.verify(deniedAccess)).status, 401, 'denylist survives the restart');
      await s2.stop();
      integrityOk(path.join(data, 'jotd.db'));
    },
  );

  test(
    'database read-only at start (jotd unprivileged, files 0444): writes 503, reads work, writable again without a restart',
    { skip: !haveSqlite3 ? 'sqlite3 CLI missing' : IS_ROOT && !haveSetpriv ? 'SKIPPED: running as root and setpriv (util-linux) is missing' : false },
    async () => {
      const runner = new Runner({ unprivileged: true });
      const top = mkTmp('jotd-faults-perm-');
      fs.chmodSync(top, 0o755);
      const data = path.join(top, 'data');
      fs.mkdirSync(data, { mode: 0o700 });
      if (runner.unprivileged) fs.chownSync(data, NOBODY, NOBODY);
      prepareData(runner, data);
      let s = await new Server(runner, data).start();
      const a = ok200(await s.login('alice'), 'login alice');
      await s.stop();

      for (const f of dbFiles(data)) fs.chmodSync(f, 0o444);
      s = await new Server(runner, data).start();
      try {
        unavailable(await s.login('bob'), 'login on a read-only database');
        unavailable(await s.refresh(a.refresh_token), 'refresh on a read-only database');
        await readsWork(s, a.access_token, 'read-only at start');
      } finally {
        for (const f of dbFiles(data)) fs.chmodSync(f, 0o600);
      }
      // the files are writable again: jotd must notice without a restart
      let recovered = true;
      let why = '';
      try {
        await eventually(() => s.login('bob'), 'login once the files are writable again', 3000);
      } catch (e) {
        recovered = false;
        why = e.message;
      }
      // whatever happened, nothing committed is lost: after a restart alice still refreshes
      await s.healthy();
      await s.stop();
      s = await new Server(runner, data).start();
      ok200(await s.refresh(a.refresh_token), 'the refresh token answered before the fault');
      await s.stop();
      integrityOk(path.join(data, 'jotd.db'));
      assert.ok(recovered, `jotd did not recover without a restart: ${why}`);
    },
  );

  test(
    'disk full (tiny tmpfs): writes 503, reads work, recovers when space is freed, nothing answered is lost',
    { skip: !haveSqlite3 ? 'sqlite3 CLI missing' : !IS_ROOT ? 'SKIPPED: needs root to mount a small tmpfs' : false },
    async (t) => {
      const top = mkTmp('jotd-faults-full-');
      const mnt = path.join(top, 'mnt');
      fs.mkdirSync(mnt);
      const m = sh('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mnt]);
      if (m.status !== 0) {
        t.skip(`SKIPPED: cannot mount a tmpfs: ${m.stderr.trim()}`);
        return;
      }
      onCleanup(() => sh('umount', ['-l', mnt]));
      const data = path.join(mnt, 'data');
      const runner = new Runner();
      prepareData(runner, data);
      const s = await new Server(runner, data).start();
      try {
        const a = ok200(await s.login('alice'), 'login alice');
        const a2 = ok200(await s.refresh(a.refresh_token), 'refresh alice');
        let current = [a2.refresh_token];
        // fill the filesystem
        const filler = path.join(mnt, 'filler');
        const fd = fs.openSync(filler, 'w');
        const chunk = Buffer.alloc(64 * 1024, 0x5a);
        try {
          for (;;) fs.writeSync(fd, chunk);
        } catch (e) {
          assert.equal(e.code, 'ENOSPC', `filling: ${e.message}`);
        }
        // small writes may still fit (partial pages, WAL frames reused): go on until refused
        let refused = null;
        let answered = 0;
        for (let i = 0; i < 300 && !refused; i++) {
          const r = i % 2 ? await s.login('bob') : await s.refresh(current[0]);
          if (r.status === 200) {
            answered++;
            if (i % 2 === 0) current = [r.json.refresh_token];
            else current.push(r.json.refresh_token);
            continue;
          }
          refused = r;
          // the last byte may have gone to the login: try to squeeze out the rest
          try {
            for (;;) fs.writeSync(fd, Buffer.alloc(512));
          } catch {
            /* full */
          }
        }
        assert.ok(refused, 'a write was refused once the disk was full');
        unavailable(refused, 'write on a full disk');
        unavailable(await s.login('bob'), 'login on a full disk');
        const before = current[0];
        unavailable(await s.refresh(before), 'refresh on a full disk');
        await readsWork(s, a2.access_token, 'disk full');
        fs.closeSync(fd);
        fs.rmSync(filler);
        await eventually(() => s.login('carol'), 'login after space was freed');
        // every refresh token answered (also during the fault) still refreshes; the refresh
        // that got 503 did not rotate its token
        current = await chainsIntact(s, current, `after the disk-full fault (${answered} writes answered while filling)`);
        await s.healthy();
        await s.stop();
        integrityOk(path.join(data, 'jotd.db'));
        const s2 = await new Server(runner, data).start();
        await chainsIntact(s2, current, 'after restart');
        await s2.stop();
        integrityOk(path.join(data, 'jotd.db'));
      } finally {
        if (!s.exit) s.proc.kill('SIGKILL');
        await s.exited;
        sh('umount', ['-l', mnt]);
      }
    },
  );

  /** Hold the database write lock from another process: the sqlite3 CLI inside BEGIN
   *  EXCLUSIVE, kept open until release() (which rolls it back). */
  async function holdWriteLock(db) {
    const lock = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
    onCleanup(() => lock.kill('SIGKILL'));
    let out = '';
    lock.stdout.on('data', (d) => (out += d));
    lock.stderr.on('data', (d) => (out += d));
    const exited = new Promise((r) => lock.on('exit', r));
    lock.stdin.write(".timeout 2000\nBEGIN EXCLUSIVE;\nINSERT INTO denylist (jti, exp) VALUES ('lock-holder', 1);\nSELECT 'locked';\n");
    const deadline = Date.now() + 5000;
    while (!/locked/.test(out)) {
      if (Date.now() > deadline) assert.fail(`sqlite3 did not take the lock: ${out}`);
      await sleep(10);
    }
    return {
      async release() {
        lock.stdin.end('ROLLBACK;\n.quit\n');
        await exited;
      },
    };
  }

  /** Reads timed while writes are blocked; returns the slowest in ms. */
  async function timedReads(s, access, what) {
    const t0 = Date.now();
    await readsWork(s, access, what);
    return Date.now() - t0;
  }

  test(
    'SQLite busy: another process holds the write lock past the 5 s busy timeout → 503 + Retry-After, then recovers',
    { skip: !haveSqlite3 ? 'SKIPPED: sqlite3 CLI (Debian package sqlite3) missing' : false },
    async () => {
      const data = path.join(mkTmp('jotd-faults-busy-'), 'data');
      const runner = new Runner();
      prepareData(runner, data);
      const s = await new Server(runner, data).start(['--threads', '2']);
      const a = ok200(await s.login('alice'), 'login alice');
      const b = ok200(await s.login('bob'), 'login bob');
      const db = path.join(data, 'jotd.db');

      const lock = await holdWriteLock(db);
      try {
        // a write waits out the busy timeout (5 s), then 503; reads go on meanwhile
        const t0 = Date.now();
        const login = s.login('carol');
        await sleep(200);
        const readMs = await timedReads(s, b.access_token, 'busy');
        const l = await login;
        const waited = Date.now() - t0;
        unavailable(l, 'login while the database is locked');
        assert.ok(waited >= 4500, `the write waited for the busy timeout (${waited} ms)`);
        assert.ok(waited < 15_000, `the write did not hang (${waited} ms)`);
        assert.ok(readMs < 2000, `reads beside one blocked write took ${readMs} ms`);
        const r = await s.refresh(a.refresh_token);
        unavailable(r, 'refresh while the database is locked');
        console.log(`# busy: a write was refused after ${waited} ms; reads beside it took ${readMs} ms`);
      } finally {
        await lock.release();
      }
      await eventually(() => s.login('carol'), 'login once the lock is released');
      // the refresh that got 503 did not rotate: the token still works, and only once
      ok200(await s.refresh(a.refresh_token), 'refresh of the token whose refresh got 503');
      assert.equal((await s.refresh(a.refresh_token)).status, 400, 'the rotated token is dead');
      // nothing of the lock holder's rolled-back transaction is visible
      const d = sh('sqlite3', [db, "SELECT count(*) FROM denylist WHERE jti = 'lock-holder'"]);
      assert.equal(d.stdout.trim(), '0');
      await s.healthy();
      await s.stop();
      integrityOk(db);
    },
  );

  test(
    'SQLite busy: writes waiting for the lock do not starve reads (as many blocked writes as worker threads)',
    { skip: !haveSqlite3 ? 'SKIPPED: sqlite3 CLI (Debian package sqlite3) missing' : false },
    async () => {
      const data = path.join(mkTmp('jotd-faults-starve-'), 'data');
      const runner = new Runner();
      prepareData(runner, data);
      const threads = 2;
      const s = await new Server(runner, data).start(['--threads', String(threads)]);
      const b = ok200(await s.login('bob'), 'login bob');
      const lock = await holdWriteLock(path.join(data, 'jotd.db'));
      let readMs;
      try {
        // one after the other: a worker blocked in a write accepts nothing more, so each
        // new write lands on a free worker until none is left
        const pending = [];
        for (let i = 0; i < threads; i++) {
          pending.push(s.login('carol'));
          await sleep(150);
        }
        const writes = Promise.all(pending);
        readMs = await timedReads(s, b.access_token, 'busy, every worker waiting');
        for (const w of await writes) unavailable(w, 'login while the database is locked');
      } finally {
        await lock.release();
      }
      await s.healthy();
      await s.stop();
      console.log(`# busy: with ${threads} writes waiting for the lock, /verify + JWKS + introspect + userinfo + healthz took ${readMs} ms`);
      // /verify needs no database at all: a locked database must not hold it up for the
      // busy timeout
      assert.ok(readMs < 2000, `reads were held up ${readMs} ms by ${threads} writes waiting for the database lock (--threads ${threads})`);
    },
  );
});
