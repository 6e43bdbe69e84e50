// jotd operations: operator commands, key rotation and the JWKS, SIGHUP and SIGTERM, TLS,
// the plain-HTTP guard, configuration precedence, file modes and secrets in logs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CHEAP_ARGON2, ISSUER, JOTD, Jotd, bearer, cheapFor, describeResponse, httpRequest, jose, jotdCmd, mkTmp, nowSec, show, sleep, STORE_KIND, pgStoreFor, storeDump, storeQuery, storeSigningKeys, PG_ADMIN_URI,
} from './lib/jotd.mjs';

const PW = 'ops-tests-password';
const secrets = new Set([PW]); // passwords and tokens used here: none may reach a log
const servers = []; // every server of this file, for the log scan at the end

after(() => {
  for (const s of servers) s.kill(); // those a failed test left running
});

async function start(o) {
  const s = await Jotd.start(o);
  servers.push(s);
  if (s.adminPassword) secrets.add(s.adminPassword);
  return s;
}

function remember(b) {
  secrets.add(b.access_token);
  secrets.add(b.refresh_token);
  return b;
}

/** jotd with --data DIR and the cheap Argon2 flags. */
const op = (data, args, input) => jotdCmd([...args, '--data', data, ...cheapFor(args)], { input });

function ok(r, re) {
  assert.equal(r.status, 0, show(r));
  if (re) assert.match(r.stdout, re, show(r));
  return r.stdout;
}

function fails(r, re) {
  assert.notEqual(r.status, 0, show(r));
  assert.equal(r.signal, null, show(r));
  if (re) assert.match(r.stderr, re, show(r));
}

const jwksKids = async (s) => (await s.get('/.well-known/jwks.json')).json.keys.map((k) => k.kid);

async function loginFails(s, username, password) {
  const r = await s.token({ grant_type: 'password', username, password });
  assert.equal(r.status, 400, describeResponse(r));
  assert.equal(r.json.error, 'invalid_grant');
}

async function refreshFails(s, rt) {
  const r = await s.token({ grant_type: 'refresh_token', refresh_token: rt });
  assert.equal(r.status, 400, describeResponse(r));
  assert.equal(r.json.error, 'invalid_grant');
}

describe('readiness', () => {
  test('/readyz: 200 ready when the store answers; /healthz stays liveness; HEAD and 405', async () => {
    const s = await start();
    try {
      const r = await s.get('/readyz');
      assert.equal(r.status, 200, describeResponse(r));
      assert.deepEqual(r.json, { status: 'ready' });
      assert.match(r.headers.get('cache-control') ?? '', /no-store/);
      assert.deepEqual((await s.get('/healthz')).json, { status: 'ok' });
      assert.equal((await s.request('/readyz', { method: 'HEAD' })).status, 200);
      assert.equal((await s.request('/readyz', { method: 'POST', body: '' })).status, 405);
      await s.stop();
    } finally {
      s.kill();
    }
  });
});

describe('backup and restore', () => {
  test('jotd backup while serving (the WAL included), restore into a new data directory, log in and refresh there', async () => {
    const s = await start();
    try {
      s.addUser('alice', PW);
      const before = remember(await s.login('alice', PW));
      const dir = mkTmp('jotd-backup-');
      const dest = path.join(dir, 'jotd-backup.db');
      if (STORE_KIND !== 'sqlite') {
        const r = op(s.data, ['backup', dest]);
        assert.notEqual(r.status, 0, show(r));
        assert.match(r.stderr, /pg_dump.*docs\/deploy\.md/, show(r));
        assert.ok(!fs.existsSync(dest));
        return;
      }
      // written by another process while jotd holds the database open: in the WAL only
      ok(op(s.data, ['user', 'add', 'walonly', '--password-stdin'], PW + '\n'));
      const wal = path.join(s.data, 'jotd.db-wal');
      assert.ok(fs.existsSync(wal) && fs.statSync(wal).size > 0, 'the WAL holds the latest commits');
      // the naive copy of jotd.db alone misses them (what the issue saw)
      const naive = mkTmp('jotd-naive-');
      fs.copyFileSync(path.join(s.data, 'jotd.db'), path.join(naive, 'jotd.db'));
      fs.copyFileSync(path.join(s.data, 'key-encryption-key'), path.join(naive, 'key-encryption-key'));
      assert.doesNotMatch(op(naive, ['user', 'list']).stdout ?? '', /walonly/, 'the naive copy lacks the WAL');
      // the backup runs while logins and refreshes keep writing
      const child = spawn(JOTD, ['backup', dest, '--data', s.data], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const done = new Promise((resolve) => child.on('exit', resolve));
      const load = [];
      for (let i = 0; i < 4; i++) load.push(s.login('alice', PW).then((b) => s.refresh(remember(b).refresh_token)));
      const [code] = await Promise.all([done, Promise.all(load)]);
      assert.equal(code, 0, `jotd backup: ${out}${err}`);
      assert.match(out, /jotd-backup\.db \(mode 0600\)/);
      assert.equal(fs.statSync(dest).mode & 0o777, 0o600);
      const kekCopy = `${dest}.key-encryption-key`;
      assert.equal(fs.statSync(kekCopy).mode & 0o777, 0o600);
      assert.equal(fs.readFileSync(kekCopy, 'utf8'), fs.readFileSync(path.join(s.data, 'key-encryption-key'), 'utf8'));
      assert.ok(!fs.existsSync(`${dest}-wal`), 'the backup is one file');
      // never over an existing file
      const again = op(s.data, ['backup', dest]);
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /exists: refusing to overwrite/);

      // restore into a new data directory; never into one that holds a store
      const fresh = path.join(mkTmp('jotd-restore-'), 'data');
      const refused = op(s.data, ['restore', dest]);
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /already holds a store/);
      const r = op(fresh, ['restore', dest]);
      ok(r);
      assert.equal(fs.statSync(path.join(fresh, 'jotd.db')).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(fresh, 'key-encryption-key')).mode & 0o777, 0o600);
      assert.match(op(fresh, ['user', 'list']).stdout, /walonly/, 'what was in the WAL is in the backup');
      // a key file of the operator's (--key-encryption-key, existing): used, not overwritten
      const own = path.join(mkTmp('jotd-kek-'), 'kek');
      fs.copyFileSync(kekCopy, own);
      fs.chmodSync(own, 0o600);
      const other = path.join(mkTmp('jotd-restore-'), 'data');
      const r2 = jotdCmd(['restore', dest, '--data', other, '--key-encryption-key', own]);
      ok(r2);
      assert.match(r2.stdout, /opened with the key/);
      assert.ok(!fs.existsSync(path.join(other, 'key-encryption-key')));
      await s.stop();
      const t = await start({ data: fresh });
      try {
        remember(await t.login('alice', PW)); // existing credentials
        remember(await t.login('walonly', PW));
        remember(await t.refresh(before.refresh_token)); // an existing refresh token rotates
        // the JWKS of the restored server verifies the old access token: same signing key
        assert.equal((await t.get('/verify', { authorization: bearer(before.access_token) })).status, 200);
        await t.stop();
      } finally {
        t.kill();
      }
    } finally {
      s.kill();
    }
  });
});

