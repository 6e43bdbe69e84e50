/* Password hashing: Argon2id (RFC 9106) via libargon2, stored as PHC strings. */
#ifndef JOTD_PASSWORD_H
#define JOTD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane. */
#define JOTD_ARGON2_M_KIB 19456u
#define JOTD_ARGON2_T 2u
#define JOTD_ARGON2_P 1u
#define JOTD_PHC_MAX 160       /* room for any PHC string we produce */
#define JOTD_PASSWORD_MAX 1024 /* longer passwords are refused (bounds the work) */

typedef struct jotd_argon2 {
    uint32_t m_kib, t, p;
} jotd_argon2_t;

/** Hash with a fresh 16-byte salt into \p out (NUL-terminated PHC string).
 *  Returns 0, or -1 (bad parameters, password too long, out of memory). */
int jotd_password_hash(const jotd_argon2_t *params, const char *pw, size_t len,
                       char out[JOTD_PHC_MAX]);
/** 1 if \p pw matches \p phc, 0 if not, -1 if \p phc is not a valid Argon2id PHC string.
 *  Takes the time the parameters inside \p phc dictate, whatever the outcome. */
int jotd_password_verify(const char *phc, const char *pw, size_t len);
/** The parameters of \p phc (an Argon2id PHC string that jotd_password_verify accepts) into
 *  *out. Returns 0, or -1 if \p phc is not such a string. */
int jotd_password_params(const char *phc, jotd_argon2_t *out);
/** Parse the parameter field of a PHC string, "m=<KiB>,t=<passes>,p=<lanes>" (exactly
 *  \p len bytes, no NUL needed), with the bounds of jotd_password_verify. 0 or -1. */
int jotd_password_params_parse(const char *s, size_t len, jotd_argon2_t *out);
/** 1 if \p phc was hashed with other parameters than \p params (rehash it at the next
 *  successful login), 0 if with these, -1 if \p phc is not a valid PHC string. */
int jotd_password_needs_rehash(const char *phc, const jotd_argon2_t *params);

/** A verifier for logins of unknown users: spends the same work as a real verification
 *  (same parameters) against a hash made at start-up, then always reports no match. */
typedef struct jotd_password_dummy {
    char phc[JOTD_PHC_MAX];
} jotd_password_dummy_t;
int jotd_password_dummy_init(jotd_password_dummy_t *d, const jotd_argon2_t *params);
void jotd_password_dummy_verify(const jotd_password_dummy_t *d, const char *pw, size_t len);
/** The parameters the dummy verifies with (what an unknown user's login costs). */
int jotd_password_dummy_params(const jotd_password_dummy_t *d, jotd_argon2_t *out);

/* Work areas (m KiB per hash, see password.c): mapped for a hash, kept for the next one,
 * returned to the OS by jotd_password_trim(). Process-wide, thread-safe. */
/** At most \p n hashes or verifications at once in this process (others wait); 0: no
 *  limit (the default). */
void jotd_password_set_parallel(unsigned n);
/** Unmap the cached work areas unused for \p idle_seconds or more (0: all that are not in
 *  use). Returns the bytes still mapped (in use or cached): with a large \p idle_seconds,
 *  what is mapped now. */
size_t jotd_password_trim(unsigned idle_seconds);

#endif
