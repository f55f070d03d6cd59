/*
 * test_upgrade: the upgrade concern from hand-built worlds — a running
 * 3/3/2 cluster whose pods were built from v8.5.0 while the spec now asks
 * for v8.5.1: the order of the roll (PD non-leaders, the leader after a
 * transfer, then TiKV behind leader eviction, then TiDB), every wait, the
 * eviction timeout, schedulers that no step needs, a crashing image that
 * stops the roll at one member, pause; and the arbiter refusing the
 * restarts that would break a safety rule.
 */
#include "reconcilers/build/build.h"
#include "reconcilers/planner/members.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/planner/safety.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct planner_world W;

/* The spec (and a status that says Ready); eight buffers in turn, so a few
 * may be alive at once. */
static const char *spec_json(const char *version, const char *annotations, const char *tikv_extra, bool paused)
{
    static char buffers[8][1600];
    static unsigned next;
    char *json = buffers[next++ % 8];
    snprintf(json, sizeof buffers[0],
             "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"generation\":2%s%s%s},"
             "\"spec\":{\"version\":\"%s\",\"paused\":%s,"
             "\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
             "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}%s},\"tidb\":{\"replicas\":2}},"
             "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\"}]}}",
             annotations ? ",\"annotations\":{" : "", annotations ? annotations : "", annotations ? "}" : "",
             version, paused ? "true" : "false", tikv_extra ? tikv_extra : "");
    return json;
}

static struct kube_pod *pod_named(const char *name)
{
    return planner_world_pod(&W, name);
}

/* Sets (or replaces) a pod annotation of a planner_world pod. */
static void set_annotation(struct kube_pod *pod, const char *key, const char *value)
{
    size_t index = (size_t)(pod - W.pods);
    for (size_t i = 0; i < pod->meta.annotation_count; i++)
        if (strcmp(W.pod_annotations[index][i].key, key) == 0) {
            W.pod_annotations[index][i].value = planner_world_keep(&W, "%s", value);
            return;
        }
    planner_world_pod_annotate(&W, pod, key, value);
}

/* Every pod of `component` carries the spec hash of `version`. */
static void built_from(enum tc_component component, const char *version)
{
    struct planner_world other;
    REQUIRE(planner_world_init(&other, spec_json(version, NULL, NULL, false)));
    char hash[17];
    REQUIRE(build_pod_spec_hash(&other.tc, component, hash));
    planner_world_done(&other);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "basic-%s-", tidbcluster_component_name(component));
    for (size_t i = 0; i < W.world.pod_count; i++)
        if (W.pod_list[i] && strncmp(W.pod_list[i]->meta.name, prefix, strlen(prefix)) == 0)
            set_annotation((struct kube_pod *)W.pod_list[i], ANNOTATION_SPEC_HASH, hash);
}

static void member_built_from(const char *pod, const char *version)
{
    struct planner_world other;
    REQUIRE(planner_world_init(&other, spec_json(version, NULL, NULL, false)));
    char hash[17];
    enum tc_component component = strstr(pod, "-pd-") ? TC_PD : strstr(pod, "-tikv-") ? TC_TIKV : TC_TIDB;
    REQUIRE(build_pod_spec_hash(&other.tc, component, hash));
    planner_world_done(&other);
    set_annotation(pod_named(pod), ANNOTATION_SPEC_HASH, hash);
}

/* A running 3/3/2 cluster built from v8.5.0 (every component), with the
 * spec `json`. Pod i of each component has uid "<name>-uid". */
static bool running_from_old(const char *json)
{
    if (!planner_world_init(&W, NULL))
        return false;
    planner_world_cluster_running(&W);
    planner_world_add_node(&W, "node-1", true);
    if (!planner_world_load(&W, spec_json("v8.5.0", NULL, NULL, false)))
        return false;
    built_from(TC_PD, "v8.5.0");
    built_from(TC_TIKV, "v8.5.0");
    built_from(TC_TIDB, "v8.5.0");
    return planner_world_load(&W, json);
}

#define CHECK_PLAN(expected) PLANNER_WORLD_CHECK_PLAN(&W, expected)

static const char *event(const char *reason)
{
    return planner_world_event(&W, reason);
}

