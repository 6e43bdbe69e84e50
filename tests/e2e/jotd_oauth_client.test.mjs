// Interop: a real jotd driven by a standard OAuth 2.0 client library, the npm package
// openid-client (panva, v6): RFC 8414 discovery, the password and refresh_token grants
// (RFC 6749), revocation (RFC 7009) and introspection (RFC 7662), with the public default
// client and confidential clients (client_secret_basic, client_secret_post).
//
// The server runs without --issuer: its issuer (and audience) is its own URL
// http://127.0.0.1:PORT, which is what discovery needs (openid-client checks that the
// metadata's issuer is the URL it discovered from). Plain http on loopback needs
// allowInsecureRequests.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { Jotd } from './lib/jotd.mjs';

const ALICE_PW = 'oauth-client-alice-password';
const BOB_PW = 'oauth-client-bob-password';
const API_SECRET = 'api-secret-for-the-oauth-client-tests-0123';
const RS_SECRET = 'rs-secret-for-the-oauth-client-tests-01234';

let srv;

before(async () => {
  srv = await Jotd.start({ issuer: null });
  // without --issuer, jotd's issuer and audience are its URL: verifyAccess checks those
  srv.issuer = srv.base;
  srv.audience = srv.base;
  srv.addUser('alice', ALICE_PW, { roles: ['member'], permissions: ['items:read'] });
  srv.addUser('bob', BOB_PW);
  srv.updateClient('default', { scopes: ['items.read'] });
  // the client applications: 'api' gets tokens and may not introspect; 'rs' is a resource
  // server that introspects tokens for this server's audience
  srv.addClient('api', API_SECRET, { scopes: ['items.read', 'items.write'], introspect: [] });
  srv.addClient('rs', RS_SECRET, { introspect: [srv.base] });
});

after(async () => {
  await srv?.stop();
});

/** openid-client's Configuration for \p clientId, discovered from the running jotd. */
function discover(clientId, auth) {
  return client.discovery(new URL(srv.base), clientId, undefined, auth, {
    algorithm: 'oauth2', // RFC 8414: /.well-known/oauth-authorization-server
    execute: [client.allowInsecureRequests], // http on loopback
  });
}

const password = (config, username, pw, extra = {}) =>
  client.genericGrantRequest(config, 'password', { username, password: pw, ...extra });

/** An OAuth error response surfaced by openid-client as a ResponseBodyError. */
function oauthError(error, status = 400) {
  return (e) => {
    assert.ok(e instanceof client.ResponseBodyError, `ResponseBodyError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.error, error, `error: ${JSON.stringify(e.cause)}`);
    assert.equal(e.status, status);
    return true;
  };
}

/** \p promise fails with 401 invalid_client. A client that used HTTP Basic gets the Basic
 *  challenge (RFC 6749 §5.2), which openid-client reports first as a
 *  WWWAuthenticateChallengeError whose response still carries the JSON error; any other
 *  client gets no challenge, so the library surfaces the OAuth error itself. */
async function rejectsInvalidClient(promise, { basicAuth = false } = {}) {
  let e;
  await assert.rejects(promise, (x) => ((e = x), true));
  assert.equal(e.status, 401);
  if (!basicAuth) {
    assert.ok(e instanceof client.ResponseBodyError, `ResponseBodyError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.error, 'invalid_client');
    return;
  }
  assert.ok(e instanceof client.WWWAuthenticateChallengeError, `WWWAuthenticateChallengeError, got ${e?.constructor?.name}: ${e?.message}`);
  assert.deepEqual(e.cause, [{ scheme: 'basic', parameters: { realm: 'jotd' } }]);
  const body = await e.response.json();
  assert.equal(body.error, 'invalid_client', JSON.stringify(body));
}

