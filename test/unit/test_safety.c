/*
 * test_safety: the safety arbiter's rules, each attacked with a hand-built
 * world and a proposal that would break it, then shown admitting the same
 * proposal once the world makes it safe; the admission order; and bounded
 * plans (a spec with 100,000 TiKV replicas creates at most the budget).
 */
#include "reconcilers/build/build.h"
#include "reconcilers/planner/members.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/planner/safety.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct planner_world W;
static struct member_table table;
static struct proposals proposals;
static struct plan admitted;
static struct safety_outcome outcome;

/* A running basic cluster (PD 3 healthy with basic-pd-0 leader, TiKV 3 Up
 * stores 1..3, TiDB 2), every pod on node-1, which is Ready. */
static bool running(const char *json)
{
    if (!planner_world_init(&W, json))
        return false;
    planner_world_cluster_running(&W);
    planner_world_add_node(&W, "node-1", true);
    return true;
}

static bool start_proposals(void)
{
    member_table_free(&table);
    proposals_free(&proposals);
    plan_free(&admitted);
    return member_table_build(&W.world, &table) && plan_init(&admitted, "ns", "basic", "u-1") &&
           proposals_init(&proposals, &admitted);
}

static struct proposal *propose(enum concern concern, enum disruption disruption, enum tc_component component,
                                int ordinal, const char *why)
{
    struct plan *scratch = proposals_open(&proposals, concern, EFFECT_DISRUPT, disruption, component, ordinal, why);
    if (!scratch)
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "basic-%s-%d", tidbcluster_component_name(component), ordinal);
    if (disruption == DISRUPTION_DELETE_STORE)
        plan_pd(scratch, ACTION_PD_DELETE_STORE, NULL, (uint64_t)ordinal + 1, why);
    else
        plan_delete(scratch, &kube_resource_pods, name, NULL, why);
    return proposals_current(&proposals);
}

static bool judge(void)
{
    struct safety_world world = { .cluster = &W.tc, .members = &table, .pd = W.world.pd,
                                  .pd_stores_fresh = W.world.pd && W.world.pd->parts[PD_PART_STORES].ever_succeeded,
                                  .pd_bootstrapped = W.world.pd && W.world.pd->members.count > 0 };
    return safety_arbitrate(&world, &proposals, &admitted, &outcome);
}

/* One proposal against the world: the rule that refused it, or NULL. */
static const char *verdict(enum concern concern, enum disruption disruption, enum tc_component component, int ordinal)
{
    if (!start_proposals() || !propose(concern, disruption, component, ordinal, "test") || !judge())
        return "(out of memory)";
    if (outcome.refused == 0)
        return outcome.admitted == 1 && admitted.count == 1 ? NULL : "(admitted without its action)";
    return admitted.count == 0 ? outcome.first_refusal.rule : "(refused but its action ran)";
}

static void done(void)
{
    member_table_free(&table);
    proposals_free(&proposals);
    plan_free(&admitted);
    planner_world_done(&W);
}

#define CHECK_VERDICT(rule, concern, disruption, component, ordinal)                               \
    do {                                                                                           \
        const char *got_ = verdict(concern, disruption, component, ordinal);                       \
        const char *want_ = (rule);                                                                \
        if ((got_ == NULL) != (want_ == NULL) || (got_ && strcmp(got_, want_) != 0))               \
            test_fail(__FILE__, __LINE__, "verdict %s, expected %s", got_ ? got_ : "admitted",      \
                      want_ ? want_ : "admitted");                                                 \
    } while (0)

static struct kube_pod *pod_named(const char *name)
{
    for (size_t i = 0; i < W.world.pod_count; i++)
        if (strcmp(W.pods[i].meta.name, name) == 0)
            return &W.pods[i];
    return NULL;
}

/* ---- the member table ---- */