describe('operator commands', () => {
  test('usage: --help, no command, unknown commands', () => {
    const h = jotdCmd(['--help']);
    assert.equal(h.status, 0, show(h));
    assert.match(h.stdout, /jotd serve/);
    assert.match(h.stdout, /--password-stdin/);
    fails(jotdCmd([]));
    fails(jotdCmd(['bogus']));
    fails(jotdCmd(['user']), /subcommand/);
    // every option of the table in docs/jotd.md is in --help (derived from config.c's table)
    const doc = fs.readFileSync(path.resolve(process.env.JOT_SOURCE_DIR ?? '../..', 'docs', 'jotd.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(--[a-z0-9-]+)/gm)].map((m) => m[1]);
    assert.ok(documented.length > 25, `options found in docs/jotd.md: ${documented}`);
    for (const flag of documented) assert.match(h.stdout, new RegExp(`^  ${flag}\\b`, 'm'), `${flag} in jotd --help`);
    // and jotd(8) names every option --help lists
    const man = fs.readFileSync(path.resolve(process.env.JOT_SOURCE_DIR ?? '../..', 'docs', 'man', 'jotd.8'), 'utf8').replaceAll('\\-', '-');
    for (const m of h.stdout.matchAll(/^  (--[a-z0-9-]+)/gm)) assert.ok(man.includes(m[1]), `${m[1]} in docs/man/jotd.8`);
    // every command's --help: its usage on stdout, exit 0
    for (const cmd of [['serve'], ['init'], ['migrate'], ['user'], ['user', 'add'], ['user', 'list'], ['client'], ['client', 'add'],
      ['client', 'rotate-secret'], ['keys'], ['keys', 'rotate'], ['keys', 'revoke'], ['backup'], ['restore']]) {
      const r = jotdCmd([...cmd, '--help']);
      assert.equal(r.status, 0, `jotd ${cmd.join(' ')} --help: ${show(r)}`);
      assert.match(r.stdout, new RegExp(`^usage: jotd ${cmd.join(' ')}`), show(r));
    }
    assert.match(jotdCmd(['serve', '--help']).stdout, /--events-listen on\|off/);
    assert.match(jotdCmd(['user', 'add', '--help']).stdout, /--argon2-m-kib/);
    const data = mkTmp();
    fails(op(data, ['user', 'frobnicate', 'x']));
    fails(op(data, ['client', 'frobnicate', 'x']));
    fails(op(data, ['keys', 'frobnicate']));
  });

  test('a data directory that does not exist: operator commands fail clearly, jotd init makes one', () => {
    const parent = mkTmp();
    const data = path.join(parent, 'missing');
    // (migrate --store needs no data directory: SQLite only)
    for (const args of [['user', 'list'], ['keys', 'list'], ['client', 'list'], ...(STORE_KIND === 'sqlite' ? [['migrate']] : [])]) {
      const r = jotdCmd([...args, '--data', data]);
      assert.notEqual(r.status, 0, show(r));
      assert.match(r.stderr, /data directory .*missing does not exist.*jotd init --data/, show(r));
      assert.ok(!fs.existsSync(data), `jotd ${args.join(' ')} created ${data}`);
    }
    // without --data: ./var is not made in the working directory either
    const cwd = mkTmp();
    const r = spawnSync(JOTD, ['user', 'list'], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /data directory \.\/var does not exist/);
    assert.ok(!fs.existsSync(path.join(cwd, 'var')));
    if (STORE_KIND !== 'sqlite') return; // the rest reads DATA/jotd.db
    const init = jotdCmd(['init', '--data', data]);
    ok(init);
    assert.match(init.stdout, /created the data directory/);
    assert.match(init.stdout, /sqlite store .*jotd\.db, schema version \d+/);
    assert.match(init.stdout, /key-encryption-key \(created, mode 0600/);
    assert.match(init.stdout, /signing key ready/);
    assert.equal(fs.statSync(data).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(data, 'key-encryption-key')).mode & 0o777, 0o600);
    ok(op(data, ['user', 'list']));
    assert.match(op(data, ['keys', 'list']).stdout, /ES256 .*state=active/);
    // a second init refuses to touch the store
    const again = jotdCmd(['init', '--data', data]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /already holds a store/);
  });

  test('jotd migrate: the schema version and where the store is', () => {
    const data = mkTmp();
    const r = jotdCmd(['migrate', '--data', data]);
    assert.equal(r.status, 0, show(r));
    const where = STORE_KIND === 'sqlite' ? `${data}/jotd.db` : 'postgresql:///jot_e2e_';
    assert.ok(r.stdout.startsWith('jotd: schema version '), show(r));
    assert.match(r.stdout, /^jotd: schema version [1-9]\d* \((sqlite|postgresql), [^)]+\)\n$/, show(r));
    assert.ok(r.stdout.includes(`(${STORE_KIND}, ${where}`), show(r));
    // again: nothing to do, the same answer
    assert.equal(jotdCmd(['migrate', '--data', data]).stdout, r.stdout);
    fails(jotdCmd(['migrate', '--data', data, 'extra']), /unexpected argument/);
    fails(jotdCmd(['migrate', '--data', data, '--issuer', 'https://x.test']), /--issuer does not apply to 'jotd migrate'/);
  });

  test('--store: a libpq URI only; no password on the command line; passwords never printed', () => {
    const data = mkTmp();
    for (const bad of ['/var/lib/jotd/jotd.db', 'sqlite:///x.db', 'mysql://u:s3cretpw@h/db']) {
      const r = jotdCmd(['user', 'list', '--data', data, '--store', bad]);
      assert.equal(r.status, 2, show(r));
      assert.match(r.stderr, /--store: expected a PostgreSQL connection URI/, show(r));
      assert.ok(!r.stderr.includes('s3cretpw'), show(r));
    }
    for (const uri of ['postgresql://jot:s3cretpw@127.0.0.1:1/jot', 'postgresql:///jot?host=/nonexistent&password=s3cretpw']) {
      for (const cmd of [['user', 'list', '--data', data], ['migrate'], ['serve', '--data', data, '--listen', '127.0.0.1:0']]) {
        const r = jotdCmd([...cmd, '--store', uri]);
        assert.equal(r.status, 2, show(r));
        assert.match(r.stderr, /refusing a password on the command line/, show(r));
        assert.match(r.stderr, /PGPASSFILE/, show(r));
        assert.ok(!r.stderr.includes('s3cretpw') && !r.stdout.includes('s3cretpw'), show(r));
      }
      // from the environment it is taken; the store is unreachable, and the error redacts it
      const r = jotdCmd(['migrate'], { env: { JOTD_STORE: uri + (uri.includes('?') ? '&' : '?') + 'connect_timeout=2' } });
      assert.equal(r.status, 1, show(r));
      assert.match(r.stderr, /cannot open the database postgres/, show(r));
      assert.ok(r.stderr.includes('***'), show(r));
      assert.ok(!r.stderr.includes('s3cretpw'), show(r));
    }
  });

  test('user add / list / roles / disable / enable / delete without a server', () => {
    const data = mkTmp();
    ok(op(data, ['user', 'add', 'alice', '--role', 'editor', '--permission', 'posts:write', '--password-stdin'], PW + '\n'), /alice/);
    ok(op(data, ['user', 'add', 'bob', '--password-stdin'], PW), /bob/); // no final newline is fine too
    const list = ok(op(data, ['user', 'list']));
    assert.match(list, /^\d+\talice\tenabled\troles=editor\tpermissions=posts:write$/m);
    assert.match(list, /^\d+\tbob\tenabled\troles=\tpermissions=$/m);
    ok(op(data, ['user', 'roles', 'alice', '--role', 'a', '--role', 'b', '--permission', 'x:y']));
    assert.match(ok(op(data, ['user', 'list'])), /\talice\tenabled\troles=a,b\tpermissions=x:y$/m);
    ok(op(data, ['user', 'disable', 'bob']));
    assert.match(ok(op(data, ['user', 'list'])), /\tbob\tdisabled\t/);
    ok(op(data, ['user', 'enable', 'bob']));
    assert.match(ok(op(data, ['user', 'list'])), /\tbob\tenabled\t/);
    ok(op(data, ['user', 'delete', 'bob']));
    assert.doesNotMatch(ok(op(data, ['user', 'list'])), /\tbob\t/);
    // the password is never printed
    for (const r of [op(data, ['user', 'add', 'carol', '--password-stdin'], PW), op(data, ['user', 'passwd', 'carol', '--password-stdin'], PW + '2')]) {
      ok(r);
      assert.ok(!r.stdout.includes(PW) && !r.stderr.includes(PW));
    }
  });

  test('user command errors: exit non-zero with a message', () => {
    const data = mkTmp();
    ok(op(data, ['user', 'add', 'alice', '--password-stdin'], PW));
    fails(op(data, ['user', 'add', 'alice', '--password-stdin'], PW), /exists/);
    fails(op(data, ['user', 'add', 'dave']), /password-stdin/);
    fails(op(data, ['user', 'add', 'dave', '--password-stdin'], 'short'), /password/);
    fails(op(data, ['user', 'add', 'dave', '--password-stdin'], ''), /password/);
    fails(op(data, ['user', 'add', 'bad name', '--password-stdin'], PW), /user name/);
    fails(op(data, ['user', 'add', 'dave', '--role', 'bad role', '--password-stdin'], PW), /role/);
    fails(op(data, ['user', 'add', '--password-stdin'], PW));
    for (const sub of [['passwd', 'nobody', '--password-stdin'], ['roles', 'nobody'], ['disable', 'nobody'], ['enable', 'nobody'], ['delete', 'nobody']]) {
      fails(op(data, ['user', ...sub], PW), /nobody/);
    }
    assert.doesNotMatch(ok(op(data, ['user', 'list'])), /dave/, 'nothing was created by the failures');
  });

  test('passwords are never taken from argv: there is no such flag', () => {
    const data = mkTmp();
    for (const args of [
      ['user', 'add', 'eve', '--password', PW],
      ['user', 'add', 'eve', `--password=${PW}`],
      ['user', 'add', 'eve', PW],
      ['user', 'add', 'eve', '-p', PW],
      ['user', 'passwd', 'eve', '--password', PW],
      ['client', 'add', 'cli', '--secret', PW],
      ['client', 'add', 'cli', `--secret=${PW}`],
    ]) {
      fails(op(data, args));
    }
    assert.doesNotMatch(op(data, ['user', 'list']).stdout, /eve/);
    assert.doesNotMatch(op(data, ['client', 'list']).stdout, /cli/);
  });

  test('client add (confidential and public) and client list', () => {
    const data = mkTmp();
    ok(op(data, ['client', 'add', 'api', '--secret-stdin'], 'api-secret-value-0123456789abcdef-1234'), /confidential/);
    ok(op(data, ['client', 'add', 'web', '--public']), /public/);
    fails(op(data, ['client', 'add', 'api', '--public']), /exists/);
    fails(op(data, ['client', 'add', 'both', '--public', '--secret-stdin'], 'x-secret-value'));
    fails(op(data, ['client', 'add', 'neither']));
    fails(op(data, ['client', 'add', 'weak', '--secret-stdin'], 'short'));
    fails(op(data, ['client', 'add', 'bad id', '--public']));
    const lines = ok(op(data, ['client', 'list'])).trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split('\t')[0]), ['api', 'default', 'web']);
    assert.match(lines[0], /^api\tconfidential\t/);
    assert.match(lines[1], /^default\tpublic\t/, 'the default client comes with the data directory');
    // a secret is stored as a keyed hash, never as given
    const db = storeDump(data);
    assert.ok(db.length > 0 && !db.includes('api-secret-value-0123456789abcdef-1234'));
  });

  test('keys list: no key before the first start; after it the active key', async () => {
    const data = mkTmp();
    fails(op(data, ['keys', 'list']), /no signing key yet/);
    const s = await start({ data });
    const kid = s.adminPassword && (await s.login('admin', s.adminPassword)).header.kid;
    const out = ok(op(data, ['keys', 'list']));
    assert.match(out, new RegExp(`^${kid} ES256 created=\\S+ activates=\\S+ retires=- state=active$`, 'm'));
    await s.stop();
  });

  test('commands take effect on a running server', async () => {
    const s = await start();
    ok(s.cmd(['user', 'add', 'olive', '--role', 'r1', '--password-stdin'], { input: PW }));
    const l = remember(await s.login('olive', PW));
    assert.deepEqual(l.claims.roles, ['r1']);
    // passwd: old password out, new in, sessions ended
    const NEW = 'ops-new-password';
    secrets.add(NEW);
    ok(s.cmd(['user', 'passwd', 'olive', '--password-stdin'], { input: NEW }));
    await refreshFails(s, l.refresh_token);
    await loginFails(s, 'olive', PW);
    const l2 = remember(await s.login('olive', NEW));
    // disable: no login, sessions end; enable: login again
    ok(s.cmd(['user', 'disable', 'olive']));
    await refreshFails(s, l2.refresh_token);
    await loginFails(s, 'olive', NEW);
    ok(s.cmd(['user', 'enable', 'olive']));
    remember(await s.login('olive', NEW));
    // a client made while the server runs is usable at once
    ok(s.cmd(['client', 'add', 'live-client', '--secret-stdin'], { input: 'live-client-secret-0123456789abcdef' }));
    secrets.add('live-client-secret-0123456789abcdef');
    const c = remember(await s.login('olive', NEW, { client_id: 'live-client', client_secret: 'live-client-secret-0123456789abcdef' }));
    assert.equal(c.claims.client_id, 'live-client');
    // delete
    ok(s.cmd(['user', 'delete', 'olive']));
    await loginFails(s, 'olive', NEW);
    await refreshFails(s, c.refresh_token);
    await s.stop();
  });
});

