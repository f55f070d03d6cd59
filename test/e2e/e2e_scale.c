/*
 * e2e_scale: scaling as a user does it — `kubectl patch tc basic` of the
 * replicas (and PingCAP's delete-slots annotation) — against kubesim and
 * the simulated PD. Each case checks the end state in the cluster (exactly
 * which pods, which claims and what they carry) and in PD (members, leader,
 * Up stores and their ids, tombstones), and at every observation while it
 * waits, the invariants: every region keeps its replicas (PD's
 * cluster/status is_initialized) and PD has a leader.
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 120000
#define TC_PATH "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/basic"
#define PODS_PATH "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dbasic"
#define PVCS_PATH "/api/v1/namespaces/default/persistentvolumeclaims?labelSelector=app.kubernetes.io%2Finstance%3Dbasic"
#define PD_URL "http://basic-pd.default:2379/pd/api/v1"

/* What a scaled cluster must look like. */
struct scaled {
    const char *pods;        /* every member pod name, sorted, comma-joined; all Running and Ready */
    int pd_members;
    int up_stores;
    int violations;          /* invariant breaks seen while waiting */
    int observations;
};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "basic-pd-0,basic-pd-1,..." of the Running+Ready pods (sorted), and
 * whether every pod is Running+Ready. */
static bool pod_names(struct harness *h, char *out, size_t size, bool *all_ready)
{
    cJSON *pods = e2e_list(h, PODS_PATH);
    if (!pods)
        return false;
    const char *names[256];
    size_t count = 0;
    *all_ready = true;
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        if (count < 256)
            names[count++] = e2e_jpath_str(pod, "metadata.name");
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, (cJSON *)pod);
        if (e2e_cluster_count_pods(one, NULL, true) != 1)
            *all_ready = false;
        cJSON_Delete(one);
    }
    qsort(names, count, sizeof names[0], compare_strings);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", names[i] ? names[i] : "?");
    cJSON_Delete(pods);
    return true;
}

/* The invariants at one observation: regions replicated, a PD leader. */
static void check_invariants(struct harness *h, struct scaled *want)
{
    want->observations++;
    int status = 0;
    cJSON *cluster = harness_proxy_get(h, PD_URL "/cluster/status", &status);
    const cJSON *initialized = cJSON_GetObjectItemCaseSensitive(cluster, "is_initialized");
    if (status == 200 && !cJSON_IsTrue(initialized)) {
        if (want->violations++ == 0)
            test_fail(__FILE__, __LINE__, "PD says some region lost a replica (cluster/status is_initialized false)");
    }
    cJSON_Delete(cluster);
    cJSON *members = harness_proxy_get(h, PD_URL "/members", &status);
    if (status == 200 && !e2e_jpath_str(members, "leader.name")) {
        if (want->violations++ == 0)
            test_fail(__FILE__, __LINE__, "PD has no leader during the scale");
    }
    cJSON_Delete(members);
}

static int up_stores(struct harness *h, int *tombstones)
{
    int status = 0, up = 0;
    *tombstones = 0;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores?state=0&state=1&state=2", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        if (state && strcmp(state, "Up") == 0)
            up++;
        if (state && strcmp(state, "Tombstone") == 0)
            (*tombstones)++;
    }
    cJSON_Delete(stores);
    return status == 200 ? up : -1;
}

static bool is_scaled(struct harness *h, void *data, char *why, size_t why_size)
{
    struct scaled *want = data;
    check_invariants(h, want);
    char names[4096];
    bool all_ready = false;
    if (!pod_names(h, names, sizeof names, &all_ready)) {
        snprintf(why, why_size, "the API did not list pods");
        return false;
    }
    if (strcmp(names, want->pods) != 0 || !all_ready) {
        snprintf(why, why_size, "pods %s%s, want %s", names, all_ready ? "" : " (not all Ready)", want->pods);
        return false;
    }
    int status = 0;
    cJSON *members = harness_proxy_get(h, PD_URL "/members", &status);
    int count = e2e_jpath_count(members, "members");
    cJSON_Delete(members);
    if (count != want->pd_members) {
        snprintf(why, why_size, "PD has %d members, want %d", count, want->pd_members);
        return false;
    }
    int tombstones = 0, up = up_stores(h, &tombstones);
    if (up != want->up_stores) {
        snprintf(why, why_size, "PD has %d Up stores, want %d", up, want->up_stores);
        return false;
    }
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    const char *ready = e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "status");
    bool ok = ready && strcmp(ready, "True") == 0;
    snprintf(why, why_size, "Ready is %s: %s", ready ? ready : "absent",
             e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "message") ? e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "message") : "");
    cJSON_Delete(tc);
    return ok;
}

