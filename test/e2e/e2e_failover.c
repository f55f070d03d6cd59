/*
 * e2e_failover: a node lost for good, as it happens to users — the machine
 * under basic-tikv-0 dies (kubesim's node failure: its kubelet and TiKV stop
 * at once) and the Node object is deleted (the cloud removed the machine) —
 * and the operator replaces the member without waiting PD's 30-minute
 * max-store-down-time.
 *
 * Checked: the time from the node's deletion to the replacement pod's
 * creation and to its store being Up (printed; goal ≤ 60 s simulated); the
 * end state — three Up stores (the two that stayed, with their ids, and the
 * replacement's), the dead store Tombstone or forgotten, the dead member's
 * pod and claim gone, no failure record left, Ready — and at every
 * observation: every region replicated (PD's is_initialized), PD has a
 * leader, never more than one TiKV store not Up.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 180000
#define TC_PATH "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/basic"
#define PD_URL "http://basic-pd.default:2379/pd/api/v1"

struct watch {
    int observations, violations;
    int64_t replacement_created_ms, replacement_up_ms;
    unsigned long long dead_store;
};

/* The id of the store whose address starts with `pod` and its state. */
static unsigned long long store_of(struct harness *h, const char *pod, char *state, size_t size)
{
    int status = 0;
    unsigned long long id = 0;
    if (state)
        state[0] = '\0';
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores?state=0&state=1&state=2", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *address = e2e_jpath_str(store, "store.address");
        const cJSON *number = e2e_jpath(store, "store.id");
        const char *name = e2e_jpath_str(store, "store.state_name");
        if (address && cJSON_IsNumber(number) && strncmp(address, pod, strlen(pod)) == 0 &&
            address[strlen(pod)] == '.') {
            id = (unsigned long long)number->valuedouble;
            if (state)
                snprintf(state, size, "%s", name ? name : "");
            if (name && strcmp(name, "Tombstone") != 0)
                break; /* a live store wins over an old tombstone */
        }
    }
    cJSON_Delete(stores);
    return id;
}

static void check_invariants(struct harness *h, struct watch *w)
{
    w->observations++;
    int status = 0;
    cJSON *cluster = harness_proxy_get(h, PD_URL "/cluster/status", &status);
    if (status == 200 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cluster, "is_initialized")) &&
        w->violations++ == 0)
        test_fail(__FILE__, __LINE__, "PD says a region lost a replica");
    cJSON_Delete(cluster);
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    int not_up = 0;
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        not_up += state && strcmp(state, "Up") != 0 && strcmp(state, "Tombstone") != 0;
    }
    cJSON_Delete(stores);
    if (not_up > 1 && w->violations++ == 0)
        test_fail(__FILE__, __LINE__, "%d TiKV stores not Up at once", not_up);
}

static bool replaced(struct harness *h, void *data, char *why, size_t why_size)
{
    struct watch *w = data;
    check_invariants(h, w);
    cJSON *pod = e2e_get(h, "/api/v1/namespaces/default/pods/basic-tikv-3", NULL);
    if (pod && !w->replacement_created_ms)
        w->replacement_created_ms = harness_now_ms();
    cJSON_Delete(pod);
    char state[32];
    store_of(h, "basic-tikv-3", state, sizeof state);
    if (strcmp(state, "Up") == 0 && !w->replacement_up_ms)
        w->replacement_up_ms = harness_now_ms();
    snprintf(why, why_size, "replacement pod %s, its store %s", w->replacement_created_ms ? "created" : "absent",
             state[0] ? state : "absent");
    return w->replacement_up_ms != 0;
}

/* The end state: the dead member gone, 3 Up stores, no record, Ready. */
static bool settled(struct harness *h, void *data, char *why, size_t why_size)
{
    struct watch *w = data;
    check_invariants(h, w);
    cJSON *pod = e2e_get(h, "/api/v1/namespaces/default/pods/basic-tikv-0", NULL);
    cJSON *pvc = e2e_get(h, "/api/v1/namespaces/default/persistentvolumeclaims/tikv-basic-tikv-0", NULL);
    bool member_gone = !pod && !pvc;
    cJSON_Delete(pod);
    cJSON_Delete(pvc);
    int status = 0, up = 0;
    bool dead_alive = false;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        const cJSON *id = e2e_jpath(store, "store.id");
        up += state && strcmp(state, "Up") == 0;
        if (cJSON_IsNumber(id) && (unsigned long long)id->valuedouble == w->dead_store && state &&
            strcmp(state, "Tombstone") != 0)
            dead_alive = true;
    }
    cJSON_Delete(stores);
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    const char *ready = e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "status");
    bool is_ready = ready && strcmp(ready, "True") == 0;
    int records = e2e_jpath_count(tc, "status.tikv.failureStores");
    snprintf(why, why_size, "dead member %s, %d Up stores, dead store %s, %d failure records, Ready %s",
             member_gone ? "gone" : "still there", up, dead_alive ? "still in PD" : "gone", records,
             ready ? ready : "-");
    cJSON_Delete(tc);
    return member_gone && up == 3 && !dead_alive && records == 0 && is_ready;
}

