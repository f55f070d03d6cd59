/*
 * e2e_upgrade: rolling upgrades as a user starts them — `kubectl patch tc
 * basic` of spec.version, a component's config, spec.paused — against
 * kubesim and the simulated PD.
 *
 * Each case checks the end state in the cluster and in PD (every pod on the
 * wanted image, the same claims and store ids, no evict-leader scheduler
 * left, a PD leader, the Upgrading condition over) and, at every
 * observation while it waits, the invariants of a safe roll: PD has a
 * leader, at most one TiKV store is not Up, and every region keeps its
 * replicas (PD's cluster/status is_initialized).
 */
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 180000
#define TC_PATH "/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/basic"
#define PODS_PATH "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dbasic"
#define PVCS_PATH "/api/v1/namespaces/default/persistentvolumeclaims?labelSelector=app.kubernetes.io%2Finstance%3Dbasic"
#define PD_URL "http://basic-pd.default:2379/pd/api/v1"
#define OLD_VERSION "v8.5.7"
#define NEW_VERSION "v8.5.8"

struct roll {
    /* What every member's image must end with, per component ("" skips). */
    const char *pd_image, *tikv_image, *tidb_image;
    int observations;
    int violations;
    int most_stores_not_up;  /* the largest count of TiKV stores not Up seen */
    int evict_schedulers_seen;
};

/* "Up" count and not-Up count of PD's stores (Tombstones aside). */
static bool store_states(struct harness *h, int *up, int *not_up)
{
    int status = 0;
    *up = *not_up = 0;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    const cJSON *store;
    cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
        const char *state = e2e_jpath_str(store, "store.state_name");
        if (state && strcmp(state, "Up") == 0)
            (*up)++;
        else if (!state || strcmp(state, "Tombstone") != 0)
            (*not_up)++;
    }
    cJSON_Delete(stores);
    return status == 200;
}

/* The evict-leader schedulers PD lists. */
static int evict_schedulers(struct harness *h)
{
    int status = 0, count = 0;
    cJSON *list = harness_proxy_get(h, PD_URL "/schedulers", &status);
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (cJSON_IsString(item) && strncmp(item->valuestring, "evict-leader-scheduler", 22) == 0)
            count++;
    }
    cJSON_Delete(list);
    return status == 200 ? count : -1;
}

static void violation(struct roll *roll, const char *what)
{
    if (roll->violations++ == 0)
        test_fail(__FILE__, __LINE__, "during the roll: %s", what);
}

static void check_invariants(struct harness *h, struct roll *roll)
{
    roll->observations++;
    int status = 0;
    cJSON *cluster = harness_proxy_get(h, PD_URL "/cluster/status", &status);
    if (status == 200 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cluster, "is_initialized")))
        violation(roll, "PD says a region lost a replica (cluster/status is_initialized false)");
    cJSON_Delete(cluster);
    cJSON *members = harness_proxy_get(h, PD_URL "/members", &status);
    if (status == 200 && !e2e_jpath_str(members, "leader.name"))
        violation(roll, "PD has no leader");
    cJSON_Delete(members);
    int up = 0, not_up = 0;
    if (store_states(h, &up, &not_up)) {
        if (not_up > roll->most_stores_not_up)
            roll->most_stores_not_up = not_up;
        if (not_up > 1)
            violation(roll, "two TiKV stores are not Up at once");
    }
    int evicting = evict_schedulers(h);
    if (evicting > roll->evict_schedulers_seen)
        roll->evict_schedulers_seen = evicting;
}

static bool image_ends(const char *image, const char *suffix)
{
    size_t a = image ? strlen(image) : 0, b = strlen(suffix);
    return image && a >= b && strcmp(image + a - b, suffix) == 0;
}

