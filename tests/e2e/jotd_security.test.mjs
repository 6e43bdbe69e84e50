// Regression tests of the security review's findings (docs/SECURITY.md, "jotd: clients,
// sessions and what ends them"): each test failed on the release before the fix. They drive
// real jotd processes over HTTP and run the operator commands against their data directories.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, basic, bearer, describeResponse, jotdCmd, mkTmp, show, sleep, CHEAP_ARGON2 } from './lib/jotd.mjs';

const PW = 'correct horse battery staple';
const API = 'api-secret-0123456789abcdef-0123456789';
const RS = 'resource-server-secret-0123456789abcdef';

let srv; // the shared server
let short; // --access-ttl 1s: tokens that expire during a test

before(async () => {
  [srv, short] = await Promise.all([Jotd.start(), Jotd.start({ args: ['--access-ttl', '1s'] })]);
  for (const s of [srv, short]) {
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'viewer']) s.addUser(u, PW, { roles: ['member'] });
    s.addClient('api', API, { scopes: ['read', 'write'], defaultScopes: ['read'], introspect: [] });
    s.addClient('rs', RS); // a resource server: introspects tokens for the server's audience
    s.addClient('other-rs', RS, { introspect: ['https://elsewhere.example'] });
  }
});

after(async () => {
  await Promise.all([srv?.stop(), short?.stop()]);
});

const verify = (s, tok) => s.get('/verify', { authorization: bearer(tok) });
const introspect = (s, tok, id = 'rs', secret = RS) => s.post('/introspect', { token: tok }, { authorization: basic(id, secret) });

/** Wait (generous deadline) until \p cond() is true; returns the lag in ms, printed. */
async function within(what, cond, ms = 15_000) {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
  const lag = Date.now() - t0;
  console.log(`# ${what}: took effect after ${lag} ms`);
  return lag;
}

describe('1. the default client is a registered public client', () => {
  test('naming it (client_id=default) and omitting it behave the same', async () => {
    const named = await srv.login('alice', PW, { client_id: 'default' });
    const omitted = await srv.login('alice', PW);
    assert.equal(named.claims.client_id, 'default');
    assert.equal(omitted.claims.client_id, 'default');
    // a session of the default client refreshes either way
    await srv.refresh(named.refresh_token);
    await srv.refresh(omitted.refresh_token, { client_id: 'default' });
  });

  test('a request without credentials never acts as a confidential client', async () => {
    const l = await srv.login('alice', PW, { client_id: 'api', client_secret: API });
    const r = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_grant');
    const named = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token, client_id: 'api' });
    assert.equal(named.status, 401, describeResponse(named));
    assert.equal(named.json.error, 'invalid_client');
    await srv.refresh(l.refresh_token, { client_id: 'api', client_secret: API }); // still live
  });

  test('it exists with the data directory; serve refuses a confidential or unknown --default-client', async () => {
    const data = mkTmp();
    let r = jotdCmd(['client', 'add', 'default', '--secret-stdin', '--data', data], { input: API + '\n' });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /exists/);
    r = jotdCmd(['client', 'add', 'svc', '--secret-stdin', '--data', data], { input: API + '\n' });
    assert.equal(r.status, 0, show(r));
    for (const [id, why] of [['svc', /confidential client/], ['nobody', /not a registered client/]]) {
      const s = jotdCmd(['serve', '--data', data, '--listen', '127.0.0.1:0', '--default-client', id, ...CHEAP_ARGON2]);
      assert.notEqual(s.status, 0, show(s));
      assert.match(s.stderr, why, show(s));
    }
  });
});

