/* /admin/clients: JSON administration of OAuth clients, for holders of the "admin" role
 * (the same authorisation as /admin/users: jotd_admin_require).
 *   GET    /admin/clients                       list, id order
 *   POST   /admin/clients                       create {client_id, type, scopes,
 *                                               default_scopes, introspect, resources,
 *                                               redirect_uris, allowed_origins, cookie_mode,
 *                                               refresh_grace, jwks, jwks_url}; 201 with a
 *                                               generated secret, shown once, for a
 *                                               confidential client without keys
 *   GET    /admin/clients/{id}                  one client (never its secret hash)
 *   PATCH  /admin/clients/{id}                  replace scopes, default_scopes, introspect,
 *                                               resources, redirect_uris, allowed_origins,
 *                                               cookie_mode, refresh_grace (null: the
 *                                               default), jwks, jwks_url (those given)
 *   DELETE /admin/clients/{id}                  delete (voids its tokens and sessions)
 *   POST   /admin/clients/{id}/disable          disable (voids its tokens and sessions)
 *   POST   /admin/clients/{id}/enable           enable (earlier tokens stay void)
 *   POST   /admin/clients/{id}/rotate-secret    a new generated secret, shown once
 * Every change is audited (admin_client_*). */
#include "keyring.h"
#include "log.h"
#include "names.h"
#include "server.h"
#include "common/random.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_LEN 43 /* 256 bits, base64url */

static json_t *client_json(const jotd_client_t *c)
{
    const char *type = !jotd_client_is_confidential(c) ? "public"
                       : c->secret_hash                ? "confidential"
                                                       : "private_key_jwt";
    json_t *j =
        json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:I,s:I,s:I}", "client_id", c->client_id,
                  "type", type, "scopes", jotd_admin_strings(c->scopes, c->n_scopes),
                  "default_scopes", jotd_admin_strings(c->default_scopes, c->n_default_scopes),
                  "introspect", jotd_admin_strings(c->introspect, c->n_introspect), "resources",
                  jotd_admin_strings(c->resources, c->n_resources), "redirect_uris",
                  jotd_admin_strings(c->redirect_uris, c->n_redirect_uris), "disabled", c->disabled,
                  "status_idx", (json_int_t)c->status_idx, "created_at", (json_int_t)c->created_at,
                  "updated_at", (json_int_t)c->updated_at);
    if (j) {
        json_object_set_new(j, "allowed_origins",
                            jotd_admin_strings(c->allowed_origins, c->n_allowed_origins));
        json_object_set_new(j, "cookie_mode", json_boolean(c->cookie_mode));
        json_object_set_new(j, "refresh_grace",
                            c->has_refresh_grace ? json_integer((json_int_t)c->refresh_grace)
                                                 : json_null());
    }
    if (j && c->jwks_url)
        json_object_set_new(j, "jwks_url", json_string(c->jwks_url));
    if (j && c->jwks)
        json_object_set_new(j, "jwks", json_loads(c->jwks, JSON_REJECT_DUPLICATES, NULL));
    return j;
}

/* What a body may set, parsed and checked. */
typedef struct client_body {
    const char **scopes, **default_scopes, **introspect, **resources, **redirect_uris,
        **allowed_origins;
    size_t n_scopes, n_default_scopes, n_introspect, n_resources, n_redirect_uris,
        n_allowed_origins;
    bool has_scopes, has_default_scopes, has_introspect, has_resources, has_redirect_uris,
        has_allowed_origins;
    bool has_cookie_mode, cookie_mode;
    bool has_refresh_grace;
    int64_t refresh_grace; /* -1: the default (null) */
    char *jwks;            /* compact JSON, checked; "" clears (PATCH with null) */
    const char *jwks_url;
    const char *client_id, *type;
} client_body_t;

static void client_body_clear(client_body_t *b)
{
    free(b->scopes);
    free(b->default_scopes);
    free(b->introspect);
    free(b->resources);
    free(b->redirect_uris);
    free(b->allowed_origins);
    free(b->jwks);
}

