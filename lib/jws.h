/* Internal: the token and verifier objects shared by jws.c and jwt.c. */
#ifndef JOT_JWS_H
#define JOT_JWS_H

#include "internal.h"

typedef struct jot_jws_parts {
    const char *header, *payload, *sig; /* base64url text, inside the caller's token */
    size_t header_len, payload_len, sig_len;
} jot_jws_parts_t;

/* One allocation holds the struct and both decoded parts; the header view and the claims
 * view are the only other allocations of a verification. */
struct jot_token {
    jot_alg_t alg;
    jot_jview_t *header; /* view of the protected header (owned) */
    char *header_json;   /* decoded header bytes, NUL-terminated, inside this allocation */
    size_t header_len;
    uint8_t *payload; /* decoded payload bytes, NUL-terminated, inside this allocation */
    size_t payload_len;
    jot_claims_t *claims;    /* NULL unless the payload is a JSON object; may be &own_claims */
    jot_claims_t own_claims; /* a verified payload's view */
};

struct jot_verifier {
    const jot_key_t *key;         /* borrowed */
    const jot_keyset_t *keyset;   /* borrowed */
    jot_remote_keyset_t *remote;  /* borrowed */
    jot_status_checker_t *status; /* borrowed */
    size_t max_payload;           /* 0: JOT_MAX_PAYLOAD_BYTES; larger only for status list tokens */
    unsigned algs;
    char *sub, *typ;
    char **isss; /* accepted issuers: "iss" must equal one of them */
    size_t n_isss;
    char **auds;
    size_t n_auds;
    char **required;
    size_t n_required;
    int64_t leeway, max_age;
    bool allow_no_exp;
    jot_clock_fn clock;
    void *clock_ctx;
};

/** Split a compact token into its three parts (exactly two dots), with size caps. */
jot_err_t jot__jws_split(const char *token, size_t len, jot_jws_parts_t *out);
/** The same with a decoded payload of up to \p max_payload bytes (the token cap grows
 *  with it). */
jot_err_t jot__jws_split_max(const char *token, size_t len, size_t max_payload,
                             jot_jws_parts_t *out);
/** The payload cap of \p v. */
static inline size_t jot__verifier_max_payload(const jot_verifier_t *v)
{
    return v->max_payload ? v->max_payload : JOT_MAX_PAYLOAD_BYTES;
}
/** A token object with room for the decoded header and payload of \p parts. */
jot_token_t *jot__token_alloc(const jot_jws_parts_t *parts);
jot_err_t jot__jws_decode_header(const jot_jws_parts_t *parts, jot_token_t *t);
jot_err_t jot__jws_decode_payload(const jot_jws_parts_t *parts, jot_token_t *t);
/** jot_jws_sign() for a header the library wrote itself (not checked again). */
jot_err_t jot__jws_sign_unchecked(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                                  size_t header_len, const uint8_t *payload, size_t payload_len,
                                  char **out_token, size_t *out_len);
/** The same within the given caps: the payload at most \p payload_cap bytes, the token at
 *  most \p token_cap characters (else JOT_E_TOOBIG). */
jot_err_t jot__jws_sign_capped(const jot_key_t *key, jot_alg_t alg, const char *header_json,
                               size_t header_len, const uint8_t *payload, size_t payload_len,
                               size_t payload_cap, size_t token_cap, char **out_token,
                               size_t *out_len);
/** Everything up to and including the signature and the payload's base64url. */
jot_err_t jot__jws_verify(const jot_verifier_t *v, const char *token, size_t len,
                          jot_token_t **out);

/** The key of \p set for a token with this header and algorithm: by kid, or without kid
 *  the one key usable with \p alg. JOT_E_KEY_NOT_FOUND otherwise. */
jot_err_t jot__keyset_select(const jot_keyset_t *set, const jot_jview_t *header, jot_alg_t alg,
                             const jot_key_t **out);
/** The same through a remote key set (remote.c): on success the key stays valid until
 *  jot__remote_release(*out_ref). An unknown kid may refetch (once per cooldown). */
struct jot_rdoc_ref;
jot_err_t jot__remote_select(jot_remote_keyset_t *rk, const jot_jview_t *header, jot_alg_t alg,
                             const jot_key_t **out_key, struct jot_rdoc_ref **out_ref);
void jot__remote_release(jot_remote_keyset_t *rk, struct jot_rdoc_ref *ref);
/** The status check of a verified token's claims (status.c): JOT_OK for status 0. */
jot_err_t jot__status_check_token(jot_status_checker_t *sc, const jot_jview_t *claims);

#endif
