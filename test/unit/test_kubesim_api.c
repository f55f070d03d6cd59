/*
 * kubesim's HTTP front end to end on one loop: the api_server over HTTPS
 * (a CA from certs.h, bearer token) with its admin listener, called through
 * reactor/http_client; plus the kubesim component main.c runs (data-dir
 * round trip). Every wait is bounded by a deadline.
 */
#include "reactor/buffer.h"
#include "reactor/certs.h"
#include "reactor/http_client.h"
#include "reactor/log.h"
#include "test/sim/api_server.h"
#include "test/sim/kubesim.h"
#include "test/sim/store.h"
#include "test/support/test.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "s3cret-token"

static bool under_valgrind(void)
{
    const char *value = getenv("TEST_UNDER_VALGRIND");
    return value && value[0] == '1';
}

/* ------------------------------------------------------------------ */
/* fixture: loop, store, api server (TLS + token + admin), client */

struct fixture {
    uv_loop_t loop;
    struct store *store;
    struct api_server *api;
    struct http_client *client;
    struct http_client_profile *profile;        /* HTTPS, CA-verified, with the token */
    struct http_client_profile *anonymous;      /* same, no token */
    struct http_client_profile *admin;          /* plain HTTP to the admin port */
    struct certs_pair ca;
    struct certs_pair leaf;
    int closing;
};

static struct fixture F;

static bool run_until(bool (*done)(void *), void *arg, uint64_t timeout_ms)
{
    uv_update_time(&F.loop);
    uint64_t deadline = uv_now(&F.loop) + timeout_ms;
    while (!done(arg)) {
        if (uv_now(&F.loop) >= deadline) return false;
        uv_run(&F.loop, UV_RUN_ONCE);
        uv_update_time(&F.loop);
    }
    return true;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

/* Runs the loop for about `ms` milliseconds. */
static void run_for(uint64_t ms) { run_until(never, NULL, ms); }

static struct http_client_profile *make_profile(const char *url, const char *token, const char *ca)
{
    struct http_client_profile_options options = { .base_url = url, .bearer_token = token,
                                                   .ca_pem = ca };
    return http_client_profile_create(&options);
}

static bool fixture_start_with(const struct api_server_options *extra, bool tls)
{
    memset(&F, 0, sizeof F);
    log_set_level(LOG_ERROR);
    if (uv_loop_init(&F.loop) != 0) return false;
    struct store_options store_options = { .history_size = 2000 };
    F.store = store_new(&store_options);
    if (!F.store) return false;
    struct certs_request ca_request = { .common_name = "test-ca", .valid_seconds = 3600 };
    const char *ips[] = { "127.0.0.1" };
    const char *dns[] = { "localhost" };
    struct certs_request leaf_request = { .common_name = "kubesim", .ip_addresses = ips,
                                          .ip_address_count = 1, .dns_names = dns,
                                          .dns_name_count = 1, .valid_seconds = 3600 };
    if (certs_make_ca(&ca_request, &F.ca) != 0 ||
        certs_make_leaf(&F.ca, &leaf_request, &F.leaf) != 0)
        return false;
    struct api_server_options options = { 0 };
    if (extra) options = *extra;
    options.token = TOKEN;
    options.admin = true;
    if (tls) {
        options.tls_cert_pem = F.leaf.cert_pem;
        options.tls_key_pem = F.leaf.key_pem;
    }
    F.api = api_server_start(&F.loop, F.store, &options);
    if (!F.api) return false;
    F.client = http_client_init(&F.loop, NULL);
    if (!F.client) return false;
    char url[128];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d", tls ? "https" : "http", api_server_port(F.api));
    F.profile = make_profile(url, TOKEN, tls ? F.ca.cert_pem : NULL);
    F.anonymous = make_profile(url, NULL, tls ? F.ca.cert_pem : NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", api_server_admin_port(F.api));
    F.admin = make_profile(url, NULL, NULL);
    return F.profile && F.anonymous && F.admin;
}

static bool fixture_start(void) { return fixture_start_with(NULL, true); }

static void closed_one(void *data)
{
    (void)data;
    F.closing--;
}

static bool all_closed(void *arg)
{
    (void)arg;
    return F.closing == 0;
}

static void fixture_stop(void)
{
    if (F.profile) http_client_profile_unref(F.profile);
    if (F.anonymous) http_client_profile_unref(F.anonymous);
    if (F.admin) http_client_profile_unref(F.admin);
    F.profile = F.anonymous = F.admin = NULL;
    if (F.client) {
        F.closing++;
        http_client_close(F.client, closed_one, NULL);
    }
    if (F.api) {
        F.closing++;
        api_server_close(F.api, closed_one, NULL);
    }
    CHECK(run_until(all_closed, NULL, 5000));
    F.client = NULL;
    F.api = NULL;
    store_free(F.store);
    F.store = NULL;
    certs_pair_free(&F.ca);
    certs_pair_free(&F.leaf);
    /* Let every closing handle finish, then the loop must be empty. */
    for (int i = 0; i < 100 && uv_run(&F.loop, UV_RUN_NOWAIT) != 0; i++) {
    }
    CHECK_INT(uv_loop_close(&F.loop), 0);
}

/* ------------------------------------------------------------------ */
/* buffered calls */

struct reply {
    bool done;
    enum http_client_error error;
    long status;
    char *body;
    cJSON *json;
    char content_type[256];
    char retry_after[32];
    uint64_t elapsed_ms;
};

static void reply_free(struct reply *reply)
{
    free(reply->body);
    cJSON_Delete(reply->json);
    memset(reply, 0, sizeof *reply);
}

static void call_complete(struct http_client_request *request, struct http_client_response *response,
                          void *user_data)
{
    (void)request;
    struct reply *reply = user_data;
    reply->done = true;
    reply->error = response->error;
    reply->status = response->status;
    const char *type = http_client_response_header(response, "Content-Type");
    snprintf(reply->content_type, sizeof reply->content_type, "%s", type ? type : "");
    const char *retry = http_client_response_header(response, "Retry-After");
    snprintf(reply->retry_after, sizeof reply->retry_after, "%s", retry ? retry : "");
    if (response->error == HTTP_ERROR_NONE) {
        reply->body = http_client_response_take_body(response);
        if (reply->body) reply->json = cJSON_Parse(reply->body);
    }
}

static bool reply_done(void *arg) { return ((struct reply *)arg)->done; }

static enum http_client_method method_of(const char *method)
{
    if (strcmp(method, "POST") == 0) return HTTP_CLIENT_POST;
    if (strcmp(method, "PUT") == 0) return HTTP_CLIENT_PUT;
    if (strcmp(method, "PATCH") == 0) return HTTP_CLIENT_PATCH;
    if (strcmp(method, "DELETE") == 0) return HTTP_CLIENT_DELETE;
    return HTTP_CLIENT_GET;
}

/* One request through `profile`; `content_type` and `accept` may be NULL. */
static struct reply call_with(struct http_client_profile *profile, const char *method,
                              const char *path, const char *content_type, const char *accept,
                              const char *body)
{
    struct reply reply = { 0 };
    char type_header[256], accept_header[512];
    const char *headers[3] = { NULL, NULL, NULL };
    size_t count = 0;
    if (content_type) {
        snprintf(type_header, sizeof type_header, "Content-Type: %s", content_type);
        headers[count++] = type_header;
    } else if (body) {
        /* libcurl would add a form content type to a body without one. */
        headers[count++] = "Content-Type:";
    }
    if (accept) {
        snprintf(accept_header, sizeof accept_header, "Accept: %s", accept);
        headers[count++] = accept_header;
    }
    struct http_client_request_options options = {
        .method = method_of(method),
        .url = path,
        .profile = profile,
        .headers = headers,
        .body = body,
        .body_length = body ? strlen(body) : 0,
        .timeout_ms = 10000,
        .on_complete = call_complete,
        .user_data = &reply,
    };
    uv_update_time(&F.loop);
    uint64_t start = uv_now(&F.loop);
    if (!http_client_request_start(F.client, &options)) {
        reply.done = true;
        reply.error = HTTP_ERROR_INTERNAL;
        return reply;
    }
    if (!run_until(reply_done, &reply, 12000)) reply.error = HTTP_ERROR_TIMEOUT;
    reply.elapsed_ms = uv_now(&F.loop) - start;
    return reply;
}

static struct reply call(const char *method, const char *path, const char *content_type,
                         const char *body)
{
    return call_with(F.profile, method, path, content_type, NULL, body);
}

static struct reply admin(const char *method, const char *path, const char *body)
{
    return call_with(F.admin, method, path, body ? "application/json" : NULL, NULL, body);
}

static const cJSON *get_path(const cJSON *tree, const char *path)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    const cJSON *at = tree;
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && at; part = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(at)) at = cJSON_GetArrayItem(at, atoi(part));
        else at = cJSON_GetObjectItemCaseSensitive(at, part);
    }
    return at;
}

