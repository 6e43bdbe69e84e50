// client_credentials issuance rate of jotd: a client-secret client (HTTP Basic) and a
// private_key_jwt client (a fresh ES256 assertion per request, signed by jose beforehand so
// that the client's signing is not timed). Usage, from tests/e2e (for its node_modules):
//   JOT_BIN=../../build/bin node ../../bench/server/s2s_issuance.mjs [seconds] [concurrency]
// Prints requests per second for each; compare with `openssl speed -seconds 3 ecdsap256`
// (the raw verification rate of one assertion's algorithm).
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Jotd, ISSUER, jose } from '../../tests/e2e/lib/jotd.mjs';

const SECONDS = Number(process.argv[2] ?? 5);
const CONC = Number(process.argv[3] ?? 8);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

// JOTD_ARGS: more server options (e.g. "--durability normal")
const extra = (process.env.JOTD_ARGS ?? '').split(' ').filter(Boolean);
const srv = await Jotd.start({ args: ['--throttle-account-failures', '100000', '--throttle-ip-failures', '100000', ...extra] });
try {
  let r = srv.cmd(['client', 'add', 'bench-secret', '--secret-stdin', '--resource', 'https://api.bench'], { input: SECRET + '\n' });
  if (r.status !== 0) throw new Error(r.stderr);
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-bench-'));
  const file = path.join(dir, 'jwks.json');
  fs.writeFileSync(file, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
  r = srv.cmd(['client', 'add', 'bench-pk', '--jwks', file, '--resource', 'https://api.bench']);
  if (r.status !== 0) throw new Error(r.stderr);

  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const url = new URL('/token', srv.base);
  const post = (body, headers = {}) =>
    new Promise((ok, fail) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode));
      });
      req.on('error', fail);
      req.end(body);
    });

  async function run(name, next) {
    const end = Date.now() + SECONDS * 1000;
    let ok = 0, bad = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONC }, async () => {
        while (Date.now() < end) {
          const [body, headers] = next();
          (await post(body, headers)) === 200 ? ok++ : bad++;
        }
      }),
    );
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`${name.padEnd(34)} ${(ok / secs).toFixed(0).padStart(6)} tokens/s  (${ok} in ${secs.toFixed(1)} s, ${bad} refused, concurrency ${CONC})`);
  }

  const basic = 'Basic ' + Buffer.from(`bench-secret:${SECRET}`).toString('base64');
  await run('client_secret_basic', () => ['grant_type=client_credentials', { authorization: basic }]);

  // assertions signed before the clock starts: as many as the secret run reached, times 2
  const pool = [];
  const want = 40000;
  for (let i = 0; i < want; i++)
    pool.push(
      await new jose.SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer('bench-pk').setSubject('bench-pk').setAudience(`${ISSUER}/token`)
        .setExpirationTime('5m').sign(privateKey),
    );
  let i = 0;
  await run('private_key_jwt (ES256 assertion)', () => {
    if (i >= pool.length) throw new Error('assertion pool exhausted: raise want');
    return [`grant_type=client_credentials&client_assertion_type=${encodeURIComponent('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')}&client_assertion=${pool[i++]}`, {}];
  });
  fs.rmSync(dir, { recursive: true, force: true });
  agent.destroy();
} finally {
  await srv.stop();
}
