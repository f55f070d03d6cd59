/*
 * upgrade: the upgrade concern — rolling restarts of members whose pod was
 * built from another spec than the one the TidbCluster asks for now (the
 * member table's out_of_date: the pod's spec hash differs). PingCAP's
 * upgraders (reference tidb-operator-v1.md §5) in our terms. Every step is
 * level-triggered: each pass re-reads the member table and PD and proposes
 * the next step; the arbiter (safety.c) decides whether it may go now.
 *
 * Order: PD, then TiKV, then TiDB. A component rolls only when the ones
 * before it are fully up to date and healthy; within a component one member
 * at a time, highest ordinal first (as PingCAP), and a member that is out of
 * date and already broken (a crashing image the user has since fixed) first
 * of all: restarting it takes nothing down that is not down already. A
 * member that is up to date but not healthy (just restarted, or crashing on
 * the new image) holds the roll: the next member waits, so a bad image
 * stops the roll at one member.
 *
 *   PD    the leader goes last; before its restart leadership moves to an
 *         up-to-date healthy member. Restart = delete the pod; bring-up
 *         recreates it from the new spec on the same claim (rule
 *         pd_quorum_kept checks the quorum of the others).
 *   TiKV  an evict-leader scheduler for the store first (the pod is stamped
 *         ANNOTATION_EVICT_LEADER_BEGIN), then the restart once the store's
 *         leader count is 0 or evictLeaderTimeout passed (default 1500m;
 *         then a Warning EvictLeaderTimeout) or no other store can take
 *         leaders; a store that is not Up restarts at once (nothing to
 *         evict). The scheduler stays until the restarted store is Up again.
 *   TiDB  delete the pod (its termination grace period is respected); the
 *         next one once the new one is ready.
 *
 * Labels and annotations: a pod whose user labels or annotations differ
 * from the spec's (its metadata hash) is patched, never restarted.
 *
 * ConfigMaps: one of ours the spec no longer names and no pod mounts (the
 * roll moved every pod off it) is deleted.
 *
 * Schedulers: every pass, an evict-leader scheduler on a store of ours that
 * no upgrade step needs (the member is up to date and its store Up, or the
 * member is gone) is removed, also one left by a crashed operator.
 *
 * A wait for a member not ready for more than UPGRADE_STALL_MS becomes a
 * Warning UpgradeStalled that names the way out (fix the spec).
 *
 * Facts for status: p->upgrading[c] (phase Upgrade) and the progress text.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPGRADE_EVICT_TIMEOUT_DEFAULT_MS (1500LL * 60 * 1000)
/* A member the roll waits for, not ready this long: a Warning. */
#define UPGRADE_STALL_MS (10LL * 60 * 1000)

static const char *component_name(enum tc_component component)
{
    return tidbcluster_component_name(component);
}

static bool rolling(const struct member_row *row)
{
    return row->desired && row->existing && row->pod && row->out_of_date;
}

static int64_t evict_timeout_ms(const struct tidbcluster *cluster)
{
    int64_t ms = 0;
    const char *text = cluster->spec.component[TC_TIKV].evict_leader_timeout;
    if (text && *text && tidbcluster_parse_duration(text, &ms) && ms > 0)
        return ms;
    return UPGRADE_EVICT_TIMEOUT_DEFAULT_MS;
}

/* Why an up-to-date member is not healthy, for users; NULL when it is. */
static const char *unhealthy_because(const struct member_row *row)
{
    if (!row->pod)
        return "its pod is being recreated";
    if (row->terminating)
        return "its pod is stopping";
    if (!row->ready)
        return "its pod is not ready";
    if (row->component == TC_PD && !(row->pd_member && row->pd_health == MEMBER_HEALTH_GOOD))
        return "it is not a healthy PD member yet";
    if (row->component == TC_TIKV && !row->store_up)
        return "its store is not Up yet";
    return NULL;
}

/* ---- schedulers ---- */

