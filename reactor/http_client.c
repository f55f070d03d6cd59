#include "reactor/http_client.h"

#include "reactor/buffer.h"
#include "reactor/list.h"
#include "reactor/log.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MAX_PER_HOST 32
#define DEFAULT_MAX_TOTAL 256
#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_USER_AGENT "tidb-operator-c"

/* One per socket libcurl asks us to watch. */
struct socket_watch {
    uv_poll_t poll;
    struct http_client *client;
    curl_socket_t fd;
    struct list_node link; /* in the client's watches */
};

enum request_state {
    REQUEST_QUEUED,    /* waiting for the idle pass to add it to the multi handle */
    REQUEST_ACTIVE,    /* in the multi handle */
    REQUEST_FINISHING, /* cancelled or timed out: queued for removal and completion */
    REQUEST_DONE,      /* on_complete running */
};

struct http_client_request {
    struct http_client *client;
    struct list_node link; /* in the client's requests: every live one */
    struct http_client_request *queue_next;
    bool queued;
    enum request_state state;
    bool in_multi;

    CURL *easy;
    struct curl_slist *header_list;
    struct http_client_profile *profile;
    char *body;

    enum http_client_error forced_error; /* decided by us rather than by libcurl's result */
    char reason[128];                    /* why, when forced_error is set */
    char curl_error[CURL_ERROR_SIZE];    /* libcurl writes its own message here */

    long status;
    bool headers_done;
    bool headers_delivered;
    struct buffer headers; /* "name\0value\0" pairs of the final response */
    size_t header_count;
    struct buffer response_body;
    size_t max_body;

    uv_timer_t *idle_timer; /* own allocation: it may outlive the request while closing */
    uint64_t idle_timeout_ms;
    uint64_t last_activity_ms;

    http_client_headers_cb on_headers;
    http_client_data_cb on_data;
    http_client_complete_cb on_complete;
    void *user_data;
    struct http_client_response response;
};

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    uv_idle_t idle;
    struct list_node requests;
    struct http_client_request *queue_head, *queue_tail;
    struct list_node watches;
    struct http_client_stats stats;
    size_t default_max_body;
    uint64_t default_connect_timeout_ms;
    char *user_agent;
    bool closing;
    bool torn_down;
    unsigned handles_closing;
    void (*on_closed)(void *user_data);
    void *closed_data;
};

struct http_client_profile {
    unsigned references;
    char *base_url;
    char *bearer_token;
    char *ca_file;
    char *ca_pem;
    char *cert_file;
    char *cert_pem;
    char *key_file;
    char *key_pem;
    bool insecure;
};

static void process_queue(uv_idle_t *idle);
static void process_done(struct http_client *client);
static void maybe_tear_down(struct http_client *client);

const char *http_client_error_name(enum http_client_error error)
{
    switch (error) {
    case HTTP_ERROR_NONE: return "none";
    case HTTP_ERROR_CONNECT: return "connect";
    case HTTP_ERROR_DNS: return "dns";
    case HTTP_ERROR_TLS: return "tls";
    case HTTP_ERROR_TIMEOUT: return "timeout";
    case HTTP_ERROR_CANCELLED: return "cancelled";
    case HTTP_ERROR_TOO_LARGE: return "too_large";
    case HTTP_ERROR_PROTOCOL: return "protocol";
    case HTTP_ERROR_NETWORK: return "network";
    case HTTP_ERROR_INTERNAL: return "internal";
    }
    return "unknown";
}

const char *http_client_method_name(enum http_client_method method)
{
    switch (method) {
    case HTTP_CLIENT_GET: return "GET";
    case HTTP_CLIENT_POST: return "POST";
    case HTTP_CLIENT_PUT: return "PUT";
    case HTTP_CLIENT_PATCH: return "PATCH";
    case HTTP_CLIENT_DELETE: return "DELETE";
    }
    return "GET";
}

static enum http_client_error error_from_curl(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return HTTP_ERROR_NONE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return HTTP_ERROR_DNS;
    case CURLE_COULDNT_CONNECT:
        return HTTP_ERROR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_ERROR_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return HTTP_ERROR_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return HTTP_ERROR_TOO_LARGE;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return HTTP_ERROR_PROTOCOL;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return HTTP_ERROR_NETWORK;
    default:
        return HTTP_ERROR_INTERNAL;
    }
}

/* --- profile ------------------------------------------------------------------ */

