#include "pd/pd_client.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/list.h"
#include "reactor/log.h"

/* --- metrics ---------------------------------------------------------------- */

struct pd_metrics {
    struct metrics_family *requests;
    struct metrics_family *durations;
};

struct pd_metrics *pd_metrics_create(struct metrics_registry *registry)
{
    if (registry == NULL)
        return NULL;
    struct pd_metrics *metrics = calloc(1, sizeof *metrics);
    if (metrics == NULL)
        return NULL;
    metrics->requests = metrics_counter_family(registry, "pd_requests_total",
                                               "HTTP requests to PD and TiDB status ports.",
                                               "method", "path", "code");
    metrics->durations = metrics_histogram_family(registry, "pd_request_duration_seconds",
                                                  "Latency of HTTP requests to PD and TiDB.",
                                                  "method", "path");
    if (metrics->requests == NULL || metrics->durations == NULL) {
        free(metrics);
        return NULL;
    }
    return metrics;
}

void pd_metrics_free(struct pd_metrics *metrics)
{
    free(metrics); /* the families belong to the registry */
}

void pd_metrics_observe(struct pd_metrics *metrics, const char *method, const char *path_template,
                        long status, enum http_client_error error, double seconds)
{
    if (metrics == NULL)
        return;
    char code[24];
    if (error != HTTP_ERROR_NONE)
        snprintf(code, sizeof code, "%s", http_client_error_name(error));
    else
        snprintf(code, sizeof code, "%ld", status);
    struct metrics_counter *counter = metrics_counter_with(metrics->requests, method, path_template, code);
    if (counter != NULL)
        metrics_counter_inc(counter);
    struct metrics_histogram *histogram = metrics_histogram_with(metrics->durations, method, path_template);
    if (histogram != NULL)
        metrics_histogram_observe(histogram, seconds);
}

/* --- the client ------------------------------------------------------------- */

enum op {
    OP_MEMBERS,
    OP_LEADER,
    OP_HEALTH,
    OP_STORES,
    OP_STORE,
    OP_SCHEDULERS,
    OP_EVICT_LIST, /* second stage of OP_SCHEDULERS */
    OP_CONFIG,
    OP_CLUSTER,
    OP_DELETE_MEMBER,
    OP_DELETE_MEMBER_ID,
    OP_DELETE_STORE,
    OP_TRANSFER_LEADER,
    OP_RESIGN_LEADER,
    OP_ADD_EVICT,
    OP_REMOVE_EVICT,
};

struct op_spec {
    enum http_client_method method;
    const char *path_template; /* metrics label and messages */
    long absent_status[2];     /* statuses that mean "already gone" for actions */
};

static const struct op_spec op_specs[] = {
    [OP_MEMBERS] = {HTTP_CLIENT_GET, "/pd/api/v1/members", {0, 0}},
    [OP_LEADER] = {HTTP_CLIENT_GET, "/pd/api/v1/leader", {0, 0}},
    [OP_HEALTH] = {HTTP_CLIENT_GET, "/pd/api/v1/health", {0, 0}},
    [OP_STORES] = {HTTP_CLIENT_GET, "/pd/api/v1/stores", {0, 0}},
    [OP_STORE] = {HTTP_CLIENT_GET, "/pd/api/v1/store/{id}", {0, 0}},
    [OP_SCHEDULERS] = {HTTP_CLIENT_GET, "/pd/api/v1/schedulers", {0, 0}},
    [OP_EVICT_LIST] = {HTTP_CLIENT_GET, "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", {0, 0}},
    [OP_CONFIG] = {HTTP_CLIENT_GET, "/pd/api/v1/config", {0, 0}},
    [OP_CLUSTER] = {HTTP_CLIENT_GET, "/pd/api/v1/cluster", {0, 0}},
    [OP_DELETE_MEMBER] = {HTTP_CLIENT_DELETE, "/pd/api/v1/members/name/{name}", {404, 0}},
    [OP_DELETE_MEMBER_ID] = {HTTP_CLIENT_DELETE, "/pd/api/v1/members/id/{id}", {404, 0}},
    [OP_DELETE_STORE] = {HTTP_CLIENT_DELETE, "/pd/api/v1/store/{id}", {404, 410}},
    [OP_TRANSFER_LEADER] = {HTTP_CLIENT_POST, "/pd/api/v1/leader/transfer/{name}", {404, 0}},
    [OP_RESIGN_LEADER] = {HTTP_CLIENT_POST, "/pd/api/v1/leader/resign", {0, 0}},
    [OP_ADD_EVICT] = {HTTP_CLIENT_POST, "/pd/api/v1/schedulers", {0, 0}},
    [OP_REMOVE_EVICT] = {HTTP_CLIENT_DELETE, "/pd/api/v1/schedulers/evict-leader-scheduler-{id}", {404, 0}},
};