/* Does an upgrade step still need the member's store evicted? While it is
 * out of date (it is next, or being evicted), and after its restart until
 * the store is Up again. */
static bool eviction_needed(const struct member_row *row)
{
    if (!row->desired || !row->existing)
        return false;
    if (rolling(row))
        return true;
    return !row->store_up || !row->pod || !row->ready;
}

static bool remove_unneeded_schedulers(struct planning *p)
{
    if (!p->pd.stores_fresh)
        return true;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->store || !row->evicting || eviction_needed(row))
            continue;
        struct plan *into = proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                           TC_TIKV, row->ordinal, "no step needs the eviction");
        if (!into || !plan_pd(into, ACTION_PD_REMOVE_EVICT_LEADER, NULL, row->store->id,
                              "upgrade: leaders may come back"))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        if (!planner_tell(p, CONCERN_UPGRADE, into, false, "Upgrading", "removing the evict-leader scheduler of store %llu (%s)",
                  (unsigned long long)row->store->id, row->name))
            return false;
    }
    return true;
}

/* ---- configmaps ---- */

static bool configmap_in_use(const struct planning *p, const char *name)
{
    for (size_t i = 0; i < p->world->pod_count; i++)
        if (p->world->pods[i] && p->world->pods[i]->config_map && strcmp(p->world->pods[i]->config_map, name) == 0)
            return true;
    return false;
}

/* ConfigMaps of ours that the spec no longer names ("<cluster>-<component>"
 * or "<cluster>-<component>-<hash>", labelled with the component) and no
 * pod mounts are deleted: a pod not rolled yet keeps its own. */
static bool collect_configmaps(struct planning *p)
{
    for (size_t i = 0; i < p->world->configmap_count; i++) {
        const struct kube_configmap *configmap = p->world->configmaps[i];
        const char *label = configmap ? object_label(&configmap->meta, LABEL_COMPONENT) : NULL;
        int component = -1;
        for (int c = 0; label && c < TC_COMPONENT_COUNT; c++)
            if (strcmp(label, tidbcluster_component_name((enum tc_component)c)) == 0)
                component = c;
        if (component < 0 || !p->component[component].present || configmap->meta.deletion_ms)
            continue;
        char prefix[PLANNER_NAME_MAX];
        const char *current = p->configmap_name[component];
        planner_format(prefix, sizeof prefix, "%s-%s", p->cluster->name, label);
        const char *name = configmap->meta.name;
        size_t length = strlen(prefix);
        bool ours = strncmp(name, prefix, length) == 0 && (name[length] == '\0' || name[length] == '-');
        if (!ours || strcmp(name, current) == 0 || configmap_in_use(p, name))
            continue;
        struct plan *into = proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                           (enum tc_component)component, -1, "a ConfigMap no pod uses");
        char uid[OBJECT_UID_SIZE];
        if (!into || !plan_delete(into, &kube_resource_configmaps, name, object_uid(&configmap->meta, uid),
                                  "upgrade: no pod uses it"))
            return planner_out_of_memory(p);
        if (!plan_event(into, false, "ConfigMapDeleted", "deleting ConfigMap %s: the spec no longer names it and no "
                                                         "pod uses it", name))
            return planner_out_of_memory(p);
    }
    return true;
}

/* ---- labels and annotations ---- */

/* A running pod whose user labels or annotations differ from the spec's
 * gets them by a merge patch (labels and annotations do not restart a
 * pod; ones the user removed stay, as a merge patch cannot know them). */
