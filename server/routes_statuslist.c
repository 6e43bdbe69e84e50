/* GET /statuslists/{K}: the Token Status Lists of jotd (statuslist.h). */
#include "log.h"
#include "server.h"

#include <stdio.h>
#include <string.h>

/* How long a list stays usable (its exp past iat): a service that cannot fetch a new list
 * keeps the last one until every access token it could have been asked about has expired
 * (a token issued just before the list's ttl ran out, and the list fetched up to ttl late),
 * and no longer: past that it must fail closed (docs/jotd.md, "Token Status List"). */
static int64_t list_lifetime(const jotd_config_t *cfg)
{
    return cfg->access_ttl + 2 * cfg->status_list_ttl;
}

void jotd_route_statuslist(jotd_app_t *app, const jotd_runtime_t *rt, const jotd_req_t *req,
                           jotd_resp_t *resp)
{
    if (!jotd_resp_method(req, "GET, HEAD", resp))
        return;
    int64_t k;
    const char *seg = req->path + strlen("/statuslists/");
    if (jotd_statuslist_parse_k(seg, &k) != 0) {
        jotd_resp_error(resp, 404, "not_found", "no such status list");
        return;
    }
    int64_t now = jotd_now();
    jotd_statuslist_params_t p = {
        .issuer = rt->cfg.issuer,
        .key = jotd_keyring_signing_key(rt->keyring, now),
        .ttl = rt->cfg.status_list_ttl,
        .lifetime = list_lifetime(&rt->cfg),
    };
    char *tok = NULL;
    size_t len = 0;
    /* the event loop serves a cached list only: building one reads the store */
    jotd_rc_t r = jotd_statuslists_get(app->statuslists, app->store, &p, k, now,
                                       !req->on_event_loop, &tok, &len);
    if (r == JOTD_E_BUSY && req->on_event_loop) {
        resp->status = JOTD_STATUS_DEFER;
        return;
    }
    if (r == JOTD_E_NOTFOUND) {
        jotd_resp_error(resp, 404, "not_found", "no such status list");
        return;
    }
    if (r == JOTD_E_CRYPTO || r == JOTD_E_NOMEM || r == JOTD_E_INVAL) {
        jotd_log("error", "status list %lld: %s", (long long)k, jotd_rc_str(r));
        jotd_resp_error(resp, 500, "server_error", "status list unavailable");
        return;
    }
    if (r != JOTD_OK) {
        jotd_resp_unavailable(resp, r);
        return;
    }
    resp->status = 200;
    resp->body = tok;
    resp->body_len = len;
    resp->content_type = "application/statuslist+jwt";
    char cc[48];
    snprintf(cc, sizeof cc, "public, max-age=%lld", (long long)rt->cfg.status_list_ttl);
    jotd_resp_header(resp, "Cache-Control", cc);
}
