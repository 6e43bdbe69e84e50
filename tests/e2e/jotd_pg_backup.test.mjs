// Backup and restore as docs/deploy.md "Backup and restore" describes them: a pg_dump of the
// database plus the key-encryption-key file, restored with pg_restore into a new database,
// give a new jotd (its own --data directory) everything: the signing keys (the old access
// token verifies, the JWKS is the same), the refresh-successor key (a duplicate refresh in
// the grace window gets the same successor), the client-secret key (a confidential client
// still authenticates), users and sessions. Without the KEK file the restored store is
// refused with the KEK id it needs. PostgreSQL only (e2e.pg.jotd_pg_backup).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { JOTD, Jotd, PG_ADMIN_URI, basic, bearer, describeResponse, mkTmp, pgStoreFor, show } from './lib/jotd.mjs';

if (!PG_ADMIN_URI) {
  const msg = 'SKIP: jotd_pg_backup: JOTD_TEST_STORE is not set (CTest e2e.pg.jotd_pg_backup sets it)';
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}

const PW = 'backup-tests-password';
const SECRET = 'backup-client-secret-0123456789abcdef';
const servers = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => {});
});

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd}: ${show(r)}`);
  return r;
}

test('pg_dump + the KEK file restore into a new database: keys, secrets, users and sessions carry over', async () => {
  const grace = ['--refresh-grace', '30s'];
  const a = await Jotd.start({ args: grace });
  servers.push(a);
  a.addUser('alice', PW);
  a.addClient('svc', SECRET);
  const l = await a.login('alice', PW);
  const kid = l.header.kid;
  const r1 = await a.refresh(l.refresh_token);
  const withClient = await a.token({ grant_type: 'password', username: 'alice', password: PW }, { authorization: basic('svc', SECRET) });
  assert.equal(withClient.status, 200, describeResponse(withClient));
  const jwksBefore = (await a.get('/.well-known/jwks.json')).text;

  // the backup: the database (consistent while jotd runs) and, apart from it, the KEK file
  const dump = path.join(mkTmp(), 'jot.dump');
  run('pg_dump', ['--format=custom', `--file=${dump}`, '--dbname', a.store]);
  const kek = path.join(mkTmp(), 'kek');
  fs.copyFileSync(path.join(a.data, 'key-encryption-key'), kek);
  fs.chmodSync(kek, 0o600);
  await a.stop();
  servers.length = 0;

  // the restore: a new, empty database, a new data directory, the same KEK file
  const data = mkTmp();
  const uri = pgStoreFor(data);
  run('pg_restore', ['--no-owner', '--dbname', uri, dump]);

  // without the KEK file: refused, naming the KEK the store needs; nothing made
  const bare = spawnSync(JOTD, ['serve', '--data', data, '--store', uri, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 15_000 });
  assert.notEqual(bare.status, 0, show(bare));
  assert.match(bare.stderr, /sealed with key-encryption key [0-9a-f]{16}/, show(bare));
  assert.ok(!fs.existsSync(path.join(data, 'key-encryption-key')), 'no new KEK made for a store with sealed keys');

  const b = await Jotd.start({ data, args: [...grace, '--key-encryption-key', kek] });
  servers.push(b);
  assert.equal((await b.get('/.well-known/jwks.json')).text, jwksBefore, 'the same JWKS');
  // the access token of before verifies (the same signing key), and new ones are signed by it
  assert.equal((await b.get('/verify', { authorization: bearer(l.access_token) })).status, 200);
  await b.verifyAccess(l.access_token);
  assert.equal((await b.login('alice', PW)).header.kid, kid);
  // the duplicate refresh within the grace window: the same successor (the same refresh key)
  const again = await b.refresh(l.refresh_token);
  assert.equal(again.refresh_token, r1.refresh_token, 'the successor derived with the restored refresh key');
  // the confidential client's secret still matches (the same client-secret key)
  const c = await b.token({ grant_type: 'password', username: 'alice', password: PW }, { authorization: basic('svc', SECRET) });
  assert.equal(c.status, 200, describeResponse(c));
});