static bool copy_string(char **out, const char *text)
{
    *out = NULL;
    if (text == NULL)
        return true;
    *out = strdup(text);
    return *out != NULL;
}

static void profile_free(struct http_client_profile *profile)
{
    free(profile->base_url);
    free(profile->bearer_token);
    free(profile->ca_file);
    free(profile->ca_pem);
    free(profile->cert_file);
    free(profile->cert_pem);
    free(profile->key_file);
    free(profile->key_pem);
    free(profile);
}

struct http_client_profile *http_client_profile_create(
    const struct http_client_profile_options *options)
{
    struct http_client_profile *profile = calloc(1, sizeof *profile);
    if (profile == NULL)
        return NULL;
    profile->references = 1;
    profile->insecure = options->insecure_skip_verify;
    if (!copy_string(&profile->base_url, options->base_url) ||
        !copy_string(&profile->bearer_token, options->bearer_token) ||
        !copy_string(&profile->ca_file, options->ca_file) ||
        !copy_string(&profile->ca_pem, options->ca_pem) ||
        !copy_string(&profile->cert_file, options->cert_file) ||
        !copy_string(&profile->cert_pem, options->cert_pem) ||
        !copy_string(&profile->key_file, options->key_file) ||
        !copy_string(&profile->key_pem, options->key_pem)) {
        profile_free(profile);
        return NULL;
    }
    return profile;
}

struct http_client_profile *http_client_profile_ref(struct http_client_profile *profile)
{
    profile->references++;
    return profile;
}

void http_client_profile_unref(struct http_client_profile *profile)
{
    if (profile != NULL && --profile->references == 0)
        profile_free(profile);
}

bool http_client_profile_set_bearer_token(struct http_client_profile *profile, const char *token)
{
    char *copy = NULL;
    if (!copy_string(&copy, token))
        return false;
    free(profile->bearer_token);
    profile->bearer_token = copy;
    return true;
}

/* --- socket and timer plumbing -------------------------------------------------- */

static void handle_closed(uv_handle_t *handle)
{
    struct http_client *client = handle->data;
    if (handle != (uv_handle_t *)&client->timer && handle != (uv_handle_t *)&client->idle)
        free(handle);
    if (--client->handles_closing == 0 && client->torn_down) {
        void (*on_closed)(void *) = client->on_closed;
        void *closed_data = client->closed_data;
        free(client->user_agent);
        free(client);
        if (on_closed != NULL)
            on_closed(closed_data);
    }
}

static void close_handle(struct http_client *client, uv_handle_t *handle)
{
    handle->data = client;
    client->handles_closing++;
    uv_close(handle, handle_closed);
}