static void table_rows_join_pod_claim_member_and_store(void)
{
    REQUIRE(running(NULL));
    W.stores[1].address = "basic-tikv-1.basic-tikv-peer.ns.svc:20160";
    planner_world_evicting(&W, 2);
    REQUIRE(member_table_build(&W.world, &table));
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&table, TC_TIKV, &count);
    CHECK_INT(count, 3);
    const struct member_row *row = member_table_find(&table, TC_TIKV, 1);
    REQUIRE(row == &rows[1]);
    CHECK_STR(row->name, "basic-tikv-1");
    CHECK(row->desired && row->ready && !row->terminating);
    CHECK_STR(row->pod->meta.name, "basic-tikv-1");
    CHECK_STR(row->pvc->meta.name, "tikv-basic-tikv-1");
    CHECK_STR(row->node->meta.name, "node-1");
    CHECK_INT(row->store->id, 2);
    CHECK(row->store_up && row->evicting && !row->store_tombstone);
    const struct member_row *pd0 = member_table_find(&table, TC_PD, 0);
    REQUIRE(pd0);
    CHECK(pd0->pd_leader && pd0->pd_health == MEMBER_HEALTH_GOOD && pd0->pd_member);
    CHECK(member_table_find(&table, TC_TIDB, 2) == NULL);
    CHECK(member_table_find(&table, TC_TIDB, -1) == NULL);
    done();
}

static void table_knows_versions_volumes_and_store_states(void)
{
    REQUIRE(running(NULL));
    char wanted[17];
    REQUIRE(build_pod_spec_hash(&W.tc, TC_TIKV, wanted));
    planner_world_pod_annotate(&W, pod_named("basic-tikv-0"), ANNOTATION_SPEC_HASH, wanted);
    planner_world_pod_annotate(&W, pod_named("basic-tikv-1"), ANNOTATION_SPEC_HASH, "0123456789abcdef");
    planner_world_add_pv(&W, &W.pvcs[4], "pv-tikv-1"); /* tikv-basic-tikv-1 */
    pod_named("basic-tikv-2")->ready = CONDITION_FALSE;
    pod_named("basic-tikv-2")->ready_transition_ms = PLANNER_WORLD_NOW_MS - 60000;
    W.stores[1].state_name = PD_STORE_OFFLINE;
    W.stores[2].state_name = PD_STORE_DISCONNECTED;
    W.stores[2].last_heartbeat = (PLANNER_WORLD_NOW_MS - 30000) * 1000000LL;
    REQUIRE(member_table_build(&W.world, &table));
    const struct member_row *zero = member_table_find(&table, TC_TIKV, 0);
    const struct member_row *one = member_table_find(&table, TC_TIKV, 1);
    const struct member_row *two = member_table_find(&table, TC_TIKV, 2);
    REQUIRE(zero && one && two);
    CHECK_STR(zero->spec_hash, wanted);
    CHECK(!zero->out_of_date);
    CHECK(one->out_of_date);
    CHECK(two->spec_hash == NULL && !two->out_of_date); /* no hash: not known to be out of date */
    CHECK(one->pv && strcmp(one->pv->meta.name, "pv-tikv-1") == 0);
    CHECK(zero->pv == NULL);
    CHECK(one->store_offline && !one->store_up && !one->store_down);
    CHECK(two->store_down && !two->store_offline);
    CHECK_INT(two->store_heartbeat_ms, PLANNER_WORLD_NOW_MS - 30000);
    CHECK_INT(two->unready_since_ms, PLANNER_WORLD_NOW_MS - 60000);
    CHECK_INT(zero->unready_since_ms, 0);
    done();
}

static void table_keeps_members_beyond_replicas_and_tombstones(void)
{
    REQUIRE(running(NULL));
    /* An extra pod beyond replicas and a tombstone of a replaced store of
     * basic-tikv-0 listed after its live store. */
    planner_world_add_pod(&W, "basic-tikv-5", "Running", true);
    W.stores[3] = W.stores[0];
    W.stores[3].id = 99;
    W.stores[3].state_name = PD_STORE_TOMBSTONE;
    W.pd.stores.count = 4;
    REQUIRE(member_table_build(&W.world, &table));
    const struct member_row *extra = member_table_find(&table, TC_TIKV, 5);
    REQUIRE(extra);
    CHECK(!extra->desired && extra->pod && !extra->pvc);
    const struct member_row *zero = member_table_find(&table, TC_TIKV, 0);
    REQUIRE(zero && zero->store);
    CHECK_INT(zero->store->id, 1); /* the live store wins */
    CHECK(!zero->store_tombstone);
    done();
}

