/*
 * The simulated machines end to end, in process: a store and a world on a
 * fake clock, stepped with world_run_due; the assertions read the store.
 */
#include "test/sim/world.h"
#include "test/sim/pd_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/support/test.h"

struct fixture {
    struct clock clock;
    struct store *store;
    struct world *world;
};

static bool setup_with(struct fixture *f, struct world_options *options)
{
    clock_fake_init(&f->clock, 1000, 1767225600000LL);
    struct store_options store_options = { .clock = &f->clock, .random_seed = 7 };
    f->store = store_new(&store_options);
    if (!f->store) return false;
    f->world = world_start(NULL, f->store, &f->clock, options);
    world_options_free(options);
    return f->world != NULL;
}

static bool setup(struct fixture *f)
{
    struct world_options options;
    world_config_default(&options);
    return setup_with(f, &options);
}

static void teardown(struct fixture *f)
{
    world_stop(f->world);
    store_free(f->store);
}

/* Runs due tasks and moves the fake clock forward by `ms`, stopping at each due time. */
static void settle(struct fixture *f, uint64_t ms)
{
    uint64_t end = f->clock.fake_now_ms + ms;
    for (int i = 0; i < 100000; i++) {
        world_run_due(f->world);
        uint64_t due;
        if (!world_next_due(f->world, &due) || due > end) break;
        if (due > f->clock.fake_now_ms) clock_fake_advance(&f->clock, due - f->clock.fake_now_ms);
    }
    if (end > f->clock.fake_now_ms) clock_fake_advance(&f->clock, end - f->clock.fake_now_ms);
    world_run_due(f->world);
}

static const struct resource *find(struct fixture *f, const char *plural)
{
    const char *group = strcmp(plural, "storageclasses") == 0 ? "storage.k8s.io" : "";
    return resources_find(store_resources(f->store), group, "v1", plural);
}

static bool create(struct fixture *f, const char *plural, const char *namespace, const char *json)
{
    cJSON *object = cJSON_Parse(json);
    if (!object) return false;
    struct store_reply reply = { 0 };
    bool ok = store_create(f->store, find(f, plural), namespace, object, &reply);
    if (!ok) fprintf(stderr, "create failed: %s\n", reply.error.message ? reply.error.message : "");
    store_reply_clear(&reply);
    return ok;
}

static bool delete(struct fixture *f, const char *plural, const char *namespace, const char *name)
{
    struct store_reply reply = { 0 };
    bool ok = store_delete(f->store, find(f, plural), namespace, name, NULL, &reply);
    store_reply_clear(&reply);
    return ok;
}

/* A copy of the stored object (the caller deletes it), or NULL. */
static cJSON *get(struct fixture *f, const char *plural, const char *namespace, const char *name)
{
    struct store_error error = { 0 };
    struct store_object *object = store_get(f->store, find(f, plural), namespace, name, &error);
    store_error_clear(&error);
    if (!object) return NULL;
    cJSON *copy = cJSON_Duplicate(store_object_tree(object), true);
    store_object_release(object);
    return copy;
}

/* A string at a dotted path ("status.phase"; numbers index arrays), copied into `out`. */
static const char *field(const cJSON *object, const char *path, char *out, size_t size)
{
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%s", path);
    const cJSON *at = object;
    for (char *save = NULL, *part = strtok_r(buffer, ".", &save); part && at;
         part = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(at)) at = cJSON_GetArrayItem(at, atoi(part));
        else at = cJSON_GetObjectItemCaseSensitive(at, part);
    }
    if (cJSON_IsString(at)) snprintf(out, size, "%s", at->valuestring);
    else if (cJSON_IsNumber(at)) snprintf(out, size, "%g", at->valuedouble);
    else if (cJSON_IsBool(at)) snprintf(out, size, "%s", cJSON_IsTrue(at) ? "true" : "false");
    else return NULL;
    return out;
}

static const char *pod_field(struct fixture *f, const char *name, const char *path)
{
    static char out[1024];
    cJSON *pod = get(f, "pods", "default", name);
    const char *value = pod ? field(pod, path, out, sizeof out) : NULL;
    cJSON_Delete(pod);
    return value;
}

static const char *condition(struct fixture *f, const char *plural, const char *namespace,
                             const char *name, const char *type, const char *key)
{
    static char out[1024];
    cJSON *object = get(f, plural, namespace, name);
    const cJSON *item;
    const char *value = NULL;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetObjectItemCaseSensitive(object, "status"), "conditions")) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "type");
        if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
            value = field(item, key, out, sizeof out);
    }
    cJSON_Delete(object);
    return value;
}

static size_t count(struct fixture *f, const char *plural)
{
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    struct store_list_options options = { 0 };
    size_t n = 0;
    if (store_list(f->store, find(f, plural), &options, &list, &error)) n = list.count;
    store_list_free(&list);
    store_error_clear(&error);
    return n;
}

/* The message of the first event with `reason` about `name`, copied; NULL if none. */
static const char *event_message(struct fixture *f, const char *name, const char *reason,
                                 int *event_count)
{
    static char out[1024];
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    struct store_list_options options = { 0 };
    const char *found = NULL;
    if (store_list(f->store, find(f, "events"), &options, &list, &error)) {
        for (size_t i = 0; i < list.count && !found; i++) {
            const cJSON *event = store_object_tree(list.items[i]);
            char a[256], b[256], c[32];
            if (field(event, "involvedObject.name", a, sizeof a) && strcmp(a, name) == 0 &&
                field(event, "reason", b, sizeof b) && strcmp(b, reason) == 0) {
                found = field(event, "message", out, sizeof out);
                if (event_count && field(event, "count", c, sizeof c)) *event_count = atoi(c);
            }
        }
    }
    store_list_free(&list);
    store_error_clear(&error);
    return found;
}

static bool create_pod(struct fixture *f, const char *name, const char *extra_spec,
                       const char *labels)
{
    char json[4096];
    /* The default container unless the extra fields bring their own. */
    bool own = extra_spec && strstr(extra_spec, "\"containers\"");
    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{%s%s%s}}", name,
             labels ? labels : "",
             own ? "" : "\"containers\":[{\"name\":\"main\",\"image\":\"pingcap/tikv:v8.5.0\"}]",
             extra_spec && !own ? "," : "", extra_spec ? extra_spec : "");
    return create(f, "pods", "default", json);
}