static const char *str_at(const cJSON *tree, const char *path)
{
    const cJSON *item = get_path(tree, path);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static double num_at(const cJSON *tree, const char *path)
{
    const cJSON *item = get_path(tree, path);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

/* Creates a configmap in `ns` with labels JSON (may be NULL); returns its RV. */
static char *create_configmap(const char *ns, const char *name, const char *labels)
{
    char path[256], body[1024];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"%s%s},"
             "\"data\":{\"k\":\"v\"}}",
             name, labels ? ",\"labels\":" : "", labels ? labels : "");
    struct reply reply = call("POST", path, "application/json", body);
    char *rv = reply.status == 201 && str_at(reply.json, "metadata.resourceVersion")
                   ? strdup(str_at(reply.json, "metadata.resourceVersion"))
                   : NULL;
    if (reply.status != 201)
        test_fail(__FILE__, __LINE__, "create %s: %ld %s", name, reply.status,
                  reply.body ? reply.body : "");
    reply_free(&reply);
    return rv;
}

/* ------------------------------------------------------------------ */
/* streams (watches) */

struct stream {
    struct http_client_request *request;
    struct buffer data;
    bool done;
    enum http_client_error error;
    long status;
    size_t lines;
};

static bool stream_data(struct http_client_request *request, const char *data, size_t length,
                        void *user_data)
{
    (void)request;
    struct stream *stream = user_data;
    buffer_append(&stream->data, data, length);
    for (size_t i = 0; i < length; i++) stream->lines += data[i] == '\n';
    return true;
}

static void stream_complete(struct http_client_request *request,
                            struct http_client_response *response, void *user_data)
{
    (void)request;
    struct stream *stream = user_data;
    stream->done = true;
    stream->error = response->error;
    stream->status = response->status;
    stream->request = NULL;
}

static bool stream_start(struct stream *stream, const char *path)
{
    memset(stream, 0, sizeof *stream);
    struct http_client_request_options options = {
        .method = HTTP_CLIENT_GET,
        .url = path,
        .profile = F.profile,
        .on_data = stream_data,
        .on_complete = stream_complete,
        .user_data = stream,
    };
    stream->request = http_client_request_start(F.client, &options);
    return stream->request != NULL;
}

struct wait_lines {
    struct stream *stream;
    size_t lines;
};

static bool has_lines(void *arg)
{
    struct wait_lines *wait = arg;
    return wait->stream->lines >= wait->lines || wait->stream->done;
}

static bool stream_wait_lines(struct stream *stream, size_t lines, uint64_t timeout_ms)
{
    struct wait_lines wait = { stream, lines };
    return run_until(has_lines, &wait, timeout_ms) && stream->lines >= lines;
}

static bool stream_done(void *arg) { return ((struct stream *)arg)->done; }

/* The index-th line as JSON (the caller deletes it). */
static cJSON *stream_line(const struct stream *stream, size_t index)
{
    const char *at = buffer_string(&stream->data);
    for (size_t i = 0; i < index && at; i++) {
        at = strchr(at, '\n');
        if (at) at++;
    }
    if (!at || !*at) return NULL;
    const char *end = strchr(at, '\n');
    size_t length = end ? (size_t)(end - at) : strlen(at);
    return cJSON_ParseWithLength(at, length);
}

static void stream_finish(struct stream *stream)
{
    if (stream->request) http_client_request_cancel(stream->request);
    run_until(stream_done, stream, 3000);
    buffer_free(&stream->data);
}

/* ------------------------------------------------------------------ */
/* auth and discovery */

static void auth_needs_bearer_token(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call_with(F.anonymous, "GET", "/api/v1/namespaces", NULL, NULL, NULL);
    CHECK_INT(reply.status, 401);
    CHECK_STR(str_at(reply.json, "kind"), "Status");
    CHECK_STR(str_at(reply.json, "reason"), "Unauthorized");
    CHECK_STR(str_at(reply.json, "message"), "Unauthorized");
    CHECK_INT(num_at(reply.json, "code"), 401);
    reply_free(&reply);

    struct http_client_profile *wrong = make_profile(NULL, "wrong", F.ca.cert_pem);
    char url[128];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/api", api_server_port(F.api));
    reply = call_with(wrong, "GET", url, NULL, NULL, NULL);
    CHECK_INT(reply.status, 401);
    CHECK_STR(str_at(reply.json, "reason"), "Unauthorized");
    reply_free(&reply);
    http_client_profile_unref(wrong);

    /* /version is public: kubectl's dispatcher asks before any credentials matter. */
    reply = call_with(F.anonymous, "GET", "/version?timeout=5s", NULL, NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "major"), "1");
    CHECK_STR(str_at(reply.json, "minor"), "32");
    CHECK(str_at(reply.json, "gitVersion") && strncmp(str_at(reply.json, "gitVersion"), "v1.32.", 6) == 0);
    reply_free(&reply);

    reply = call("GET", "/api/v1/namespaces", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "NamespaceList");
    reply_free(&reply);
    fixture_stop();
}

static const cJSON *find_named(const cJSON *array, const char *key, const char *value)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (str_at(item, key) && strcmp(str_at(item, key), value) == 0) return item;
    }
    return NULL;
}

static bool array_has_string(const cJSON *array, const char *value)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, value) == 0) return true;
    }
    return false;
}

#define AGGREGATED_ACCEPT                                                                          \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"           \
    "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