/* The cluster's last Events and its conditions, for a failure's story. */
static void print_story(struct harness *h)
{
    e2e_print_events(h, "default", 30);
    char *pods = e2e_object_identities(h, "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dbasic");
    printf("  pods: %s\n", pods ? pods : "?");
    free(pods);
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    char *tidb = tc ? cJSON_PrintUnformatted(e2e_jpath(tc, "status.tidb")) : NULL;
    printf("  status.tidb: %s\n", tidb ? tidb : "?");
    free(tidb);
    char *status = tc ? cJSON_PrintUnformatted(e2e_jpath(tc, "status.conditions")) : NULL;
    printf("  conditions: %s\n", status ? status : "?");
    free(status);
    cJSON_Delete(tc);
}

/* The basic example with failover on for `component` (PingCAP's example
 * turns it off) at `max_failover`, TiKV on `tikv_class` when not NULL,
 * Ready under an operator started with `options`; the node of `victim`
 * into `node`. False (a failure recorded) otherwise. */
static bool bring_up(struct harness *h, const struct operator_options *options, const char *component,
                     int max_failover, const char *tikv_class, const char *victim, char *node, size_t size)
{
    if (!harness_apply_file(h, "manifests/crd/pingcap.com_tidbclusters.yaml", NULL) ||
        !harness_operator_start(h, options)) {
        test_fail(__FILE__, __LINE__, "cannot start the operator");
        return false;
    }
    cJSON *tc = e2e_basic_cluster_object();
    char path[64];
    snprintf(path, sizeof path, "spec.%s", component);
    cJSON *part = tc ? (cJSON *)e2e_jpath(tc, path) : NULL;
    cJSON *tikv = tc ? (cJSON *)e2e_jpath(tc, "spec.tikv") : NULL;
    if (!part || !tikv) {
        cJSON_Delete(tc);
        test_fail(__FILE__, __LINE__, "the example has no spec.%s", component);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(part, "maxFailoverCount");
    cJSON_AddNumberToObject(part, "maxFailoverCount", max_failover);
    if (tikv_class)
        cJSON_AddStringToObject(tikv, "storageClassName", tikv_class);
    char *response = NULL;
    int status = e2e_create_cluster(h, tc, "default", "basic", &response);
    free(response);
    cJSON_Delete(tc);
    char why[512];
    if (status != 201 || !harness_wait_ready(h, &harness_basic_cluster, TIMEOUT_MS, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not Ready (create: HTTP %d): %s", status, status == 201 ? why : "");
        return false;
    }
    char pod_path[128];
    snprintf(pod_path, sizeof pod_path, "/api/v1/namespaces/default/pods/%s", victim);
    cJSON *pod = e2e_get(h, pod_path, NULL);
    snprintf(node, size, "%s", e2e_jpath_str(pod, "spec.nodeName") ? e2e_jpath_str(pod, "spec.nodeName") : "");
    cJSON_Delete(pod);
    if (!node[0])
        test_fail(__FILE__, __LINE__, "%s has no node", victim);
    return node[0] != '\0';
}

static void lost_node_body(struct harness *h)
{
    /* TiKV on local volumes (a PV per node disk, with node affinity: the
     * data is where the node is). */
    char node[128], why[512];
    REQUIRE(bring_up(h, NULL, "tikv", 3, "local-storage", "basic-tikv-0", node, sizeof node));
    struct watch w = { 0 };
    unsigned long long kept[3];
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof pod, "basic-tikv-%d", i);
        kept[i] = store_of(h, pod, NULL, 0);
    }
    w.dead_store = kept[0];
    char path[256];
    snprintf(path, sizeof path, "/world/nodes/%s/fail", node);
    REQUIRE(harness_admin_post(h, path, NULL, NULL) == 200);
    snprintf(path, sizeof path, "/world/nodes/%s", node);
    REQUIRE(harness_admin_delete(h, path) == 200);
    int64_t gone_at = harness_now_ms();
    printf("  node %s (basic-tikv-0, store %llu, local volume) failed and deleted\n", node, w.dead_store);
    if (!harness_wait(h, replaced, &w, TIMEOUT_MS, 100, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "no replacement: %s", why);
        print_story(h);
        return;
    }
    double created = (w.replacement_created_ms - gone_at) / 1000.0 * h->speed;
    double up = (w.replacement_up_ms - gone_at) / 1000.0 * h->speed;
    printf("  node gone -> replacement basic-tikv-3 created after %.0f s simulated, its store Up after %.0f s "
           "(goal: started within 60 s)\n",
           created, up);
    CHECK(created <= 60);
    if (!harness_wait(h, settled, &w, TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not settled: %s", why);
        print_story(h);
    }
    else
        printf("  settled after %.0f s simulated: %s; %d observations, every region replicated at each\n",
               (harness_now_ms() - gone_at) / 1000.0 * h->speed, why, w.observations);
    /* The stores that stayed are the same stores. */
    CHECK(store_of(h, "basic-tikv-1", NULL, 0) == kept[1]);
    CHECK(store_of(h, "basic-tikv-2", NULL, 0) == kept[2]);
}

/* TiDB pods and their replacement, by name, sorted: "basic-tidb-0,basic-tidb-1". */
static void tidb_pods(struct harness *h, char *out, size_t size, int *ready)
{
    cJSON *pods = e2e_list(h, "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dbasic"
                              "%2Capp.kubernetes.io%2Fcomponent%3Dtidb");
    out[0] = '\0';
    *ready = pods ? e2e_cluster_count_pods(pods, "tidb", true) : 0;
    const char *names[16];
    size_t count = 0;
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        if (count < 16 && !e2e_jpath(pod, "metadata.deletionTimestamp"))
            names[count++] = e2e_jpath_str(pod, "metadata.name");
    }
    for (size_t i = 0; i < count; i++) /* a few names: insertion sort */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    for (size_t i = 0; i < count; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", names[i]);
    cJSON_Delete(pods);
}

struct tidb_wait {
    const char *pods;   /* the names wanted */
    int ready;          /* of them ready at least */
    int records;        /* status.tidb.failureMembers entries wanted; -1: any */
};

static bool tidb_state(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct tidb_wait *want = data;
    char names[256];
    int ready = 0;
    tidb_pods(h, names, sizeof names, &ready);
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    int records = e2e_jpath_count(tc, "status.tidb.failureMembers");
    cJSON_Delete(tc);
    snprintf(why, why_size, "TiDB pods %s (%d ready), %d failure records", names, ready, records);
    return strcmp(names, want->pods) == 0 && ready >= want->ready && (want->records < 0 || records == want->records);
}

/* A TiDB pod whose node stays away past the failover period is replaced
 * beside it; the node back, the pod is forgiven and the replacement goes:
 * failover never leaves the cluster larger than asked. */
static void tidb_body(struct harness *h)
{
    struct operator_options options = { .extra = { "--tidb-failover-period=10s" } };
    char node[128], why[512];
    REQUIRE(bring_up(h, &options, "tidb", 1, NULL, "basic-tidb-1", node, sizeof node));
    char path[256];
    snprintf(path, sizeof path, "/world/nodes/%s/fail", node);
    REQUIRE(harness_admin_post(h, path, NULL, NULL) == 200);
    int64_t failed_at = harness_now_ms();
    /* maxFailoverCount 1: one replacement, however many TiDB pods the node took. */
    struct tidb_wait replaced = { "basic-tidb-0,basic-tidb-1,basic-tidb-2", 1, 1 };
    if (!harness_wait(h, tidb_state, &replaced, TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "no TiDB replacement: %s", why);
        print_story(h);
        return;
    }
    printf("  node %s failed: %.0f s simulated later %s\n", node, (harness_now_ms() - failed_at) / 1000.0 * h->speed,
           why);
    snprintf(path, sizeof path, "/world/nodes/%s/recover", node);
    REQUIRE(harness_admin_post(h, path, NULL, NULL) == 200);
    struct tidb_wait back = { "basic-tidb-0,basic-tidb-1", 2, 0 };
    if (!harness_wait(h, tidb_state, &back, TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "the replacement stayed: %s", why);
        print_story(h);
        return;
    }
    printf("  node back: %s (the replacement left by scale-in)\n", why);
}

static void tikv_node_lost_for_good_is_replaced(void) { harness_run(lost_node_body, NULL); }
/* The failover period is measured against the pods' own timestamps, which
 * kubesim writes in simulated time: this case runs the world at real time
 * (speed 1), with a node grace period of 4 s so that it stays short. */
static void tidb_replaced_then_forgiven(void)
{
    char config[600];
    struct sim_options options = { .speed = 1 };
    if (!e2e_world_config("{\"nodeGraceMs\": 4000, \"heartbeatMs\": 1000}", &options, config, sizeof config))
        return;
    harness_run(tidb_body, &options);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(tikv_node_lost_for_good_is_replaced),
        TEST_CASE(tidb_replaced_then_forgiven),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
