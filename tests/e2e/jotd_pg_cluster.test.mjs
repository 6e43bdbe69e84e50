// Three jotd instances (A, B, C) on one PostgreSQL database with nginx in front (round-robin,
// tests/e2e/lib/nginx.mjs) behave as one server (issue 12): a session's reuse, a revoked
// access token, a disabled user, a login throttle and the signing keys are the same on every
// instance, whichever one a request reaches. Run as e2e.pg.jotd_pg_cluster (JOTD_TEST_STORE);
// skipped loudly (exit 77) without PostgreSQL or without nginx.
//
// Each instance has its own --data directory, as on separate machines: they share only
// --store (A's database) and the key-encryption-key file, which A generates at its first
// start (DATA/key-encryption-key, mode 0600) and B, C and the operator commands are given
// with --key-encryption-key.
//
// Lags (revocation seen by the other instances, a JWKS change) are printed as
// "# ... lag N ms"; deadlines are generous and nothing is asserted about speed.
//
// Clusters, each of 3 jotd + 1 nginx, started in before() and always stopped in after():
//   R  revocation, reuse, disable, 20 parallel refreshes with --refresh-grace 0, and the
//      login throttle (--throttle-account-failures 3) counted over all instances;
//   G  20 parallel refreshes with --refresh-grace 30;
//   K  signing keys: --jwks-max-age 1s --key-lead-time 2s; `jotd keys rotate` and `jotd keys
//      revoke` from an operator command, a SIGKILLed instance during a rotation's lead time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Jotd,
  PG_ADMIN_URI,
  bearer,
  describeResponse,
  jose,
  jwtPart,
  rmTmp,
  show,
  sleep,
  sleepUntil,
} from './lib/jotd.mjs';
import { Nginx, requireNginx } from './lib/nginx.mjs';

if (!PG_ADMIN_URI) {
  const msg = 'SKIP: jotd_pg_cluster: JOTD_TEST_STORE is not set (CTest e2e.pg.jotd_pg_cluster sets it)';
  console.log(msg);
  process.stderr.write(msg + '\n');
  process.exit(77);
}
requireNginx('jotd_pg_cluster');

const PW = 'cluster-tests-password';
const DEADLINE_MS = 15_000;
const NAMES = ['A', 'B', 'C'];
// every instance: events polled every second besides LISTEN, and nginx's X-Forwarded-For
// believed (per-IP throttling sees the client)
const COMMON = ['--events-poll-interval', '1s', '--trusted-proxy', '127.0.0.1/32'];

/** Wait until \p cond() holds; prints and returns the milliseconds since \p t0. */
async function lag(what, t0, cond) {
  for (;;) {
    if (await cond()) {
      const ms = Date.now() - t0;
      console.log(`# ${what} lag ${ms} ms`);
      return ms;
    }
    if (Date.now() - t0 > DEADLINE_MS) assert.fail(`${what}: not within ${DEADLINE_MS} ms`);
    await sleep(5);
  }
}

const verify = (s, tok) => s.get('/verify', { authorization: bearer(tok) });
const refused = (s, ...toks) => async () => {
  for (const t of toks) if ((await verify(s, t)).status !== 401) return false;
  return true;
};
const refreshReq = (s, rt) => s.token({ grant_type: 'refresh_token', refresh_token: rt });
const loginReq = (s, user, password = PW) => s.token({ grant_type: 'password', username: user, password });

/** The served JWKS of \p s: { text (the exact bytes), json, kids }. */
async function jwksOf(s) {
  const r = await s.get('/.well-known/jwks.json');
  assert.equal(r.status, 200, describeResponse(r));
  return { text: r.text, json: r.json, kids: r.json.keys.map((k) => k.kid), cacheControl: r.headers.get('cache-control') };
}

/** How the answers \p rs spread over the instances (X-Upstream added by nginx): "A=7 B=7 C=6". */
function spread(cl, rs) {
  const n = new Map();
  for (const r of rs) {
    const name = cl.nameOf(r.upstream);
    n.set(name, (n.get(name) ?? 0) + 1);
  }
  return [...n.entries()].sort().map(([k, v]) => `${k}=${v}`).join(' ');
}