static void discovery_legacy_and_aggregated(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call("GET", "/api", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(reply.content_type, "application/json");
    CHECK_STR(str_at(reply.json, "kind"), "APIVersions");
    CHECK_STR(str_at(reply.json, "versions.0"), "v1");
    reply_free(&reply);

    reply = call("GET", "/api/v1", NULL, NULL);
    CHECK_STR(str_at(reply.json, "kind"), "APIResourceList");
    CHECK_STR(str_at(reply.json, "groupVersion"), "v1");
    const cJSON *resources = get_path(reply.json, "resources");
    const cJSON *pods = find_named(resources, "name", "pods");
    REQUIRE(pods);
    CHECK_STR(str_at(pods, "kind"), "Pod");
    CHECK_STR(str_at(pods, "singularName"), "pod");
    CHECK(cJSON_IsTrue(get_path(pods, "namespaced")));
    CHECK(array_has_string(get_path(pods, "shortNames"), "po"));
    CHECK(array_has_string(get_path(pods, "categories"), "all"));
    CHECK(array_has_string(get_path(pods, "verbs"), "watch"));
    CHECK(find_named(resources, "name", "pods/status") != NULL);
    const cJSON *binding = find_named(resources, "name", "pods/binding");
    CHECK(binding && strcmp(str_at(binding, "kind"), "Binding") == 0);
    static const char *const shorts[][2] = { { "services", "svc" }, { "configmaps", "cm" },
                                             { "namespaces", "ns" }, { "nodes", "no" },
                                             { "persistentvolumes", "pv" },
                                             { "persistentvolumeclaims", "pvc" },
                                             { "events", "ev" }, { "endpoints", "ep" } };
    for (size_t i = 0; i < sizeof shorts / sizeof shorts[0]; i++) {
        const cJSON *entry = find_named(resources, "name", shorts[i][0]);
        if (!entry || !array_has_string(get_path(entry, "shortNames"), shorts[i][1]))
            test_fail(__FILE__, __LINE__, "%s lacks shortName %s", shorts[i][0], shorts[i][1]);
    }
    const cJSON *namespaces = find_named(resources, "name", "namespaces");
    CHECK(namespaces && cJSON_IsFalse(get_path(namespaces, "namespaced")));
    reply_free(&reply);

    reply = call("GET", "/apis", NULL, NULL);
    CHECK_STR(str_at(reply.json, "kind"), "APIGroupList");
    const cJSON *storage = find_named(get_path(reply.json, "groups"), "name", "storage.k8s.io");
    CHECK(storage && strcmp(str_at(storage, "preferredVersion.groupVersion"), "storage.k8s.io/v1") == 0);
    reply_free(&reply);

    reply = call("GET", "/apis/storage.k8s.io/v1", NULL, NULL);
    const cJSON *classes = find_named(get_path(reply.json, "resources"), "name", "storageclasses");
    CHECK(classes && array_has_string(get_path(classes, "shortNames"), "sc"));
    reply_free(&reply);

    reply = call("GET", "/apis/nothing.example.com/v1", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);

    /* Aggregated: the Content-Type parameters are what client-go parses by. */
    reply = call_with(F.profile, "GET", "/apis", NULL, AGGREGATED_ACCEPT, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(reply.content_type,
              "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    CHECK_STR(str_at(reply.json, "kind"), "APIGroupDiscoveryList");
    CHECK_STR(str_at(reply.json, "apiVersion"), "apidiscovery.k8s.io/v2");
    const cJSON *coordination = find_named(get_path(reply.json, "items"), "metadata.name",
                                           "coordination.k8s.io");
    REQUIRE(coordination);
    CHECK_STR(str_at(coordination, "versions.0.version"), "v1");
    CHECK_STR(str_at(coordination, "versions.0.freshness"), "Current");
    const cJSON *leases = find_named(get_path(coordination, "versions.0.resources"), "resource", "leases");
    CHECK(leases && strcmp(str_at(leases, "scope"), "Namespaced") == 0);
    CHECK(leases && strcmp(str_at(leases, "responseKind.kind"), "Lease") == 0);
    reply_free(&reply);

    reply = call_with(F.profile, "GET", "/api", NULL, AGGREGATED_ACCEPT, NULL);
    CHECK_STR(str_at(reply.json, "kind"), "APIGroupDiscoveryList");
    const cJSON *core = get_path(reply.json, "items.0");
    CHECK_STR(str_at(core, "metadata.name"), "");
    const cJSON *apods = find_named(get_path(core, "versions.0.resources"), "resource", "pods");
    REQUIRE(apods);
    CHECK_STR(str_at(apods, "singularResource"), "pod");
    CHECK(array_has_string(get_path(apods, "shortNames"), "po"));
    const cJSON *status = find_named(get_path(apods, "subresources"), "subresource", "status");
    CHECK(status && strcmp(str_at(status, "responseKind.kind"), "Pod") == 0);
    reply_free(&reply);

    /* v2beta1 only: served with its own content type. */
    reply = call_with(F.profile, "GET", "/apis", NULL,
                      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
                      NULL);
    CHECK_STR(reply.content_type,
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
    reply_free(&reply);

    /* OpenAPI: v3 stub, never v2. */
    reply = call("GET", "/openapi/v2", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);
    reply = call("GET", "/openapi/v3", NULL, NULL);
    CHECK_INT(reply.status, 200);
    const char *url = str_at(reply.json, "paths.api/v1.serverRelativeURL");
    CHECK(url && strncmp(url, "/openapi/v3/api/v1?hash=", 24) == 0);
    reply_free(&reply);
    reply = call("GET", "/openapi/v3/api/v1", NULL, NULL);
    const cJSON *patch = get_path(get_path(reply.json, "paths"),
                                  "/api/v1/namespaces/{namespace}/pods/{name}");
    patch = cJSON_GetObjectItemCaseSensitive(patch, "patch");
    CHECK_STR(str_at(patch, "x-kubernetes-group-version-kind.kind"), "Pod");
    CHECK(find_named(get_path(patch, "parameters"), "name", "fieldValidation") != NULL);
    reply_free(&reply);
    fixture_stop();
}

static const char CRD[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"tidbclusters.pingcap.com\"},"
    "\"spec\":{\"group\":\"pingcap.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"tidbclusters\",\"singular\":\"tidbcluster\",\"kind\":\"TidbCluster\","
    "\"listKind\":\"TidbClusterList\",\"shortNames\":[\"tc\"],\"categories\":[\"all\"]},"
    "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}},"
    "\"subresources\":{\"status\":{},\"scale\":{\"specReplicasPath\":\".spec.tikv.replicas\","
    "\"statusReplicasPath\":\".status.tikv.replicas\"}}}]}}";

static const char TC[] = "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
                         "\"metadata\":{\"name\":\"basic\"},\"spec\":{\"tikv\":{\"replicas\":3}}}";

#define TC_PATH "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters"

static void crd_appears_in_discovery(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call("GET", "/apis/pingcap.com/v1alpha1", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);
    reply = call("GET", "/openapi/v3", NULL, NULL);
    char *before = cJSON_PrintUnformatted(get_path(reply.json, "paths"));
    reply_free(&reply);

    reply = call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 "application/json", CRD);
    CHECK_INT(reply.status, 201);
    reply_free(&reply);

    reply = call("GET", "/apis/pingcap.com/v1alpha1", NULL, NULL);
    CHECK_INT(reply.status, 200);
    const cJSON *resources = get_path(reply.json, "resources");
    const cJSON *tc = find_named(resources, "name", "tidbclusters");
    REQUIRE(tc);
    CHECK(array_has_string(get_path(tc, "shortNames"), "tc"));
    CHECK(array_has_string(get_path(tc, "categories"), "all"));
    CHECK_STR(str_at(tc, "kind"), "TidbCluster");
    CHECK(find_named(resources, "name", "tidbclusters/status") != NULL);
    const cJSON *scale = find_named(resources, "name", "tidbclusters/scale");
    CHECK(scale && strcmp(str_at(scale, "group"), "autoscaling") == 0 &&
          strcmp(str_at(scale, "kind"), "Scale") == 0);
    reply_free(&reply);

    reply = call("GET", "/apis", NULL, NULL);
    CHECK(find_named(get_path(reply.json, "groups"), "name", "pingcap.com") != NULL);
    reply_free(&reply);
    reply = call_with(F.profile, "GET", "/apis", NULL, AGGREGATED_ACCEPT, NULL);
    const cJSON *group = find_named(get_path(reply.json, "items"), "metadata.name", "pingcap.com");
    REQUIRE(group);
    const cJSON *entry = find_named(get_path(group, "versions.0.resources"), "resource", "tidbclusters");
    CHECK(entry && find_named(get_path(entry, "subresources"), "subresource", "scale"));
    reply_free(&reply);

    /* The OpenAPI index changes, so kubectl's cache cannot serve a stale one. */
    reply = call("GET", "/openapi/v3", NULL, NULL);
    char *after = cJSON_PrintUnformatted(get_path(reply.json, "paths"));
    CHECK(str_at(cJSON_GetObjectItemCaseSensitive(get_path(reply.json, "paths"),
                                                  "apis/pingcap.com/v1alpha1"),
                 "serverRelativeURL") != NULL);
    CHECK(before && after && strcmp(before, after) != 0);
    free(before);
    free(after);
    reply_free(&reply);

    /* And the kind is served at once. */
    reply = call("POST", TC_PATH, "application/json", TC);
    CHECK_INT(reply.status, 201);
    CHECK_STR(str_at(reply.json, "kind"), "TidbCluster");
    reply_free(&reply);
    reply = call("GET", TC_PATH, NULL, NULL);
    CHECK_STR(str_at(reply.json, "kind"), "TidbClusterList");
    CHECK_STR(str_at(reply.json, "items.0.metadata.name"), "basic");
    reply_free(&reply);
    fixture_stop();
}

/* A CRD whose schema types spec.tikv.replicas: the API refuses a wrong
 * type with the Status the real API server writes; a status write (which
 * keeps the stored spec) and a good patch pass; a bad patch is refused. */
static const char TYPED_CRD[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"tidbclusters.pingcap.com\"},"
    "\"spec\":{\"group\":\"pingcap.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"tidbclusters\",\"singular\":\"tidbcluster\",\"kind\":\"TidbCluster\","
    "\"listKind\":\"TidbClusterList\"},"
    "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
    "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"required\":[\"spec\"],\"properties\":{"
    "\"spec\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true,\"properties\":{"
    "\"tikv\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true,\"properties\":{"
    "\"replicas\":{\"type\":\"integer\"}}}}},"
    "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}},"
    "\"subresources\":{\"status\":{}}}]}}";

static void crd_schema_refuses_wrong_types(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                              "application/json", TYPED_CRD);
    CHECK_INT(reply.status, 201);
    reply_free(&reply);
    reply = call("POST", TC_PATH, "application/json",
                 "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
                 "\"metadata\":{\"name\":\"bad\"},\"spec\":{\"tikv\":{\"replicas\":\"three\"}}}");
    CHECK_INT(reply.status, 422);
    CHECK_STR(str_at(reply.json, "reason"), "Invalid");
    CHECK_STR(str_at(reply.json, "message"),
              "TidbCluster.pingcap.com \"bad\" is invalid: spec.tikv.replicas: Invalid value: \"string\": "
              "spec.tikv.replicas in body must be of type integer: \"string\"");
    CHECK_STR(str_at(reply.json, "details.causes.0.field"), "spec.tikv.replicas");
    CHECK_STR(str_at(reply.json, "details.causes.0.reason"), "FieldValueTypeInvalid");
    reply_free(&reply);
    reply = call("POST", TC_PATH, "application/json",
                 "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\",\"metadata\":{\"name\":\"none\"}}");
    CHECK_INT(reply.status, 422);
    CHECK_STR(str_at(reply.json, "message"), "TidbCluster.pingcap.com \"none\" is invalid: spec: Required value");
    reply_free(&reply);

    reply = call("POST", TC_PATH, "application/json", TC);
    CHECK_INT(reply.status, 201);
    char status_body[512];
    snprintf(status_body, sizeof status_body,
             "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\",\"metadata\":{\"name\":\"basic\","
             "\"resourceVersion\":\"%s\"},\"status\":{\"phase\":\"Normal\"}}",
             str_at(reply.json, "metadata.resourceVersion") ? str_at(reply.json, "metadata.resourceVersion") : "");
    reply_free(&reply);
    /* The status subresource takes a body without spec: the stored spec stays. */
    reply = call("PUT", TC_PATH "/basic/status", "application/json", status_body);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "status.phase"), "Normal");
    CHECK(get_path(reply.json, "spec.tikv.replicas") != NULL);
    reply_free(&reply);
    reply = call("PATCH", TC_PATH "/basic", "application/merge-patch+json", "{\"spec\":{\"tikv\":{\"replicas\":5}}}");
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    reply = call("PATCH", TC_PATH "/basic", "application/merge-patch+json", "{\"spec\":{\"tikv\":{\"replicas\":5.5}}}");
    CHECK_INT(reply.status, 422);
    CHECK_STR(str_at(reply.json, "details.causes.0.field"), "spec.tikv.replicas");
    reply_free(&reply);
    reply = call("GET", TC_PATH "/basic", NULL, NULL);
    CHECK(get_path(reply.json, "spec.tikv.replicas") && get_path(reply.json, "spec.tikv.replicas")->valueint == 5);
    reply_free(&reply);
    fixture_stop();
}

/* DeleteOptions.gracePeriodSeconds, in the query or the body: a negative
 * one is refused (400) and nothing is deleted; a valid one deletes. */
static void delete_grace_period_is_validated(void)
{
    REQUIRE(fixture_start());
    char *rv = create_configmap("default", "kept", NULL);
    REQUIRE(rv);
    free(rv);
    struct reply reply = call("DELETE", "/api/v1/namespaces/default/configmaps/kept?gracePeriodSeconds=-1", NULL,
                              NULL);
    CHECK_INT(reply.status, 400);
    CHECK_STR(str_at(reply.json, "message"), "invalid gracePeriodSeconds");
    reply_free(&reply);
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps/kept?gracePeriodSeconds=soon", NULL, NULL);
    CHECK_INT(reply.status, 400);
    reply_free(&reply);
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps/kept", "application/json",
                 "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":-5}");
    CHECK_INT(reply.status, 400);
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/default/configmaps/kept", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps/kept?gracePeriodSeconds=0", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/default/configmaps/kept", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* CRUD */

static void crud_with_status_codes(void)
{
    REQUIRE(fixture_start());
    char *rv = create_configmap("default", "one", NULL);
    REQUIRE(rv);
    struct reply reply = call("GET", "/api/v1/namespaces/default/configmaps/one", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(reply.content_type, "application/json");
    CHECK_STR(str_at(reply.json, "data.k"), "v");
    CHECK_STR(str_at(reply.json, "metadata.resourceVersion"), rv);
    reply_free(&reply);

    /* Create again: 409 AlreadyExists. */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"one\"}}");
    CHECK_INT(reply.status, 409);
    CHECK_STR(str_at(reply.json, "reason"), "AlreadyExists");
    CHECK_STR(str_at(reply.json, "message"), "configmaps \"one\" already exists");
    reply_free(&reply);

    /* PUT with the current RV: 200 and a new RV; again with the old one: 409 Conflict. */
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"one\","
             "\"resourceVersion\":\"%s\"},\"data\":{\"k\":\"v2\"}}",
             rv);
    reply = call("PUT", "/api/v1/namespaces/default/configmaps/one", "application/json", body);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "data.k"), "v2");
    CHECK(str_at(reply.json, "metadata.resourceVersion") &&
          strcmp(str_at(reply.json, "metadata.resourceVersion"), rv) != 0);
    reply_free(&reply);
    reply = call("PUT", "/api/v1/namespaces/default/configmaps/one", "application/json", body);
    CHECK_INT(reply.status, 409);
    CHECK_STR(str_at(reply.json, "reason"), "Conflict");
    CHECK(str_at(reply.json, "message") &&
          strstr(str_at(reply.json, "message"), "the object has been modified") != NULL);
    CHECK_STR(str_at(reply.json, "details.kind"), "configmaps");
    reply_free(&reply);
    free(rv);

    /* A PUT without Content-Type is JSON (kubectl scale sends none). */
    reply = call("PUT", "/api/v1/namespaces/default/configmaps/one", NULL,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"one\"},"
                 "\"data\":{\"k\":\"v3\"}}");
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    /* Name mismatch with the URL: 400. */
    reply = call("PUT", "/api/v1/namespaces/default/configmaps/one", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"two\"}}");
    CHECK_INT(reply.status, 400);
    CHECK_STR(str_at(reply.json, "reason"), "BadRequest");
    reply_free(&reply);
    /* Namespace mismatch: 400. */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\","
                 "\"namespace\":\"kube-system\"}}");
    CHECK_INT(reply.status, 400);
    reply_free(&reply);

    /* DELETE: Status success for configmaps; then 404 with a Status body. */
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps/one", "application/json",
                 "{\"propagationPolicy\":\"Background\"}");
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "Status");
    CHECK_STR(str_at(reply.json, "status"), "Success");
    CHECK_STR(str_at(reply.json, "details.name"), "one");
    CHECK_STR(str_at(reply.json, "details.kind"), "configmaps");
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/default/configmaps/one", NULL, NULL);
    CHECK_INT(reply.status, 404);
    CHECK_STR(str_at(reply.json, "kind"), "Status");
    CHECK_STR(str_at(reply.json, "status"), "Failure");
    CHECK_STR(str_at(reply.json, "reason"), "NotFound");
    CHECK_STR(str_at(reply.json, "message"), "configmaps \"one\" not found");
    CHECK_INT(num_at(reply.json, "code"), 404);
    reply_free(&reply);

    /* Unknown resource and group: 404 with the generic message. */
    reply = call("GET", "/api/v1/namespaces/default/widgets", NULL, NULL);
    CHECK_INT(reply.status, 404);
    CHECK_STR(str_at(reply.json, "message"), "the server could not find the requested resource");
    reply_free(&reply);

    /* Create in a namespace that does not exist: 404 namespaces "nope". */
    reply = call("POST", "/api/v1/namespaces/nope/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}");
    CHECK_INT(reply.status, 404);
    CHECK_STR(str_at(reply.json, "message"), "namespaces \"nope\" not found");
    reply_free(&reply);

    /* Cluster-scoped create and delete of a namespace. */
    reply = call("POST", "/api/v1/namespaces", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team\"}}");
    CHECK_INT(reply.status, 201);
    CHECK_STR(str_at(reply.json, "status.phase"), "Active");
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/team", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);

    /* dryRun=All stores nothing. */
    reply = call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dry\"}}");
    CHECK_INT(reply.status, 201);
    CHECK_STR(str_at(reply.json, "metadata.namespace"), "default");
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/default/configmaps/dry", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);

    /* A method the collection does not have: 405. */
    reply = call("PUT", "/api/v1/namespaces/default/configmaps", "application/json", "{}");
    CHECK_INT(reply.status, 405);
    CHECK_STR(str_at(reply.json, "reason"), "MethodNotAllowed");
    reply_free(&reply);
    fixture_stop();
}

