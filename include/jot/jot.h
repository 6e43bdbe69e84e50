/**
 * \file jot.h
 * \brief libjot: JSON Web Signature (RFC 7515), JSON Web Token (RFC 7519) and
 *        JSON Web Key (RFC 7517) in C. This header is the whole public API.
 *
 * Conventions used throughout:
 * - Every function that can fail returns a ::jot_err_t; ::JOT_OK (0) means success and
 *   nothing else. Output parameters are named `out_*` and are written only on success.
 * - Pointers returned through `out_*` are owned by the caller, who releases them with the
 *   matching `_free()` function (objects) or jot_free() (strings and byte buffers), unless
 *   the documentation says "borrowed".
 * - Untrusted input is always passed as (pointer, length); it need not be NUL-terminated.
 * - Every `_free()` accepts NULL. Key material is wiped before its memory is released.
 * - Thread safety: the library has no global mutable state (except the allocator hook, set
 *   once before any other call). Keys, key sets and verifiers are immutable once configured
 *   and may then be used by any number of threads at once.
 */
#ifndef JOT_JOT_H
#define JOT_JOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define JOT_API __attribute__((visibility("default")))
#define JOT_NODISCARD __attribute__((warn_unused_result))
#else
#define JOT_API
#define JOT_NODISCARD
#endif

/* ------------------------------------------------------------------------------------ */
/** \name Version
 * The one source of the version: CMakeLists.txt reads JOT_VERSION_MAJOR, _MINOR and _PATCH
 * from this file and refuses to configure when JOT_VERSION_STRING disagrees with them.
 * Rule: a release that adds to the API (a function, constant, enum value or options field)
 * bumps the minor version; one that breaks source or binary compatibility bumps the major
 * version and the shared library's SOVERSION. */
/**@{*/
#define JOT_VERSION_MAJOR 0
#define JOT_VERSION_MINOR 2
#define JOT_VERSION_PATCH 0
/** \brief Version of this header: major * 10000 + minor * 100 + patch. \since 0.1.0 */
#define JOT_VERSION_NUMBER (JOT_VERSION_MAJOR * 10000 + JOT_VERSION_MINOR * 100 + JOT_VERSION_PATCH)
/** \brief The same as "major.minor.patch". \since 0.1.0 */
#define JOT_VERSION_STRING "0.2.0"

/** \brief Version of the linked library, to compare with ::JOT_VERSION_NUMBER (a program
 *  built against a newer header may call functions an older library lacks). \since 0.1.0 */
JOT_API int jot_version_number(void);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Errors
 * One table generates the enum, jot_strerror() and jot_err_name(). Each row carries its
 * number: the values are stable ABI, so rows are only ever appended with the next number,
 * never removed, reordered or renumbered (as libuv's UV_ERRNO_MAP). */
/**@{*/
#define JOT_ERR_MAP(XX)                                                                            \
    XX(0, OK, "success")                                                                           \
    XX(1, E_NOMEM, "out of memory")                                                                \
    XX(2, E_INVAL, "invalid argument")                                                             \
    XX(3, E_MALFORMED, "malformed token")                                                          \
    XX(4, E_TOOBIG, "input too large")                                                             \
    XX(5, E_BASE64, "invalid base64url encoding")                                                  \
    XX(6, E_JSON, "invalid JSON")                                                                  \
    XX(7, E_JSON_DUPLICATE, "duplicate JSON member name")                                          \
    XX(8, E_JSON_DEPTH, "JSON nested too deeply")                                                  \
    XX(9, E_UTF8, "invalid UTF-8")                                                                 \
    XX(10, E_ALG_NONE, "algorithm none is not accepted")                                           \
    XX(11, E_ALG_UNKNOWN, "unknown algorithm")                                                     \
    XX(12, E_ALG_NOT_ALLOWED, "algorithm not allowed")                                             \
    XX(13, E_KEY_MISMATCH, "key does not match the algorithm")                                     \
    XX(14, E_KEY_WEAK, "key too weak")                                                             \
    XX(15, E_KEY_INVALID, "invalid key")                                                           \
    XX(16, E_KEY_NOT_FOUND, "no matching key")                                                     \
    XX(17, E_KEY_USE, "key not permitted for this use")                                            \
    XX(18, E_KEY_PRIVATE_NEEDED, "a private key is needed")                                        \
    XX(19, E_SIGNATURE, "signature verification failed")                                           \
    XX(20, E_CRIT, "unsupported critical header parameter")                                        \
    XX(21, E_HEADER, "invalid header")                                                             \
    XX(22, E_TYP, "wrong token type (typ)")                                                        \
    XX(23, E_EXPIRED, "token expired")                                                             \
    XX(24, E_NOT_YET_VALID, "token not yet valid (nbf)")                                           \
    XX(25, E_NO_EXP, "token has no expiry (exp)")                                                  \
    XX(26, E_TOO_OLD, "token too old (iat)")                                                       \
    XX(27, E_IAT_FUTURE, "token issued in the future (iat)")                                       \
    XX(28, E_ISSUER, "wrong issuer")                                                               \
    XX(29, E_AUDIENCE, "wrong audience")                                                           \
    XX(30, E_SUBJECT, "wrong subject")                                                             \
    XX(31, E_MISSING_CLAIM, "required claim missing")                                              \
    XX(32, E_CLAIM_TYPE, "claim has the wrong type")                                               \
    XX(33, E_NOT_FOUND, "not found")                                                               \
    XX(34, E_CRYPTO, "cryptographic library error")                                                \
    XX(35, E_PEM, "invalid PEM")                                                                   \
    XX(36, E_UNSUPPORTED, "not supported")                                                         \
    XX(37, E_KEYSET, "invalid key set")                                                            \
    XX(38, E_PAYLOAD, "payload is not a JSON object")                                              \
    XX(39, E_FETCH, "remote document could not be fetched")                                        \
    XX(40, E_STALE, "cached remote document too stale")                                            \
    XX(41, E_REVOKED, "token revoked")                                                             \
    XX(42, E_STATUS_LIST, "status list invalid or unusable")                                       \
    XX(43, E_STATUS_URI, "status list URI not allowed")

/** \brief Error codes. ::JOT_OK is 0; every other value is a distinct failure. */
typedef enum jot_err {
#define JOT__ERR_ENUM(num, name, msg) JOT_##name = (num),
    JOT_ERR_MAP(JOT__ERR_ENUM)
#undef JOT__ERR_ENUM
        JOT_ERR__LAST
} jot_err_t;

/** \brief Human-readable message for \p err. Never NULL; static storage. */
JOT_API const char *jot_strerror(jot_err_t err);
/** \brief Symbolic name of \p err, e.g. "JOT_E_EXPIRED". Never NULL; static storage. */
JOT_API const char *jot_err_name(jot_err_t err);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Memory */
/**@{*/
/** \brief Replace the allocator used by libjot. Call before any other libjot function;
 *  not thread-safe. Passing a NULL (any of the three) restores malloc/realloc/free.
 *
 *  It also replaces jansson's allocator: json_set_alloc_funcs() is called with wrappers
 *  around these functions. jansson's allocator is process-wide, so any other jansson user
 *  in the process (the application itself) allocates through them from then on, and JSON
 *  values it made before the call must not be freed after it. Without this call libjot
 *  still hooks jansson once, on first use, with wrappers around malloc/free (to tell an
 *  allocation failure from bad input), unless the application already gave jansson
 *  functions of its own. \since 0.1.0 */
JOT_API void jot_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                               void (*free_fn)(void *));
/** \brief Release a string or buffer returned by libjot (with the allocator of
 *  jot_set_allocator()). NULL is a no-op. \since 0.1.0 */