static void table_is_bounded_for_absurd_replicas(void)
{
    REQUIRE(planner_world_init(&W, "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\"},"
                                   "\"spec\":{\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tikv\":{\"replicas\":100000,\"requests\":{\"storage\":\"10Gi\"}},\"tidb\":{\"replicas\":1}}}"));
    planner_world_component_exists(&W, TC_TIKV, 2);
    REQUIRE(member_table_build(&W.world, &table));
    size_t count = 0;
    member_table_rows(&table, TC_TIKV, &count);
    CHECK_INT(count, 2 + MEMBERS_MISSING_WINDOW);
    CHECK_INT(table.missing_beyond[TC_TIKV], 100000 - 2 - MEMBERS_MISSING_WINDOW);
    CHECK(member_table_find(&table, TC_TIKV, 2 + MEMBERS_MISSING_WINDOW - 1) != NULL);
    CHECK(member_table_find(&table, TC_TIKV, 2 + MEMBERS_MISSING_WINDOW) == NULL);
    done();
}

static void table_reads_delete_slots(void)
{
    REQUIRE(running("{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\","
                    "\"annotations\":{\"tikv.tidb.pingcap.com/delete-slots\":\"[1, 7]\","
                    "\"pd.tidb.pingcap.com/delete-slots\":\"not json\"}},"
                    "\"spec\":{\"pd\":{\"replicas\":3},\"tikv\":{\"replicas\":3},\"tidb\":{\"replicas\":2}}}"));
    REQUIRE(member_table_build(&W.world, &table));
    CHECK(member_table_find(&table, TC_TIKV, 1)->delete_slot);
    CHECK(!member_table_find(&table, TC_TIKV, 0)->delete_slot);
    CHECK(!member_table_find(&table, TC_PD, 1)->delete_slot); /* garbage is no slot */
    done();
}

/* ---- one_disruption_at_a_time ---- */

static void one_disruption_per_pass(void)
{
    REQUIRE(running(NULL));
    REQUIRE(start_proposals());
    REQUIRE(propose(CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIDB, 0, "rolling basic-tidb-0"));
    REQUIRE(propose(CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIDB, 1, "rolling basic-tidb-1"));
    REQUIRE(judge());
    CHECK_INT(outcome.admitted, 1);
    CHECK_INT(outcome.refused, 1);
    CHECK_STR(outcome.first_refusal.rule, "one_disruption_at_a_time");
    CHECK_STR(outcome.first_refusal.message, "upgrade waits: rolling basic-tidb-1: another disruption was admitted "
                                             "in this pass (rule one_disruption_at_a_time)");
    CHECK_INT(admitted.count, 1);
    CHECK_STR(admitted.actions[0].name, "basic-tidb-0");
    done();
}

static void no_disruption_while_a_member_goes_down(void)
{
    REQUIRE(running(NULL));
    pod_named("basic-pd-2")->meta.deletion_ms = PLANNER_WORLD_NOW_MS - 1000;
    CHECK_VERDICT("one_disruption_at_a_time", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIDB, 0);
    CHECK_STR(outcome.first_refusal.message,
              "upgrade waits: test: basic-pd-2 is being deleted (rule one_disruption_at_a_time)");
    pod_named("basic-pd-2")->meta.deletion_ms = 0;
    W.stores[2].state_name = PD_STORE_OFFLINE;
    CHECK_VERDICT("one_disruption_at_a_time", CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_TIDB, 1);
    /* The member already going down may be acted on (finishing its removal). */
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_TIKV, 2);
    done();
}

/* Found by the deterministic simulation (test/dst seed 174): a store the
 * operator had just deleted still looked Up in PD data read before the
 * write, and a PD scale-in went at the same time. No disruption starts
 * until PD's members, health and stores were read after the last write. */
static void no_disruption_before_pd_is_read_after_a_write(void)
{
    REQUIRE(running(NULL));
    for (int part = 0; part < PD_PART_COUNT; part++)
        W.pd.parts[part].last_attempt_ms = 5000;
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 2);
    W.pd.written_ms = 6000; /* delete-store sent after the last read */
    CHECK_VERDICT("one_disruption_at_a_time", CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 2);
    CHECK_STR(outcome.first_refusal.message,
              "scale waits: test: PD has not been read since the operator's last PD write (rule one_disruption_at_a_time)");
    /* Stores read again, members not yet: still waits. */
    W.pd.parts[PD_PART_STORES].last_attempt_ms = 6500;
    CHECK_VERDICT("one_disruption_at_a_time", CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 2);
    W.pd.parts[PD_PART_MEMBERS].last_attempt_ms = 6500;
    W.pd.parts[PD_PART_HEALTH].last_attempt_ms = 6600;
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 2);
    /* Every disruption waits for it, TiDB's too. */
    W.pd.written_ms = 7000;
    CHECK_VERDICT("one_disruption_at_a_time", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIDB, 0);
    done();
}

