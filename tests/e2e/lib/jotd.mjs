// Harness for the jotd end-to-end tests: start real `jotd serve` processes on free loopback
// ports with a temporary --data directory, talk HTTP to them, run the operator commands,
// verify access tokens with the npm `jose` package against the served JWKS, and always clean
// up (processes and directories), even when a test fails.
//
// JOTD_TEST_STORE=<admin URI of a PostgreSQL> (the e2e.pg.* CTest variants set it) runs every
// jotd the harness starts on PostgreSQL: each data directory gets its own fresh database
// jot_e2e_<random>, made when first needed and passed as --store to `serve` and to every
// operator command naming that directory (so servers restarted on the same data directory
// find the same database), dropped when the directory is removed or at exit.
//
// HTTP goes through node:http with one connection per request (agent: false) unless a test
// brings its own keep-alive Agent: fetch() would keep idle connections in its pool, and those
// hold up a draining jotd on SIGTERM (see the signals tests in jotd_ops.test.mjs).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import * as jose from 'jose';

export { jose };
export const JOT_BIN = path.resolve(process.env.JOT_BIN ?? '../../build/bin');
export const JOTD = path.join(JOT_BIN, 'jotd');
export const JOT = path.join(JOT_BIN, 'jot');

/** Cheap Argon2 for tests (the defaults cost ~19 MiB and two passes per hash). */
export const CHEAP_ARGON2 = ['--argon2-m-kib', '1024', '--argon2-t', '1'];
/** The operator commands that hash a password or secret: the only ones that take the
 *  --argon2-* flags (the others refuse options that do not apply to them). */
const HASHING = new Set(['user add', 'user passwd']); // client secrets are keyed hashes, no Argon2
/** CHEAP_ARGON2 for an operator command that hashes, [] for the others. */
export const cheapFor = (args) => (HASHING.has(`${args[0]} ${args[1]}`) ? CHEAP_ARGON2 : []);
/** The issuer every harness server gets unless a test says otherwise. */
export const ISSUER = 'https://issuer.e2e.test';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const nowSec = () => Math.floor(Date.now() / 1000);
/** Sleep until the wall clock reads \p epochMs (no wait if it has passed). */
export const sleepUntil = (epochMs) => sleep(Math.max(0, epochMs - Date.now()));

/** Wait until the wall clock is just past a second boundary (jotd counts whole seconds), so
 *  that a sequence of short steps lands within predictable seconds. */
export async function alignToSecond() {
  const ms = Date.now() % 1000;
  if (ms > 20) await sleep(1000 - ms + 5);
}

/** The environment of child processes: ours without any JOTD_* variable. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('JOTD_')) env[k] = v;
  return { ...env, ...extra };
}

// ---- PostgreSQL (JOTD_TEST_STORE) ---------------------------------------------------------

/** The admin URI of the PostgreSQL the tests run on, or undefined: SQLite in --data. */
export const PG_ADMIN_URI = process.env.JOTD_TEST_STORE || undefined;
/** The store the harness gives its servers: 'postgresql' or 'sqlite'. */
export const STORE_KIND = PG_ADMIN_URI ? 'postgresql' : 'sqlite';

/** \p uri (a libpq URI: postgresql://[user@]host[:port][,...]/db?params, or the socket form
 *  postgresql:///db?host=/dir&port=N) with its database name replaced by \p db. */
export function pgUriWithDb(uri, db) {
  const m = uri.match(/^(postgres(?:ql)?:\/\/)([^/?]*)(\/[^?]*)?(\?.*)?$/);
  if (!m) throw new Error(`not a libpq URI: ${uri}`);
  return `${m[1]}${m[2]}/${encodeURIComponent(db)}${m[4] ?? ''}`;
}

