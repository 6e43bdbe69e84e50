// jot verify --jwks-url and --check-status: a node HTTPS server (a CA and a server certificate made here with
// openssl) serves a JWKS and hostile answers. jot runs as a child process (asynchronously:
// the server lives in this process). A key set that cannot be had: exit 2 and one
// "jot: cannot fetch the key set: <reason>" line; a token that fails: exit 1; never a crash.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { StatusList, createHeaderAndPayload } from '@sd-jwt/jwt-status-list';
import * as jose from 'jose';
import { JOT, TmpDir, fails, ok, show } from './lib/jot.mjs';

const tmp = new TmpDir();
let server, plain, base, plainBase, ca;
let keyA, keyB, tokA, tokBasA, tokB;
const open = new Set(); // hanging responses, ended in after()
const lists = new Map(); // path -> body of a status list route (set by the tests)

/** Run jot asynchronously: { status, signal, stdout, stderr }. */
function jotAsync(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(JOT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

function openssl(...args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a certificate for 127.0.0.1 / localhost signed by it. */
function makePki() {
  const p = (n) => tmp.path(n);
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', p('ca.key'), '-out', p('ca.pem'), '-subj', '/CN=jot e2e test CA', '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=localhost');
  tmp.write('srv.ext', 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-out', p('srv.pem'), '-days', '2', '-extfile', p('srv.ext'));
  return { ca: p('ca.pem'), key: p('srv.key'), cert: p('srv.pem') };
}

/** The routes of both servers. */
function handler(jwks) {
  return (req, res) => {
    if (lists.has(req.url)) {
      res.writeHead(200, { 'content-type': 'application/statuslist+jwt' });
      res.end(lists.get(req.url));
      return;
    }
    switch (req.url) {
      case '/jwks':
        res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'max-age=300' });
        res.end(jwks);
        return;
      case '/huge': // 2 MiB of whitespace after a valid set: over the 1 MiB cap
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(jwks + ' '.repeat(2 * 1024 * 1024));
        return;
      case '/drip': { // one byte a second, for ever: the 5 s timeout must end it
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        open.add(res);
        const t = setInterval(() => res.write(' '), 1000);
        res.on('close', () => { clearInterval(t); open.delete(res); });
        return;
      }
      case '/redirect':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
        return;
      case '/redirect-https':
        res.writeHead(301, { location: `${base}/jwks` });
        res.end();
        return;
      case '/invalid':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keys":[{"kty":"EC",');
        return;
      case '/gzip-encoded': // a content encoding nobody asked for: not decoded, so not a set
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(Buffer.from('1f8b0800000000000003abaed6c94ead54b28a8ee5020065eaa2430c000000', 'hex'));
        return;
      default:
        res.writeHead(404);
        res.end();
    }
  };
}

const listen = (srv) => new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));

before(async () => {
  keyA = JSON.parse(ok(await jotAsync(['keygen', '--alg', 'ES256', '--kid', 'key-a'])));
  keyB = JSON.parse(ok(await jotAsync(['keygen', '--alg', 'ES256', '--kid', 'key-b'])));
  const fileA = tmp.write('a.jwk', JSON.stringify(keyA));
  const fileB = tmp.write('b.jwk', JSON.stringify(keyB));
  const jwks = ok(await jotAsync(['pubkey', '--jwks', fileA]));
  tokA = ok(await jotAsync(['sign', '--key', fileA, '--sub', 'alice', '--exp', '10m']));
  tokB = ok(await jotAsync(['sign', '--key', fileB, '--sub', 'mallory', '--exp', '10m']));
  tokBasA = ok(await jotAsync(['sign', '--key', fileB, '--kid', 'key-a', '--sub', 'mallory', '--exp', '10m']));
  const pki = makePki();
  ca = pki.ca;
  server = https.createServer({ key: fs.readFileSync(pki.key), cert: fs.readFileSync(pki.cert) },
    handler(jwks));
  base = `https://127.0.0.1:${await listen(server)}`;
  plain = http.createServer(handler(jwks));
  plainBase = `http://127.0.0.1:${await listen(plain)}`;
});

after(() => {
  for (const res of open) res.destroy();
  server?.close();
  plain?.close();
  server?.closeAllConnections?.();
  plain?.closeAllConnections?.();
  tmp.cleanup();
});

