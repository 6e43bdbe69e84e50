// jotd refresh tokens: rotation, reuse detection, the grace window, concurrency, client
// binding, disabled users, roles read at issue time, scope narrowing, idle and absolute
// lifetimes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, bearer, describeResponse, show, sleepUntil } from './lib/jotd.mjs';

const PW = 'refresh-tests-password';

let srv; // grace 0 (the default)
let grace; // --refresh-grace 30s

before(async () => {
  [srv, grace] = await Promise.all([Jotd.start(), Jotd.start({ args: ['--refresh-grace', '30s'] })]);
  for (const s of [srv, grace]) {
    for (const u of ['alice', 'carol', 'dave', 'erin', 'frank', 'gina']) s.addUser(u, PW, { roles: ['reader'] });
    s.updateClient('default', { scopes: ['read', 'write', 'admin'] });
    s.addClient('spa');
    s.addClient('spa2');
    s.addClient('c1', 'c1-secret-value-0123456789abcdef-123');
  }
});

after(async () => {
  await Promise.all([srv?.stop(), grace?.stop()]);
});

/** A refresh that must fail with 400 invalid_grant. */
async function refreshFails(s, rt, extra = {}, headers = {}) {
  const r = await s.token({ grant_type: 'refresh_token', refresh_token: rt, ...extra }, headers);
  assert.equal(r.status, 400, `refresh must fail: ${describeResponse(r)}`);
  assert.equal(r.json?.error, 'invalid_grant', describeResponse(r));
  assert.match(r.headers.get('cache-control') ?? '', /no-store/);
  return r;
}

describe('rotation', () => {
  test('a refresh returns a new pair in the same session; the old refresh token is dead', async () => {
    const l = await srv.login('alice', PW);
    const r1 = await srv.refresh(l.refresh_token);
    assert.notEqual(r1.refresh_token, l.refresh_token);
    assert.notEqual(r1.access_token, l.access_token);
    assert.notEqual(r1.claims.jti, l.claims.jti);
    assert.equal(r1.claims.sid, l.claims.sid, 'same session');
    assert.equal(r1.claims.sub, l.claims.sub);
    assert.equal(r1.claims.preferred_username, 'alice');
    assert.equal(r1.expires_in, 900);
    assert.equal(r1.claims.exp - r1.claims.iat, 900);
    // a chain of rotations keeps working, each pair new
    const seen = new Set([l.refresh_token, r1.refresh_token]);
    let cur = r1;
    for (let i = 0; i < 3; i++) {
      cur = await srv.refresh(cur.refresh_token);
      assert.ok(!seen.has(cur.refresh_token), 'never a refresh token seen before');
      seen.add(cur.refresh_token);
      assert.equal(cur.claims.sid, l.claims.sid);
    }
    // the first token was rotated long ago: dead
    await refreshFails(srv, l.refresh_token);
  });

  test('reuse of a rotated token is invalid_grant and revokes the whole session, newest token included', async () => {
    const l = await srv.login('alice', PW);
    const r1 = await srv.refresh(l.refresh_token);
    const r2 = await srv.refresh(r1.refresh_token);
    // the thief (or a stale client) comes back with r1
    await refreshFails(srv, r1.refresh_token);
    // the legitimate newest token is dead too
    await refreshFails(srv, r2.refresh_token);
    // and the session's access tokens no longer reach the user's data
    const u = await srv.get('/userinfo', { authorization: bearer(r2.access_token) });
    assert.equal(u.status, 401, describeResponse(u));
    const audit = await srv.waitLog((x) => x.event === 'refresh_reuse_detected' && x.sid === l.claims.sid);
    assert.equal(audit.type, 'audit');
    // the line names the session revoked and its user
    assert.equal(audit.sid, l.claims.sid, JSON.stringify(audit));
    assert.equal(audit.user_id, l.claims.sub, JSON.stringify(audit));
    // another session of the same user is untouched
    const other = await srv.login('alice', PW);
    await srv.refresh(other.refresh_token);
  });

  test('without a grace window an immediate duplicate refresh kills the session', async () => {
    const l = await srv.login('carol', PW);
    const a = await srv.refresh(l.refresh_token);
    await refreshFails(srv, l.refresh_token); // the "second tab"
    await refreshFails(srv, a.refresh_token);
  });

  test('unknown, malformed and access tokens are invalid_grant as refresh tokens', async () => {
    const l = await srv.login('alice', PW);
    for (const rt of ['x', 'A'.repeat(43), l.refresh_token + 'A', l.refresh_token.slice(0, -1), l.access_token, 'ä€𝄞']) {
      await refreshFails(srv, rt);
    }
    // none of this harmed the real token
    await srv.refresh(l.refresh_token);
  });
});