/* Every member pod Running+Ready on its component's wanted image. */
static bool pods_rolled(struct harness *h, const struct roll *roll, char *why, size_t why_size)
{
    cJSON *pods = e2e_list(h, PODS_PATH);
    if (!pods) {
        snprintf(why, why_size, "the API did not list pods");
        return false;
    }
    bool ok = cJSON_GetArraySize(pods) == 8 && e2e_cluster_count_pods(pods, NULL, true) == 8;
    snprintf(why, why_size, "%d pods, %d Running and Ready", cJSON_GetArraySize(pods),
             e2e_cluster_count_pods(pods, NULL, true));
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        const char *name = e2e_jpath_str(pod, "metadata.name");
        const char *component = name && strstr(name, "-pd-") ? "pd" : name && strstr(name, "-tikv-") ? "tikv" : "tidb";
        const char *want = strcmp(component, "pd") == 0 ? roll->pd_image
                           : strcmp(component, "tikv") == 0 ? roll->tikv_image
                                                            : roll->tidb_image;
        const cJSON *containers = e2e_jpath(pod, "spec.containers");
        const char *image = e2e_jpath_str(cJSON_GetArrayItem(containers, 0), "image");
        if (ok && want[0] && !image_ends(image, want)) {
            snprintf(why, why_size, "%s runs %s, want %s", name ? name : "?", image ? image : "?", want);
            ok = false;
        }
    }
    cJSON_Delete(pods);
    return ok;
}

static bool is_rolled(struct harness *h, void *data, char *why, size_t why_size)
{
    struct roll *roll = data;
    check_invariants(h, roll);
    if (!pods_rolled(h, roll, why, why_size))
        return false;
    int up = 0, not_up = 0;
    if (!store_states(h, &up, &not_up) || up != 3 || not_up != 0) {
        snprintf(why, why_size, "PD: %d stores Up, %d not", up, not_up);
        return false;
    }
    int evicting = evict_schedulers(h);
    if (evicting != 0) {
        snprintf(why, why_size, "%d evict-leader schedulers left", evicting);
        return false;
    }
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    const char *ready = e2e_jpath_str(e2e_tc_condition(tc, "Ready"), "status");
    const char *upgrading = e2e_jpath_str(e2e_tc_condition(tc, "Upgrading"), "status");
    const char *phase = e2e_jpath_str(tc, "status.tikv.phase");
    bool ok = ready && strcmp(ready, "True") == 0 && (!upgrading || strcmp(upgrading, "False") == 0) && phase &&
              strcmp(phase, "Normal") == 0;
    snprintf(why, why_size, "Ready %s, Upgrading %s, tikv phase %s", ready ? ready : "-", upgrading ? upgrading : "-",
             phase ? phase : "-");
    cJSON_Delete(tc);
    return ok;
}

static bool wait_rolled(struct harness *h, struct roll *roll, const char *what)
{
    char why[1024];
    int64_t start = harness_now_ms();
    if (!harness_wait(h, is_rolled, roll, TIMEOUT_MS, 200, why, sizeof why)) {
        test_fail(__FILE__, __LINE__, "%s: %s", what, why);
        e2e_print_events(h, "default", 40);
        return false;
    }
    printf("  %s: rolled after %.1f s real (%.0f s simulated), %d observations: a PD leader, at most %d TiKV store "
           "not Up and every region replicated at each; at most %d evict-leader scheduler at once, none left\n",
           what, (harness_now_ms() - start) / 1000.0, (harness_now_ms() - start) / 1000.0 * h->speed,
           roll->observations, roll->most_stores_not_up, roll->evict_schedulers_seen);
    return true;
}

/* "basic-tikv-0=7,..." of PD's stores (address prefix = pod), sorted. */
static char *store_ids(struct harness *h)
{
    int status = 0;
    cJSON *stores = harness_proxy_get(h, PD_URL "/stores", &status);
    char *text = calloc(1, 1024);
    if (!text) {
        cJSON_Delete(stores);
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        char pod[32];
        snprintf(pod, sizeof pod, "basic-tikv-%d.", i);
        const cJSON *store;
        cJSON_ArrayForEach(store, e2e_jpath(stores, "stores")) {
            const char *address = e2e_jpath_str(store, "store.address");
            const cJSON *id = e2e_jpath(store, "store.id");
            if (address && cJSON_IsNumber(id) && strncmp(address, pod, strlen(pod)) == 0)
                snprintf(text + strlen(text), 1024 - strlen(text), "%.*s=%.0f,", (int)strlen(pod) - 1, pod,
                         id->valuedouble);
        }
    }
    cJSON_Delete(stores);
    return text;
}

