/* Compact projections, the string pool, the cache's indexes and the glue
 * that maps changes to TidbCluster work-queue keys. */
#include "reactor/workqueue.h"
#include "test/support/test.h"
#include "watchers/cache.h"
#include "watchers/enqueue.h"
#include "watchers/objects.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

static const char *full_pod =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"basic-tikv-0\","
    "\"namespace\":\"prod\",\"uid\":\"0b6c3f51-9d3e-4d8f-a0a8-6c1f0e2b8f11\","
    "\"resourceVersion\":\"1234\",\"generation\":1,"
    "\"deletionTimestamp\":\"2026-11-21T19:55:07Z\","
    "\"labels\":{\"app.kubernetes.io/instance\":\"basic\",\"app.kubernetes.io/component\":\"tikv\","
    "\"app.kubernetes.io/managed-by\":\"tidb-operator\",\"app.kubernetes.io/name\":\"tidb-cluster\","
    "\"tidb.pingcap.com/store-id\":\"4\",\"pod-template-hash\":\"abc\"},"
    "\"annotations\":{\"tidb.pingcap.com/evict-leader\":\"begin\",\"kubectl.kubernetes.io/last\":\"x\","
    "\"evictLeaderBeginTime\":\"2026-11-21T19:00:00Z\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"other\",\"uid\":\"u0\"},"
    "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\",\"name\":\"basic\","
    "\"uid\":\"tc-uid\",\"controller\":true}],"
    "\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\"}]},"
    "\"spec\":{\"nodeName\":\"node-3\",\"hostname\":\"basic-tikv-0\",\"containers\":[{\"name\":\"tikv\"}],"
    "\"volumes\":[{\"name\":\"tikv\",\"persistentVolumeClaim\":{\"claimName\":\"tikv-basic-tikv-0\"}},"
    "{\"name\":\"config\",\"configMap\":{\"name\":\"basic-tikv\"}},"
    "{\"name\":\"log\",\"persistentVolumeClaim\":{\"claimName\":\"log-basic-tikv-0\"}}]},"
    "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.2.3\",\"startTime\":\"2026-11-21T19:00:00Z\","
    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},"
    "{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"2026-11-21T19:50:00.500Z\"}],"
    "\"initContainerStatuses\":[{\"name\":\"init\",\"image\":\"busybox\",\"ready\":false,"
    "\"restartCount\":0,\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}],"
    "\"containerStatuses\":[{\"name\":\"tikv\",\"image\":\"pingcap/tikv:v7.5.0\",\"ready\":false,"
    "\"restartCount\":7,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}]}}";

static struct object_meta *project(const struct object_kind *kind, const char *json,
                                   struct string_pool *pool)
{
    cJSON *tree = cJSON_Parse(json);
    char error[128] = "";
    struct object_meta *object = object_project(kind, tree, pool, error, sizeof error);
    if (object == NULL)
        fprintf(stderr, "projection failed: %s\n", error);
    cJSON_Delete(tree);
    return object;
}

