// jotd Token Status Lists (draft-ietf-oauth-status-list): every access token references its
// session's bit; GET /statuslists/{K} serves the signed list; a revoked session's bit is 1.
// Lists are checked three ways: jose verifies the signature against the served JWKS, node's
// zlib decodes the bits, and @sd-jwt/jwt-status-list (an independent implementation of the
// draft) reads the same bits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list';
import { Jotd, ISSUER, jose, bearer, describeResponse, sleep } from './lib/jotd.mjs';

const PW = 'status-tests-password';
const TTL = 2; // --status-list-ttl: small, so that a test sees a stale cache expire too
const N = 1 << 20; // indexes per list

let srv;

before(async () => {
  srv = await Jotd.start({ args: ['--status-list-ttl', `${TTL}s`] });
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) srv.addUser(u, PW, { roles: ['member'] });
});

after(async () => {
  await srv?.stop();
});

/** The status reference of a login's access token: { idx, uri, k }. */
function ref(login) {
  const sl = login.claims.status?.status_list;
  assert.ok(sl, `status claim in ${JSON.stringify(login.claims)}`);
  assert.equal(typeof sl.idx, 'number');
  const m = /^(.*)\/statuslists\/(0|[1-9][0-9]*)$/.exec(sl.uri);
  assert.ok(m, `uri ${sl.uri}`);
  assert.equal(m[1], ISSUER);
  assert.ok(sl.idx >= 0 && sl.idx < N);
  return { idx: sl.idx, uri: sl.uri, k: Number(m[2]) };
}

/** GET list k: the response checked (type, caching), the JWT verified with jose against the
 *  served JWKS, the bits inflated with node's zlib. */
async function fetchList(k) {
  const r = await srv.get(`/statuslists/${k}`);
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.headers.get('content-type'), 'application/statuslist+jwt');
  assert.equal(r.headers.get('cache-control'), `public, max-age=${TTL}`);
  const v = await jose.jwtVerify(r.text, srv.jwks, { typ: 'statuslist+jwt', algorithms: ['ES256', 'EdDSA', 'RS256', 'PS256', 'ES384', 'ES512'] });
  assert.equal(v.protectedHeader.typ, 'statuslist+jwt');
  assert.equal(typeof v.protectedHeader.kid, 'string');
  const p = v.payload;
  assert.equal(p.sub, `${ISSUER}/statuslists/${k}`);
  assert.equal(p.ttl, TTL);
  assert.equal(typeof p.iat, 'number');
  assert.ok(p.exp > p.iat + TTL, `exp ${p.exp} past iat ${p.iat} + ttl`);
  assert.equal(p.status_list.bits, 1);
  assert.match(p.status_list.lst, /^[A-Za-z0-9_-]+$/);
  const bits = zlib.inflateSync(Buffer.from(p.status_list.lst, 'base64url'));
  assert.equal(bits.length, N / 8, 'every list holds N bits');
  return { jwt: r.text, payload: p, bits };
}

const bit = (bits, idx) => (bits[idx >> 3] >> (idx & 7)) & 1;

async function statusOf(login) {
  const { k, idx } = ref(login);
  const l = await fetchList(k);
  const mine = bit(l.bits, idx);
  // the independent decoder reads the same bits: this one and the first 256 of the list
  const other = getListFromStatusListJWT(l.jwt);
  assert.equal(other.getStatus(idx), mine, `@sd-jwt/jwt-status-list and zlib agree on idx ${idx}`);
  for (let i = 0; i < 256; i++) assert.equal(other.getStatus(i), bit(l.bits, i), `idx ${i}`);
  return mine;
}

/** Poll until the bit of \p login is 1 (a change made by another process arrives with the
 *  events poll); the lag is printed, never asserted beyond a generous deadline. */
async function waitRevoked(login, what, deadlineMs = 15_000) {
  const t0 = Date.now();
  for (;;) {
    if ((await statusOf(login)) === 1) {
      console.log(`# ${what}: bit 1 after ${Date.now() - t0} ms`);
      return;
    }
    assert.ok(Date.now() - t0 < deadlineMs, `${what}: bit still 0 after ${deadlineMs} ms`);
    await sleep(100);
  }
}

