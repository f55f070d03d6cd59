#include "test/sim/store.h"
#include "test/support/test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- helpers ---- */

static struct clock fake_clock;

static struct store *new_store(size_t history)
{
    /* 2026-11-21T19:55:07Z */
    clock_fake_init(&fake_clock, 1000, 1795290907000LL);
    struct store_options options = { &fake_clock, history, 42 };
    return store_new(&options);
}

static const struct resource *find(struct store *store, const char *group, const char *plural)
{
    const struct resource *resource = resources_find_storage(store_resources(store), group, plural);
    return resource;
}

static cJSON *json(const char *format, ...) __attribute__((format(printf, 1, 2)));
static cJSON *json(const char *format, ...)
{
    char text[8192];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    cJSON *parsed = cJSON_Parse(text);
    if (!parsed) test_fail(__FILE__, __LINE__, "bad JSON in test: %s", text);
    return parsed;
}

static const char *meta(const struct store_object *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(object), "metadata"), key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static double meta_number(const struct store_object *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(object), "metadata"), key);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

/* The string at a dotted path, e.g. "status.phase". */
static const char *path(const struct store_object *object, const char *dotted)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", dotted);
    const cJSON *node = store_object_tree(object);
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part; part = strtok_r(NULL, ".", &save))
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

static struct store_object *create(struct store *store, const struct resource *resource,
                                   const char *namespace, cJSON *object)
{
    struct store_reply reply;
    if (!store_create(store, resource, namespace, object, &reply)) {
        test_fail(__FILE__, __LINE__, "create failed: %s", reply.error.message);
        store_reply_clear(&reply);
        return NULL;
    }
    struct store_object *result = reply.object;
    reply.object = NULL;
    store_reply_clear(&reply);
    return result;
}

static bool exists(struct store *store, const struct resource *resource, const char *namespace,
                   const char *name)
{
    struct store_error error = { 0 };
    struct store_object *object = store_get(store, resource, namespace, name, &error);
    bool found = object != NULL;
    store_object_release(object);
    store_error_clear(&error);
    return found;
}

static struct store_object *get(struct store *store, const struct resource *resource,
                                const char *namespace, const char *name)
{
    struct store_error error = { 0 };
    struct store_object *object = store_get(store, resource, namespace, name, &error);
    store_error_clear(&error);
    return object;
}

static cJSON *copy_of(const struct store_object *object)
{
    return cJSON_Duplicate(store_object_tree(object), true);
}

static void set_path_string(cJSON *tree, const char *section, const char *key, const char *value)
{
    cJSON *parent = cJSON_GetObjectItemCaseSensitive(tree, section);
    if (!parent) parent = cJSON_AddObjectToObject(tree, section);
    cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
    cJSON_AddStringToObject(parent, key, value);
}

/* Records watch events as "TYPE name rv" lines. */
struct recorder {
    char lines[64][96];
    size_t count;
    struct store_watch *self;
    struct store *store;
    bool stop_on_first;
    bool write_on_first;
    int write_code;
};

static void record(const struct store_event *event, void *data)
{
    struct recorder *recorder = data;
    static const char *const names[] = { "ADDED", "MODIFIED", "DELETED" };
    const char *rv = meta(event->object, "resourceVersion");
    if (recorder->count < 64)
        snprintf(recorder->lines[recorder->count], sizeof recorder->lines[0], "%s %s %s",
                 names[event->type], meta(event->object, "name"), rv ? rv : "?");
    recorder->count++;
    if (rv && strtoull(rv, NULL, 10) != event->resource_version)
        test_fail(__FILE__, __LINE__, "event rv %s != %llu", rv,
                  (unsigned long long)event->resource_version);
    if (recorder->stop_on_first && recorder->self) store_watch_stop(recorder->store, recorder->self);
    if (recorder->write_on_first) {
        recorder->write_on_first = false;
        struct store_reply reply;
        store_create(recorder->store, find(recorder->store, "", "configmaps"), "default",
                     json("{\"metadata\":{\"name\":\"sneaky\"}}"), &reply);
        recorder->write_code = reply.error.code;
        store_reply_clear(&reply);
    }
}

static bool has_line(const struct recorder *recorder, const char *prefix)
{
    for (size_t i = 0; i < recorder->count && i < 64; i++)
        if (strncmp(recorder->lines[i], prefix, strlen(prefix)) == 0) return true;
    return false;
}

static bool label_app_web(const cJSON *object, void *data)
{
    (void)data;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(object, "metadata"), "labels");
    const cJSON *app = cJSON_GetObjectItemCaseSensitive(labels, "app");
    return cJSON_IsString(app) && strcmp(app->valuestring, "web") == 0;
}

static const char TIDB_CRD[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"tidbclusters.pingcap.com\"},"
    "\"spec\":{\"group\":\"pingcap.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"tidbclusters\",\"singular\":\"tidbcluster\",\"kind\":\"TidbCluster\","
    "\"shortNames\":[\"tc\"]},"
    "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
    "\"additionalPrinterColumns\":[{\"name\":\"PD\",\"type\":\"string\",\"jsonPath\":\".status.pd.image\"}]}]}}";

static const char WIDGET_CRD[] =
    "{\"metadata\":{\"name\":\"widgets.example.com\"},"
    "\"spec\":{\"group\":\"example.com\",\"scope\":\"Cluster\","
    "\"names\":{\"plural\":\"widgets\",\"kind\":\"Widget\"},"
    "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,"
    "\"subresources\":{\"status\":{}}}]}}";

/* ---- basics ---- */

static void store_create_fills_system_fields(void)
{
    struct store *store = new_store(0);
    REQUIRE(store);
    CHECK_INT(store_resource_version(store), 4); /* the four initial namespaces */
    const struct resource *pods = find(store, "", "pods");
    struct store_object *pod = create(store, pods, "default",
        json("{\"metadata\":{\"name\":\"web-0\",\"uid\":\"client\",\"resourceVersion\":\"99\"},"
             "\"spec\":{\"containers\":[]},\"status\":{\"phase\":\"Running\"}}"));
    REQUIRE(pod);
    CHECK_STR(meta(pod, "resourceVersion"), "5");
    CHECK_INT(store_object_version(pod), 5);
    CHECK_STR(meta(pod, "namespace"), "default");
    CHECK_STR(meta(pod, "creationTimestamp"), "2026-11-21T19:55:07Z");
    const char *uid = meta(pod, "uid");
    REQUIRE(uid);
    CHECK_INT(strlen(uid), 36);
    CHECK(uid[14] == '4' && uid[8] == '-' && strchr("89ab", uid[19]) != NULL);
    CHECK(strcmp(uid, "client") != 0);
    CHECK_STR(path(pod, "kind"), "Pod");
    CHECK_STR(path(pod, "apiVersion"), "v1");
    CHECK_STR(path(pod, "status.phase"), "Pending");  /* pods reset status on create */
    CHECK_INT(meta_number(pod, "generation"), -1);    /* 1.32 pods carry no generation */
    CHECK_INT(store_resource_version(store), 5);
    struct store_object *again = get(store, pods, "default", "web-0");
    CHECK(again == pod);  /* the same snapshot, shared */
    CHECK(strstr(store_object_json(pod), "\"name\":\"web-0\"") != NULL);
    struct store_object *other = create(store, pods, "default", json("{\"metadata\":{\"name\":\"web-1\"}}"));
    CHECK(other && strcmp(meta(other, "uid"), uid) != 0);
    struct store_error error = { 0 };
    CHECK(store_get(store, pods, "kube-system", "web-0", &error) == NULL);
    CHECK_INT(error.code, 404);
    CHECK_STR(error.message, "pods \"web-0\" not found");
    store_error_clear(&error);
    const struct resource *namespaces = find(store, "", "namespaces");
    struct store_object *ns = get(store, namespaces, NULL, "default");
    REQUIRE(ns);
    CHECK_STR(path(ns, "status.phase"), "Active");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(ns), "metadata"), "labels");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/metadata.name")), "default");
    store_object_release(ns);
    store_object_release(again);
    store_object_release(other);
    store_object_release(pod);
    store_free(store);
}