JOT_API void jot_free(void *ptr);
/** \brief Overwrite \p len bytes at \p p with zeros in a way the compiler cannot remove.
 *  \since 0.1.0 */
JOT_API void jot_memzero(void *p, size_t len);
/** \brief Constant-time equality of two equal-length buffers: 1 if equal, else 0.
 *  \since 0.1.0 */
JOT_API int jot_ct_equal(const void *a, const void *b, size_t len);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Algorithms (RFC 7518, RFC 8037, RFC 8812). `none` is not among them. */
/**@{*/
typedef enum jot_alg {
    /* The values are stable ABI (they are also the bits of JOT_ALG_BIT() masks): new
     * algorithms are appended with the next number, before JOT_ALG__COUNT; none is ever
     * removed or renumbered. */
    JOT_ALG_UNSET = 0, /**< no algorithm (a key without "alg") */
    JOT_ALG_HS256 = 1,
    JOT_ALG_HS384 = 2,
    JOT_ALG_HS512 = 3,
    JOT_ALG_RS256 = 4,
    JOT_ALG_RS384 = 5,
    JOT_ALG_RS512 = 6,
    JOT_ALG_PS256 = 7,
    JOT_ALG_PS384 = 8,
    JOT_ALG_PS512 = 9,
    JOT_ALG_ES256 = 10,
    JOT_ALG_ES384 = 11,
    JOT_ALG_ES512 = 12,
    JOT_ALG_ES256K = 13,
    JOT_ALG_EDDSA = 14, /**< Ed25519 or Ed448, as the key's curve says */
    JOT_ALG__COUNT      /**< one past the last; not an algorithm */
} jot_alg_t;

/** \brief Bit for \p alg in an allowlist mask. */
#define JOT_ALG_BIT(alg) (1u << (unsigned)(alg))

/** \brief Registered name of \p alg ("ES256"), or "" for ::JOT_ALG_UNSET. Never NULL. */
JOT_API const char *jot_alg_name(jot_alg_t alg);
/** \brief Look up an algorithm by its exact, case-sensitive name (\p len bytes, no NUL
 *  needed). \return ::JOT_E_ALG_NONE for "none", ::JOT_E_ALG_UNKNOWN for anything
 *  unregistered. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_alg_from_name(const char *name, size_t len, jot_alg_t *out_alg);
/** \brief Parse a comma-separated list of names ("RS256,ES256") into a mask of
 *  JOT_ALG_BIT() bits. "none" anywhere: ::JOT_E_ALG_NONE. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_alg_mask_from_list(const char *list, unsigned *out_mask);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Keys (RFC 7517, RFC 7638)
 * A ::jot_key_t is immutable once created (except jot_key_set_kid() before sharing). */
/**@{*/
typedef struct jot_key jot_key_t;

typedef enum jot_kty {
    JOT_KTY_NONE = 0,
    JOT_KTY_OCT,
    JOT_KTY_RSA,
    JOT_KTY_EC,
    JOT_KTY_OKP
} jot_kty_t;

/** \brief Import one JWK (JSON object). Public or private; every kty. Keys that could never
 *  be used safely are refused: RSA < 2048 bits, invalid EC points, HMAC keys shorter than
 *  their "alg" needs, unknown curves, inconsistent private parts, ROCA-weak RSA moduli.
 *  RSA private keys need all of p, q, dp, dq, qi (d alone: ::JOT_E_UNSUPPORTED).
 *  \param[out] out_key caller frees with jot_key_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_key_from_jwk(const char *json, size_t len, jot_key_t **out_key);
/** \brief Import a PEM key: PKCS#8 private, SPKI public, traditional RSA or EC private, PKCS#1
 *  "RSA PUBLIC KEY". The first key block is used. Encrypted keys: ::JOT_E_UNSUPPORTED (no
 *  passphrase is ever asked for); unreadable PEM: ::JOT_E_PEM. */
