/*
 * status: step 4 of a pass — the status the facts imply (PingCAP's
 * shape, reference §1.7), written only when it differs from the current
 * one.
 *
 * The new status starts as a copy of the current one, so fields other
 * parts own (evictLeader, clusterID, other conditions)
 * pass through untouched; this pass replaces only what it observes:
 *   pd: members and leader (from the snapshot, once the members part has
 *       answered: an unreachable PD keeps the last known members, with
 *       synced=false), synced, phase, image, replicas, readyReplicas;
 *   tikv: stores and tombstoneStores of ours (address pattern), bootStrapped,
 *       synced, phase, image, replicas, readyReplicas;
 *   tidb: members (a member per pod, health from its Ready condition),
 *       phase, image, replicas, readyReplicas;
 *   conditions[type=Ready] and [type=UnsupportedFields]; observedGeneration.
 * UnsupportedFields=True (reason SpecWarnings) lists the spec's warnings —
 * fields not supported or without effect here, unknown fields, validation
 * warnings (reconcilers/api/tidbcluster_fields.h, tidbcluster_validate.h) —
 * and is removed when there are none; a Warning event UnsupportedFields
 * with the same text goes out once per spec generation (the status written
 * has an older observedGeneration, or said something else).
 * lastTransitionTime of a member or store moves only when its health or
 * state changes (failover timers depend on it, reference §12.19); the
 * condition's lastUpdateTime only when its status, reason or message does.
 * "Written only when it changes": both statuses go through the byte-stable
 * tidbcluster_status_encode and are compared as text, so a pass over a
 * settled cluster writes nothing.
 *
 * Phases: Upgrade while members are out of date (upgrade.c); else Normal
 * when every desired member is there and healthy (PD members healthy, TiKV
 * stores Up, TiDB pods ready), else Scale — the cluster is still moving
 * towards spec.<c>.replicas. Conditions beside Ready: Scaling, Upgrading,
 * Failover (what the concern does or waits for), Paused, UnsupportedFields;
 * the failover records (status.tikv.failureStores, status.tidb.failureMembers)
 * are the failover concern's to add and drop.
 */
#include "reconcilers/planner/planner_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONDITION_READY "Ready"
#define CONDITION_UNSUPPORTED_FIELDS "UnsupportedFields"
#define REASON_SPEC_WARNINGS "SpecWarnings"
/* A condition message is for people: a long list is cut (with a count). */
#define WARNINGS_MESSAGE_MAX 2048
#define READY_MESSAGE "TiDB cluster is fully up and running"
#define PAUSED_MESSAGE "paused: nothing is created or changed until spec.paused is false"

/* ---- the verdict ---- */

static bool verdict(struct ready_verdict *out, const char *reason, const char *format, const char *text)
{
    out->ready = false;
    out->reason = reason;
    planner_format(out->message, sizeof out->message, format, text);
    return true;
}

/* "2/3 TiKV pods ready; basic-tikv-0 on node-b2 is not ready" (the reason
 * and readiness are the caller's). */
static bool pods_not_ready(struct ready_verdict *out, const struct component_view *view, const char *title)
{
    if (view->not_ready[0])
        planner_format(out->message, sizeof out->message, "%d/%d %s pods ready; %s", view->ready, view->desired,
                       title, view->not_ready);
    else
        planner_format(out->message, sizeof out->message, "%d/%d %s pods ready", view->ready, view->desired, title);
    return true;
}

static bool pd_verdict(const struct planning *p, struct ready_verdict *out)
{
    const struct component_view *view = &p->component[TC_PD];
    const struct pd_view *pd = &p->pd;
    if (!view->present)
        return false;
    if (view->unschedulable[0])
        return verdict(out, REASON_UNSCHEDULABLE, "%s", view->unschedulable);
    if (!pd->members_fresh)
        return verdict(out, REASON_PD_NOT_READY, "%s", pd->unreachable);
    out->reason = REASON_PD_NOT_READY;
    out->ready = false;
    if (pd->healthy < view->desired || pd->own_members < view->desired) {
        planner_format(out->message, sizeof out->message, "%d/%d PD members healthy", pd->healthy, view->desired);
        return true;
    }
    if (!pd->leader)
        return verdict(out, REASON_PD_NOT_READY, "%s", "PD has no leader");
    if (view->ready < view->desired || view->pods != view->desired)
        return pods_not_ready(out, view, "PD");
    return false;
}

