/*
 * e2e_node_failure: the node under a TiKV pod of a Ready cluster fails (its
 * kubelet stops, the node goes NotReady, the TiKV stops heartbeating PD).
 * The operator must say so where the user looks, and touch nothing:
 *   - the TidbCluster turns Ready=False with a reason and a message that
 *     name the problem (a store not Up, or pods not ready);
 *   - no pod, claim or volume is deleted or recreated while the node is
 *     away (failover is not this operator's yet; deleting a store's pod or
 *     claim early would lose data);
 * and when the node recovers, the same pods and the same PD stores are
 * Ready and Up again, with the exact end state of a Ready cluster.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 120000
#define NOTICE_TIMEOUT_MS 60000

/* The PD store whose address names `pod`: its state name ("" when none). */
static void store_state(struct harness *h, const char *pod, char *out, size_t size, long long *id)
{
    out[0] = '\0';
    cJSON *stores = harness_proxy_get(h, "http://basic-pd.default:2379/pd/api/v1/stores", NULL);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, e2e_jpath(stores, "stores")) {
        const char *address = e2e_jpath_str(entry, "store.address");
        if (address && strncmp(address, pod, strlen(pod)) == 0 && address[strlen(pod)] == '.') {
            snprintf(out, size, "%s", e2e_jpath_str(entry, "store.state_name") ? e2e_jpath_str(entry, "store.state_name") : "");
            const cJSON *number = e2e_jpath(entry, "store.id");
            if (id) *id = cJSON_IsNumber(number) ? (long long)number->valuedouble : 0;
        }
    }
    cJSON_Delete(stores);
}

static bool store_not_up(struct harness *h, void *data, char *why, size_t why_size)
{
    char state[32];
    store_state(h, data, state, sizeof state, NULL);
    snprintf(why, why_size, "store of %s is %s", (const char *)data, state[0] ? state : "(absent)");
    return state[0] && strcmp(state, "Up") != 0;
}

/* A Ready basic cluster, then the node under basic-tikv-0 fails: that
 * node, the pod's PD store and the pods and claims before the failure.
 * False (a failure recorded) when something cannot be read or done. */
struct failed_node {
    char name[128];
    long long store_id;
    struct e2e_identities before;
    int64_t failed_at;
};

static bool node_action(struct harness *h, const char *node, const char *action)
{
    char path[256];
    snprintf(path, sizeof path, "/world/nodes/%s/%s", node, action);
    if (harness_admin_post(h, path, NULL, NULL) == 200) return true;
    test_fail(__FILE__, __LINE__, "POST %s refused", path);
    return false;
}

static bool fail_tikv_node(struct harness *h, struct failed_node *out)
{
    *out = (struct failed_node){ 0 };
    if (!harness_bring_up_basic(h, READY_TIMEOUT_MS)) return false;
    cJSON *victim = e2e_get(h, "/api/v1/namespaces/default/pods/basic-tikv-0", NULL);
    const char *node = e2e_jpath_str(victim, "spec.nodeName");
    snprintf(out->name, sizeof out->name, "%s", node ? node : "");
    cJSON_Delete(victim);
    char state[32];
    store_state(h, "basic-tikv-0", state, sizeof state, &out->store_id);
    if (!out->name[0] || out->store_id <= 0) {
        test_fail(__FILE__, __LINE__, "basic-tikv-0 has no node (%s) or no store", out->name);
        return false;
    }
    if (!e2e_identities_read(h, &out->before) || !node_action(h, out->name, "fail")) {
        e2e_identities_free(&out->before);
        return false;
    }
    out->failed_at = harness_now_ms();
    return true;
}

static void node_failure_body(struct harness *h)
{
    struct failed_node failed;
    if (!fail_tikv_node(h, &failed)) return;
    const char *node = failed.name;
    char why[512], state[32];
    long long store_after = 0;
    struct e2e_not_ready seen;
    if (!harness_wait(h, e2e_cluster_not_ready, &seen, NOTICE_TIMEOUT_MS, 200, why, sizeof why))
        test_fail(__FILE__, __LINE__, "node %s failed, the cluster still says: %s", node, why);
    else
        printf("  node %s failed; %.1f s later the cluster says Ready=False %s: %s\n", node,
               (harness_now_ms() - failed.failed_at) / 1000.0, seen.reason, seen.message);
    CHECK(strcmp(seen.reason, "PDNotReady") == 0 || strcmp(seen.reason, "TiKVStoreNotUp") == 0 ||
          strcmp(seen.reason, "TiDBNotReady") == 0);
    /* The message points at the trouble: the node, or the store's pod. */
    CHECK(strstr(seen.message, node) != NULL || strstr(seen.message, "basic-tikv-0") != NULL);
    /* And a Warning Event says so (what alerting watches). */
    cJSON *events = e2e_list(h, "/api/v1/namespaces/default/events");
    bool warned = false;
    const cJSON *event;
    cJSON_ArrayForEach(event, events) {
        const char *type = e2e_jpath_str(event, "type"), *object = e2e_jpath_str(event, "involvedObject.name");
        const char *message = e2e_jpath_str(event, "message");
        if (type && strcmp(type, "Warning") == 0 && object && strcmp(object, "basic") == 0 && message &&
            strncmp(message, "cluster is not ready: ", 22) == 0)
            warned = true;
    }
    cJSON_Delete(events);
    CHECK(warned);
    if (!harness_wait(h, store_not_up, "basic-tikv-0", NOTICE_TIMEOUT_MS, 200, why, sizeof why))
        test_fail(__FILE__, __LINE__, "PD never lost the store: %s", why);

    /* While the node is away, a few more seconds: nothing touched. */
    harness_sleep_ms(2000);
    e2e_identities_check_same(h, &failed.before, __FILE__, __LINE__);

    if (!node_action(h, node, "recover")) {
        e2e_identities_free(&failed.before);
        return;
    }
    int64_t recovered_at = harness_now_ms();
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not Ready after the node came back: %s", why);
    } else {
        printf("  node back; Ready again after %.1f s\n", (harness_now_ms() - recovered_at) / 1000.0);
    }
    /* The same pods, claims and store: healed in place. */
    e2e_identities_check_same(h, &failed.before, __FILE__, __LINE__);
    store_state(h, "basic-tikv-0", state, sizeof state, &store_after);
    CHECK_INT(store_after, failed.store_id);
    CHECK_STR(state, "Up");
    e2e_identities_free(&failed.before);
}

