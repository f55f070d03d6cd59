/*
 * test_failover: the failover concern from hand-built worlds — when a TiKV
 * or TiDB member counts as failed (and when not yet), the record in status,
 * the replacement beside it, maxFailoverCount, forgiveness when the member
 * comes back, the removal of a member whose node is gone (store, pod, claim,
 * in turn), and the arbiter's rule failover_replacements_capped attacked
 * directly.
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

#define MINUTE_MS (60LL * 1000)

/* The basic cluster with `tikv_extra` in spec.tikv and `status` as the
 * stored status (JSON members of "status", may be ""). */
static const char *spec_json(const char *tikv_extra, const char *status)
{
    static char buffers[4][2048];
    static unsigned next;
    char *json = buffers[next++ % 4];
    snprintf(json, sizeof buffers[0],
             "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"generation\":2},"
             "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
             "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}%s},\"tidb\":{\"replicas\":2}},"
             "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\"}]%s%s}}",
             tikv_extra ? tikv_extra : "", status && *status ? "," : "", status ? status : "");
    return json;
}

static bool running(const char *json)
{
    if (!planner_world_init(&W, NULL))
        return false;
    planner_world_cluster_running(&W);
    planner_world_add_node(&W, "node-1", true);
    W.world.nodes_complete = true;
    return planner_world_load(&W, json);
}

static char *plan_text(void)
{
    return planner_world_describe(&W.plan);
}

#define CHECK_PLAN(expected) PLANNER_WORLD_CHECK_PLAN(&W, expected)

static const char *event(const char *reason)
{
    return planner_world_event(&W, reason);
}

/* The status update's `path` (a JSON text of it), or "(none)". */
static const char *status_json(const char *component, const char *key)
{
    static char text[1024];
    for (size_t i = 0; i < W.plan.count; i++) {
        if (W.plan.actions[i].kind != ACTION_UPDATE_STATUS)
            continue;
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(W.plan.actions[i].body, "status"), component);
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(part, key);
        char *printed = value ? cJSON_PrintUnformatted(value) : NULL;
        snprintf(text, sizeof text, "%s", printed ? printed : "(absent)");
        free(printed);
        return text;
    }
    return "(none)";
}

static struct kube_pod *pod_named(const char *name)
{
    return planner_world_pod(&W, name);
}

static void remove_pod(const char *name)
{
    planner_world_remove_pod(&W, name);
}

static void store_down_since(int index, int64_t ms_ago)
{
    W.stores[index].state_name = PD_STORE_DOWN;
    W.stores[index].state_name_text = "Down";
    W.stores[index].last_heartbeat = (PLANNER_WORLD_NOW_MS - ms_ago) * 1000000;
}

#define RECORD_TIKV0(host_down)                                                                                 \
    "\"tikv\":{\"failureStores\":{\"1\":{\"podName\":\"basic-tikv-0\",\"storeID\":\"1\",\"createdAt\":"          \
    "\"2026-11-18T11:00:00Z\",\"hostDown\":" host_down "}}}"

/* ---- TiKV: when a member counts as failed ---- */

static void down_store_is_replaced_after_the_period(void)
{
    REQUIRE(running(spec_json(NULL, NULL)));
    store_down_since(0, 2 * MINUTE_MS); /* Down, but silent for 2 minutes only */
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    store_down_since(0, 6 * MINUTE_MS);
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("Failover"), "basic-tikv-0 store 1 has been Down for 6 minutes: a replacement member is created "
                                 "beside it (failover 1 of at most 3)");
    CHECK_STR(status_json("tikv", "failureStores"),
              "{\"1\":{\"podName\":\"basic-tikv-0\",\"storeID\":\"1\",\"storeDeleted\":false,\"hostDown\":false,"
              "\"createdAt\":\"" PLANNER_WORLD_NOW_TEXT "\"}}");
    /* Recorded: the replacement comes beside it, the failed member stays. */
    REQUIRE(planner_world_load(&W, spec_json(NULL, RECORD_TIKV0("false"))));
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_CREATE) == 2); /* basic-tikv-3's claim and pod */
    char *text = plan_text();
    CHECK(text && strstr(text, "create persistentvolumeclaims tikv-basic-tikv-3") &&
          strstr(text, "create pods basic-tikv-3") && !strstr(text, "delete"));
    free(text);
    planner_world_done(&W);
}

static void disconnected_is_not_failed(void)
{
    REQUIRE(running(spec_json(NULL, NULL)));
    W.stores[1].state_name = PD_STORE_DISCONNECTED;
    W.stores[1].last_heartbeat = (PLANNER_WORLD_NOW_MS - 20 * MINUTE_MS) * 1000000;
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    planner_world_done(&W);
}

