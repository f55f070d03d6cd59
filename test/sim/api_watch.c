/*
 * api_watch: watch streams (kube-api.md §6). One store watch per stream; the
 * store calls back synchronously inside each write, and every event becomes
 * one chunk `{"type":T,"object":O}\n` on the connection. Periodic duties
 * (timeouts, bookmarks, slow consumers) run from the server's tick.
 *
 * A watch ends in one of three ways:
 *   - cleanly (timeout, admin close, 410): store watch stopped, stream ended
 *     (the request is freed by http_response_end), struct freed at once;
 *   - aborted (slow consumer, broken connection): store watch stopped,
 *     connection closed; the struct is freed by the gone callback;
 *   - the client went away: the gone callback stops and frees everything.
 */
#include "test/sim/api_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/buffer.h"
#include "reactor/list.h"
#include "test/sim/selector.h"

struct api_watch {
    struct list_node link;   /* in the server's watches */
    struct api_server *server;
    struct http_request *request;
    struct store_watch *store_watch;
    const struct resource *resource;
    struct selector *labels;
    struct field_selector *fields;
    char *name;
    char *accept;
    char *include_object;
    const struct api_renderer *renderer;  /* NULL: plain JSON */
    bool bookmarks;
    bool first;
    bool replaying;
    bool aborting;   /* waiting for the gone callback */
    uint64_t deadline;
    uint64_t last_bookmark_at;
    uint64_t last_rv;
};

static void watch_unlink(struct api_watch *watch)
{
    list_remove(&watch->link);
    watch->server->watch_count--;
}

static void watch_free(struct api_watch *watch)
{
    selector_free(watch->labels);
    field_selector_free(watch->fields);
    free(watch->name);
    free(watch->accept);
    free(watch->include_object);
    free(watch);
}

static void stop_store_watch(struct api_watch *watch)
{
    if (!watch->store_watch) return;
    store_watch_stop(watch->server->store, watch->store_watch);
    watch->store_watch = NULL;
}

/* Closes the connection; the gone callback frees the watch later. */
static void watch_abort(struct api_watch *watch, bool slow)
{
    if (watch->aborting) return;
    watch->aborting = true;
    if (slow) watch->server->watches_aborted++;
    /* Inside the replay the store has not handed out the watch yet; the
     * starter stops it once store_watch_start returns. */
    if (!watch->replaying) stop_store_watch(watch);
    http_response_abort(watch->request);
}

static void watch_gone(struct http_request *request, void *data)
{
    (void)request;
    struct api_watch *watch = data;
    stop_store_watch(watch);
    watch_unlink(watch);
    watch_free(watch);
}

/* Writes one line; aborts the watch when the client does not keep up. */
static void write_line(struct api_watch *watch, const char *type, const char *object)
{
    if (watch->aborting) return;
    struct buffer line = { 0 };
    bool ok = buffer_append_string(&line, "{\"type\":\"") && buffer_append_string(&line, type) &&
              buffer_append_string(&line, "\",\"object\":") && buffer_append_string(&line, object) &&
              buffer_append_string(&line, "}\n");
    int rc = ok ? http_response_write_chunk(watch->request, line.data, line.length) : -1;
    buffer_free(&line);
    if (rc != 0) {
        watch_abort(watch, false);
        return;
    }
    size_t queued = http_response_queued_bytes(watch->request);
    if (queued > watch->server->watch_queued_peak) watch->server->watch_queued_peak = queued;
    if (queued > watch->server->watch_max_queued) watch_abort(watch, true);
}

static const char *event_type_name(enum store_event_type type)
{
    switch (type) {
    case STORE_EVENT_ADDED: return "ADDED";
    case STORE_EVENT_MODIFIED: return "MODIFIED";
    case STORE_EVENT_DELETED: return "DELETED";
    }
    return "ERROR";
}

static void on_event(const struct store_event *event, void *data)
{
    struct api_watch *watch = data;
    if (watch->aborting) return;
    if (event->resource_version > watch->last_rv) watch->last_rv = event->resource_version;
    if (watch->renderer) {
        struct api_render_request render = { watch->resource, watch->accept, watch->include_object };
        char *text = watch->renderer->watch_object(watch->renderer->data, &render, event->object,
                                                   watch->first);
        watch->first = false;
        if (!text) {
            watch_abort(watch, false);
            return;
        }
        write_line(watch, event_type_name(event->type), text);
        free(text);
        return;
    }
    const char *json = store_object_json(event->object);
    if (!json) {
        watch_abort(watch, false);
        return;
    }
    write_line(watch, event_type_name(event->type), json);
}

static void send_bookmark(struct api_watch *watch, uint64_t resource_version)
{
    char object[512];
    snprintf(object, sizeof object,
             "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%" PRIu64
             "\"}}",
             watch->resource->kind, watch->resource->group_version, resource_version);
    write_line(watch, "BOOKMARK", object);
    watch->last_bookmark_at = uv_now(watch->server->loop);
    if (resource_version > watch->last_rv) watch->last_rv = resource_version;
}

/* Ends the stream cleanly and frees the watch (never from inside a store callback). */
static void watch_end(struct api_watch *watch, bool bookmark)
{
    if (bookmark && watch->bookmarks) {
        uint64_t current = store_resource_version(watch->server->store);
        send_bookmark(watch, current > watch->last_rv ? current : watch->last_rv);
    }
    if (watch->aborting) return;  /* the bookmark write found a slow or broken client */
    stop_store_watch(watch);
    http_request_on_gone(watch->request, NULL, NULL);
    http_response_end(watch->request);
    watch_unlink(watch);
    watch_free(watch);
}

