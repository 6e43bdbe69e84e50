/* The test vectors of the Token Status List draft (section "Test vectors for Status List
 * encoding"): lists of 2^20 entries with bits 1, 2, 4 and 8, given as {bits, lst} JSON in
 * the status_list_encoding*_json.md files and as "status[N] = 0b..." lines in the draft.
 * Every listed entry must decode to its value and every other entry to 0 (VALID).
 * Read from the shared specs folder beside the vectors ($JOT_VECTORS/../specs/
 * token-status-list); skipped (with a SKIPPED line) when it is absent. */
#include "vectors.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES (1u << 20)

static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* {"bits": N, "lst": "..."} with the lst string wrapped over lines (the draft's layout):
 * the JSON object with the whitespace inside lst removed. */
static json_t *example_object(const char *text)
{
    const char *b = strstr(text, "\"bits\"");
    const char *l = strstr(text, "\"lst\"");
    assert_non_null(b);
    assert_non_null(l);
    unsigned bits = (unsigned)strtoul(strchr(b, ':') + 1, NULL, 10);
    const char *p = strchr(strchr(l, ':'), '"') + 1;
    size_t n = strlen(p);
    char *lst = malloc(n + 1);
    size_t w = 0;
    for (; *p && *p != '"'; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            lst[w++] = *p;
    lst[w] = '\0';
    json_t *obj = json_pack("{s:I,s:s}", "bits", (json_int_t)bits, "lst", lst);
    free(lst);
    return obj;
}

/* The "status[N] = 0b..." lines of the draft's section \p heading (up to "JSON encoding"). */
static size_t expected(const char *draft, const char *heading, uint32_t *idx, unsigned *val,
                       size_t max)
{
    const char *p = strstr(draft, heading);
    assert_non_null(p);
    const char *end = strstr(p, "JSON encoding");
    assert_non_null(end);
    size_t n = 0;
    while ((p = strstr(p, "status[")) && p < end && n < max) {
        char *q;
        idx[n] = (uint32_t)strtoul(p + 7, &q, 10);
        q = strstr(q, "0b");
        assert_non_null(q);
        val[n] = (unsigned)strtoul(q + 2, NULL, 2);
        n++;
        p = q;
    }
    return n;
}

static void check_one(const char *dir, const char *draft, const char *file, const char *heading,
                      unsigned want_bits)
{
    char *text = slurp(dir, file);
    assert_non_null(text);
    json_t *obj = example_object(text);
    uint8_t *bytes = NULL;
    size_t len = 0;
    unsigned bits = 0;
    assert_int_equal(jot__status_list_decode(obj, 16u * 1024u * 1024u, &bytes, &len, &bits),
                     JOT_OK);
    assert_int_equal(bits, want_bits);
    assert_int_equal(len, (size_t)ENTRIES * bits / 8);
    static uint32_t idx[512];
    static unsigned val[512];
    size_t n = expected(draft, heading, idx, val, 512);
    assert_true(n >= 11);
    static unsigned char listed[ENTRIES];
    memset(listed, 0, sizeof listed);
    for (size_t i = 0; i < n; i++) {
        unsigned v = 999;
        assert_int_equal(jot__status_get(bytes, len, bits, idx[i], &v), JOT_OK);
        if (v != val[i])
            fail_msg("%s: status[%u] = %u, want %u", file, idx[i], v, val[i]);
        listed[idx[i]] = 1;
    }
    size_t zeros = 0;
    for (uint32_t i = 0; i < ENTRIES; i++) {
        if (listed[i])
            continue;
        unsigned v = 999;
        assert_int_equal(jot__status_get(bytes, len, bits, i, &v), JOT_OK);
        if (v != 0)
            fail_msg("%s: status[%u] = %u, want 0 (not listed)", file, i, v);
        zeros++;
    }
    unsigned v;
    assert_int_equal(jot__status_get(bytes, len, bits, ENTRIES, &v), JOT_E_STATUS_LIST);
    printf("%s: %zu listed statuses and %zu zeros decoded (bits %u)\n", file, n, zeros, bits);
    jot_free(bytes);
    json_decref(obj);
    free(text);
}

static void test_vectors(void **state)
{
    (void)state;
    const char *vec = vec_dir();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../specs/token-status-list", vec ? vec : ".");
    char *draft = vec ? slurp(dir, "draft-ietf-oauth-status-list.md") : NULL;
    if (!draft) {
        vec_skip("token-status-list", "specs not present");
        return;
    }
    check_one(dir, draft, "status_list_encoding1_long_json.md", "## 1-bit Status List", 1);
    check_one(dir, draft, "status_list_encoding2_long_json.md", "## 2-bit Status List", 2);
    check_one(dir, draft, "status_list_encoding4_json.md", "## 4-bit Status List", 4);
    check_one(dir, draft, "status_list_encoding8_json.md", "## 8-bit Status List", 8);
    free(draft);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