static bool create_pvc(struct fixture *f, const char *name, const char *class_field,
                       const char *size)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{%s%s\"accessModes\":[\"ReadWriteOnce\"],"
             "\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}",
             name, class_field ? class_field : "", class_field ? "," : "", size);
    return create(f, "persistentvolumeclaims", "default", json);
}

#define CHECK_FIELD(actual, expected) CHECK_STR(actual, expected)

/* ---- cases ---- */

static void world_default_contents(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    settle(&f, 100);
    CHECK_INT(count(&f, "nodes"), 6);
    CHECK_INT(count(&f, "storageclasses"), 2);
    CHECK_INT(count(&f, "persistentvolumes"), 24);
    char out[256];
    cJSON *node = get(&f, "nodes", NULL, "node-b2");
    REQUIRE(node);
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(node, "metadata"), "labels");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "topology.kubernetes.io/zone")), "zone-b");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "kubernetes.io/hostname")), "node-b2");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "topology.kubernetes.io/region")), "region-1");
    CHECK_FIELD(field(node, "status.allocatable.cpu", out, sizeof out), "16");
    CHECK_FIELD(field(node, "status.allocatable.memory", out, sizeof out), "64Gi");
    CHECK_FIELD(field(node, "status.allocatable.pods", out, sizeof out), "110");
    cJSON_Delete(node);
    CHECK_STR(condition(&f, "nodes", NULL, "node-b2", "Ready", "status"), "True");
    const char *first = condition(&f, "nodes", NULL, "node-b2", "Ready", "lastHeartbeatTime");
    char before[64];
    snprintf(before, sizeof before, "%s", first ? first : "");
    settle(&f, 10000);
    const char *after = condition(&f, "nodes", NULL, "node-b2", "Ready", "lastHeartbeatTime");
    CHECK(after && strcmp(before, after) != 0);

    cJSON *standard = get(&f, "storageclasses", NULL, "standard");
    CHECK_FIELD(field(standard, "provisioner", out, sizeof out), "kubesim.io/hostpath");
    CHECK_FIELD(field(standard, "volumeBindingMode", out, sizeof out), "Immediate");
    const cJSON *annotations = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(standard, "metadata"), "annotations");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                  annotations, "storageclass.kubernetes.io/is-default-class")), "true");
    cJSON_Delete(standard);
    cJSON *local = get(&f, "storageclasses", NULL, "local-storage");
    CHECK_FIELD(field(local, "provisioner", out, sizeof out), "kubernetes.io/no-provisioner");
    CHECK_FIELD(field(local, "volumeBindingMode", out, sizeof out), "WaitForFirstConsumer");
    cJSON_Delete(local);
    cJSON *pv = get(&f, "persistentvolumes", NULL, "local-node-c1-3");
    REQUIRE(pv);
    CHECK_FIELD(field(pv, "status.phase", out, sizeof out), "Available");
    CHECK_FIELD(field(pv, "spec.capacity.storage", out, sizeof out), "100Gi");
    CHECK_FIELD(field(pv, "spec.nodeAffinity.required.nodeSelectorTerms.0.matchExpressions.0.values.0",
                      out, sizeof out), "node-c1");
    cJSON_Delete(pv);
    teardown(&f);
}

static void pod_scheduled_then_running_then_ready(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "web", "\"terminationGracePeriodSeconds\":30", "\"app\":\"web\""));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "web", "spec.nodeName"), "node-a1");
    CHECK_STR(condition(&f, "pods", "default", "web", "PodScheduled", "status"), "True");
    CHECK_STR(pod_field(&f, "web", "status.phase"), "Pending");
    int n = 0;
    CHECK_STR(event_message(&f, "web", "Scheduled", &n), "Successfully assigned default/web to node-a1");
    settle(&f, 999);
    CHECK_STR(pod_field(&f, "web", "status.phase"), "Pending");
    settle(&f, 1);
    CHECK_STR(pod_field(&f, "web", "status.phase"), "Running");
    CHECK_STR(condition(&f, "pods", "default", "web", "Ready", "status"), "False");
    CHECK_STR(condition(&f, "pods", "default", "web", "Initialized", "status"), "True");
    CHECK_STR(pod_field(&f, "web", "status.containerStatuses.0.ready"), "false");
    CHECK_STR(pod_field(&f, "web", "status.hostIP"), "172.18.0.2");
    const char *ip = pod_field(&f, "web", "status.podIP");
    CHECK(ip && strncmp(ip, "10.244.", 7) == 0);
    CHECK(pod_field(&f, "web", "status.startTime") != NULL);
    CHECK(pod_field(&f, "web", "status.containerStatuses.0.state.running.startedAt") != NULL);
    settle(&f, 500);
    CHECK_STR(condition(&f, "pods", "default", "web", "Ready", "status"), "True");
    CHECK_STR(condition(&f, "pods", "default", "web", "ContainersReady", "status"), "True");
    CHECK_STR(pod_field(&f, "web", "status.containerStatuses.0.ready"), "true");
    CHECK_STR(pod_field(&f, "web", "status.containerStatuses.0.restartCount"), "0");
    teardown(&f);
}

static void pods_spread_least_allocated(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    const char *names[] = { "p1", "p2", "p3", "p4", "p5", "p6", "p7" };
    for (int i = 0; i < 7; i++)
        REQUIRE(create_pod(&f, names[i],
                           "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
                           "{\"requests\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}]", NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "p1", "spec.nodeName"), "node-a1");
    CHECK_STR(pod_field(&f, "p2", "spec.nodeName"), "node-a2");
    CHECK_STR(pod_field(&f, "p3", "spec.nodeName"), "node-b1");
    CHECK_STR(pod_field(&f, "p6", "spec.nodeName"), "node-c2");
    CHECK_STR(pod_field(&f, "p7", "spec.nodeName"), "node-a1");
    struct world_node_usage usage;
    REQUIRE(world_node_usage(f.world, "node-a1", &usage));
    CHECK_INT(usage.cpu_milli, 4000);
    CHECK_INT(usage.pods, 2);
    CHECK_INT(usage.memory_milli, 8LL * 1024 * 1024 * 1024 * 1000);
    teardown(&f);
}

