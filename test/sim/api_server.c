/*
 * api_server: start/close, authentication, fault injection and dispatch.
 * The REST verbs live in api_rest.c, watch streams in api_watch.c, the
 * admin listener in api_admin.c.
 */
#include "test/sim/api_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reactor/log.h"
#include "test/sim/discovery.h"

#define DEFAULT_WATCH_MAX_QUEUED (16u * 1024u * 1024u)
#define DEFAULT_BOOKMARK_INTERVAL_MS 1000u
#define TICK_MS 100u

/* A request held back by a delay fault; its timer or the client's going
 * away ends it. */
struct api_delay {
    uv_timer_t timer;
    struct api_server *server;
    struct http_request *request;   /* NULL once the client went away */
    struct api_target target;
    bool has_target;
    struct api_fault_rule rule;
};

const char *api_verb_name(enum api_verb verb)
{
    switch (verb) {
    case API_VERB_GET: return "get";
    case API_VERB_LIST: return "list";
    case API_VERB_WATCH: return "watch";
    case API_VERB_CREATE: return "create";
    case API_VERB_UPDATE: return "update";
    case API_VERB_PATCH: return "patch";
    case API_VERB_DELETE: return "delete";
    case API_VERB_DELETE_COLLECTION: return "deletecollection";
    case API_VERB_NONE: break;
    }
    return "";
}

/* ---- responses ---- */

void api_send_text(struct http_request *request, int code, char *body)
{
    if (!body) {
        http_response_send_text(request, 500, "application/json",
                                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                "\"status\":\"Failure\",\"message\":\"Internal error occurred: "
                                "out of memory\",\"reason\":\"InternalError\",\"code\":500}");
        return;
    }
    http_response_send(request, code, "application/json", body, strlen(body));
    free(body);
}

void api_send_json(struct http_request *request, int code, const cJSON *tree)
{
    api_send_text(request, code, tree ? cJSON_PrintUnformatted(tree) : NULL);
}

void api_error_set(struct store_error *error, int code, const char *reason, const char *format,
                   ...)
{
    store_error_clear(error);
    error->code = code;
    error->reason = reason;
    va_list args;
    va_start(args, format);
    if (vasprintf(&error->message, format, args) < 0) error->message = NULL;
    va_end(args);
}

void api_error_add_cause(struct store_error *error, const char *reason, const char *field,
                         const char *message)
{
    struct store_cause *grown = realloc(error->causes, (error->cause_count + 1) * sizeof *grown);
    if (!grown) return;
    error->causes = grown;
    struct store_cause *cause = &grown[error->cause_count++];
    cause->reason = reason;
    cause->field = field ? strdup(field) : NULL;
    cause->message = message ? strdup(message) : NULL;
}

static void send_status(struct http_request *request, int code, cJSON *status)
{
    char *text = status ? cJSON_PrintUnformatted(status) : NULL;
    cJSON_Delete(status);
    api_send_text(request, code ? code : 500, text);
}

void api_send_error(struct http_request *request, struct store_error *error)
{
    int code = error->code ? error->code : 500;
    send_status(request, code, store_error_status(error));
    store_error_clear(error);
}

void api_fail(struct http_request *request, int code, const char *reason, const char *format, ...)
{
    struct store_error error = { 0 };
    error.code = code;
    error.reason = reason;
    va_list args;
    va_start(args, format);
    if (vasprintf(&error.message, format, args) < 0) error.message = NULL;
    va_end(args);
    api_send_error(request, &error);
}

void api_not_found(struct http_request *request)
{
    api_fail(request, 404, "NotFound", "the server could not find the requested resource");
}

const struct api_renderer *api_renderer_for(struct api_server *server,
                                            const struct api_render_request *render,
                                            const char **content_type)
{
    *content_type = "application/json";
    if (!server->has_renderer || !server->renderer.accepts) return NULL;
    const char *type = NULL;
    if (!server->renderer.accepts(server->renderer.data, render, &type)) return NULL;
    if (type) *content_type = type;
    return &server->renderer;
}

/* ---- faults ---- */

