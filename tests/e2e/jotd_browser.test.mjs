// jotd and browsers: the redirect URIs a client registers for the authorization code flow
// (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1): `jotd client add|update --redirect-uri`, shown by
// `client list` and by /admin/clients, validated the same way on both paths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Jotd, bearer, describeResponse, show } from './lib/jotd.mjs';

let srv;

before(async () => {
  srv = await Jotd.start();
});

after(async () => {
  await srv?.stop();
});

const BAD_URIS = [
  'http://app.e2e.test/cb', // plain http off loopback
  'https://app.e2e.test/cb#frag', // a fragment
  'https://user@app.e2e.test/cb', // user information
  '/cb', // relative
  'https:///cb', // no host
  'HTTPS://app.e2e.test/cb', // the scheme in capitals: never equal to what is sent
  'custom:/cb', // neither https nor http
  'https://app.e2e.test/a b', // a space
  `https://app.e2e.test/${'a'.repeat(1024)}`, // too long
];

describe('redirect URIs: jotd client add|update, client list', () => {
  test('add with several, list shows them; update replaces them; --no-redirect-uris clears them', () => {
    let r = srv.cmd(['client', 'add', 'web', '--public', '--redirect-uri', 'https://app.e2e.test/cb',
      '--redirect-uri', 'http://127.0.0.1:8123/cb?x=1', '--redirect-uri', 'http://localhost/cb',
      '--redirect-uri', 'http://[::1]:9/cb']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    assert.equal(r.status, 0, show(r));
    const line = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.ok(line, show(r));
    assert.match(line, /redirect_uris=https:\/\/app\.e2e\.test\/cb,http:\/\/127\.0\.0\.1:8123\/cb\?x=1,http:\/\/localhost\/cb,http:\/\/\[::1\]:9\/cb/);
    r = srv.cmd(['client', 'update', 'web', '--redirect-uri', 'https://app.e2e.test/cb2']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    const l2 = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.match(l2, /redirect_uris=https:\/\/app\.e2e\.test\/cb2(\s|$)/, l2);
    r = srv.cmd(['client', 'update', 'web', '--no-redirect-uris']);
    assert.equal(r.status, 0, show(r));
    r = srv.cmd(['client', 'list']);
    const l3 = r.stdout.split('\n').find((l) => l.startsWith('web\t'));
    assert.doesNotMatch(l3, /redirect_uris=\S/, l3);
  });

  test('invalid redirect URIs are refused by add and update, with the rule in the message', () => {
    for (const u of BAD_URIS) {
      let r = srv.cmd(['client', 'add', 'bad-web', '--public', '--redirect-uri', u]);
      assert.equal(r.status, 2, `${u}: ${show(r)}`);
      assert.match(r.stderr, /invalid redirect-uri/, show(r));
      r = srv.cmd(['client', 'update', 'default', '--redirect-uri', u]);
      assert.equal(r.status, 2, `${u}: ${show(r)}`);
    }
    const r = srv.cmd(['client', 'list']);
    assert.ok(!r.stdout.includes('bad-web'), show(r));
  });
});

describe('redirect URIs: /admin/clients', () => {
  let adminTok;
  const call = (method, p, json) => srv.request(p, { method, json, headers: { authorization: bearer(adminTok) } });

  before(async () => {
    adminTok = (await srv.login('admin', srv.adminPassword)).access_token;
  });

  test('POST with redirect_uris, GET shows them, PATCH replaces them, [] clears them', async () => {
    let r = await call('POST', '/admin/clients', { client_id: 'web-api', type: 'public', redirect_uris: ['https://app.e2e.test/cb'] });
    assert.equal(r.status, 201, describeResponse(r));
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/cb']);
    r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: ['https://app.e2e.test/a', 'http://127.0.0.1:1/b'] });
    assert.equal(r.status, 200, describeResponse(r));
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b']);
    r = await call('PATCH', '/admin/clients/web-api', { scopes: ['x'] });
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b'], 'another list leaves them');
    r = await call('GET', '/admin/clients/web-api');
    assert.deepEqual(r.json.redirect_uris, ['https://app.e2e.test/a', 'http://127.0.0.1:1/b']);
    r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: [] });
    assert.deepEqual(r.json.redirect_uris, []);
  });

  test('invalid redirect_uris: 400 invalid_request, nothing changed', async () => {
    for (const u of BAD_URIS) {
      const r = await call('PATCH', '/admin/clients/web-api', { redirect_uris: [u] });
      assert.equal(r.status, 400, `${u}: ${describeResponse(r)}`);
      assert.match(r.json.error_description ?? '', /redirect_uris/);
    }
    const r = await call('POST', '/admin/clients', { client_id: 'web-bad', type: 'public', redirect_uris: [BAD_URIS[0]] });
    assert.equal(r.status, 400, describeResponse(r));
    assert.equal((await call('GET', '/admin/clients/web-bad')).status, 404);
  });
});