static bool tikv_verdict(const struct planning *p, struct ready_verdict *out)
{
    const struct component_view *view = &p->component[TC_TIKV];
    const struct pd_view *pd = &p->pd;
    if (!view->present)
        return false;
    if (view->unschedulable[0])
        return verdict(out, REASON_UNSCHEDULABLE, "%s", view->unschedulable);
    if (!view->gate_open)
        return verdict(out, REASON_TIKV_STORE_NOT_UP, "%s", view->gate_message);
    out->ready = false;
    out->reason = REASON_TIKV_STORE_NOT_UP;
    if (p->cluster->spec.component[TC_PD].present) {
        if (!pd->stores_fresh)
            return verdict(out, REASON_TIKV_STORE_NOT_UP, "%s", pd->stores_unreachable);
        if (pd->store_problem[0])
            return verdict(out, REASON_TIKV_STORE_NOT_UP, "%s", pd->store_problem);
        if (pd->stores_up < view->desired) {
            planner_format(out->message, sizeof out->message, "%d/%d TiKV stores Up", pd->stores_up, view->desired);
            return true;
        }
    }
    if (view->ready < view->desired || view->pods != view->desired)
        return pods_not_ready(out, view, "TiKV");
    return false;
}

static bool tidb_verdict(const struct planning *p, struct ready_verdict *out)
{
    const struct component_view *view = &p->component[TC_TIDB];
    if (!view->present)
        return false;
    if (view->unschedulable[0])
        return verdict(out, REASON_UNSCHEDULABLE, "%s", view->unschedulable);
    if (!view->gate_open)
        return verdict(out, REASON_TIDB_NOT_READY, "%s", view->gate_message);
    if (view->ready < view->desired || view->pods != view->desired) {
        out->ready = false;
        out->reason = REASON_TIDB_NOT_READY;
        return pods_not_ready(out, view, "TiDB");
    }
    return false;
}

void planner_ready_verdict(const struct planning *p, struct ready_verdict *out)
{
    *out = (struct ready_verdict){ 0 };
    if (p->paused) {
        verdict(out, REASON_PAUSED, "%s", PAUSED_MESSAGE);
        return;
    }
    /* The first component in bring-up order that is not ready speaks: its
     * problem is what holds the rest back. */
    if (pd_verdict(p, out) || tikv_verdict(p, out) || tidb_verdict(p, out))
        return;
    out->ready = true;
    out->reason = REASON_READY;
    planner_format(out->message, sizeof out->message, "%s", READY_MESSAGE);
}

/* ---- status records ---- */

