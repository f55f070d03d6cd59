#include "test/sim/table.h"
#include "test/sim/store.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- helpers ---- */

#define NOW "2024-05-01T12:00:00Z"

static int64_t now_ms(void)
{
    int64_t ms = 0;
    clock_parse_rfc3339(NOW, &ms);
    return ms;
}

static struct resource_table *table_of_kinds;

static const struct resource *builtin(const char *group, const char *plural)
{
    if (!table_of_kinds) table_of_kinds = resources_new();
    return resources_find_storage(table_of_kinds, group, plural);
}

/* Renders `object_json` as a one-row Table and returns the parsed Table (caller deletes). */
static cJSON *render_table(const struct resource *resource, const char *object_json,
                           enum table_include include, bool columns)
{
    cJSON *object = cJSON_Parse(object_json);
    if (!object) {
        test_fail(__FILE__, __LINE__, "bad JSON in test: %s", object_json);
        return NULL;
    }
    struct table_options options = { .include = include, .column_definitions = columns,
                                     .resource_version = "7", .remaining = -1,
                                     .now_ms = now_ms() };
    const cJSON *objects[] = { object };
    char *text = table_render(resource, objects, 1, &options);
    cJSON_Delete(object);
    if (!text) return NULL;
    cJSON *table = cJSON_Parse(text);
    free(text);
    return table;
}

/* The cells of the one row, as compact JSON ("" on failure; caller frees). */
static char *cells_of(const struct resource *resource, const char *object_json)
{
    cJSON *table = render_table(resource, object_json, TABLE_INCLUDE_NONE, false);
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(table, "rows");
    cJSON *cells = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "cells");
    char *text = cells ? cJSON_PrintUnformatted(cells) : NULL;
    cJSON_Delete(table);
    if (!text) text = calloc(1, 1);
    return text;
}

/* "Name,Ready,..." and a priority string "00001111" of the column definitions. */
static void columns_of(const struct resource *resource, char *names, size_t names_size,
                       char *priorities, size_t priorities_size)
{
    cJSON *table = render_table(resource, "{\"metadata\":{\"name\":\"x\"}}", TABLE_INCLUDE_NONE,
                                true);
    names[0] = '\0';
    priorities[0] = '\0';
    size_t used = 0, p = 0;
    const cJSON *column;
    cJSON_ArrayForEach(column, cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions")) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(column, "name");
        const cJSON *priority = cJSON_GetObjectItemCaseSensitive(column, "priority");
        used += (size_t)snprintf(names + used, names_size - used, "%s%s", used ? "," : "",
                                 cJSON_IsString(name) ? name->valuestring : "?");
        if (p + 1 < priorities_size) {
            priorities[p++] = cJSON_IsNumber(priority) ? (char)('0' + priority->valueint) : '?';
            priorities[p] = '\0';
        }
    }
    cJSON_Delete(table);
}

#define CHECK_CELLS(resource, object, expected)      \
    do {                                             \
        char *cells_ = cells_of(resource, object);   \
        CHECK_STR(cells_, expected);                 \
        free(cells_);                                \
    } while (0)

#define CHECK_COLUMNS(resource, expected_names, expected_priorities)                   \
    do {                                                                               \
        char names_[1024], priorities_[64];                                            \
        columns_of(resource, names_, sizeof names_, priorities_, sizeof priorities_);  \
        CHECK_STR(names_, expected_names);                                             \
        CHECK_STR(priorities_, expected_priorities);                                   \
    } while (0)

/* ---- durations and times ---- */