union pd_callback {
    pd_members_cb members;
    pd_member_cb member;
    pd_health_cb health;
    pd_stores_cb stores;
    pd_store_cb store;
    pd_schedulers_cb schedulers;
    pd_config_cb config;
    pd_cluster_cb cluster;
    pd_action_cb action;
};

struct pd_call {
    struct pd_client *client;
    struct list_node link;               /* in the client's calls */
    struct http_client_request *request; /* the stage in flight, NULL between */
    enum op op;                          /* the stage in flight */
    enum op first_op;                    /* what the caller asked for */
    union pd_callback done;
    void *user_data;
    uint64_t stage_started_ms;
    struct pd_schedulers schedulers;     /* kept across the two scheduler stages */
};

struct pd_client {
    struct http_client *http;
    struct http_client_profile *profile;
    char *base_url;
    uint64_t timeout_ms;
    uint64_t connect_timeout_ms;
    size_t max_body_bytes;
    struct pd_metrics *metrics;
    const struct clock *clock;
    struct list_node calls; /* in flight */
    size_t in_flight;
    bool closing;
};

char *pd_base_url(const char *cluster, const char *ns, bool tls)
{
    char *url = NULL;
    if (asprintf(&url, "%s://%s-pd.%s:2379", tls ? "https" : "http", cluster, ns) < 0)
        return NULL;
    return url;
}

struct pd_client *pd_client_create(struct http_client *http, const struct pd_client_options *options)
{
    if (http == NULL || options == NULL || options->base_url == NULL || options->base_url[0] == '\0')
        return NULL;
    struct pd_client *client = calloc(1, sizeof *client);
    if (client == NULL)
        return NULL;
    list_init(&client->calls);
    client->base_url = strdup(options->base_url);
    if (client->base_url == NULL) {
        free(client);
        return NULL;
    }
    size_t length = strlen(client->base_url);
    while (length > 0 && client->base_url[length - 1] == '/')
        client->base_url[--length] = '\0';
    client->http = http;
    client->profile = options->profile != NULL ? http_client_profile_ref(options->profile) : NULL;
    client->timeout_ms = options->timeout_ms ? options->timeout_ms : PD_CLIENT_DEFAULT_TIMEOUT_MS;
    client->connect_timeout_ms = options->connect_timeout_ms ? options->connect_timeout_ms
                                                             : client->timeout_ms;
    client->max_body_bytes = options->max_body_bytes ? options->max_body_bytes : PD_CLIENT_DEFAULT_MAX_BODY;
    client->metrics = options->metrics;
    client->clock = options->clock != NULL ? options->clock : clock_system();
    return client;
}

static void client_free(struct pd_client *client)
{
    if (client->profile != NULL)
        http_client_profile_unref(client->profile);
    free(client->base_url);
    free(client);
}

void pd_client_close(struct pd_client *client)
{
    if (client == NULL || client->closing)
        return;
    client->closing = true;
    if (list_empty(&client->calls)) {
        client_free(client);
        return;
    }
    /* Each cancelled request completes later; the last one frees the client. */
    struct pd_call *call;
    list_for_each_entry(call, &client->calls, link)
        if (call->request != NULL)
            http_client_request_cancel(call->request);
}

const char *pd_client_base_url(const struct pd_client *client)
{
    return client->base_url;
}

size_t pd_client_in_flight(const struct pd_client *client)
{
    return client->in_flight;
}

