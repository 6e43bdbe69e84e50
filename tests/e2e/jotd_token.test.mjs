// jotd POST /token: the password grant (form and JSON), the access-token claims, the error
// answers of RFC 6749 §5.2, login throttling and client authentication.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Jotd, ISSUER, alignToSecond, basic, describeResponse, jwtPart, show,
} from './lib/jotd.mjs';

const PW = {
  alice: 'alice-password-1',
  bob: 'bob-password-22',
  tina: 'tina-password-333',
  rita: 'rita-password-4444',
};
const C1_SECRET = 'c1-secret-0123456789abcdef-0123456789';

let srv;
const seenTokens = []; // every token handed out, to scan the logs for them at the end

before(async () => {
  // IP throttling is tested on its own server; here it must not get in the way.
  srv = await Jotd.start({ args: ['--throttle-ip-failures', '1000'] });
  srv.addUser('alice', PW.alice, { roles: ['editor', 'viewer'], permissions: ['posts:write', 'posts/read'] });
  srv.addUser('bob', PW.bob, { roles: ['viewer'] });
  assert.equal(srv.cmd(['user', 'disable', 'bob']).status, 0);
  srv.addUser('tina', PW.tina);
  srv.addUser('rita', PW.rita);
  srv.addClient('c1', C1_SECRET);
  srv.addClient('spa');
  srv.updateClient('default', { scopes: ['read', 'write', 'posts.read', 'profile'] });
});

after(async () => {
  if (srv) await srv.stop();
});

/** The numeric id `jotd user list` prints for \p name. */
function userId(name) {
  const r = srv.cmd(['user', 'list']);
  assert.equal(r.status, 0, show(r));
  const line = r.stdout.split('\n').find((l) => l.split('\t')[1] === name);
  assert.ok(line, `user ${name} listed:\n${r.stdout}`);
  return line.split('\t')[0];
}

function expectError(r, status, error) {
  assert.equal(r.status, status, describeResponse(r));
  assert.ok(r.json, `JSON error body: ${r.text}`);
  assert.equal(r.json.error, error, describeResponse(r));
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.match(r.headers.get('cache-control') ?? '', /no-store/, 'errors are not cached');
}

const remember = (b) => {
  seenTokens.push(b.access_token, b.refresh_token);
  return b;
};

describe('password grant', () => {
  test('form-encoded login: RFC 9068 access token, refresh token, no-store', async () => {
    const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice });
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.match(r.headers.get('cache-control'), /no-store/);
    const b = remember(await srv.checkTokenResponse(r));
    assert.equal(b.expires_in, 900, 'default access-token lifetime 15 min');
    assert.equal(b.scope, '');
    const c = b.claims;
    assert.equal(c.iss, ISSUER);
    assert.equal(c.aud, ISSUER, 'the audience defaults to the issuer');
    assert.equal(c.sub, userId('alice'), 'sub is the user id');
    assert.equal(typeof c.sub, 'string');
    assert.equal(c.exp - c.iat, 900);
    assert.ok(Math.abs(c.iat - Date.now() / 1000) < 60, 'iat is now');
    assert.match(c.jti, /^[A-Za-z0-9_-]{16,}$/);
    assert.equal(c.client_id, 'default', 'no client named: the --default-client');
    assert.match(c.sid, /^[A-Za-z0-9_-]{16,}$/);
    assert.deepEqual(c.roles, ['editor', 'viewer']);
    assert.deepEqual(c.permissions, ['posts:write', 'posts/read']);
    assert.equal(c.preferred_username, 'alice');
    assert.ok(!('password' in c));
    // the header names the key that signed, and that key is in the JWKS
    const jwks = (await srv.get('/.well-known/jwks.json')).json;
    assert.ok(jwks.keys.some((k) => k.kid === b.header.kid), 'kid is in the JWKS');
    assert.equal(b.header.alg, 'ES256');
  });

  test('every login gets a new session, jti and refresh token', async () => {
    const a = remember(await srv.login('alice', PW.alice));
    const b = remember(await srv.login('alice', PW.alice));
    assert.notEqual(a.refresh_token, b.refresh_token);
    assert.notEqual(a.claims.jti, b.claims.jti);
    assert.notEqual(a.claims.sid, b.claims.sid);
  });

  test('JSON login gives the same kind of answer', async () => {
    const r = await srv.request('/token', {
      method: 'POST',
      json: { grant_type: 'password', username: 'alice', password: PW.alice, scope: 'read write' },
    });
    assert.equal(r.status, 200, describeResponse(r));
    const b = remember(await srv.checkTokenResponse(r));
    assert.equal(b.expires_in, 900);
    assert.equal(b.scope, 'read write');
    assert.equal(b.claims.scope, 'read write');
    assert.equal(b.claims.sub, userId('alice'));
    assert.deepEqual(b.claims.roles, ['editor', 'viewer']);
  });

  test('form content type with a charset parameter is accepted', async () => {
    const r = await srv.request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: PW.alice }).toString(),
    });
    assert.equal(r.status, 200, describeResponse(r));
    remember(await srv.checkTokenResponse(r));
  });

  test('a requested scope is granted and appears in the token', async () => {
    const b = remember(await srv.login('alice', PW.alice, { scope: 'posts.read profile' }));
    assert.equal(b.scope, 'posts.read profile');
    assert.equal(b.claims.scope, 'posts.read profile');
  });

  test('a malformed scope is invalid_scope', async () => {
    for (const scope of [' lead', 'trail ', 'two  spaces', 'quote"d', 'back\\slash']) {
      const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice, scope });
      expectError(r, 400, 'invalid_scope');
    }
  });

  test('wrong password, unknown user and disabled user get identical invalid_grant answers', async () => {
    const answers = [];
    for (const [username, password] of [
      ['alice', 'not-the-password'],
      ['nobody-here', 'whatever-password'],
      ['bob', PW.bob], // right password, disabled user
    ]) {
      const r = await srv.token({ grant_type: 'password', username, password });
      expectError(r, 400, 'invalid_grant');
      answers.push({ status: r.status, body: r.text, type: r.headers.get('content-type'), www: r.headers.get('www-authenticate') });
    }
    assert.deepEqual(answers[1], answers[0], 'unknown user answered like a wrong password');
    assert.deepEqual(answers[2], answers[0], 'disabled user answered like a wrong password');
    // and the right password of an enabled user still works
    remember(await srv.login('alice', PW.alice));
  });

  test('user names are exact: other case or surrounding space is a different (unknown) user', async () => {
    for (const username of ['Alice', ' alice', 'alice ']) {
      const r = await srv.token({ grant_type: 'password', username, password: PW.alice });
      expectError(r, 400, 'invalid_grant');
    }
  });
});