static const char POD[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx:1\"},{\"name\":\"b\",\"image\":\"busybox\"}]}}";

#define POD_PATH "/api/v1/namespaces/default/pods"

static void patches_by_content_type(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call("POST", POD_PATH, "application/json", POD);
    CHECK_INT(reply.status, 201);
    CHECK_STR(str_at(reply.json, "status.phase"), "Pending");
    reply_free(&reply);

    /* merge patch */
    reply = call("PATCH", POD_PATH "/web?fieldManager=kubectl-label", "application/merge-patch+json",
                 "{\"metadata\":{\"labels\":{\"tier\":\"front\"}}}");
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "metadata.labels.tier"), "front");
    CHECK_STR(str_at(reply.json, "metadata.labels.app"), "web");
    reply_free(&reply);

    /* JSON patch, and a failing test op → 422 */
    reply = call("PATCH", POD_PATH "/web", "application/json-patch+json",
                 "[{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"a\":\"b\"}}]");
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "metadata.annotations.a"), "b");
    reply_free(&reply);
    reply = call("PATCH", POD_PATH "/web", "application/json-patch+json",
                 "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"other\"}]");
    CHECK_INT(reply.status, 422);
    reply_free(&reply);
    reply = call("PATCH", POD_PATH "/web", "application/json-patch+json", "{not json");
    CHECK_INT(reply.status, 400);
    reply_free(&reply);

    /* strategic merge on a pod: containers merge by name, directives vanish */
    reply = call("PATCH", POD_PATH "/web", "application/strategic-merge-patch+json",
                 "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
                 "\"containers\":[{\"name\":\"a\",\"image\":\"nginx:2\"}]}}");
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "spec.containers.0.image"), "nginx:2");
    CHECK_STR(str_at(reply.json, "spec.containers.1.name"), "b");
    CHECK(get_path(reply.json, "spec.$setElementOrder/containers") == NULL);
    reply_free(&reply);

    /* a patch carrying a stale resourceVersion is a precondition: 409 */
    reply = call("PATCH", POD_PATH "/web", "application/merge-patch+json",
                 "{\"metadata\":{\"resourceVersion\":\"1\"}}");
    CHECK_INT(reply.status, 409);
    CHECK_STR(str_at(reply.json, "reason"), "Conflict");
    reply_free(&reply);

    /* missing object: 404 */
    reply = call("PATCH", POD_PATH "/nope", "application/merge-patch+json", "{}");
    CHECK_INT(reply.status, 404);
    reply_free(&reply);

    /* server-side apply and unknown patch types: 415 */
    reply = call("PATCH", POD_PATH "/web?fieldManager=kubectl&force=false",
                 "application/apply-patch+yaml", POD);
    CHECK_INT(reply.status, 415);
    CHECK_STR(str_at(reply.json, "reason"), "UnsupportedMediaType");
    reply_free(&reply);
    reply = call("PATCH", POD_PATH "/web", "text/plain", "{}");
    CHECK_INT(reply.status, 415);
    reply_free(&reply);

    /* strategic merge on a custom resource: 415 with the real text */
    reply = call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 "application/json", CRD);
    reply_free(&reply);
    reply = call("POST", TC_PATH, "application/json", TC);
    CHECK_INT(reply.status, 201);
    reply_free(&reply);
    reply = call("PATCH", TC_PATH "/basic", "application/strategic-merge-patch+json",
                 "{\"spec\":{\"x\":1}}");
    CHECK_INT(reply.status, 415);
    CHECK_STR(str_at(reply.json, "reason"), "UnsupportedMediaType");
    CHECK_STR(str_at(reply.json, "message"),
              "the body of the request was in an unknown format - accepted media types include: "
              "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    reply_free(&reply);
    reply = call("PATCH", TC_PATH "/basic", "application/merge-patch+json", "{\"spec\":{\"x\":1}}");
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "spec.x"), 1);
    CHECK_INT(num_at(reply.json, "metadata.generation"), 2);
    reply_free(&reply);

    /* status subresource: only status changes, generation does not */
    reply = call("PATCH", TC_PATH "/basic/status", "application/merge-patch+json",
                 "{\"spec\":{\"x\":9},\"status\":{\"tikv\":{\"replicas\":2}}}");
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "spec.x"), 1);
    CHECK_INT(num_at(reply.json, "status.tikv.replicas"), 2);
    CHECK_INT(num_at(reply.json, "metadata.generation"), 2);
    reply_free(&reply);

    /* scale subresource: GET, PATCH (kubectl scale), PUT without Content-Type */
    reply = call("GET", TC_PATH "/basic/scale", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "Scale");
    CHECK_STR(str_at(reply.json, "apiVersion"), "autoscaling/v1");
    CHECK_INT(num_at(reply.json, "spec.replicas"), 3);
    CHECK_INT(num_at(reply.json, "status.replicas"), 2);
    reply_free(&reply);
    reply = call("PATCH", TC_PATH "/basic/scale", "application/merge-patch+json",
                 "{\"spec\":{\"replicas\":5}}");
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "spec.replicas"), 5);
    reply_free(&reply);
    reply = call("PUT", TC_PATH "/basic/scale", NULL,
                 "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":"
                 "\"basic\",\"namespace\":\"default\"},\"spec\":{\"replicas\":6}}");
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "spec.replicas"), 6);
    reply_free(&reply);
    reply = call("GET", TC_PATH "/basic", NULL, NULL);
    CHECK_INT(num_at(reply.json, "spec.tikv.replicas"), 6);
    reply_free(&reply);
    /* a pod has no scale: 404 */
    reply = call("GET", POD_PATH "/web/scale", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);
    fixture_stop();
}

