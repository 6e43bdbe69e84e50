// jot(1) contract 1: every command and option, exit statuses 0/1/2 and "jot: <reason>" lines.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  jot, ok, fails, rejected, usage, show, TmpDir, part, b64u, unb64u, now, token, craft,
  SOURCE_DIR,
} from './lib/jot.mjs';
import { RFC7519_3_1, RFC7638_3_1 } from './lib/rfc.mjs';

const tmp = new TmpDir();
after(() => tmp.cleanup());

const ALGS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA'];
const COMMANDS = ['keygen', 'pubkey', 'sign', 'verify', 'decode', 'thumbprint'];

/** Generate a key with jot and store it; returns { path, jwk }. */
function keygen(alg, ...extra) {
  const out = ok(jot(['keygen', '--alg', alg, ...extra]));
  const jwk = JSON.parse(out);
  return { path: tmp.write(undefined, out + '\n'), jwk };
}

let es, hs, rs, ed;
before(() => {
  es = keygen('ES256');
  hs = keygen('HS256');
  rs = keygen('RS256');
  ed = keygen('EdDSA');
});

/** Sign with jot and return the token. */
const sign = (key, ...args) => ok(jot(['sign', '--key', key.path, ...args]));
/** Verify with jot. */
const verify = (key, tok, ...args) => jot(['verify', '--key', key.path, ...args, tok]);

// ---- global --------------------------------------------------------------------------------

