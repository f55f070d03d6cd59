#include "watchers/kube_client.h"

#include "reactor/list.h"
#include "reactor/log.h"
#include "reactor/rate_limiter.h"
#include "reactor/timer_heap.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- resources and paths --------------------------------------------------- */

const struct kube_resource kube_resource_pods = {"", "v1", "pods", true};
const struct kube_resource kube_resource_pvcs = {"", "v1", "persistentvolumeclaims", true};
const struct kube_resource kube_resource_pvs = {"", "v1", "persistentvolumes", false};
const struct kube_resource kube_resource_nodes = {"", "v1", "nodes", false};
const struct kube_resource kube_resource_services = {"", "v1", "services", true};
const struct kube_resource kube_resource_configmaps = {"", "v1", "configmaps", true};
const struct kube_resource kube_resource_storage_classes = {"storage.k8s.io", "v1",
                                                            "storageclasses", false};
const struct kube_resource kube_resource_leases = {"coordination.k8s.io", "v1", "leases", true};
const struct kube_resource kube_resource_events = {"", "v1", "events", true};
const struct kube_resource kube_resource_tidbclusters = {"pingcap.com", "v1alpha1",
                                                         "tidbclusters", true};

static bool append_escaped(struct buffer *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        bool plain = isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (plain ? !buffer_append(out, p, 1) : !buffer_append_format(out, "%%%02X", *p))
            return false;
    }
    return true;
}

bool kube_path(struct buffer *out, const struct kube_resource *resource, const char *ns,
               const char *name, const char *subresource)
{
    bool ok = resource->group == NULL || resource->group[0] == '\0'
                  ? buffer_append_format(out, "/api/%s", resource->version)
                  : buffer_append_format(out, "/apis/%s/%s", resource->group, resource->version);
    if (ok && resource->namespaced && ns != NULL && ns[0] != '\0')
        ok = buffer_append_string(out, "/namespaces/") && append_escaped(out, ns);
    ok = ok && buffer_append_format(out, "/%s", resource->plural);
    if (ok && name != NULL) {
        ok = buffer_append_string(out, "/") && append_escaped(out, name);
        if (ok && subresource != NULL)
            ok = buffer_append_string(out, "/") && append_escaped(out, subresource);
    }
    return ok;
}

bool kube_query(struct buffer *out, const char *key, const char *value)
{
    bool first = out->length == 0 || strchr(buffer_string(out), '?') == NULL;
    return buffer_append_format(out, "%c%s=", first ? '?' : '&', key) &&
           append_escaped(out, value);
}

bool kube_list_path(struct buffer *out, const struct kube_resource *resource, const char *ns,
                    const struct kube_list_options *options, bool watch)
{
    static const struct kube_list_options none;
    if (options == NULL)
        options = &none;
    bool ok = kube_path(out, resource, ns, NULL, NULL);
    if (ok && watch)
        ok = kube_query(out, "watch", "true");
    if (ok && options->label_selector != NULL && options->label_selector[0] != '\0')
        ok = kube_query(out, "labelSelector", options->label_selector);
    if (ok && options->field_selector != NULL && options->field_selector[0] != '\0')
        ok = kube_query(out, "fieldSelector", options->field_selector);
    if (ok && options->resource_version != NULL)
        ok = kube_query(out, "resourceVersion", options->resource_version);
    if (ok && options->resource_version_match != NULL)
        ok = kube_query(out, "resourceVersionMatch", options->resource_version_match);
    if (ok && options->continue_token != NULL)
        ok = kube_query(out, "continue", options->continue_token);
    char number[32];
    if (ok && options->limit > 0 && !watch) {
        snprintf(number, sizeof number, "%zu", options->limit);
        ok = kube_query(out, "limit", number);
    }
    if (ok && watch && options->allow_bookmarks)
        ok = kube_query(out, "allowWatchBookmarks", "true");
    if (ok && watch && options->timeout_seconds > 0) {
        snprintf(number, sizeof number, "%u", options->timeout_seconds);
        ok = kube_query(out, "timeoutSeconds", number);
    }
    return ok;
}

/* --- errors ---------------------------------------------------------------------- */

void kube_error_clear(struct kube_error *error)
{
    free(error->reason);
    free(error->message);
    free(error->details_name);
    free(error->details_kind);
    for (size_t i = 0; i < error->cause_count; i++) {
        free(error->causes[i].reason);
        free(error->causes[i].message);
        free(error->causes[i].field);
    }
    free(error->causes);
    memset(error, 0, sizeof *error);
}

