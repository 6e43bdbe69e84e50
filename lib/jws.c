/* JWS compact serialization (RFC 7515 §7.1): parse, sign, verify the signature, decode.
 * Order of checks on the verify path: size, shape, base64url of every part, header JSON and
 * its parameters, algorithm allowlist, key selection and key/alg binding, signature — and
 * only then the payload's JSON (in jwt.c). */
#include "internal.h"
#include "jws.h"

#include <string.h>

/* Largest signature we ever verify: RSA with a JOT_MAX_RSA_BITS modulus. */
#define MAX_SIG_BYTES (JOT_MAX_RSA_BITS / 8u)

jot_token_t *jot__token_alloc(const jot_jws_parts_t *parts)
{
    size_t hcap = jot__b64url_decoded_len(parts->header_len) + 1;
    size_t pcap = jot__b64url_decoded_len(parts->payload_len) + 1;
    jot_token_t *t = jot__malloc(sizeof *t + hcap + pcap);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->header_json = (char *)(t + 1);
    t->payload = (uint8_t *)t->header_json + hcap;
    return t;
}

void jot_token_free(jot_token_t *t)
{
    if (!t)
        return;
    jot_free(t->header);
    if (t->claims == &t->own_claims)
        jot__claims_clear(&t->own_claims);
    else
        jot_claims_free(t->claims);
    jot_free(t);
}

jot_alg_t jot_token_alg(const jot_token_t *t)
{
    return t ? t->alg : JOT_ALG_UNSET;
}

static const char *header_string(const jot_token_t *t, const char *name)
{
    return t ? jot__jview_string(t->header, name) : NULL; /* NULL if not a string */
}

const char *jot_token_kid(const jot_token_t *t)
{
    return header_string(t, "kid");
}

const char *jot_token_typ(const jot_token_t *t)
{
    return header_string(t, "typ");
}

const jot_claims_t *jot_token_claims(const jot_token_t *t)
{
    return t ? t->claims : NULL;
}

const char *jot_token_header_json(const jot_token_t *t, size_t *out_len)
{
    if (!t)
        return NULL;
    if (out_len)
        *out_len = t->header_len;
    return t->header_json;
}

const uint8_t *jot_token_payload(const jot_token_t *t, size_t *out_len)
{
    if (!t)
        return NULL;
    if (out_len)
        *out_len = t->payload_len;
    return t->payload;
}

jot_err_t jot__jws_split(const char *token, size_t len, jot_jws_parts_t *out)
{
    return jot__jws_split_max(token, len, JOT_MAX_PAYLOAD_BYTES, out);
}

