// jotd hygiene (security review): Argon2 settings that change under stored hashes (the dummy
// hash of unknown users follows the stored parameters, logins rehash), options that do not
// apply to an operator command, user names that differ only in case, data directories
// others can write to and symlinked files in them, and what SIGHUP reloads (throttling).
// Behaviour only: timing is measured by scripts/argon2-timing.sh, never asserted here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CHEAP_ARGON2, Jotd, STORE_KIND, bearer, describeResponse, jotdCmd, mkTmp, show, storeQuery } from './lib/jotd.mjs';

const PW = 'hygiene-tests-password';
const servers = [];
after(() => {
  for (const s of servers) s.kill();
});

async function start(o) {
  const s = await Jotd.start(o);
  servers.push(s);
  return s;
}

/** Argon2 flags: cheap memory, \p t passes. */
const argon = (t) => ['--argon2-m-kib', '1024', '--argon2-t', String(t)];

function ok(r, re) {
  assert.equal(r.status, 0, show(r));
  if (re) assert.match(r.stdout, re, show(r));
  return r.stdout;
}

function refused(r, re, status = 2) {
  assert.equal(r.status, status, show(r));
  if (re) assert.match(r.stderr, re, show(r));
}

/** The stored PHC string of \p user (read from the store beside a running jotd: sqlite3 on
 *  the WAL database, or psql). */
function storedHash(data, user) {
  return storeQuery(data, `SELECT password_hash FROM users WHERE username = '${user}'`);
}

const hasSqlite3 = STORE_KIND !== 'sqlite' || spawnSync('sqlite3', ['-version']).status === 0;

async function loginFails(s, username, password) {
  const r = await s.token({ grant_type: 'password', username, password });
  assert.equal(r.status, 400, describeResponse(r));
}

describe('Argon2 settings changed under stored hashes', { skip: !hasSqlite3 && 'sqlite3 not installed' }, () => {
  test('the dummy takes the stored parameters; a login rehashes with the new ones and keeps sessions; SIGHUP follows', async () => {
    const data = mkTmp();
    for (const u of ['alice', 'bob', 'carol']) {
      ok(jotdCmd(['user', 'add', u, '--password-stdin', '--data', data, ...argon(1)], { input: PW }));
    }
    // first server with the old settings: a session to keep
    const s1 = await start({ data, cheap: false, args: argon(1) });
    const before = await s1.login('alice', PW);
    await s1.stop();
    assert.match(storedHash(data, 'alice'), /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);

    // the settings change to t=2: unknown users still cost what the stored hashes cost
    const s = await start({ data, cheap: false, args: argon(2) });
    await s.waitLog((l) => l.msg === "unknown users' logins verify at m=1024,t=1,p=1");
    assert.ok(!s.logs().some((l) => /verify at m=1024,t=2/.test(l.msg ?? '')), s.stderr);

    // a failed login rehashes nothing, a successful one does (with the new parameters)
    await loginFails(s, 'bob', 'wrong-password');
    assert.match(storedHash(data, 'bob'), /\$m=1024,t=1,p=1\$/);
    await s.login('alice', PW);
    assert.match(storedHash(data, 'alice'), /^\$argon2id\$v=19\$m=1024,t=2,p=1\$/);
    await s.waitLog((l) => l.event === 'password_rehashed' && l.user === 'alice');
    // the same password still works, and the rehash ended no session
    await s.login('alice', PW);
    await s.refresh(before.refresh_token);
    const again = storedHash(data, 'alice');
    await s.login('alice', PW);
    assert.equal(storedHash(data, 'alice'), again, 'no second rehash at the same settings');

    // most users now at t=2: SIGHUP rebuilds the dummy with t=2
    await s.login('bob', PW);
    await s.reload();
    await s.waitLog((l) => l.msg === "unknown users' logins verify at m=1024,t=2,p=1");
    await loginFails(s, 'nobody', PW);
    await s.stop();
  });

  test('a fresh data directory: the dummy uses the current settings', async () => {
    const s = await start({ cheap: false, args: argon(3) });
    // the first admin is created after the dummy: no stored hash yet
    await s.waitLog((l) => l.msg === "unknown users' logins verify at m=1024,t=3,p=1");
    await s.stop();
  });
});