describe('grace window (--refresh-grace 30s)', () => {
  test('a duplicate refresh within the window gets the same successor and a new access token; the session lives', async () => {
    const l = await grace.login('alice', PW);
    const a = await grace.refresh(l.refresh_token);
    const b = await grace.refresh(l.refresh_token); // the second tab, same old token
    assert.equal(b.refresh_token, a.refresh_token, 'the same successor');
    assert.notEqual(b.claims.jti, a.claims.jti, 'a new access token');
    assert.equal(b.claims.sid, l.claims.sid);
    // the session goes on from the successor
    const c = await grace.refresh(a.refresh_token);
    assert.equal(c.claims.sid, l.claims.sid);
    await grace.refresh(c.refresh_token);
  });

  test('after the successor was itself rotated, the old token is reuse: the session dies', async () => {
    const l = await grace.login('carol', PW);
    const a = await grace.refresh(l.refresh_token);
    const b = await grace.refresh(a.refresh_token);
    await refreshFails(grace, l.refresh_token);
    await refreshFails(grace, b.refresh_token);
  });

  test('the grace answer is only for the same client', async () => {
    const l = await grace.login('dave', PW, { client_id: 'spa' });
    const a = await grace.refresh(l.refresh_token, { client_id: 'spa' });
    await refreshFails(grace, l.refresh_token, { client_id: 'spa2' });
    await refreshFails(grace, l.refresh_token); // the default client
    // the owner still gets its grace answer, and the session lives
    const b = await grace.refresh(l.refresh_token, { client_id: 'spa' });
    assert.equal(b.refresh_token, a.refresh_token);
    await grace.refresh(a.refresh_token, { client_id: 'spa' });
  });

  test('parallel duplicates all get the same successor', async () => {
    const l = await grace.login('erin', PW);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => grace.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token })),
    );
    for (const r of answers) assert.equal(r.status, 200, describeResponse(r));
    const successors = new Set(answers.map((r) => r.json.refresh_token));
    assert.equal(successors.size, 1, `one successor, got ${successors.size}`);
    for (const r of answers) await grace.verifyAccess(r.json.access_token);
    const jtis = new Set(answers.map((r) => JSON.parse(Buffer.from(r.json.access_token.split('.')[1], 'base64url')).jti));
    assert.equal(jtis.size, 20, 'every answer has its own access token');
    // the successor works
    const next = await grace.refresh([...successors][0]);
    assert.equal(next.claims.sid, l.claims.sid);
  });
});

describe('concurrency', () => {
  test('20 parallel refreshes of one token (grace 0): exactly one 200, never two live successors', async () => {
    const l = await srv.login('frank', PW);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token })),
    );
    const ok = answers.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `exactly one success: ${answers.map((r) => r.status).join(',')}`);
    for (const r of answers.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400, describeResponse(r));
      assert.equal(r.json?.error, 'invalid_grant');
    }
    await srv.verifyAccess(ok[0].json.access_token);
    // at most one live successor: the winner's may refresh (then its successor is the only
    // live token) or the session was killed by the duplicates; the old token never works
    const succ = ok[0].json.refresh_token;
    const r = await srv.token({ grant_type: 'refresh_token', refresh_token: succ });
    assert.ok([200, 400].includes(r.status), describeResponse(r));
    if (r.status === 400) assert.equal(r.json.error, 'invalid_grant');
    await refreshFails(srv, l.refresh_token);
    if (r.status === 200) {
      await srv.checkTokenResponse(r);
      await refreshFails(srv, succ); // rotated
    }
  });

  test('parallel refreshes of different sessions all succeed', async () => {
    const logins = await Promise.all(Array.from({ length: 8 }, () => srv.login('gina', PW)));
    const answers = await Promise.all(
      logins.map((l) => srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token })),
    );
    for (const r of answers) {
      assert.equal(r.status, 200, describeResponse(r));
      await srv.checkTokenResponse(r);
    }
    assert.equal(new Set(answers.map((r) => r.json.refresh_token)).size, 8);
  });
});