describe('keys', () => {
  // the rotations below publish a key and activate it LEAD seconds later
  const LEAD = ['--key-lead-time', '2s', '--jwks-max-age', '1s'];
  /** Wait until the JWKS of \p s satisfies \p cond(kids) (a key change reaches a running
   *  server through the store's events); the lag is printed. */
  async function jwksUntil(s, what, cond) {
    const t0 = Date.now();
    for (;;) {
      const kids = await jwksKids(s);
      if (cond(kids)) {
        console.log(`# ${STORE_KIND}: ${what} lag ${Date.now() - t0} ms`);
        return kids;
      }
      assert.ok(Date.now() - t0 < 15_000, `${what}: not within 15 s (JWKS ${kids})`);
      await sleep(20);
    }
  }
  /** Move activation times in the store (a rotation made "long ago"). */
  const activateAt = (s, kid, t) => storeQuery(s.data, `UPDATE signing_keys SET activate_at = ${t} WHERE kid = '${kid}'`, { write: true });

  test('rotation: published at once, signs from the printed time on; old tokens still verify', async () => {
    const s = await start();
    s.addUser('kate', PW);
    const t1 = remember(await s.login('kate', PW));
    const k1 = t1.header.kid;
    const out = ok(s.cmd(['keys', 'rotate', ...LEAD]), /new signing key \S+ \(ES256\) published; it signs from \S+Z \(in 2 s\)/);
    const k2 = out.match(/new signing key (\S+)/)[1];
    const at = Date.parse(out.match(/signs from (\S+)/)[1]);
    assert.notEqual(k2, k1);
    // no SIGHUP: the running server learns of it from the store
    await jwksUntil(s, 'rotation (JWKS)', (kids) => kids.includes(k1) && kids.includes(k2));
    const before = remember(await s.login('kate', PW));
    if (Date.now() < at - 200) assert.equal(before.header.kid, k1, 'the old key signs until the activation time');
    await sleep(Math.max(0, at + 1100 - Date.now()));
    const t2 = remember(await s.login('kate', PW)); // verified with jose by login()
    assert.equal(t2.header.kid, k2);
    // the old token: jose with the served JWKS, /verify, and a refresh of its session
    const v = await s.verifyAccess(t1.access_token);
    assert.equal(v.protectedHeader.kid, k1);
    assert.equal((await s.get('/verify', { authorization: bearer(t1.access_token) })).status, 200);
    const r = remember(await s.refresh(t1.refresh_token));
    assert.equal(r.header.kid, k2);
    const list = ok(s.cmd(['keys', 'list']));
    assert.match(list, new RegExp(`^${k2} ES256 created=\\S+ activates=\\S+ retires=- state=active$`, 'm'));
    assert.match(list, new RegExp(`^${k1} ES256 .*retires=\\S+Z state=retired$`, 'm'));
    // the private parts are sealed in the store: the served key is the stored one, the store
    // holds no private JWK in the clear
    const stored = storeSigningKeys(s.data);
    assert.deepEqual(stored.map((k) => k.kid), [k1, k2]);
    assert.ok(!storeDump(s.data).includes(stored[1].jwk.d), 'a private key in the clear');
    await s.stop();
  });

  test('rotate --alg EdDSA: the new key signs EdDSA tokens that jose verifies', async () => {
    const s = await start();
    s.addUser('ed', PW);
    const out = ok(s.cmd(['keys', 'rotate', '--alg', 'EdDSA', ...LEAD]), /\(EdDSA\)/);
    await sleep(Math.max(0, Date.parse(out.match(/signs from (\S+)/)[1]) + 1100 - Date.now()));
    await jwksUntil(s, 'rotation (JWKS)', (kids) => kids.length === 2);
    const t = remember(await s.login('ed', PW));
    assert.equal(t.header.alg, 'EdDSA');
    fails(s.cmd(['keys', 'rotate', '--alg', 'HS256']));
    fails(s.cmd(['keys', 'rotate', '--alg', 'none']));
    // a lead time shorter than the JWKS max-age would sign before verifiers know the key
    fails(s.cmd(['keys', 'rotate', '--key-lead-time', '10s', '--jwks-max-age', '1m']), /--key-lead-time .* must be at least --jwks-max-age/);
    await s.stop();
  });

  test('a retired key whose tokens have all expired is not in the JWKS (restart)', async () => {
    const s1 = await start();
    s1.addUser('kim', PW);
    const old = remember(await s1.login('kim', PW));
    const k1 = old.header.kid;
    const k2 = ok(s1.cmd(['keys', 'rotate', ...LEAD])).match(/new signing key (\S+)/)[1];
    await s1.stop({ keepData: true });
    // pretend the rotation happened long ago: activation + access_ttl (900) + 60 s < now
    activateAt(s1, k1, nowSec() - 5000);
    activateAt(s1, k2, nowSec() - 900 - 60 - 30);
    const s2 = await start({ data: s1.data });
    const kids = await jwksKids(s2);
    assert.deepEqual(kids, [k2], `the expired key ${k1} is still served`);
    await assert.rejects(s2.verifyAccess(old.access_token), /no applicable key|JWKSNoMatchingKey|matching/i);
    const v = await s2.get('/verify', { authorization: bearer(old.access_token) });
    assert.equal(v.status, 401, describeResponse(v));
    assert.match(ok(s2.cmd(['keys', 'list'])), new RegExp(`^${k1} .*state=expired$`, 'm'));
    const fresh = remember(await s2.login('kim', PW));
    assert.equal(fresh.header.kid, k2);
    await s2.stop();
  });

  test('a running server drops a retired key when its window ends (no SIGHUP needed)', async () => {
    const s = await start();
    s.addUser('kit', PW);
    const k1 = remember(await s.login('kit', PW)).header.kid;
    const jwk1 = storeSigningKeys(s.data).find((k) => k.kid === k1).jwk;
    const k2 = ok(s.cmd(['keys', 'rotate', ...LEAD])).match(/new signing key (\S+)/)[1];
    // the old key's window (k2's activation + 900 + 60) ends 2 s from now
    const end = nowSec() + 2;
    activateAt(s, k1, end - 961);
    activateAt(s, k2, end - 960);
    await s.reload();
    assert.ok((await jwksKids(s)).includes(k1), 'still inside its window');
    const wait = (end + 1) * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    // a token made with the old private key must not pass any more
    const key = await jose.importJWK(jwk1, 'ES256');
    const now = nowSec();
    const forged = await new jose.SignJWT({ iss: ISSUER, aud: ISSUER, sub: '1', exp: now + 300, iat: now, jti: crypto.randomUUID(), sid: 'x', client_id: 'default' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: k1 })
      .sign(key);
    const v = await s.get('/verify', { authorization: bearer(forged) });
    assert.equal(v.status, 401, `a key past its window still verifies at /verify: ${describeResponse(v)}`);
    assert.ok(!(await jwksKids(s)).includes(k1), 'a key past its window is still in the JWKS');
    await s.stop();
  });

  test('an earlier release\'s keys/ directory is imported: its signing key and refresh.key go on', async () => {
    // the layout of the release before: DATA/keys/<kid>.jwk, keyring.json, refresh.key
    const data = mkTmp();
    const keys = path.join(data, 'keys');
    fs.mkdirSync(keys, { mode: 0o700 });
    const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const jwk = await jose.exportJWK(privateKey);
    const kid = await jose.calculateJwkThumbprint(jwk);
    fs.writeFileSync(path.join(keys, `${kid}.jwk`), JSON.stringify({ ...jwk, kid, alg: 'ES256' }), { mode: 0o600 });
    fs.writeFileSync(path.join(keys, 'keyring.json'), JSON.stringify({ keys: [{ kid, alg: 'ES256', created: nowSec() - 100, retired: null }] }), { mode: 0o600 });
    const refreshKey = crypto.randomBytes(32);
    fs.writeFileSync(path.join(keys, 'refresh.key'), refreshKey.toString('base64url'), { mode: 0o600 });
    const s = await start({ data });
    assert.ok(s.logs().some((l) => /imported 1 signing keys from .*keys into the store/.test(l.msg ?? '')), s.stderr);
    assert.deepEqual(await jwksKids(s), [kid]);
    s.addUser('leg', PW);
    const t = remember(await s.login('leg', PW));
    assert.equal(t.header.kid, kid, 'the imported key signs');
    // the successor of a refresh token is HMAC-SHA256(refresh.key, token): the imported one
    const r = remember(await s.refresh(t.refresh_token));
    assert.equal(r.refresh_token, crypto.createHmac('sha256', refreshKey).update(t.refresh_token).digest('base64url'));
    // once imported, keys/ is not read again: its key file may go
    await s.stop({ keepData: true });
    fs.rmSync(keys, { recursive: true });
    const s2 = await start({ data });
    assert.deepEqual(await jwksKids(s2), [kid]);
    assert.equal(remember(await s2.login('leg', PW)).header.kid, kid);
    await s2.stop();
  });

  test('keys revoke: the key leaves the JWKS and /verify at once; revoking the active key makes a new one', async () => {
    const s = await start();
    s.addUser('rev', PW);
    const t1 = remember(await s.login('rev', PW));
    const k1 = t1.header.kid;
    const k2 = ok(s.cmd(['keys', 'rotate', ...LEAD])).match(/new signing key (\S+)/)[1];
    // a published key that never signed: revoked alone, no new key
    let out = ok(s.cmd(['keys', 'revoke', k2]), new RegExp(`^revoked signing key ${k2}: out of the JWKS, its tokens refused\n$`));
    await jwksUntil(s, 'revocation of a published key (JWKS)', (kids) => !kids.includes(k2));
    // the active key: the emergency path
    out = ok(s.cmd(['keys', 'revoke', k1]), /new signing key (\S+) \(ES256\) signs now/);
    const k3 = out.match(/new signing key (\S+) \(ES256\) signs now/)[1];
    await jwksUntil(s, 'revocation of the active key (JWKS)', (kids) => kids.length === 1 && kids[0] === k3);
    const v = await s.get('/verify', { authorization: bearer(t1.access_token) });
    assert.equal(v.status, 401, describeResponse(v));
    const t2 = remember(await s.login('rev', PW));
    assert.equal(t2.header.kid, k3);
    // the session lives on: its refresh gets a token of the new key
    assert.equal(remember(await s.refresh(t1.refresh_token)).header.kid, k3);
    assert.match(ok(s.cmd(['keys', 'list'])), new RegExp(`^${k1} .*revoked=\\S+Z state=revoked$`, 'm'));
    fails(s.cmd(['keys', 'revoke', 'no-such-kid']), /no signing key no-such-kid/);
    fails(s.cmd(['keys', 'revoke']), /needs a kid/);
    await s.stop();
  });
});

