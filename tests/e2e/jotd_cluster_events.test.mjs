// Two jotd instances on one store (the same --data directory: the same SQLite file, or with
// JOTD_TEST_STORE the same PostgreSQL database): a revocation made through one, or by an
// operator command, reaches the other through the store's events table. On PostgreSQL the
// other is woken by LISTEN/NOTIFY (tens of ms); on SQLite it polls every
// --events-poll-interval. The lags are printed ("# ... lag N ms"); nothing is asserted
// about speed, only that each change arrives within a generous deadline.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, PG_ADMIN_URI, STORE_KIND, bearer, describeResponse, pgAdmin, show, sleep } from './lib/jotd.mjs';

const PW = 'cluster-events-password';
const DEADLINE_MS = 15_000;
// the lag loops below guess a rotated secret many times: no throttling in the way
const POLL = ['--events-poll-interval', '1s', '--throttle-account-failures', '100000', '--throttle-ip-failures', '100000'];

let a;
let b;

before(async () => {
  a = await Jotd.start({ args: POLL });
  // the second instance after the first: it finds the keys and the admin user made
  b = await Jotd.start({ args: POLL, data: a.data });
  a.addUser('alice', PW);
  a.addUser('bob', PW);
});

after(async () => {
  await b?.stop();
  await a?.stop();
});

const verify = (s, tok) => s.get('/verify', { authorization: bearer(tok) });

/** Wait until \p cond() holds; returns the milliseconds it took since \p t0 and prints them. */
async function lag(what, t0, cond) {
  for (;;) {
    if (await cond()) {
      const ms = Date.now() - t0;
      console.log(`# ${STORE_KIND}: ${what} lag ${ms} ms`);
      return ms;
    }
    if (Date.now() - t0 > DEADLINE_MS) assert.fail(`${what}: not within ${DEADLINE_MS} ms`);
    await sleep(5);
  }
}

const refused = (s, tok) => async () => (await verify(s, tok)).status === 401;

describe('events reach the other instance', () => {
  test('an access token revoked on A is refused by B', async () => {
    const l = await a.login('alice', PW);
    assert.equal((await verify(b, l.access_token)).status, 200, 'B accepts it first');
    const r = await a.post('/revoke', { token: l.access_token, token_type_hint: 'access_token' });
    const t0 = Date.now();
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal((await verify(a, l.access_token)).status, 401, 'A at once');
    await lag('revoke (B /verify)', t0, refused(b, l.access_token));
  });

  test('a session ended by logout on A: B refuses its access token', async () => {
    const l = await a.login('alice', PW);
    assert.equal((await verify(b, l.access_token)).status, 200);
    const r = await a.request('/logout', { method: 'POST', headers: { authorization: bearer(l.access_token) } });
    const t0 = Date.now();
    assert.ok(r.status === 200 || r.status === 204, describeResponse(r));
    await lag('logout (B /verify)', t0, refused(b, l.access_token));
  });

  test('a user disabled by the operator command: both refuse', async () => {
    const la = await a.login('bob', PW);
    const lb = await b.login('bob', PW);
    for (const s of [a, b]) for (const t of [la, lb]) assert.equal((await verify(s, t.access_token)).status, 200);
    const r = a.cmd(['user', 'disable', 'bob']);
    const t0 = Date.now();
    assert.equal(r.status, 0, show(r));
    await lag('user disable (A /verify)', t0, refused(a, lb.access_token));
    await lag('user disable (B /verify)', t0, refused(b, la.access_token));
    assert.equal((await verify(a, la.access_token)).status, 401);
    assert.equal((await verify(b, lb.access_token)).status, 401);
  });

  test('a client secret rotated by the operator command: both refuse the old secret', async () => {
    const add = a.cmd(['client', 'add', 'rot', '--generate-secret']);
    assert.equal(add.status, 0, show(add));
    const old = add.stdout.trim().split('\n').pop();
    const login = (s, secret) =>
      s.token({ grant_type: 'password', username: 'alice', password: PW, client_id: 'rot', client_secret: secret });
    // both have the old secret cached now
    for (const s of [a, b]) assert.equal((await login(s, old)).status, 200);
    const r = a.cmd(['client', 'rotate-secret', 'rot']);
    const t0 = Date.now();
    assert.equal(r.status, 0, show(r));
    const fresh = r.stdout.trim().split('\n').pop();
    assert.notEqual(fresh, old);
    for (const [name, s] of [['A', a], ['B', b]])
      await lag(`client rotate-secret (${name} /token)`, t0, async () => (await login(s, old)).status === 401);
    for (const s of [a, b]) assert.equal((await login(s, fresh)).status, 200);
  });

  test('PostgreSQL: the listener connections killed, they reconnect and still carry revocations', { skip: !PG_ADMIN_URI && 'SQLite: polled only' }, async () => {
    const db = decodeURIComponent(b.store.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/)[1]);
    const killed = pgAdmin(
      `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '${db}' AND query LIKE 'LISTEN %'`,
    ).trim();
    assert.equal(killed, '2', 'one listener per instance');
    for (const s of [a, b]) {
      await s.waitLog((x) => x.level === 'error' && /events listener: connection lost/.test(x.msg ?? ''), 15_000);
      await s.waitLog((x) => x.level === 'info' && /events listener: reconnected/.test(x.msg ?? ''), 15_000);
    }
    const l = await a.login('alice', PW);
    const r = await a.post('/revoke', { token: l.access_token, token_type_hint: 'access_token' });
    const t0 = Date.now();
    assert.equal(r.status, 200, describeResponse(r));
    await lag('revoke after the listener reconnected (B /verify)', t0, refused(b, l.access_token));
  });
});

// --events-listen off (a store behind PgBouncer's transaction pooling, where LISTEN does not
// work): no listener connection, and revocations still arrive, by the poll alone, within
// --events-poll-interval (1 s here) plus one read. The lag is printed; the bound asserted is
// generous (3 s) because the machine may be loaded.
describe('--events-listen off: polling only', () => {
  test('PostgreSQL: no LISTEN connection, and a revocation on A reaches C within the poll interval', { skip: !PG_ADMIN_URI && 'SQLite: polled only anyway' }, async () => {
    const c = await Jotd.start({ args: [...POLL, '--events-listen', 'off'], data: a.data });
    try {
      await c.waitLog((x) => x.level === 'info' && /events listener: off/.test(x.msg ?? ''));
      const db = decodeURIComponent(c.store.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/)[1]);
      const listening = pgAdmin(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}' AND query LIKE 'LISTEN %'`).trim();
      assert.equal(listening, '2', 'the listeners of A and B only: C holds none');
      const lags = [];
      for (let i = 0; i < 3; i++) {
        const l = await a.login('alice', PW);
        assert.equal((await verify(c, l.access_token)).status, 200, 'C accepts it first');
        const r = await a.post('/revoke', { token: l.access_token, token_type_hint: 'access_token' });
        const t0 = Date.now();
        assert.equal(r.status, 200, describeResponse(r));
        lags.push(await lag('revoke, --events-listen off (C /verify)', t0, refused(c, l.access_token)));
      }
      for (const ms of lags) assert.ok(ms <= 3000, `lag ${ms} ms: more than the 1 s poll interval allows`);
    } finally {
      await c.stop();
    }
  });
});
