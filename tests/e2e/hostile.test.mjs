// Classic JWT/JWS attacks (see ../shared/vectors/attacks/jwt_attacks.md), each through
// `jot verify`. Every token is built byte by byte with node:crypto and correctly signed over
// its exact signing input, so that the attack is its only defect: each must exit 1 with a
// "jot: <reason>" line naming what was wrong.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jot, ok, rejected, TmpDir, b64u, b64uJson, craft, token, signRaw, now } from './lib/jot.mjs';

const tmp = new TmpDir();
after(() => tmp.cleanup());

const EXP = () => now() + 3600;
const R = {
  none: /^jot: algorithm none is not accepted\n$/,
  unknownAlg: /^jot: unknown algorithm\n$/,
  signature: /^jot: signature verification failed\n$/,
  malformed: /^jot: malformed token\n$/,
  base64: /^jot: (invalid base64url encoding|malformed token)\n$/,
  confusion: /^jot: (key does not match the algorithm|algorithm not allowed)\n$/,
  noKey: /^jot: (no matching key|signature verification failed)\n$/,
  header: /^jot: (invalid header|invalid JSON|malformed token)\n$/,
  duplicate: /^jot: duplicate JSON member name\n$/,
  crit: /^jot: unsupported critical header parameter\n$/,
};

let hsKey, hsPath, hsSetPath, hsKid;
let ec, ecJwkPath, ecPemPath, ecPubJwk;
let rsa, rsaJwkPath, rsaPemPath, rsaPubPem, rsaPubJwk;
let ec384;

before(() => {
  const hs = JSON.parse(ok(jot(['keygen', '--alg', 'HS256'])));
  hsKey = Buffer.from(hs.k, 'base64url');
  hsKid = hs.kid;
  hsPath = tmp.write('hs.jwk', JSON.stringify(hs));
  hsSetPath = tmp.write('hs-set.json', JSON.stringify({ keys: [hs] }));

  ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  ecPubJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' };
  ecJwkPath = tmp.write('ec-pub.jwk', JSON.stringify(ecPubJwk));
  ecPemPath = tmp.write('ec-pub.pem', ec.publicKey.export({ type: 'spki', format: 'pem' }));

  rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsaPubPem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
  rsaPubJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1' };
  rsaPemPath = tmp.write('rsa-pub.pem', rsaPubPem);
  rsaJwkPath = tmp.write('rsa-pub.jwk', JSON.stringify(rsaPubJwk));

  ec384 = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
});

/** jot verify --key KEY --alg ALGS [extra...] TOKEN */
const verify = (keyPath, tok, algs, ...extra) => jot(['verify', '--key', keyPath, '--alg', algs, ...extra, tok]);
const hsToken = (header, payload) => token(header, payload, 'HS256', hsKey);
const claims = (extra = {}) => ({ sub: 'user', exp: EXP(), ...extra });

describe('baseline: the crafting helpers make tokens jot accepts', () => {
  test('HS256, ES256 and RS256 crafted tokens verify (exit 0)', () => {
    ok(verify(hsPath, hsToken({ alg: 'HS256', typ: 'JWT' }, claims()), 'HS256'));
    ok(verify(ecJwkPath, token({ alg: 'ES256' }, claims(), 'ES256', ec.privateKey), 'ES256'));
    ok(verify(rsaPemPath, token({ alg: 'RS256' }, claims(), 'RS256', rsa.privateKey), 'RS256'));
    ok(verify(rsaJwkPath, token({ alg: 'PS256' }, claims(), 'PS256', rsa.privateKey), 'PS256'));
  });
});

describe('alg none (unsecured JWS)', () => {
  for (const name of ['none', 'None', 'NONE', 'nOnE']) {
    test(`alg "${name}" with an empty signature`, () => {
      const t = `${b64uJson({ alg: name, typ: 'JWT' })}.${b64uJson(claims({ sub: 'admin' }))}.`;
      const reason = name === 'none' ? R.none : R.unknownAlg;
      rejected(verify(hsPath, t, 'HS256'), reason);
      rejected(verify(ecJwkPath, t, 'ES256'), reason);
    });
  }

  test('alg "none" with a signature part that is present', () => {
    const t = `${b64uJson({ alg: 'none' })}.${b64uJson(claims())}.${b64u(Buffer.alloc(32))}`;
    rejected(verify(hsPath, t, 'HS256'), R.none);
  });
});