describe('signals', () => {
  test('SIGHUP reloads the configuration and keeps a keep-alive connection open', async () => {
    const dir = mkTmp();
    const conf = path.join(dir, 'jotd.conf');
    fs.writeFileSync(conf, 'access_ttl = 600\n');
    const s = await start({ args: ['--config', conf] });
    s.addUser('hal', PW);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = [];
      const once = () => new Promise((resolve, reject) => {
        const req = http.get(s.url('/healthz'), { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, reused: req.reusedSocket }));
        });
        req.on('socket', (sock) => sockets.push(sock));
        req.on('error', reject);
      });
      const a = await once();
      assert.equal(a.status, 200);
      assert.equal(remember(await s.login('hal', PW)).expires_in, 600);
      fs.writeFileSync(conf, 'access_ttl = 300\n');
      await s.reload();
      const b = await once();
      assert.equal(b.status, 200);
      assert.equal(b.reused, true, 'the request after SIGHUP went over the same connection');
      assert.equal(sockets[0], sockets[1]);
      assert.equal(remember(await s.login('hal', PW)).expires_in, 300, 'the new configuration is in force');
    } finally {
      agent.destroy();
    }
    // a broken configuration is refused on reload and the old one stays
    fs.writeFileSync(conf, 'access_ttl = soon\n');
    s.signal('SIGHUP');
    await s.waitLog((l) => l.level === 'error' && /reload/.test(l.msg ?? ''));
    assert.equal((await s.get('/healthz')).status, 200);
    assert.equal(remember(await s.login('hal', PW)).expires_in, 300);
    await s.stop();
  });

  test('SIGTERM while idle exits 0; so does SIGINT', async () => {
    const a = await start();
    await a.stop(); // asserts exit code 0
    const b = await start();
    b.signal('SIGINT');
    await b.waitExit();
    assert.deepEqual(b.exit, { code: 0, signal: null });
    assert.ok(b.logs().some((l) => /shutting down/.test(l.msg ?? '')));
    await b.stop();
  });

  test('SIGTERM does not wait for an idle keep-alive connection', async () => {
    const s = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await httpRequest(s.url('/healthz'), { agent });
    assert.equal(r.status, 200);
    // the connection now sits idle in the agent; the client would close it in 3 s
    const events = [];
    const clientClose = setTimeout(() => {
      events.push('client closed its idle connection');
      agent.destroy();
    }, 3000);
    s.signal('SIGTERM');
    await s.waitExit();
    events.push('jotd exited');
    clearTimeout(clientClose);
    agent.destroy();
    assert.deepEqual(events, ['jotd exited'], 'jotd waited for an idle connection instead of closing it');
    await s.stop();
  });
});

