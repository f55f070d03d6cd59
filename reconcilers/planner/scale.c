/*
 * scale: the scale concern — members added to and removed from components
 * that already run (the first members are bring-up's). PingCAP's scaler
 * (reference §4) in our terms: the member table says which members are
 * desired (members.h: delete-slots first, then the highest ordinals go;
 * new members take the lowest free ordinals); this file proposes the next
 * step for each member that differs, and the arbiter (safety.c) decides
 * whether it may go now. Every step is level-triggered: each pass
 * re-reads PD and proposes again from what it sees.
 *
 * Scale out, per component: at most scalePolicy.scaleOutParallelism new
 * members at once (PD: 1), and only while every existing member is
 * healthy (PD member healthy, TiKV store Up, pod Ready). A claim that an
 * earlier scale-in left (marked ANNOTATION_PVC_DEFER_DELETING) is deleted
 * first, so the new member starts on a clean disk with a new store.
 *
 * Scale in, one member per component at a time, the member in progress
 * first:
 *   TiDB  delete the pod (its grace period is respected);
 *   PD    leader? transfer leadership to the lowest healthy remaining
 *         member; then delete the member from PD; once PD no longer lists
 *         it, delete the pod;
 *   TiKV  ask PD to delete the store (Up -> Offline; the pod is stamped
 *         ANNOTATION_SCALE_IN_TIME); wait while PD moves its regions;
 *         once PD says Tombstone (or PD, fresh, never knew a store of it
 *         and the pod is not new), delete the pod.
 * Then the claim: deleted under pvReclaimPolicy Delete, otherwise marked
 * deferred (kept, never reused); then PD forgets the Tombstone. A store
 * Offline whose member is desired again (replicas raised) is set back Up:
 * the scale-in is cancelled and nothing was deleted. A PD member wanted
 * again after PD removed it starts again on a clean disk (its pod
 * deleted and its claim handled as a scale-in's: deleted under
 * pvReclaimPolicy Delete, else kept deferred, never reused).
 *
 * Named waits (each a Normal Event `Scaling` and a requeue; a wait past
 * SCALE_IN_STALL_MS becomes a Warning `ScaleInStalled` with the way out):
 * a store Offline, a pod terminating, PD members or stores not known now,
 * a new member not healthy yet.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PingCAP waits 5 x the 30 s resync for a TiKV that never registers. */
#define SCALE_STORELESS_GRACE_MS (150 * 1000)
/* A PD pod PD does not list has left (or never joined) only if PD was read
 * this long after the pod started: a new member appears within seconds. */
#define SCALE_PD_JOIN_MS (15 * 1000)
/* A store Offline longer than this is reported as stalled. */
#define SCALE_IN_STALL_MS (30 * 60 * 1000)

static const char *component_name(enum tc_component component)
{
    return tidbcluster_component_name(component);
}

static int scale_out_parallelism(const struct tidbcluster *cluster, enum tc_component component)
{
    const struct component_spec *spec = &cluster->spec.component[component];
    if (component == TC_PD || !spec->scale_out_parallelism_set || spec->scale_out_parallelism < 1)
        return 1;
    return spec->scale_out_parallelism;
}

/* ---- scale out ---- */

static bool delete_deferred_claim(struct planning *p, const struct member_row *row)
{
    struct plan *into = proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_DISRUPT, DISRUPTION_DELETE_DATA,
                                       row->component, row->ordinal, "the claim an earlier scale-in left");
    char uid[OBJECT_UID_SIZE];
    if (!into || !plan_delete(into, &kube_resource_pvcs, row->pvc->meta.name, object_uid(&row->pvc->meta, uid),
                              "scale out: never reuse a scaled-in member's disk"))
        return planner_out_of_memory(p);
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "deleting claim %s left by an earlier scale-in: %s starts on a clean disk",
                row->pvc->meta.name, row->name);
}