/* The uid of each pod of `component` ("pd", "tikv", "tidb"), joined. */
static char *pod_uids(struct harness *h, const char *component)
{
    char path[256];
    snprintf(path, sizeof path, "%s%%2Capp.kubernetes.io%%2Fcomponent%%3D%s", PODS_PATH, component);
    return e2e_object_identities(h, path);
}

static bool patch(struct harness *h, const char *body)
{
    int status = e2e_merge_patch(h, TC_PATH, body);
    if (status != 200)
        test_fail(__FILE__, __LINE__, "patch %s: HTTP %d", body, status);
    return status == 200;
}

/* ---- a version upgrade ---- */

static void version_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    char *claims = e2e_object_identities(h, PVCS_PATH);
    char *stores = store_ids(h);
    REQUIRE(patch(h, "{\"spec\":{\"version\":\"" NEW_VERSION "\"}}"));
    struct roll roll = { ":" NEW_VERSION, ":" NEW_VERSION, ":" NEW_VERSION, 0, 0, 0, 0 };
    CHECK(wait_rolled(h, &roll, "version " OLD_VERSION " -> " NEW_VERSION));
    CHECK(roll.evict_schedulers_seen >= 1); /* TiKV restarts went behind leader eviction */
    char *claims_after = e2e_object_identities(h, PVCS_PATH);
    char *stores_after = store_ids(h);
    CHECK(claims && claims_after && strcmp(claims, claims_after) == 0); /* the same claims, the same data */
    CHECK(stores && stores_after && strcmp(stores, stores_after) == 0); /* the same stores */
    printf("  same claims and stores after the upgrade: %s\n", stores_after ? stores_after : "?");
    int status = 0;
    cJSON *members = harness_proxy_get(h, PD_URL "/members", &status);
    CHECK(e2e_jpath_str(members, "leader.name") != NULL);
    CHECK_INT(e2e_jpath_count(members, "members"), 3);
    cJSON_Delete(members);
    free(claims);
    free(claims_after);
    free(stores);
    free(stores_after);
}

/* ---- a config change ---- */

/* The cluster has exactly one ConfigMap per component. */
static bool three_configmaps(struct harness *h, void *data, char *why, size_t why_size)
{
    (void)data;
    cJSON *list = e2e_list(h, "/api/v1/namespaces/default/configmaps?labelSelector=app.kubernetes.io%2Finstance%3Dbasic");
    int count = cJSON_GetArraySize(list);
    why[0] = '\0';
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const char *name = e2e_jpath_str(item, "metadata.name");
        snprintf(why + strlen(why), why_size - strlen(why), "%s%s", why[0] ? ", " : "", name ? name : "?");
    }
    cJSON_Delete(list);
    return count == 3;
}

static void config_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    char *pd = pod_uids(h, "pd"), *tidb = pod_uids(h, "tidb"), *tikv = pod_uids(h, "tikv");
    REQUIRE(patch(h, "{\"spec\":{\"tikv\":{\"config\":{\"raftdb\":{\"max-open-files\":512}}}}}"));
    struct roll roll = { ":" OLD_VERSION, ":" OLD_VERSION, ":" OLD_VERSION, 0, 0, 0, 0 };
    /* Wait until every TiKV pod is a new one, then for the roll's end. */
    char *now = NULL;
    bool replaced = false;
    for (int64_t deadline = harness_now_ms() + TIMEOUT_MS; harness_now_ms() < deadline; harness_sleep_ms(200)) {
        free(now);
        now = pod_uids(h, "tikv");
        check_invariants(h, &roll);
        bool all_new = now != NULL && tikv != NULL;
        /* No uid of before may remain ("name=uid," entries). */
        for (const char *entry = tikv; all_new && entry && *entry;) {
            const char *equals = strchr(entry, '='), *comma = strchr(entry, ',');
            if (!equals || !comma)
                break;
            char uid[128];
            snprintf(uid, sizeof uid, "%.*s", (int)(comma - equals), equals);
            if (strstr(now, uid))
                all_new = false;
            entry = comma + 1;
        }
        if (all_new) {
            replaced = true;
            break;
        }
    }
    CHECK(replaced); /* every TiKV pod was restarted */
    CHECK(wait_rolled(h, &roll, "tikv config change"));
    char *pd_after = pod_uids(h, "pd"), *tidb_after = pod_uids(h, "tidb");
    CHECK(pd && pd_after && strcmp(pd, pd_after) == 0);       /* PD untouched */
    CHECK(tidb && tidb_after && strcmp(tidb, tidb_after) == 0); /* TiDB untouched */
    printf("  config change rolled TiKV only (PD and TiDB pods are the same pods)\n");
    /* The old TiKV ConfigMap is collected: one per component remains. */
    char why[512];
    CHECK(harness_wait(h, three_configmaps, NULL, TIMEOUT_MS, 200, why, sizeof why));
    printf("  old ConfigMap collected: %s\n", why);
    free(pd);
    free(tidb);
    free(tikv);
    free(now);
    free(pd_after);
    free(tidb_after);
}