static void insufficient_cpu_message_and_event(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "big",
                       "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
                       "{\"requests\":{\"cpu\":\"17\"}}}]", NULL));
    settle(&f, 0);
    CHECK(pod_field(&f, "big", "spec.nodeName") == NULL);
    CHECK_STR(condition(&f, "pods", "default", "big", "PodScheduled", "status"), "False");
    CHECK_STR(condition(&f, "pods", "default", "big", "PodScheduled", "reason"), "Unschedulable");
    CHECK_STR(condition(&f, "pods", "default", "big", "PodScheduled", "message"),
              "0/6 nodes are available: 6 Insufficient cpu.");
    int n = 0;
    CHECK_STR(event_message(&f, "big", "FailedScheduling", &n),
              "0/6 nodes are available: 6 Insufficient cpu.");
    CHECK_INT(n, 1);
    /* Retried periodically; the event aggregates. */
    settle(&f, 5000);
    event_message(&f, "big", "FailedScheduling", &n);
    CHECK_INT(n, 2);
    teardown(&f);
}

static void insufficient_memory_and_selector_counted(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "fat",
                       "\"nodeSelector\":{\"topology.kubernetes.io/zone\":\"zone-a\"},"
                       "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
                       "{\"limits\":{\"memory\":\"70G\"}}}]", NULL));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "fat", "PodScheduled", "message"),
              "0/6 nodes are available: 2 Insufficient memory, 4 node(s) didn't match Pod's node "
              "affinity/selector.");
    REQUIRE(create_pod(&f, "both",
                       "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
                       "{\"requests\":{\"cpu\":\"100\",\"memory\":\"1Ti\"}}}]", NULL));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "both", "PodScheduled", "message"),
              "0/6 nodes are available: 6 Insufficient cpu, 6 Insufficient memory.");
    teardown(&f);
}

static void node_selector_and_required_affinity(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "pinned", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-b2\"}", NULL));
    REQUIRE(create_pod(&f, "zoned",
                       "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                       "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"topology.kubernetes.io/zone\","
                       "\"operator\":\"In\",\"values\":[\"zone-c\"]},{\"key\":\"kubernetes.io/hostname\","
                       "\"operator\":\"NotIn\",\"values\":[\"node-c1\"]}]}]}}}", NULL));
    REQUIRE(create_pod(&f, "nowhere",
                       "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                       "{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"gpu\","
                       "\"operator\":\"Exists\"}]}]}}}", NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "pinned", "spec.nodeName"), "node-b2");
    CHECK_STR(pod_field(&f, "zoned", "spec.nodeName"), "node-c2");
    CHECK_STR(condition(&f, "pods", "default", "nowhere", "PodScheduled", "message"),
              "0/6 nodes are available: 6 node(s) didn't match Pod's node affinity/selector.");
    teardown(&f);
}

static void anti_affinity_on_hostname(void)
{
    struct fixture f;
    struct world_options options;
    char error[256];
    REQUIRE(world_config_parse("{\"zones\":1,\"nodesPerZone\":2}", &options, error, sizeof error));
    REQUIRE(setup_with(&f, &options));
    const char *spec =
        "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
        "[{\"topologyKey\":\"kubernetes.io/hostname\",\"labelSelector\":{\"matchLabels\":"
        "{\"app\":\"tikv\"}}}]}}";
    REQUIRE(create_pod(&f, "tikv-0", spec, "\"app\":\"tikv\""));
    REQUIRE(create_pod(&f, "tikv-1", spec, "\"app\":\"tikv\""));
    REQUIRE(create_pod(&f, "tikv-2", spec, "\"app\":\"tikv\""));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "tikv-0", "spec.nodeName"), "node-a1");
    CHECK_STR(pod_field(&f, "tikv-1", "spec.nodeName"), "node-a2");
    CHECK(pod_field(&f, "tikv-2", "spec.nodeName") == NULL);
    CHECK_STR(condition(&f, "pods", "default", "tikv-2", "PodScheduled", "message"),
              "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
    /* The other direction: a pod the placed ones repel. */
    REQUIRE(create_pod(&f, "intruder", NULL, "\"app\":\"tikv\""));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "intruder", "PodScheduled", "message"),
              "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
    /* Room again once a replica goes (after its grace period). */
    REQUIRE(delete(&f, "pods", "default", "tikv-0"));
    settle(&f, 0);
    CHECK(pod_field(&f, "tikv-2", "spec.nodeName") == NULL);
    settle(&f, 2000);
    CHECK_STR(pod_field(&f, "tikv-2", "spec.nodeName"), "node-a1");
    teardown(&f);
}

static void taints_and_tolerations(void)
{
    struct fixture f;
    struct world_options options;
    char error[256];
    REQUIRE(world_config_parse(
        "{\"nodes\":[{\"name\":\"db\",\"taints\":[{\"key\":\"dedicated\",\"value\":\"tidb\","
        "\"effect\":\"NoSchedule\"}]}]}", &options, error, sizeof error));
    REQUIRE(setup_with(&f, &options));
    REQUIRE(create_pod(&f, "plain", NULL, NULL));
    REQUIRE(create_pod(&f, "tolerant",
                       "\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\","
                       "\"value\":\"tidb\",\"effect\":\"NoSchedule\"}]", NULL));
    REQUIRE(create_pod(&f, "exists", "\"tolerations\":[{\"operator\":\"Exists\"}]", NULL));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "plain", "PodScheduled", "message"),
              "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: tidb}.");
    CHECK_STR(pod_field(&f, "tolerant", "spec.nodeName"), "db");
    CHECK_STR(pod_field(&f, "exists", "spec.nodeName"), "db");
    teardown(&f);
}