class Cluster {
  /** Three jotd (A first: it makes the store's schema, admin user, keys and the KEK file)
   *  and nginx over them. \p args: the flags of every instance. */
  static async start(args) {
    const cl = new Cluster();
    cl.args = [...COMMON, ...args];
    cl.nodes = [];
    try {
      const a = await Jotd.start({ args: cl.args });
      cl.nodes.push(a);
      cl.kek = path.join(a.data, 'key-encryption-key');
      const st = fs.statSync(cl.kek);
      assert.equal(st.mode & 0o777, 0o600, 'the generated KEK file is 0600');
      assert.match(fs.readFileSync(cl.kek, 'utf8'), /^[A-Za-z0-9_-]{43}\n?$/, 'KEK: 32 bytes, base64url');
      for (let i = 1; i < 3; i++) cl.nodes.push(await cl._startNode());
      cl.lb = await Nginx.start(cl.nodes.map((n) => n.base));
    } catch (e) {
      await cl.stop().catch(() => {});
      throw e;
    }
    return cl;
  }

  /** The flag that names the shared key-encryption key. */
  kekArgs() {
    return ['--key-encryption-key', this.kek];
  }

  /** Start B or C on \p data or a new data directory of its own, with A's store and the
   *  KEK file. */
  _startNode(data) {
    return Jotd.start({ args: [...this.args, ...this.kekArgs()], data, store: this.nodes[0].store });
  }

  get a() {
    return this.nodes[0];
  }

  nameOf(hostPort) {
    const i = this.nodes.findIndex((n) => new URL(n.base).host === hostPort);
    return i < 0 ? `?${hostPort}` : NAMES[i];
  }

  /** An operator command against the shared store (run with A's --data and --store; `keys`
   *  commands with the KEK file, as documented for them). */
  op(args, opts) {
    const kek = args[0] === 'keys' ? this.kekArgs() : [];
    return this.a.cmd([...args, ...kek], opts);
  }

  /** SIGKILL instance \p i and start it again on the same data directory (and store). */
  async killAndRestart(i) {
    const old = this.nodes[i];
    old.signal('SIGKILL');
    await old.waitExit(); // keeps the event loop alive meanwhile (the process is unref'd)
    // the same own directory; removed at the end (old owned it)
    const fresh = await this._startNode(old.data);
    this.orphans = [...(this.orphans ?? []), old.data];
    this.nodes[i] = fresh;
    return fresh;
  }

  /** Stop nginx first (no request in flight to a stopping jotd), then C, B, A (A's database
   *  is dropped with A's data directory). Never leaves anything running. */
  async stop() {
    await this.lb?.stop();
    const errs = [];
    for (const n of [...this.nodes].reverse()) {
      try {
        await n.stop();
      } catch (e) {
        errs.push(e);
      }
    }
    for (const d of this.orphans ?? []) rmTmp(d);
    if (errs.length) throw errs[0];
  }
}

// ---- R: revocations, reuse, disable, parallel refreshes, throttling ------------------------