describe('request errors', () => {
  test('missing parameters are invalid_request', async () => {
    const cases = [
      {},
      { username: 'alice', password: PW.alice },
      { grant_type: 'password', password: PW.alice },
      { grant_type: 'password', username: 'alice' },
      { grant_type: 'password', username: '', password: PW.alice },
      { grant_type: 'refresh_token' },
      { grant_type: 'refresh_token', refresh_token: '' },
    ];
    for (const form of cases) {
      const r = await srv.token(form);
      expectError(r, 400, 'invalid_request');
    }
    // an empty body
    const r = await srv.request('/token', { method: 'POST' });
    expectError(r, 400, 'invalid_request');
  });

  test('an unsupported grant_type is unsupported_grant_type', async () => {
    // client_credentials is supported now: a public client is unauthorized_client (jotd_s2s);
    // authorization_code too (jotd_browser)
    for (const grant_type of ['PASSWORD', 'urn:ietf:params:oauth:grant-type:jwt-bearer', '']) {
      const r = await srv.token({ grant_type, username: 'alice', password: PW.alice, code: 'x' });
      if (grant_type === '') {
        assert.equal(r.status, 400, describeResponse(r));
        assert.ok(['invalid_request', 'unsupported_grant_type'].includes(r.json?.error), describeResponse(r));
      } else {
        expectError(r, 400, 'unsupported_grant_type');
      }
    }
  });

  test('a parameter given twice is invalid_request (form and JSON)', async () => {
    const form = `grant_type=password&username=alice&password=${encodeURIComponent(PW.alice)}&username=alice`;
    let r = await srv.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expectError(r, 400, 'invalid_request');
    r = await srv.request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&grant_type=password&username=alice&password=${encodeURIComponent(PW.alice)}`,
    });
    expectError(r, 400, 'invalid_request');
    const json = `{"grant_type":"password","username":"alice","password":${JSON.stringify(PW.alice)},"password":"x"}`;
    r = await srv.request('/token', { method: 'POST', json });
    expectError(r, 400, 'invalid_request');
    // the same bodies without the repetition work
    r = await srv.request('/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=alice&password=${encodeURIComponent(PW.alice)}` });
    assert.equal(r.status, 200, describeResponse(r));
    remember(await srv.checkTokenResponse(r));
  });

  test('unsupported content types are refused with invalid_request', async () => {
    const body = `grant_type=password&username=alice&password=${encodeURIComponent(PW.alice)}`;
    for (const ct of ['text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'application/x-www-form-urlencodedx']) {
      const r = await srv.request('/token', { method: 'POST', headers: { 'content-type': ct }, body });
      expectError(r, 400, 'invalid_request');
    }
    // a body without any Content-Type
    const r = await srv.request('/token', { method: 'POST', body: Buffer.from(body) });
    expectError(r, 400, 'invalid_request');
  });

  test('malformed form and JSON bodies are invalid_request', async () => {
    const bad = [
      ['application/x-www-form-urlencoded', 'grant_type=password&username=%zz&password=x'],
      ['application/x-www-form-urlencoded', 'grant_type=password&username=a%00b&password=x'],
      ['application/x-www-form-urlencoded', 'grant_type=password&username=%ff%fe&password=x'],
      ['application/json', '{"grant_type":"password",'],
      ['application/json', '["grant_type","password"]'],
      ['application/json', '{"grant_type":"password","username":null,"password":"x"}'],
      ['application/json', '{"grant_type":"password","username":{"a":1},"password":"x"}'],
    ];
    for (const [ct, body] of bad) {
      const r = await srv.request('/token', { method: 'POST', headers: { 'content-type': ct }, body });
      expectError(r, 400, 'invalid_request');
    }
  });

  test('only POST: GET /token is 405 with Allow', async () => {
    const r = await srv.get('/token');
    assert.equal(r.status, 405, describeResponse(r));
    assert.match(r.headers.get('allow'), /\bPOST\b/);
  });
});