static bool scale_out(struct planning *p, enum tc_component component)
{
    if (p->members.existing[component] == 0 || (component == TC_PD && !p->pd.bootstrapped) ||
        !p->component[component].gate_open)
        return true; /* bring-up's, or the component's gate says why it waits */
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    const struct member_row *sick = NULL;
    bool wanted = p->members.missing_beyond[component] > 0;
    for (size_t i = 0; i < count; i++) {
        if (rows[i].desired && !rows[i].existing)
            wanted = true;
        /* A failed member is not waited for (its replacement is the
         * scale-out), nor one whose node is not Ready (it cannot get well). */
        if (rows[i].existing && !sick && !rows[i].failure && !rows[i].node_lost && !planner_member_healthy(&rows[i]))
            sick = &rows[i];
    }
    if (!wanted)
        return true;
    if (sick) {
        char text[PLANNER_MESSAGE_MAX];
        planner_format(text, sizeof text, "scaling out %s waits: %s is not healthy yet", component_name(component),
                       sick->name);
        return planner_wait(p, CONCERN_SCALE, component, false, "Scaling", "%s", text);
    }
    struct pd_start_plan pd_start = { 0 };
    if (component == TC_PD && !planner_pd_start_prepare(p, &pd_start))
        return planner_out_of_memory(p);
    int left = scale_out_parallelism(p->cluster, component);
    bool ok = true;
    for (size_t i = 0; ok && left > 0 && i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->desired || row->existing)
            continue;
        left--;
        if (row->pvc && row->pvc->meta.deletion_ms) {
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS); /* the old claim is going */
            continue;
        }
        if (row->pvc && row->pvc_deferred) {
            ok = delete_deferred_claim(p, row);
            continue;
        }
        ok = planner_propose_member(p, CONCERN_SCALE, row, component == TC_PD ? &pd_start.start : NULL);
    }
    planner_pd_start_free(&pd_start);
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return ok;
}

/* ---- scale in ---- */

/* Is the victim already being removed (so it goes on first)? */
static bool in_progress(const struct member_row *row)
{
    return row->terminating || row->store_offline || row->store_tombstone ||
           (row->component == TC_PD && row->pod && !row->pd_member) || (row->pvc && !row->pod);
}

static const struct member_row *choose_victim(const struct planning *p, enum tc_component component)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    const struct member_row *slot = NULL, *highest = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->existing || row->desired)
            continue;
        if (in_progress(row))
            return row;
        if (row->delete_slot && !slot)
            slot = row;
        highest = row;
    }
    return slot ? slot : highest;
}

static struct plan *disrupt(struct planning *p, enum disruption disruption, const struct member_row *row,
                            const char *why)
{
    return proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_DISRUPT, disruption, row->component, row->ordinal,
                          why);
}

static bool delete_pod(struct planning *p, const struct member_row *row, const char *why)
{
    struct plan *into = disrupt(p, DISRUPTION_REMOVE_MEMBER, row, why);
    char uid[OBJECT_UID_SIZE];
    if (!into || !plan_delete(into, &kube_resource_pods, row->pod->meta.name, object_uid(&row->pod->meta, uid),
                              "scale in: remove the member's pod"))
        return planner_out_of_memory(p);
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in %s: deleting pod %s (%s)", component_name(row->component),
                row->name, why);
}

/* Adds a merge patch setting annotation `key` of `name` to now. */
static bool stamp(struct planning *p, struct plan *into, const struct kube_resource *resource, const char *name,
                  const char *key, const char *why)
{
    char when[32];
    planner_format_time(p->world->now_ms, when);
    cJSON *patch = cJSON_CreateObject();
    cJSON *annotations = cJSON_AddObjectToObject(cJSON_AddObjectToObject(patch, "metadata"), "annotations");
    if (!annotations || !cJSON_AddStringToObject(annotations, key, when)) {
        cJSON_Delete(patch);
        return false;
    }
    return plan_merge_patch(into, resource, name, patch, why);
}

/* The claim of a member whose pod is gone: deleted or kept per policy. */
static bool reclaim(struct planning *p, const struct member_row *row)
{
    const char *policy = p->cluster->spec.pv_reclaim_policy;
    char uid[OBJECT_UID_SIZE];
    if (policy && strcmp(policy, "Delete") == 0) {
        struct plan *into = disrupt(p, DISRUPTION_DELETE_DATA, row, "pvReclaimPolicy Delete");
        if (!into || !plan_delete(into, &kube_resource_pvcs, row->pvc->meta.name, object_uid(&row->pvc->meta, uid),
                                  "scale in: pvReclaimPolicy Delete"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in %s: deleting claim %s (pvReclaimPolicy Delete)",
                    component_name(row->component), row->pvc->meta.name);
    }
    struct plan *into = proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                       row->component, row->ordinal, "pvReclaimPolicy Retain");
    if (!into || !stamp(p, into, &kube_resource_pvcs, row->pvc->meta.name, ANNOTATION_PVC_DEFER_DELETING,
                        "scale in: keep the claim, deferred"))
        return planner_out_of_memory(p);
    return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in %s: %s is gone; claim %s kept (pvReclaimPolicy %s), never reused",
                component_name(row->component), row->name, row->pvc->meta.name, policy ? policy : "Retain");
}

