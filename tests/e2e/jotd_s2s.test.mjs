// jotd service-to-service tokens: grant_type=client_credentials (RFC 6749 §4.4) with RFC 8707
// resources, RFC 9068 service tokens (sub = client id, no sid, no refresh token) with a
// Token Status List entry of the client's own; tokens verified with npm jose against the
// served JWKS and accepted by /verify and /introspect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { Jotd, ISSUER, jose, basic, bearer, describeResponse, show, storeQuery } from './lib/jotd.mjs';

const SECRET = 'svc-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const RS_SECRET = 'rs-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const ORDERS = 'https://orders.e2e.test';
const BILLING = 'https://billing.e2e.test';
const ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256'];

const LAX = ['--throttle-account-failures', '1000', '--throttle-ip-failures', '1000'];
let srv;

before(async () => {
  // many refusals in a row below: the failure throttle (tested elsewhere) kept out of the way
  srv = await Jotd.start({ args: ['--allow-http-jwks-url', ...LAX] });
  // a service with two resources and scopes; a resource server introspecting orders tokens
  let r = srv.cmd(['client', 'add', 'svc-a', '--secret-stdin', '--scope', 'orders:read', '--scope', 'orders:write',
    '--default-scope', 'orders:read', '--resource', ORDERS, '--resource', BILLING], { input: SECRET + '\n' });
  assert.equal(r.status, 0, show(r));
  r = srv.cmd(['client', 'add', 'svc-plain', '--secret-stdin'], { input: SECRET + '\n' });
  assert.equal(r.status, 0, show(r));
  srv.addClient('orders-rs', RS_SECRET, { introspect: [ORDERS] });
  srv.addClient('spa', undefined, { scopes: ['orders:read'] });
});

after(async () => {
  await srv?.stop();
});

const cc = (id, extra = {}, secret = SECRET) =>
  srv.token({ grant_type: 'client_credentials', ...extra }, { authorization: basic(id, secret) });

/** A client_credentials token that must be issued: the response, and the token verified
 *  with jose against the JWKS for the expected audience. */
/** GET /verify for \p token as the proxy of its audience would ask: a token for another
 *  resource than the server's names it (`/verify?audience=...`), as nginx's auth_request of
 *  that resource does. */
function verifyAt(s, token) {
  const aud = [jose.decodeJwt(token).aud].flat()[0];
  const q = aud && aud !== s.audience ? `?audience=${encodeURIComponent(aud)}` : '';
  return s.get(`/verify${q}`, { authorization: bearer(token) });
}

async function serviceToken(id, aud, extra = {}) {
  const r = await cc(id, extra);
  assert.equal(r.status, 200, describeResponse(r));
  const b = r.json;
  assert.equal(b.token_type, 'Bearer');
  assert.equal(b.refresh_token, undefined, 'no refresh token (RFC 6749 §4.4.3)');
  assert.equal(typeof b.expires_in, 'number');
  assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  const v = await jose.jwtVerify(b.access_token, srv.jwks, { issuer: ISSUER, audience: aud, typ: 'at+jwt', algorithms: ALGS });
  const p = v.payload;
  assert.equal(p.sub, id, 'sub = client id (RFC 9068 §2.2)');
  assert.equal(p.client_id, id);
  assert.equal(p.aud, aud);
  for (const c of ['sid', 'roles', 'permissions', 'preferred_username']) assert.equal(p[c], undefined, `no ${c}`);
  assert.equal(typeof p.jti, 'string');
  return { body: b, claims: p };
}

async function statusBit(claims) {
  const sl = claims.status?.status_list;
  assert.ok(sl, `status claim in ${JSON.stringify(claims)}`);
  const m = /\/statuslists\/(\d+)$/.exec(sl.uri);
  assert.ok(m && sl.uri.startsWith(ISSUER), sl.uri);
  const r = await srv.get(`/statuslists/${m[1]}`);
  assert.equal(r.status, 200, describeResponse(r));
  const v = await jose.jwtVerify(r.text, srv.jwks, { typ: 'statuslist+jwt', algorithms: ALGS });
  const bits = zlib.inflateSync(Buffer.from(v.payload.status_list.lst, 'base64url'));
  return (bits[sl.idx >> 3] >> (sl.idx & 7)) & 1;
}

