/*
 * test_scale: the scale concern from hand-built worlds — which member goes
 * or comes, each step of TiDB, PD and TiKV scale-in and scale-out as the
 * plan it makes, and the arbiter refusing the steps that would break a
 * safety rule (the refusal is told to the user).
 */
#include "reconcilers/build/build.h"
#include "reconcilers/planner/members.h"
#include "reconcilers/planner/planner.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct planner_world W;

static const char *spec_json(int pd, int tikv, int tidb, const char *annotations, const char *policy)
{
    static char json[1024];
    snprintf(json, sizeof json,
             "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"generation\":2%s%s%s},"
             "\"spec\":{\"version\":\"v8.5.0\",\"pvReclaimPolicy\":\"%s\","
             "\"pd\":{\"replicas\":%d,\"requests\":{\"storage\":\"1Gi\"}},"
             "\"tikv\":{\"replicas\":%d,\"requests\":{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":%d}}}",
             annotations ? ",\"annotations\":{" : "", annotations ? annotations : "", annotations ? "}" : "",
             policy ? policy : "Retain", pd, tikv, tidb);
    return json;
}

/* The basic running cluster (3/3/2) with the spec changed to `json`. */
static bool running_with(const char *json)
{
    if (!planner_world_init(&W, NULL))
        return false;
    planner_world_cluster_running(&W);
    return planner_world_load(&W, json);
}

static char *plan_text(void)
{
    return planner_world_describe(&W.plan);
}

#define CHECK_PLAN(expected) PLANNER_WORLD_CHECK_PLAN(&W, expected)

static struct kube_pod *pod_named(const char *name)
{
    return planner_world_pod(&W, name);
}

static void remove_pod(const char *name)
{
    planner_world_remove_pod(&W, name);
}

static void remove_pvc(const char *name)
{
    for (size_t i = 0; i < W.world.pvc_count; i++)
        if (W.pvc_list[i] && strcmp(W.pvc_list[i]->meta.name, name) == 0)
            W.pvc_list[i] = NULL;
}

static const char *event(const char *reason)
{
    return planner_world_event(&W, reason);
}

/* ---- which member ---- */

static void highest_ordinal_goes_and_delete_slots_choose(void)
{
    struct member_table table;
    REQUIRE(running_with(spec_json(3, 2, 2, NULL, NULL)));
    REQUIRE(member_table_build(&W.world, &table));
    CHECK(member_table_find(&table, TC_TIKV, 0)->desired);
    CHECK(member_table_find(&table, TC_TIKV, 1)->desired);
    CHECK(!member_table_find(&table, TC_TIKV, 2)->desired);
    member_table_free(&table);
    REQUIRE(planner_world_load(&W, spec_json(3, 2, 2, "\"tikv.tidb.pingcap.com/delete-slots\":\"[1]\"", NULL)));
    REQUIRE(member_table_build(&W.world, &table));
    CHECK(member_table_find(&table, TC_TIKV, 0)->desired);
    CHECK(!member_table_find(&table, TC_TIKV, 1)->desired);
    CHECK(member_table_find(&table, TC_TIKV, 2)->desired);
    member_table_free(&table);
    planner_world_done(&W);
}

static void lowest_free_ordinal_comes_unless_listed(void)
{
    struct member_table table;
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, NULL)));
    remove_pod("basic-tikv-1");
    remove_pvc("tikv-basic-tikv-1");
    REQUIRE(member_table_build(&W.world, &table));
    CHECK(member_table_find(&table, TC_TIKV, 1)->desired); /* the gap is filled */
    CHECK(member_table_find(&table, TC_TIKV, 3) == NULL);
    member_table_free(&table);
    REQUIRE(planner_world_load(&W, spec_json(3, 3, 2, "\"tikv.tidb.pingcap.com/delete-slots\":\"[1]\"", NULL)));
    REQUIRE(member_table_build(&W.world, &table));
    const struct member_row *listed = member_table_find(&table, TC_TIKV, 1); /* its store is still in PD */
    CHECK(listed && !listed->desired && !listed->existing);
    CHECK(member_table_find(&table, TC_TIKV, 3)->desired); /* 1 is listed: the next free one */
    member_table_free(&table);
    planner_world_done(&W);
}