/* ---- pause mid-upgrade ---- */

struct condition_wait {
    const char *type, *status;
};

static bool tc_condition_is(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct condition_wait *want = data;
    cJSON *tc = e2e_get(h, TC_PATH, NULL);
    const char *status = e2e_jpath_str(e2e_tc_condition(tc, want->type), "status");
    const char *message = e2e_jpath_str(e2e_tc_condition(tc, want->type), "message");
    bool ok = status && strcmp(status, want->status) == 0;
    snprintf(why, why_size, "%s is %s: %s", want->type, status ? status : "absent", message ? message : "");
    cJSON_Delete(tc);
    return ok;
}

/* Some pod of `component` runs `suffix`. */
struct image_wait {
    const char *component, *suffix;
};

static bool some_pod_runs(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct image_wait *want = data;
    char path[256];
    snprintf(path, sizeof path, "%s%%2Capp.kubernetes.io%%2Fcomponent%%3D%s", PODS_PATH, want->component);
    cJSON *pods = e2e_list(h, path);
    bool found = false;
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        const char *image = e2e_jpath_str(cJSON_GetArrayItem(e2e_jpath(pod, "spec.containers"), 0), "image");
        found = found || image_ends(image, want->suffix);
    }
    cJSON_Delete(pods);
    snprintf(why, why_size, "no %s pod runs %s", want->component, want->suffix);
    return found;
}

/* True after `*left` more calls: a bounded look at a world that must not move. */
static bool counted_down(struct harness *h, void *data, char *why, size_t why_size)
{
    (void)h;
    int *left = data;
    snprintf(why, why_size, "%d looks left", *left);
    return --*left <= 0;
}

static void pause_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    REQUIRE(patch(h, "{\"spec\":{\"version\":\"" NEW_VERSION "\"}}"));
    char why[512];
    struct image_wait tikv_started = { "tikv", ":" NEW_VERSION };
    REQUIRE(harness_wait(h, some_pod_runs, &tikv_started, TIMEOUT_MS, 100, why, sizeof why));
    REQUIRE(patch(h, "{\"spec\":{\"paused\":true}}"));
    struct condition_wait paused = { "Paused", "True" };
    REQUIRE(harness_wait(h, tc_condition_is, &paused, TIMEOUT_MS, 100, why, sizeof why));
    /* Let a pod being recreated come back (pause stops changes, not the kubelet). */
    harness_wait(h, counted_down, &(int){ 10 }, TIMEOUT_MS, 200, why, sizeof why);
    char *before = e2e_object_identities(h, PODS_PATH);
    /* 4 s real = 40 s simulated: many passes of the operator, nothing moves. */
    int looks = 20;
    harness_wait(h, counted_down, &looks, TIMEOUT_MS, 200, why, sizeof why);
    char *after = e2e_object_identities(h, PODS_PATH);
    CHECK(before && after && strcmp(before, after) == 0);
    printf("  paused mid-upgrade: the same pods for 40 s simulated\n");
    REQUIRE(patch(h, "{\"spec\":{\"paused\":false}}"));
    struct roll roll = { ":" NEW_VERSION, ":" NEW_VERSION, ":" NEW_VERSION, 0, 0, 0, 0 };
    CHECK(wait_rolled(h, &roll, "unpaused"));
    struct condition_wait unpaused = { "Paused", "False" };
    CHECK(harness_wait(h, tc_condition_is, &unpaused, TIMEOUT_MS, 100, why, sizeof why));
    free(before);
    free(after);
}