static void store_generate_name_adds_suffix(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *a = create(store, configmaps, "default", json("{\"metadata\":{\"generateName\":\"web-\"}}"));
    struct store_object *b = create(store, configmaps, "default", json("{\"metadata\":{\"generateName\":\"web-\"}}"));
    REQUIRE(a && b);
    const char *name = meta(a, "name");
    CHECK_INT(strlen(name), 9);
    CHECK(strncmp(name, "web-", 4) == 0);
    for (const char *c = name + 4; *c; c++) CHECK(strchr("bcdfghjklmnpqrstvwxz2456789", *c) != NULL);
    CHECK(strcmp(meta(a, "name"), meta(b, "name")) != 0);
    CHECK(exists(store, configmaps, "default", name));
    store_object_release(a);
    store_object_release(b);
    store_free(store);
}

static void store_rejects_invalid_names(void)
{
    static const struct {
        const char *plural, *body, *field, *reason, *message_start;
    } cases[] = {
        { "configmaps", "{\"metadata\":{\"name\":\"Bad_Name\"}}", "metadata.name", "FieldValueInvalid",
          "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain" },
        { "configmaps", "{\"metadata\":{\"name\":\"-lead\"}}", "metadata.name", "FieldValueInvalid",
          "ConfigMap \"-lead\" is invalid: metadata.name" },
        { "configmaps", "{\"metadata\":{\"name\":\"a..b\"}}", "metadata.name", "FieldValueInvalid",
          "ConfigMap \"a..b\" is invalid" },
        { "services", "{\"metadata\":{\"name\":\"has.dot\"}}", "metadata.name", "FieldValueInvalid",
          "Service \"has.dot\" is invalid: metadata.name: Invalid value: \"has.dot\": a lowercase RFC 1123 label" },
        { "configmaps", "{\"metadata\":{}}", "metadata.name", "FieldValueRequired",
          "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required" },
        { "storageclasses", "{\"metadata\":{\"name\":\"UPPER\"}}", "metadata.name", "FieldValueInvalid",
          "StorageClass.storage.k8s.io \"UPPER\" is invalid" },
        { "configmaps", "{\"metadata\":{\"name\":\"x\",\"ownerReferences\":["
                        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"a\",\"uid\":\"1\",\"controller\":true},"
                        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"b\",\"uid\":\"2\",\"controller\":true}]}}",
          "metadata.ownerReferences", "FieldValueInvalid", "ConfigMap \"x\" is invalid" },
    };
    struct store *store = new_store(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_reply reply;
        CHECK(!store_create(store, find(store, cases[i].plural[0] == 's' && cases[i].plural[1] == 't'
                                                   ? "storage.k8s.io" : "", cases[i].plural),
                            "default", json("%s", cases[i].body), &reply));
        CHECK_INT(reply.error.code, 422);
        CHECK_STR(reply.error.reason, "Invalid");
        CHECK(reply.error.message && strncmp(reply.error.message, cases[i].message_start,
                                             strlen(cases[i].message_start)) == 0);
        REQUIRE(reply.error.cause_count >= 1);
        CHECK_STR(reply.error.causes[0].field, cases[i].field);
        CHECK_STR(reply.error.causes[0].reason, cases[i].reason);
        if (test_failed()) fprintf(stderr, "  case %zu: %s\n", i, reply.error.message);
        store_reply_clear(&reply);
    }
    /* 254 characters is one too many for a subdomain. */
    char long_name[300];
    memset(long_name, 'a', 254);
    long_name[254] = '\0';
    struct store_reply reply;
    CHECK(!store_create(store, find(store, "", "configmaps"), "default",
                        json("{\"metadata\":{\"name\":\"%s\"}}", long_name), &reply));
    CHECK_INT(reply.error.code, 422);
    CHECK(reply.error.cause_count && strstr(reply.error.causes[0].message, "must be no more than 253 characters"));
    store_reply_clear(&reply);
    CHECK_INT(store_resource_version(store), 4);  /* nothing was written */
    store_free(store);
}

static void store_reports_already_exists(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    const struct resource *classes = find(store, "storage.k8s.io", "storageclasses");
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c\"}}")));
    store_object_release(create(store, classes, NULL, json("{\"metadata\":{\"name\":\"fast\"}}")));
    struct store_reply reply;
    CHECK(!store_create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c\"}}"), &reply));
    CHECK_INT(reply.error.code, 409);
    CHECK_STR(reply.error.reason, "AlreadyExists");
    CHECK_STR(reply.error.message, "configmaps \"c\" already exists");
    cJSON *status = store_error_status(&reply.error);
    char *text = cJSON_PrintUnformatted(status);
    CHECK_STR(text, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                    "\"message\":\"configmaps \\\"c\\\" already exists\",\"reason\":\"AlreadyExists\","
                    "\"details\":{\"name\":\"c\",\"kind\":\"configmaps\"},\"code\":409}");
    free(text);
    cJSON_Delete(status);
    store_reply_clear(&reply);
    CHECK(!store_create(store, classes, NULL, json("{\"metadata\":{\"name\":\"fast\"}}"), &reply));
    CHECK_STR(reply.error.message, "storageclasses.storage.k8s.io \"fast\" already exists");
    CHECK_STR(reply.error.group, "storage.k8s.io");
    store_reply_clear(&reply);
    /* The same name in another namespace is another object. */
    struct store_object *other = create(store, configmaps, "kube-system", json("{\"metadata\":{\"name\":\"c\"}}"));
    CHECK(other != NULL);
    store_object_release(other);
    store_free(store);
}

static void store_status_renders_invalid_causes(void)
{
    struct store *store = new_store(0);
    struct store_reply reply;
    CHECK(!store_create(store, find(store, "", "configmaps"), "default",
                        json("{\"metadata\":{\"name\":\"A\"}}"), &reply));
    cJSON *status = store_error_status(&reply.error);
    REQUIRE(status);
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(status, "details");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(details, "kind")), "ConfigMap");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(details, "name")), "A");
    const cJSON *cause = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(details, "causes"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cause, "reason")), "FieldValueInvalid");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cause, "field")), "metadata.name");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(status, "code")->valueint, 422);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "reason")), "Invalid");
    cJSON_Delete(status);
    store_reply_clear(&reply);
    store_free(store);
}

static void store_checks_namespaces(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_reply reply;
    CHECK(!store_create(store, configmaps, "nope", json("{\"metadata\":{\"name\":\"c\"}}"), &reply));
    CHECK_INT(reply.error.code, 404);
    CHECK_STR(reply.error.message, "namespaces \"nope\" not found");
    CHECK_STR(reply.error.kind, "namespaces");
    store_reply_clear(&reply);
    CHECK(!store_create(store, configmaps, "default",
                        json("{\"metadata\":{\"name\":\"c\",\"namespace\":\"kube-system\"}}"), &reply));
    CHECK_INT(reply.error.code, 400);
    CHECK_STR(reply.error.message, "the namespace of the provided object does not match the namespace sent on the request");
    store_reply_clear(&reply);
    /* Cluster-scoped objects drop a namespace. */
    struct store_object *node = create(store, find(store, "", "nodes"), NULL,
                                       json("{\"metadata\":{\"name\":\"n1\",\"namespace\":\"x\"}}"));
    REQUIRE(node);
    CHECK(meta(node, "namespace") == NULL);
    store_object_release(node);
    store_free(store);
}

