/*
 * pd_http: the HTTP answers of a simulated cluster's PD (client port 2379),
 * TiDB status port (10080) and TiKV status port (20180), computed from a
 * pd_model. No sockets: a request goes in, a complete response comes out, so
 * the proxy (or a test) decides how it travels. Shapes, status codes and
 * error strings follow /work/shared/reference/pd-api.md:
 *
 * - PD bodies are Go's render.JSON: 2-space indent, trailing "\n",
 *   Content-Type "application/json; charset=UTF-8". Messages and most errors
 *   are a JSON *string*. uint64 ids (member_id, cluster id, last_heartbeat)
 *   are written exactly (they exceed 2^53). Protobuf fields are omitempty
 *   (an Up store has no "state" key), ByteSize/Duration are strings
 *   ("100GiB", "30m0s"), location-labels is one comma-joined string and
 *   ",string" bools are "true"/"false".
 * - Served by whichever member receives them: /health, /ping, /status,
 *   /version, GET /config, /pd/api/v2/ready. Everything else needs a PD
 *   leader: without one, 503 text "redirect finds no leader".
 * - Before the first store registers, store routes and /schedulers answer
 *   500 "...TiKV cluster not bootstrapped, please start TiKV first".
 * - Faults from the model: a failing model answers 500 with its text (JSON
 *   string) on every PD path; delays are the proxy's job.
 *
 * A response with status 0 means "nobody answers": the addressed process is
 * not running (connection refused); the proxy turns it into a 502.
 */
#ifndef TEST_SIM_PD_HTTP_H
#define TEST_SIM_PD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "test/sim/pd_model.h"

struct pd_http_request {
    const char *method;     /* "GET" */
    const char *path;       /* decoded path, "/pd/api/v1/stores" */
    const char *query;      /* raw query without '?', or NULL */
    const char *body;       /* may be NULL */
    size_t body_length;
    /* The pod addressed (a member's peer host); NULL: through the
     * cluster's service (any running process answers). */
    const char *pod;
};

struct pd_http_response {
    int status;               /* 0: nobody answers (process not running) */
    const char *content_type; /* static; NULL: no Content-Type */
    char *body;               /* malloc'd, NUL-terminated; NULL when empty */
    size_t length;
};

/* Frees the body and zeroes the response. */
void pd_http_response_clear(struct pd_http_response *response);

/* The answers; false only when memory runs out (then *response is cleared). */
bool pd_http_serve_pd(struct pd_model *model, const struct pd_http_request *request,
                      struct pd_http_response *response);
bool pd_http_serve_tidb(struct pd_model *model, const struct pd_http_request *request,
                        struct pd_http_response *response);
bool pd_http_serve_tikv(struct pd_model *model, const struct pd_http_request *request,
                        struct pd_http_response *response);

/* PD's encodings, exposed for tests and other simulators. */
/* Go's time.Duration.String() at millisecond precision: "30m0s", "1.5s", "500ms", "0s". */
void pd_http_format_duration(uint64_t ms, char *out, size_t size);
/* Go duration syntax ("1h30m", "20s", "1.5m", "500ms"); false when invalid. */
bool pd_http_parse_duration(const char *text, uint64_t *ms);
/* docker/go-units BytesSize: "100GiB", "91.5GiB", "0B". */
void pd_http_format_bytes(uint64_t bytes, char *out, size_t size);

#endif