static void watch_close(struct socket_watch *watch)
{
    struct http_client *client = watch->client;
    list_remove(&watch->link);
    /* Safe though libcurl closes the fd next: closing the poll stops it now. */
    close_handle(client, (uv_handle_t *)&watch->poll);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct socket_watch *watch = poll->data;
    struct http_client *client = watch->client;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running = 0;
    curl_multi_socket_action(client->multi, watch->fd, flags, &running);
    process_done(client);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *client_pointer,
                          void *socket_pointer)
{
    (void)easy;
    struct http_client *client = client_pointer;
    struct socket_watch *watch = socket_pointer;
    if (what == CURL_POLL_REMOVE) {
        if (watch != NULL) {
            /* During curl_multi_cleanup the multi handle is half gone: leave it be. */
            if (!client->torn_down)
                curl_multi_assign(client->multi, fd, NULL);
            watch_close(watch);
        }
        return 0;
    }
    if (watch == NULL) {
        watch = calloc(1, sizeof *watch);
        if (watch == NULL)
            return -1;
        if (uv_poll_init_socket(client->loop, &watch->poll, fd) != 0) {
            free(watch);
            return -1;
        }
        watch->client = client;
        watch->fd = fd;
        watch->poll.data = watch;
        list_insert_head(&client->watches, &watch->link);
        curl_multi_assign(client->multi, fd, watch);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    if (uv_poll_start(&watch->poll, events, on_poll) != 0) {
        log_warn("http client cannot poll socket", "fd=%d", (int)fd);
        return -1;
    }
    return 0;
}

static void on_timer(uv_timer_t *timer)
{
    struct http_client *client = timer->data;
    int running = 0;
    curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_done(client);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *client_pointer)
{
    (void)multi;
    struct http_client *client = client_pointer;
    if (timeout_ms < 0)
        uv_timer_stop(&client->timer);
    else
        uv_timer_start(&client->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* --- client --------------------------------------------------------------------- */

struct http_client *http_client_init(uv_loop_t *loop, const struct http_client_options *options)
{
    static bool curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = true;
    }
    static const struct http_client_options defaults;
    if (options == NULL)
        options = &defaults;

    struct http_client *client = calloc(1, sizeof *client);
    if (client == NULL)
        return NULL;
    client->loop = loop;
    list_init(&client->requests);
    list_init(&client->watches);
    client->default_max_body = options->default_max_body_bytes ? options->default_max_body_bytes
                                                               : DEFAULT_MAX_BODY;
    client->default_connect_timeout_ms = options->default_connect_timeout_ms
                                             ? options->default_connect_timeout_ms
                                             : DEFAULT_CONNECT_TIMEOUT_MS;
    client->user_agent = strdup(options->user_agent ? options->user_agent : DEFAULT_USER_AGENT);
    client->multi = curl_multi_init();
    if (client->user_agent == NULL || client->multi == NULL)
        goto fail;
    long per_host = options->max_connections_per_host ? (long)options->max_connections_per_host
                                                      : DEFAULT_MAX_PER_HOST;
    long total = options->max_total_connections ? (long)options->max_total_connections
                                                : DEFAULT_MAX_TOTAL;
    if (curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, total) != CURLM_OK ||
        curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, total) != CURLM_OK)
        goto fail;
    if (uv_timer_init(loop, &client->timer) != 0)
        goto fail;
    client->timer.data = client;
    if (uv_idle_init(loop, &client->idle) != 0) {
        /* The timer is initialised: it must be closed, so this failure is async. */
        client->torn_down = true;
        curl_multi_cleanup(client->multi);
        client->multi = NULL;
        close_handle(client, (uv_handle_t *)&client->timer);
        return NULL;
    }
    client->idle.data = client;
    return client;

fail:
    if (client->multi != NULL)
        curl_multi_cleanup(client->multi);
    free(client->user_agent);
    free(client);
    return NULL;
}

void http_client_get_stats(const struct http_client *client, struct http_client_stats *out)
{
    *out = client->stats;
}

/* --- requests ------------------------------------------------------------------- */

static void enqueue(struct http_client_request *request)
{
    struct http_client *client = request->client;
    if (request->queued)
        return;
    request->queued = true;
    request->queue_next = NULL;
    if (client->queue_tail != NULL)
        client->queue_tail->queue_next = request;
    else
        client->queue_head = request;
    client->queue_tail = request;
    uv_idle_start(&client->idle, process_queue);
}

/* Ends the transfer with our own verdict; the completion runs from the queue. */
static void request_abort(struct http_client_request *request, enum http_client_error error,
                          const char *why)
{
    /* The first verdict stands (a body found too large stays TOO_LARGE). */
    if (request->state == REQUEST_FINISHING || request->state == REQUEST_DONE ||
        request->forced_error != HTTP_ERROR_NONE)
        return;
    request->forced_error = error;
    snprintf(request->reason, sizeof request->reason, "%s", why);
    if (request->state == REQUEST_ACTIVE)
        request->state = REQUEST_FINISHING;
    /* A queued request is already in the queue; it finishes instead of starting. */
    enqueue(request);
}

void http_client_request_cancel(struct http_client_request *request)
{
    if (request != NULL)
        request_abort(request, HTTP_ERROR_CANCELLED, "cancelled");
}

void *http_client_request_user_data(const struct http_client_request *request)
{
    return request->user_data;
}

static void touch(struct http_client_request *request)
{
    request->last_activity_ms = uv_now(request->client->loop);
}

static void on_idle_timer(uv_timer_t *timer)
{
    struct http_client_request *request = timer->data;
    uint64_t quiet = uv_now(request->client->loop) - request->last_activity_ms;
    if (quiet < request->idle_timeout_ms) {
        uv_timer_start(timer, on_idle_timer, request->idle_timeout_ms - quiet, 0);
        return;
    }
    char why[96];
    snprintf(why, sizeof why, "no data received for %llu ms",
             (unsigned long long)request->idle_timeout_ms);
    request_abort(request, HTTP_ERROR_TIMEOUT, why);
}

static void fill_response(struct http_client_request *request)
{
    struct http_client_response *response = &request->response;
    response->request = request;
    response->status = request->status;
}

