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

/* Every PD operation; op_specs below says what each one is. */
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
    OP_SET_STORE_UP,
    OP_REMOVE_TOMBSTONES,
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

/* --- the operation table ----------------------------------------------------- */

/* What a response means once the call's last stage answered. */
struct answer {
    const char *body; /* "" when none */
    size_t length;
    long status;      /* 0 on transport errors */
    bool absent;      /* an action's "already gone" status (error kind is then NONE) */
    bool transport_ok;
};

/* Decodes the answer (unless `error` is set already), calls the caller's
 * callback with the typed result and releases it. */
typedef void call_finisher(struct pd_call *call, const struct pd_error *error,
                           const struct answer *answer);

/* One finisher per read: `type` decoded by `decode`, handed to the callback
 * `member` of union pd_callback, released by `release`. A failed decode
 * becomes the error; the callback always gets a result (zeroed then). */
#define READ_FINISHER(name, type, decode, release, member)                                         \
    static void name(struct pd_call *call, const struct pd_error *error, const struct answer *answer) \
    {                                                                                              \
        type result = {0};                                                                         \
        struct pd_error decode_error;                                                              \
        if (error->kind == PD_ERROR_NONE &&                                                        \
            !decode(answer->body, answer->length, &result, &decode_error))                         \
            error = &decode_error;                                                                 \
        call->done.member(call, error, &result, call->user_data);                                  \
        release(&result);                                                                          \
    }

static void cluster_release(struct pd_cluster *cluster) { (void)cluster; /* owns nothing */ }

READ_FINISHER(finish_members, struct pd_members, pd_decode_members, pd_members_free, members)
READ_FINISHER(finish_leader, struct pd_member, pd_decode_member, pd_member_free, member)
READ_FINISHER(finish_health, struct pd_health, pd_decode_health, pd_health_free, health)
READ_FINISHER(finish_stores, struct pd_stores, pd_decode_stores, pd_stores_free, stores)
READ_FINISHER(finish_store, struct pd_store, pd_decode_store, pd_store_free, store)
READ_FINISHER(finish_config, struct pd_config, pd_decode_config, pd_config_free, config)
READ_FINISHER(finish_cluster, struct pd_cluster, pd_decode_cluster, cluster_release, cluster)

/* call->schedulers was filled by the two stages. */
static void finish_schedulers(struct pd_call *call, const struct pd_error *error,
                              const struct answer *answer)
{
    (void)answer;
    if (error->kind != PD_ERROR_NONE)
        pd_schedulers_free(&call->schedulers);
    call->done.schedulers(call, error, &call->schedulers, call->user_data);
    pd_schedulers_free(&call->schedulers);
}

/* Actions: the status and PD's message matter even for accepted ones. */
static void finish_action(struct pd_call *call, const struct pd_error *error,
                          const struct answer *answer)
{
    struct pd_error reported = *error;
    if (error->kind == PD_ERROR_NONE) {
        reported.status = answer->status;
        reported.reason = PD_REASON_NONE;
        reported.message[0] = '\0';
    }
    char *text = answer->transport_ok ? pd_decode_message(answer->body, answer->length) : NULL;
    struct pd_action_result result = {
        .status = answer->status,
        .absent = answer->absent && error->kind == PD_ERROR_NONE,
        .message = text != NULL ? text : "",
    };
    call->done.action(call, &reported, &result, call->user_data);
    free(text);
}

struct op_spec {
    enum http_client_method method;
    /* The path; also the metrics label and the messages' name. At most one
     * placeholder: "{id}" (a number) or "{name}" (one escaped segment). */
    const char *path_template;
    long absent_status[2]; /* statuses that mean "already gone" (actions) */
    call_finisher *finish; /* NULL: an intermediate stage */
};

