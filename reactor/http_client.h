/*
 * http_client: every outbound HTTP call of the process (API server incl.
 * long-lived watch streams, PD, TiDB status) on one libcurl multi handle
 * driven by the libuv loop (one uv_poll per socket, one uv_timer). HTTP/2 is
 * used where a TLS server offers it (requests multiplex on one connection);
 * otherwise connections are kept alive and reused.
 *
 * Ownership
 * - The caller owns the loop; http_client_init borrows it. The client owns
 *   its curl and uv handles; http_client_close cancels every request still in
 *   flight, closes everything, then calls `on_closed`. Run the loop until
 *   then; the client pointer is invalid once `on_closed` runs.
 * - A `struct http_client_profile` (base URL, TLS, bearer token) is reference
 *   counted: http_client_profile_create copies every string and PEM blob;
 *   each request holds a reference while in flight, so the creator may drop
 *   its own reference at any time.
 * - http_client_request_start copies the URL, headers and token. The body is
 *   copied unless `take_body` is set: then it must be malloc'd and the client
 *   frees it (also when the start fails). Set Content-Type yourself.
 *
 * Callbacks (all on the loop thread)
 * - on_complete fires exactly once for every request that
 *   http_client_request_start returned, and never from inside
 *   http_client_request_start, http_client_request_cancel or
 *   http_client_close (it is deferred to the loop). The request and the
 *   response are valid until on_complete returns; then the request is freed.
 * - Streaming mode (`on_data` set): on_headers fires once the final response
 *   headers are in (before the first chunk; never if the transfer fails
 *   before any headers), on_data gets each body chunk as it arrives whatever
 *   the status; returning false cancels the transfer. The response given to
 *   on_complete then has no body.
 * - Buffered mode (`on_data` NULL): the body is collected up to
 *   `max_body_bytes` (beyond it the request fails with HTTP_ERROR_TOO_LARGE)
 *   and handed to on_complete.
 * - From inside any callback the caller may start requests, cancel any
 *   request (including the current one) and close the client.
 *
 * Errors: `error` is the transport outcome. A non-2xx answer is not an
 * error: error is HTTP_ERROR_NONE and status and body are delivered.
 * http_client_request_cancel and http_client_close make on_complete fire
 * with HTTP_ERROR_CANCELLED (unless the request had already finished).
 *
 * Proxies are honoured from the environment (http_proxy, https_proxy,
 * no_proxy) as libcurl does by default. Redirects are not followed (a 3xx is
 * delivered like any other status). Only http:// and https:// URLs are used.
 * Beyond max_connections_per_host, requests wait inside libcurl for a free
 * connection (over HTTP/1.1 every open watch stream holds one).
 */
#ifndef REACTOR_HTTP_CLIENT_H
#define REACTOR_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "reactor/http_error.h"

struct http_client;
struct http_client_request;
struct http_client_profile;

enum http_client_method {
    HTTP_CLIENT_GET,
    HTTP_CLIENT_POST,
    HTTP_CLIENT_PUT,
    HTTP_CLIENT_PATCH,
    HTTP_CLIENT_DELETE,
};

const char *http_client_method_name(enum http_client_method method);

struct http_client_options {
    unsigned max_connections_per_host; /* 0: 32 (HTTP/1.1 watches each hold one) */
    unsigned max_total_connections;    /* 0: 256 */
    size_t default_max_body_bytes;     /* 0: 64 MiB */
    uint64_t default_connect_timeout_ms; /* 0: 10 s */
    const char *user_agent;            /* copied; NULL: "tidb-operator-c" */
};

struct http_client_stats {
    uint64_t in_flight;          /* started and not yet completed */
    uint64_t started;            /* every request ever started */
    uint64_t completed;          /* on_complete calls, whatever the outcome */
    uint64_t failed;             /* completed with an error other than CANCELLED */
    uint64_t cancelled;          /* completed with HTTP_ERROR_CANCELLED */
    uint64_t connections_opened; /* new connections, summed over transfers */
};

/* NULL on failure (allocation, libcurl or libuv init). */
struct http_client *http_client_init(uv_loop_t *loop, const struct http_client_options *options);
/* Cancels everything in flight (each on_complete fires once, CANCELLED),
 * closes every handle, then calls on_closed(user_data). Call once. */