const verify = (url, tok, ...extra) => jotAsync(['verify', '--jwks-url', url, '--alg', 'ES256', ...extra, tok]);

describe('jot verify --jwks-url', () => {
  test('accepts a token signed by a key of the set (HTTPS, private CA)', async () => {
    const claims = JSON.parse(ok(await verify(`${base}/jwks`, tokA, '--ca-file', ca)));
    assert.equal(claims.sub, 'alice');
  });

  test('refuses a token whose kid is not in the set, and a forged one', async () => {
    fails(await verify(`${base}/jwks`, tokB, '--ca-file', ca), 1, /no matching key/);
    fails(await verify(`${base}/jwks`, tokBasA, '--ca-file', ca), 1, /signature verification failed/);
  });

  test('the same set verifies the token in jose (createRemoteJWKSet)', async () => {
    const set = jose.createRemoteJWKSet(new URL(`${plainBase}/jwks`));
    const { payload } = await jose.jwtVerify(tokA, set, { algorithms: ['ES256'] });
    assert.equal(payload.sub, 'alice');
  });

  test('the server certificate must chain to a trusted CA', async () => {
    fails(await verify(`${base}/jwks`, tokA), 2, /^jot: cannot fetch the key set: .*(SSL|certificate)/i);
  });

  test('plain HTTP: only with --allow-http, only to loopback', async () => {
    fails(await verify(`${plainBase}/jwks`, tokA), 2, /refused: https only/);
    const claims = JSON.parse(ok(await verify(`${plainBase}/jwks`, tokA, '--allow-http')));
    assert.equal(claims.sub, 'alice');
    fails(await verify('http://192.0.2.1/jwks', tokA, '--allow-http'), 2, /refused: https only/);
    fails(await jotAsync(['verify', '--jwks', 'x', '--allow-http', '--alg', 'ES256', tokA]), 2,
      /--allow-http and --ca-file go with --jwks-url/);
  });

  const hostile = [
    ['/huge', /larger than 1048576 bytes/],
    ['/redirect', /HTTP 302: redirects are not followed/],
    ['/redirect-https', /HTTP 301: redirects are not followed/],
    ['/invalid', /invalid JWKS/],
    ['/gzip-encoded', /invalid JWKS/],
    ['/missing', /HTTP 404/],
  ];
  for (const [route, reason] of hostile) {
    test(`hostile server ${route}: exit 2 with the reason`, async () => {
      const r = await verify(`${base}${route}`, tokA, '--ca-file', ca);
      assert.equal(r.signal, null, show(r));
      fails(r, 2, reason);
      assert.match(r.stderr, /^jot: cannot fetch the key set: /, show(r));
    });
  }

  test('hostile server /drip (slower than the timeout): exit 2', async () => {
    const r = await verify(`${base}/drip`, tokA, '--ca-file', ca);
    assert.equal(r.signal, null, show(r));
    fails(r, 2, /^jot: cannot fetch the key set: .*(imeout|timed out)/);
  });
});

// ---- status lists ----------------------------------------------------------------------

/** Our own encoder (the draft: entries packed from the least significant bit, ZLIB). */
function encodeList(statuses, bits) {
  const bytes = Buffer.alloc(Math.ceil((statuses.length * bits) / 8));
  statuses.forEach((v, i) => {
    const bit = i * bits;
    bytes[bit >> 3] |= v << (bit & 7);
  });
  return zlib.deflateSync(bytes, { level: 9 }).toString('base64url');
}

/** A Status List Token for \p uri signed by \p jwk (jose). */
async function listToken(jwk, uri, statusList, { typ = 'statuslist+jwt', ttl = 300 } = {}) {
  const key = await jose.importJWK(jwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ sub: uri, iat: now, exp: now + 3600, ttl, status_list: statusList })
    .setProtectedHeader({ alg: 'ES256', typ, kid: jwk.kid })
    .sign(key);
}

/** A token signed by key A that references entry \p idx of \p uri. */
async function referencing(uri, idx) {
  const claim = `status=${JSON.stringify({ status_list: { idx, uri } })}`;
  return ok(await jotAsync(['sign', '--key', tmp.path('a.jwk'), '--sub', 'alice', '--exp', '10m',
    '--claim', claim]));
}

const checked = (tok, ...extra) => verify(`${base}/jwks`, tok, '--ca-file', ca, '--check-status', ...extra);