static bool scale_to(struct harness *h, const char *patch, struct scaled *want)
{
    int status = e2e_merge_patch(h, TC_PATH, patch);
    if (status != 200) {
        test_fail(__FILE__, __LINE__, "patch %s: HTTP %d", patch, status);
        return false;
    }
    char why[1024];
    int64_t start = harness_now_ms();
    if (!harness_wait(h, is_scaled, want, TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "after %s: %s", patch, why);
        e2e_print_events(h, "default", 40);
        return false;
    }
    printf("  %s: done after %.1f s (%d observations, regions replicated and a PD leader at each)\n", patch,
           (harness_now_ms() - start) / 1000.0, want->observations);
    return true;
}

/* The store id PD gives member `pod`, 0 when none (Up or Offline only). */
static unsigned long long store_of(struct harness *h, const char *pod)
{
    int status = 0;
    unsigned long long id = 0;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *address = e2e_jpath_str(store, "store.address");
        const cJSON *number = e2e_jpath(store, "store.id");
        if (address && cJSON_IsNumber(number) && strncmp(address, pod, strlen(pod)) == 0 && address[strlen(pod)] == '.')
            id = (unsigned long long)number->valuedouble;
    }
    cJSON_Delete(stores);
    return id;
}

/* The claim's uid and whether it is marked deferred; false when absent. */
static bool claim(struct harness *h, const char *name, char *uid, size_t size, bool *deferred)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/persistentvolumeclaims/%s", name);
    cJSON *pvc = e2e_get(h, path, NULL);
    if (!pvc)
        return false;
    snprintf(uid, size, "%s", e2e_jpath_str(pvc, "metadata.uid") ? e2e_jpath_str(pvc, "metadata.uid") : "");
    const cJSON *annotations = e2e_jpath(pvc, "metadata.annotations");
    *deferred = cJSON_GetObjectItemCaseSensitive(annotations, "tidb.pingcap.com/pvc-defer-deleting") != NULL;
    cJSON_Delete(pvc);
    return true;
}

#define PD3 "basic-pd-0,basic-pd-1,basic-pd-2"
#define TIDB2 "basic-tidb-0,basic-tidb-1"