static void pod_projection_keeps_what_planners_read(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct object_meta *meta = project(&object_kind_pod, full_pod, &pool);
    REQUIRE(meta != NULL);
    const struct kube_pod *pod = (const struct kube_pod *)meta;
    CHECK_STR(meta->key, "prod/basic-tikv-0");
    CHECK_STR(meta->name, "basic-tikv-0");
    CHECK_STR(meta->namespace, "prod");
    char uid[OBJECT_UID_SIZE], rv[OBJECT_RV_SIZE];
    CHECK_STR(object_uid(meta, uid), "0b6c3f51-9d3e-4d8f-a0a8-6c1f0e2b8f11");
    CHECK_STR(object_resource_version(meta, rv), "1234");
    CHECK_INT(meta->rv, 1234);
    CHECK_INT(meta->deletion_ms, 1795290907000LL);
    CHECK_STR(meta->owner_kind, "TidbCluster");
    CHECK_STR(meta->owner_name, "basic");
    CHECK_STR(meta->owner_uid, "tc-uid");
    CHECK_STR(meta->cluster, "prod/basic");
    CHECK_STR(object_label(meta, LABEL_COMPONENT), "tikv");
    CHECK_STR(object_label(meta, LABEL_MANAGED_BY), "tidb-operator");
    CHECK_STR(object_label(meta, LABEL_NAME), "tidb-cluster");
    CHECK_STR(object_label(meta, "tidb.pingcap.com/store-id"), "4");
    CHECK(object_label(meta, "pod-template-hash") == NULL);
    CHECK_STR(object_annotation(meta, "tidb.pingcap.com/evict-leader"), "begin");
    CHECK(object_annotation(meta, "kubectl.kubernetes.io/last") == NULL);
    /* PingCAP's one unprefixed annotation: when leader eviction began. */
    CHECK_STR(object_annotation(meta, "evictLeaderBeginTime"), "2026-11-21T19:00:00Z");
    CHECK_STR(pod->config_map, "basic-tikv");
    CHECK_STR(pod->node_name, "node-3");
    CHECK_STR(pod->hostname, "basic-tikv-0");
    CHECK_STR(pod->phase, "Running");
    CHECK_STR(pod->pod_ip, "10.1.2.3");
    CHECK_INT(pod->ready, CONDITION_FALSE);
    CHECK_INT(pod->ready_transition_ms, 1795290600500LL);
    CHECK_INT(pod->scheduled, CONDITION_TRUE);
    CHECK_INT(pod->start_ms, 1795287600000LL);
    REQUIRE(pod->claim_count == 2);
    CHECK_STR(pod->claims[0], "tikv-basic-tikv-0");
    CHECK_STR(pod->claims[1], "log-basic-tikv-0");
    REQUIRE(pod->container_count == 2);
    CHECK(pod->containers[0].init);
    CHECK_INT(pod->containers[0].state, CONTAINER_STATE_TERMINATED);
    CHECK_STR(pod->containers[0].reason, "Completed");
    CHECK(!pod->containers[1].init);
    CHECK_STR(pod->containers[1].name, "tikv");
    CHECK_STR(pod->containers[1].image, "pingcap/tikv:v7.5.0");
    CHECK_INT(pod->containers[1].restart_count, 7);
    CHECK_INT(pod->containers[1].state, CONTAINER_STATE_WAITING);
    CHECK_STR(pod->containers[1].reason, "CrashLoopBackOff");
    object_free(&object_kind_pod, meta, &pool);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static void pending_pod_explains_why(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct object_meta *meta = project(
        &object_kind_pod,
        "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"resourceVersion\":\"9\"},"
        "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\","
        "\"reason\":\"Unschedulable\",\"message\":\"0/3 nodes are available: 3 Insufficient cpu.\"}]}}",
        &pool);
    REQUIRE(meta != NULL);
    const struct kube_pod *pod = (const struct kube_pod *)meta;
    CHECK_INT(pod->scheduled, CONDITION_FALSE);
    CHECK_STR(pod->scheduled_reason, "Unschedulable");
    CHECK_STR(pod->scheduled_message, "0/3 nodes are available: 3 Insufficient cpu.");
    CHECK(pod->node_name == NULL);
    CHECK_INT(pod->ready, CONDITION_ABSENT);
    CHECK(meta->cluster == NULL);
    CHECK_INT(meta->deletion_ms, 0);
    object_free(&object_kind_pod, meta, &pool);
    string_pool_free(&pool);
}

static void projection_refuses_uncacheable_objects(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    static const char *const bad[] = {
        "{}",
        "{\"metadata\":{\"namespace\":\"ns\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\"}}",
        "{\"metadata\":[1,2]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *tree = cJSON_Parse(bad[i]);
        char error[128] = "";
        struct object_meta *object = object_project(&object_kind_pod, tree, &pool, error, sizeof error);
        CHECK(object == NULL);
        CHECK(error[0] != '\0');
        object_free(&object_kind_pod, object, &pool);
        cJSON_Delete(tree);
    }
    /* Wrong types inside are simply absent. */
    struct object_meta *meta = project(
        &object_kind_pod,
        "{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":\"x7\","
        "\"labels\":{\"app.kubernetes.io/instance\":5},\"ownerReferences\":\"nope\"},"
        "\"spec\":{\"nodeName\":[],\"volumes\":{}},\"status\":{\"containerStatuses\":[1,\"x\"],"
        "\"conditions\":[null,{\"type\":7}]}}",
        &pool);
    REQUIRE(meta != NULL);
    CHECK_INT(meta->rv, 0); /* not numeric: compared as unknown */
    CHECK(meta->cluster == NULL);
    CHECK(((struct kube_pod *)meta)->node_name == NULL);
    CHECK_INT(((struct kube_pod *)meta)->container_count, 0);
    object_free(&object_kind_pod, meta, &pool);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static void same_ignores_resource_version_only(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct object_meta *a = project(&object_kind_pod, full_pod, &pool);
    /* Another RV, another managedFields, labels in another order, an
     * unkept label changed: the same for the planners. */
    cJSON *tree = cJSON_Parse(full_pod);
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(tree, "metadata");
    cJSON_ReplaceItemInObject(metadata, "resourceVersion", cJSON_CreateString("1300"));
    cJSON_ReplaceItemInObject(metadata, "managedFields", cJSON_CreateArray());
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(metadata, "labels");
    cJSON *first = cJSON_DetachItemFromObject(labels, "app.kubernetes.io/instance");
    cJSON_AddItemToObject(labels, "app.kubernetes.io/instance", first);
    cJSON_ReplaceItemInObject(labels, "pod-template-hash", cJSON_CreateString("zzz"));
    char error[64];
    struct object_meta *b = object_project(&object_kind_pod, tree, &pool, error, sizeof error);
    REQUIRE(a != NULL && b != NULL);
    CHECK(object_same(&object_kind_pod, a, b));
    CHECK_INT(object_rv_compare(a, b), -1);
    /* A restart count is something the planners read. */
    cJSON *statuses = JSON_PATH(tree, "status", "containerStatuses") != NULL
                          ? cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(tree, "status"), "containerStatuses")
                          : NULL;
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(statuses, 0), "restartCount", cJSON_CreateNumber(8));
    struct object_meta *c = object_project(&object_kind_pod, tree, &pool, error, sizeof error);
    REQUIRE(c != NULL);
    CHECK(!object_same(&object_kind_pod, b, c));
    /* So is a kept label. */
    cJSON_ReplaceItemInObject(labels, "app.kubernetes.io/component", cJSON_CreateString("pd"));
    struct object_meta *d = object_project(&object_kind_pod, tree, &pool, error, sizeof error);
    REQUIRE(d != NULL);
    CHECK(!object_same(&object_kind_pod, c, d));
    object_free(&object_kind_pod, a, &pool);
    object_free(&object_kind_pod, b, &pool);
    object_free(&object_kind_pod, c, &pool);
    object_free(&object_kind_pod, d, &pool);
    cJSON_Delete(tree);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static void other_kinds_project(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct object_meta *m = project(
        &object_kind_pvc,
        "{\"metadata\":{\"name\":\"tikv-basic-tikv-0\",\"namespace\":\"prod\",\"resourceVersion\":\"5\","
        "\"labels\":{\"app.kubernetes.io/instance\":\"basic\"},"
        "\"annotations\":{\"volume.kubernetes.io/selected-node\":\"node-3\"}},"
        "\"spec\":{\"storageClassName\":\"local\",\"volumeName\":\"pv-9\","
        "\"resources\":{\"requests\":{\"storage\":\"100Gi\"}}},"
        "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"120Gi\"}}}",
        &pool);
    REQUIRE(m != NULL);
    const struct kube_pvc *pvc = (const struct kube_pvc *)m;
    CHECK_STR(pvc->phase, "Bound");
    CHECK_STR(pvc->volume_name, "pv-9");
    CHECK_STR(pvc->storage_class, "local");
    CHECK_STR(pvc->selected_node, "node-3");
    CHECK_INT(pvc->requested_bytes, 100ull << 30);
    CHECK_INT(pvc->capacity_bytes, 120ull << 30);
    CHECK_STR(m->cluster, "prod/basic");
    object_free(&object_kind_pvc, m, &pool);

    m = project(&object_kind_pv,
                "{\"metadata\":{\"name\":\"pv-9\",\"resourceVersion\":\"6\","
                "\"labels\":{\"app.kubernetes.io/instance\":\"basic\"}},"
                "\"spec\":{\"capacity\":{\"storage\":\"1Ti\"},\"storageClassName\":\"local\","
                "\"persistentVolumeReclaimPolicy\":\"Retain\",\"local\":{\"path\":\"/mnt/disks/ssd0\"},"
                "\"claimRef\":{\"namespace\":\"prod\",\"name\":\"tikv-basic-tikv-0\",\"uid\":\"c1\"},"
                "\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":["
                "{\"key\":\"kubernetes.io/hostname\",\"operator\":\"In\",\"values\":[\"node-3\"]}]}]}}},"
                "\"status\":{\"phase\":\"Bound\"}}",
                &pool);
    REQUIRE(m != NULL);
    const struct kube_pv *pv = (const struct kube_pv *)m;
    CHECK_STR(m->key, "pv-9");
    CHECK_STR(m->namespace, "");
    CHECK_STR(pv->claim_namespace, "prod");
    CHECK_STR(pv->claim_name, "tikv-basic-tikv-0");
    CHECK_STR(pv->node_hostname, "node-3");
    CHECK_STR(pv->reclaim_policy, "Retain");
    CHECK_STR(pv->local_path, "/mnt/disks/ssd0");
    CHECK_INT(pv->capacity_bytes, 1ull << 40);
    CHECK_STR(m->cluster, "prod/basic");
    object_free(&object_kind_pv, m, &pool);

    m = project(&object_kind_node,
                "{\"metadata\":{\"name\":\"node-3\",\"resourceVersion\":\"7\",\"labels\":{"
                "\"topology.kubernetes.io/zone\":\"z1\",\"topology.kubernetes.io/region\":\"r1\","
                "\"kubernetes.io/hostname\":\"node-3\",\"rack\":\"r7\"}},"
                "\"spec\":{\"unschedulable\":true,\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\","
                "\"effect\":\"NoExecute\"},{\"key\":\"x\"}]},"
                "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}}",
                &pool);
    REQUIRE(m != NULL);
    const struct kube_node *node = (const struct kube_node *)m;
    CHECK_STR(node->zone, "z1");
    CHECK_STR(node->region, "r1");
    CHECK_STR(node->hostname, "node-3");
    CHECK_STR(object_label(m, "rack"), "r7");
    CHECK(node->unschedulable);
    CHECK(node->unreachable);
    CHECK_INT(node->taint_count, 2);
    CHECK_INT(node->ready, CONDITION_UNKNOWN);
    object_free(&object_kind_node, m, &pool);

    m = project(&object_kind_service,
                "{\"metadata\":{\"name\":\"basic-pd\",\"namespace\":\"prod\",\"resourceVersion\":\"8\"},"
                "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"publishNotReadyAddresses\":true,"
                "\"selector\":{\"a\":\"b\"},\"ports\":[{\"name\":\"client\",\"port\":2379,"
                "\"targetPort\":2379,\"protocol\":\"TCP\"}]}}",
                &pool);
    REQUIRE(m != NULL);
    const struct kube_service *svc = (const struct kube_service *)m;
    CHECK_STR(svc->type, "ClusterIP");
    CHECK_STR(svc->cluster_ip, "None");
    CHECK(svc->publish_not_ready);
    CHECK(svc->selector_hash != 0);
    REQUIRE(svc->port_count == 1);
    CHECK_INT(svc->ports[0].port, 2379);
    CHECK_STR(svc->ports[0].name, "client");
    object_free(&object_kind_service, m, &pool);

    struct object_meta *cm1 = project(
        &object_kind_configmap,
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"p\",\"resourceVersion\":\"1\"},"
        "\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
        &pool);
    struct object_meta *cm2 = project(
        &object_kind_configmap,
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"p\",\"resourceVersion\":\"2\"},"
        "\"data\":{\"b\":\"2\",\"a\":\"1\"}}",
        &pool);
    struct object_meta *cm3 = project(
        &object_kind_configmap,
        "{\"metadata\":{\"name\":\"c\",\"namespace\":\"p\",\"resourceVersion\":\"3\"},"
        "\"data\":{\"a\":\"2\",\"b\":\"1\"}}",
        &pool);
    REQUIRE(cm1 && cm2 && cm3);
    CHECK_INT(((struct kube_configmap *)cm1)->key_count, 2);
    CHECK(object_same(&object_kind_configmap, cm1, cm2));
    CHECK(!object_same(&object_kind_configmap, cm1, cm3));
    object_free(&object_kind_configmap, cm1, &pool);
    object_free(&object_kind_configmap, cm2, &pool);
    object_free(&object_kind_configmap, cm3, &pool);

    m = project(&object_kind_storage_class,
                "{\"metadata\":{\"name\":\"local\",\"resourceVersion\":\"1\"},"
                "\"provisioner\":\"kubernetes.io/no-provisioner\","
                "\"volumeBindingMode\":\"WaitForFirstConsumer\",\"reclaimPolicy\":\"Retain\"}",
                &pool);
    REQUIRE(m != NULL);
    CHECK_STR(((struct kube_storage_class *)m)->binding_mode, "WaitForFirstConsumer");
    object_free(&object_kind_storage_class, m, &pool);

    m = project(&object_kind_lease,
                "{\"metadata\":{\"name\":\"tidb-operator\",\"namespace\":\"ops\",\"resourceVersion\":\"1\"},"
                "\"spec\":{\"holderIdentity\":\"op-1\",\"leaseDurationSeconds\":15,"
                "\"renewTime\":\"2026-11-21T19:55:07.123456Z\",\"leaseTransitions\":2}}",
                &pool);
    REQUIRE(m != NULL);
    const struct kube_lease *lease = (const struct kube_lease *)m;
    CHECK_STR(lease->holder, "op-1");
    CHECK_INT(lease->duration_seconds, 15);
    CHECK_INT(lease->renew_ms, 1795290907123LL);
    CHECK_INT(lease->transitions, 2);
    object_free(&object_kind_lease, m, &pool);

    struct object_meta *tc1 = project(
        &object_kind_tidbcluster,
        "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"prod\",\"resourceVersion\":\"10\","
        "\"managedFields\":[{}]},\"spec\":{\"pd\":{\"replicas\":3}}}",
        &pool);
    struct object_meta *tc2 = project(
        &object_kind_tidbcluster,
        "{\"metadata\":{\"resourceVersion\":\"11\",\"namespace\":\"prod\",\"name\":\"basic\"},"
        "\"spec\":{\"pd\":{\"replicas\":3}}}",
        &pool);
    struct object_meta *tc3 = project(
        &object_kind_tidbcluster,
        "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"prod\",\"resourceVersion\":\"12\"},"
        "\"spec\":{\"pd\":{\"replicas\":5}}}",
        &pool);
    REQUIRE(tc1 && tc2 && tc3);
    CHECK_STR(tc1->cluster, "prod/basic");
    CHECK(JSON_PATH(((struct kube_tidbcluster *)tc1)->object, "metadata", "managedFields") == NULL);
    CHECK(object_same(&object_kind_tidbcluster, tc1, tc2));
    CHECK(!object_same(&object_kind_tidbcluster, tc2, tc3));
    /* The comparison put the resourceVersion back. */
    CHECK_STR(json_string(JSON_PATH(((struct kube_tidbcluster *)tc2)->object, "metadata",
                                    "resourceVersion")), "11");
    object_free(&object_kind_tidbcluster, tc1, &pool);
    object_free(&object_kind_tidbcluster, tc2, &pool);
    object_free(&object_kind_tidbcluster, tc3, &pool);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static void parsers(void)
{
    uint64_t v = 0;
    CHECK(kube_parse_rv("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(!kube_parse_rv("18446744073709551616", &v));
    CHECK(!kube_parse_rv("12a", &v));
}

static void string_pool_counts_references(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    const char *a = string_pool_intern(&pool, "node-1");
    const char *b = string_pool_intern_n(&pool, "node-12", 6);
    CHECK(a == b);
    CHECK_INT(string_pool_count(&pool), 1);
    string_pool_retain(a);
    string_pool_release(&pool, a);
    string_pool_release(&pool, b);
    CHECK_INT(string_pool_count(&pool), 1);
    string_pool_release(&pool, a);
    CHECK_INT(string_pool_count(&pool), 0);
    CHECK_INT(pool.bytes, 0);
    string_pool_free(&pool);
}

static char *pod_json(const char *name, const char *instance, const char *node, int rv)
{
    char *json = malloc(1024);
    snprintf(json, 1024,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"resourceVersion\":\"%d\","
             "\"labels\":{\"app.kubernetes.io/instance\":\"%s\"}},\"spec\":{\"nodeName\":\"%s\"}}",
             name, rv, instance, node);
    return json;
}

static struct object_meta *project_pod(struct string_pool *pool, const char *name,
                                       const char *instance, const char *node, int rv)
{
    char *json = pod_json(name, instance, node, rv);
    struct object_meta *object = project(&object_kind_pod, json, pool);
    free(json);
    return object;
}

static bool contains(const struct object_meta *const *items, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(items[i]->key, key) == 0)
            return true;
    return false;
}

static void cache_indexes_follow_changes(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct cache cache;
    cache_init(&cache, &object_kind_pod, &pool);
    struct object_meta *previous = NULL;
    for (int i = 0; i < 30; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        CHECK_INT(cache_put(&cache, project_pod(&pool, name, i % 3 ? "a" : "b",
                                                i % 2 ? "n1" : "n2", i + 1),
                            &previous), 0);
        CHECK(previous == NULL);
    }
    size_t count;
    const struct object_meta *const *items = cache_by_cluster(&cache, "ns/a", &count);
    CHECK_INT(count, 20);
    CHECK(contains(items, count, "ns/p1"));
    items = cache_by_cluster(&cache, "ns/b", &count);
    CHECK_INT(count, 10);
    items = cache_by_node(&cache, "n1", &count);
    CHECK_INT(count, 15);
    CHECK(contains(items, count, "ns/p1"));
    /* p1 moves to cluster b and node n3. */
    CHECK_INT(cache_put(&cache, project_pod(&pool, "p1", "b", "n3", 100), &previous), 0);
    REQUIRE(previous != NULL);
    char rv[OBJECT_RV_SIZE];
    CHECK_STR(object_resource_version(previous, rv), "2");
    object_free(&object_kind_pod, previous, &pool);
    items = cache_by_cluster(&cache, "ns/a", &count);
    CHECK_INT(count, 19);
    CHECK(!contains(items, count, "ns/p1"));
    items = cache_by_cluster(&cache, "ns/b", &count);
    CHECK_INT(count, 11);
    CHECK(contains(items, count, "ns/p1"));
    items = cache_by_node(&cache, "n3", &count);
    CHECK_INT(count, 1);
    items = cache_by_node(&cache, "n1", &count);
    CHECK_INT(count, 14);
    /* Removal empties buckets. */
    struct object_meta *gone = cache_remove(&cache, "ns/p1");
    REQUIRE(gone != NULL);
    object_free(&object_kind_pod, gone, &pool);
    CHECK(cache_by_node(&cache, "n3", &count) == NULL);
    CHECK_INT(count, 0);
    CHECK(cache_remove(&cache, "ns/p1") == NULL);
    CHECK_INT(cache_count(&cache), 29);
    size_t cursor = 0, clusters = 0;
    while (cache_next_cluster(&cache, &cursor) != NULL)
        clusters++;
    CHECK_INT(clusters, 2);
    /* Every index entry points at the object with its key. */
    for (int i = 0; i < 30; i++) {
        char key[16];
        snprintf(key, sizeof key, "ns/p%d", i);
        const struct object_meta *o = cache_get(&cache, key);
        if (o == NULL)
            continue;
        items = cache_by_cluster(&cache, o->cluster, &count);
        CHECK(contains(items, count, key));
    }
    cache_free(&cache);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static bool under_valgrind(void)
{
    return getenv("TEST_UNDER_VALGRIND") != NULL;
}

/* A pod as the operator and a kubelet leave it (the fields bench_watch's pods
 * have): operator labels, a cluster id and a store id, a config hash, the
 * TidbCluster owner, a PVC, one container running, four conditions. */
static char *operator_pod_json(size_t index)
{
    size_t cluster = index / 10;
    char *json = malloc(4096);
    snprintf(json, 4096,
             "{\"metadata\":{\"name\":\"db%zu-tikv-%zu\",\"namespace\":\"tidb-%02zu\","
             "\"uid\":\"%08zx-9d3e-4d8f-a0a8-6c1f0e2b8f11\",\"resourceVersion\":\"%zu\","
             "\"labels\":{\"app.kubernetes.io/name\":\"tidb-cluster\","
             "\"app.kubernetes.io/managed-by\":\"tidb-operator\",\"app.kubernetes.io/instance\":"
             "\"db%zu\",\"app.kubernetes.io/component\":\"tikv\",\"tidb.pingcap.com/cluster-id\":"
             "\"%zu\",\"tidb.pingcap.com/store-id\":\"%zu\"},\"annotations\":{\"prometheus.io/scrape\":"
             "\"true\",\"tidb.pingcap.com/config-hash\":\"%016zx\"},\"ownerReferences\":[{\"kind\":"
             "\"TidbCluster\",\"name\":\"db%zu\",\"uid\":\"%08zx-0000-4000-8000-000000000000\","
             "\"controller\":true}]},"
             "\"spec\":{\"volumes\":[{\"name\":\"tikv\",\"persistentVolumeClaim\":{\"claimName\":"
             "\"tikv-db%zu-tikv-%zu\"}},{\"name\":\"config\",\"configMap\":{\"name\":\"db%zu-tikv\"}}],"
             "\"nodeName\":\"node-%zu\",\"hostname\":\"db%zu-tikv-%zu\"},"
             "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Initialized\",\"status\":"
             "\"True\"},{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":"
             "\"2026-01-05T10:00:15Z\"},{\"type\":\"ContainersReady\",\"status\":\"True\"},"
             "{\"type\":\"PodScheduled\",\"status\":\"True\"}],\"podIP\":\"10.244.%zu.%zu\","
             "\"startTime\":\"2026-01-05T10:00:01Z\",\"containerStatuses\":[{\"name\":\"tikv\","
             "\"state\":{\"running\":{}},\"ready\":true,\"restartCount\":0,\"image\":"
             "\"docker.io/pingcap/tikv:v8.5.0\"}]}}",
             cluster, index % 10, cluster % 20, index, index + 1, cluster,
             7000000000000000000u + cluster, 1000 + index, cluster * 7919, cluster, cluster,
             cluster, index % 10, cluster, index / 25, cluster, index % 10, index / 250,
             index % 250 + 1);
    return json;
}

static void compact_pod_is_under_a_kibibyte(void)
{
    /* Everything a cached operator pod costs, counted by the accounting
     * functions: its projection, its share of the indexes and of the
     * pool's strings. */
    struct string_pool pool;
    string_pool_init(&pool);
    struct cache cache;
    cache_init(&cache, &object_kind_pod, &pool);
    size_t count = under_valgrind() ? 2000 : 20000;
    struct mallinfo2 info = mallinfo2();
    size_t heap_before = info.uordblks + info.hblkhd;
    for (size_t i = 0; i < count; i++) {
        char *json = operator_pod_json(i);
        struct object_meta *object = project(&object_kind_pod, json, &pool);
        free(json);
        REQUIRE(object != NULL);
        REQUIRE(cache_put(&cache, object, NULL) == 0);
    }
    info = mallinfo2();
    size_t heap = info.uordblks + info.hblkhd - heap_before;
    size_t counted = cache_memory_bytes(&cache) + string_pool_memory_bytes(&pool);
    size_t per_pod = counted / count;
    if (getenv("TEST_VERBOSE") != NULL)
        fprintf(stderr, "bytes per cached pod: %zu counted (indexes %zu, pool %zu), heap %zu\n",
                per_pod, cache_index_bytes(&cache) / count, string_pool_memory_bytes(&pool) / count,
                heap / count);
    CHECK(per_pod < 1024);
    /* The count is what the allocator holds, within a page-rounded large
     * table or so (valgrind's allocator keeps its own books: there, only the
     * bound). */
    if (!under_valgrind())
        CHECK(counted <= heap + 8192 && heap <= counted + counted / 100 + 8192);
    const struct kube_pod *pod = (const struct kube_pod *)cache_get(&cache, "tidb-00/db0-tikv-0");
    REQUIRE(pod != NULL);
    CHECK_STR(pod->hostname, "db0-tikv-0");
    CHECK(pod->hostname == pod->meta.name);
    CHECK_STR(pod->pod_ip, "10.244.0.1");
    CHECK_STR(pod->claims[0], "tikv-db0-tikv-0");
    char uid[OBJECT_UID_SIZE], rv[OBJECT_RV_SIZE];
    CHECK_STR(object_uid(&pod->meta, uid), "00000000-9d3e-4d8f-a0a8-6c1f0e2b8f11");
    CHECK_STR(object_resource_version(&pod->meta, rv), "1");
    CHECK_STR(object_annotation(&pod->meta, "tidb.pingcap.com/config-hash"), "0000000000000000");
    cache_free(&cache);
    CHECK_INT(string_pool_count(&pool), 0);
    CHECK_INT(string_pool_memory_bytes(&pool), 0);
    string_pool_free(&pool);
}

/* (compact_pod_is_under_a_kibibyte compares the count with the allocator's
 * own, over many objects: malloc's per-thread caches blur small deltas.) */
static void memory_accounting_adds_up(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct cache cache;
    cache_init(&cache, &object_kind_pod, &pool);
    CHECK_INT(cache_memory_bytes(&cache), 0);
    CHECK_INT(string_pool_memory_bytes(&pool), 0);
    /* Interned strings: one allocation each, plus the table. */
    const char *a = string_pool_intern(&pool, "node-1");
    size_t one = string_pool_memory_bytes(&pool);
    CHECK(one > 0);
    CHECK(string_pool_intern(&pool, "node-1") == a);
    CHECK_INT(string_pool_memory_bytes(&pool), one);
    const char *b = string_pool_intern(&pool, "node-2");
    CHECK(string_pool_memory_bytes(&pool) > one);
    string_pool_release(&pool, b);
    CHECK_INT(string_pool_memory_bytes(&pool), one);
    string_pool_release(&pool, a);
    string_pool_release(&pool, a);
    CHECK_INT(string_pool_memory_bytes(&pool), 0);

    /* Objects and indexes: what was allocated, and nothing once emptied. */
    struct object_meta *pods[40];
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        pods[i] = project_pod(&pool, name, i % 4 ? "a" : "b", i % 3 ? "n1" : "n2", i + 1);
        REQUIRE(pods[i] != NULL);
        CHECK(object_memory_bytes(&object_kind_pod, pods[i]) >= sizeof(struct kube_pod));
        /* One allocation: the struct and its tail. */
        CHECK_INT(object_memory_bytes(&object_kind_pod, pods[i]), memory_chunk_bytes(pods[i]));
        REQUIRE(cache_put(&cache, pods[i], NULL) == 0);
    }
    size_t objects = 0;
    for (int i = 0; i < 40; i++)
        objects += object_memory_bytes(&object_kind_pod, pods[i]);
    size_t total = cache_memory_bytes(&cache), index = cache_index_bytes(&cache);
    CHECK_INT(total, objects + index);
    CHECK(index >= 40 * 2 * sizeof(void *)); /* at least the items of two indexes */
    for (int i = 0; i < 40; i++) {
        char key[16];
        snprintf(key, sizeof key, "ns/p%d", i);
        object_free(&object_kind_pod, cache_remove(&cache, key), &pool);
    }
    CHECK_INT(cache_memory_bytes(&cache), 0);
    CHECK_INT(string_pool_memory_bytes(&pool), 0);

    /* A TidbCluster keeps its JSON outside the projection: counted too. */
    struct object_meta *tc = project(&object_kind_tidbcluster,
                                     "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"prod\","
                                     "\"resourceVersion\":\"10\"},\"spec\":{\"pd\":{\"replicas\":3}}}",
                                     &pool);
    REQUIRE(tc != NULL);
    CHECK(object_memory_bytes(&object_kind_tidbcluster, tc) >
          memory_chunk_bytes(tc) + 6 * sizeof(cJSON));
    object_free(&object_kind_tidbcluster, tc, &pool);
    cache_free(&cache);
    string_pool_free(&pool);
}

/* The kept text when a uid is not a canonical UUID or a resourceVersion not
 * a canonical number; the compact forms otherwise. */
static void uid_and_resource_version_round_trip(void)
{
    static const struct {
        const char *uid, *rv;
        uint64_t number;
    } cases[] = {
        {"0b6c3f51-9d3e-4d8f-a0a8-6c1f0e2b8f11", "1", 1},
        {"0B6C3F51-9D3E-4D8F-A0A8-6C1F0E2B8F11", "18446744073709551615", UINT64_MAX},
        {"tc-uid", "x7", 0},
        {"0b6c3f51-9d3e-4d8f-a0a8-6c1f0e2b8f1g", "007", 7},
        {"0b6c3f519d3e4d8fa0a86c1f0e2b8f11", "0", 0},
        {NULL, "18446744073709551616", 0},
    };
    struct string_pool pool;
    string_pool_init(&pool);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512], uid_member[128] = "";
        if (cases[i].uid != NULL)
            snprintf(uid_member, sizeof uid_member, "\"uid\":\"%s\",", cases[i].uid);
        snprintf(json, sizeof json,
                 "{\"metadata\":{\"name\":\"pod-%zu\",\"namespace\":\"ns\",%s"
                 "\"resourceVersion\":\"%s\",\"labels\":{\"app.kubernetes.io/instance\":\"c\"},"
                 "\"annotations\":{\"tidb.pingcap.com/a\":\"1\"}},\"spec\":{\"hostname\":\"h\"},"
                 "\"status\":{\"podIP\":\"10.0.0.%zu\"}}",
                 i, uid_member, cases[i].rv, i);
        struct object_meta *meta = project(&object_kind_pod, json, &pool);
        REQUIRE(meta != NULL);
        char uid[OBJECT_UID_SIZE], rv[OBJECT_RV_SIZE], key[32];
        CHECK_STR(object_uid(meta, uid), cases[i].uid != NULL ? cases[i].uid : "");
        CHECK_STR(object_resource_version(meta, rv), cases[i].rv);
        CHECK_INT(meta->rv, cases[i].number);
        snprintf(key, sizeof key, "ns/pod-%zu", i);
        CHECK_STR(meta->key, key);
        CHECK_STR(meta->name, key + 3);
        CHECK_STR(object_label(meta, LABEL_INSTANCE), "c");
        CHECK_STR(object_annotation(meta, "tidb.pingcap.com/a"), "1");
        CHECK_STR(((struct kube_pod *)meta)->hostname, "h");
        /* Equal to itself projected again; not to another uid. */
        struct object_meta *again = project(&object_kind_pod, json, &pool);
        REQUIRE(again != NULL);
        CHECK(object_same(&object_kind_pod, meta, again));
        object_free(&object_kind_pod, again, &pool);
        object_free(&object_kind_pod, meta, &pool);
    }
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

static const char *record_key(const void *item)
{
    return (const char *)item;
}

/* Random puts and removes against a plain array as the reference. */
static void string_table_matches_reference_under_churn(void)
{
    enum { KEYS = 2000 };
    static char keys[KEYS][16], copies[KEYS][16];
    struct string_table table;
    string_table_init(&table, record_key);
    CHECK(string_table_get(&table, "x") == NULL);
    CHECK(string_table_remove(&table, "x") == NULL);
    CHECK_INT(string_table_memory_bytes(&table), 0);
    for (size_t i = 0; i < KEYS; i++) {
        snprintf(keys[i], sizeof keys[i], "ns/p%zu", i);
        memcpy(copies[i], keys[i], sizeof keys[i]);
    }
    static void *item_of[KEYS];
    uint64_t state = 42;
    size_t count = 0;
    for (int round = 0; round < 40000; round++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        size_t i = (size_t)(state >> 33) % KEYS;
        if (round > 20000 && ((state >> 20) & 3) == 0) {
            void *gone = string_table_remove(&table, keys[i]);
            CHECK(gone == item_of[i]);
            if (gone != NULL)
                count--;
            item_of[i] = NULL;
        } else {
            /* Alternate between two items with equal keys: replaced, one entry. */
            void *item = round & 1 ? keys[i] : copies[i];
            REQUIRE(string_table_put(&table, item) == 0);
            if (item_of[i] == NULL)
                count++;
            item_of[i] = item;
            CHECK(string_table_get(&table, keys[i]) == item);
        }
    }
    CHECK_INT(string_table_count(&table), count);
    size_t seen = 0, cursor = 0;
    const char *item;
    while ((item = string_table_next(&table, &cursor)) != NULL)
        seen++;
    CHECK_INT(seen, count);
    for (size_t i = 0; i < KEYS; i++) {
        CHECK(string_table_get(&table, keys[i]) == item_of[i]);
        /* By length: the key followed by anything. */
        char longer[32];
        snprintf(longer, sizeof longer, "%sxyz", keys[i]);
        CHECK(string_table_get_n(&table, longer, strlen(keys[i])) == item_of[i]);
        void **slot = string_table_slot(&table, keys[i]);
        CHECK(slot == NULL ? item_of[i] == NULL : *slot == item_of[i]);
    }
    CHECK(string_table_slot(&table, "absent") == NULL);
    for (size_t i = 0; i < KEYS; i++)
        string_table_remove(&table, keys[i]);
    CHECK_INT(string_table_count(&table), 0);
    CHECK_INT(string_table_memory_bytes(&table), 0); /* an empty table holds nothing */
    string_table_free(&table);
}

/* A bucket that grew large shrinks as its objects leave, and the items stay
 * findable through every move. */
static void index_buckets_grow_and_shrink(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct cache cache;
    cache_init(&cache, &object_kind_pod, &pool);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%d", i);
        REQUIRE(cache_put(&cache, project_pod(&pool, name, "a", "n1", i + 1), NULL) == 0);
    }
    size_t big = cache_index_bytes(&cache), count;
    for (int i = 0; i < 290; i++) {
        char key[16];
        snprintf(key, sizeof key, "ns/p%d", i);
        object_free(&object_kind_pod, cache_remove(&cache, key), &pool);
    }
    CHECK(cache_index_bytes(&cache) < big / 4);
    const struct object_meta *const *items = cache_by_cluster(&cache, "ns/a", &count);
    CHECK_INT(count, 10);
    for (size_t i = 0; i < count; i++) {
        CHECK_INT(items[i]->cluster_position, i);
        CHECK(cache_get(&cache, items[i]->key) == items[i]);
    }
    items = cache_by_node(&cache, "n1", &count);
    CHECK_INT(count, 10);
    for (size_t i = 0; i < count; i++)
        CHECK_INT(items[i]->node_position, i);
    size_t cursor = 0;
    CHECK_STR(cache_next_cluster(&cache, &cursor), "ns/a");
    cache_free(&cache);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

/* --- enqueue glue --------------------------------------------------------------- */

static void drain(struct workqueue *queue, char *out, size_t size)
{
    out[0] = '\0';
    const char *key;
    while (workqueue_get(queue, &key) == 0) {
        if (out[0] != '\0')
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, key, size - strlen(out) - 1);
        workqueue_done(queue, key);
        workqueue_forget(queue, key);
    }
}

static void handlers_enqueue_exactly_the_cluster_keys(void)
{
    struct string_pool pool;
    string_pool_init(&pool);
    struct workqueue *queue = NULL;
    REQUIRE(workqueue_new(&(struct workqueue_options){0}, &queue) == 0);
    struct cache pods, pvcs;
    cache_init(&pods, &object_kind_pod, &pool);
    cache_init(&pvcs, &object_kind_pvc, &pool);
    struct cluster_enqueuer enqueuer = {.queue = queue, .pods = &pods, .pvcs = &pvcs};
    char seen[512];

    /* Pods: their instance; a relabel concerns both clusters. */
    struct object_meta *p1 = project_pod(&pool, "p1", "a", "n1", 1);
    struct object_meta *p2 = project_pod(&pool, "p2", "b", "n1", 2);
    struct object_meta *p3 = project_pod(&pool, "p3", "b", "n2", 3);
    struct informer_handlers h = cluster_enqueue_handlers(&enqueuer, &object_kind_pod);
    h.on_add(h.data, p1);
    h.on_add(h.data, p2);
    h.on_add(h.data, p3);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/a ns/b");
    struct object_meta *p1b = project_pod(&pool, "p1", "b", "n1", 4);
    h.on_update(h.data, p1, p1b);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/b ns/a");
    h.on_delete(h.data, p1b);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/b");
    /* An unlabelled object concerns no cluster. */
    struct object_meta *loose = project(&object_kind_pod,
                                        "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\","
                                        "\"resourceVersion\":\"1\"}}", &pool);
    h.on_add(h.data, loose);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "");

    /* TidbCluster: its own key. */
    struct object_meta *tc = project(&object_kind_tidbcluster,
                                     "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"prod\","
                                     "\"resourceVersion\":\"1\"}}", &pool);
    struct informer_handlers th = cluster_enqueue_handlers(&enqueuer, &object_kind_tidbcluster);
    th.on_add(th.data, tc);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "prod/basic");

    /* Node: every cluster with a pod on it (from the pod cache). */
    cache_put(&pods, p2, NULL);
    cache_put(&pods, p3, NULL);
    struct object_meta *n1 = project(&object_kind_node,
                                     "{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"1\"}}", &pool);
    struct object_meta *n2 = project(&object_kind_node,
                                     "{\"metadata\":{\"name\":\"n2\",\"resourceVersion\":\"1\"}}", &pool);
    struct object_meta *n9 = project(&object_kind_node,
                                     "{\"metadata\":{\"name\":\"n9\",\"resourceVersion\":\"1\"}}", &pool);
    struct informer_handlers nh = cluster_enqueue_handlers(&enqueuer, &object_kind_node);
    nh.on_update(nh.data, n1, n1);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/b");
    nh.on_delete(nh.data, n9);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "");
    nh.on_add(nh.data, n2);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/b");

    /* PV without an instance label: through its claim's PVC. */
    struct object_meta *pvc = project(&object_kind_pvc,
                                      "{\"metadata\":{\"name\":\"data-0\",\"namespace\":\"ns\","
                                      "\"resourceVersion\":\"1\",\"labels\":{"
                                      "\"app.kubernetes.io/instance\":\"c\"}}}", &pool);
    cache_put(&pvcs, pvc, NULL);
    struct object_meta *pv = project(&object_kind_pv,
                                     "{\"metadata\":{\"name\":\"pv-1\",\"resourceVersion\":\"1\"},"
                                     "\"spec\":{\"claimRef\":{\"namespace\":\"ns\",\"name\":\"data-0\"}}}",
                                     &pool);
    struct informer_handlers vh = cluster_enqueue_handlers(&enqueuer, &object_kind_pv);
    vh.on_update(vh.data, pv, pv);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/c");

    /* Node: also every cluster with a claim pinned to it (no pod there). */
    struct object_meta *pinned = project(&object_kind_pvc,
                                         "{\"metadata\":{\"name\":\"data-1\",\"namespace\":\"ns\","
                                         "\"resourceVersion\":\"1\",\"labels\":{"
                                         "\"app.kubernetes.io/instance\":\"d\"},\"annotations\":{"
                                         "\"volume.kubernetes.io/selected-node\":\"n9\"}}}", &pool);
    cache_put(&pvcs, pinned, NULL);
    nh.on_update(nh.data, n9, n9);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/d");
    nh.on_update(nh.data, n2, n2);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "ns/b");

    object_free(&object_kind_pod, p1, &pool);
    object_free(&object_kind_pod, p1b, &pool);
    object_free(&object_kind_pod, loose, &pool);
    object_free(&object_kind_tidbcluster, tc, &pool);
    object_free(&object_kind_node, n1, &pool);
    object_free(&object_kind_node, n2, &pool);
    object_free(&object_kind_node, n9, &pool);
    object_free(&object_kind_pv, pv, &pool);
    cache_free(&pods);
    cache_free(&pvcs);
    workqueue_close(queue, NULL, NULL);
    CHECK_INT(string_pool_count(&pool), 0);
    string_pool_free(&pool);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(pod_projection_keeps_what_planners_read),
        TEST_CASE(pending_pod_explains_why),
        TEST_CASE(projection_refuses_uncacheable_objects),
        TEST_CASE(same_ignores_resource_version_only),
        TEST_CASE(other_kinds_project),
        TEST_CASE(parsers),
        TEST_CASE(string_pool_counts_references),
        TEST_CASE(cache_indexes_follow_changes),
        TEST_CASE(compact_pod_is_under_a_kibibyte),
        TEST_CASE(memory_accounting_adds_up),
        TEST_CASE(uid_and_resource_version_round_trip),
        TEST_CASE(string_table_matches_reference_under_churn),
        TEST_CASE(index_buckets_grow_and_shrink),
        TEST_CASE(handlers_enqueue_exactly_the_cluster_keys),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