/* ---- TiDB ---- */

static void tidb_scales_in_one_at_a_time(void)
{
    REQUIRE(running_with(spec_json(3, 3, 0, NULL, NULL)));
    REQUIRE(planner_world_run(&W));
    /* One member per component at a time: basic-tidb-1 first (the highest). */
    CHECK_PLAN("delete pods basic-tidb-1; event Normal Scaling; update-status tidbclusters basic");
    CHECK_STR(event("Scaling"), "scaling in tidb: deleting pod basic-tidb-1 (replicas lowered)");
    pod_named("basic-tidb-1")->meta.deletion_ms = PLANNER_WORLD_NOW_MS;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0); /* waits for it to stop */
    CHECK(W.plan.requeue_after_ms > 0);
    remove_pod("basic-tidb-1");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tidb-0; event Normal Scaling; update-status tidbclusters basic");
    planner_world_done(&W);
}

static void tidb_scales_out_one_at_a_time_behind_health(void)
{
    REQUIRE(running_with(spec_json(3, 3, 4, NULL, NULL)));
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("create pods basic-tidb-2; event Normal Created; update-status tidbclusters basic");
    planner_world_add_pod(&W, "basic-tidb-2", "Pending", false);
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_CREATE) == 0);
    CHECK_STR(event("Scaling"), "scaling out tidb waits: basic-tidb-2 is not healthy yet");
    pod_named("basic-tidb-2")->ready = CONDITION_TRUE;
    pod_named("basic-tidb-2")->phase = "Running";
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("create pods basic-tidb-3; event Normal Created; update-status tidbclusters basic");
    planner_world_done(&W);
}

/* ---- PD ---- */

static void pd_leader_moves_before_it_leaves(void)
{
    REQUIRE(running_with(spec_json(1, 3, 2, "\"pd.tidb.pingcap.com/delete-slots\":\"[0, 1]\"", NULL)));
    /* pd-0 (the leader) and pd-1 are listed: pd-0 goes first (lowest slot),
     * and as the leader it hands leadership to pd-2 first. */
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd transfer-leader basic-pd-2; event Normal Scaling; update-status tidbclusters basic");
    CHECK_STR(event("Scaling"), "scaling in pd: moving PD leadership from basic-pd-0 to basic-pd-2");
    W.pd.members.leader = W.members[2];
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd delete-member basic-pd-0; event Normal Scaling; update-status tidbclusters basic");
    /* PD no longer lists it: the pod goes. */
    W.members[0] = W.members[1];
    W.members[1] = W.members[2];
    W.health[0] = W.health[1];
    W.health[1] = W.health[2];
    W.pd.members.count = W.pd.health.count = 2;
    W.pd.members.leader = W.members[1];
    /* Found by test/dst seed 1629: PD's answer must be newer than the pod,
     * or the member may be joining rather than gone. */
    pod_named("basic-pd-0")->start_ms = PLANNER_WORLD_NOW_MS - 60000;
    W.pd.parts[PD_PART_MEMBERS].last_success_wall_ms = PLANNER_WORLD_NOW_MS - 50000;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    CHECK_STR(event("Scaling"), "scaling in pd waits: basic-pd-0 may be joining PD (PD not read since it started)");
    W.pd.parts[PD_PART_MEMBERS].last_success_wall_ms = PLANNER_WORLD_NOW_MS - 1000;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-pd-0; event Normal Scaling; update-status tidbclusters basic");
    remove_pod("basic-pd-0");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("patch persistentvolumeclaims pd-basic-pd-0; event Normal Scaling; update-status tidbclusters basic");
    planner_world_done(&W);
}

static void pd_member_removal_keeps_quorum(void)
{
    REQUIRE(running_with(spec_json(1, 3, 2, NULL, NULL)));
    W.health[1].health = false; /* pd-1 is sick: removing pd-2 leaves 1 healthy of 2 */
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_MEMBER) == 0);
    CHECK_STR(event("FailedScaleIn"), "scale waits: replicas lowered: only 1 other PD members are healthy, 2 needed "
                                      "for quorum (rule pd_quorum_kept)");
    planner_world_done(&W);
}