describe('stripped or mangled signature and structure', () => {
  test('signature stripped, original alg kept (h.p.)', () => {
    const t = hsToken({ alg: 'HS256' }, claims());
    const [h] = t.split('.');
    rejected(verify(hsPath, `${h}.${b64uJson(claims({ sub: 'admin' }))}.`, 'HS256'), /^jot: (signature verification failed|malformed token)\n$/);
    const e = token({ alg: 'ES256' }, claims(), 'ES256', ec.privateKey);
    rejected(verify(ecJwkPath, e.slice(0, e.lastIndexOf('.') + 1), 'ES256'), /^jot: (signature verification failed|malformed token)\n$/);
  });

  test('missing third part (h.p)', () => {
    const t = hsToken({ alg: 'HS256' }, claims());
    rejected(verify(hsPath, t.slice(0, t.lastIndexOf('.')), 'HS256'), R.malformed);
  });

  test('extra parts (h.p.s.x, h.p.s., five parts)', () => {
    const t = hsToken({ alg: 'HS256' }, claims());
    rejected(verify(hsPath, `${t}.${t.split('.')[2]}`, 'HS256'), R.malformed);
    rejected(verify(hsPath, `${t}.`, 'HS256'), R.malformed);
    rejected(verify(hsPath, `${t}.AAAA.BBBB`, 'HS256'), R.malformed);
  });

  test('empty token and empty segments', () => {
    rejected(jot(['verify', '--key', hsPath, '--alg', 'HS256'], { input: '' }), R.malformed);
    rejected(verify(hsPath, '..', 'HS256'), /^jot: /);
    const t = hsToken({ alg: 'HS256' }, claims());
    rejected(verify(hsPath, `.${t.split('.')[1]}.${t.split('.')[2]}`, 'HS256'), /^jot: /);
  });

  test('a token longer than 64 KiB is refused before any work', () => {
    const t = hsToken({ alg: 'HS256' }, claims({ pad: 'x'.repeat(70 * 1024) }));
    assert.ok(t.length > 64 * 1024);
    rejected(verify(hsPath, t, 'HS256'), /^jot: input too large\n$/);
    rejected(jot(['verify', '--key', hsPath, '--alg', 'HS256', '-'], { input: t }), /^jot: input too large\n$/);
  });
});

describe('algorithm confusion: public key bytes used as an HMAC secret', () => {
  test('HS256 keyed with the RSA public key PEM, verified with that PEM', () => {
    const t = token({ alg: 'HS256' }, claims({ sub: 'admin' }), 'HS256', Buffer.from(rsaPubPem));
    rejected(verify(rsaPemPath, t, 'HS256,RS256'), R.confusion);
    rejected(verify(rsaPemPath, t, 'HS256'), R.confusion);
  });

  test('HS256 keyed with the RSA JWK n bytes, verified with that JWK', () => {
    for (const secret of [Buffer.from(rsaPubJwk.n, 'base64url'), Buffer.from(rsaPubJwk.n), Buffer.from(JSON.stringify(rsaPubJwk))]) {
      const t = token({ alg: 'HS256', kid: 'rsa-1' }, claims({ sub: 'admin' }), 'HS256', secret);
      rejected(verify(rsaJwkPath, t, 'HS256,RS256'), R.confusion);
    }
  });

  test('HS256 keyed with the EC public x bytes / PEM, verified with that key', () => {
    const tx = token({ alg: 'HS256', kid: 'ec-1' }, claims({ sub: 'admin' }), 'HS256', Buffer.from(ecPubJwk.x, 'base64url'));
    rejected(verify(ecJwkPath, tx, 'HS256,ES256'), R.confusion);
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' });
    const tp = token({ alg: 'HS256' }, claims({ sub: 'admin' }), 'HS256', Buffer.from(pem));
    rejected(verify(ecPemPath, tp, 'HS256,ES256'), R.confusion);
  });

  test('HS256 keyed with the public key DER', () => {
    const der = rsa.publicKey.export({ type: 'spki', format: 'der' });
    const t = token({ alg: 'HS256' }, claims(), 'HS256', der);
    rejected(verify(rsaPemPath, t, 'HS256,RS256'), R.confusion);
  });

  test('an RS256 token presented to an HMAC key', () => {
    const t = token({ alg: 'RS256' }, claims(), 'RS256', rsa.privateKey);
    rejected(verify(hsPath, t, 'RS256,HS256'), R.confusion);
  });
});

