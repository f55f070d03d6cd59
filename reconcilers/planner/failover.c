/*
 * failover: the failover concern — members that failed for good are
 * replaced beside the failed one, as PingCAP's failover does (reference
 * tidb-operator-v1.md §6), for TiKV and TiDB. PD members are not failed
 * over yet (a PD member down is reported and waited for).
 *
 * The records are PingCAP's: status.tikv.failureStores (keyed by store id:
 * podName, createdAt, hostDown) and status.tidb.failureMembers (podName,
 * createdAt). They are the concern's memory, written with the status, so a
 * restarted operator knows what it decided. The member table reads them: a
 * recorded member is kept (never a scale-in victim) and one more member is
 * wanted beside it, which the scale concern creates like any scale-out.
 *
 * Detection, from the outside truth on every pass:
 *   TiKV  the store is Down in PD (PD decided, after its max-store-down-time)
 *         and has not sent a heartbeat for the failover period; or the node
 *         of its pod or local volume is gone (the Node object is deleted):
 *         then at once, recorded hostDown — its data cannot come back.
 *   TiDB  the pod has not been ready for the failover period, on a node
 *         that exists (a pod that cannot be scheduled is the scheduler's).
 * A new record is a proposal (EFFECT_UPDATE_OBJECT with `failover_record`)
 * the arbiter judges by rule failover_replacements_capped: at most
 * maxFailoverCount records per component (default 3; 0 turns failover off),
 * and at most one per member. One new record per component and pass.
 *
 * After: a recorded member that is healthy again is forgiven (its record
 * goes; the replacement, now one too many, leaves by the safe scale-in
 * path), unless spec.tikv.recoverFailover is written false. A TiKV member
 * whose host is gone is removed once its replacement's store is Up: the
 * store deleted in PD (its regions are made again elsewhere; rule
 * up_stores_kept), then its pod, then its claim once the store is Tombstone
 * (rule store_data_kept_until_tombstone), then the record. A record whose
 * member no longer exists goes.
 *
 * Facts for status: p->failover_changes (records to add and drop, with the
 * proposal that must be admitted for an add to count).
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILOVER_PERIOD_DEFAULT_MS (5LL * 60 * 1000)
#define FAILOVER_MAX_DEFAULT 3

static int64_t period_ms(const struct planning *p, enum tc_component component)
{
    int64_t ms = p->world->failover_period_ms[component];
    return ms > 0 ? ms : FAILOVER_PERIOD_DEFAULT_MS;
}

int planner_failover_limit(const struct tidbcluster *cluster, enum tc_component component)
{
    const struct component_spec *spec = &cluster->spec.component[component];
    if (!spec->max_failover_count_set)
        return FAILOVER_MAX_DEFAULT;
    return spec->max_failover_count < 0 ? 0 : spec->max_failover_count;
}

static bool change(struct planning *p, enum tc_component component, bool add, const struct member_row *row,
                   uint64_t store_id, bool host_down, const char *record_key)
{
    if (p->failover_change_count >= PLANNER_FAILOVER_CHANGES_MAX)
        return true; /* the rest next pass */
    struct failover_change *c = &p->failover_changes[p->failover_change_count++];
    *c = (struct failover_change){ .component = component, .add = add, .store_id = store_id,
                                   .host_down = host_down, .proposal = (size_t)-1 };
    planner_format(c->pod, sizeof c->pod, "%s", row ? row->name : "");
    planner_format(c->key, sizeof c->key, "%s", record_key ? record_key : "");
    return true;
}

/* A new record: a proposal the arbiter judges; the status takes it only
 * when admitted. */
static bool record(struct planning *p, const struct member_row *row, uint64_t store_id, bool host_down,
                   const char *why)
{
    struct plan *into = proposals_open(&p->proposals, CONCERN_FAILOVER, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                       row->component, row->ordinal, "a replacement member");
    if (!into)
        return planner_out_of_memory(p);
    struct proposal *proposal = proposals_current(&p->proposals);
    proposal->failover_record = true;
    size_t index = p->proposals.count - 1;
    if (!planner_tell(p, CONCERN_FAILOVER, into, true, "Failover", "%s %s: a replacement member is created beside it (failover %d of at most %d)",
              row->name, why, p->failover_records[row->component] + 1,
              planner_failover_limit(p->cluster, row->component)))
        return false;
    size_t before = p->failover_change_count;
    if (!change(p, row->component, true, row, store_id, host_down, NULL))
        return false;
    if (p->failover_change_count > before)
        p->failover_changes[before].proposal = index;
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return true;
}

/* "40 s", "7 minutes". */
static void format_duration(int64_t ms, char *out, size_t size)
{
    if (ms < 120 * 1000)
        planner_format(out, size, "%lld s", (long long)(ms / 1000));
    else
        planner_format(out, size, "%lld minutes", (long long)(ms / 60000));
}

