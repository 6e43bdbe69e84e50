// jotd POST /revoke (RFC 7009), POST /introspect (RFC 7662) and POST /logout.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, ISSUER, basic, bearer, describeResponse, nowSec, show, sleep } from './lib/jotd.mjs';

const PW = 'revoke-tests-password';
const C1 = 'c1-secret-for-introspection-0123456';
const C2 = 'c2-secret-for-introspection-0123456';
const AUTH = { authorization: basic('c1', C1) };

let srv;
let short; // --access-ttl 1s, for expired tokens
let expiring; // a login on `short`, taken at the start so that the wait overlaps other tests

before(async () => {
  [srv, short] = await Promise.all([Jotd.start(), Jotd.start({ args: ['--access-ttl', '1s'] })]);
  for (const u of ['alice', 'bob', 'carol']) srv.addUser(u, PW, { roles: ['member'], permissions: ['items:read'] });
  srv.addClient('c1', C1, { scopes: ['a', 'b'] });
  srv.addClient('c2', C2);
  srv.addClient('spa', undefined, { scopes: ['a', 'b'] });
  srv.updateClient('default', { scopes: ['items.read'] });
  short.addUser('alice', PW);
  short.addClient('c1', C1);
  expiring = await short.login('alice', PW);
  assert.equal(expiring.expires_in, 1);
});

after(async () => {
  await Promise.all([srv?.stop(), short?.stop()]);
});

const revoke = (form, headers = {}) => srv.post('/revoke', form, headers);
const introspect = (s, token, headers = AUTH, extra = {}) => s.post('/introspect', { token, ...extra }, headers);
const verify = (s, tok) => s.get('/verify', { authorization: bearer(tok) });

async function inactive(s, token) {
  const r = await introspect(s, token);
  assert.equal(r.status, 200, describeResponse(r));
  assert.deepEqual(r.json, { active: false }, `inactive, and nothing else: ${r.text}`);
  assert.match(r.headers.get('cache-control') ?? '', /no-store/);
}

async function active(s, token) {
  const r = await introspect(s, token);
  assert.equal(r.status, 200, describeResponse(r));
  assert.equal(r.json?.active, true, describeResponse(r));
  assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  return r.json;
}

async function refreshFails(s, rt, extra = {}) {
  const r = await s.token({ grant_type: 'refresh_token', refresh_token: rt, ...extra });
  assert.equal(r.status, 400, describeResponse(r));
  assert.equal(r.json?.error, 'invalid_grant');
}

function expectRevokedAt401(r) {
  assert.equal(r.status, 401, describeResponse(r));
  const www = r.headers.get('www-authenticate') ?? '';
  assert.match(www, /^Bearer /);
  assert.match(www, /error="invalid_token"/);
  assert.match(www, /error_description="[^"]*revoked[^"]*"/);
}