describe('2 and 3. logout ends what it is given, with /revoke\'s ownership rules', () => {
  test('a revoked bearer with a valid refresh token: the session ends', async () => {
    const l = await srv.login('bob', PW);
    assert.equal((await srv.post('/revoke', { token: l.access_token })).status, 200);
    const r = await srv.post('/logout', { refresh_token: l.refresh_token }, { authorization: bearer(l.access_token) });
    assert.equal(r.status, 204, describeResponse(r));
    const again = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token });
    assert.equal(again.status, 400, describeResponse(again));
  });

  test('an expired bearer, with or without the refresh token: the session ends', async () => {
    const a = await short.login('bob', PW);
    const b = await short.login('bob', PW);
    await sleep(7000); // 1 s tokens, 5 s leeway
    assert.equal((await verify(short, a.access_token)).status, 401);
    let r = await short.post('/logout', { refresh_token: a.refresh_token }, { authorization: bearer(a.access_token) });
    assert.equal(r.status, 204, describeResponse(r));
    r = await short.post('/logout', {}, { authorization: bearer(b.access_token) });
    assert.equal(r.status, 204, describeResponse(r));
    for (const l of [a, b]) {
      const t = await short.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token });
      assert.equal(t.status, 400, `session ended: ${describeResponse(t)}`);
    }
  });

  test('a forged bearer is refused, while a valid refresh token given with it still ends its session', async () => {
    const l = await srv.login('bob', PW);
    const forged = l.access_token.slice(0, -4) + (l.access_token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const r = await srv.post('/logout', { refresh_token: l.refresh_token }, { authorization: bearer(forged) });
    assert.equal(r.status, 401, describeResponse(r));
    const t = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token });
    assert.equal(t.status, 400, describeResponse(t));
  });

  test('a confidential client\'s session ends only with that client\'s credentials', async () => {
    const l = await srv.login('carol', PW, { client_id: 'api', client_secret: API });
    // a holder of the access token (a resource server, say), anonymous or with its own credentials
    let r = await srv.post('/logout', {}, { authorization: bearer(l.access_token) });
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal(r.json.error, 'invalid_client');
    r = await srv.post('/logout', { client_id: 'rs', client_secret: RS }, { authorization: bearer(l.access_token) });
    assert.equal(r.status, 401, describeResponse(r));
    // the refresh token alone, without the client's credentials
    r = await srv.post('/logout', { refresh_token: l.refresh_token });
    assert.equal(r.status, 401, describeResponse(r));
    assert.equal((await verify(srv, l.access_token)).status, 200, 'nothing ended');
    const n = await srv.refresh(l.refresh_token, { client_id: 'api', client_secret: API });
    // with them: ended
    r = await srv.post('/logout', { refresh_token: n.refresh_token, client_id: 'api', client_secret: API }, { authorization: bearer(n.access_token) });
    assert.equal(r.status, 204, describeResponse(r));
    assert.equal((await verify(srv, n.access_token)).status, 401);
    const t = await srv.token({ grant_type: 'refresh_token', refresh_token: n.refresh_token, client_id: 'api', client_secret: API });
    assert.equal(t.status, 400, describeResponse(t));
  });
});

describe('5. client secrets', () => {
  test('--generate-secret prints 256 bits alone on the last line; short given secrets are refused', async () => {
    let r = srv.cmd(['client', 'add', 'gen', '--generate-secret', '--scope', 'read']);
    assert.equal(r.status, 0, show(r));
    const secret = r.stdout.trim().split('\n').pop();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const ok = await srv.token({ grant_type: 'password', username: 'dave', password: PW, client_id: 'gen', client_secret: secret });
    assert.equal(ok.status, 200, describeResponse(ok));
    r = srv.cmd(['client', 'add', 'weak', '--secret-stdin'], { input: 'x'.repeat(31) + '\n' });
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /at least 32 characters/);
  });

  test('rotate-secret: the old secret stops working at a running server at once (cache flushed)', async () => {
    const add = srv.cmd(['client', 'add', 'rot', '--generate-secret', '--introspect', srv.audience]);
    const old = add.stdout.trim().split('\n').pop();
    const l = await srv.login('dave', PW);
    // cached now
    assert.equal((await introspect(srv, l.access_token, 'rot', old)).status, 200);
    const r = srv.cmd(['client', 'rotate-secret', 'rot']);
    assert.equal(r.status, 0, show(r));
    const fresh = r.stdout.trim().split('\n').pop();
    assert.notEqual(fresh, old);
    await within('rotate-secret reaching the running server', async () => (await introspect(srv, l.access_token, 'rot', old)).status === 401);
    assert.equal((await introspect(srv, l.access_token, 'rot', fresh)).status, 200);
  });

  test('guessing is throttled per (client, IP): 429 with Retry-After, never an Argon2 run per guess', async () => {
    const s = await Jotd.start({ args: ['--throttle-account-failures', '3', '--throttle-ip-failures', '1000'] });
    try {
      s.addClient('victim', API);
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await s.post('/introspect', { token: 'x' }, { authorization: basic('victim', `guess-${i}`) })).status);
      assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
      const last = await s.post('/introspect', { token: 'x' }, { authorization: basic('victim', 'guess-9') });
      assert.equal(last.status, 429, describeResponse(last));
      assert.match(last.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      // at /token too, for the same (client, IP)
      const t = await s.token({ grant_type: 'password', username: 'x', password: 'y' }, { authorization: basic('victim', 'guess-10') });
      assert.equal(t.status, 429, describeResponse(t));
      // another client from the same address is not locked by the guesses at this one
      s.addClient('bystander', RS);
      const b = await s.post('/introspect', { token: 'x' }, { authorization: basic('bystander', RS) });
      assert.equal(b.status, 200, describeResponse(b));
    } finally {
      await s.stop();
    }
  });
});