JOT_API JOT_NODISCARD jot_err_t jot_key_from_pem(const char *pem, size_t len, jot_key_t **out_key);
/** \brief Import a key whose format is detected: JWK (starts with '{') or PEM. */
JOT_API JOT_NODISCARD jot_err_t jot_key_parse(const char *data, size_t len, jot_key_t **out_key);

/** \brief Generate a fresh key for \p alg. \p bits: RSA modulus size (0 = 2048, minimum
 *  2048) or HMAC key size in bits (0 = the hash size); ignored otherwise. For
 *  ::JOT_ALG_EDDSA, \p bits selects the curve: 0 or 25519 = Ed25519, 448 = Ed448.
 *  The key's "alg" is set to \p alg and its kid to its RFC 7638 thumbprint. */
JOT_API JOT_NODISCARD jot_err_t jot_key_generate(jot_alg_t alg, unsigned bits, jot_key_t **out_key);

/** Flags for jot_key_to_jwk() / jot_keyset_to_jwks(). */
#define JOT_JWK_PUBLIC 0u  /**< public members only (the default) */
#define JOT_JWK_PRIVATE 1u /**< include private members (d, p, q, ..., k) */

/** \brief Serialise a key as a compact JWK JSON object (kty, crv/n/e/x/y/k..., kid, alg, use).
 *  \return ::JOT_E_KEY_PRIVATE_NEEDED when ::JOT_JWK_PRIVATE is asked of a public key. An
 *  `oct` key has no public form: exporting it needs ::JOT_JWK_PRIVATE.
 *  \param[out] out_json NUL-terminated, caller frees with jot_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_key_to_jwk(const jot_key_t *key, unsigned flags,
                                               char **out_json, size_t *out_len);
/** \brief PEM export: SPKI ("PUBLIC KEY") or, with ::JOT_JWK_PRIVATE, PKCS#8 ("PRIVATE KEY").
 *  `oct` keys have no PEM form (::JOT_E_UNSUPPORTED). Caller frees with jot_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_key_to_pem(const jot_key_t *key, unsigned flags, char **out_pem,
                                               size_t *out_len);
/** Length of an RFC 7638 SHA-256 thumbprint in base64url characters (a 32-byte digest),
 *  without the NUL: a buffer for jot_key_thumbprint() holds JOT_THUMBPRINT_LEN + 1. */
#define JOT_THUMBPRINT_LEN 43
/** \brief RFC 7638 SHA-256 thumbprint, base64url (::JOT_THUMBPRINT_LEN characters) + NUL
 *  into \p out. The thumbprint of a private key is that of its public key. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_key_thumbprint(const jot_key_t *key,
                                                   char out[JOT_THUMBPRINT_LEN + 1]);
/** \brief New key object holding only the public part of \p key. Caller frees. */
JOT_API JOT_NODISCARD jot_err_t jot_key_public(const jot_key_t *key, jot_key_t **out_key);
/** \brief Set (copy) the key id; NULL removes it. Not thread-safe: call before sharing. */
JOT_API JOT_NODISCARD jot_err_t jot_key_set_kid(jot_key_t *key, const char *kid);
/** \brief Set the key's "alg" (must suit the key) or ::JOT_ALG_UNSET to remove it. */
JOT_API JOT_NODISCARD jot_err_t jot_key_set_alg(jot_key_t *key, jot_alg_t alg);
/** \brief Key id, borrowed (valid while \p key lives), or NULL if it has none. */
JOT_API const char *jot_key_kid(const jot_key_t *key);
/** \brief The JWK "alg" of the key, or ::JOT_ALG_UNSET. */
JOT_API jot_alg_t jot_key_alg(const jot_key_t *key);
/** \brief Key type, or ::JOT_KTY_NONE for NULL. \since 0.1.0 */
JOT_API jot_kty_t jot_key_kty(const jot_key_t *key);
/** \brief 1 if the key holds private material (always 1 for `oct`), else 0. */
JOT_API int jot_key_is_private(const jot_key_t *key);
/** \brief Curve name ("P-256", "secp256k1", "Ed25519", ...) or NULL. Static storage. */
JOT_API const char *jot_key_curve(const jot_key_t *key);
/** \brief Size in bits: RSA modulus, EC/OKP field, or HMAC key length. */
JOT_API unsigned jot_key_bits(const jot_key_t *key);
/** \brief Check that \p key may be used with \p alg (type, curve, size, "alg", "use",
 *  "key_ops"). \p for_signing additionally requires the private part. */
JOT_API JOT_NODISCARD jot_err_t jot_key_check_alg(const jot_key_t *key, jot_alg_t alg,
                                                  int for_signing);
/** \brief The algorithm a key is meant for: its "alg", or the only one its type allows
 *  (ES256 for P-256, EdDSA for OKP...), or a sensible default (RS256 for RSA, HS256 for
 *  oct). */
JOT_API jot_alg_t jot_key_default_alg(const jot_key_t *key);
/** \brief Wipe and free. NULL is a no-op. */
JOT_API void jot_key_free(jot_key_t *key);

/** A set of keys (JWKS). Owns its keys. */
typedef struct jot_keyset jot_keyset_t;