describe('jot verify --check-status', () => {
  test('a list made here (node zlib + jose): valid accepted, revoked refused', async () => {
    const uri = `${base}/statuslists/1`;
    const statuses = new Array(64).fill(0);
    statuses[3] = 1;
    lists.set('/statuslists/1', await listToken(keyA, uri, { bits: 1, lst: encodeList(statuses, 1) }));
    const good = JSON.parse(ok(await checked(await referencing(uri, 2))));
    assert.equal(good.sub, 'alice');
    fails(await checked(await referencing(uri, 3)), 1, /^jot: token revoked\n$/);
    fails(await checked(await referencing(uri, 64)), 1, /status list invalid or unusable: index 64 beyond/);
  });

  test('a list made by @sd-jwt/jwt-status-list is read correctly (bits 2)', async () => {
    const uri = `${base}/statuslists/sd`;
    const list = new StatusList(new Array(100).fill(0), 2);
    list.setStatus(7, 1); // INVALID
    list.setStatus(8, 2); // SUSPENDED
    list.setStatus(99, 3);
    const now = Math.floor(Date.now() / 1000);
    const { header, payload } = createHeaderAndPayload(list,
      { iss: 'https://issuer.example', sub: uri, iat: now, exp: now + 3600, ttl: 60 },
      { alg: 'ES256', typ: 'statuslist+jwt', kid: 'key-a' });
    const key = await jose.importJWK(keyA, 'ES256');
    lists.set('/statuslists/sd', await new jose.SignJWT(payload).setProtectedHeader(header).sign(key));
    for (const [idx, revoked] of [[0, false], [6, false], [7, true], [8, true], [9, false], [98, false], [99, true]]) {
      const r = await checked(await referencing(uri, idx));
      if (revoked) fails(r, 1, /^jot: token revoked\n$/);
      else assert.equal(JSON.parse(ok(r)).sub, 'alice', `idx ${idx}`);
    }
  });

  test('hostile or wrong lists: refused with the reason, never a crash', async () => {
    // a decompression bomb: 24 MiB of zeros (24 KiB compressed) against the 16 MiB cap
    const bomb = zlib.deflateSync(Buffer.alloc(24 * 1024 * 1024), { level: 9 }).toString('base64url');
    lists.set('/statuslists/bomb', await listToken(keyA, `${base}/statuslists/bomb`, { bits: 1, lst: bomb }));
    lists.set('/statuslists/forged', await listToken(keyB, `${base}/statuslists/forged`, { bits: 1, lst: encodeList([0], 1) }));
    lists.set('/statuslists/typ', await listToken(keyA, `${base}/statuslists/typ`, { bits: 1, lst: encodeList([0], 1) }, { typ: 'JWT' }));
    lists.set('/statuslists/sub', await listToken(keyA, `${base}/statuslists/other`, { bits: 1, lst: encodeList([0], 1) }));
    lists.set('/statuslists/junk', 'not a token');
    const cases = [
      ['bomb', /inflated list larger than 16777216 bytes/],
      ['forged', /no matching key/],
      ['typ', /wrong token type/],
      ['sub', /sub is not the list's URI/],
      ['junk', /status list token: malformed token/],
    ];
    for (const [name, reason] of cases) {
      const r = await checked(await referencing(`${base}/statuslists/${name}`, 0));
      assert.equal(r.signal, null, show(r));
      fails(r, 1, reason);
      assert.match(r.stderr, /^jot: status list invalid or unusable: /, show(r));
    }
    // a list on a server that does not answer with one: no verdict (exit 2)
    fails(await checked(await referencing(`${base}/statuslists/none`, 0)), 2, /remote document could not be fetched: HTTP 404/);
  });

  test('only URIs under the allowed prefix are fetched', async () => {
    fails(await checked(await referencing('https://evil.example/statuslists/1', 0)), 1,
      /^jot: status list URI not allowed: /);
    fails(await checked(await referencing(`${base}/statuslists/1`, 2), '--status-prefix', `${base}/other/`), 1,
      /status list URI not allowed/);
    fails(await jotAsync(['verify', '--jwks', tmp.path('a.jwk'), '--check-status', '--alg', 'ES256', tokA]), 2,
      /--check-status needs --jwks-url/);
  });
});