/* ---- update ---- */

static void store_update_checks_resource_version(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *first = create(store, configmaps, "default",
                                        json("{\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"1\"}}"));
    REQUIRE(first);
    struct store_reply reply;
    cJSON *body = copy_of(first);
    set_path_string(body, "data", "k", "2");
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));
    CHECK_INT(reply.outcome, STORE_UPDATED);
    CHECK_STR(meta(reply.object, "resourceVersion"), "6");
    CHECK_STR(meta(reply.object, "uid"), meta(first, "uid"));
    store_reply_clear(&reply);
    /* The first version is stale now. */
    body = copy_of(first);
    set_path_string(body, "data", "k", "3");
    CHECK(!store_update(store, configmaps, "default", "c", body, &reply));
    CHECK_INT(reply.error.code, 409);
    CHECK_STR(reply.error.reason, "Conflict");
    CHECK_STR(reply.error.message, "Operation cannot be fulfilled on configmaps \"c\": the object has "
                                   "been modified; please apply your changes to the latest version and try again");
    store_reply_clear(&reply);
    /* Without a resourceVersion: unconditional; uid and creationTimestamp stay. */
    clock_fake_advance(&fake_clock, 60000);
    CHECK(store_update(store, configmaps, "default", "c",
                       json("{\"metadata\":{\"name\":\"c\",\"uid\":\"evil\",\"creationTimestamp\":\"2000-01-01T00:00:00Z\"},"
                            "\"data\":{\"k\":\"4\"}}"), &reply));
    CHECK_INT(reply.outcome, STORE_UPDATED);
    CHECK_STR(meta(reply.object, "uid"), meta(first, "uid"));
    CHECK_STR(meta(reply.object, "creationTimestamp"), "2026-11-21T19:55:07Z");
    CHECK_STR(path(reply.object, "data.k"), "4");
    store_reply_clear(&reply);
    /* Name mismatch and missing objects. */
    CHECK(!store_update(store, configmaps, "default", "c", json("{\"metadata\":{\"name\":\"d\"}}"), &reply));
    CHECK_INT(reply.error.code, 400);
    store_reply_clear(&reply);
    CHECK(!store_update(store, configmaps, "default", "zz", json("{\"metadata\":{}}"), &reply));
    CHECK_INT(reply.error.code, 404);
    CHECK_STR(reply.error.message, "configmaps \"zz\" not found");
    store_reply_clear(&reply);
    /* Leases need a resourceVersion for updates but a PUT may create them. */
    const struct resource *leases = find(store, "coordination.k8s.io", "leases");
    CHECK(store_update(store, leases, "default", "lock", json("{\"spec\":{\"holderIdentity\":\"a\"}}"), &reply));
    CHECK_INT(reply.outcome, STORE_CREATED);
    store_reply_clear(&reply);
    CHECK(!store_update(store, leases, "default", "lock", json("{\"spec\":{\"holderIdentity\":\"b\"}}"), &reply));
    CHECK_INT(reply.error.code, 422);
    CHECK_STR(reply.error.message, "leases.coordination.k8s.io \"lock\" is invalid: metadata.resourceVersion: "
                                   "Invalid value: 0x0: must be specified for an update");
    store_reply_clear(&reply);
    store_object_release(first);
    store_free(store);
}

static void store_noop_update_keeps_version(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *first = create(store, configmaps, "default",
                                        json("{\"metadata\":{\"name\":\"c\"},\"data\":{\"k\":\"1\"}}"));
    REQUIRE(first);
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    struct store_watch_options options = { NULL, meta(first, "resourceVersion"), NULL, NULL };
    struct store_watch *watch = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    REQUIRE(watch);
    uint64_t before = store_resource_version(store);
    struct store_reply reply;
    CHECK(store_update(store, configmaps, "default", "c", copy_of(first), &reply));
    CHECK_INT(reply.outcome, STORE_UNCHANGED);
    CHECK(reply.object == first);
    store_reply_clear(&reply);
    CHECK_INT(store_resource_version(store), before);
    CHECK_INT(recorder.count, 0);
    store_watch_stop(store, watch);
    store_object_release(first);
    store_free(store);
}

static void store_generation_follows_spec(void)
{
    struct store *store = new_store(0);
    const struct resource *crds = find(store, "apiextensions.k8s.io", "customresourcedefinitions");
    struct store_object *crd = create(store, crds, NULL, json("%s", TIDB_CRD));
    REQUIRE(crd);
    CHECK_INT(meta_number(crd, "generation"), 1);
    const struct resource *clusters = resources_find(store_resources(store), "pingcap.com", "v1alpha1", "tidbclusters");
    REQUIRE(clusters);
    struct store_object *tc = create(store, clusters, "default",
        json("{\"metadata\":{\"name\":\"basic\"},\"spec\":{\"pd\":{\"replicas\":3}},\"status\":{\"phase\":\"x\"}}"));
    REQUIRE(tc);
    CHECK_INT(meta_number(tc, "generation"), 1);
    CHECK_STR(path(tc, "status.phase"), "x");  /* no status subresource: create keeps status */
    static const struct { const char *change; int generation; } steps[] = {
        { "{\"metadata\":{\"name\":\"basic\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"pd\":{\"replicas\":3}},\"status\":{\"phase\":\"x\"}}", 1 },
        { "{\"metadata\":{\"name\":\"basic\",\"labels\":{\"a\":\"b\"},\"generation\":9},\"spec\":{\"pd\":{\"replicas\":5}},\"status\":{\"phase\":\"x\"}}", 2 },
        /* Without a status subresource a status change is a generation change. */
        { "{\"metadata\":{\"name\":\"basic\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"pd\":{\"replicas\":5}},\"status\":{\"phase\":\"y\"}}", 3 },
        { "{\"metadata\":{\"name\":\"basic\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"pd\":{\"replicas\":5}},\"status\":{\"phase\":\"y\"},\"extra\":1}", 4 },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct store_object *current = get(store, clusters, "default", "basic");
        cJSON *body = json("%s", steps[i].change);
        cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "resourceVersion",
                                meta(current, "resourceVersion"));
        struct store_reply reply;
        CHECK(store_update(store, clusters, "default", "basic", body, &reply));
        CHECK_INT(meta_number(reply.object, "generation"), steps[i].generation);
        store_reply_clear(&reply);
        store_object_release(current);
    }
    /* Setting deletionTimestamp bumps generation once. */
    struct store_object *current = get(store, clusters, "default", "basic");
    cJSON *body = copy_of(current);
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "finalizers", json("[\"hold\"]"));
    struct store_reply reply;
    CHECK(store_update(store, clusters, "default", "basic", body, &reply));
    CHECK_INT(meta_number(reply.object, "generation"), 4);
    store_reply_clear(&reply);
    CHECK(store_delete(store, clusters, "default", "basic", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_DELETING);
    CHECK_INT(meta_number(reply.object, "generation"), 5);
    store_reply_clear(&reply);
    CHECK(store_delete(store, clusters, "default", "basic", NULL, &reply));
    CHECK_INT(meta_number(reply.object, "generation"), 5);
    store_reply_clear(&reply);
    store_object_release(current);
    store_object_release(tc);
    store_object_release(crd);
    store_free(store);
}