describe('8. scope is what the client may ask for', () => {
  test('a scope beyond the client\'s allowed ones is invalid_scope; none asked gives the default scopes', async () => {
    let r = await srv.token({ grant_type: 'password', username: 'viewer', password: PW, scope: 'admin posts:write' });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal(r.json.error, 'invalid_scope');
    const cred = { client_id: 'api', client_secret: API };
    r = await srv.token({ grant_type: 'password', username: 'viewer', password: PW, scope: 'read admin', ...cred });
    assert.equal(r.json?.error, 'invalid_scope', describeResponse(r));
    const d = await srv.login('viewer', PW, cred);
    assert.equal(d.scope, 'read');
    assert.equal(d.claims.scope, 'read');
    const w = await srv.login('viewer', PW, { ...cred, scope: 'write read' });
    assert.equal(w.scope, 'write read');
    const v = await verify(srv, w.access_token);
    assert.equal(v.headers.get('x-auth-scope'), 'write read');
    const none = await srv.login('viewer', PW); // the default client: no scopes
    assert.equal(none.scope, '');
  });

  test('a refresh keeps only the scopes the client may still ask for', async () => {
    const cred = { client_id: 'api', client_secret: API };
    const l = await srv.login('viewer', PW, { ...cred, scope: 'read write' });
    srv.updateClient('api', { scopes: ['read'], defaultScopes: ['read'] });
    try {
      let rt = l.refresh_token;
      await within('client scopes changed by jotd client update', async () => {
        const n = await srv.refresh(rt, cred);
        rt = n.refresh_token;
        return n.scope === 'read';
      });
    } finally {
      srv.updateClient('api', { scopes: ['read', 'write'], defaultScopes: ['read'] });
    }
  });
  test('public clients are cached like confidential ones, and a change still reaches them', async () => {
    // The default client (no client named) and a named public client: their records are
    // cached after the first request; \`jotd client update\` must still take effect at once.
    srv.addClient('spa', undefined, { scopes: ['read'], defaultScopes: [] });
    const spa = await srv.login('viewer', PW, { client_id: 'spa', scope: 'read' });
    assert.equal(spa.scope, 'read');
    let r = await srv.token({ grant_type: 'password', username: 'viewer', password: PW, scope: 'read' });
    assert.equal(r.json?.error, 'invalid_scope', describeResponse(r)); // default: no scopes yet
    srv.updateClient('default', { scopes: ['read'] });
    srv.updateClient('spa', { scopes: [] });
    try {
      await within('the default client\'s new scope', async () => {
        const x = await srv.token({ grant_type: 'password', username: 'viewer', password: PW, scope: 'read' });
        return x.status === 200;
      });
      await within('the public client\'s removed scope', async () => {
        const x = await srv.token({ grant_type: 'password', username: 'viewer', password: PW, scope: 'read', client_id: 'spa' });
        return x.json?.error === 'invalid_scope';
      });
    } finally {
      srv.updateClient('default', { scopes: [] });
    }
  });
});

