/* Fuzz target "admin": the admin API's request handling up to the database, without sockets.
 *
 * server/routes_admin.c is compiled into this file (white-box, as the unit tests do), so its
 * static helpers are the real ones: jotd_admin_json_body (jansson, JSON_REJECT_DUPLICATES, an
 * object), members_ok, jotd_admin_list, plus jotd_username_valid / jotd_name_valid /
 * jotd_parse_id from server/names.c. Its one external function is renamed here so that the
 * copy in jotd_core stays the one the rest of the server links against (should the file
 * gain another non-static function, rename that one too, or the link fails with a
 * duplicate symbol).
 *
 * Input: one option byte, then "PATH-TAIL\nBODY".
 *   bits 0-2  method: GET POST PATCH DELETE PUT HEAD "" "get"
 *   bit 3     Content-Type application/json (else text/plain)
 * PATH-TAIL follows "/admin/users" (e.g. "/42/sessions"). The route runs without an
 * Authorization header, so it stops at the 401 challenge after routing; the body goes
 * through the create and patch validation exactly as create_user / patch_user do before
 * they hash a password or touch the store.
 * Invariants: the router answers 401, 404 or 405 (never 2xx/5xx without credentials);
 * accepted names, usernames and ids satisfy their documented grammar. */
#include "fuzz_common.h"

#define jotd_route_admin fuzz_route_admin_copy
#include "../server/routes_admin.c"
#undef jotd_route_admin

static bool name_chars(const char *s, const char *extra)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(extra, c)))
            return false;
    }
    return true;
}

static void free_resp(jotd_resp_t *r)
{
    free(r->body);
    for (size_t i = 0; i < r->n_hdr; i++)
        free(r->hdr_value[i]);
    memset(r, 0, sizeof *r);
}

/* create_user / patch_user up to the password hash: the same checks, in the same order. */
static void validate_body(const jotd_req_t *req, bool creating)
{
    jotd_resp_t resp = {0};
    json_t *body = jotd_admin_json_body(req, &resp);
    if (!body) {
        FUZZ_CHECK(resp.status == 400);
        free_resp(&resp);
        return;
    }
    FUZZ_CHECK(json_is_object(body));
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    json_t *roles = json_object_get(body, "roles"), *perms = json_object_get(body, "permissions");
    const char **rl = NULL, **pl = NULL;
    size_t n_roles = 0, n_perms = 0;
    bool ok = members_ok(body, creating);
    if (creating)
        ok = ok && username && jotd_username_valid(username) && password;
    ok = ok && (!roles || jotd_admin_list(roles, JOTD_MAX_NAMES, jotd_name_valid, &rl, &n_roles)) &&
         (!perms || jotd_admin_list(perms, JOTD_MAX_NAMES, jotd_name_valid, &pl, &n_perms));
    if (ok) {
        if (creating)
            FUZZ_CHECK(name_chars(username, "._@-"));
        FUZZ_CHECK(n_roles <= JOTD_MAX_NAMES && n_perms <= JOTD_MAX_NAMES);
        for (size_t i = 0; i < n_roles; i++)
            FUZZ_CHECK(rl[i] && name_chars(rl[i], "._:/-"));
        for (size_t i = 0; i < n_perms; i++)
            FUZZ_CHECK(pl[i] && name_chars(pl[i], "._:/-"));
        FUZZ_CHECK(!roles || rl[n_roles] == NULL); /* NULL-terminated list */
        /* every member is one the route knows */
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v)
        {
            FUZZ_CHECK(!strcmp(key, "roles") || !strcmp(key, "permissions") ||
                       !strcmp(key, "disabled") || !strcmp(key, "password") ||
                       (creating && !strcmp(key, "username")));
        }
    }
    free(rl);
    free(pl);
    json_decref(body);
    free_resp(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[8] = {"GET", "POST", "PATCH", "DELETE",
                                           "PUT", "HEAD", "",      "get"};
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const uint8_t *rest = data + 1;
    size_t len = size - 1;
    const uint8_t *nl = memchr(rest, '\n', len);
    size_t tail_len = nl ? (size_t)(nl - rest) : 0;
    const uint8_t *body = nl ? nl + 1 : rest;
    size_t body_len = len - (size_t)(body - rest);

    /* the path as the HTTP layer hands it over: a C string under /admin/users */
    char *tail = fuzz_cstr(rest, tail_len);
    size_t plen = strlen("/admin/users") + strlen(tail) + 1;
    char *path = malloc(plen);
    FUZZ_CHECK(path != NULL);
    snprintf(path, plen, "/admin/users%s", tail);
    char *b = fuzz_copy(body, body_len, 0);

    jotd_req_t req = {
        .method = methods[opt & 7],
        .path = path,
        .query = "",
        .content_type = (opt & 8) ? "application/json" : "text/plain",
        .authorization = NULL,
        .ip = "127.0.0.1",
        .body = b,
        .body_len = body_len,
    };
    jotd_app_t app;
    memset(&app, 0, sizeof app);
    jotd_runtime_t rt;
    memset(&rt, 0, sizeof rt);
    jotd_resp_t resp = {0};
    fuzz_route_admin_copy(&app, &rt, &req, &resp);
    FUZZ_CHECK(resp.status == 401 || resp.status == 404 || resp.status == 405);
    free_resp(&resp);

    /* the id segment alone, as the router reads it */
    int64_t id = -1;
    if (jotd_parse_id(tail[0] == '/' ? tail + 1 : tail, &id) == 0)
        FUZZ_CHECK(id >= 0 && id <= (INT64_C(1) << 53));

    jotd_req_t json_req = req;
    json_req.content_type = "application/json";
    validate_body(&json_req, true);
    validate_body(&json_req, false);

    free(b);
    free(path);
    free(tail);
    return 0;
}