/** \brief An empty key set. \param[out] out_set caller frees with jot_keyset_free().
 *  \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_keyset_new(jot_keyset_t **out_set);
/** \brief Import a JWKS ({"keys":[...]}). As RFC 7517 §5 asks, members whose kty or
 *  curve is not supported, or that are too weak to use (RSA < 2048 bits, short HMAC keys),
 *  are skipped, as are keys for algorithms outside JWS (RSA-OAEP, A256GCM...); any other bad
 *  member (malformed, invalid point, bad base64url) refuses the
 *  whole set, as do sets mixing secret/private keys with public ones and duplicate kids
 *  (::JOT_E_KEYSET). Keys marked for encryption are kept but never verify anything. The
 *  set may end up empty (check jot_keyset_count()).
 *  \param[out] out_set caller frees with jot_keyset_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_keyset_from_jwks(const char *json, size_t len,
                                                     jot_keyset_t **out_set);
/** \brief Add \p key; on success the set owns it. ::JOT_E_KEYSET on a duplicate kid. */
JOT_API JOT_NODISCARD jot_err_t jot_keyset_add(jot_keyset_t *set, jot_key_t *key);
/** \brief Number of keys in the set (0 for NULL). \since 0.1.0 */
JOT_API size_t jot_keyset_count(const jot_keyset_t *set);
/** \brief Key at index \p i (borrowed; valid while the set lives), NULL if out of range. */
JOT_API const jot_key_t *jot_keyset_get(const jot_keyset_t *set, size_t i);
/** \brief Exact, byte-wise lookup by kid (borrowed), NULL when nothing matches. */
JOT_API const jot_key_t *jot_keyset_find(const jot_keyset_t *set, const char *kid, size_t kid_len);
/** \brief Serialise as {"keys":[...]}. Caller frees \p out_json with jot_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_keyset_to_jwks(const jot_keyset_t *set, unsigned flags,
                                                   char **out_json, size_t *out_len);
/** \brief Free the set and wipe and free every key in it. NULL is a no-op. \since 0.1.0 */
JOT_API void jot_keyset_free(jot_keyset_t *set);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Claims: a JSON object of JWT claims, to build or to read. */
/**@{*/
typedef struct jot_claims jot_claims_t;

/** \brief An empty claim set. \param[out] out_claims caller frees with jot_claims_free().
 *  \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_new(jot_claims_t **out_claims);
/** \brief Parse a JSON object strictly (no duplicate names, UTF-8, size and depth caps). */
JOT_API JOT_NODISCARD jot_err_t jot_claims_from_json(const char *json, size_t len,
                                                     jot_claims_t **out_claims);
/** \brief Free a claim set. NULL is a no-op. \since 0.1.0 */
JOT_API void jot_claims_free(jot_claims_t *claims);

/* Setters copy their arguments and replace an existing claim of the same name. */
/** \brief Set a string claim (UTF-8, copied). \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_set_string(jot_claims_t *c, const char *name,
                                                      const char *value);
/** \brief Set an integer claim. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_set_int(jot_claims_t *c, const char *name,
                                                   int64_t value);
/** \brief Set a boolean claim (\p value non-zero: true). \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_set_bool(jot_claims_t *c, const char *name, int value);
/** \brief Set an array of strings. */
JOT_API JOT_NODISCARD jot_err_t jot_claims_set_strings(jot_claims_t *c, const char *name,
                                                       const char *const *values, size_t n);
/** \brief Set any JSON value (array, object, number...) given as strict JSON text. */
JOT_API JOT_NODISCARD jot_err_t jot_claims_set_json(jot_claims_t *c, const char *name,
                                                    const char *json, size_t len);
/** \brief Remove a claim. \return ::JOT_E_NOT_FOUND when it is absent. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_del(jot_claims_t *c, const char *name);

/** \brief 1 if the claim exists, else 0. */
JOT_API int jot_claims_has(const jot_claims_t *c, const char *name);
/** \brief String claim, borrowed (valid until the claim changes or \p c is freed).
 *  \return ::JOT_E_NOT_FOUND or ::JOT_E_CLAIM_TYPE. */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_string(const jot_claims_t *c, const char *name,
                                                      const char **out_value);
/** \brief Integer claim (a JSON number with no fraction that fits int64). */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_int(const jot_claims_t *c, const char *name,
                                                   int64_t *out_value);
/** \brief Boolean claim: *out_value 1 (true) or 0 (false). \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_bool(const jot_claims_t *c, const char *name,
                                                    int *out_value);
/** \brief Number of strings in an array-of-strings claim (or 1 for a plain string). */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_strings_count(const jot_claims_t *c,
                                                             const char *name, size_t *out_n);
/** \brief String \p i of an array-of-strings claim (or of a plain string when i == 0). */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_strings_at(const jot_claims_t *c, const char *name,
                                                          size_t i, const char **out_value);
/** \brief Any claim as compact JSON text. Caller frees \p out_json with jot_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_claims_get_json(const jot_claims_t *c, const char *name,
                                                    char **out_json, size_t *out_len);
/** \brief The whole claim set as compact JSON (members in insertion order). Caller frees. */
JOT_API JOT_NODISCARD jot_err_t jot_claims_to_json(const jot_claims_t *c, char **out_json,
                                                   size_t *out_len);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Signing */
/**@{*/
/** Options of jot_jwt_sign(). Zero-initialise (`jot_sign_opts_t o = {0};`) and set what
 *  you need: every field's zero value is the default.
 *
 *  Growth rule: fields are only ever appended, never removed, retyped or reordered, and a
 *  new field's zero value always means the behaviour from before it existed, so zeroed code
 *  written for an older header keeps compiling and meaning the same. The library copies the
 *  whole struct, so an appended field makes it larger: that is an ABI change and ships with
 *  a major version (SOVERSION) bump, see the version rule above. \since 0.1.0 */
typedef struct jot_sign_opts {
    jot_alg_t alg;   /**< ::JOT_ALG_UNSET: jot_key_default_alg(key) */
    const char *kid; /**< NULL: the key's kid (omitted if it has none); "" omits it */
    const char *typ; /**< NULL: "JWT"; "" omits typ */
} jot_sign_opts_t;