describe('POST /revoke', () => {
  test('revoking a refresh token ends its session', async () => {
    const l = await srv.login('alice', PW);
    const r = await revoke({ token: l.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200, describeResponse(r));
    await refreshFails(srv, l.refresh_token);
    await inactive(srv, l.refresh_token);
    await inactive(srv, l.access_token); // its session ended
    assert.ok(srv.logs().some((x) => x.event === 'revoke_refresh_token' && x.sid === l.claims.sid));
  });

  test('revoking a later refresh token of a session ends the session too', async () => {
    const l = await srv.login('alice', PW);
    const r1 = await srv.refresh(l.refresh_token);
    assert.equal((await revoke({ token: r1.refresh_token })).status, 200);
    await refreshFails(srv, r1.refresh_token);
    await inactive(srv, r1.access_token);
  });

  test('revoking an access token denylists it: /verify 401 "revoked", introspection inactive; the session lives', async () => {
    const l = await srv.login('alice', PW);
    assert.equal((await verify(srv, l.access_token)).status, 200);
    const r = await revoke({ token: l.access_token, token_type_hint: 'access_token' });
    assert.equal(r.status, 200, describeResponse(r));
    expectRevokedAt401(await verify(srv, l.access_token));
    await inactive(srv, l.access_token);
    // only that access token: the refresh token still gives a new, valid one
    const n = await srv.refresh(l.refresh_token);
    assert.equal((await verify(srv, n.access_token)).status, 200);
    assert.ok(srv.logs().some((x) => x.event === 'revoke_access_token' && x.jti === l.claims.jti));
  });

  test('a wrong token_type_hint does not matter', async () => {
    const l = await srv.login('alice', PW);
    assert.equal((await revoke({ token: l.access_token, token_type_hint: 'refresh_token' })).status, 200);
    expectRevokedAt401(await verify(srv, l.access_token));
    assert.equal((await revoke({ token: l.refresh_token, token_type_hint: 'access_token' })).status, 200);
    await refreshFails(srv, l.refresh_token);
  });

  test('unknown, malformed and already revoked tokens get 200', async () => {
    const l = await srv.login('alice', PW);
    for (const token of ['unknown-token', 'A'.repeat(43), 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', l.access_token + 'x']) {
      const r = await revoke({ token });
      assert.equal(r.status, 200, `${token}: ${describeResponse(r)}`);
    }
    assert.equal((await revoke({ token: l.refresh_token })).status, 200);
    assert.equal((await revoke({ token: l.refresh_token })).status, 200, 'twice is fine');
  });

  test('a missing or empty token is 400 invalid_request', async () => {
    for (const form of [{}, { token: '' }, { token_type_hint: 'access_token' }]) {
      const r = await revoke(form);
      assert.equal(r.status, 400, describeResponse(r));
      assert.equal(r.json.error, 'invalid_request');
    }
  });

  test('only POST', async () => {
    const r = await srv.get('/revoke');
    assert.equal(r.status, 405);
    assert.match(r.headers.get('allow'), /POST/);
  });

  test('a client can revoke only its own tokens', async () => {
    const l = await srv.login('bob', PW, { client_id: 'spa' });
    // c2 authenticates fine but the tokens are spa's: 200 (RFC 7009) and nothing happens
    let r = await revoke({ token: l.refresh_token }, { authorization: basic('c2', C2) });
    assert.equal(r.status, 200, describeResponse(r));
    r = await revoke({ token: l.access_token }, { authorization: basic('c2', C2) });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal((await verify(srv, l.access_token)).status, 200, 'access token not revoked by another client');
    const n = await srv.refresh(l.refresh_token, { client_id: 'spa' });
    // the public owner revokes by possession
    r = await revoke({ token: n.refresh_token, client_id: 'spa' });
    assert.equal(r.status, 200, describeResponse(r));
    await refreshFails(srv, n.refresh_token, { client_id: 'spa' });
  });

  test('a confidential client revokes with its credentials; wrong credentials are 401 invalid_client', async () => {
    const l = await srv.login('bob', PW, {}, { authorization: basic('c1', C1) });
    let r = await revoke({ token: l.refresh_token }, { authorization: basic('c1', 'wrong') });
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal(r.json.error, 'invalid_client');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
    r = await revoke({ token: l.refresh_token }, { authorization: basic('c1', C1) });
    assert.equal(r.status, 200);
    await refreshFails(srv, l.refresh_token, { client_id: 'c1', client_secret: C1 });
  });

  test("a confidential client's tokens cannot be revoked without its credentials", async () => {
    const l = await srv.login('bob', PW, {}, { authorization: basic('c1', C1) });
    const r = await revoke({ token: l.refresh_token });
    assert.ok([200, 401].includes(r.status), describeResponse(r));
    // the session must still be alive: the request did not authenticate as c1
    const n = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token }, { authorization: basic('c1', C1) });
    assert.equal(n.status, 200, `unauthenticated /revoke ended c1's session: ${describeResponse(n)}`);
    await srv.checkTokenResponse(n);
  });
});

describe('POST /introspect', () => {
  test('client credentials are required: 401 without, with wrong ones, or as a public client', async () => {
    const l = await srv.login('alice', PW);
    for (const [headers, extra] of [
      [{}, {}],
      [{ authorization: basic('c1', 'wrong-secret') }, {}],
      [{ authorization: basic('nope', C1) }, {}],
      [{}, { client_id: 'spa' }],
      [{}, { client_id: 'c1' }],
      [{ authorization: bearer(l.access_token) }, {}],
    ]) {
      const r = await introspect(srv, l.access_token, headers, extra);
      assert.equal(r.status, 401, `${JSON.stringify(headers)} ${JSON.stringify(extra)}: ${describeResponse(r)}`);
      assert.equal(r.json?.error, 'invalid_client');
      assert.ok(!('active' in (r.json ?? {})));
    }
  });

  test('an active access token: claims, token_type and username', async () => {
    const l = await srv.login('carol', PW, { scope: 'items.read' });
    const j = await active(srv, l.access_token);
    assert.equal(j.token_type, 'Bearer');
    assert.equal(j.username, 'carol');
    for (const k of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id', 'sid', 'scope']) {
      assert.deepEqual(j[k], l.claims[k], `claim ${k}`);
    }
    assert.equal(j.iss, ISSUER);
    assert.deepEqual(j.roles, ['member']);
    assert.deepEqual(j.permissions, ['items:read']);
    // client_secret_post is accepted too (metadata says so)
    const p = await introspect(srv, l.access_token, {}, { client_id: 'c1', client_secret: C1 });
    assert.equal(p.status, 200, describeResponse(p));
    assert.equal(p.json.active, true);
  });

  test('inactive: garbage, tampered signature, tampered payload, token of another issuer', async () => {
    const l = await srv.login('alice', PW);
    const [h, p, s] = l.access_token.split('.');
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const evil = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    const shortTok = expiring.access_token; // signed by another server's key
    for (const token of ['garbage', 'a.b.c', `${h}.${p}.${flipped}`, `${h}.${evil}.${s}`, `${h}.${p}.`, `${h}.${p}`, shortTok]) {
      await inactive(srv, token);
    }
    // the real one is still active
    await active(srv, l.access_token);
  });

  test('inactive after revocation, after logout, and for a disabled user', async () => {
    const a = await srv.login('alice', PW);
    await revoke({ token: a.access_token });
    await inactive(srv, a.access_token);

    const b = await srv.login('alice', PW);
    const lo = await srv.request('/logout', { method: 'POST', headers: { authorization: bearer(b.access_token) } });
    assert.equal(lo.status, 204, describeResponse(lo));
    await inactive(srv, b.access_token);
    await inactive(srv, b.refresh_token);

    srv.addUser('dora', PW);
    const d = await srv.login('dora', PW);
    await active(srv, d.access_token);
    const c = srv.cmd(['user', 'disable', 'dora']);
    assert.equal(c.status, 0, show(c));
    await inactive(srv, d.access_token);
    await inactive(srv, d.refresh_token);
  });

  test('refresh tokens can be introspected by their own client; a rotated one is inactive', async () => {
    // another client's refresh token is inactive to the caller (RFC 7662 §4)
    const other = await srv.login('carol', PW, { client_id: 'spa', scope: 'a b' });
    await inactive(srv, other.refresh_token);
    const cred = { client_id: 'c1', client_secret: C1 };
    const l = await srv.login('carol', PW, { ...cred, scope: 'a b' });
    const j = await active(srv, l.refresh_token);
    assert.equal(j.client_id, 'c1');
    assert.equal(j.sub, l.claims.sub);
    assert.equal(j.sid, l.claims.sid);
    assert.equal(typeof j.exp, 'number');
    assert.ok(j.exp > nowSec());
    assert.equal(j.scope, 'a b');
    assert.notEqual(j.token_type, 'Bearer');
    const n = await srv.refresh(l.refresh_token, cred);
    await inactive(srv, l.refresh_token);
    await active(srv, n.refresh_token);
    await inactive(srv, 'B'.repeat(43));
  });

  test('a missing token is 400 invalid_request', async () => {
    const r = await srv.post('/introspect', {}, AUTH);
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_request');
  });
});