static void store_status_subresource_isolated(void)
{
    struct store *store = new_store(0);
    const struct resource *crds = find(store, "apiextensions.k8s.io", "customresourcedefinitions");
    store_object_release(create(store, crds, NULL, json("%s", WIDGET_CRD)));
    const struct resource *widgets = resources_find(store_resources(store), "example.com", "v1", "widgets");
    REQUIRE(widgets);
    CHECK(widgets->has_status && !widgets->namespaced);
    struct store_object *widget = create(store, widgets, NULL,
        json("{\"metadata\":{\"name\":\"w\"},\"spec\":{\"size\":1},\"status\":{\"ready\":true}}"));
    REQUIRE(widget);
    CHECK(cJSON_GetObjectItemCaseSensitive(store_object_tree(widget), "status") == NULL);  /* dropped on create */
    /* Main resource: status ignored, spec applied, generation bumped. */
    cJSON *body = copy_of(widget);
    cJSON_AddItemToObject(body, "status", json("{\"ready\":true}"));
    cJSON_ReplaceItemInObjectCaseSensitive(body, "spec", json("{\"size\":2}"));
    struct store_reply reply;
    CHECK(store_update(store, widgets, NULL, "w", body, &reply));
    CHECK(cJSON_GetObjectItemCaseSensitive(store_object_tree(reply.object), "status") == NULL);
    CHECK_INT(meta_number(reply.object, "generation"), 2);
    body = copy_of(reply.object);
    store_reply_clear(&reply);
    /* /status: only status changes; generation stays. */
    cJSON_ReplaceItemInObjectCaseSensitive(body, "spec", json("{\"size\":7}"));
    cJSON_AddItemToObject(body, "status", json("{\"ready\":true}"));
    set_path_string(body, "metadata", "labels", "ignored");
    CHECK(store_update_status(store, widgets, NULL, "w", body, &reply));
    CHECK_INT(reply.outcome, STORE_UPDATED);
    const cJSON *tree = store_object_tree(reply.object);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree, "status"), "ready")));
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree, "spec"), "size")->valueint, 2);
    CHECK_INT(meta_number(reply.object, "generation"), 2);
    CHECK(meta(reply.object, "labels") == NULL);
    store_reply_clear(&reply);
    /* Built-in pods: the same both ways. */
    const struct resource *pods = find(store, "", "pods");
    struct store_object *pod = create(store, pods, "default", json("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"\"}}"));
    REQUIRE(pod);
    body = copy_of(pod);
    set_path_string(body, "status", "phase", "Running");
    CHECK(store_update(store, pods, "default", "p", body, &reply));
    CHECK_INT(reply.outcome, STORE_UNCHANGED);
    CHECK_STR(path(reply.object, "status.phase"), "Pending");
    store_reply_clear(&reply);
    body = copy_of(pod);
    set_path_string(body, "status", "phase", "Running");
    set_path_string(body, "spec", "nodeName", "n1");
    CHECK(store_update_status(store, pods, "default", "p", body, &reply));
    CHECK_STR(path(reply.object, "status.phase"), "Running");
    CHECK_STR(path(reply.object, "spec.nodeName"), "");
    store_reply_clear(&reply);
    /* configmaps have no status subresource. */
    CHECK(!store_update_status(store, find(store, "", "configmaps"), "default", "x", json("{}"), &reply));
    CHECK_INT(reply.error.code, 404);
    store_reply_clear(&reply);
    store_object_release(pod);
    store_object_release(widget);
    store_free(store);
}

/* ---- deletion ---- */

static void store_finalizers_hold_deletion(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *first = create(store, configmaps, "default",
        json("{\"metadata\":{\"name\":\"c\",\"finalizers\":[\"example.com/hold\"]}}"));
    REQUIRE(first);
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    struct store_watch_options options = { "default", meta(first, "resourceVersion"), NULL, NULL };
    struct store_watch *watch = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    REQUIRE(watch);
    clock_fake_advance(&fake_clock, 5000);
    struct store_reply reply;
    CHECK(store_delete(store, configmaps, "default", "c", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_DELETING);
    CHECK_STR(meta(reply.object, "deletionTimestamp"), "2026-11-21T19:55:12Z");
    CHECK_INT(meta_number(reply.object, "deletionGracePeriodSeconds"), 0);
    store_reply_clear(&reply);
    CHECK(exists(store, configmaps, "default", "c"));
    /* A second DELETE changes nothing. */
    uint64_t version = store_resource_version(store);
    CHECK(store_delete(store, configmaps, "default", "c", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_DELETING);
    CHECK_INT(store_resource_version(store), version);
    store_reply_clear(&reply);
    /* New finalizers are refused; deletionTimestamp cannot be cleared. */
    struct store_object *current = get(store, configmaps, "default", "c");
    cJSON *body = copy_of(current);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "finalizers"),
                         cJSON_CreateString("another"));
    CHECK(!store_update(store, configmaps, "default", "c", body, &reply));
    CHECK_INT(reply.error.code, 422);
    CHECK(reply.error.cause_count == 1 && strcmp(reply.error.causes[0].field, "metadata.finalizers") == 0);
    store_reply_clear(&reply);
    body = copy_of(current);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "deletionTimestamp");
    set_path_string(body, "data", "x", "y");
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));
    CHECK(meta(reply.object, "deletionTimestamp") != NULL);
    store_reply_clear(&reply);
    store_object_release(current);
    /* Removing the last finalizer deletes. */
    current = get(store, configmaps, "default", "c");
    body = copy_of(current);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "finalizers", cJSON_CreateArray());
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    store_object_release(current);
    CHECK(!exists(store, configmaps, "default", "c"));
    CHECK_INT(recorder.count, 3);
    CHECK(strncmp(recorder.lines[0], "MODIFIED c", 10) == 0);
    CHECK(strncmp(recorder.lines[1], "MODIFIED c", 10) == 0);
    CHECK(strncmp(recorder.lines[2], "DELETED c", 9) == 0);
    store_watch_stop(store, watch);
    store_object_release(first);
    store_free(store);
}