/** \brief Sign \p claims as a compact JWS (a JWT). The header is
 *  {"alg":...,"typ":...,"kid":...}. \p opts may be NULL.
 *  \param[out] out_token NUL-terminated, caller frees with jot_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_jwt_sign(const jot_key_t *key, const jot_sign_opts_t *opts,
                                             const jot_claims_t *claims, char **out_token,
                                             size_t *out_len);
/** \brief Low-level JWS: sign \p payload with the exact protected header bytes given.
 *  The header must be a strict JSON object whose "alg" names \p alg. Caller frees. */
JOT_API JOT_NODISCARD jot_err_t jot_jws_sign(const jot_key_t *key, jot_alg_t alg,
                                             const char *header_json, size_t header_len,
                                             const uint8_t *payload, size_t payload_len,
                                             char **out_token, size_t *out_len);

/** Largest document jot_jws_sign_large() makes (1 MiB: the default body cap of a remote
 *  fetch, ::jot_remote_opts_t). \since 0.3.0 */
#define JOT_MAX_LARGE_TOKEN_LEN (1024u * 1024u)
/** \brief jot_jws_sign() for a signed document larger than a token: a Status List Token of
 *  2^20 one-bit entries whose bits do not compress is about 235 KB, beyond the 64 KiB token
 *  and 48 KiB payload that jot_jws_sign() makes and jot_verify() takes (a status checker
 *  takes documents up to its fetch body cap). The payload and the whole token are refused
 *  with ::JOT_E_TOOBIG beyond \p max_len bytes, which may not exceed
 *  ::JOT_MAX_LARGE_TOKEN_LEN (else ::JOT_E_INVAL). Ownership as jot_jws_sign(). \since 0.3.0 */
JOT_API JOT_NODISCARD jot_err_t jot_jws_sign_large(const jot_key_t *key, jot_alg_t alg,
                                                   const char *header_json, size_t header_len,
                                                   const uint8_t *payload, size_t payload_len,
                                                   size_t max_len, char **out_token,
                                                   size_t *out_len);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Verification
 * A ::jot_verifier_t holds the caller's policy. Configure it once, then call jot_verify()
 * from any number of threads. Keys and key sets given to it are borrowed. */
/**@{*/
typedef struct jot_verifier jot_verifier_t;
/** A verified token: header and claims. */
typedef struct jot_token jot_token_t;

/** Clock: returns the current time in seconds since the epoch. */
typedef int64_t (*jot_clock_fn)(void *ctx);

/** Largest leeway jot_verifier_set_leeway() keeps, in seconds (one day). \since 0.2.0 */
#define JOT_MAX_LEEWAY 86400

/** \brief A verifier with no key, no algorithm (so every token fails until both are set),
 *  no claim expectations, leeway 0 and the system clock.
 *  \param[out] out_verifier caller frees with jot_verifier_free(). \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_new(jot_verifier_t **out_verifier);
/** \brief Free the verifier and its copied strings (not the borrowed keys). NULL is a no-op.
 *  \since 0.1.0 */
JOT_API void jot_verifier_free(jot_verifier_t *v);
/** \brief Verify with this one key (borrowed; must outlive \p v). A key set takes over
 *  only while no key is set: when both are set the key wins and the key set is ignored,
 *  whichever was set first, and the token's kid is not looked at. NULL removes the key.
 *  \since 0.1.0 */
JOT_API void jot_verifier_set_key(jot_verifier_t *v, const jot_key_t *key);
/** \brief Verify with the key of this set whose kid equals the token's kid; a token without
 *  kid is accepted only when the set holds exactly one key usable with its algorithm.
 *  Borrowed (must outlive \p v). Used only while no single key is set (see
 *  jot_verifier_set_key()). NULL removes the set. \since 0.1.0 */
JOT_API void jot_verifier_set_keyset(jot_verifier_t *v, const jot_keyset_t *set);
/** \brief Mandatory allowlist (mask of JOT_ALG_BIT()), replacing any earlier one. With none
 *  set, every token fails with ::JOT_E_ALG_NOT_ALLOWED. \since 0.1.0 */
JOT_API void jot_verifier_set_algs(jot_verifier_t *v, unsigned alg_mask);
/** \brief Expected "iss" (copied): replaces every issuer set or added before by this one.
 *  NULL removes them all (any "iss", or none, is then accepted). With one or more issuers,
 *  "iss" must be present and equal, byte for byte, to one of them (else ::JOT_E_ISSUER).
 *  On failure the issuers are unchanged. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_set_issuer(jot_verifier_t *v, const char *iss);
/** \brief Accept one more issuer (copied), keeping those already set: "iss" must then equal
 *  any one of them. NULL: ::JOT_E_INVAL; more than 256 issuers: ::JOT_E_TOOBIG.
 *  \since 0.2.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_add_issuer(jot_verifier_t *v, const char *iss);
/** \brief Add an acceptable audience (copied). With any set, "aud" must be present and
 *  contain (string) or include (array) one of them. NULL: ::JOT_E_INVAL; more than 256
 *  audiences: ::JOT_E_TOOBIG. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_add_audience(jot_verifier_t *v, const char *aud);
/** \brief Expected "sub" (copied); the claim must then be present and equal. NULL removes
 *  the expectation. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_set_subject(jot_verifier_t *v, const char *sub);
/** \brief Expected header "typ" (copied), compared case-insensitively with an optional
 *  "application/" prefix, as RFC 7515 §4.1.9 says ("at+jwt" matches "application/at+JWT").
 *  With none set, any typ (or none) is accepted. */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_set_typ(jot_verifier_t *v, const char *typ);
/** \brief Allowed clock skew for exp, nbf and iat, in seconds (default 0). Out-of-range
 *  values are clamped, not refused: a negative one gives 0, one above ::JOT_MAX_LEEWAY gives
 *  ::JOT_MAX_LEEWAY. A program taking the value from its user should refuse what is out of
 *  range itself (jot(1) does) rather than have it silently shortened. \since 0.1.0 */