static bool recover_allowed(const struct tidbcluster *cluster, enum tc_component component)
{
    return component != TC_TIKV || cluster->spec.component[TC_TIKV].recover_failover != TC_FALSE;
}

/* A failed member with failover turned off: said, not acted on. */
static bool failover_off(struct planning *p, const struct member_row *row, const char *why)
{
    struct plan *into = proposals_open(&p->proposals, CONCERN_FAILOVER, EFFECT_NOTE, DISRUPTION_NONE, row->component,
                                       row->ordinal, "failover off");
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_FAILOVER, into, true, "FailoverDisabled",
                "%s %s, but spec.%s.maxFailoverCount is 0: no replacement is made (raise it to let the operator "
                "replace failed members)",
                row->name, why, tidbcluster_component_name(row->component));
}

/* ---- TiKV ---- */

/* The replacement is there: as many healthy unrecorded desired members as
 * spec.tikv.replicas asks for. */
static bool replacements_up(const struct planning *p, enum tc_component component)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    int healthy = 0;
    for (size_t i = 0; i < count; i++)
        healthy += rows[i].desired && !rows[i].failure && planner_member_healthy(&rows[i]);
    int replicas = p->cluster->spec.component[component].replicas;
    return healthy >= (replicas > 0 ? replicas : 0);
}

static struct plan *disrupt(struct planning *p, enum disruption disruption, const struct member_row *row,
                            const char *why)
{
    return proposals_open(&p->proposals, CONCERN_FAILOVER, EFFECT_DISRUPT, disruption, row->component, row->ordinal,
                          why);
}

/* A failed TiKV member whose host is gone: store, pod, claim, in turn. */
static bool remove_dead_member(struct planning *p, const struct member_row *row)
{
    char uid[OBJECT_UID_SIZE];
    if (!replacements_up(p, TC_TIKV)) {
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        planner_note_progress(p, CONCERN_FAILOVER, "failover: waiting for the replacement store to be Up");
        return true;
    }
    if (row->store && !row->store_tombstone && !row->store_offline) {
        struct plan *into = disrupt(p, DISRUPTION_DELETE_STORE, row, "its host is gone");
        if (!into || !plan_pd(into, ACTION_PD_DELETE_STORE, NULL, row->store->id, "failover: the store cannot return"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_FAILOVER, into, false, "Failover",
                    "%s cannot return (its node is gone): deleting store %llu; PD makes its %llu regions again "
                    "elsewhere",
                    row->name, (unsigned long long)row->store->id, (unsigned long long)row->store->region_count);
    }
    if (row->store && row->store_offline) {
        char text[PLANNER_MESSAGE_MAX];
        planner_format(text, sizeof text, "failover: waiting for store %llu (%s) to become Tombstone: %llu regions left",
                       (unsigned long long)row->store->id, row->name, (unsigned long long)row->store->region_count);
        planner_note_progress(p, CONCERN_FAILOVER, text);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return true;
    }
    if (row->pod && !row->terminating) {
        struct plan *into = disrupt(p, DISRUPTION_REMOVE_MEMBER, row, "its store is gone");
        if (!into || !plan_delete(into, &kube_resource_pods, row->pod->meta.name, object_uid(&row->pod->meta, uid),
                                  "failover: the member's pod"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_FAILOVER, into, false, "Failover", "%s: deleting its pod (its node is gone)", row->name);
    }
    if (!row->pod && row->pvc && !row->pvc->meta.deletion_ms) {
        struct plan *into = disrupt(p, DISRUPTION_DELETE_DATA, row, "its node and store are gone");
        if (!into || !plan_delete(into, &kube_resource_pvcs, row->pvc->meta.name, object_uid(&row->pvc->meta, uid),
                                  "failover: release the claim of a gone node"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_FAILOVER, into, false, "Failover", "%s: deleting claim %s (its node is gone; the volume is released)",
                    row->name, row->pvc->meta.name);
    }
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return true;
}

/* Why a desired TiKV member has failed, or NULL; *host_down when its node
 * is gone. */
static const char *tikv_failed(const struct planning *p, const struct member_row *row, bool *host_down, char *text,
                               size_t size)
{
    *host_down = false;
    if (!row->store || row->store_tombstone || row->store_offline || row->store_up)
        return NULL;
    if (row->node_gone) {
        *host_down = true;
        planner_format(text, size, "store %llu: its node is gone", (unsigned long long)row->store->id);
        return text;
    }
    int64_t silent = row->store_heartbeat_ms > 0 ? p->world->now_ms - row->store_heartbeat_ms : 0;
    if (row->store->state_name == PD_STORE_DOWN && silent >= period_ms(p, TC_TIKV)) {
        char how_long[32];
        format_duration(silent, how_long, sizeof how_long);
        planner_format(text, size, "store %llu has been Down for %s", (unsigned long long)row->store->id, how_long);
        return text;
    }
    return NULL;
}

static bool tikv_failover(struct planning *p)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    const struct tidbcluster_status *status = &p->cluster->status;
    /* Records: forgive, finish, or drop. */
    for (size_t f = 0; f < status->tikv.failure_stores.count; f++) {
        const struct tc_tikv_failure_store *recorded = &status->tikv.failure_stores.items[f];
        int ordinal = planner_member_ordinal(p->cluster, TC_TIKV, recorded->pod_name ? recorded->pod_name : "");
        const struct member_row *row = member_table_find(&p->members, TC_TIKV, ordinal);
        if (!row || !row->existing) {
            if (!change(p, TC_TIKV, false, row, 0, false, recorded->store_id))
                return false;
            continue;
        }
        bool dead = recorded->host_down || row->node_gone;
        if (!dead && planner_member_healthy(row) && recover_allowed(p->cluster, TC_TIKV)) {
            struct plan *into = proposals_open(&p->proposals, CONCERN_FAILOVER, EFFECT_NOTE, DISRUPTION_NONE, TC_TIKV,
                                               row->ordinal, "recovered");
            if (!planner_tell(p, CONCERN_FAILOVER, into, false, "FailoverRecovered",
                      "%s is healthy again: its failure record is dropped and the replacement leaves by scale-in "
                      "(spec.tikv.recoverFailover: false keeps it)",
                      row->name) ||
                !change(p, TC_TIKV, false, row, 0, false, recorded->store_id))
                return false;
            continue;
        }
        if (dead && !p->pd.stores_fresh)
            continue;
        if (dead && !remove_dead_member(p, row))
            return false;
    }
    /* New failures: one per pass. */
    if (!p->pd.stores_fresh)
        return true;
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->desired || !row->existing || row->failure)
            continue;
        char text[PLANNER_MESSAGE_MAX];
        bool host_down = false;
        const char *why = tikv_failed(p, row, &host_down, text, sizeof text);
        if (why && planner_failover_limit(p->cluster, TC_TIKV) == 0)
            return failover_off(p, row, why);
        if (why)
            return record(p, row, row->store->id, host_down, why);
    }
    return true;
}