static void store_delete_preconditions(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *object = create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c\"}}"));
    REQUIRE(object);
    struct store_delete_options options = { .propagation = STORE_PROPAGATION_BACKGROUND, .precondition_uid = "wrong" };
    struct store_reply reply;
    CHECK(!store_delete(store, configmaps, "default", "c", &options, &reply));
    CHECK_INT(reply.error.code, 409);
    CHECK(strstr(reply.error.message, "Precondition failed: UID in precondition: wrong") != NULL);
    store_reply_clear(&reply);
    options.precondition_uid = meta(object, "uid");
    options.precondition_resource_version = "1";
    CHECK(!store_delete(store, configmaps, "default", "c", &options, &reply));
    CHECK_INT(reply.error.code, 409);
    CHECK_STR(reply.error.reason, "Conflict");
    store_reply_clear(&reply);
    options.precondition_resource_version = meta(object, "resourceVersion");
    CHECK(store_delete(store, configmaps, "default", "c", &options, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    CHECK_STR(meta(reply.object, "name"), "c");
    CHECK(store_object_version(reply.object) > store_object_version(object));
    store_reply_clear(&reply);
    CHECK(!store_delete(store, configmaps, "default", "c", NULL, &reply));
    CHECK_INT(reply.error.code, 404);
    store_reply_clear(&reply);
    store_object_release(object);
    store_free(store);
}

/* Creates a configmap owned by `owner` (NULL: none); returns its uid in `uid`. */
static void make_owned(struct store *store, const char *name, const struct store_object *owner,
                       const char *extra_owner_json, bool block, const char *finalizer, char uid[64])
{
    char references[1024] = "";
    if (owner)
        snprintf(references, sizeof references,
                 ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"%s\","
                 "\"uid\":\"%s\",\"blockOwnerDeletion\":%s}%s%s]",
                 meta(owner, "name"), meta(owner, "uid"), block ? "true" : "false",
                 extra_owner_json ? "," : "", extra_owner_json ? extra_owner_json : "");
    char finalizers[128] = "";
    if (finalizer) snprintf(finalizers, sizeof finalizers, ",\"finalizers\":[\"%s\"]", finalizer);
    struct store_object *object = create(store, find(store, "", "configmaps"), "default",
        json("{\"metadata\":{\"name\":\"%s\"%s%s}}", name, references, finalizers));
    if (uid) snprintf(uid, 64, "%s", object ? meta(object, "uid") : "");
    store_object_release(object);
}

static void store_gc_background_cascades(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    make_owned(store, "owner", NULL, NULL, false, NULL, NULL);
    make_owned(store, "keeper", NULL, NULL, false, NULL, NULL);
    struct store_object *owner = get(store, configmaps, "default", "owner");
    struct store_object *keeper = get(store, configmaps, "default", "keeper");
    make_owned(store, "child", owner, NULL, false, NULL, NULL);
    struct store_object *child = get(store, configmaps, "default", "child");
    make_owned(store, "grandchild", child, NULL, false, NULL, NULL);
    char second[512];
    snprintf(second, sizeof second, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"keeper\",\"uid\":\"%s\"}",
             meta(keeper, "uid"));
    make_owned(store, "shared", owner, second, false, NULL, NULL);
    /* An owner of a kind the sim does not serve is never collected. */
    store_object_release(create(store, configmaps, "default",
        json("{\"metadata\":{\"name\":\"foreign\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
             "\"kind\":\"StatefulSet\",\"name\":\"s\",\"uid\":\"u\"}]}}")));
    struct store_reply reply;
    CHECK(store_delete(store, configmaps, "default", "owner", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    CHECK(!exists(store, configmaps, "default", "owner"));
    CHECK(!exists(store, configmaps, "default", "child"));
    CHECK(!exists(store, configmaps, "default", "grandchild"));
    CHECK(exists(store, configmaps, "default", "foreign"));
    struct store_object *shared = get(store, configmaps, "default", "shared");
    REQUIRE(shared);
    const cJSON *references = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(shared), "metadata"), "ownerReferences");
    CHECK_INT(cJSON_GetArraySize(references), 1);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(references, 0), "name")), "keeper");
    /* A dependent created for an owner that does not exist is collected at once. */
    store_object_release(create(store, configmaps, "default",
        json("{\"metadata\":{\"name\":\"stray\",\"ownerReferences\":[{\"apiVersion\":\"v1\","
             "\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"gone\"}]}}")));
    CHECK(!exists(store, configmaps, "default", "stray"));
    store_object_release(shared);
    store_object_release(owner);
    store_object_release(keeper);
    store_object_release(child);
    store_free(store);
}

static void store_gc_orphan_keeps_dependents(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    make_owned(store, "owner", NULL, NULL, false, NULL, NULL);
    struct store_object *owner = get(store, configmaps, "default", "owner");
    make_owned(store, "child", owner, NULL, true, NULL, NULL);
    struct store_delete_options options = { .propagation = STORE_PROPAGATION_ORPHAN };
    struct store_reply reply;
    CHECK(store_delete(store, configmaps, "default", "owner", &options, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    struct store_object *child = get(store, configmaps, "default", "child");
    REQUIRE(child);
    CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(store_object_tree(child), "metadata"),
                                           "ownerReferences") == NULL);
    store_object_release(child);
    store_object_release(owner);
    store_free(store);
}