static void wait_for_first_consumer_binds_on_chosen_node(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pvc(&f, "data", "\"storageClassName\":\"local-storage\"", "50Gi"));
    settle(&f, 100);
    cJSON *pvc = get(&f, "persistentvolumeclaims", "default", "data");
    char out[256];
    CHECK_FIELD(field(pvc, "status.phase", out, sizeof out), "Pending");
    cJSON_Delete(pvc);
    CHECK_STR(event_message(&f, "data", "WaitForFirstConsumer", NULL),
              "waiting for first consumer to be created before binding");
    REQUIRE(create_pod(&f, "tikv",
                       "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-c2\"},"
                       "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]",
                       NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "tikv", "spec.nodeName"), "node-c2");
    pvc = get(&f, "persistentvolumeclaims", "default", "data");
    CHECK_FIELD(field(pvc, "status.phase", out, sizeof out), "Bound");
    CHECK_FIELD(field(pvc, "spec.volumeName", out, sizeof out), "local-node-c2-0");
    CHECK_FIELD(field(pvc, "status.capacity.storage", out, sizeof out), "100Gi");
    cJSON_Delete(pvc);
    cJSON *pv = get(&f, "persistentvolumes", NULL, "local-node-c2-0");
    CHECK_FIELD(field(pv, "status.phase", out, sizeof out), "Bound");
    CHECK_FIELD(field(pv, "spec.claimRef.name", out, sizeof out), "data");
    CHECK_FIELD(field(pv, "spec.claimRef.namespace", out, sizeof out), "default");
    cJSON_Delete(pv);
    settle(&f, 1500);
    CHECK_STR(condition(&f, "pods", "default", "tikv", "Ready", "status"), "True");

    /* The bound PV's node affinity brings a new pod back to node-c2. */
    REQUIRE(delete(&f, "pods", "default", "tikv"));
    REQUIRE(create_pod(&f, "tikv-again",
                       "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]",
                       NULL));
    REQUIRE(create_pod(&f, "conflict",
                       "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"},"
                       "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"data\"}}]",
                       NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "tikv-again", "spec.nodeName"), "node-c2");
    CHECK_STR(condition(&f, "pods", "default", "conflict", "PodScheduled", "message"),
              "0/6 nodes are available: 1 node(s) had volume node affinity conflict, 5 node(s) "
              "didn't match Pod's node affinity/selector.");

    /* Retain: the claim goes, the volume is Released. */
    REQUIRE(delete(&f, "pods", "default", "tikv-again"));
    REQUIRE(delete(&f, "pods", "default", "conflict"));
    REQUIRE(delete(&f, "persistentvolumeclaims", "default", "data"));
    settle(&f, 0);
    pv = get(&f, "persistentvolumes", NULL, "local-node-c2-0");
    CHECK_FIELD(field(pv, "status.phase", out, sizeof out), "Released");
    cJSON_Delete(pv);
    teardown(&f);
}

static void no_local_volume_left(void)
{
    struct fixture f;
    struct world_options options;
    char error[256];
    REQUIRE(world_config_parse("{\"zones\":1,\"nodesPerZone\":1,\"localVolumesPerNode\":1}",
                               &options, error, sizeof error));
    REQUIRE(setup_with(&f, &options));
    REQUIRE(create_pvc(&f, "a", "\"storageClassName\":\"local-storage\"", "10Gi"));
    REQUIRE(create_pvc(&f, "b", "\"storageClassName\":\"local-storage\"", "10Gi"));
    REQUIRE(create_pod(&f, "pa", "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"a\"}}]", NULL));
    settle(&f, 0);
    REQUIRE(create_pod(&f, "pb", "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"b\"}}]", NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "pa", "spec.nodeName"), "node-a1");
    CHECK_STR(condition(&f, "pods", "default", "pb", "PodScheduled", "message"),
              "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.");
    teardown(&f);
}

static void dynamic_provisioning_and_delete_policy(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pvc(&f, "pd-data", NULL, "10Gi"));  /* no class: the default one */
    settle(&f, 0);
    cJSON *pvc = get(&f, "persistentvolumeclaims", "default", "pd-data");
    REQUIRE(pvc);
    char out[256], uid[128], pv_name[160];
    CHECK_FIELD(field(pvc, "status.phase", out, sizeof out), "Bound");
    REQUIRE(field(pvc, "metadata.uid", uid, sizeof uid));
    snprintf(pv_name, sizeof pv_name, "pvc-%s", uid);
    CHECK_FIELD(field(pvc, "spec.volumeName", out, sizeof out), pv_name);
    CHECK_FIELD(field(pvc, "status.capacity.storage", out, sizeof out), "10Gi");
    const cJSON *annotations = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pvc, "metadata"), "annotations");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(annotations, "pv.kubernetes.io/bind-completed")), "yes");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(annotations, "volume.kubernetes.io/storage-provisioner")),
              "kubesim.io/hostpath");
    cJSON_Delete(pvc);
    cJSON *pv = get(&f, "persistentvolumes", NULL, pv_name);
    REQUIRE(pv);
    CHECK_FIELD(field(pv, "status.phase", out, sizeof out), "Bound");
    CHECK_FIELD(field(pv, "spec.storageClassName", out, sizeof out), "standard");
    CHECK_FIELD(field(pv, "spec.persistentVolumeReclaimPolicy", out, sizeof out), "Delete");
    CHECK_FIELD(field(pv, "spec.claimRef.uid", out, sizeof out), uid);
    cJSON_Delete(pv);
    /* A pod with the claim runs anywhere. */
    REQUIRE(create_pod(&f, "pd", "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"pd-data\"}}]", NULL));
    settle(&f, 2000);
    CHECK_STR(condition(&f, "pods", "default", "pd", "Ready", "status"), "True");
    REQUIRE(delete(&f, "pods", "default", "pd"));
    REQUIRE(delete(&f, "persistentvolumeclaims", "default", "pd-data"));
    settle(&f, 0);
    pv = get(&f, "persistentvolumes", NULL, pv_name);
    CHECK(pv == NULL);
    cJSON_Delete(pv);
    teardown(&f);
}