describe('binding and user state', () => {
  test('a refresh token issued to one client cannot be used by another', async () => {
    const l = await srv.login('dave', PW, { client_id: 'spa' });
    assert.equal(l.claims.client_id, 'spa');
    await refreshFails(srv, l.refresh_token, { client_id: 'spa2' });
    await refreshFails(srv, l.refresh_token); // no client: the default client
    await refreshFails(srv, l.refresh_token, { client_id: 'c1', client_secret: 'c1-secret-value-0123456789abcdef-123' });
    // the attempts changed nothing: the owner refreshes fine
    const r = await srv.refresh(l.refresh_token, { client_id: 'spa' });
    assert.equal(r.claims.client_id, 'spa');
  });

  test('a confidential client must authenticate to refresh its tokens', async () => {
    const auth = { authorization: 'Basic ' + Buffer.from('c1:c1-secret-value-0123456789abcdef-123').toString('base64') };
    const l = await srv.login('dave', PW, {}, auth);
    assert.equal(l.claims.client_id, 'c1');
    await refreshFails(srv, l.refresh_token); // without credentials
    const bad = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token, client_id: 'c1', client_secret: 'wrong' });
    assert.equal(bad.status, 401, describeResponse(bad));
    assert.equal(bad.json.error, 'invalid_client');
    const r = await srv.refresh(l.refresh_token, {}, auth);
    assert.equal(r.claims.client_id, 'c1');
  });

  test('a disabled user cannot refresh; enabling again does not revive the old session', async () => {
    const l = await srv.login('erin', PW);
    let c = srv.cmd(['user', 'disable', 'erin']);
    assert.equal(c.status, 0, show(c));
    await refreshFails(srv, l.refresh_token);
    c = srv.cmd(['user', 'enable', 'erin']);
    assert.equal(c.status, 0, show(c));
    await refreshFails(srv, l.refresh_token);
    const again = await srv.login('erin', PW);
    await srv.refresh(again.refresh_token);
  });

  test('a deleted user cannot refresh', async () => {
    srv.addUser('temp-user', PW);
    const l = await srv.login('temp-user', PW);
    const c = srv.cmd(['user', 'delete', 'temp-user']);
    assert.equal(c.status, 0, show(c));
    await refreshFails(srv, l.refresh_token);
  });

  test('roles and permissions changed by `jotd user roles` appear in the next refreshed token', async () => {
    srv.addUser('henry', PW, { roles: ['reader'], permissions: ['docs:read'] });
    const l = await srv.login('henry', PW);
    assert.deepEqual(l.claims.roles, ['reader']);
    assert.deepEqual(l.claims.permissions, ['docs:read']);
    const c = srv.cmd(['user', 'roles', 'henry', '--role', 'editor', '--role', 'auditor', '--permission', 'docs:write']);
    assert.equal(c.status, 0, show(c));
    const r = await srv.refresh(l.refresh_token);
    assert.deepEqual(r.claims.roles, ['editor', 'auditor']);
    assert.deepEqual(r.claims.permissions, ['docs:write']);
    // the lists are replaced, not merged; an empty list is possible
    const c2 = srv.cmd(['user', 'roles', 'henry']);
    assert.equal(c2.status, 0, show(c2));
    const r2 = await srv.refresh(r.refresh_token);
    assert.deepEqual(r2.claims.roles, []);
    assert.deepEqual(r2.claims.permissions, []);
  });
});