/* ---- InPlace config, labels: no pod restarts ---- */

struct configmap_wait {
    const char *name, *needle;
};

static bool configmap_says(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct configmap_wait *want = data;
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/configmaps/%s", want->name);
    cJSON *configmap = e2e_get(h, path, NULL);
    const char *file = e2e_jpath_str(configmap, "data.config-file");
    bool ok = file && strstr(file, want->needle);
    snprintf(why, why_size, "ConfigMap %s %s \"%s\"", want->name, configmap ? "lacks" : "is absent, so lacks",
             want->needle);
    cJSON_Delete(configmap);
    return ok;
}

struct label_wait {
    const char *key, *value;
};

static bool every_pod_labelled(struct harness *h, void *data, char *why, size_t why_size)
{
    const struct label_wait *want = data;
    cJSON *pods = e2e_list(h, PODS_PATH);
    int labelled = 0, count = cJSON_GetArraySize(pods);
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(e2e_jpath(pod, "metadata.labels"), want->key);
        labelled += cJSON_IsString(value) && strcmp(value->valuestring, want->value) == 0;
    }
    cJSON_Delete(pods);
    snprintf(why, why_size, "%d of %d pods labelled %s=%s", labelled, count, want->key, want->value);
    return count == 8 && labelled == count;
}

static void in_place_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    /* Switching the strategy rolls once (the pods move to the ConfigMap
     * named without a hash). */
    REQUIRE(patch(h, "{\"spec\":{\"configUpdateStrategy\":\"InPlace\"}}"));
    struct roll roll = { ":" OLD_VERSION, ":" OLD_VERSION, ":" OLD_VERSION, 0, 0, 0, 0 };
    REQUIRE(wait_rolled(h, &roll, "configUpdateStrategy InPlace"));
    char why[512];
    REQUIRE(harness_wait(h, three_configmaps, NULL, TIMEOUT_MS, 200, why, sizeof why));
    printf("  ConfigMaps under InPlace: %s\n", why);
    char *before = e2e_object_identities(h, PODS_PATH);
    REQUIRE(patch(h, "{\"spec\":{\"tikv\":{\"config\":{\"raftdb\":{\"max-open-files\":512}}}}}"));
    struct configmap_wait updated = { "basic-tikv", "max-open-files = 512" };
    CHECK(harness_wait(h, configmap_says, &updated, TIMEOUT_MS, 100, why, sizeof why));
    /* Labels for every member: patched onto the running pods. */
    REQUIRE(patch(h, "{\"spec\":{\"labels\":{\"team\":\"db\"}}}"));
    struct label_wait team = { "team", "db" };
    CHECK(harness_wait(h, every_pod_labelled, &team, TIMEOUT_MS, 100, why, sizeof why));
    int looks = 15;
    harness_wait(h, counted_down, &looks, TIMEOUT_MS, 200, why, sizeof why);
    char *after = e2e_object_identities(h, PODS_PATH);
    CHECK(before && after && strcmp(before, after) == 0);
    printf("  InPlace config change and a new label: ConfigMap updated, pods labelled, the same 8 pods\n");
    free(before);
    free(after);
}

/* ---- operator killed mid-upgrade ---- */

static bool evicting(struct harness *h, void *data, char *why, size_t why_size)
{
    (void)data;
    snprintf(why, why_size, "no evict-leader scheduler yet");
    return evict_schedulers(h) > 0;
}