static bool scale_in_tidb(struct planning *p, const struct member_row *row)
{
    if (row->pod && row->terminating)
        return planner_wait(p, CONCERN_SCALE, TC_TIDB, false, "Scaling", "%s", "scaling in tidb: waiting for the pod to stop");
    if (row->pod)
        return delete_pod(p, row, "replicas lowered");
    return row->pvc ? reclaim(p, row) : true;
}

/* The healthy member PD leadership goes to: the lowest desired one. */
static const struct member_row *leader_heir(const struct planning *p, const struct member_row *victim)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_PD, &count);
    for (size_t i = 0; i < count; i++)
        if (&rows[i] != victim && rows[i].desired && planner_member_healthy(&rows[i]))
            return &rows[i];
    return NULL;
}

static bool scale_in_pd(struct planning *p, const struct member_row *row)
{
    if (!p->pd.members_fresh)
        return planner_wait(p, CONCERN_SCALE, TC_PD, false, "Scaling", "%s", "scaling in pd waits: PD's members are not known now");
    if (row->pd_member && row->pd_leader) {
        const struct member_row *heir = leader_heir(p, row);
        if (!heir)
            return planner_wait(p, CONCERN_SCALE, TC_PD, true, "FailedScaleIn", "%s",
                                "scaling in pd waits: no healthy member can take over leadership");
        struct plan *into = disrupt(p, DISRUPTION_TRANSFER_LEADER, row, "the leaving member is the leader");
        if (!into || !plan_pd(into, ACTION_PD_TRANSFER_LEADER, heir->pd_member->name, 0,
                              "scale in: leadership away from the leaving member"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in pd: moving PD leadership from %s to %s", row->name,
                    heir->name);
    }
    if (row->pd_member) {
        struct plan *into = disrupt(p, DISRUPTION_REMOVE_MEMBER, row, "replicas lowered");
        if (!into || !plan_pd(into, ACTION_PD_DELETE_MEMBER, row->pd_member->name, 0, "scale in: leave the PD cluster"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in pd: removing member %s from PD", row->name);
    }
    if (row->pod && row->terminating)
        return planner_wait(p, CONCERN_SCALE, TC_PD, false, "Scaling", "%s", "scaling in pd: waiting for the pod to stop");
    /* Found by test/dst seed 1629: a member that had just joined (PD read
     * before it did) looked as if it had left; deleting its pod took a
     * 2-member PD below quorum. */
    const struct pd_snapshot_data *pd = p->world->pd;
    if (row->pod && row->pod->start_ms &&
        (!pd || pd->parts[PD_PART_MEMBERS].last_success_wall_ms < row->pod->start_ms + SCALE_PD_JOIN_MS)) {
        char text[PLANNER_MESSAGE_MAX];
        planner_format(text, sizeof text, "scaling in pd waits: %s may be joining PD (PD not read since it started)",
                       row->name);
        return planner_wait(p, CONCERN_SCALE, TC_PD, false, "Scaling", "%s", text);
    }
    if (row->pod)
        return delete_pod(p, row, "it left the PD cluster");
    return row->pvc ? reclaim(p, row) : true;
}

static int64_t scale_in_started_ms(const struct member_row *row)
{
    const char *text = row->pod ? object_annotation(&row->pod->meta, ANNOTATION_SCALE_IN_TIME) : NULL;
    return text ? planner_parse_time(text) : 0;
}

static bool delete_store(struct planning *p, const struct member_row *row)
{
    struct plan *into = disrupt(p, DISRUPTION_DELETE_STORE, row, "replicas lowered");
    if (!into || !plan_pd(into, ACTION_PD_DELETE_STORE, NULL, row->store->id, "scale in: PD moves the store's regions"))
        return planner_out_of_memory(p);
    if (row->pod && !object_annotation(&row->pod->meta, ANNOTATION_SCALE_IN_TIME) &&
        !stamp(p, into, &kube_resource_pods, row->pod->meta.name, ANNOTATION_SCALE_IN_TIME, "scale in: when it started"))
        return planner_out_of_memory(p);
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in tikv: deleting store %llu (%s); PD moves its %llu regions away",
                (unsigned long long)row->store->id, row->name, (unsigned long long)row->store->region_count);
}

static bool scale_in_tikv(struct planning *p, const struct member_row *row)
{
    if (!p->pd.stores_fresh)
        return planner_wait(p, CONCERN_SCALE, TC_TIKV, false, "Scaling", "%s", "scaling in tikv waits: PD's stores are not known now");
    char text[PLANNER_MESSAGE_MAX];
    if (row->store && !row->store_tombstone) {
        if (!row->store_offline)
            return delete_store(p, row);
        int64_t started = scale_in_started_ms(row);
        if (started > 0 && p->world->now_ms - started > SCALE_IN_STALL_MS) {
            planner_format(text, sizeof text,
                           "scaling in tikv: store %llu (%s) has been Offline for more than %d minutes; PD still has "
                           "regions on it (check PD's scheduling and the other stores); raise tikv.replicas to cancel",
                           (unsigned long long)row->store->id, row->name, SCALE_IN_STALL_MS / 60000);
            return planner_wait(p, CONCERN_SCALE, TC_TIKV, true, "ScaleInStalled", "%s", text);
        }
        planner_format(text, sizeof text,
                       "scaling in tikv: waiting for store %llu (%s) to become Tombstone: %llu regions left",
                       (unsigned long long)row->store->id, row->name, (unsigned long long)row->store->region_count);
        return planner_wait(p, CONCERN_SCALE, TC_TIKV, false, "Scaling", "%s", text);
    }
    if (row->pod && row->terminating)
        return planner_wait(p, CONCERN_SCALE, TC_TIKV, false, "Scaling", "%s", "scaling in tikv: waiting for the pod to stop");
    if (row->pod) {
        if (!row->store && row->pod->start_ms && p->world->now_ms - row->pod->start_ms < SCALE_STORELESS_GRACE_MS) {
            planner_format(text, sizeof text, "scaling in tikv waits: %s has no store in PD yet", row->name);
            return planner_wait(p, CONCERN_SCALE, TC_TIKV, false, "Scaling", "%s", text);
        }
        return delete_pod(p, row, row->store ? "its store is Tombstone" : "it never registered a store");
    }
    return row->pvc ? reclaim(p, row) : true;
}

/* A wanted PD member whose pod runs but PD no longer lists it (its removal
 * went through, then replicas were raised again; found by test/dst seed
 * 881): it never rejoins from the same disk, so it starts again clean —
 * its pod is deleted and its claim goes as after a scale-in (deleted or
 * deferred per policy), then scale-out creates it joining PD. A pod that
 * has not been running SCALE_STORELESS_GRACE_MS may still be joining. */
/* A TiKV member wanted again after its store went Tombstone (replicas
 * raised once PD had removed the store, found by test/dst seed 840): a
 * Tombstone store never comes back, so the member starts again clean —
 * its pod goes and its claim is deleted or marked as after a scale-in,
 * then scale-out makes it anew with a new store. */
static bool recycle_tombstoned_tikv_members(struct planning *p)
{
    if (!p->pd.stores_fresh)
        return true;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->desired || !row->existing || !row->store || !row->store_tombstone || row->failure)
            continue;
        if (row->pod && row->terminating)
            continue; /* going */
        if (row->pod) {
            struct plan *into = disrupt(p, DISRUPTION_REMOVE_MEMBER, row, "its store is Tombstone");
            char uid[OBJECT_UID_SIZE];
            if (!into || !plan_delete(into, &kube_resource_pods, row->pod->meta.name, object_uid(&row->pod->meta, uid),
                                      "scale out: a TiKV member whose store is Tombstone starts again clean"))
                return planner_out_of_memory(p);
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
            return planner_tell(p, CONCERN_SCALE, into, false, "Scaling",
                                "scaling out tikv: %s runs but its store %llu is Tombstone: it starts again on a clean "
                                "disk",
                                row->name, (unsigned long long)row->store->id);
        }
        if (row->pvc && !row->pvc_deferred)
            return reclaim(p, row);
    }
    return true;
}