static const struct op_spec op_specs[] = {
    [OP_MEMBERS] = {HTTP_CLIENT_GET, "/pd/api/v1/members", {0, 0}, finish_members},
    [OP_LEADER] = {HTTP_CLIENT_GET, "/pd/api/v1/leader", {0, 0}, finish_leader},
    [OP_HEALTH] = {HTTP_CLIENT_GET, "/pd/api/v1/health", {0, 0}, finish_health},
    [OP_STORES] = {HTTP_CLIENT_GET, "/pd/api/v1/stores", {0, 0}, finish_stores},
    [OP_STORE] = {HTTP_CLIENT_GET, "/pd/api/v1/store/{id}", {0, 0}, finish_store},
    [OP_SCHEDULERS] = {HTTP_CLIENT_GET, "/pd/api/v1/schedulers", {0, 0}, finish_schedulers},
    [OP_EVICT_LIST] = {HTTP_CLIENT_GET, "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", {0, 0}, NULL},
    [OP_CONFIG] = {HTTP_CLIENT_GET, "/pd/api/v1/config", {0, 0}, finish_config},
    [OP_CLUSTER] = {HTTP_CLIENT_GET, "/pd/api/v1/cluster", {0, 0}, finish_cluster},
    [OP_DELETE_MEMBER] = {HTTP_CLIENT_DELETE, "/pd/api/v1/members/name/{name}", {404, 0}, finish_action},
    [OP_DELETE_MEMBER_ID] = {HTTP_CLIENT_DELETE, "/pd/api/v1/members/id/{id}", {404, 0}, finish_action},
    [OP_DELETE_STORE] = {HTTP_CLIENT_DELETE, "/pd/api/v1/store/{id}", {404, 410}, finish_action},
    [OP_TRANSFER_LEADER] = {HTTP_CLIENT_POST, "/pd/api/v1/leader/transfer/{name}", {404, 0}, finish_action},
    [OP_RESIGN_LEADER] = {HTTP_CLIENT_POST, "/pd/api/v1/leader/resign", {0, 0}, finish_action},
    [OP_ADD_EVICT] = {HTTP_CLIENT_POST, "/pd/api/v1/schedulers", {0, 0}, finish_action},
    [OP_REMOVE_EVICT] = {HTTP_CLIENT_DELETE, "/pd/api/v1/schedulers/evict-leader-scheduler-{id}", {404, 0}, finish_action},
    [OP_SET_STORE_UP] = {HTTP_CLIENT_POST, "/pd/api/v1/store/{id}/state", {404, 0}, finish_action},
    [OP_REMOVE_TOMBSTONES] = {HTTP_CLIENT_DELETE, "/pd/api/v1/stores/remove-tombstone", {0, 0}, finish_action},
};

static bool is_absent_status(enum op op, long status)
{
    return status != 0 && (op_specs[op].absent_status[0] == status || op_specs[op].absent_status[1] == status);
}

/* --- requests ------------------------------------------------------------------- */

/* What fills an operation's path and body. */
struct call_args {
    uint64_t id;       /* for "{id}" */
    const char *name;  /* for "{name}"; NULL or "" refuses the call */
    const char *query; /* appended after '?' unless NULL or "" */
    char *body;        /* malloc'd JSON or NULL; always consumed */
};

/* Appends `text` to the string in `out`; false when it does not fit. */
static bool append_text(char *out, size_t size, const char *text)
{
    size_t used = strlen(out);
    int n = snprintf(out + used, size - used, "%s", text);
    return n >= 0 && (size_t)n < size - used;
}

/* Percent-encodes a path segment (member names are DNS labels, but a name
 * must never be able to change the path). */
static bool append_segment(char *out, size_t size, const char *segment)
{
    for (const unsigned char *p = (const unsigned char *)segment; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                     *p == '-' || *p == '.' || *p == '_' || *p == '~';
        char piece[4];
        snprintf(piece, sizeof piece, plain ? "%c" : "%%%02X", *p);
        if (!append_text(out, size, piece))
            return false;
    }
    return true;
}

/* The URL of `op` on `client`: the base URL, the path template with its
 * placeholder filled from `args`, then the query. malloc'd; NULL when a
 * name is missing, the path does not fit, or memory runs out. */
static char *op_url(const struct pd_client *client, enum op op, const struct call_args *args)
{
    const char *template = op_specs[op].path_template;
    const char *open = strchr(template, '{');
    char path[512];
    snprintf(path, sizeof path, "%.*s", open != NULL ? (int)(open - template) : (int)strlen(template),
             template);
    bool ok = true;
    if (open != NULL) {
        char id[24];
        snprintf(id, sizeof id, "%" PRIu64, args->id);
        const char *close = strchr(open, '}');
        ok = (strncmp(open, "{id}", 4) == 0
                  ? append_text(path, sizeof path, id)
                  : args->name != NULL && args->name[0] != '\0' && append_segment(path, sizeof path, args->name)) &&
             close != NULL && append_text(path, sizeof path, close + 1);
    }
    if (args->query != NULL && args->query[0] != '\0')
        ok = ok && append_text(path, sizeof path, "?") && append_text(path, sizeof path, args->query);
    char *url = NULL;
    if (!ok || asprintf(&url, "%s%s", client->base_url, path) < 0)
        return NULL;
    return url;
}