static void tikv_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    unsigned long long kept[3];
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof pod, "basic-tikv-%d", i);
        kept[i] = store_of(h, pod);
    }
    struct scaled five = { PD3 ",basic-tidb-0,basic-tidb-1,basic-tikv-0,basic-tikv-1,basic-tikv-2,basic-tikv-3,basic-tikv-4",
                           3, 5, 0, 0 };
    REQUIRE(scale_to(h, "{\"spec\":{\"tikv\":{\"replicas\":5}}}", &five));
    struct scaled three = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2", 3, 3, 0, 0 };
    REQUIRE(scale_to(h, "{\"spec\":{\"tikv\":{\"replicas\":3}}}", &three));
    /* The stores that stayed are the same stores; the removed members'
     * claims are kept (Retain) and marked, never reused. */
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof pod, "basic-tikv-%d", i);
        CHECK(store_of(h, pod) == kept[i]);
    }
    for (int i = 3; i < 5; i++) {
        char name[64], uid[64];
        bool deferred = false;
        snprintf(name, sizeof name, "tikv-basic-tikv-%d", i);
        CHECK(claim(h, name, uid, sizeof uid, &deferred));
        CHECK(deferred);
    }

    /* 4 -> 3 naming tikv-1: 0, 2, 3 stay. */
    struct scaled four = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2,basic-tikv-3", 3, 4, 0, 0 };
    char old_uid[64] = "";
    bool deferred = false;
    REQUIRE(claim(h, "tikv-basic-tikv-3", old_uid, sizeof old_uid, &deferred));
    REQUIRE(scale_to(h, "{\"spec\":{\"tikv\":{\"replicas\":4}}}", &four));
    /* basic-tikv-3 came back on a clean disk: a new claim, a new store. */
    char new_uid[64] = "";
    CHECK(claim(h, "tikv-basic-tikv-3", new_uid, sizeof new_uid, &deferred));
    CHECK(!deferred);
    CHECK(strcmp(old_uid, new_uid) != 0);
    struct scaled slotted = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-2,basic-tikv-3", 3, 3, 0, 0 };
    REQUIRE(scale_to(h,
                     "{\"metadata\":{\"annotations\":{\"tikv.tidb.pingcap.com/delete-slots\":\"[1]\"}},"
                     "\"spec\":{\"tikv\":{\"replicas\":3}}}",
                     &slotted));
    CHECK(store_of(h, "basic-tikv-0") == kept[0]);
    CHECK(store_of(h, "basic-tikv-2") == kept[2]);

    /* Below max-replicas: refused, said, nothing touched. */
    char *before = e2e_object_identities(h, PODS_PATH);
    char *claims_before = e2e_object_identities(h, PVCS_PATH);
    REQUIRE(e2e_merge_patch(h, TC_PATH, "{\"spec\":{\"tikv\":{\"replicas\":2}}}") == 200);
    char where[512];
    bool told = false;
    for (int64_t deadline = harness_now_ms() + 30000; !told && harness_now_ms() < deadline; harness_sleep_ms(200))
        told = e2e_tc_mentions(h, "default", "basic", "max-replicas is 3", where, sizeof where);
    CHECK(told);
    printf("  tikv 3 -> 2 refused: %s\n", where);
    char *after = e2e_object_identities(h, PODS_PATH);
    char *claims_after = e2e_object_identities(h, PVCS_PATH);
    CHECK(before && after && strcmp(before, after) == 0);
    CHECK(claims_before && claims_after && strcmp(claims_before, claims_after) == 0);
    int tombstones = 0;
    CHECK_INT(up_stores(h, &tombstones), 3);
    free(before);
    free(after);
    free(claims_before);
    free(claims_after);
}

static void pd_and_tidb_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    struct scaled pd5 = { "basic-pd-0,basic-pd-1,basic-pd-2,basic-pd-3,basic-pd-4," TIDB2
                          ",basic-tikv-0,basic-tikv-1,basic-tikv-2",
                          5, 3, 0, 0 };
    REQUIRE(scale_to(h, "{\"spec\":{\"pd\":{\"replicas\":5}}}", &pd5));
    /* Back to 3, naming the leader: leadership moves first. */
    int status = 0;
    cJSON *members = harness_proxy_get(h, PD_URL "/members", &status);
    const char *leader = e2e_jpath_str(members, "leader.name");
    REQUIRE(leader && strncmp(leader, "basic-pd-", 9) == 0);
    int ordinal = atoi(leader + 9);
    printf("  PD leader before: %s\n", leader);
    cJSON_Delete(members);
    char patch[256], pods[512] = "";
    snprintf(patch, sizeof patch,
             "{\"metadata\":{\"annotations\":{\"pd.tidb.pingcap.com/delete-slots\":\"[%d]\"}},"
             "\"spec\":{\"pd\":{\"replicas\":4}}}",
             ordinal);
    for (int i = 0; i < 5; i++)
        if (i != ordinal)
            snprintf(pods + strlen(pods), sizeof pods - strlen(pods), "basic-pd-%d,", i);
    snprintf(pods + strlen(pods), sizeof pods - strlen(pods), "%s", TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2");
    struct scaled pd4 = { pods, 4, 3, 0, 0 };
    REQUIRE(scale_to(h, patch, &pd4));
    members = harness_proxy_get(h, PD_URL "/members", &status);
    const char *now = e2e_jpath_str(members, "leader.name");
    CHECK(now && strcmp(now, leader) != 0);
    printf("  PD leader after: %s\n", now ? now : "(none)");
    cJSON_Delete(members);

    struct scaled tidb4 = { NULL, 4, 3, 0, 0 };
    char with_tidb[512];
    snprintf(with_tidb, sizeof with_tidb, "%s", pods);
    char *cut = strstr(with_tidb, "basic-tidb-0");
    REQUIRE(cut);
    snprintf(cut, sizeof with_tidb - (size_t)(cut - with_tidb), "%s",
             "basic-tidb-0,basic-tidb-1,basic-tidb-2,basic-tidb-3,basic-tikv-0,basic-tikv-1,basic-tikv-2");
    tidb4.pods = with_tidb;
    REQUIRE(scale_to(h, "{\"spec\":{\"tidb\":{\"replicas\":4}}}", &tidb4));
    struct scaled tidb1 = { NULL, 4, 3, 0, 0 };
    char one[512];
    snprintf(one, sizeof one, "%s", pods);
    cut = strstr(one, "basic-tidb-0");
    REQUIRE(cut);
    snprintf(cut, sizeof one - (size_t)(cut - one), "%s", "basic-tidb-0,basic-tikv-0,basic-tikv-1,basic-tikv-2");
    tidb1.pods = one;
    REQUIRE(scale_to(h, "{\"spec\":{\"tidb\":{\"replicas\":1}}}", &tidb1));
}