describe('TLS and the plain-HTTP guard', () => {
  const dir = mkTmp();
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  let tls;

  after(async () => {
    if (tls && !tls.exit) tls.kill();
  });

  test('HTTPS with a self-signed certificate: /healthz, login, JWKS over TLS', async () => {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ca = fs.readFileSync(cert);
    tls = await start({ args: ['--tls-cert', cert, '--tls-key', key], ca });
    assert.match(tls.base, /^https:\/\/127\.0\.0\.1:\d+$/);
    const h = await httpRequest(tls.url('/healthz'), { ca });
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    tls.addUser('tess', PW);
    const l = remember(await tls.login('tess', PW)); // verified by jose with the JWKS over https
    assert.equal(l.claims.iss, ISSUER);
    // without trusting the certificate the connection is refused by the client
    await assert.rejects(httpRequest(tls.url('/healthz')), /self[- ]signed|certificate/i);
    // node:https with the CA, explicitly
    const viaHttps = await new Promise((resolve, reject) => {
      https.get(tls.url('/.well-known/jwks.json'), { ca, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
    });
    assert.equal(viaHttps.status, 200);
    assert.ok(JSON.parse(viaHttps.body).keys.some((k) => k.kid === l.header.kid));
  });

  test('plain HTTP to the HTTPS port gets no answer, and stderr stays JSON lines', async () => {
    assert.ok(tls, 'the TLS server runs');
    await assert.rejects(httpRequest(`http://127.0.0.1:${tls.port}/healthz`));
    await sleep(200);
    assert.equal((await httpRequest(tls.url('/healthz'), { ca: tls.ca })).status, 200);
    tls.logs(); // every stderr line parses as JSON
    await tls.stop();
  });

  test('--tls-cert without --tls-key, or unreadable files, is refused', () => {
    const data = mkTmp();
    for (const args of [['--tls-cert', cert], ['--tls-key', key], ['--tls-cert', path.join(dir, 'missing.pem'), '--tls-key', key]]) {
      const r = spawnSync(JOTD, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: 10_000 });
      assert.notEqual(r.status, 0, `${args}: ${r.stderr}`);
      assert.equal(r.signal, null, 'exited by itself');
      assert.match(r.stderr, /tls/i);
    }
  });

  test('the key-encryption key readable by others, or a symlink, is refused at start', async () => {
    const s = await start({ data: mkTmp() });
    await s.stop();
    const kek = path.join(s.data, 'key-encryption-key');
    fs.chmodSync(kek, 0o644);
    const serve = () => spawnSync(JOTD, ['serve', '--data', s.data, '--listen', '127.0.0.1:0', ...CHEAP_ARGON2, ...(PG_ADMIN_URI ? ['--store', pgStoreFor(s.data)] : [])], { encoding: 'utf8', timeout: 10_000 });
    let r = serve();
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /key-encryption-key must be a regular file of mode 0600/);
    assert.equal(r.stdout, '', 'never listened');
    fs.chmodSync(kek, 0o600);
    const elsewhere = path.join(mkTmp(), 'kek');
    fs.renameSync(kek, elsewhere);
    fs.symlinkSync(elsewhere, kek);
    r = serve();
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /key-encryption-key/);
    // gone: never silently replaced while the store holds keys sealed with it
    fs.unlinkSync(kek);
    r = serve();
    assert.notEqual(r.status, 0, show(r));
    assert.match(r.stderr, /does not exist, and the store's keys are sealed with key-encryption key [0-9a-f]{16}/);
    assert.ok(!fs.existsSync(kek), 'no new KEK made');
    // given with --key-encryption-key from elsewhere: it starts
    const s2 = await start({ data: s.data, args: ['--key-encryption-key', elsewhere] });
    await s2.stop();
  });

  test('plain HTTP on a non-loopback address is refused without --insecure-http', async () => {
    const data = mkTmp();
    const r = spawnSync(JOTD, ['serve', '--data', data, '--listen', '0.0.0.0:0', ...CHEAP_ARGON2], { encoding: 'utf8', timeout: 10_000 });
    assert.notEqual(r.status, 0, show(r));
    assert.equal(r.signal, null, 'it exited by itself');
    assert.match(r.stderr, /--insecure-http/);
    assert.equal(r.stdout, '', 'never listened');
    // with --insecure-http it starts
    const s = await start({ listen: '0.0.0.0:0', args: ['--insecure-http'] });
    assert.match(s.base, /^http:\/\/0\.0\.0\.0:\d+$/);
    await s.stop();
  });
});