describe('keys named by the token are never used', () => {
  const attacker = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

  test('embedded "jwk" header with the attacker\'s key, signed by the attacker', () => {
    const a = attacker();
    const jwk = a.publicKey.export({ format: 'jwk' });
    const t = token({ alg: 'ES256', jwk, kid: 'ec-1' }, claims({ sub: 'admin' }), 'ES256', a.privateKey);
    rejected(verify(ecJwkPath, t, 'ES256'), /^jot: (signature verification failed|invalid header)\n$/);
  });

  for (const [name, value] of [
    ['jku', 'https://attacker.example/jwks.json'],
    ['x5u', 'https://attacker.example/cert.pem'],
  ]) {
    test(`"${name}" header pointing at the attacker`, () => {
      const a = attacker();
      const t = token({ alg: 'ES256', [name]: value, kid: 'ec-1' }, claims({ sub: 'admin' }), 'ES256', a.privateKey);
      rejected(verify(ecJwkPath, t, 'ES256'), /^jot: (signature verification failed|invalid header)\n$/);
    });
  }

  test('"x5c" header carrying an attacker certificate chain', () => {
    const a = attacker();
    // A made-up DER blob: the verifier must not even look at it for a key.
    const fakeCert = b64u(Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), crypto.randomBytes(256)]));
    const x5c = [Buffer.from(fakeCert, 'base64url').toString('base64')];
    const t = token({ alg: 'ES256', x5c }, claims({ sub: 'admin' }), 'ES256', a.privateKey);
    rejected(verify(ecJwkPath, t, 'ES256'), /^jot: (signature verification failed|invalid header)\n$/);
  });
});

describe('kid injection', () => {
  test('kid path traversal "../../dev/null" with an empty HMAC key', () => {
    const t = token({ alg: 'HS256', kid: '../../dev/null' }, claims({ sub: 'admin' }), 'HS256', Buffer.alloc(0));
    rejected(jot(['verify', '--jwks', hsSetPath, '--alg', 'HS256', t]), /^jot: no matching key\n$/);
    rejected(verify(hsPath, t, 'HS256'), R.noKey);
  });

  test('kid "/dev/null" and an empty kid', () => {
    for (const kid of ['/dev/null', '']) {
      const t = token({ alg: 'HS256', kid }, claims(), 'HS256', Buffer.alloc(0));
      rejected(jot(['verify', '--jwks', hsSetPath, '--alg', 'HS256', t]), /^jot: (no matching key|invalid header)\n$/);
    }
  });

  test('kid SQL injection selecting an attacker constant', () => {
    const kid = `x' UNION SELECT 'attacker-secret-attacker-secret!!' -- `;
    const t = token({ alg: 'HS256', kid }, claims({ sub: 'admin' }), 'HS256', Buffer.from('attacker-secret-attacker-secret!!'));
    rejected(jot(['verify', '--jwks', hsSetPath, '--alg', 'HS256', t]), /^jot: no matching key\n$/);
    rejected(verify(hsPath, t, 'HS256'), R.noKey);
  });

  test('kid that differs from the key only by case or a suffix', () => {
    for (const kid of [hsKid.toUpperCase(), `${hsKid}\u0000`, `${hsKid} `]) {
      if (kid === hsKid) continue;
      const t = token({ alg: 'HS256', kid }, claims(), 'HS256', hsKey);
      rejected(jot(['verify', '--jwks', hsSetPath, '--alg', 'HS256', t]), /^jot: (no matching key|invalid header|invalid JSON)\n$/);
    }
  });

  test('kid that is not a string', () => {
    const t = token({ alg: 'HS256', kid: 12 }, claims(), 'HS256', hsKey);
    rejected(jot(['verify', '--jwks', hsSetPath, '--alg', 'HS256', t]), /^jot: (invalid header|no matching key)\n$/);
  });
});