static void on_http_complete(struct http_client_request *request, struct http_client_response *response,
                             void *user_data);

/* Starts one HTTP request for `call` at stage `op` (args->body consumed). */
static bool stage_start(struct pd_call *call, enum op op, const struct call_args *args)
{
    struct pd_client *client = call->client;
    char *url = op_url(client, op, args);
    if (url == NULL) {
        free(args->body);
        return false;
    }
    static const char *const json_headers[] = {"Content-Type: application/json",
                                               "Accept: application/json", NULL};
    static const char *const accept_headers[] = {"Accept: application/json", NULL};
    char *body = args->body;
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
    free(url);
    return call->request != NULL;
}

/* A new call for `op` (args NULL: none needed); NULL when it could not start. */
static struct pd_call *call_start(struct pd_client *client, enum op op, union pd_callback done,
                                  void *user_data, const struct call_args *args)
{
    static const struct call_args none = {0};
    if (args == NULL)
        args = &none;
    if (client == NULL || client->closing) {
        free(args->body);
        return NULL;
    }
    struct pd_call *call = calloc(1, sizeof *call);
    if (call == NULL) {
        free(args->body);
        return NULL;
    }
    call->client = client;
    call->first_op = op;
    call->done = done;
    call->user_data = user_data;
    list_insert_head(&client->calls, &call->link);
    client->in_flight++;
    if (!stage_start(call, op, args)) {
        call_unlink(call);
        free(call);
        return NULL;
    }
    return call;
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
    struct answer answer = {
        .body = response->body != NULL ? response->body : "",
        .length = response->body != NULL ? response->body_length : 0,
        .status = response->status,
        .transport_ok = response->error == HTTP_ERROR_NONE,
    };
    if (response->error != HTTP_ERROR_NONE) {
        error.kind = PD_ERROR_TRANSPORT;
        error.transport = response->error;
        error.status = response->status;
        snprintf(error.message, sizeof error.message, "%s %s: %s: %s",
                 http_client_method_name(spec->method), spec->path_template,
                 http_client_error_name(response->error), response->error_message);
    } else if (response->status < 200 || response->status > 299) {
        pd_error_from_http(&error, response->status, answer.body, answer.length);
        if (is_absent_status(call->op, response->status)) {
            answer.absent = true;
            error.kind = PD_ERROR_NONE; /* keep status and reason for the caller */
        }
    }

    if (call->op == OP_SCHEDULERS && error.kind == PD_ERROR_NONE) {
        if (!pd_decode_schedulers(answer.body, answer.length, &call->schedulers, &error)) {
            /* error set by the decoder */
        } else if (call->schedulers.evict_leader_bare) {
            if (stage_start(call, OP_EVICT_LIST, &(struct call_args){0}))
                return;
            pd_error_set(&error, PD_ERROR_TRANSPORT, "GET %s: could not start the request",
                         op_specs[OP_EVICT_LIST].path_template);
            error.transport = HTTP_ERROR_INTERNAL;
        }
    } else if (call->op == OP_EVICT_LIST) {
        if (error.kind == PD_ERROR_HTTP && error.status == 404) {
            pd_error_clear(&error); /* the scheduler went away between the two reads */
        } else if (error.kind == PD_ERROR_NONE) {
            merge_evict_list(call, answer.body, answer.length, &error);
        }
    }
    op_specs[call->first_op].finish(call, &error, &answer);
    call_finish(call);
}

/* --- reads ------------------------------------------------------------------ */

struct pd_call *pd_client_get_members(struct pd_client *client, pd_members_cb done, void *user_data)
{
    return call_start(client, OP_MEMBERS, (union pd_callback){.members = done}, user_data, NULL);
}

struct pd_call *pd_client_get_leader(struct pd_client *client, pd_member_cb done, void *user_data)
{
    return call_start(client, OP_LEADER, (union pd_callback){.member = done}, user_data, NULL);
}

