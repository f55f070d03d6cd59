#include "test/sim/proxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reactor/http_server.h"
#include "reactor/list.h"
#include "test/sim/pd_http.h"

/* A PD request held by the model's delay fault. */
struct pending {
    uv_timer_t timer;
    struct proxy *proxy;
    struct http_request *request; /* NULL once its connection went away */
    struct proxy_target target;
    char host[256];
    struct list_node link;        /* in the proxy's pending, until fired */
};

struct proxy {
    uv_loop_t *loop;
    struct http_server *server;
    proxy_lookup_fn lookup;
    void *lookup_data;
    struct list_node pending;  /* timers not yet fired */
    size_t timers_open;        /* timers not yet closed */
    bool closing;
    bool server_closed;
    void (*closed)(void *data);
    void *closed_data;
};

/* ---- host parsing ---- */

static bool ends_with(const char *text, const char *suffix, size_t *stem)
{
    size_t n = strlen(text), m = strlen(suffix);
    if (n <= m || strcmp(text + n - m, suffix) != 0)
        return false;
    *stem = n - m;
    return true;
}

static bool copy_part(char *out, size_t size, const char *text, size_t length)
{
    if (length == 0 || length >= size)
        return false;
    memcpy(out, text, length);
    out[length] = '\0';
    return true;
}

bool proxy_parse_host(const char *host, struct proxy_target *out)
{
    memset(out, 0, sizeof *out);
    if (!host)
        return false;
    char name[256];
    size_t length = strlen(host);
    if (length == 0 || length >= sizeof name)
        return false;
    for (size_t i = 0; i <= length; i++)
        name[i] = (char)tolower((unsigned char)host[i]);
    long port = 80;
    char *colon = strrchr(name, ':');
    if (colon) {
        char *end = NULL;
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || port <= 0 || port > 65535)
            return false;
        *colon = '\0';
    }
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        name[--n] = '\0';
    char *labels[8];
    size_t count = 0;
    char *save = NULL;
    for (char *label = strtok_r(name, ".", &save); label; label = strtok_r(NULL, ".", &save)) {
        if (count == 8)
            return false;
        labels[count++] = label;
    }
    if (count >= 2 && strcmp(labels[count - 1], "local") == 0 &&
        strcmp(labels[count - 2], "cluster") == 0) {
        count -= 2;
        if (count == 0 || strcmp(labels[count - 1], "svc") != 0)
            return false;
    }
    if (count >= 3 && strcmp(labels[count - 1], "svc") == 0)
        count--;
    size_t stem;
    if (count == 2) {
        const char *service = labels[0];
        if (!copy_part(out->namespace, sizeof out->namespace, labels[1], strlen(labels[1])))
            return false;
        if (port == 2379 && ends_with(service, "-pd", &stem))
            out->service = PROXY_PD;
        else if (port == 10080 && ends_with(service, "-tidb", &stem))
            out->service = PROXY_TIDB;
        else
            return false;
        if (!copy_part(out->cluster, sizeof out->cluster, service, stem)) {
            out->service = PROXY_NONE;
            return false;
        }
        return true;
    }
    if (count == 3) {
        const char *service = labels[1];
        enum proxy_service kind = PROXY_NONE;
        if (port == 2379 && ends_with(service, "-pd-peer", &stem))
            kind = PROXY_PD;
        else if (port == 10080 && ends_with(service, "-tidb-peer", &stem))
            kind = PROXY_TIDB;
        else if (port == 20180 && ends_with(service, "-tikv-peer", &stem))
            kind = PROXY_TIKV;
        if (kind == PROXY_NONE ||
            !copy_part(out->cluster, sizeof out->cluster, service, stem) ||
            !copy_part(out->namespace, sizeof out->namespace, labels[2], strlen(labels[2])) ||
            !copy_part(out->pod, sizeof out->pod, labels[0], strlen(labels[0]))) {
            memset(out, 0, sizeof *out);
            return false;
        }
        out->service = kind;
        return true;
    }
    return false;
}

/* ---- serving ---- */

/* The host a request is for: the authority of an absolute-form target, else Host. */
static bool request_host(struct http_request *request, char *out, size_t size)
{
    const char *target = http_request_target(request);
    const char *start = NULL;
    if (strncasecmp(target, "http://", 7) == 0)
        start = target + 7;
    else if (strncasecmp(target, "https://", 8) == 0)
        start = target + 8;
    if (start) {
        size_t length = strcspn(start, "/?#");
        const char *at = memchr(start, '@', length); /* drop userinfo */
        if (at) {
            length -= (size_t)(at + 1 - start);
            start = at + 1;
        }
        if (length == 0 || length >= size)
            return false;
        memcpy(out, start, length);
        out[length] = '\0';
        return true;
    }
    const char *host = http_request_header(request, "Host");
    if (!host || strlen(host) >= size)
        return false;
    snprintf(out, size, "%s", host);
    return true;
}

static void send_text(struct http_request *request, int status, const char *format,
                      const char *host)
{
    char body[512];
    snprintf(body, sizeof body, format, host);
    http_response_send_text(request, status, "text/plain; charset=utf-8", body);
}

static const char *const NO_SERVICE = "kubesim proxy: no simulated service for host %s\n";