static void killed_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    char *stores = store_ids(h);
    REQUIRE(patch(h, "{\"spec\":{\"version\":\"" NEW_VERSION "\"}}"));
    char why[512];
    REQUIRE(harness_wait(h, evicting, NULL, TIMEOUT_MS, 50, why, sizeof why));
    harness_operator_kill(&h->operators[0]);
    printf("  operator killed (kill -9) while a store's leaders were being evicted\n");
    REQUIRE(harness_operator_restart(h, &h->operators[0]));
    struct roll roll = { ":" NEW_VERSION, ":" NEW_VERSION, ":" NEW_VERSION, 0, 0, 0, 0 };
    CHECK(wait_rolled(h, &roll, "after the restart"));
    char *stores_after = store_ids(h);
    CHECK(stores && stores_after && strcmp(stores, stores_after) == 0);
    free(stores);
    free(stores_after);
}

/* ---- a crashing image ---- */

#define BROKEN "v0.0.0-broken"

static void crashing_body(struct harness *h)
{
    REQUIRE(harness_bring_up_basic(h, TIMEOUT_MS));
    REQUIRE(patch(h, "{\"spec\":{\"tikv\":{\"version\":\"" BROKEN "\"}}}"));
    char why[512];
    struct image_wait broken = { "tikv", ":" BROKEN };
    REQUIRE(harness_wait(h, some_pod_runs, &broken, TIMEOUT_MS, 100, why, sizeof why));
    /* The restarted member crashes; the roll stops there and says why. */
    char where[512];
    bool told = false;
    for (int64_t deadline = harness_now_ms() + TIMEOUT_MS; !told && harness_now_ms() < deadline; harness_sleep_ms(200))
        told = e2e_tc_mentions(h, "default", "basic", "is not healthy (its pod is not ready)", where, sizeof where);
    CHECK(told);
    printf("  crashing image: %s\n", where);
    /* Many passes later, still exactly one TiKV member on the broken image. */
    int looks = 20;
    harness_wait(h, counted_down, &looks, TIMEOUT_MS, 200, why, sizeof why);
    cJSON *pods = e2e_list(h, PODS_PATH "%2Capp.kubernetes.io%2Fcomponent%3Dtikv");
    int on_broken = 0;
    const cJSON *pod;
    cJSON_ArrayForEach(pod, pods) {
        const char *image = e2e_jpath_str(cJSON_GetArrayItem(e2e_jpath(pod, "spec.containers"), 0), "image");
        on_broken += image_ends(image, ":" BROKEN);
    }
    cJSON_Delete(pods);
    CHECK_INT(on_broken, 1);
    int up = 0, not_up = 0;
    CHECK(store_states(h, &up, &not_up));
    CHECK_INT(up, 2);
    /* Fixed: the broken member is restarted on the good image and all is well. */
    REQUIRE(patch(h, "{\"spec\":{\"tikv\":{\"version\":null}}}"));
    struct roll roll = { ":" OLD_VERSION, ":" OLD_VERSION, ":" OLD_VERSION, 0, 0, 0, 0 };
    CHECK(wait_rolled(h, &roll, "spec fixed"));
}

static void version_upgrade_rolls_one_member_at_a_time(void) { harness_run(version_body, NULL); }
static void config_change_rolls_only_its_component(void) { harness_run(config_body, NULL); }
static void pause_freezes_an_upgrade_and_unpause_finishes_it(void) { harness_run(pause_body, NULL); }
static void upgrade_survives_kill(void) { harness_run(killed_body, NULL); }
static void in_place_config_and_labels_restart_nothing(void) { harness_run(in_place_body, NULL); }

static void crashing_image_stops_the_roll(void)
{
    char config[600];
    struct sim_options options = { 0 };
    if (!e2e_world_config("{\"crashingImages\": [\"pingcap/tikv:" BROKEN "\"]}", &options, config, sizeof config))
        return;
    harness_run(crashing_body, &options);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(version_upgrade_rolls_one_member_at_a_time),
        TEST_CASE(config_change_rolls_only_its_component),
        TEST_CASE(pause_freezes_an_upgrade_and_unpause_finishes_it),
        TEST_CASE(upgrade_survives_kill),
        TEST_CASE(in_place_config_and_labels_restart_nothing),
        TEST_CASE(crashing_image_stops_the_roll),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