/* ---- TiDB ---- */

static bool tidb_failover(struct planning *p)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIDB, &count);
    const struct tidbcluster_status *status = &p->cluster->status;
    for (size_t f = 0; f < status->tidb.failure_members.count; f++) {
        const struct tc_tidb_failure_member *recorded = &status->tidb.failure_members.items[f];
        int ordinal = planner_member_ordinal(p->cluster, TC_TIDB, recorded->pod_name ? recorded->pod_name : "");
        const struct member_row *row = member_table_find(&p->members, TC_TIDB, ordinal);
        if (!row || !row->existing || planner_member_healthy(row)) {
            if (row && row->existing) {
                struct plan *into = proposals_open(&p->proposals, CONCERN_FAILOVER, EFFECT_NOTE, DISRUPTION_NONE,
                                                   TC_TIDB, row->ordinal, "recovered");
                if (!planner_tell(p, CONCERN_FAILOVER, into, false, "FailoverRecovered",
                          "%s is ready again: its failure record is dropped and the replacement leaves by scale-in",
                          row->name))
                    return false;
            }
            if (!change(p, TC_TIDB, false, row, 0, false, recorded->pod_name))
                return false;
        }
    }
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        /* (a pod stuck terminating on a node that is not Ready counts: the
         * taint manager evicted it, and it stays until the node is back) */
        if (!row->desired || !row->pod || row->failure || row->ready || (row->terminating && !row->node_lost) ||
            !row->pod->node_name)
            continue;
        int64_t since = row->unready_since_ms;
        if (since <= 0 || p->world->now_ms - since < period_ms(p, TC_TIDB))
            continue;
        char text[PLANNER_MESSAGE_MAX], how_long[32];
        format_duration(p->world->now_ms - since, how_long, sizeof how_long);
        planner_format(text, sizeof text, "has not been ready for %s", how_long);
        if (planner_failover_limit(p->cluster, TC_TIDB) == 0)
            return failover_off(p, row, text);
        return record(p, row, 0, false, text);
    }
    return true;
}

bool failover_propose(struct planning *p)
{
    p->failover_records[TC_TIKV] = (int)p->cluster->status.tikv.failure_stores.count;
    p->failover_records[TC_TIDB] = (int)p->cluster->status.tidb.failure_members.count;
    if (p->component[TC_TIKV].present && !tikv_failover(p))
        return false;
    if (p->component[TC_TIDB].present && !tidb_failover(p))
        return false;
    return true;
}