static void gone_node_is_replaced_at_once(void)
{
    REQUIRE(running(spec_json(NULL, NULL)));
    /* basic-tikv-2 runs on node-9, which no longer exists; its store just
     * stopped answering. */
    pod_named("basic-tikv-2")->node_name = "node-9";
    W.stores[2].state_name = PD_STORE_DISCONNECTED;
    W.stores[2].last_heartbeat = (PLANNER_WORLD_NOW_MS - 30 * 1000) * 1000000;
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("Failover"), "basic-tikv-2 store 3: its node is gone: a replacement member is created beside it "
                                 "(failover 1 of at most 3)");
    CHECK(strstr(status_json("tikv", "failureStores"), "\"hostDown\":true") != NULL);
    /* Unknown node list (planner tests, or a cache not synced): never gone. */
    W.world.nodes_complete = false;
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    planner_world_done(&W);
}

static void failover_off_and_capped(void)
{
    REQUIRE(running(spec_json(",\"maxFailoverCount\":0", NULL)));
    store_down_since(0, 40 * MINUTE_MS);
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    CHECK_STR(event("FailoverDisabled"), "basic-tikv-0 store 1 has been Down for 40 minutes, but "
                                         "spec.tikv.maxFailoverCount is 0: no replacement is made (raise it to let "
                                         "the operator replace failed members)");
    CHECK_STR(status_json("tikv", "failureStores"), "(absent)");
    /* maxFailoverCount 1 with one record: the next failed store waits. */
    REQUIRE(planner_world_load(&W, spec_json(",\"maxFailoverCount\":1", RECORD_TIKV0("false"))));
    store_down_since(1, 40 * MINUTE_MS);
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    CHECK_STR(event("Waiting"), "failover waits: a replacement member: 1 tikv members are failed over already "
                                "(maxFailoverCount 1) (rule failover_replacements_capped)");
    CHECK(strstr(status_json("tikv", "failureStores"), "\"2\"") == NULL);
    planner_world_done(&W);
}

/* ---- after ---- */

static void recovered_member_is_forgiven_and_the_replacement_leaves(void)
{
    REQUIRE(running(spec_json(NULL, RECORD_TIKV0("false"))));
    /* basic-tikv-0 is healthy again; the replacement basic-tikv-3 runs too. */
    planner_world_component_exists(&W, TC_TIKV, 4);
    planner_world_stores_answer(&W, 4, 4);
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("FailoverRecovered"), "basic-tikv-0 is healthy again: its failure record is dropped and the "
                                          "replacement leaves by scale-in (spec.tikv.recoverFailover: false keeps it)");
    CHECK_STR(status_json("tikv", "failureStores"), "(absent)");
    /* recoverFailover: false keeps the record and the replacement. */
    REQUIRE(planner_world_load(&W, spec_json(",\"recoverFailover\":false", RECORD_TIKV0("false"))));
    REQUIRE(planner_world_run(&W));
    CHECK(event("FailoverRecovered") == NULL);
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 0);
    /* Without the record, the fourth member is one too many: scale-in. */
    REQUIRE(planner_world_load(&W, spec_json(NULL, NULL)));
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_PD_DELETE_STORE) == 1);
    CHECK(W.plan.actions[0].store_id == 4);
    planner_world_done(&W);
}

static void member_of_a_gone_node_is_removed_in_turn(void)
{
    REQUIRE(running(spec_json(NULL, RECORD_TIKV0("true"))));
    pod_named("basic-tikv-0")->node_name = "node-9";
    pod_named("basic-tikv-0")->ready = CONDITION_FALSE;
    store_down_since(0, 60 * 1000);
    /* No replacement yet: it is created, nothing of basic-tikv-0 touched. */
    REQUIRE(planner_world_run(&W));
    char *text = plan_text();
    CHECK(text && strstr(text, "create pods basic-tikv-3") && !strstr(text, "delete"));
    free(text);
    /* The replacement is Up: the dead store goes in PD. */
    planner_world_component_exists(&W, TC_TIKV, 4);
    pod_named("basic-tikv-0")->node_name = "node-9";
    pod_named("basic-tikv-0")->ready = CONDITION_FALSE;
    planner_world_stores_answer(&W, 4, 4);
    store_down_since(0, 60 * 1000);
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("pd delete-store 1; event Normal Failover; event Warning TiKVStoreNotUp; update-status tidbclusters "
               "basic");
    /* Offline: wait; Tombstone: the pod; then the claim; then the record. */
    W.stores[0].state_name = PD_STORE_OFFLINE;
    W.stores[0].region_count = 12;
    REQUIRE(planner_world_run(&W));
    CHECK(plan_count(&W.plan, ACTION_DELETE) == 0);
    W.stores[0].state_name = PD_STORE_TOMBSTONE;
    W.stores[0].state = PD_STORE_STATE_TOMBSTONE;
    REQUIRE(planner_world_run(&W));
    CHECK_PLAN("delete pods basic-tikv-0; event Normal Failover; event Warning TiKVStoreNotUp; update-status "
               "tidbclusters basic");
    remove_pod("basic-tikv-0");
    REQUIRE(planner_world_run(&W));
    text = plan_text();
    CHECK(text && strstr(text, "delete persistentvolumeclaims tikv-basic-tikv-0") && !strstr(text, "create pods"));
    free(text);
    for (size_t i = 0; i < W.world.pvc_count; i++)
        if (W.pvc_list[i] && strcmp(W.pvc_list[i]->meta.name, "tikv-basic-tikv-0") == 0)
            W.pvc_list[i] = NULL;
    REQUIRE(planner_world_run(&W));
    CHECK_STR(status_json("tikv", "failureStores"), "(absent)");
    planner_world_done(&W);
}

