// jotd's verified-token cache (server/vcache.c): a token that /verify or /introspect has
// already accepted is answered from memory, and must still be refused as soon as it is
// revoked (/revoke, /logout), once it has expired, and once its key is gone.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Jotd, basic, bearer, describeResponse, nowSec, sleep, storeQuery } from './lib/jotd.mjs';

const PW = 'vcache-tests-password';
const SECRET = 'vcache-client-secret-0123456789abcdef';

async function start(args = []) {
  const s = await Jotd.start({ args });
  s.addUser('val', PW, { roles: ['editor'] });
  s.addClient('rs', SECRET);
  return s;
}

const verify = (s, tok) => s.get('/verify', { authorization: bearer(tok) });
const introspect = (s, tok) => s.post('/introspect', { token: tok }, { authorization: basic('rs', SECRET) });

/** /verify twice: the second answer comes from the cache. */
async function cached(s, tok) {
  for (let i = 0; i < 2; i++) {
    const r = await verify(s, tok);
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal(r.headers.get('x-auth-roles'), 'editor');
  }
  const i = await introspect(s, tok);
  assert.equal(i.status, 200, describeResponse(i));
  assert.equal(i.json.active, true, describeResponse(i));
}

function expect401(r, descr) {
  assert.equal(r.status, 401, describeResponse(r));
  assert.match(r.headers.get('www-authenticate') ?? '', new RegExp(`error_description="[^"]*${descr}`, 'i'));
  assert.equal(r.headers.get('x-auth-subject'), null);
}

describe('verified-token cache', () => {
  test('a cached token revoked with /revoke is refused by the next /verify and /introspect', async () => {
    const s = await start();
    try {
      const a = await s.login('val', PW);
      await cached(s, a.access_token);
      const rv = await s.post('/revoke', { token: a.access_token });
      assert.equal(rv.status, 200, describeResponse(rv));
      expect401(await verify(s, a.access_token), 'revoked');
      assert.equal((await introspect(s, a.access_token)).json.active, false);
      // another token of the same user is not affected
      const b = await s.login('val', PW);
      assert.equal((await verify(s, b.access_token)).status, 200);
    } finally {
      await s.stop();
    }
  });

  test('a cached token is refused after /logout', async () => {
    const s = await start();
    try {
      const a = await s.login('val', PW);
      await cached(s, a.access_token);
      const lo = await s.post('/logout', {}, { authorization: bearer(a.access_token) });
      assert.equal(lo.status, 204, describeResponse(lo));
      expect401(await verify(s, a.access_token), 'revoked');
      assert.equal((await introspect(s, a.access_token)).json.active, false);
    } finally {
      await s.stop();
    }
  });

  test('a token cached just before its exp is refused after it', async () => {
    const s = await start(['--access-ttl', '2s']);
    try {
      const a = await s.login('val', PW);
      await cached(s, a.access_token);
      // exp + jotd's 5 s leeway for clock skew between instances, + 1 s
      const wait = (a.claims.exp + 6) * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      expect401(await verify(s, a.access_token), 'expired');
      assert.equal((await introspect(s, a.access_token)).json.active, false);
    } finally {
      await s.stop();
    }
  });

  test('--verify-cache-size 0 turns the cache off: the same answers', async () => {
    const s = await start(['--verify-cache-size', '0']);
    try {
      const a = await s.login('val', PW);
      await cached(s, a.access_token);
      assert.equal((await s.post('/revoke', { token: a.access_token })).status, 200);
      expect401(await verify(s, a.access_token), 'revoked');
    } finally {
      await s.stop();
    }
  });

  test('after rotate and the retired key leaving, its cached tokens are refused', async () => {
    const s = await start(['--jwks-max-age', '1s', '--key-lead-time', '1s']);
    try {
      const a = await s.login('val', PW);
      const k1 = a.header.kid;
      await cached(s, a.access_token);
      const out = s.cmd(['keys', 'rotate', '--key-lead-time', '1s', '--jwks-max-age', '1s']);
      assert.equal(out.status, 0, out.stderr);
      const k2 = out.stdout.match(/new signing key (\S+)/)[1];
      // the old key's window (k2's activation + access_ttl 900 + 60) ends 3 s from now: move
      // both activations back in the store and have the server load the keys again
      const end = nowSec() + 3;
      storeQuery(s.data, `UPDATE signing_keys SET activate_at = ${end - 961} WHERE kid = '${k1}'`, { write: true });
      storeQuery(s.data, `UPDATE signing_keys SET activate_at = ${end - 960} WHERE kid = '${k2}'`, { write: true });
      await s.reload();
      // still inside its window: accepted (and cached again)
      await cached(s, a.access_token);
      const wait = (end + 2) * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      // the running server dropped the key; the cached answer must not outlive it
      const r = await verify(s, a.access_token);
      assert.equal(r.status, 401, `a cached token of a retired key still passes: ${describeResponse(r)}`);
      assert.equal((await introspect(s, a.access_token)).json.active, false);
      // tokens of the new key pass
      const b = await s.login('val', PW);
      assert.equal(b.header.kid, k2);
      assert.equal((await verify(s, b.access_token)).status, 200);
    } finally {
      await s.stop();
    }
  });

  test('a revoked key: its cached tokens are refused at once, new ones signed by a new key', async () => {
    const s = await start();
    try {
      const a = await s.login('val', PW);
      await cached(s, a.access_token);
      const out = s.cmd(['keys', 'revoke', a.header.kid]);
      assert.equal(out.status, 0, out.stderr);
      const fresh = out.stdout.match(/new signing key (\S+) \(ES256\) signs now/)[1];
      const t0 = Date.now();
      for (;;) { // the operator command reaches the server through the store's events
        if ((await verify(s, a.access_token)).status === 401) break;
        assert.ok(Date.now() - t0 < 15_000, 'the revoked key still verifies after 15 s');
        await sleep(20);
      }
      console.log(`# key revocation lag ${Date.now() - t0} ms`);
      assert.equal((await introspect(s, a.access_token)).json.active, false);
      const b = await s.login('val', PW);
      assert.equal(b.header.kid, fresh);
      assert.equal((await verify(s, b.access_token)).status, 200);
      const jwks = (await s.get('/.well-known/jwks.json')).json;
      assert.deepEqual(jwks.keys.map((k) => k.kid), [fresh]);
    } finally {
      await s.stop();
    }
  });

});