describe('openid-client against jotd', () => {
  test('RFC 8414 discovery: the issuer is the server URL, the endpoints and methods are published', async () => {
    const config = await discover('default', client.None());
    const m = config.serverMetadata();
    assert.equal(m.issuer, srv.base);
    assert.equal(m.token_endpoint, `${srv.base}/token`);
    assert.equal(m.revocation_endpoint, `${srv.base}/revoke`);
    assert.equal(m.introspection_endpoint, `${srv.base}/introspect`);
    assert.equal(m.jwks_uri, `${srv.base}/.well-known/jwks.json`);
    assert.deepEqual(m.grant_types_supported, ['authorization_code', 'password', 'refresh_token', 'client_credentials']);
    for (const method of ['client_secret_basic', 'client_secret_post', 'none'])
      assert.ok(m.token_endpoint_auth_methods_supported.includes(method), method);
    assert.equal(config.clientMetadata().client_id, 'default');
  });

  test('discovery refuses a server whose issuer is not the URL discovered from', async () => {
    const other = await Jotd.start({ issuer: 'https://issuer.e2e.test' });
    try {
      await assert.rejects(
        client.discovery(new URL(other.base), 'default', undefined, client.None(), {
          algorithm: 'oauth2',
          execute: [client.allowInsecureRequests],
        }),
        (e) => {
          assert.ok(e instanceof client.ClientError, `${e?.constructor?.name}: ${e?.message}`);
          assert.equal(e.code, 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', e.message);
          assert.equal(e.cause?.attribute, 'issuer');
          return true;
        },
      );
    } finally {
      await other.stop();
    }
  });

  describe('the public default client, named explicitly (client_id=default, auth none)', () => {
    let config;
    before(async () => {
      config = await discover('default', client.None());
    });

    test('password grant: a verified access token for the user, client_id default', async () => {
      const t = await password(config, 'alice', ALICE_PW, { scope: 'items.read' });
      assert.equal(t.token_type, 'bearer'); // openid-client normalises the case
      assert.equal(typeof t.refresh_token, 'string');
      assert.equal(t.scope, 'items.read');
      assert.ok(t.expiresIn() > 0);
      const { payload } = await srv.verifyAccess(t.access_token);
      assert.equal(payload.client_id, 'default');
      assert.equal(payload.preferred_username, 'alice');
      assert.equal(payload.scope, 'items.read');
    });

    test('a wrong password is invalid_grant', async () => {
      await assert.rejects(password(config, 'alice', 'not-the-password'), oauthError('invalid_grant'));
    });

    test('refresh rotates the tokens; reusing the old refresh token is invalid_grant and ends the session', async () => {
      const t = await password(config, 'alice', ALICE_PW);
      const r = await client.refreshTokenGrant(config, t.refresh_token);
      assert.notEqual(r.refresh_token, t.refresh_token);
      assert.notEqual(r.access_token, t.access_token);
      const a = (await srv.verifyAccess(t.access_token)).payload;
      const b = (await srv.verifyAccess(r.access_token)).payload;
      assert.equal(b.client_id, 'default');
      assert.equal(b.sub, a.sub);
      assert.equal(b.sid, a.sid, 'same session');
      // reuse detection: the old refresh token is refused...
      await assert.rejects(client.refreshTokenGrant(config, t.refresh_token), oauthError('invalid_grant'));
      // ...and its session is over: the rotated refresh token goes with it
      await assert.rejects(client.refreshTokenGrant(config, r.refresh_token), oauthError('invalid_grant'));
    });

    test('tokenRevocation of a refresh token: the next refresh fails', async () => {
      const t = await password(config, 'bob', BOB_PW);
      await client.tokenRevocation(config, t.refresh_token, { token_type_hint: 'refresh_token' });
      await assert.rejects(client.refreshTokenGrant(config, t.refresh_token), oauthError('invalid_grant'));
    });
  });

  describe('a confidential client', () => {
    for (const [name, auth] of [
      ['client_secret_basic', client.ClientSecretBasic],
      ['client_secret_post', client.ClientSecretPost],
    ]) {
      test(`${name}: an allowed scope is granted, in the response and the token`, async () => {
        const config = await discover('api', auth(API_SECRET));
        const t = await password(config, 'alice', ALICE_PW, { scope: 'items.write' });
        assert.equal(t.scope, 'items.write');
        const { payload } = await srv.verifyAccess(t.access_token);
        assert.equal(payload.client_id, 'api');
        assert.equal(payload.scope, 'items.write');
        // and its refresh token works for it
        const r = await client.refreshTokenGrant(config, t.refresh_token);
        assert.equal((await srv.verifyAccess(r.access_token)).payload.client_id, 'api');
      });

      test(`${name}: a scope the client is not allowed is invalid_scope`, async () => {
        const config = await discover('api', auth(API_SECRET));
        await assert.rejects(password(config, 'alice', ALICE_PW, { scope: 'admin' }), oauthError('invalid_scope'));
        await assert.rejects(
          password(config, 'alice', ALICE_PW, { scope: 'items.read admin' }),
          oauthError('invalid_scope'),
        );
      });

      test(`${name}: a wrong secret is 401 invalid_client`, async () => {
        const config = await discover('api', auth(API_SECRET.replace(/.$/, 'x')));
        await rejectsInvalidClient(password(config, 'alice', ALICE_PW), { basicAuth: name === 'client_secret_basic' });
      });
    }
  });

  describe('tokenIntrospection by a resource server (confidential client with introspection audiences)', () => {
    let api;
    let rs;
    before(async () => {
      api = await discover('api', client.ClientSecretBasic(API_SECRET));
      rs = await discover('rs', client.ClientSecretPost(RS_SECRET));
    });

    test('a live access token is active with its sub, client_id and scope; inactive once its client revokes it', async () => {
      const t = await password(api, 'alice', ALICE_PW, { scope: 'items.read' });
      const { payload } = await srv.verifyAccess(t.access_token);
      const i = await client.tokenIntrospection(rs, t.access_token);
      assert.equal(i.active, true);
      assert.equal(i.sub, payload.sub);
      assert.equal(i.username, 'alice');
      assert.equal(i.client_id, 'api');
      assert.equal(i.scope, 'items.read');
      assert.equal(i.iss, srv.base);
      assert.equal(i.jti, payload.jti);

      await client.tokenRevocation(api, t.access_token, { token_type_hint: 'access_token' });
      assert.deepEqual(await client.tokenIntrospection(rs, t.access_token), { active: false });
      // only that access token: the session's refresh token still works
      const r = await client.refreshTokenGrant(api, t.refresh_token);
      assert.equal((await client.tokenIntrospection(rs, r.access_token)).active, true);
    });

    test('a garbage token is inactive', async () => {
      for (const token of ['garbage', 'a.b.c', 'A'.repeat(43)])
        assert.deepEqual(await client.tokenIntrospection(rs, token), { active: false }, token);
    });

    test('a confidential client without introspection audiences is refused (403), even for its own token', async () => {
      const t = await password(api, 'alice', ALICE_PW);
      await assert.rejects(client.tokenIntrospection(api, t.access_token), oauthError('access_denied', 403));
    });

    test('the public default client cannot introspect (401 invalid_client)', async () => {
      const pub = await discover('default', client.None());
      const t = await password(pub, 'alice', ALICE_PW);
      await rejectsInvalidClient(client.tokenIntrospection(pub, t.access_token));
    });
  });
});