describe('client_credentials', () => {
  test('metadata lists the grant', async () => {
    const r = await srv.get('/.well-known/oauth-authorization-server');
    assert.ok(r.json.grant_types_supported.includes('client_credentials'));
  });

  test('default: the first resource and the default scopes', async () => {
    const { body, claims } = await serviceToken('svc-a', ORDERS);
    assert.equal(body.scope, 'orders:read');
    assert.equal(claims.scope, 'orders:read');
    assert.equal(await statusBit(claims), 0, 'the client is not revoked');
  });

  test('resource selects the audience; scope within the allowed ones', async () => {
    const { body, claims } = await serviceToken('svc-a', BILLING, { resource: BILLING, scope: 'orders:write orders:read' });
    assert.equal(body.scope, 'orders:write orders:read');
    assert.equal(claims.aud, BILLING);
  });

  test('client id in the body (client_secret_post) works too', async () => {
    const r = await srv.token({ grant_type: 'client_credentials', client_id: 'svc-a', client_secret: SECRET });
    assert.equal(r.status, 200, describeResponse(r));
  });

  test('a resource not allowed: invalid_target', async () => {
    const r = await cc('svc-a', { resource: 'https://elsewhere.e2e.test' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_target');
  });

  test('a scope not allowed: invalid_scope', async () => {
    const r = await cc('svc-a', { scope: 'orders:read admin' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_scope');
  });

  test('a client without resources gets the server audience, and only that', async () => {
    const { claims } = await serviceToken('svc-plain', srv.audience);
    assert.equal(claims.scope, undefined, 'no scopes: no scope claim');
    const r = await cc('svc-plain', { resource: ORDERS });
    assert.equal(r.json?.error, 'invalid_target', describeResponse(r));
  });

  test('a public client (or none): unauthorized_client', async () => {
    let r = await srv.token({ grant_type: 'client_credentials', client_id: 'spa' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'unauthorized_client');
    r = await srv.token({ grant_type: 'client_credentials' });
    assert.equal(r.json.error, 'unauthorized_client', describeResponse(r));
  });

  test('a wrong secret: invalid_client', async () => {
    const r = await cc('svc-a', {}, 'x'.repeat(48));
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal(r.json.error, 'invalid_client');
  });

  test('distinct clients get distinct status indexes', async () => {
    const a = (await serviceToken('svc-a', ORDERS)).claims.status.status_list;
    const b = (await serviceToken('svc-plain', srv.audience)).claims.status.status_list;
    assert.notEqual(`${a.uri}#${a.idx}`, `${b.uri}#${b.idx}`);
  });

  test('/verify: a service token only for its own audience (RFC 8707): the server\'s by default, else /verify?audience=', async () => {
    const { body } = await serviceToken('svc-a', ORDERS);
    const plain = await srv.get('/verify', { authorization: bearer(body.access_token) });
    assert.equal(plain.status, 401, `a token for ${ORDERS} passed the server audience's check: ${describeResponse(plain)}`);
    const other = await srv.get(`/verify?audience=${encodeURIComponent(BILLING)}`, { authorization: bearer(body.access_token) });
    assert.equal(other.status, 401, describeResponse(other));
    const own = (await serviceToken('svc-plain', srv.audience)).body.access_token;
    assert.equal((await srv.get('/verify', { authorization: bearer(own) })).status, 200, 'a service token for the server audience');
  });

  test('/verify accepts a service token: X-Auth-Subject and X-Auth-Client = the client id', async () => {
    const { body } = await serviceToken('svc-a', ORDERS);
    const r = await verifyAt(srv, body.access_token);
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.headers.get('x-auth-subject'), 'svc-a');
    assert.equal(r.headers.get('x-auth-client'), 'svc-a');
    assert.ok(!r.headers.get('x-auth-user'), 'no user');
    assert.equal(r.headers.get('x-auth-scope'), 'orders:read');
  });

  test('/introspect: active for a resource server of that audience', async () => {
    const { body } = await serviceToken('svc-a', ORDERS);
    const r = await srv.post('/introspect', { token: body.access_token }, { authorization: basic('orders-rs', RS_SECRET) });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.json.active, true);
    assert.equal(r.json.sub, 'svc-a');
    assert.equal(r.json.client_id, 'svc-a');
    const other = (await serviceToken('svc-a', BILLING, { resource: BILLING })).body.access_token;
    const o = await srv.post('/introspect', { token: other }, { authorization: basic('orders-rs', RS_SECRET) });
    assert.equal(o.json.active, false, 'not an audience it may introspect');
  });

  test('a service token is no user: /userinfo refuses it', async () => {
    const { body } = await serviceToken('svc-plain', srv.audience);
    const r = await srv.get('/userinfo', { authorization: bearer(body.access_token) });
    assert.equal(r.status, 401, describeResponse(r));
  });

  test('user tokens still need the server audience at /verify', async () => {
    srv.addUser('ursula', 'ursula-password-123');
    const l = await srv.login('ursula', 'ursula-password-123');
    const r = await verifyAt(srv, l.access_token);
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.headers.get('x-auth-user'), 'ursula');
  });

  test('jotd client list shows the resources', () => {
    const r = srv.cmd(['client', 'list']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, new RegExp(`svc-a\\tconfidential.*resources=${ORDERS},${BILLING}`));
  });
});

/** Poll \p fn until it returns true (a change made by an operator command reaches the server
 *  with the events poll, 1 s by default); the lag is printed, never asserted beyond a
 *  generous deadline. */
async function eventually(what, fn, deadlineMs = 10_000) {
  const t0 = Date.now();
  for (;;) {
    if (await fn()) {
      console.log(`# ${what}: after ${Date.now() - t0} ms`);
      return;
    }
    if (Date.now() - t0 > deadlineMs) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('client disable / enable / delete', () => {
  const ID = 'svc-dis';
  before(() => {
    const r = srv.cmd(['client', 'add', ID, '--secret-stdin', '--scope', 'jobs', '--resource', ORDERS], { input: SECRET + '\n' });
    assert.equal(r.status, 0, show(r));
  });

  test('disable: /verify and /introspect refuse its tokens, its status bit is 1, no new token; enable: new tokens work, old ones stay void', async () => {
    const old = await serviceToken(ID, ORDERS);
    const verify = (t) => verifyAt(srv, t);
    assert.equal((await verify(old.body.access_token)).status, 200);
    assert.equal(await statusBit(old.claims), 0);

    const r = srv.cmd(['client', 'disable', ID]);
    assert.equal(r.status, 0, show(r));
    await eventually('disable seen by /verify', async () => (await verify(old.body.access_token)).status === 401);
    const v = await verify(old.body.access_token);
    assert.match(v.headers.get('www-authenticate') ?? '', /invalid_token/);
    const i = await srv.post('/introspect', { token: old.body.access_token }, { authorization: basic('orders-rs', RS_SECRET) });
    assert.equal(i.json.active, false);
    assert.equal(await statusBit(old.claims), 1, 'the client status bit is set');
    const refused = await cc(ID);
    assert.equal(refused.status, 401, describeResponse(refused));
    assert.equal(refused.json.error, 'invalid_client');
    assert.match(srv.cmd(['client', 'list']).stdout, new RegExp(`${ID}\\tconfidential\\tdisabled`));

    assert.equal(srv.cmd(['client', 'enable', ID]).status, 0);
    let fresh;
    await eventually('enable seen by /token', async () => (fresh = await cc(ID)).status === 200);
    const nt = await jose.jwtVerify(fresh.json.access_token, srv.jwks, { issuer: ISSUER, audience: ORDERS, algorithms: ALGS });
    assert.equal((await verify(fresh.json.access_token)).status, 200, 'new tokens work');
    assert.equal(await statusBit(nt.payload), 0, 'a new status index, bit 0');
    assert.notEqual(nt.payload.status.status_list.idx, old.claims.status.status_list.idx);
    assert.equal((await verify(old.body.access_token)).status, 401, 'old tokens stay void');
    assert.equal(await statusBit(old.claims), 1);
  });

  test('delete: tokens void, the client gone', async () => {
    const id = 'svc-del';
    assert.equal(srv.cmd(['client', 'add', id, '--secret-stdin'], { input: SECRET + '\n' }).status, 0);
    const t = await serviceToken(id, srv.audience);
    assert.equal(srv.cmd(['client', 'delete', id]).status, 0);
    await eventually('delete seen by /verify', async () => (await verifyAt(srv, t.body.access_token)).status === 401);
    assert.equal(await statusBit(t.claims), 1);
    assert.equal((await cc(id)).status, 401);
    const r = srv.cmd(['client', 'delete', id]);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /no client/);
  });

  test("a disabled client's users' sessions end: their refresh tokens are refused", async () => {
    const id = 'web-app';
    assert.equal(srv.cmd(['client', 'add', id, '--secret-stdin'], { input: SECRET + '\n' }).status, 0);
    srv.addUser('walter', 'walter-password-123');
    const l = await srv.login('walter', 'walter-password-123', {}, { authorization: basic(id, SECRET) });
    assert.equal(srv.cmd(['client', 'disable', id]).status, 0);
    await eventually('session of a disabled client ended', async () => (await verifyAt(srv, l.access_token)).status === 401);
    assert.equal(srv.cmd(['client', 'enable', id]).status, 0);
    await eventually('enable seen', async () => (await cc(id, {}, SECRET)).status === 200);
    const r = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token }, { authorization: basic(id, SECRET) });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
  });
});

describe('private_key_jwt (RFC 7523 §2.2)', () => {
  const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  const keys = {};
  let dir, jwksServer, jwksUrl, second;
  let jwksHits = 0;

  before(async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const http = await import('node:http');
    const os = await import('node:os');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jotd-s2s-'));
    for (const alg of ['ES256', 'EdDSA']) {
      const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
      const jwk = await jose.exportJWK(publicKey);
      jwk.kid = `${alg}-1`;
      jwk.alg = alg;
      keys[alg] = { privateKey, jwk };
    }
    const other = await jose.generateKeyPair('ES256', { extractable: true });
    keys.wrong = { privateKey: other.privateKey };
    const file = path.join(dir, 'jwks.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [keys.ES256.jwk, keys.EdDSA.jwk] }));
    let r = srv.cmd(['client', 'add', 'pk-file', '--jwks', file, '--scope', 'orders:read', '--resource', ORDERS, '--introspect', ORDERS]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /private_key_jwt/);
    // a JWK set served over loopback http (the server runs with --allow-http-jwks-url)
    jwksServer = http.createServer((req, res) => {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ keys: [keys.ES256.jwk] }));
    });
    await new Promise((ok) => jwksServer.listen(0, '127.0.0.1', ok));
    jwksUrl = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
    r = srv.cmd(['client', 'add', 'pk-url', '--jwks-url', jwksUrl]);
    assert.equal(r.status, 0, show(r));
    // refused registrations: a private key, a symmetric key, http to a non-loopback host
    const priv = path.join(dir, 'priv.json');
    fs.writeFileSync(priv, JSON.stringify({ keys: [{ ...(await jose.exportJWK(keys.ES256.privateKey)), kid: 'p' }] }));
    r = srv.cmd(['client', 'add', 'pk-bad', '--jwks', priv]);
    assert.equal(r.status, 1, show(r));
    const oct = path.join(dir, 'oct.json');
    fs.writeFileSync(oct, JSON.stringify({ keys: [{ kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url'), kid: 'h' }] }));
    r = srv.cmd(['client', 'add', 'pk-bad', '--jwks', oct]);
    assert.equal(r.status, 1, show(r));
    r = srv.cmd(['client', 'add', 'pk-bad', '--jwks-url', 'http://example.com/jwks.json']);
    assert.equal(r.status, 1, show(r));
    // a second instance on the same store, for replays across instances
    second = await Jotd.start({ data: srv.data, store: srv.store, args: ['--allow-http-jwks-url', ...LAX] });
  });

  after(async () => {
    await second?.stop({ keepData: true });
    jwksServer?.close();
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = () => `${ISSUER}/token`;

  async function assertion(id, { alg = 'ES256', key, aud = endpoint(), exp = '60s', jti = crypto.randomUUID(), header = {} } = {}) {
    return new jose.SignJWT({ jti })
      .setProtectedHeader({ alg, kid: `${alg}-1`, ...header })
      .setIssuer(id)
      .setSubject(id)
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key ?? keys[alg].privateKey);
  }

  const withAssertion = (s, a, extra = {}) =>
    s.token({ grant_type: 'client_credentials', client_assertion_type: TYPE, client_assertion: a, ...extra });

  test('metadata', async () => {
    const m = (await srv.get('/.well-known/oauth-authorization-server')).json;
    assert.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    assert.ok(m.token_endpoint_auth_signing_alg_values_supported.includes('ES256'));
    assert.ok(m.token_endpoint_auth_signing_alg_values_supported.includes('EdDSA'));
    assert.ok(!m.token_endpoint_auth_signing_alg_values_supported.some((a) => a.startsWith('HS') || a === 'none'));
  });

  test('ES256 and EdDSA assertions (jwks file) get tokens; aud may be the issuer', async () => {
    for (const alg of ['ES256', 'EdDSA']) {
      const r = await withAssertion(srv, await assertion('pk-file', { alg }));
      assert.equal(r.status, 200, `${alg}: ${describeResponse(r)}`);
      const v = await jose.jwtVerify(r.json.access_token, srv.jwks, { issuer: ISSUER, audience: ORDERS, algorithms: ALGS });
      assert.equal(v.payload.sub, 'pk-file');
      assert.equal(v.payload.scope, undefined);
    }
    const r = await withAssertion(srv, await assertion('pk-file', { aud: ISSUER }), { client_id: 'pk-file' });
    assert.equal(r.status, 200, describeResponse(r));
  });

  test('a JWKS URL (loopback http, --allow-http-jwks-url)', async () => {
    const r = await withAssertion(srv, await assertion('pk-url'));
    assert.equal(r.status, 200, describeResponse(r));
    assert.ok(jwksHits >= 1);
    const hits = jwksHits;
    assert.equal((await withAssertion(srv, await assertion('pk-url'))).status, 200);
    assert.equal(jwksHits, hits, 'the set is cached');
  });

  test('a replayed assertion is refused, on this instance and on another one', async () => {
    const a = await assertion('pk-file');
    assert.equal((await withAssertion(srv, a)).status, 200);
    for (const s of [srv, second]) {
      const r = await withAssertion(s, a);
      assert.equal(r.status, 401, describeResponse(r));
      assert.equal(r.json.error, 'invalid_client');
    }
    const b = await assertion('pk-file');
    assert.equal((await withAssertion(second, b)).status, 200, 'the second instance accepts a fresh one');
    assert.equal((await withAssertion(srv, b)).status, 401, 'and the first then refuses it');
  });

  test('a used jti is kept as long as its assertion is accepted (exp + the 5 s leeway), not only until exp', async () => {
    const jti = crypto.randomUUID();
    const a = await assertion('pk-file', { jti });
    assert.equal((await withAssertion(srv, a)).status, 200);
    const kept = Number(storeQuery(srv.data, `SELECT exp FROM assertion_jtis WHERE jti = '${jti}'`));
    assert.equal(kept, jose.decodeJwt(a).exp + 5, 'gc at exp would let a replay in during the leeway');
  });

  test('refused: expired, too long, wrong aud, wrong key, HS256, alg none, iss != sub, no jti, client_id mismatch, with a secret', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hsKey = new TextEncoder().encode('x'.repeat(32));
    const none = (() => {
      const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const p = Buffer.from(JSON.stringify({ iss: 'pk-file', sub: 'pk-file', aud: endpoint(), exp: now + 60, jti: 'none-1' })).toString('base64url');
      return `${h}.${p}.`;
    })();
    const noJti = await new jose.SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'ES256-1' }).setIssuer('pk-file').setSubject('pk-file')
      .setAudience(endpoint()).setExpirationTime('60s').sign(keys.ES256.privateKey);
    const cases = {
      expired: await assertion('pk-file', { exp: now - 60 }),
      'exp too far': await assertion('pk-file', { exp: now + 3600 }),
      'wrong aud': await assertion('pk-file', { aud: 'https://elsewhere.e2e.test/token' }),
      'wrong key': await assertion('pk-file', { key: keys.wrong.privateKey }),
      HS256: await new jose.SignJWT({ jti: 'hs-1' }).setProtectedHeader({ alg: 'HS256', kid: 'ES256-1' }).setIssuer('pk-file')
        .setSubject('pk-file').setAudience(endpoint()).setExpirationTime('60s').sign(hsKey),
      'alg none': none,
      'iss != sub': await new jose.SignJWT({ jti: 'x-1' }).setProtectedHeader({ alg: 'ES256', kid: 'ES256-1' }).setIssuer('pk-file')
        .setSubject('svc-a').setAudience(endpoint()).setExpirationTime('60s').sign(keys.ES256.privateKey),
      'no jti': noJti,
      'garbage': 'not.a.jwt',
    };
    for (const [what, a] of Object.entries(cases)) {
      const r = await withAssertion(srv, a);
      assert.equal(r.status, 401, `${what}: ${describeResponse(r)}`);
      assert.equal(r.json.error, 'invalid_client', what);
    }
    let r = await withAssertion(srv, await assertion('pk-file'), { client_id: 'svc-a' });
    assert.equal(r.status, 401, `client_id mismatch: ${describeResponse(r)}`);
    r = await withAssertion(srv, await assertion('pk-file'), { client_secret: SECRET, client_id: 'pk-file' });
    assert.equal(r.status, 401, `two methods: ${describeResponse(r)}`);
    r = await srv.token({ grant_type: 'client_credentials', client_assertion_type: 'urn:other', client_assertion: await assertion('pk-file') });
    assert.equal(r.status, 401, `wrong type: ${describeResponse(r)}`);
    // a key client has no secret to try
    r = await srv.token({ grant_type: 'client_credentials' }, { authorization: basic('pk-file', SECRET) });
    assert.equal(r.status, 401, describeResponse(r));
  });

  test('works at /introspect and /revoke too', async () => {
    const t = (await withAssertion(srv, await assertion('pk-file'))).json.access_token;
    const i = await srv.post('/introspect', { token: t, client_assertion_type: TYPE, client_assertion: await assertion('pk-file') });
    assert.equal(i.status, 200, describeResponse(i));
    assert.equal(i.json.active, true);
    const rv = await srv.post('/revoke', { token: t, client_assertion_type: TYPE, client_assertion: await assertion('pk-file') });
    assert.equal(rv.status, 200, describeResponse(rv));
    const v = await verifyAt(srv, t);
    assert.equal(v.status, 401, 'revoked by its own client');
  });
});

describe('admin API: /admin/clients', () => {
  let adminTok, userTok;
  const call = (method, p, json, tok = adminTok) =>
    srv.request(p, { method, json, headers: tok ? { authorization: bearer(tok) } : {} });

  before(async () => {
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
    srv.addUser('mallory', 'mallory-password-1');
    userTok = (await srv.login('mallory', 'mallory-password-1')).access_token;
  });

  test('authorisation: no token 401, a user without the admin role 403, a service token 401', async () => {
    assert.equal((await call('GET', '/admin/clients', undefined, null)).status, 401);
    const r = await call('GET', '/admin/clients', undefined, userTok);
    assert.equal(r.status, 403, describeResponse(r));
    assert.equal((await call('POST', '/admin/clients', { client_id: 'x1' }, userTok)).status, 403);
    assert.equal((await call('POST', '/admin/clients/svc-a/disable', undefined, userTok)).status, 403);
    const svc = (await serviceToken('svc-plain', srv.audience)).body.access_token;
    assert.equal((await call('GET', '/admin/clients', undefined, svc)).status, 401);
  });

  test('create (secret shown once) → client_credentials → PATCH → rotate-secret → disable/enable → DELETE', async () => {
    let r = await call('POST', '/admin/clients', { client_id: 'api-made', scopes: ['a', 'b'], default_scopes: ['a'], resources: [ORDERS] });
    assert.equal(r.status, 201, describeResponse(r));
    assert.equal(r.json.type, 'confidential');
    const secret = r.json.client_secret;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(r.json.resources, [ORDERS]);
    let t = await cc('api-made', {}, secret);
    assert.equal(t.status, 200, describeResponse(t));
    assert.equal(t.json.scope, 'a');
    r = await call('GET', '/admin/clients/api-made');
    assert.equal(r.status, 200);
    assert.equal(r.json.client_secret, undefined, 'never shown again');
    assert.equal(r.json.secret_hash, undefined);
    r = await call('GET', '/admin/clients');
    assert.ok(r.json.clients.some((c) => c.client_id === 'api-made'));

    r = await call('PATCH', '/admin/clients/api-made', { resources: [BILLING], scopes: ['a'] });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json.resources, [BILLING]);
    t = await cc('api-made', {}, secret);
    assert.equal(t.status, 200, describeResponse(t));
    assert.equal(jose.decodeJwt(t.json.access_token).aud, BILLING);
    r = await call('PATCH', '/admin/clients/api-made', { default_scopes: ['zzz'] });
    assert.equal(r.status, 400, 'default scopes outside the scopes');
    r = await call('PATCH', '/admin/clients/api-made', { secret_hash: 'x' });
    assert.equal(r.status, 400, 'unknown member');

    r = await call('POST', '/admin/clients/api-made/rotate-secret');
    assert.equal(r.status, 200, describeResponse(r));
    const secret2 = r.json.client_secret;
    assert.notEqual(secret2, secret);
    assert.equal((await cc('api-made', {}, secret)).status, 401, 'the old secret stops at once');
    t = await cc('api-made', {}, secret2);
    assert.equal(t.status, 200);

    r = await call('POST', '/admin/clients/api-made/disable');
    assert.equal(r.status, 204, describeResponse(r));
    const v = await verifyAt(srv, t.json.access_token);
    assert.equal(v.status, 401, 'at once on this instance');
    assert.equal((await cc('api-made', {}, secret2)).status, 401);
    assert.equal((await call('POST', '/admin/clients/api-made/enable')).status, 204);
    assert.equal((await cc('api-made', {}, secret2)).status, 200);
    assert.equal((await call('DELETE', '/admin/clients/api-made')).status, 204);
    assert.equal((await call('GET', '/admin/clients/api-made')).status, 404);
    assert.equal((await call('DELETE', '/admin/clients/api-made')).status, 404);
  });

  test('create: public, with keys, conflicts and bad input', async () => {
    let r = await call('POST', '/admin/clients', { client_id: 'api-spa', type: 'public' });
    assert.equal(r.status, 201, describeResponse(r));
    assert.equal(r.json.client_secret, undefined);
    assert.equal(r.json.type, 'public');
    assert.equal((await call('POST', '/admin/clients', { client_id: 'api-spa', type: 'public' })).status, 409);
    const { publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    r = await call('POST', '/admin/clients', { client_id: 'api-keys', jwks: { keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1' }] } });
    assert.equal(r.status, 201, describeResponse(r));
    assert.equal(r.json.type, 'private_key_jwt');
    assert.equal(r.json.client_secret, undefined);
    for (const bad of [{}, { client_id: 'bad id' }, { client_id: 'x2', scopes: ['a b'] }, { client_id: 'x2', type: 'other' },
      { client_id: 'x2', jwks: { keys: [{ kty: 'oct', k: 'AAAA', kid: 'h' }] } }, { client_id: 'x2', jwks_url: 'http://example.com/k' }]) {
      r = await call('POST', '/admin/clients', bad);
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${describeResponse(r)}`);
    }
    assert.equal((await call('PUT', '/admin/clients/api-spa')).status, 405);
    assert.equal((await call('POST', '/admin/clients/api-spa/explode')).status, 404);
    assert.equal((await call('POST', '/admin/clients/api-spa/rotate-secret')).status, 409);
  });

  test('every change is audited', async () => {
    await srv.waitLog((l) => l.event === 'admin_client_delete' && l.client_id === 'api-made');
    for (const ev of ['admin_client_create', 'admin_client_update', 'admin_client_rotate_secret', 'admin_client_disable', 'admin_client_enable'])
      assert.ok(srv.logs().some((l) => l.event === ev && l.admin === 'admin'), ev);
    assert.ok(!srv.stderr.includes('client_secret":"'), 'no secret in the logs');
  });
});

describe('sessions: /admin/users/{id}/sessions and jotd session list|revoke', () => {
  let adminTok, uid, userTok;
  const call = (method, p, tok = adminTok) => srv.request(p, { method, headers: tok ? { authorization: bearer(tok) } : {} });

  before(async () => {
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
    srv.addUser('sally', 'sally-password-1');
    userTok = (await srv.login('sally', 'sally-password-1')).access_token;
    const r = await call('GET', '/admin/users?limit=500');
    uid = r.json.users.find((u) => u.username === 'sally').id;
  });

  test('list (created, last used, client, IP), revoke one, authorisation', async () => {
    const two = await srv.login('sally', 'sally-password-1', {}, { authorization: basic('svc-a', SECRET) });
    let r = await call('GET', `/admin/users/${uid}/sessions`);
    assert.equal(r.status, 200, describeResponse(r));
    const s = r.json.sessions;
    assert.equal(s.length, 2);
    const mine = s.find((x) => x.sid === two.claims.sid);
    assert.ok(mine, JSON.stringify(s));
    assert.equal(mine.client_id, 'svc-a');
    assert.equal(mine.ip, '127.0.0.1');
    assert.equal(mine.active, true);
    for (const k of ['created_at', 'last_used_at', 'expires_at']) assert.equal(typeof mine[k], 'number', k);
    assert.ok(s.some((x) => x.client_id === 'default'));

    assert.equal((await call('GET', `/admin/users/${uid}/sessions`, userTok)).status, 403);
    assert.equal((await call('GET', `/admin/users/${uid}/sessions`, null)).status, 401);
    assert.equal((await call('DELETE', `/admin/users/${uid}/sessions/${two.claims.sid}`, userTok)).status, 403);
    // another user's id with this session: 404, nothing revoked
    assert.equal((await call('DELETE', `/admin/users/1/sessions/${two.claims.sid}`)).status, 404);
    r = await call('DELETE', `/admin/users/${uid}/sessions/${two.claims.sid}`);
    assert.equal(r.status, 204, describeResponse(r));
    assert.equal((await verifyAt(srv, two.access_token)).status, 401);
    assert.equal((await verifyAt(srv, userTok)).status, 200, 'the other session lives');
    r = await call('GET', `/admin/users/${uid}/sessions`);
    assert.equal(r.json.sessions.find((x) => x.sid === two.claims.sid).revoked, true);
    assert.equal((await call('GET', '/admin/users/999999/sessions')).status, 404);
    await srv.waitLog((l) => l.event === 'admin_session_revoke' && l.sid === two.claims.sid);
  });

  test('jotd session list USER / revoke SID', async () => {
    const l = await srv.login('sally', 'sally-password-1');
    let r = srv.cmd(['session', 'list', 'sally']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, new RegExp(`^${l.claims.sid}\\tactive\\tcreated=\\S+Z\\tlast_used=\\S+Z\\tclient=default\\tip=127\\.0\\.0\\.1$`, 'm'));
    r = srv.cmd(['session', 'revoke', l.claims.sid]);
    assert.equal(r.status, 0, show(r));
    let ok = false;
    for (let i = 0; i < 200 && !ok; i++) {
      ok = (await verifyAt(srv, l.access_token)).status === 401;
      if (!ok) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(ok, 'the revoked session\'s token is refused');
    assert.match(srv.cmd(['session', 'list', 'sally']).stdout, new RegExp(`^${l.claims.sid}\\trevoked`, 'm'));
    r = srv.cmd(['session', 'revoke', 'no-such-session']);
    assert.equal(r.status, 1, show(r));
    r = srv.cmd(['session', 'list', 'nobody']);
    assert.equal(r.status, 1, show(r));
  });
});

describe('admin API: /admin/keys', () => {
  let adminTok, userTok;
  const call = (method, p, json, tok = adminTok) =>
    srv.request(p, { method, json, headers: tok ? { authorization: bearer(tok) } : {} });

  before(async () => {
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
    srv.addUser('kim', 'kim-password-123');
    userTok = (await srv.login('kim', 'kim-password-123')).access_token;
  });

  test('list, rotate, revoke; authorisation', async () => {
    assert.equal((await call('GET', '/admin/keys', undefined, userTok)).status, 403);
    assert.equal((await call('POST', '/admin/keys/rotate', undefined, userTok)).status, 403);
    assert.equal((await call('GET', '/admin/keys', undefined, null)).status, 401);
    let r = await call('GET', '/admin/keys');
    assert.equal(r.status, 200, describeResponse(r));
    const active = r.json.keys.find((k) => k.state === 'active');
    assert.ok(active, JSON.stringify(r.json));
    assert.equal(active.public_jwk.d, undefined, 'public members only');

    r = await call('POST', '/admin/keys/rotate', { alg: 'EdDSA' });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.json.alg, 'EdDSA');
    const fresh = r.json.kid;
    r = await call('GET', '/admin/keys');
    assert.ok(r.json.keys.some((k) => k.kid === fresh && k.alg === 'EdDSA'));
    // the answering instance reloads its keys on its main loop (the store's key event wakes
    // it): published within milliseconds, not before the answer
    await eventually('the rotated key in this instance\'s JWKS', async () =>
      (await srv.get('/.well-known/jwks.json')).json.keys.some((k) => k.kid === fresh));
    assert.equal((await call('POST', '/admin/keys/rotate', { alg: 'HS256' })).status, 400);

    // revoke the key that signs now: its tokens are refused, a new one signs
    const before = await serviceToken('svc-a', ORDERS);
    r = await call('POST', `/admin/keys/${before.header?.kid ?? jose.decodeProtectedHeader(before.body.access_token).kid}/revoke`);
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(typeof r.json.new_kid, 'string');
    // the keys are reloaded by the main loop, woken by the key_changed event
    await eventually('revoked key refused by /verify', async () => (await verifyAt(srv, before.body.access_token)).status === 401);
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
    const after = await serviceToken('svc-a', ORDERS);
    assert.equal(jose.decodeProtectedHeader(after.body.access_token).kid, r.json.new_kid);
    assert.equal((await call('POST', '/admin/keys/nope/revoke')).status, 404);
    assert.equal((await call('DELETE', '/admin/keys')).status, 405);
    await srv.waitLog((l) => l.event === 'admin_key_revoke');
    assert.ok(srv.logs().some((l) => l.event === 'admin_key_rotate' && l.kid === fresh));
  });
});

describe('jotd client update --jwks / --jwks-url', () => {
  test('a new key set replaces the old one at once; a public client has no keys', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jotd-s2s-upd-'));
    const mk = async () => {
      const k = await jose.generateKeyPair('ES256', { extractable: true });
      return { ...k, jwk: { ...(await jose.exportJWK(k.publicKey)), kid: 'u1' } };
    };
    const [k1, k2] = [await mk(), await mk()];
    const f1 = path.join(dir, '1.json'), f2 = path.join(dir, '2.json');
    fs.writeFileSync(f1, JSON.stringify({ keys: [k1.jwk] }));
    fs.writeFileSync(f2, JSON.stringify({ keys: [k2.jwk] }));
    assert.equal(srv.cmd(['client', 'add', 'pk-upd', '--jwks', f1]).status, 0);
    const sign = (key) =>
      new jose.SignJWT({ jti: crypto.randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'u1' }).setIssuer('pk-upd')
        .setSubject('pk-upd').setAudience(`${ISSUER}/token`).setExpirationTime('60s').sign(key);
    const use = async (key) =>
      (await srv.token({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await sign(key) })).status;
    assert.equal(await use(k1.privateKey), 200);
    const r = srv.cmd(['client', 'update', 'pk-upd', '--jwks', f2]);
    assert.equal(r.status, 0, show(r));
    assert.equal(await use(k1.privateKey), 401, 'the old key no longer works');
    assert.equal(await use(k2.privateKey), 200);
    assert.equal(srv.cmd(['client', 'update', 'spa', '--jwks', f2]).status, 1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