static void failover_goes_before_upgrade(void)
{
    REQUIRE(running(NULL));
    REQUIRE(start_proposals());
    REQUIRE(propose(CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIDB, 0, "rolling"));
    REQUIRE(propose(CONCERN_FAILOVER, DISRUPTION_MOVE, TC_TIDB, 1, "node lost"));
    /* Notes and objects are admitted whatever happens to disruptions. */
    struct plan *note = proposals_open(&proposals, CONCERN_UPGRADE, EFFECT_NOTE, DISRUPTION_NONE, TC_TIDB, -1, "");
    REQUIRE(note && plan_event(note, false, "Upgrading", "rolling"));
    REQUIRE(judge());
    CHECK_INT(outcome.admitted, 2);
    CHECK_INT(outcome.refused, 1);
    CHECK_INT(outcome.first_refusal.concern, CONCERN_UPGRADE);
    CHECK_INT(plan_count(&admitted, ACTION_EVENT), 1);
    CHECK_STR(admitted.actions[1].name, "basic-tidb-1");
    done();
}

/* ---- pd_quorum_kept ---- */

static void pd_quorum_kept(void)
{
    REQUIRE(running(NULL));
    /* All healthy: a follower may restart, the leader may not. */
    CHECK_VERDICT(NULL, CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 1);
    CHECK_VERDICT("pd_quorum_kept", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 0);
    CHECK_STR(outcome.first_refusal.message,
              "upgrade waits: test: basic-pd-0 is the PD leader: transfer leadership first (rule pd_quorum_kept)");
    /* One follower unhealthy: restarting the other would leave 1 of 3. */
    W.health[2].health = false;
    CHECK_VERDICT("pd_quorum_kept", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 1);
    CHECK_STR(outcome.first_refusal.message, "upgrade waits: test: only 1 other PD members are healthy, 2 needed "
                                             "for quorum (rule pd_quorum_kept)");
    /* Restarting the unhealthy one itself keeps 2 of 3. */
    CHECK_VERDICT(NULL, CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 2);
    /* A move (failover) counts the same. */
    CHECK_VERDICT("pd_quorum_kept", CONCERN_FAILOVER, DISRUPTION_MOVE, TC_PD, 1);
    /* Removing a member shrinks the quorum: of 3 with pd-2 down, removing
     * pd-2 leaves 2 healthy of 2. Removing healthy pd-1 leaves 1 of 2. */
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 2);
    CHECK_VERDICT("pd_quorum_kept", CONCERN_SCALE, DISRUPTION_REMOVE_MEMBER, TC_PD, 1);
    /* No PD member known at all: nothing to keep (bootstrap). */
    W.pd.members.count = 0;
    CHECK_VERDICT(NULL, CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 1);
    done();
}

/* The test-only seam (safety_disable_rule): one named rule skipped, the
 * others still judged, everything back once re-enabled. */
static void a_disabled_rule_is_skipped_and_only_that_one(void)
{
    REQUIRE(running(NULL));
    CHECK(!safety_disable_rule("no_such_rule"));
    CHECK(safety_disabled_rule() == NULL);
    CHECK_VERDICT("pd_quorum_kept", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 0);
    for (size_t i = 0; i < safety_rule_count; i++)
        CHECK(safety_disable_rule(safety_rule_names[i]));
    CHECK(safety_disable_rule("pd_quorum_kept"));
    CHECK_STR(safety_disabled_rule(), "pd_quorum_kept");
    /* The leader restart the rule refuses now goes... */
    CHECK_VERDICT(NULL, CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 0);
    /* ...while another rule still refuses what it refuses. */
    W.stores[1].state_name = PD_STORE_DOWN;
    CHECK_VERDICT("up_stores_kept", CONCERN_SCALE, DISRUPTION_DELETE_STORE, TC_TIKV, 0);
    W.stores[1].state_name = PD_STORE_UP;
    /* An unknown name leaves the disabled rule as it was. */
    CHECK(!safety_disable_rule("no_such_rule"));
    CHECK_STR(safety_disabled_rule(), "pd_quorum_kept");
    CHECK(safety_disable_rule(NULL));
    CHECK(safety_disabled_rule() == NULL);
    CHECK_VERDICT("pd_quorum_kept", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_PD, 0);
    done();
}

/* ---- tikv_leaders_evicted_first ---- */