describe('ECDSA signature format and edge values', () => {
  const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
  const ecInput = () => `${b64uJson({ alg: 'ES256' })}.${b64uJson(claims({ sub: 'admin' }))}`;

  test('r = s = 0 ("psychic signature", all-zero 64 bytes)', () => {
    rejected(verify(ecJwkPath, `${ecInput()}.${b64u(Buffer.alloc(64))}`, 'ES256'), R.signature);
  });

  test('r = s = n (the group order) and r = n, s valid', () => {
    rejected(verify(ecJwkPath, `${ecInput()}.${b64u(Buffer.concat([P256_N, P256_N]))}`, 'ES256'), R.signature);
    const input = ecInput();
    const good = signRaw('ES256', ec.privateKey, input);
    rejected(verify(ecJwkPath, `${input}.${b64u(Buffer.concat([P256_N, good.subarray(32)]))}`, 'ES256'), R.signature);
  });

  test('ES256 signature in DER form instead of r||s', () => {
    const input = ecInput();
    const der = crypto.sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'der' });
    rejected(verify(ecJwkPath, `${input}.${b64u(der)}`, 'ES256'), R.signature);
  });

  test('ES256 signature of the wrong length (63 and 65 bytes)', () => {
    const input = ecInput();
    const good = signRaw('ES256', ec.privateKey, input);
    rejected(verify(ecJwkPath, `${input}.${b64u(good.subarray(0, 63))}`, 'ES256'), R.signature);
    rejected(verify(ecJwkPath, `${input}.${b64u(Buffer.concat([good, Buffer.alloc(1)]))}`, 'ES256'), R.signature);
  });

  test('alg ES256 but signed with a P-384 key (96-byte signature)', () => {
    const input = ecInput();
    const sig = crypto.sign('sha256', Buffer.from(input), { key: ec384.privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(sig.length, 96);
    rejected(verify(ecJwkPath, `${input}.${b64u(sig)}`, 'ES256'), R.signature);
  });

  test('an ES384 token (P-384 key) presented to a P-256 key', () => {
    const t = token({ alg: 'ES384' }, claims(), 'ES384', ec384.privateKey);
    rejected(verify(ecJwkPath, t, 'ES256,ES384'), R.confusion);
  });

  test('a valid ES256 signature of another payload', () => {
    const other = signRaw('ES256', ec.privateKey, `${b64uJson({ alg: 'ES256' })}.${b64uJson(claims({ sub: 'user' }))}`);
    rejected(verify(ecJwkPath, `${ecInput()}.${b64u(other)}`, 'ES256'), R.signature);
  });
});

// ---- base64url strictness --------------------------------------------------------------------

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Header/payload segment texts whose base64url length is not a multiple of 4. */
function unpaddedSegments() {
  for (let i = 0; i < 50; i++) {
    const h = b64uJson({ alg: 'HS256', kid: 'k'.repeat(i) });
    if (h.length % 4 === 0) continue;
    for (let j = 0; j < 50; j++) {
      const p = b64uJson(claims({ pad: 'p'.repeat(j) }));
      if (p.length % 4 !== 0) return [h, p];
    }
  }
  throw new Error('unreachable');
}
const pad = (s) => s + '='.repeat((4 - (s.length % 4)) % 4);

/** Set an unused low bit of the last character of an unpadded segment. */
function dirtyTail(seg) {
  assert.notEqual(seg.length % 4, 0);
  const v = ALPHABET.indexOf(seg.at(-1));
  const dirty = ALPHABET[v | 1];
  assert.notEqual(dirty, seg.at(-1), 'last character changed');
  const out = seg.slice(0, -1) + dirty;
  assert.deepEqual(Buffer.from(out, 'base64url'), Buffer.from(seg, 'base64url'), 'lenient decoders see the same bytes');
  return out;
}