/* Found by test/dst: PD 2 -> 1 while pd-1's node was lost. Without pd-1, PD
 * has no quorum and never answers, so pd-1 cannot be removed; it gets its
 * pod back (its claim kept it a member), and is removed once PD answers. */
static void pd_member_lost_while_scaled_in_comes_back_while_pd_cannot_answer(void)
{
    REQUIRE(running_with(spec_json(1, 3, 2, NULL, NULL)));
    remove_pod("basic-pd-2");
    W.health[2].health = false;
    W.pd.parts[PD_PART_MEMBERS].last_error.kind = PD_ERROR_HTTP; /* 503: no leader */
    W.pd.parts[PD_PART_MEMBERS].last_error.status = 503;
    REQUIRE(planner_world_run(&W));
    char *text = plan_text();
    CHECK(text && strstr(text, "create pods basic-pd-2"));
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_MEMBER) == 0);
    free(text);
    /* PD answers again: the removal goes on, the pod is not given back. */
    W.pd.parts[PD_PART_MEMBERS].last_error.kind = PD_ERROR_NONE;
    W.pd.parts[PD_PART_MEMBERS].last_error.status = 0;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd delete-member basic-pd-2; event Normal Scaling; update-status tidbclusters basic");
    planner_world_done(&W);
}

/* Found by test/dst seed 881: PD removed pd-2 (a scale-in), then replicas
 * went back up before its pod was deleted. PD never lets it rejoin from
 * that disk: its pod goes and its claim is kept deferred (Retain), so
 * scale-out brings it back clean. A pod that just started may be joining. */
static void pd_member_wanted_again_after_pd_removed_it_starts_clean(void)
{
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, NULL)));
    W.pd.members.count = W.pd.health.count = 2; /* PD lists pd-0 and pd-1 */
    struct kube_pod *pod = pod_named("basic-pd-2");
    REQUIRE(pod);
    pod->start_ms = PLANNER_WORLD_NOW_MS - 10000;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0); /* may still be joining */
    pod->start_ms = PLANNER_WORLD_NOW_MS - 200000;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-pd-2; patch persistentvolumeclaims pd-basic-pd-2; event Normal Scaling; "
               "update-status tidbclusters basic");
    CHECK_STR(event("Scaling"), "scaling out pd: basic-pd-2 runs but PD no longer lists it: it starts again on a "
                                "clean disk");
    planner_world_done(&W);
}

/* ---- TiKV ---- */

/* Found by test/dst seed 840: replicas raised again after PD had already
 * made the leaving store Tombstone — a Tombstone store never returns. */
static void tikv_member_wanted_after_its_store_is_tombstone_starts_clean(void)
{
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, NULL)));
    W.stores[2].state_name = PD_STORE_TOMBSTONE;
    W.stores[2].state = PD_STORE_STATE_TOMBSTONE;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 1);
    CHECK_STR(event("Scaling"), "scaling out tikv: basic-tikv-2 runs but its store 3 is Tombstone: it starts again on "
                                "a clean disk");
    remove_pod("basic-tikv-2");
    REQUIRE(planner_world_run(&W));
    /* Its claim is kept, marked, never reused (Retain); scale-out follows. */
    CHECK(plan_count(&W.plan, ACTION_MERGE_PATCH) == 1);
    CHECK(plan_count(&W.plan, ACTION_PD_SET_STORE_UP) == 0);
    planner_world_done(&W);
}