/* A condition of the status update in the plan: "True: message" or NULL. */
static const char *condition(const char *type)
{
    static char text[600];
    for (size_t i = 0; i < W.plan.count; i++) {
        if (W.plan.actions[i].kind != ACTION_UPDATE_STATUS)
            continue;
        const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(W.plan.actions[i].body, "status"), "conditions");
        const cJSON *item;
        cJSON_ArrayForEach(item, conditions) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "type");
            if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0) {
                snprintf(text, sizeof text, "%s: %s",
                         cJSON_GetObjectItemCaseSensitive(item, "status")->valuestring,
                         cJSON_GetObjectItemCaseSensitive(item, "message")->valuestring);
                return text;
            }
        }
    }
    return NULL;
}

static const char *phase(const char *component)
{
    for (size_t i = 0; i < W.plan.count; i++) {
        if (W.plan.actions[i].kind != ACTION_UPDATE_STATUS)
            continue;
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(W.plan.actions[i].body, "status"), component);
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(part, "phase");
        return cJSON_IsString(value) ? value->valuestring : NULL;
    }
    return NULL;
}

static void restarted(const char *pod, bool ready)
{
    member_built_from(pod, "v8.5.1");
    struct kube_pod *p = pod_named(pod);
    p->ready = ready ? CONDITION_TRUE : CONDITION_FALSE;
}

/* ---- PD ---- */

static void nothing_rolls_while_the_spec_is_the_same(void)
{
    REQUIRE(running_from_old(spec_json("v8.5.0", NULL, NULL, false)));
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("update-status tidbclusters basic"); /* the status the world implies; nothing restarts */
    CHECK(condition("Upgrading") == NULL);
    planner_world_done(&W);
}

static void pd_rolls_highest_first_and_the_leader_last(void)
{
    REQUIRE(running_from_old(spec_json("v8.5.1", NULL, NULL, false)));
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-pd-2; event Normal Upgrading; update-status tidbclusters basic");
    CHECK_STR(event("Upgrading"), "upgrading pd: restarting basic-pd-2 with the new spec (a PD member)");
    CHECK_STR(phase("pd"), "Upgrade");
    CHECK_STR(phase("tikv"), "Normal");
    CHECK_STR(condition("Upgrading"), "True: upgrading pd: restarting basic-pd-2 with the new spec (a PD member) (up "
                                      "to date: pd 0/3, tikv 0/3, tidb 0/2)");
    /* Back on the new spec but not a healthy member yet: nothing else goes. */
    restarted("basic-pd-2", true);
    W.health[2].health = false;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Upgrading"), "upgrading pd waits: basic-pd-2 is not healthy (it is not a healthy PD member yet)");
    W.health[2].health = true;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-pd-1; event Normal Upgrading; update-status tidbclusters basic");
    restarted("basic-pd-1", true);
    /* basic-pd-0 is the leader: leadership moves to the highest upgraded member first. */
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd transfer-leader basic-pd-2; event Normal Upgrading; update-status tidbclusters basic");
    CHECK_STR(event("Upgrading"), "upgrading pd: moving PD leadership from basic-pd-0 to basic-pd-2");
    W.pd.members.leader = W.members[2];
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-pd-0; event Normal Upgrading; update-status tidbclusters basic");
    CHECK(plan_count(&W.plan, ACTION_PD_ADD_EVICT_LEADER) == 0); /* TiKV waits for PD */
    planner_world_done(&W);
}

static void pd_restart_refused_without_quorum(void)
{
    REQUIRE(running_from_old(spec_json("v8.5.1", NULL, NULL, false)));
    W.health[1].health = false; /* basic-pd-1 is out of date and sick: it goes first, */
    REQUIRE(planner_world_run(&W));
    /* (a sick member is a real problem: the Ready flip is a Warning) */
    CHECK_PLAN("delete pods basic-pd-1; event Normal Upgrading; event Warning PDNotReady; update-status tidbclusters "
               "basic");
    W.health[2].health = false; /* but with basic-pd-2 sick too, restarting 1 leaves only pd-0 */
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Waiting"), "upgrade waits: a PD member: only 1 other PD members are healthy, 2 needed for quorum "
                                "(rule pd_quorum_kept)");
    CHECK_STR(condition("Upgrading"), "True: upgrade waits: a PD member: only 1 other PD members are healthy, 2 "
                                      "needed for quorum (rule pd_quorum_kept) (up to date: pd 0/3, tikv 0/3, tidb 0/2)");
    planner_world_done(&W);
}

/* ---- TiKV ---- */

/* PD is done; TiKV and TiDB are still v8.5.0. */
static bool pd_upgraded(void)
{
    if (!running_from_old(spec_json("v8.5.1", NULL, NULL, false)))
        return false;
    built_from(TC_PD, "v8.5.1");
    return true;
}