static void store_gc_foreground_deletes_dependents_first(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    make_owned(store, "owner", NULL, NULL, false, NULL, NULL);
    struct store_object *owner = get(store, configmaps, "default", "owner");
    make_owned(store, "child", owner, NULL, true, NULL, NULL);
    struct store_object *child = get(store, configmaps, "default", "child");
    make_owned(store, "grandchild", child, NULL, true, NULL, NULL);
    make_owned(store, "held", owner, NULL, true, "example.com/hold", NULL);
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    char from[24];
    snprintf(from, sizeof from, "%llu", (unsigned long long)store_resource_version(store));
    struct store_watch_options watch_options = { NULL, from, NULL, NULL };
    struct store_watch *watch = store_watch_start(store, configmaps, &watch_options, record, &recorder, &error);
    REQUIRE(watch);
    struct store_delete_options options = { .propagation = STORE_PROPAGATION_FOREGROUND };
    struct store_reply reply;
    CHECK(store_delete(store, configmaps, "default", "owner", &options, &reply));
    CHECK_INT(reply.outcome, STORE_DELETING);
    const cJSON *finalizers = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(reply.object), "metadata"), "finalizers");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(finalizers, 0)), "foregroundDeletion");
    store_reply_clear(&reply);
    CHECK(!exists(store, configmaps, "default", "child"));
    CHECK(!exists(store, configmaps, "default", "grandchild"));
    CHECK(exists(store, configmaps, "default", "owner"));  /* waits for "held" */
    struct store_object *held = get(store, configmaps, "default", "held");
    REQUIRE(held);
    CHECK(meta(held, "deletionTimestamp") != NULL);
    cJSON *body = copy_of(held);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "finalizers");
    CHECK(store_update(store, configmaps, "default", "held", body, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    CHECK(!exists(store, configmaps, "default", "owner"));
    /* Dependents went first: grandchild before child, child and held before owner. */
    int grandchild = -1, child_at = -1, held_at = -1, owner_at = -1;
    for (size_t i = 0; i < recorder.count; i++) {
        if (strncmp(recorder.lines[i], "DELETED grandchild", 18) == 0) grandchild = (int)i;
        if (strncmp(recorder.lines[i], "DELETED child", 13) == 0) child_at = (int)i;
        if (strncmp(recorder.lines[i], "DELETED held", 12) == 0) held_at = (int)i;
        if (strncmp(recorder.lines[i], "DELETED owner", 13) == 0) owner_at = (int)i;
    }
    CHECK(grandchild >= 0 && child_at > grandchild && held_at > child_at && owner_at > held_at);
    CHECK(has_line(&recorder, "MODIFIED owner"));
    store_watch_stop(store, watch);
    store_object_release(held);
    store_object_release(child);
    store_object_release(owner);
    store_free(store);
}

static void store_namespace_deletion_empties_it(void)
{
    struct store *store = new_store(0);
    const struct resource *namespaces = find(store, "", "namespaces");
    const struct resource *configmaps = find(store, "", "configmaps");
    const struct resource *pods = find(store, "", "pods");
    store_object_release(create(store, namespaces, NULL, json("{\"metadata\":{\"name\":\"team\"}}")));
    store_object_release(create(store, pods, "team", json("{\"metadata\":{\"name\":\"p\"}}")));
    store_object_release(create(store, configmaps, "team",
                                json("{\"metadata\":{\"name\":\"held\",\"finalizers\":[\"x/y\"]}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"other\"}}")));
    struct store_reply reply;
    CHECK(store_delete(store, namespaces, NULL, "team", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_DELETING);
    CHECK_STR(path(reply.object, "status.phase"), "Terminating");
    store_reply_clear(&reply);
    CHECK(!exists(store, pods, "team", "p"));
    CHECK(exists(store, configmaps, "team", "held"));
    CHECK(exists(store, configmaps, "default", "other"));
    CHECK(!store_create(store, configmaps, "team", json("{\"metadata\":{\"name\":\"late\"}}"), &reply));
    CHECK_INT(reply.error.code, 403);
    CHECK_STR(reply.error.reason, "Forbidden");
    CHECK(strstr(reply.error.message, "because it is being terminated") != NULL);
    store_reply_clear(&reply);
    struct store_object *held = get(store, configmaps, "team", "held");
    REQUIRE(held);
    cJSON *body = copy_of(held);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "finalizers");
    CHECK(store_update(store, configmaps, "team", "held", body, &reply));
    store_reply_clear(&reply);
    CHECK(!exists(store, configmaps, "team", "held"));
    CHECK(!exists(store, namespaces, NULL, "team"));
    /* An empty namespace goes at once. */
    store_object_release(create(store, namespaces, NULL, json("{\"metadata\":{\"name\":\"empty\"}}")));
    CHECK(store_delete(store, namespaces, NULL, "empty", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    store_object_release(held);
    store_free(store);
}

/* ---- lists ---- */

static void store_list_orders_and_filters(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    store_object_release(create(store, configmaps, "kube-system", json("{\"metadata\":{\"name\":\"b\"}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"z\",\"labels\":{\"app\":\"web\"}}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"a\"}}")));
    struct store_list list;
    struct store_error error = { 0 };
    CHECK(store_list(store, configmaps, NULL, &list, &error));
    REQUIRE(list.count == 3);
    CHECK_STR(meta(list.items[0], "name"), "a");
    CHECK_STR(meta(list.items[1], "name"), "z");
    CHECK_STR(meta(list.items[2], "namespace"), "kube-system");
    CHECK_INT(list.resource_version, store_resource_version(store));
    CHECK(list.continue_token == NULL);
    char *text = store_list_json(configmaps, &list);
    static const char head[] = "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":[{";
    CHECK(text && strncmp(text, head, strlen(head)) == 0);
    cJSON *parsed = cJSON_Parse(text);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(parsed, "items")), 3);
    cJSON_Delete(parsed);
    free(text);
    store_list_free(&list);
    struct store_list_options options = { "default", label_app_web, NULL, 0, NULL };
    CHECK(store_list(store, configmaps, &options, &list, &error));
    CHECK_INT(list.count, 1);
    store_list_free(&list);
    options.match = NULL;
    options.namespace = "kube-system";
    CHECK(store_list(store, configmaps, &options, &list, &error));
    CHECK_INT(list.count, 1);
    store_list_free(&list);
    store_free(store);
}

static void store_list_pages_across_writes(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    for (int i = 0; i < 10; i++)
        store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c%d\"}}", i)));
    struct store_list_options options = { "default", NULL, NULL, 4, NULL };
    struct store_list list;
    struct store_error error = { 0 };
    CHECK(store_list(store, configmaps, &options, &list, &error));
    CHECK_INT(list.count, 4);
    CHECK_STR(meta(list.items[3], "name"), "c3");
    CHECK_INT(list.remaining, 6);
    REQUIRE(list.continue_token);
    uint64_t first_version = list.resource_version;
    char *token = strdup(list.continue_token);
    char *text = store_list_json(configmaps, &list);
    CHECK(text && strstr(text, "\"remainingItemCount\":6") && strstr(text, "\"continue\":\""));
    free(text);
    store_list_free(&list);
    /* Writes between pages: later keys show up, earlier ones do not. */
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c0a\"}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c5a\"}}")));
    options.continue_token = token;
    size_t seen = 0;
    bool saw_late = false, saw_early = false;
    while (options.continue_token) {
        CHECK(store_list(store, configmaps, &options, &list, &error));
        CHECK_INT(list.resource_version, first_version);
        for (size_t i = 0; i < list.count; i++) {
            saw_late |= strcmp(meta(list.items[i], "name"), "c5a") == 0;
            saw_early |= strcmp(meta(list.items[i], "name"), "c0a") == 0;
        }
        seen += list.count;
        free(token);
        token = list.continue_token ? strdup(list.continue_token) : NULL;
        options.continue_token = token;
        store_list_free(&list);
        if (seen > 20) break;
    }
    CHECK_INT(seen, 7);
    CHECK(saw_late && !saw_early);
    /* A garbled token is a bad request. */
    options.continue_token = "!!";
    CHECK(!store_list(store, configmaps, &options, &list, &error));
    CHECK_INT(error.code, 400);
    store_error_clear(&error);
    store_free(store);
}

static void store_list_continue_expires(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    for (int i = 0; i < 3; i++)
        store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c%d\"}}", i)));
    struct store_list_options options = { NULL, NULL, NULL, 1, NULL };
    struct store_list list;
    struct store_error error = { 0 };
    CHECK(store_list(store, configmaps, &options, &list, &error));
    char *token = strdup(list.continue_token);
    store_list_free(&list);
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"later\"}}")));
    store_compact_history(store);
    options.continue_token = token;
    CHECK(!store_list(store, configmaps, &options, &list, &error));
    CHECK_INT(error.code, 410);
    CHECK_STR(error.reason, "Expired");
    CHECK_STR(error.message, "The provided continue parameter is too old to display a consistent list "
                             "result. You can start a new list without the continue parameter.");
    store_error_clear(&error);
    free(token);
    store_free(store);
}

/* ---- watches ---- */

static void store_watch_replays_from_version(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct store_object *a = create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"a\"}}"));
    store_object_release(create(store, find(store, "", "secrets"), "default", json("{\"metadata\":{\"name\":\"s\"}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"b\"}}")));
    store_object_release(create(store, configmaps, "kube-system", json("{\"metadata\":{\"name\":\"c\"}}")));
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    struct store_watch_options options = { NULL, meta(a, "resourceVersion"), NULL, NULL };
    struct store_watch *watch = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    REQUIRE(watch);
    CHECK_INT(recorder.count, 2);
    CHECK_STR(recorder.lines[0], "ADDED b 7");
    CHECK_STR(recorder.lines[1], "ADDED c 8");
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"d\"}}")));
    CHECK_INT(recorder.count, 3);
    CHECK_STR(recorder.lines[2], "ADDED d 9");
    store_watch_stop(store, watch);
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"e\"}}")));
    CHECK_INT(recorder.count, 3);
    /* Unset and "0": the current state as ADDED, then changes; namespace filtered. */
    static const char *const starts[] = { NULL, "", "0" };
    for (size_t i = 0; i < 3; i++) {
        struct recorder initial = { 0 };
        struct store_watch_options current = { "default", starts[i], NULL, NULL };
        watch = store_watch_start(store, configmaps, &current, record, &initial, &error);
        REQUIRE(watch);
        CHECK_INT(initial.count, 4);
        CHECK_STR(initial.lines[0], "ADDED a 5");
        store_watch_stop(store, watch);
    }
    /* A bad version is a bad request. */
    struct store_watch_options bad = { NULL, "abc", NULL, NULL };
    CHECK(store_watch_start(store, configmaps, &bad, record, &recorder, &error) == NULL);
    CHECK_INT(error.code, 400);
    store_error_clear(&error);
    store_object_release(a);
    store_free(store);
}

