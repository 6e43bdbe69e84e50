// Helpers for the jot(1) end-to-end tests: run the binary, make temporary files, build
// tokens byte by byte with node:crypto.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const JOT_BIN = path.resolve(process.env.JOT_BIN ?? '../../build/bin');
export const JOT = path.join(JOT_BIN, 'jot');
export const SOURCE_DIR = path.resolve(process.env.JOT_SOURCE_DIR ?? '../..');
export const VECTORS = path.resolve(process.env.JOT_VECTORS ?? path.join(SOURCE_DIR, '../shared/vectors'));

/** Run jot with \p args; \p input goes to stdin. Returns { status, stdout, stderr }. */
export function jot(args, { input, env } = {}) {
  const r = spawnSync(JOT, args, {
    input: input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...(env ?? {}) },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Describe a result for assertion messages. */
export function show(r) {
  return `status=${r.status} signal=${r.signal}\nstdout=${JSON.stringify(r.stdout)}\nstderr=${JSON.stringify(r.stderr)}`;
}

/** Assert success and return stdout without its final newline. */
export function ok(r) {
  assert.equal(r.status, 0, show(r));
  assert.equal(r.stderr, '', show(r));
  assert.ok(r.stdout.endsWith('\n'), `output ends with a newline\n${show(r)}`);
  return r.stdout.slice(0, -1);
}

/** Assert exit status \p status with a single `jot: ` line on stderr matching \p reason. */
export function fails(r, status, reason) {
  assert.equal(r.status, status, show(r));
  assert.match(r.stderr, /^jot: [^\n]+\n$/, `one "jot: <reason>" line on stderr\n${show(r)}`);
  if (reason) assert.match(r.stderr, reason, show(r));
  if (status !== 0) assert.equal(r.stdout, '', `nothing on stdout\n${show(r)}`);
}

/** A token verification that must be rejected (exit 1) for \p reason. */
export function rejected(r, reason) {
  fails(r, 1, reason);
}

/** A usage error (exit 2). */
export function usage(r, reason) {
  fails(r, 2, reason);
}

/** A temporary directory removed by cleanup(); write() creates files in it. */
export class TmpDir {
  constructor(prefix = 'jot-e2e-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.n = 0;
  }
  path(name) {
    return path.join(this.dir, name ?? `f${++this.n}`);
  }
  write(name, content, mode = 0o600) {
    const p = this.path(name);
    fs.writeFileSync(p, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content), { mode });
    return p;
  }
  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- base64url and token crafting -------------------------------------------------------

export const b64u = (buf) => Buffer.from(buf).toString('base64url');
export const b64uJson = (obj) => b64u(typeof obj === 'string' ? obj : JSON.stringify(obj));
export const unb64u = (s) => Buffer.from(s, 'base64url');

/** Decode the JSON of a token segment. */
export function part(token, i) {
  return JSON.parse(unb64u(token.split('.')[i]).toString('utf8'));
}

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };

/** Sign \p input (string) for JWS \p alg with a node KeyObject or an HMAC secret. */
export function signRaw(alg, key, input) {
  const data = Buffer.from(input, 'utf8'); // the bytes jot receives in argv
  if (alg.startsWith('HS')) return crypto.createHmac(HASH[alg.slice(2)], key).update(data).digest();
  if (alg.startsWith('RS')) return crypto.sign(HASH[alg.slice(2)], data, key);
  if (alg.startsWith('PS'))
    return crypto.sign(HASH[alg.slice(2)], data, {
      key,
      padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  if (alg === 'ES256K' || alg.startsWith('ES'))
    return crypto.sign(alg === 'ES512' ? 'sha512' : alg === 'ES384' ? 'sha384' : 'sha256', data, {
      key,
      dsaEncoding: 'ieee-p1363',
    });
  if (alg === 'EdDSA') return crypto.sign(null, data, key);
  throw new Error(`signRaw: ${alg}`);
}

/** Build "h.p.s" from raw segment texts, signing the exact "h.p" text given. */
export function craft(headerSeg, payloadSeg, alg, key) {
  const input = `${headerSeg}.${payloadSeg}`;
  return `${input}.${b64u(signRaw(alg, key, input))}`;
}

/** Build a token from objects (or raw JSON strings). */
export function token(header, payload, alg, key) {
  return craft(b64uJson(header), b64uJson(payload), alg, key);
}

export const now = () => Math.floor(Date.now() / 1000);

/** Write a JWK (object) to a temporary file and return its path. */
export function writeJwk(tmp, jwk, name) {
  return tmp.write(name, JSON.stringify(jwk));
}