static void binding_and_pod_delete(void)
{
    REQUIRE(fixture_start());
    struct reply reply = call("POST", POD_PATH, "application/json", POD);
    CHECK_INT(reply.status, 201);
    reply_free(&reply);
    const char *binding = "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"web\"},"
                          "\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"node-1\"}}";
    reply = call("POST", POD_PATH "/web/binding", "application/json", binding);
    CHECK_INT(reply.status, 201);
    CHECK_STR(str_at(reply.json, "status"), "Success");
    reply_free(&reply);
    reply = call("GET", POD_PATH "/web", NULL, NULL);
    CHECK_STR(str_at(reply.json, "spec.nodeName"), "node-1");
    reply_free(&reply);
    reply = call("POST", POD_PATH "/web/binding", "application/json", binding);
    CHECK_INT(reply.status, 409);
    CHECK_STR(str_at(reply.json, "reason"), "Conflict");
    reply_free(&reply);

    /* field selector on spec.nodeName */
    reply = call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1", NULL, NULL);
    CHECK_INT(cJSON_GetArraySize(get_path(reply.json, "items")), 1);
    reply_free(&reply);

    /* a failed uid precondition: 409 */
    reply = call("DELETE", POD_PATH "/web", "application/json",
                 "{\"preconditions\":{\"uid\":\"not-the-uid\"}}");
    CHECK_INT(reply.status, 409);
    reply_free(&reply);
    /* pods answer a delete with the object */
    reply = call("DELETE", POD_PATH "/web", "application/json",
                 "{\"propagationPolicy\":\"Background\",\"gracePeriodSeconds\":0}");
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "Pod");
    CHECK_STR(str_at(reply.json, "metadata.name"), "web");
    reply_free(&reply);
    reply = call("GET", POD_PATH "/web", NULL, NULL);
    CHECK_INT(reply.status, 404);
    reply_free(&reply);
    /* bad propagation policy: 422 */
    reply = call("DELETE", "/api/v1/namespaces/kube-public", "application/json",
                 "{\"propagationPolicy\":\"Sideways\"}");
    CHECK_INT(reply.status, 422);
    reply_free(&reply);

    /* deletecollection with a label selector */
    free(create_configmap("default", "c1", "{\"app\":\"x\"}"));
    free(create_configmap("default", "c2", "{\"app\":\"x\"}"));
    free(create_configmap("default", "c3", "{\"app\":\"y\"}"));
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dx", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "ConfigMapList");
    CHECK_INT(cJSON_GetArraySize(get_path(reply.json, "items")), 2);
    reply_free(&reply);
    reply = call("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL);
    CHECK_INT(cJSON_GetArraySize(get_path(reply.json, "items")), 1);
    reply_free(&reply);
    fixture_stop();
}

static const cJSON *cause_for(const cJSON *status, const char *field)
{
    return find_named(get_path(status, "details.causes"), "field", field);
}

static void bad_bodies_rejected(void)
{
    REQUIRE(fixture_start());
    /* missing name without generateName → 422 FieldValueRequired */
    struct reply reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{}}");
    CHECK_INT(reply.status, 422);
    CHECK_STR(str_at(reply.json, "reason"), "Invalid");
    CHECK_STR(str_at(reply.json, "details.kind"), "ConfigMap");
    const cJSON *cause = cause_for(reply.json, "metadata.name");
    CHECK(cause && strcmp(str_at(cause, "reason"), "FieldValueRequired") == 0);
    reply_free(&reply);

    /* generateName works */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"generateName\":\"gen-\"}}");
    CHECK_INT(reply.status, 201);
    CHECK(str_at(reply.json, "metadata.name") &&
          strncmp(str_at(reply.json, "metadata.name"), "gen-", 4) == 0);
    reply_free(&reply);

    /* bad label value → 422 with a metadata.labels cause */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"l\","
                 "\"labels\":{\"app\":\"not valid!\"}}}");
    CHECK_INT(reply.status, 422);
    cause = cause_for(reply.json, "metadata.labels");
    CHECK(cause && strcmp(str_at(cause, "reason"), "FieldValueInvalid") == 0);
    CHECK(str_at(reply.json, "message") &&
          strncmp(str_at(reply.json, "message"), "ConfigMap \"l\" is invalid: ", 26) == 0);
    reply_free(&reply);

    /* wrong type for a metadata field → 422 */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"t\","
                 "\"labels\":[\"a\"]}}");
    CHECK_INT(reply.status, 422);
    cause = cause_for(reply.json, "metadata.labels");
    CHECK(cause && strcmp(str_at(cause, "reason"), "FieldValueTypeInvalid") == 0);
    reply_free(&reply);

    /* bad name → 422 (the store's name rules) */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"Bad_Name\"}}");
    CHECK_INT(reply.status, 422);
    CHECK(cause_for(reply.json, "metadata.name") != NULL);
    reply_free(&reply);

    /* invalid JSON → 400 */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json", "{\"kind\":");
    CHECK_INT(reply.status, 400);
    CHECK_STR(str_at(reply.json, "reason"), "BadRequest");
    reply_free(&reply);

    /* a kind that does not belong to the URL → 400 */
    reply = call("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"}}");
    CHECK_INT(reply.status, 400);
    reply_free(&reply);

    /* protobuf → 415 with a clear message */
    reply = call("POST", "/api/v1/namespaces", "application/vnd.kubernetes.protobuf", "k8s\0");
    CHECK_INT(reply.status, 415);
    CHECK_STR(str_at(reply.json, "reason"), "UnsupportedMediaType");
    CHECK(str_at(reply.json, "message") && strstr(str_at(reply.json, "message"), "protobuf"));
    reply_free(&reply);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* lists */

/* Percent-encodes a query value (continue tokens carry '=' and '/'). */
static char *url_escape(const char *text)
{
    char *out = malloc(strlen(text) * 3 + 1);
    if (!out) return NULL;
    char *at = out;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            *at++ = (char)*p;
        else
            at += sprintf(at, "%%%02X", *p);
    }
    *at = '\0';
    return out;
}

static int item_count(const struct reply *reply)
{
    return cJSON_GetArraySize(get_path(reply->json, "items"));
}

