/* The one private header of libjot: every lib .c file includes it first. Nothing here is API. */
#ifndef JOT_INTERNAL_H
#define JOT_INTERNAL_H

#include "jot/jot.h"
#include "limits.h"
#include "common/buf.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory (mem.c) ----------------------------------------------------------------- */
void *jot__malloc(size_t n);
void *jot__calloc(size_t n, size_t size);
void *jot__realloc(void *p, size_t n);
char *jot__strdup(const char *s);
char *jot__strndup(const char *s, size_t n);
/** Allocation failures inside jansson (once jot_set_allocator() routed it through the hook):
 *  clear before a jansson call, test after it returned NULL. Thread-local. */
void jot__json_oom_clear(void);
bool jot__json_oom(void);
/** Wipe \p n bytes then free. NULL is a no-op. */
void jot__free_secret(void *p, size_t n);
/** jot__malloc/jot__realloc/jot_free as the allocator of a jotx_buf_t (common/buf.h). */
extern const jotx_alloc_t jot__alloc;

/* ---- algorithms (alg.c) --------------------------------------------------------------- */
typedef enum jot_family {
    JOT_FAM_NONE = 0,
    JOT_FAM_HMAC,
    JOT_FAM_RSA_PKCS1,
    JOT_FAM_RSA_PSS,
    JOT_FAM_ECDSA,
    JOT_FAM_EDDSA
} jot_family_t;

/** Curves, as identified in JWKs. */
typedef enum jot_crv {
    JOT_CRV_NONE = 0,
    JOT_CRV_P256,
    JOT_CRV_P384,
    JOT_CRV_P521,
    JOT_CRV_SECP256K1,
    JOT_CRV_ED25519,
    JOT_CRV_ED448
} jot_crv_t;

typedef struct jot_alg_info {
    jot_alg_t alg;
    const char *name; /* "ES256" */
    jot_family_t family;
    const char *md_name; /* OpenSSL digest name, NULL for EdDSA */
    size_t hash_len;     /* digest length in bytes (HMAC minimum key length) */
    jot_kty_t kty;
    jot_crv_t crv;  /* required curve for ECDSA, NONE otherwise */
    size_t sig_len; /* fixed signature length, 0 when it depends on the key (RSA/EdDSA) */
} jot_alg_info_t;

/** Table entry for \p alg, NULL for UNSET / out of range. */
const jot_alg_info_t *jot__alg_info(jot_alg_t alg);

/** Curve name ("P-256") and its lookup; field size in bytes (32, 48, 66, 32, 32, 57). */
const char *jot__crv_name(jot_crv_t crv);
jot_crv_t jot__crv_from_name(const char *name, size_t len);
size_t jot__crv_coord_len(jot_crv_t crv);
/** OpenSSL's EC group name ("prime256v1") of a curve, NULL for OKP curves; and back. */
const char *jot__crv_group(jot_crv_t crv);
jot_crv_t jot__crv_from_group(const char *group);

/* ---- keys (jwk.c, pem.c, keygen.c) --------------------------------------------------- */
/** Prepared contexts a key keeps (pool.c): rows per (algorithm, operation), slots per row
 *  (one per thread working with the key at the same moment; more are made and freed). */
#define JOT_POOL_ROWS 12
#define JOT_POOL_SLOTS 8
/** One slot per cache line: threads working with the same key each keep to their own slot
 *  (pool.c), so their atomic operations never bounce a line between cores. */
typedef struct jot_pool_slot {
    _Atomic(void *) ctx;
    char pad[64 - sizeof(void *)];
} jot_pool_slot_t;
/* key_ops bits (RFC 7517 §4.3) */
#define JOT_OP_SIGN 0x01u
#define JOT_OP_VERIFY 0x02u
#define JOT_OP_OTHER 0x04u /* encrypt, decrypt, wrapKey, ... */

typedef enum jot_use { JOT_USE_ANY = 0, JOT_USE_SIG, JOT_USE_ENC } jot_use_t;