struct evicted {
    const char *pod;
    char uid[64];
};

/* The pod has a deletionTimestamp (evicted) and is still there. */
static bool pod_terminating(struct harness *h, void *data, char *why, size_t why_size)
{
    struct evicted *evicted = data;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", evicted->pod);
    cJSON *pod = e2e_get(h, path, NULL);
    bool terminating = pod && e2e_jpath(pod, "metadata.deletionTimestamp") != NULL;
    snprintf(evicted->uid, sizeof evicted->uid, "%s", e2e_jpath_str(pod, "metadata.uid") ? e2e_jpath_str(pod, "metadata.uid") : "");
    snprintf(why, why_size, "%s %s", evicted->pod, pod ? (terminating ? "terminating" : "not evicted yet") : "gone");
    cJSON_Delete(pod);
    return terminating;
}

/*
 * A node that stays away past the unreachable taint's toleration (300 s in
 * Kubernetes; 5 s here): its pods are evicted, i.e. deleted gracefully, and
 * stay Terminating because no kubelet confirms they stopped. Their volumes
 * may still be attached there, so the operator must wait: no replacement,
 * no force delete, no claim touched. When the node is back its kubelet
 * stops them, they go, and the operator recreates them on the same claims;
 * PD sees the same store again.
 */
static void eviction_body(struct harness *h)
{
    struct failed_node failed;
    if (!fail_tikv_node(h, &failed)) return;
    const char *node = failed.name;
    char why[512], state[32];
    long long store_after = 0;
    struct evicted evicted = { .pod = "basic-tikv-0" };
    if (!harness_wait(h, pod_terminating, &evicted, NOTICE_TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not evicted: %s", why);
        e2e_identities_free(&failed.before);
        return;
    }
    /* The node grace (40 s) plus the toleration (5 s), at speed 10. */
    printf("  node %s away past the toleration: basic-tikv-0 Terminating after %.1f s\n", node,
           (harness_now_ms() - failed.failed_at) / 1000.0);
    /* Waiting, not replacing: the Terminating pod is the same one, claims untouched. */
    harness_sleep_ms(3000);
    struct evicted still = { .pod = "basic-tikv-0" };
    CHECK(pod_terminating(h, &still, why, sizeof why));
    CHECK_STR(still.uid, evicted.uid);
    struct e2e_identities during = { 0 };
    if (e2e_identities_read(h, &during)) CHECK_STR(during.claims, failed.before.claims);
    e2e_identities_free(&during);

    if (!node_action(h, node, "recover")) {
        e2e_identities_free(&failed.before);
        return;
    }
    int64_t recovered_at = harness_now_ms();
    if (!harness_wait_ready(h, &harness_basic_cluster, READY_TIMEOUT_MS, why, sizeof why))
        test_fail(__FILE__, __LINE__, "not Ready after the node came back: %s", why);
    else
        printf("  node back; evicted pods replaced and Ready after %.1f s\n",
               (harness_now_ms() - recovered_at) / 1000.0);
    struct e2e_identities after = { 0 };
    if (e2e_identities_read(h, &after)) CHECK_STR(after.claims, failed.before.claims);
    e2e_identities_free(&after);
    cJSON *pod = e2e_get(h, "/api/v1/namespaces/default/pods/basic-tikv-0", NULL);
    const char *uid = e2e_jpath_str(pod, "metadata.uid");
    CHECK(uid && strcmp(uid, evicted.uid) != 0);
    cJSON_Delete(pod);
    store_state(h, "basic-tikv-0", state, sizeof state, &store_after);
    CHECK_INT(store_after, failed.store_id);
    CHECK_STR(state, "Up");
    e2e_identities_free(&failed.before);
}

static void failed_node_is_reported_and_nothing_is_lost(void) { harness_run(node_failure_body, NULL); }

static void evicted_pods_wait_for_their_node(void)
{
    char config[600];
    struct sim_options options = { 0 };
    if (e2e_world_config("{\"taintEvictionMs\": 5000}", &options, config, sizeof config))
        harness_run(eviction_body, &options);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(failed_node_is_reported_and_nothing_is_lost),
        TEST_CASE(evicted_pods_wait_for_their_node),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
