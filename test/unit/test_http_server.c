/*
 * The server on a real loop, driven by raw libuv TCP clients on the same loop
 * (to send malformed bytes, dribble, hold idle, stop reading) and by an
 * mbedTLS client over the same kind of socket for TLS.
 */
#include "reactor/buffer.h"
#include "reactor/certs.h"
#include "reactor/http_server.h"
#include "reactor/log.h"
#include "test/support/test.h"

#include "llhttp.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

static uv_loop_t loop;
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int clients_open;

static bool under_valgrind(void)
{
    const char *value = getenv("TEST_UNDER_VALGRIND");
    return value && value[0] == '1';
}

/* ------------------------------------------------------------------ */
/* running the loop, bounded */

static bool deadline_passed;

static void on_deadline(uv_timer_t *timer)
{
    (void)timer;
    deadline_passed = true;
}

/* Runs the loop until `done(arg)` or `timeout_ms`; returns done(arg). */
static bool run_until(bool (*done)(void *), void *arg, uint64_t timeout_ms)
{
    uv_timer_t deadline;
    uv_timer_init(&loop, &deadline);
    deadline_passed = false;
    uv_timer_start(&deadline, on_deadline, timeout_ms, 0);
    while (!done(arg) && !deadline_passed)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&deadline, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return done(arg);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static void run_for(uint64_t ms)
{
    run_until(never, NULL, ms);
}

/* ------------------------------------------------------------------ */
/* raw clients (optionally TLS) */

struct client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    struct buffer received;   /* plaintext */
    bool connected, connect_failed, eof, reading;
    int read_error;
    /* TLS */
    bool tls;
    bool handshake_done, handshake_failed;
    uint32_t verify_flags;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config config;
    mbedtls_x509_crt ca, cert;
    mbedtls_pk_context key;
    struct buffer tls_in, tls_out, pending;
    size_t tls_in_offset;
};

static void on_client_closed(uv_handle_t *handle)
{
    struct client *client = handle->data;
    buffer_free(&client->received);
    if (client->tls) {
        mbedtls_ssl_free(&client->ssl);
        mbedtls_ssl_config_free(&client->config);
        mbedtls_x509_crt_free(&client->ca);
        mbedtls_x509_crt_free(&client->cert);
        mbedtls_pk_free(&client->key);
        buffer_free(&client->tls_in);
        buffer_free(&client->tls_out);
        buffer_free(&client->pending);
    }
    free(client);
    clients_open--;
}

static void client_close(struct client *client)
{
    if (!uv_is_closing((uv_handle_t *)&client->tcp))
        uv_close((uv_handle_t *)&client->tcp, on_client_closed);
}

static void on_client_write(uv_write_t *request, int status)
{
    (void)status;
    free(request);
}

static void raw_send(struct client *client, const void *data, size_t length)
{
    if (uv_is_closing((uv_handle_t *)&client->tcp) || length == 0)
        return;
    uv_write_t *request = malloc(sizeof *request + length);
    if (!request)
        return;
    memcpy(request + 1, data, length);
    uv_buf_t buf = uv_buf_init((char *)(request + 1), (unsigned)length);
    if (uv_write(request, (uv_stream_t *)&client->tcp, &buf, 1, on_client_write) < 0)
        free(request);
}

static void tls_client_flush(struct client *client)
{
    raw_send(client, client->tls_out.data, client->tls_out.length);
    buffer_clear(&client->tls_out);
}

static void client_send(struct client *client, const void *data, size_t length)
{
    if (!client->tls) {
        raw_send(client, data, length);
        return;
    }
    if (!client->handshake_done) {
        buffer_append(&client->pending, data, length);
        return;
    }
    size_t done = 0;
    while (done < length) {
        int n = mbedtls_ssl_write(&client->ssl, (const unsigned char *)data + done, length - done);
        if (n < 0)
            break;
        done += (size_t)n;
    }
    tls_client_flush(client);
}

static void client_send_text(struct client *client, const char *text)
{
    client_send(client, text, strlen(text));
}

static void tls_client_drive(struct client *client)
{
    if (!client->handshake_done && !client->handshake_failed) {
        int rc = mbedtls_ssl_handshake(&client->ssl);
        tls_client_flush(client);
        if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            return;
        client->verify_flags = mbedtls_ssl_get_verify_result(&client->ssl);
        if (rc != 0) {
            client->handshake_failed = true;
            return;
        }
        client->handshake_done = true;
        struct buffer pending = client->pending;
        client->pending = (struct buffer){ 0 };
        client_send(client, pending.data, pending.length);
        buffer_free(&pending);
    }
    if (!client->handshake_done)
        return;
    for (;;) {
        unsigned char plain[4096];
        int n = mbedtls_ssl_read(&client->ssl, plain, sizeof plain);
        if (n > 0) {
            buffer_append(&client->received, plain, (size_t)n);
            continue;
        }
        if (n != MBEDTLS_ERR_SSL_WANT_READ)
            client->eof = true;
        break;
    }
    tls_client_flush(client);
}

static int client_bio_send(void *context, const unsigned char *data, size_t length)
{
    struct client *client = context;
    buffer_append(&client->tls_out, data, length);
    return (int)length;
}

static int client_bio_receive(void *context, unsigned char *data, size_t length)
{
    struct client *client = context;
    size_t available = client->tls_in.length - client->tls_in_offset;
    if (available == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    if (length > available)
        length = available;
    memcpy(data, client->tls_in.data + client->tls_in_offset, length);
    client->tls_in_offset += length;
    return (int)length;
}

static void on_client_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    static char storage[65536];
    (void)suggested;
    *buf = uv_buf_init(storage, sizeof storage);
}

static void on_client_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct client *client = stream->data;
    if (nread < 0) {
        client->eof = true;
        client->read_error = (int)nread;
        uv_read_stop(stream);
        return;
    }
    if (client->tls) {
        buffer_append(&client->tls_in, buf->base, (size_t)nread);
        tls_client_drive(client);
    } else {
        buffer_append(&client->received, buf->base, (size_t)nread);
    }
}

static void client_start_reading(struct client *client)
{
    if (!client->reading && uv_read_start((uv_stream_t *)&client->tcp, on_client_alloc, on_client_read) == 0)
        client->reading = true;
}