jot_err_t jot__jws_split_max(const char *token, size_t len, size_t max_payload,
                             jot_jws_parts_t *out)
{
    if (!token)
        return JOT_E_INVAL;
    /* the usual cap, or room for a larger payload (status lists) and the other parts */
    size_t max_len = max_payload <= JOT_MAX_PAYLOAD_BYTES
                         ? JOT_MAX_TOKEN_LEN
                         : jot_b64url_encoded_len(max_payload) + JOT_MAX_TOKEN_LEN;
    if (len > max_len)
        return JOT_E_TOOBIG;
    const char *d1 = memchr(token, '.', len);
    if (!d1)
        return JOT_E_MALFORMED;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (!d2)
        return JOT_E_MALFORMED;
    /* exactly three parts: a fourth dot means JWE (5 parts) or garbage */
    if (memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return JOT_E_MALFORMED;
    out->header = token;
    out->header_len = (size_t)(d1 - token);
    out->payload = d1 + 1;
    out->payload_len = (size_t)(d2 - d1 - 1);
    out->sig = d2 + 1;
    out->sig_len = len - (size_t)(d2 + 1 - token);
    if (out->header_len == 0)
        return JOT_E_MALFORMED;
    if (out->header_len > jot_b64url_encoded_len(JOT_MAX_HEADER_BYTES) ||
        out->payload_len > jot_b64url_encoded_len(max_payload))
        return JOT_E_TOOBIG;
    return JOT_OK;
}

static bool name_is(const jot_jmember_t *m, const char *name, size_t len)
{
    return m->name_len == len && memcmp(m->name, name, len) == 0;
}

/* Checks the registered header parameters. The header is attacker-controlled until the
 * signature is verified, so it only ever narrows what is accepted. */
static jot_err_t check_header(const jot_jview_t *hdr, jot_alg_t *out_alg)
{
    const jot_jmember_t *alg = NULL, *crit = NULL, *b64 = NULL;
    bool bad_param = false;
    /* one pass over the members: kid, typ, cty, jku, x5u, x5t, x5t#S256 must be strings */
    static const char *const string_params[] = {"kid", "typ", "cty", "jku", "x5u", "x5t"};
    for (size_t i = 0; i < hdr->n; i++) {
        const jot_jmember_t *m = &hdr->members[i];
        if (name_is(m, "alg", 3)) {
            alg = m;
        } else if (name_is(m, "crit", 4)) {
            crit = m;
        } else if (name_is(m, "b64", 3)) {
            b64 = m;
        } else if (m->v.type != JOT_J_STRING) {
            bool registered = name_is(m, "x5t#S256", 8);
            for (size_t k = 0; !registered && k < sizeof string_params / sizeof *string_params; k++)
                registered = name_is(m, string_params[k], 3);
            bad_param |= registered;
        }
    }
    if (!alg || alg->v.type != JOT_J_STRING)
        return JOT_E_HEADER;
    jot_err_t rc = jot_alg_from_name(alg->v.str, alg->v.len, out_alg);
    if (rc != JOT_OK)
        return rc;
    if (bad_param)
        return JOT_E_HEADER;
    /* RFC 7515 §4.1.11: we implement no extension, so any "crit" is unsupported; a
     * malformed one (not a non-empty array of strings) is an invalid header. */
    if (crit) {
        if (crit->v.type != JOT_J_ARRAY || crit->count == 0)
            return JOT_E_HEADER;
        for (size_t i = 0; i < crit->count; i++)
            if (hdr->elems[crit->first + i].type != JOT_J_STRING)
                return JOT_E_HEADER;
        return JOT_E_CRIT;
    }
    /* RFC 7797 unencoded payloads are not supported: b64 other than true changes what the
     * signature covers. With "crit":["b64"] it is JOT_E_CRIT above. */
    if (b64 && b64->v.type != JOT_J_TRUE)
        return JOT_E_HEADER; /* b64:false is only legal with "crit":["b64"], refused above */
    return JOT_OK;
}

static jot_err_t parse_header(const char *json, size_t len, jot_jview_t **out)
{
    jot_err_t rc = jot__jview_parse(json, len, JOT_MAX_HEADER_BYTES, JOT_MAX_JSON_DEPTH,
                                    JOT_MAX_HEADER_BYTES, out);
    return rc == JOT_E_JSON ? JOT_E_HEADER : rc;
}

jot_err_t jot__jws_decode_header(const jot_jws_parts_t *parts, jot_token_t *t)
{
    size_t n;
    jot_err_t rc =
        jot_b64url_decode((uint8_t *)t->header_json, &n, parts->header, parts->header_len);
    if (rc != JOT_OK)
        return rc;
    t->header_json[n] = '\0';
    t->header_len = n;
    return parse_header(t->header_json, n, &t->header);
}

jot_err_t jot__jws_decode_payload(const jot_jws_parts_t *parts, jot_token_t *t)
{
    jot_err_t rc =
        jot_b64url_decode(t->payload, &t->payload_len, parts->payload, parts->payload_len);
    if (rc == JOT_OK)
        t->payload[t->payload_len] = 0;
    return rc;
}

/* The key of the set named by kid. Without a kid, the one key of the set that suits the
 * algorithm (two or more: ambiguous). */
jot_err_t jot__keyset_select(const jot_keyset_t *set, const jot_jview_t *header, jot_alg_t alg,
                             const jot_key_t **out)
{
    const jot_jmember_t *kid = jot__jview_get(header, "kid");
    if (kid) {
        /* a string: check_header() said so */
        const jot_key_t *k = jot_keyset_find(set, kid->v.str, kid->v.len);
        if (!k)
            return JOT_E_KEY_NOT_FOUND;
        *out = k;
        return JOT_OK;
    }
    const jot_key_t *found = NULL;
    for (size_t i = 0; i < jot_keyset_count(set); i++) {
        const jot_key_t *k = jot_keyset_get(set, i);
        if (jot_key_check_alg(k, alg, 0) != JOT_OK)
            continue;
        if (found)
            return JOT_E_KEY_NOT_FOUND;
        found = k;
    }
    if (!found)
        return JOT_E_KEY_NOT_FOUND;
    *out = found;
    return JOT_OK;
}

/* Choose the key: the caller's single key, else the key set's, else the remote set's (whose
 * reference \p held the caller releases after using the key). */
static jot_err_t select_key(const jot_verifier_t *v, const jot_token_t *t, jot_alg_t alg,
                            const jot_key_t **out, struct jot_rdoc_ref **held)
{
    if (v->key) {
        *out = v->key;
        return JOT_OK;
    }
    if (v->keyset)
        return jot__keyset_select(v->keyset, t->header, alg, out);
    if (v->remote)
        return jot__remote_select(v->remote, t->header, alg, out, held);
    return JOT_E_KEY_NOT_FOUND;
}

jot_err_t jot__jws_verify(const jot_verifier_t *v, const char *token, size_t len, jot_token_t **out)
{
    if (!v || !token || !out)
        return JOT_E_INVAL;
    jot_jws_parts_t parts;
    jot_err_t rc = jot__jws_split_max(token, len, jot__verifier_max_payload(v), &parts);
    if (rc != JOT_OK)
        return rc;
    jot_token_t *t = jot__token_alloc(&parts);
    if (!t)
        return JOT_E_NOMEM;
    rc = jot__jws_decode_header(&parts, t);
    if (rc == JOT_OK)
        rc = check_header(t->header, &t->alg);
    if (rc == JOT_OK && !(v->algs & JOT_ALG_BIT(t->alg)))
        rc = JOT_E_ALG_NOT_ALLOWED;
    /* an empty (stripped) or oversized signature never matches */
    if (rc == JOT_OK &&
        (parts.sig_len == 0 || parts.sig_len > jot_b64url_encoded_len(MAX_SIG_BYTES)))
        rc = JOT_E_SIGNATURE;
    uint8_t sig[MAX_SIG_BYTES + 4];
    size_t sig_len = 0;
    if (rc == JOT_OK)
        rc = jot_b64url_decode(sig, &sig_len, parts.sig, parts.sig_len);
    const jot_key_t *key = NULL;
    struct jot_rdoc_ref *held = NULL; /* keeps a remote set's key alive */
    if (rc == JOT_OK)
        rc = select_key(v, t, t->alg, &key, &held);
    if (rc == JOT_OK)
        rc = jot__sig_verify(t->alg, key, (const uint8_t *)token,
                             parts.header_len + 1 + parts.payload_len, sig, sig_len);
    if (held)
        jot__remote_release(v->remote, held);
    if (rc == JOT_OK)
        rc = jot__jws_decode_payload(&parts, t);
    if (rc != JOT_OK) {
        jot_token_free(t);
        return rc;
    }
    *out = t;
    return JOT_OK;
}

jot_err_t jot_jws_verify(const jot_verifier_t *v, const char *token, size_t len,
                         jot_token_t **out_token)
{
    jot_token_t *t;
    jot_err_t rc = jot__jws_verify(v, token, len, &t);
    if (rc != JOT_OK)
        return rc;
    if (out_token)
        *out_token = t;
    else
        jot_token_free(t);
    return JOT_OK;
}

jot_err_t jot_decode_unverified(const char *token, size_t len, jot_token_t **out_token)
{
    if (!token || !out_token)
        return JOT_E_INVAL;
    jot_jws_parts_t parts;
    jot_err_t rc = jot__jws_split(token, len, &parts);
    if (rc != JOT_OK)
        return rc;
    jot_token_t *t = jot__token_alloc(&parts);
    if (!t)
        return JOT_E_NOMEM;
    rc = jot__jws_decode_header(&parts, t);
    if (rc == JOT_OK) {
        /* the algorithm is shown, not judged: "none" or unknown leave it UNSET */
        const jot_jmember_t *alg = jot__jview_get(t->header, "alg");
        if (alg && alg->v.type == JOT_J_STRING &&
            jot_alg_from_name(alg->v.str, alg->v.len, &t->alg) != JOT_OK)
            t->alg = JOT_ALG_UNSET;
        rc = jot__jws_decode_payload(&parts, t);
    }
    if (rc == JOT_OK) {
        size_t sig_len = jot__b64url_decoded_len(parts.sig_len);
        uint8_t *sig = jot__malloc(sig_len + 1);
        rc = sig ? jot_b64url_decode(sig, &sig_len, parts.sig, parts.sig_len) : JOT_E_NOMEM;
        jot_free(sig);
    }
    /* claims are shown when the payload is a JSON object within the usual limits */
    if (rc == JOT_OK && t->payload_len && t->payload[0] == '{') {
        jot_err_t crc = jot_claims_from_json((const char *)t->payload, t->payload_len, &t->claims);
        if (crc == JOT_E_NOMEM)
            rc = crc;
    }
    if (rc != JOT_OK) {
        jot_token_free(t);
        return rc;
    }
    *out_token = t;
    return JOT_OK;
}

/* jot_jws_sign() and jot_jws_sign_large(): the header checked, then signed within the caps. */
static jot_err_t sign_checked(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                              size_t header_len, const uint8_t *payload, size_t payload_len,
                              size_t payload_cap, size_t token_cap, char **out_token,
                              size_t *out_len)
{
    if (!key || !header_json || (!payload && payload_len) || !out_token)
        return JOT_E_INVAL;
    if (header_len > JOT_MAX_HEADER_BYTES || payload_len > payload_cap)
        return JOT_E_TOOBIG;
    jot_jview_t *hdr;
    jot_err_t rc = jot__jview_parse(header_json, header_len, JOT_MAX_HEADER_BYTES,
                                    JOT_MAX_JSON_DEPTH, JOT_MAX_HEADER_BYTES, &hdr);
    if (rc != JOT_OK)
        return rc;
    jot_alg_t hdr_alg;
    rc = check_header(hdr, &hdr_alg);
    jot_free(hdr);
    if (rc != JOT_OK)
        return rc;
    if (hdr_alg != alg)
        return JOT_E_HEADER;
    return jot__jws_sign_capped(key, alg, header_json, header_len, payload, payload_len,
                                payload_cap, token_cap, out_token, out_len);
}

jot_err_t jot_jws_sign(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                       size_t header_len, const uint8_t *payload, size_t payload_len,
                       char **out_token, size_t *out_len)
{
    return sign_checked(key, alg, header_json, header_len, payload, payload_len,
                        JOT_MAX_PAYLOAD_BYTES, JOT_MAX_TOKEN_LEN, out_token, out_len);
}

jot_err_t jot_jws_sign_large(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                             size_t header_len, const uint8_t *payload, size_t payload_len,
                             size_t max_len, char **out_token, size_t *out_len)
{
    if (max_len > JOT_MAX_LARGE_TOKEN_LEN)
        return JOT_E_INVAL;
    return sign_checked(key, alg, header_json, header_len, payload, payload_len, max_len, max_len,
                        out_token, out_len);
}

jot_err_t jot__jws_sign_unchecked(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                                  size_t header_len, const uint8_t *payload, size_t payload_len,
                                  char **out_token, size_t *out_len)
{
    return jot__jws_sign_capped(key, alg, header_json, header_len, payload, payload_len,
                                JOT_MAX_PAYLOAD_BYTES, JOT_MAX_TOKEN_LEN, out_token, out_len);
}

jot_err_t jot__jws_sign_capped(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                               size_t header_len, const uint8_t *payload, size_t payload_len,
                               size_t payload_cap, size_t token_cap, char **out_token,
                               size_t *out_len)
{
    if (header_len > JOT_MAX_HEADER_BYTES || payload_len > payload_cap)
        return JOT_E_TOOBIG;
    size_t hlen = jot_b64url_encoded_len(header_len);
    size_t plen = jot_b64url_encoded_len(payload_len);
    size_t slen = jot_b64url_encoded_len(MAX_SIG_BYTES);
    size_t cap = hlen + 1 + plen + 1 + slen + 1;
    char *buf = jot__malloc(cap);
    if (!buf)
        return JOT_E_NOMEM;
    size_t n = jot_b64url_encode(buf, (const uint8_t *)header_json, header_len);
    buf[n++] = '.';
    n += jot_b64url_encode(buf + n, payload, payload_len);
    uint8_t *sig;
    size_t sig_len;
    jot_err_t rc = jot__sig_sign(alg, key, (const uint8_t *)buf, n, &sig, &sig_len);
    if (rc != JOT_OK) {
        jot_free(buf);
        return rc;
    }
    buf[n++] = '.';
    n += jot_b64url_encode(buf + n, sig, sig_len);
    jot__free_secret(sig, sig_len);
    if (n > token_cap) {
        jot_free(buf);
        return JOT_E_TOOBIG;
    }
    *out_token = buf;
    if (out_len)
        *out_len = n;
    return JOT_OK;
}