static bool set_text(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void pd_member_release(struct tc_pd_member *member)
{
    free(member->name);
    free(member->id);
    free(member->client_url);
    free(member->last_transition_time);
    *member = (struct tc_pd_member){ 0 };
}

static void store_release(struct tc_tikv_store *store)
{
    free(store->id);
    free(store->pod_name);
    free(store->ip);
    free(store->state);
    free(store->last_transition_time);
    *store = (struct tc_tikv_store){ 0 };
}

static void tidb_member_release(struct tc_tidb_member *member)
{
    free(member->name);
    free(member->last_transition_time);
    free(member->node);
    *member = (struct tc_tidb_member){ 0 };
}

#define RELEASE_LIST(list, release)                                                                \
    do {                                                                                           \
        for (size_t i_ = 0; i_ < (list).count; i_++)                                               \
            release(&(list).items[i_]);                                                            \
        free((list).items);                                                                        \
        (list).items = NULL;                                                                       \
        (list).count = 0;                                                                          \
    } while (0)

static const struct tc_pd_member *old_pd_member(const struct tidbcluster_status *status, const char *name)
{
    for (size_t i = 0; i < status->pd.members.count; i++)
        if (same_text(status->pd.members.items[i].name, name))
            return &status->pd.members.items[i];
    return NULL;
}

/* The time to record for something whose state is now `changed` or not. */
static const char *transition_time(const char *old_time, bool changed, const char *now)
{
    return !changed && old_time ? old_time : now;
}

static bool fill_pd_member(struct tc_pd_member *out, const struct pd_snapshot_data *pd, const struct pd_member *member,
                           const struct tidbcluster_status *current, const char *now)
{
    char id[32];
    snprintf(id, sizeof id, "%" PRIu64, member->member_id);
    bool health = pd_snapshot_member_health(pd, member->name) == 1;
    const struct tc_pd_member *old = old_pd_member(current, member->name);
    out->health = health;
    return set_text(&out->name, member->name) && set_text(&out->id, id) &&
           set_text(&out->client_url, member->client_url_count ? member->client_urls[0] : "") &&
           set_text(&out->last_transition_time,
                    transition_time(old ? old->last_transition_time : NULL, !old || old->health != health, now));
}

/* Upgrade while members are out of date, else Normal when every desired
 * member is there and healthy, else Scale. */
static const char *phase_of(const struct planning *p, enum tc_component component, bool normal)
{
    if (p->upgrading[component])
        return PHASE_UPGRADE;
    return normal ? PHASE_NORMAL : PHASE_SCALE;
}

static bool fill_pd(const struct planning *p, struct tc_pd_status *out, const char *now)
{
    const struct tidbcluster_status *current = &p->cluster->status;
    const struct pd_snapshot_data *pd = p->world->pd;
    const struct component_view *view = &p->component[TC_PD];
    out->synced = p->pd.members_fresh;
    out->replicas = view->pods;
    out->ready_replicas = view->ready;
    bool normal = view->pods == view->desired && p->pd.members_known && p->pd.own_members == view->desired &&
                  p->pd.healthy == view->desired;
    if (!set_text(&out->phase, phase_of(p, TC_PD, normal)) ||
        !set_text(&out->image, planner_component_image(p->cluster, TC_PD)))
        return false;
    if (!pd || !p->pd.members_known)
        return true; /* keep the last known members */
    RELEASE_LIST(out->members, pd_member_release);
    for (size_t i = 0; i < pd->members.count; i++) {
        const struct pd_member *member = &pd->members.members[i];
        if (!member->name || !*member->name || planner_pd_member_ordinal(p->cluster, member->name) < 0)
            continue;
        struct tc_pd_member *record = tidbcluster_list_add(&out->members.items, &out->members.count, sizeof *record);
        if (!record || !fill_pd_member(record, pd, member, current, now))
            return false;
    }
    pd_member_release(&out->leader);
    out->has_leader = pd->members.has_leader && pd->members.leader.name && *pd->members.leader.name;
    return !out->has_leader || fill_pd_member(&out->leader, pd, &pd->members.leader, current, now);
}

static const struct tc_tikv_store *old_store(const struct tidbcluster_status *status, const char *id)
{
    for (size_t i = 0; i < status->tikv.stores.count; i++)
        if (same_text(status->tikv.stores.items[i].id, id))
            return &status->tikv.stores.items[i];
    for (size_t i = 0; i < status->tikv.tombstone_stores.count; i++)
        if (same_text(status->tikv.tombstone_stores.items[i].id, id))
            return &status->tikv.tombstone_stores.items[i];
    return NULL;
}

static bool fill_store(struct tc_tikv_store *out, const struct pd_store *store, const char *pod,
                       const struct tidbcluster_status *current, const char *now)
{
    char id[32], ip[PLANNER_NAME_MAX];
    snprintf(id, sizeof id, "%" PRIu64, store->id);
    /* PingCAP's "ip" is the host part of the address (our DNS name). */
    const char *colon = strrchr(store->address, ':');
    size_t host_length = colon ? (size_t)(colon - store->address) : strlen(store->address);
    planner_format(ip, sizeof ip, "%.*s", (int)host_length, store->address);
    const char *state = store->state_name_text && *store->state_name_text
                            ? store->state_name_text
                            : pd_store_state_name_text(store->state_name);
    const struct tc_tikv_store *old = old_store(current, id);
    out->leader_count = store->leader_count > INT32_MAX ? INT32_MAX : (int32_t)store->leader_count;
    return set_text(&out->id, id) && set_text(&out->pod_name, pod) && set_text(&out->ip, ip) &&
           set_text(&out->state, state) &&
           set_text(&out->last_transition_time,
                    transition_time(old ? old->last_transition_time : NULL, !old || !same_text(old->state, state), now));
}

static bool fill_tikv(const struct planning *p, struct tc_tikv_status *out, const char *now)
{
    const struct tidbcluster_status *current = &p->cluster->status;
    const struct pd_snapshot_data *pd = p->world->pd;
    const struct component_view *view = &p->component[TC_TIKV];
    out->synced = p->pd.stores_fresh;
    out->replicas = view->pods;
    out->ready_replicas = view->ready;
    bool normal = view->pods == view->desired && p->pd.stores_counted == view->desired &&
                  p->pd.stores_up == view->desired;
    if (!set_text(&out->phase, phase_of(p, TC_TIKV, normal)) ||
        !set_text(&out->image, planner_component_image(p->cluster, TC_TIKV)))
        return false;
    if (!pd || !p->pd.stores_known)
        return true; /* keep the last known stores */
    out->bootstrapped = pd->bootstrapped;
    RELEASE_LIST(out->stores, store_release);
    RELEASE_LIST(out->tombstone_stores, store_release);
    for (size_t i = 0; i < pd->stores.count; i++) {
        const struct pd_store *store = &pd->stores.stores[i];
        char pod[PLANNER_NAME_MAX];
        if (store->is_tiflash || planner_store_ordinal(p->cluster, store->address, pod, sizeof pod) < 0)
            continue;
        bool tombstone = store->state == PD_STORE_STATE_TOMBSTONE || store->state_name == PD_STORE_TOMBSTONE;
        struct tc_tikv_store *record =
            tombstone ? tidbcluster_list_add(&out->tombstone_stores.items, &out->tombstone_stores.count, sizeof *record)
                      : tidbcluster_list_add(&out->stores.items, &out->stores.count, sizeof *record);
        if (!record || !fill_store(record, store, pod, current, now))
            return false;
    }
    return true;
}

static bool fill_tidb(const struct planning *p, struct tc_tidb_status *out, const char *now)
{
    const struct tidbcluster_status *current = &p->cluster->status;
    const struct component_view *view = &p->component[TC_TIDB];
    out->replicas = view->pods;
    out->ready_replicas = view->ready;
    bool normal = view->pods == view->desired && view->ready == view->desired;
    if (!set_text(&out->phase, phase_of(p, TC_TIDB, normal)) ||
        !set_text(&out->image, planner_component_image(p->cluster, TC_TIDB)))
        return false;
    RELEASE_LIST(out->members, tidb_member_release);
    for (size_t i = 0; i < p->world->pod_count; i++) {
        const struct kube_pod *pod = p->world->pods[i];
        if (!pod || planner_member_ordinal(p->cluster, TC_TIDB, pod->meta.name) < 0)
            continue;
        bool health = pod->ready == CONDITION_TRUE && !pod->meta.deletion_ms;
        const struct tc_tidb_member *old = NULL;
        for (size_t j = 0; j < current->tidb.members.count; j++)
            if (same_text(current->tidb.members.items[j].name, pod->meta.name))
                old = &current->tidb.members.items[j];
        struct tc_tidb_member *record = tidbcluster_list_add(&out->members.items, &out->members.count, sizeof *record);
        if (!record)
            return false;
        record->health = health;
        if (!set_text(&record->name, pod->meta.name) || !set_text(&record->node, pod->node_name) ||
            !set_text(&record->last_transition_time,
                      transition_time(old ? old->last_transition_time : NULL, !old || old->health != health, now)))
            return false;
    }
    return true;
}

/* ---- conditions and writing ---- */

/* Sets condition `type` (added when missing); its lastUpdateTime moves only
 * when status, reason or message does, lastTransitionTime only when the
 * status does. */
static bool set_condition(struct tidbcluster_status *status, const char *type, bool value, const char *reason,
                          const char *message, const char *now)
{
    struct tc_condition *condition = NULL;
    for (size_t i = 0; i < status->conditions.count && !condition; i++)
        if (same_text(status->conditions.items[i].type, type))
            condition = &status->conditions.items[i];
    if (!condition) {
        condition = tidbcluster_list_add(&status->conditions.items, &status->conditions.count, sizeof *condition);
        if (!condition || !set_text(&condition->type, type))
            return false;
    }
    const char *text = value ? "True" : "False";
    bool flipped = !same_text(condition->status, text);
    if (!flipped && same_text(condition->reason, reason) && same_text(condition->message, message))
        return true;
    return set_text(&condition->status, text) && set_text(&condition->reason, reason) &&
           set_text(&condition->message, message) && set_text(&condition->last_update_time, now) &&
           (!flipped && condition->last_transition_time ? true : set_text(&condition->last_transition_time, now));
}

static struct tc_condition *find_condition(struct tidbcluster_status *status, const char *type)
{
    for (size_t i = 0; i < status->conditions.count; i++)
        if (same_text(status->conditions.items[i].type, type))
            return &status->conditions.items[i];
    return NULL;
}

static bool set_ready_condition(struct tidbcluster_status *status, bool ready, const char *reason,
                                const char *message, const char *now)
{
    return set_condition(status, CONDITION_READY, ready, reason, message, now);
}

static bool has_condition(struct tidbcluster_status *status, const char *type)
{
    return find_condition(status, type) != NULL;
}

/* A condition that is True while something is going on (its message says
 * what), and False once it is over; never added to a cluster that never
 * had it, so a settled cluster's status does not change. */
static bool set_activity_condition(struct tidbcluster_status *status, const char *type, const char *active_reason,
                                   const char *message, const char *idle_message, const char *now)
{
    if (message && message[0])
        return set_condition(status, type, true, active_reason, message, now);
    if (!has_condition(status, type))
        return true;
    return set_condition(status, type, false, "Idle", idle_message, now);
}

/* Conditions beside Ready: Scaling and Upgrading (what the concern does or
 * waits for), Paused. */
static bool set_activity_conditions(const struct planning *p, struct tidbcluster_status *next, const char *now)
{
    char paused[PLANNER_MESSAGE_MAX] = "";
    if (p->paused) {
        const struct member_row *evicting = NULL;
        size_t count = 0;
        const struct member_row *rows = member_table_rows(&p->members, TC_TIKV, &count);
        for (size_t i = 0; i < count && !evicting; i++)
            if (rows[i].evicting && rows[i].store)
                evicting = &rows[i];
        if (evicting)
            planner_format(paused, sizeof paused, "%s; the evict-leader scheduler of store %llu (%s) stays until then",
                           PAUSED_MESSAGE, (unsigned long long)evicting->store->id, evicting->name);
        else
            planner_format(paused, sizeof paused, "%s", PAUSED_MESSAGE);
    }
    /* The roll's state per component: "(up to date: pd 3/3, tikv 1/3, tidb 0/2)". */
    char upgrading[PLANNER_MESSAGE_MAX] = "";
    if (!p->paused && p->progress[CONCERN_UPGRADE][0]) {
        char counts[160] = "";
        for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
            size_t count = 0, current = 0, members = 0;
            const struct member_row *rows = member_table_rows(&p->members, (enum tc_component)c, &count);
            for (size_t i = 0; i < count; i++) {
                if (!rows[i].desired || !rows[i].existing)
                    continue;
                members++;
                current += rows[i].pod && !rows[i].out_of_date;
            }
            if (members)
                planner_format(counts + strlen(counts), sizeof counts - strlen(counts), "%s%s %zu/%zu",
                               counts[0] ? ", " : "", tidbcluster_component_name((enum tc_component)c), current, members);
        }
        planner_format(upgrading, sizeof upgrading, "%s (up to date: %s)", p->progress[CONCERN_UPGRADE], counts);
    }
    return set_activity_condition(next, "Scaling", "ScaleInProgress", p->paused ? "" : p->progress[CONCERN_SCALE],
                                  "no scale in progress", now) &&
           set_activity_condition(next, "Upgrading", "UpgradeInProgress", upgrading,
                                  "every member runs the current spec", now) &&
           set_activity_condition(next, "Failover", "FailoverInProgress",
                                  p->paused ? "" : p->progress[CONCERN_FAILOVER], "no failover in progress", now) &&
           set_activity_condition(next, "Paused", "Paused", paused, "not paused", now);
}