static void tikv_evicts_leaders_then_restarts(void)
{
    REQUIRE(pd_upgraded());
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd add-evict-leader 3; patch pods basic-tikv-2; event Normal Upgrading; update-status tidbclusters "
               "basic");
    CHECK_STR(event("Upgrading"), "upgrading tikv: evicting leaders from store 3 (basic-tikv-2): 10 leaders");
    CHECK_STR(phase("pd"), "Normal");
    CHECK_STR(phase("tikv"), "Upgrade");
    planner_world_evicting(&W, 3);
    set_annotation(pod_named("basic-tikv-2"), ANNOTATION_EVICT_LEADER_BEGIN, PLANNER_WORLD_NOW_TEXT);
    W.stores[2].leader_count = 4;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Upgrading"), "upgrading tikv: evicting leaders from store 3 (basic-tikv-2): 4 left");
    W.stores[2].leader_count = 0;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-2; event Normal Upgrading; update-status tidbclusters basic");
    /* Restarted: the store is not Up yet; the scheduler stays, the next waits. */
    restarted("basic-tikv-2", true);
    W.stores[2].state_name = PD_STORE_DISCONNECTED;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_REMOVE_EVICT_LEADER) == 0);
    CHECK(plan_count(&W.plan, ACTION_PD_ADD_EVICT_LEADER) == 0);
    CHECK_STR(event("Upgrading"), "upgrading tikv waits: basic-tikv-2 is not healthy (its store is not Up yet)");
    /* Up again: its scheduler goes and the next store's eviction begins. */
    W.stores[2].state_name = PD_STORE_UP;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd remove-evict-leader 3; event Normal Upgrading; pd add-evict-leader 2; patch pods basic-tikv-1; "
               "event Normal Upgrading; update-status tidbclusters basic");
    planner_world_done(&W);
}

static void tikv_eviction_times_out_into_a_warning(void)
{
    REQUIRE(pd_upgraded());
    REQUIRE(planner_world_load(&W, spec_json("v8.5.1", NULL, ",\"evictLeaderTimeout\":\"10m\"", false)));
    planner_world_evicting(&W, 3);
    /* Eviction began 11 minutes ago; 10 leaders are still there. */
    set_annotation(pod_named("basic-tikv-2"), ANNOTATION_EVICT_LEADER_BEGIN, "2026-11-18T10:55:40Z");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("event Warning EvictLeaderTimeout; delete pods basic-tikv-2; event Normal Upgrading; update-status "
               "tidbclusters basic");
    CHECK_STR(event("EvictLeaderTimeout"), "upgrading tikv: store 3 (basic-tikv-2) still holds 10 leaders after "
                                           "evictLeaderTimeout; restarting it anyway (its leaders move by election)");
    /* Nine minutes ago: it still waits. */
    set_annotation(pod_named("basic-tikv-2"), ANNOTATION_EVICT_LEADER_BEGIN, "2026-11-18T10:57:40Z");
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    planner_world_done(&W);
}

static void tikv_waits_while_another_store_is_down(void)
{
    REQUIRE(pd_upgraded());
    /* basic-tikv-0 already runs the new spec, but its store is Down:
     * nothing else is evicted or restarted. */
    member_built_from("basic-tikv-0", "v8.5.1");
    W.stores[0].state_name = PD_STORE_DOWN;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_ADD_EVICT_LEADER) == 0);
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Upgrading"), "upgrading tikv waits: basic-tikv-0 is not healthy (its store is not Up yet)");
    /* Out of date itself, the member whose store is down is restarted first:
     * that takes nothing down that is not down already. */
    member_built_from("basic-tikv-0", "v8.5.0");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-0; event Normal Upgrading; event Warning TiKVStoreNotUp; update-status "
               "tidbclusters basic");
    planner_world_done(&W);
}

