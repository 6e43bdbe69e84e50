// jotd admin API under /admin/users: list (paged), create, get, patch, delete, end sessions;
// the admin role read from the user record; 401/403; input validation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, bearer, describeResponse } from './lib/jotd.mjs';

const PW = 'admin-tests-password';
let srv;
let admin; // admin's login
let H; // admin's Authorization header

before(async () => {
  srv = await Jotd.start();
  assert.ok(srv.adminPassword, `the first start prints the admin password:\n${srv.stdout}`);
  admin = await srv.login('admin', srv.adminPassword);
  assert.deepEqual(admin.claims.roles, ['admin']);
  H = { authorization: bearer(admin.access_token) };
  srv.addUser('worker', PW, { roles: ['staff'] });
});

after(async () => {
  if (srv) await srv.stop();
});

const api = (method, p, json, headers = H) => srv.request(p, { method, headers, json });

function userShape(u) {
  assert.equal(typeof u.id, 'number');
  assert.equal(typeof u.username, 'string');
  assert.ok(Array.isArray(u.roles));
  assert.ok(Array.isArray(u.permissions));
  assert.equal(typeof u.disabled, 'boolean');
  for (const secret of ['password', 'password_hash', 'hash', 'secret']) assert.ok(!(secret in u), `user JSON carries ${secret}`);
  assert.ok(!JSON.stringify(u).includes('$argon2'), 'no password hash in the user JSON');
}

async function create(username, extra = {}) {
  const r = await api('POST', '/admin/users', { username, password: PW, ...extra });
  assert.equal(r.status, 201, describeResponse(r));
  return r;
}

async function refreshFails(rt) {
  const r = await srv.token({ grant_type: 'refresh_token', refresh_token: rt });
  assert.equal(r.status, 400, describeResponse(r));
  assert.equal(r.json.error, 'invalid_grant');
}