void http_client_close(struct http_client *client, void (*on_closed)(void *user_data),
                       void *user_data);
void http_client_get_stats(const struct http_client *client, struct http_client_stats *out);

/* --- connection profile: where and how to connect -------------------------- */

struct http_client_profile_options {
    const char *base_url;     /* "https://10.0.0.1:6443"; relative request URLs are appended */
    const char *bearer_token; /* sent as "Authorization: Bearer <token>" */
    /* Trust: a CA bundle file or PEM data; with either, only that CA is trusted. */
    const char *ca_file;
    const char *ca_pem;
    /* Client certificate and key: each as a file or PEM data. */
    const char *cert_file;
    const char *cert_pem;
    const char *key_file;
    const char *key_pem;
    bool insecure_skip_verify; /* never verify the server: only when explicitly configured */
};

/* Copies everything; NULL on allocation failure. Starts with one reference. */
struct http_client_profile *http_client_profile_create(
    const struct http_client_profile_options *options);
struct http_client_profile *http_client_profile_ref(struct http_client_profile *profile);
void http_client_profile_unref(struct http_client_profile *profile);
/* For later requests (rotated service-account tokens); NULL clears. False on OOM. */
bool http_client_profile_set_bearer_token(struct http_client_profile *profile, const char *token);

/* --- requests -------------------------------------------------------------- */

struct http_client_response {
    enum http_client_error error;
    const char *error_message; /* human text (libcurl's), "" when error is NONE */
    long status;               /* 0 when no response arrived */
    const char *body;          /* buffered mode: NUL-terminated, else NULL */
    size_t body_length;
    uint64_t connections_opened; /* new connections this transfer opened (0: reused) */
    long http_version;         /* 1 or 2 (major), 0 if unknown */
    struct http_client_request *request;
};

/* A response header (name case-insensitive), NULL if absent; first if repeated.
 * Valid while the response is. */
const char *http_client_response_header(const struct http_client_response *response,
                                        const char *name);
/* Iterates in arrival order: index from 0 until false. */
bool http_client_response_header_at(const struct http_client_response *response, size_t index,
                                    const char **name, const char **value);
/* Buffered mode, no error: hands the body to the caller (free() it; "" when
 * empty); response->body is NULL afterwards. NULL otherwise or on OOM. */
char *http_client_response_take_body(struct http_client_response *response);

typedef void (*http_client_headers_cb)(struct http_client_request *request,
                                      const struct http_client_response *response,
                                      void *user_data);
typedef bool (*http_client_data_cb)(struct http_client_request *request, const char *data,
                                    size_t length, void *user_data);
typedef void (*http_client_complete_cb)(struct http_client_request *request,
                                        struct http_client_response *response, void *user_data);

struct http_client_request_options {
    enum http_client_method method;
    const char *url;                /* absolute, or a path appended to profile->base_url */
    struct http_client_profile *profile; /* optional; referenced while in flight */
    const char *const *headers;     /* NULL-terminated "Name: value" lines, or NULL */
    const char *bearer_token;       /* overrides the profile's token */
    const void *body;               /* NULL: no body */
    size_t body_length;
    bool take_body;                 /* body is malloc'd and becomes the client's */
    uint64_t timeout_ms;            /* whole transfer; 0: none (watches) */
    uint64_t connect_timeout_ms;    /* 0: the client's default */
    /* TIMEOUT when no byte (header or body) arrives for this long, counted
     * from the start, so waiting for a free connection counts too; 0: none. */
    uint64_t idle_timeout_ms;
    size_t max_body_bytes;          /* buffered mode; 0: the client's default */
    http_client_headers_cb on_headers; /* streaming mode only, optional */
    http_client_data_cb on_data;       /* set: streaming mode */
    http_client_complete_cb on_complete; /* required */
    void *user_data;
};

/* NULL (and no callback ever) on invalid options, allocation failure or a
 * closing client. */
struct http_client_request *http_client_request_start(
    struct http_client *client, const struct http_client_request_options *options);
/* Stops the request; on_complete fires later with CANCELLED. No effect once
 * the request has finished (e.g. from inside its own on_complete). */
void http_client_request_cancel(struct http_client_request *request);
void *http_client_request_user_data(const struct http_client_request *request);

#endif