static void tikv_leaders_evicted_first(void)
{
    REQUIRE(running(NULL));
    CHECK_VERDICT("tikv_leaders_evicted_first", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIKV, 1);
    CHECK_STR(outcome.first_refusal.message, "upgrade waits: test: store 2 (basic-tikv-1) holds 10 leaders: evict "
                                             "them first (rule tikv_leaders_evicted_first)");
    planner_world_evicting(&W, 2);
    CHECK_VERDICT("tikv_leaders_evicted_first", CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIKV, 1);
    CHECK_STR(outcome.first_refusal.message,
              "upgrade waits: test: store 2 (basic-tikv-1) still holds 10 leaders (rule tikv_leaders_evicted_first)");
    W.stores[1].leader_count = 0;
    CHECK_VERDICT(NULL, CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIKV, 1);
    /* The concern's eviction timeout is the way out. */
    W.stores[1].leader_count = 10;
    REQUIRE(start_proposals());
    struct proposal *late = propose(CONCERN_UPGRADE, DISRUPTION_RESTART, TC_TIKV, 1, "eviction timed out");
    REQUIRE(late);
    late->eviction_timed_out = true;
    REQUIRE(judge());
    CHECK_INT(outcome.refused, 0);
    /* A store that is Down holds no leaders worth evicting. */
    W.stores[2].state_name = PD_STORE_DOWN;
    CHECK_VERDICT(NULL, CONCERN_FAILOVER, DISRUPTION_MOVE, TC_TIKV, 2);
    done();
}

/* ---- store_data_kept_until_tombstone ---- */

static void store_data_kept_until_tombstone(void)
{
    REQUIRE(running(NULL));
    CHECK_VERDICT("store_data_kept_until_tombstone", CONCERN_SCALE, DISRUPTION_DELETE_DATA, TC_TIKV, 2);
    CHECK_STR(outcome.first_refusal.message, "scale waits: test: store 3 (basic-tikv-2) is Up, not Tombstone "
                                             "(rule store_data_kept_until_tombstone)");
    W.stores[2].state_name = PD_STORE_OFFLINE;
    CHECK_VERDICT("store_data_kept_until_tombstone", CONCERN_SCALE, DISRUPTION_DELETE_DATA, TC_TIKV, 2);
    W.stores[2].state_name = PD_STORE_TOMBSTONE;
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_DELETE_DATA, TC_TIKV, 2);
    /* Not knowing PD's stores is never taken for "no store". */
    W.pd.parts[PD_PART_STORES].ever_succeeded = false;
    W.pd.stores.count = 2;
    CHECK_VERDICT("store_data_kept_until_tombstone", CONCERN_SCALE, DISRUPTION_DELETE_DATA, TC_TIKV, 2);
    CHECK_STR(outcome.first_refusal.message, "scale waits: test: PD's stores are not known now "
                                             "(rule store_data_kept_until_tombstone)");
    W.pd.parts[PD_PART_STORES].ever_succeeded = true;
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_DELETE_DATA, TC_TIKV, 2); /* PD knows no store of it */
    done();
}

/* ---- up_stores_kept ---- */

static void up_stores_kept(void)
{
    REQUIRE(running("{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\"},"
                    "\"spec\":{\"pd\":{\"replicas\":3},\"tikv\":{\"replicas\":4},\"tidb\":{\"replicas\":2}}}"));
    CHECK_VERDICT("up_stores_kept", CONCERN_SCALE, DISRUPTION_DELETE_STORE, TC_TIKV, 2);
    CHECK_STR(outcome.first_refusal.message, "scale waits: test: deleting a store would leave 2 Up stores, "
                                             "max-replicas is 3 (rule up_stores_kept)");
    planner_world_add_pod(&W, "basic-tikv-3", "Running", true);
    planner_world_stores_answer(&W, 4, 4);
    CHECK_VERDICT(NULL, CONCERN_SCALE, DISRUPTION_DELETE_STORE, TC_TIKV, 3);
    /* PD's own max-replicas wins over the default. */
    W.pd.config.max_replicas = 4;
    CHECK_VERDICT("up_stores_kept", CONCERN_SCALE, DISRUPTION_DELETE_STORE, TC_TIKV, 3);
    W.pd.parts[PD_PART_STORES].ever_succeeded = false;
    W.pd.config.max_replicas = 1;
    CHECK_VERDICT("up_stores_kept", CONCERN_SCALE, DISRUPTION_DELETE_STORE, TC_TIKV, 3);
    done();
}