static void tikv_scale_in_waits_for_tombstone(void)
{
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, NULL)));
    planner_world_add_pod(&W, "basic-tikv-3", "Running", true);
    planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL);
    planner_world_stores_answer(&W, 4, 4);
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd delete-store 4; patch pods basic-tikv-3; event Normal Scaling; update-status tidbclusters basic");
    CHECK_STR(event("Scaling"), "scaling in tikv: deleting store 4 (basic-tikv-3); PD moves its 0 regions away");
    W.stores[3].state_name = PD_STORE_OFFLINE;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0 && plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 0);
    CHECK_STR(event("Scaling"), "scaling in tikv: waiting for store 4 (basic-tikv-3) to become Tombstone: 0 regions left");
    W.stores[3].state_name = PD_STORE_TOMBSTONE;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-3; event Normal Scaling; update-status tidbclusters basic");
    remove_pod("basic-tikv-3");
    REQUIRE(planner_world_run(&W));
    /* Retain: the claim is kept, marked, never reused. */
    CHECK_PLAN("patch persistentvolumeclaims tikv-basic-tikv-3; event Normal Scaling; event Normal Ready; "
               "update-status tidbclusters basic");
    const struct action *patch = &W.plan.actions[0];
    CHECK(cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(patch->body, "metadata"), "annotations"),
              ANNOTATION_PVC_DEFER_DELETING) != NULL);
    planner_world_done(&W);
}

static void tikv_claim_deleted_under_delete_policy_only_after_tombstone(void)
{
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, "Delete")));
    planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL);
    planner_world_stores_answer(&W, 4, 4);
    W.stores[3].state_name = PD_STORE_TOMBSTONE;
    REQUIRE(planner_world_run(&W));
    /* (pvReclaimPolicy Delete is a spec warning, told once: UnsupportedFields) */
    CHECK_PLAN("delete persistentvolumeclaims tikv-basic-tikv-3; event Normal Scaling; event Normal Ready; "
               "event Warning UnsupportedFields; update-status tidbclusters basic");
    /* Not before: the same claim of an Offline store stays. */
    W.stores[3].state_name = PD_STORE_OFFLINE;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    planner_world_done(&W);
}

static void tikv_scale_in_refused_below_max_replicas(void)
{
    REQUIRE(running_with(spec_json(3, 2, 2, NULL, NULL)));
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 0);
    CHECK_STR(event("FailedScaleIn"), "scale waits: replicas lowered: deleting a store would leave 2 Up stores, "
                                      "max-replicas is 3 (rule up_stores_kept)");
    planner_world_done(&W);
}

static void tikv_scale_in_refused_while_another_store_is_down(void)
{
    REQUIRE(running_with(spec_json(3, 4, 2, NULL, NULL)));
    planner_world_add_pod(&W, "basic-tikv-3", "Running", true);
    planner_world_add_pod(&W, "basic-tikv-4", "Running", true);
    planner_world_stores_answer(&W, 5, 5);
    W.stores[0].state_name = PD_STORE_DOWN;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 0);
    CHECK_STR(event("FailedScaleIn"),
              "scale waits: replicas lowered: store 1 (basic-tikv-0) is Down (rule up_stores_kept)");
    planner_world_done(&W);
}

static void tikv_scale_in_cancelled_when_wanted_again(void)
{
    REQUIRE(running_with(spec_json(3, 4, 2, NULL, NULL)));
    planner_world_add_pod(&W, "basic-tikv-3", "Running", true);
    planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL);
    planner_world_stores_answer(&W, 4, 4);
    W.stores[3].state_name = PD_STORE_OFFLINE;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd set-store-up 4; event Normal Scaling; update-status tidbclusters basic");
    CHECK_STR(event("Scaling"), "scale in of basic-tikv-3 cancelled: store 4 set back Up");
    planner_world_done(&W);
}

static void tikv_scale_out_never_reuses_a_deferred_claim(void)
{
    REQUIRE(running_with(spec_json(3, 4, 2, NULL, NULL)));
    struct kube_pvc *old = planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL);
    static struct kube_label deferred[] = { { ANNOTATION_PVC_DEFER_DELETING, "2026-11-18T10:00:00Z" } };
    old->meta.labels = deferred;
    old->meta.annotation_count = 1;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete persistentvolumeclaims tikv-basic-tikv-3; event Normal Scaling; update-status tidbclusters basic");
    remove_pvc("tikv-basic-tikv-3");
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("create persistentvolumeclaims tikv-basic-tikv-3; create pods basic-tikv-3; event Normal Created; "
               "update-status tidbclusters basic");
    planner_world_done(&W);
}

