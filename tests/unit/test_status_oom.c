/* Allocation failures in the status list decoder (lib/status.c): every allocation of
 * jot__status_list_decode() (base64url, the inflate buffer and its growth) fails in turn;
 * each run returns JOT_E_NOMEM or succeeds, and leaves no block behind. The failing
 * allocator is installed before anything else (test.h). */
#include "test.h"

#include "fetch.h"

#include <string.h>

static void decode_under_oom(const char *json)
{
    json_t *obj = NULL;
    assert_rc(jot__json_parse(json, strlen(json), 1 << 20, 8, true, &obj), JOT_OK);
    long base = oom_live();
    bool done = false;
    for (long n = 1; !done && n < 10000; n++) {
        oom_arm(n, false);
        uint8_t *bytes = NULL;
        size_t len = 0;
        unsigned bits = 0;
        jot_err_t rc = jot__status_list_decode(obj, 1 << 20, &bytes, &len, &bits);
        bool injected = oom_injected();
        oom_disarm();
        if (rc == JOT_OK) {
            jot_free(bytes);
            done = !injected;
        } else if (rc != JOT_E_NOMEM) {
            fail_msg("allocation %ld: %s, want JOT_E_NOMEM", n, jot_err_name(rc));
        }
        assert_int_equal(oom_live(), base);
    }
    assert_true(done);
    json_decref(obj);
}

static void test_decode_oom(void **state)
{
    (void)state;
    decode_under_oom("{\"bits\":1,\"lst\":\"eNrbuRgAAhcBXQ\"}");
    /* 64 KiB of zeros: the inflate buffer grows several times */
    decode_under_oom("{\"bits\":1,\"lst\":\"eNrtwQEBAAAAgJD-r-"
                     "4ICgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                     "AAAAAAAAAAGoADwAB\"}");
    assert_int_equal(oom_bad_frees(), 0);
}

int main(void)
{
    oom_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_oom),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oom_uninstall();
    return rc;
}