static void deliver_headers(struct http_client_request *request)
{
    if (request->headers_delivered)
        return;
    request->headers_delivered = true;
    if (request->on_headers == NULL)
        return;
    fill_response(request);
    request->on_headers(request, &request->response, request->user_data);
}

static size_t on_curl_header(char *data, size_t size, size_t count, void *pointer)
{
    struct http_client_request *request = pointer;
    size_t length = size * count;
    if (request->state != REQUEST_ACTIVE)
        return 0;
    touch(request);
    if (length >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 1xx): forget the interim one's headers. */
        buffer_clear(&request->headers);
        request->header_count = 0;
        request->headers_done = false;
        const char *space = memchr(data, ' ', length);
        request->status = space != NULL ? strtol(space + 1, NULL, 10) : 0;
        return length;
    }
    size_t line = length;
    while (line > 0 && (data[line - 1] == '\n' || data[line - 1] == '\r'))
        line--;
    if (line == 0) {
        if (request->status >= 200 && !request->headers_done) {
            request->headers_done = true;
            if (request->on_data != NULL) {
                deliver_headers(request);
                if (request->state != REQUEST_ACTIVE)
                    return 0;
            }
        }
        return length;
    }
    /* Trailers and obsolete folded lines are not kept. */
    if (request->headers_done || data[0] == ' ' || data[0] == '\t')
        return length;
    const char *colon = memchr(data, ':', line);
    if (colon == NULL)
        return length;
    const char *value = colon + 1;
    const char *end = data + line;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char nul = '\0';
    if (!buffer_append(&request->headers, data, (size_t)(colon - data)) ||
        !buffer_append(&request->headers, &nul, 1) ||
        !buffer_append(&request->headers, value, (size_t)(end - value)) ||
        !buffer_append(&request->headers, &nul, 1)) {
        request->forced_error = HTTP_ERROR_INTERNAL;
        snprintf(request->reason, sizeof request->reason, "out of memory for headers");
        return 0;
    }
    request->header_count++;
    return length;
}

static size_t on_curl_write(char *data, size_t size, size_t count, void *pointer)
{
    struct http_client_request *request = pointer;
    size_t length = size * count;
    if (request->state != REQUEST_ACTIVE)
        return 0;
    touch(request);
    if (request->on_data != NULL) {
        deliver_headers(request);
        if (request->state != REQUEST_ACTIVE)
            return 0;
        if (!request->on_data(request, data, length, request->user_data)) {
            request_abort(request, HTTP_ERROR_CANCELLED, "cancelled by the data callback");
            return 0;
        }
        return request->state == REQUEST_ACTIVE ? length : 0;
    }
    if (length > request->max_body - request->response_body.length) {
        request->forced_error = HTTP_ERROR_TOO_LARGE;
        snprintf(request->reason, sizeof request->reason,
                 "response body larger than %zu bytes", request->max_body);
        return 0;
    }
    if (!buffer_append(&request->response_body, data, length)) {
        request->forced_error = HTTP_ERROR_INTERNAL;
        snprintf(request->reason, sizeof request->reason, "out of memory for the body");
        return 0;
    }
    return length;
}

static bool has_header(const char *const *headers, const char *name)
{
    size_t length = strlen(name);
    for (; headers != NULL && *headers != NULL; headers++)
        if (strncasecmp(*headers, name, length) == 0 && (*headers)[length] == ':')
            return true;
    return false;
}

static bool add_header(struct http_client_request *request, const char *line)
{
    struct curl_slist *list = curl_slist_append(request->header_list, line);
    if (list == NULL)
        return false;
    request->header_list = list;
    return true;
}

static char *build_url(const struct http_client_profile *profile, const char *url)
{
    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0)
        return strdup(url);
    if (profile == NULL || profile->base_url == NULL)
        return NULL;
    struct buffer joined = {0};
    size_t base = strlen(profile->base_url);
    while (base > 0 && profile->base_url[base - 1] == '/')
        base--;
    bool ok = buffer_append(&joined, profile->base_url, base) &&
              (url[0] == '/' || buffer_append_string(&joined, "/")) &&
              buffer_append_string(&joined, url);
    if (!ok) {
        buffer_free(&joined);
        return NULL;
    }
    return buffer_take(&joined);
}

static bool set_blob(CURL *easy, CURLoption option, const char *pem)
{
    struct curl_blob blob = {.data = (void *)pem, .len = strlen(pem), .flags = CURL_BLOB_COPY};
    return curl_easy_setopt(easy, option, &blob) == CURLE_OK;
}