struct jot_key {
    jot_kty_t kty;
    jot_crv_t crv;    /* EC and OKP */
    jot_alg_t alg;    /* the JWK "alg", UNSET if absent */
    jot_use_t use;    /* the JWK "use" */
    unsigned key_ops; /* JOT_OP_* bits; 0 = "key_ops" absent */
    bool has_private; /* always true for oct */
    char *kid;        /* owned, NULL if none */
    EVP_PKEY *pkey;   /* RSA, EC, OKP: owned; immutable once created */
    uint8_t *oct;     /* oct: the secret, owned, wiped on free */
    size_t oct_len;
    unsigned bits; /* RSA modulus bits, curve bits, or oct_len * 8 */
    /* prepared contexts (pool.c): EVP_MAC_CTX keyed with oct, or EVP_PKEY_CTX of pkey.
     * Owned; freed (keyed ones wiped by OpenSSL) with the key. */
    jot_pool_slot_t pool[JOT_POOL_ROWS][JOT_POOL_SLOTS];
};

/** Import a parsed JWK object (jwk.c); the secret members of \p obj are wiped after use. */
jot_err_t jot__key_from_json(json_t *obj, jot_key_t **out_key);
/** Overwrite the text of the secret members (d, p, q, dp, dq, qi, k, oth) of a JWK object. */
void jot__jwk_wipe_json(json_t *obj);
/** Allocate a zeroed key object (kty set); caller fills it in. */
jot_key_t *jot__key_alloc(jot_kty_t kty);
/** Wrap an EVP_PKEY (reference taken over on success): derives kty/crv/bits/has_private and
 *  applies the safety checks (RSA size and exponent, known curve). */
jot_err_t jot__key_from_pkey(EVP_PKEY *pkey, jot_key_t **out_key);

/* ---- signature primitives (alg_hmac.c, alg_rsa.c, alg_ec.c, alg_eddsa.c) ------------ */
/** Sign \p data with \p key under \p alg. Checks jot_key_check_alg(key, alg, 1) first.
 *  On success *out_sig is caller-owned (jot_free) of *out_len bytes: the JWS signature
 *  format (HMAC tag, RSA signature, ECDSA r||s fixed length, EdDSA signature). */
jot_err_t jot__sig_sign(jot_alg_t alg, const jot_key_t *key, const uint8_t *data, size_t len,
                        uint8_t **out_sig, size_t *out_len);
/** Verify; checks jot_key_check_alg(key, alg, 0) first. JOT_OK only for a valid signature,
 *  JOT_E_SIGNATURE for any wrong one (including wrong length, r or s out of range). */
jot_err_t jot__sig_verify(jot_alg_t alg, const jot_key_t *key, const uint8_t *data, size_t len,
                          const uint8_t *sig, size_t sig_len);

/* family back ends; called by jot__sig_* after the key/alg check */
jot_err_t jot__hmac_sign(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len, uint8_t *out_tag /* hash_len */);
jot_err_t jot__hmac_verify(const jot_alg_info_t *ai, const uint8_t *key, size_t key_len,
                           const uint8_t *data, size_t len, const uint8_t *tag, size_t tag_len);
/** The same with an oct key object: its pooled keyed contexts, no allocation once warm. */
jot_err_t jot__hmac_key_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                             size_t len, uint8_t *out_tag /* hash_len */);
jot_err_t jot__hmac_key_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                               size_t len, const uint8_t *tag, size_t tag_len);

/* ---- prepared contexts and digests (pool.c) ------------------------------------------ */
enum { JOT_POOL_SIGN = 0, JOT_POOL_VERIFY = 1 };
/** The digest of \p ai (SHA-256/384/512), fetched once per process; NULL for EdDSA. */
const EVP_MD *jot__digest(const jot_alg_info_t *ai);
/** A prepared context for (\p ai, \p op) out of the key's pool, NULL if none is free. */
void *jot__pool_take(const jot_key_t *key, const jot_alg_info_t *ai, int op);
/** Put it back; false when the pool is full (the caller frees it). */
bool jot__pool_give(const jot_key_t *key, const jot_alg_info_t *ai, int op, void *ctx);
/** Free every pooled context of \p key. */
void jot__pool_release(jot_key_t *key);
jot_err_t jot__rsa_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                        size_t len, uint8_t **out_sig, size_t *out_len);
jot_err_t jot__rsa_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                          size_t len, const uint8_t *sig, size_t sig_len);
jot_err_t jot__ec_sign(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                       size_t len, uint8_t **out_sig, size_t *out_len);
jot_err_t jot__ec_verify(const jot_alg_info_t *ai, const jot_key_t *key, const uint8_t *data,
                         size_t len, const uint8_t *sig, size_t sig_len);