static void remove_condition(struct tidbcluster_status *status, const char *type)
{
    struct tc_condition *condition = find_condition(status, type);
    if (!condition)
        return;
    free(condition->type);
    free(condition->status);
    free(condition->reason);
    free(condition->message);
    free(condition->last_update_time);
    free(condition->last_transition_time);
    size_t index = (size_t)(condition - status->conditions.items);
    memmove(condition, condition + 1, (status->conditions.count - index - 1) * sizeof *condition);
    status->conditions.count--;
}

/* "field: message; ..." over the warnings, cut to WARNINGS_MESSAGE_MAX
 * with the count of those left out; "" when there are none; NULL when out
 * of memory. */
static char *warnings_message(const struct tc_problems *problems)
{
    char *all = problems ? tidbcluster_problems_summary(problems, TC_PROBLEM_WARNING) : strdup("");
    if (!all || strlen(all) <= WARNINGS_MESSAGE_MAX)
        return all;
    size_t cut = WARNINGS_MESSAGE_MAX;
    while (cut > 0 && strncmp(all + cut, "; ", 2) != 0)
        cut--;
    bool inside = cut == 0;
    if (inside) { /* one huge warning: cut inside it, on a UTF-8 boundary */
        cut = WARNINGS_MESSAGE_MAX;
        while (cut > 0 && ((unsigned char)all[cut] & 0xC0) == 0x80)
            cut--;
    }
    size_t left_out = 0;
    for (const char *p = all + cut; (p = strstr(p, "; ")); p += 2)
        left_out++;
    char tail[64];
    if (left_out)
        snprintf(tail, sizeof tail, "%s; and %zu more", inside ? " (cut)" : "", left_out);
    else
        snprintf(tail, sizeof tail, " (cut)");
    char *out = malloc(cut + strlen(tail) + 1);
    if (out) {
        memcpy(out, all, cut);
        strcpy(out + cut, tail);
    }
    free(all);
    return out;
}

