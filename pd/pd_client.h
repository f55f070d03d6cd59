/*
 * pd_client: the async client of one cluster's PD HTTP API
 * (`http://<cluster>-pd.<ns>:2379`, see pd_base_url) on the shared
 * http_client. Every call is one (or, for schedulers, two chained) HTTP
 * requests with the client's per-call timeout; nothing blocks.
 *
 * Results
 * - Each call takes a typed completion callback that fires exactly once,
 *   always from the loop, never from inside the pd_client_* call that started
 *   it, with an error value (kind PD_ERROR_NONE on success) and the decoded
 *   result (never NULL; zeroed when the call failed).
 * - The result belongs to the client and is freed when the callback returns.
 *   The callback may keep it by moving it: copy the struct, then zero the
 *   original (memset), and later release the copy with its *_free.
 * - A non-2xx status is a PD_ERROR_HTTP error carrying the status, PD's
 *   message and a reason (pd_decode.h) — except where a call says which
 *   statuses mean "already done" (`absent` in the action result).
 * - Transport failures (connect, DNS, timeout, cancelled, body too large)
 *   are PD_ERROR_TRANSPORT with the http_client error code.
 *
 * Lifetimes
 * - The http_client must outlive the pd_client (or be closed after it: its
 *   close completes our requests, and we then free what is left).
 * - A call returns a handle valid until its callback returns; NULL means the
 *   request could not be started (closing http client, out of memory) and no
 *   callback will fire.
 * - pd_call_cancel: the callback fires later with a cancelled transport error.
 * - pd_client_close: cancels every call; NO callback fires after it returns
 *   (owners close their client when they are going away). Memory is released
 *   once the http_client has reported each cancelled request, on the loop.
 *
 * Metrics (optional, pd_metrics shared by every client of a process): label
 * values never name a cluster: method, path template ("/pd/api/v1/store/{id}")
 * and code ("200", "404", or a transport error name such as "timeout").
 */
#ifndef PD_PD_CLIENT_H
#define PD_PD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd/pd_decode.h"
#include "reactor/clock.h"
#include "reactor/http_client.h"
#include "reactor/metrics.h"

/* --- metrics ---------------------------------------------------------------- */

struct pd_metrics;
/* Registers pd_requests_total{method,path,code} and
 * pd_request_duration_seconds{method,path} (also used by tidb_client with
 * its own path templates). NULL on refusal (e.g. registered twice). */
struct pd_metrics *pd_metrics_create(struct metrics_registry *registry);
void pd_metrics_free(struct pd_metrics *metrics);
/* One finished request. `metrics` may be NULL (then nothing happens). */
void pd_metrics_observe(struct pd_metrics *metrics, const char *method, const char *path_template,
                        long status, enum http_client_error error, double seconds);

/* --- the client ------------------------------------------------------------- */

#define PD_CLIENT_DEFAULT_TIMEOUT_MS 5000
#define PD_CLIENT_DEFAULT_MAX_BODY (16u * 1024 * 1024)

struct pd_client_options {
    const char *base_url;               /* "http://basic-pd.ns:2379" (copied; required) */
    struct http_client_profile *profile; /* TLS and credentials, optional (referenced) */
    uint64_t timeout_ms;                /* each call's whole transfer; 0: 5 s */
    uint64_t connect_timeout_ms;        /* 0: min(timeout, the http client's default) */
    size_t max_body_bytes;              /* 0: 16 MiB */
    struct pd_metrics *metrics;         /* optional, borrowed; must outlive the client */
    const struct clock *clock;          /* for latencies; NULL: clock_system() */
};

struct pd_client;
struct pd_call;

/* "http://<cluster>-pd.<ns>:2379" ("https" with tls); malloc'd, NULL on OOM. */
char *pd_base_url(const char *cluster, const char *ns, bool tls);

/* NULL on bad options or allocation failure. */
struct pd_client *pd_client_create(struct http_client *http, const struct pd_client_options *options);
void pd_client_close(struct pd_client *client);
const char *pd_client_base_url(const struct pd_client *client);
/* Calls started and not yet called back. */
size_t pd_client_in_flight(const struct pd_client *client);

void pd_call_cancel(struct pd_call *call);

/* --- reads ------------------------------------------------------------------ */

typedef void (*pd_members_cb)(struct pd_call *call, const struct pd_error *error,
                              struct pd_members *members, void *user_data);
typedef void (*pd_member_cb)(struct pd_call *call, const struct pd_error *error,
                             struct pd_member *member, void *user_data);
typedef void (*pd_health_cb)(struct pd_call *call, const struct pd_error *error,
                             struct pd_health *health, void *user_data);
typedef void (*pd_stores_cb)(struct pd_call *call, const struct pd_error *error,
                             struct pd_stores *stores, void *user_data);
typedef void (*pd_store_cb)(struct pd_call *call, const struct pd_error *error,
                            struct pd_store *store, void *user_data);
typedef void (*pd_schedulers_cb)(struct pd_call *call, const struct pd_error *error,
                                 struct pd_schedulers *schedulers, void *user_data);
typedef void (*pd_config_cb)(struct pd_call *call, const struct pd_error *error,
                             struct pd_config *config, void *user_data);
typedef void (*pd_cluster_cb)(struct pd_call *call, const struct pd_error *error,
                              struct pd_cluster *cluster, void *user_data);

