// Three jotd instances on one store (the same --data directory: the same SQLite file, or with
// JOTD_TEST_STORE the same PostgreSQL database) enforce the login and client-authentication
// limits together: failures spread round-robin over the instances lock on every instance
// once --throttle-account-failures (or --throttle-ip-failures) have been reached in total,
// where each instance alone has seen a third of them. Each case comes from addresses of its
// own (X-Forwarded-For through --trusted-proxy 127.0.0.1), so that the cases do not share
// an IP count.
//
// An account lock after exactly the limit lasts 1 s (2^0), so the round that asserts it
// must fit in one wall-clock second: it starts just past a second boundary and, if it ends
// in a later second (a slow machine), it proves nothing and runs again with a new name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, alignToSecond, basic, describeResponse, sleep } from './lib/jotd.mjs';

const PW = 'shared-throttle-password';
const SECRET = 'svc-secret-0123456789abcdef-0123456789';
const ACCOUNT_MAX = 3;
const IP_MAX = 6;
const ARGS = ['--trusted-proxy', '127.0.0.1', '--throttle-account-failures', String(ACCOUNT_MAX),
  '--throttle-ip-failures', String(IP_MAX)];
const ROUNDS = 5;

let s; // [a, b, c]

before(async () => {
  const a = await Jotd.start({ args: ARGS });
  // the others after the first: they find its keys and store
  const b = await Jotd.start({ args: ARGS, data: a.data });
  const c = await Jotd.start({ args: ARGS, data: a.data });
  s = [a, b, c];
});

after(async () => {
  if (!s) return;
  await Promise.all(s.slice(1).map((x) => x.stop()));
  await s[0].stop();
});

let ipSeq = 0;
/** A new client address (TEST-NET-2, one per call). */
const newIp = () => `198.51.100.${++ipSeq}`;
const xff = (ip) => ({ 'x-forwarded-for': ip });

const password = (srv, username, pw, ip) =>
  srv.token({ grant_type: 'password', username, password: pw }, xff(ip));
const introspect = (srv, secret, ip) =>
  srv.post('/introspect', { token: 'not-a-token' }, { authorization: basic('svc', secret), ...xff(ip) });

function assertThrottled(r, what) {
  assert.equal(r.status, 429, `${what}: ${describeResponse(r)}`);
  assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, what);
}

/** Run \p prepare(n) then \p round(n) until one round fits in one wall-clock second (see
 *  the top); round returns the assertions, run only on a round that fits. */
async function withinOneSecond(prepare, round) {
  for (let n = 0; n < ROUNDS; n++) {
    await prepare(n);
    await alignToSecond();
    const t0 = Math.floor(Date.now() / 1000);
    const check = await round(n);
    if (Math.floor(Date.now() / 1000) === t0) return check();
    console.log(`# round ${n} crossed a second boundary: again`);
  }
  assert.fail(`no round within one second in ${ROUNDS} tries`);
}

describe('failures on three instances count as on one', () => {
  test('failed logins round-robin lock the account on every instance after the limit in total', async () => {
    let user;
    await withinOneSecond((n) => {
      user = `alice${n}`;
      s[0].addUser(user, PW);
    }, async () => {
      const st = [];
      // one failure per instance, each from another address: no instance, and no
      // address, reaches a limit on its own
      for (let i = 0; i < ACCOUNT_MAX; i++) st.push((await password(s[i % 3], user, 'wrong', newIp())).status);
      // every instance now refuses the account, even with the right password
      const after = await Promise.all(s.map((x) => password(x, user, PW, newIp())));
      return () => {
        assert.deepEqual(st, Array(ACCOUNT_MAX).fill(400), st.join(','));
        after.forEach((r, i) => assertThrottled(r, `instance ${i}`));
      };
    });

    // a success (once the 1 s lock is over) resets the shared count
    await sleep(1100);
    await s[1].login(user, PW, {}, xff(newIp()));
    const st = [];
    for (let i = 0; i < ACCOUNT_MAX - 1; i++) st.push((await password(s[(i * 2) % 3], user, 'wrong', newIp())).status);
    assert.deepEqual(st, Array(ACCOUNT_MAX - 1).fill(400), `counting afresh: ${st.join(',')}`);
    await s[2].login(user, PW, {}, xff(newIp()));
  });

  test('failed logins from one address round-robin lock the address on every instance', async () => {
    const ip = '203.0.113.77';
    for (const u of ['bob', 'carol']) s[0].addUser(u, PW);
    const st = [];
    // IP_MAX failures, each for another account: two per instance
    for (let i = 0; i < IP_MAX; i++) st.push((await password(s[i % 3], `nobody${i}`, 'wrong', ip)).status);
    assert.deepEqual(st, Array(IP_MAX).fill(400), st.join(','));
    // the address is locked for the rest of its minute on every instance, whatever the account
    for (const [i, x] of s.entries()) {
      const r = await password(x, i % 2 ? 'bob' : 'carol', PW, ip);
      assertThrottled(r, `instance ${i}`);
      assert.ok(Number(r.headers.get('retry-after')) <= 60, describeResponse(r));
    }
    // another address logs in
    await s[1].login('bob', PW, {}, xff(newIp()));
  });

  test('client authentication failures round-robin lock the (client, address) on every instance', async () => {
    s[0].addClient('svc', SECRET);
    let ip;
    await withinOneSecond(() => {}, async () => {
      ip = newIp();
      const st = [];
      for (let i = 0; i < ACCOUNT_MAX; i++) st.push((await introspect(s[i % 3], `guess-${i}`, ip)).status);
      // the right secret is refused too, on every instance
      const after = await Promise.all(s.map((x) => introspect(x, SECRET, ip)));
      return () => {
        assert.deepEqual(st, Array(ACCOUNT_MAX).fill(401), st.join(','));
        after.forEach((r, i) => assertThrottled(r, `instance ${i}`));
      };
    });
    // a success (once the lock is over) resets the shared count
    await sleep(1100);
    const ok = await introspect(s[1], SECRET, ip);
    assert.equal(ok.status, 200, describeResponse(ok));
    const st = [];
    for (let i = 0; i < ACCOUNT_MAX - 1; i++) st.push((await introspect(s[(i * 2) % 3], `again-${i}`, ip)).status);
    assert.deepEqual(st, Array(ACCOUNT_MAX - 1).fill(401), `counting afresh: ${st.join(',')}`);
    const ok2 = await introspect(s[2], SECRET, ip);
    assert.equal(ok2.status, 200, describeResponse(ok2));
  });
});