describe('scope', () => {
  test('narrowing on refresh is accepted; widening is invalid_scope and leaves the token usable', async () => {
    const l = await srv.login('alice', PW, { scope: 'read write admin' });
    assert.equal(l.scope, 'read write admin');
    const narrow = await srv.refresh(l.refresh_token, { scope: 'read' });
    assert.equal(narrow.scope, 'read');
    assert.equal(narrow.claims.scope, 'read');
    const bad = await srv.token({ grant_type: 'refresh_token', refresh_token: narrow.refresh_token, scope: 'read delete' });
    assert.equal(bad.status, 400, describeResponse(bad));
    assert.equal(bad.json.error, 'invalid_scope');
    const malformed = await srv.token({ grant_type: 'refresh_token', refresh_token: narrow.refresh_token, scope: 'read  write' });
    assert.equal(malformed.status, 400, describeResponse(malformed));
    assert.equal(malformed.json.error, 'invalid_scope');
    // same-or-narrower scopes of the original grant are fine; without scope the granted one
    const again = await srv.refresh(narrow.refresh_token, { scope: 'write read' });
    assert.equal(again.claims.scope, 'write read');
    const full = await srv.refresh(again.refresh_token);
    assert.equal(full.scope, 'read write admin', 'RFC 6749 §6: omitted scope is the original grant');
  });

  test('a session without scope cannot gain one on refresh', async () => {
    const l = await srv.login('alice', PW);
    const bad = await srv.token({ grant_type: 'refresh_token', refresh_token: l.refresh_token, scope: 'read' });
    assert.equal(bad.status, 400, describeResponse(bad));
    assert.equal(bad.json.error, 'invalid_scope');
  });
});

describe('lifetimes', () => {
  test('--refresh-idle-ttl 2s and --refresh-absolute-ttl 3s end sessions', async () => {
    const [idle, abs] = await Promise.all([
      Jotd.start({ args: ['--refresh-idle-ttl', '2s'] }),
      Jotd.start({ args: ['--refresh-idle-ttl', '2s', '--refresh-absolute-ttl', '3s'] }),
    ]);
    try {
      idle.addUser('ivy', PW);
      abs.addUser('ivy', PW);
      // jotd counts whole seconds and puts the same `now` in a token's iat as in the
      // session's times: every step is scheduled from the iat of the answer it depends on.
      const at = (sec, ms) => sleepUntil(sec * 1000 + ms);

      const idleRun = (async () => {
        // used every second, the session outlives the first token's idle deadline ...
        const l = await idle.login('ivy', PW);
        const l2 = await idle.login('ivy', PW);
        let cur = l;
        for (let i = 0; i < 3; i++) {
          await at(cur.claims.iat + 1, 50); // before the token's idle end (iat + 2)
          cur = await idle.refresh(cur.refresh_token);
        }
        assert.ok(cur.claims.iat >= l.claims.iat + 3, 'past the first token\'s idle end');
        // ... but a token unused for 2 s is dead
        await at(l2.claims.iat + 2, 50);
        await refreshFails(idle, l2.refresh_token);
        await at(cur.claims.iat + 2, 50);
        await refreshFails(idle, cur.refresh_token);
      })();

      const absRun = (async () => {
        // refreshed every second (never idle), the session still ends 3 s after login
        const l = await abs.login('ivy', PW);
        let cur = l;
        for (let i = 1; i <= 2; i++) {
          await at(l.claims.iat + i, 50);
          cur = await abs.refresh(cur.refresh_token);
        }
        await at(l.claims.iat + 3, 50);
        await refreshFails(abs, cur.refresh_token);
        // a new login starts a new session
        const fresh = await abs.login('ivy', PW);
        await abs.refresh(fresh.refresh_token);
      })();

      await Promise.all([idleRun, absRun]);
    } finally {
      await Promise.all([idle.stop(), abs.stop()]);
    }
  });
});
