/*
 * e2e_selfheal: pods deleted out from under a Ready cluster (what an SRE's
 * `kubectl delete pod`, an eviction or a drain does) come back under their
 * own names, on their own volumes, and PD sees the same members and the
 * same stores again: nothing is recreated beside them, no data is dropped.
 *
 * kubesim deletes pods gracefully, as the API server does: the deleted pod
 * stays Terminating (deletionTimestamp set) until its kubelet stopped it,
 * and the operator must wait for it to go before creating its successor
 * (a same-named create would be refused meanwhile).
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READY_TIMEOUT_MS 120000
#define VICTIM_COUNT 3

struct victim {
    const char *pod;
    char pod_uid[64];
    char claim[128];       /* its PVC, "" when it has none (TiDB) */
    char claim_uid[64];
    char volume[128];      /* the PV the claim is bound to */
    long long store_id;    /* TiKV: its PD store, 0 otherwise */
};

static const char *const pod_path = "/api/v1/namespaces/default/pods/";

static bool copy_text(char *out, size_t size, const char *text)
{
    if (!text) return false;
    snprintf(out, size, "%s", text);
    return true;
}

/* The PD store whose address names the pod (TiKV advertises
 * <pod>.<cluster>-tikv-peer...), or 0. */
static long long store_of(const cJSON *stores, const char *pod, const char **state)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, e2e_jpath(stores, "stores")) {
        const char *address = e2e_jpath_str(entry, "store.address");
        size_t length = strlen(pod);
        if (address && strncmp(address, pod, length) == 0 && address[length] == '.') {
            const cJSON *id = e2e_jpath(entry, "store.id");
            if (state) *state = e2e_jpath_str(entry, "store.state_name");
            return cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
        }
    }
    return 0;
}

static bool remember(struct harness *h, const cJSON *stores, struct victim *victim)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s", pod_path, victim->pod);
    cJSON *pod = e2e_get(h, path, NULL);
    bool ok = pod && copy_text(victim->pod_uid, sizeof victim->pod_uid, e2e_jpath_str(pod, "metadata.uid"));
    const cJSON *volume;
    cJSON_ArrayForEach(volume, e2e_jpath(pod, "spec.volumes")) {
        const char *claim = e2e_jpath_str(volume, "persistentVolumeClaim.claimName");
        if (claim) copy_text(victim->claim, sizeof victim->claim, claim);
    }
    cJSON_Delete(pod);
    if (ok && victim->claim[0]) {
        snprintf(path, sizeof path, "/api/v1/namespaces/default/persistentvolumeclaims/%s", victim->claim);
        cJSON *claim = e2e_get(h, path, NULL);
        ok = claim && copy_text(victim->claim_uid, sizeof victim->claim_uid, e2e_jpath_str(claim, "metadata.uid")) &&
             copy_text(victim->volume, sizeof victim->volume, e2e_jpath_str(claim, "spec.volumeName"));
        cJSON_Delete(claim);
    }
    if (ok && strstr(victim->pod, "-tikv-")) {
        victim->store_id = store_of(stores, victim->pod, NULL);
        ok = victim->store_id > 0;
    }
    return ok;
}

struct successors {
    struct victim *victims;
};

/* Every victim exists again under a new uid, and the cluster is Ready. */
static bool replaced_and_ready(struct harness *h, void *data, char *why, size_t why_size)
{
    struct victim *victims = ((struct successors *)data)->victims;
    for (int i = 0; i < VICTIM_COUNT; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s%s", pod_path, victims[i].pod);
        cJSON *pod = e2e_get(h, path, NULL);
        const char *uid = e2e_jpath_str(pod, "metadata.uid");
        bool replaced = uid && strcmp(uid, victims[i].pod_uid) != 0 && !e2e_jpath(pod, "metadata.deletionTimestamp");
        cJSON_Delete(pod);
        if (!replaced) {
            snprintf(why, why_size, "%s not replaced yet", victims[i].pod);
            return false;
        }
    }
    return e2e_cluster_is_ready(h, &harness_basic_cluster, why, why_size);
}

