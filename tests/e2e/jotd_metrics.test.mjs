// GET /metrics: the Prometheus text format checked by an independent parser (the reference
// Python client's, Debian python3-prometheus-client, through lib/prom_parse.py; the suite
// skips loudly without it), access (401 without a token, 403 without the metrics role, 200
// with it; --metrics-listen without a token), values that move with what jotd does, and
// --metrics off.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Jotd, bearer, describeResponse, httpRequest, sleep } from './lib/jotd.mjs';

const PW = 'metrics-tests-password';
const PARSER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'prom_parse.py');
const probe = spawnSync(PARSER, [], { input: '', encoding: 'utf8' });
const skip = probe.status === 0 ? false : `SKIP: ${PARSER} cannot run (${(probe.stderr || probe.error?.message || '').trim()}): install python3-prometheus-client (scripts/install-deps)`;
if (skip) process.stderr.write(`jotd_metrics: ${skip}\n`);

const servers = [];
after(() => servers.forEach((s) => s.kill()));
async function start(o) {
  const s = await Jotd.start(o);
  servers.push(s);
  return s;
}

/** The families of a /metrics text, parsed by the reference parser (fails on bad text). */
function parse(text) {
  const r = spawnSync(PARSER, [], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `the Prometheus parser refused the text: ${r.stderr}\n${text}`);
  return JSON.parse(r.stdout);
}

/** The value of the sample \p name whose labels include \p labels (0 when absent). */
function value(fams, family, name, labels = {}) {
  const f = fams[family];
  if (!f) return 0;
  const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : 0;
}

async function scrape(s, token) {
  const r = await s.get('/metrics', { authorization: bearer(token) });
  assert.equal(r.status, 200, describeResponse(r));
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(r.text);
}