describe('throttling', () => {
  test('5 wrong passwords for one account: the 6th attempt is 429 with Retry-After, even with the right password', async () => {
    await alignToSecond(); // the first lock is short; keep the burst inside one second
    for (let i = 1; i <= 5; i++) {
      const r = await srv.token({ grant_type: 'password', username: 'tina', password: `wrong-${i}-password` });
      expectError(r, 400, 'invalid_grant');
    }
    let r = await srv.token({ grant_type: 'password', username: 'tina', password: 'wrong-6-password' });
    assert.equal(r.status, 429, `6th attempt: ${describeResponse(r)}`);
    assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'Retry-After in whole seconds');
    assert.ok(r.json?.error, 'an error body');
    r = await srv.token({ grant_type: 'password', username: 'tina', password: PW.tina });
    assert.equal(r.status, 429, `right password while locked: ${describeResponse(r)}`);
    assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    // another account is not affected
    remember(await srv.login('alice', PW.alice));
  });

  test('a success resets the account count', async () => {
    await alignToSecond();
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 4; i++) {
        const r = await srv.token({ grant_type: 'password', username: 'rita', password: `nope-${i}-password` });
        expectError(r, 400, 'invalid_grant');
      }
      remember(await srv.login('rita', PW.rita));
    }
  });

  test('IP limit (--throttle-ip-failures 3): failures across different user names lock the address', async () => {
    const ip = await Jotd.start({ args: ['--throttle-ip-failures', '3'] });
    try {
      ip.addUser('ursula', 'ursula-password');
      // below the limit a correct login works (and does not reset the IP's count)
      for (const u of ['u1', 'u2']) {
        const r = await ip.token({ grant_type: 'password', username: u, password: 'wrong-password' });
        expectError(r, 400, 'invalid_grant');
      }
      await ip.login('ursula', 'ursula-password');
      const r3 = await ip.token({ grant_type: 'password', username: 'u3', password: 'wrong-password' });
      expectError(r3, 400, 'invalid_grant');
      // 3 failures from 127.0.0.1 within the minute: the next attempt, a new user name with
      // the right password, is throttled
      const r = await ip.token({ grant_type: 'password', username: 'ursula', password: 'ursula-password' });
      assert.equal(r.status, 429, `after 3 failures from one IP (limit 3): ${describeResponse(r)}`);
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      // stderr arrives on its own pipe: wait for the line rather than racing the response
      const audit = await ip.waitLog((l) => l.event === 'login_throttled');
      assert.ok(audit, 'an audit line for the throttled login');
    } finally {
      await ip.stop();
    }
  });
});

