// jotd GET /verify (forward auth), /userinfo, the JWKS, RFC 8414 metadata, /healthz, routing
// (404/405), body limits and hostile input.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Jotd, ISSUER, authHeaders, bearer, describeResponse, jose, jot, jwtPart, mkTmp, nowSec, show, storeSigningKeys,
} from './lib/jotd.mjs';

const PW = 'verify-tests-password';
let srv;
let alice; // a login of alice

before(async () => {
  srv = await Jotd.start({ args: ['--max-body', '1024'] });
  srv.addUser('alice', PW, { roles: ['editor', 'viewer'], permissions: ['posts:write', 'media/upload'] });
  srv.addUser('plain', PW);
  srv.addClient('spa', undefined, { scopes: ['openid', 'profile'] });
  alice = await srv.login('alice', PW, { scope: 'openid profile', client_id: 'spa' });
});

after(async () => {
  if (srv) await srv.stop();
});

const verify = (tok, method = 'GET') =>
  srv.request('/verify', { method, headers: tok === undefined ? {} : { authorization: bearer(tok) } });

function expect401(r, error, descr) {
  assert.equal(r.status, 401, describeResponse(r));
  const www = r.headers.get('www-authenticate') ?? '';
  assert.match(www, /^Bearer realm="jotd"/, describeResponse(r));
  if (error) assert.match(www, new RegExp(`error="${error}"`), describeResponse(r));
  if (descr) assert.match(www, new RegExp(`error_description="[^"]*${descr}`, 'i'), describeResponse(r));
  assert.equal(authHeaders(r)['x-auth-subject'], undefined, 'no identity headers on a 401');
}

/** The server's current signing key (its private JWK unsealed from the store) as a jose key. */
async function serverKey(s = srv) {
  const now = nowSec();
  const cur = storeSigningKeys(s.data).filter((k) => !k.revokedAt && k.activateAt <= now).pop();
  return { kid: cur.kid, key: await jose.importJWK(cur.jwk, cur.alg), alg: cur.alg, jwk: cur.jwk };
}