/* client-go's reason for a status without a Status body. */
static const char *reason_for_code(long code)
{
    switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "";
    }
}

static char *dup_or_null(const cJSON *item)
{
    return cJSON_IsString(item) ? strdup(item->valuestring) : NULL;
}

bool kube_error_decode(long status, const char *body, size_t length, struct kube_error *out)
{
    memset(out, 0, sizeof *out);
    out->code = (int)status;
    bool ok = true;
    cJSON *root = body != NULL && length > 0 ? cJSON_ParseWithLength(body, length) : NULL;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (cJSON_IsObject(root) && cJSON_IsString(kind) && strcmp(kind->valuestring, "Status") == 0) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
        if (status == 0 && cJSON_IsNumber(code))
            out->code = (int)code->valuedouble;
        out->reason = dup_or_null(cJSON_GetObjectItemCaseSensitive(root, "reason"));
        out->message = dup_or_null(cJSON_GetObjectItemCaseSensitive(root, "message"));
        const cJSON *details = cJSON_GetObjectItemCaseSensitive(root, "details");
        if (cJSON_IsObject(details)) {
            out->details_name = dup_or_null(cJSON_GetObjectItemCaseSensitive(details, "name"));
            out->details_kind = dup_or_null(cJSON_GetObjectItemCaseSensitive(details, "kind"));
            const cJSON *retry = cJSON_GetObjectItemCaseSensitive(details, "retryAfterSeconds");
            if (cJSON_IsNumber(retry) && retry->valuedouble > 0 && retry->valuedouble < 86400)
                out->retry_after_seconds = (int)retry->valuedouble;
            const cJSON *causes = cJSON_GetObjectItemCaseSensitive(details, "causes");
            int count = cJSON_IsArray(causes) ? cJSON_GetArraySize(causes) : 0;
            if (count > 0 && (out->causes = calloc((size_t)count, sizeof *out->causes)) != NULL) {
                const cJSON *cause;
                cJSON_ArrayForEach(cause, causes) {
                    if (!cJSON_IsObject(cause))
                        continue;
                    struct kube_cause *c = &out->causes[out->cause_count++];
                    c->reason = dup_or_null(cJSON_GetObjectItemCaseSensitive(cause, "reason"));
                    c->message = dup_or_null(cJSON_GetObjectItemCaseSensitive(cause, "message"));
                    c->field = dup_or_null(cJSON_GetObjectItemCaseSensitive(cause, "field"));
                }
            } else if (count > 0) {
                ok = false;
            }
        }
    }
    cJSON_Delete(root);
    if (out->reason == NULL || out->reason[0] == '\0') {
        free(out->reason);
        out->reason = strdup(reason_for_code(out->code));
    }
    if (out->message == NULL) {
        /* Not a Status: keep the start of the body for the log. */
        size_t keep = body != NULL ? (length < 512 ? length : 512) : 0;
        if ((out->message = malloc(keep + 1)) != NULL) {
            if (keep > 0)
                memcpy(out->message, body, keep);
            out->message[keep] = '\0';
        }
    }
    return ok && out->reason != NULL && out->message != NULL;
}

bool kube_error_is_gone(const struct kube_error *error)
{
    return error->code == 410 ||
           (error->reason != NULL && (strcmp(error->reason, "Expired") == 0 ||
                                      strcmp(error->reason, "Gone") == 0));
}

/* --- the client --------------------------------------------------------------------- */

enum request_state {
    REQUEST_WAITING,    /* in the heap: rate limit, retry backoff, or completion due */
    REQUEST_IN_FLIGHT,  /* an HTTP attempt is running */
};

struct kube_request {
    struct kube_client *client;
    struct list_node link;              /* in the client's live requests */
    struct kube_request *stalled_next;  /* when the heap had no room */
    bool stalled;
    struct timer_heap_entry entry;
    enum request_state state;
    bool cancelled;
    bool finishing;                     /* a result is ready: complete when due */
    bool retried_401;
    bool watch;
    enum http_client_method method;
    char *path;
    char *verb;
    char *resource;
    char *body;
    size_t body_length;
    char *content_type;
    uint64_t timeout_ms;
    uint64_t idle_timeout_ms;
    size_t max_body_bytes;
    bool no_retry;
    unsigned attempts;
    uint64_t attempt_started_ms;
    struct http_client_request *http;
    kube_client_cb cb;
    void *data;
    struct kube_watch_callbacks watch_callbacks;
    long watch_status;
    bool watch_opened;
    struct buffer error_body;           /* non-200 watch answers */
    struct kube_result result;          /* when finishing */
    char *result_body;
};