/* The UnsupportedFields condition (see the head of this file) and, once per
 * generation, its event. */
static bool plan_warnings(struct planning *p, struct tidbcluster_status *next, const char *now)
{
    char *message = warnings_message(p->problems);
    if (!message)
        return false;
    bool ok = true;
    if (!*message) {
        remove_condition(next, CONDITION_UNSUPPORTED_FIELDS);
    } else {
        struct tc_condition *condition = find_condition(next, CONDITION_UNSUPPORTED_FIELDS);
        bool told = condition && same_text(condition->message, message) &&
                    p->cluster->status.observed_generation == p->cluster->generation;
        if (!told)
            ok = plan_event(p->plan, true, CONDITION_UNSUPPORTED_FIELDS, "%s", message);
        ok = ok && set_condition(next, CONDITION_UNSUPPORTED_FIELDS, true, REASON_SPEC_WARNINGS, message, now);
    }
    free(message);
    return ok;
}

/* ---- failover records ---- */

static void drop_failure_store(struct tc_tikv_status *tikv, const char *key)
{
    for (size_t i = 0; i < tikv->failure_stores.count; i++) {
        struct tc_tikv_failure_store *record = &tikv->failure_stores.items[i];
        if (!same_text(record->store_id, key))
            continue;
        free(record->store_id);
        free(record->pod_name);
        free(record->created_at);
        memmove(record, record + 1, (tikv->failure_stores.count - i - 1) * sizeof *record);
        tikv->failure_stores.count--;
        return;
    }
}

