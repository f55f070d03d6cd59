/*
 * kube_client: the Kubernetes REST client, on reactor/http_client.
 *
 * Paths are built from a `struct kube_resource` (group, version, plural,
 * namespaced), so one set of calls serves every kind, built-in or custom:
 * get, list, create, update, update_status, patch (merge, JSON,
 * strategic) and delete, plus streaming watches for the informers.
 *
 * Behaviour shared by all requests
 * - One token bucket (qps/burst, default 50/100) for every request and watch
 *   start, retries included: all traffic to the API server shares it.
 * - Each attempt has a timeout (default 30 s; watches have an idle timeout
 *   instead).
 * - 429 and 5xx are retried up to max_attempts (default 10) after the
 *   server's Retry-After (capped at retry_max_ms) or else an exponential,
 *   jittered backoff; a POST is retried on 5xx only when the server sent
 *   Retry-After (it did not process the request). Connection failures are
 *   retried for every verb (nothing was sent); timeouts and broken
 *   connections only for GET. Other answers (404, 409 Conflict, 410, 422)
 *   go straight back to the caller: a conflict is the caller's to resolve.
 * - The bearer token is re-read from connection->token_file when a minute
 *   has passed since the last read, and at once after a 401 (then the
 *   request is retried once if the token changed).
 * - Non-2xx answers are decoded from their Status body into a
 *   `struct kube_error` (code, reason, message, causes, retryAfterSeconds);
 *   a body that is not a Status still gives the code and a reason derived
 *   from it.
 * - Metrics, when a registry is given: kube_client_requests_total{verb,
 *   resource,code} (code = HTTP status or transport error name),
 *   kube_client_request_duration_seconds{verb,resource} and
 *   kube_client_retries_total{verb,resource}, per attempt.
 *
 * Callbacks fire on the loop, exactly once per request that a start call
 * returned, never from inside a kube_client_* call. From a callback the user
 * may start, cancel, or close the client. kube_request_cancel makes the
 * callback fire later with transport error CANCELLED (unless it already
 * fired). kube_client_close cancels everything, then calls `closed` once all
 * callbacks have fired and the handles are closed.
 *
 * Ownership: the loop, the http_client, the connection and the metrics
 * registry are borrowed and must outlive the client (the connection's token
 * field is updated in place on reloads). Request options are copied.
 */
#ifndef WATCHERS_KUBE_CLIENT_H
#define WATCHERS_KUBE_CLIENT_H

#include "reactor/buffer.h"
#include "reactor/clock.h"
#include "reactor/http_client.h"
#include "watchers/kube_credentials.h"
#include "reactor/metrics.h"
#include "watchers/kube_resource.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct kube_client;
struct kube_request;

/* --- resources and paths --------------------------------------------------- */



/* Appends "/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]"
 * (or /apis/<group>/<version>/...) with segments percent-encoded. `ns` is
 * ignored for cluster-scoped resources; NULL or "" means all namespaces.
 * False on allocation failure. */
bool kube_path(struct buffer *out, const struct kube_resource *resource, const char *ns,
               const char *name, const char *subresource);
/* Appends "?key=value" or "&key=value", percent-encoding the value. */
bool kube_query(struct buffer *out, const char *key, const char *value);

struct kube_list_options {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version;        /* NULL: not sent */
    const char *resource_version_match;  /* "NotOlderThan", "Exact", NULL */
    const char *continue_token;
    size_t limit;                        /* 0: not sent */
    /* Watches only. */
    bool allow_bookmarks;
    unsigned timeout_seconds;            /* 0: not sent */
};

/* A collection path with the list (or, with `watch`, watch) query. */
bool kube_list_path(struct buffer *out, const struct kube_resource *resource, const char *ns,
                    const struct kube_list_options *options, bool watch);

/* --- errors --------------------------------------------------------------------- */

struct kube_cause {
    char *reason;   /* FieldValueInvalid, ... */
    char *message;
    char *field;
};

struct kube_error {
    enum http_client_error transport;  /* NONE when the server answered */
    int code;                /* HTTP status (or Status.code); 0 without an answer */
    char *reason;            /* "NotFound", "Conflict", "Expired", ...; "" when unknown */
    char *message;           /* Status.message, the body, or the transport error */
    char *details_name;      /* Status.details.name, or NULL */
    char *details_kind;      /* Status.details.kind, or NULL */
    struct kube_cause *causes;
    size_t cause_count;
    int retry_after_seconds; /* Status.details.retryAfterSeconds or the header; 0: none */
};

/* Frees everything the error holds and zeroes it; a zeroed error is valid. */
void kube_error_clear(struct kube_error *error);
/* Decodes a non-2xx answer. False only on allocation failure (the error
 * then holds at least code and transport). */
bool kube_error_decode(long status, const char *body, size_t length, struct kube_error *out);
/* "Expired"/"Gone" (410), either as an HTTP status or inside a Status. */
bool kube_error_is_gone(const struct kube_error *error);

/* --- the client ----------------------------------------------------------------- */

struct kube_client_options {
    uv_loop_t *loop;
    struct http_client *http;
    struct kube_connection *connection;  /* server, TLS, token (+ token_file) */
    const struct clock *clock;           /* NULL: the system clock */
    double qps;                          /* 0: 50 */
    unsigned burst;                      /* 0: 100 */
    unsigned max_attempts;               /* 0: 10 */
    uint64_t request_timeout_ms;         /* 0: 30 s */
    uint64_t retry_base_ms;              /* 0: 250 ms, doubling, jittered */
    uint64_t retry_max_ms;               /* 0: 30 s; also caps Retry-After */
    uint64_t token_reload_ms;            /* 0: 60 s */
    struct metrics_registry *metrics;    /* optional */
};