/** Run SQL on the admin database with psql; returns its stdout, throws with its stderr. */
export function pgAdmin(sql, adminUri = PG_ADMIN_URI) {
  const r = spawnSync('psql', [adminUri, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8',
    timeout: 60_000,
    env: cleanEnv(),
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`psql ${JSON.stringify(sql)}: status ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const pgDbs = new Map(); // data directory -> { name, uri }

/** The --store URI of the database of data directory \p dir, created on first use; undefined
 *  without JOTD_TEST_STORE. */
export function pgStoreFor(dir) {
  if (!PG_ADMIN_URI) return undefined;
  const key = path.resolve(dir);
  let db = pgDbs.get(key);
  if (!db) {
    const name = `jot_e2e_${crypto.randomBytes(6).toString('hex')}`;
    pgAdmin(`CREATE DATABASE "${name}"`);
    db = { name, uri: pgUriWithDb(PG_ADMIN_URI, name) };
    pgDbs.set(key, db);
  }
  return db.uri;
}

/** Drop the database of \p dir, if it has one (best effort: a failure is only printed). */
function pgDrop(dir) {
  const key = path.resolve(dir);
  const db = pgDbs.get(key);
  if (!db) return;
  pgDbs.delete(key);
  try {
    pgAdmin(`DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`);
  } catch (e) {
    process.stderr.write(`harness: cannot drop ${db.name}: ${e.message}\n`);
  }
}

/** Every byte the store of data directory \p dir holds, to search for what must never be
 *  stored (a secret as given): the SQLite file, or a data-only pg_dump of its database. */
export function storeDump(dir) {
  if (!PG_ADMIN_URI) return fs.readFileSync(path.join(dir, 'jotd.db'));
  const r = spawnSync('pg_dump', ['--data-only', '--no-owner', '--dbname', pgStoreFor(dir)], {
    encoding: 'utf8', timeout: 60_000, env: cleanEnv(), maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`pg_dump: status ${r.status}: ${r.stderr}`);
  return Buffer.from(r.stdout);
}

/** One SQL query on the store of data directory \p dir (read beside a running jotd): the
 *  rows as text, one per line, columns separated by '|' (sqlite3 CLI or psql). Throws on
 *  failure. With \p write, a change behind jotd's back (tests that need a time moved). */
export function storeQuery(dir, sql, { write = false } = {}) {
  const [cmd, args] = PG_ADMIN_URI
    ? ['psql', [pgStoreFor(dir), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql]]
    : ['sqlite3', [...(write ? ['-cmd', '.timeout 5000'] : ['-readonly']), path.join(dir, 'jotd.db'), sql]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, env: cleanEnv() });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${JSON.stringify(sql)}: status ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Open a value sealed by jotd (server/seal.h: "v1.<kek id>.<nonce>.<ciphertext+tag>",
 *  AES-256-GCM under HMAC-SHA256(KEK, "jotd seal v1"), associated data "jotd:v1:<purpose>")
 *  with the KEK file \p kekFile: written here from the format's description, not from the C
 *  code, so that the tests also check the format. Returns a Buffer; throws when it does not
 *  open. */
export function unseal(kekFile, purpose, sealed) {
  const kek = Buffer.from(fs.readFileSync(kekFile, 'utf8').trim(), 'base64url');
  assert.equal(kek.length, 32, 'a KEK file holds 32 bytes');
  const key = crypto.createHmac('sha256', kek).update('jotd seal v1').digest();
  const id = crypto.createHmac('sha256', kek).update('jotd kek id v1').digest().subarray(0, 8).toString('hex');
  const [v, kid, nonce, body] = sealed.split('.');
  assert.equal(v, 'v1');
  assert.equal(kid, id, 'sealed with this KEK');
  const raw = Buffer.from(body, 'base64url');
  const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
  d.setAAD(Buffer.from(`jotd:v1:${purpose}`));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]);
}

/** The signing keys in the store of data directory \p dir (opened with DATA/key-encryption-key
 *  or \p kekFile), in the store's order: [{kid, alg, activateAt, revokedAt, jwk (private)}]. */
export function storeSigningKeys(dir, kekFile = path.join(dir, 'key-encryption-key')) {
  const out = storeQuery(dir, 'SELECT kid, alg, activate_at, coalesce(revoked_at, 0), private_sealed FROM signing_keys ORDER BY activate_at, created_at, kid');
  return out.split('\n').filter(Boolean).map((line) => {
    const [kid, alg, act, rev, sealed] = line.split('|');
    const jwk = JSON.parse(unseal(kekFile, `signing-key:${kid}`, sealed).toString('utf8'));
    return { kid, alg, activateAt: Number(act), revokedAt: Number(rev), jwk };
  });
}

/** \p args with `--store URI` of the database of its --data directory added (after the
 *  --data DIR, so before any "--"), when JOTD_TEST_STORE is set and no --store is given. */
function withStore(args) {
  if (!PG_ADMIN_URI || args.some((a) => a === '--store' || a.startsWith('--store='))) return args;
  const stop = args.indexOf('--');
  const end = stop < 0 ? args.length : stop;
  for (let i = 0; i < end; i++) {
    let dir, next;
    if (args[i] === '--data' && i + 1 < end) [dir, next] = [args[i + 1], i + 2];
    else if (args[i].startsWith('--data=')) [dir, next] = [args[i].slice(7), i + 1];
    else continue;
    if (!dir) return args;
    return [...args.slice(0, next), '--store', pgStoreFor(dir), ...args.slice(next)];
  }
  return args;
}

// ---- cleanup of everything we started, even when a test throws ----------------------------

const live = new Set(); // running child processes
const dirs = new Set(); // temporary directories

function cleanupAll() {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  for (const d of [...pgDbs.keys()]) pgDrop(d);
}

process.on('exit', cleanupAll);
// killed from outside (a CTest timeout, ^C): no server may outlive us
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
  });
}

/** A temporary directory, removed at exit (or earlier with rmTmp). */
export function mkTmp(prefix = 'jotd-e2e-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(d);
  return d;
}

export function rmTmp(d) {
  fs.rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
  pgDrop(d);
}

// ---- operator commands --------------------------------------------------------------------

/** Run `jotd ARGS` synchronously; \p input goes to stdin. With JOTD_TEST_STORE, a command
 *  naming --data DIR also gets the --store of DIR's database (see pgStoreFor). */
export function jotdCmd(args, { input, env } = {}) {
  const r = spawnSync(JOTD, withStore(args), {
    input: input ?? '',
    encoding: 'utf8',
    env: cleanEnv(env),
    timeout: 60_000,
  });
  // EPIPE: the command exited (refusing its arguments) before reading the input we offered;
  // its status and output are what the test looks at
  if (r.error && !(r.error.code === 'EPIPE' && r.status !== null)) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function show(r) {
  return `status=${r.status} signal=${r.signal}\nstdout=${JSON.stringify(r.stdout)}\nstderr=${JSON.stringify(r.stderr)}`;
}

/** Run `jot ARGS` (the CLI), asserting success; returns stdout without the final newline. */
export function jot(args, { input } = {}) {
  const r = spawnSync(JOT, args, { input: input ?? '', encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, show(r));
  return r.stdout.replace(/\n$/, '');
}

// ---- HTTP ---------------------------------------------------------------------------------

export const basic = (id, secret) =>
  'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
export const bearer = (tok) => `Bearer ${tok}`;

/** Send one HTTP(S) request with node:http and read the whole answer:
 *  { status, headers (a Headers object), text, json (or undefined), body (Buffer) }.
 *  Without an \p agent the connection is closed after the answer (no idle keep-alive
 *  connections that would hold up a draining server). */
export function httpRequest(url, { method = 'GET', headers = {}, body, agent, ca } = {}) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method, headers, agent: agent ?? false, ca, timeout: 30_000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            for (const one of Array.isArray(v) ? v : [v]) h.append(k, one);
          }
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: h, text, json, body: buf, rawHeaders: res.rawHeaders });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export function describeResponse(r) {
  return `status=${r.status} headers=${JSON.stringify(Object.fromEntries(r.headers))} body=${r.text}`;
}

// ---- the server ---------------------------------------------------------------------------

/** An HTTP server at this.base (with this.agent and this.ca when set): what the tests send
 *  to a jotd (Jotd) or to a load balancer in front of several (lib/nginx.mjs). */
export class HttpEndpoint {
  url(p) {
    return new URL(p, this.base);
  }

  /** Send a request; body: a string/Buffer, or `form` (object → x-www-form-urlencoded) or
   *  `json` (object → application/json). */
  async request(p, { method = 'GET', headers = {}, form, json, body } = {}) {
    const h = { ...headers };
    if (form !== undefined) {
      body = new URLSearchParams(form).toString();
      h['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (json !== undefined) {
      body = typeof json === 'string' ? json : JSON.stringify(json);
      h['content-type'] ??= 'application/json';
    }
    return httpRequest(this.url(p), { method, headers: h, body, agent: this.agent, ca: this.ca });
  }

  get(p, headers = {}) {
    return this.request(p, { headers });
  }

  post(p, form, headers = {}) {
    return this.request(p, { method: 'POST', form, headers });
  }

  /** POST /token with form parameters. */
  token(params, headers = {}) {
    return this.post('/token', params, headers);
  }
}

export class Jotd extends HttpEndpoint {
  /**
   * Start `jotd serve` with a fresh (or given) data directory.
   * @param {object} o
   * @param {string[]} [o.args] extra flags
   * @param {string} [o.data] existing data directory (not removed by stop())
   * @param {string|null} [o.issuer] --issuer (null: none, the server's default)
   * @param {object} [o.env] extra environment
   * @param {boolean} [o.cheap] add the cheap Argon2 flags (default true)
   * @param {string} [o.listen] --listen (default 127.0.0.1:0)
   * @param {string} [o.scheme] 'http' or 'https' (for waiting on /healthz)
   * @param {object} [o.agent] node:https Agent for HTTPS servers
   * @param {string|false} [o.store] --store URI (default: with JOTD_TEST_STORE, the database
   *   of the data directory; else none, SQLite in the data directory); false: no --store flag
   *   (a test giving JOTD_STORE in \p env)
   */
  static async start(o = {}) {
    const s = new Jotd();
    await s._start(o);
    return s;
  }

  async _start({ args = [], data, issuer = ISSUER, env = {}, cheap = true, listen = '127.0.0.1:0', agent, ca, store } = {}) {
    this.ownData = !data;
    this.data = data ?? mkTmp('jotd-data-');
    this.issuer = issuer;
    this.agent = agent;
    this.ca = ca;
    this.store = store === false ? undefined : store ?? pgStoreFor(this.data);
    const argv = ['serve', '--data', this.data, '--listen', listen];
    if (this.store) argv.push('--store', this.store);
    if (issuer) argv.push('--issuer', issuer);
    if (cheap) argv.push(...CHEAP_ARGON2);
    argv.push(...args);
    this.argv = argv;
    this.stdout = '';
    this.stderr = '';
    this.exit = null;
    const p = spawn(JOTD, argv, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    live.add(p);
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (this.stdout += d));
    p.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      p.on('exit', (code, signal) => {
        live.delete(p);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    p.on('error', () => {});
    // A server left running by a failed test must not keep the test process alive: the
    // handles are unreferenced and the exit handler above kills what is left.
    p.unref();
    p.stdout.unref();
    p.stderr.unref();
    const deadline = Date.now() + 15_000;
    let m;
    while (!(m = this.stdout.match(/^jotd listening on (https?:\/\/[^\s]+)$/m))) {
      if (this.exit) throw new Error(`jotd exited before listening: ${JSON.stringify(this.exit)}\nstdout=${this.stdout}\nstderr=${this.stderr}`);
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`jotd did not report listening\nstdout=${this.stdout}\nstderr=${this.stderr}`);
      }
      await sleep(10);
    }
    this.base = m[1];
    this.port = Number(new URL(this.base).port);
    this.audience = issuer; // the audience defaults to the issuer
    // wait for /healthz
    for (;;) {
      try {
        const r = await this.get('/healthz');
        if (r.status === 200) break;
      } catch {
        /* not yet */
      }
      if (this.exit) throw new Error(`jotd exited: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`jotd /healthz never answered 200\nstderr=${this.stderr}`);
      await sleep(20);
    }
    const a = this.stdout.match(/^Created user 'admin' with password: (\S+)$/m);
    this.adminPassword = a ? a[1] : undefined;
    this.jwks = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', this.base), {
      cooldownDuration: 0,
      cacheMaxAge: 0, // always the JWKS served now (key rotation tests)
      agent: this.base.startsWith('https:')
        ? new https.Agent({ keepAlive: false, ca })
        : new http.Agent({ keepAlive: false }),
    });
  }


  /** Password grant that must succeed; returns the body with .claims/.header of the access
   *  token (verified with jose). */
  async login(username, password, extra = {}, headers = {}) {
    const r = await this.token({ grant_type: 'password', username, password, ...extra }, headers);
    assert.equal(r.status, 200, `login ${username}: ${describeResponse(r)}`);
    return this.checkTokenResponse(r);
  }

  /** Refresh grant that must succeed. */
  async refresh(refreshToken, extra = {}, headers = {}) {
    const r = await this.token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, headers);
    assert.equal(r.status, 200, `refresh: ${describeResponse(r)}`);
    return this.checkTokenResponse(r);
  }

  /** A 200 token response: shape, no-store, and the access token verified with jose. */
  async checkTokenResponse(r) {
    const b = r.json;
    assert.ok(b, `JSON body: ${r.text}`);
    assert.equal(b.token_type, 'Bearer');
    assert.equal(typeof b.access_token, 'string');
    assert.equal(typeof b.refresh_token, 'string');
    assert.match(b.refresh_token, /^[A-Za-z0-9_-]{43}$/, 'refresh token: 256 bits base64url');
    assert.equal(typeof b.expires_in, 'number');
    assert.equal(typeof b.scope, 'string');
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    const v = await this.verifyAccess(b.access_token);
    return { ...b, claims: v.payload, header: v.protectedHeader };
  }

  /** Verify an access token with jose against this server's JWKS: signature, iss, aud,
   *  typ at+jwt, and a kid in the header. */
  async verifyAccess(tok, { jwks } = {}) {
    const v = await jose.jwtVerify(tok, jwks ?? this.jwks, {
      issuer: this.issuer,
      audience: this.audience,
      typ: 'at+jwt',
      clockTolerance: 5, // as jotd's own verifier: 1-second tokens must not fail on a tick
      algorithms: ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'],
    });
    assert.equal(v.protectedHeader.typ, 'at+jwt');
    assert.equal(typeof v.protectedHeader.kid, 'string');
    assert.ok(v.protectedHeader.kid.length > 0, 'kid present');
    return v;
  }

  /** Run an operator command against this server's data directory (and store). */
  cmd(args, { input, env } = {}) {
    const store = this.store ? ['--store', this.store] : [];
    return jotdCmd([...args, '--data', this.data, ...store, ...cheapFor(args)], { input, env });
  }

  /** `jotd user add NAME --password-stdin [--role R]... [--permission P]...`, must succeed. */
  addUser(name, password, { roles = [], permissions = [] } = {}) {
    const args = ['user', 'add', name, '--password-stdin'];
    for (const r of roles) args.push('--role', r);
    for (const p of permissions) args.push('--permission', p);
    const r = this.cmd(args, { input: password + '\n' });
    assert.equal(r.status, 0, show(r));
    return r;
  }

  /** `jotd client add ID --secret-stdin` or `--public`, must succeed. \p secret: at least 32
   *  characters. A confidential client may introspect tokens for this server's audience
   *  unless \p introspect says otherwise ([] for none). */
  addClient(id, secret, { scopes = [], defaultScopes = [], introspect } = {}) {
    const args = ['client', 'add', id, secret === undefined ? '--public' : '--secret-stdin'];
    for (const s of scopes) args.push('--scope', s);
    for (const s of defaultScopes) args.push('--default-scope', s);
    for (const a of introspect ?? (secret === undefined ? [] : [this.audience ?? this.base]))
      args.push('--introspect', a);
    const r = this.cmd(args, { input: secret === undefined ? '' : secret + '\n' });
    assert.equal(r.status, 0, show(r));
    return r;
  }

  /** `jotd client update ID` with new scopes / default scopes / introspection audiences. */
  updateClient(id, { scopes, defaultScopes, introspect } = {}) {
    const args = ['client', 'update', id];
    const list = (flag, none, v) => {
      if (v === undefined) return;
      if (v.length === 0) args.push(none);
      for (const x of v) args.push(flag, x);
    };
    list('--scope', '--no-scopes', scopes);
    list('--default-scope', '--no-default-scopes', defaultScopes);
    list('--introspect', '--no-introspect', introspect);
    const r = this.cmd(args);
    assert.equal(r.status, 0, show(r));
    return r;
  }

  /** The JSON lines of stderr (a line that is not JSON fails the assertion). */
  logs() {
    return this.stderr
      .split('\n')
      .filter((l) => l.length)
      .map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          assert.fail(`stderr line is not JSON: ${l}`);
        }
      });
  }

  /** Wait for a log line matching \p pred (logs of a request are written when it completes). */
  async waitLog(pred, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const l = this.logs().find(pred);
      if (l) return l;
      if (Date.now() > deadline) assert.fail(`no such log line in:\n${this.stderr}`);
      await sleep(20);
    }
  }

  signal(sig) {
    this.proc.kill(sig);
  }

  /** Wait for the process to exit (at most \p ms, then SIGKILL); returns { code, signal }. */
  async waitExit(ms = 20_000) {
    const t = setTimeout(() => this.kill(), ms); // also keeps the event loop alive meanwhile
    await this.exited;
    clearTimeout(t);
    return this.exit;
  }

  /** SIGHUP and wait for the "reloaded" log line (the n-th one). */
  async reload() {
    const before = this.logs().filter((l) => /reload/.test(l.msg ?? '')).length;
    this.signal('SIGHUP');
    const deadline = Date.now() + 5000;
    while (this.logs().filter((l) => /reload/.test(l.msg ?? '')).length <= before) {
      if (Date.now() > deadline) assert.fail(`no reload log line after SIGHUP:\n${this.stderr}`);
      await sleep(20);
    }
    const last = this.logs().filter((l) => /reload/.test(l.msg ?? '')).pop();
    assert.equal(last.level, 'info', `reload failed: ${JSON.stringify(last)}`);
  }

  /** SIGTERM, wait for the exit, assert it was 0; remove the data directory we made. */
  async stop({ keepData = false } = {}) {
    if (!this.exit) {
      this.proc.kill('SIGTERM');
      await this.waitExit();
    }
    if (this.ownData && !keepData) rmTmp(this.data);
    assert.deepEqual(this.exit, { code: 0, signal: null }, `jotd exit after SIGTERM\nstderr=${this.stderr.slice(-2000)}`);
  }

  /** Kill without assertions (cleanup after a failure). */
  kill() {
    if (!this.exit) this.proc.kill('SIGKILL');
  }
}

/** Decode the JSON of a JWT segment without verifying. */
export function jwtPart(tok, i) {
  return JSON.parse(Buffer.from(tok.split('.')[i], 'base64url').toString('utf8'));
}

/** The sorted X-Auth-* headers of a response, as an object. */
export function authHeaders(r) {
  const o = {};
  for (const [k, v] of r.headers) if (k.startsWith('x-auth-')) o[k] = v;
  return o;
}
