#!/usr/bin/env python3
"""Rebuild the seed corpora in fuzz/corpus/<target>/ (see fuzz/README.md).

    fuzz/mkcorpus.py SEEDGEN [VECTORS_DIR]

SEEDGEN is the fuzz_seedgen binary (cmake --build build --target fuzz_seedgen), which signs
tokens with the fixed key set of fuzz_keys.h and exports keys; VECTORS_DIR (default
../shared/vectors) holds the RFC examples, the RFC 7520 cookbook and Wycheproof. The openssl
command line converts keys into the PEM forms libjot does not write (traditional, PKCS#1,
encrypted, certificates). Everything else is written here by hand.

Existing seeds are replaced, files the fuzzer added through a -merge=1 are left alone.
Only the standard library is used."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
TARGETS = ["token", "b64url", "json", "jwk", "jwks", "pem", "request", "admin", "config",
           "redirect"]


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def opt(byte, data):
    """A seed whose first byte is the target's option byte."""
    if isinstance(data, str):
        data = data.encode()
    return bytes([byte]) + data


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def seedgen(binary, out):
    for t in ("token", "jwk", "pem", "jwks"):
        os.makedirs(os.path.join(out, t), exist_ok=True)
    subprocess.run([binary, out], check=True)
    for t in ("token", "jwk", "pem", "jwks"):
        for name in sorted(os.listdir(os.path.join(out, t))):
            shutil.copy(os.path.join(out, t, name), os.path.join(CORPUS, t, name))


def token_seeds(vec):
    rfc = os.path.join(vec, "rfc-examples")
    for fname, o in [("rfc7515_A.1_HS256.json", 0x00), ("rfc7515_A.2_RS256.json", 0x03),
                     ("rfc7515_A.3_ES256.json", 0x05), ("rfc7515_A.4_ES512.json", 0x00),
                     ("rfc7515_A.5_none.json", 0x00), ("rfc7519_6.1_unsecured_JWT.json", 0x80),
                     ("rfc8037_A_Ed25519.json", 0x07)]:
        with open(os.path.join(rfc, fname)) as f:
            d = json.load(f)
        put("token", "rfc-" + fname.split("_")[0][3:] + "-" + fname.split("_")[1], opt(o, d["token"]))
    # Wycheproof JWS: one test of each kind (their keys are not ours: parse paths)
    with open(os.path.join(vec, "wycheproof/testvectors_v1/json_web_signature_test.json")) as f:
        d = json.load(f)
    seen = set()
    for g in d["testGroups"]:
        for t in g["tests"]:
            key = t["comment"]
            if key in seen or len(seen) >= 8:
                continue
            seen.add(key)
            put("token", "wycheproof-%d" % t["tcId"], opt(0x00, t["jws"]))
    # by hand: shapes the parser must refuse early
    hand = {
        "five-parts": "eyJhbGciOiJIUzI1NiJ9.e30.e30.e30.c2ln",
        "dots": "..",
        "crit": "eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiZXhwIl19.e30.c2ln",
        "b64-false": "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2V9.e30.c2ln",
        "kid-number": "eyJhbGciOiJIUzI1NiIsImtpZCI6MX0.e30.c2ln",
        "alg-none": "eyJhbGciOiJub25lIn0.e30.",
        "padding": "eyJhbGciOiJIUzI1NiJ9.e30=.c2ln",
    }
    for name, tok in hand.items():
        put("token", "hand-" + name, opt(0x00, tok))


def b64url_seeds():
    for name, s in {"empty": "", "one": "QQ", "two": "QUI", "three": "QUJD", "alphabet":
                    "-_-_AZaz09", "padded": "QQ==", "noncanonical": "QR", "len5": "QUJDR",
                    "plus-slash": "+/+/", "header": "eyJhbGciOiJFUzI1NiJ9",
                    "space": "QU JD"}.items():
        put("b64url", name, s)
    put("b64url", "binary", bytes(range(256)))