static bool configure_tls(CURL *easy, const struct http_client_profile *profile)
{
    bool ok = true;
    if (profile->insecure) {
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L) == CURLE_OK;
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L) == CURLE_OK;
    }
    if (profile->ca_file != NULL || profile->ca_pem != NULL) {
        /* Trust the given CA only, not the system store as well. */
        ok = ok && curl_easy_setopt(easy, CURLOPT_CAPATH, NULL) == CURLE_OK;
        if (profile->ca_file != NULL)
            ok = ok && curl_easy_setopt(easy, CURLOPT_CAINFO, profile->ca_file) == CURLE_OK;
        else
            ok = ok && curl_easy_setopt(easy, CURLOPT_CAINFO, NULL) == CURLE_OK &&
                 set_blob(easy, CURLOPT_CAINFO_BLOB, profile->ca_pem);
    }
    if (profile->cert_file != NULL)
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSLCERT, profile->cert_file) == CURLE_OK;
    else if (profile->cert_pem != NULL)
        ok = ok && set_blob(easy, CURLOPT_SSLCERT_BLOB, profile->cert_pem);
    if (profile->cert_file != NULL || profile->cert_pem != NULL)
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM") == CURLE_OK;
    if (profile->key_file != NULL)
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSLKEY, profile->key_file) == CURLE_OK;
    else if (profile->key_pem != NULL)
        ok = ok && set_blob(easy, CURLOPT_SSLKEY_BLOB, profile->key_pem);
    if (profile->key_file != NULL || profile->key_pem != NULL)
        ok = ok && curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM") == CURLE_OK;
    return ok;
}

static bool configure(struct http_client_request *request,
                      const struct http_client_request_options *options, const char *url)
{
    struct http_client *client = request->client;
    CURL *easy = request->easy;
    const struct http_client_profile *profile = request->profile;
    bool streaming = options->on_data != NULL;
    uint64_t connect_ms = options->connect_timeout_ms ? options->connect_timeout_ms
                                                      : client->default_connect_timeout_ms;
    bool ok = true;
#define SET(option, value) (ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK)
    SET(CURLOPT_PRIVATE, request);
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_ERRORBUFFER, request->curl_error);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Over TLS, wait for a connection that may multiplex rather than open another. */
    if (strncasecmp(url, "https://", 8) == 0)
        SET(CURLOPT_PIPEWAIT, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    SET(CURLOPT_USERAGENT, client->user_agent);
    SET(CURLOPT_HEADERFUNCTION, on_curl_header);
    SET(CURLOPT_HEADERDATA, request);
    SET(CURLOPT_WRITEFUNCTION, on_curl_write);
    SET(CURLOPT_WRITEDATA, request);
    SET(CURLOPT_TIMEOUT_MS, (long)options->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    if (!streaming)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)request->max_body);

    enum http_client_method method = options->method;
    if (request->body != NULL || method == HTTP_CLIENT_POST || method == HTTP_CLIENT_PUT ||
        method == HTTP_CLIENT_PATCH) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)options->body_length);
        SET(CURLOPT_POSTFIELDS, request->body != NULL ? request->body : "");
        if (method != HTTP_CLIENT_POST)
            SET(CURLOPT_CUSTOMREQUEST, http_client_method_name(method));
    } else if (method == HTTP_CLIENT_DELETE) {
        SET(CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        SET(CURLOPT_HTTPGET, 1L);
    }

    const char *const *headers = options->headers;
    for (; ok && headers != NULL && *headers != NULL; headers++)
        ok = add_header(request, *headers);
    /* Our server (and the API server) answer at once: skip the 100-continue wait. */
    if (ok && !has_header(options->headers, "Expect"))
        ok = add_header(request, "Expect:");
    const char *token = options->bearer_token;
    if (token == NULL && profile != NULL)
        token = profile->bearer_token;
    if (ok && token != NULL && token[0] != '\0' && !has_header(options->headers, "Authorization")) {
        struct buffer line = {0};
        ok = buffer_append_format(&line, "Authorization: Bearer %s", token) &&
             add_header(request, line.data);
        buffer_free(&line);
    }
    if (request->header_list != NULL)
        SET(CURLOPT_HTTPHEADER, request->header_list);
    if (ok && profile != NULL)
        ok = configure_tls(easy, profile);
#undef SET
    return ok;
}