describe('GET /metrics', { skip }, () => {
  test('access: 401 without a token, 403 without the metrics role, 200 with it; the text parses', async () => {
    const s = await start();
    try {
      s.addUser('mon', PW, { roles: ['metrics'] });
      s.addUser('alice', PW);
      const none = await s.get('/metrics');
      assert.equal(none.status, 401, describeResponse(none));
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      const alice = await s.login('alice', PW);
      const other = await s.get('/metrics', { authorization: bearer(alice.access_token) });
      assert.equal(other.status, 403, describeResponse(other));
      const mon = await s.login('mon', PW);
      const fams = await scrape(s, mon.access_token);
      assert.equal(fams.jotd_build_info.type, 'gauge');
      assert.match(fams.jotd_build_info.samples[0].labels.version, /^\d+\.\d+\.\d+/);
      for (const f of ['jotd_http_requests', 'jotd_http_request_duration_seconds', 'jotd_logins', 'jotd_refreshes',
        'jotd_refresh_reuse_detected', 'jotd_revocations', 'jotd_verify_cache_requests', 'jotd_verify_cache_entries',
        'jotd_denylist_entries', 'jotd_store_errors', 'jotd_revocation_event_lag_seconds'])
        assert.ok(fams[f], `family ${f} in ${Object.keys(fams)}`);
      assert.equal(fams.jotd_http_request_duration_seconds.type, 'histogram');
      assert.equal(fams.jotd_logins.type, 'counter');
      await s.stop();
    } finally {
      s.kill();
    }
  });

  test('values move: logins, /verify, the cache, refreshes, reuse, revocations, the denylist, the event lag', async () => {
    const s = await start();
    try {
      s.addUser('mon', PW, { roles: ['metrics'] });
      s.addUser('bob', PW);
      const mon = await s.login('mon', PW);
      const f0 = await scrape(s, mon.access_token);
      const b = await s.login('bob', PW);
      assert.equal((await s.token({ grant_type: 'password', username: 'bob', password: 'wrong' })).status, 400);
      for (let i = 0; i < 3; i++) assert.equal((await s.get('/verify', { authorization: bearer(b.access_token) })).status, 200);
      const r1 = await s.refresh(b.refresh_token);
      assert.equal((await s.token({ grant_type: 'refresh_token', refresh_token: b.refresh_token })).status, 400); // reuse
      const c = await s.login('bob', PW);
      const lo = await s.request('/logout', { method: 'POST', headers: { authorization: bearer(c.access_token) } });
      assert.ok(lo.status < 300, describeResponse(lo));
      await sleep(1500); // the events poll (1 s) applies the logout's event: its lag is measured
      const f1 = await scrape(s, mon.access_token);
      const d = (fam, name, labels) => value(f1, fam, name, labels) - value(f0, fam, name, labels);
      assert.equal(d('jotd_logins', 'jotd_logins_total', { result: 'success' }), 2);
      assert.equal(d('jotd_logins', 'jotd_logins_total', { result: 'failure' }), 1);
      assert.equal(d('jotd_http_requests', 'jotd_http_requests_total', { route: '/verify', status: '200' }), 3);
      assert.ok(d('jotd_http_requests', 'jotd_http_requests_total', { route: '/token', status: '200' }) >= 3);
      assert.ok(d('jotd_http_request_duration_seconds', 'jotd_http_request_duration_seconds_count', { route: '/verify' }) === 3);
      assert.equal(d('jotd_verify_cache_requests', 'jotd_verify_cache_requests_total', { result: 'miss' }), 1);
      assert.equal(d('jotd_verify_cache_requests', 'jotd_verify_cache_requests_total', { result: 'hit' }), 2);
      assert.ok(value(f1, 'jotd_verify_cache_entries', 'jotd_verify_cache_entries') >= 1);
      assert.equal(d('jotd_refreshes', 'jotd_refreshes_total'), 1);
      assert.equal(d('jotd_refresh_reuse_detected', 'jotd_refresh_reuse_detected_total'), 1);
      assert.ok(d('jotd_revocations', 'jotd_revocations_total') >= 1);
      assert.ok(value(f1, 'jotd_denylist_entries', 'jotd_denylist_entries', { list: 'session' }) >= 1);
      assert.ok(value(f1, 'jotd_denylist_entries', 'jotd_denylist_entries', { list: 'jti' }) >= 1);
      assert.ok(d('jotd_revocation_event_lag_seconds', 'jotd_revocation_event_lag_seconds_count') >= 1, 'event lag measured');
      assert.ok(r1.access_token);
      await s.stop();
    } finally {
      s.kill();
    }
  });

  test('--metrics-listen: /metrics without a token there, nothing else; --metrics off counts nothing', async () => {
    const s = await start({ args: ['--metrics-listen', '127.0.0.1:0'] });
    try {
      const m = s.stdout.match(/^jotd metrics on (http:\/\/[^\s]+)$/m);
      assert.ok(m, s.stdout);
      const r = await httpRequest(m[1]);
      assert.equal(r.status, 200, describeResponse(r));
      const fams = parse(r.text);
      assert.equal(value(fams, 'jotd_metrics_enabled', 'jotd_metrics_enabled'), 1);
      assert.equal((await httpRequest(m[1].replace('/metrics', '/verify'))).status, 404);
      assert.equal((await httpRequest(m[1].replace('/metrics', '/token'), { method: 'POST', body: 'x' })).status, 404);
      // the main listener still wants a token
      assert.equal((await s.get('/metrics')).status, 401);
      await s.stop();
    } finally {
      s.kill();
    }
    const off = await start({ args: ['--metrics', 'off', '--metrics-listen', '127.0.0.1:0'] });
    try {
      const m = off.stdout.match(/^jotd metrics on (http:\/\/[^\s]+)$/m);
      assert.equal((await off.get('/metrics')).status, 404);
      assert.equal((await httpRequest(m[1])).status, 404);
      off.addUser('carol', PW);
      await off.login('carol', PW);
      await off.stop();
    } finally {
      off.kill();
    }
  });
});