def json_seeds():
    obj = 0x20 | 15  # want_object, depth 16
    seeds = {
        "claims": (obj, compact({"iss": "https://issuer.example", "sub": "user-1",
                                 "aud": ["api", "urn:other"], "exp": 1300822600,
                                 "nbf": 1300818900, "iat": 1300818900.25, "jti": "x",
                                 "admin": True, "n": None, "o": {"a": [1, -0, 1e3]}})),
        "header": (0x40 | obj, '{"typ":"JWT",\r\n "alg":"HS256","kid":"k\\u00e9\\ud83d\\ude00"}'),
        "depth16": (obj, '{"a":' * 15 + "[]" + "}" * 15),
        "depth17": (obj, '{"a":' * 16 + "[]" + "}" * 16),
        "duplicate": (obj, '{"a":1,"a":2}'),
        "numbers": (obj, '{"i":9007199254740993,"r":1.7976931348623157e308,"m":-9223372036854775808,"e":1E-400,"f":0.1}'),
        "strings": (obj, '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001","t":"\\ud800"}'),
        "bad-utf8": (obj, b'{"a":"\xc3\x28"}'),
        "nul": (obj, b'{"a":"\x00"}'),
        "trailing": (obj, '{"a":1} x'),
        "array": (15, '[1,"two",{"three":3},[true,false,null]]'),
        "scalar": (15, '"just a string"'),
        "escaped-quote-depth": (obj, '{"a":"\\"[[[[[[[[[[[[[[[[[[","b":[[[]]]}'),
    }
    for name, (o, text) in seeds.items():
        put("json", name, opt(o, text))