static void request_free(struct http_client_request *request)
{
    struct http_client *client = request->client;
    if (request->easy != NULL)
        curl_easy_cleanup(request->easy);
    curl_slist_free_all(request->header_list);
    http_client_profile_unref(request->profile);
    free(request->body);
    buffer_free(&request->headers);
    buffer_free(&request->response_body);
    if (request->idle_timer != NULL)
        close_handle(client, (uv_handle_t *)request->idle_timer);
    free(request);
}

struct http_client_request *http_client_request_start(struct http_client *client,
                                        const struct http_client_request_options *options)
{
    if (client == NULL || options == NULL || options->url == NULL ||
        options->on_complete == NULL || client->closing ||
        (options->body == NULL && options->body_length > 0)) {
        if (options != NULL && options->take_body)
            free((void *)options->body);
        return NULL;
    }
    struct http_client_request *request = calloc(1, sizeof *request);
    if (request == NULL) {
        if (options->take_body)
            free((void *)options->body);
        return NULL;
    }
    request->client = client;
    request->state = REQUEST_QUEUED;
    request->on_headers = options->on_headers;
    request->on_data = options->on_data;
    request->on_complete = options->on_complete;
    request->user_data = options->user_data;
    request->max_body = options->max_body_bytes ? options->max_body_bytes
                                                : client->default_max_body;
    request->idle_timeout_ms = options->idle_timeout_ms;
    if (options->profile != NULL)
        request->profile = http_client_profile_ref(options->profile);

    bool ok = true;
    if (options->body != NULL) {
        if (options->take_body) {
            request->body = (char *)options->body;
        } else {
            /* +1 keeps a zero-length body non-NULL. */
            request->body = malloc(options->body_length + 1);
            ok = request->body != NULL;
            if (ok)
                memcpy(request->body, options->body, options->body_length);
        }
    }
    char *url = ok ? build_url(request->profile, options->url) : NULL;
    request->easy = url != NULL ? curl_easy_init() : NULL;
    ok = request->easy != NULL && configure(request, options, url);
    free(url);
    if (ok && request->idle_timeout_ms > 0) {
        request->idle_timer = malloc(sizeof *request->idle_timer);
        ok = request->idle_timer != NULL;
        if (ok && uv_timer_init(client->loop, request->idle_timer) != 0) {
            free(request->idle_timer);
            request->idle_timer = NULL;
            ok = false;
        }
        if (ok) {
            request->idle_timer->data = request;
            touch(request);
            uv_timer_start(request->idle_timer, on_idle_timer, request->idle_timeout_ms, 0);
        }
    }
    if (!ok) {
        request_free(request);
        return NULL;
    }

    list_insert_head(&client->requests, &request->link);
    client->stats.started++;
    client->stats.in_flight++;
    /* Added from the loop, never here: the caller may be inside a libcurl callback. */
    enqueue(request);
    return request;
}