/* ---- no_double_attach ---- */

static void no_double_attach(void)
{
    REQUIRE(running(NULL));
    W.nodes[0].ready = CONDITION_UNKNOWN;
    W.stores[0].state_name = PD_STORE_DOWN;
    CHECK_VERDICT("no_double_attach", CONCERN_FAILOVER, DISRUPTION_MOVE, TC_TIKV, 0);
    CHECK_STR(outcome.first_refusal.message, "failover waits: test: node node-1 of basic-tikv-0 is not Ready but not "
                                             "confirmed gone: it may still write (rule no_double_attach)");
    /* The node object is gone: confirmed, the member may move. */
    W.world.node_list_count = 0;
    CHECK_VERDICT(NULL, CONCERN_FAILOVER, DISRUPTION_MOVE, TC_TIKV, 0);
    done();
}

/* ---- bounded_creates ---- */

static const char *const huge_json =
    "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\"},"
    "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tikv\":{\"replicas\":100000,\"requests\":{\"storage\":\"10Gi\"},"
    "\"scalePolicy\":{\"scaleOutParallelism\":1000}},\"tidb\":{\"replicas\":1}}}";

static size_t creates_of(const struct plan *plan, const char *prefix)
{
    size_t count = 0;
    for (size_t i = 0; i < plan->count; i++)
        if (plan->actions[i].kind == ACTION_CREATE && plan->actions[i].resource == &kube_resource_pods &&
            strncmp(plan->actions[i].name, prefix, strlen(prefix)) == 0)
            count++;
    return count;
}

static bool find_create(const char *name)
{
    for (size_t i = 0; i < W.plan.count; i++)
        if (W.plan.actions[i].kind == ACTION_CREATE && W.plan.actions[i].resource == &kube_resource_pods &&
            strcmp(W.plan.actions[i].name, name) == 0)
            return true;
    return false;
}

static void absurd_replicas_create_at_most_the_budget(void)
{
    REQUIRE(planner_world_init(&W, huge_json));
    planner_world_component_exists(&W, TC_PD, 3);
    planner_world_pd_answers(&W, 3, 3, true);
    planner_world_stores_answer(&W, 0, 0);
    planner_world_add_service(&W, "basic-tikv-peer");
    planner_world_add_configmap(&W, planner_world_configmap_name(&W, TC_TIKV));
    /* Slow start: 4 first, then twice the pods that exist, up to the cap. */
    static const struct {
        int existing;
        size_t creates;
    } steps[] = { { 0, SAFETY_SLOW_START_FIRST }, { 4, 8 }, { 12, 24 }, { 17, SAFETY_CREATE_CAP } };
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        while ((int)W.world.pod_count - 3 < steps[s].existing) {
            int ordinal = (int)W.world.pod_count - 3;
            planner_world_add_pod(&W, planner_world_keep(&W, "basic-tikv-%d", ordinal), "Running", true);
            planner_world_add_pvc(&W, planner_world_keep(&W, "tikv-basic-tikv-%d", ordinal), "Bound", NULL);
        }
        planner_world_stores_answer(&W, steps[s].existing, steps[s].existing);
        REQUIRE(planner_world_run(&W));
        if (creates_of(&W.plan, "basic-tikv-") != steps[s].creates) {
            char *text = planner_world_describe(&W.plan);
            test_fail(__FILE__, __LINE__, "plan: %s (%s)", text ? text : "?",
                      W.plan.count ? W.plan.actions[0].message : "");
            free(text);
        }
        CHECK_INT(creates_of(&W.plan, "basic-tikv-"), steps[s].creates);
        CHECK(W.plan.requeue_after_ms > 0);
        /* The refusal is a pace, not a problem: no Waiting event. */
        for (size_t i = 0; i < W.plan.count; i++)
            CHECK(W.plan.actions[i].kind != ACTION_EVENT || strcmp(W.plan.actions[i].reason, "Waiting") != 0);
    }
    done();
}

/* New members that never get ready stop the growth: at most the window
 * may be not ready at once, whichever concern proposes them (the scale
 * concern also waits for health; the arbiter holds even if one did not),
 * while a member that returns (its claim exists) counts only against the cap. */