def jwk_seeds(vec):
    cook = os.path.join(vec, "jose-cookbook/jwk")
    for fname in sorted(os.listdir(cook)):
        with open(os.path.join(cook, fname)) as f:
            put("jwk", "cookbook-" + fname.split(".")[0], compact(json.load(f)))
    with open(os.path.join(vec, "rfc-examples/rfc7638_3.1_thumbprint.json")) as f:
        put("jwk", "rfc7638", compact(json.load(f)["jwk"]))
    with open(os.path.join(vec, "rfc-examples/rfc7515_A.4_ES512.json")) as f:
        put("jwk", "rfc7515-A4-p521", compact(json.load(f)["jwk"]))
    with open(os.path.join(vec, "wycheproof/testvectors_v1/json_web_key_test.json")) as f:
        d = json.load(f)
    # one key from each Wycheproof group (their sets hold the interesting single keys)
    seen = set()
    for g in d["testGroups"]:
        for part in ("private", "public"):
            k = g.get(part)
            keys = k.get("keys", []) if isinstance(k, dict) and "keys" in k else [k]
            for key in keys:
                text = compact(key)
                if not isinstance(key, dict) or text in seen or g["comment"] in seen:
                    continue
                seen.update((text, g["comment"]))
                put("jwk", "wycheproof-%s-%s" % (g["comment"], part), text)

    hand = {
        "key-ops": {"kty": "oct", "k": "A" * 43, "key_ops": ["verify", "sign", "encrypt"],
                    "alg": "HS256", "use": "sig", "kid": "k"},
        "key-ops-empty": {"kty": "oct", "k": "A" * 43, "key_ops": []},
        "use-enc": {"kty": "OKP", "crv": "Ed25519", "use": "enc",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        "x25519": {"kty": "OKP", "crv": "X25519",
                   "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"},
        "oth": {"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": "AQ", "oth": [{"r": "AQ"}]},
    }
    for name, k in hand.items():
        put("jwk", "hand-" + name, compact(k))


def jwks_seeds(vec):
    with open(os.path.join(vec, "wycheproof/testvectors_v1/json_web_key_test.json")) as f:
        d = json.load(f)
    seen = set()
    for g in d["testGroups"]:
        for part in ("private", "public"):
            k = g.get(part)
            if isinstance(k, dict) and "keys" in k and g["comment"] not in seen:
                seen.add(g["comment"])
                put("jwks", "wycheproof-%s-%s" % (g["comment"], part), compact(k))
    put("jwks", "hand-empty", '{"keys":[]}')
    put("jwks", "hand-skipped", compact({"keys": [
        {"kty": "oct", "k": "AAAA", "kid": "short"},
        {"kty": "RSA", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
        {"kty": "OKP", "crv": "X448", "x": "AA"},
        {"kty": "EC", "crv": "P-256", "kid": "fuzz-es256",
         "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
         "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}))
    put("jwks", "hand-not-array", '{"keys":{}}')


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout


def pem_seeds():
    pdir = os.path.join(CORPUS, "pem")
    rsa = open(os.path.join(pdir, "gen-rs256-pkcs8.pem"), "rb").read()
    ec = open(os.path.join(pdir, "gen-es256-pkcs8.pem"), "rb").read()
    put("pem", "rsa-traditional.pem", openssl("rsa", "-traditional", data=rsa))
    put("pem", "rsa-pkcs1-public.pem", openssl("rsa", "-RSAPublicKey_out", data=rsa))
    ec_trad = openssl("ec", data=ec)
    put("pem", "ec-traditional.pem", ec_trad)
    put("pem", "ec-with-params.pem", openssl("ecparam", "-name", "prime256v1") + ec_trad)
    put("pem", "pkcs8-encrypted.pem",
        openssl("pkcs8", "-topk8", "-v2", "aes-128-cbc", "-passout", "pass:fuzz", data=ec))
    put("pem", "rsa-proc-type.pem",
        openssl("rsa", "-traditional", "-aes128", "-passout", "pass:fuzz", data=rsa))
    with tempfile.NamedTemporaryFile() as keyfile:
        keyfile.write(ec)
        keyfile.flush()
        put("pem", "certificate.pem", openssl("req", "-x509", "-key", keyfile.name, "-subj",
                                              "/CN=fuzz", "-days", "1"))
    put("pem", "garbage.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    put("pem", "jwk-via-parse.json", '  {"kty":"oct","k":"' + "A" * 43 + '"}')


def request_seeds():
    FORM, JSONCT, JSONCS, FORMODD, TEXT, NONE = 0, 1, 2, 3, 4, 5
    BASIC, BEARER = 1 << 3, 2 << 3
    seeds = {
        "form-password": (FORM, "grant_type=password&username=alice&password=s3cr%C3%A9t+pw"
                                "&scope=read%20write&client_id=default"),
        "form-refresh": (FORMODD, "grant_type=refresh_token&refresh_token=abc-DEF_123"),
        "form-revoke": (FORM, "token=eyJhbGciOiJFUzI1NiJ9.e30.c2ln&token_type_hint=access_token"),
        "form-empty-pairs": (FORM, "&&a=1&&=x&b&c="),
        "form-duplicate": (FORM, "a=1&a=2"),
        "form-bad-escape": (FORM, "a=%4&b=%zz"),
        "form-nul": (FORM, "a=%00"),
        "form-bad-utf8": (FORM, "a=%C3%28"),
        "json-token": (JSONCT, compact({"grant_type": "password", "username": "alice",
                                        "password": "pw", "scope": ["read", "write"]})),
        "json-types": (JSONCS, '{"n":1,"r":0.1,"t":true,"f":false,"z":null}'),
        "json-array-space": (JSONCT, '{"scope":["a b"]}'),
        "json-duplicate": (JSONCT, '{"a":"1","a":"2"}'),
        "json-not-object": (JSONCT, '["a"]'),
        "basic": (BASIC | FORM, "ZGVmYXVsdDpzZWNyZXQ="),
        "basic-encoded": (BASIC | FORM, "bXklM0FjbGllbnQ6cyUzQWVjcmV0"),
        "bearer": (BEARER | TEXT, "eyJhbGciOiJFUzI1NiJ9.e30.c2ln=="),
        "media": (NONE, "a=1"),
    }
    for name, (o, body) in seeds.items():
        put("request", name, opt(o, body))


def admin_seeds():
    GET, POST, PATCH, DELETE = 0, 1, 2, 3
    J = 8
    seeds = {
        "create": (POST | J, "", compact({"username": "alice@example.com", "password": "s3cret-pw",
                                          "roles": ["admin", "ops.team"],
                                          "permissions": ["read:users", "write/x"],
                                          "disabled": False})),
        "create-bad-name": (POST | J, "", '{"username":"al ice","password":"x"}'),
        "create-extra": (POST | J, "", '{"username":"a","password":"x","id":1}'),
        "patch": (PATCH | J, "/42", '{"roles":[],"disabled":true}'),
        "patch-roles-type": (PATCH | J, "/42", '{"roles":"admin"}'),
        "patch-duplicate": (PATCH | J, "/1", '{"password":"a","password":"b"}'),
        "sessions": (DELETE | J, "/9007199254740992/sessions", ""),
        "bad-id": (GET, "/9007199254740993", ""),
        "list": (GET, "", ""),
        "long-id": (GET, "/12345678901234567890123", ""),
        "text-plain": (POST, "", '{"username":"a"}'),
    }
    for name, (o, path, body) in seeds.items():
        put("admin", name, opt(o, path + "\n" + body))


def config_seeds():
    FILE, ARGS, REST = 0, 1, 2
    seeds = {
        "full": (FILE, "# jotd\n"
                       "data = ./var\nlisten = 127.0.0.1:8080\nissuer = \"https://auth.example\"\n"
                       "audience = api # the API\ntls_cert =\ntls_key = \"\"\ninsecure_http = no\n"
                       "alg = ES256\naccess_ttl = 15m\nrefresh_idle_ttl = 7d\n"
                       "refresh-absolute-ttl = 30d\nrefresh_grace = 10s\nargon2_m_kib = 19456\n"
                       "argon2_t = 2\nargon2_p = 1\nmax_body = 16384\nthreads = 4\n"
                       "max_connections = 1024\nconnection_timeout = 30\n"
                       "throttle_account_failures = 5\nthrottle_ip_failures = 20\n"
                       "default_client = default\n"),
        "ipv6": (FILE, "listen = [::1]:0\r\nalg = EdDSA\r\n"),
        "tls": (FILE, "listen = 0.0.0.0:443\ntls_cert = /x/cert.pem\ntls_key = /x/key.pem\n"),
        "bad-quote": (FILE, 'issuer = "https://a\n'),
        "bad-key": (FILE, "no_such_key = 1\n"),
        "hs256": (FILE, "alg = HS256\n"),
        "overflow": (FILE, "access_ttl = 99999999999999999999d\nthreads = 4294967296\n"),
        "args": (ARGS, "--listen\n127.0.0.1:9\n--access-ttl=60\n--insecure-http\n--data=/tmp/x"),
        "args-rest": (ARGS | REST, "--password-stdin\nadmin\n--\n--alg=RS256"),
        "args-missing": (ARGS, "--issuer"),
    }
    for name, (o, text) in seeds.items():
        put("config", name, opt(o, text))


def redirect_seeds():
    HTTPS, HTTP, LOCALHOST = 0, 1, 2
    seeds = {
        "app": (HTTPS, "https://app.jot.test/path?q=1&r=%2F#f"),
        "port": (HTTPS, "https://app.jot.test:8443/"),
        "apex": (HTTPS, "https://jot.test"),
        "userinfo": (HTTPS, "https://jot.test@evil.com/"),
        "query-host": (HTTPS, "https://evil.com?.jot.test"),
        "suffix": (HTTPS, "https://jot.test.evil.com/"),
        "backslash": (HTTPS, "https://app.jot.test\\@evil.com/"),
        "nul": (HTTPS, "https://app.jot.test\x00.evil.com/"),
        "pct00": (HTTPS, "https://app.jot.test/%00"),
        "crlf": (HTTPS, "https://app.jot.test/\r\nSet-Cookie: a=b"),
        "ipv6": (HTTPS, "https://[::1]:443/"),
        "idn": (HTTPS, "https://\u043f\u0440\u0438.jot.test/"),
        "http-dev": (HTTP | LOCALHOST, "http://localhost:8080/app"),
        "http-refused": (HTTPS, "http://app.jot.test/"),
        "scheme-relative": (HTTPS, "//evil.com"),
    }
    for name, (o, text) in seeds.items():
        put("redirect", name, opt(o, text))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    vec = sys.argv[2] if len(sys.argv) == 3 else os.path.join(HERE, "..", "..", "shared",
                                                                 "vectors")
    for t in TARGETS:
        os.makedirs(os.path.join(CORPUS, t), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        seedgen(os.path.abspath(sys.argv[1]), tmp)
    token_seeds(vec)
    b64url_seeds()
    json_seeds()
    jwk_seeds(vec)
    jwks_seeds(vec)
    pem_seeds()
    request_seeds()
    admin_seeds()
    config_seeds()
    redirect_seeds()
    for t in TARGETS:
        print("%-8s %3d seeds" % (t, len(os.listdir(os.path.join(CORPUS, t)))))


if __name__ == "__main__":
    main()