static void crashing_image_stops_the_roll_at_one_member(void)
{
    REQUIRE(pd_upgraded());
    /* basic-tikv-2 was restarted on the new image and crashes. */
    restarted("basic-tikv-2", false);
    W.stores[2].state_name = PD_STORE_DOWN;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK(plan_count(&W.plan, ACTION_PD_ADD_EVICT_LEADER) == 0);
    CHECK_STR(event("Upgrading"), "upgrading tikv waits: basic-tikv-2 is not healthy (its pod is not ready)");
    /* Not ready for eleven minutes: the wait is a Warning with the way out. */
    pod_named("basic-tikv-2")->ready_transition_ms = PLANNER_WORLD_NOW_MS - 11 * 60 * 1000;
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("UpgradeStalled"), "upgrading tikv waits: basic-tikv-2 has not been healthy for more than 10 "
                                       "minutes (its pod is not ready); if the new image or config cannot start, fix "
                                       "the spec: the roll resumes from that member");
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    /* The user fixes the spec (v8.5.2): the broken member is restarted first. */
    REQUIRE(planner_world_load(&W, spec_json("v8.5.2", NULL, NULL, false)));
    built_from(TC_PD, "v8.5.2");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-2; event Normal Upgrading; event Warning TiKVStoreNotUp; update-status "
               "tidbclusters basic");
    CHECK_STR(event("Upgrading"),
              "upgrading tikv: restarting basic-tikv-2 with the new spec (its store is not Up: no leaders to evict)");
    planner_world_done(&W);
}

static void leftover_scheduler_is_removed(void)
{
    REQUIRE(running_from_old(spec_json("v8.5.0", NULL, NULL, false)));
    planner_world_evicting(&W, 2); /* left by an operator that crashed */
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd remove-evict-leader 2; event Normal Upgrading; update-status tidbclusters basic");
    CHECK_STR(event("Upgrading"), "removing the evict-leader scheduler of store 2 (basic-tikv-1)");
    planner_world_done(&W);
}

/* ---- what does not restart ---- */

static void pods_of_an_older_operator_are_not_restarted(void)
{
    /* Pods made under version 1 of the spec hash (labels and annotations
     * included), the spec unchanged: the new operator restarts nothing. */
    REQUIRE(running_from_old(spec_json("v8.5.0", NULL, NULL, false)));
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        char accepted[BUILD_SPEC_HASH_VERSIONS][17];
        REQUIRE(build_pod_spec_hashes_accepted(&W.tc, (enum tc_component)c, accepted) == 2);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "basic-%s-", tidbcluster_component_name((enum tc_component)c));
        for (size_t i = 0; i < W.world.pod_count; i++)
            if (strncmp(W.pod_list[i]->meta.name, prefix, strlen(prefix)) == 0)
                set_annotation((struct kube_pod *)W.pod_list[i], ANNOTATION_SPEC_HASH, accepted[1]);
    }
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("update-status tidbclusters basic");
    /* A version change still rolls them. */
    REQUIRE(planner_world_load(&W, spec_json("v8.5.1", NULL, NULL, false)));
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 1);
    planner_world_done(&W);
}

static void labels_and_annotations_are_patched_not_restarted(void)
{
    REQUIRE(running_from_old(spec_json("v8.5.0", NULL, NULL, false)));
    char metadata[17];
    REQUIRE(build_pod_metadata_hash(&W.tc, TC_TIDB, metadata));
    set_annotation(pod_named("basic-tidb-1"), ANNOTATION_METADATA_HASH, metadata);
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("update-status tidbclusters basic");
    /* The user adds a label to TiDB: the pod is patched, not restarted. */
    REQUIRE(planner_world_load(&W, "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\","
                                   "\"generation\":3},\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,"
                                   "\"requests\":{\"storage\":\"1Gi\"}},\"tikv\":{\"replicas\":3,\"requests\":"
                                   "{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":2,\"labels\":{\"team\":\"db\"}}},"
                                   "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}"));
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("patch pods basic-tidb-1; event Normal Updated; update-status tidbclusters basic");
    const struct action *patch = &W.plan.actions[0];
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(patch->body, "metadata"),
                                                           "labels");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, "team")), "db");
    planner_world_done(&W);
}

static void in_place_config_updates_the_configmap_only(void)
{
    static const char *const in_place =
        "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"generation\":3},"
        "\"spec\":{\"version\":\"v8.5.0\",\"configUpdateStrategy\":\"InPlace\",\"pd\":{\"replicas\":3,"
        "\"requests\":{\"storage\":\"1Gi\"}},\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"},"
        "\"config\":{\"raftdb\":{\"max-open-files\":512}}},\"tidb\":{\"replicas\":2}},"
        "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
    REQUIRE(planner_world_init(&W, NULL));
    REQUIRE(planner_world_load(&W, in_place));
    planner_world_cluster_running(&W);
    built_from(TC_TIKV, "v8.5.0"); /* (under the old config: InPlace leaves it out) */
    REQUIRE(planner_world_load(&W, in_place));
    /* The TiKV ConfigMap holds an earlier content. */
    static struct kube_label entries[2] = { { LABEL_COMPONENT, "tikv" }, { ANNOTATION_CONFIG_HASH, "00000000deadbeef" } };
    for (size_t i = 0; i < W.world.configmap_count; i++)
        if (strcmp(W.configmaps[i].meta.name, "basic-tikv") == 0) {
            W.configmaps[i].meta.labels = entries;
            W.configmaps[i].meta.label_count = 1;
            W.configmaps[i].meta.annotation_count = 1;
        }
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("patch configmaps basic-tikv; event Normal ConfigUpdated; update-status tidbclusters basic");
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0); /* no pod restarts */
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(W.plan.actions[0].body, "data");
    CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "config-file")), "max-open-files = 512"));
    planner_world_done(&W);
}