/** Digest \p data with \p ai's hash, then sign/verify the digest with a prepared context of
 *  \p key (RSA and ECDSA; \p setup sets padding on a new context). OpenSSL's DER for ECDSA. */
jot_err_t jot__pkey_sign_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                const uint8_t *data, size_t len, uint8_t *sig, size_t *sig_len);
jot_err_t jot__pkey_verify_digest(const jot_alg_info_t *ai, const jot_key_t *key,
                                  bool (*setup)(const jot_alg_info_t *, EVP_PKEY_CTX *),
                                  const uint8_t *data, size_t len, const uint8_t *sig,
                                  size_t sig_len);
jot_err_t jot__eddsa_sign(const jot_key_t *key, const uint8_t *data, size_t len, uint8_t **out_sig,
                          size_t *out_len);
jot_err_t jot__eddsa_verify(const jot_key_t *key, const uint8_t *data, size_t len,
                            const uint8_t *sig, size_t sig_len);

/* ---- JSON (json.c): strict parsing on top of jansson --------------------------------- */
/** Parse \p len bytes as one JSON value: UTF-8 validated, duplicate member names rejected
 *  (JOT_E_JSON_DUPLICATE), nesting deeper than \p max_depth rejected (JOT_E_JSON_DEPTH),
 *  trailing bytes rejected, NUL bytes rejected, input over \p max_len rejected
 *  (JOT_E_TOOBIG). \p want_object: the top level must be an object. New reference. */
jot_err_t jot__json_parse(const char *s, size_t len, size_t max_len, unsigned max_depth,
                          bool want_object, json_t **out);
/** Compact serialisation (no spaces, insertion order). Caller frees with jot_free. */
jot_err_t jot__json_dump(const json_t *j, char **out, size_t *out_len);
/** Base64url-decode the string member \p name of \p obj into a new buffer (jot_free).
 *  JOT_E_NOT_FOUND if absent, JOT_E_CLAIM_TYPE if not a string, JOT_E_BASE64 if bad. */
jot_err_t jot__json_get_b64(const json_t *obj, const char *name, uint8_t **out, size_t *out_len);
/** Set member \p name to the base64url text of \p data. */
jot_err_t jot__json_set_b64(json_t *obj, const char *name, const uint8_t *data, size_t len);

/* ---- base64url (b64url.c) ----------------------------------------------------------- */
/** Decoded length for an encoded length (upper bound, exact for canonical input). */
size_t jot__b64url_decoded_len(size_t enc_len);
/** Decode into a new buffer (jot_free); *out_len set. */
jot_err_t jot__b64url_decode_alloc(const char *in, size_t len, uint8_t **out, size_t *out_len);
/** Encode into a new NUL-terminated string (jot_free). */
jot_err_t jot__b64url_encode_alloc(const uint8_t *in, size_t n, char **out, size_t *out_len);

/* ---- fast strict JSON views (jview.c) ----------------------------------------------- */
typedef enum jot_jtype {
    JOT_J_STRING = 1,
    JOT_J_INT,
    JOT_J_REAL,
    JOT_J_TRUE,
    JOT_J_FALSE,
    JOT_J_NULL,
    JOT_J_ARRAY,
    JOT_J_OBJECT
} jot_jtype_t;

/** A scalar value, or the type of a container. */
typedef struct jot_jval {
    jot_jtype_t type;
    const char *str; /* STRING: unescaped, NUL-terminated, inside the view */
    size_t len;      /* STRING: bytes */
    int64_t i;       /* INT */
    double d;        /* REAL */
} jot_jval_t;

/** A top-level member: its value, its JSON text, and for an array its elements. */
typedef struct jot_jmember {
    const char *name; /* unescaped, NUL-terminated, inside the view */
    size_t name_len;
    jot_jval_t v;
    const char *raw; /* the value's JSON text, inside the document */
    size_t raw_len;
    uint32_t first, count; /* ARRAY: elements view->elems[first .. first + count) */
} jot_jmember_t;