/* 400 on anything unknown or invalid; \p creating allows client_id and type. */
static bool parse_client_body(json_t *body, bool creating, client_body_t *b, jotd_resp_t *resp)
{
    const char *key;
    json_t *v;
    const char *bad = NULL;
    json_object_foreach(body, key, v)
    {
        if (!strcmp(key, "scopes")) {
            free(b->scopes);
            b->scopes = NULL;
            b->has_scopes = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_scope_token_valid,
                                            &b->scopes, &b->n_scopes);
            bad = b->has_scopes ? bad : "scopes: an array of scope tokens";
        } else if (!strcmp(key, "default_scopes")) {
            free(b->default_scopes);
            b->default_scopes = NULL;
            b->has_default_scopes = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_scope_token_valid,
                                                    &b->default_scopes, &b->n_default_scopes);
            bad = b->has_default_scopes ? bad : "default_scopes: an array of scope tokens";
        } else if (!strcmp(key, "introspect")) {
            free(b->introspect);
            b->introspect = NULL;
            b->has_introspect = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_audience_valid,
                                                &b->introspect, &b->n_introspect);
            bad = b->has_introspect ? bad : "introspect: an array of audiences";
        } else if (!strcmp(key, "resources")) {
            free(b->resources);
            b->resources = NULL;
            b->has_resources = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_audience_valid,
                                               &b->resources, &b->n_resources);
            bad = b->has_resources ? bad : "resources: an array of audiences";
        } else if (!strcmp(key, "redirect_uris")) {
            free(b->redirect_uris);
            b->redirect_uris = NULL;
            b->has_redirect_uris = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_redirect_uri_valid,
                                                   &b->redirect_uris, &b->n_redirect_uris);
            bad = b->has_redirect_uris ? bad
                                       : "redirect_uris: an array of absolute https URIs (http "
                                         "for a loopback host), without fragments";
        } else if (!strcmp(key, "allowed_origins")) {
            free(b->allowed_origins);
            b->allowed_origins = NULL;
            b->has_allowed_origins = jotd_admin_list(v, JOTD_CLIENT_MAX_LIST, jotd_origin_valid,
                                                     &b->allowed_origins, &b->n_allowed_origins);
            bad = b->has_allowed_origins
                      ? bad
                      : "allowed_origins: an array of origins: https://host[:port] (http for "
                        "localhost, 127.0.0.1, [::1]), lower case, no path, no trailing slash";
        } else if (!strcmp(key, "cookie_mode") && json_is_boolean(v)) {
            b->has_cookie_mode = true;
            b->cookie_mode = json_is_true(v);
        } else if (!strcmp(key, "refresh_grace") && (json_is_null(v) || json_is_integer(v))) {
            json_int_t g = json_is_null(v) ? -1 : json_integer_value(v);
            b->has_refresh_grace = true;
            b->refresh_grace = (int64_t)g;
            bad = g >= -1 && g <= JOTD_CLIENT_GRACE_MAX && !(json_is_integer(v) && g < 0)
                      ? bad
                      : "refresh_grace: seconds, 0-60, or null (the default)";
        } else if (!strcmp(key, "jwks") && (json_is_object(v) || (!creating && json_is_null(v)))) {
            char err[160];
            free(b->jwks); /* a member appears once (JSON_REJECT_DUPLICATES); all the same */
            b->jwks = json_is_null(v) ? strdup("") : json_dumps(v, JSON_COMPACT);
            if (!b->jwks)
                bad = "out of memory";
            else if (*b->jwks && jotd_client_jwks_check(b->jwks, strlen(b->jwks), err, sizeof err))
                bad = "jwks: a JWK set of public asymmetric keys";
        } else if (!strcmp(key, "jwks_url") && json_is_string(v)) {
            jot_remote_opts_t ro;
            jot_remote_opts_init(&ro);
            ro.allow_http = 1; /* the server refuses http unless --allow-http-jwks-url */
            jot_remote_keyset_t *rk = NULL;
            b->jwks_url = json_string_value(v);
            if (*b->jwks_url && jot_remote_keyset_new(b->jwks_url, &ro, &rk) != JOT_OK)
                bad = "jwks_url: https://, or http:// to a loopback host";
            jot_remote_keyset_free(rk);
        } else if (creating && !strcmp(key, "client_id") && json_is_string(v)) {
            b->client_id = json_string_value(v);
            bad =
                jotd_username_valid(b->client_id) ? bad : "client_id: 1-64 of A-Z a-z 0-9 . _ @ -";
        } else if (creating && !strcmp(key, "type") && json_is_string(v)) {
            b->type = json_string_value(v);
            bad = !strcmp(b->type, "confidential") || !strcmp(b->type, "public")
                      ? bad
                      : "type: confidential or public";
        } else {
            bad = "unknown member or wrong type";
        }
        if (bad)
            break;
    }
    if (!bad && creating && !b->client_id)
        bad = "client_id is required";
    if (bad)
        jotd_resp_error(resp, 400, "invalid_request", bad);
    return !bad;
}

