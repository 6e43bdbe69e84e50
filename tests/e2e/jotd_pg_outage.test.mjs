// jotd on PostgreSQL when PostgreSQL goes away and comes back (run as e2e.pg.jotd_pg_outage,
// which sets JOTD_TEST_STORE; skipped loudly without it).
//
// The test runs a cluster of its own (scripts/pg-test-cluster in a temporary directory, port
// JOTD_TEST_PG_OUTAGE_PORT, default 55433), so that stopping it disturbs no other suite:
//   1. jotd serve --store on it; a user logs in (access + refresh token);
//   2. the cluster is stopped (pg_ctl stop -m fast);
//   3. the password and refresh grants answer 503 temporarily_unavailable with Retry-After,
//      promptly: every request has a 20 s client timeout and must be answered within it;
//   4. /verify of the access token issued before still answers 200 (from memory, no store);
//   5. the cluster is started again on the same directory: without a restart of jotd, a login
//      succeeds again (retried until a generous deadline); the time it took is printed;
//   6. the refresh token issued before the outage still rotates.
// /readyz follows: 200 before, 503 with a reason while the cluster is down, 200 after.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Jotd, PG_ADMIN_URI, bearer, describeResponse, pgAdmin, pgUriWithDb, sleep } from './lib/jotd.mjs';

const SCRIPT = path.resolve(process.env.JOT_SOURCE_DIR ?? '../..', 'scripts', 'pg-test-cluster');
const PORT = process.env.JOTD_TEST_PG_OUTAGE_PORT ?? '55433';
const PW = 'outage-tests-password';
const CLIENT_TIMEOUT_MS = 20_000; // an answer must come within this, even with the store gone
const RECOVERY_DEADLINE_MS = 60_000;

const skip = PG_ADMIN_URI ? false : 'SKIP: JOTD_TEST_STORE is not set (CTest e2e.pg.jotd_pg_outage sets it)';
if (skip) process.stderr.write(`jotd_pg_outage: ${skip}\n`);

let clusterDir;
function cluster(...args) {
  const r = spawnSync(SCRIPT, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}
function stopCluster() {
  if (!clusterDir) return;
  cluster('stop', clusterDir);
  clusterDir = undefined;
}
process.on('exit', stopCluster);
after(stopCluster);

/** \p promise, or a rejection after \p ms: a request that hangs fails the test. */
function within(ms, promise, what) {
  let t;
  const timer = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timer]).finally(() => clearTimeout(t));
}

function unavailable(r, what) {
  assert.equal(r.status, 503, `${what} must answer 503: ${describeResponse(r)}`);
  assert.equal(r.json?.error, 'temporarily_unavailable', `${what}: ${r.text}`);
  assert.match(r.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After: ${describeResponse(r)}`);
  assert.match(r.headers.get('cache-control') ?? '', /no-store/, `${what}: Cache-Control`);
}

describe('PostgreSQL outage', { skip }, () => {
  test('grants answer 503 + Retry-After while PostgreSQL is down, /verify keeps working, logins come back without a restart', { timeout: 240_000 }, async () => {
    // a short directory: the socket path must fit in sun_path
    clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jotd-pgout-'));
    const started = cluster('start', clusterDir, PORT);
    if (started.status === 77) {
      process.stderr.write(`jotd_pg_outage: ${started.stderr}`);
      return; // PostgreSQL not installed: the shared cluster would have skipped us already
    }
    assert.equal(started.status, 0, `pg-test-cluster start: ${started.stderr}`);
    const admin = started.stdout.trim();
    pgAdmin('CREATE DATABASE jot_outage', admin);
    const store = pgUriWithDb(admin, 'jot_outage');

    const s = await Jotd.start({ store });
    try {
      s.addUser('alice', PW);
      const before = await s.login('alice', PW);
      assert.equal((await s.get('/verify', { authorization: bearer(before.access_token) })).status, 200);
      { const r0 = await s.get('/readyz'); assert.equal(r0.status, 200, `ready before the outage: ${describeResponse(r0)}`); }

      // 2. PostgreSQL goes away
      const halted = cluster('halt', clusterDir);
      assert.equal(halted.status, 0, `pg-test-cluster halt: ${halted.stderr}`);
      const downAt = Date.now();

      // 3. grants: 503 + Retry-After, promptly
      let t0 = Date.now();
      const pw = await within(CLIENT_TIMEOUT_MS, s.token({ grant_type: 'password', username: 'alice', password: PW }), 'password grant');
      const pwMs = Date.now() - t0;
      unavailable(pw, 'password grant with PostgreSQL down');
      t0 = Date.now();
      const rf = await within(CLIENT_TIMEOUT_MS, s.token({ grant_type: 'refresh_token', refresh_token: before.refresh_token }), 'refresh grant');
      const rfMs = Date.now() - t0;
      unavailable(rf, 'refresh grant with PostgreSQL down');
      // 4. the forward-auth hot path needs no store
      const v = await within(CLIENT_TIMEOUT_MS, s.get('/verify', { authorization: bearer(before.access_token) }), '/verify');
      assert.equal(v.status, 200, `/verify with PostgreSQL down: ${describeResponse(v)}`);
      assert.equal((await s.get('/healthz')).status, 200, 'the process is alive');
      // readiness says what liveness does not: logins cannot be served
      const rz = await within(CLIENT_TIMEOUT_MS, s.get('/readyz'), '/readyz');
      assert.equal(rz.status, 503, `/readyz with PostgreSQL down: ${describeResponse(rz)}`);
      assert.equal(rz.json?.status, 'unavailable');
      assert.match(rz.json?.reason ?? '', /store|listener/);

      // 5. PostgreSQL back on the same directory; jotd keeps running
      const restarted = cluster('restart', clusterDir, PORT);
      assert.equal(restarted.status, 0, `pg-test-cluster restart: ${restarted.stderr}`);
      const upAt = Date.now();
      let last;
      for (;;) {
        last = await within(CLIENT_TIMEOUT_MS, s.token({ grant_type: 'password', username: 'alice', password: PW }), 'login after the restart');
        if (last.status === 200) break;
        assert.equal(last.status, 503, `only 503 while reconnecting: ${describeResponse(last)}`);
        assert.ok(Date.now() - upAt < RECOVERY_DEADLINE_MS, `no login within ${RECOVERY_DEADLINE_MS} ms of PostgreSQL's return: ${describeResponse(last)}`);
        await sleep(100);
      }
      const recoveredAt = Date.now();
      await s.checkTokenResponse(last);
      // ready again once the events listener has reconnected too (its backoff is 10 s at most)
      let rz2;
      for (;;) {
        rz2 = await within(CLIENT_TIMEOUT_MS, s.get('/readyz'), '/readyz after the restart');
        if (rz2.status === 200 || Date.now() - upAt > RECOVERY_DEADLINE_MS) break;
        await sleep(200);
      }
      assert.equal(rz2.status, 200, `/readyz after PostgreSQL's return: ${describeResponse(rz2)}`);
      // 6. nothing answered before the outage was lost
      await s.refresh(before.refresh_token);
      process.stderr.write(
        `jotd_pg_outage: with PostgreSQL down the password grant answered 503 in ${pwMs} ms, the refresh grant in ${rfMs} ms; ` +
          `first login ${recoveredAt - upAt} ms after PostgreSQL was ready again (outage ${recoveredAt - downAt} ms in all)\n`,
      );
      await s.stop();
    } finally {
      s.kill();
    }
  });
});
