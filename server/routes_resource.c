/* GET /verify (forward-auth for nginx auth_request, Traefik, Caddy) and GET /userinfo. */
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jotd_resp_bearer_challenge(jotd_resp_t *resp, const char *error, const char *description)
{
    char challenge[256];
    if (error) {
        /* RFC 6750 §3: the description is a quoted-string of printable ASCII without '"' or
         * '\\'; ours are static texts from jot_strerror() and this file */
        snprintf(challenge, sizeof challenge,
                 "Bearer realm=\"jotd\", error=\"%s\", error_description=\"%s\"", error,
                 description ? description : "");
        jotd_resp_error(resp, 401, error, description);
    } else {
        snprintf(challenge, sizeof challenge, "Bearer realm=\"jotd\"");
        jotd_resp_error(resp, 401, "unauthorized", "a bearer token is required");
    }
    jotd_resp_header(resp, "WWW-Authenticate", challenge);
}

/* Verify the request's bearer token; on failure the 401 is already in \p resp. */
static jot_token_t *bearer(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    if (!req->authorization) {
        jotd_resp_bearer_challenge(resp, NULL, NULL);
        return NULL;
    }
    size_t len = 0;
    const char *token = jotd_bearer_token(req->authorization, &len);
    if (!token) {
        jotd_resp_bearer_challenge(resp, "invalid_request", "malformed Authorization header");
        return NULL;
    }
    jot_token_t *t = NULL;
    const char *why = NULL;
    if (jotd_access_verify(app, rt, token, len, &t, &why) != JOT_OK) {
        jotd_resp_bearer_challenge(resp, "invalid_token", why);
        return NULL;
    }
    return t;
}

/* Header values built from claims: a comma-separated list (X-Auth-Roles) or one string.
 * Role and permission names are restricted when stored; control characters are dropped here
 * all the same so that no claim can ever split a header. */
static char *header_value(const jot_claims_t *c, const char *name, char sep)
{
    size_t n = 0, total = 1;
    const char *v;
    if (jot_claims_get_strings_count(c, name, &n) != JOT_OK)
        return strdup("");
    for (size_t i = 0; i < n; i++)
        if (jot_claims_get_strings_at(c, name, i, &v) == JOT_OK)
            total += strlen(v) + 1;
    char *out = malloc(total), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (jot_claims_get_strings_at(c, name, i, &v) != JOT_OK)
            continue;
        if (p != out)
            *p++ = sep;
        for (; *v; v++)
            if ((unsigned char)*v >= 0x20 && *v != 0x7f)
                *p++ = *v;
    }
    *p = '\0';
    return out;
}

void jotd_route_verify(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       jotd_resp_t *resp)
{
    jot_token_t *t = bearer(app, rt, req, resp);
    if (!t)
        return;
    const jot_claims_t *c = jot_token_claims(t);
    static const struct {
        const char *header, *claim;
        char sep;
    } map[] = {
        {"X-Auth-Subject", "sub", ','}, {"X-Auth-User", "preferred_username", ','},
        {"X-Auth-Roles", "roles", ','}, {"X-Auth-Permissions", "permissions", ','},
        {"X-Auth-Scope", "scope", ' '}, {"X-Auth-Client", "client_id", ','},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        char *v = header_value(c, map[i].claim, map[i].sep);
        jotd_resp_header(resp, map[i].header, v ? v : "");
        free(v);
    }
    jot_token_free(t);
    resp->status = 200;
}

void jotd_route_userinfo(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                         jotd_resp_t *resp)
{
    jot_token_t *t = bearer(app, rt, req, resp);
    if (!t)
        return;
    const char *sid = NULL, *sub = NULL;
    if (jot_claims_get_string(jot_token_claims(t), "sid", &sid) != JOT_OK)
        sid = NULL;
    if (jot_claims_get_string(jot_token_claims(t), "sub", &sub) != JOT_OK)
        sub = NULL;
    jotd_session_t s = {0};
    jotd_user_t u = {0};
    bool active = false;
    jotd_rc_t rc =
        sid ? jotd_store_session_get(app->store, sid, jotd_now(), &s, &active) : JOTD_E_NOTFOUND;
    if (rc == JOTD_OK && active)
        rc = jotd_store_user_get(app->store, s.user_id, &u);
    if (rc == JOTD_OK && active && !u.disabled) {
        json_t *roles = json_array(), *perms = json_array();
        for (size_t i = 0; i < u.n_roles; i++)
            json_array_append_new(roles, json_string(u.roles[i]));
        for (size_t i = 0; i < u.n_permissions; i++)
            json_array_append_new(perms, json_string(u.permissions[i]));
        jotd_resp_json(resp, 200,
                       json_pack("{s:s,s:s,s:o,s:o}", "sub", sub ? sub : "", "preferred_username",
                                 u.username, "roles", roles, "permissions", perms));
    } else if (rc == JOTD_OK || rc == JOTD_E_NOTFOUND) {
        jotd_resp_bearer_challenge(resp, "invalid_token", "session ended");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
    jotd_user_clear(&u);
    jotd_session_clear(&s);
    jot_token_free(t);
}