static void immediate_claims_and_missing_class(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create(&f, "persistentvolumes", NULL,
                   "{\"metadata\":{\"name\":\"manual-1\"},\"spec\":{\"capacity\":{\"storage\":\"5Gi\"},"
                   "\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"slow\","
                   "\"hostPath\":{\"path\":\"/tmp/x\"}}}"));
    REQUIRE(create_pvc(&f, "static", "\"storageClassName\":\"slow\"", "5Gi"));
    REQUIRE(create_pvc(&f, "lost", "\"storageClassName\":\"nope\"", "1Gi"));
    settle(&f, 0);
    cJSON *pvc = get(&f, "persistentvolumeclaims", "default", "static");
    char out[256];
    CHECK_FIELD(field(pvc, "status.phase", out, sizeof out), "Bound");
    CHECK_FIELD(field(pvc, "spec.volumeName", out, sizeof out), "manual-1");
    cJSON_Delete(pvc);
    pvc = get(&f, "persistentvolumeclaims", "default", "lost");
    CHECK_FIELD(field(pvc, "status.phase", out, sizeof out), "Pending");
    cJSON_Delete(pvc);
    CHECK_STR(event_message(&f, "lost", "ProvisioningFailed", NULL),
              "storageclass.storage.k8s.io \"nope\" not found");
    REQUIRE(create_pod(&f, "waits", "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"lost\"}}]", NULL));
    REQUIRE(create_pod(&f, "ghost", "\"volumes\":[{\"name\":\"d\",\"persistentVolumeClaim\":{\"claimName\":\"ghost\"}}]", NULL));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "waits", "PodScheduled", "message"),
              "0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
    CHECK_STR(condition(&f, "pods", "default", "ghost", "PodScheduled", "message"),
              "0/6 nodes are available: persistentvolumeclaim \"ghost\" not found.");
    /* The claim appears: the pod is scheduled without waiting for the retry. */
    REQUIRE(create_pvc(&f, "ghost", NULL, "1Gi"));
    settle(&f, 0);
    CHECK(pod_field(&f, "ghost", "spec.nodeName") != NULL);
    teardown(&f);
}

static void pod_deletion_frees_the_node(void)
{
    struct fixture f;
    struct world_options options;
    char error[256];
    REQUIRE(world_config_parse("{\"nodes\":[{\"name\":\"solo\",\"cpu\":\"4\"}]}", &options, error,
                               sizeof error));
    REQUIRE(setup_with(&f, &options));
    const char *three = "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":"
                        "{\"requests\":{\"cpu\":\"3\"}}}]";
    REQUIRE(create_pod(&f, "first", three, NULL));
    REQUIRE(create_pod(&f, "second", three, NULL));
    settle(&f, 0);
    CHECK_STR(pod_field(&f, "first", "spec.nodeName"), "solo");
    CHECK_STR(condition(&f, "pods", "default", "second", "PodScheduled", "message"),
              "0/1 nodes are available: 1 Insufficient cpu.");
    /* A bound pod's delete starts its grace period (the spec's 30 s; the
     * kubelet stops it after the world's 2 s cap): it holds the node's
     * resources until it is gone, as a terminating pod does. */
    REQUIRE(delete(&f, "pods", "default", "first"));
    settle(&f, 0);
    CHECK(pod_field(&f, "first", "metadata.deletionTimestamp") != NULL);
    CHECK_STR(pod_field(&f, "first", "metadata.deletionGracePeriodSeconds"), "30");
    CHECK(pod_field(&f, "second", "spec.nodeName") == NULL);
    settle(&f, 2000);
    CHECK(pod_field(&f, "first", "metadata.name") == NULL);
    CHECK_STR(pod_field(&f, "second", "spec.nodeName"), "solo");
    /* An unbound pod, and a delete with grace 0, go at once. */
    REQUIRE(create_pod(&f, "third", three, NULL));
    settle(&f, 0);
    CHECK(pod_field(&f, "third", "spec.nodeName") == NULL);
    REQUIRE(delete(&f, "pods", "default", "third"));
    CHECK(pod_field(&f, "third", "metadata.name") == NULL);
    struct store_reply reply = { 0 };
    struct store_delete_options now = { .has_grace_period = true, .grace_period_seconds = 0 };
    CHECK(store_delete(f.store, find(&f, "pods"), "default", "second", &now, &reply));
    CHECK_INT(reply.outcome, STORE_REMOVED);
    store_reply_clear(&reply);
    CHECK(pod_field(&f, "second", "metadata.name") == NULL);

    /* A finalizer holds the pod: the kubelet stops it after the grace cap. */
    REQUIRE(create(&f, "pods", "default",
                   "{\"metadata\":{\"name\":\"held\",\"finalizers\":[\"example.com/hold\"]},"
                   "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}"));
    settle(&f, 2000);
    CHECK_STR(pod_field(&f, "held", "status.phase"), "Running");
    REQUIRE(delete(&f, "pods", "default", "held"));
    settle(&f, 1000);
    CHECK_STR(pod_field(&f, "held", "status.phase"), "Running");
    settle(&f, 1000);
    CHECK_STR(pod_field(&f, "held", "status.phase"), "Succeeded");
    CHECK(pod_field(&f, "held", "status.containerStatuses.0.state.terminated.finishedAt") != NULL);
    CHECK_STR(condition(&f, "pods", "default", "held", "Ready", "status"), "False");
    /* "second" was force-deleted and "held" has finished: neither counts. */
    struct world_node_usage usage;
    REQUIRE(world_node_usage(f.world, "solo", &usage));
    CHECK_INT(usage.pods, 0);
    teardown(&f);
}

static void crash_restarts_then_backs_off(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "pd-0", NULL, NULL));
    settle(&f, 2000);
    CHECK_STR(condition(&f, "pods", "default", "pd-0", "Ready", "status"), "True");
    CHECK(world_crash_pod(f.world, "default", "pd-0", NULL));
    CHECK(!world_crash_pod(f.world, "default", "pd-0", "no-such-container"));
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.restartCount"), "1");
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.ready"), "false");
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.lastState.terminated.reason"), "Error");
    CHECK_STR(condition(&f, "pods", "default", "pd-0", "Ready", "status"), "False");
    settle(&f, 500);
    CHECK_STR(condition(&f, "pods", "default", "pd-0", "Ready", "status"), "True");
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.ready"), "true");

    CHECK(world_crash_pod(f.world, "default", "pd-0", "main"));
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.restartCount"), "2");
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.state.waiting.reason"), "CrashLoopBackOff");
    const char *message = pod_field(&f, "pd-0", "status.containerStatuses.0.state.waiting.message");
    CHECK(message && strncmp(message, "back-off 10s restarting failed container=main pod=pd-0_default(", 63) == 0);
    settle(&f, 9999);
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.state.waiting.reason"), "CrashLoopBackOff");
    settle(&f, 1);
    CHECK(pod_field(&f, "pd-0", "status.containerStatuses.0.state.running.startedAt") != NULL);
    settle(&f, 500);
    CHECK_STR(condition(&f, "pods", "default", "pd-0", "Ready", "status"), "True");
    CHECK_STR(pod_field(&f, "pd-0", "status.containerStatuses.0.restartCount"), "2");
    /* Third crash: twice the back-off. */
    CHECK(world_crash_pod(f.world, "default", "pd-0", NULL));
    message = pod_field(&f, "pd-0", "status.containerStatuses.0.state.waiting.message");
    CHECK(message && strncmp(message, "back-off 20s", 12) == 0);
    teardown(&f);
}