describe('admin API', () => {
  test('list users', async () => {
    const r = await api('GET', '/admin/users');
    assert.equal(r.status, 200, describeResponse(r));
    assert.match(r.headers.get('cache-control') ?? '', /no-store/);
    const names = r.json.users.map((u) => u.username);
    assert.ok(names.includes('admin') && names.includes('worker'), names.join(','));
    r.json.users.forEach(userShape);
    assert.equal(r.json.next, null);
  });

  test('create (201 + Location), then the user can log in with its roles; duplicate 409', async () => {
    const r = await create('newbie', { roles: ['r1', 'r2'], permissions: ['p:1'] });
    userShape(r.json);
    assert.equal(r.json.username, 'newbie');
    assert.deepEqual(r.json.roles, ['r1', 'r2']);
    assert.deepEqual(r.json.permissions, ['p:1']);
    assert.equal(r.json.disabled, false);
    assert.equal(r.headers.get('location'), `/admin/users/${r.json.id}`);
    const l = await srv.login('newbie', PW);
    assert.equal(l.claims.sub, String(r.json.id));
    assert.deepEqual(l.claims.roles, ['r1', 'r2']);
    const dup = await api('POST', '/admin/users', { username: 'newbie', password: 'another-password' });
    assert.equal(dup.status, 409, describeResponse(dup));
    assert.ok(dup.json.error);
    // the operator-made user is taken too
    assert.equal((await api('POST', '/admin/users', { username: 'worker', password: PW })).status, 409);
  });

  test('create a disabled user: it cannot log in', async () => {
    await create('sleeper', { disabled: true });
    const r = await srv.token({ grant_type: 'password', username: 'sleeper', password: PW });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'invalid_grant');
  });

  test('get one user; unknown or malformed ids are 404', async () => {
    const c = await create('getme');
    const r = await api('GET', `/admin/users/${c.json.id}`);
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json, c.json);
    for (const id of ['999999', '0', '-1', 'abc', '1.5', '1e3', '01x', '']) {
      const x = await api('GET', `/admin/users/${id}`);
      assert.equal(x.status, 404, `id ${JSON.stringify(id)}: ${describeResponse(x)}`);
    }
  });

  test('patch roles and permissions: the next token carries them', async () => {
    const c = await create('patchy', { roles: ['a'] });
    const l = await srv.login('patchy', PW);
    const r = await api('PATCH', `/admin/users/${c.json.id}`, { roles: ['b', 'c'], permissions: ['x:y'] });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json.roles, ['b', 'c']);
    assert.deepEqual(r.json.permissions, ['x:y']);
    assert.ok(r.json.updated_at >= c.json.updated_at);
    const n = await srv.refresh(l.refresh_token);
    assert.deepEqual(n.claims.roles, ['b', 'c']);
    assert.deepEqual(n.claims.permissions, ['x:y']);
    // only the given members change
    const r2 = await api('PATCH', `/admin/users/${c.json.id}`, { permissions: [] });
    assert.deepEqual(r2.json.roles, ['b', 'c']);
    assert.deepEqual(r2.json.permissions, []);
  });

  test('patch disabled: sessions end and login fails; enabling allows login again', async () => {
    const c = await create('toggle');
    const l = await srv.login('toggle', PW);
    let r = await api('PATCH', `/admin/users/${c.json.id}`, { disabled: true });
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.json.disabled, true);
    await refreshFails(l.refresh_token);
    const bad = await srv.token({ grant_type: 'password', username: 'toggle', password: PW });
    assert.equal(bad.status, 400);
    r = await api('PATCH', `/admin/users/${c.json.id}`, { disabled: false });
    assert.equal(r.json.disabled, false);
    await srv.login('toggle', PW);
  });

  test('patch password: old sessions end, the old password fails, the new one works', async () => {
    const c = await create('changer');
    const l = await srv.login('changer', PW);
    const r = await api('PATCH', `/admin/users/${c.json.id}`, { password: 'a-brand-new-password' });
    assert.equal(r.status, 200, describeResponse(r));
    userShape(r.json);
    await refreshFails(l.refresh_token);
    const old = await srv.token({ grant_type: 'password', username: 'changer', password: PW });
    assert.equal(old.status, 400);
    await srv.login('changer', 'a-brand-new-password');
  });

  test('patch an unknown user is 404', async () => {
    const r = await api('PATCH', '/admin/users/999999', { roles: [] });
    assert.equal(r.status, 404, describeResponse(r));
  });

  test('delete: 204, then 404; the user can no longer log in or refresh', async () => {
    const c = await create('goner');
    const l = await srv.login('goner', PW);
    const r = await api('DELETE', `/admin/users/${c.json.id}`);
    assert.equal(r.status, 204, describeResponse(r));
    assert.equal(r.text, '');
    assert.equal((await api('GET', `/admin/users/${c.json.id}`)).status, 404);
    assert.equal((await api('DELETE', `/admin/users/${c.json.id}`)).status, 404);
    await refreshFails(l.refresh_token);
    const bad = await srv.token({ grant_type: 'password', username: 'goner', password: PW });
    assert.equal(bad.status, 400);
    // the name is free again
    await create('goner');
  });

  test('DELETE /admin/users/{id}/sessions ends every session: {"revoked": N}', async () => {
    const c = await create('multi');
    const logins = [];
    for (let i = 0; i < 3; i++) logins.push(await srv.login('multi', PW));
    let r = await api('DELETE', `/admin/users/${c.json.id}/sessions`);
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json, { revoked: 3 });
    for (const l of logins) await refreshFails(l.refresh_token);
    r = await api('DELETE', `/admin/users/${c.json.id}/sessions`);
    assert.deepEqual(r.json, { revoked: 0 });
    r = await api('DELETE', '/admin/users/999999/sessions');
    assert.equal(r.status, 404, describeResponse(r));
    // GET lists them (jotd_s2s tests the listing), DELETE ends them; nothing else
    r = await api('GET', `/admin/users/${c.json.id}/sessions`);
    assert.equal(r.status, 200, describeResponse(r));
    assert.ok(r.json.sessions.every((x) => x.revoked), 'all ended');
    r = await api('PATCH', `/admin/users/${c.json.id}/sessions`);
    assert.equal(r.status, 405, describeResponse(r));
    assert.match(r.headers.get('allow') ?? '', /GET, DELETE/);
    // a new login works
    await srv.login('multi', PW);
  });

  test('wrong methods are 405 with Allow', async () => {
    let r = await api('PUT', '/admin/users/1', {});
    assert.equal(r.status, 405, describeResponse(r));
    assert.match(r.headers.get('allow'), /PATCH/);
    r = await api('POST', '/admin/users/1', {});
    assert.equal(r.status, 405, describeResponse(r));
    r = await api('DELETE', '/admin/users');
    assert.equal(r.status, 405, describeResponse(r));
    assert.match(r.headers.get('allow'), /POST/);
  });
});

