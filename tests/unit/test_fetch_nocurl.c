/* lib/fetch.c compiled as libjot is without libcurl (JOT_HAVE_CURL undefined; this test
 * never gets it): every entry point answers JOT_E_UNSUPPORTED, which is what
 * jot_remote_keyset_new() checks first (jot__fetch_available()). The functions are renamed
 * so that they do not collide with the ones of the linked library. */
#include "test.h"

#undef JOT_HAVE_CURL
#define jot__fetch_available nocurl_fetch_available
#define jot__fetch_check_url nocurl_fetch_check_url
#define jot__fetch nocurl_fetch
#define jot__fetch_result_clear nocurl_fetch_result_clear
#include "fetch.c"

static void test_unsupported(void **state)
{
    (void)state;
    assert_false(nocurl_fetch_available());
    assert_rc(nocurl_fetch_check_url("https://issuer.example/jwks", false), JOT_E_UNSUPPORTED);
    jot_fetch_cfg_t cfg = {5, 1024, NULL, false, NULL};
    jot_fetch_result_t r;
    memset(&r, 0, sizeof r);
    char err[JOT_FETCH_ERRMSG];
    assert_rc(nocurl_fetch(&cfg, "https://issuer.example/jwks", NULL, &r, err), JOT_E_UNSUPPORTED);
    assert_non_null(strstr(err, "without libcurl"));
    nocurl_fetch_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