describe('client authentication', () => {
  test('confidential client: HTTP Basic works and the token names the client', async () => {
    const b = remember(await srv.login('alice', PW.alice, {}, { authorization: basic('c1', C1_SECRET) }));
    assert.equal(b.claims.client_id, 'c1');
  });

  test('confidential client: client_secret_post works', async () => {
    const b = remember(await srv.login('alice', PW.alice, { client_id: 'c1', client_secret: C1_SECRET }));
    assert.equal(b.claims.client_id, 'c1');
  });

  test('JSON body with client_id/client_secret works', async () => {
    const r = await srv.request('/token', {
      method: 'POST',
      json: { grant_type: 'password', username: 'alice', password: PW.alice, client_id: 'c1', client_secret: C1_SECRET },
    });
    assert.equal(r.status, 200, describeResponse(r));
    const b = remember(await srv.checkTokenResponse(r));
    assert.equal(b.claims.client_id, 'c1');
  });

  test('wrong secret is 401 invalid_client; WWW-Authenticate: Basic answers Basic only (RFC 6749 §5.2)', async () => {
    const tries = [
      [{}, { authorization: basic('c1', 'wrong-secret') }],
      [{ client_id: 'c1', client_secret: 'wrong-secret' }, {}],
      [{ client_id: 'c1' }, {}], // confidential client without its secret
      [{}, { authorization: basic('c1', '') }],
    ];
    for (const [extra, headers] of tries) {
      const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice, ...extra }, headers);
      expectError(r, 401, 'invalid_client');
      // a client_secret_post client must see the OAuth error, not an HTTP challenge
      if (headers.authorization) assert.match(r.headers.get('www-authenticate') ?? '', /^Basic\b/i, describeResponse(r));
      else assert.equal(r.headers.get('www-authenticate'), null, describeResponse(r));
    }
  });

  test('two authentication methods at once is invalid_client', async () => {
    const r = await srv.token(
      { grant_type: 'password', username: 'alice', password: PW.alice, client_secret: C1_SECRET },
      { authorization: basic('c1', C1_SECRET) },
    );
    expectError(r, 401, 'invalid_client');
  });

  test('malformed Basic credentials are invalid_client', async () => {
    for (const authorization of ['Basic !!!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Basic ' + Buffer.from(':secret').toString('base64')]) {
      const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice }, { authorization });
      expectError(r, 401, 'invalid_client');
    }
  });

  test('"Authorization: Basic" without credentials is invalid_client, not an anonymous request', async () => {
    for (const authorization of ['Basic']) {
      const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice }, { authorization });
      expectError(r, 401, 'invalid_client');
    }
  });

  test('public client: client_id alone', async () => {
    const b = remember(await srv.login('alice', PW.alice, { client_id: 'spa' }));
    assert.equal(b.claims.client_id, 'spa');
  });

  test('public client presenting a secret is refused', async () => {
    const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice, client_id: 'spa', client_secret: 'anything' });
    expectError(r, 401, 'invalid_client');
  });

  test('unknown client_id is 401 invalid_client (with and without a secret)', async () => {
    for (const extra of [{ client_id: 'nope' }, { client_id: 'nope', client_secret: 'x-secret' }]) {
      const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice, ...extra });
      expectError(r, 401, 'invalid_client');
    }
    const r = await srv.token({ grant_type: 'password', username: 'alice', password: PW.alice }, { authorization: basic('nope', 'x-secret') });
    expectError(r, 401, 'invalid_client');
  });
});

describe('logs', () => {
  test('one JSON line per request and audit lines for logins; no password or token in them', async () => {
    const logs = srv.logs(); // every line parses as JSON
    const reqs = logs.filter((l) => l.type === 'request' && l.path === '/token');
    assert.ok(reqs.length > 20, 'request lines for /token');
    assert.ok(reqs.some((l) => l.method === 'GET' && l.status === 405));
    for (const l of reqs) {
      assert.ok(['POST', 'GET'].includes(l.method));
      assert.equal(typeof l.status, 'number');
      assert.equal(typeof l.latency_us, 'number');
      assert.equal(l.ip, '127.0.0.1');
    }
    assert.ok(logs.some((l) => l.event === 'login_success' && l.user === 'alice'));
    assert.ok(logs.some((l) => l.event === 'login_failure' && l.user === 'alice'));
    const secrets = [...Object.values(PW), C1_SECRET, ...seenTokens.filter(Boolean)];
    for (const s of secrets) assert.ok(!srv.stderr.includes(s), `the logs contain a secret: ${s.slice(0, 12)}...`);
    // no token part either (a JWT's signature is unique to the token)
    for (const t of seenTokens.filter((x) => x && x.includes('.'))) {
      assert.ok(!srv.stderr.includes(t.split('.')[2]), 'a token signature in the logs');
      assert.equal(jwtPart(t, 0).typ, 'at+jwt');
    }
  });
});