struct kube_client {
    uv_loop_t *loop;
    struct http_client *http;
    struct kube_connection *connection;
    struct http_client_profile *profile;
    const struct clock *clock;
    struct token_bucket bucket;
    unsigned max_attempts;
    uint64_t request_timeout_ms;
    uint64_t retry_base_ms;
    uint64_t retry_max_ms;
    uint64_t token_reload_ms;
    uint64_t token_read_ms;
    struct timer_heap heap;
    uv_timer_t timer;
    struct list_node requests;
    struct kube_request *stalled;       /* to run at the next fire (heap push failed) */
    bool closing;
    bool timer_closing;
    bool in_timer;
    void (*closed)(void *data);
    void *closed_data;
    uint64_t rng;
    struct kube_client_stats stats;
    struct metrics_family *requests_total;
    struct metrics_family *duration;
    struct metrics_family *retries_total;
};

static uint64_t next_random(struct kube_client *client)
{
    /* xorshift64*: jitter only, no need for quality. */
    client->rng ^= client->rng >> 12;
    client->rng ^= client->rng << 25;
    client->rng ^= client->rng >> 27;
    return client->rng * 0x2545F4914F6CDD1Dull;
}

static void arm_timer(struct kube_client *client);
static void timer_fired(uv_timer_t *timer);
static void maybe_finish_close(struct kube_client *client);

int kube_client_new(const struct kube_client_options *options, struct kube_client **out)
{
    *out = NULL;
    if (options == NULL || options->loop == NULL || options->http == NULL ||
        options->connection == NULL || options->connection->server == NULL)
        return -EINVAL;
    struct kube_client *client = calloc(1, sizeof *client);
    if (client == NULL)
        return -ENOMEM;
    list_init(&client->requests);
    const struct kube_connection *c = options->connection;
    struct http_client_profile_options profile = {
        .base_url = c->server,
        .bearer_token = c->token,
        .ca_pem = c->certificate_authority_data,
        .cert_pem = c->client_certificate_data,
        .key_pem = c->client_key_data,
        .insecure_skip_verify = c->insecure_skip_tls_verify,
    };
    client->profile = http_client_profile_create(&profile);
    if (client->profile == NULL) {
        free(client);
        return -ENOMEM;
    }
    client->loop = options->loop;
    client->http = options->http;
    client->connection = options->connection;
    client->clock = options->clock ? options->clock : clock_system();
    if (token_bucket_init(&client->bucket, client->clock, options->qps > 0 ? options->qps : 50,
                          options->burst ? options->burst : 100) != 0) {
        http_client_profile_unref(client->profile);
        free(client);
        return -EINVAL;
    }
    client->max_attempts = options->max_attempts ? options->max_attempts : 10;
    client->request_timeout_ms = options->request_timeout_ms ? options->request_timeout_ms : 30000;
    client->retry_base_ms = options->retry_base_ms ? options->retry_base_ms : 250;
    client->retry_max_ms = options->retry_max_ms ? options->retry_max_ms : 30000;
    client->token_reload_ms = options->token_reload_ms ? options->token_reload_ms : 60000;
    client->token_read_ms = clock_now_ms(client->clock);
    client->rng = (uint64_t)(uintptr_t)client ^ (uint64_t)uv_hrtime() ^ 0x9E3779B97F4A7C15ull;
    if (client->rng == 0)
        client->rng = 1;
    timer_heap_init(&client->heap);
    int rc = uv_timer_init(options->loop, &client->timer);
    if (rc != 0) {
        http_client_profile_unref(client->profile);
        free(client);
        return rc;
    }
    client->timer.data = client;
    uv_unref((uv_handle_t *)&client->timer);
    if (options->metrics != NULL) {
        /* A second client on the same registry finds the names taken: it
         * then runs without metrics rather than failing. */
        client->requests_total = metrics_counter_family(
            options->metrics, "kube_client_requests_total",
            "API server requests by verb, resource and result code.", "verb", "resource", "code");
        client->duration = metrics_histogram_family(
            options->metrics, "kube_client_request_duration_seconds",
            "API server request latency per attempt.", "verb", "resource");
        client->retries_total = metrics_counter_family(
            options->metrics, "kube_client_retries_total",
            "API server requests retried after 429, 5xx or a connection failure.", "verb",
            "resource");
    }
    *out = client;
    return 0;
}