describe('operator commands refuse options that do not apply', () => {
  test('server options on user, client and keys commands: exit 2 and nothing done', () => {
    const data = mkTmp();
    const r = jotdCmd(['client', 'add', 'svc', '--audience', 'X', '--public', '--data', data]);
    refused(r, /^jotd: option --audience does not apply to 'jotd client add'$/m);
    assert.doesNotMatch(ok(jotdCmd(['client', 'list', '--data', data])), /svc/, 'no client was created');
    refused(jotdCmd(['user', 'list', '--data', data, '--listen', '127.0.0.1:1']), /--listen does not apply to 'jotd user list'/);
    refused(jotdCmd(['user', 'list', '--data', data, ...CHEAP_ARGON2]), /--argon2-m-kib does not apply/);
    refused(jotdCmd(['user', 'disable', 'x', '--data', data, '--threads', '2']), /--threads does not apply to 'jotd user disable'/);
    refused(jotdCmd(['keys', 'list', '--data', data, '--alg', 'EdDSA']), /--alg does not apply to 'jotd keys list'/);
    refused(jotdCmd(['keys', 'rotate', '--data', data, '--issuer', 'https://x.test']), /--issuer does not apply/);
    refused(jotdCmd(['user', 'add', 'u', '--password-stdin', '--data', data, '--durability', 'full'], { input: PW }), /--durability does not apply/);
    // a flag of another command
    refused(jotdCmd(['user', 'add', 'u', '--public', '--password-stdin', '--data', data], { input: PW }), /--public does not apply to 'jotd user add'/);
    refused(jotdCmd(['client', 'add', 'c', '--public', '--role', 'r', '--data', data]), /--role does not apply to 'jotd client add'/);
    refused(jotdCmd(['user', 'list', '--password-stdin', '--data', data]), /--password-stdin does not apply/);
    // client flags on the client commands they do not belong to, and on other commands
    refused(jotdCmd(['client', 'list', '--scope', 'a', '--data', data]), /--scope does not apply to 'jotd client list'/);
    refused(jotdCmd(['client', 'rotate-secret', 'c', '--public', '--data', data]), /--public does not apply to 'jotd client rotate-secret'/);
    refused(jotdCmd(['client', 'update', 'c', '--secret-stdin', '--data', data]), /--secret-stdin does not apply to 'jotd client update'/);
    refused(jotdCmd(['user', 'add', 'u', '--introspect', 'a', '--password-stdin', '--data', data], { input: PW }), /--introspect does not apply to 'jotd user add'/);
    assert.equal(ok(jotdCmd(['user', 'list', '--data', data])), '', 'no user was created');
  });

  test('the options that apply still work; config file and JOTD_* may carry server keys', () => {
    const data = mkTmp();
    ok(jotdCmd(['user', 'add', 'u1', '--role', 'r', '--password-stdin', '--data', data, ...CHEAP_ARGON2], { input: PW }));
    ok(jotdCmd(['user', 'passwd', 'u1', '--password-stdin', '--data', data, ...CHEAP_ARGON2], { input: PW + '2' }));
    ok(jotdCmd(['client', 'add', 'c1', '--secret-stdin', '--data', data], { input: 'c1-secret-value-0123456789abcdef-0123' }));
    // client secrets are keyed hashes: Argon2 settings do not apply to client commands
    refused(jotdCmd(['client', 'add', 'c3', '--public', '--data', data, ...CHEAP_ARGON2]), /--argon2-m-kib does not apply/);
    ok(jotdCmd(['keys', 'rotate', '--alg', 'EdDSA', '--data', data]), /EdDSA/);
    ok(jotdCmd(['keys', 'list', '--access-ttl', '5m', '--data', data]));
    const conf = path.join(mkTmp(), 'jotd.conf');
    fs.writeFileSync(conf, 'audience = X\nlisten = 127.0.0.1:9\nargon2_m_kib = 1024\nargon2_t = 1\n');
    ok(jotdCmd(['client', 'add', 'c2', '--public', '--config', conf, '--data', data]));
    ok(jotdCmd(['user', 'list', '--data', data], { env: { JOTD_AUDIENCE: 'X', JOTD_THREADS: '2' } }), /u1/);
    refused(jotdCmd(['user', 'frobnicate', 'x', '--data', data]), /unknown command 'jotd user frobnicate'/, 1);
  });
});