static bool recycle_removed_pd_members(struct planning *p)
{
    if (!p->pd.members_fresh || !p->pd.bootstrapped)
        return true;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_PD, &count);
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->desired || !row->pod || row->terminating || row->pd_member || !row->pod->start_ms ||
            p->world->now_ms - row->pod->start_ms < SCALE_STORELESS_GRACE_MS)
            continue;
        struct plan *into = disrupt(p, DISRUPTION_REMOVE_MEMBER, row, "PD no longer lists it");
        char uid[OBJECT_UID_SIZE];
        if (!into || !plan_delete(into, &kube_resource_pods, row->pod->meta.name, object_uid(&row->pod->meta, uid),
                                  "scale out: a removed PD member starts again clean"))
            return planner_out_of_memory(p);
        const char *policy = p->cluster->spec.pv_reclaim_policy;
        bool delete_claim = policy && strcmp(policy, "Delete") == 0;
        if (row->pvc && delete_claim &&
            !plan_delete(into, &kube_resource_pvcs, row->pvc->meta.name, object_uid(&row->pvc->meta, uid),
                         "scale out: a removed PD member starts again clean"))
            return planner_out_of_memory(p);
        if (row->pvc && !delete_claim && !row->pvc_deferred &&
            !stamp(p, into, &kube_resource_pvcs, row->pvc->meta.name, ANNOTATION_PVC_DEFER_DELETING,
                   "scale out: a removed PD member's claim is kept, deferred"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling out pd: %s runs but PD no longer lists it: it starts again on a "
                    "clean disk", row->name);
    }
    return true;
}