static void on_client_connect(uv_connect_t *connect, int status)
{
    struct client *client = connect->data;
    if (status < 0) {
        client->connect_failed = true;
        client->eof = true;
        return;
    }
    client->connected = true;
    if (client->tls)
        tls_client_drive(client);
}

/* `read`: whether the client reads what arrives (false = a consumer that
 * never reads). */
static struct client *client_open(int port, bool read)
{
    struct client *client = calloc(1, sizeof *client);
    if (!client)
        return NULL;
    uv_tcp_init(&loop, &client->tcp);
    client->tcp.data = client;
    client->connect.data = client;
    clients_open++;
    struct sockaddr_in address;
    uv_ip4_addr("127.0.0.1", port, &address);
    if (uv_tcp_connect(&client->connect, &client->tcp, (const struct sockaddr *)&address,
                       on_client_connect) < 0) {
        client->connect_failed = client->eof = true;
        return client;
    }
    if (read)
        client_start_reading(client);
    return client;
}

/* A TLS client trusting `ca_pem`, checking the name `hostname`; `cert` is
 * an optional client certificate. */
static struct client *tls_client_open(int port, const char *ca_pem, const char *hostname,
                                      const struct certs_pair *cert)
{
    struct client *client = client_open(port, false);
    if (!client)
        return NULL;
    client->tls = true;
    mbedtls_ssl_init(&client->ssl);
    mbedtls_ssl_config_init(&client->config);
    mbedtls_x509_crt_init(&client->ca);
    mbedtls_x509_crt_init(&client->cert);
    mbedtls_pk_init(&client->key);
    mbedtls_ssl_config_defaults(&client->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_rng(&client->config, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_x509_crt_parse(&client->ca, (const unsigned char *)ca_pem, strlen(ca_pem) + 1);
    mbedtls_ssl_conf_ca_chain(&client->config, &client->ca, NULL);
    mbedtls_ssl_conf_authmode(&client->config, MBEDTLS_SSL_VERIFY_REQUIRED);
    if (cert) {
        mbedtls_x509_crt_parse(&client->cert, (const unsigned char *)cert->cert_pem,
                               strlen(cert->cert_pem) + 1);
        mbedtls_pk_parse_key(&client->key, (const unsigned char *)cert->key_pem,
                             strlen(cert->key_pem) + 1, NULL, 0);
        mbedtls_ssl_conf_own_cert(&client->config, &client->cert, &client->key);
    }
    mbedtls_ssl_setup(&client->ssl, &client->config);
    mbedtls_ssl_set_hostname(&client->ssl, hostname);
    mbedtls_ssl_set_bio(&client->ssl, client, client_bio_send, client_bio_receive, NULL);
    client_start_reading(client);
    return client;
}

/* ------------------------------------------------------------------ */
/* reading responses back with llhttp */

struct response {
    int status;
    struct buffer headers;    /* "lowercased-name: value\n" */
    struct buffer body;
};

struct response_parse {
    struct response *responses;
    int capacity, count;
    struct buffer field;
    bool in_value;
};

static int on_response_begin(llhttp_t *parser)
{
    struct response_parse *parse = parser->data;
    if (parse->count < parse->capacity)
        memset(&parse->responses[parse->count], 0, sizeof parse->responses[0]);
    return 0;
}

static int on_response_field(llhttp_t *parser, const char *at, size_t length)
{
    struct response_parse *parse = parser->data;
    if (parse->count >= parse->capacity)
        return 0;
    struct buffer *headers = &parse->responses[parse->count].headers;
    if (parse->in_value)
        buffer_append_string(headers, "\n");
    parse->in_value = false;
    for (size_t i = 0; i < length; i++) {
        char c = at[i] >= 'A' && at[i] <= 'Z' ? (char)(at[i] + 32) : at[i];
        buffer_append(headers, &c, 1);
    }
    return 0;
}

static int on_response_value(llhttp_t *parser, const char *at, size_t length)
{
    struct response_parse *parse = parser->data;
    if (parse->count >= parse->capacity)
        return 0;
    struct buffer *headers = &parse->responses[parse->count].headers;
    if (!parse->in_value)
        buffer_append_string(headers, ": ");
    parse->in_value = true;
    buffer_append(headers, at, length);
    return 0;
}

static int on_response_headers(llhttp_t *parser)
{
    struct response_parse *parse = parser->data;
    if (parse->count >= parse->capacity)
        return 0;
    if (parse->in_value)
        buffer_append_string(&parse->responses[parse->count].headers, "\n");
    parse->in_value = false;
    parse->responses[parse->count].status = parser->status_code;
    return 0;
}

static int on_response_body(llhttp_t *parser, const char *at, size_t length)
{
    struct response_parse *parse = parser->data;
    if (parse->count < parse->capacity)
        buffer_append(&parse->responses[parse->count].body, at, length);
    return 0;
}

static int on_response_complete(llhttp_t *parser)
{
    struct response_parse *parse = parser->data;
    parse->count++;
    return 0;
}

/* Complete responses in `data` (at most `capacity`); `at_eof` finishes a
 * body that ends at close. Callers free with responses_free. */
static int parse_responses(const struct buffer *data, bool at_eof, struct response *out, int capacity)
{
    static const llhttp_settings_t settings = {
        .on_message_begin = on_response_begin,
        .on_header_field = on_response_field,
        .on_header_value = on_response_value,
        .on_headers_complete = on_response_headers,
        .on_body = on_response_body,
        .on_message_complete = on_response_complete,
    };
    struct response_parse parse = { .responses = out, .capacity = capacity };
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    parser.data = &parse;
    memset(out, 0, sizeof *out * (size_t)capacity);
    enum llhttp_errno error = llhttp_execute(&parser, buffer_string(data), data->length);
    if (error == HPE_OK && at_eof)
        llhttp_finish(&parser);
    int complete = parse.count < capacity ? parse.count : capacity;
    return complete;
}

static void responses_free(struct response *responses, int count)
{
    for (int i = 0; i < count; i++) {
        buffer_free(&responses[i].headers);
        buffer_free(&responses[i].body);
    }
}

static bool has_header(const struct response *response, const char *line)
{
    return strstr(buffer_string(&response->headers), line) != NULL;
}

struct response_wait {
    struct client *client;
    int count;
};

static bool responses_arrived(void *arg)
{
    struct response_wait *wait = arg;
    struct response responses[64];
    int count = parse_responses(&wait->client->received, false, responses, 64);
    responses_free(responses, 64);
    return count >= wait->count || wait->client->eof;
}

static bool client_eof(void *arg)
{
    return ((struct client *)arg)->eof;
}

/* Waits for `count` responses (or EOF) and parses them into `out`. */
static int await_responses(struct client *client, int count, struct response *out, int capacity)
{
    struct response_wait wait = { client, count };
    run_until(responses_arrived, &wait, 5000);
    return parse_responses(&client->received, client->eof, out, capacity);
}

/* ------------------------------------------------------------------ */
/* the server under test */

static struct http_server *server;
static bool server_closed;

static void on_server_closed(void *data)
{
    *(bool *)data = true;
}

static void handle_hello(struct http_request *request, void *data)
{
    (void)data;
    http_response_header(request, "X-Served-By", "test");
    http_response_send_text(request, 200, "text/plain", "hello\n");
}

static void handle_info(struct http_request *request, void *data)
{
    char text[2048];
    const char *watch = http_request_query_param(request, "watch");
    const char *selector = http_request_query_param(request, "labelSelector");
    const char *header = http_request_header(request, "x-test-header");
    snprintf(text, sizeof text,
             "route=%s method=%s path=%s query=%s watch=%s selector=%s header=%s tls=%d ip=%s port_ok=%d",
             (const char *)data, http_request_method(request), http_request_path(request),
             http_request_query(request), watch ? watch : "(none)", selector ? selector : "(none)",
             header ? header : "(none)", http_request_is_tls(request), http_request_remote_ip(request),
             http_request_remote_port(request) > 0);
    http_response_send_text(request, 200, "text/plain", text);
}

static void handle_echo(struct http_request *request, void *data)
{
    (void)data;
    size_t length;
    const char *body = http_request_body(request, &length);
    http_response_send(request, 200, "application/octet-stream", body, length);
}

/* Holds requests: the test responds, streams, or watches them go away. */
static struct http_request *held;
static int gone_count;

static void on_held_gone(struct http_request *request, void *data)
{
    (void)data;
    if (request == held)
        held = NULL;
    gone_count++;
}

static void handle_hold(struct http_request *request, void *data)
{
    (void)data;
    held = request;
    http_request_on_gone(request, on_held_gone, NULL);
}

/* Answers after a timer, to prove pipelined answers keep their order. */
static void on_delay_timer(uv_timer_t *timer)
{
    struct http_request *request = timer->data;
    http_response_send_text(request, 200, "text/plain", "delayed\n");
    uv_close((uv_handle_t *)timer, (uv_close_cb)free);
}

static void handle_delay(struct http_request *request, void *data)
{
    (void)data;
    uv_timer_t *timer = malloc(sizeof *timer);
    uv_timer_init(&loop, timer);
    timer->data = request;
    uv_timer_start(timer, on_delay_timer, 50, 0);
}

static int start_server(const struct http_server_options *options)
{
    server_closed = false;
    held = NULL;
    gone_count = 0;
    int rc = http_server_start(&loop, options, &server);
    if (rc != 0)
        return rc;
    http_server_route(server, "GET", "/hello", handle_hello, NULL);
    http_server_route(server, NULL, "/echo", handle_echo, NULL);
    http_server_route(server, "GET", "/info", handle_info, "info");
    http_server_route_prefix(server, "GET", "/api/", handle_info, "prefix");
    http_server_route_prefix(server, "GET", "/api/v1/", handle_info, "longer-prefix");
    http_server_route(server, "GET", "/api/exact", handle_info, "exact");
    http_server_route(server, "POST", "/only-post", handle_echo, NULL);
    http_server_route(server, NULL, "/hold", handle_hold, NULL);
    http_server_route(server, "GET", "/delay", handle_delay, NULL);
    return 0;
}

static bool everything_closed(void *arg)
{
    (void)arg;
    return server_closed && clients_open == 0;
}

/* Closes the server and any client left, and checks the loop is empty. */
static void finish(void)
{
    if (server)
        http_server_close(server, on_server_closed, &server_closed);
    server = NULL;
    CHECK(run_until(everything_closed, NULL, 5000));
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
}

static void begin(void)
{
    uv_loop_init(&loop);
    clients_open = 0;
}

static struct client *request_once(const char *text, struct response *out, int *count)
{
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, text);
    *count = await_responses(client, 1, out, 1);
    return client;
}

/* ------------------------------------------------------------------ */
/* cases */

static void server_routes_and_404(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    CHECK(http_server_port(server) > 0);
    CHECK(!http_server_is_tls(server));

    struct response response[1];
    int count;
    struct client *client = request_once("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 200);
    CHECK_STR(buffer_string(&response[0].body), "hello\n");
    CHECK(has_header(&response[0], "x-served-by: test\n"));
    CHECK(has_header(&response[0], "content-type: text/plain\n"));
    CHECK(has_header(&response[0], "content-length: 6\n"));
    responses_free(response, 1);
    client_close(client);

    client = request_once("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 404);
    responses_free(response, 1);
    client_close(client);

    /* exact wins over prefix, the longer prefix over the shorter */
    const char *paths[][2] = {
        { "/api/exact", "route=exact " },
        { "/api/v1/pods", "route=longer-prefix " },
        { "/api/other", "route=prefix " },
    };
    for (size_t i = 0; i < 3; i++) {
        char text[256];
        snprintf(text, sizeof text, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i][0]);
        client = request_once(text, response, &count);
        REQUIRE(count == 1);
        CHECK(strstr(buffer_string(&response[0].body), paths[i][1]) != NULL);
        responses_free(response, 1);
        client_close(client);
    }

    client = request_once("GET /only-post HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 405);
    CHECK(has_header(&response[0], "allow: POST\n"));
    responses_free(response, 1);
    client_close(client);

    /* HEAD: a GET route answers with headers only */
    client = client_open(http_server_port(server), true);
    client_send_text(client, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(100);
    const char *raw = buffer_string(&client->received);
    CHECK(strncmp(raw, "HTTP/1.1 200 OK\r\n", 17) == 0);
    const char *second = strstr(raw + 1, "HTTP/1.1 200 OK\r\n");
    CHECK(second && strstr(raw, "\r\n\r\nHTTP/1.1") != NULL && strstr(second, "\r\n\r\nhello\n") != NULL);
    client_close(client);
    finish();
}

static void server_query_headers_and_remote(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct response response[1];
    int count;
    struct client *client = request_once(
        "GET /api/v1/na%20me?watch=1&labelSelector=app%3Dtidb%2Ctier+x&flag HTTP/1.1\r\n"
        "Host: x\r\nX-TEST-Header:   some value  \r\n\r\n",
        response, &count);
    REQUIRE(count == 1);
    const char *body = buffer_string(&response[0].body);
    CHECK(strstr(body, "path=/api/v1/na me ") != NULL);
    CHECK(strstr(body, "query=watch=1&labelSelector=app%3Dtidb%2Ctier+x&flag ") != NULL);
    CHECK(strstr(body, "watch=1 ") != NULL);
    CHECK(strstr(body, "selector=app=tidb,tier x ") != NULL);
    CHECK(strstr(body, "header=some value tls=0 ip=127.0.0.1 port_ok=1") != NULL);
    responses_free(response, 1);
    client_close(client);

    /* A bad escape in the path is a bad request. */
    client = request_once("GET /api/%zz HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 400);
    responses_free(response, 1);
    client_close(client);
    finish();
}

static void server_large_body_intact(void)
{
    begin();
    struct http_server_options options = { .max_body_bytes = 1 << 20 };
    REQUIRE(start_server(&options) == 0);
    size_t size = 512 * 1024;
    char *body = malloc(size);
    REQUIRE(body);
    for (size_t i = 0; i < size; i++)
        body[i] = (char)((i * 131 + i / 7) & 0xff);
    char head[128];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", size);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, head);
    client_send(client, body, size);
    struct response response[1];
    int count = await_responses(client, 1, response, 1);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 200);
    CHECK_INT(response[0].body.length, size);
    CHECK(response[0].body.length == size && memcmp(response[0].body.data, body, size) == 0);
    responses_free(response, 1);

    /* chunked request body too, with Expect: 100-continue */
    buffer_clear(&client->received);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                             "Expect: 100-continue\r\n\r\n");
    client_send_text(client, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    struct response two[2];
    count = await_responses(client, 2, two, 2);
    REQUIRE(count == 2);
    CHECK_INT(two[0].status, 100);
    CHECK_INT(two[1].status, 200);
    CHECK_STR(buffer_string(&two[1].body), "hello world");
    responses_free(two, 2);
    client_close(client);
    free(body);
    finish();
}

static void server_body_over_limit_413(void)
{
    begin();
    struct http_server_options options = { .max_body_bytes = 1024 };
    REQUIRE(start_server(&options) == 0);
    struct response response[1];
    int count;
    struct client *client = request_once(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n", response, &count);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 413);
    CHECK(has_header(&response[0], "connection: close\n"));
    responses_free(response, 1);
    CHECK(run_until(client_eof, client, 2000));
    client_close(client);

    /* chunked: the limit is counted as the body arrives */
    client = client_open(http_server_port(server), true);
    client_send_text(client, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[600];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 2; i++) {
        client_send_text(client, "258\r\n");
        client_send(client, chunk, sizeof chunk);
        client_send_text(client, "\r\n");
    }
    count = await_responses(client, 1, response, 1);
    REQUIRE(count == 1);
    CHECK_INT(response[0].status, 413);
    responses_free(response, 1);
    CHECK(run_until(client_eof, client, 2000));
    client_close(client);
    finish();
}

static void server_keep_alive_and_close(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct response response[2];
    REQUIRE(await_responses(client, 1, response, 2) == 1);
    responses_free(response, 2);
    CHECK(!client->eof);
    client_send_text(client, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(await_responses(client, 2, response, 2) == 2);
    CHECK(strstr(buffer_string(&response[1].body), "route=info") != NULL);
    responses_free(response, 2);
    CHECK_INT(http_server_connection_count(server), 1);

    /* Connection: close is answered, then the server closes */
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(run_until(client_eof, client, 2000));
    struct response three[3];
    REQUIRE(parse_responses(&client->received, true, three, 3) == 3);
    CHECK(has_header(&three[2], "connection: close\n"));
    responses_free(three, 3);
    client_close(client);

    /* HTTP/1.0: closes unless keep-alive is asked for */
    struct response one[1];
    int count;
    client = request_once("GET /hello HTTP/1.0\r\n\r\n", one, &count);
    CHECK_INT(count, 1);
    responses_free(one, 1);
    CHECK(run_until(client_eof, client, 2000));
    client_close(client);
    client = request_once("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", one, &count);
    CHECK_INT(count, 1);
    CHECK(has_header(&one[0], "connection: keep-alive\n"));
    responses_free(one, 1);
    run_for(50);
    CHECK(!client->eof);
    client_close(client);
    finish();
}

static void server_pipelined_in_order(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client,
                     "GET /delay HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                     "GET /delay HTTP/1.1\r\nHost: x\r\n\r\n"
                     "GET /info?n=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    struct response response[5];
    REQUIRE(await_responses(client, 5, response, 5) == 5);
    CHECK_STR(buffer_string(&response[0].body), "delayed\n");
    CHECK_STR(buffer_string(&response[1].body), "hello\n");
    CHECK_STR(buffer_string(&response[2].body), "abc");
    CHECK_STR(buffer_string(&response[3].body), "delayed\n");
    CHECK(strstr(buffer_string(&response[4].body), "query=n=5") != NULL);
    responses_free(response, 5);
    client_close(client);
    finish();
}

static void server_malformed_400_and_close(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET /hello HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "GET hello HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct response response[1];
        int count;
        struct client *client = request_once(bad[i], response, &count);
        CHECK_INT(count, 1);
        CHECK_INT(response[0].status, 400);
        responses_free(response, 1);
        CHECK(run_until(client_eof, client, 2000));
        client_close(client);
    }

    /* headers over the limit */
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
    char filler[4096];
    memset(filler, 'b', sizeof filler);
    for (int i = 0; i < 5; i++)
        client_send(client, filler, sizeof filler);
    client_send_text(client, "\r\n\r\n");
    struct response response[1];
    REQUIRE(await_responses(client, 1, response, 1) == 1);
    CHECK_INT(response[0].status, 431);
    responses_free(response, 1);
    CHECK(run_until(client_eof, client, 2000));
    client_close(client);
    finish();
}

static uint64_t now_ms(void)
{
    uv_update_time(&loop);
    return uv_now(&loop);
}

static void server_idle_timeout(void)
{
    begin();
    struct http_server_options options = { .idle_timeout_ms = 100, .read_timeout_ms = 5000 };
    REQUIRE(start_server(&options) == 0);
    uint64_t start = now_ms();
    struct client *silent = client_open(http_server_port(server), true);
    struct client *served = client_open(http_server_port(server), true);
    client_send_text(served, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(run_until(client_eof, silent, 2000));
    uint64_t elapsed = now_ms() - start;
    CHECK(elapsed >= 90 && elapsed < 1000);
    CHECK(silent->received.length == 0);
    CHECK(run_until(client_eof, served, 2000));
    CHECK(strncmp(buffer_string(&served->received), "HTTP/1.1 200 OK", 15) == 0);
    client_close(silent);
    client_close(served);

    /* A held request is never timed out. */
    struct client *waiting = client_open(http_server_port(server), true);
    client_send_text(waiting, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(300);
    CHECK(!waiting->eof);
    REQUIRE(held != NULL);
    http_response_send_text(held, 200, NULL, "late");
    held = NULL;
    struct response response[1];
    REQUIRE(await_responses(waiting, 1, response, 1) == 1);
    CHECK_STR(buffer_string(&response[0].body), "late");
    responses_free(response, 1);
    CHECK(run_until(client_eof, waiting, 2000)); /* idle again afterwards */
    client_close(waiting);
    finish();
}

struct dribble {
    struct client *client;
    const char *text;
    size_t sent;
};

static void on_dribble(uv_timer_t *timer)
{
    struct dribble *dribble = timer->data;
    if (dribble->client->eof || !dribble->text[dribble->sent]) {
        uv_timer_stop(timer);
        return;
    }
    client_send(dribble->client, dribble->text + dribble->sent, 1);
    dribble->sent++;
}

static void server_read_timeout_closes_dribbler(void)
{
    begin();
    struct http_server_options options = { .idle_timeout_ms = 5000, .read_timeout_ms = 300 };
    REQUIRE(start_server(&options) == 0);
    struct dribble dribble = {
        .client = client_open(http_server_port(server), true),
        .text = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
    };
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timer.data = &dribble;
    uint64_t start = now_ms();
    uv_timer_start(&timer, on_dribble, 50, 50);
    CHECK(run_until(client_eof, dribble.client, 3000));
    uint64_t elapsed = now_ms() - start;
    CHECK(elapsed >= 300 && elapsed < 2000);
    CHECK(dribble.sent < strlen(dribble.text)); /* closed before it finished */
    CHECK_INT(dribble.client->received.length, 0);
    uv_close((uv_handle_t *)&timer, NULL);
    client_close(dribble.client);
    finish();
}

static void server_survives_random_bytes(void)
{
    begin();
    struct http_server_options options = { .idle_timeout_ms = 100, .read_timeout_ms = 100 };
    REQUIRE(start_server(&options) == 0);
    srand(20240601);
    static const char *const prefixes[] = {
        "", "GET / HTTP/1.1\r\n", "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n",
        "GET /hello HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "GET /%", "\r\n\r\n",
    };
    int iterations = under_valgrind() ? 120 : 400;
    int batch = 40;
    for (int done = 0; done < iterations; done += batch) {
        struct client *clients[40];
        for (int i = 0; i < batch; i++) {
            clients[i] = client_open(http_server_port(server), true);
            char bytes[700];
            const char *prefix = prefixes[rand() % 6];
            size_t length = strlen(prefix);
            memcpy(bytes, prefix, length);
            size_t extra = (size_t)(rand() % 600);
            for (size_t j = 0; j < extra; j++) {
                int kind = rand() % 4;
                bytes[length++] = kind == 0 ? "\r\n: %/?"[rand() % 7] : (char)(rand() & 0xff);
            }
            client_send(clients[i], bytes, length);
        }
        /* Half hang up at once, the rest wait for the server to close. */
        run_for(5);
        for (int i = 0; i < batch; i += 2)
            client_close(clients[i]);
        for (int i = 1; i < batch; i += 2) {
            CHECK(run_until(client_eof, clients[i], 3000));
            client_close(clients[i]);
        }
    }
    struct response response[1];
    int count;
    struct client *client = request_once("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    CHECK_INT(count, 1);
    CHECK_INT(response[0].status, 200);
    responses_free(response, 1);
    client_close(client);
    run_for(20);
    CHECK_INT(http_server_connection_count(server), 0);
    finish();
}

static void server_streams_chunks(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold?watch=true HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(100);
    REQUIRE(held != NULL);
    struct http_request *request = held;
    CHECK_STR(http_request_query_param(request, "watch"), "true");
    CHECK_INT(http_response_write_chunk(request, "x", 1), -EINVAL); /* not begun */
    CHECK_INT(http_response_begin_stream(request, 200, "application/json"), 0);
    CHECK_INT(http_response_begin_stream(request, 200, "application/json"), -EINVAL);
    CHECK_INT(http_response_write_chunk(request, "{\"type\":\"ADDED\"}\n", 17), 0);
    run_for(30);
    CHECK(strstr(buffer_string(&client->received), "\r\n\r\n11\r\n{\"type\":\"ADDED\"}\n\r\n") != NULL);
    CHECK_INT(http_response_write_chunk(request, "", 0), 0); /* ignored, not a terminator */
    CHECK_INT(http_response_write_chunk(request, "{\"type\":\"BOOKMARK\"}\n", 20), 0);
    CHECK_INT(http_response_end(request), 0);
    held = NULL;
    struct response response[1];
    REQUIRE(await_responses(client, 1, response, 1) == 1);
    CHECK(has_header(&response[0], "transfer-encoding: chunked\n"));
    CHECK_STR(buffer_string(&response[0].body), "{\"type\":\"ADDED\"}\n{\"type\":\"BOOKMARK\"}\n");
    responses_free(response, 1);
    CHECK_INT(gone_count, 0);

    /* the connection is still good for another request */
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct response two[2];
    REQUIRE(await_responses(client, 2, two, 2) == 2);
    CHECK_STR(buffer_string(&two[1].body), "hello\n");
    responses_free(two, 2);
    client_close(client);

    /* HTTP/1.0: the body runs until close */
    client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.0\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    request = held;
    http_response_begin_stream(request, 200, "text/plain");
    http_response_write_chunk(request, "abc", 3);
    http_response_write_chunk(request, "def", 3);
    http_response_end(request);
    held = NULL;
    CHECK(run_until(client_eof, client, 2000));
    REQUIRE(parse_responses(&client->received, true, response, 1) == 1);
    CHECK_STR(buffer_string(&response[0].body), "abcdef");
    CHECK(!has_header(&response[0], "transfer-encoding"));
    responses_free(response, 1);
    client_close(client);
    finish();
}

static bool gone_seen(void *arg)
{
    return gone_count >= *(int *)arg;
}

static void server_client_disconnect_fires_gone(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    CHECK_INT(http_response_begin_stream(held, 200, "application/json"), 0);
    CHECK_INT(gone_count, 0);
    client_close(client);
    int one = 1;
    CHECK(run_until(gone_seen, &one, 2000));
    CHECK(held == NULL);
    CHECK_INT(gone_count, 1);
    run_for(10);
    CHECK_INT(http_server_connection_count(server), 0);

    /* abort: the connection closes, gone follows from the loop */
    client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    struct http_request *request = held;
    http_response_abort(request);
    CHECK_INT(gone_count, 1); /* not from inside the call */
    CHECK_INT(http_response_begin_stream(request, 200, NULL), -ECONNRESET);
    int two = 2;
    CHECK(run_until(gone_seen, &two, 2000));
    CHECK(run_until(client_eof, client, 2000));
    client_close(client);

    /* closing the server: held requests are released through gone */
    client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    client_close(client);
    finish();
    CHECK_INT(gone_count, 3);
}

static void respond_inside_gone(struct http_request *request, void *data)
{
    *(int *)data = http_response_send_text(request, 200, NULL, "too late");
    gone_count++;
}

static void server_gone_callback_may_respond(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    int result = 0;
    http_request_on_gone(held, respond_inside_gone, &result);
    client_close(client);
    int one = 1;
    CHECK(run_until(gone_seen, &one, 2000));
    CHECK_INT(result, -ECONNRESET);
    finish();
}

static bool count_hellos(void *arg)
{
    struct response_wait *wait = arg;
    int seen = 0;
    for (const char *p = buffer_string(&wait->client->received); (p = strstr(p, "hello\n")); p++)
        seen++;
    return seen >= wait->count || wait->client->eof;
}

static void server_pipelined_flood_while_held(void)
{
    begin();
    struct http_server_options options = { .max_header_bytes = 1024, .max_body_bytes = 1024 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), true);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    static const char one[] = "GET /hello HTTP/1.1\r\n\r\n";
    int count = under_valgrind() ? 3000 : 8000; /* well over the buffered-input bound */
    struct buffer flood = { 0 };
    for (int i = 0; i < count; i++)
        buffer_append_string(&flood, one);
    client_send(client, flood.data, flood.length);
    buffer_free(&flood);
    run_for(200);
    REQUIRE(held != NULL);
    CHECK(!strstr(buffer_string(&client->received), "hello"));
    http_response_send_text(held, 200, NULL, "first\n");
    held = NULL;
    struct response_wait wait = { client, count };
    CHECK(run_until(count_hellos, &wait, 20000));
    CHECK(strncmp(buffer_string(&client->received) + client->received.length - 6, "hello\n", 6) == 0);
    CHECK(strstr(buffer_string(&client->received), "first\n") < strstr(buffer_string(&client->received), "hello\n"));
    CHECK(!client->eof);
    client_close(client);
    finish();
}

static void server_queued_bytes_grow_for_slow_reader(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    struct client *client = client_open(http_server_port(server), false); /* never reads */
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_for(50);
    REQUIRE(held != NULL);
    struct http_request *request = held;
    CHECK_INT(http_response_begin_stream(request, 200, "application/json"), 0);
    size_t chunk_size = 256 * 1024;
    char *chunk = malloc(chunk_size);
    REQUIRE(chunk);
    memset(chunk, 'w', chunk_size);
    size_t first_queued = 0, last_queued = 0;
    for (int i = 0; i < 256 && last_queued < 4 * chunk_size; i++) {
        CHECK_INT(http_response_write_chunk(request, chunk, chunk_size), 0);
        uv_run(&loop, UV_RUN_NOWAIT);
        last_queued = http_response_queued_bytes(request);
        if (!first_queued)
            first_queued = last_queued;
    }
    free(chunk);
    CHECK(first_queued > 0);
    CHECK(last_queued >= 4 * chunk_size);
    CHECK(last_queued > first_queued);
    /* the caller drops the slow consumer */
    http_response_abort(request);
    int one = 1;
    CHECK(run_until(gone_seen, &one, 2000));
    client_close(client);
    finish();
}

static void server_connection_limit(void)
{
    begin();
    struct http_server_options options = { .max_connections = 2 };
    REQUIRE(start_server(&options) == 0);
    struct client *first = client_open(http_server_port(server), true);
    struct client *second = client_open(http_server_port(server), true);
    run_for(50);
    struct client *third = client_open(http_server_port(server), true);
    CHECK(run_until(client_eof, third, 2000));
    CHECK_INT(third->received.length, 0);
    CHECK(!first->eof && !second->eof);
    CHECK_INT(http_server_connection_count(server), 2);
    client_close(first);
    run_for(50);
    struct response response[1];
    int count;
    struct client *fourth = request_once("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    CHECK_INT(count, 1);
    responses_free(response, 1);
    client_close(second);
    client_close(third);
    client_close(fourth);
    finish();
}

static void server_stop_and_resume_listening(void)
{
    begin();
    struct http_server_options options = { 0 };
    REQUIRE(start_server(&options) == 0);
    int port = http_server_port(server);
    struct client *kept = client_open(port, true);
    run_for(30);
    http_server_stop_listening(server);
    run_for(30);
    struct client *refused = client_open(port, true);
    CHECK(run_until(client_eof, refused, 2000));
    CHECK(refused->connect_failed);
    client_close(refused);
    /* the existing connection still works */
    client_send_text(kept, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct response response[1];
    CHECK_INT(await_responses(kept, 1, response, 1), 1);
    responses_free(response, 1);

    CHECK_INT(http_server_resume_listening(server), 0);
    CHECK_INT(http_server_port(server), port);
    int count;
    struct client *again = request_once("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", response, &count);
    CHECK_INT(count, 1);
    responses_free(response, 1);

    http_server_drop_connections(server);
    CHECK(run_until(client_eof, kept, 2000));
    CHECK(run_until(client_eof, again, 2000));
    client_close(kept);
    client_close(again);
    finish();
}

struct many {
    struct client **clients;
    int count;
};

static bool all_answered(void *arg)
{
    struct many *many = arg;
    for (int i = 0; i < many->count; i++)
        if (!strstr(buffer_string(&many->clients[i]->received), "\r\n\r\nhello\n"))
            return false;
    return true;
}

static bool no_connections(void *arg)
{
    (void)arg;
    return http_server_connection_count(server) == 0;
}

static void server_many_concurrent_connections(void)
{
    int count = under_valgrind() ? 200 : 1000;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < (rlim_t)(2 * count + 64)) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
        if (limit.rlim_cur < (rlim_t)(2 * count + 64))
            count = (int)(limit.rlim_cur - 64) / 2;
    }
    begin();
    struct http_server_options options = { .max_connections = 2000, .backlog = 1024 };
    REQUIRE(start_server(&options) == 0);
    struct many many = { calloc((size_t)count, sizeof(struct client *)), count };
    REQUIRE(many.clients);
    for (int i = 0; i < count; i++) {
        many.clients[i] = client_open(http_server_port(server), true);
        client_send_text(many.clients[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    CHECK(run_until(all_answered, &many, 20000));
    CHECK_INT(http_server_connection_count(server), count);
    for (int i = 0; i < count; i++)
        client_close(many.clients[i]);
    CHECK(run_until(no_connections, NULL, 10000));
    free(many.clients);
    finish();
}

/* ------------------------------------------------------------------ */
/* TLS */

static struct certs_pair ca, other_ca, server_cert, client_cert;

static bool make_certs(void)
{
    static const char *const names[] = { "localhost" };
    static const char *const ips[] = { "127.0.0.1" };
    if (ca.cert_pem)
        return true;
    struct certs_request request = { .common_name = "test-ca", .valid_seconds = 3600 };
    if (certs_make_ca(&request, &ca) != 0 || certs_make_ca(&request, &other_ca) != 0)
        return false;
    struct certs_request leaf = { .common_name = "server", .dns_names = names, .dns_name_count = 1,
                                  .ip_addresses = ips, .ip_address_count = 1, .valid_seconds = 3600 };
    struct certs_request alice = { .common_name = "alice", .valid_seconds = 3600 };
    return certs_make_leaf(&ca, &leaf, &server_cert) == 0 &&
           certs_make_leaf(&ca, &alice, &client_cert) == 0;
}

static bool handshake_over(void *arg)
{
    struct client *client = arg;
    return client->handshake_done || client->handshake_failed || client->eof;
}

static void server_tls_serves_requests(void)
{
    REQUIRE(make_certs());
    begin();
    char cert_path[512], key_path[512];
    snprintf(cert_path, sizeof cert_path, "%s/tls.crt", test_temp_dir());
    snprintf(key_path, sizeof key_path, "%s/tls.key", test_temp_dir());
    REQUIRE(certs_write_pair(&server_cert, cert_path, key_path) == 0);
    struct http_server_options options = { .tls_cert_file = cert_path, .tls_key_file = key_path };
    REQUIRE(start_server(&options) == 0);
    CHECK(http_server_is_tls(server));

    struct client *client = tls_client_open(http_server_port(server), ca.cert_pem, "localhost", NULL);
    client_send_text(client, "GET /info?watch=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    struct response response[2];
    REQUIRE(await_responses(client, 1, response, 2) == 1);
    CHECK(client->handshake_done);
    CHECK_INT(client->verify_flags, 0);
    /* The client offers every suite; the server picks by its own order. */
    CHECK_STR(mbedtls_ssl_get_ciphersuite(&client->ssl), "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256");
    CHECK_INT(response[0].status, 200);
    CHECK(strstr(buffer_string(&response[0].body), "watch=1 ") != NULL);
    CHECK(strstr(buffer_string(&response[0].body), "tls=1") != NULL);
    responses_free(response, 2);

    /* a big body both ways through TLS records, then keep-alive */
    size_t size = 200 * 1000;
    char *body = malloc(size);
    REQUIRE(body);
    for (size_t i = 0; i < size; i++)
        body[i] = (char)(i % 251);
    char head[128];
    snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", size);
    client_send_text(client, head);
    client_send(client, body, size);
    REQUIRE(await_responses(client, 2, response, 2) == 2);
    CHECK(response[1].body.length == size && memcmp(response[1].body.data, body, size) == 0);
    responses_free(response, 2);
    free(body);
    client_close(client);

    /* mbedTLS 2.28 clients match names against dNSName entries only, so the
     * iPAddress entry is checked by test_certs instead. */
    client = tls_client_open(http_server_port(server), ca.cert_pem, "127.0.0.1", NULL);
    CHECK(run_until(handshake_over, client, 3000));
    CHECK(client->verify_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    client_close(client);
    finish();
}

static void server_tls_rejects_wrong_ca_and_plaintext(void)
{
    REQUIRE(make_certs());
    begin();
    struct http_server_options options = { .tls_cert_pem = server_cert.cert_pem,
                                           .tls_key_pem = server_cert.key_pem,
                                           .handshake_timeout_ms = under_valgrind() ? 3000 : 300 };
    REQUIRE(start_server(&options) == 0);

    struct client *client = tls_client_open(http_server_port(server), other_ca.cert_pem, "localhost", NULL);
    CHECK(run_until(handshake_over, client, 3000));
    CHECK(client->handshake_failed);
    CHECK(client->verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    client_close(client);

    /* the wrong name fails too */
    client = tls_client_open(http_server_port(server), ca.cert_pem, "evil.example.com", NULL);
    CHECK(run_until(handshake_over, client, 3000));
    CHECK(client->handshake_failed);
    CHECK(client->verify_flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    client_close(client);

    /* plaintext HTTP to the TLS port: closed, nothing served */
    struct client *plain = client_open(http_server_port(server), true);
    client_send_text(plain, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(run_until(client_eof, plain, 3000));
    CHECK(strstr(buffer_string(&plain->received), "hello") == NULL);
    client_close(plain);

    /* random bytes, some after a real ClientHello start */
    srand(77);
    struct client *noise[20];
    for (int i = 0; i < 20; i++) {
        noise[i] = client_open(http_server_port(server), true);
        char bytes[512];
        size_t length = (size_t)(rand() % (int)sizeof bytes) + 1;
        for (size_t j = 0; j < length; j++)
            bytes[j] = (char)(rand() & 0xff);
        if (i % 2)
            memcpy(bytes, "\x16\x03\x01\x02\x00\x01", length < 6 ? length : 6);
        client_send(noise[i], bytes, length);
    }
    run_for(5);
    for (int i = 0; i < 20; i += 3)
        client_close(noise[i]);
    for (int i = 0; i < 20; i++) {
        if (i % 3 == 0)
            continue;
        CHECK(run_until(client_eof, noise[i], 5000)); /* closed by an alert or the timeout */
        client_close(noise[i]);
    }

    /* a client that never starts the handshake is timed out */
    uint64_t start = now_ms();
    struct client *silent = client_open(http_server_port(server), true);
    CHECK(run_until(client_eof, silent, 5000));
    CHECK(now_ms() - start >= options.handshake_timeout_ms - 10);
    client_close(silent);

    /* and a good client still works */
    client = tls_client_open(http_server_port(server), ca.cert_pem, "localhost", NULL);
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct response response[1];
    REQUIRE(await_responses(client, 1, response, 1) == 1);
    CHECK_INT(response[0].status, 200);
    responses_free(response, 1);
    client_close(client);
    finish();
}

static void server_tls_client_certificates(void)
{
    REQUIRE(make_certs());
    begin();
    struct http_server_options options = { .tls_cert_pem = server_cert.cert_pem,
                                           .tls_key_pem = server_cert.key_pem,
                                           .tls_client_ca_pem = ca.cert_pem };
    REQUIRE(start_server(&options) == 0);
    struct client *client = tls_client_open(http_server_port(server), ca.cert_pem, "localhost", &client_cert);
    client_send_text(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    run_until(handshake_over, client, 3000);
    run_for(50);
    REQUIRE(held != NULL);
    CHECK_STR(http_request_client_subject(held), "CN=alice");
    CHECK(http_request_is_tls(held));
    http_response_send_text(held, 204, NULL, NULL);
    held = NULL;
    struct response response[1];
    REQUIRE(await_responses(client, 1, response, 1) == 1);
    CHECK_INT(response[0].status, 204);
    responses_free(response, 1);
    client_close(client);

    /* without a certificate the handshake fails */
    client = tls_client_open(http_server_port(server), ca.cert_pem, "localhost", NULL);
    client_send_text(client, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(run_until(client_eof, client, 3000) || client->handshake_failed);
    CHECK(strstr(buffer_string(&client->received), "hello") == NULL);
    client_close(client);
    finish();
}

static void server_start_errors(void)
{
    begin();
    struct http_server *failed = NULL;
    struct http_server_options options = { .host = "not-an-address" };
    CHECK_INT(http_server_start(&loop, &options, &failed), -EINVAL);
    CHECK(failed == NULL);
    options = (struct http_server_options){ .tls_cert_pem = "only a cert" };
    CHECK_INT(http_server_start(&loop, &options, &failed), -EINVAL);
    char *logged = NULL;
    size_t logged_size = 0;
    FILE *log_stream = open_memstream(&logged, &logged_size);
    REQUIRE(log_stream);
    log_set_output(log_stream);
    options = (struct http_server_options){ .tls_cert_pem = "bad", .tls_key_pem = "bad" };
    CHECK_INT(http_server_start(&loop, &options, &failed), -EPROTO);
    options = (struct http_server_options){ .tls_cert_file = "/nonexistent/c", .tls_key_file = "/nonexistent/k" };
    CHECK_INT(http_server_start(&loop, &options, &failed), -EPROTO);
    log_set_output(NULL);
    fclose(log_stream);
    CHECK(strstr(logged, "msg=\"http server tls setup failed\"") != NULL);
    free(logged);

    /* the port is taken */
    options = (struct http_server_options){ 0 };
    REQUIRE(start_server(&options) == 0);
    options.port = http_server_port(server);
    CHECK_INT(http_server_start(&loop, &options, &failed), UV_EADDRINUSE);
    CHECK(failed == NULL);
    finish();
}

int main(int argc, char **argv)
{
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
    signal(SIGPIPE, SIG_IGN);
    static const struct test_case cases[] = {
        TEST_CASE(server_routes_and_404),
        TEST_CASE(server_query_headers_and_remote),
        TEST_CASE(server_large_body_intact),
        TEST_CASE(server_body_over_limit_413),
        TEST_CASE(server_keep_alive_and_close),
        TEST_CASE(server_pipelined_in_order),
        TEST_CASE(server_malformed_400_and_close),
        TEST_CASE(server_idle_timeout),
        TEST_CASE(server_read_timeout_closes_dribbler),
        TEST_CASE(server_survives_random_bytes),
        TEST_CASE(server_streams_chunks),
        TEST_CASE(server_client_disconnect_fires_gone),
        TEST_CASE(server_gone_callback_may_respond),
        TEST_CASE(server_pipelined_flood_while_held),
        TEST_CASE(server_queued_bytes_grow_for_slow_reader),
        TEST_CASE(server_connection_limit),
        TEST_CASE(server_stop_and_resume_listening),
        TEST_CASE(server_many_concurrent_connections),
        TEST_CASE(server_tls_serves_requests),
        TEST_CASE(server_tls_rejects_wrong_ca_and_plaintext),
        TEST_CASE(server_tls_client_certificates),
        TEST_CASE(server_start_errors),
    };
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    certs_pair_free(&ca);
    certs_pair_free(&other_ca);
    certs_pair_free(&server_cert);
    certs_pair_free(&client_cert);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return rc;
}