static void store_watch_too_old_is_gone(void)
{
    struct store *store = new_store(3);
    const struct resource *configmaps = find(store, "", "configmaps");
    for (int i = 0; i < 5; i++)
        store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c%d\"}}", i)));
    /* RV 9 now; 7..9 retained, so anything from 6 works and 5 is too old. */
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    struct store_watch_options options = { NULL, "5", NULL, NULL };
    CHECK(store_watch_start(store, configmaps, &options, record, &recorder, &error) == NULL);
    CHECK_INT(error.code, 410);
    CHECK_STR(error.reason, "Expired");
    CHECK_STR(error.message, "too old resource version: 5 (6)");
    store_error_clear(&error);
    options.resource_version = "6";
    struct store_watch *watch = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    REQUIRE(watch);
    CHECK_INT(recorder.count, 3);
    store_watch_stop(store, watch);
    /* Compaction: everything before now is gone. */
    store_compact_history(store);
    options.resource_version = "8";
    CHECK(store_watch_start(store, configmaps, &options, record, &recorder, &error) == NULL);
    CHECK_INT(error.code, 410);
    CHECK_STR(error.message, "too old resource version: 8 (9)");
    store_error_clear(&error);
    options.resource_version = "9";
    watch = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    CHECK(watch != NULL);
    store_watch_stop(store, watch);
    store_free(store);
}

static void store_watch_fans_out_with_filters(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct recorder all = { 0 }, web = { 0 }, other_namespace = { 0 };
    struct store_error error = { 0 };
    struct store_watch_options from_now = { NULL, "4", NULL, NULL };
    struct store_watch_options filtered = { NULL, "4", label_app_web, NULL };
    struct store_watch_options elsewhere = { "kube-system", "4", NULL, NULL };
    struct store_watch *w1 = store_watch_start(store, configmaps, &from_now, record, &all, &error);
    struct store_watch *w2 = store_watch_start(store, configmaps, &filtered, record, &web, &error);
    struct store_watch *w3 = store_watch_start(store, configmaps, &elsewhere, record, &other_namespace, &error);
    REQUIRE(w1 && w2 && w3);
    struct store_object *c = create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"c\"}}"));
    REQUIRE(c);
    struct store_reply reply;
    cJSON *body = copy_of(c);
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "labels",
                          json("{\"app\":\"web\"}"));
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));  /* starts matching */
    body = copy_of(reply.object);
    store_reply_clear(&reply);
    set_path_string(body, "data", "k", "v");
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));  /* still matching */
    body = copy_of(reply.object);
    store_reply_clear(&reply);
    cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "labels",
                                           json("{\"app\":\"db\"}"));
    CHECK(store_update(store, configmaps, "default", "c", body, &reply));  /* stops matching */
    store_reply_clear(&reply);
    CHECK(store_delete(store, configmaps, "default", "c", NULL, &reply));
    store_reply_clear(&reply);
    CHECK_INT(all.count, 5);
    CHECK_STR(all.lines[0], "ADDED c 5");
    CHECK_STR(all.lines[1], "MODIFIED c 6");
    CHECK_STR(all.lines[4], "DELETED c 9");
    CHECK_INT(web.count, 3);
    CHECK_STR(web.lines[0], "ADDED c 6");
    CHECK_STR(web.lines[1], "MODIFIED c 7");
    CHECK_STR(web.lines[2], "DELETED c 8");  /* previous state at the new version */
    CHECK_INT(other_namespace.count, 0);
    store_watch_stop(store, w1);
    store_watch_stop(store, w2);
    store_watch_stop(store, w3);
    store_object_release(c);
    store_free(store);
}

struct last_state {
    struct store_object *deleted;
};

static void keep_deleted(const struct store_event *event, void *data)
{
    struct last_state *state = data;
    if (event->type != STORE_EVENT_DELETED) return;
    store_object_release(state->deleted);
    state->deleted = store_object_retain(event->object);
}

static void store_watch_deleted_carries_last_state(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct last_state state = { NULL };
    struct store_error error = { 0 };
    struct store_watch *watch = store_watch_start(store, configmaps, NULL, keep_deleted, &state, &error);
    REQUIRE(watch);
    store_object_release(create(store, configmaps, "default",
                                json("{\"metadata\":{\"name\":\"c\"},\"data\":{\"last\":\"yes\"}}")));
    struct store_reply reply;
    CHECK(store_delete(store, configmaps, "default", "c", NULL, &reply));
    REQUIRE(state.deleted);
    CHECK_STR(path(state.deleted, "data.last"), "yes");
    CHECK_INT(store_object_version(state.deleted), store_resource_version(store));
    CHECK_STR(meta(state.deleted, "resourceVersion"), "6");
    CHECK(reply.object == state.deleted);
    store_reply_clear(&reply);
    store_watch_stop(store, watch);
    store_free(store);
    /* The snapshot outlives the store. */
    CHECK_STR(meta(state.deleted, "name"), "c");
    store_object_release(state.deleted);
}

static void store_watch_callbacks_may_stop_but_not_write(void)
{
    struct store *store = new_store(0);
    const struct resource *configmaps = find(store, "", "configmaps");
    struct recorder recorder = { 0 };
    recorder.store = store;
    recorder.stop_on_first = true;
    recorder.write_on_first = true;
    struct store_error error = { 0 };
    struct store_watch_options options = { NULL, "4", NULL, NULL };
    recorder.self = store_watch_start(store, configmaps, &options, record, &recorder, &error);
    REQUIRE(recorder.self);
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"a\"}}")));
    store_object_release(create(store, configmaps, "default", json("{\"metadata\":{\"name\":\"b\"}}")));
    CHECK_INT(recorder.count, 1);
    CHECK_INT(recorder.write_code, 500);
    CHECK(!exists(store, configmaps, "default", "sneaky"));
    store_free(store);
}

/* ---- CRDs ---- */