describe('9. /verify honours session and user state', () => {
  test('disable (an operator command), a role change, a password change: old tokens void', async () => {
    const a = await srv.login('erin', PW);
    assert.equal((await verify(srv, a.access_token)).status, 200);
    // an operator command in another process reaches the running server through the store
    assert.equal(srv.cmd(['user', 'roles', 'erin', '--role', 'editor']).status, 0);
    await within('role change by jotd user roles', async () => (await verify(srv, a.access_token)).status === 401);
    const b = await srv.refresh(a.refresh_token); // the session lives on, with the new roles
    assert.deepEqual(b.claims.roles, ['editor']);
    const v = await verify(srv, b.access_token);
    assert.equal(v.status, 200);
    assert.equal(v.headers.get('x-auth-roles'), 'editor');
    assert.equal(srv.cmd(['user', 'disable', 'erin']).status, 0);
    await within('user disable', async () => (await verify(srv, b.access_token)).status === 401);
    const u = await srv.get('/userinfo', { authorization: bearer(b.access_token) });
    assert.equal(u.status, 401);
    assert.equal((await introspect(srv, b.access_token)).json.active, false);
    assert.equal(srv.cmd(['user', 'enable', 'erin']).status, 0);
    const c = await srv.login('erin', PW);
    assert.equal(srv.cmd(['user', 'passwd', 'erin', '--password-stdin'], { input: PW + '\n' }).status, 0);
    await within('password change', async () => (await verify(srv, c.access_token)).status === 401);
  });

  test('/revoke of the refresh token, /logout with it, reuse detection: the session\'s access tokens void at once', async () => {
    const r1 = await srv.login('alice', PW);
    assert.equal((await verify(srv, r1.access_token)).status, 200); // cached by /verify
    assert.equal((await srv.post('/revoke', { token: r1.refresh_token })).status, 200);
    assert.equal((await verify(srv, r1.access_token)).status, 401);

    const r2 = await srv.login('alice', PW);
    assert.equal((await verify(srv, r2.access_token)).status, 200);
    assert.equal((await srv.post('/logout', { refresh_token: r2.refresh_token })).status, 204);
    assert.equal((await verify(srv, r2.access_token)).status, 401);

    const r3 = await srv.login('alice', PW);
    const n = await srv.refresh(r3.refresh_token);
    assert.equal((await verify(srv, n.access_token)).status, 200);
    const reuse = await srv.token({ grant_type: 'refresh_token', refresh_token: r3.refresh_token });
    assert.equal(reuse.status, 400);
    for (const t of [r3.access_token, n.access_token]) assert.equal((await verify(srv, t)).status, 401);
  });

  test('what ended survives a restart', async () => {
    const s = await Jotd.start();
    try {
      s.addUser('zed', PW, { roles: ['a'] });
      const l = await s.login('zed', PW);
      const m = await s.login('zed', PW);
      assert.equal((await s.post('/revoke', { token: l.refresh_token })).status, 200);
      assert.equal(s.cmd(['user', 'roles', 'zed', '--role', 'b']).status, 0);
      await s.stop({ keepData: true });
      const s2 = await Jotd.start({ data: s.data });
      try {
        assert.equal((await verify(s2, l.access_token)).status, 401, 'ended session');
        assert.equal((await verify(s2, m.access_token)).status, 401, 'older generation');
      } finally {
        await s2.stop();
      }
    } finally {
      await s.stop();
    }
  });
});

describe('11. only resource servers introspect, and only tokens meant for them', () => {
  test('403 without --introspect; inactive for another audience; active for its own', async () => {
    const l = await srv.login('alice', PW);
    const no = await introspect(srv, l.access_token, 'api', API);
    assert.equal(no.status, 403, describeResponse(no));
    const other = await introspect(srv, l.access_token, 'other-rs', RS);
    assert.equal(other.status, 200);
    assert.equal(other.json.active, false);
    const mine = await introspect(srv, l.access_token);
    assert.equal(mine.json.active, true);
    assert.equal(mine.json.sub, l.claims.sub);
    srv.updateClient('other-rs', { introspect: [srv.audience] });
    await within('client update reaching the running server', async () => (await introspect(srv, l.access_token, 'other-rs', RS)).json?.active === true);
  });
});