void kube_client_get_stats(const struct kube_client *client, struct kube_client_stats *out)
{
    *out = client->stats;
}

/* --- request lifecycle ---------------------------------------------------------- */

static void request_free(struct kube_request *request)
{
    free(request->path);
    free(request->verb);
    free(request->resource);
    free(request->body);
    free(request->content_type);
    buffer_free(&request->error_body);
    cJSON_Delete(request->result.object);
    kube_error_clear(&request->result.error);
    free(request->result_body);
    free(request);
}

static void unlink_request(struct kube_request *request)
{
    list_remove(&request->link);
    request->client->stats.in_flight--;
}

/* Schedules the request to run (or complete) after `delay_ms`. */
static void schedule(struct kube_request *request, uint64_t delay_ms)
{
    struct kube_client *client = request->client;
    request->state = REQUEST_WAITING;
    uint64_t due = clock_now_ms(client->clock) + delay_ms;
    if (request->stalled) {
        /* Already due at the next fire; run_due reads its flags then. */
    } else if (timer_heap_entry_pushed(&request->entry))
        timer_heap_update(&client->heap, &request->entry, due);
    else if (timer_heap_push(&client->heap, &request->entry, due) != 0 && !request->stalled) {
        /* No memory for a heap slot: run it at the next fire instead, so
         * that its callback still comes exactly once. */
        request->stalled = true;
        request->stalled_next = client->stalled;
        client->stalled = request;
    }
    arm_timer(client);
}

static void arm_timer(struct kube_client *client)
{
    if (client->timer_closing || client->in_timer)
        return;
    struct timer_heap_entry *first = timer_heap_peek(&client->heap);
    if (client->stalled != NULL) {
        uv_ref((uv_handle_t *)&client->timer);
        uv_timer_start(&client->timer, timer_fired, 10, 0);
        return;
    }
    if (first == NULL) {
        uv_timer_stop(&client->timer);
        uv_unref((uv_handle_t *)&client->timer);
        return;
    }
    uint64_t now = clock_now_ms(client->clock);
    uint64_t delay = first->due_ms > now ? first->due_ms - now : 0;
    uv_ref((uv_handle_t *)&client->timer);
    uv_timer_start(&client->timer, timer_fired, delay, 0);
}

/* Marks the request complete with its result; the callback fires from the timer. */
static void finish_later(struct kube_request *request)
{
    request->finishing = true;
    schedule(request, 0);
}

static void finish_transport(struct kube_request *request, enum http_client_error transport,
                             const char *message)
{
    kube_error_clear(&request->result.error);
    request->result.ok = false;
    request->result.error.transport = transport;
    request->result.error.reason = strdup("");
    request->result.error.message = strdup(message ? message : http_client_error_name(transport));
    finish_later(request);
}

static void deliver(struct kube_request *request)
{
    struct kube_client *client = request->client;
    unlink_request(request);
    request->result.attempts = request->attempts;
    if (request->watch) {
        struct kube_error *error = &request->result.error;
        if (request->result.ok) {
            error->transport = HTTP_ERROR_NONE;
            error->code = (int)request->result.status;
        }
        if (request->watch_callbacks.on_end != NULL)
            request->watch_callbacks.on_end(request->watch_callbacks.data, error);
    } else if (request->cb != NULL) {
        request->result.body = request->result_body;
        request->cb(&request->result, request->data);
    }
    request_free(request);
    maybe_finish_close(client);
}

static void reload_token(struct kube_client *client, bool force)
{
    if (client->connection->token_file == NULL)
        return;
    uint64_t now = clock_now_ms(client->clock);
    if (!force && now - client->token_read_ms < client->token_reload_ms)
        return;
    client->token_read_ms = now;
    char *error = NULL;
    enum kube_token_reload outcome = kube_credentials_reload_token(client->connection, &error);
    if (outcome == KUBE_TOKEN_CHANGED) {
        if (http_client_profile_set_bearer_token(client->profile, client->connection->token))
            client->stats.token_reloads++;
    } else if (outcome == KUBE_TOKEN_FAILED) {
        log_warn("cannot reload API token", "error=\"%s\"", error ? error : "out of memory");
    }
    free(error);
}

static void on_http_complete(struct http_client_request *http, struct http_client_response *response,
                             void *user_data);
static void on_http_headers(struct http_client_request *http,
                            const struct http_client_response *response, void *user_data);
static bool on_http_data(struct http_client_request *http, const char *data, size_t length,
                         void *user_data);