describe('global', () => {
  test('--help and -h print the usage on stdout and exit 0', () => {
    for (const h of ['--help', '-h', 'help']) {
      const r = jot([h]);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, /^Usage: jot <command>/);
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
      assert.equal(r.stderr, '');
    }
  });

  test('--version prints "jot <JOT_VERSION_STRING>"', () => {
    const out = ok(jot(['--version']));
    const header = fs.readFileSync(path.join(SOURCE_DIR, 'include/jot/jot.h'), 'utf8');
    const v = header.match(/#define JOT_VERSION_STRING "([^"]+)"/)[1];
    assert.equal(out, `jot ${v}`);
    assert.equal(ok(jot(['-V'])), `jot ${v}`);
  });

  test('no command: exit 2 with a one-line hint', () => {
    usage(jot([]), /^jot: missing command \(see 'jot --help'\)\n$/);
  });

  test('unknown command and unknown global option: exit 2 with a hint', () => {
    usage(jot(['frobnicate']), /^jot: unknown command 'frobnicate' \(see 'jot --help'\)\n$/);
    usage(jot(['--frobnicate']), /^jot: unknown option '--frobnicate'.*jot --help/);
  });

  for (const c of COMMANDS) {
    test(`jot ${c} --help / -h / jot help ${c}: usage on stdout, exit 0`, () => {
      for (const args of [[c, '--help'], [c, '-h'], ['help', c]]) {
        const r = jot(args);
        assert.equal(r.status, 0, show(r));
        assert.match(r.stdout, new RegExp(`^Usage: jot ${c}\\b`));
        assert.equal(r.stderr, '');
      }
    });

    test(`jot ${c}: unknown option is exit 2 with a hint to --help`, () => {
      usage(jot([c, '--no-such-option']),
        new RegExp(`^jot: unknown option '--no-such-option' \\(see 'jot ${c} --help'\\)\\n$`));
      usage(jot([c, '-Z']), /unknown option '-Z'/);
    });
  }

  test('an option missing its value is exit 2', () => {
    usage(jot(['keygen', '--alg']), /option '--alg' needs a value.*jot keygen --help/);
    usage(jot(['verify', '--key', es.path, '--alg']), /'--alg' needs a value/);
  });

  test('a flag given a value is exit 2', () => {
    usage(jot(['pubkey', '--jwks=yes', es.path]), /'--jwks' takes no value/);
  });

  test('options that take one value refuse to be repeated', () => {
    usage(jot(['keygen', '--alg', 'ES256', '--alg', 'ES384']), /--alg' given more than once/);
    usage(jot(['sign', '--key', es.path, '--key', es.path]), /--key' given more than once/);
  });

  test('"--" ends the options', () => {
    const t = sign(hs, '--exp', '1h');
    ok(jot(['verify', '--key', hs.path, '--alg', 'HS256', '--', t]));
  });
});

// ---- keygen -------------------------------------------------------------------------------

describe('keygen', () => {
  const EXPECT = {
    HS256: { kty: 'oct', bytes: 32 }, HS384: { kty: 'oct', bytes: 48 }, HS512: { kty: 'oct', bytes: 64 },
    RS256: { kty: 'RSA' }, RS384: { kty: 'RSA' }, RS512: { kty: 'RSA' },
    PS256: { kty: 'RSA' }, PS384: { kty: 'RSA' }, PS512: { kty: 'RSA' },
    ES256: { kty: 'EC', crv: 'P-256' }, ES384: { kty: 'EC', crv: 'P-384' },
    ES512: { kty: 'EC', crv: 'P-521' }, ES256K: { kty: 'EC', crv: 'secp256k1' },
    EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  };
  for (const alg of ALGS) {
    test(`--alg ${alg}: private JWK, alg set, kid = thumbprint`, () => {
      const k = keygen(alg);
      const e = EXPECT[alg];
      assert.equal(k.jwk.kty, e.kty);
      assert.equal(k.jwk.alg, alg);
      if (e.crv) assert.equal(k.jwk.crv, e.crv);
      if (e.kty === 'oct') assert.equal(Buffer.from(k.jwk.k, 'base64url').length, e.bytes);
      else assert.ok(k.jwk.d, 'private part present');
      if (e.kty === 'RSA') {
        assert.equal(Buffer.from(k.jwk.n, 'base64url').length, 256);
        for (const m of ['p', 'q', 'dp', 'dq', 'qi']) assert.ok(k.jwk[m], `RSA ${m}`);
      }
      assert.equal(k.jwk.kid, ok(jot(['thumbprint', k.path])));
    });
  }

  test('two keys differ', () => {
    assert.notEqual(keygen('HS256').jwk.k, keygen('HS256').jwk.k);
    assert.notEqual(keygen('ES256').jwk.d, keygen('ES256').jwk.d);
  });

  test('--crv Ed448 and --crv Ed25519', () => {
    const k = keygen('EdDSA', '--crv', 'Ed448');
    assert.equal(k.jwk.crv, 'Ed448');
    assert.equal(Buffer.from(k.jwk.x, 'base64url').length, 57);
    assert.equal(keygen('EdDSA', '--crv=Ed25519').jwk.crv, 'Ed25519');
  });

  test('--crv is refused for non-EdDSA algorithms and unknown curves', () => {
    usage(jot(['keygen', '--alg', 'ES256', '--crv', 'P-256']), /--crv applies only to EdDSA/);
    usage(jot(['keygen', '--alg', 'EdDSA', '--crv', 'X25519']), /unknown EdDSA curve/);
  });

  test('--kid overrides the thumbprint; --kid "" gives no kid', () => {
    assert.equal(keygen('ES256', '--kid', 'my-key-1').jwk.kid, 'my-key-1');
    assert.equal(keygen('ES256', '--kid=k2').jwk.kid, 'k2');
    assert.equal(keygen('ES256', '--kid', '').jwk.kid, undefined);
  });

  test('--bits for RSA and HMAC', () => {
    const r = keygen('RS256', '--bits', '3072');
    assert.equal(Buffer.from(r.jwk.n, 'base64url').length, 384);
    const h = keygen('HS256', '--bits', '512');
    assert.equal(Buffer.from(h.jwk.k, 'base64url').length, 64);
  });

  test('--bits refuses weak, malformed and inapplicable sizes (exit 2)', () => {
    fails(jot(['keygen', '--alg', 'RS256', '--bits', '1024']), 2, /key too weak|invalid/);
    fails(jot(['keygen', '--alg', 'HS512', '--bits', '256']), 2, /key too weak|invalid/);
    usage(jot(['keygen', '--alg', 'RS256', '--bits', '2k']), /invalid --bits/);
    usage(jot(['keygen', '--alg', 'RS256', '--bits', '-2048']), /invalid --bits/);
    usage(jot(['keygen', '--alg', 'RS256', '--bits', '99999999999999999999999']), /invalid --bits/);
    usage(jot(['keygen', '--alg', 'HS256', '--bits', '260']), /multiple of 8/);
    usage(jot(['keygen', '--alg', 'ES256', '--bits', '256']), /--bits applies only to RSA and HMAC/);
  });

  test('missing, unknown or "none" --alg is exit 2', () => {
    usage(jot(['keygen']), /missing --alg/);
    usage(jot(['keygen', '--alg', 'none']), /none/);
    usage(jot(['keygen', '--alg', 'HS999']), /unknown algorithm 'HS999'/);
    usage(jot(['keygen', '--alg', 'es256']), /unknown algorithm/);
    usage(jot(['keygen', '--alg', 'ES256', 'extra']), /unexpected argument 'extra'/);
  });

  test('-o FILE: mode 0600, content is the JWK, nothing on stdout', () => {
    const f = tmp.path('out-key.jwk');
    const r = jot(['keygen', '--alg', 'ES256', '-o', f]);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    const text = fs.readFileSync(f, 'utf8');
    assert.ok(text.endsWith('}\n'));
    const jwk = JSON.parse(text);
    assert.equal(jwk.crv, 'P-256');
    assert.ok(jwk.d);
  });

  test('-o is exactly 0600 whatever the umask, and --out=FILE works', () => {
    for (const [mask, name] of [[0o000, 'umask-000.jwk'], [0o277, 'umask-277.jwk']]) {
      const f = tmp.path(name);
      const old = process.umask(mask);
      let r;
      try {
        r = jot(['keygen', '--alg', 'HS256', `--out=${f}`]);
      } finally {
        process.umask(old);
      }
      assert.equal(r.status, 0, show(r));
      assert.equal(fs.statSync(f).mode & 0o777, 0o600, name);
    }
  });

  test('-o never overwrites an existing file (exit 2, file unchanged)', () => {
    const f = tmp.write('existing.jwk', 'precious\n', 0o644);
    usage(jot(['keygen', '--alg', 'ES256', '-o', f]), /file exists/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'precious\n');
    assert.equal(fs.statSync(f).mode & 0o777, 0o644);
  });

  test('-o does not follow a symbolic link', () => {
    const target = tmp.path('link-target');
    const link = tmp.path('link.jwk');
    fs.symlinkSync(target, link);
    fails(jot(['keygen', '--alg', 'ES256', '-o', link]), 2);
    assert.equal(fs.existsSync(target), false);
  });

  test('-o into a missing directory is exit 2', () => {
    fails(jot(['keygen', '--alg', 'ES256', '-o', tmp.path('no/such/dir.jwk')]), 2, /No such file/);
  });
});

// ---- pubkey -------------------------------------------------------------------------------

describe('pubkey', () => {
  const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

  test('public JWK of a private EC, RSA and OKP key', () => {
    for (const k of [es, rs, ed]) {
      const pub = JSON.parse(ok(jot(['pubkey', k.path])));
      for (const m of PRIVATE_MEMBERS) assert.equal(pub[m], undefined, m);
      assert.equal(pub.kty, k.jwk.kty);
      assert.equal(pub.kid, k.jwk.kid);
      assert.equal(pub.alg, k.jwk.alg);
      if (pub.kty === 'RSA') assert.deepEqual([pub.n, pub.e], [k.jwk.n, k.jwk.e]);
      else assert.equal(pub.x, k.jwk.x);
    }
  });

  test('several files: one JWK per line, in order', () => {
    const lines = ok(jot(['pubkey', es.path, rs.path, ed.path])).split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => JSON.parse(l).kid), [es.jwk.kid, rs.jwk.kid, ed.jwk.kid]);
  });

  test('PEM input (PKCS#8 private key) and stdin "-"', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const f = tmp.write('p256.pem', pem);
    const want = publicKey.export({ format: 'jwk' });
    for (const r of [jot(['pubkey', f]), jot(['pubkey', '-'], { input: pem })]) {
      const pub = JSON.parse(ok(r));
      assert.deepEqual([pub.kty, pub.crv, pub.x, pub.y], ['EC', 'P-256', want.x, want.y]);
      assert.equal(pub.d, undefined);
    }
  });

  test('--jwks: one key set holding every public key', () => {
    const set = JSON.parse(ok(jot(['pubkey', '--jwks', es.path, rs.path, ed.path])));
    assert.equal(set.keys.length, 3);
    assert.deepEqual(set.keys.map((k) => k.kid), [es.jwk.kid, rs.jwk.kid, ed.jwk.kid]);
    for (const k of set.keys) for (const m of PRIVATE_MEMBERS) assert.equal(k[m], undefined);
  });

  test('--jwks refuses two keys with the same kid', () => {
    fails(jot(['pubkey', '--jwks', es.path, es.path]), 2, /duplicate kid|invalid key set/);
  });

  test('an HMAC key has no public form: exit 2, nothing printed', () => {
    usage_oct(jot(['pubkey', hs.path]));
    usage_oct(jot(['pubkey', es.path, hs.path]));
    usage_oct(jot(['pubkey', '--jwks', hs.path]));
    function usage_oct(r) {
      fails(r, 2, /HMAC \(oct\) key is secret and has no public form/);
    }
  });

  test('missing, unreadable, empty and invalid key files are exit 2', () => {
    usage(jot(['pubkey']), /missing KEYFILE/);
    fails(jot(['pubkey', tmp.path('nope.jwk')]), 2, /nope\.jwk: No such file or directory/);
    fails(jot(['pubkey', tmp.write('empty.jwk', '')]), 2, /empty key file/);
    fails(jot(['pubkey', tmp.write('bad.jwk', '{"kty":"EC"}')]), 2, /invalid key/);
    fails(jot(['pubkey', tmp.write('bad.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')]), 2, /invalid/);
    fails(jot(['pubkey', tmp.dir]), 2, /is a directory/);
  });

  test('an input over 1 MiB is refused (exit 2)', () => {
    const big = tmp.write('big.jwk', ' '.repeat(1024 * 1024 + 10) + '{}');
    fails(jot(['pubkey', big]), 2, /input too large/);
    fails(jot(['pubkey', '-'], { input: 'x'.repeat(1024 * 1024 + 1) }), 2, /stdin: input too large/);
  });
});