static void duration_follows_apimachinery(void)
{
    static const struct { int64_t seconds; const char *text; } cases[] = {
        { -3, "<invalid>" }, { -2, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 1, "1s" },
        { 119, "119s" }, { 120, "2m" }, { 121, "2m1s" }, { 9 * 60 + 59, "9m59s" },
        { 10 * 60, "10m" }, { 10 * 60 + 59, "10m" }, { 3 * 3600 - 1, "179m" },
        { 3 * 3600, "3h" }, { 3 * 3600 + 60, "3h1m" }, { 8 * 3600 - 1, "7h59m" },
        { 8 * 3600, "8h" }, { 48 * 3600 - 1, "47h" }, { 48 * 3600, "2d" },
        { 49 * 3600, "2d1h" }, { 8 * 86400 - 1, "7d23h" }, { 8 * 86400, "8d" },
        { 2 * 365 * 86400 - 1, "729d" }, { 2 * 365 * 86400, "2y" },
        { 2 * 365 * 86400 + 86400, "2y1d" }, { 8 * 365 * 86400 - 1, "7y364d" },
        { 8 * 365 * 86400, "8y" }, { 30LL * 365 * 86400, "30y" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[32];
        table_format_duration(cases[i].seconds * 1000, text, sizeof text);
        if (strcmp(text, cases[i].text) != 0)
            test_fail(__FILE__, __LINE__, "%lld s -> \"%s\", expected \"%s\"",
                      (long long)cases[i].seconds, text, cases[i].text);
    }
    char text[32];
    table_format_duration(-1999, text, sizeof text);  /* truncation toward zero: -1 s */
    CHECK_STR(text, "0s");
    table_format_duration(119999, text, sizeof text);
    CHECK_STR(text, "119s");
}

/* Timestamps are read by clock_parse_rfc3339 (test_clock); here, the ages. */
static void ages_of_timestamps(void)
{
    char age[32];
    table_format_age(NULL, now_ms(), age, sizeof age);
    CHECK_STR(age, "<unknown>");
    table_format_age("garbage", now_ms(), age, sizeof age);
    CHECK_STR(age, "<invalid>");
    table_format_age("2024-05-01T11:55:00Z", now_ms(), age, sizeof age);
    CHECK_STR(age, "5m");
    table_format_age("2024-05-01T12:00:10Z", now_ms(), age, sizeof age);  /* clock skew */
    CHECK_STR(age, "<invalid>");
}

/* ---- negotiation ---- */

static void accept_header_selects_table(void)
{
    /* What kubectl get sends. */
    CHECK(table_wanted("application/json;as=Table;v=v1;g=meta.k8s.io,"
                       "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
    CHECK(table_wanted("application/json; as=Table; g=meta.k8s.io; v=v1"));
    /* v1beta1 Tables are no longer served: the plain fallback wins. */
    CHECK(!table_wanted("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"));
    CHECK(!table_wanted("application/json"));
    CHECK(!table_wanted("application/json, */*"));
    CHECK(!table_wanted("application/vnd.kubernetes.protobuf,application/json"));
    CHECK(!table_wanted(""));
    CHECK(!table_wanted(NULL));
    /* Plain listed first wins; q values reorder. */
    CHECK(!table_wanted("application/json,application/json;as=Table;v=v1;g=meta.k8s.io"));
    CHECK(table_wanted("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io"));
    CHECK(!table_wanted("application/json;as=Table;v=v1;g=meta.k8s.io;q=0,application/json"));
    /* Another `as` (not served here) is skipped. */
    CHECK(!table_wanted("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,"
                        "application/json"));

    enum table_include include = TABLE_INCLUDE_NONE;
    CHECK(table_parse_include(NULL, &include));
    CHECK_INT(include, TABLE_INCLUDE_METADATA);
    CHECK(table_parse_include("Object", &include));
    CHECK_INT(include, TABLE_INCLUDE_OBJECT);
    CHECK(table_parse_include("None", &include));
    CHECK_INT(include, TABLE_INCLUDE_NONE);
    CHECK(table_parse_include("Metadata", &include));
    CHECK_INT(include, TABLE_INCLUDE_METADATA);
    CHECK(!table_parse_include("everything", &include));
}

/* ---- JSONPath ---- */

static void jsonpath_subset(void)
{
    cJSON *root = cJSON_Parse(
        "{\"metadata\":{\"name\":\"basic\",\"annotations\":{\"a.b/c\":\"x\"}},"
        "\"spec\":{\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}},\"on\":true},"
        "\"status\":{\"conditions\":[{\"type\":\"Progressing\",\"status\":\"False\"},"
        "{\"type\":\"Ready\",\"status\":\"True\",\"message\":\"all good\",\"n\":2}],"
        "\"list\":[{\"b\":1},{\"b\":2},{\"c\":3}]}}");
    REQUIRE(root);
    const cJSON *hit;
    hit = table_jsonpath(root, ".metadata.name");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "basic") == 0);
    hit = table_jsonpath(root, "{.spec.pd.replicas}");
    CHECK(cJSON_IsNumber(hit) && hit->valuedouble == 3);
    hit = table_jsonpath(root, "$.spec.pd.requests.storage");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "10Gi") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.type==\"Ready\")].status");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "True") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.type=='Ready')].message");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "all good") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.type!=\"Ready\")].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Progressing") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.n==2)].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Ready") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.n>1)].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Ready") == 0);
    hit = table_jsonpath(root, ".status.conditions[?(@.message)].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Ready") == 0);
    hit = table_jsonpath(root, ".status.conditions[0].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Progressing") == 0);
    hit = table_jsonpath(root, ".status.conditions[-1].type");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "Ready") == 0);
    hit = table_jsonpath(root, ".status.list[*].c");
    CHECK(cJSON_IsNumber(hit) && hit->valuedouble == 3);
    hit = table_jsonpath(root, ".metadata.annotations['a.b/c']");
    CHECK(cJSON_IsString(hit) && strcmp(hit->valuestring, "x") == 0);
    hit = table_jsonpath(root, ".spec.on");
    CHECK(cJSON_IsTrue(hit));
    hit = table_jsonpath(root, ".spec.pd");
    CHECK(cJSON_IsObject(hit));
    /* Missing keys, out of range, not understood: no result. */
    CHECK(table_jsonpath(root, ".status.pd.image") == NULL);
    CHECK(table_jsonpath(root, ".status.conditions[5].type") == NULL);
    CHECK(table_jsonpath(root, ".status.conditions[?(@.type==\"Gone\")].status") == NULL);
    CHECK(table_jsonpath(root, "..name") == NULL);
    CHECK(table_jsonpath(root, ".status.conditions[?(@.type=\"Ready\")].status") == NULL);
    CHECK(table_jsonpath(root, ".metadata.name[0]") == NULL);
    CHECK(table_jsonpath(root, NULL) == NULL);
    cJSON_Delete(root);
}