static void start_attempt(struct kube_request *request)
{
    struct kube_client *client = request->client;
    reload_token(client, false);
    const char *headers[3] = {NULL, NULL, NULL};
    char content_type[160];
    size_t h = 0;
    headers[h++] = "Accept: application/json";
    if (request->content_type != NULL) {
        snprintf(content_type, sizeof content_type, "Content-Type: %s", request->content_type);
        headers[h++] = content_type;
    }
    struct http_client_request_options options = {
        .method = request->method,
        .url = request->path,
        .profile = client->profile,
        .headers = headers,
        .body = request->body,
        .body_length = request->body_length,
        .timeout_ms = request->watch ? 0 : request->timeout_ms,
        .idle_timeout_ms = request->watch ? request->idle_timeout_ms : 0,
        .max_body_bytes = request->max_body_bytes,
        .on_complete = on_http_complete,
        .user_data = request,
    };
    if (request->watch) {
        options.on_headers = on_http_headers;
        options.on_data = on_http_data;
    }
    request->attempts++;
    client->stats.attempts++;
    request->attempt_started_ms = clock_now_ms(client->clock);
    request->watch_status = 0;
    request->watch_opened = false;
    buffer_clear(&request->error_body);
    request->http = http_client_request_start(client->http, &options);
    if (request->http == NULL) {
        finish_transport(request, HTTP_ERROR_INTERNAL, "cannot start the HTTP request");
        return;
    }
    request->state = REQUEST_IN_FLIGHT;
}

static void run_due(struct kube_request *request)
{
    if (request->finishing) {
        deliver(request);
    } else if (request->cancelled) {
        finish_transport(request, HTTP_ERROR_CANCELLED, "cancelled");
    } else {
        start_attempt(request);
    }
}

static void timer_fired(uv_timer_t *timer)
{
    struct kube_client *client = timer->data;
    uint64_t now = clock_now_ms(client->clock);
    client->in_timer = true;
    struct kube_request *stalled = client->stalled;
    client->stalled = NULL;
    while (stalled != NULL) {
        struct kube_request *request = stalled;
        stalled = request->stalled_next;
        request->stalled = false;
        run_due(request);
    }
    struct timer_heap_entry *entry;
    while ((entry = timer_heap_peek(&client->heap)) != NULL && entry->due_ms <= now) {
        timer_heap_pop(&client->heap);
        run_due((struct kube_request *)(void *)((char *)entry -
                                                offsetof(struct kube_request, entry)));
    }
    client->in_timer = false;
    arm_timer(client);
}

static void record_metrics(struct kube_request *request, const char *code)
{
    struct kube_client *client = request->client;
    if (client->requests_total != NULL) {
        struct metrics_counter *counter =
            metrics_counter_with(client->requests_total, request->verb, request->resource, code);
        if (counter != NULL)
            metrics_counter_inc(counter);
    }
    if (client->duration != NULL) {
        struct metrics_histogram *histogram =
            metrics_histogram_with(client->duration, request->verb, request->resource);
        if (histogram != NULL)
            metrics_histogram_observe(
                histogram,
                (double)(clock_now_ms(client->clock) - request->attempt_started_ms) / 1000.0);
    }
}

static int retry_after_header(const struct http_client_response *response)
{
    const char *value = http_client_response_header(response, "Retry-After");
    if (value == NULL)
        return 0;
    char *end;
    long seconds = strtol(value, &end, 10);
    while (*end == ' ')
        end++;
    if (end == value || *end != '\0' || seconds <= 0 || seconds > 86400)
        return 0;
    return (int)seconds;
}

static uint64_t backoff_ms(struct kube_request *request, int retry_after_seconds)
{
    struct kube_client *client = request->client;
    if (retry_after_seconds > 0) {
        uint64_t ms = (uint64_t)retry_after_seconds * 1000;
        return ms < client->retry_max_ms ? ms : client->retry_max_ms;
    }
    uint64_t delay = client->retry_base_ms;
    for (unsigned i = 1; i < request->attempts && delay < client->retry_max_ms; i++)
        delay *= 2;
    if (delay > client->retry_max_ms)
        delay = client->retry_max_ms;
    /* Jitter in [50%, 150%) so that clients restarted together spread out. */
    return delay / 2 + next_random(client) % (delay > 0 ? delay : 1);
}

static bool retryable_status(const struct kube_request *request, long status, int retry_after)
{
    if (status == 429)
        return true;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return request->method != HTTP_CLIENT_POST || retry_after > 0;
    return false;
}