/* Desired TiKV members whose store is Offline: the scale-in is cancelled. */
static bool cancel_scale_in(struct planning *p)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        /* (a failed member's store is failover's to delete, not a scale-in) */
        if (!row->desired || !row->store || !row->store_offline || row->failure)
            continue;
        struct plan *into = proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                           TC_TIKV, row->ordinal, "wanted again");
        if (!into || !plan_pd(into, ACTION_PD_SET_STORE_UP, NULL, row->store->id, "scale in cancelled"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        if (!planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scale in of %s cancelled: store %llu set back Up", row->name,
                  (unsigned long long)row->store->id))
            return false;
    }
    return true;
}

/* Tombstones of members that are gone (pod gone, claim deleted or
 * deferred) are forgotten by PD once no scale-in is in progress. */
static bool clean_tombstones(struct planning *p)
{
    if (!p->pd.stores_fresh || choose_victim(p, TC_TIKV))
        return true;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    const struct member_row *gone = NULL;
    for (size_t i = 0; i < count && !gone; i++)
        if (rows[i].store && rows[i].store_tombstone && !rows[i].existing)
            gone = &rows[i];
    if (!gone)
        return true;
    struct plan *into = proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE, TC_TIKV,
                                       gone->ordinal, "scale-in finished");
    if (!into || !plan_pd(into, ACTION_PD_REMOVE_TOMBSTONES, NULL, 0, "scale in: forget removed stores"))
        return planner_out_of_memory(p);
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_SCALE, into, false, "Scaling", "scaling in tikv finished: PD forgets Tombstone store %llu (%s)",
                (unsigned long long)gone->store->id, gone->name);
}

static bool scale_in(struct planning *p, enum tc_component component)
{
    const struct member_row *victim = choose_victim(p, component);
    if (!victim)
        return true;
    if (component == TC_TIDB)
        return scale_in_tidb(p, victim);
    if (component == TC_PD)
        return scale_in_pd(p, victim);
    return scale_in_tikv(p, victim);
}

/* A delete-slots annotation that is not a JSON int array is ignored (no
 * member goes because of it) and said. */
static bool check_delete_slots(struct planning *p, enum tc_component component)
{
    if (!p->members.delete_slots_invalid[component])
        return true;
    char text[PLANNER_MESSAGE_MAX];
    planner_format(text, sizeof text,
                   "annotation %s.tidb.pingcap.com/delete-slots is not a JSON array of ordinals (e.g. [1, 3]): ignored",
                   component_name(component));
    struct plan *into = proposals_open(&p->proposals, CONCERN_SCALE, EFFECT_NOTE, DISRUPTION_NONE, component, -1,
                                       "InvalidDeleteSlots");
    return planner_tell(p, CONCERN_SCALE, into, true, "InvalidDeleteSlots", "%s", text);
}

bool scale_propose(struct planning *p)
{
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        enum tc_component component = (enum tc_component)c;
        if (!p->component[component].present)
            continue;
        if (!check_delete_slots(p, component))
            return false;
        if (component == TC_PD && !recycle_removed_pd_members(p))
            return false;
        if (component == TC_TIKV && !recycle_tombstoned_tikv_members(p))
            return false;
        if (!scale_out(p, component) || !scale_in(p, component))
            return false;
    }
    return !p->component[TC_TIKV].present || (cancel_scale_in(p) && clean_tombstones(p));
}