JOT_API void jot_verifier_set_leeway(jot_verifier_t *v, int64_t seconds);
/** \brief Inject the clock (default: time(NULL)); NULL restores the default. \p ctx is
 *  passed through (borrowed). \p fn may be called from several threads at once. \since 0.1.0 */
JOT_API void jot_verifier_set_clock(jot_verifier_t *v, jot_clock_fn fn, void *ctx);
/** \brief Require a claim by name (copied), of any value; missing → ::JOT_E_MISSING_CLAIM.
 *  NULL: ::JOT_E_INVAL; more than 256 names: ::JOT_E_TOOBIG. \since 0.1.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verifier_require_claim(jot_verifier_t *v, const char *name);
/** \brief Reject tokens whose "iat" is older than \p seconds (and require "iat"). 0 or
 *  negative: off. \since 0.1.0 */
JOT_API void jot_verifier_set_max_age(jot_verifier_t *v, int64_t seconds);
/** \brief Accept tokens without "exp" (default: rejected with ::JOT_E_NO_EXP). \since 0.1.0 */
JOT_API void jot_verifier_allow_no_exp(jot_verifier_t *v, int allow);

/** \brief Verify a compact JWT: structure, header, algorithm allowlist and key binding,
 *  signature (before the payload is parsed), then the claims (exp, nbf, iat, iss, aud, sub,
 *  typ, required claims). Returns ::JOT_OK only when every check passed.
 *  \param[out] out_token may be NULL; otherwise caller frees with jot_token_free(). */
JOT_API JOT_NODISCARD jot_err_t jot_verify(const jot_verifier_t *v, const char *token, size_t len,
                                           jot_token_t **out_token);

/** Longest name a ::jot_verify_detail_t holds, in bytes, without the NUL. \since 0.2.0 */
#define JOT_DETAIL_NAME_MAX 63

/** \brief Which check failed, beyond the error code: the per-call counterpart of
 *  sqlite3_errmsg(). Caller-allocated (a local variable will do); it holds no pointers and
 *  needs no cleanup. jot_verify_ex() writes only the caller's struct, so it is as
 *  thread-safe as jot_verify(). \since 0.2.0 */
typedef struct jot_verify_detail {
    /** The claim that failed ("exp", "nbf", "iat", "iss", "aud", "sub", "jti", or a name given
     *  to jot_verifier_require_claim()) or, when \p in_header is 1, the protected-header
     *  parameter ("alg", "typ", "crit"). "" when no single member is to blame: structure,
     *  encoding, signature, key selection, resources, and success. NUL-terminated; a
     *  required-claim name longer than ::JOT_DETAIL_NAME_MAX bytes is cut short at a UTF-8
     *  character boundary. */
    char name[JOT_DETAIL_NAME_MAX + 1];
    /** 1: \p name is a header parameter; 0: a claim, or empty. */
    int in_header;
} jot_verify_detail_t;

/** \brief jot_verify() that also names the claim or header parameter at fault. The same
 *  checks in the same order with the same return values as jot_verify().
 *  \param[out] out_token may be NULL; otherwise caller frees with jot_token_free().
 *  \param detail may be NULL; otherwise written on every return, failure included (name ""
 *  on ::JOT_OK). \since 0.2.0 */
JOT_API JOT_NODISCARD jot_err_t jot_verify_ex(const jot_verifier_t *v, const char *token,
                                              size_t len, jot_token_t **out_token,
                                              jot_verify_detail_t *detail);
/** \brief Verify a compact JWS whose payload may be anything (not a JWT): structure,
 *  header, algorithm and signature only. jot_token_claims() of the result is NULL. */
JOT_API JOT_NODISCARD jot_err_t jot_jws_verify(const jot_verifier_t *v, const char *token,
                                               size_t len, jot_token_t **out_token);
/** \brief Decode WITHOUT verifying anything but syntax (for display and debugging only).
 *  The claims are parsed when the payload is a JSON object. Caller frees. */
JOT_API JOT_NODISCARD jot_err_t jot_decode_unverified(const char *token, size_t len,
                                                      jot_token_t **out_token);

/** \brief Free a token from jot_verify(), jot_jws_verify() or jot_decode_unverified().
 *  NULL is a no-op. \since 0.1.0 */
JOT_API void jot_token_free(jot_token_t *t);
/** \brief Header algorithm (::JOT_ALG_UNSET for NULL, or for an undecodable one in a token
 *  from jot_decode_unverified()). \since 0.1.0 */