static void lists_select_and_page(void)
{
    REQUIRE(fixture_start());
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "cm-%d", i);
        free(create_configmap("default", name, i % 2 ? "{\"parity\":\"odd\"}" : "{\"parity\":\"even\"}"));
    }
    free(create_configmap("kube-system", "other", "{\"parity\":\"odd\"}"));

    struct reply reply = call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=parity%3Dodd",
                              NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "kind"), "ConfigMapList");
    CHECK_STR(str_at(reply.json, "apiVersion"), "v1");
    CHECK(str_at(reply.json, "metadata.resourceVersion") != NULL);
    CHECK_INT(item_count(&reply), 2);
    reply_free(&reply);

    reply = call("GET", "/api/v1/configmaps?labelSelector=parity+in+(odd)", NULL, NULL);
    CHECK_INT(item_count(&reply), 3);
    reply_free(&reply);
    reply = call("GET", "/api/v1/configmaps?labelSelector=parity!%3Dodd", NULL, NULL);
    CHECK_INT(item_count(&reply), 3);
    reply_free(&reply);

    reply = call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dcm-3",
                 NULL, NULL);
    CHECK_INT(item_count(&reply), 1);
    CHECK_STR(str_at(reply.json, "items.0.metadata.name"), "cm-3");
    reply_free(&reply);

    reply = call("GET", "/api/v1/configmaps?fieldSelector=spec.nope%3Dx", NULL, NULL);
    CHECK_INT(reply.status, 400);
    CHECK_STR(str_at(reply.json, "reason"), "BadRequest");
    CHECK_STR(str_at(reply.json, "message"), "field label not supported: spec.nope");
    reply_free(&reply);
    reply = call("GET", "/api/v1/configmaps?labelSelector=a+in+(", NULL, NULL);
    CHECK_INT(reply.status, 400);
    reply_free(&reply);

    /* limit + continue walks every item exactly once */
    int seen = 0, pages = 0;
    char path[1024] = "/api/v1/namespaces/default/configmaps?limit=2";
    for (int guard = 0; guard < 10; guard++) {
        reply = call("GET", path, NULL, NULL);
        CHECK_INT(reply.status, 200);
        seen += item_count(&reply);
        pages++;
        const char *token = str_at(reply.json, "metadata.continue");
        if (!token) {
            reply_free(&reply);
            break;
        }
        char *escaped = url_escape(token);
        snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps?limit=2&continue=%s",
                 escaped);
        free(escaped);
        reply_free(&reply);
    }
    CHECK_INT(seen, 5);
    CHECK_INT(pages, 3);

    /* resourceVersionMatch without resourceVersion → 422 on ListOptions */
    reply = call("GET", "/api/v1/configmaps?resourceVersionMatch=NotOlderThan", NULL, NULL);
    CHECK_INT(reply.status, 422);
    CHECK_STR(str_at(reply.json, "details.kind"), "ListOptions");
    reply_free(&reply);
    /* A resourceVersion from the future: 504 with the cause client-go relists on. */
    reply = call("GET", "/api/v1/configmaps?resourceVersion=999999", NULL, NULL);
    CHECK_INT(reply.status, 504);
    CHECK_STR(str_at(reply.json, "reason"), "Timeout");
    CHECK_STR(str_at(reply.json, "details.causes.0.reason"), "ResourceVersionTooLarge");
    CHECK_STR(str_at(reply.json, "details.causes.0.message"), "Too large resource version");
    reply_free(&reply);
    reply = call("GET", "/api/v1/configmaps?resourceVersion=0&limit=500", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_INT(item_count(&reply), 6);
    reply_free(&reply);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* watches */

static bool watches_open(void *arg)
{
    struct api_server_stats stats;
    api_server_get_stats(F.api, &stats);
    return stats.watches >= *(size_t *)arg;
}

/* Waits until the server holds `count` watches (TLS handshakes are slow under valgrind). */
static bool wait_watches(size_t count) { return run_until(watches_open, &count, 5000); }

static bool watches_gone(void *arg)
{
    (void)arg;
    struct api_server_stats stats;
    api_server_get_stats(F.api, &stats);
    return stats.watches == 0;
}

/* Waits until the server has noticed every closed watch. */
static bool wait_no_watches(void) { return run_until(watches_gone, NULL, 5000); }

static const char *event_type(const cJSON *event) { return str_at(event, "type"); }

static void watch_sees_changes_in_order(void)
{
    REQUIRE(fixture_start());
    free(create_configmap("default", "before", NULL));
    struct reply list = call("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL);
    char start[32];
    snprintf(start, sizeof start, "%s", str_at(list.json, "metadata.resourceVersion"));
    reply_free(&list);

    struct stream stream;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s",
             start);
    REQUIRE(stream_start(&stream, path));
    CHECK(wait_watches(1));
    char *rv = create_configmap("default", "w", NULL);
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"w\","
             "\"resourceVersion\":\"%s\"},\"data\":{\"k\":\"changed\"}}",
             rv ? rv : "");
    free(rv);
    struct reply reply = call("PUT", "/api/v1/namespaces/default/configmaps/w", "application/json", body);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    free(create_configmap("kube-system", "elsewhere", NULL));  /* another namespace: not seen */
    reply = call("DELETE", "/api/v1/namespaces/default/configmaps/w", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);

    CHECK(stream_wait_lines(&stream, 3, 3000));
    CHECK(!stream.done);
    static const char *const expected[] = { "ADDED", "MODIFIED", "DELETED" };
    long previous = atol(start);
    for (size_t i = 0; i < 3; i++) {
        cJSON *event = stream_line(&stream, i);
        CHECK_STR(event_type(event), expected[i]);
        CHECK_STR(str_at(event, "object.kind"), "ConfigMap");
        CHECK_STR(str_at(event, "object.apiVersion"), "v1");
        CHECK_STR(str_at(event, "object.metadata.name"), "w");
        const char *event_rv = str_at(event, "object.metadata.resourceVersion");
        CHECK(event_rv && atol(event_rv) > previous);
        previous = event_rv ? atol(event_rv) : previous;
        cJSON_Delete(event);
    }
    CHECK_INT(stream.lines, 3);
    stream_finish(&stream);

    /* Without resourceVersion: the current objects arrive as ADDED first. */
    REQUIRE(stream_start(&stream, "/api/v1/namespaces/default/configmaps?watch=1&labelSelector="));
    CHECK(stream_wait_lines(&stream, 1, 3000));
    cJSON *event = stream_line(&stream, 0);
    CHECK_STR(event_type(event), "ADDED");
    CHECK_STR(str_at(event, "object.metadata.name"), "before");
    cJSON_Delete(event);
    stream_finish(&stream);

    /* A label-selected watch sees an object that stops matching as DELETED. */
    REQUIRE(stream_start(&stream, "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=sel%3Dyes"));
    CHECK(wait_watches(1));
    free(create_configmap("default", "sel", "{\"sel\":\"yes\"}"));
    reply = call("PATCH", "/api/v1/namespaces/default/configmaps/sel", "application/merge-patch+json",
                 "{\"metadata\":{\"labels\":{\"sel\":\"no\"}}}");
    reply_free(&reply);
    CHECK(stream_wait_lines(&stream, 2, 3000));
    event = stream_line(&stream, 1);
    CHECK_STR(event_type(event), "DELETED");
    cJSON_Delete(event);
    stream_finish(&stream);
    fixture_stop();
}

static bool line_has_type(const struct stream *stream, const char *type, size_t from)
{
    for (size_t i = from; i < stream->lines; i++) {
        cJSON *event = stream_line(stream, i);
        bool match = event && event_type(event) && strcmp(event_type(event), type) == 0;
        cJSON_Delete(event);
        if (match) return true;
    }
    return false;
}