describe('admin authorization', () => {
  test('no token: 401; a bad token: 401', async () => {
    for (const headers of [{}, { authorization: bearer('a.b.c') }, { authorization: 'Basic YTpi' }]) {
      for (const [m, p] of [['GET', '/admin/users'], ['POST', '/admin/users'], ['GET', '/admin/users/1'], ['PATCH', '/admin/users/1'], ['DELETE', '/admin/users/1'], ['DELETE', '/admin/users/1/sessions']]) {
        const r = await api(m, p, m === 'POST' || m === 'PATCH' ? { roles: [] } : undefined, headers);
        assert.equal(r.status, 401, `${m} ${p} ${JSON.stringify(headers)}: ${describeResponse(r)}`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
  });

  test('a non-admin token: 403 everywhere, nothing changes', async () => {
    const w = await srv.login('worker', PW);
    const h = { authorization: bearer(w.access_token) };
    for (const [m, p, body] of [
      ['GET', '/admin/users'], ['POST', '/admin/users', { username: 'sneaky', password: PW }], ['GET', '/admin/users/1'],
      ['PATCH', '/admin/users/1', { roles: [] }], ['DELETE', '/admin/users/1'], ['DELETE', '/admin/users/1/sessions'],
    ]) {
      const r = await api(m, p, body, h);
      assert.equal(r.status, 403, `${m} ${p}: ${describeResponse(r)}`);
      assert.ok(r.json?.error);
    }
    const list = await api('GET', '/admin/users');
    assert.ok(!list.json.users.some((u) => u.username === 'sneaky'));
    // the admin still has its role and a working session
    assert.deepEqual(list.json.users.find((u) => u.username === 'admin').roles, ['admin']);
    await srv.refresh(admin.refresh_token).then((n) => {
      admin = n;
      H = { authorization: bearer(n.access_token) };
    });
  });

  test('a role change voids the user\'s access tokens; a refresh brings the new roles', async () => {
    const c = await create('deputy', { roles: ['admin'] });
    const d = await srv.login('deputy', PW);
    const dh = { authorization: bearer(d.access_token) };
    assert.equal((await api('GET', '/admin/users', undefined, dh)).status, 200);
    await api('PATCH', `/admin/users/${c.json.id}`, { roles: ['staff'] });
    // the token says admin, but it is of an older generation than the user: void at once
    assert.deepEqual(d.claims.roles, ['admin']);
    const old = await api('GET', '/admin/users', undefined, dh);
    assert.equal(old.status, 401, describeResponse(old));
    // the session lives on: a refresh gets a token with the new roles, not admin
    const d2 = await srv.refresh(d.refresh_token);
    assert.deepEqual(d2.claims.roles, ['staff']);
    assert.equal((await api('GET', '/admin/users', undefined, { authorization: bearer(d2.access_token) })).status, 403);
    // a user granted the role later is admin after the refresh
    const w = await srv.login('worker', PW);
    const wid = (await api('GET', '/admin/users')).json.users.find((u) => u.username === 'worker').id;
    await api('PATCH', `/admin/users/${wid}`, { roles: ['staff', 'admin'] });
    const w2 = await srv.refresh(w.refresh_token);
    assert.equal((await api('GET', '/admin/users', undefined, { authorization: bearer(w2.access_token) })).status, 200);
    await api('PATCH', `/admin/users/${wid}`, { roles: ['staff'] });
  });

  test('a disabled admin and an ended session are refused', async () => {
    const c = await create('boss', { roles: ['admin'] });
    const b = await srv.login('boss', PW);
    const bh = { authorization: bearer(b.access_token) };
    await api('DELETE', `/admin/users/${c.json.id}/sessions`);
    let r = await api('GET', '/admin/users', undefined, bh);
    assert.ok([401, 403].includes(r.status), describeResponse(r));
    const b2 = await srv.login('boss', PW);
    await api('PATCH', `/admin/users/${c.json.id}`, { disabled: true });
    r = await api('GET', '/admin/users', undefined, { authorization: bearer(b2.access_token) });
    assert.ok([401, 403].includes(r.status), describeResponse(r));
  });
});

describe('admin input validation', () => {
  test('invalid user names are 400', async () => {
    for (const username of ['', 'has space', 'a'.repeat(65), 'ümlaut', 'semi;colon', 'slash/name', 'new\nline', 'tab\t']) {
      const r = await api('POST', '/admin/users', { username, password: PW });
      assert.equal(r.status, 400, `${JSON.stringify(username)}: ${describeResponse(r)}`);
      assert.equal(r.json.error, 'invalid_request');
    }
    // the edges that are valid
    await create('a'.repeat(64));
    await create('x');
    await create('A.b_c@d-9');
  });

  test('invalid role/permission names, wrong types and unknown fields are 400', async () => {
    const bad = [
      { username: 'v1', password: PW, roles: ['has space'] },
      { username: 'v1', password: PW, roles: ['r'.repeat(65)] },
      { username: 'v1', password: PW, roles: [''] },
      { username: 'v1', password: PW, roles: 'admin' },
      { username: 'v1', password: PW, roles: [1] },
      { username: 'v1', password: PW, permissions: ['p,q'] },
      { username: 'v1', password: PW, permissions: [null] },
      { username: 'v1', password: PW, disabled: 'yes' },
      { username: 'v1', password: PW, email: 'a@b.c' },
      { username: 'v1', password: PW, id: 5 },
      { username: 'v1', password: 12345678 },
      { username: 'v1' },
      { password: PW },
      { username: 'v1', password: 'short77' }, // 7 characters
      { username: 'v1', password: 'p'.repeat(1025) },
    ];
    for (const body of bad) {
      const r = await api('POST', '/admin/users', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 100)}: ${describeResponse(r)}`);
      assert.equal(r.json.error, 'invalid_request');
    }
    assert.ok(!(await api('GET', '/admin/users?limit=500')).json.users.some((u) => u.username === 'v1'));
    // the password edges: 8 and 1024 characters are fine
    await create('pw8', { password: '12345678' });
    await create('pw1024', { password: 'q'.repeat(1024) });
    await srv.login('pw8', '12345678');
  });

  test('patch: unknown fields, the username, wrong types are 400 and change nothing', async () => {
    const c = await create('stable', { roles: ['keep'] });
    for (const body of [{ username: 'renamed' }, { email: 'x' }, { roles: 'keep' }, { roles: ['bad name'] }, { disabled: 1 }, { password: 'short' }, { roles: ['ok'], bogus: true }]) {
      const r = await api('PATCH', `/admin/users/${c.json.id}`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${describeResponse(r)}`);
    }
    const r = await api('GET', `/admin/users/${c.json.id}`);
    assert.equal(r.json.username, 'stable');
    assert.deepEqual(r.json.roles, ['keep']);
    await srv.login('stable', PW);
  });

  test('bodies must be JSON objects', async () => {
    for (const [ct, body] of [['application/x-www-form-urlencoded', `username=formy&password=${PW}`], ['application/json', '[]'], ['application/json', '{'], ['application/json', '{"username":"d","username":"e","password":"12345678"}'], ['text/plain', '{}']]) {
      const r = await srv.request('/admin/users', { method: 'POST', headers: { ...H, 'content-type': ct }, body });
      assert.equal(r.status, 400, `${ct} ${body}: ${describeResponse(r)}`);
    }
  });
});

describe('paging', () => {
  test('limit and after walk the whole list in id order', async () => {
    for (let i = 0; i < 5; i++) await create(`page${i}`);
    const all = (await api('GET', '/admin/users?limit=500')).json;
    assert.equal(all.next, null);
    const ids = all.users.map((u) => u.id);
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'id order');
    const walked = [];
    let after = null;
    for (let guard = 0; guard < 100; guard++) {
      const q = after === null ? '?limit=2' : `?limit=2&after=${after}`;
      const r = await api('GET', `/admin/users${q}`);
      assert.equal(r.status, 200, describeResponse(r));
      assert.ok(r.json.users.length <= 2);
      walked.push(...r.json.users.map((u) => u.id));
      if (r.json.next === null) break;
      assert.equal(r.json.next, r.json.users[r.json.users.length - 1].id);
      after = r.json.next;
    }
    assert.deepEqual(walked, ids);
    // after the last id: empty
    const end = await api('GET', `/admin/users?after=${ids[ids.length - 1]}`);
    assert.deepEqual(end.json, { users: [], next: null });
  });

  test('bad limit/after are 400', async () => {
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'after=abc', 'after=-5', 'limit=1.5']) {
      const r = await api('GET', `/admin/users?${q}`);
      assert.equal(r.status, 400, `${q}: ${describeResponse(r)}`);
    }
  });
});

describe('admin audit', () => {
  test('admin changes are audited; no password in the logs', async () => {
    const logs = srv.logs();
    assert.ok(logs.some((l) => l.event === 'admin_user_create' && l.admin === 'admin' && l.user === 'newbie'));
    assert.ok(logs.some((l) => l.event === 'admin_user_update'));
    assert.ok(logs.some((l) => l.event === 'admin_user_delete'));
    assert.ok(logs.some((l) => l.event === 'admin_sessions_revoke'));
    for (const s of [PW, srv.adminPassword, 'a-brand-new-password', admin.access_token, admin.refresh_token]) {
      assert.ok(!srv.stderr.includes(s), `a secret in the logs: ${s.slice(0, 10)}...`);
    }
  });
});