describe('non-canonical base64url', () => {
  test('"=" padding on the header segment', () => {
    const [h, p] = unpaddedSegments();
    rejected(verify(hsPath, craft(pad(h), p, 'HS256', hsKey), 'HS256'), R.base64);
  });

  test('"=" padding on the payload segment', () => {
    const [h, p] = unpaddedSegments();
    rejected(verify(hsPath, craft(h, pad(p), 'HS256', hsKey), 'HS256'), R.base64);
  });

  test('"=" padding on the signature segment', () => {
    const t = hsToken({ alg: 'HS256' }, claims()); // 32-byte MAC: 43 characters
    rejected(verify(hsPath, pad(t), 'HS256'), R.base64);
  });

  test('standard-base64 "+" and "/" in the header and payload', () => {
    for (let i = 0; ; i++) {
      const h = b64uJson({ alg: 'HS256', kid: `~~~>${'?'.repeat(i)}` });
      const p = b64uJson(claims({ x: `~~~>${'?'.repeat(i)}` }));
      if (!/[-_]/.test(h) || !/[-_]/.test(p)) continue;
      const std = (s) => s.replace(/-/g, '+').replace(/_/g, '/');
      rejected(verify(hsPath, craft(std(h), p, 'HS256', hsKey), 'HS256'), R.base64);
      rejected(verify(hsPath, craft(h, std(p), 'HS256', hsKey), 'HS256'), R.base64);
      break;
    }
  });

  test('standard-base64 "+" or "/" in the signature', () => {
    for (let i = 0; i < 1000; i++) {
      const t = hsToken({ alg: 'HS256' }, claims({ n: i }));
      const sig = t.split('.')[2];
      if (!/[-_]/.test(sig)) continue;
      const std = sig.replace(/-/g, '+').replace(/_/g, '/');
      rejected(verify(hsPath, t.slice(0, t.lastIndexOf('.') + 1) + std, 'HS256'), R.base64);
      return;
    }
    assert.fail('no signature with - or _');
  });

  test('non-zero unused trailing bits in the header, payload and signature', () => {
    const [h, p] = unpaddedSegments();
    rejected(verify(hsPath, craft(dirtyTail(h), p, 'HS256', hsKey), 'HS256'), R.base64);
    rejected(verify(hsPath, craft(h, dirtyTail(p), 'HS256', hsKey), 'HS256'), R.base64);
    const t = craft(h, p, 'HS256', hsKey);
    const s = t.split('.')[2];
    rejected(verify(hsPath, `${h}.${p}.${dirtyTail(s)}`, 'HS256'), R.base64);
  });

  test('whitespace inside the token (space, tab; argument)', () => {
    const h = b64uJson({ alg: 'HS256' });
    const p = b64uJson(claims());
    for (const ws of [' ', '\t']) {
      const mid = Math.floor(p.length / 2);
      rejected(verify(hsPath, craft(h, p.slice(0, mid) + ws + p.slice(mid), 'HS256', hsKey), 'HS256'), R.base64);
    }
  });

  test('a newline inside the token (stdin)', () => {
    const h = b64uJson({ alg: 'HS256' });
    const p = b64uJson(claims());
    const t = craft(h, p.slice(0, 10) + '\n' + p.slice(10), 'HS256', hsKey);
    rejected(jot(['verify', '--key', hsPath, '--alg', 'HS256'], { input: t + '\n' }), R.base64);
    const t2 = craft(`${h}\r\n`, p, 'HS256', hsKey);
    rejected(jot(['verify', '--key', hsPath, '--alg', 'HS256'], { input: t2 }), R.base64);
  });

  test('characters outside the alphabet', () => {
    const h = b64uJson({ alg: 'HS256' });
    const p = b64uJson(claims());
    for (const c of ['!', '*', '.', '%2B', '\u00e9']) {
      rejected(verify(hsPath, craft(h, p + c, 'HS256', hsKey), 'HS256'), /^jot: (invalid base64url encoding|malformed token)\n$/);
    }
  });
});

// ---- JSON strictness ------------------------------------------------------------------------