/* ---- configmaps ---- */

static void unused_configmaps_are_collected_after_the_roll(void)
{
    static struct kube_label tikv_label = { LABEL_COMPONENT, "tikv" };
    REQUIRE(running_from_old(spec_json("v8.5.0", NULL, NULL, false)));
    /* The ConfigMap of an earlier config, labelled tikv; basic-tikv-1 still mounts it. */
    planner_world_add_configmap(&W, "basic-tikv-0ld0c0f1");
    struct kube_configmap *old = &W.configmaps[W.world.configmap_count - 1];
    old->meta.labels = &tikv_label;
    old->meta.label_count = 1;
    /* A user's ConfigMap with our label but not our name stays. */
    planner_world_add_configmap(&W, "my-tikv-extras");
    struct kube_configmap *user = &W.configmaps[W.world.configmap_count - 1];
    user->meta.labels = &tikv_label;
    user->meta.label_count = 1;
    pod_named("basic-tikv-1")->config_map = "basic-tikv-0ld0c0f1";
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    /* Restarted onto the current one: the old ConfigMap goes, the user's stays. */
    pod_named("basic-tikv-1")->config_map = planner_world_configmap_name(&W, TC_TIKV);
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete configmaps basic-tikv-0ld0c0f1; event Normal ConfigMapDeleted; update-status tidbclusters "
               "basic");
    CHECK_STR(event("ConfigMapDeleted"),
              "deleting ConfigMap basic-tikv-0ld0c0f1: the spec no longer names it and no pod uses it");
    planner_world_done(&W);
}

/* ---- TiDB ---- */

static void tidb_rolls_after_tikv_one_at_a_time(void)
{
    REQUIRE(pd_upgraded());
    built_from(TC_TIKV, "v8.5.1");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tidb-1; event Normal Upgrading; update-status tidbclusters basic");
    pod_named("basic-tidb-1")->meta.deletion_ms = PLANNER_WORLD_NOW_MS;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Upgrading"), "upgrading tidb waits: basic-tidb-1 is not healthy (its pod is stopping)");
    planner_world_done(&W);
}

/* ---- pause ---- */

static void pause_freezes_the_roll_and_keeps_the_scheduler(void)
{
    REQUIRE(pd_upgraded());
    REQUIRE(planner_world_load(&W, spec_json("v8.5.1", NULL, NULL, true)));
    planner_world_evicting(&W, 3);
    set_annotation(pod_named("basic-tikv-2"), ANNOTATION_EVICT_LEADER_BEGIN, PLANNER_WORLD_NOW_TEXT);
    W.stores[2].leader_count = 0;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("event Normal Paused; update-status tidbclusters basic"); /* pausing is no failure */
    CHECK_STR(condition("Paused"), "True: paused: nothing is created or changed until spec.paused is false; the "
                                   "evict-leader scheduler of store 3 (basic-tikv-2) stays until then");
    /* Unpaused: it goes on where it was. */
    REQUIRE(planner_world_load(&W, spec_json("v8.5.1", NULL, NULL, false)));
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-2; event Normal Upgrading; update-status tidbclusters basic");
    planner_world_done(&W);
}

/* ---- the arbiter ---- */