describe('user names that differ only in case', () => {
  test('refused by jotd user add and POST /admin/users; logins stay exact-match', async () => {
    const s = await start();
    const r = s.cmd(['user', 'add', 'Admin', '--password-stdin'], { input: PW });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /exists/);
    s.addUser('alice', PW);
    const admin = await s.login('admin', s.adminPassword);
    for (const username of ['ALICE', 'Alice', 'aDMIN']) {
      const c = await s.request('/admin/users', { method: 'POST', json: { username, password: PW }, headers: { authorization: bearer(admin.access_token) } });
      assert.equal(c.status, 409, describeResponse(c));
    }
    const ok2 = await s.request('/admin/users', { method: 'POST', json: { username: 'alice2', password: PW }, headers: { authorization: bearer(admin.access_token) } });
    assert.equal(ok2.status, 201, describeResponse(ok2));
    await loginFails(s, 'Alice', PW);
    await s.login('alice', PW);
    await s.stop();
  });
});

describe('the data directory', () => {
  test('writable by group or others: refused by every command and by serve', async () => {
    const data = mkTmp();
    ok(jotdCmd(['user', 'add', 'u', '--password-stdin', '--data', data, ...CHEAP_ARGON2], { input: PW }));
    for (const mode of [0o770, 0o702, 0o777]) {
      fs.chmodSync(data, mode);
      for (const args of [['user', 'list'], ['client', 'list'], ['keys', 'list'], ['keys', 'rotate']]) {
        const r = jotdCmd([...args, '--data', data]);
        assert.equal(r.status, 1, show(r));
        assert.match(r.stderr, /data directory .* is writable by (its group|others) \(mode 0[0-7]+\): refusing it/, show(r));
      }
      const r = jotdCmd(['user', 'add', 'v', '--password-stdin', '--data', data, ...CHEAP_ARGON2], { input: PW });
      assert.match(r.stderr, /writable/, show(r));
      await assert.rejects(Jotd.start({ data }), /writable/);
    }
    fs.chmodSync(data, 0o750); // group may read
    assert.match(ok(jotdCmd(['user', 'list', '--data', data])), /\tu\t/);
    fs.chmodSync(data, 0o700);
  });

  test('symlinked database or key-encryption key: refused', async () => {
    const data = mkTmp();
    const elsewhere = mkTmp();
    const s = await start({ data });
    await s.stop({ keepData: true });
    // the database replaced by a symlink to a copy elsewhere (SQLite: on PostgreSQL there
    // is no database file in the data directory)
    if (STORE_KIND === 'sqlite') {
      fs.renameSync(path.join(data, 'jotd.db'), path.join(elsewhere, 'jotd.db'));
      fs.symlinkSync(path.join(elsewhere, 'jotd.db'), path.join(data, 'jotd.db'));
      const r = jotdCmd(['user', 'list', '--data', data]);
      assert.equal(r.status, 1, show(r));
      assert.match(r.stderr, /symbolic link/, show(r));
      fs.unlinkSync(path.join(data, 'jotd.db'));
      fs.renameSync(path.join(elsewhere, 'jotd.db'), path.join(data, 'jotd.db'));
    }
    ok(jotdCmd(['user', 'list', '--data', data]), /admin/);
    // the key-encryption key replaced by a symlink
    const kek = path.join(data, 'key-encryption-key');
    fs.renameSync(kek, path.join(elsewhere, 'kek'));
    fs.symlinkSync(path.join(elsewhere, 'kek'), kek);
    const k = jotdCmd(['keys', 'rotate', '--data', data]);
    assert.notEqual(k.status, 0, show(k));
    assert.match(k.stderr, /symbolic link/, show(k));
    await assert.rejects(Jotd.start({ data }), /key-encryption-key/);
  });
});

describe('SIGHUP', () => {
  test('applies new throttle limits, keeping the failures already counted', async () => {
    const dir = mkTmp();
    const conf = path.join(dir, 'jotd.conf');
    fs.writeFileSync(conf, 'throttle_account_failures = 100\nthrottle_ip_failures = 1000\n');
    const s = await start({ args: ['--config', conf] });
    s.addUser('mallory', PW);
    for (let i = 0; i < 3; i++) await loginFails(s, 'mallory', 'wrong-password');
    // a limit of 2: the 4th failure locks for 2^(4-2) = 4 s (a limit of 4 would lock for one
    // second only, which a whole-second clock can let pass before the next request)
    fs.writeFileSync(conf, 'throttle_account_failures = 2\nthrottle_ip_failures = 1000\n');
    await s.reload();
    await loginFails(s, 'mallory', 'wrong-password'); // the 4th failure: locked now
    const r = await s.token({ grant_type: 'password', username: 'mallory', password: PW });
    assert.equal(r.status, 429, describeResponse(r));
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    await s.stop();
  });
});