/* A harness_predicate: some store of ours is Offline (a scale-in runs). */
static bool store_offline(struct harness *h, void *data, char *why, size_t why_size)
{
    (void)data;
    int status = 0;
    bool offline = false;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        offline = offline || (state && strcmp(state, "Offline") == 0);
    }
    cJSON_Delete(stores);
    snprintf(why, why_size, "no store is Offline");
    return offline;
}

static void killed_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    struct scaled four = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2,basic-tikv-3", 3, 4, 0, 0 };
    REQUIRE(scale_to(h, "{\"spec\":{\"tikv\":{\"replicas\":4}}}", &four));
    char uid[64] = "";
    bool deferred = false;
    REQUIRE(claim(h, "tikv-basic-tikv-3", uid, sizeof uid, &deferred));
    REQUIRE(e2e_merge_patch(h, TC_PATH, "{\"spec\":{\"tikv\":{\"replicas\":3}}}") == 200);
    char why[512];
    REQUIRE(harness_wait(h, store_offline, NULL, TIMEOUT_MS, 50, why, sizeof why));
    /* kill -9 while PD moves the store's regions, then start it again. */
    harness_operator_kill(&h->operators[0]);
    printf("  operator killed while basic-tikv-3's store is Offline\n");
    char again[64] = "";
    CHECK(claim(h, "tikv-basic-tikv-3", again, sizeof again, &deferred)); /* nothing deleted early */
    CHECK(strcmp(uid, again) == 0 && !deferred);
    REQUIRE(harness_operator_restart(h, &h->operators[0]));
    struct scaled three = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2", 3, 3, 0, 0 };
    char out[1024];
    REQUIRE(harness_wait(h, is_scaled, &three, TIMEOUT_MS, 200, out, sizeof out));
    /* The claim survived the kill and the scale-in: the same claim, marked. */
    CHECK(claim(h, "tikv-basic-tikv-3", again, sizeof again, &deferred));
    CHECK(strcmp(uid, again) == 0);
    CHECK(deferred);
    printf("  resumed after the restart: 3 TiKV, claim tikv-basic-tikv-3 kept (same uid) and marked\n");
}

struct region_wait {
    unsigned long long store;
    int want, seen;
};

static bool store_has_regions(struct harness *h, void *data, char *why, size_t why_size)
{
    struct region_wait *wait = data;
    char url[160];
    snprintf(url, sizeof url, PD_URL "/store/%llu", wait->store);
    int status = 0;
    cJSON *store = harness_proxy_get(h, url, &status);
    const cJSON *count = e2e_jpath(store, "status.region_count");
    wait->seen = cJSON_IsNumber(count) ? (int)count->valuedouble : -1;
    cJSON_Delete(store);
    snprintf(why, why_size, "store %llu has %d regions, want %d", wait->store, wait->seen, wait->want);
    return wait->seen >= wait->want;
}