describe('cluster R: one session state behind nginx', () => {
  let cl;
  before(async () => {
    // the account throttle low for its test; the per-IP one out of the way of the 19
    // refused refreshes below
    cl = await Cluster.start(['--throttle-account-failures', '3', '--throttle-ip-failures', '1000']);
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) cl.a.addUser(u, PW);
  });
  after(async () => {
    await cl?.stop();
  });

  test('login on A, refresh on B, the old refresh token replayed on C: the session ends everywhere', async () => {
    const [a, b, c] = cl.nodes;
    const l = await a.login('alice', PW);
    const r1 = await b.refresh(l.refresh_token);
    for (const s of cl.nodes) {
      assert.equal((await verify(s, l.access_token)).status, 200, 'every instance accepts the first access token');
      assert.equal((await verify(s, r1.access_token)).status, 200, 'and the refreshed one');
    }
    const replay = await refreshReq(c, l.refresh_token);
    const t0 = Date.now();
    assert.equal(replay.status, 400, describeResponse(replay));
    assert.equal(replay.json?.error, 'invalid_grant');
    await c.waitLog((x) => x.event === 'refresh_reuse_detected');
    for (const [i, s] of cl.nodes.entries()) {
      const r = await refreshReq(s, r1.refresh_token);
      assert.equal(r.status, 400, `${NAMES[i]}: the newest refresh token is dead: ${describeResponse(r)}`);
      assert.equal(r.json?.error, 'invalid_grant');
    }
    for (const [i, s] of cl.nodes.entries())
      await lag(`reuse on C: ${NAMES[i]} /verify refuses both access tokens`, t0, refused(s, l.access_token, r1.access_token));
  });

  test('/revoke of an access token on A: B and C refuse it', async () => {
    const [a, b, c] = cl.nodes;
    const l = await b.login('alice', PW);
    for (const s of cl.nodes) assert.equal((await verify(s, l.access_token)).status, 200);
    const r = await a.post('/revoke', { token: l.access_token, token_type_hint: 'access_token' });
    const t0 = Date.now();
    assert.equal(r.status, 200, describeResponse(r));
    assert.equal((await verify(a, l.access_token)).status, 401, 'A at once');
    await lag('revoke on A: B /verify', t0, refused(b, l.access_token));
    await lag('revoke on A: C /verify', t0, refused(c, l.access_token));
  });

  test('jotd user disable (operator command): login, refresh and /verify refused on every instance', async () => {
    const ls = [];
    for (const s of cl.nodes) ls.push(await s.login('bob', PW));
    for (const s of cl.nodes) for (const l of ls) assert.equal((await verify(s, l.access_token)).status, 200);
    const r = cl.op(['user', 'disable', 'bob']);
    const t0 = Date.now();
    assert.equal(r.status, 0, show(r));
    const tokens = ls.map((l) => l.access_token);
    for (const [i, s] of cl.nodes.entries()) await lag(`user disable: ${NAMES[i]} /verify`, t0, refused(s, ...tokens));
    for (const [i, s] of cl.nodes.entries()) {
      const li = await loginReq(s, 'bob');
      assert.equal(li.status, 400, `${NAMES[i]}: login of a disabled user: ${describeResponse(li)}`);
      assert.equal(li.json?.error, 'invalid_grant');
      // each instance refreshes the session another one started
      const rf = await refreshReq(s, ls[(i + 1) % 3].refresh_token);
      assert.equal(rf.status, 400, `${NAMES[i]}: refresh of a disabled user: ${describeResponse(rf)}`);
      assert.equal(rf.json?.error, 'invalid_grant');
    }
  });

  test('20 parallel refreshes of one token through nginx, --refresh-grace 0: one 200, then the session is revoked', async () => {
    const l = await cl.a.login('carol', PW);
    const rs = await Promise.all(Array.from({ length: 20 }, () => refreshReq(cl.lb, l.refresh_token)));
    const t0 = Date.now();
    const by = spread(cl, rs);
    console.log(`# grace 0: 20 parallel refreshes answered by ${by}; statuses ${rs.map((r) => r.status).join(' ')}`);
    assert.ok(new Set(rs.map((r) => r.upstream)).size >= 2, `round-robin: at least two instances answered (${by})`);
    const ok = rs.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, `exactly one 200: ${rs.map((r) => r.status).join(' ')}`);
    for (const r of rs.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 400, describeResponse(r));
      assert.equal(r.json?.error, 'invalid_grant');
    }
    const won = ok[0].json;
    for (const [i, s] of cl.nodes.entries()) {
      const r = await refreshReq(s, won.refresh_token);
      assert.equal(r.status, 400, `${NAMES[i]}: the successor is dead (session revoked by the reuse): ${describeResponse(r)}`);
    }
    for (const [i, s] of cl.nodes.entries())
      await lag(`parallel refreshes (grace 0): ${NAMES[i]} /verify refuses the winner's access token`, t0, refused(s, won.access_token, l.access_token));
  });

  test('--throttle-account-failures 3 counted over all instances: the 4th attempt, anywhere, is 429', async () => {
    const rs = [];
    for (let i = 0; i < 3; i++) {
      const r = await loginReq(cl.lb, 'dave', 'wrong-password-' + i);
      rs.push(r);
      assert.equal(r.status, 400, `failure ${i + 1}: ${describeResponse(r)}`);
    }
    console.log(`# 3 failed logins answered by ${spread(cl, rs)}`);
    assert.ok(new Set(rs.map((r) => r.upstream)).size >= 2, 'the failures spread over instances');
    const fourth = await loginReq(cl.lb, 'dave', 'wrong-password-3');
    console.log(`# the 4th attempt answered by ${cl.nameOf(fourth.upstream)}: ${fourth.status}`);
    assert.equal(fourth.status, 429, describeResponse(fourth));
    assert.match(fourth.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/, 'Retry-After in seconds');
    // every instance, even with the right password: the account is locked everywhere
    for (const [i, s] of cl.nodes.entries()) {
      const r = await loginReq(s, 'dave', PW);
      assert.equal(r.status, 429, `${NAMES[i]}: ${describeResponse(r)}`);
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    }
    // another account is not affected
    const e = await loginReq(cl.lb, 'erin', PW);
    assert.equal(e.status, 200, describeResponse(e));
  });
});

// ---- G: the refresh grace window across instances ------------------------------------------