static const char *reason_for(int code)
{
    switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
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

static const char *default_message(int code)
{
    switch (code) {
    case 429: return "Too many requests, please try again later.";
    case 500: return "Internal error occurred: injected by kubesim";
    case 503: return "the server is currently unable to handle the request";
    case 504: return "the server was unable to return a response in the time allotted, but may "
                     "still be processing the request";
    case 409: return "Operation cannot be fulfilled: injected by kubesim";
    default: return "injected by kubesim";
    }
}

static void send_fault(struct http_request *request, const struct api_fault_rule *rule)
{
    struct store_error error = { 0 };
    error.code = rule->code;
    error.reason = reason_for(rule->code);
    error.message = strdup(rule->message[0] ? rule->message : default_message(rule->code));
    cJSON *status = store_error_status(&error);
    store_error_clear(&error);
    if (status && rule->retry_after_seconds > 0) {
        /* details before code, as the real server orders them. */
        cJSON *code = cJSON_DetachItemFromObjectCaseSensitive(status, "code");
        cJSON *details = cJSON_AddObjectToObject(status, "details");
        if (details) cJSON_AddNumberToObject(details, "retryAfterSeconds", rule->retry_after_seconds);
        if (code) cJSON_AddItemToObject(status, "code", code);
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", rule->retry_after_seconds);
        http_response_header(request, "Retry-After", seconds);
    }
    send_status(request, rule->code, status);
}

bool api_server_add_fault(struct api_server *server, const struct api_fault *fault)
{
    if (fault->code != 0 && (fault->code < 400 || fault->code > 599)) return false;
    if (fault->code == 0 && fault->delay_ms == 0) return false;
    struct api_fault_rule rule = { 0 };
    snprintf(rule.verb, sizeof rule.verb, "%s", fault->verb ? fault->verb : "");
    snprintf(rule.resource, sizeof rule.resource, "%s", fault->resource ? fault->resource : "");
    rule.remaining = fault->count ? fault->count : 1;
    rule.code = fault->code;
    rule.retry_after_seconds = fault->retry_after_seconds;
    rule.delay_ms = fault->delay_ms;
    snprintf(rule.message, sizeof rule.message, "%s", fault->message ? fault->message : "");
    struct api_fault_rule *grown =
        realloc(server->faults, (server->fault_count + 1) * sizeof *grown);
    if (!grown) return false;
    server->faults = grown;
    grown[server->fault_count++] = rule;
    return true;
}

void api_server_clear_faults(struct api_server *server)
{
    free(server->faults);
    server->faults = NULL;
    server->fault_count = 0;
}

/* Takes one use of the first matching rule into *out; false when none matches. */
static bool take_fault(struct api_server *server, enum api_verb verb, const char *plural,
                       struct api_fault_rule *out)
{
    const char *verb_name = api_verb_name(verb);
    for (size_t i = 0; i < server->fault_count; i++) {
        struct api_fault_rule *rule = &server->faults[i];
        if (rule->verb[0] && strcmp(rule->verb, verb_name) != 0) continue;
        if (rule->resource[0] && strcmp(rule->resource, plural) != 0) continue;
        *out = *rule;
        if (--rule->remaining == 0) {
            memmove(rule, rule + 1, (server->fault_count - i - 1) * sizeof *rule);
            server->fault_count--;
        }
        return true;
    }
    return false;
}

/* ---- dispatch ---- */

static bool is_public(const char *path)
{
    return strcmp(path, "/version") == 0 || strcmp(path, "/healthz") == 0 ||
           strcmp(path, "/livez") == 0 || strcmp(path, "/readyz") == 0 ||
           strncmp(path, "/healthz/", 9) == 0 || strncmp(path, "/livez/", 7) == 0 ||
           strncmp(path, "/readyz/", 8) == 0;
}

static void serve_public(struct http_request *request)
{
    if (strcmp(http_request_path(request), "/version") == 0) {
        cJSON *version = discovery_version();
        api_send_json(request, 200, version);
        cJSON_Delete(version);
        return;
    }
    http_response_send_text(request, 200, "text/plain; charset=utf-8", "ok");
}

static bool authorized(const struct api_server *server, struct http_request *request)
{
    if (!server->token) return true;
    const char *header = http_request_header(request, "Authorization");
    if (!header || strncasecmp(header, "Bearer ", 7) != 0) return false;
    const char *token = header + 7;
    while (*token == ' ') token++;
    size_t length = strlen(token);
    while (length && (token[length - 1] == ' ' || token[length - 1] == '\t')) length--;
    return length == strlen(server->token) && memcmp(token, server->token, length) == 0;
}

static void serve(struct api_server *server, struct http_request *request,
                  struct api_target *target, bool has_target)
{
    if (has_target) {
        if (target->resource)
            api_rest_serve(server, request, target);
        else
            api_not_found(request);
        return;
    }
    if (!api_meta_serve(server, request)) api_not_found(request);
}

static void delay_closed(uv_handle_t *handle)
{
    struct api_delay *delay = handle->data;
    if (delay->has_target) api_target_free(&delay->target);
    free(delay);
}

static void delay_gone(struct http_request *request, void *data)
{
    (void)request;
    struct api_delay *delay = data;
    delay->request = NULL;
    uv_timer_stop(&delay->timer);
    uv_close((uv_handle_t *)&delay->timer, delay_closed);
}

static void delay_fired(uv_timer_t *timer)
{
    struct api_delay *delay = timer->data;
    struct api_server *server = delay->server;
    struct http_request *request = delay->request;
    uv_close((uv_handle_t *)&delay->timer, delay_closed);
    if (!request) return;
    http_request_on_gone(request, NULL, NULL);
    if (delay->rule.code)
        send_fault(request, &delay->rule);
    else
        serve(server, request, &delay->target, delay->has_target);
}

static void handle(struct http_request *request, void *data)
{
    struct api_server *server = data;
    server->requests++;
    const char *path = http_request_path(request);
    if (is_public(path)) {
        serve_public(request);
        return;
    }
    if (!authorized(server, request)) {
        api_fail(request, 401, "Unauthorized", "Unauthorized");
        return;
    }
    struct api_target target;
    bool has_target = api_target_parse(server, request, &target);
    struct api_fault_rule rule;
    if (server->fault_count &&
        take_fault(server, has_target ? target.verb : API_VERB_NONE,
                   has_target && target.resource ? target.resource->plural : "", &rule)) {
        if (rule.delay_ms == 0) {
            if (has_target) api_target_free(&target);
            send_fault(request, &rule);
            return;
        }
        struct api_delay *delay = calloc(1, sizeof *delay);
        if (!delay || uv_timer_init(server->loop, &delay->timer) != 0) {
            free(delay);
            if (has_target) api_target_free(&target);
            api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
            return;
        }
        delay->server = server;
        delay->request = request;
        delay->target = target;
        delay->has_target = has_target;
        delay->rule = rule;
        delay->timer.data = delay;
        http_request_on_gone(request, delay_gone, delay);
        uv_timer_start(&delay->timer, delay_fired, rule.delay_ms, 0);
        return;
    }
    serve(server, request, &target, has_target);
    if (has_target) api_target_free(&target);
}

/* ---- lifetime ---- */

static void on_tick(uv_timer_t *timer)
{
    api_watch_tick(timer->data);
}

static void release(struct api_server *server)
{
    free(server->faults);
    free(server->token);
    free(server);
}

struct api_server *api_server_start(uv_loop_t *loop, struct store *store,
                                    const struct api_server_options *options)
{
    struct api_server *server = calloc(1, sizeof *server);
    if (!server) return NULL;
    server->loop = loop;
    list_init(&server->watches);
    server->store = store;
    server->watch_max_queued =
        options->watch_max_queued_bytes ? options->watch_max_queued_bytes : DEFAULT_WATCH_MAX_QUEUED;
    server->bookmark_interval_ms =
        options->bookmark_interval_ms ? options->bookmark_interval_ms : DEFAULT_BOOKMARK_INTERVAL_MS;
    server->random = uv_hrtime() | 1;
    if (options->renderer) {
        server->renderer = *options->renderer;
        server->has_renderer = true;
    }
    if (options->token && options->token[0]) {
        server->token = strdup(options->token);
        if (!server->token) {
            release(server);
            return NULL;
        }
    }
    struct http_server_options http = {
        .host = options->host,
        .port = options->port,
        .tls_cert_pem = options->tls_cert_pem,
        .tls_key_pem = options->tls_key_pem,
        .max_body_bytes = options->max_body_bytes,
        .max_connections = 4096,
    };
    int rc = http_server_start(loop, &http, &server->http);
    if (rc != 0) {
        log_error("kubesim api listen failed", "host=%s port=%d error=%s",
                  options->host ? options->host : "127.0.0.1", options->port, uv_strerror(rc));
        release(server);
        return NULL;
    }
    http_server_set_default_handler(server->http, handle, server);
    server->listening = true;
    if (options->admin) {
        rc = api_admin_start(server, options->admin_host, options->admin_port);
        if (rc != 0) {
            log_error("kubesim admin listen failed", "port=%d error=%s", options->admin_port,
                      uv_strerror(rc));
            /* Only the listeners are open yet: close them, then free. */
            if (server->admin) http_server_close(server->admin, NULL, NULL);
            http_server_close(server->http, NULL, NULL);
            release(server);
            return NULL;
        }
    }
    uv_timer_init(loop, &server->tick);
    server->tick.data = server;
    uv_timer_start(&server->tick, on_tick, TICK_MS, TICK_MS);
    return server;
}

static void one_closed(struct api_server *server)
{
    if (--server->pending_closes > 0) return;
    api_server_closed_fn closed = server->closed;
    void *data = server->closed_data;
    release(server);
    if (closed) closed(data);
}

static void http_closed(void *data) { one_closed(data); }
static void tick_closed(uv_handle_t *handle) { one_closed(handle->data); }

void api_server_close(struct api_server *server, api_server_closed_fn closed, void *data)
{
    if (server->closing) return;
    server->closing = true;
    server->closed = closed;
    server->closed_data = data;
    /* Store watches stop now, so the store may go away right after `closed`. */
    api_watch_detach_all(server);
    server->pending_closes = 2 + (server->admin ? 1 : 0);
    uv_timer_stop(&server->tick);
    uv_close((uv_handle_t *)&server->tick, tick_closed);
    if (server->admin) http_server_close(server->admin, http_closed, server);
    http_server_close(server->http, http_closed, server);
}

int api_server_port(const struct api_server *server) { return http_server_port(server->http); }

int api_server_admin_port(const struct api_server *server)
{
    return server->admin ? http_server_port(server->admin) : 0;
}

bool api_server_is_tls(const struct api_server *server) { return http_server_is_tls(server->http); }

void api_server_set_renderer(struct api_server *server, const struct api_renderer *renderer)
{
    server->has_renderer = renderer != NULL;
    if (renderer) server->renderer = *renderer;
    else memset(&server->renderer, 0, sizeof server->renderer);
}

void api_server_get_stats(const struct api_server *server, struct api_server_stats *out)
{
    memset(out, 0, sizeof *out);
    out->watches = server->watch_count;
    out->watches_started = server->watches_started;
    out->watches_aborted = server->watches_aborted;
    out->watch_queued_peak = server->watch_queued_peak;
    out->requests = server->requests;
    out->connections = http_server_connection_count(server->http);
    out->faults = server->fault_count;
    out->listening = server->listening;
}

size_t api_server_close_watches(struct api_server *server) { return api_watch_close_all(server); }

size_t api_server_send_bookmarks(struct api_server *server) { return api_watch_bookmark_all(server); }

int api_server_admin_route(struct api_server *server, const char *method, const char *path,
                           http_handler_fn handler, void *data)
{
    if (!server->admin) return -ENOENT;
    return http_server_route(server->admin, method, path, handler, data);
}

int api_server_admin_route_prefix(struct api_server *server, const char *method, const char *prefix,
                                  http_handler_fn handler, void *data)
{
    if (!server->admin) return -ENOENT;
    return http_server_route_prefix(server->admin, method, prefix, handler, data);
}

void api_server_stop_listening(struct api_server *server)
{
    if (!server->listening) return;
    http_server_stop_listening(server->http);
    server->listening = false;
}

int api_server_resume_listening(struct api_server *server)
{
    if (server->listening) return 0;
    int rc = http_server_resume_listening(server->http);
    if (rc == 0) server->listening = true;
    return rc;
}