/* Raising replicas while the store is Offline cancels the scale-in: the
 * store is set back Up, and the pod and its claim are the same ones. */
static void cancel_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    struct scaled four = { PD3 "," TIDB2 ",basic-tikv-0,basic-tikv-1,basic-tikv-2,basic-tikv-3", 3, 4, 0, 0 };
    REQUIRE(scale_to(h, "{\"spec\":{\"tikv\":{\"replicas\":4}}}", &four));
    unsigned long long store = store_of(h, "basic-tikv-3");
    /* Let PD balance regions onto the new store first, so that moving them
     * away again takes seconds (at 2 regions per simulated second). */
    struct region_wait regions = { store, 15, 0 };
    char why_regions[256];
    REQUIRE(harness_wait(h, store_has_regions, &regions, TIMEOUT_MS, 200, why_regions, sizeof why_regions));
    char *pods_before = e2e_object_identities(h, PODS_PATH);
    char uid[64] = "";
    bool deferred = false;
    REQUIRE(claim(h, "tikv-basic-tikv-3", uid, sizeof uid, &deferred));
    REQUIRE(e2e_merge_patch(h, TC_PATH, "{\"spec\":{\"tikv\":{\"replicas\":3}}}") == 200);
    char why[512];
    REQUIRE(harness_wait(h, store_offline, NULL, TIMEOUT_MS, 50, why, sizeof why));
    /* The Scaling condition says what the scale-in waits for. */
    char where[512];
    bool told = false;
    for (int64_t deadline = harness_now_ms() + TIMEOUT_MS; !told && harness_now_ms() < deadline; harness_sleep_ms(50))
        told = e2e_tc_mentions(h, "default", "basic", "to become Tombstone:", where, sizeof where);
    CHECK(told);
    printf("  %s\n", where);
    REQUIRE(e2e_merge_patch(h, TC_PATH, "{\"spec\":{\"tikv\":{\"replicas\":4}}}") == 200);
    printf("  replicas back to 4 while store %llu (basic-tikv-3) is Offline\n", store);
    struct scaled back = four;
    back.observations = back.violations = 0;
    char out[1024];
    if (!harness_wait(h, is_scaled, &back, TIMEOUT_MS, 200, out, sizeof out)) {
        test_fail(__FILE__, __LINE__, "not cancelled: %s", out);
        e2e_print_events(h, "default", 40);
    }
    /* The same store, Up; the same pods; the same claim, not marked. */
    CHECK(store_of(h, "basic-tikv-3") == store);
    char *pods_after = e2e_object_identities(h, PODS_PATH);
    CHECK(pods_before && pods_after && strcmp(pods_before, pods_after) == 0);
    char again[64] = "";
    CHECK(claim(h, "tikv-basic-tikv-3", again, sizeof again, &deferred));
    CHECK(strcmp(uid, again) == 0 && !deferred);
    int tombstones = 0;
    CHECK_INT(up_stores(h, &tombstones), 4);
    CHECK_INT(tombstones, 0);
    printf("  cancelled: store %llu Up again, the same pods and claim (%d observations)\n", store, back.observations);
    free(pods_before);
    free(pods_after);
}

static void tikv_scales_out_and_in_keeping_data(void) { harness_run(tikv_body, NULL); }

/* At speed 2 the store stays Offline for seconds of real time (PD moves
 * its regions at 2 per simulated second): room to change one's mind. */
static void scale_in_cancelled_while_offline(void)
{
    struct sim_options options = { .speed = 2 };
    harness_run(cancel_body, &options);
}
static void scale_in_survives_kill(void) { harness_run(killed_body, NULL); }
static void pd_leader_leaves_last_and_tidb_scales(void) { harness_run(pd_and_tidb_body, NULL); }

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(tikv_scales_out_and_in_keeping_data),
        TEST_CASE(pd_leader_leaves_last_and_tidb_scales),
        TEST_CASE(scale_in_survives_kill),
        TEST_CASE(scale_in_cancelled_while_offline),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
