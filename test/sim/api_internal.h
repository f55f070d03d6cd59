/*
 * api_internal: what the parts of the API front share (api_server.c: start,
 * close, auth, faults, dispatch; api_rest.c: the REST verbs; api_watch.c:
 * watch streams; api_admin.c: the admin listener). Not for other modules.
 */
#ifndef TEST_SIM_API_INTERNAL_H
#define TEST_SIM_API_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "reactor/http_server.h"
#include "reactor/list.h"
#include "test/sim/api_server.h"
#include "test/sim/store.h"

enum api_verb {
    API_VERB_NONE,  /* discovery, openapi, ... */
    API_VERB_GET,
    API_VERB_LIST,
    API_VERB_WATCH,
    API_VERB_CREATE,
    API_VERB_UPDATE,
    API_VERB_PATCH,
    API_VERB_DELETE,
    API_VERB_DELETE_COLLECTION,
};

const char *api_verb_name(enum api_verb verb);

/* A parsed resource request: /api/v1/namespaces/ns/pods/name/status. */
struct api_target {
    const struct resource *resource; /* NULL: not a resource path */
    char *path;                      /* owned copy the strings below point into */
    const char *group;
    const char *version;
    const char *namespace;           /* NULL: none in the URL */
    const char *name;                /* NULL: a collection */
    const char *subresource;         /* NULL: the main resource */
    enum api_verb verb;
    bool not_found;                  /* a resource-shaped path nothing serves */
};

struct api_fault_rule {
    char verb[24];
    char resource[128];
    unsigned remaining;
    int code;
    int retry_after_seconds;
    uint64_t delay_ms;
    char message[256];
};

struct api_watch;
struct api_delay;

struct api_server {
    uv_loop_t *loop;
    struct store *store;
    struct http_server *http;
    struct http_server *admin;
    char *token;
    size_t watch_max_queued;
    uint64_t bookmark_interval_ms;
    struct api_renderer renderer;
    bool has_renderer;
    bool listening;
    uv_timer_t tick;
    struct list_node watches;    /* struct api_watch */
    size_t watch_count;
    struct api_fault_rule *faults;
    size_t fault_count;
    uint64_t watches_started;
    uint64_t watches_aborted;
    size_t watch_queued_peak;
    uint64_t requests;
    uint64_t random;
    bool closing;
    int pending_closes;
    api_server_closed_fn closed;
    void *closed_data;
};

/* ---- responses (api_server.c) ---- */

/* Sends `body` (taken, freed) as application/json. */
void api_send_text(struct http_request *request, int code, char *body);
/* Sends the tree (borrowed) as application/json. */
void api_send_json(struct http_request *request, int code, const cJSON *tree);
/* Sends the error's Status (and clears the error). */
void api_send_error(struct http_request *request, struct store_error *error);
/* Fills an error (clearing it first). */
void api_error_set(struct store_error *error, int code, const char *reason, const char *format,
                   ...) __attribute__((format(printf, 4, 5)));
/* Adds a cause (strings copied). */
void api_error_add_cause(struct store_error *error, const char *reason, const char *field,
                         const char *message);
/* Sends an error in one call. */
void api_fail(struct http_request *request, int code, const char *reason, const char *format,
              ...) __attribute__((format(printf, 4, 5)));
/* Sends a 404 "the server could not find the requested resource". */
void api_not_found(struct http_request *request);

/* ---- REST (api_rest.c) ---- */

/* Parses the request's path into *target (free with api_target_free).
 * Returns false when the path is not under /api or /apis at all. */
bool api_target_parse(struct api_server *server, struct http_request *request,
                      struct api_target *target);
void api_target_free(struct api_target *target);
/* Serves a resource request whose target was parsed (target->resource set). */
void api_rest_serve(struct api_server *server, struct http_request *request,
                    const struct api_target *target);
/* Serves discovery and openapi paths; false when the path is neither. */
bool api_meta_serve(struct api_server *server, struct http_request *request);

/* The renderer for this request, or NULL for plain JSON; sets *content_type. */
const struct api_renderer *api_renderer_for(struct api_server *server,
                                            const struct api_render_request *render,
                                            const char **content_type);

/* ---- watches (api_watch.c) ---- */

struct api_watch_params {
    const char *resource_version;
    bool bookmarks;
    uint64_t timeout_ms;
    struct selector *labels;        /* taken */
    struct field_selector *fields;  /* taken */
    const char *name;               /* single-object watch; copied */
};

/* Starts a watch stream on `request` (takes the selectors in params). */
void api_watch_serve(struct api_server *server, struct http_request *request,
                     const struct resource *resource, const char *namespace,
                     struct api_watch_params *params);
/* Periodic duties: timeouts, bookmarks, slow consumers. */
void api_watch_tick(struct api_server *server);
size_t api_watch_close_all(struct api_server *server);
size_t api_watch_bookmark_all(struct api_server *server);
/* Stops every store watch (server closing); the streams die with their connections. */
void api_watch_detach_all(struct api_server *server);

/* ---- admin (api_admin.c) ---- */

int api_admin_start(struct api_server *server, const char *host, int port);

#endif