/* ---- TiDB ---- */

static void tidb_not_ready_past_the_period_is_replaced(void)
{
    REQUIRE(running(spec_json(NULL, NULL)));
    struct kube_pod *pod = pod_named("basic-tidb-1");
    pod->ready = CONDITION_FALSE;
    pod->ready_transition_ms = PLANNER_WORLD_NOW_MS - 3 * MINUTE_MS;
    REQUIRE(planner_world_run(&W));
    CHECK(event("Failover") == NULL);
    pod->ready_transition_ms = PLANNER_WORLD_NOW_MS - 7 * MINUTE_MS;
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("Failover"), "basic-tidb-1 has not been ready for 7 minutes: a replacement member is created "
                                 "beside it (failover 1 of at most 3)");
    CHECK(strstr(status_json("tidb", "failureMembers"), "\"basic-tidb-1\"") != NULL);
    REQUIRE(planner_world_load(&W, spec_json(NULL, "\"tidb\":{\"failureMembers\":{\"basic-tidb-1\":{\"podName\":"
                                                   "\"basic-tidb-1\",\"createdAt\":\"2026-11-18T11:00:00Z\"}}}")));
    REQUIRE(planner_world_run(&W));
    char *text = plan_text();
    CHECK(text && strstr(text, "create pods basic-tidb-2") && !strstr(text, "delete pods"));
    free(text);
    /* Ready again: forgiven. */
    pod->ready = CONDITION_TRUE;
    pod->ready_transition_ms = PLANNER_WORLD_NOW_MS - MINUTE_MS;
    REQUIRE(planner_world_run(&W));
    CHECK(event("FailoverRecovered") != NULL);
    CHECK_STR(status_json("tidb", "failureMembers"), "(absent)");
    /* Evicted from a node that is not Ready (stuck terminating): failed too. */
    REQUIRE(planner_world_load(&W, spec_json(NULL, NULL)));
    planner_world_add_node(&W, "node-2", false);
    pod->node_name = "node-2";
    pod->ready = CONDITION_FALSE;
    pod->meta.deletion_ms = PLANNER_WORLD_NOW_MS - 2 * MINUTE_MS;
    pod->ready_transition_ms = PLANNER_WORLD_NOW_MS - 8 * MINUTE_MS;
    REQUIRE(planner_world_run(&W));
    CHECK_STR(event("Failover"), "basic-tidb-1 has not been ready for 8 minutes: a replacement member is created "
                                 "beside it (failover 1 of at most 3)");
    planner_world_done(&W);
}

/* ---- the arbiter ---- */

static void rule_failover_replacements_capped(void)
{
    REQUIRE(running(spec_json(",\"maxFailoverCount\":2", RECORD_TIKV0("false"))));
    struct member_table table;
    REQUIRE(member_table_build(&W.world, &table));
    struct plan admitted;
    struct proposals proposals;
    plan_init(&admitted, "ns", "basic", "u-1");
    proposals_init(&proposals, &admitted);
    /* A second record for basic-tikv-0, then one for 1 and one for 2: only 1 goes. */
    for (int ordinal = 0; ordinal < 3; ordinal++) {
        struct plan *scratch = proposals_open(&proposals, CONCERN_FAILOVER, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                              TC_TIKV, ordinal, "test");
        plan_event(scratch, true, "Failover", "record %d", ordinal);
        proposals_current(&proposals)->failover_record = true;
    }
    struct safety_world world = { .cluster = &W.tc, .members = &table, .pd = W.world.pd, .pd_stores_fresh = true,
                                  .pd_bootstrapped = true };
    struct safety_outcome outcome;
    REQUIRE(safety_arbitrate(&world, &proposals, &admitted, &outcome));
    CHECK(!proposals.items[0].admitted);
    CHECK(proposals.items[1].admitted);
    CHECK(!proposals.items[2].admitted);
    CHECK_INT(outcome.refused, 2);
    CHECK_STR(outcome.first_refusal.rule, "failover_replacements_capped");
    CHECK(strstr(outcome.first_refusal.message, "basic-tikv-0 has a replacement already") != NULL);
    proposals_free(&proposals);
    plan_free(&admitted);
    member_table_free(&table);
    planner_world_done(&W);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(down_store_is_replaced_after_the_period),
        TEST_CASE(disconnected_is_not_failed),
        TEST_CASE(gone_node_is_replaced_at_once),
        TEST_CASE(failover_off_and_capped),
        TEST_CASE(recovered_member_is_forgiven_and_the_replacement_leaves),
        TEST_CASE(member_of_a_gone_node_is_removed_in_turn),
        TEST_CASE(tidb_not_ready_past_the_period_is_replaced),
        TEST_CASE(rule_failover_replacements_capped),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