/* GET /pd/api/v1/members */
struct pd_call *pd_client_get_members(struct pd_client *client, pd_members_cb done, void *user_data);
/* GET /pd/api/v1/leader (503 while there is none: reason PD_REASON_NO_LEADER) */
struct pd_call *pd_client_get_leader(struct pd_client *client, pd_member_cb done, void *user_data);
/* GET /pd/api/v1/health */
struct pd_call *pd_client_get_health(struct pd_client *client, pd_health_cb done, void *user_data);

/* Which stores GET /stores returns: PD's `state` query (0 Up, 1 Offline,
 * 2 Tombstone, repeatable). 0 = PD's default, Up + Offline. */
#define PD_STORES_UP (1u << 0)
#define PD_STORES_OFFLINE (1u << 1)
#define PD_STORES_TOMBSTONE (1u << 2)
#define PD_STORES_ALL (PD_STORES_UP | PD_STORES_OFFLINE | PD_STORES_TOMBSTONE)
/* GET /pd/api/v1/stores[?state=N...]. Before TiKV bootstraps PD answers 500
 * with reason PD_REASON_NOT_BOOTSTRAPPED. */
struct pd_call *pd_client_get_stores(struct pd_client *client, unsigned states, pd_stores_cb done,
                                     void *user_data);
/* GET /pd/api/v1/store/{id} (any state; unknown id: 404 PD_REASON_NOT_FOUND) */
struct pd_call *pd_client_get_store(struct pd_client *client, uint64_t id, pd_store_cb done,
                                    void *user_data);
/* GET /pd/api/v1/schedulers and, when PD lists the bare
 * "evict-leader-scheduler", GET /scheduler-config/evict-leader-scheduler/list
 * for its store ids: evict_leader_store_ids is complete either way (a 404 on
 * the list means the scheduler went away in between: no ids). */
struct pd_call *pd_client_get_schedulers(struct pd_client *client, pd_schedulers_cb done,
                                         void *user_data);
/* GET /pd/api/v1/config */
struct pd_call *pd_client_get_config(struct pd_client *client, pd_config_cb done, void *user_data);
/* GET /pd/api/v1/cluster */
struct pd_call *pd_client_get_cluster(struct pd_client *client, pd_cluster_cb done, void *user_data);

/* --- actions ---------------------------------------------------------------- */

struct pd_action_result {
    long status;     /* PD's status (0 on transport errors) */
    bool absent;     /* the thing to remove was already gone (see each call) */
    const char *message; /* PD's text ("The store is set as Offline."), "" if none */
};

typedef void (*pd_action_cb)(struct pd_call *call, const struct pd_error *error,
                             const struct pd_action_result *result, void *user_data);

/* DELETE /pd/api/v1/members/name/{name}: 200 done; 404 absent. */
struct pd_call *pd_client_delete_member(struct pd_client *client, const char *name,
                                        pd_action_cb done, void *user_data);
/* DELETE /pd/api/v1/members/id/{id}: 200 done; 404 absent (PD answers 500
 * for unknown ids: an error). */
struct pd_call *pd_client_delete_member_by_id(struct pd_client *client, uint64_t id,
                                              pd_action_cb done, void *user_data);
/* DELETE /pd/api/v1/store/{id} (Up → Offline): 200 done (also when already
 * Offline); 404 absent; 410 (already Tombstone) absent. 400 with reason
 * PD_REASON_STORES_NOT_ENOUGH when PD refuses. */
struct pd_call *pd_client_delete_store(struct pd_client *client, uint64_t id, pd_action_cb done,
                                       void *user_data);
/* POST /pd/api/v1/leader/transfer/{name}: 200 submitted (not done: re-read
 * the leader); 404 absent (the v1 operator's "ok": old PDs without the path). */
struct pd_call *pd_client_transfer_leader(struct pd_client *client, const char *name,
                                          pd_action_cb done, void *user_data);
/* POST /pd/api/v1/leader/resign: 200 submitted. */
struct pd_call *pd_client_resign_leader(struct pd_client *client, pd_action_cb done, void *user_data);
/* POST /pd/api/v1/schedulers {"name":"evict-leader-scheduler","store_id":N}: 200 done.
 * Other statuses are errors; callers re-list schedulers to see what holds. */
struct pd_call *pd_client_add_evict_leader(struct pd_client *client, uint64_t store_id,
                                           pd_action_cb done, void *user_data);
/* DELETE /pd/api/v1/schedulers/evict-leader-scheduler-{id}: 200 done; 404 absent. */
struct pd_call *pd_client_remove_evict_leader(struct pd_client *client, uint64_t store_id,
                                              pd_action_cb done, void *user_data);
/* POST /pd/api/v1/store/{id}/state?state=Up (Offline → Up: a store deletion
 * cancelled): 200 done (also when already Up); 404 absent; 410 (Tombstone)
 * and 400 (physically destroyed) are errors. */
struct pd_call *pd_client_set_store_up(struct pd_client *client, uint64_t id, pd_action_cb done, void *user_data);
/* DELETE /pd/api/v1/stores/remove-tombstone: PD forgets every Tombstone store; 200 done. */
struct pd_call *pd_client_remove_tombstones(struct pd_client *client, pd_action_cb done, void *user_data);

#endif