static void watch_bookmarks(void)
{
    struct api_server_options options = { .bookmark_interval_ms = 300 };
    REQUIRE(fixture_start_with(&options, true));
    struct reply list = call("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL);
    char path[256];
    snprintf(path, sizeof path,
             "/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=%s",
             str_at(list.json, "metadata.resourceVersion"));
    reply_free(&list);
    struct stream stream;
    REQUIRE(stream_start(&stream, path));
    CHECK(wait_watches(1));
    /* A write elsewhere moves the RV: the next periodic bookmark carries it. */
    char *rv = create_configmap("kube-system", "elsewhere", NULL);
    CHECK(stream_wait_lines(&stream, 1, 2000));
    cJSON *event = stream_line(&stream, 0);
    CHECK_STR(event_type(event), "BOOKMARK");
    CHECK_STR(str_at(event, "object.kind"), "ConfigMap");
    CHECK_STR(str_at(event, "object.apiVersion"), "v1");
    CHECK_STR(str_at(event, "object.metadata.resourceVersion"), rv);
    CHECK(get_path(event, "object.metadata.name") == NULL);
    cJSON_Delete(event);
    free(rv);
    /* Nothing new: no periodic bookmark; the admin endpoint sends one now. */
    run_for(700);
    CHECK_INT(stream.lines, 1);
    struct reply reply = admin("POST", "/watches/bookmark", NULL);
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "sent"), 1);
    reply_free(&reply);
    CHECK(stream_wait_lines(&stream, 2, 2000));
    CHECK(line_has_type(&stream, "BOOKMARK", 1));
    stream_finish(&stream);
    CHECK(wait_no_watches());

    /* Without allowWatchBookmarks: none. */
    REQUIRE(stream_start(&stream, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"));
    CHECK(wait_watches(1));
    free(create_configmap("kube-system", "again", NULL));
    reply = admin("POST", "/watches/bookmark", NULL);
    CHECK_INT(num_at(reply.json, "sent"), 0);
    reply_free(&reply);
    run_for(700);
    CHECK_INT(stream.lines, 0);
    stream_finish(&stream);
    fixture_stop();
}

static void watch_expired_after_compaction(void)
{
    REQUIRE(fixture_start());
    char *old = create_configmap("default", "a", NULL);
    free(create_configmap("default", "b", NULL));
    struct reply reply = admin("POST", "/history/compact", NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s",
             old ? old : "1");
    free(old);
    struct stream stream;
    REQUIRE(stream_start(&stream, path));
    CHECK(run_until(stream_done, &stream, 3000));
    CHECK_INT(stream.status, 200);  /* like the cacher: 200, then an ERROR event */
    CHECK_INT(stream.error, HTTP_ERROR_NONE);
    CHECK_INT(stream.lines, 1);
    cJSON *event = stream_line(&stream, 0);
    CHECK_STR(event_type(event), "ERROR");
    CHECK_STR(str_at(event, "object.kind"), "Status");
    CHECK_STR(str_at(event, "object.reason"), "Expired");
    CHECK_INT(num_at(event, "object.code"), 410);
    cJSON_Delete(event);
    stream_finish(&stream);
    fixture_stop();
}

static void watch_timeout_closes_cleanly(void)
{
    REQUIRE(fixture_start());
    struct stream stream;
    REQUIRE(stream_start(&stream, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1"));
    uv_update_time(&F.loop);
    uint64_t start = uv_now(&F.loop);
    CHECK(run_until(stream_done, &stream, 4000));
    uint64_t took = uv_now(&F.loop) - start;
    CHECK(took >= 900 && took < 2500);
    CHECK_INT(stream.error, HTTP_ERROR_NONE);
    CHECK_INT(stream.status, 200);
    stream_finish(&stream);

    /* A single-object watch through the object path. */
    free(create_configmap("default", "solo", NULL));
    free(create_configmap("default", "other", NULL));
    REQUIRE(stream_start(&stream, "/api/v1/namespaces/default/configmaps/solo?watch=true&timeoutSeconds=1"));
    CHECK(run_until(stream_done, &stream, 4000));
    CHECK_INT(stream.lines, 1);
    cJSON *event = stream_line(&stream, 0);
    CHECK_STR(str_at(event, "object.metadata.name"), "solo");
    cJSON_Delete(event);
    stream_finish(&stream);

    /* sendInitialEvents is refused (WatchList is off in 1.32): 422. */
    struct reply reply = call("GET", "/api/v1/configmaps?watch=true&sendInitialEvents=true"
                                     "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
                              NULL, NULL);
    CHECK_INT(reply.status, 422);
    reply_free(&reply);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* admin */

static void admin_fails_next_requests(void)
{
    REQUIRE(fixture_start());
    struct reply reply = admin("POST", "/faults",
                               "{\"verb\":\"list\",\"resource\":\"configmaps\",\"count\":2,"
                               "\"code\":429,\"retryAfterSeconds\":3}");
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    /* Other verbs and resources are untouched. */
    reply = call("GET", "/api/v1/namespaces/default/pods", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    free(create_configmap("default", "c", NULL));
    for (int i = 0; i < 2; i++) {
        reply = call("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL);
        CHECK_INT(reply.status, 429);
        CHECK_STR(reply.retry_after, "3");
        CHECK_STR(str_at(reply.json, "reason"), "TooManyRequests");
        CHECK_INT(num_at(reply.json, "details.retryAfterSeconds"), 3);
        CHECK_INT(num_at(reply.json, "code"), 429);
        reply_free(&reply);
    }
    reply = call("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);

    /* 503 on any verb of pods, once; then a delayed create. */
    reply = admin("POST", "/faults", "{\"resource\":\"pods\",\"code\":503}");
    reply_free(&reply);
    reply = call("POST", POD_PATH, "application/json", POD);
    CHECK_INT(reply.status, 503);
    CHECK_STR(str_at(reply.json, "reason"), "ServiceUnavailable");
    reply_free(&reply);
    reply = admin("POST", "/faults", "{\"verb\":\"create\",\"delayMs\":300}");
    reply_free(&reply);
    reply = call("POST", POD_PATH, "application/json", POD);
    CHECK_INT(reply.status, 201);
    CHECK(reply.elapsed_ms >= 290);
    reply_free(&reply);

    /* Rules can be listed and cleared; bad rules are refused. */
    reply = admin("POST", "/faults", "{\"verb\":\"get\",\"code\":500,\"count\":5}");
    reply_free(&reply);
    reply = admin("GET", "/faults", NULL);
    CHECK_INT(cJSON_GetArraySize(get_path(reply.json, "faults")), 1);
    CHECK_INT(num_at(reply.json, "faults.0.remaining"), 5);
    reply_free(&reply);
    reply = call("GET", POD_PATH "/web", NULL, NULL);
    CHECK_INT(reply.status, 500);
    CHECK_STR(str_at(reply.json, "reason"), "InternalError");
    reply_free(&reply);
    reply = admin("DELETE", "/faults", NULL);
    reply_free(&reply);
    reply = call("GET", POD_PATH "/web", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    reply = admin("POST", "/faults", "{\"code\":200}");
    CHECK_INT(reply.status, 400);
    reply_free(&reply);
    fixture_stop();
}

static void custom_knob(struct http_request *request, void *data)
{
    (*(int *)data)++;
    http_response_send_text(request, 200, "application/json", "{\"custom\":true}");
}

static void admin_closes_watches(void)
{
    REQUIRE(fixture_start());
    struct stream one, two;
    REQUIRE(stream_start(&one, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"));
    REQUIRE(stream_start(&two, "/api/v1/pods?watch=true"));
    CHECK(wait_watches(2));
    struct reply reply = admin("GET", "/stats", NULL);
    CHECK_INT(num_at(reply.json, "watches"), 2);
    reply_free(&reply);
    reply = admin("POST", "/watches/close", NULL);
    CHECK_INT(reply.status, 200);
    CHECK_INT(num_at(reply.json, "closed"), 2);
    reply_free(&reply);
    CHECK(run_until(stream_done, &one, 3000));
    CHECK(run_until(stream_done, &two, 3000));
    CHECK_INT(one.error, HTTP_ERROR_NONE);  /* a clean end of stream */
    CHECK_INT(two.error, HTTP_ERROR_NONE);
    stream_finish(&one);
    stream_finish(&two);
    reply = admin("GET", "/stats", NULL);
    CHECK_INT(num_at(reply.json, "watches"), 0);
    reply_free(&reply);

    /* Dropping every connection ends a watch abruptly. */
    REQUIRE(stream_start(&one, "/api/v1/pods?watch=true"));
    CHECK(wait_watches(1));
    reply = admin("POST", "/connections/drop", NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    CHECK(run_until(stream_done, &one, 3000));
    CHECK(one.error != HTTP_ERROR_NONE);
    stream_finish(&one);
    CHECK(wait_no_watches());

    /* Other simulated parts can add their own knobs. */
    int calls = 0;
    CHECK_INT(api_server_admin_route(F.api, "POST", "/nodes/fail", custom_knob, &calls), 0);
    reply = admin("POST", "/nodes/fail", "{}");
    CHECK_INT(reply.status, 200);
    CHECK(cJSON_IsTrue(get_path(reply.json, "custom")));
    CHECK_INT(calls, 1);
    reply_free(&reply);
    fixture_stop();
}

static void admin_stops_and_resumes_listening(void)
{
    REQUIRE(fixture_start());
    struct reply reply = admin("POST", "/listener/stop", NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    /* A new client has no pooled connection: the connect is refused. */
    struct http_client *fresh = http_client_init(&F.loop, NULL);
    REQUIRE(fresh);
    struct http_client *saved = F.client;
    F.client = fresh;
    reply = call("GET", "/api/v1/namespaces", NULL, NULL);
    CHECK_INT(reply.error, HTTP_ERROR_CONNECT);
    reply_free(&reply);
    F.client = saved;
    reply = admin("POST", "/listener/resume", NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    F.client = fresh;
    reply = call("GET", "/api/v1/namespaces", NULL, NULL);
    CHECK_INT(reply.status, 200);
    reply_free(&reply);
    F.client = saved;
    F.closing++;
    http_client_close(fresh, closed_one, NULL);
    CHECK(run_until(all_closed, NULL, 3000));
    reply = admin("GET", "/stats", NULL);
    CHECK(cJSON_IsTrue(get_path(reply.json, "listening")));
    reply_free(&reply);
    fixture_stop();
}

/* A watcher whose client never reads while thousands of events are written. */
static void slow_watcher_is_dropped(void)
{
    const size_t limit = 256 * 1024;
    struct api_server_options options = { .watch_max_queued_bytes = limit };
    REQUIRE(fixture_start_with(&options, false));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)api_server_port(F.api)) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Loopback connects complete in the kernel's backlog without the loop. */
    REQUIRE(connect(fd, (struct sockaddr *)&address, sizeof address) == 0);
    const char request[] = "GET /api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1 HTTP/1.1\r\n"
                           "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "\r\n\r\n";
    REQUIRE(write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1));
    CHECK(wait_watches(1));
    struct api_server_stats stats;
    api_server_get_stats(F.api, &stats);
    CHECK_INT(stats.watches, 1);

    char *filler = malloc(8193);
    REQUIRE(filler);
    memset(filler, 'x', 8192);
    filler[8192] = '\0';
    size_t body_size = 8192 + 256;
    char *body = malloc(body_size);
    REQUIRE(body);
    int writes = under_valgrind() ? 400 : 3000;
    int written = 0;
    for (int i = 0; i < writes; i++) {
        snprintf(body, body_size, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                 "{\"name\":\"flood\"},\"data\":{\"n\":\"%d\",\"f\":\"%s\"}}", i, filler);
        struct store_reply reply = { 0 };
        const struct resource *configmaps = resources_find(store_resources(F.store), "", "v1", "configmaps");
        cJSON *tree = cJSON_Parse(body);
        bool ok = i == 0 ? store_create(F.store, configmaps, "default", tree, &reply)
                         : store_update(F.store, configmaps, "default", "flood", tree, &reply);
        store_reply_clear(&reply);
        if (!ok) break;
        written++;
        /* Let the loop flush now and then, as it would between requests. */
        if (i % 50 == 0) uv_run(&F.loop, UV_RUN_NOWAIT);
        api_server_get_stats(F.api, &stats);
        if (stats.watches_aborted) break;
    }
    free(filler);
    free(body);
    CHECK(wait_no_watches());
    api_server_get_stats(F.api, &stats);
    CHECK_INT(stats.watches_aborted, 1);
    CHECK_INT(stats.watches, 0);
    /* Memory stays bounded: never more than the limit plus one event queued. */
    CHECK(stats.watch_queued_peak <= limit + 16 * 1024);
    CHECK(written < writes);
    /* The client sees its connection closed once it reads what was sent. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    char buffer[65536];
    bool closed = false;
    for (int i = 0; i < 2000 && !closed; i++) {
        ssize_t got = read(fd, buffer, sizeof buffer);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
        else if (got < 0) run_for(5);
    }
    CHECK(closed);
    close(fd);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* the renderer hook (where the Table renderer plugs in) */

static bool fake_accepts(void *data, const struct api_render_request *request,
                         const char **content_type)
{
    (void)data;
    if (!request->accept || !strstr(request->accept, "as=Fake")) return false;
    *content_type = "application/json;as=Fake";
    return true;
}

static char *fake_list(void *data, const struct api_render_request *request, struct store_list *list)
{
    (void)data;
    char *text = NULL;
    if (asprintf(&text, "{\"kind\":\"FakeList\",\"resource\":\"%s\",\"count\":%zu}",
                 request->resource->plural, list->count) < 0)
        return NULL;
    return text;
}

static char *fake_object(void *data, const struct api_render_request *request,
                         struct store_object *object)
{
    (void)data;
    (void)request;
    char *text = NULL;
    if (asprintf(&text, "{\"kind\":\"Fake\",\"name\":\"%s\"}",
                 str_at(store_object_tree(object), "metadata.name")) < 0)
        return NULL;
    return text;
}

static char *fake_watch_object(void *data, const struct api_render_request *request,
                               struct store_object *object, bool first)
{
    (void)data;
    (void)request;
    char *text = NULL;
    if (asprintf(&text, "{\"kind\":\"Fake\",\"name\":\"%s\",\"first\":%s}",
                 str_at(store_object_tree(object), "metadata.name"), first ? "true" : "false") < 0)
        return NULL;
    return text;
}

static void renderer_hook_for_list_get_watch(void)
{
    REQUIRE(fixture_start());
    const struct api_renderer fake = { fake_accepts, fake_list, fake_object, fake_watch_object, NULL };
    api_server_set_renderer(F.api, &fake);
    free(create_configmap("default", "r1", NULL));
    free(create_configmap("default", "r2", NULL));
    struct reply reply = call_with(F.profile, "GET", "/api/v1/namespaces/default/configmaps", NULL,
                                   "application/json;as=Fake,application/json", NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(reply.content_type, "application/json;as=Fake");
    CHECK_STR(str_at(reply.json, "kind"), "FakeList");
    CHECK_INT(num_at(reply.json, "count"), 2);
    reply_free(&reply);
    reply = call_with(F.profile, "GET", "/api/v1/namespaces/default/configmaps/r1", NULL,
                      "application/json;as=Fake", NULL);
    CHECK_STR(str_at(reply.json, "kind"), "Fake");
    CHECK_STR(str_at(reply.json, "name"), "r1");
    reply_free(&reply);
    /* Not asked for: plain JSON. A bad includeObject with the renderer: 400. */
    reply = call("GET", "/api/v1/namespaces/default/configmaps/r1", NULL, NULL);
    CHECK_STR(str_at(reply.json, "kind"), "ConfigMap");
    reply_free(&reply);
    reply = call_with(F.profile, "GET", "/api/v1/namespaces/default/configmaps?includeObject=All",
                      NULL, "application/json;as=Fake", NULL);
    CHECK_INT(reply.status, 400);
    reply_free(&reply);

    /* Watch events: the renderer makes each object; `first` only once. */
    struct stream stream;
    memset(&stream, 0, sizeof stream);
    const char *headers[] = { "Accept: application/json;as=Fake", NULL };
    struct http_client_request_options options = {
        .method = HTTP_CLIENT_GET,
        .url = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1",
        .profile = F.profile,
        .headers = headers,
        .on_data = stream_data,
        .on_complete = stream_complete,
        .user_data = &stream,
    };
    stream.request = http_client_request_start(F.client, &options);
    REQUIRE(stream.request);
    CHECK(run_until(stream_done, &stream, 4000));
    CHECK_INT(stream.lines, 2);
    cJSON *first = stream_line(&stream, 0), *second = stream_line(&stream, 1);
    CHECK_STR(str_at(first, "type"), "ADDED");
    CHECK_STR(str_at(first, "object.kind"), "Fake");
    CHECK(cJSON_IsTrue(get_path(first, "object.first")));
    CHECK(cJSON_IsFalse(get_path(second, "object.first")));
    cJSON_Delete(first);
    cJSON_Delete(second);
    stream_finish(&stream);

    /* And back to plain JSON. */
    api_server_set_renderer(F.api, NULL);
    reply = call_with(F.profile, "GET", "/api/v1/namespaces/default/configmaps/r1", NULL,
                      "application/json;as=Fake", NULL);
    CHECK_STR(str_at(reply.json, "kind"), "ConfigMap");
    reply_free(&reply);
    fixture_stop();
}

/* ------------------------------------------------------------------ */
/* the kubesim component (what main runs) */

struct kubesim_wait {
    bool stopped;
};

static void kubesim_stopped(void *data) { ((struct kubesim_wait *)data)->stopped = true; }

static bool kubesim_is_stopped(void *arg) { return ((struct kubesim_wait *)arg)->stopped; }

static void kubesim_data_dir_round_trip(void)
{
    memset(&F, 0, sizeof F);
    log_set_level(LOG_ERROR);
    REQUIRE(uv_loop_init(&F.loop) == 0);
    char data_dir[512], kubeconfig[512];
    snprintf(data_dir, sizeof data_dir, "%s/data", test_temp_dir());
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig", test_temp_dir());
    struct kubesim_options options = { .listen = "127.0.0.1:0", .admin_listen = "127.0.0.1:0",
                                       .kubeconfig_out = kubeconfig, .data_dir = data_dir };
    struct kubesim *sim = NULL;
    char *error = NULL;
    REQUIRE(kubesim_start(&F.loop, &options, &sim, &error) == 0);
    CHECK(strncmp(kubesim_api_url(sim), "https://127.0.0.1:", 18) == 0);
    char *token = strdup(kubesim_token(sim));
    char *ca = strdup(kubesim_ca_pem(sim));
    F.client = http_client_init(&F.loop, NULL);
    REQUIRE(F.client);
    F.profile = make_profile(kubesim_api_url(sim), token, ca);
    char *rv = create_configmap("default", "kept", "{\"a\":\"b\"}");
    CHECK(rv != NULL);
    struct reply reply = call("GET", "/api/v1/namespaces/default/configmaps/kept", NULL, NULL);
    char *uid = str_at(reply.json, "metadata.uid") ? strdup(str_at(reply.json, "metadata.uid")) : NULL;
    reply_free(&reply);
    http_client_profile_unref(F.profile);
    F.profile = NULL;

    /* The kubeconfig names the server, the CA and the token. */
    FILE *file = fopen(kubeconfig, "r");
    REQUIRE(file);
    char text[8192];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    CHECK(strstr(text, kubesim_api_url(sim)) != NULL);
    CHECK(strstr(text, "certificate-authority-data: ") != NULL);
    CHECK(strstr(text, token) != NULL);
    CHECK(strstr(text, "current-context: kubesim") != NULL);

    struct kubesim_wait wait = { false };
    kubesim_stop(sim, kubesim_stopped, &wait);
    CHECK(run_until(kubesim_is_stopped, &wait, 5000));
    kubesim_free(sim);

    /* Again from the same directory: same objects, CA and token. */
    options.kubeconfig_out = NULL;
    sim = NULL;
    REQUIRE(kubesim_start(&F.loop, &options, &sim, &error) == 0);
    CHECK_STR(kubesim_token(sim), token);
    CHECK_STR(kubesim_ca_pem(sim), ca);
    F.profile = make_profile(kubesim_api_url(sim), token, ca);
    reply = call("GET", "/api/v1/namespaces/default/configmaps/kept", NULL, NULL);
    CHECK_INT(reply.status, 200);
    CHECK_STR(str_at(reply.json, "metadata.uid"), uid);
    CHECK_STR(str_at(reply.json, "metadata.labels.a"), "b");
    reply_free(&reply);
    /* The counter survived: a new write gets a higher resourceVersion. */
    char *next = create_configmap("default", "later", NULL);
    CHECK(rv && next && atol(next) > atol(rv));
    free(next);
    http_client_profile_unref(F.profile);
    F.profile = NULL;
    wait.stopped = false;
    kubesim_stop(sim, kubesim_stopped, &wait);
    CHECK(run_until(kubesim_is_stopped, &wait, 5000));
    kubesim_free(sim);

    /* Memory only (no data dir) and a bad listen address fail cleanly. */
    struct kubesim_options bad = { .listen = "127.0.0.1:notaport" };
    CHECK(kubesim_start(&F.loop, &bad, &sim, &error) != 0);
    CHECK(error != NULL);
    free(error);

    F.closing = 1;
    http_client_close(F.client, closed_one, NULL);
    CHECK(run_until(all_closed, NULL, 3000));
    for (int i = 0; i < 100 && uv_run(&F.loop, UV_RUN_NOWAIT) != 0; i++) {
    }
    CHECK_INT(uv_loop_close(&F.loop), 0);
    free(token);
    free(ca);
    free(rv);
    free(uid);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(auth_needs_bearer_token),
        TEST_CASE(discovery_legacy_and_aggregated),
        TEST_CASE(crd_appears_in_discovery),
        TEST_CASE(crd_schema_refuses_wrong_types),
        TEST_CASE(delete_grace_period_is_validated),
        TEST_CASE(crud_with_status_codes),
        TEST_CASE(patches_by_content_type),
        TEST_CASE(binding_and_pod_delete),
        TEST_CASE(bad_bodies_rejected),
        TEST_CASE(lists_select_and_page),
        TEST_CASE(watch_sees_changes_in_order),
        TEST_CASE(watch_bookmarks),
        TEST_CASE(watch_expired_after_compaction),
        TEST_CASE(watch_timeout_closes_cleanly),
        TEST_CASE(admin_fails_next_requests),
        TEST_CASE(admin_closes_watches),
        TEST_CASE(admin_stops_and_resumes_listening),
        TEST_CASE(slow_watcher_is_dropped),
        TEST_CASE(renderer_hook_for_list_get_watch),
        TEST_CASE(kubesim_data_dir_round_trip),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