static bool patch_metadata(struct planning *p)
{
    for (size_t i = 0; i < p->members.count; i++) {
        const struct member_row *row = &p->members.rows[i];
        if (!row->pod || row->terminating || !row->metadata_stale || row->out_of_date)
            continue;
        cJSON *pod = build_pod(p->cluster, row->component, row->ordinal, NULL);
        cJSON *metadata = pod ? cJSON_GetObjectItemCaseSensitive(pod, "metadata") : NULL;
        cJSON *patch = cJSON_CreateObject();
        cJSON *into_metadata = patch ? cJSON_AddObjectToObject(patch, "metadata") : NULL;
        bool ok = metadata && into_metadata;
        static const char *const parts[] = { "labels", "annotations" };
        for (size_t k = 0; ok && k < 2; k++) {
            cJSON *part = cJSON_DetachItemFromObjectCaseSensitive(metadata, parts[k]);
            ok = part && cJSON_AddItemToObject(into_metadata, parts[k], part);
        }
        cJSON_Delete(pod);
        struct plan *into = ok ? proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                                row->component, row->ordinal, "labels and annotations")
                               : NULL;
        if (!into) {
            cJSON_Delete(patch);
            return planner_out_of_memory(p);
        }
        if (!plan_merge_patch(into, &kube_resource_pods, row->pod->meta.name, patch,
                              "labels and annotations changed: patched, not restarted") ||
            !plan_event(into, false, "Updated", "labels and annotations of %s updated in place", row->name))
            return planner_out_of_memory(p);
    }
    return true;
}

/* ---- one member ---- */

static struct plan *disrupt(struct planning *p, enum disruption disruption, const struct member_row *row,
                            const char *why)
{
    return proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_DISRUPT, disruption, row->component, row->ordinal,
                          why);
}

static bool restart(struct planning *p, const struct member_row *row, bool eviction_waived, const char *why)
{
    struct plan *into = disrupt(p, DISRUPTION_RESTART, row, why);
    char uid[OBJECT_UID_SIZE];
    if (!into || !plan_delete(into, &kube_resource_pods, row->pod->meta.name, object_uid(&row->pod->meta, uid),
                              "upgrade: recreate the pod from the new spec"))
        return planner_out_of_memory(p);
    proposals_current(&p->proposals)->eviction_timed_out = eviction_waived;
    plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    return planner_tell(p, CONCERN_UPGRADE, into, false, "Upgrading", "upgrading %s: restarting %s with the new spec (%s)",
                component_name(row->component), row->name, why);
}

/* The member PD leadership goes to: an up-to-date healthy one, the highest
 * ordinal first (as PingCAP); else any other healthy member. */
static const struct member_row *leader_heir(const struct planning *p, const struct member_row *leader)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_PD, &count);
    const struct member_row *any = NULL;
    for (size_t i = count; i-- > 0;) {
        const struct member_row *row = &rows[i];
        if (row == leader || !row->desired || !planner_member_healthy(row))
            continue;
        if (!row->out_of_date)
            return row;
        if (!any)
            any = row;
    }
    return any;
}

static bool upgrade_pd_member(struct planning *p, const struct member_row *row)
{
    if (row->pd_leader) {
        const struct member_row *heir = leader_heir(p, row);
        if (heir) {
            struct plan *into = disrupt(p, DISRUPTION_TRANSFER_LEADER, row, "the PD leader restarts last");
            if (!into || !plan_pd(into, ACTION_PD_TRANSFER_LEADER, heir->pd_member->name, 0,
                                  "upgrade: leadership away before the restart"))
                return planner_out_of_memory(p);
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
            return planner_tell(p, CONCERN_UPGRADE, into, false, "Upgrading", "upgrading pd: moving PD leadership from %s to %s", row->name,
                        heir->name);
        }
    }
    return restart(p, row, false, row->pd_leader ? "the last member, the leader" : "a PD member");
}

static int64_t eviction_began_ms(const struct member_row *row)
{
    const char *text = object_annotation(&row->pod->meta, ANNOTATION_EVICT_LEADER_BEGIN);
    return text ? planner_parse_time(text) : 0;
}

/* Can another store take the leaders? Any other Up store of ours. */
static bool other_store_up(const struct planning *p, const struct member_row *row)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
    for (size_t i = 0; i < count; i++)
        if (&rows[i] != row && rows[i].store_up)
            return true;
    return false;
}