describe('POST /logout', () => {
  test('with a bearer token: 204, the access token is denylisted and the refresh token dead', async () => {
    const l = await srv.login('bob', PW);
    const r = await srv.request('/logout', { method: 'POST', headers: { authorization: bearer(l.access_token) } });
    assert.equal(r.status, 204, describeResponse(r));
    assert.equal(r.text, '');
    expectRevokedAt401(await verify(srv, l.access_token));
    await refreshFails(srv, l.refresh_token);
    assert.ok(srv.logs().some((x) => x.event === 'logout' && x.sid === l.claims.sid));
  });

  test('with the refresh token only: 204 and the session ends', async () => {
    const l = await srv.login('bob', PW);
    const r = await srv.post('/logout', { refresh_token: l.refresh_token });
    assert.equal(r.status, 204, describeResponse(r));
    await refreshFails(srv, l.refresh_token);
    await inactive(srv, l.access_token);
    const u = await srv.get('/userinfo', { authorization: bearer(l.access_token) });
    assert.equal(u.status, 401, describeResponse(u));
  });

  test('with both: 204', async () => {
    const l = await srv.login('bob', PW);
    const r = await srv.post('/logout', { refresh_token: l.refresh_token }, { authorization: bearer(l.access_token) });
    assert.equal(r.status, 204, describeResponse(r));
    expectRevokedAt401(await verify(srv, l.access_token));
    await refreshFails(srv, l.refresh_token);
  });

  test('logging out twice is fine (refresh token)', async () => {
    const l = await srv.login('bob', PW);
    for (let i = 0; i < 2; i++) {
      const r = await srv.post('/logout', { refresh_token: l.refresh_token });
      assert.equal(r.status, 204, `logout #${i + 1}: ${describeResponse(r)}`);
    }
  });

  test('logging out twice is fine (bearer)', async () => {
    const l = await srv.login('bob', PW);
    for (let i = 0; i < 2; i++) {
      const r = await srv.request('/logout', { method: 'POST', headers: { authorization: bearer(l.access_token) } });
      assert.equal(r.status, 204, `logout #${i + 1}: ${describeResponse(r)}`);
    }
  });

  test('neither token: 400 invalid_request; a bad bearer token: 401', async () => {
    let r = await srv.request('/logout', { method: 'POST' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_request');
    r = await srv.request('/logout', { method: 'POST', headers: { authorization: bearer('not.a.token') } });
    assert.equal(r.status, 401, describeResponse(r));
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  });
});

describe('expiry', () => {
  test('an expired access token (--access-ttl 1s) is inactive and refused by /verify', async () => {
    // still fine right now? (it may already have expired if setup was slow: not asserted)
    const wait = (expiring.claims.exp + 5 + 1) * 1000 - Date.now(); // 5 s: the verifier's leeway
    if (wait > 0) await sleep(wait);
    await inactive(short, expiring.access_token);
    const v = await verify(short, expiring.access_token);
    assert.equal(v.status, 401, describeResponse(v));
    assert.match(v.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.match(v.headers.get('www-authenticate') ?? '', /expired/i);
    // the refresh token still gives a fresh one
    const n = await short.refresh(expiring.refresh_token);
    assert.equal(n.expires_in, 1);
    assert.equal((await verify(short, n.access_token)).status, 200);
  });
});