// ---- thumbprint ---------------------------------------------------------------------------

describe('thumbprint', () => {
  test('RFC 7638 §3.1 example', () => {
    const v = RFC7638_3_1;
    const f = tmp.write('rfc7638.jwk', JSON.stringify(v.jwk));
    assert.equal(ok(jot(['thumbprint', f])), v.thumbprint);
    assert.equal(ok(jot(['thumbprint', '-'], { input: JSON.stringify(v.jwk) })), v.thumbprint);
  });

  test('private and public key have the same thumbprint; 43 base64url characters', () => {
    for (const k of [es, rs, ed]) {
      const pub = tmp.write(undefined, ok(jot(['pubkey', k.path])));
      const t = ok(jot(['thumbprint', k.path]));
      assert.match(t, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(ok(jot(['thumbprint', pub])), t);
    }
  });

  test('the thumbprint of an HMAC key', () => {
    const want = crypto.createHash('sha256').update(`{"k":"${hs.jwk.k}","kty":"oct"}`).digest('base64url');
    assert.equal(ok(jot(['thumbprint', hs.path])), want);
  });

  test('a JWKS gives one line per key', () => {
    const set = tmp.write('tp-set.json', ok(jot(['pubkey', '--jwks', es.path, ed.path])));
    assert.equal(ok(jot(['thumbprint', set])), `${es.jwk.kid}\n${ed.jwk.kid}`);
  });

  test('usage errors: no file, two files, bad file', () => {
    usage(jot(['thumbprint']), /missing KEYFILE/);
    usage(jot(['thumbprint', es.path, rs.path]), /unexpected argument/);
    fails(jot(['thumbprint', tmp.write('notakey', 'hello')]), 2, /invalid/);
  });
});

// ---- sign ---------------------------------------------------------------------------------

describe('sign', () => {
  test('defaults: key alg, typ JWT, key kid, iat now, no exp', () => {
    const t0 = now();
    const t = sign(es);
    assert.match(t, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(part(t, 0), { alg: 'ES256', typ: 'JWT', kid: es.jwk.kid });
    const p = part(t, 1);
    assert.ok(p.iat >= t0 && p.iat <= now(), `iat ${p.iat}`);
    assert.equal(p.exp, undefined);
    assert.deepEqual(Object.keys(p), ['iat']);
  });

  test('default algorithm of keys without "alg" (PEM): ES256 for P-256, EdDSA, RS256', () => {
    const cases = [
      ['ec', { namedCurve: 'P-256' }, 'ES256'],
      ['ec', { namedCurve: 'P-384' }, 'ES384'],
      ['ed25519', {}, 'EdDSA'],
      ['rsa', { modulusLength: 2048 }, 'RS256'],
    ];
    for (const [type, opts, alg] of cases) {
      const { privateKey } = crypto.generateKeyPairSync(type, opts);
      const f = tmp.write(undefined, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const t = ok(jot(['sign', '--key', f, '--exp', '5m']));
      assert.equal(part(t, 0).alg, alg);
      assert.equal(part(t, 0).kid, undefined, 'a PEM key has no kid');
      ok(jot(['verify', '--key', f, '--alg', alg, t]));
    }
  });

  test('--alg must suit the key; none and unknown names are refused (exit 2)', () => {
    fails(jot(['sign', '--key', es.path, '--alg', 'ES384']), 2, /cannot sign ES384/);
    fails(jot(['sign', '--key', rs.path, '--alg', 'HS256']), 2, /cannot sign HS256/);
    fails(jot(['sign', '--key', hs.path, '--alg', 'RS256']), 2, /cannot sign RS256/);
    usage(jot(['sign', '--key', es.path, '--alg', 'none']), /'none' is never accepted/);
    usage(jot(['sign', '--key', es.path, '--alg', 'None']), /unknown algorithm 'None'/);
  });

  test('a key\'s "alg" binds it; an RSA key without "alg" signs PS256 when asked', () => {
    fails(jot(['sign', '--key', rs.path, '--alg', 'PS256']), 2, /cannot sign PS256.*key does not match/);
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = { path: tmp.write('rsa-noalg.pem', privateKey.export({ type: 'pkcs8', format: 'pem' })) };
    const t = sign(key, '--alg', 'PS256', '--exp', '1m');
    assert.equal(part(t, 0).alg, 'PS256');
    ok(verify(key, t, '--alg', 'PS256'));
    rejected(verify(key, t, '--alg', 'RS256'), /algorithm not allowed/);
  });

  test('--kid and --typ override the header; "" omits them', () => {
    assert.deepEqual(part(sign(es, '--kid', 'other', '--typ', 'at+jwt'), 0),
      { alg: 'ES256', typ: 'at+jwt', kid: 'other' });
    assert.deepEqual(part(sign(es, '--kid=', '--typ='), 0), { alg: 'ES256' });
  });

  test('--iss, --sub, one --aud (string) and several --aud (array)', () => {
    let p = part(sign(es, '--iss', 'https://issuer', '--sub', 'u1', '--aud', 'api'), 1);
    assert.deepEqual([p.iss, p.sub, p.aud], ['https://issuer', 'u1', 'api']);
    p = part(sign(es, '--aud', 'a', '--aud', 'b', '--aud=c'), 1);
    assert.deepEqual(p.aud, ['a', 'b', 'c']);
  });

  test('--exp durations: 90s 15m 1h 30d 2w and bare seconds, relative to iat', () => {
    const iat = 1700000000;
    const cases = { '90s': 90, '15m': 900, '1h': 3600, '30d': 2592000, '2w': 1209600, '120': 120, '0': 0 };
    for (const [d, secs] of Object.entries(cases)) {
      const p = part(sign(es, '--iat-at', String(iat), '--exp', d), 1);
      assert.equal(p.iat, iat);
      assert.equal(p.exp, iat + secs, d);
    }
    const t0 = now();
    const p = part(sign(es, '--exp', '1h'), 1);
    assert.ok(p.exp - p.iat === 3600 && p.iat >= t0);
  });

  test('invalid durations and epochs are exit 2', () => {
    for (const d of ['', '1y', '-5', '+5', '5 m', 'abc', 'm', '1.5h', '1hh', '1h30m', '2W', '99999999999999999999']) {
      usage(jot(['sign', '--key', es.path, '--exp', d]), /invalid --exp/);
    }
    for (const o of ['--exp-at', '--nbf-at', '--iat-at']) {
      for (const v of ['', '-1', '12x', '1e9', '0x10', '253402300800']) {
        usage(jot(['sign', '--key', es.path, o, v]), new RegExp(`invalid ${o}`));
      }
    }
    usage(jot(['sign', '--key', es.path, '--iat-at', '253402300000', '--exp', '30d']), /too far/);
    usage(jot(['sign', '--key', es.path, '--exp', '1h', '--exp-at', '2000000000']), /mutually exclusive/);
  });

  test('--exp-at, --nbf-at, --iat-at are exact', () => {
    const p = part(sign(es, '--exp-at', '2000000000', '--nbf-at', '1500000000', '--iat-at', '1400000000'), 1);
    assert.deepEqual([p.exp, p.nbf, p.iat], [2000000000, 1500000000, 1400000000]);
    assert.equal(part(sign(es, '--exp-at', '0'), 1).exp, 0);
  });

  test('--jti auto: 16 random bytes as base64url, different each time; --jti S as given', () => {
    const a = part(sign(es, '--jti', 'auto'), 1).jti;
    const b = part(sign(es, '--jti', 'auto'), 1).jti;
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 16);
    assert.notEqual(a, b);
    assert.equal(part(sign(es, '--jti', 'abc-123'), 1).jti, 'abc-123');
    usage(jot(['sign', '--key', es.path, '--jti', '']), /--jti must not be empty/);
  });

  test('--claim values are typed JSON', () => {
    const p = part(sign(es,
      '--claim', 'roles=["admin","user"]',
      '--claim', 'n=42',
      '--claim', 'f=1.5',
      '--claim', 'neg=-7',
      '--claim', 'yes=true',
      '--claim', 'no=false',
      '--claim', 'nil=null',
      '--claim', 'obj={"a":{"b":[1,2]}}',
      '--claim', 'name="Ann"',
      '--claim', 'eq="a=b"',
      '--claim', 'uni="h\\u00e9llo ☃"'), 1);
    assert.deepEqual(p.roles, ['admin', 'user']);
    assert.equal(p.n, 42);
    assert.equal(p.f, 1.5);
    assert.equal(p.neg, -7);
    assert.equal(p.yes, true);
    assert.equal(p.no, false);
    assert.equal(p.nil, null);
    assert.deepEqual(p.obj, { a: { b: [1, 2] } });
    assert.equal(p.name, 'Ann');
    assert.equal(p.eq, 'a=b');
    assert.equal(p.uni, 'héllo ☃');
  });

  test('--claim with a value that is not JSON is exit 2 (never taken as a string)', () => {
    for (const c of ['name=Ann', 'x=', 'x={', 'x=[1,]', "x='a'", 'x=tru', 'x={"a":1,"a":2}', 'x=1 2']) {
      usage(jot(['sign', '--key', es.path, '--claim', c]), /--claim x|--claim name/);
    }
    usage(jot(['sign', '--key', es.path, '--claim', 'novalue']), /expected NAME=JSONVALUE/);
    usage(jot(['sign', '--key', es.path, '--claim', '=1']), /expected NAME=JSONVALUE/);
  });

  test('--claims JSON and @FILE; --claim and named options override it', () => {
    let p = part(sign(es, '--claims', '{"a":1,"sub":"from-claims","roles":["r"]}'), 1);
    assert.deepEqual([p.a, p.sub, p.roles], [1, 'from-claims', ['r']]);
    const f = tmp.write('claims.json', '{"a":1,"sub":"file","iss":"file-iss"}');
    p = part(sign(es, '--claims', `@${f}`, '--claim', 'a=2', '--sub', 'flag'), 1);
    assert.deepEqual([p.a, p.sub, p.iss], [2, 'flag', 'file-iss']);
    p = part(ok(jot(['sign', '--key', es.path, '--claims', '@-'], { input: '{"k":"stdin"}' })), 1);
    assert.equal(p.k, 'stdin');
  });

  test('--claims: an iat given there is kept; --iat-at overrides it', () => {
    assert.equal(part(sign(es, '--claims', '{"iat":123}'), 1).iat, 123);
    assert.equal(part(sign(es, '--claims', '{"iat":123}', '--iat-at', '456'), 1).iat, 456);
  });

  test('--claims must be a strict JSON object (exit 2)', () => {
    for (const c of ['[1,2]', '"str"', '{', '{"a":1,"a":2}', '{"a":1} x', 'null']) {
      usage(jot(['sign', '--key', es.path, '--claims', c]), /--claims/);
    }
    fails(jot(['sign', '--key', es.path, '--claims', `@${tmp.path('missing.json')}`]), 2, /No such file/);
  });

  test('a public key cannot sign (exit 2)', () => {
    const pub = tmp.write('es-pub.jwk', ok(jot(['pubkey', es.path])));
    fails(jot(['sign', '--key', pub]), 2, /private key is needed/);
  });

  test('a JWKS: --kid selects the key; one key is used; several need --kid', () => {
    const es2 = keygen('ES256');
    const setPath = tmp.write('private-set.json', JSON.stringify({ keys: [es.jwk, es2.jwk] }));
    const t = ok(jot(['sign', '--key', setPath, '--kid', es2.jwk.kid, '--exp', '1m']));
    assert.equal(part(t, 0).kid, es2.jwk.kid);
    ok(jot(['verify', '--key', es2.path, '--alg', 'ES256', t]));
    rejected(jot(['verify', '--key', es.path, '--alg', 'ES256', t]), /signature verification failed|no matching key/);
    usage(jot(['sign', '--key', setPath]), /holds 2 keys; choose one with --kid/);
    fails(jot(['sign', '--key', setPath, '--kid', 'nope']), 2, /no key with kid 'nope'/);
    const one = tmp.write('one-set.json', JSON.stringify({ keys: [es2.jwk] }));
    assert.equal(part(ok(jot(['sign', '--key', one])), 0).kid, es2.jwk.kid);
  });

  test('the key from stdin', () => {
    const t = ok(jot(['sign', '--key', '-', '--exp', '1m'], { input: fs.readFileSync(hs.path) }));
    ok(verify(hs, t, '--alg', 'HS256'));
  });

  test('missing --key, unreadable key, stray argument: exit 2', () => {
    usage(jot(['sign']), /missing --key/);
    fails(jot(['sign', '--key', tmp.path('absent')]), 2, /absent: No such file/);
    usage(jot(['sign', '--key', es.path, 'extra']), /unexpected argument 'extra'/);
  });
});

// ---- verify -------------------------------------------------------------------------------

describe('verify', () => {
  test('valid token: exit 0, the payload JSON and a newline on stdout', () => {
    const t = sign(es, '--iss', 'me', '--exp', '1h', '--claim', 'roles=["a"]');
    const out = ok(verify(es, t, '--alg', 'ES256'));
    assert.equal(out, Buffer.from(t.split('.')[1], 'base64url').toString('utf8'));
    assert.deepEqual(JSON.parse(out).roles, ['a']);
  });

  test('token from stdin: "-", absent, with a trailing newline or CRLF', () => {
    const t = sign(es, '--exp', '1h');
    for (const [args, input] of [[['-'], t], [[], t + '\n'], [['-'], t + '\r\n']]) {
      ok(jot(['verify', '--key', es.path, '--alg', 'ES256', ...args], { input }));
    }
    rejected(jot(['verify', '--key', es.path, '--alg', 'ES256'], { input: t + '\n\n' }));
    rejected(jot(['verify', '--key', es.path, '--alg', 'ES256'], { input: ' ' + t }));
    usage(jot(['verify', '--key', '-', '--alg', 'ES256']), /cannot both come from stdin/);
  });

  test('the public key, a PEM public key and --key with a JWKS file all verify', () => {
    const t = sign(es, '--exp', '1h');
    const pub = tmp.write(undefined, ok(jot(['pubkey', es.path])));
    ok(verify({ path: pub }, t, '--alg', 'ES256'));
    const pem = crypto.createPublicKey({ key: JSON.parse(fs.readFileSync(pub, 'utf8')), format: 'jwk' })
      .export({ type: 'spki', format: 'pem' });
    ok(verify({ path: tmp.write(undefined, pem) }, t, '--alg', 'ES256'));
    const set = tmp.write(undefined, ok(jot(['pubkey', '--jwks', es.path, ed.path])));
    ok(verify({ path: set }, t, '--alg', 'ES256'));
  });

  test('--jwks: the token kid selects the key; unknown kid is rejected', () => {
    const set = tmp.write(undefined, ok(jot(['pubkey', '--jwks', es.path, ed.path, rs.path])));
    for (const k of [es, ed, rs]) {
      const t = sign(k, '--exp', '1h');
      ok(jot(['verify', '--jwks', set, '--alg', 'ES256,EdDSA,RS256', t]));
    }
    const other = keygen('ES256');
    rejected(jot(['verify', '--jwks', set, '--alg', 'ES256', sign(other, '--exp', '1h')]), /no matching key/);
    usage(jot(['verify', '--jwks', es.path, '--alg', 'ES256', sign(es)]), /not a JWKS/);
  });

  test('a key set without a usable key is exit 2', () => {
    const t = sign(es, '--exp', '1h');
    const empty = tmp.write(undefined, '{"keys":[]}');
    usage(jot(['verify', '--jwks', empty, '--alg', 'ES256', t]), /holds no usable key/);
    // members of unknown types are skipped (RFC 7517 §5), leaving nothing
    const unknown = tmp.write(undefined, '{"keys":[{"kty":"XYZ","kid":"a"}]}');
    usage(jot(['verify', '--key', unknown, '--alg', 'ES256', t]), /holds no usable key/);
    usage(jot(['thumbprint', empty]), /holds no usable key/);
    usage(jot(['sign', '--key', empty]), /holds no usable key/);
  });

  test('--alg is mandatory; none and unknown names are usage errors', () => {
    const t = sign(es, '--exp', '1h');
    usage(jot(['verify', '--key', es.path, t]), /missing --alg/);
    usage(verify(es, t, '--alg', 'none'), /'none' is never accepted/);
    usage(verify(es, t, '--alg', 'ES256,none'), /'none' is never accepted/);
    usage(verify(es, t, '--alg', 'ES256,FOO'), /invalid --alg/);
    usage(verify(es, t, '--alg', ''), /invalid --alg/);
  });

  test('--alg lists: comma-separated and repeated', () => {
    const t = sign(es, '--exp', '1h');
    ok(verify(es, t, '--alg', 'HS256,ES256'));
    ok(verify(es, t, '--alg', 'HS256', '--alg', 'ES256'));
    ok(verify(es, t, '--alg=RS256,ES256'));
    rejected(verify(es, t, '--alg', 'ES384,HS256'), /^jot: algorithm not allowed\n$/);
  });

  test('missing or conflicting key options are exit 2', () => {
    const t = sign(es, '--exp', '1h');
    usage(jot(['verify', '--alg', 'ES256', t]), /missing --key, --jwks or --jwks-url/);
    usage(jot(['verify', '--key', es.path, '--jwks', es.path, '--alg', 'ES256', t]), /mutually exclusive/);
    usage(jot(['verify', '--key', es.path, '--jwks-url', 'https://127.0.0.1:9/j', '--alg', 'ES256', t]),
      /mutually exclusive/);
    usage(jot(['verify', '--key', es.path, '--ca-file', es.path, '--alg', 'ES256', t]),
      /--allow-http and --ca-file go with --jwks-url/);
    usage(jot(['verify', '--jwks-url', 'ftp://127.0.0.1/j', '--allow-http', '--alg', 'ES256', t]),
      /refused: https only/);
    fails(jot(['verify', '--key', tmp.path('gone'), '--alg', 'ES256', t]), 2, /No such file/);
    fails(jot(['verify', '--key', tmp.write(undefined, '{"kty":"oct","k":"c2hvcnQ"}'), '--alg', 'HS256', t]), 2, /invalid key/);
    usage(jot(['verify', '--key', es.path, '--alg', 'ES256', t, t]), /one TOKEN at most/);
  });

  test('tampered payload and signature by another key are rejected (exit 1)', () => {
    const t = sign(es, '--sub', 'alice', '--exp', '1h');
    const [h, , s] = t.split('.');
    const forged = `${h}.${b64u(JSON.stringify({ sub: 'admin', exp: now() + 3600 }))}.${s}`;
    rejected(verify(es, forged, '--alg', 'ES256'), /signature verification failed/);
    const other = keygen('ES256', '--kid', es.jwk.kid);
    rejected(verify(es, sign(other, '--exp', '1h'), '--alg', 'ES256'), /signature verification failed/);
  });

  test('no exp: rejected unless --allow-no-exp', () => {
    const t = sign(hs);
    rejected(verify(hs, t, '--alg', 'HS256'), /^jot: token has no expiry \(exp\)\n$/);
    ok(verify(hs, t, '--alg', 'HS256', '--allow-no-exp'));
  });

  test('expired: rejected; --now before exp accepts; --leeway covers a small skew', () => {
    const t = sign(hs, '--iat-at', '1000000000', '--exp-at', '1000000600');
    rejected(verify(hs, t, '--alg', 'HS256'), /^jot: token expired \(exp\)\n$/);
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000300'));
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000599'));
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000000600'), /token expired/);
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000000630', '--leeway', '10'), /token expired/);
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000630', '--leeway', '60'));
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000630', '--leeway', '1m'));
  });

  test('nbf in the future: rejected; accepted once reached or within --leeway', () => {
    const t = sign(hs, '--iat-at', '1000000000', '--nbf-at', '1000000100', '--exp-at', '1000003600');
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000000050'), /^jot: token not yet valid \(nbf\)\n$/);
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000100'));
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000050', '--leeway', '60'));
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000000050', '--leeway', '30'), /not yet valid/);
  });

  test('with --max-age, an iat in the future is rejected', () => {
    const t = sign(hs, '--iat-at', '1000001000', '--exp-at', '1000003600');
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000000000', '--max-age', '1h'), /^jot: token issued in the future \(iat\)\n$/);
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000000000', '--max-age', '1h', '--leeway', '1000'));
  });

  test('--max-age: older than the limit is rejected, iat then required', () => {
    const t = sign(hs, '--iat-at', '1000000000', '--exp-at', '1000100000');
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000003000', '--max-age', '3600'));
    rejected(verify(hs, t, '--alg', 'HS256', '--now', '1000004000', '--max-age', '3600'), /^jot: token too old \(iat\)\n$/);
    ok(verify(hs, t, '--alg', 'HS256', '--now', '1000004000', '--max-age', '2h'));
    const noIat = sign(hs, '--claims', '{"iat":"x"}', '--exp', '1h');
    rejected(verify(hs, noIat, '--alg', 'HS256', '--max-age', '3600'), /^jot: claim has the wrong type \(iat\)\n$/);
    const withoutIat = token({ alg: 'HS256' }, { exp: 1000100000 }, 'HS256', unb64u(hs.jwk.k));
    rejected(verify(hs, withoutIat, '--alg', 'HS256', '--now', '1000004000', '--max-age', '3600'), /^jot: required claim missing \(iat\)\n$/);
    usage(verify(hs, t, '--alg', 'HS256', '--max-age', '0'), /invalid --max-age/);
    usage(verify(hs, t, '--alg', 'HS256', '--max-age', 'soon'), /invalid --max-age/);
  });

  test('invalid --leeway and --now values are exit 2', () => {
    const t = sign(hs, '--exp', '1h');
    for (const l of ['-1', 'x', '86401', '2d']) usage(verify(hs, t, '--alg', 'HS256', '--leeway', l), /invalid --leeway '.*' \(0 to 86400 seconds\)/);
    ok(verify(hs, t, '--alg', 'HS256', '--leeway', '86400'), 'JOT_MAX_LEEWAY itself is accepted');
    ok(verify(hs, t, '--alg', 'HS256', '--leeway', '1d'));
    for (const n of ['-1', 'now', '1.5']) usage(verify(hs, t, '--alg', 'HS256', '--now', n), /invalid --now/);
  });

  test('--require: missing claim rejected, present accepted', () => {
    const t = sign(hs, '--exp', '1h', '--claim', 'scope="read"');
    ok(verify(hs, t, '--alg', 'HS256', '--require', 'scope'));
    rejected(verify(hs, t, '--alg', 'HS256', '--require', 'scope', '--require', 'jti'), /^jot: required claim missing \(jti\)\n$/);
    rejected(verify(hs, t, '--alg', 'HS256', '--require', 'roles', '--require', 'scope'), /^jot: required claim missing \(roles\)\n$/);
  });

  test('--iss: equal accepted, different or missing rejected; repeated: any may match', () => {
    const t = sign(hs, '--exp', '1h', '--iss', 'https://a.example');
    ok(verify(hs, t, '--alg', 'HS256', '--iss', 'https://a.example'));
    rejected(verify(hs, t, '--alg', 'HS256', '--iss', 'https://b.example'), /^jot: wrong issuer \(iss\)\n$/);
    rejected(verify(hs, t, '--alg', 'HS256', '--iss', 'https://a.example/'), /wrong issuer/);
    ok(verify(hs, t, '--alg', 'HS256', '--iss', 'https://b.example', '--iss', 'https://a.example'));
    rejected(verify(hs, t, '--alg', 'HS256', '--iss', 'https://b.example', '--iss', 'https://c.example'), /wrong issuer/);
    const noIss = sign(hs, '--exp', '1h');
    rejected(verify(hs, noIss, '--alg', 'HS256', '--iss', 'https://a.example'), /^jot: wrong issuer \(iss\)\n$/);
    // one issuer or several: a missing iss is the same failure (the library checks the list)
    rejected(verify(hs, noIss, '--alg', 'HS256', '--iss', 'x', '--iss', 'y'), /^jot: wrong issuer \(iss\)\n$/);
    rejected(verify(hs, t, '--alg', 'HS256', '--iss', 'x', '--iss', 'y', '--aud', 'api'), /^jot: wrong issuer \(iss\)\n$/);
  });

  test('--aud: string or array, any expected value may match', () => {
    const one = sign(hs, '--exp', '1h', '--aud', 'api');
    const many = sign(hs, '--exp', '1h', '--aud', 'web', '--aud', 'api');
    ok(verify(hs, one, '--alg', 'HS256', '--aud', 'api'));
    ok(verify(hs, many, '--alg', 'HS256', '--aud', 'api'));
    ok(verify(hs, many, '--alg', 'HS256', '--aud', 'other', '--aud', 'web'));
    rejected(verify(hs, one, '--alg', 'HS256', '--aud', 'API'), /^jot: wrong audience \(aud\)\n$/);
    rejected(verify(hs, many, '--alg', 'HS256', '--aud', 'x', '--aud', 'y'), /wrong audience/);
    rejected(verify(hs, sign(hs, '--exp', '1h'), '--alg', 'HS256', '--aud', 'api'), /wrong audience|required claim missing/);
    ok(verify(hs, one, '--alg', 'HS256'), 'no --aud: aud not checked');
  });

  test('--sub: equal accepted, different rejected', () => {
    const t = sign(hs, '--exp', '1h', '--sub', 'user-1');
    ok(verify(hs, t, '--alg', 'HS256', '--sub', 'user-1'));
    rejected(verify(hs, t, '--alg', 'HS256', '--sub', 'user-2'), /^jot: wrong subject \(sub\)\n$/);
  });

  test('--typ: case-insensitive, optional application/ prefix; different rejected', () => {
    const t = sign(hs, '--exp', '1h', '--typ', 'at+jwt');
    ok(verify(hs, t, '--alg', 'HS256', '--typ', 'at+jwt'));
    ok(verify(hs, t, '--alg', 'HS256', '--typ', 'AT+JWT'));
    ok(verify(hs, t, '--alg', 'HS256', '--typ', 'application/at+jwt'));
    rejected(verify(hs, t, '--alg', 'HS256', '--typ', 'JWT'), /^jot: wrong token type \(typ\)\n$/);
    rejected(verify(hs, sign(hs, '--exp', '1h', '--typ', ''), '--alg', 'HS256', '--typ', 'at+jwt'), /wrong token type/);
  });

  test('the RFC 7519 §3.1 example: expired now, valid with --now', () => {
    const v = RFC7519_3_1;
    const key = { path: tmp.write('rfc7519.jwk', JSON.stringify(v.jwk)) };
    rejected(verify(key, v.token, '--alg', 'HS256'), /token expired/);
    const out = ok(verify(key, v.token, '--alg', 'HS256', '--now', '1300819000', '--iss', 'joe'));
    assert.deepEqual(JSON.parse(out), v.claims);
  });

  test('garbage tokens are rejected as malformed (exit 1)', () => {
    for (const t of ['', 'abc', 'a.b', 'a.b.c.d', '...', 'eyJ.eyJ.']) {
      rejected(jot(['verify', '--key', hs.path, '--alg', 'HS256'], { input: t }));
    }
  });
});

// ---- decode -------------------------------------------------------------------------------

describe('decode', () => {
  const rfc = () => RFC7519_3_1;

  test('one TOKEN at most', () => {
    const t = rfc().token;
    usage(jot(['decode', t, t]), /unexpected argument '.*' \(one TOKEN at most\)/);
  });

  test('UNVERIFIED line, indented header and payload, UTC times', () => {
    const v = rfc();
    const out = ok(jot(['decode', v.token]));
    assert.equal(out, [
      'UNVERIFIED: signature not checked',
      'header:',
      '{',
      '  "typ": "JWT",',
      '  "alg": "HS256"',
      '}',
      'payload:',
      '{',
      '  "iss": "joe",',
      '  "exp": 1300819380,',
      '  "http://example.com/is_root": true',
      '}',
      'exp: 1300819380 (2011-03-22T18:43:00Z)',
    ].join('\n'));
  });

  test('iat, nbf, exp lines; nested values indented by two spaces', () => {
    const t = sign(es, '--iat-at', '0', '--nbf-at', '86400', '--exp-at', '253402300799',
      '--claim', 'o={"a":[1,{"b":[]}],"e":{}}', '--claim', 's="x:,{}[]\\"y"');
    const out = ok(jot(['decode', '-'], { input: t + '\n' }));
    const lines = out.split('\n');
    assert.equal(lines[0], 'UNVERIFIED: signature not checked');
    assert.ok(out.includes([
      '  "o": {',
      '    "a": [',
      '      1,',
      '      {',
      '        "b": []',
      '      }',
      '    ],',
      '    "e": {}',
      '  },',
      '  "s": "x:,{}[]\\"y",',
    ].join('\n')), out);
    assert.deepEqual(lines.slice(-3), [
      'iat: 0 (1970-01-01T00:00:00Z)',
      'nbf: 86400 (1970-01-02T00:00:00Z)',
      'exp: 253402300799 (9999-12-31T23:59:59Z)',
    ]);
  });

  test('decode never checks signature or claims: an expired, badly signed token decodes', () => {
    const t = sign(es, '--exp-at', '1');
    const bad = t.slice(0, t.lastIndexOf('.') + 1) + 'AAAA';
    const out = ok(jot(['decode', bad]));
    assert.match(out, /^UNVERIFIED: signature not checked\n/);
    assert.match(out, /exp: 1 \(1970-01-01T00:00:01Z\)/);
  });

  test('a non-integer exp is shown as such', () => {
    const t = token({ alg: 'HS256' }, { exp: '9999999999' }, 'HS256', Buffer.alloc(32, 1));
    assert.match(ok(jot(['decode', t])), /exp: not an integer NumericDate/);
  });

  test('a payload that is not a JSON object: shown as text, or base64url when binary', () => {
    const key = Buffer.alloc(32, 7);
    const text = craft(b64u('{"alg":"HS256"}'), b64u('hello world'), 'HS256', key);
    assert.match(ok(jot(['decode', text])), /\npayload \(not a JSON object\):\nhello world$/);
    const bin = craft(b64u('{"alg":"HS256"}'), b64u(Buffer.from([0xff, 0x00, 0x1b])), 'HS256', key);
    assert.match(ok(jot(['decode', bin])), /\npayload \(binary, base64url\):\n_wAb$/);
  });

  test('terminal control characters never reach stdout raw', () => {
    const key = Buffer.alloc(32, 7);
    const body = Buffer.from('{"a":"x\u009b31my","b":"\\u001b[2J"}', 'utf8');
    const out = ok(jot(['decode', craft(b64u('{"alg":"HS256"}'), b64u(body), 'HS256', key)]));
    assert.ok(out.includes('"a": "x\\u009b31my"'), out);
    assert.ok(out.includes('"b": "\\u001b[2J"'), out);
    assert.equal(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(out), false);
  });

  test('malformed tokens are exit 1', () => {
    for (const t of ['abc', 'a.b', 'a.b.c.d', '!!.!!.!!']) {
      rejected(jot(['decode', t]), /malformed|base64|JSON/);
    }
    rejected(jot(['decode'], { input: '' }));
  });

  test('usage errors: two tokens', () => {
    usage(jot(['decode', 'a', 'b']), /one TOKEN at most/);
  });
});