static void unready_members_hold_the_window(void)
{
    REQUIRE(planner_world_init(&W, huge_json));
    planner_world_component_exists(&W, TC_PD, 3);
    planner_world_pd_answers(&W, 3, 3, true);
    for (int i = 0; i < 3; i++) {
        planner_world_add_pod(&W, planner_world_keep(&W, "basic-tikv-%d", i), "Pending", false);
        planner_world_add_pvc(&W, planner_world_keep(&W, "tikv-basic-tikv-%d", i), "Pending", NULL);
    }
    planner_world_add_pvc(&W, "tikv-basic-tikv-3", "Bound", NULL); /* its pod was lost */
    REQUIRE(start_proposals());
    for (int i = 3; i < 13; i++) {
        struct plan *scratch =
            proposals_open(&proposals, CONCERN_FAILOVER, EFFECT_CREATE_MEMBER, DISRUPTION_NONE, TC_TIKV, i, "create");
        REQUIRE(scratch && plan_create(scratch, &kube_resource_pods, cJSON_CreateObject(), "test"));
    }
    REQUIRE(judge());
    /* 3 not ready, window 4: one new member (basic-tikv-4) besides basic-tikv-3's return. */
    CHECK_INT(outcome.admitted, 2);
    CHECK_INT(outcome.refused, 8);
    CHECK_INT(outcome.first_refusal.ordinal, 5);
    CHECK_STR(outcome.first_refusal.message, "failover waits: create: 3 tikv members are not ready yet (at most 4 at "
                                             "once) (rule bounded_creates)");
    /* Through the planner: the scale concern waits for the sick members. */
    REQUIRE(planner_world_run(&W));
    CHECK_INT(creates_of(&W.plan, "basic-tikv-"), 1); /* only basic-tikv-3's pod returns */
    CHECK(find_create("basic-tikv-3"));
    done();
}

static void pd_bootstrap_set_starts_together(void)
{
    REQUIRE(planner_world_init(&W, "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\"},"
                                   "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":7,\"requests\":{\"storage\":\"1Gi\"}},"
                                   "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":1}}}"));
    REQUIRE(planner_world_run(&W));
    CHECK_INT(creates_of(&W.plan, "basic-pd-"), 7); /* more than the slow start: one bootstrap unit */
    done();
}

static void creates_beyond_budget_are_refused_in_order(void)
{
    REQUIRE(running("{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\"},"
                    "\"spec\":{\"pd\":{\"replicas\":3},\"tikv\":{\"replicas\":3},\"tidb\":{\"replicas\":40}}}"));
    REQUIRE(start_proposals());
    for (int i = 2; i < 40; i++) {
        struct plan *scratch =
            proposals_open(&proposals, CONCERN_BRINGUP, EFFECT_CREATE_MEMBER, DISRUPTION_NONE, TC_TIDB, i, "create");
        REQUIRE(scratch && plan_create(scratch, &kube_resource_pods, cJSON_CreateObject(), "test"));
    }
    REQUIRE(judge());
    /* 2 TiDB pods exist: budget 4. */
    CHECK_INT(outcome.admitted, 4);
    CHECK_INT(outcome.refused, 34);
    CHECK_STR(outcome.first_refusal.rule, "bounded_creates");
    CHECK_INT(outcome.first_refusal.ordinal, 6);
    CHECK_INT(admitted.count, 4);
    done();
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(table_rows_join_pod_claim_member_and_store),
        TEST_CASE(table_knows_versions_volumes_and_store_states),
        TEST_CASE(table_keeps_members_beyond_replicas_and_tombstones),
        TEST_CASE(table_is_bounded_for_absurd_replicas),
        TEST_CASE(table_reads_delete_slots),
        TEST_CASE(one_disruption_per_pass),
        TEST_CASE(no_disruption_while_a_member_goes_down),
        TEST_CASE(no_disruption_before_pd_is_read_after_a_write),
        TEST_CASE(failover_goes_before_upgrade),
        TEST_CASE(pd_quorum_kept),
        TEST_CASE(a_disabled_rule_is_skipped_and_only_that_one),
        TEST_CASE(tikv_leaders_evicted_first),
        TEST_CASE(store_data_kept_until_tombstone),
        TEST_CASE(up_stores_kept),
        TEST_CASE(no_double_attach),
        TEST_CASE(absurd_replicas_create_at_most_the_budget),
        TEST_CASE(unready_members_hold_the_window),
        TEST_CASE(pd_bootstrap_set_starts_together),
        TEST_CASE(creates_beyond_budget_are_refused_in_order),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