void pd_call_cancel(struct pd_call *call)
{
    if (call != NULL && call->request != NULL)
        http_client_request_cancel(call->request);
}

static void call_unlink(struct pd_call *call)
{
    list_remove(&call->link);
    call->client->in_flight--;
}

/* Unlinks and frees the call; frees the client too when it is closing and
 * this was its last call. */
static void call_finish(struct pd_call *call)
{
    struct pd_client *client = call->client;
    call_unlink(call);
    pd_schedulers_free(&call->schedulers);
    free(call);
    if (client->closing && list_empty(&client->calls))
        client_free(client);
}

/* Percent-encodes a path segment (member names are DNS labels, but a name
 * must never be able to change the path). */
static bool append_segment(char *out, size_t size, const char *segment)
{
    size_t used = strlen(out);
    for (const unsigned char *p = (const unsigned char *)segment; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     *p == '-' || *p == '.' || *p == '_' || *p == '~';
        int n = plain ? snprintf(out + used, size - used, "%c", *p)
                      : snprintf(out + used, size - used, "%%%02X", *p);
        if (n < 0 || (size_t)n >= size - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

static void on_http_complete(struct http_client_request *request, struct http_client_response *response,
                             void *user_data);

/* Starts one HTTP request for `call` at stage `op`. */
static bool stage_start(struct pd_call *call, enum op op, const char *url, char *body)
{
    struct pd_client *client = call->client;
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json", NULL};
    static const char *const accept_headers[] = {"Accept: application/json", NULL};
    call->op = op;
    call->stage_started_ms = clock_now_ms(client->clock);
    struct http_client_request_options options = {
        .method = op_specs[op].method,
        .url = url,
        .profile = client->profile,
        .headers = body != NULL ? json_headers : accept_headers,
        .body = body,
        .body_length = body != NULL ? strlen(body) : 0,
        .take_body = body != NULL,
        .timeout_ms = client->timeout_ms,
        .connect_timeout_ms = client->connect_timeout_ms,
        .max_body_bytes = client->max_body_bytes,
        .on_complete = on_http_complete,
        .user_data = call,
    };
    call->request = http_client_request_start(client->http, &options);
    return call->request != NULL;
}

/* A new call for `op`; the request is started with the path (relative to the
 * base URL) and optional malloc'd body (always consumed). */
static struct pd_call *call_start(struct pd_client *client, enum op op, union pd_callback done,
                                  void *user_data, const char *path, char *body)
{
    if (client == NULL || client->closing) {
        free(body);
        return NULL;
    }
    char *url = NULL;
    if (asprintf(&url, "%s%s", client->base_url, path) < 0) {
        free(body);
        return NULL;
    }
    struct pd_call *call = calloc(1, sizeof *call);
    if (call == NULL) {
        free(url);
        free(body);
        return NULL;
    }
    call->client = client;
    call->first_op = op;
    call->done = done;
    call->user_data = user_data;
    list_insert_head(&client->calls, &call->link);
    client->in_flight++;
    bool started = stage_start(call, op, url, body);
    free(url);
    if (!started) {
        call_unlink(call);
        free(call);
        return NULL;
    }
    return call;
}

static bool is_absent_status(enum op op, long status)
{
    return status != 0 && (op_specs[op].absent_status[0] == status || op_specs[op].absent_status[1] == status);
}

static void deliver_read(struct pd_call *call, const struct pd_error *error, const char *body, size_t length)
{
    /* Decode only when there is no error so far; a failed decode becomes the error. */
    struct pd_error decode_error;
    const struct pd_error *reported = error;
    bool ok = error->kind == PD_ERROR_NONE;
    switch (call->first_op) {
    case OP_MEMBERS: {
        struct pd_members members = {0};
        if (ok && !pd_decode_members(body, length, &members, &decode_error))
            reported = &decode_error;
        call->done.members(call, reported, &members, call->user_data);
        pd_members_free(&members);
        break;
    }
    case OP_LEADER: {
        struct pd_member member = {0};
        if (ok && !pd_decode_member(body, length, &member, &decode_error))
            reported = &decode_error;
        call->done.member(call, reported, &member, call->user_data);
        pd_member_free(&member);
        break;
    }
    case OP_HEALTH: {
        struct pd_health health = {0};
        if (ok && !pd_decode_health(body, length, &health, &decode_error))
            reported = &decode_error;
        call->done.health(call, reported, &health, call->user_data);
        pd_health_free(&health);
        break;
    }
    case OP_STORES: {
        struct pd_stores stores = {0};
        if (ok && !pd_decode_stores(body, length, &stores, &decode_error))
            reported = &decode_error;
        call->done.stores(call, reported, &stores, call->user_data);
        pd_stores_free(&stores);
        break;
    }
    case OP_STORE: {
        struct pd_store store = {0};
        if (ok && !pd_decode_store(body, length, &store, &decode_error))
            reported = &decode_error;
        call->done.store(call, reported, &store, call->user_data);
        pd_store_free(&store);
        break;
    }
    case OP_CONFIG: {
        struct pd_config config = {0};
        if (ok && !pd_decode_config(body, length, &config, &decode_error))
            reported = &decode_error;
        call->done.config(call, reported, &config, call->user_data);
        pd_config_free(&config);
        break;
    }
    case OP_CLUSTER: {
        struct pd_cluster cluster = {0};
        if (ok && !pd_decode_cluster(body, length, &cluster, &decode_error))
            reported = &decode_error;
        call->done.cluster(call, reported, &cluster, call->user_data);
        break;
    }
    case OP_SCHEDULERS: {
        /* call->schedulers was filled by the stages. */
        if (!ok)
            pd_schedulers_free(&call->schedulers);
        call->done.schedulers(call, reported, &call->schedulers, call->user_data);
        pd_schedulers_free(&call->schedulers);
        break;
    }
    default:
        break;
    }
}

/* Stage 2 of get_schedulers: merge the evict-leader list's ids. False when
 * the stage failed (error set). */
static bool merge_evict_list(struct pd_call *call, const char *body, size_t length, struct pd_error *error)
{
    uint64_t *ids = NULL;
    size_t count = 0;
    if (!pd_decode_evict_leader_list(body, length, &ids, &count, error))
        return false;
    struct pd_schedulers *s = &call->schedulers;
    /* The old-style "-<id>" names may list some too: union, kept sorted. */
    uint64_t *merged = calloc(s->evict_leader_count + count + 1, sizeof *merged);
    if (merged == NULL) {
        free(ids);
        pd_error_set(error, PD_ERROR_DECODE, "schedulers: out of memory");
        return false;
    }
    size_t n = 0, i = 0, j = 0;
    while (i < s->evict_leader_count || j < count) {
        uint64_t next;
        if (j >= count || (i < s->evict_leader_count && s->evict_leader_store_ids[i] < ids[j]))
            next = s->evict_leader_store_ids[i++];
        else if (i >= s->evict_leader_count || ids[j] < s->evict_leader_store_ids[i])
            next = ids[j++];
        else {
            next = ids[j++];
            i++;
        }
        merged[n++] = next;
    }
    free(ids);
    free(s->evict_leader_store_ids);
    s->evict_leader_store_ids = merged;
    s->evict_leader_count = n;
    return true;
}

static void on_http_complete(struct http_client_request *request, struct http_client_response *response,
                             void *user_data)
{
    (void)request;
    struct pd_call *call = user_data;
    struct pd_client *client = call->client;
    call->request = NULL;
    const struct op_spec *spec = &op_specs[call->op];
    double seconds = (double)(clock_now_ms(client->clock) - call->stage_started_ms) / 1000.0;
    pd_metrics_observe(client->metrics, http_client_method_name(spec->method), spec->path_template,
                       response->status, response->error, seconds);
    if (client->closing) {
        call_finish(call);
        return;
    }

    struct pd_error error;
    pd_error_clear(&error);
    const char *body = response->body != NULL ? response->body : "";
    size_t length = response->body != NULL ? response->body_length : 0;
    bool absent = false;
    if (response->error != HTTP_ERROR_NONE) {
        error.kind = PD_ERROR_TRANSPORT;
        error.transport = response->error;
        error.status = response->status;
        snprintf(error.message, sizeof error.message, "%s %s: %s: %s",
                 http_client_method_name(spec->method), spec->path_template,
                 http_client_error_name(response->error), response->error_message);
    } else if (response->status < 200 || response->status > 299) {
        pd_error_from_http(&error, response->status, body, length);
        if (is_absent_status(call->op, response->status)) {
            absent = true;
            error.kind = PD_ERROR_NONE; /* keep status and reason for the caller */
        }
    }

    if (call->op == OP_SCHEDULERS && error.kind == PD_ERROR_NONE) {
        if (!pd_decode_schedulers(body, length, &call->schedulers, &error)) {
            /* error set by the decoder */
        } else if (call->schedulers.evict_leader_bare) {
            char *url = NULL;
            if (asprintf(&url, "%s%s", client->base_url, op_specs[OP_EVICT_LIST].path_template) >= 0) {
                bool started = stage_start(call, OP_EVICT_LIST, url, NULL);
                free(url);
                if (started)
                    return;
            }
            pd_error_set(&error, PD_ERROR_TRANSPORT, "GET %s: could not start the request",
                         op_specs[OP_EVICT_LIST].path_template);
            error.transport = HTTP_ERROR_INTERNAL;
        }
    } else if (call->op == OP_EVICT_LIST) {
        if (error.kind == PD_ERROR_HTTP && error.status == 404) {
            pd_error_clear(&error); /* the scheduler went away between the two reads */
        } else if (error.kind == PD_ERROR_NONE) {
            merge_evict_list(call, body, length, &error);
        }
    }

    if (call->first_op >= OP_DELETE_MEMBER) {
        /* Actions: the status and message matter even for accepted ones. */
        struct pd_error reported = error;
        if (error.kind == PD_ERROR_NONE) {
            reported.status = response->status;
            reported.reason = PD_REASON_NONE;
            reported.message[0] = '\0';
        }
        char *text = response->error == HTTP_ERROR_NONE ? pd_decode_message(body, length) : NULL;
        struct pd_action_result result = {
            .status = response->status,
            .absent = absent && error.kind == PD_ERROR_NONE,
            .message = text != NULL ? text : "",
        };
        call->done.action(call, &reported, &result, call->user_data);
        free(text);
        call_finish(call);
        return;
    }
    deliver_read(call, &error, body, length);
    call_finish(call);
}

/* --- reads ------------------------------------------------------------------ */

struct pd_call *pd_client_get_members(struct pd_client *client, pd_members_cb done, void *user_data)
{
    return call_start(client, OP_MEMBERS, (union pd_callback){.members = done}, user_data,
                      op_specs[OP_MEMBERS].path_template, NULL);
}

struct pd_call *pd_client_get_leader(struct pd_client *client, pd_member_cb done, void *user_data)
{
    return call_start(client, OP_LEADER, (union pd_callback){.member = done}, user_data,
                      op_specs[OP_LEADER].path_template, NULL);
}

struct pd_call *pd_client_get_health(struct pd_client *client, pd_health_cb done, void *user_data)
{
    return call_start(client, OP_HEALTH, (union pd_callback){.health = done}, user_data,
                      op_specs[OP_HEALTH].path_template, NULL);
}

struct pd_call *pd_client_get_stores(struct pd_client *client, unsigned states, pd_stores_cb done,
                                     void *user_data)
{
    char path[96];
    snprintf(path, sizeof path, "%s", op_specs[OP_STORES].path_template);
    char separator = '?';
    for (unsigned state = 0; state < 3; state++) {
        if (states & (1u << state)) {
            size_t used = strlen(path);
            snprintf(path + used, sizeof path - used, "%cstate=%u", separator, state);
            separator = '&';
        }
    }
    return call_start(client, OP_STORES, (union pd_callback){.stores = done}, user_data, path, NULL);
}

struct pd_call *pd_client_get_store(struct pd_client *client, uint64_t id, pd_store_cb done,
                                    void *user_data)
{
    char path[64];
    snprintf(path, sizeof path, "/pd/api/v1/store/%" PRIu64, id);
    return call_start(client, OP_STORE, (union pd_callback){.store = done}, user_data, path, NULL);
}

struct pd_call *pd_client_get_schedulers(struct pd_client *client, pd_schedulers_cb done,
                                         void *user_data)
{
    return call_start(client, OP_SCHEDULERS, (union pd_callback){.schedulers = done}, user_data,
                      op_specs[OP_SCHEDULERS].path_template, NULL);
}

struct pd_call *pd_client_get_config(struct pd_client *client, pd_config_cb done, void *user_data)
{
    return call_start(client, OP_CONFIG, (union pd_callback){.config = done}, user_data,
                      op_specs[OP_CONFIG].path_template, NULL);
}

struct pd_call *pd_client_get_cluster(struct pd_client *client, pd_cluster_cb done, void *user_data)
{
    return call_start(client, OP_CLUSTER, (union pd_callback){.cluster = done}, user_data,
                      op_specs[OP_CLUSTER].path_template, NULL);
}

/* --- actions ---------------------------------------------------------------- */

static struct pd_call *named_action(struct pd_client *client, enum op op, const char *prefix,
                                    const char *name, pd_action_cb done, void *user_data)
{
    if (name == NULL || name[0] == '\0')
        return NULL;
    char path[512];
    snprintf(path, sizeof path, "%s", prefix);
    if (!append_segment(path, sizeof path, name))
        return NULL;
    return call_start(client, op, (union pd_callback){.action = done}, user_data, path, NULL);
}

struct pd_call *pd_client_delete_member(struct pd_client *client, const char *name,
                                        pd_action_cb done, void *user_data)
{
    return named_action(client, OP_DELETE_MEMBER, "/pd/api/v1/members/name/", name, done, user_data);
}

struct pd_call *pd_client_delete_member_by_id(struct pd_client *client, uint64_t id,
                                              pd_action_cb done, void *user_data)
{
    char path[64];
    snprintf(path, sizeof path, "/pd/api/v1/members/id/%" PRIu64, id);
    return call_start(client, OP_DELETE_MEMBER_ID, (union pd_callback){.action = done}, user_data, path,
                      NULL);
}

struct pd_call *pd_client_delete_store(struct pd_client *client, uint64_t id, pd_action_cb done,
                                       void *user_data)
{
    char path[64];
    snprintf(path, sizeof path, "/pd/api/v1/store/%" PRIu64, id);
    return call_start(client, OP_DELETE_STORE, (union pd_callback){.action = done}, user_data, path, NULL);
}

struct pd_call *pd_client_transfer_leader(struct pd_client *client, const char *name,
                                          pd_action_cb done, void *user_data)
{
    return named_action(client, OP_TRANSFER_LEADER, "/pd/api/v1/leader/transfer/", name, done, user_data);
}

struct pd_call *pd_client_resign_leader(struct pd_client *client, pd_action_cb done, void *user_data)
{
    return call_start(client, OP_RESIGN_LEADER, (union pd_callback){.action = done}, user_data,
                      op_specs[OP_RESIGN_LEADER].path_template, NULL);
}

struct pd_call *pd_client_add_evict_leader(struct pd_client *client, uint64_t store_id,
                                           pd_action_cb done, void *user_data)
{
    char *body = NULL;
    /* store_id must be a JSON number (PD rejects a string); printed exactly. */
    if (asprintf(&body, "{\"name\":\"evict-leader-scheduler\",\"store_id\":%" PRIu64 "}", store_id) < 0)
        return NULL;
    return call_start(client, OP_ADD_EVICT, (union pd_callback){.action = done}, user_data,
                      op_specs[OP_ADD_EVICT].path_template, body);
}

struct pd_call *pd_client_remove_evict_leader(struct pd_client *client, uint64_t store_id,
                                              pd_action_cb done, void *user_data)
{
    char path[96];
    snprintf(path, sizeof path, "/pd/api/v1/schedulers/evict-leader-scheduler-%" PRIu64, store_id);
    return call_start(client, OP_REMOVE_EVICT, (union pd_callback){.action = done}, user_data, path, NULL);
}