static void tikv_tombstones_forgotten_once_the_member_is_gone(void)
{
    REQUIRE(running_with(spec_json(3, 3, 2, NULL, NULL)));
    struct kube_pvc *old = planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL);
    static struct kube_label deferred[] = { { ANNOTATION_PVC_DEFER_DELETING, "2026-11-18T10:00:00Z" } };
    old->meta.labels = deferred;
    old->meta.annotation_count = 1;
    planner_world_stores_answer(&W, 4, 3);
    W.stores[3].state_name = PD_STORE_TOMBSTONE;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_REMOVE_TOMBSTONES) == 1);
    CHECK_STR(event("Scaling"), "scaling in tikv finished: PD forgets Tombstone store 4 (basic-tikv-3)");
    /* Not while its pod is still there. */
    planner_world_add_pod(&W, "basic-tikv-3", "Running", false);
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_REMOVE_TOMBSTONES) == 0);
    planner_world_done(&W);
}

static void bad_delete_slots_are_ignored_and_said(void)
{
    static const char *const bad[] = { "\"tikv.tidb.pingcap.com/delete-slots\":\"[1, \\\"x\\\"]\"",
                                       "\"tikv.tidb.pingcap.com/delete-slots\":\"1\"",
                                       "\"tikv.tidb.pingcap.com/delete-slots\":\"[-1]\"",
                                       "\"tikv.tidb.pingcap.com/delete-slots\":\"[1.5]\"",
                                       "\"tikv.tidb.pingcap.com/delete-slots\":\"[1e20]\"",
                                       "\"tikv.tidb.pingcap.com/delete-slots\":\"{\"" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(running_with(spec_json(3, 3, 2, bad[i], NULL)));
        REQUIRE(planner_world_run(&W));
        CHECK(plan_count(&W.plan, ACTION_DELETE) == 0 && plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 0);
        CHECK_STR(event("InvalidDeleteSlots"), "annotation tikv.tidb.pingcap.com/delete-slots is not a JSON array of "
                                               "ordinals (e.g. [1, 3]): ignored");
        planner_world_done(&W);
    }
    /* Naming an ordinal that does not exist is harmless: nothing goes. */
    REQUIRE(running_with(spec_json(3, 3, 2, "\"tikv.tidb.pingcap.com/delete-slots\":\"[7]\"", NULL)));
    REQUIRE(planner_world_run(&W));
    CHECK(event("InvalidDeleteSlots") == NULL);
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    planner_world_done(&W);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(highest_ordinal_goes_and_delete_slots_choose),
        TEST_CASE(lowest_free_ordinal_comes_unless_listed),
        TEST_CASE(tidb_scales_in_one_at_a_time),
        TEST_CASE(tidb_scales_out_one_at_a_time_behind_health),
        TEST_CASE(pd_leader_moves_before_it_leaves),
        TEST_CASE(pd_member_removal_keeps_quorum),
        TEST_CASE(pd_member_lost_while_scaled_in_comes_back_while_pd_cannot_answer),
        TEST_CASE(pd_member_wanted_again_after_pd_removed_it_starts_clean),
        TEST_CASE(tikv_scale_in_waits_for_tombstone),
        TEST_CASE(tikv_member_wanted_after_its_store_is_tombstone_starts_clean),
        TEST_CASE(tikv_claim_deleted_under_delete_policy_only_after_tombstone),
        TEST_CASE(tikv_scale_in_refused_below_max_replicas),
        TEST_CASE(tikv_scale_in_refused_while_another_store_is_down),
        TEST_CASE(tikv_scale_in_cancelled_when_wanted_again),
        TEST_CASE(tikv_scale_out_never_reuses_a_deferred_claim),
        TEST_CASE(tikv_tombstones_forgotten_once_the_member_is_gone),
        TEST_CASE(bad_delete_slots_are_ignored_and_said),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