static void crashing_image_never_gets_ready(void)
{
    struct fixture f;
    struct world_options options;
    char error[256];
    REQUIRE(world_config_parse("{\"crashingImages\":[\"pingcap/tikv:v0.0.0-broken\"]}", &options, error,
                               sizeof error));
    REQUIRE(setup_with(&f, &options));
    REQUIRE(create_pod(&f, "broken", "\"containers\":[{\"name\":\"tikv\",\"image\":\"pingcap/tikv:v0.0.0-broken\"}]",
                       NULL));
    REQUIRE(create_pod(&f, "fine", "\"containers\":[{\"name\":\"tikv\",\"image\":\"pingcap/tikv:v8.5.0\"}]", NULL));
    settle(&f, 2000);
    CHECK_STR(condition(&f, "pods", "default", "fine", "Ready", "status"), "True");
    CHECK_STR(condition(&f, "pods", "default", "broken", "Ready", "status"), "False");
    CHECK_STR(pod_field(&f, "broken", "status.phase"), "Running");
    CHECK_STR(pod_field(&f, "broken", "status.containerStatuses.0.state.waiting.reason"), "CrashLoopBackOff");
    CHECK_STR(pod_field(&f, "broken", "status.containerStatuses.0.restartCount"), "2");
    /* It keeps crashing after each back-off, and is never Ready. */
    settle(&f, 60000);
    CHECK_STR(condition(&f, "pods", "default", "broken", "Ready", "status"), "False");
    const char *restarts = pod_field(&f, "broken", "status.containerStatuses.0.restartCount");
    CHECK(restarts && atoi(restarts) >= 3);
    CHECK(!world_config_parse("{\"crashingImages\":\"x\"}", &options, error, sizeof error));
    CHECK_STR(error, "crashingImages: must be an array of image names");
    CHECK(!world_config_parse("{\"crashingImages\":[1]}", &options, error, sizeof error));
    teardown(&f);
}

static void node_failure_and_recovery(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "victim", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"}", NULL));
    settle(&f, 2000);
    CHECK_STR(condition(&f, "pods", "default", "victim", "Ready", "status"), "True");
    CHECK(world_fail_node(f.world, "node-a1"));
    CHECK(!world_fail_node(f.world, "no-such-node"));
    settle(&f, 35000);
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "status"), "True");
    settle(&f, 10000);
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "status"), "Unknown");
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "reason"), "NodeStatusUnknown");
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "message"),
              "Kubelet stopped posting node status.");
    CHECK_STR(condition(&f, "nodes", NULL, "node-b1", "Ready", "status"), "True");
    CHECK_STR(condition(&f, "pods", "default", "victim", "Ready", "status"), "False");
    CHECK_STR(pod_field(&f, "victim", "status.phase"), "Running");
    cJSON *node = get(&f, "nodes", NULL, "node-a1");
    char out[256];
    CHECK_FIELD(field(node, "spec.taints.0.key", out, sizeof out), "node.kubernetes.io/unreachable");
    cJSON_Delete(node);
    /* Nothing new lands there, and nothing restarts there. */
    REQUIRE(create_pod(&f, "late", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"}", NULL));
    settle(&f, 0);
    CHECK_STR(condition(&f, "pods", "default", "late", "PodScheduled", "message"),
              "0/6 nodes are available: 1 node(s) had untolerated taint "
              "{node.kubernetes.io/unreachable: }, 5 node(s) didn't match Pod's node affinity/selector.");
    CHECK(!world_crash_pod(f.world, "default", "victim", NULL));

    CHECK(world_recover_node(f.world, "node-a1"));
    settle(&f, 0);
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "status"), "True");
    CHECK_STR(condition(&f, "pods", "default", "victim", "Ready", "status"), "True");
    node = get(&f, "nodes", NULL, "node-a1");
    CHECK(field(node, "spec.taints.0.key", out, sizeof out) == NULL);
    cJSON_Delete(node);
    settle(&f, 2000);
    CHECK_STR(pod_field(&f, "late", "spec.nodeName"), "node-a1");
    CHECK_STR(condition(&f, "pods", "default", "late", "Ready", "status"), "True");
    teardown(&f);
}

/* The taint manager: 300 s after a node became unreachable its pods are
 * deleted gracefully; with the kubelet gone they stay Terminating (their
 * volumes stay attached there) until the node is back, whose kubelet then
 * stops and removes them. A pod that tolerates the taint for good stays. */
static void unreachable_node_pods_are_evicted_and_wait(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "victim", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"}", NULL));
    REQUIRE(create_pod(&f, "tolerant", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"},"
                                        "\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\","
                                        "\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]", NULL));
    settle(&f, 2000);
    CHECK(world_fail_node(f.world, "node-a1"));
    settle(&f, 45000); /* unreachable now */
    CHECK_STR(condition(&f, "nodes", NULL, "node-a1", "Ready", "status"), "Unknown");
    settle(&f, 290000);
    CHECK(pod_field(&f, "victim", "metadata.deletionTimestamp") == NULL);
    settle(&f, 20000);
    CHECK(pod_field(&f, "victim", "metadata.deletionTimestamp") != NULL);
    CHECK(pod_field(&f, "tolerant", "metadata.deletionTimestamp") == NULL);
    settle(&f, 600000); /* however long: Terminating while the node is away */
    CHECK(pod_field(&f, "victim", "metadata.name") != NULL);
    CHECK(world_recover_node(f.world, "node-a1"));
    settle(&f, 3000);
    CHECK(pod_field(&f, "victim", "metadata.name") == NULL);
    CHECK_STR(condition(&f, "pods", "default", "tolerant", "Ready", "status"), "True");
    teardown(&f);
}