describe('configuration', () => {
  test('precedence: config file < environment < flag (seen in expires_in)', async () => {
    const dir = mkTmp();
    const conf = path.join(dir, 'jotd.conf');
    fs.writeFileSync(conf, '# test\naccess_ttl = 100s\nrefresh_grace = 5  # a comment\n');
    const [f, e, g] = await Promise.all([
      start({ args: ['--config', conf] }),
      start({ args: ['--config', conf], env: { JOTD_ACCESS_TTL: '200' } }),
      start({ args: ['--config', conf, '--access-ttl', '5m'], env: { JOTD_ACCESS_TTL: '200' } }),
    ]);
    const expected = [100, 200, 300];
    for (const [i, s] of [f, e, g].entries()) {
      s.addUser('cfg', PW);
      const l = remember(await s.login('cfg', PW));
      assert.equal(l.expires_in, expected[i], `server ${i}`);
      assert.equal(l.claims.exp - l.claims.iat, expected[i]);
    }
    await Promise.all([f.stop(), e.stop(), g.stop()]);
  });

  test('durations take weeks from flags and the config file (the grammar of jot --exp)', async () => {
    const dir = mkTmp();
    const conf = path.join(dir, 'weeks.conf');
    fs.writeFileSync(conf, 'refresh_idle_ttl = 1w\n');
    const s = await start({ args: ['--config', conf, '--refresh-absolute-ttl', '2w'] });
    s.addUser('weeks', PW);
    const l = remember(await s.login('weeks', PW));
    assert.ok(l.refresh_token);
    await s.stop();
  });

  test('bad configuration values are refused with a message naming their source', () => {
    const dir = mkTmp();
    const conf = path.join(dir, 'bad.conf');
    fs.writeFileSync(conf, 'access_ttl = 10x\n');
    const base = ['serve', '--data', mkTmp(), '--listen', '127.0.0.1:0'];
    for (const [args, env, re] of [
      [['--config', conf], {}, /bad\.conf:1/],
      [[], { JOTD_ACCESS_TTL: 'soon' }, /JOTD_ACCESS_TTL/],
      [['--access-ttl', '-5'], {}, /--access-ttl/],
      [['--refresh-grace', '2m'], {}, /--refresh-grace/],
      [['--refresh-absolute-ttl', '1w2d'], {}, /--refresh-absolute-ttl.*bad duration/],
      [['--refresh-absolute-ttl', '2W'], {}, /--refresh-absolute-ttl.*bad duration/],
      [['--alg', 'HS256'], {}, /HS256|symmetric/],
      [['--alg', 'none'], {}, /none/],
      [['--issuer', 'not a url'], {}, /--issuer/],
      [['--no-such-flag'], {}, /--no-such-flag/],
    ]) {
      const r = jotdCmd([...base, ...args], { env });
      assert.notEqual(r.status, 0, `${args} ${JSON.stringify(env)}: ${show(r)}`);
      assert.equal(r.signal, null, show(r));
      assert.match(r.stderr, re, show(r));
    }
  });
});