static void store_crd_registers_and_unregisters(void)
{
    struct store *store = new_store(0);
    const struct resource *crds = find(store, "apiextensions.k8s.io", "customresourcedefinitions");
    CHECK(resources_find(store_resources(store), "pingcap.com", "v1alpha1", "tidbclusters") == NULL);
    struct store_object *crd = create(store, crds, NULL, json("%s", TIDB_CRD));
    REQUIRE(crd);
    const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(store_object_tree(crd), "status"), "conditions");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(conditions, 1), "type")), "Established");
    CHECK_STR(path(crd, "status.acceptedNames.listKind"), "TidbClusterList");
    const struct resource *clusters = resources_find(store_resources(store), "pingcap.com", "v1alpha1", "tidbclusters");
    REQUIRE(clusters);
    CHECK(clusters->namespaced && !clusters->has_status && clusters->custom);
    CHECK(!clusters->allow_unconditional_update);
    CHECK_STR(clusters->kind, "TidbCluster");
    CHECK_STR(clusters->list_kind, "TidbClusterList");
    CHECK_STR(clusters->singular, "tidbcluster");
    CHECK(clusters->short_name_count == 1 && strcmp(clusters->short_names[0], "tc") == 0);
    CHECK(clusters->printer_column_count == 1 && strcmp(clusters->printer_columns[0].json_path, ".status.pd.image") == 0);
    CHECK(resources_find_kind(store_resources(store), "pingcap.com", NULL, "TidbCluster") == clusters);
    struct store_object *tc = create(store, clusters, "default", json("{\"metadata\":{\"name\":\"basic\"},\"spec\":{}}"));
    REQUIRE(tc);
    CHECK_STR(path(tc, "apiVersion"), "pingcap.com/v1alpha1");
    struct store_reply reply;
    CHECK(!store_create(store, clusters, "default", json("{\"metadata\":{\"name\":\"basic\"}}"), &reply));
    CHECK_STR(reply.error.message, "tidbclusters.pingcap.com \"basic\" already exists");
    store_reply_clear(&reply);
    /* A mismatched CRD name is invalid. */
    CHECK(!store_create(store, crds, NULL,
                        json("{\"metadata\":{\"name\":\"wrong.example.com\"},\"spec\":{\"group\":\"example.com\","
                             "\"scope\":\"Cluster\",\"names\":{\"plural\":\"things\",\"kind\":\"Thing\"},"
                             "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true}]}}"), &reply));
    CHECK_INT(reply.error.code, 422);
    store_reply_clear(&reply);
    struct recorder recorder = { 0 };
    struct store_error error = { 0 };
    struct store_watch *watch = store_watch_start(store, clusters, NULL, record, &recorder, &error);
    REQUIRE(watch);
    CHECK(store_delete(store, crds, NULL, "tidbclusters.pingcap.com", NULL, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    CHECK(resources_find(store_resources(store), "pingcap.com", "v1alpha1", "tidbclusters") == NULL);
    CHECK(has_line(&recorder, "DELETED basic"));
    CHECK(!exists(store, clusters, "default", "basic"));  /* the old record stays usable */
    store_watch_stop(store, watch);
    store_object_release(tc);
    store_object_release(crd);
    store_free(store);
}

/* ---- persistence ---- */

static void store_save_load_round_trip(void)
{
    struct store *store = new_store(0);
    const struct resource *crds = find(store, "apiextensions.k8s.io", "customresourcedefinitions");
    store_object_release(create(store, crds, NULL, json("%s", TIDB_CRD)));
    const struct resource *clusters = resources_find(store_resources(store), "pingcap.com", "v1alpha1", "tidbclusters");
    REQUIRE(clusters);
    struct store_object *tc = create(store, clusters, "default", json("{\"metadata\":{\"name\":\"basic\"},\"spec\":{\"x\":1}}"));
    make_owned(store, "owner", NULL, NULL, false, NULL, NULL);
    struct store_object *owner = get(store, find(store, "", "configmaps"), "default", "owner");
    make_owned(store, "child", owner, NULL, false, NULL, NULL);
    uint64_t version = store_resource_version(store);
    char file[512];
    snprintf(file, sizeof file, "%s/store.json", test_temp_dir());
    CHECK(store_save(store, file));

    struct store *loaded = new_store(0);
    REQUIRE(loaded);
    CHECK(store_load(loaded, file));
    CHECK_INT(store_resource_version(loaded), version);
    const struct resource *again = resources_find(store_resources(loaded), "pingcap.com", "v1alpha1", "tidbclusters");
    REQUIRE(again);
    struct store_object *copy = get(loaded, again, "default", "basic");
    REQUIRE(copy);
    CHECK(cJSON_Compare(store_object_tree(copy), store_object_tree(tc), true));
    CHECK_INT(store_object_version(copy), store_object_version(tc));
    CHECK(exists(loaded, find(loaded, "", "namespaces"), NULL, "default"));
    /* History starts compacted; new writes continue the counter. */
    struct store_error error = { 0 };
    struct store_watch_options options = { NULL, "5", NULL, NULL };
    struct recorder recorder = { 0 };
    CHECK(store_watch_start(loaded, again, &options, record, &recorder, &error) == NULL);
    CHECK_INT(error.code, 410);
    store_error_clear(&error);
    struct store_object *fresh = create(loaded, again, "default", json("{\"metadata\":{\"name\":\"next\"},\"spec\":{}}"));
    CHECK(fresh && store_object_version(fresh) == version + 1);
    /* Owner references survive: GC still cascades. */
    struct store_reply reply;
    CHECK(store_delete(loaded, find(loaded, "", "configmaps"), "default", "owner", NULL, &reply));
    store_reply_clear(&reply);
    CHECK(!exists(loaded, find(loaded, "", "configmaps"), "default", "child"));
    CHECK(!store_load(loaded, "/nonexistent/file.json"));
    store_object_release(fresh);
    store_object_release(copy);
    store_object_release(owner);
    store_object_release(tc);
    store_free(loaded);
    store_free(store);
}

/* ---- scale ---- */

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void count_event(const struct store_event *event, void *data)
{
    (void)event;
    (*(size_t *)data)++;
}

static void store_many_objects_stay_fast(void)
{
    bool valgrind = getenv("TEST_UNDER_VALGRIND") != NULL;
    int total = valgrind ? 2000 : 20000;
    struct store *store = new_store(0);
    const struct resource *pods = find(store, "", "pods");
    size_t events[10] = { 0 };
    struct store_watch *watches[10];
    struct store_error error = { 0 };
    for (int i = 0; i < 10; i++) {
        struct store_watch_options options = { NULL, "4", NULL, NULL };
        watches[i] = store_watch_start(store, pods, &options, count_event, &events[i], &error);
    }
    double start = seconds_now();
    for (int i = 0; i < total; i++) {
        cJSON *pod = json("{\"metadata\":{\"name\":\"pod-%05d\",\"labels\":{\"app\":\"x\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"tikv:v8\"}]}}", i);
        struct store_reply reply;
        if (!store_create(store, pods, i % 2 ? "default" : "kube-system", pod, &reply)) {
            test_fail(__FILE__, __LINE__, "create %d failed", i);
            store_reply_clear(&reply);
            break;
        }
        store_reply_clear(&reply);
    }
    double created = seconds_now();
    struct store_list list;
    CHECK(store_list(store, pods, NULL, &list, &error));
    CHECK_INT(list.count, total);
    char *text = store_list_json(pods, &list);
    CHECK(text != NULL);
    free(text);
    store_list_free(&list);
    /* Paged, the way informers list. */
    struct store_list_options options = { NULL, NULL, NULL, 500, NULL };
    size_t seen = 0;
    char *token = NULL;
    do {
        CHECK(store_list(store, pods, &options, &list, &error));
        seen += list.count;
        free(token);
        token = list.continue_token ? strdup(list.continue_token) : NULL;
        options.continue_token = token;
        store_list_free(&list);
    } while (token);
    CHECK_INT(seen, total);
    double listed = seconds_now();
    for (int i = 0; i < 10; i++) {
        CHECK_INT(events[i], total);
        store_watch_stop(store, watches[i]);
    }
    if (!valgrind) {
        /* Generous bounds: a quadratic index would take far longer. */
        CHECK(created - start < 10.0);
        CHECK(listed - created < 10.0);
    }
    fprintf(stderr, "  %d pods: create %.2fs, list %.2fs\n", total, created - start, listed - created);
    store_free(store);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(store_create_fills_system_fields),
        TEST_CASE(store_generate_name_adds_suffix),
        TEST_CASE(store_rejects_invalid_names),
        TEST_CASE(store_reports_already_exists),
        TEST_CASE(store_status_renders_invalid_causes),
        TEST_CASE(store_checks_namespaces),
        TEST_CASE(store_update_checks_resource_version),
        TEST_CASE(store_noop_update_keeps_version),
        TEST_CASE(store_generation_follows_spec),
        TEST_CASE(store_status_subresource_isolated),
        TEST_CASE(store_finalizers_hold_deletion),
        TEST_CASE(store_delete_preconditions),
        TEST_CASE(store_gc_background_cascades),
        TEST_CASE(store_gc_orphan_keeps_dependents),
        TEST_CASE(store_gc_foreground_deletes_dependents_first),
        TEST_CASE(store_namespace_deletion_empties_it),
        TEST_CASE(store_list_orders_and_filters),
        TEST_CASE(store_list_pages_across_writes),
        TEST_CASE(store_list_continue_expires),
        TEST_CASE(store_watch_replays_from_version),
        TEST_CASE(store_watch_too_old_is_gone),
        TEST_CASE(store_watch_fans_out_with_filters),
        TEST_CASE(store_watch_deleted_carries_last_state),
        TEST_CASE(store_watch_callbacks_may_stop_but_not_write),
        TEST_CASE(store_crd_registers_and_unregisters),
        TEST_CASE(store_save_load_round_trip),
        TEST_CASE(store_many_objects_stay_fast),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