describe('cluster G: --refresh-grace 30', () => {
  let cl;
  before(async () => {
    cl = await Cluster.start(['--refresh-grace', '30s']);
    cl.a.addUser('alice', PW);
  });
  after(async () => {
    await cl?.stop();
  });

  test('20 parallel refreshes of one token through nginx: every 200 carries the same successor, no reuse', async () => {
    const l = await cl.a.login('alice', PW);
    const rs = await Promise.all(Array.from({ length: 20 }, () => refreshReq(cl.lb, l.refresh_token)));
    const by = spread(cl, rs);
    console.log(`# grace 30: 20 parallel refreshes answered by ${by}; statuses ${rs.map((r) => r.status).join(' ')}`);
    assert.ok(new Set(rs.map((r) => r.upstream)).size >= 2, `round-robin: at least two instances answered (${by})`);
    const ok = rs.filter((r) => r.status === 200);
    assert.equal(ok.length, 20, `every refresh within the grace window succeeds: ${rs.map((r) => describeResponse(r)).join('\n')}`);
    const successors = new Set(ok.map((r) => r.json.refresh_token));
    assert.equal(successors.size, 1, 'one successor, whichever instance answered');
    for (const s of cl.nodes) assert.ok(!s.logs().some((x) => x.event === 'refresh_reuse_detected'), 'no reuse detected');
    // the session lives: its access tokens are good everywhere, the successor rotates
    for (const s of cl.nodes) for (const r of ok.slice(0, 3)) assert.equal((await verify(s, r.json.access_token)).status, 200);
    const next = await cl.nodes[2].refresh([...successors][0]);
    for (const s of cl.nodes) assert.equal((await verify(s, next.access_token)).status, 200);
  });
});

// ---- K: signing keys shared through the store ----------------------------------------------