static void drop_failure_member(struct tc_tidb_status *tidb, const char *key)
{
    for (size_t i = 0; i < tidb->failure_members.count; i++) {
        struct tc_tidb_failure_member *record = &tidb->failure_members.items[i];
        if (!same_text(record->pod_name, key))
            continue;
        free(record->pod_name);
        free(record->created_at);
        memmove(record, record + 1, (tidb->failure_members.count - i - 1) * sizeof *record);
        tidb->failure_members.count--;
        return;
    }
}

/* The failover concern's decisions (failover.c): records dropped, and
 * records added whose proposal the arbiter admitted. */
static bool apply_failover_changes(const struct planning *p, struct tidbcluster_status *next, const char *now)
{
    for (size_t i = 0; i < p->failover_change_count; i++) {
        const struct failover_change *c = &p->failover_changes[i];
        if (!c->add) {
            if (c->component == TC_TIKV)
                drop_failure_store(&next->tikv, c->key);
            else
                drop_failure_member(&next->tidb, c->key);
            continue;
        }
        if (c->proposal >= p->proposals.count || !p->proposals.items[c->proposal].admitted)
            continue;
        if (c->component == TC_TIKV) {
            char key[32];
            snprintf(key, sizeof key, "%llu", (unsigned long long)c->store_id);
            struct tc_tikv_failure_store *record =
                tidbcluster_list_add(&next->tikv.failure_stores.items, &next->tikv.failure_stores.count, sizeof *record);
            if (!record || !set_text(&record->store_id, key) || !set_text(&record->pod_name, c->pod) ||
                !set_text(&record->created_at, now))
                return false;
            record->host_down = c->host_down;
        } else {
            struct tc_tidb_failure_member *record = tidbcluster_list_add(
                &next->tidb.failure_members.items, &next->tidb.failure_members.count, sizeof *record);
            if (!record || !set_text(&record->pod_name, c->pod) || !set_text(&record->created_at, now))
                return false;
        }
    }
    return true;
}

