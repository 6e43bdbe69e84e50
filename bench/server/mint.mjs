// Mint many distinct access tokens for the "a different token on every request" scenario of
// bench/server/run.sh: each has the header and claims of TEMPLATE (a token jotd issued), a
// new jti, iat = now and exp = now + TTL, and is signed with jotd's own signing key (the
// private JWK in DATA/keys/<kid>.jwk), so /verify accepts every one of them.
//
//   node bench/server/mint.mjs KEYFILE TEMPLATE_TOKEN COUNT TTL_SECONDS > tokens.txt
//
// jose comes from the pinned tests/e2e/node_modules (scripts/install-deps).
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/e2e/package.json'));
const jose = require('jose');

const [keyFile, template, countArg, ttlArg] = process.argv.slice(2);
const count = Number(countArg);
const ttl = Number(ttlArg);
if (!keyFile || !template || !(count > 0) || !(ttl > 0)) {
  console.error('usage: mint.mjs KEYFILE TEMPLATE_TOKEN COUNT TTL_SECONDS');
  process.exit(2);
}
const part = (i) => JSON.parse(Buffer.from(template.split('.')[i], 'base64url').toString('utf8'));
const header = part(0);
const claims = part(1);
const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
const key = await jose.importJWK(jwk, header.alg);
const now = Math.floor(Date.now() / 1000);
const out = fs.createWriteStream(null, { fd: 1 });
const batch = [];
for (let i = 0; i < count; i++) {
  const c = { ...claims, iat: now, exp: now + ttl, jti: randomBytes(16).toString('base64url') };
  batch.push(new jose.SignJWT(c).setProtectedHeader(header).sign(key));
  if (batch.length === 1000 || i === count - 1) {
    out.write((await Promise.all(batch)).join('\n') + '\n');
    batch.length = 0;
  }
}
out.end();