/* Found by test/dst (seed 174): a pod deleted while its node was briefly
 * down (back before the grace period) stayed Terminating for ever. */
static void pod_deleted_during_a_short_failure_stops_after_it(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "victim", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-a1\"}", NULL));
    settle(&f, 2000);
    CHECK(world_fail_node(f.world, "node-a1"));
    settle(&f, 5000);
    REQUIRE(delete(&f, "pods", "default", "victim"));
    settle(&f, 5000);
    CHECK(pod_field(&f, "victim", "metadata.deletionTimestamp") != NULL); /* nobody to stop it */
    CHECK(world_recover_node(f.world, "node-a1"));
    settle(&f, 3000);
    CHECK(pod_field(&f, "victim", "metadata.name") == NULL);
    teardown(&f);
}

static void deleted_node_pods_are_collected(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    REQUIRE(create_pod(&f, "orphan", "\"nodeSelector\":{\"kubernetes.io/hostname\":\"node-b1\"}", NULL));
    settle(&f, 2000);
    CHECK(world_delete_node(f.world, "node-b1"));
    settle(&f, 0);
    CHECK_INT(count(&f, "nodes"), 5);
    CHECK(pod_field(&f, "orphan", "metadata.name") != NULL);
    settle(&f, 40000);
    CHECK(pod_field(&f, "orphan", "metadata.name") == NULL);
    teardown(&f);
}

static void speed_shortens_delays(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    CHECK(!world_set_speed(f.world, 0));
    CHECK(world_set_speed(f.world, 10));
    REQUIRE(create_pod(&f, "fast", NULL, NULL));
    settle(&f, 100);
    CHECK_STR(pod_field(&f, "fast", "status.phase"), "Running");
    settle(&f, 50);
    CHECK_STR(condition(&f, "pods", "default", "fast", "Ready", "status"), "True");
    teardown(&f);
}

static void config_parse_rejects_bad_input(void)
{
    struct world_options options;
    char error[256];
    CHECK(!world_config_parse("[]", &options, error, sizeof error));
    CHECK(!world_config_parse("{\"nodes\":[{\"zone\":\"x\"}]}", &options, error, sizeof error));
    CHECK_STR(error, "nodes[0].name: required");
    CHECK(!world_config_parse("{\"cpu\":\"lots\"}", &options, error, sizeof error));
    CHECK(world_config_parse("{\"zones\":2,\"nodesPerZone\":3,\"startDelayMs\":0}", &options, error,
                             sizeof error));
    CHECK_INT(options.node_count, 6);
    CHECK_INT(options.start_delay_ms, 0);
    CHECK_STR(options.nodes[5].name, "node-b3");
    world_options_free(&options);
    CHECK(world_config_grid(&options, 4, 25, 4));
    CHECK_INT(options.node_count, 100);
    world_options_free(&options);
}

/* ---- what the PD simulator reads from pods ---- */

/* Every version of one pod, as the PD simulator's watch sees it. */
struct pod_history {
    const char *name;
    int versions;
    int ready_true_while_crashed;  /* Ready=True with a container not running or not ready */
    int running_without_deletion;  /* after the delete: a version without deletionTimestamp */
    bool deleted;
};

static void on_history(const struct store_event *event, void *data)
{
    struct pod_history *history = data;
    const cJSON *pod = store_object_tree(event->object);
    char name[128], value[128];
    if (!field(pod, "metadata.name", name, sizeof name) || strcmp(name, history->name) != 0) return;
    history->versions++;
    const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "status"), "conditions");
    const cJSON *item;
    bool ready = false;
    cJSON_ArrayForEach(item, conditions) {
        if (field(item, "type", value, sizeof value) && strcmp(value, "Ready") == 0)
            ready = field(item, "status", value, sizeof value) && strcmp(value, "True") == 0;
    }
    const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(pod, "status"), "containerStatuses");
    cJSON_ArrayForEach(item, statuses) {
        bool running = cJSON_GetObjectItemCaseSensitive(
                           cJSON_GetObjectItemCaseSensitive(item, "state"), "running") != NULL;
        bool container_ready = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "ready"));
        if (ready && (!running || !container_ready)) history->ready_true_while_crashed++;
    }
    if (history->deleted && !field(pod, "metadata.deletionTimestamp", value, sizeof value))
        history->running_without_deletion++;
}

static enum pd_tidb_state tidb_state(struct pd_world *pd, const char *pod)
{
    struct pd_model *model = pd_world_find(pd, "default", "basic");
    const struct pd_model_tidb *tidb = model ? pd_model_tidb_find(model, pod) : NULL;
    return tidb ? tidb->state : PD_TIDB_GONE;
}