JOT_API jot_alg_t jot_token_alg(const jot_token_t *t);
/** \brief Header kid, borrowed (valid while \p t lives), NULL when absent. \since 0.1.0 */
JOT_API const char *jot_token_kid(const jot_token_t *t);
/** \brief Header typ, borrowed (valid while \p t lives), NULL when absent. \since 0.1.0 */
JOT_API const char *jot_token_typ(const jot_token_t *t);
/** \brief Claims, borrowed (valid while \p t lives); NULL for a non-JSON JWS payload. */
JOT_API const jot_claims_t *jot_token_claims(const jot_token_t *t);
/** \brief Decoded header JSON bytes, borrowed. */
JOT_API const char *jot_token_header_json(const jot_token_t *t, size_t *out_len);
/** \brief Decoded payload bytes, borrowed. */
JOT_API const uint8_t *jot_token_payload(const jot_token_t *t, size_t *out_len);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Remote key sets (a JWKS fetched over HTTPS)
 *
 * A ::jot_remote_keyset_t fetches a JWKS from a URL with libcurl, parses it with
 * jot_keyset_from_jwks() (the same strict rules as a local file) and caches it. How it fits
 * the conventions above:
 * - Key sets stay immutable. A refetch builds a new ::jot_keyset_t and swaps it in; a
 *   jot_verify() that is using the old one keeps it alive (a reference count under the
 *   object's mutex) and the old set is freed by whoever drops the last reference.
 * - A verifier borrows the remote set (jot_verifier_set_remote_keyset()); jot_verify() on
 *   a const verifier stays thread-safe. It blocks (at most \p timeout_s, plus waiting for a
 *   fetch already running) only when there is no usable set yet, or when the token's kid is
 *   unknown and the cooldown since the last fetch has passed (or a fetch is running). A
 *   set past its max-age is revalidated by a background thread while tokens go on being
 *   verified with it.
 * - An unknown kid causes at most one fetch per \p cooldown_s, whatever the number of
 *   tokens or threads: never a fetch per token. One fetch is in flight at a time.
 * - The algorithm comes from the verifier's allowlist and the key, never from the token
 *   (as for a local set); the token's jku/x5u headers are never followed.
 * - Transport rules: HTTPS only (plain HTTP only with \p allow_http and a loopback host:
 *   127.0.0.0/8, [::1], localhost); no redirect is ever followed (a 3xx answer is a failed
 *   fetch); no content encoding is asked for; the body is capped at \p max_body bytes; the
 *   whole transfer at \p timeout_s. Caching: Cache-Control max-age clamped to
 *   [\p min_cache_s, \p max_cache_s] (no max-age: \p min_cache_s), revalidation with ETag
 *   (If-None-Match; a 304 keeps the set and restarts its age). A failed fetch keeps the last
 *   good set for up to \p max_stale_s past its expiry (then ::JOT_E_STALE: fail closed), and
 *   is retried at most once per \p cooldown_s. Times are measured on the monotonic clock,
 *   not the verifier's clock.
 * - Built without libcurl, jot_remote_keyset_new() returns ::JOT_E_UNSUPPORTED. */
/**@{*/
typedef struct jot_remote_keyset jot_remote_keyset_t;

/** Options of jot_remote_keyset_new(). Fill with jot_remote_opts_init() first, then change
 *  what you need. Growth rule as ::jot_sign_opts_t. \since 0.3.0 */
typedef struct jot_remote_opts {
    int64_t min_cache_s; /**< lower clamp of max-age (default 300; at least 1) */
    int64_t max_cache_s; /**< upper clamp of max-age (default 86400) */
    int64_t cooldown_s;  /**< least time between fetches for an unknown kid or after a
                              failure (default 30; at least 1) */
    int64_t timeout_s;   /**< whole-transfer timeout (default 5; at least 1) */
    int64_t max_stale_s; /**< how long past its expiry the last good document is still used
                              while fetching fails (default 86400; 0: not at all) */
    size_t max_body;     /**< response size cap in bytes (default 1 MiB) */
    const char *ca_file; /**< PEM CA bundle to trust instead of the system's (copied);
                              NULL: the system's */
    int allow_http;      /**< non-zero: accept http:// URLs whose host is loopback */
} jot_remote_opts_t;

/** \brief Fill \p opts with the defaults above. \since 0.3.0 */
JOT_API void jot_remote_opts_init(jot_remote_opts_t *opts);
/** \brief A remote key set for \p url (copied). Nothing is fetched yet: the first
 *  verification (or jot_remote_keyset_refresh()) fetches. \p opts may be NULL (defaults).
 *  \return ::JOT_E_INVAL for a URL refused by the transport rules (not https, or http
 *  without \p allow_http or to a host that is not loopback) or options out of range,
 *  ::JOT_E_UNSUPPORTED without libcurl.
 *  \param[out] out_rk caller frees with jot_remote_keyset_free(). \since 0.3.0 */
JOT_API JOT_NODISCARD jot_err_t jot_remote_keyset_new(const char *url,
                                                      const jot_remote_opts_t *opts,
                                                      jot_remote_keyset_t **out_rk);
/** \brief Fetch now unless a fetch ran within the cooldown (blocking up to the timeout);
 *  ::JOT_OK when a usable set is there afterwards. To warm the cache at start-up.
 *  \since 0.3.0 */
JOT_API JOT_NODISCARD jot_err_t jot_remote_keyset_refresh(jot_remote_keyset_t *rk);
/** \brief Number of HTTP requests made so far (for metrics and tests). \since 0.3.0 */
JOT_API uint64_t jot_remote_keyset_fetches(jot_remote_keyset_t *rk);
/** \brief Why the last fetch failed, as text ("" when it succeeded or none ran), copied into
 *  \p buf (\p cap bytes, NUL-terminated, cut if longer). Never names secrets. \since 0.3.0 */
JOT_API void jot_remote_keyset_errmsg(jot_remote_keyset_t *rk, char *buf, size_t cap);
/** \brief Free. Waits for a background fetch to finish (at most the timeout). No verifier
 *  may still use it. NULL is a no-op. \since 0.3.0 */
JOT_API void jot_remote_keyset_free(jot_remote_keyset_t *rk);
/** \brief Verify with the keys of \p rk (borrowed; must outlive \p v), chosen as with
 *  jot_verifier_set_keyset(). Used only while neither a key nor a local key set is set.
 *  NULL removes it. Fetch failures make jot_verify() return ::JOT_E_FETCH or ::JOT_E_STALE;
 *  a kid missing even after the refetch the cooldown allows: ::JOT_E_KEY_NOT_FOUND.
 *  \since 0.3.0 */
JOT_API void jot_verifier_set_remote_keyset(jot_verifier_t *v, jot_remote_keyset_t *rk);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name Token status (IETF Token Status List, draft-ietf-oauth-status-list)
 *
 * A ::jot_status_checker_t fetches and caches Status List Tokens with the same fetcher and
 * cache as a remote key set (the same transport rules, single flight, stale-if-error up to
 * \p max_stale_s then fail closed), one cached list per URI. A list is a JWT with header typ
 * `statuslist+jwt`, verified with the issuer's keys (a key set or a remote key set given by
 * the caller, borrowed) under the caller's algorithm allowlist; its claims must hold `sub`
 * equal to the URI it was fetched from, `iat`, and `status_list` {bits 1/2/4/8, lst: the
 * base64url of the ZLIB-compressed status bytes}; `exp`, when present, is checked. It is
 * cached for its `ttl`, never past its `exp` (those win over HTTP caching headers, as the
 * draft asks), clamped to [\p min_cache_s, \p max_cache_s]. The inflated list is capped at
 * \p max_list_bytes (a decompression bomb fails), and an index beyond the list is refused.
 * A list token may be as large as \p fetch.max_body (a million entries do not fit in the
 * payload cap of ordinary tokens).
 *
 * Only URIs that begin with \p uri_prefix (the issuer's origin and path, say
 * "https://auth.example.com/statuslists/") are ever fetched: never an arbitrary URI taken
 * from a token. The checker is thread-safe. \since 0.3.0 */