describe('strict JSON in header and payload', () => {
  test('duplicate "alg" in the header', () => {
    const p = b64uJson(claims());
    rejected(verify(hsPath, craft(b64u('{"alg":"HS256","alg":"HS256"}'), p, 'HS256', hsKey), 'HS256'), R.duplicate);
    rejected(verify(hsPath, craft(b64u('{"alg":"none","alg":"HS256"}'), p, 'HS256', hsKey), 'HS256'), R.duplicate);
    rejected(verify(hsPath, craft(b64u('{"alg":"HS256","alg":"none"}'), p, 'HS256', hsKey), 'HS256'), R.duplicate);
  });

  test('duplicate claim in the payload', () => {
    const exp = EXP();
    const p = b64u(`{"sub":"user","exp":${exp},"sub":"admin"}`);
    rejected(verify(hsPath, craft(b64uJson({ alg: 'HS256' }), p, 'HS256', hsKey), 'HS256', '--sub', 'admin'), R.duplicate);
    const p2 = b64u(`{"exp":${exp},"exp":9999999999}`);
    rejected(verify(hsPath, craft(b64uJson({ alg: 'HS256' }), p2, 'HS256', hsKey), 'HS256'), R.duplicate);
  });

  test('header that is not a JSON object', () => {
    const p = b64uJson(claims());
    for (const h of ['["HS256"]', '"HS256"', '1', 'null', 'true', '']) {
      rejected(verify(hsPath, craft(b64u(h), p, 'HS256', hsKey), 'HS256'), R.header);
    }
  });

  test('header without alg, or with alg not a string', () => {
    const p = b64uJson(claims());
    for (const h of [{ typ: 'JWT' }, { alg: 256 }, { alg: ['HS256'] }, { alg: null }, { alg: 'HS256\u0000' }]) {
      rejected(verify(hsPath, craft(b64uJson(h), p, 'HS256', hsKey), 'HS256'), /^jot: (invalid header|unknown algorithm|malformed token)\n$/);
    }
  });

  test('payload JSON followed by trailing garbage', () => {
    const h = b64uJson({ alg: 'HS256' });
    for (const tail of ['x', ' {}', '}', ',', '\u0000']) {
      const p = b64u(`{"sub":"user","exp":${EXP()}}${tail}`);
      rejected(verify(hsPath, craft(h, p, 'HS256', hsKey), 'HS256'), /^jot: (payload is not a JSON object|invalid JSON)\n$/);
    }
  });

  test('payload that is not an object', () => {
    const h = b64uJson({ alg: 'HS256' });
    for (const body of ['[1]', '"s"', '42', 'null', '']) {
      rejected(verify(hsPath, craft(h, b64u(body), 'HS256', hsKey), 'HS256'), /^jot: (payload is not a JSON object|invalid JSON)\n$/);
    }
  });

  test('invalid UTF-8 in the payload', () => {
    const h = b64uJson({ alg: 'HS256' });
    const exp = EXP();
    for (const bad of [[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const body = Buffer.concat([Buffer.from('{"sub":"'), Buffer.from(bad), Buffer.from(`","exp":${exp}}`)]);
      rejected(verify(hsPath, craft(h, b64u(body), 'HS256', hsKey), 'HS256'), /^jot: (invalid UTF-8|invalid JSON|payload is not a JSON object)\n$/);
    }
  });

  test('invalid UTF-8 in the header', () => {
    const body = Buffer.concat([Buffer.from('{"alg":"HS256","kid":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    rejected(verify(hsPath, craft(b64u(body), b64uJson(claims()), 'HS256', hsKey), 'HS256'), /^jot: (invalid UTF-8|invalid JSON|invalid header)\n$/);
  });

  test('payload nested deeper than 16 levels', () => {
    const h = b64uJson({ alg: 'HS256' });
    for (const depth of [17, 20, 5000]) {
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      const p = b64u(`{"sub":"user","exp":${EXP()},"d":${deep}}`);
      rejected(verify(hsPath, craft(h, p, 'HS256', hsKey), 'HS256'), /^jot: (JSON nested too deeply|input too large)\n$/);
    }
  });

  test('header nested deeper than 16 levels', () => {
    const deep = '{"a":'.repeat(20) + '1' + '}'.repeat(20);
    const h = b64u(`{"alg":"HS256","x":${deep}}`);
    rejected(verify(hsPath, craft(h, b64uJson(claims()), 'HS256', hsKey), 'HS256'), /^jot: (JSON nested too deeply|invalid header)\n$/);
  });
});

// ---- critical headers -----------------------------------------------------------------------

describe('crit and b64', () => {
  test('crit ["exp"] (a registered claim name, not an extension)', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256', crit: ['exp'], exp: EXP() }, claims()), 'HS256'), R.crit);
  });

  test('crit naming an unknown extension that is present', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256', crit: ['x-bank'], 'x-bank': 1 }, claims()), 'HS256'), R.crit);
  });

  test('crit that is empty or not an array of strings', () => {
    for (const crit of [[], 'x-bank', [1], {}]) {
      rejected(verify(hsPath, hsToken({ alg: 'HS256', crit }, claims()), 'HS256'), /^jot: (unsupported critical header parameter|invalid header)\n$/);
    }
  });

  test('b64:false listed in crit (RFC 7797 unencoded payload)', () => {
    const header = b64uJson({ alg: 'HS256', b64: false, crit: ['b64'] });
    const payload = JSON.stringify(claims({ sub: 'admin' }));
    const sig = b64u(crypto.createHmac('sha256', hsKey).update(`${header}.${payload}`).digest());
    rejected(verify(hsPath, `${header}.${payload}.${sig}`, 'HS256'), /^jot: (unsupported critical header parameter|invalid header|invalid base64url encoding|malformed token)\n$/);
    // the same header over a base64url payload
    rejected(verify(hsPath, hsToken({ alg: 'HS256', b64: false, crit: ['b64'] }, claims()), 'HS256'), /^jot: (unsupported critical header parameter|invalid header)\n$/);
  });

  test('b64:false without crit', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256', b64: false }, claims()), 'HS256'), /^jot: (invalid header|unsupported critical header parameter|not supported)\n$/);
  });
});

// ---- claims ---------------------------------------------------------------------------------

describe('claims checks after a valid signature', () => {
  test('exp as a string "9999999999"', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, { sub: 'u', exp: '9999999999' }), 'HS256'), /^jot: claim has the wrong type \(exp\)\n$/);
  });

  test('nbf and iat of the wrong type', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims({ nbf: '0' })), 'HS256'), /^jot: claim has the wrong type \(nbf\)\n$/);
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims({ iat: true })), 'HS256'), /^jot: claim has the wrong type \(iat\)\n$/);
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims({ iss: 42 })), 'HS256', '--iss', '42'), /^jot: claim has the wrong type \(iss\)\n$/);
  });

  test('huge exp values', () => {
    for (const exp of ['1e400', '99999999999999999999999', '-1e400']) {
      const p = b64u(`{"sub":"u","exp":${exp}}`);
      rejected(verify(hsPath, craft(b64uJson({ alg: 'HS256' }), p, 'HS256', hsKey), 'HS256'), /^jot: (claim has the wrong type \(exp\)|invalid JSON|payload is not a JSON object|token expired \(exp\))\n$/);
    }
  });

  test('nbf in the future', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims({ nbf: now() + 600 })), 'HS256'), /^jot: token not yet valid \(nbf\)\n$/);
  });

  test('expired', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims({ exp: now() - 10 })), 'HS256'), /^jot: token expired \(exp\)\n$/);
  });

  test('no exp at all', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, { sub: 'u' }), 'HS256'), /^jot: token has no expiry \(exp\)\n$/);
  });

  test('wrong iss', () => {
    const t = hsToken({ alg: 'HS256' }, claims({ iss: 'https://evil.example' }));
    rejected(verify(hsPath, t, 'HS256', '--iss', 'https://auth.example'), /^jot: wrong issuer \(iss\)\n$/);
  });

  test('wrong aud', () => {
    const t = hsToken({ alg: 'HS256' }, claims({ aud: 'other-service' }));
    rejected(verify(hsPath, t, 'HS256', '--aud', 'my-service'), /^jot: wrong audience \(aud\)\n$/);
  });

  test('aud array without the expected value', () => {
    const t = hsToken({ alg: 'HS256' }, claims({ aud: ['a', 'b', 'my-service-2', ' my-service'] }));
    rejected(verify(hsPath, t, 'HS256', '--aud', 'my-service'), /^jot: wrong audience \(aud\)\n$/);
  });

  test('aud of the wrong type', () => {
    for (const aud of [1, { 'my-service': true }, [['my-service']], null]) {
      const t = hsToken({ alg: 'HS256' }, claims({ aud }));
      rejected(verify(hsPath, t, 'HS256', '--aud', 'my-service'), /^jot: (wrong audience|claim has the wrong type) \(aud\)\n$/);
    }
  });

  test('missing aud when --aud is given', () => {
    const t = hsToken({ alg: 'HS256' }, claims());
    rejected(verify(hsPath, t, 'HS256', '--aud', 'my-service'), /^jot: wrong audience \(aud\)\n$/);
  });

  test('wrong algorithm for the allowlist', () => {
    rejected(verify(hsPath, hsToken({ alg: 'HS256' }, claims()), 'HS384,HS512'), /^jot: algorithm not allowed\n$/);
  });
});