/* ---- built-in kinds ---- */

static void pod_columns_and_cells(void)
{
    const struct resource *pods = builtin("", "pods");
    REQUIRE(pods);
    CHECK_COLUMNS(pods, "Name,Ready,Status,Restarts,Age,IP,Node,Nominated Node,Readiness Gates",
                  "000001111");
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2024-05-01T11:55:00Z\"},"
                "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"c\"}]},"
                "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\","
                "\"podIPs\":[{\"ip\":\"10.0.0.5\"}],\"containerStatuses\":[{\"name\":\"c\","
                "\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}]}}",
                "[\"web\",\"1/1\",\"Running\",\"0\",\"5m\",\"10.0.0.5\",\"node-1\",\"<none>\","
                "\"<none>\"]");
    /* Fresh pod, nothing scheduled. */
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2024-05-01T11:59:30Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                "\"status\":{\"phase\":\"Pending\"}}",
                "[\"p\",\"0/2\",\"Pending\",\"0\",\"30s\",\"<none>\",\"<none>\",\"<none>\","
                "\"<none>\"]");
    /* A crash-looping container: waiting reason, restarts with when. */
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"crash\",\"creationTimestamp\":\"2024-05-01T10:00:00Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
                "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\","
                "\"ready\":false,\"restartCount\":4,\"state\":{\"waiting\":{\"reason\":"
                "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
                "\"finishedAt\":\"2024-05-01T11:58:00Z\"}}}]}}",
                "[\"crash\",\"0/1\",\"CrashLoopBackOff\",\"4 (2m ago)\",\"120m\",\"<none>\","
                "\"<none>\",\"<none>\",\"<none>\"]");
    /* Deleting and not terminal. */
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"bye\",\"creationTimestamp\":\"2024-04-29T12:00:00Z\","
                "\"deletionTimestamp\":\"2024-05-01T12:00:30Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
                "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\","
                "\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}]}}",
                "[\"bye\",\"1/1\",\"Terminating\",\"0\",\"2d\",\"<none>\",\"<none>\",\"<none>\","
                "\"<none>\"]");
    /* Completed, and an init container still running. */
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"job\",\"creationTimestamp\":\"2024-05-01T11:00:00Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
                "\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{\"name\":\"c\","
                "\"ready\":false,\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":0,"
                "\"reason\":\"Completed\"}}}]}}",
                "[\"job\",\"0/1\",\"Completed\",\"0\",\"60m\",\"<none>\",\"<none>\",\"<none>\","
                "\"<none>\"]");
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"init\",\"creationTimestamp\":\"2024-05-01T11:59:00Z\"},"
                "\"spec\":{\"initContainers\":[{\"name\":\"i\"}],\"containers\":[{\"name\":\"c\"}],"
                "\"readinessGates\":[{\"conditionType\":\"x/ok\"}]},"
                "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"i\","
                "\"ready\":false,\"restartCount\":0,\"state\":{\"running\":{}}}],"
                "\"conditions\":[{\"type\":\"x/ok\",\"status\":\"True\"}]}}",
                "[\"init\",\"0/1\",\"Init:0/1\",\"0\",\"60s\",\"<none>\",\"<none>\",\"<none>\","
                "\"1/1\"]");
    /* An exit without a reason. */
    CHECK_CELLS(pods,
                "{\"metadata\":{\"name\":\"e\",\"creationTimestamp\":\"2024-05-01T11:59:00Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
                "\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"c\","
                "\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":137}}}]}}",
                "[\"e\",\"0/1\",\"ExitCode:137\",\"0\",\"60s\",\"<none>\",\"<none>\",\"<none>\","
                "\"<none>\"]");

    /* Finished pods carry the Completed row condition. */
    cJSON *table = render_table(pods, "{\"metadata\":{\"name\":\"j\"},\"status\":{\"phase\":"
                                      "\"Succeeded\"}}", TABLE_INCLUDE_NONE, false);
    cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(table, "rows"), 0);
    cJSON *condition = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(row, "conditions"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(condition, "type")), "Completed");
    cJSON_Delete(table);
}