static bool stamp_eviction(struct planning *p, struct plan *into, const struct member_row *row)
{
    char when[32];
    planner_format_time(p->world->now_ms, when);
    cJSON *patch = cJSON_CreateObject();
    cJSON *annotations = cJSON_AddObjectToObject(cJSON_AddObjectToObject(patch, "metadata"), "annotations");
    if (!annotations || !cJSON_AddStringToObject(annotations, ANNOTATION_EVICT_LEADER_BEGIN, when)) {
        cJSON_Delete(patch);
        return false;
    }
    return plan_merge_patch(into, &kube_resource_pods, row->pod->meta.name, patch, "upgrade: when eviction began");
}

static bool upgrade_tikv_member(struct planning *p, const struct member_row *row)
{
    if (!p->pd.stores_fresh)
        return planner_wait(p, CONCERN_UPGRADE, TC_TIKV, false, "Upgrading", "upgrading tikv waits: PD's stores are not known now");
    if (!row->store || !row->store_up)
        return restart(p, row, true, "its store is not Up: no leaders to evict");
    unsigned long long id = (unsigned long long)row->store->id;
    unsigned long long leaders = (unsigned long long)row->store->leader_count;
    if (!other_store_up(p, row))
        return restart(p, row, true, "no other store can take its leaders");
    if (!row->evicting) {
        struct plan *into = disrupt(p, DISRUPTION_TRANSFER_LEADER, row, "evict leaders before the restart");
        if (!into || !plan_pd(into, ACTION_PD_ADD_EVICT_LEADER, NULL, row->store->id, "upgrade: evict leaders") ||
            !stamp_eviction(p, into, row))
            return planner_out_of_memory(p);
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return planner_tell(p, CONCERN_UPGRADE, into, false, "Upgrading", "upgrading tikv: evicting leaders from store %llu (%s): %llu leaders",
                    id, row->name, leaders);
    }
    if (leaders == 0)
        return restart(p, row, false, "its leaders are evicted");
    int64_t began = eviction_began_ms(row);
    if (began == 0) {
        /* The scheduler is there but not when it began (an operator that
         * crashed in between): the timeout counts from now. */
        struct plan *into = proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_UPDATE_OBJECT, DISRUPTION_NONE,
                                           TC_TIKV, row->ordinal, "eviction time unknown");
        if (!into || !stamp_eviction(p, into, row))
            return planner_out_of_memory(p);
    } else if (p->world->now_ms - began > evict_timeout_ms(p->cluster)) {
        char text[PLANNER_MESSAGE_MAX];
        planner_format(text, sizeof text,
                       "upgrading tikv: store %llu (%s) still holds %llu leaders after evictLeaderTimeout; restarting "
                       "it anyway (its leaders move by election)",
                       id, row->name, leaders);
        struct plan *into = proposals_open(&p->proposals, CONCERN_UPGRADE, EFFECT_NOTE, DISRUPTION_NONE, TC_TIKV,
                                           row->ordinal, "EvictLeaderTimeout");
        if (!planner_tell(p, CONCERN_UPGRADE, into, true, "EvictLeaderTimeout", "%s", text))
            return false;
        return restart(p, row, true, "evictLeaderTimeout passed");
    }
    return planner_wait(p, CONCERN_UPGRADE, TC_TIKV, false, "Upgrading", "upgrading tikv: evicting leaders from store %llu (%s): %llu left",
                     id, row->name, leaders);
}

static bool upgrade_member(struct planning *p, const struct member_row *row)
{
    if (row->component == TC_PD)
        return upgrade_pd_member(p, row);
    if (row->component == TC_TIKV)
        return upgrade_tikv_member(p, row);
    return restart(p, row, false, "a TiDB member");
}

/* ---- one component ---- */

enum component_roll {
    ROLL_DONE,      /* every member up to date and healthy */
    ROLL_UNHEALTHY, /* up to date, but not every member healthy */
    ROLL_MOVING,    /* members out of date: this pass did (or waits for) a step */
};