static bool retryable_transport(const struct kube_request *request, enum http_client_error error)
{
    switch (error) {
    case HTTP_ERROR_CONNECT:
    case HTTP_ERROR_DNS:
        return true;
    case HTTP_ERROR_TIMEOUT:
    case HTTP_ERROR_NETWORK:
    case HTTP_ERROR_PROTOCOL:
        return request->method == HTTP_CLIENT_GET;
    default:
        return false;
    }
}

/* Schedules another attempt after `delay` (plus the rate limit). */
static void retry(struct kube_request *request, uint64_t delay)
{
    struct kube_client *client = request->client;
    client->stats.retries++;
    if (client->retries_total != NULL) {
        struct metrics_counter *counter =
            metrics_counter_with(client->retries_total, request->verb, request->resource);
        if (counter != NULL)
            metrics_counter_inc(counter);
    }
    uint64_t wait = token_bucket_reserve(&client->bucket);
    schedule(request, delay > wait ? delay : wait);
}

static void on_http_headers(struct http_client_request *http,
                            const struct http_client_response *response, void *user_data)
{
    (void)http;
    struct kube_request *request = user_data;
    request->watch_status = response->status;
    if (response->status == 200 && !request->cancelled) {
        request->watch_opened = true;
        if (request->watch_callbacks.on_open != NULL)
            request->watch_callbacks.on_open(request->watch_callbacks.data);
    }
}

static bool on_http_data(struct http_client_request *http, const char *data, size_t length,
                         void *user_data)
{
    (void)http;
    struct kube_request *request = user_data;
    if (request->cancelled)
        return false;
    if (!request->watch_opened) {
        /* An error answer: keep (a bounded start of) it for the Status. */
        if (request->error_body.length < 65536)
            buffer_append(&request->error_body, data, length);
        return true;
    }
    return request->watch_callbacks.on_data(request->watch_callbacks.data, data, length);
}

static void on_http_complete(struct http_client_request *http, struct http_client_response *response,
                             void *user_data)
{
    (void)http;
    struct kube_request *request = user_data;
    struct kube_client *client = request->client;
    request->http = NULL;
    char code[16];
    if (response->error != HTTP_ERROR_NONE)
        snprintf(code, sizeof code, "%s", http_client_error_name(response->error));
    else
        snprintf(code, sizeof code, "%ld", response->status);
    record_metrics(request, code);

    bool final = request->cancelled || client->closing || request->no_retry ||
                 request->attempts >= client->max_attempts;
    if (response->error != HTTP_ERROR_NONE) {
        if (!final && !request->watch && retryable_transport(request, response->error)) {
            retry(request, backoff_ms(request, 0));
            return;
        }
        finish_transport(request, request->cancelled ? HTTP_ERROR_CANCELLED : response->error,
                         response->error_message);
        return;
    }
    long status = response->status;
    request->result.status = status;
    if (status == 401 && !request->retried_401 && !request->cancelled && !client->closing) {
        /* The token may have rotated under us: read it now and try once more. */
        const char *before = client->connection->token;
        char *old = before ? strdup(before) : NULL;
        reload_token(client, true);
        const char *after = client->connection->token;
        bool changed = (old == NULL) != (after == NULL) ||
                       (old != NULL && after != NULL && strcmp(old, after) != 0);
        free(old);
        if (changed) {
            request->retried_401 = true;
            retry(request, 0);
            return;
        }
    }
    const char *body = request->watch ? request->error_body.data : response->body;
    size_t body_length = request->watch ? request->error_body.length : response->body_length;
    if (status >= 200 && status < 300) {
        request->result.ok = true;
        if (!request->watch) {
            request->result_body = http_client_response_take_body(response);
            if (request->result_body != NULL && request->result_body[0] != '\0')
                request->result.object = cJSON_Parse(request->result_body);
            request->result.body_length = request->result_body ? strlen(request->result_body) : 0;
        }
        finish_later(request);
        return;
    }
    int retry_after = retry_after_header(response);
    kube_error_clear(&request->result.error);
    kube_error_decode(status, body, body_length, &request->result.error);
    if (request->result.error.retry_after_seconds == 0)
        request->result.error.retry_after_seconds = retry_after;
    retry_after = request->result.error.retry_after_seconds;
    if (!final && !request->watch && retryable_status(request, status, retry_after)) {
        kube_error_clear(&request->result.error);
        retry(request, backoff_ms(request, retry_after));
        return;
    }
    if (!request->watch && body != NULL) {
        request->result_body = http_client_response_take_body(response);
        request->result.body_length = request->result_body ? strlen(request->result_body) : 0;
    }
    finish_later(request);
}