/**@{*/
typedef struct jot_status_checker jot_status_checker_t;

/** Options of jot_status_checker_new(). Fill with jot_status_opts_init(). \since 0.3.0 */
typedef struct jot_status_opts {
    jot_remote_opts_t fetch; /**< transport and cache rules, as for a remote key set
                                  (defaults: jot_remote_opts_init()) */
    const char *uri_prefix;  /**< required: status list URIs must begin with it (copied) */
    unsigned alg_mask;       /**< algorithms the list tokens may use (JOT_ALG_BIT());
                                  required */
    size_t max_list_bytes;   /**< cap on an inflated list (default 16 MiB) */
} jot_status_opts_t;

/** Most lists one checker caches (distinct URIs); more: ::JOT_E_TOOBIG. */
#define JOT_STATUS_MAX_LISTS 256

/** \brief Fill \p opts with the defaults. \since 0.3.0 */
JOT_API void jot_status_opts_init(jot_status_opts_t *opts);
/** \brief A status checker whose lists are verified with \p keys or, when it is NULL,
 *  \p remote_keys (one of them required; both borrowed, they must outlive the checker).
 *  \return ::JOT_E_INVAL for missing keys, prefix or algorithms, or a prefix that is not an
 *  acceptable URL under the transport rules; ::JOT_E_UNSUPPORTED without libcurl.
 *  \param[out] out_sc caller frees with jot_status_checker_free(). \since 0.3.0 */
JOT_API JOT_NODISCARD jot_err_t jot_status_checker_new(const jot_status_opts_t *opts,
                                                       const jot_keyset_t *keys,
                                                       jot_remote_keyset_t *remote_keys,
                                                       jot_status_checker_t **out_sc);
/** \brief The status value (0 VALID, 1 INVALID, 2 SUSPENDED, ...) of entry \p idx of the
 *  list at \p uri (\p uri_len bytes), fetching the list if it is not cached.
 *  \return ::JOT_E_STATUS_URI (not under the prefix), ::JOT_E_STATUS_LIST (the list is not a
 *  valid Status List Token for that URI, or \p idx is beyond it), ::JOT_E_FETCH,
 *  ::JOT_E_STALE. \since 0.3.0 */
JOT_API JOT_NODISCARD jot_err_t jot_status_check(jot_status_checker_t *sc, const char *uri,
                                                 size_t uri_len, uint64_t idx,
                                                 unsigned *out_status);
/** \brief Number of HTTP requests made for status lists so far. \since 0.3.0 */
JOT_API uint64_t jot_status_checker_fetches(jot_status_checker_t *sc);
/** \brief Why the last failed list fetch or check failed ("" if none), copied into \p buf
 *  (\p cap bytes, NUL-terminated). \since 0.3.0 */
JOT_API void jot_status_checker_errmsg(jot_status_checker_t *sc, char *buf, size_t cap);
/** \brief Free the checker and its cached lists. NULL is a no-op. \since 0.3.0 */
JOT_API void jot_status_checker_free(jot_status_checker_t *sc);
/** \brief Check every token's status with \p sc (borrowed; must outlive \p v), after every
 *  other check passed: the token must carry `status.status_list` {idx, uri} (else
 *  ::JOT_E_MISSING_CLAIM, detail "status"; wrong types: ::JOT_E_CLAIM_TYPE) and its status
 *  must be 0 (VALID), else ::JOT_E_REVOKED. Errors of jot_status_check() pass through. NULL
 *  turns the check off. \since 0.3.0 */
JOT_API void jot_verifier_set_status_checker(jot_verifier_t *v, jot_status_checker_t *sc);
/**@}*/

/* ------------------------------------------------------------------------------------ */
/** \name base64url (RFC 4648 §5, no padding, canonical only) */
/**@{*/
/** \brief Encoded length of \p n bytes (saturates at SIZE_MAX). */
JOT_API size_t jot_b64url_encoded_len(size_t n);
/** \brief Encode into \p out (room for jot_b64url_encoded_len(n) + 1 bytes; NUL-added). */
JOT_API size_t jot_b64url_encode(char *out, const uint8_t *in, size_t n);
/** \brief Strict decode: alphabet A-Z a-z 0-9 - _, no padding, no whitespace, unused bits
 *  zero, length % 4 != 1. \p out needs room for (len / 4) * 3 + 2 bytes. */
JOT_API JOT_NODISCARD jot_err_t jot_b64url_decode(uint8_t *out, size_t *out_len, const char *in,
                                                  size_t len);
/**@}*/

#ifdef __cplusplus
}
#endif
#endif /* JOT_JOT_H */