static const char *judge_restart(enum tc_component component, int ordinal, bool eviction_waived)
{
    struct member_table table;
    struct proposals proposals;
    struct plan admitted;
    struct safety_outcome outcome;
    static char rule[64];
    if (!member_table_build(&W.world, &table))
        return "(oom)";
    plan_init(&admitted, "ns", "basic", "u-1");
    proposals_init(&proposals, &admitted);
    struct plan *scratch =
        proposals_open(&proposals, CONCERN_UPGRADE, EFFECT_DISRUPT, DISRUPTION_RESTART, component, ordinal, "test");
    char name[64];
    snprintf(name, sizeof name, "basic-%s-%d", tidbcluster_component_name(component), ordinal);
    plan_delete(scratch, &kube_resource_pods, name, NULL, "test");
    proposals_current(&proposals)->eviction_timed_out = eviction_waived;
    struct safety_world world = { .cluster = &W.tc, .members = &table, .pd = W.world.pd,
                                  .pd_stores_fresh = true, .pd_bootstrapped = true };
    safety_arbitrate(&world, &proposals, &admitted, &outcome);
    snprintf(rule, sizeof rule, "%s", outcome.refused ? outcome.first_refusal.rule : "admitted");
    proposals_free(&proposals);
    plan_free(&admitted);
    member_table_free(&table);
    return rule;
}

static void arbiter_refuses_unsafe_restarts(void)
{
    REQUIRE(pd_upgraded());
    /* A TiKV restart before its leaders are evicted. */
    CHECK_STR(judge_restart(TC_TIKV, 2, false), "tikv_leaders_evicted_first");
    CHECK_STR(judge_restart(TC_TIKV, 2, true), "admitted");
    /* Another store Down: no TiKV restart, even with eviction waived... */
    W.stores[0].state_name = PD_STORE_DOWN;
    CHECK_STR(judge_restart(TC_TIKV, 2, true), "tikv_restart_with_other_stores_up");
    /* ... unless the user forces it. */
    REQUIRE(planner_world_load(&W, spec_json("v8.5.1", "\"tidb.pingcap.com/force-upgrade\":\"true\"", NULL, false)));
    CHECK_STR(judge_restart(TC_TIKV, 2, true), "admitted");
    W.stores[0].state_name = PD_STORE_UP;
    /* Two at once: a TiKV pod still stopping holds every other restart. */
    pod_named("basic-tikv-1")->meta.deletion_ms = PLANNER_WORLD_NOW_MS;
    CHECK_STR(judge_restart(TC_TIKV, 2, true), "one_disruption_at_a_time");
    pod_named("basic-tikv-1")->meta.deletion_ms = 0;
    /* A restarted member not ready yet holds the next one too. */
    pod_named("basic-tikv-1")->ready = CONDITION_FALSE;
    CHECK_STR(judge_restart(TC_TIKV, 2, true), "one_disruption_at_a_time");
    CHECK_STR(judge_restart(TC_PD, 1, false), "one_disruption_at_a_time");
    pod_named("basic-tikv-1")->ready = CONDITION_TRUE;
    /* The PD leader never restarts while others could lead. */
    CHECK_STR(judge_restart(TC_PD, 0, false), "pd_quorum_kept");
    CHECK_STR(judge_restart(TC_PD, 1, false), "admitted");
    planner_world_done(&W);
}

static void one_member_pd_may_restart(void)
{
    REQUIRE(planner_world_init(&W, NULL));
    planner_world_cluster_running(&W);
    planner_world_pd_answers(&W, 1, 1, true);
    CHECK_STR(judge_restart(TC_PD, 0, false), "admitted");
    planner_world_pd_answers(&W, 2, 2, true);
    CHECK_STR(judge_restart(TC_PD, 0, false), "pd_quorum_kept");
    planner_world_done(&W);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(nothing_rolls_while_the_spec_is_the_same),
        TEST_CASE(pd_rolls_highest_first_and_the_leader_last),
        TEST_CASE(pd_restart_refused_without_quorum),
        TEST_CASE(tikv_evicts_leaders_then_restarts),
        TEST_CASE(tikv_eviction_times_out_into_a_warning),
        TEST_CASE(tikv_waits_while_another_store_is_down),
        TEST_CASE(crashing_image_stops_the_roll_at_one_member),
        TEST_CASE(leftover_scheduler_is_removed),
        TEST_CASE(unused_configmaps_are_collected_after_the_roll),
        TEST_CASE(pods_of_an_older_operator_are_not_restarted),
        TEST_CASE(labels_and_annotations_are_patched_not_restarted),
        TEST_CASE(in_place_config_updates_the_configmap_only),
        TEST_CASE(tidb_rolls_after_tikv_one_at_a_time),
        TEST_CASE(pause_freezes_the_roll_and_keeps_the_scheduler),
        TEST_CASE(arbiter_refuses_unsafe_restarts),
        TEST_CASE(one_member_pd_may_restart),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