const ROTATED = /^new signing key (\S+) \((\S+)\) published; it signs from (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(in (\d+) s\)$/m;
const REPLACED = /^new signing key (\S+) \((\S+)\) signs now$/m;

describe('cluster K: signing keys, --jwks-max-age 1s --key-lead-time 2s', () => {
  let cl;
  before(async () => {
    cl = await Cluster.start(['--jwks-max-age', '1s', '--key-lead-time', '2s']);
    cl.a.addUser('alice', PW);
  });
  after(async () => {
    await cl?.stop();
  });

  /** The JWKS of every instance, once each holds \p kid (present: true) or not (false). */
  async function jwksEverywhere(what, t0, kid, present = true) {
    for (const [i, s] of cl.nodes.entries())
      await lag(`${what}: ${NAMES[i]} JWKS`, t0, async () => (await jwksOf(s)).kids.includes(kid) === present);
    return Promise.all(cl.nodes.map(jwksOf));
  }

  /** The served JWKS of every instance identical, byte for byte; returns it. */
  async function sameJwks() {
    const js = await Promise.all(cl.nodes.map(jwksOf));
    for (const [i, j] of js.entries()) assert.equal(j.text, js[0].text, `${NAMES[i]}'s JWKS is A's`);
    return js[0];
  }

  /** Login on every instance: [{ kid, access_token, refresh_token, startMs, endMs }]. */
  async function loginEverywhere() {
    const out = [];
    for (const s of cl.nodes) {
      const startMs = Date.now();
      const r = await loginReq(s, 'alice');
      const endMs = Date.now();
      assert.equal(r.status, 200, describeResponse(r));
      out.push({ ...r.json, kid: jwtPart(r.json.access_token, 0).kid, startMs, endMs });
    }
    return out;
  }

  /** Every token verifies on every instance (/verify) and with jose over each served JWKS. */
  async function verifiesEverywhere(tokens) {
    for (const [i, s] of cl.nodes.entries()) {
      const local = jose.createLocalJWKSet((await jwksOf(s)).json);
      for (const t of tokens) {
        assert.equal((await verify(s, t)).status, 200, `${NAMES[i]} /verify`);
        await s.verifyAccess(t, { jwks: local });
      }
    }
  }

  function rotate() {
    const r = cl.op(['keys', 'rotate', '--key-lead-time', '2s', '--jwks-max-age', '1s']);
    assert.equal(r.status, 0, show(r));
    const m = r.stdout.match(ROTATED);
    assert.ok(m, `keys rotate prints the new key and its activation: ${show(r)}`);
    return { kid: m[1], alg: m[2], activation: Date.parse(m[3]), inSeconds: Number(m[4]) };
  }

  test('keys rotate from an operator command: one JWKS everywhere, the new kid signs from the printed time on every instance', async () => {
    const j0 = await sameJwks();
    assert.match(j0.cacheControl ?? '', /max-age=1\b/, '--jwks-max-age 1s');
    const before0 = await loginEverywhere();
    const oldKid = before0[0].kid;
    for (const t of before0) assert.equal(t.kid, oldKid, 'one signing key on every instance');

    const t0 = Date.now();
    const rot = rotate();
    console.log(`# rotated: ${rot.kid} (${rot.alg}) signs from ${new Date(rot.activation).toISOString()} (in ${rot.inSeconds} s)`);
    assert.notEqual(rot.kid, oldKid);
    await jwksEverywhere('keys rotate: new kid published', t0, rot.kid);
    const j1 = await sameJwks();
    const kids1 = JSON.parse(j1.text).keys.map((k) => k.kid);
    assert.ok(kids1.includes(oldKid) && kids1.includes(rot.kid), `both kids in the JWKS: ${kids1}`);

    const early = await loginEverywhere();
    for (const [i, t] of early.entries()) {
      // a token whose request ended before the activation second carries the old kid
      if (t.endMs < rot.activation) assert.equal(t.kid, oldKid, `${NAMES[i]} before the activation time`);
      else console.log(`# ${NAMES[i]}: login ended ${t.endMs - rot.activation} ms after the activation (kid not checked)`);
    }
    await sleepUntil(rot.activation + 100);
    const late = await loginEverywhere();
    for (const [i, t] of late.entries()) assert.equal(t.kid, rot.kid, `${NAMES[i]} after the activation time`);
    await verifiesEverywhere([...before0, ...early, ...late].map((t) => t.access_token));
    const j2 = await sameJwks();
    assert.ok(JSON.parse(j2.text).keys.some((k) => k.kid === oldKid), 'the old key stays while its tokens live');
  });

  test('keys revoke of the active key: gone from every JWKS, its tokens refused everywhere, a new kid signs', async () => {
    const ts = await loginEverywhere();
    const kid = ts[0].kid;
    for (const t of ts) assert.equal(t.kid, kid);
    const t0 = Date.now();
    const r = cl.op(['keys', 'revoke', kid]);
    assert.equal(r.status, 0, show(r));
    const m = r.stdout.match(REPLACED);
    assert.ok(m, `the signing key was revoked: a second line names its replacement: ${show(r)}`);
    const newKid = m[1];
    assert.notEqual(newKid, kid);
    await jwksEverywhere('keys revoke: kid gone', t0, kid, false);
    await sameJwks();
    for (const [i, s] of cl.nodes.entries())
      await lag(`keys revoke: ${NAMES[i]} /verify refuses its tokens`, t0, refused(s, ...ts.map((t) => t.access_token)));
    // the new key signs at once, on every instance (its event may take a moment to arrive)
    for (const [i, s] of cl.nodes.entries())
      await lag(`keys revoke: ${NAMES[i]} signs with ${newKid}`, t0, async () => {
        const l = await loginReq(s, 'alice');
        assert.equal(l.status, 200, describeResponse(l));
        return jwtPart(l.json.access_token, 0).kid === newKid;
      });
    const fresh = await loginEverywhere();
    for (const t of fresh) assert.equal(t.kid, newKid);
    await verifiesEverywhere(fresh.map((t) => t.access_token));
  });

  test('an instance SIGKILLed during a rotation\'s lead time comes back with the same JWKS and switches at the same time', async () => {
    const l = await cl.nodes[1].login('alice', PW);
    const lc = await cl.nodes[2].login('alice', PW); // a session started on the victim
    const oldKid = l.header.kid;
    const rot = rotate();
    cl.lb.kill(); // nginx's upstream list names the old C: no load balancer from here on
    const c = await cl.killAndRestart(2);
    const backMs = Date.now();
    console.log(`# C restarted ${rot.activation - backMs} ms before the activation time`);
    await jwksEverywhere('restarted C: rotated key published', backMs, rot.kid);
    await sameJwks();
    if (Date.now() < rot.activation - 300) {
      const t = await c.login('alice', PW);
      assert.equal(t.header.kid, oldKid, 'the restarted C signs with the old key until the activation');
    }
    await sleepUntil(rot.activation + 100);
    const late = await loginEverywhere();
    for (const [i, t] of late.entries()) assert.equal(t.kid, rot.kid, `${NAMES[i]} after the activation time`);
    // nothing lost: the sessions started before the kill (on B, and on C itself) refresh, on
    // the restarted C and on A
    const r = await c.refresh(l.refresh_token);
    const rc = await cl.nodes[0].refresh(lc.refresh_token);
    await verifiesEverywhere([l.access_token, lc.access_token, r.access_token, rc.access_token, ...late.map((t) => t.access_token)]);
  });
});