static struct kube_request *request_new(struct kube_client *client, enum http_client_method method,
                                        const char *path, const char *verb, const char *resource)
{
    if (client->closing || path == NULL)
        return NULL;
    struct kube_request *request = calloc(1, sizeof *request);
    if (request == NULL)
        return NULL;
    request->client = client;
    request->method = method;
    request->path = strdup(path);
    if (verb != NULL) {
        request->verb = strdup(verb);
    } else if ((request->verb = strdup(http_client_method_name(method))) != NULL) {
        for (char *p = request->verb; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    request->resource = strdup(resource ? resource : "other");
    if (request->path == NULL || request->verb == NULL || request->resource == NULL) {
        request_free(request);
        return NULL;
    }
    return request;
}

static void enqueue(struct kube_request *request)
{
    struct kube_client *client = request->client;
    list_insert_head(&client->requests, &request->link);
    client->stats.in_flight++;
    client->stats.requests++;
    schedule(request, token_bucket_reserve(&client->bucket));
}

struct kube_request *kube_client_request(struct kube_client *client,
                                         const struct kube_request_options *options,
                                         kube_client_cb cb, void *data)
{
    if (options == NULL || cb == NULL)
        return NULL;
    struct kube_request *request =
        request_new(client, options->method, options->path, options->verb, options->resource);
    if (request == NULL)
        return NULL;
    request->cb = cb;
    request->data = data;
    request->timeout_ms = options->timeout_ms ? options->timeout_ms : client->request_timeout_ms;
    request->max_body_bytes = options->max_body_bytes;
    request->no_retry = options->no_retry;
    if (options->body != NULL) {
        request->body = cJSON_PrintUnformatted(options->body);
        if (request->body == NULL)
            goto fail;
        request->body_length = strlen(request->body);
    } else if (options->body_text != NULL) {
        request->body = malloc(options->body_length + 1);
        if (request->body == NULL)
            goto fail;
        memcpy(request->body, options->body_text, options->body_length);
        request->body[options->body_length] = '\0';
        request->body_length = options->body_length;
    }
    if (options->content_type != NULL || request->body != NULL) {
        request->content_type =
            strdup(options->content_type ? options->content_type : "application/json");
        if (request->content_type == NULL)
            goto fail;
    }
    enqueue(request);
    return request;
fail:
    request_free(request);
    return NULL;
}

struct kube_request *kube_client_watch(struct kube_client *client, const char *path,
                                       const char *resource,
                                       const struct kube_watch_callbacks *callbacks,
                                       uint64_t idle_timeout_ms)
{
    return kube_client_stream(client, path, "watch", resource, callbacks, idle_timeout_ms);
}

struct kube_request *kube_client_stream(struct kube_client *client, const char *path,
                                        const char *verb, const char *resource,
                                        const struct kube_watch_callbacks *callbacks,
                                        uint64_t idle_timeout_ms)
{
    if (callbacks == NULL || callbacks->on_data == NULL || callbacks->on_end == NULL || verb == NULL)
        return NULL;
    struct kube_request *request = request_new(client, HTTP_CLIENT_GET, path, verb, resource);
    if (request == NULL)
        return NULL;
    request->watch = true;
    request->no_retry = true;
    request->watch_callbacks = *callbacks;
    request->idle_timeout_ms = idle_timeout_ms;
    enqueue(request);
    return request;
}

void kube_request_cancel(struct kube_request *request)
{
    if (request == NULL || request->cancelled || request->finishing)
        return;
    request->cancelled = true;
    if (request->state == REQUEST_IN_FLIGHT) {
        if (request->http != NULL)
            http_client_request_cancel(request->http);
    } else {
        finish_transport(request, HTTP_ERROR_CANCELLED, "cancelled");
    }
}

/* --- closing ----------------------------------------------------------------------- */

static void timer_closed(uv_handle_t *handle)
{
    struct kube_client *client = handle->data;
    void (*closed)(void *) = client->closed;
    void *closed_data = client->closed_data;
    timer_heap_free(&client->heap);
    http_client_profile_unref(client->profile);
    free(client);
    if (closed != NULL)
        closed(closed_data);
}

static void maybe_finish_close(struct kube_client *client)
{
    if (!client->closing || client->timer_closing || !list_empty(&client->requests))
        return;
    client->timer_closing = true;
    uv_timer_stop(&client->timer);
    uv_close((uv_handle_t *)&client->timer, timer_closed);
}

void kube_client_close(struct kube_client *client, void (*closed)(void *data), void *data)
{
    if (client->closing)
        return;
    client->closing = true;
    client->closed = closed;
    client->closed_data = data;
    struct kube_request *request;
    list_for_each_entry(request, &client->requests, link)
        kube_request_cancel(request);
    /* With nothing in flight, close now (the callback still comes from the loop). */
    if (list_empty(&client->requests))
        maybe_finish_close(client);
}

/* --- typed helpers ----------------------------------------------------------------- */

static struct kube_request *simple(struct kube_client *client, enum http_client_method method,
                                   const char *verb, const struct kube_resource *resource,
                                   const char *ns, const char *name, const char *subresource,
                                   const cJSON *body, const char *content_type,
                                   kube_client_cb cb, void *data)
{
    struct buffer path = {0};
    if (!kube_path(&path, resource, ns, name, subresource)) {
        buffer_free(&path);
        return NULL;
    }
    struct kube_request_options options = {
        .method = method,
        .path = buffer_string(&path),
        .verb = verb,
        .resource = resource->plural,
        .body = body,
        .content_type = content_type,
    };
    struct kube_request *request = kube_client_request(client, &options, cb, data);
    buffer_free(&path);
    return request;
}

struct kube_request *kube_client_get(struct kube_client *client,
                                     const struct kube_resource *resource, const char *ns,
                                     const char *name, kube_client_cb cb, void *data)
{
    if (name == NULL)
        return NULL;
    return simple(client, HTTP_CLIENT_GET, "get", resource, ns, name, NULL, NULL, NULL, cb, data);
}

struct kube_request *kube_client_list(struct kube_client *client,
                                      const struct kube_resource *resource, const char *ns,
                                      const struct kube_list_options *list_options,
                                      kube_client_cb cb, void *data)
{
    struct buffer path = {0};
    if (!kube_list_path(&path, resource, ns, list_options, false)) {
        buffer_free(&path);
        return NULL;
    }
    struct kube_request_options options = {
        .method = HTTP_CLIENT_GET,
        .path = buffer_string(&path),
        .verb = "list",
        .resource = resource->plural,
    };
    struct kube_request *request = kube_client_request(client, &options, cb, data);
    buffer_free(&path);
    return request;
}

struct kube_request *kube_client_create(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const cJSON *object, kube_client_cb cb, void *data)
{
    if (object == NULL)
        return NULL;
    return simple(client, HTTP_CLIENT_POST, "create", resource, ns, NULL, NULL, object, NULL, cb,
                  data);
}

struct kube_request *kube_client_update(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const char *name, const cJSON *object,
                                        kube_client_cb cb, void *data)
{
    if (name == NULL || object == NULL)
        return NULL;
    return simple(client, HTTP_CLIENT_PUT, "update", resource, ns, name, NULL, object, NULL, cb,
                  data);
}

struct kube_request *kube_client_update_status(struct kube_client *client,
                                               const struct kube_resource *resource,
                                               const char *ns, const char *name,
                                               const cJSON *object, kube_client_cb cb,
                                               void *data)
{
    if (name == NULL || object == NULL)
        return NULL;
    return simple(client, HTTP_CLIENT_PUT, "update_status", resource, ns, name, "status", object,
                  NULL, cb, data);
}

struct kube_request *kube_client_patch(struct kube_client *client,
                                       const struct kube_resource *resource, const char *ns,
                                       const char *name, const char *subresource,
                                       enum kube_patch_type type, const cJSON *patch,
                                       kube_client_cb cb, void *data)
{
    static const char *const types[] = {
        [KUBE_PATCH_MERGE] = "application/merge-patch+json",
        [KUBE_PATCH_JSON] = "application/json-patch+json",
        [KUBE_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
    };
    if (name == NULL || patch == NULL || (unsigned)type > KUBE_PATCH_STRATEGIC)
        return NULL;
    return simple(client, HTTP_CLIENT_PATCH, subresource ? "patch_status" : "patch", resource, ns,
                  name, subresource, patch, types[type], cb, data);
}

struct kube_request *kube_client_delete(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const char *name, const cJSON *options,
                                        kube_client_cb cb, void *data)
{
    if (name == NULL)
        return NULL;
    return simple(client, HTTP_CLIENT_DELETE, "delete", resource, ns, name, NULL, options, NULL,
                  cb, data);
}
