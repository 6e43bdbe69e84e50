// jotd's HTTP layer held to a strict reading of what it receives: URLs whose decoded bytes
// hold a NUL or another control character, request framing a proxy could read differently
// (repeated Content-Length, Content-Length with Transfer-Encoding, repeated Authorization),
// the client address behind trusted proxies, TLS versions and suites, and a listen address
// that is already taken. Raw requests go over node:net so that nothing normalises them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CHEAP_ARGON2, JOTD, Jotd, bearer, describeResponse, mkTmp, show } from './lib/jotd.mjs';

const PW = 'strict-tests-password';

/** Write \p bytes on a fresh connection and collect everything until the server closes it. */
function raw(port, bytes) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close from the server; got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, 15_000);
    s.on('data', (c) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.on('error', () => {}); // a reset after the answer still ends in 'close'
    s.write(bytes);
  });
}

/** The responses in a raw answer: [{ status, headers (lower-case names), body }]. */
function responses(text) {
  const out = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const lines = rest.slice(0, end).split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const body = rest.slice(end + 4, end + 4 + len);
    out.push({ status: Number(lines[0].split(' ')[1]), headers, body });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

/** One raw request followed by a pipelined GET /healthz on the same connection: the answer
 *  must be a single JSON 400 invalid_request, and nothing after it (the connection closed,
 *  so the pipelined request was never read as a request). */
async function expectRefusedAndClosed(port, bytes) {
  const text = await raw(port, bytes + 'GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const rs = responses(text);
  assert.equal(rs.length, 1, `one answer, then the connection closes:\n${text}`);
  assert.equal(rs[0].status, 400, text);
  assert.equal(JSON.parse(rs[0].body).error, 'invalid_request', text);
  return rs[0];
}

const form = (o) => new URLSearchParams(o).toString();

describe('URLs and request framing', () => {
  let srv;
  let H; // the admin's Authorization header
  const login = form({ grant_type: 'password', username: 'carol', password: PW });

  before(async () => {
    srv = await Jotd.start();
    const admin = await srv.login('admin', srv.adminPassword);
    H = { authorization: bearer(admin.access_token) };
    srv.addUser('carol', PW);
  });
  after(async () => {
    if (srv) await srv.stop();
  });

  test('a %00 in the path is refused with 400, never routed on what precedes it', async () => {
    const victim = await srv.request('/admin/users', { method: 'POST', headers: H, json: { username: 'victim', password: PW } });
    assert.equal(victim.status, 201, describeResponse(victim));
    const v = await srv.login('victim', PW);
    const rs = await expectRefusedAndClosed(srv.port,
      `DELETE /admin/users/${victim.json.id}%00/sessions HTTP/1.1\r\nHost: a\r\n` +
      `Authorization: ${H.authorization}\r\n\r\n`);
    assert.match(JSON.parse(rs.body).error_description, /control character/);
    await srv.refresh(v.refresh_token); // the session of user `victim` was not ended
    // the same request without the NUL does end it: the test above is meaningful
    const ok = await srv.request(`/admin/users/${victim.json.id}/sessions`, { method: 'DELETE', headers: H });
    assert.equal(ok.status, 200, describeResponse(ok));
  });

  test('every control character, escaped or raw, in the path or the query is refused', async () => {
    for (const path of ['/healthz%00', '/healthz%00x', '/healthz%0a', '/healthz%0D', '/healthz%1f', '/healthz%7F',
      '/healthz\tx', '/healthz?x=%00', '/healthz?x%00=1', '/healthz?x=1%0a']) {
      const [r] = responses(await raw(srv.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`));
      assert.equal(r?.status, 400, path);
      assert.equal(JSON.parse(r.body).error, 'invalid_request', path);
    }
    // a %00 in a query value does not silently truncate it ("5%00" read as limit=5)
    const q = responses(await raw(srv.port, `GET /admin/users?limit=5%00x HTTP/1.1\r\nHost: a\r\n` +
      `Authorization: ${H.authorization}\r\nConnection: close\r\n\r\n`));
    assert.equal(q[0].status, 400, JSON.stringify(q));
    // what is not a control character still passes
    assert.equal((await srv.get('/healthz')).status, 200);
    const esc = responses(await raw(srv.port, 'GET /healthz%2e HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
    assert.equal(esc[0].status, 404, JSON.stringify(esc));
  });

  test('two Content-Length headers are refused (equal or not) and the connection closes', async () => {
    const head = 'POST /token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n';
    for (const [a, b] of [[login.length, login.length], [login.length, 3]]) {
      const rs = await expectRefusedAndClosed(srv.port,
        `${head}Content-Length: ${a}\r\nContent-Length: ${b}\r\n\r\n${login}`);
      assert.equal(rs.headers.connection, 'close');
    }
    // the same login with one Content-Length succeeds: the refusal is the framing's
    const one = responses(await raw(srv.port, `${head}Content-Length: ${login.length}\r\nConnection: close\r\n\r\n${login}`));
    assert.equal(one[0].status, 200, JSON.stringify(one));
  });

  test('Content-Length together with Transfer-Encoding is refused', async () => {
    const chunked = `${login.length.toString(16)}\r\n${login}\r\n0\r\n\r\n`;
    await expectRefusedAndClosed(srv.port,
      'POST /token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      `Content-Length: ${chunked.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`);
    await expectRefusedAndClosed(srv.port,
      'POST /token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      `Transfer-Encoding: chunked\r\nContent-Length: ${login.length}\r\n\r\n${login}`);
    // chunked alone is fine
    const ok = responses(await raw(srv.port, 'POST /token HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
      `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`));
    assert.equal(ok[0].status, 200, JSON.stringify(ok));
  });

  test('two Authorization headers are refused, even when both are valid', async () => {
    const c = await srv.login('carol', PW);
    const rs = await expectRefusedAndClosed(srv.port,
      `GET /verify HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${c.access_token}\r\n` +
      `Authorization: ${H.authorization}\r\n\r\n`);
    assert.equal(rs.headers['x-auth-subject'], undefined);
    const one = await srv.get('/verify', { authorization: bearer(c.access_token) });
    assert.equal(one.status, 200, describeResponse(one));
  });
});

describe('TLS: 1.2 and 1.3 only, forward-secret AEAD suites only', () => {
  let srv;
  let dir;
  let clientConf;

  before(async () => {
    dir = mkTmp();
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    // RSA: a static-RSA key exchange (no forward secrecy) is possible with it at all
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Debian's OpenSSL refuses TLS 1.0/1.1 and weak suites by itself: this client
    // configuration lowers its floor, so that only the server can refuse them
    clientConf = path.join(dir, 'openssl-client.cnf');
    fs.writeFileSync(clientConf, [
      'openssl_conf = openssl_init', '[openssl_init]', 'ssl_conf = ssl_sect', '[ssl_sect]',
      'system_default = system_default_sect', '[system_default_sect]', 'MinProtocol = TLSv1',
      'CipherString = DEFAULT@SECLEVEL=0', ''].join('\n'));
    srv = await Jotd.start({ args: ['--tls-cert', cert, '--tls-key', key], ca: fs.readFileSync(cert) });
  });
  after(async () => {
    if (srv) await srv.stop();
  });

  /** openssl s_client with \p args; the negotiated "Protocol, Cipher" or null when the
   *  handshake failed. */
  function handshake(...args) {
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${srv.port}`, ...args], {
      input: '', encoding: 'utf8', timeout: 20_000, env: { ...process.env, OPENSSL_CONF: clientConf },
    });
    // "New, <version of the suite>, Cipher is X"; the protocol itself is on the "Protocol :"
    // line of the session block (absent for TLS 1.3 before a ticket arrives)
    const m = r.stdout.match(/^New, (\S+), Cipher is (\S+)$/m);
    if (!m || m[2] === '(NONE)') return null;
    const proto = r.stdout.match(/^\s*Protocol\s*:\s*(\S+)$/m);
    return `${proto ? proto[1] : m[1]} ${m[2]}`;
  }

  test('TLS 1.0 and 1.1 are refused to a client willing to speak them', () => {
    assert.equal(handshake('-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0'), null);
    assert.equal(handshake('-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0'), null);
  });

  test('TLS 1.2 and 1.3 handshake, with forward-secret AEAD suites', () => {
    assert.match(handshake('-tls1_2') ?? 'failed', /^TLSv1\.2 ECDHE-RSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
    assert.match(handshake('-tls1_3') ?? 'failed', /^TLSv1\.3 TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)$/);
    assert.match(handshake('-cipher', 'DEFAULT:@SECLEVEL=0') ?? 'failed', /^TLSv1\.3 /);
  });

  test('a TLS 1.2 client offering only suites without forward secrecy or AEAD fails', () => {
    for (const suite of ['AES128-GCM-SHA256', 'AES128-SHA256', 'AES256-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
      assert.equal(handshake('-tls1_2', '-cipher', `${suite}:@SECLEVEL=0`), null, suite);
    }
  });
});

describe('a listen address already in use', () => {
  test('a second jotd on the same port exits non-zero naming the address; the first still answers', async () => {
    const first = await Jotd.start();
    try {
      const env = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('JOTD_')) env[k] = v;
      const r = spawnSync(JOTD, ['serve', '--data', mkTmp(), '--listen', `127.0.0.1:${first.port}`, ...CHEAP_ARGON2], {
        encoding: 'utf8', env, timeout: 20_000,
      });
      assert.notEqual(r.status, 0, show(r));
      assert.equal(r.signal, null, `the second jotd must exit by itself, not run: ${show(r)}`);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${first.port}: address already in use`), show(r));
      assert.doesNotMatch(r.stdout, /jotd listening/);
      for (let i = 0; i < 5; i++) assert.equal((await first.get('/healthz')).status, 200);
    } finally {
      await first.stop();
    }
  });
});

describe('--trusted-proxy: the client address behind a proxy', () => {
  const throttle = ['--throttle-ip-failures', '20', '--throttle-account-failures', '1000'];
  const bad = (xff) => ({ grant_type: 'password', username: 'dave', password: 'wrong-password' });

  /** 25 failed logins of dave, the i-th with X-Forwarded-For xff(i); their statuses. */
  async function failures(srv, xff) {
    const st = [];
    for (let i = 0; i < 25; i++) st.push((await srv.token(bad(), { 'x-forwarded-for': xff(i) })).status);
    return st;
  }

  test('behind a trusted proxy, one client is throttled and another still logs in', async () => {
    const srv = await Jotd.start({ args: ['--trusted-proxy', '127.0.0.1/32', ...throttle] });
    try {
      srv.addUser('dave', PW);
      // client A, through a chain whose left part it wrote itself
      const st = await failures(srv, () => '198.51.100.99, 203.0.113.10');
      assert.deepEqual(st.slice(0, 20), Array(20).fill(400), st.join(","));
      assert.deepEqual(st.slice(20), Array(5).fill(429), st.join(','));
      // client A is throttled, whatever it puts on the left
      const a = await srv.token({ grant_type: 'password', username: 'dave', password: PW },
        { 'x-forwarded-for': '192.0.2.1, 203.0.113.10' });
      assert.equal(a.status, 429, describeResponse(a));
      assert.ok(Number(a.headers.get('retry-after')) > 0);
      // client B logs in
      await srv.login('dave', PW, {}, { 'x-forwarded-for': '203.0.113.20' });
      // the logs carry the client's address
      await srv.waitLog((l) => l.type === 'request' && l.path === '/token' && l.status === 429 && l.ip === '203.0.113.10');
      await srv.waitLog((l) => l.type === 'request' && l.path === '/token' && l.status === 200 && l.ip === '203.0.113.20');
      // RFC 7239 Forwarded with a quoted IPv6 node, when there is no X-Forwarded-For
      const f = await srv.get('/healthz', { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' });
      assert.equal(f.status, 200);
      await srv.waitLog((l) => l.type === 'request' && l.path === '/healthz' && l.ip === '2001:db8:cafe::17');
      // a malformed value: the proxy's own address
      await srv.get('/healthz', { 'x-forwarded-for': 'unknown' });
      await srv.waitLog((l) => l.type === 'request' && l.path === '/healthz' && l.ip === '127.0.0.1');
    } finally {
      await srv.stop();
    }
  });

  test('IPv6 clients behind the proxy are throttled by their /64', async () => {
    const srv = await Jotd.start({ args: ['--trusted-proxy', '127.0.0.1', ...throttle] });
    try {
      srv.addUser('dave', PW);
      const st = await failures(srv, (i) => `2001:db8:1:2::${(i + 1).toString(16)}`);
      assert.deepEqual(st.slice(20), Array(5).fill(429), st.join(','));
      const other = await srv.token({ grant_type: 'password', username: 'dave', password: PW },
        { 'x-forwarded-for': '2001:db8:1:2:ffff::1' });
      assert.equal(other.status, 429, 'the same /64');
      await srv.login('dave', PW, {}, { 'x-forwarded-for': '2001:db8:1:3::1' }); // another /64
    } finally {
      await srv.stop();
    }
  });

  test('without --trusted-proxy, X-Forwarded-For is ignored: spoofing it does not escape the throttle', async () => {
    const srv = await Jotd.start({ args: throttle });
    try {
      srv.addUser('dave', PW);
      const st = await failures(srv, (i) => `203.0.113.${i + 1}`);
      assert.deepEqual(st.slice(20), Array(5).fill(429), st.join(','));
      const r = await srv.token({ grant_type: 'password', username: 'dave', password: PW },
        { 'x-forwarded-for': '203.0.113.200', forwarded: 'for=203.0.113.201' });
      assert.equal(r.status, 429, describeResponse(r));
      assert.ok(!srv.logs().some((l) => l.type === 'request' && l.ip !== '127.0.0.1'), 'every request logged as 127.0.0.1');
    } finally {
      await srv.stop();
    }
  });

  test('a bad --trusted-proxy is refused at start with a clear message', () => {
    for (const [v, msg] of [['10.0.0.1/8', /--trusted-proxy: bad CIDR "10\.0\.0\.1\/8": host bits set/],
      ['300.0.0.1', /--trusted-proxy: bad CIDR "300\.0\.0\.1": not an IPv4 or IPv6 address/],
      ['::1/129', /prefix length over 128/]]) {
      const r = spawnSync(JOTD, ['serve', '--data', mkTmp(), '--listen', '127.0.0.1:0', '--trusted-proxy', v], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, show(r));
      assert.match(r.stderr, msg, show(r));
    }
  });
});