/* 0 and *out, or -EINVAL (missing loop/http/connection/server), -ENOMEM,
 * or a libuv error. */
int kube_client_new(const struct kube_client_options *options, struct kube_client **out);
void kube_client_close(struct kube_client *client, void (*closed)(void *data), void *data);

struct kube_client_stats {
    uint64_t requests;       /* started by the user */
    uint64_t attempts;       /* HTTP requests sent, retries included */
    uint64_t retries;
    uint64_t token_reloads;  /* reads that changed the token */
    size_t in_flight;        /* requests not yet completed */
};
void kube_client_get_stats(const struct kube_client *client, struct kube_client_stats *out);

/* --- plain requests ------------------------------------------------------------------ */

struct kube_result {
    bool ok;                 /* 2xx */
    long status;             /* HTTP status, 0 when none arrived */
    cJSON *object;           /* 2xx with a JSON body; the callback may take it (set NULL) */
    const char *body;        /* the raw body (valid during the callback); may be NULL */
    size_t body_length;
    struct kube_error error; /* when !ok */
    unsigned attempts;
};

typedef void (*kube_client_cb)(struct kube_result *result, void *data);

struct kube_request_options {
    enum http_client_method method;
    const char *path;          /* "/api/v1/..." with query */
    const char *verb;          /* metrics label; NULL: lower-case method */
    const char *resource;      /* metrics label; NULL: "other" */
    const cJSON *body;         /* serialised when set ... */
    const char *body_text;     /* ... else this text (copied) */
    size_t body_length;
    const char *content_type;  /* NULL: application/json when there is a body */
    uint64_t timeout_ms;       /* 0: the client's */
    size_t max_body_bytes;     /* 0: the http client's default */
    bool no_retry;             /* one attempt only */
};

/* NULL (and no callback) on invalid options, allocation failure or a
 * closing client. */
struct kube_request *kube_client_request(struct kube_client *client,
                                         const struct kube_request_options *options,
                                         kube_client_cb cb, void *data);
void kube_request_cancel(struct kube_request *request);

enum kube_patch_type {
    KUBE_PATCH_MERGE,      /* application/merge-patch+json */
    KUBE_PATCH_JSON,       /* application/json-patch+json */
    KUBE_PATCH_STRATEGIC,  /* application/strategic-merge-patch+json */
};

struct kube_request *kube_client_get(struct kube_client *client,
                                     const struct kube_resource *resource, const char *ns,
                                     const char *name, kube_client_cb cb, void *data);
struct kube_request *kube_client_list(struct kube_client *client,
                                      const struct kube_resource *resource, const char *ns,
                                      const struct kube_list_options *options,
                                      kube_client_cb cb, void *data);
struct kube_request *kube_client_create(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const cJSON *object, kube_client_cb cb, void *data);
/* PUT; the name comes from `name`. Send metadata.resourceVersion for
 * optimistic concurrency (409 Conflict when stale). */
struct kube_request *kube_client_update(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const char *name, const cJSON *object,
                                        kube_client_cb cb, void *data);
struct kube_request *kube_client_update_status(struct kube_client *client,
                                               const struct kube_resource *resource,
                                               const char *ns, const char *name,
                                               const cJSON *object, kube_client_cb cb,
                                               void *data);
/* `subresource` NULL or "status". */
struct kube_request *kube_client_patch(struct kube_client *client,
                                       const struct kube_resource *resource, const char *ns,
                                       const char *name, const char *subresource,
                                       enum kube_patch_type type, const cJSON *patch,
                                       kube_client_cb cb, void *data);
/* `options` may be NULL (a DeleteOptions body: preconditions, propagationPolicy). */
struct kube_request *kube_client_delete(struct kube_client *client,
                                        const struct kube_resource *resource, const char *ns,
                                        const char *name, const cJSON *options,
                                        kube_client_cb cb, void *data);

/* --- watch streams -------------------------------------------------------------------------- */

struct kube_watch_callbacks {
    /* The stream is open (200); optional. */
    void (*on_open)(void *data);
    /* Body bytes of a 200 stream, in order; return false to stop (the
     * request then ends as CANCELLED). */
    bool (*on_data)(void *data, const char *bytes, size_t length);
    /* Once, at the end: error.transport NONE and code 200 for a stream the
     * server ended; otherwise the transport failure or the decoded non-200
     * answer (410, 429, 500...). */
    void (*on_end)(void *data, const struct kube_error *error);
    void *data;
};

/* Starts a watch on `path` (from kube_list_path with watch). Goes through
 * the token bucket; never retried here. idle_timeout_ms 0: none. NULL (and
 * no callback) on failure. */
struct kube_request *kube_client_watch(struct kube_client *client, const char *path,
                                       const char *resource,
                                       const struct kube_watch_callbacks *callbacks,
                                       uint64_t idle_timeout_ms);
/* The same for any streamed GET whose body the caller reads as it arrives
 * (the informer's list pages): `verb` labels its metrics ("list"). Not
 * retried here either: the caller decides what a broken stream means. */
struct kube_request *kube_client_stream(struct kube_client *client, const char *path,
                                        const char *verb, const char *resource,
                                        const struct kube_watch_callbacks *callbacks,
                                        uint64_t idle_timeout_ms);

#endif
