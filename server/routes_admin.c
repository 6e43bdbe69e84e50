/* /admin/users: JSON administration of users, for holders of the "admin" role.
 *   GET    /admin/users?limit=N&after=ID   list, id order, paged
 *   POST   /admin/users                    create {username,password,roles,permissions,disabled}
 *   GET    /admin/users/{id}               one user
 *   PATCH  /admin/users/{id}               change roles, permissions, disabled, password
 *   DELETE /admin/users/{id}               delete with every session
 *   DELETE /admin/users/{id}/sessions      end every session of the user
 *   GET    /admin/users/{id}/sessions      the user's sessions (created, last used, client, IP)
 *   DELETE /admin/users/{id}/sessions/{sid} end one session of the user */
#include "log.h"
#include "names.h"
#include "server.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *user_json(const jotd_user_t *u)
{
    return json_pack("{s:I,s:s,s:o,s:o,s:b,s:I,s:I}", "id", (json_int_t)u->id, "username",
                     u->username, "roles", jotd_admin_strings(u->roles, u->n_roles), "permissions",
                     jotd_admin_strings(u->permissions, u->n_permissions), "disabled", u->disabled,
                     "created_at", (json_int_t)u->created_at, "updated_at",
                     (json_int_t)u->updated_at);
}

/* Only these members, with these types; anything else is a 400. */
static bool members_ok(json_t *body, bool creating)
{
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "roles") == 0 || strcmp(key, "permissions") == 0)
            continue; /* checked by jotd_admin_list */
        if (strcmp(key, "disabled") == 0 && json_is_boolean(v))
            continue;
        if (strcmp(key, "password") == 0 && json_is_string(v))
            continue;
        if (creating && strcmp(key, "username") == 0 && json_is_string(v))
            continue;
        return false;
    }
    return true;
}

static bool hash_password(jotd_app_t *app, const jotd_runtime_t *rt, const char *pw,
                          char out[JOTD_PHC_MAX], jotd_resp_t *resp)
{
    (void)app;
    size_t n = strlen(pw);
    if (n < JOTD_PASSWORD_MIN || n > JOTD_PASSWORD_MAX) {
        jotd_resp_error(resp, 400, "invalid_request", "password must be 8 to 1024 characters");
        return false;
    }
    jotd_argon2_t params = {rt->cfg.argon2_m_kib, rt->cfg.argon2_t, rt->cfg.argon2_p};
    if (jotd_password_hash(&params, pw, n, out) != 0) {
        jotd_resp_error(resp, 500, "server_error", "cannot hash the password");
        return false;
    }
    return true;
}

