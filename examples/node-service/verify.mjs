// Verifying jotd's access tokens in a Node.js service, with the npm package `jose` and
// Node's own zlib: the signature against jotd's JWKS (fetched and cached by jose), the
// issuer, the audience, the type (RFC 9068: at+jwt), and the token's entry in jotd's Token
// Status List (revoked sessions). docs/verifying.md explains each step;
// tests/e2e/jotd_examples.test.mjs runs this file against a real jotd.
import * as jose from 'jose';
import zlib from 'node:zlib';

const MAX_LIST_BYTES = 1 << 20; // a list of 2^20 one-bit entries: 128 KiB inflated
const STALE_SECONDS = 300; // use a list past its ttl at most this long when jotd cannot be reached

export function makeVerifier({ issuer, audience }) {
  const base = issuer.replace(/\/+$/, '');
  // fetched on first use, cached, refetched for an unknown kid at most every 30 s
  const jwks = jose.createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  const lists = new Map(); // uri -> { bits, fetchedAt, ttl }

  async function statusList(uri) {
    const now = Date.now() / 1000;
    const have = lists.get(uri);
    if (have && now < have.fetchedAt + have.ttl) return have.bits;
    try {
      const res = await fetch(uri, { redirect: 'error', signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`status list: HTTP ${res.status}`);
      const jwt = await res.text();
      if (jwt.length > 2 * MAX_LIST_BYTES) throw new Error('status list: too large');
      // the list is a JWT signed by jotd's keys too; its sub names the list
      const { payload } = await jose.jwtVerify(jwt, jwks, { issuer: base, typ: 'statuslist+jwt', subject: uri });
      const sl = payload.status_list;
      if (!sl || sl.bits !== 1 || typeof sl.lst !== 'string') throw new Error('status list: unexpected format');
      const bits = zlib.inflateSync(Buffer.from(sl.lst, 'base64url'), { maxOutputLength: MAX_LIST_BYTES });
      lists.set(uri, { bits, fetchedAt: now, ttl: Number(payload.ttl) || 30 });
      return bits;
    } catch (e) {
      // fail closed once the cached list is too old
      if (have && now < have.fetchedAt + have.ttl + STALE_SECONDS) return have.bits;
      throw e;
    }
  }

  /** The verified claims of \p token, or an exception (invalid, expired, revoked...). */
  return async function verify(token) {
    const { payload } = await jose.jwtVerify(token, jwks, { issuer: base, audience, typ: 'at+jwt' });
    const ref = payload.status?.status_list;
    if (!ref || !Number.isSafeInteger(ref.idx) || ref.idx < 0 || typeof ref.uri !== 'string' || !ref.uri.startsWith(`${base}/statuslists/`)) {
      throw new Error('token has no usable status reference');
    }
    const bits = await statusList(ref.uri);
    const byte = ref.idx >> 3;
    if (byte >= bits.length) throw new Error('status index beyond the list');
    if ((bits[byte] >> (ref.idx & 7)) & 1) throw new Error('token revoked');
    return payload;
  };
}