describe('status claim and list', () => {
  test('an access token carries its session index; the list is signed and its bit is 0', async () => {
    const l = await srv.login('alice', PW);
    const r = ref(l);
    assert.equal(r.k, 0);
    assert.equal(await statusOf(l), 0);
    // a refreshed token keeps the session's index
    const l2 = await srv.refresh(l.refresh_token);
    assert.deepEqual(ref(l2), r);
    // another session, another index
    const l3 = await srv.login('alice', PW);
    assert.notEqual(ref(l3).idx, r.idx);
  });

  test('logout sets the bit at once (the cache is invalidated by the event); other sessions stay 0', async () => {
    const a = await srv.login('bob', PW);
    const b = await srv.login('bob', PW);
    assert.equal(await statusOf(a), 0); // cached now
    const t0 = Date.now();
    const lo = await srv.request('/logout', { method: 'POST', headers: { authorization: bearer(a.access_token) } });
    assert.ok(lo.status === 200 || lo.status === 204, describeResponse(lo));
    assert.equal(await statusOf(a), 1, 'the next fetch after the logout answer');
    console.log(`# logout: bit 1 on the first fetch, ${Date.now() - t0} ms after the logout request`);
    assert.equal(await statusOf(b), 0);
  });

  test('revoking a refresh token (RFC 7009) sets the bit', async () => {
    const a = await srv.login('bob', PW);
    const r = await srv.post('/revoke', { token: a.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(await statusOf(a), 1);
  });

  test('reuse detection sets the bit of the session', async () => {
    const a = await srv.login('carol', PW);
    const other = await srv.login('carol', PW);
    await srv.refresh(a.refresh_token);
    const again = await srv.token({ grant_type: 'refresh_token', refresh_token: a.refresh_token });
    assert.equal(again.status, 400, describeResponse(again));
    assert.equal(await statusOf(a), 1);
    assert.equal(await statusOf(other), 0);
  });

  test('disable, password change and delete (operator commands, another process) set the bits of all the user\'s sessions', async () => {
    const keep = await srv.login('alice', PW);
    const cases = [
      ['dave', (u) => srv.cmd(['user', 'disable', u])],
      ['erin', (u) => srv.cmd(['user', 'passwd', u, '--password-stdin'], { input: PW + '-new\n' })],
      ['frank', (u) => srv.cmd(['user', 'delete', u])],
    ];
    for (const [u, act] of cases) {
      const s1 = await srv.login(u, PW);
      const s2 = await srv.login(u, PW);
      assert.equal(await statusOf(s1), 0);
      const r = act(u);
      assert.equal(r.status, 0, `${u}: ${r.stderr}`);
      await waitRevoked(s1, `${u}, operator command`);
      assert.equal(await statusOf(s2), 1, `${u}: every session`);
    }
    assert.equal(await statusOf(keep), 0, 'another user\'s session stays 0');
  });

  test('a stale list is rebuilt after ttl/2 even without an event; iat moves', async () => {
    const a = await srv.login('alice', PW);
    const l1 = await fetchList(ref(a).k);
    await sleep(TTL * 1000 + 100);
    const l2 = await fetchList(ref(a).k);
    assert.ok(l2.payload.iat > l1.payload.iat, `iat ${l1.payload.iat} -> ${l2.payload.iat}`);
  });
});

describe('GET /statuslists/{K}', () => {
  test('a list beyond the highest allocated index is 404', async () => {
    for (const k of ['1', '2', '8796093022206']) {
      const r = await srv.get(`/statuslists/${k}`);
      assert.equal(r.status, 404, `${k}: ${describeResponse(r)}`);
    }
  });

  test('a K that is not a plain decimal is 404', async () => {
    for (const k of ['00', '01', '-1', '+1', '1x', 'x', '0/', '99999999999999999999', '8796093022207']) {
      const r = await srv.get(`/statuslists/${k}`);
      assert.equal(r.status, 404, `${k}: ${describeResponse(r)}`);
    }
    const r = await srv.request('/statuslists/0', { method: 'POST' });
    assert.equal(r.status, 405, describeResponse(r));
  });
});