static void list_users(jotd_app_t *app, const jotd_req_t *req, jotd_resp_t *resp)
{
    char buf[32];
    int64_t after = 0, limit = 50;
    const char *s;
    if ((s = jotd_req_query(req, "after", buf, sizeof buf)) && jotd_parse_id(s, &after) != 0) {
        jotd_resp_error(resp, 400, "invalid_request", "after must be a user id");
        return;
    }
    if ((s = jotd_req_query(req, "limit", buf, sizeof buf)) &&
        (jotd_parse_id(s, &limit) != 0 || limit < 1 || limit > 500)) {
        jotd_resp_error(resp, 400, "invalid_request", "limit must be 1 to 500");
        return;
    }
    jotd_user_t *users = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_user_list(app->store, after, (size_t)limit, &users, &n);
    if (rc != JOTD_OK) {
        jotd_resp_unavailable(resp, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, user_json(&users[i]));
    json_t *next = n == (size_t)limit ? json_integer(users[n - 1].id) : json_null();
    jotd_user_list_free(users, n);
    jotd_resp_json(resp, 200, json_pack("{s:o,s:o}", "users", arr, "next", next));
}

static void create_user(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                        const char *admin, jotd_resp_t *resp)
{
    json_t *body = jotd_admin_json_body(req, resp);
    if (!body)
        return;
    const char *username = json_string_value(json_object_get(body, "username"));
    const char *password = json_string_value(json_object_get(body, "password"));
    json_t *roles = json_object_get(body, "roles"), *perms = json_object_get(body, "permissions");
    jotd_user_t u = {0};
    const char **rl = NULL, **pl = NULL;
    char phc[JOTD_PHC_MAX];
    if (!members_ok(body, true) || !username || !jotd_username_valid(username) || !password ||
        (roles && !jotd_admin_list(roles, JOTD_MAX_NAMES, jotd_name_valid, &rl, &u.n_roles)) ||
        (perms &&
         !jotd_admin_list(perms, JOTD_MAX_NAMES, jotd_name_valid, &pl, &u.n_permissions))) {
        jotd_resp_error(resp, 400, "invalid_request",
                        "need username (1-64 of A-Z a-z 0-9 . _ @ -), password, and roles/"
                        "permissions as arrays of names");
    } else if (hash_password(app, rt, password, phc, resp)) {
        u.username = (char *)username;
        u.password_hash = phc;
        u.roles = (char **)rl;
        u.permissions = (char **)pl;
        u.disabled = json_is_true(json_object_get(body, "disabled"));
        int64_t id = 0;
        jotd_rc_t rc = jotd_store_user_create(app->store, &u, jotd_now(), &id);
        jotd_user_t created = {0};
        if (rc == JOTD_E_EXISTS) {
            jotd_resp_error(resp, 409, "conflict", "username taken");
        } else if (rc != JOTD_OK || (rc = jotd_store_user_get(app->store, id, &created))) {
            jotd_resp_unavailable(resp, rc);
        } else {
            char loc[48];
            snprintf(loc, sizeof loc, "/admin/users/%lld", (long long)id);
            jotd_audit("admin_user_create", "admin", admin, "user", username, NULL);
            jotd_resp_json(resp, 201, user_json(&created));
            jotd_resp_header(resp, "Location", loc);
        }
        jotd_user_clear(&created);
        jot_memzero(phc, sizeof phc);
    }
    free(rl);
    free(pl);
    json_decref(body);
}

static void patch_user(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req, int64_t id,
                       const char *admin, jotd_resp_t *resp)
{
    json_t *body = jotd_admin_json_body(req, resp);
    if (!body)
        return;
    jotd_user_patch_t p = {.disabled = -1};
    json_t *roles = json_object_get(body, "roles"), *perms = json_object_get(body, "permissions");
    json_t *disabled = json_object_get(body, "disabled");
    const char *password = json_string_value(json_object_get(body, "password"));
    const char **rl = NULL, **pl = NULL;
    char phc[JOTD_PHC_MAX];
    bool ok =
        members_ok(body, false) &&
        (!roles || jotd_admin_list(roles, JOTD_MAX_NAMES, jotd_name_valid, &rl, &p.n_roles)) &&
        (!perms || jotd_admin_list(perms, JOTD_MAX_NAMES, jotd_name_valid, &pl, &p.n_permissions));
    if (!ok) {
        jotd_resp_error(resp, 400, "invalid_request",
                        "patch roles, permissions (arrays of names), disabled, password");
    } else if (!password || hash_password(app, rt, password, phc, resp)) {
        p.has_roles = roles != NULL;
        p.roles = rl;
        p.has_permissions = perms != NULL;
        p.permissions = pl;
        p.disabled = disabled ? json_is_true(disabled) : -1;
        p.password_hash = password ? phc : NULL;
        jotd_rc_t rc = jotd_store_user_update(app->store, id, &p, jotd_now());
        jotd_user_t u = {0};
        if (rc == JOTD_OK)
            rc = jotd_store_user_get(app->store, id, &u);
        if (rc == JOTD_E_NOTFOUND) {
            jotd_resp_error(resp, 404, "not_found", "no such user");
        } else if (rc != JOTD_OK) {
            jotd_resp_unavailable(resp, rc);
        } else {
            jotd_audit("admin_user_update", "admin", admin, "user", u.username, "password",
                       password ? "changed" : NULL, "disabled",
                       disabled ? (json_is_true(disabled) ? "true" : "false") : NULL, NULL);
            jotd_resp_json(resp, 200, user_json(&u));
        }
        jotd_user_clear(&u);
        jot_memzero(phc, sizeof phc);
    }
    free(rl);
    free(pl);
    json_decref(body);
}

static void list_sessions(jotd_app_t *app, int64_t id, jotd_resp_t *resp)
{
    jotd_user_t u = {0};
    jotd_rc_t rc = jotd_store_user_get(app->store, id, &u);
    jotd_user_clear(&u);
    jotd_session_t *v = NULL;
    size_t n = 0;
    if (rc == JOTD_OK)
        rc = jotd_store_session_list(app->store, id, &v, &n);
    if (rc == JOTD_OK) {
        json_t *a = json_array();
        int64_t now = jotd_now();
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_pack(
                "{s:s,s:s,s:s,s:I,s:I,s:I,s:b,s:b}", "sid", v[i].sid, "client_id", v[i].client_id,
                "scope", v[i].scope, "created_at", (json_int_t)v[i].created_at, "last_used_at",
                (json_int_t)v[i].last_used_at, "expires_at", (json_int_t)v[i].expires_at, "revoked",
                v[i].revoked, "active", !v[i].revoked && v[i].expires_at > now);
            json_object_set_new(o, "ip", v[i].ip ? json_string(v[i].ip) : json_null());
            json_array_append_new(a, o);
        }
        jotd_resp_json(resp, 200, json_pack("{s:o}", "sessions", a));
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such user");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
    jotd_session_list_free(v, n);
}

/* One session of the user: 404 when it is not theirs (never another user's). */
static void revoke_one_session(jotd_app_t *app, int64_t id, const char *sid, const char *admin,
                               jotd_resp_t *resp)
{
    jotd_session_t s = {0};
    bool active = false;
    jotd_rc_t rc = jotd_store_session_get(app->store, sid, jotd_now(), &s, &active);
    if (rc == JOTD_OK && s.user_id != id)
        rc = JOTD_E_NOTFOUND;
    jotd_session_clear(&s);
    if (rc == JOTD_OK)
        rc = jotd_store_session_revoke(app->store, sid, jotd_now());
    if (rc == JOTD_OK) {
        char who[24];
        snprintf(who, sizeof who, "%lld", (long long)id);
        jotd_audit("admin_session_revoke", "admin", admin, "user_id", who, "sid", sid, NULL);
        resp->status = 204;
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such session of this user");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
}

void jotd_route_admin(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                      jotd_resp_t *resp)
{
    /* /admin/users, /admin/users/{id}, /admin/users/{id}/sessions[/{sid}] */
    const char *rest = req->path + strlen("/admin/users");
    int64_t id = 0;
    bool sessions = false;
    char sid[JOTD_SID_LEN + 1] = "";
    if (*rest) {
        char idbuf[24];
        const char *slash = jotd_admin_segment(rest, idbuf, sizeof idbuf);
        bool bad = !slash || jotd_parse_id(idbuf, &id) != 0 || id <= 0;
        if (!bad && *slash) {
            const char *after = slash + strlen("/sessions");
            bad = strncmp(slash, "/sessions", strlen("/sessions")) != 0 ||
                  (*after && (*after != '/' || !after[1] || strlen(after + 1) > JOTD_SID_LEN ||
                              strchr(after + 1, '/')));
            if (!bad && *after)
                snprintf(sid, sizeof sid, "%s", after + 1);
        }
        if (bad) {
            jotd_resp_error(resp, 404, "not_found", "no such endpoint");
            return;
        }
        sessions = *slash != '\0';
    }
    const char *m = req->method;
    const char *allow = !*rest     ? "GET, POST"
                        : *sid     ? "DELETE"
                        : sessions ? "GET, DELETE"
                                   : "GET, PATCH, DELETE";
    if (!jotd_resp_method(req, allow, resp))
        return;
    char *admin = jotd_admin_require(app, rt, req, resp);
    if (!admin)
        return;
    jotd_rc_t rc;
    if (!*rest && !strcmp(m, "GET")) {
        list_users(app, req, resp);
    } else if (!*rest) {
        create_user(app, rt, req, admin, resp);
    } else if (*sid) {
        revoke_one_session(app, id, sid, admin, resp);
    } else if (sessions && !strcmp(m, "GET")) {
        list_sessions(app, id, resp);
    } else if (sessions) {
        size_t n = 0;
        rc = jotd_store_sessions_revoke_user(app->store, id, jotd_now(), &n);
        if (rc == JOTD_OK) {
            char who[24];
            snprintf(who, sizeof who, "%lld", (long long)id);
            jotd_audit("admin_sessions_revoke", "admin", admin, "user_id", who, NULL);
            jotd_resp_json(resp, 200, json_pack("{s:I}", "revoked", (json_int_t)n));
        } else if (rc == JOTD_E_NOTFOUND) {
            jotd_resp_error(resp, 404, "not_found", "no such user");
        } else {
            jotd_resp_unavailable(resp, rc);
        }
    } else if (!strcmp(m, "GET")) {
        jotd_user_t u = {0};
        rc = jotd_store_user_get(app->store, id, &u);
        if (rc == JOTD_OK)
            jotd_resp_json(resp, 200, user_json(&u));
        else if (rc == JOTD_E_NOTFOUND)
            jotd_resp_error(resp, 404, "not_found", "no such user");
        else
            jotd_resp_unavailable(resp, rc);
        jotd_user_clear(&u);
    } else if (!strcmp(m, "PATCH")) {
        patch_user(app, rt, req, id, admin, resp);
    } else {
        rc = jotd_store_user_delete(app->store, id, jotd_now());
        if (rc == JOTD_OK) {
            char who[24];
            snprintf(who, sizeof who, "%lld", (long long)id);
            jotd_audit("admin_user_delete", "admin", admin, "user_id", who, NULL);
            resp->status = 204;
        } else if (rc == JOTD_E_NOTFOUND) {
            jotd_resp_error(resp, 404, "not_found", "no such user");
        } else {
            jotd_resp_unavailable(resp, rc);
        }
    }
    /* a change voids tokens at once here (the events it wrote), not at the next poll */
    if (strcmp(m, "GET") != 0 && resp->status < 300)
        (void)jotd_events_sync(app, rt->cfg.access_ttl);
    free(admin);
}