static bool watch_match(const cJSON *object, void *data)
{
    const struct api_watch *watch = data;
    if (watch->labels && !selector_matches_object(watch->labels, object)) return false;
    if (watch->fields && !field_selector_matches(watch->fields, object)) return false;
    if (watch->name) {
        const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(object, "metadata");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(metadata, "name");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, watch->name) != 0) return false;
    }
    return true;
}

void api_watch_serve(struct api_server *server, struct http_request *request,
                     const struct resource *resource, const char *namespace,
                     struct api_watch_params *params)
{
    struct api_watch *watch = calloc(1, sizeof *watch);
    const char *accept = http_request_header(request, "Accept");
    const char *include_object = http_request_query_param(request, "includeObject");
    if (watch) {
        watch->name = params->name ? strdup(params->name) : NULL;
        watch->accept = accept ? strdup(accept) : NULL;
        watch->include_object = include_object ? strdup(include_object) : NULL;
    }
    if (!watch || (params->name && !watch->name) || (accept && !watch->accept) ||
        (include_object && !watch->include_object)) {
        if (watch) watch_free(watch);
        selector_free(params->labels);
        field_selector_free(params->fields);
        api_fail(request, 500, "InternalError", "Internal error occurred: out of memory");
        return;
    }
    watch->server = server;
    watch->request = request;
    watch->resource = resource;
    watch->labels = params->labels;
    watch->fields = params->fields;
    params->labels = NULL;
    params->fields = NULL;
    watch->bookmarks = params->bookmarks;
    watch->first = true;
    uint64_t now = uv_now(server->loop);
    watch->deadline = now + params->timeout_ms;
    watch->last_bookmark_at = now;
    if (params->resource_version) {
        char *end = NULL;
        unsigned long long rv = strtoull(params->resource_version, &end, 10);
        if (end && *end == '\0') watch->last_rv = rv;
    }
    struct api_render_request render = { resource, watch->accept, watch->include_object };
    const char *content_type = "application/json";
    const struct api_renderer *renderer = api_renderer_for(server, &render, &content_type);
    watch->renderer = renderer && renderer->watch_object ? renderer : NULL;
    if (!watch->renderer) content_type = "application/json";

    list_insert_head(&server->watches, &watch->link);
    server->watch_count++;
    server->watches_started++;
    http_request_on_gone(request, watch_gone, watch);
    /* Headers go out at once: clients block until they arrive (§6.2). */
    if (http_response_begin_stream(request, 200, content_type) != 0) {
        watch->aborting = true;  /* the gone callback will free it */
        return;
    }
    struct store_watch_options options = {
        .namespace = namespace,
        .resource_version = params->resource_version,
        .match = (watch->labels || watch->fields || watch->name) ? watch_match : NULL,
        .match_data = watch,
    };
    struct store_error error = { 0 };
    watch->replaying = true;
    struct store_watch *store_watch =
        store_watch_start(server->store, resource, &options, on_event, watch, &error);
    watch->replaying = false;
    if (!store_watch) {
        /* As the real cacher: 200, then one ERROR event with the Status (410 Expired). */
        cJSON *status = store_error_status(&error);
        char *text = status ? cJSON_PrintUnformatted(status) : NULL;
        cJSON_Delete(status);
        store_error_clear(&error);
        if (text) write_line(watch, "ERROR", text);
        free(text);
        if (!watch->aborting) watch_end(watch, false);
        return;
    }
    watch->store_watch = store_watch;
    if (watch->aborting) stop_store_watch(watch);
}

void api_watch_tick(struct api_server *server)
{
    uint64_t now = uv_now(server->loop);
    uint64_t current = store_resource_version(server->store);
    struct api_watch *watch, *spare;
    list_for_each_entry_safe(watch, spare, &server->watches, link) {
        if (watch->aborting) continue;
        if (now >= watch->deadline) {
            watch_end(watch, true);
            continue;
        }
        if (watch->bookmarks && now - watch->last_bookmark_at >= server->bookmark_interval_ms) {
            /* Like the cacher: a bookmark only when it tells the client something new. */
            if (current > watch->last_rv) send_bookmark(watch, current);
            else watch->last_bookmark_at = now;
            if (watch->aborting) continue;
        }
        if (http_response_queued_bytes(watch->request) > server->watch_max_queued)
            watch_abort(watch, true);
    }
}

size_t api_watch_close_all(struct api_server *server)
{
    size_t closed = 0;
    struct api_watch *watch, *spare;
    list_for_each_entry_safe(watch, spare, &server->watches, link) {
        if (watch->aborting) continue;
        watch_end(watch, false);
        closed++;
    }
    return closed;
}

size_t api_watch_bookmark_all(struct api_server *server)
{
    size_t sent = 0;
    uint64_t current = store_resource_version(server->store);
    struct api_watch *watch, *spare;
    list_for_each_entry_safe(watch, spare, &server->watches, link) {
        if (watch->aborting || !watch->bookmarks) continue;
        send_bookmark(watch, current > watch->last_rv ? current : watch->last_rv);
        sent++;
    }
    return sent;
}

void api_watch_detach_all(struct api_server *server)
{
    struct api_watch *watch;
    list_for_each_entry(watch, &server->watches, link) {
        stop_store_watch(watch);
        watch->aborting = true;  /* nothing more is written; the close drops the connection */
    }
}
