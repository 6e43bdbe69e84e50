/* What the /admin routers share: the admin check and the JSON body (a file of its own, so
 * that fuzz/fuzz_admin.c can include routes_admin.c whole and link this one). */
#include "server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

json_t *jotd_admin_json_body(const jotd_req_t *req, jotd_resp_t *resp)
{
    const char *ct = req->content_type;
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        jotd_resp_error(resp, 400, "invalid_request", "send application/json");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        jotd_resp_error(resp, 400, "invalid_request", "body must be a JSON object");
        return NULL;
    }
    return j;
}

const char *jotd_admin_segment(const char *rest, char *buf, size_t len)
{
    const char *slash = strchr(rest + 1, '/');
    size_t n = slash ? (size_t)(slash - rest - 1) : strlen(rest + 1);
    if (n == 0 || n >= len)
        return NULL;
    memcpy(buf, rest + 1, n);
    buf[n] = '\0';
    return rest + 1 + n;
}

/* The caller must hold a valid access token whose live session belongs to an enabled
 * user with the "admin" role. Returns the admin's username (malloc'd) or NULL after
 * answering 401/403. */
char *jotd_admin_require(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp)
{
    size_t len = 0;
    const char *token = req->authorization ? jotd_bearer_token(req->authorization, &len) : NULL;
    if (!token) {
        jotd_resp_bearer_challenge(resp, NULL, NULL);
        return NULL;
    }
    jot_token_t *t = NULL;
    const char *why;
    if (jotd_access_verify(app, rt, token, len, &t, &why) != JOT_OK) {
        jotd_resp_bearer_challenge(resp, "invalid_token", why);
        return NULL;
    }
    jotd_user_t u = {0};
    jotd_rc_t rc = jotd_session_user(app, t, &u, resp);
    jot_token_free(t);
    if (rc != JOTD_OK)
        return NULL;
    /* the role is read from the user record now, not from the token */
    char *admin = NULL;
    for (size_t i = 0; i < u.n_roles && !admin; i++)
        if (strcmp(u.roles[i], "admin") == 0)
            admin = strdup(u.username);
    if (!admin) {
        jotd_resp_error(resp, 403, "insufficient_scope", "the admin role is required");
        jotd_resp_header(resp, "WWW-Authenticate",
                         "Bearer realm=\"jotd\", error=\"insufficient_scope\"");
    }
    jotd_user_clear(&u);
    return admin;
}

json_t *jotd_admin_strings(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n && a; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

bool jotd_admin_list(json_t *j, size_t max, bool (*valid)(const char *), const char ***out,
                     size_t *n)
{
    if (!json_is_array(j) || json_array_size(j) > max)
        return false;
    const char **v = calloc(json_array_size(j) + 1, sizeof *v);
    if (!v)
        return false;
    for (size_t i = 0; i < json_array_size(j); i++) {
        const char *s = json_string_value(json_array_get(j, i));
        if (!s || !valid(s)) {
            free(v);
            return false;
        }
        v[i] = s;
    }
    *out = v;
    *n = json_array_size(j);
    return true;
}