static void request_finish(struct http_client_request *request, CURLcode result)
{
    struct http_client *client = request->client;
    if (request->in_multi) {
        curl_multi_remove_handle(client->multi, request->easy);
        request->in_multi = false;
    }
    request->state = REQUEST_DONE;
    if (request->idle_timer != NULL)
        uv_timer_stop(request->idle_timer);

    struct http_client_response *response = &request->response;
    fill_response(request);
    response->error = request->forced_error != HTTP_ERROR_NONE ? request->forced_error
                                                               : error_from_curl(result);
    if (response->error == HTTP_ERROR_NONE)
        response->error_message = "";
    else if (request->forced_error != HTTP_ERROR_NONE)
        response->error_message = request->reason;
    else if (request->curl_error[0] != '\0')
        response->error_message = request->curl_error;
    else
        response->error_message = curl_easy_strerror(result);
    if (request->on_data == NULL && response->error == HTTP_ERROR_NONE) {
        response->body = buffer_string(&request->response_body);
        response->body_length = request->response_body.length;
    }
    long connects = 0;
    if (curl_easy_getinfo(request->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
        connects > 0)
        response->connections_opened = (uint64_t)connects;
    long version = 0;
    if (curl_easy_getinfo(request->easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK) {
        if (version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1)
            response->http_version = 1;
        else if (version == CURL_HTTP_VERSION_2_0)
            response->http_version = 2;
        else if (version == CURL_HTTP_VERSION_3)
            response->http_version = 3;
    }

    list_remove(&request->link);
    client->stats.in_flight--;
    client->stats.completed++;
    client->stats.connections_opened += response->connections_opened;
    if (response->error == HTTP_ERROR_CANCELLED)
        client->stats.cancelled++;
    else if (response->error != HTTP_ERROR_NONE)
        client->stats.failed++;
    if (response->error != HTTP_ERROR_NONE && response->error != HTTP_ERROR_CANCELLED)
        log_debug("http request failed", "error=%s status=%ld message=\"%s\"",
                  http_client_error_name(response->error), response->status,
                  response->error_message);

    request->on_complete(request, response, request->user_data);
    request_free(request);
    maybe_tear_down(client);
}

static void process_done(struct http_client *client)
{
    CURLMsg *message;
    int left = 0;
    while (client->multi != NULL &&
           (message = curl_multi_info_read(client->multi, &left)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURLcode result = message->data.result;
        char *private_pointer = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &private_pointer);
        struct http_client_request *request = (struct http_client_request *)private_pointer;
        if (request != NULL && request->state == REQUEST_ACTIVE)
            request_finish(request, result);
    }
}

static void process_queue(uv_idle_t *idle)
{
    struct http_client *client = idle->data;
    /* Take the current batch: what the callbacks below enqueue runs next pass. */
    struct http_client_request *request = client->queue_head;
    client->queue_head = client->queue_tail = NULL;
    uv_idle_stop(idle);
    while (request != NULL) {
        struct http_client_request *next = request->queue_next;
        request->queued = false;
        if (request->state == REQUEST_QUEUED && request->forced_error == HTTP_ERROR_NONE) {
            if (curl_multi_add_handle(client->multi, request->easy) == CURLM_OK) {
                request->in_multi = true;
                request->state = REQUEST_ACTIVE;
            } else {
                request->forced_error = HTTP_ERROR_INTERNAL;
                snprintf(request->reason, sizeof request->reason,
                         "cannot add the transfer");
                request_finish(request, CURLE_OK);
            }
        } else if (request->state != REQUEST_DONE) {
            request_finish(request, CURLE_OK);
        }
        request = next;
    }
}

static void maybe_tear_down(struct http_client *client)
{
    if (!client->closing || !list_empty(&client->requests) || client->torn_down)
        return;
    client->torn_down = true;
    /* Cleanup may report sockets removed through on_curl_socket; close the rest. */
    curl_multi_cleanup(client->multi);
    client->multi = NULL;
    struct socket_watch *watch;
    while ((watch = list_first_entry(&client->watches, struct socket_watch, link)) != NULL)
        watch_close(watch);
    uv_timer_stop(&client->timer);
    close_handle(client, (uv_handle_t *)&client->timer);
    close_handle(client, (uv_handle_t *)&client->idle);
}

void http_client_close(struct http_client *client, void (*on_closed)(void *user_data),
                       void *user_data)
{
    if (client == NULL || client->closing)
        return;
    client->closing = true;
    client->on_closed = on_closed;
    client->closed_data = user_data;
    struct http_client_request *request;
    list_for_each_entry(request, &client->requests, link)
        request_abort(request, HTTP_ERROR_CANCELLED, "cancelled: client closed");
    maybe_tear_down(client);
}

/* --- responses ------------------------------------------------------------------ */

bool http_client_response_header_at(const struct http_client_response *response, size_t index,
                             const char **name, const char **value)
{
    const struct http_client_request *request = response->request;
    if (request == NULL || index >= request->header_count)
        return false;
    const char *cursor = request->headers.data;
    for (size_t i = 0; i < index; i++) {
        cursor += strlen(cursor) + 1;
        cursor += strlen(cursor) + 1;
    }
    *name = cursor;
    *value = cursor + strlen(cursor) + 1;
    return true;
}

const char *http_client_response_header(const struct http_client_response *response,
                                        const char *name)
{
    const char *key, *value;
    for (size_t i = 0; http_client_response_header_at(response, i, &key, &value); i++)
        if (strcasecmp(key, name) == 0)
            return value;
    return NULL;
}

char *http_client_response_take_body(struct http_client_response *response)
{
    struct http_client_request *request = response->request;
    if (request == NULL || request->on_data != NULL || response->body == NULL)
        return NULL;
    char *body = buffer_take(&request->response_body);
    if (body == NULL)
        body = strdup("");
    response->body = NULL;
    response->body_length = 0;
    return body;
}