struct pd_call *pd_client_get_health(struct pd_client *client, pd_health_cb done, void *user_data)
{
    return call_start(client, OP_HEALTH, (union pd_callback){.health = done}, user_data, NULL);
}

struct pd_call *pd_client_get_stores(struct pd_client *client, unsigned states, pd_stores_cb done,
                                     void *user_data)
{
    char query[48] = "";
    for (unsigned state = 0; state < 3; state++) {
        if (states & (1u << state)) {
            size_t used = strlen(query);
            snprintf(query + used, sizeof query - used, "%sstate=%u", used ? "&" : "", state);
        }
    }
    return call_start(client, OP_STORES, (union pd_callback){.stores = done}, user_data,
                      &(struct call_args){.query = query});
}

struct pd_call *pd_client_get_store(struct pd_client *client, uint64_t id, pd_store_cb done,
                                    void *user_data)
{
    return call_start(client, OP_STORE, (union pd_callback){.store = done}, user_data,
                      &(struct call_args){.id = id});
}

struct pd_call *pd_client_get_schedulers(struct pd_client *client, pd_schedulers_cb done,
                                         void *user_data)
{
    return call_start(client, OP_SCHEDULERS, (union pd_callback){.schedulers = done}, user_data, NULL);
}

struct pd_call *pd_client_get_config(struct pd_client *client, pd_config_cb done, void *user_data)
{
    return call_start(client, OP_CONFIG, (union pd_callback){.config = done}, user_data, NULL);
}

struct pd_call *pd_client_get_cluster(struct pd_client *client, pd_cluster_cb done, void *user_data)
{
    return call_start(client, OP_CLUSTER, (union pd_callback){.cluster = done}, user_data, NULL);
}

/* --- actions ---------------------------------------------------------------- */

static struct pd_call *action(struct pd_client *client, enum op op, const struct call_args *args,
                              pd_action_cb done, void *user_data)
{
    return call_start(client, op, (union pd_callback){.action = done}, user_data, args);
}

struct pd_call *pd_client_delete_member(struct pd_client *client, const char *name,
                                        pd_action_cb done, void *user_data)
{
    return action(client, OP_DELETE_MEMBER, &(struct call_args){.name = name}, done, user_data);
}

struct pd_call *pd_client_delete_member_by_id(struct pd_client *client, uint64_t id,
                                              pd_action_cb done, void *user_data)
{
    return action(client, OP_DELETE_MEMBER_ID, &(struct call_args){.id = id}, done, user_data);
}

struct pd_call *pd_client_delete_store(struct pd_client *client, uint64_t id, pd_action_cb done,
                                       void *user_data)
{
    return action(client, OP_DELETE_STORE, &(struct call_args){.id = id}, done, user_data);
}

struct pd_call *pd_client_transfer_leader(struct pd_client *client, const char *name,
                                          pd_action_cb done, void *user_data)
{
    return action(client, OP_TRANSFER_LEADER, &(struct call_args){.name = name}, done, user_data);
}

struct pd_call *pd_client_resign_leader(struct pd_client *client, pd_action_cb done, void *user_data)
{
    return action(client, OP_RESIGN_LEADER, NULL, done, user_data);
}

struct pd_call *pd_client_add_evict_leader(struct pd_client *client, uint64_t store_id,
                                           pd_action_cb done, void *user_data)
{
    char *body = NULL;
    /* store_id must be a JSON number (PD rejects a string); printed exactly. */
    if (asprintf(&body, "{\"name\":\"evict-leader-scheduler\",\"store_id\":%" PRIu64 "}", store_id) < 0)
        return NULL;
    return action(client, OP_ADD_EVICT, &(struct call_args){.body = body}, done, user_data);
}

struct pd_call *pd_client_remove_evict_leader(struct pd_client *client, uint64_t store_id,
                                              pd_action_cb done, void *user_data)
{
    return action(client, OP_REMOVE_EVICT, &(struct call_args){.id = store_id}, done, user_data);
}

struct pd_call *pd_client_set_store_up(struct pd_client *client, uint64_t id, pd_action_cb done, void *user_data)
{
    return action(client, OP_SET_STORE_UP, &(struct call_args){.id = id, .query = "state=Up"}, done, user_data);
}

struct pd_call *pd_client_remove_tombstones(struct pd_client *client, pd_action_cb done, void *user_data)
{
    return action(client, OP_REMOVE_TOMBSTONES, &(struct call_args){0}, done, user_data);
}
