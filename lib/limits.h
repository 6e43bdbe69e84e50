/* Hard limits on untrusted input. Every one is checked before the work it bounds.
 * Documented in docs/limits.md; change both together. */
#ifndef JOT_LIMITS_H
#define JOT_LIMITS_H

/** Longest compact token accepted, in bytes (all three parts and the dots). */
#define JOT_MAX_TOKEN_LEN (64u * 1024u)
/** Longest decoded protected header, in bytes. */
#define JOT_MAX_HEADER_BYTES (4u * 1024u)
/** Longest decoded payload, in bytes. */
#define JOT_MAX_PAYLOAD_BYTES (48u * 1024u)
/** Deepest nesting of JSON arrays/objects in a header, payload, JWK or JWKS. */
#define JOT_MAX_JSON_DEPTH 16u
/** Most members in a claim set. */
#define JOT_MAX_CLAIMS 256u
/** Longest JWK or JWKS document, and longest PEM input, in bytes. */
#define JOT_MAX_JWK_BYTES (256u * 1024u)
/** Most keys in one key set. */
#define JOT_MAX_KEYS 64u
/** Smallest RSA modulus accepted for signing or verifying (RFC 7518 §3.3). */
#define JOT_MIN_RSA_BITS 2048u
/** Largest RSA modulus accepted (bounds verification cost). */
#define JOT_MAX_RSA_BITS 16384u
/** Largest HMAC key, in bytes. */
#define JOT_MAX_HMAC_KEY_BYTES 1024u
/* JOT_MAX_LEEWAY, the largest leeway a verifier keeps, is public: include/jot/jot.h. */

#endif