describe('files and logs', () => {
  test('data files are private: the key-encryption key and the database 0600', async () => {
    const s = await start();
    const mode = (p) => fs.statSync(p).mode & 0o777;
    assert.equal(mode(path.join(s.data, 'key-encryption-key')), 0o600);
    assert.ok(!fs.existsSync(path.join(s.data, 'keys')), 'nothing in keys/ any more: the keys are in the store');
    if (STORE_KIND === 'sqlite') assert.equal(mode(path.join(s.data, 'jotd.db')) & 0o077, 0, 'jotd.db not readable by others');
    assert.equal(mode(s.data) & 0o077, 0, 'the data directory is private');
    await s.stop();
  });

  test('a PostgreSQL password given in JOTD_STORE is never printed', { skip: STORE_KIND !== 'postgresql' && 'PostgreSQL only (JOTD_TEST_STORE)' }, async () => {
    const data = mkTmp();
    // trust authentication: the server never asks for this password, libpq never sends it
    const JOTD_STORE = `${pgStoreFor(data)}&password=s3cret-store-pw`;
    const s = await start({ data, store: false, env: { JOTD_STORE } });
    const line = s.logs().find((l) => /^listening on /.test(l.msg ?? ''));
    assert.ok(line, s.stderr);
    assert.match(line.msg, /store postgresql:\/\/\/jot_e2e_\w+\?.*&password=\*\*\*/, line.msg);
    const m = jotdCmd(['migrate'], { env: { JOTD_STORE } });
    assert.equal(m.status, 0, show(m));
    assert.match(m.stdout, /^jotd: schema version \d+ \(postgresql, postgresql:\/\/\/jot_e2e_\w+\?.*&password=\*\*\*\)$/m, show(m));
    await s.stop();
    for (const text of [s.stdout, s.stderr, m.stdout, m.stderr]) assert.ok(!text.includes('s3cret-store-pw'), text);
  });

  test('no log line of any server in this file contains a password or a whole token', async () => {
    assert.ok(servers.length >= 5);
    for (const s of servers) {
      for (const line of s.stderr.split('\n')) {
        for (const secret of secrets) {
          assert.ok(!line.includes(secret), `log line carries a secret (${secret.slice(0, 8)}...): ${line.slice(0, 200)}`);
        }
        // no whole JWT either, whatever it is
        assert.doesNotMatch(line, /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
      }
    }
  });
});