static void node_columns_and_cells(void)
{
    const struct resource *nodes = builtin("", "nodes");
    REQUIRE(nodes);
    CHECK_COLUMNS(nodes, "Name,Status,Roles,Age,Version,Internal-IP,External-IP,OS-Image,"
                         "Kernel-Version,Container-Runtime", "0000011111");
    CHECK_CELLS(nodes,
                "{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2024-04-30T12:00:00Z\"},"
                "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
                "{\"type\":\"Ready\",\"status\":\"True\"}],\"nodeInfo\":{\"kubeletVersion\":"
                "\"v1.32.4\",\"osImage\":\"Sim OS\"},\"addresses\":[{\"type\":\"InternalIP\","
                "\"address\":\"10.1.0.1\"}]}}",
                "[\"n1\",\"Ready\",\"<none>\",\"24h\",\"v1.32.4\",\"10.1.0.1\",\"<none>\","
                "\"Sim OS\",\"<unknown>\",\"<unknown>\"]");
    CHECK_CELLS(nodes,
                "{\"metadata\":{\"name\":\"n2\",\"creationTimestamp\":\"2024-05-01T11:00:00Z\","
                "\"labels\":{\"node-role.kubernetes.io/worker\":\"\",\"kubernetes.io/role\":"
                "\"infra\",\"node-role.kubernetes.io/control-plane\":\"\"}},"
                "\"spec\":{\"unschedulable\":true},"
                "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
                "[\"n2\",\"NotReady,SchedulingDisabled\",\"control-plane,infra,worker\",\"60m\","
                "\"\",\"<none>\",\"<none>\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
    CHECK_CELLS(nodes, "{\"metadata\":{\"name\":\"n3\"}}",
                "[\"n3\",\"Unknown\",\"<none>\",\"<unknown>\",\"\",\"<none>\",\"<none>\","
                "\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
}

static void volume_columns_and_cells(void)
{
    const struct resource *pvcs = builtin("", "persistentvolumeclaims");
    const struct resource *pvs = builtin("", "persistentvolumes");
    REQUIRE(pvcs && pvs);
    CHECK_COLUMNS(pvcs, "Name,Status,Volume,Capacity,Access Modes,StorageClass,"
                        "VolumeAttributesClass,Age,VolumeMode", "000000001");
    CHECK_CELLS(pvcs,
                "{\"metadata\":{\"name\":\"pd-basic-pd-0\",\"creationTimestamp\":"
                "\"2024-05-01T11:00:00Z\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
                "\"storageClassName\":\"local\",\"volumeName\":\"pv-1\",\"volumeMode\":"
                "\"Filesystem\",\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}},"
                "\"status\":{\"phase\":\"Bound\",\"accessModes\":[\"ReadWriteMany\","
                "\"ReadWriteOnce\"],\"capacity\":{\"storage\":\"20Gi\"}}}",
                "[\"pd-basic-pd-0\",\"Bound\",\"pv-1\",\"20Gi\",\"RWO,RWX\",\"local\",\"<unset>\","
                "\"60m\",\"Filesystem\"]");
    CHECK_CELLS(pvcs,
                "{\"metadata\":{\"name\":\"waiting\",\"creationTimestamp\":\"2024-05-01T11:59:00Z\","
                "\"annotations\":{\"volume.beta.kubernetes.io/storage-class\":\"beta\"}},"
                "\"spec\":{\"storageClassName\":\"ignored\"},\"status\":{\"phase\":\"Pending\"}}",
                "[\"waiting\",\"Pending\",\"\",\"\",\"\",\"beta\",\"<unset>\",\"60s\",\"<unset>\"]");

    CHECK_COLUMNS(pvs, "Name,Capacity,Access Modes,Reclaim Policy,Status,Claim,StorageClass,"
                       "VolumeAttributesClass,Reason,Age,VolumeMode", "00000000001");
    CHECK_CELLS(pvs,
                "{\"metadata\":{\"name\":\"pv-1\",\"creationTimestamp\":\"2024-05-01T11:00:00Z\"},"
                "\"spec\":{\"capacity\":{\"storage\":\"20Gi\"},\"accessModes\":[\"ReadWriteOnce\"],"
                "\"persistentVolumeReclaimPolicy\":\"Retain\",\"storageClassName\":\"local\","
                "\"claimRef\":{\"namespace\":\"ns\",\"name\":\"pd-basic-pd-0\"}},"
                "\"status\":{\"phase\":\"Bound\"}}",
                "[\"pv-1\",\"20Gi\",\"RWO\",\"Retain\",\"Bound\",\"ns/pd-basic-pd-0\",\"local\","
                "\"<unset>\",\"\",\"60m\",\"<unset>\"]");
}

static void service_columns_and_cells(void)
{
    const struct resource *services = builtin("", "services");
    REQUIRE(services);
    CHECK_COLUMNS(services, "Name,Type,Cluster-IP,External-IP,Port(s),Age,Selector", "0000001");
    CHECK_CELLS(services,
                "{\"metadata\":{\"name\":\"basic-tidb\",\"creationTimestamp\":"
                "\"2024-05-01T11:50:00Z\"},\"spec\":{\"type\":\"NodePort\",\"clusterIP\":"
                "\"10.96.0.10\",\"clusterIPs\":[\"10.96.0.10\"],\"ports\":[{\"name\":\"mysql\","
                "\"port\":4000,\"protocol\":\"TCP\",\"nodePort\":30400},{\"name\":\"status\","
                "\"port\":10080,\"nodePort\":30080}],\"selector\":{\"b\":\"2\",\"a\":\"1\"}}}",
                "[\"basic-tidb\",\"NodePort\",\"10.96.0.10\",\"<none>\","
                "\"4000:30400/TCP,10080:30080/TCP\",\"10m\",\"a=1,b=2\"]");
    CHECK_CELLS(services,
                "{\"metadata\":{\"name\":\"peer\",\"creationTimestamp\":\"2024-05-01T11:50:00Z\"},"
                "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"clusterIPs\":[\"None\"],"
                "\"ports\":[{\"port\":2380,\"protocol\":\"TCP\"}]}}",
                "[\"peer\",\"ClusterIP\",\"None\",\"<none>\",\"2380/TCP\",\"10m\",\"<none>\"]");
    CHECK_CELLS(services,
                "{\"metadata\":{\"name\":\"lb\",\"creationTimestamp\":\"2024-05-01T11:50:00Z\"},"
                "\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.0.11\"]}}",
                "[\"lb\",\"LoadBalancer\",\"10.96.0.11\",\"<pending>\",\"<none>\",\"10m\","
                "\"<none>\"]");
    CHECK_CELLS(services,
                "{\"metadata\":{\"name\":\"lb2\",\"creationTimestamp\":\"2024-05-01T11:50:00Z\"},"
                "\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":[\"10.96.0.12\"],"
                "\"externalIPs\":[\"1.2.3.4\"]},\"status\":{\"loadBalancer\":{\"ingress\":"
                "[{\"ip\":\"5.6.7.8\"}]}}}",
                "[\"lb2\",\"LoadBalancer\",\"10.96.0.12\",\"5.6.7.8,1.2.3.4\",\"<none>\",\"10m\","
                "\"<none>\"]");
    CHECK_CELLS(services,
                "{\"metadata\":{\"name\":\"ext\",\"creationTimestamp\":\"2024-05-01T11:50:00Z\"},"
                "\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"}}",
                "[\"ext\",\"ExternalName\",\"<none>\",\"db.example.com\",\"<none>\",\"10m\","
                "\"<none>\"]");
}

static void small_kinds_columns_and_cells(void)
{
    const struct resource *namespaces = builtin("", "namespaces");
    const struct resource *configmaps = builtin("", "configmaps");
    const struct resource *secrets = builtin("", "secrets");
    const struct resource *endpoints = builtin("", "endpoints");
    const struct resource *leases = builtin("coordination.k8s.io", "leases");
    const struct resource *classes = builtin("storage.k8s.io", "storageclasses");
    const struct resource *crds = builtin("apiextensions.k8s.io", "customresourcedefinitions");
    REQUIRE(namespaces && configmaps && secrets && endpoints && leases && classes && crds);

    CHECK_COLUMNS(namespaces, "Name,Status,Age", "000");
    CHECK_CELLS(namespaces, "{\"metadata\":{\"name\":\"x\",\"creationTimestamp\":"
                            "\"2024-05-01T11:59:58Z\"},\"status\":{\"phase\":\"Active\"}}",
                "[\"x\",\"Active\",\"2s\"]");
    CHECK_COLUMNS(configmaps, "Name,Data,Age", "000");
    CHECK_CELLS(configmaps, "{\"metadata\":{\"name\":\"cfg\",\"creationTimestamp\":"
                            "\"2024-05-01T09:30:00Z\"},\"data\":{\"a\":\"1\",\"b\":\"2\"},"
                            "\"binaryData\":{\"c\":\"AA==\"}}",
                "[\"cfg\",3,\"150m\"]");
    CHECK_COLUMNS(secrets, "Name,Type,Data,Age", "0000");
    CHECK_CELLS(secrets, "{\"metadata\":{\"name\":\"s\",\"creationTimestamp\":"
                         "\"2024-05-01T11:00:00Z\"},\"type\":\"Opaque\",\"data\":{\"k\":\"dg==\"}}",
                "[\"s\",\"Opaque\",1,\"60m\"]");
    CHECK_COLUMNS(endpoints, "Name,Endpoints,Age", "000");
    CHECK_CELLS(endpoints, "{\"metadata\":{\"name\":\"e\",\"creationTimestamp\":"
                           "\"2024-05-01T11:00:00Z\"},\"subsets\":[{\"addresses\":[{\"ip\":"
                           "\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"port\":80},"
                           "{\"port\":443}]}]}",
                "[\"e\",\"10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...\",\"60m\"]");
    CHECK_CELLS(endpoints, "{\"metadata\":{\"name\":\"none\"}}",
                "[\"none\",\"<none>\",\"<unknown>\"]");
    CHECK_COLUMNS(leases, "Name,Holder,Age", "000");
    CHECK_CELLS(leases, "{\"metadata\":{\"name\":\"tidb-operator\",\"creationTimestamp\":"
                        "\"2024-05-01T11:59:00Z\"},\"spec\":{\"holderIdentity\":\"op-1\"}}",
                "[\"tidb-operator\",\"op-1\",\"60s\"]");
    CHECK_CELLS(leases, "{\"metadata\":{\"name\":\"free\",\"creationTimestamp\":"
                        "\"2024-05-01T11:59:00Z\"},\"spec\":{}}",
                "[\"free\",\"\",\"60s\"]");
    CHECK_COLUMNS(classes, "Name,Provisioner,ReclaimPolicy,VolumeBindingMode,"
                           "AllowVolumeExpansion,Age", "000000");
    CHECK_CELLS(classes, "{\"metadata\":{\"name\":\"local\",\"creationTimestamp\":"
                         "\"2024-05-01T11:00:00Z\",\"annotations\":{"
                         "\"storageclass.kubernetes.io/is-default-class\":\"true\"}},"
                         "\"provisioner\":\"kubernetes.io/no-provisioner\","
                         "\"volumeBindingMode\":\"WaitForFirstConsumer\"}",
                "[\"local (default)\",\"kubernetes.io/no-provisioner\",\"Delete\","
                "\"WaitForFirstConsumer\",false,\"60m\"]");
    /* CRDs use the default convertor: Name and an RFC 3339 Created At. */
    CHECK_COLUMNS(crds, "Name,Created At", "00");
    CHECK_CELLS(crds, "{\"metadata\":{\"name\":\"tidbclusters.pingcap.com\",\"creationTimestamp\":"
                      "\"2024-05-01T11:00:00Z\"}}",
                "[\"tidbclusters.pingcap.com\",\"2024-05-01T11:00:00Z\"]");
}

static void event_columns_and_cells(void)
{
    const struct resource *events = builtin("", "events");
    const struct resource *new_events = builtin("events.k8s.io", "events");
    REQUIRE(events && new_events);
    CHECK_COLUMNS(events, "Last Seen,Type,Reason,Object,Subobject,Source,Message,First Seen,"
                          "Count,Name", "0000110111");
    CHECK_CELLS(events,
                "{\"metadata\":{\"name\":\"basic-pd-0.17a\"},\"involvedObject\":{\"kind\":\"Pod\","
                "\"name\":\"basic-pd-0\",\"fieldPath\":\"spec.containers{pd}\"},\"reason\":"
                "\"Pulled\",\"message\":\"  image pulled \\n\",\"type\":\"Normal\",\"source\":"
                "{\"component\":\"kubelet\",\"host\":\"n1\"},\"firstTimestamp\":"
                "\"2024-05-01T11:50:00Z\",\"lastTimestamp\":\"2024-05-01T11:58:00Z\",\"count\":3}",
                "[\"2m\",\"Normal\",\"Pulled\",\"pod/basic-pd-0\",\"spec.containers{pd}\","
                "\"kubelet, n1\",\"image pulled\",\"10m\",3,\"basic-pd-0.17a\"]");
    /* The new API: eventTime, series, regarding, note, reportingController. */
    CHECK_CELLS(new_events,
                "{\"metadata\":{\"name\":\"ev\"},\"regarding\":{\"kind\":\"TidbCluster\","
                "\"name\":\"basic\"},\"reason\":\"Scaled\",\"note\":\"tikv 3 -> 4\","
                "\"type\":\"Normal\",\"reportingController\":\"tidb-operator\","
                "\"reportingInstance\":\"op-1\",\"eventTime\":\"2024-05-01T11:00:00.000000Z\","
                "\"series\":{\"count\":5,\"lastObservedTime\":\"2024-05-01T11:59:00.000000Z\"}}",
                "[\"60s\",\"Normal\",\"Scaled\",\"tidbcluster/basic\",\"\",\"tidb-operator, op-1\","
                "\"tikv 3 -> 4\",\"60m\",5,\"ev\"]");
}

/* ---- custom resources ---- */

static const char tidbcluster_crd[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"tidbclusters.pingcap.com\"},\"spec\":{\"group\":\"pingcap.com\","
    "\"scope\":\"Namespaced\",\"names\":{\"plural\":\"tidbclusters\",\"singular\":\"tidbcluster\","
    "\"kind\":\"TidbCluster\",\"listKind\":\"TidbClusterList\",\"shortNames\":[\"tc\"]},"
    "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,"
    "\"additionalPrinterColumns\":["
    "{\"name\":\"Ready\",\"type\":\"string\",\"jsonPath\":"
    "\".status.conditions[?(@.type==\\\"Ready\\\")].status\"},"
    "{\"name\":\"PD\",\"type\":\"string\",\"jsonPath\":\".status.pd.image\","
    "\"description\":\"The image for PD cluster\"},"
    "{\"name\":\"Desire\",\"type\":\"integer\",\"jsonPath\":\".spec.pd.replicas\"},"
    "{\"name\":\"Ratio\",\"type\":\"number\",\"jsonPath\":\".spec.ratio\"},"
    "{\"name\":\"Paused\",\"type\":\"boolean\",\"jsonPath\":\".spec.paused\"},"
    "{\"name\":\"Status\",\"type\":\"string\",\"priority\":1,\"jsonPath\":"
    "\".status.conditions[?(@.type==\\\"Ready\\\")].message\"},"
    "{\"name\":\"Age\",\"type\":\"date\",\"jsonPath\":\".metadata.creationTimestamp\"}]},"
    "{\"name\":\"v1beta1\",\"served\":true,\"storage\":false}]}}";

static void custom_resource_printer_columns(void)
{
    struct resource_table *table = resources_new();
    REQUIRE(table);
    cJSON *crd = cJSON_Parse(tidbcluster_crd);
    const char *field_path = NULL;
    const char *problem = crd ? resources_check_crd(table, crd, &field_path) : "parse";
    CHECK(problem == NULL);
    if (problem) test_fail(__FILE__, __LINE__, "crd: %s at %s", problem, field_path ? field_path : "");
    CHECK(crd && resources_register_crd(table, crd));
    cJSON_Delete(crd);
    const struct resource *tc = resources_find(table, "pingcap.com", "v1alpha1", "tidbclusters");
    const struct resource *tc_beta = resources_find(table, "pingcap.com", "v1beta1", "tidbclusters");
    if (!tc || !tc_beta) {
        resources_free(table);
        REQUIRE(tc && tc_beta);
    }
    CHECK_COLUMNS(tc, "Name,Ready,PD,Desire,Ratio,Paused,Status,Age", "00000010");
    CHECK_CELLS(tc,
                "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
                "\"metadata\":{\"name\":\"basic\",\"creationTimestamp\":\"2024-05-01T11:00:00Z\"},"
                "\"spec\":{\"pd\":{\"replicas\":3},\"ratio\":0.5,\"paused\":false},"
                "\"status\":{\"pd\":{\"image\":\"pingcap/pd:v8.1.0\"},\"conditions\":["
                "{\"type\":\"Ready\",\"status\":\"True\",\"message\":\"TiDB cluster is fully up\"}]}}",
                "[\"basic\",\"True\",\"pingcap/pd:v8.1.0\",3,0.5,false,\"TiDB cluster is fully up\","
                "\"60m\"]");
    /* Missing values are null cells; a string column prints a number as text. */
    CHECK_CELLS(tc,
                "{\"metadata\":{\"name\":\"new\",\"creationTimestamp\":\"2024-05-01T11:59:59Z\"},"
                "\"spec\":{\"pd\":{\"replicas\":\"three\"}},\"status\":{\"pd\":{\"image\":7}}}",
                "[\"new\",null,\"7\",null,null,null,null,\"1s\"]");

    /* Column descriptions: the CRD's, or the JSONPath sentence. */
    cJSON *rendered = render_table(tc, "{\"metadata\":{\"name\":\"x\"}}", TABLE_INCLUDE_NONE, true);
    cJSON *columns = cJSON_GetObjectItemCaseSensitive(rendered, "columnDefinitions");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(columns, 2),
                                                                    "description")),
              "The image for PD cluster");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(columns, 3),
                                                                    "description")),
              "Custom resource definition column (in JSONPath format): .spec.pd.replicas");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(columns, 0),
                                                                    "format")), "name");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(columns, 7),
                                                                    "type")), "date");
    cJSON_Delete(rendered);

    /* A version without printer columns gets Name and Age. */
    CHECK_COLUMNS(tc_beta, "Name,Age", "00");
    CHECK_CELLS(tc_beta, "{\"metadata\":{\"name\":\"b\",\"creationTimestamp\":"
                         "\"2024-05-01T08:00:00Z\"}}",
                "[\"b\",\"4h\"]");
    resources_free(table);
}