/* The next member to roll: an out-of-date broken one, else (when the rest
 * is healthy) the highest out-of-date ordinal, PD's leader last. */
static enum component_roll roll_component(struct planning *p, enum tc_component component)
{
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    const struct member_row *broken = NULL, *sick = NULL, *next = NULL, *leader = NULL;
    const char *sick_because = NULL;
    int out_of_date = 0;
    for (size_t i = count; i-- > 0;) {
        const struct member_row *row = &rows[i];
        /* A failed member is failover's: it neither rolls nor holds the roll. */
        if (!row->desired || row->failure)
            continue;
        if (rolling(row))
            out_of_date++;
        if (rolling(row) && !row->terminating) {
            if (!planner_member_healthy(row)) {
                if (!row->node_lost && !broken)
                    broken = row;
                else if (row->node_lost && !sick) {
                    sick = row;
                    sick_because = "its node is not Ready";
                }
            } else if (row->pd_leader) {
                leader = row;
            } else if (!next) {
                next = row;
            }
            continue;
        }
        const char *because = row->existing || row->pod ? unhealthy_because(row) : "it does not exist yet";
        if (because && !sick) {
            sick = row;
            sick_because = because;
        }
    }
    /* A TiKV member being evicted goes on first (it was chosen earlier). */
    if (component == TC_TIKV)
        for (size_t i = count; i-- > 0;)
            if (rolling(&rows[i]) && !rows[i].terminating && rows[i].evicting && rows[i].store_up) {
                next = &rows[i];
                break;
            }
    if (out_of_date == 0)
        return sick ? ROLL_UNHEALTHY : ROLL_DONE;
    p->upgrading[component] = true;
    if (broken) {
        upgrade_member(p, broken);
        return ROLL_MOVING;
    }
    if (sick) {
        int64_t since = sick->unready_since_ms;
        if (since > 0 && p->world->now_ms - since > UPGRADE_STALL_MS)
            planner_wait(p, CONCERN_UPGRADE, component, true, "UpgradeStalled",
                      "upgrading %s waits: %s has not been healthy for more than %d minutes (%s); if the new image "
                      "or config cannot start, fix the spec: the roll resumes from that member",
                      component_name(component), sick->name, (int)(UPGRADE_STALL_MS / 60000), sick_because);
        else
            planner_wait(p, CONCERN_UPGRADE, component, false, "Upgrading", "upgrading %s waits: %s is not healthy (%s)",
                      component_name(component), sick->name, sick_because);
        return ROLL_MOVING;
    }
    upgrade_member(p, next ? next : leader);
    return ROLL_MOVING;
}

bool upgrade_propose(struct planning *p)
{
    if (!remove_unneeded_schedulers(p) || !collect_configmaps(p) || !patch_metadata(p))
        return false;
    static const enum tc_component order[] = { TC_PD, TC_TIKV, TC_TIDB };
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        enum tc_component component = order[i];
        if (!p->component[component].present || p->members.existing[component] == 0)
            continue;
        enum component_roll roll = roll_component(p, component);
        if (p->plan->incomplete)
            return false;
        if (roll == ROLL_MOVING)
            return true;
        if (roll == ROLL_UNHEALTHY) {
            /* Later components wait, and say so when they have work. */
            for (size_t j = i + 1; j < sizeof order / sizeof order[0]; j++) {
                size_t count = 0;
                const struct member_row *rows = member_table_rows(&p->members, order[j], &count);
                for (size_t k = 0; k < count; k++)
                    if (rolling(&rows[k])) {
                        p->upgrading[order[j]] = true;
                        return planner_wait(p, CONCERN_UPGRADE, order[j], false, "Upgrading", "upgrading %s waits: %s is not healthy",
                                         component_name(order[j]), component_name(component));
                    }
            }
            return true;
        }
    }
    return true;
}