/* decode(encode()) is the deep copy: one definition of the status shape. */
static bool status_copy(const struct tidbcluster_status *from, struct tidbcluster_status *to)
{
    *to = (struct tidbcluster_status){ 0 };
    cJSON *json = tidbcluster_status_encode(from);
    if (!json)
        return false;
    char *error = NULL;
    bool ok = tidbcluster_status_decode(json, to, &error);
    free(error);
    cJSON_Delete(json);
    return ok;
}

/* Adds the status update when `next` encodes differently from `current`. */
/* Leader counts move on every PD poll of a live cluster: they are written
 * along with real changes, but never cause a status write by themselves
 * (a steady cluster costs no API writes). */
/* Leader counts move with every balance and are not worth a status write
 * on their own; they are written along with any other change. */
static bool ignored_member(const cJSON *item)
{
    return item && item->string && strcmp(item->string, "leaderCount") == 0;
}

static const cJSON *next_compared(const cJSON *item)
{
    while (item && ignored_member(item))
        item = item->next;
    return item;
}

/* The two encoded statuses say the same, leader counts aside: one walk of
 * both trees (the encoder writes members in a fixed order), nothing printed. */
static bool same_status_json(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return false;
    switch (a->type & 0xFF) {
    case cJSON_String:
        return strcmp(a->valuestring ? a->valuestring : "", b->valuestring ? b->valuestring : "") == 0;
    case cJSON_Number:
        return a->valuedouble == b->valuedouble;
    case cJSON_Object:
    case cJSON_Array: {
        const cJSON *x = next_compared(a->child), *y = next_compared(b->child);
        for (; x && y; x = next_compared(x->next), y = next_compared(y->next))
            if ((x->string || y->string) && (!x->string || !y->string || strcmp(x->string, y->string) != 0))
                return false;
            else if (!same_status_json(x, y))
                return false;
        return !x && !y;
    }
    default:
        return true; /* true, false, null: the type says it all */
    }
}