/* ---- the Table envelope ---- */

static void table_envelope_and_objects(void)
{
    const struct resource *configmaps = builtin("", "configmaps");
    REQUIRE(configmaps);
    const char *object = "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                         "\"cfg\",\"namespace\":\"ns\",\"resourceVersion\":\"7\",\"labels\":"
                         "{\"a\":\"b\"}},\"data\":{\"k\":\"v\"}}";
    cJSON *table = render_table(configmaps, object, TABLE_INCLUDE_METADATA, true);
    REQUIRE(table);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(table, "kind")), "Table");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(table, "apiVersion")),
              "meta.k8s.io/v1");
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(table, "metadata");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(metadata, "resourceVersion")),
              "7");
    CHECK(cJSON_GetObjectItemCaseSensitive(metadata, "continue") == NULL);
    cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(table, "rows"), 0);
    char *embedded = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(row, "object"));
    CHECK_STR(embedded, "{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\","
                        "\"metadata\":{\"name\":\"cfg\",\"namespace\":\"ns\",\"resourceVersion\":"
                        "\"7\",\"labels\":{\"a\":\"b\"}}}");
    free(embedded);
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions"), 0);
    char *column = cJSON_PrintUnformatted(first);
    static const char prefix[] = "{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","
                                 "\"description\":\"Name must be unique";
    CHECK(column && strncmp(column, prefix, sizeof prefix - 1) == 0);
    CHECK(column && strstr(column, "\"priority\":0}") != NULL);
    free(column);
    cJSON_Delete(table);

    table = render_table(configmaps, object, TABLE_INCLUDE_OBJECT, false);
    row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(table, "rows"), 0);
    embedded = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(row, "object"));
    CHECK_STR(embedded, object);
    free(embedded);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions")));
    cJSON_Delete(table);

    table = render_table(configmaps, object, TABLE_INCLUDE_NONE, false);
    row = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(table, "rows"), 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, "object")));
    cJSON_Delete(table);

    /* A page of a list: continue and remainingItemCount; an empty list has rows []. */
    struct table_options options = { .column_definitions = true, .resource_version = "42",
                                     .continue_token = "tok", .remaining = 5, .now_ms = now_ms() };
    char *text = table_render(configmaps, NULL, 0, &options);
    REQUIRE(text);
    cJSON *parsed = cJSON_Parse(text);
    free(text);
    metadata = cJSON_GetObjectItemCaseSensitive(parsed, "metadata");
    char *meta_text = cJSON_PrintUnformatted(metadata);
    CHECK_STR(meta_text, "{\"resourceVersion\":\"42\",\"continue\":\"tok\",\"remainingItemCount\":5}");
    free(meta_text);
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(parsed, "rows");
    CHECK(cJSON_IsArray(rows) && cJSON_GetArraySize(rows) == 0);
    cJSON_Delete(parsed);
}

