// Many jotd instances on one PostgreSQL store: the client side of the cluster pass of
// bench/server/run.sh (node built-ins only). Two modes:
//
//   node cluster.mjs lag REVOKER_URL VERIFIER_URL TOKEN_FILE COUNT CONCURRENCY LABEL [JITTER_MS [PAUSE_MS]]
//     Revocation lag between instances. For each of COUNT tokens (one per line of
//     TOKEN_FILE, valid access tokens of a live session): GET /verify on VERIFIER must
//     answer 200 (the token is then in its verified-token cache), then after a random pause
//     of 0..JITTER_MS (default 0) POST /revoke on REVOKER (token_type_hint=access_token) must
//     answer 200, and from that answer on VERIFIER is asked GET /verify back to back
//     (keep-alive; PAUSE_MS between two asks, default 0: none) until it answers 401. The lag
//     is the time from REVOKER's 200 to VERIFIER's first 401. CONCURRENCY tokens are in
//     flight at once (1: one after the other). JITTER_MS matters for a polling verifier:
//     without it every worker revokes right after the tick that answered its previous token,
//     and each lag is then a whole poll interval instead of a uniform phase. Prints one line:
//       LAG label=LABEL count=N errors=E p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. mean_ms=..
//           verify_polls=P seconds=S
//     Exit 1 when a step answered otherwise or a lag passed 10 s (counted in errors).
//
//   node cluster.mjs writer URL TOKEN_FILE INTERVAL_MS
//     Events at a steady rate: POST /revoke of the next token of TOKEN_FILE every INTERVAL_MS
//     (each one an events row and a pg_notify), until SIGTERM or the tokens run out; then
//     prints "WRITER revocations=N failed=F seconds=S rate=R/s" and exits 0.
import http from 'node:http';
import fs from 'node:fs';

const DEADLINE_NS = 10_000_000_000n;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function request(base, method, path, { headers = {}, body } = {}) {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: u.hostname, port: u.port, path: u.pathname, method, headers },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const verify = (base, tok) => request(base, 'GET', '/verify', { headers: { authorization: `Bearer ${tok}` } });
function revoke(base, tok) {
  const body = `token=${encodeURIComponent(tok)}&token_type_hint=access_token`;
  return request(base, 'POST', '/revoke', {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    body,
  });
}

const readTokens = (file) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] : NaN);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function lag(revoker, verifier, file, count, concurrency, label, jitterMs, pauseMs) {
  const tokens = readTokens(file);
  if (tokens.length < count) throw new Error(`${file}: ${tokens.length} tokens, ${count} wanted`);
  const lags = [];
  let errors = 0;
  let polls = 0;
  let next = 0;
  const firstErrors = [];
  const fail = (what) => {
    errors++;
    if (firstErrors.length < 3) firstErrors.push(what);
  };
  async function one(tok) {
    const before = await verify(verifier, tok);
    if (before !== 200) return fail(`verify before revoke: ${before}`);
    if (jitterMs > 0) await sleep(Math.random() * jitterMs);
    const r = await revoke(revoker, tok);
    const t0 = process.hrtime.bigint();
    if (r !== 200) return fail(`revoke: ${r}`);
    for (;;) {
      const s = await verify(verifier, tok);
      polls++;
      const dt = process.hrtime.bigint() - t0;
      if (s === 401) {
        lags.push(Number(dt) / 1e6);
        return;
      }
      if (s !== 200) return fail(`verify after revoke: ${s}`);
      if (dt > DEADLINE_NS) return fail('not refused within 10 s');
      if (pauseMs > 0) await sleep(pauseMs);
    }
  }
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        try {
          await one(tokens[i]);
        } catch (e) {
          fail(String(e.message ?? e));
        }
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  lags.sort((x, y) => x - y);
  const mean = lags.reduce((a, b) => a + b, 0) / (lags.length || 1);
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
  console.log(
    `LAG label=${label} count=${lags.length} errors=${errors} p50_ms=${f(pct(lags, 50))} p90_ms=${f(pct(lags, 90))} ` +
      `p99_ms=${f(pct(lags, 99))} max_ms=${f(lags[lags.length - 1])} mean_ms=${f(mean)} verify_polls=${polls} ` +
      `concurrency=${concurrency} jitter_ms=${jitterMs} pause_ms=${pauseMs} seconds=${secs.toFixed(1)}`,
  );
  if (errors) console.error(`cluster.mjs lag ${label}: ${errors} errors, first: ${firstErrors.join('; ')}`);
  return errors ? 1 : 0;
}

async function writer(url, file, intervalMs) {
  const tokens = readTokens(file);
  let sent = 0;
  let done = 0;
  let failed = 0;
  let stop = false;
  const t = process.hrtime.bigint();
  const finish = () => {
    const secs = Number(process.hrtime.bigint() - t) / 1e9;
    console.log(`WRITER revocations=${done} failed=${failed} seconds=${secs.toFixed(1)} rate=${(done / secs).toFixed(1)}/s`);
    process.exit(0);
  };
  process.on('SIGTERM', () => {
    stop = true;
    finish();
  });
  const timer = setInterval(() => {
    if (stop) return;
    if (sent >= tokens.length) {
      clearInterval(timer);
      console.error('cluster.mjs writer: out of tokens');
      return;
    }
    const tok = tokens[sent++];
    revoke(url, tok).then(
      (s) => (s === 200 ? done++ : failed++),
      () => failed++,
    );
  }, intervalMs);
}

const [mode, ...a] = process.argv.slice(2);
if (mode === 'lag' && a.length >= 6 && a.length <= 8) {
  process.exitCode = await lag(a[0], a[1], a[2], Number(a[3]), Number(a[4]), a[5], Number(a[6] ?? 0), Number(a[7] ?? 0));
  agent.destroy();
} else if (mode === 'writer' && a.length === 3) {
  await writer(a[0], a[1], Number(a[2]));
} else {
  console.error('usage: cluster.mjs lag REVOKER_URL VERIFIER_URL TOKEN_FILE COUNT CONCURRENCY LABEL [JITTER_MS [PAUSE_MS]]\n' +
    '       cluster.mjs writer URL TOKEN_FILE INTERVAL_MS');
  process.exit(2);
}