static void selfheal_body(struct harness *h)
{
    if (!harness_bring_up_basic(h, READY_TIMEOUT_MS)) return;
    char why[512];
    cJSON *stores = harness_proxy_get(h, "http://basic-pd.default:2379/pd/api/v1/stores", NULL);
    REQUIRE(stores != NULL);
    int stores_before = e2e_jpath_count(stores, "stores");
    struct victim victims[VICTIM_COUNT] = {
        { .pod = "basic-pd-0" }, { .pod = "basic-tikv-1" }, { .pod = "basic-tidb-0" },
    };
    for (int i = 0; i < VICTIM_COUNT; i++)
        if (!remember(h, stores, &victims[i]))
            test_fail(__FILE__, __LINE__, "cannot read %s, its volume or its store", victims[i].pod);
    cJSON_Delete(stores);
    REQUIRE(!test_failed());

    for (int i = 0; i < VICTIM_COUNT; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s%s", pod_path, victims[i].pod);
        CHECK_INT(e2e_delete(h, path), 200);
        /* Deleted gracefully: still there, Terminating, until its kubelet stopped it. */
        cJSON *pod = e2e_get(h, path, NULL);
        CHECK(pod != NULL && e2e_jpath(pod, "metadata.deletionTimestamp") != NULL);
        cJSON_Delete(pod);
    }
    int64_t start = harness_now_ms();
    struct successors successors = { victims };
    if (!harness_wait(h, replaced_and_ready, &successors, READY_TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "not healed within %d s: %s", READY_TIMEOUT_MS / 1000, why);
        return;
    }
    printf("  3 pods deleted (PD, TiKV, TiDB); all back and Ready after %.1f s\n",
           (harness_now_ms() - start) / 1000.0);

    /* The same claims on the same volumes: the data was never dropped. */
    stores = harness_proxy_get(h, "http://basic-pd.default:2379/pd/api/v1/stores", NULL);
    REQUIRE(stores != NULL);
    for (int i = 0; i < VICTIM_COUNT; i++) {
        struct victim *victim = &victims[i];
        char path[256];
        snprintf(path, sizeof path, "%s%s", pod_path, victim->pod);
        cJSON *pod = e2e_get(h, path, NULL);
        const char *claim = NULL;
        const cJSON *volume;
        cJSON_ArrayForEach(volume, e2e_jpath(pod, "spec.volumes")) {
            const char *name = e2e_jpath_str(volume, "persistentVolumeClaim.claimName");
            if (name) claim = name;
        }
        if (victim->claim[0]) {
            CHECK(claim && strcmp(claim, victim->claim) == 0);
            snprintf(path, sizeof path, "/api/v1/namespaces/default/persistentvolumeclaims/%s", victim->claim);
            cJSON *now = e2e_get(h, path, NULL);
            CHECK_STR(e2e_jpath_str(now, "metadata.uid"), victim->claim_uid);
            CHECK_STR(e2e_jpath_str(now, "spec.volumeName"), victim->volume);
            CHECK(e2e_jpath(now, "metadata.deletionTimestamp") == NULL);
            cJSON_Delete(now);
        } else {
            CHECK(claim == NULL);
        }
        cJSON_Delete(pod);
        if (victim->store_id > 0) {
            /* The same store, Up again: a new store id would mean TiKV started
             * on an empty disk and PD would have to re-replicate everything. */
            const char *state = NULL;
            CHECK_INT(store_of(stores, victim->pod, &state), victim->store_id);
            CHECK_STR(state, "Up");
        }
    }
    CHECK_INT(e2e_jpath_count(stores, "stores"), stores_before);
    cJSON_Delete(stores);
    cJSON *members = harness_proxy_get(h, "http://basic-pd.default:2379/pd/api/v1/members", NULL);
    CHECK_INT(e2e_jpath_count(members, "members"), 3);
    CHECK(e2e_jpath_str(members, "leader.name") != NULL);
    cJSON_Delete(members);

    /* And it stays that way: no late duplicate from a stale plan. */
    harness_sleep_ms(2000);
    if (!e2e_cluster_is_ready(h, &harness_basic_cluster, why, sizeof why))
        test_fail(__FILE__, __LINE__, "no longer exact 2 s later: %s", why);
}

static void deleted_pods_come_back_on_their_volumes(void) { harness_run(selfheal_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(deleted_pods_come_back_on_their_volumes),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