/** The top-level members of a JSON object, in document order (names are unique). One
 *  allocation; freed with jot_free(). The document itself is borrowed: it must outlive the
 *  view. */
typedef struct jot_jview {
    const char *text;
    size_t text_len;
    size_t n, n_elems;
    jot_jmember_t *members;
    jot_jval_t *elems;
} jot_jview_t;

/** True when \p text is one JSON object valid under jot__json_parse()'s rules, proven
 *  without building a tree. False means invalid *or* not handled here (real numbers,
 *  escaped member names, very large objects): ask jot__json_parse(). */
bool jot__jscan_object(const char *text, size_t len, unsigned max_depth);
/** Parse an object into a view. Accepts exactly what jot__json_parse(..., want_object)
 *  accepts and fails with its error codes; more than \p max_members members: TOOBIG. */
jot_err_t jot__jview_parse(const char *text, size_t len, size_t max_len, unsigned max_depth,
                           size_t max_members, jot_jview_t **out);
/** Member by name, NULL if absent. */
const jot_jmember_t *jot__jview_get(const jot_jview_t *v, const char *name);
/** String member's value, NULL if absent or not a string. */
const char *jot__jview_string(const jot_jview_t *v, const char *name);

/** Length of the well-formed UTF-8 sequence (RFC 3629) starting with the byte >= 0x80 at
 *  \p p, 0 if ill-formed or cut by \p end. */
size_t jot__utf8_seq(const uint8_t *p, const uint8_t *end);

/* ---- compact JSON output (jwrite.c): jansson's JSON_COMPACT bytes, one pass ----------- */
/** The writer's buffer: a jotx_buf_t (common/buf.h) that starts in caller memory (usually
 *  the stack) and grows through jot__alloc, with no cap of its own and no wiping (claims
 *  and headers are not secret). Only oom can go wrong: the content is then incomplete. */
typedef jotx_buf_t jot_jbuf_t;
static inline void jot__jbuf_init(jot_jbuf_t *b, char *stack, size_t cap)
{
    jotx_buf_init(b, stack, cap, SIZE_MAX, false, &jot__alloc);
}
static inline void jot__jbuf_free(jot_jbuf_t *b)
{
    jotx_buf_free(b);
}
static inline void jot__jbuf_put(jot_jbuf_t *b, const char *s, size_t n)
{
    (void)jotx_buf_add(b, s, n);
}
/** A JSON string; false if \p s is not valid UTF-8 or holds a NUL. */
bool jot__jbuf_string(jot_jbuf_t *b, const char *s, size_t n);
/** A jansson value as jot__json_dump() would write it; false on a value it cannot write. */
bool jot__jbuf_json(jot_jbuf_t *b, const json_t *j, unsigned depth);

/* ---- claims (claims.c) -------------------------------------------------------------- */
/* Either a jansson object (claims built or parsed by the caller: mutable) or a view of a
 * verified payload (read-only; turned into a jansson object if a setter is ever called). */
struct jot_claims {
    json_t *obj;       /* owned reference, or NULL */
    jot_jview_t *view; /* owned (jot_free), used when obj is NULL */
};
/** Free what \p c holds, not \p c itself (for claims embedded in a token). */
void jot__claims_clear(jot_claims_t *c);
/** The whole claim set as compact JSON (members in order). Caller frees. */
jot_err_t jot__claims_dump(const jot_claims_t *c, char **out, size_t *out_len);
/** Wrap an object (takes over the reference). */
jot_err_t jot__claims_wrap(json_t *obj, jot_claims_t **out);

/* ---- numeric dates (claims.c) ------------------------------------------------------- */
/** Read a NumericDate claim: must be a JSON number (integer or real, finite, within
 *  [0, 2^53)); fractions are truncated. JOT_E_NOT_FOUND / JOT_E_CLAIM_TYPE. */
jot_err_t jot__claims_get_numeric_date(const jot_claims_t *c, const char *name, int64_t *out);
/** The same rule for one value. */
jot_err_t jot__jval_numeric_date(const jot_jval_t *v, int64_t *out);

#endif