static void respond(struct proxy *proxy, struct http_request *request,
                    const struct proxy_target *target, const char *host)
{
    struct pd_model *model = proxy->lookup(target->namespace, target->cluster, proxy->lookup_data);
    if (!model) {
        send_text(request, 502, NO_SERVICE, host);
        return;
    }
    size_t body_length = 0;
    const char *body = http_request_body(request, &body_length);
    const char *query = http_request_query(request);
    struct pd_http_request in = {
        .method = http_request_method(request),
        .path = http_request_path(request),
        .query = query && *query ? query : NULL,
        .body = body,
        .body_length = body_length,
        .pod = target->pod[0] ? target->pod : NULL,
    };
    struct pd_http_response out = { 0 };
    bool ok = target->service == PROXY_PD     ? pd_http_serve_pd(model, &in, &out)
              : target->service == PROXY_TIDB ? pd_http_serve_tidb(model, &in, &out)
                                              : pd_http_serve_tikv(model, &in, &out);
    if (!ok) {
        http_response_send_text(request, 500, "text/plain; charset=utf-8",
                                "kubesim proxy: out of memory\n");
        return;
    }
    if (out.status == 0)
        send_text(request, 502, "kubesim proxy: connection refused by %s (not running)\n", host);
    else
        http_response_send(request, out.status, out.content_type, out.body ? out.body : "",
                           out.length);
    pd_http_response_clear(&out);
}

static void maybe_finish(struct proxy *proxy)
{
    if (!proxy->closing || !proxy->server_closed || proxy->timers_open > 0)
        return;
    void (*closed)(void *) = proxy->closed;
    void *data = proxy->closed_data;
    free(proxy);
    if (closed)
        closed(data);
}

static void pending_closed(uv_handle_t *handle)
{
    struct pending *pending = handle->data;
    struct proxy *proxy = pending->proxy;
    free(pending);
    proxy->timers_open--;
    maybe_finish(proxy);
}

static void pending_gone(struct http_request *request, void *data)
{
    (void)request;
    struct pending *pending = data;
    pending->request = NULL;
}

static void pending_fire(uv_timer_t *timer)
{
    struct pending *pending = timer->data;
    list_remove(&pending->link);
    if (pending->request) {
        struct http_request *request = pending->request;
        pending->request = NULL;
        respond(pending->proxy, request, &pending->target, pending->host);
    }
    uv_close((uv_handle_t *)&pending->timer, pending_closed);
}

static void handle(struct http_request *request, void *data)
{
    struct proxy *proxy = data;
    char host[256];
    if (!request_host(request, host, sizeof host)) {
        http_response_send_text(request, 400, "text/plain; charset=utf-8",
                                "kubesim proxy: request names no host\n");
        return;
    }
    struct proxy_target target;
    if (!proxy_parse_host(host, &target)) {
        send_text(request, 502, NO_SERVICE, host);
        return;
    }
    struct pd_model *model = proxy->lookup(target.namespace, target.cluster, proxy->lookup_data);
    uint64_t delay = model && target.service == PROXY_PD ? pd_model_delay_ms(model) : 0;
    if (delay == 0) {
        respond(proxy, request, &target, host);
        return;
    }
    struct pending *pending = calloc(1, sizeof *pending);
    if (!pending || uv_timer_init(proxy->loop, &pending->timer) != 0) {
        free(pending);
        respond(proxy, request, &target, host); /* no memory for the delay: answer now */
        return;
    }
    pending->proxy = proxy;
    pending->request = request;
    pending->target = target;
    snprintf(pending->host, sizeof pending->host, "%s", host);
    pending->timer.data = pending;
    list_insert_head(&proxy->pending, &pending->link);
    proxy->timers_open++;
    http_request_on_gone(request, pending_gone, pending);
    uv_timer_start(&pending->timer, pending_fire, delay, 0);
}

int proxy_start(uv_loop_t *loop, const struct proxy_options *options, struct proxy **out)
{
    if (!loop || !options || !options->lookup || !out)
        return -EINVAL;
    struct proxy *proxy = calloc(1, sizeof *proxy);
    if (!proxy)
        return -ENOMEM;
    proxy->loop = loop;
    list_init(&proxy->pending);
    proxy->lookup = options->lookup;
    proxy->lookup_data = options->lookup_data;
    struct http_server_options server_options = { 0 };
    server_options.host = options->host;
    server_options.port = options->port;
    int rc = http_server_start(loop, &server_options, &proxy->server);
    if (rc != 0) {
        free(proxy);
        return rc;
    }
    http_server_set_default_handler(proxy->server, handle, proxy);
    *out = proxy;
    return 0;
}

int proxy_port(const struct proxy *proxy) { return http_server_port(proxy->server); }

static void server_closed(void *data)
{
    struct proxy *proxy = data;
    proxy->server_closed = true;
    maybe_finish(proxy);
}

void proxy_close(struct proxy *proxy, void (*closed)(void *data), void *data)
{
    proxy->closing = true;
    proxy->closed = closed;
    proxy->closed_data = data;
    struct pending *pending;
    while ((pending = list_first_entry(&proxy->pending, struct pending, link)) != NULL) {
        list_remove(&pending->link);
        if (pending->request) {
            /* Answering ends the request: no gone callback will follow. */
            http_response_send_text(pending->request, 503, "text/plain; charset=utf-8",
                                    "kubesim proxy: closing\n");
            pending->request = NULL;
        }
        uv_timer_stop(&pending->timer);
        uv_close((uv_handle_t *)&pending->timer, pending_closed);
    }
    http_server_close(proxy->server, server_closed, proxy);
}