/* ---- the api_server hook on a real store ---- */

static void renderer_hook_on_store(void)
{
    struct clock clock;
    int64_t start = now_ms();
    clock_fake_init(&clock, 1000, start);
    struct store_options store_options = { .clock = &clock, .random_seed = 7 };
    struct store *store = store_new(&store_options);
    REQUIRE(store);
    const struct resource *pods = resources_find_storage(store_resources(store), "", "pods");
    struct store_reply reply = { 0 };
    for (int i = 0; i < 3; i++) {
        char text[256];
        snprintf(text, sizeof text, "{\"metadata\":{\"name\":\"p%d\"},\"spec\":{\"containers\":"
                                    "[{\"name\":\"c\",\"image\":\"x\"}]}}", i);
        CHECK(store_create(store, pods, "default", cJSON_Parse(text), &reply));
        store_reply_clear(&reply);
    }
    clock_fake_advance(&clock, 150 * 1000);

    struct api_renderer renderer = table_renderer(&clock);
    struct api_render_request request = {
        .resource = pods,
        .accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        .include_object = NULL,
    };
    const char *content_type = NULL;
    CHECK(renderer.accepts(renderer.data, &request, &content_type));
    CHECK_STR(content_type, TABLE_CONTENT_TYPE);
    struct api_render_request plain = { pods, "application/json", NULL };
    CHECK(!renderer.accepts(renderer.data, &plain, &content_type));

    struct store_list list = { 0 };
    struct store_error error = { 0 };
    struct store_list_options list_options = { .namespace = "default", .limit = 2 };
    REQUIRE(store_list(store, pods, &list_options, &list, &error));
    char *text = renderer.list(renderer.data, &request, &list);
    REQUIRE(text);
    cJSON *table = cJSON_Parse(text);
    free(text);
    cJSON *rows = cJSON_GetObjectItemCaseSensitive(table, "rows");
    CHECK_INT(cJSON_GetArraySize(rows), 2);
    char *cells = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "cells"));
    CHECK_STR(cells, "[\"p0\",\"0/1\",\"Pending\",\"0\",\"2m30s\",\"<none>\",\"<none>\","
                     "\"<none>\",\"<none>\"]");
    free(cells);
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(table, "metadata");
    char version[24];
    snprintf(version, sizeof version, "%llu", (unsigned long long)list.resource_version);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(metadata, "resourceVersion")),
              version);
    CHECK(cJSON_GetObjectItemCaseSensitive(metadata, "continue") != NULL);
    cJSON_Delete(table);

    /* Watch events: column definitions only in the first; single objects carry their RV. */
    text = renderer.watch_object(renderer.data, &request, list.items[1], true);
    table = cJSON_Parse(text);
    free(text);
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions")));
    cJSON_Delete(table);
    text = renderer.watch_object(renderer.data, &request, list.items[1], false);
    table = cJSON_Parse(text);
    free(text);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions")));
    const cJSON *tree = store_object_tree(list.items[1]);
    const char *object_version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tree, "metadata"), "resourceVersion"));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(table, "metadata"), "resourceVersion")),
              object_version);
    cJSON_Delete(table);

    text = renderer.object(renderer.data, &request, list.items[0]);
    table = cJSON_Parse(text);
    free(text);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(table, "rows")), 1);
    cJSON_Delete(table);

    /* An unknown includeObject fails the render. */
    struct api_render_request bad = request;
    bad.include_object = "Everything";
    CHECK(renderer.object(renderer.data, &bad, list.items[0]) == NULL);

    store_list_free(&list);
    store_free(store);
}

static void free_kinds(void)
{
    resources_free(table_of_kinds);
    table_of_kinds = NULL;
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(duration_follows_apimachinery),
        TEST_CASE(ages_of_timestamps),
        TEST_CASE(accept_header_selects_table),
        TEST_CASE(jsonpath_subset),
        TEST_CASE(pod_columns_and_cells),
        TEST_CASE(node_columns_and_cells),
        TEST_CASE(volume_columns_and_cells),
        TEST_CASE(service_columns_and_cells),
        TEST_CASE(small_kinds_columns_and_cells),
        TEST_CASE(event_columns_and_cells),
        TEST_CASE(custom_resource_printer_columns),
        TEST_CASE(table_envelope_and_objects),
        TEST_CASE(renderer_hook_on_store),
    };
    int rc = test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
    free_kinds();
    return rc;
}