static void crashed_and_terminating_pods_as_pd_sees_them(void)
{
    struct fixture f;
    REQUIRE(setup(&f));
    struct pd_world_options pd_options = { .store = f.store, .clock = &f.clock };
    struct pd_world *pd = pd_world_start(&pd_options);
    REQUIRE(pd);
    struct pod_history history = { .name = "basic-tidb-0" };
    struct store_watch_options watch_options = { 0 };
    struct store_error error = { 0 };
    struct store_watch *watch = store_watch_start(f.store, find(&f, "pods"), &watch_options,
                                                  on_history, &history, &error);
    REQUIRE(watch);
    /* A finalizer keeps the pod through its termination, as graceful
     * deletion does for a real one. */
    REQUIRE(create(&f, "pods", "default",
                   "{\"metadata\":{\"name\":\"basic-tidb-0\",\"finalizers\":[\"example.com/hold\"],"
                   "\"labels\":{\"app.kubernetes.io/instance\":\"basic\","
                   "\"app.kubernetes.io/component\":\"tidb\"}},\"spec\":{"
                   "\"terminationGracePeriodSeconds\":30,\"containers\":["
                   "{\"name\":\"tidb\",\"image\":\"pingcap/tidb:v8.5.1\"},"
                   "{\"name\":\"slowlog\",\"image\":\"busybox:1.36\"}]}}"));
    settle(&f, 2000);
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "status"), "True");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_RUNNING);

    /* First crash: restarted at once, not ready until the readiness delay. */
    CHECK(world_crash_pod(f.world, "default", "basic-tidb-0", "tidb"));
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "status"), "False");
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "reason"), "ContainersNotReady");
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "message"),
              "containers with unready status: [tidb]");
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "ContainersReady", "status"), "False");
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.phase"), "Running");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_STOPPED);
    settle(&f, 499);
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_STOPPED);
    settle(&f, 1);
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_RUNNING);

    /* Second crash: CrashLoopBackOff, not ready all through the back-off
     * and the restart, ready again after the readiness delay. */
    CHECK(world_crash_pod(f.world, "default", "basic-tidb-0", "tidb"));
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.containerStatuses.0.state.waiting.reason"),
              "CrashLoopBackOff");
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.containerStatuses.1.ready"), "true");
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "status"), "False");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_STOPPED);
    CHECK(!world_crash_pod(f.world, "default", "basic-tidb-0", "tidb"));  /* nothing runs to crash */
    settle(&f, 10000);
    CHECK(pod_field(&f, "basic-tidb-0", "status.containerStatuses.0.state.running.startedAt") != NULL);
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "status"), "False");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_STOPPED);
    settle(&f, 500);
    CHECK_STR(condition(&f, "pods", "default", "basic-tidb-0", "Ready", "status"), "True");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_RUNNING);
    CHECK_INT(history.ready_true_while_crashed, 0);

    /* Deleted: it keeps running (and ready) with its deletionTimestamp until
     * the grace period (capped at 2 s) ends, then stops; the timestamp stays. */
    int before = history.versions;
    history.deleted = true;
    REQUIRE(delete(&f, "pods", "default", "basic-tidb-0"));
    CHECK(history.versions > before);
    CHECK(pod_field(&f, "basic-tidb-0", "metadata.deletionTimestamp") != NULL);
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.phase"), "Running");
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_SHUTTING_DOWN);
    settle(&f, 1999);
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.phase"), "Running");
    CHECK(pod_field(&f, "basic-tidb-0", "metadata.deletionTimestamp") != NULL);
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_SHUTTING_DOWN);
    settle(&f, 1);
    CHECK_STR(pod_field(&f, "basic-tidb-0", "status.phase"), "Succeeded");
    CHECK(pod_field(&f, "basic-tidb-0", "metadata.deletionTimestamp") != NULL);
    CHECK_INT(tidb_state(pd, "basic-tidb-0"), PD_TIDB_STOPPED);
    CHECK_INT(history.running_without_deletion, 0);
    /* Not crashed while terminating. */
    CHECK(!world_crash_pod(f.world, "default", "basic-tidb-0", NULL));

    store_watch_stop(f.store, watch);
    pd_world_close(pd, NULL, NULL);
    teardown(&f);
}

/* ---- on a real loop ---- */

struct loop_probe {
    struct fixture *f;
    uv_timer_t deadline;
    uv_timer_t poll;
    bool ready;
};

static void on_poll(uv_timer_t *timer)
{
    struct loop_probe *probe = timer->data;
    const char *ready = condition(probe->f, "pods", "default", "live", "Ready", "status");
    if (ready && strcmp(ready, "True") == 0) {
        probe->ready = true;
        uv_timer_stop(&probe->poll);
        uv_timer_stop(&probe->deadline);
        world_stop(probe->f->world);
        probe->f->world = NULL;
    }
}

static void on_deadline(uv_timer_t *timer)
{
    struct loop_probe *probe = timer->data;
    uv_timer_stop(&probe->poll);
    world_stop(probe->f->world);
    probe->f->world = NULL;
}

static void runs_on_a_uv_loop(void)
{
    uv_loop_t loop;
    REQUIRE(uv_loop_init(&loop) == 0);
    struct fixture f;
    struct store_options store_options = { .random_seed = 3 };
    f.store = store_new(&store_options);
    REQUIRE(f.store);
    struct world_options options;
    world_config_default(&options);
    options.start_delay_ms = 20;
    options.ready_delay_ms = 10;
    f.world = world_start(&loop, f.store, NULL, &options);
    world_options_free(&options);
    REQUIRE(f.world);
    REQUIRE(create_pod(&f, "live", NULL, NULL));
    struct loop_probe probe = { .f = &f };
    uv_timer_init(&loop, &probe.deadline);
    uv_timer_init(&loop, &probe.poll);
    probe.deadline.data = probe.poll.data = &probe;
    uv_timer_start(&probe.deadline, on_deadline, 5000, 0);
    uv_timer_start(&probe.poll, on_poll, 5, 5);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(probe.ready);
    uv_close((uv_handle_t *)&probe.deadline, NULL);
    uv_close((uv_handle_t *)&probe.poll, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    store_free(f.store);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(world_default_contents),
        TEST_CASE(pod_scheduled_then_running_then_ready),
        TEST_CASE(pods_spread_least_allocated),
        TEST_CASE(insufficient_cpu_message_and_event),
        TEST_CASE(insufficient_memory_and_selector_counted),
        TEST_CASE(node_selector_and_required_affinity),
        TEST_CASE(anti_affinity_on_hostname),
        TEST_CASE(taints_and_tolerations),
        TEST_CASE(wait_for_first_consumer_binds_on_chosen_node),
        TEST_CASE(no_local_volume_left),
        TEST_CASE(dynamic_provisioning_and_delete_policy),
        TEST_CASE(immediate_claims_and_missing_class),
        TEST_CASE(pod_deletion_frees_the_node),
        TEST_CASE(crash_restarts_then_backs_off),
        TEST_CASE(crashing_image_never_gets_ready),
        TEST_CASE(crashed_and_terminating_pods_as_pd_sees_them),
        TEST_CASE(node_failure_and_recovery),
        TEST_CASE(unreachable_node_pods_are_evicted_and_wait),
        TEST_CASE(deleted_node_pods_are_collected),
        TEST_CASE(pod_deleted_during_a_short_failure_stops_after_it),
        TEST_CASE(speed_shortens_delays),
        TEST_CASE(config_parse_rejects_bad_input),
        TEST_CASE(runs_on_a_uv_loop),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