/** A token signed with the server's real key; \p claims/\p header override the good ones. */
async function craft(claims = {}, header = {}, signOptions = undefined) {
  const { kid, key, alg } = await serverKey();
  const now = nowSec();
  const payload = {
    iss: ISSUER, sub: '1', aud: ISSUER, exp: now + 300, iat: now, jti: crypto.randomBytes(16).toString('base64url'),
    client_id: 'default', sid: 'crafted', preferred_username: 'alice', roles: ['r'], permissions: [], ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const h = { alg, typ: 'at+jwt', kid, ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  return new jose.SignJWT(payload).setProtectedHeader(h).sign(key, signOptions);
}

describe('GET /verify', () => {
  test('200 with the identity headers', async () => {
    const r = await verify(alice.access_token);
    assert.equal(r.status, 200, describeResponse(r));
    const h = authHeaders(r);
    assert.equal(h['x-auth-subject'], alice.claims.sub);
    assert.equal(h['x-auth-user'], 'alice');
    assert.equal(h['x-auth-roles'], 'editor,viewer');
    assert.equal(h['x-auth-permissions'], 'posts:write,media/upload');
    assert.equal(h['x-auth-scope'], 'openid profile');
    assert.equal(h['x-auth-client'], 'spa');
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  });

  test('a user without roles, permissions or scope gets empty headers', async () => {
    const l = await srv.login('plain', PW);
    const r = await verify(l.access_token);
    assert.equal(r.status, 200, describeResponse(r));
    const h = authHeaders(r);
    assert.equal(h['x-auth-user'], 'plain');
    assert.equal(h['x-auth-roles'] ?? '', '');
    assert.equal(h['x-auth-permissions'] ?? '', '');
    assert.equal(h['x-auth-scope'] ?? '', '');
  });

  test('the scheme name is case-insensitive (RFC 7235)', async () => {
    const r = await srv.get('/verify', { authorization: `bearer ${alice.access_token}` });
    assert.equal(r.status, 200, describeResponse(r));
  });

  test('no token: 401 with a bare Bearer challenge', async () => {
    const r = await verify(undefined);
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jotd"');
  });

  test('malformed Authorization headers: 401 with an error', async () => {
    for (const authorization of ['Bearer', 'Bearer ', `Bearer ${alice.access_token} extra`, `Basic ${Buffer.from('a:b').toString('base64')}`, `Token ${alice.access_token}`, 'Bearer a"b', 'Bearer ä']) {
      const r = await srv.get('/verify', { authorization });
      assert.equal(r.status, 401, `${authorization}: ${describeResponse(r)}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="jotd", error="(invalid_request|invalid_token)"/);
    }
  });

  test('a garbage bearer is a "malformed token", whatever byte gives it away', async () => {
    // base64url that decodes to bytes that are not UTF-8, not base64url at all, not JSON,
    // not three parts: the client is told the same thing
    const notJson = Buffer.from('not json').toString('base64url');
    for (const tok of ['abcd.efgh.ijkl', 'garbage.garbage.garbage', 'x.y.z', 'not-a-jwt', `${notJson}.${notJson}.${notJson}`]) {
      const r = await verify(tok);
      assert.equal(r.status, 401, `${tok}: ${describeResponse(r)}`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jotd", error="invalid_token", error_description="malformed token"', tok);
    }
  });

  test('tampered tokens: 401 invalid_token', async () => {
    const [h, p, s] = alice.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const evil = (o) => Buffer.from(JSON.stringify({ ...claims, ...o })).toString('base64url');
    const flip = s.slice(0, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6);
    for (const tok of [
      `${h}.${p}.${flip}`,
      `${h}.${evil({ roles: ['admin'] })}.${s}`,
      `${h}.${evil({ sub: '999' })}.${s}`,
      `${h}.${p}.`,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      'x.y.z',
      'not-a-jwt',
    ]) {
      expect401(await verify(tok), 'invalid_token');
    }
    assert.equal((await verify(alice.access_token)).status, 200, 'the original still passes');
  });

  test('a token signed by another key with the right iss/aud/typ is refused (jot keygen + jot sign)', async () => {
    const tmp = mkTmp();
    const keyFile = path.join(tmp, 'other.jwk');
    fs.writeFileSync(keyFile, jot(['keygen', '--alg', 'ES256']) + '\n', { mode: 0o600 });
    const { kid } = await serverKey();
    const common = ['sign', '--key', keyFile, '--alg', 'ES256', '--typ', 'at+jwt', '--iss', ISSUER, '--aud', ISSUER,
      '--sub', alice.claims.sub, '--exp', '5m', '--jti', 'auto',
      '--claim', 'roles=["admin"]', '--claim', `sid="${alice.claims.sid}"`, '--claim', 'client_id="default"'];
    const own = jot(common); // the attacker's own kid
    const sameKid = jot([...common, '--kid', kid]); // pretending to be the server's key
    for (const tok of [own, sameKid]) {
      assert.equal(jwtPart(tok, 0).typ, 'at+jwt');
      expect401(await verify(tok), 'invalid_token');
      await assert.rejects(srv.verifyAccess(tok), 'jose refuses it too');
    }
  });

  test('alg none and HMAC-with-the-public-key tokens are refused', async () => {
    const { kid, jwk } = await serverKey();
    const now = nowSec();
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: ISSUER, sub: '1', exp: now + 300, iat: now, jti: 'n1' })).toString('base64url');
    for (const alg of ['none', 'None', 'NONE']) {
      const h = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');
      expect401(await verify(`${h}.${payload}.`), 'invalid_token');
    }
    const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid })).toString('base64url');
    for (const secret of [JSON.stringify(pub), Buffer.from(jwk.x, 'base64url')]) {
      const sig = crypto.createHmac('sha256', secret).update(`${h}.${payload}`).digest('base64url');
      expect401(await verify(`${h}.${payload}.${sig}`), 'invalid_token');
    }
  });

  test('claims are checked: iss, aud, typ, exp, nbf, jti (tokens signed with the real key)', async () => {
    // control: the crafting itself is right
    const good = await craft();
    assert.equal((await verify(good)).status, 200);
    const now = nowSec();
    const bad = {
      'wrong iss': await craft({ iss: 'https://evil.example' }),
      'wrong aud': await craft({ aud: 'https://other.example' }),
      'no aud': await craft({ aud: undefined }),
      'typ JWT': await craft({}, { typ: 'JWT' }),
      'no typ': await craft({}, { typ: undefined }),
      'expired (beyond leeway)': await craft({ exp: now - 60, iat: now - 120 }),
      'not yet valid': await craft({ nbf: now + 120 }),
      'no jti': await craft({ jti: undefined }),
      'no sub': await craft({ sub: undefined }),
      'unknown crit': await craft({}, { crit: ['x-unknown'], 'x-unknown': 1 }, { crit: { 'x-unknown': true } }),
    };
    for (const [what, tok] of Object.entries(bad)) {
      const r = await verify(tok);
      assert.equal(r.status, 401, `${what}: ${describeResponse(r)}`);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
    }
    expect401(await verify(bad['expired (beyond leeway)']), 'invalid_token', 'expired');
  });

  test('HEAD /verify works like GET without a body', async () => {
    let r = await verify(alice.access_token, 'HEAD');
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.text, '');
    assert.equal(authHeaders(r)['x-auth-user'], 'alice');
    r = await verify(undefined, 'HEAD');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jotd"');
  });

  test('POST /verify is 405 with Allow', async () => {
    const r = await srv.request('/verify', { method: 'POST', headers: { authorization: bearer(alice.access_token) } });
    assert.equal(r.status, 405, describeResponse(r));
    assert.match(r.headers.get('allow') ?? '', /GET/);
    assert.match(r.headers.get('allow') ?? '', /HEAD/);
  });
});

describe('GET /userinfo', () => {
  test('the user record: sub, preferred_username, roles, permissions', async () => {
    const r = await srv.get('/userinfo', { authorization: bearer(alice.access_token) });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json, {
      sub: alice.claims.sub, preferred_username: 'alice', roles: ['editor', 'viewer'], permissions: ['posts:write', 'media/upload'],
    });
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  });

  test('reads the user record now, never the roles of an older token', async () => {
    // A role change bumps the user's generation: the old token is superseded once the event
    // reaches this server (a poll tick, or at once with LISTEN on PostgreSQL). Until then
    // /userinfo answers from the record, so the old roles are never shown either way.
    srv.addUser('uma', PW, { roles: ['a'] });
    const l = await srv.login('uma', PW);
    const c = srv.cmd(['user', 'roles', 'uma', '--role', 'b', '--permission', 'p:x']);
    assert.equal(c.status, 0, show(c));
    const t0 = Date.now();
    for (;;) {
      const r = await srv.get('/userinfo', { authorization: bearer(l.access_token) });
      if (r.status === 401) {
        assert.match(r.headers.get('www-authenticate') ?? '', /superseded/, describeResponse(r));
        break;
      }
      assert.equal(r.status, 200, describeResponse(r));
      assert.deepEqual(r.json.roles, ['b']);
      assert.deepEqual(r.json.permissions, ['p:x']);
      assert.ok(Date.now() - t0 < 15_000, 'the old token was never superseded');
      await new Promise((res) => setTimeout(res, 50));
    }
    const n = await srv.login('uma', PW);
    const r = await srv.get('/userinfo', { authorization: bearer(n.access_token) });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json.roles, ['b']);
    assert.deepEqual(r.json.permissions, ['p:x']);
  });

  test('401 without a token or with a bad one', async () => {
    let r = await srv.get('/userinfo');
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="jotd"');
    r = await srv.get('/userinfo', { authorization: bearer('a.b.c') });
    expect401(r, 'invalid_token');
  });
});

describe('discovery', () => {
  test('JWKS: public members only, the token kid is in it, jose can import every key', async () => {
    const r = await srv.get('/.well-known/jwks.json');
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('content-type') ?? '', /^application\/(jwk-set\+)?json/);
    const keys = r.json.keys;
    assert.ok(Array.isArray(keys) && keys.length >= 1);
    for (const k of keys) {
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.ok(!(priv in k), `private member ${priv} in the JWKS`);
      assert.equal(typeof k.kid, 'string');
      assert.ok(['EC', 'OKP', 'RSA'].includes(k.kty));
      const imported = await jose.importJWK(k, k.alg ?? 'ES256');
      assert.equal(imported.type, 'public');
    }
    assert.ok(keys.some((k) => k.kid === alice.header.kid));
    assert.equal(new Set(keys.map((k) => k.kid)).size, keys.length, 'kids unique');
  });

  test('RFC 8414 metadata: issuer equals --issuer, endpoints under it', async () => {
    const r = await srv.get('/.well-known/oauth-authorization-server');
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const m = r.json;
    assert.equal(m.issuer, ISSUER);
    assert.equal(m.token_endpoint, `${ISSUER}/token`);
    assert.equal(m.revocation_endpoint, `${ISSUER}/revoke`);
    assert.equal(m.introspection_endpoint, `${ISSUER}/introspect`);
    assert.equal(m.userinfo_endpoint, `${ISSUER}/userinfo`);
    assert.equal(m.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    assert.ok(m.grant_types_supported.includes('password'));
    assert.ok(m.grant_types_supported.includes('refresh_token'));
    assert.ok(m.access_token_signing_alg_values_supported?.includes('ES256') ?? true);
  });

  test('without --issuer (and --listen port 0) the issuer is the address jotd listens on', async () => {
    const s = await Jotd.start({ issuer: null });
    try {
      const m = (await s.get('/.well-known/oauth-authorization-server')).json;
      assert.equal(m.issuer, s.base, `issuer ${m.issuer} but listening on ${s.base}`);
      assert.equal(m.token_endpoint, `${s.base}/token`);
      // tokens carry it (iss, and aud by default), also after a SIGHUP reload
      s.issuer = s.audience = s.base;
      s.addUser('iss', PW);
      const t = await s.login('iss', PW); // jose checks iss and aud
      assert.equal(t.claims.iss, s.base);
      await s.reload();
      assert.equal((await s.get('/.well-known/oauth-authorization-server')).json.issuer, s.base);
      const t2 = await s.refresh(t.refresh_token);
      assert.equal(t2.claims.aud, s.base);
      assert.equal((await s.get('/verify', { authorization: bearer(t2.access_token) })).status, 200);
    } finally {
      await s.stop();
    }
  });

  test('/healthz', async () => {
    let r = await srv.get('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    r = await srv.request('/healthz', { method: 'HEAD' });
    assert.equal(r.status, 200);
    r = await srv.get('/healthz?probe=1');
    assert.equal(r.status, 200, 'a query string does not change the route');
  });
});

describe('routing and bad input', () => {
  test('unknown paths are 404 with a JSON error', async () => {
    for (const p of ['/', '/nope', '/token/', '/admin', '/.well-known/', '/.well-known/openid-configuration', '/verify/x', '/TOKEN', '/healthz/..']) {
      const r = await srv.get(p);
      assert.equal(r.status, 404, `${p}: ${describeResponse(r)}`);
      assert.ok(r.json?.error, p);
    }
    // a decoded control byte is refused before routing (jotd_http_strict.test.mjs)
    const nul = await srv.get('/%00');
    assert.equal(nul.status, 400, describeResponse(nul));
    assert.equal(nul.json?.error, 'invalid_request');
  });

  test('wrong methods are 405 with Allow', async () => {
    for (const [p, method, allow] of [
      ['/token', 'GET', /POST/], ['/revoke', 'PUT', /POST/], ['/introspect', 'DELETE', /POST/], ['/logout', 'GET', /POST/],
      ['/userinfo', 'PUT', /GET/], ['/.well-known/jwks.json', 'POST', /GET/], ['/healthz', 'DELETE', /GET/],
      ['/admin/users', 'PUT', /GET/],
    ]) {
      const r = await srv.request(p, { method });
      assert.equal(r.status, 405, `${method} ${p}: ${describeResponse(r)}`);
      assert.match(r.headers.get('allow') ?? '', allow, `${method} ${p}`);
    }
  });

  test('bodies over --max-body (1024) are 413; up to it they are read', async () => {
    let r = await srv.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=alice&password=${'x'.repeat(1100)}` });
    assert.equal(r.status, 413, describeResponse(r));
    // chunked, without Content-Length
    r = await new Promise((resolve, reject) => {
      import('node:http').then(({ default: http }) => {
        const req = http.request(srv.url('/token'), { method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        for (let i = 0; i < 20; i++) req.write('a='.padEnd(100, 'b'));
        req.end();
      });
    });
    assert.equal(r.status, 413, JSON.stringify(r));
    // exactly at the limit: parsed (a wrong password, not a 413)
    const body = `grant_type=password&username=alice&password=`;
    const exact = body + 'p'.repeat(1024 - body.length);
    assert.equal(exact.length, 1024);
    r = await srv.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: exact });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('malformed JSON is 400 with an RFC 6749 error body on every POST endpoint', async () => {
    const l = await srv.login('plain', PW);
    for (const p of ['/token', '/revoke', '/introspect', '/logout']) {
      for (const body of ['{', '{"a":}', '{"a":1,"a":2}', 'null', '[]', '"str"', '{"a":"\\ud800"}']) {
        const r = await srv.request(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        assert.equal(r.status, 400, `${p} ${body}: ${describeResponse(r)}`);
        assert.equal(r.json?.error, 'invalid_request', `${p} ${body}`);
      }
    }
    const r = await srv.request('/admin/users', { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(l.access_token) }, body: '{' });
    assert.ok([400, 403].includes(r.status), describeResponse(r));
  });

  test('garbage and binary bodies, odd requests and raw bytes never crash the server', async () => {
    const bodies = [crypto.randomBytes(900), Buffer.from([0, 0, 0, 0]), Buffer.from('\xff\xfe\xfd', 'latin1'), Buffer.from('%'), Buffer.from('=&=&&=='), Buffer.from('a'.repeat(1000)), Buffer.from('{"grant_type":'.repeat(60))];
    const types = ['application/json', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-16', undefined];
    for (const p of ['/token', '/revoke', '/introspect', '/logout', '/admin/users']) {
      for (const body of bodies) {
        for (const ct of types) {
          const headers = ct ? { 'content-type': ct } : {};
          const r = await srv.request(p, { method: 'POST', headers, body });
          assert.ok(r.status >= 400 && r.status < 500, `${p} ${ct}: ${describeResponse(r)}`);
        }
      }
    }
    // raw bytes that are not HTTP, broken request lines, a huge header, a half request
    const raw = [
      crypto.randomBytes(2000),
      Buffer.from('GARBAGE\r\n\r\n'),
      Buffer.from('GET /healthz HTTP/9.9\r\n\r\n'),
      Buffer.from(`GET /verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20000)}\r\n\r\n`),
      Buffer.from('POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc'),
      Buffer.from('POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'),
      Buffer.from('POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n'),
      Buffer.from('POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      Buffer.from('GET /\x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    ];
    await Promise.all(raw.map((bytes) => new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1', () => {
        sock.write(bytes);
        setTimeout(() => sock.destroy(), 300);
      });
      sock.on('data', () => {});
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
    })));
    const h = await srv.get('/healthz');
    assert.equal(h.status, 200, 'still serving');
    assert.equal(srv.exit, null, 'still running');
    assert.equal((await verify(alice.access_token)).status, 200);
  });

  test('after malformed HTTP, stderr still holds only JSON lines', async () => {
    await new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1', () => sock.end('GARBAGE\r\n\r\n'));
      sock.on('data', () => {});
      sock.on('error', resolve);
      sock.on('close', resolve);
    });
    assert.equal((await srv.get('/healthz')).status, 200);
    await srv.waitLog((l) => l.path === '/healthz');
    const bad = srv.stderr.split('\n').filter((l) => l && !l.startsWith('{'));
    assert.deepEqual(bad, [], 'lines on stderr that are not JSON log lines');
  });
});