/* Every default scope is one of the scopes. */
static bool defaults_ok(const char *const *def, size_t n_def, const char *const *sc, size_t n_sc)
{
    for (size_t i = 0; i < n_def; i++) {
        bool found = false;
        for (size_t j = 0; j < n_sc && !found; j++)
            found = strcmp(def[i], sc[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* A generated secret (SECRET_LEN + 1 bytes) and its stored hash. */
static bool new_secret(const jotd_app_t *app, const char *id, char secret[SECRET_LEN + 1],
                       char hash[JOTD_CLIENT_HASH_MAX])
{
    return jotx_random_b64url(secret, SECRET_LEN + 1, 32) >= 0 &&
           jotd_client_secret_hash(app->client_key, id, secret, hash) == 0;
}

static void create_client(jotd_app_t *app, const jotd_req_t *req, const char *admin,
                          jotd_resp_t *resp)
{
    json_t *body = jotd_admin_json_body(req, resp);
    if (!body)
        return;
    client_body_t b = {0};
    char secret[SECRET_LEN + 1] = "", hash[JOTD_CLIENT_HASH_MAX] = "";
    if (!parse_client_body(body, true, &b, resp))
        goto out;
    bool is_public = b.type && !strcmp(b.type, "public");
    bool keyed = (b.jwks && *b.jwks) || (b.jwks_url && *b.jwks_url);
    if (is_public && keyed) {
        jotd_resp_error(resp, 400, "invalid_request", "a public client has no keys");
        goto out;
    }
    if (!defaults_ok(b.default_scopes, b.n_default_scopes, b.scopes, b.n_scopes)) {
        jotd_resp_error(resp, 400, "invalid_request", "default_scopes must be among scopes");
        goto out;
    }
    const char *why = b.cookie_mode ? jotd_cookie_mode_refusal(b.client_id, is_public && !keyed,
                                                               b.n_allowed_origins)
                                    : NULL;
    if (why) {
        jotd_resp_error(resp, 400, "invalid_request", why);
        goto out;
    }
    if (!is_public && !keyed && !new_secret(app, b.client_id, secret, hash)) {
        jotd_resp_error(resp, 500, "server_error", "cannot make a secret");
        goto out;
    }
    jotd_client_t c = {.client_id = (char *)b.client_id,
                       .secret_hash = is_public || keyed ? NULL : hash,
                       .scopes = (char **)b.scopes,
                       .n_scopes = b.n_scopes,
                       .default_scopes = (char **)b.default_scopes,
                       .n_default_scopes = b.n_default_scopes,
                       .introspect = (char **)b.introspect,
                       .n_introspect = b.n_introspect,
                       .resources = (char **)b.resources,
                       .n_resources = b.n_resources,
                       .redirect_uris = (char **)b.redirect_uris,
                       .n_redirect_uris = b.n_redirect_uris,
                       .allowed_origins = (char **)b.allowed_origins,
                       .n_allowed_origins = b.n_allowed_origins,
                       .cookie_mode = b.cookie_mode,
                       .has_refresh_grace = b.has_refresh_grace && b.refresh_grace >= 0,
                       .refresh_grace = b.refresh_grace,
                       .jwks = b.jwks && *b.jwks ? b.jwks : NULL,
                       .jwks_url = b.jwks_url && *b.jwks_url ? (char *)b.jwks_url : NULL};
    jotd_rc_t rc = jotd_store_client_create(app->store, &c, jotd_now());
    jotd_client_t got = {0};
    if (rc == JOTD_OK)
        rc = jotd_store_client_get(app->store, b.client_id, &got);
    if (rc == JOTD_OK) {
        jotd_audit("admin_client_create", "admin", admin, "client_id", b.client_id, NULL);
        json_t *j = client_json(&got);
        if (*secret) /* shown once: only its hash is stored */
            json_object_set_new(j, "client_secret", json_string(secret));
        jotd_resp_json(resp, 201, j);
    } else if (rc == JOTD_E_EXISTS) {
        jotd_resp_error(resp, 409, "conflict", "a client with this id exists");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
    jotd_client_clear(&got);
out:
    jot_memzero(secret, sizeof secret);
    jot_memzero(hash, sizeof hash);
    client_body_clear(&b);
    json_decref(body);
}

static void patch_client(jotd_app_t *app, const jotd_req_t *req, const char *id, const char *admin,
                         jotd_resp_t *resp)
{
    json_t *body = jotd_admin_json_body(req, resp);
    if (!body)
        return;
    client_body_t b = {0};
    jotd_client_t cur = {0};
    if (!parse_client_body(body, false, &b, resp))
        goto out;
    jotd_rc_t rc = jotd_store_client_get(app->store, id, &cur);
    if (rc != JOTD_OK) {
        if (rc == JOTD_E_NOTFOUND)
            jotd_resp_error(resp, 404, "not_found", "no such client");
        else
            jotd_resp_unavailable(resp, rc);
        goto out;
    }
    if (!defaults_ok(b.has_default_scopes ? b.default_scopes
                                          : (const char *const *)cur.default_scopes,
                     b.has_default_scopes ? b.n_default_scopes : cur.n_default_scopes,
                     b.has_scopes ? b.scopes : (const char *const *)cur.scopes,
                     b.has_scopes ? b.n_scopes : cur.n_scopes)) {
        jotd_resp_error(resp, 400, "invalid_request", "default_scopes must be among scopes");
        goto out;
    }
    if (((b.jwks && *b.jwks) || (b.jwks_url && *b.jwks_url)) &&
        !jotd_client_is_confidential(&cur)) {
        jotd_resp_error(resp, 400, "invalid_request", "a public client has no keys");
        goto out;
    }
    /* cookie mode as it will be, with the origins as they will be */
    const char *why = (b.has_cookie_mode ? b.cookie_mode : cur.cookie_mode)
                          ? jotd_cookie_mode_refusal(id, !jotd_client_is_confidential(&cur),
                                                     b.has_allowed_origins ? b.n_allowed_origins
                                                                           : cur.n_allowed_origins)
                          : NULL;
    if (why) {
        jotd_resp_error(resp, 400, "invalid_request", why);
        goto out;
    }
    jotd_client_patch_t p = {.scopes = b.scopes,
                             .n_scopes = b.n_scopes,
                             .has_scopes = b.has_scopes,
                             .default_scopes = b.default_scopes,
                             .n_default_scopes = b.n_default_scopes,
                             .has_default_scopes = b.has_default_scopes,
                             .introspect = b.introspect,
                             .n_introspect = b.n_introspect,
                             .has_introspect = b.has_introspect,
                             .resources = b.resources,
                             .n_resources = b.n_resources,
                             .has_resources = b.has_resources,
                             .redirect_uris = b.redirect_uris,
                             .n_redirect_uris = b.n_redirect_uris,
                             .has_redirect_uris = b.has_redirect_uris,
                             .allowed_origins = b.allowed_origins,
                             .n_allowed_origins = b.n_allowed_origins,
                             .has_allowed_origins = b.has_allowed_origins,
                             .has_cookie_mode = b.has_cookie_mode,
                             .cookie_mode = b.cookie_mode,
                             .has_refresh_grace = b.has_refresh_grace,
                             .refresh_grace = b.refresh_grace,
                             .jwks = b.jwks,
                             .jwks_url = b.jwks_url};
    rc = jotd_store_client_update(app->store, id, &p, jotd_now());
    jotd_client_clear(&cur);
    if (rc == JOTD_OK)
        rc = jotd_store_client_get(app->store, id, &cur);
    if (rc == JOTD_OK) {
        jotd_audit("admin_client_update", "admin", admin, "client_id", id, NULL);
        jotd_resp_json(resp, 200, client_json(&cur));
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such client");
    } else if (rc == JOTD_E_INVAL) { /* changed meanwhile: the store's own check */
        jotd_resp_error(resp, 409, "conflict",
                        "cookie mode needs a public client with an allowed "
                        "origin");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
out:
    jotd_client_clear(&cur);
    client_body_clear(&b);
    json_decref(body);
}

static void rotate_secret(jotd_app_t *app, const char *id, const char *admin, jotd_resp_t *resp)
{
    char secret[SECRET_LEN + 1], hash[JOTD_CLIENT_HASH_MAX];
    if (!new_secret(app, id, secret, hash)) {
        jotd_resp_error(resp, 500, "server_error", "cannot make a secret");
        return;
    }
    jotd_client_patch_t p = {.secret_hash = hash};
    jotd_rc_t rc = jotd_store_client_update(app->store, id, &p, jotd_now());
    if (rc == JOTD_OK) {
        jotd_audit("admin_client_rotate_secret", "admin", admin, "client_id", id, NULL);
        jotd_resp_json(resp, 200, json_pack("{s:s,s:s}", "client_id", id, "client_secret", secret));
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such client");
    } else if (rc == JOTD_E_INVAL) {
        jotd_resp_error(resp, 409, "conflict", "this client has no secret (public or keys)");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
    jot_memzero(secret, sizeof secret);
    jot_memzero(hash, sizeof hash);
}

static void set_state(jotd_app_t *app, const char *id, jotd_client_op_t op, const char *admin,
                      jotd_resp_t *resp)
{
    jotd_rc_t rc = jotd_store_client_set_state(app->store, id, op, jotd_now());
    if (rc == JOTD_OK) {
        jotd_audit(op == JOTD_CLIENT_DISABLE  ? "admin_client_disable"
                   : op == JOTD_CLIENT_ENABLE ? "admin_client_enable"
                                              : "admin_client_delete",
                   "admin", admin, "client_id", id, NULL);
        resp->status = 204;
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such client");
    } else {
        jotd_resp_unavailable(resp, rc);
    }
}

void jotd_route_admin_clients(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                              jotd_resp_t *resp)
{
    const char *rest = req->path + strlen("/admin/clients");
    char id[72] = "";
    const char *action = NULL; /* disable, enable, rotate-secret */
    if (*rest) {
        const char *slash = jotd_admin_segment(rest, id, sizeof id);
        action = slash && *slash ? slash + 1 : NULL;
        if (!slash || !jotd_username_valid(id) ||
            (action && strcmp(action, "disable") != 0 && strcmp(action, "enable") != 0 &&
             strcmp(action, "rotate-secret") != 0)) {
            jotd_resp_error(resp, 404, "not_found", "no such endpoint");
            return;
        }
    }
    const char *m = req->method;
    const char *allow = !*id ? "GET, POST" : action ? "POST" : "GET, PATCH, DELETE";
    if (!jotd_resp_method(req, allow, resp))
        return;
    char *admin = jotd_admin_require(app, rt, req, resp);
    if (!admin)
        return;
    if (!*id && !strcmp(m, "GET")) {
        jotd_client_t *list = NULL;
        size_t n = 0;
        jotd_rc_t rc = jotd_store_client_list(app->store, &list, &n);
        if (rc == JOTD_OK) {
            json_t *a = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(a, client_json(&list[i]));
            jotd_resp_json(resp, 200, json_pack("{s:o}", "clients", a));
        } else {
            jotd_resp_unavailable(resp, rc);
        }
        jotd_client_list_free(list, n);
    } else if (!*id) {
        create_client(app, req, admin, resp);
    } else if (action && !strcmp(action, "rotate-secret")) {
        rotate_secret(app, id, admin, resp);
    } else if (action) {
        set_state(app, id, !strcmp(action, "disable") ? JOTD_CLIENT_DISABLE : JOTD_CLIENT_ENABLE,
                  admin, resp);
    } else if (!strcmp(m, "GET")) {
        jotd_client_t c = {0};
        jotd_rc_t rc = jotd_store_client_get(app->store, id, &c);
        if (rc == JOTD_OK)
            jotd_resp_json(resp, 200, client_json(&c));
        else if (rc == JOTD_E_NOTFOUND)
            jotd_resp_error(resp, 404, "not_found", "no such client");
        else
            jotd_resp_unavailable(resp, rc);
        jotd_client_clear(&c);
    } else if (!strcmp(m, "PATCH")) {
        patch_client(app, req, id, admin, resp);
    } else {
        set_state(app, id, JOTD_CLIENT_DELETE, admin, resp);
    }
    /* a change voids tokens and cached credentials here at once, not at the next poll */
    if (strcmp(m, "GET") != 0 && resp->status < 300)
        (void)jotd_events_sync(app, rt->cfg.access_ttl);
    free(admin);
}

/* ---- /admin/keys: the signing keys (server/keyring.h), as jotd keys list|rotate|revoke ----
 *   GET  /admin/keys                  {"keys":[{kid, alg, state, created_at, activate_at,
 *                                     revoked_at, public_jwk}]}
 *   POST /admin/keys/rotate           optional {"alg"}: a new key, published now, signing
 *                                     from now + --key-lead-time
 *   POST /admin/keys/{kid}/revoke     out of every JWKS at once, its tokens refused; when it
 *                                     signed, a new key of its algorithm signs from now */

static void list_keys(jotd_app_t *app, jotd_resp_t *resp)
{
    jotd_key_row_t *rows = NULL;
    size_t n = 0;
    jotd_rc_t rc = jotd_store_key_list(app->store, &rows, &n);
    if (rc != JOTD_OK) {
        jotd_resp_unavailable(resp, rc);
        return;
    }
    int64_t now = jotd_now(), active_at = -1;
    for (size_t i = 0; i < n; i++) /* the signing key: the latest activated, unrevoked */
        if (!rows[i].revoked_at && rows[i].activate_at <= now && rows[i].activate_at > active_at)
            active_at = rows[i].activate_at;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const jotd_key_row_t *k = &rows[i];
        const char *state = k->revoked_at                 ? "revoked"
                            : k->activate_at > now        ? "published"
                            : k->activate_at == active_at ? "active"
                                                          : "retired";
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "kid", k->kid, "alg", k->alg, "state", state,
                              "created_at", (json_int_t)k->created_at, "activate_at",
                              (json_int_t)k->activate_at);
        json_object_set_new(o, "revoked_at",
                            k->revoked_at ? json_integer((json_int_t)k->revoked_at) : json_null());
        json_object_set_new(o, "public_jwk", json_loads(k->public_jwk, 0, NULL));
        json_array_append_new(a, o);
    }
    jotd_key_list_free(rows, n);
    jotd_resp_json(resp, 200, json_pack("{s:o}", "keys", a));
}

static void rotate_key(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                       const char *admin, jotd_resp_t *resp)
{
    jot_alg_t alg = rt->cfg.alg;
    json_t *body = NULL;
    if (req->body_len) {
        if (!(body = jotd_admin_json_body(req, resp)))
            return;
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v)
        {
            const char *name = json_string_value(v);
            if (strcmp(key, "alg") != 0 || !name ||
                jot_alg_from_name(name, strlen(name), &alg) != JOT_OK ||
                alg <= JOT_ALG_HS512) { /* signing keys are asymmetric */
                jotd_resp_error(resp, 400, "invalid_request", "only {\"alg\": an asymmetric JWA}");
                json_decref(body);
                return;
            }
        }
        json_decref(body);
    }
    char err[256] = "", kid[JOT_THUMBPRINT_LEN + 1];
    int64_t at = 0;
    jotd_rc_t rc =
        jotd_keyring_rotate(app->store, &app->kek, rt->cfg.data_dir, alg, rt->cfg.key_lead_time,
                            rt->cfg.access_ttl, jotd_now(), kid, &at, err, sizeof err);
    if (rc == JOTD_OK) {
        jotd_audit("admin_key_rotate", "admin", admin, "kid", kid, "alg", jot_alg_name(alg), NULL);
        jotd_resp_json(resp, 200,
                       json_pack("{s:s,s:s,s:I}", "kid", kid, "alg", jot_alg_name(alg),
                                 "activate_at", (json_int_t)at));
    } else if (rc == JOTD_E_INVAL) {
        jotd_resp_error(resp, 400, "invalid_request", err);
    } else {
        jotd_log("error", "key rotation: %s", err);
        jotd_resp_unavailable(resp, rc);
    }
}

static void revoke_key(jotd_app_t *app, const char *kid, const char *admin, jotd_resp_t *resp)
{
    char err[256] = "", fresh[JOT_THUMBPRINT_LEN + 1] = "";
    jotd_rc_t rc =
        jotd_keyring_revoke(app->store, &app->kek, kid, jotd_now(), fresh, err, sizeof err);
    if (rc == JOTD_OK) {
        jotd_audit("admin_key_revoke", "admin", admin, "kid", kid, "new_kid",
                   fresh[0] ? fresh : NULL, NULL);
        json_t *j = json_pack("{s:s}", "revoked", kid);
        json_object_set_new(j, "new_kid", fresh[0] ? json_string(fresh) : json_null());
        jotd_resp_json(resp, 200, j);
    } else if (rc == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such key");
    } else {
        jotd_log("error", "key revocation: %s", err);
        jotd_resp_unavailable(resp, rc);
    }
}

void jotd_route_admin_keys(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    const char *rest = req->path + strlen("/admin/keys");
    char kid[JOT_THUMBPRINT_LEN + 1] = "";
    bool rotate = !strcmp(rest, "/rotate");
    if (*rest && !rotate) {
        const char *end = strstr(rest + 1, "/revoke");
        size_t n = end ? (size_t)(end - rest - 1) : 0;
        if (!end || strcmp(end, "/revoke") != 0 || n == 0 || n >= sizeof kid) {
            jotd_resp_error(resp, 404, "not_found", "no such endpoint");
            return;
        }
        memcpy(kid, rest + 1, n);
        kid[n] = '\0';
    }
    if (!jotd_resp_method(req, *rest ? "POST" : "GET", resp))
        return;
    char *admin = jotd_admin_require(app, rt, req, resp);
    if (!admin)
        return;
    if (!*rest)
        list_keys(app, resp);
    else if (rotate)
        rotate_key(app, rt, req, admin, resp);
    else
        revoke_key(app, kid, admin, resp);
    /* a key published or revoked: this instance loads the keys again now */
    if (*rest && resp->status < 300)
        (void)jotd_events_sync(app, rt->cfg.access_ttl);
    free(admin);
}