static bool write_if_changed(struct plan *plan, const char *name, const char *namespace, const char *resource_version,
                             const struct tidbcluster_status *current, const struct tidbcluster_status *next)
{
    cJSON *before = tidbcluster_status_encode(current);
    cJSON *after = tidbcluster_status_encode(next);
    bool ok = before && after;
    bool changed = ok && !same_status_json(before, after);
    cJSON_Delete(before);
    if (!changed) {
        cJSON_Delete(after);
        if (!ok)
            plan->incomplete = true;
        return ok;
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *metadata = NULL;
    ok = body && cJSON_AddStringToObject(body, "apiVersion", TIDBCLUSTER_API_VERSION) &&
         cJSON_AddStringToObject(body, "kind", TIDBCLUSTER_KIND) &&
         (metadata = cJSON_AddObjectToObject(body, "metadata")) &&
         cJSON_AddStringToObject(metadata, "name", name ? name : "") &&
         cJSON_AddStringToObject(metadata, "namespace", namespace ? namespace : "") &&
         (!resource_version || cJSON_AddStringToObject(metadata, "resourceVersion", resource_version)) &&
         cJSON_AddItemToObject(body, "status", after);
    if (!ok) {
        if (!body || !cJSON_GetObjectItemCaseSensitive(body, "status"))
            cJSON_Delete(after);
        cJSON_Delete(body);
        plan->incomplete = true;
        return false;
    }
    return plan_update_status(plan, name ? name : "", body);
}

/* The Ready condition's status as last written ("True", "False"), or NULL. */
static const char *written_ready(const struct tidbcluster_status *status)
{
    for (size_t i = 0; i < status->conditions.count; i++)
        if (same_text(status->conditions.items[i].type, CONDITION_READY))
            return status->conditions.items[i].status;
    return NULL;
}

/* Rule ready_flips_are_events: a cluster that stops being Ready gets a
 * Warning Event with the reason and message of the condition (what SREs
 * alert on), and a Normal one when it becomes Ready. Only on a flip of the
 * written condition, so a steady cluster emits nothing. */
static bool plan_ready_flip_event(struct planning *p, const struct ready_verdict *verdict)
{
    const char *before = written_ready(&p->cluster->status);
    if (verdict->ready && !same_text(before, "True"))
        return plan_event(p->plan, false, REASON_READY, "%s", verdict->message);
    /* Pausing is the user's choice, not a failure: a Normal Event. */
    if (!verdict->ready && same_text(before, "True") && p->paused)
        return plan_event(p->plan, false, REASON_PAUSED, "%s", verdict->message);
    if (!verdict->ready && same_text(before, "True"))
        return plan_event(p->plan, true, verdict->reason, "cluster is not ready: %s", verdict->message);
    return true;
}

bool planner_plan_status(struct planning *p, const struct ready_verdict *verdict_in)
{
    const struct tidbcluster *cluster = p->cluster;
    char now[32];
    planner_format_time(p->world->now_ms, now);
    struct tidbcluster_status next;
    bool ok = status_copy(&cluster->status, &next);
    if (ok) {
        next.observed_generation = cluster->generation;
        if (p->component[TC_PD].present)
            ok = fill_pd(p, &next.pd, now);
        if (ok && p->component[TC_TIKV].present)
            ok = fill_tikv(p, &next.tikv, now);
        if (ok && p->component[TC_TIDB].present)
            ok = fill_tidb(p, &next.tidb, now);
        ok = ok && plan_ready_flip_event(p, verdict_in) &&
             set_ready_condition(&next, verdict_in->ready, verdict_in->reason, verdict_in->message, now) &&
             set_activity_conditions(p, &next, now) && plan_warnings(p, &next, now) &&
             apply_failover_changes(p, &next, now);
        ok = ok && write_if_changed(p->plan, cluster->name, cluster->namespace, cluster->resource_version,
                                    &cluster->status, &next);
    }
    if (!ok)
        p->plan->incomplete = true;
    tidbcluster_status_free(&next);
    return ok;
}

bool planner_plan_condition_only(struct plan *plan, const char *name, const char *namespace,
                                 const char *resource_version, int64_t generation,
                                 const struct tidbcluster_status *current, const char *reason,
                                 const char *message, int64_t now_ms)
{
    char now[32];
    planner_format_time(now_ms, now);
    struct tidbcluster_status next;
    bool ok = status_copy(current, &next);
    if (ok) {
        next.observed_generation = generation;
        ok = set_ready_condition(&next, false, reason, message, now) &&
             write_if_changed(plan, name, namespace, resource_version, current, &next);
    }
    if (!ok)
        plan->incomplete = true;
    tidbcluster_status_free(&next);
    return ok;
}
