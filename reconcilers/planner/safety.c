/*
 * safety: proposals and the arbiter (safety.h). Every rule is one function
 * named after it that returns NULL when the proposal may go, or fills the
 * refusal's message and returns the rule's name.
 */
#include "reconcilers/planner/safety.h"

#include "reconcilers/planner/planner_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_REPLICAS 3

static const char *const concern_names[CONCERN_COUNT] = {
    [CONCERN_BRINGUP] = "bring-up",
    [CONCERN_FAILOVER] = "failover",
    [CONCERN_SCALE] = "scale",
    [CONCERN_UPGRADE] = "upgrade",
};

const char *concern_name(enum concern concern)
{
    return (int)concern >= 0 && concern < CONCERN_COUNT ? concern_names[concern] : "unknown";
}

/* ---- the test-only seam: one rule disabled (safety.h) ---- */

const char *const safety_rule_names[] = {
    "one_disruption_at_a_time", "pd_quorum_kept", "tikv_leaders_evicted_first",
    "store_data_kept_until_tombstone", "up_stores_kept", "tikv_restart_with_other_stores_up", "no_double_attach",
    "bounded_creates", "failover_replacements_capped",
};
const size_t safety_rule_count = sizeof safety_rule_names / sizeof safety_rule_names[0];

static const char *disabled_rule; /* one of safety_rule_names, or NULL */

bool safety_disable_rule(const char *name)
{
    if (!name) {
        disabled_rule = NULL;
        return true;
    }
    for (size_t i = 0; i < safety_rule_count; i++) {
        if (strcmp(safety_rule_names[i], name) == 0) {
            disabled_rule = safety_rule_names[i];
            return true;
        }
    }
    return false;
}

const char *safety_disabled_rule(void) { return disabled_rule; }

static bool enabled(const char *rule)
{
    return !disabled_rule || strcmp(disabled_rule, rule) != 0;
}

/* ---- proposals ---- */

bool proposals_init(struct proposals *proposals, const struct plan *like)
{
    *proposals = (struct proposals){ 0 };
    return plan_init(&proposals->actions, like->namespace, like->cluster, like->cluster_uid);
}

void proposals_free(struct proposals *proposals)
{
    plan_free(&proposals->actions);
    free(proposals->items);
    *proposals = (struct proposals){ 0 };
}

struct plan *proposals_open(struct proposals *proposals, enum concern concern, enum proposal_effect effect,
                            enum disruption disruption, enum tc_component component, int ordinal,
                            const char *why)
{
    if (proposals->open)
        proposals_close(proposals);
    if (proposals->count == proposals->capacity) {
        size_t capacity = proposals->capacity ? proposals->capacity * 2 : 16;
        struct proposal *grown = realloc(proposals->items, capacity * sizeof *grown);
        if (!grown) {
            proposals->actions.incomplete = true;
            return NULL;
        }
        proposals->items = grown;
        proposals->capacity = capacity;
    }
    struct proposal *proposal = &proposals->items[proposals->count++];
    *proposal = (struct proposal){ .concern = concern, .effect = effect, .disruption = disruption,
                                   .component = component, .ordinal = ordinal,
                                   .first_action = proposals->actions.count };
    planner_format(proposal->why, sizeof proposal->why, "%s", why ? why : "");
    proposals->open = true;
    return &proposals->actions;
}

struct proposal *proposals_current(struct proposals *proposals)
{
    return proposals->open && proposals->count ? &proposals->items[proposals->count - 1] : NULL;
}

void proposals_close(struct proposals *proposals)
{
    struct proposal *proposal = proposals_current(proposals);
    if (proposal)
        proposal->action_count = proposals->actions.count - proposal->first_action;
    proposals->open = false;
}

/* ---- facts the rules share ---- */

static const struct member_row *target_row(const struct safety_world *world, const struct proposal *proposal)
{
    return member_table_find(world->members, proposal->component, proposal->ordinal);
}

static const char *refuse(struct safety_refusal *refusal, const char *rule, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static const char *refuse(struct safety_refusal *refusal, const char *rule, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(refusal->message, sizeof refusal->message, format, args);
    va_end(args);
    refusal->rule = rule;
    return rule;
}

/* The slow-start window: min(cap, max(first, 2 x the ready member pods)). */
static int create_window(int ready)
{
    int window = ready > SAFETY_CREATE_CAP / 2 ? SAFETY_CREATE_CAP : 2 * ready;
    return window < SAFETY_SLOW_START_FIRST ? SAFETY_SLOW_START_FIRST : window;
}

void safety_create_budget(const struct safety_world *world, enum tc_component component,
                          struct safety_budget *budget)
{
    *budget = (struct safety_budget){ .creates = SAFETY_CREATE_CAP, .new_members = SAFETY_CREATE_CAP };
    if (component == TC_PD && !world->pd_bootstrapped)
        return; /* pd_bootstrap_once: the set starts together */
    size_t count = 0;
    const struct member_row *rows = member_table_rows(world->members, component, &count);
    int ready = 0, unready = 0;
    for (size_t i = 0; i < count; i++) {
        if (rows[i].pod && rows[i].ready)
            ready++;
        else if (rows[i].pod)
            unready++;
    }
    budget->window = create_window(ready);
    budget->new_members = budget->window - unready;
    if (budget->new_members < 0)
        budget->new_members = 0;
    budget->unready = unready;
}

/* A member of PD or TiKV other than `except` that is being taken down. */
static const struct member_row *disruption_in_progress(const struct safety_world *world,
                                                       const struct member_row *except, bool live_members_only)
{
    static const enum tc_component stateful[] = { TC_PD, TC_TIKV };
    for (size_t c = 0; c < sizeof stateful / sizeof stateful[0]; c++) {
        size_t count = 0;
        const struct member_row *rows = member_table_rows(world->members, stateful[c], &count);
        for (size_t i = 0; i < count; i++) {
            const struct member_row *row = &rows[i];
            if (row == except)
                continue;
            if (row->terminating || (row->store && row->store->state_name == PD_STORE_OFFLINE))
                return row;
            /* A member that should run but does not (its pod being
             * recreated, not ready yet): still down from the last step —
             * for proposals that take a live member down; the claim of a
             * member that is gone already concerns no one running. */
            if (live_members_only && row->desired && row->existing && (!row->pod || !row->ready))
                return row;
        }
    }
    return NULL;
}

/* ---- the rules ---- */

/* PD's members or stores were last read before the operator's last PD
 * write: a disruption that write started (a store going Offline) may not
 * show yet. */
static bool pd_unread_since_write(const struct safety_world *world)
{
    const struct pd_snapshot_data *pd = world->pd;
    if (!pd || !pd->written_ms)
        return false;
    static const enum pd_snapshot_part parts[] = { PD_PART_MEMBERS, PD_PART_HEALTH, PD_PART_STORES };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!pd->parts[parts[i]].ever_succeeded || pd->parts[parts[i]].last_attempt_ms < pd->written_ms)
            return true;
    return false;
}

static const char *rule_one_disruption_at_a_time(const struct safety_world *world, const struct proposal *proposal,
                                                 size_t admitted_disruptions, struct safety_refusal *refusal)
{
    if (admitted_disruptions > 0)
        return refuse(refusal, "one_disruption_at_a_time", "another disruption was admitted in this pass");
    if (pd_unread_since_write(world))
        return refuse(refusal, "one_disruption_at_a_time", "PD has not been read since the operator's last PD write");
    const struct member_row *busy =
        disruption_in_progress(world, target_row(world, proposal), proposal->disruption != DISRUPTION_DELETE_DATA);
    if (busy)
        return refuse(refusal, "one_disruption_at_a_time", "%s is %s", busy->name,
                      busy->terminating                                            ? "being deleted"
                      : busy->store && busy->store->state_name == PD_STORE_OFFLINE ? "being taken offline"
                                                                                   : "not running and ready");
    return NULL;
}

static bool takes_member_down(enum disruption disruption)
{
    return disruption == DISRUPTION_RESTART || disruption == DISRUPTION_MOVE ||
           disruption == DISRUPTION_REMOVE_MEMBER;
}

static const char *rule_pd_quorum_kept(const struct safety_world *world, const struct proposal *proposal,
                                       struct safety_refusal *refusal)
{
    if (proposal->component != TC_PD || !takes_member_down(proposal->disruption))
        return NULL;
    const struct member_row *target = target_row(world, proposal);
    size_t count = 0;
    const struct member_row *rows = member_table_rows(world->members, TC_PD, &count);
    int members = 0, healthy_others = 0;
    for (size_t i = 0; i < count; i++) {
        if (!rows[i].pd_member)
            continue;
        members++;
        if (&rows[i] != target && rows[i].pd_health == MEMBER_HEALTH_GOOD && !rows[i].terminating)
            healthy_others++;
    }
    int quorum = members / 2 + 1;
    /* Removing a member shrinks the quorum it is counted in. */
    if (proposal->disruption == DISRUPTION_REMOVE_MEMBER && target && target->pd_member && members > 1)
        quorum = (members - 1) / 2 + 1;
    /* A lone member restarting (an upgrade of a one-member PD) keeps no
     * quorum of others; there is none to keep. */
    bool alone = members == 1 && target && target->pd_member && proposal->disruption == DISRUPTION_RESTART;
    if (members > 0 && healthy_others < quorum && !alone)
        return refuse(refusal, "pd_quorum_kept", "only %d other PD members are healthy, %d needed for quorum",
                      healthy_others, quorum);
    if (target && target->pd_leader && members > 1)
        return refuse(refusal, "pd_quorum_kept", "%s is the PD leader: transfer leadership first", target->name);
    return NULL;
}

static const char *rule_tikv_leaders_evicted_first(const struct safety_world *world, const struct proposal *proposal,
                                                   struct safety_refusal *refusal)
{
    if (proposal->component != TC_TIKV || !takes_member_down(proposal->disruption) ||
        proposal->eviction_timed_out)
        return NULL;
    const struct member_row *target = target_row(world, proposal);
    if (!target || !target->store || !target->store_up || target->store->leader_count == 0)
        return NULL;
    if (!target->evicting)
        return refuse(refusal, "tikv_leaders_evicted_first", "store %llu (%s) holds %llu leaders: evict them first",
                      (unsigned long long)target->store->id, target->name,
                      (unsigned long long)target->store->leader_count);
    return refuse(refusal, "tikv_leaders_evicted_first", "store %llu (%s) still holds %llu leaders",
                  (unsigned long long)target->store->id, target->name,
                  (unsigned long long)target->store->leader_count);
}

static const char *rule_store_data_kept_until_tombstone(const struct safety_world *world,
                                                        const struct proposal *proposal,
                                                        struct safety_refusal *refusal)
{
    if (proposal->component != TC_TIKV || proposal->disruption != DISRUPTION_DELETE_DATA)
        return NULL;
    const struct member_row *target = target_row(world, proposal);
    if (target && target->store && target->store_tombstone)
        return NULL;
    if (target && !target->store && world->pd_stores_fresh)
        return NULL; /* PD knows no store of it: no data to keep */
    if (!world->pd_stores_fresh)
        return refuse(refusal, "store_data_kept_until_tombstone", "PD's stores are not known now");
    return refuse(refusal, "store_data_kept_until_tombstone", "store %llu (%s) is %s, not Tombstone",
                  (unsigned long long)target->store->id, target->name,
                  pd_store_state_name_text(target->store->state_name));
}

static const char *rule_up_stores_kept(const struct safety_world *world, const struct proposal *proposal,
                                       struct safety_refusal *refusal)
{
    if (proposal->disruption != DISRUPTION_DELETE_STORE)
        return NULL;
    if (!world->pd_stores_fresh)
        return refuse(refusal, "up_stores_kept", "PD's stores are not known now");
    uint64_t max_replicas = DEFAULT_MAX_REPLICAS;
    if (world->pd && world->pd->parts[PD_PART_CONFIG].ever_succeeded && world->pd->config.max_replicas)
        max_replicas = world->pd->config.max_replicas;
    const struct member_row *target = target_row(world, proposal);
    size_t count = 0;
    const struct member_row *rows = member_table_rows(world->members, TC_TIKV, &count);
    uint64_t up_after = 0;
    for (size_t i = 0; i < count; i++)
        if (rows[i].store_up && &rows[i] != target)
            up_after++;
    if (up_after < max_replicas)
        return refuse(refusal, "up_stores_kept", "deleting a store would leave %llu Up stores, max-replicas is %llu",
                      (unsigned long long)up_after, (unsigned long long)max_replicas);
    /* A store of ours that is Down already holds replicas nobody can
     * read: moving another store's regions now could lose a quorum. */
    for (size_t i = 0; i < count; i++)
        if (&rows[i] != target && rows[i].store && rows[i].store_down)
            return refuse(refusal, "up_stores_kept", "store %llu (%s) is %s", (unsigned long long)rows[i].store->id,
                          rows[i].name, pd_store_state_name_text(rows[i].store->state_name));
    return NULL;
}

static const char *rule_tikv_restart_with_other_stores_up(const struct safety_world *world,
                                                          const struct proposal *proposal,
                                                          struct safety_refusal *refusal)
{
    if (proposal->component != TC_TIKV ||
        (proposal->disruption != DISRUPTION_RESTART && proposal->disruption != DISRUPTION_TRANSFER_LEADER))
        return NULL;
    const char *force = tidbcluster_annotation(world->cluster, SAFETY_ANNOTATION_FORCE_UPGRADE);
    if (force && strcmp(force, "true") == 0)
        return NULL;
    const struct member_row *target = target_row(world, proposal);
    size_t count = 0;
    const struct member_row *rows = member_table_rows(world->members, TC_TIKV, &count);
    for (size_t i = 0; i < count; i++)
        if (&rows[i] != target && rows[i].store && !rows[i].store_up && !rows[i].store_tombstone)
            return refuse(refusal, "tikv_restart_with_other_stores_up",
                          "store %llu (%s) is %s (annotation %s: \"true\" overrides)",
                          (unsigned long long)rows[i].store->id, rows[i].name,
                          pd_store_state_name_text(rows[i].store->state_name), SAFETY_ANNOTATION_FORCE_UPGRADE);
    return NULL;
}

static const char *rule_failover_replacements_capped(const struct safety_world *world,
                                                     const struct proposal *proposal, const int admitted[],
                                                     struct safety_refusal *refusal)
{
    const struct tidbcluster_status *status = &world->cluster->status;
    const struct member_row *target = target_row(world, proposal);
    int limit = planner_failover_limit(world->cluster, proposal->component);
    int records = proposal->component == TC_TIKV   ? (int)status->tikv.failure_stores.count
                  : proposal->component == TC_TIDB ? (int)status->tidb.failure_members.count
                                                   : 0;
    if (target && target->failure)
        return refuse(refusal, "failover_replacements_capped", "%s has a replacement already", target->name);
    if (records + admitted[proposal->component] >= limit)
        return refuse(refusal, "failover_replacements_capped", "%d %s members are failed over already (maxFailoverCount %d)",
                      records + admitted[proposal->component], tidbcluster_component_name(proposal->component), limit);
    return NULL;
}

static const char *rule_no_double_attach(const struct safety_world *world, const struct proposal *proposal,
                                         struct safety_refusal *refusal)
{
    if (proposal->disruption != DISRUPTION_MOVE)
        return NULL;
    const struct member_row *target = target_row(world, proposal);
    if (target && target->node_lost)
        return refuse(refusal, "no_double_attach", "node %s of %s is not Ready but not confirmed gone: it may still write",
                      target->node->meta.name, target->name);
    return NULL;
}

static const char *rule_bounded_creates(const struct safety_world *world, const struct proposal *proposal,
                                       struct safety_budget *left, struct safety_refusal *refusal)
{
    const struct member_row *target = target_row(world, proposal);
    bool new_member = !target || (!target->pod && !target->pvc);
    const char *component = tidbcluster_component_name(proposal->component);
    if (left->creates <= 0)
        return refuse(refusal, "bounded_creates", "at most %d %s members are created per pass", SAFETY_CREATE_CAP,
                      component);
    if (new_member && left->new_members <= 0)
        return refuse(refusal, "bounded_creates", "%d %s members are not ready yet (at most %d at once)",
                      left->unready, component, left->window);
    left->creates--;
    if (new_member)
        left->new_members--;
    return NULL;
}

static const char *judge_disruption(const struct safety_world *world, const struct proposal *proposal,
                                    size_t admitted_disruptions, struct safety_refusal *refusal)
{
    const char *rule = NULL;
    if (enabled("one_disruption_at_a_time"))
        rule = rule_one_disruption_at_a_time(world, proposal, admitted_disruptions, refusal);
    if (!rule && enabled("pd_quorum_kept"))
        rule = rule_pd_quorum_kept(world, proposal, refusal);
    if (!rule && enabled("tikv_leaders_evicted_first"))
        rule = rule_tikv_leaders_evicted_first(world, proposal, refusal);
    if (!rule && enabled("store_data_kept_until_tombstone"))
        rule = rule_store_data_kept_until_tombstone(world, proposal, refusal);
    if (!rule && enabled("up_stores_kept"))
        rule = rule_up_stores_kept(world, proposal, refusal);
    if (!rule && enabled("tikv_restart_with_other_stores_up"))
        rule = rule_tikv_restart_with_other_stores_up(world, proposal, refusal);
    if (!rule && enabled("no_double_attach"))
        rule = rule_no_double_attach(world, proposal, refusal);
    return rule;
}

/* ---- admission ---- */

static bool admit(struct proposals *proposals, struct proposal *proposal, struct plan *out,
                  struct safety_outcome *outcome)
{
    proposal->admitted = true;
    for (size_t i = 0; i < proposal->action_count; i++)
        if (!plan_move_action(out, &proposals->actions.actions[proposal->first_action + i]))
            return false;
    outcome->admitted++;
    return true;
}

static void record_refusal(struct safety_outcome *outcome, const struct proposal *proposal,
                           const struct safety_refusal *refusal)
{
    if (outcome->refused++ > 0)
        return;
    outcome->first_refusal = *refusal;
    outcome->first_refusal.concern = proposal->concern;
    outcome->first_refusal.component = proposal->component;
    outcome->first_refusal.ordinal = proposal->ordinal;
    planner_format(outcome->first_refusal.message, sizeof outcome->first_refusal.message, "%s waits: %s%s%s (rule %s)",
                   concern_name(proposal->concern), proposal->why, proposal->why[0] ? ": " : "", refusal->message,
                   refusal->rule);
}

/* The fixed order: failover, then scale, then upgrade (bring-up proposes
 * no disruptions). */
static const enum concern disruption_order[] = { CONCERN_FAILOVER, CONCERN_SCALE, CONCERN_UPGRADE,
                                                 CONCERN_BRINGUP };

bool safety_arbitrate(const struct safety_world *world, struct proposals *proposals, struct plan *out,
                      struct safety_outcome *outcome)
{
    *outcome = (struct safety_outcome){ 0 };
    if (proposals->open)
        proposals_close(proposals);
    if (proposals->actions.incomplete) {
        out->incomplete = true;
        return false;
    }
    struct safety_budget budget[TC_COMPONENT_COUNT];
    int failover_admitted[TC_COMPONENT_COUNT] = { 0 };
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        safety_create_budget(world, (enum tc_component)c, &budget[c]);
    /* Notes, objects and member creates, in the order proposed (which is
     * component order: bring-up walks PD, TiKV, TiDB). */
    for (size_t i = 0; i < proposals->count; i++) {
        struct proposal *proposal = &proposals->items[i];
        if (proposal->effect == EFFECT_DISRUPT)
            continue;
        if (proposal->failover_record) {
            struct safety_refusal refusal = { 0 };
            if (enabled("failover_replacements_capped") &&
                rule_failover_replacements_capped(world, proposal, failover_admitted, &refusal)) {
                record_refusal(outcome, proposal, &refusal);
                continue;
            }
            failover_admitted[proposal->component]++;
        }
        if (proposal->effect == EFFECT_CREATE_MEMBER) {
            struct safety_budget *left = &budget[proposal->component];
            struct safety_refusal refusal = { 0 };
            if (enabled("bounded_creates") && rule_bounded_creates(world, proposal, left, &refusal)) {
                record_refusal(outcome, proposal, &refusal);
                continue;
            }
        }
        if (!admit(proposals, proposal, out, outcome))
            return false;
    }
    size_t disruptions = 0;
    for (size_t o = 0; o < sizeof disruption_order / sizeof disruption_order[0]; o++) {
        for (size_t i = 0; i < proposals->count; i++) {
            struct proposal *proposal = &proposals->items[i];
            if (proposal->effect != EFFECT_DISRUPT || proposal->concern != disruption_order[o])
                continue;
            struct safety_refusal refusal = { 0 };
            if (judge_disruption(world, proposal, disruptions, &refusal)) {
                record_refusal(outcome, proposal, &refusal);
                continue;
            }
            if (!admit(proposals, proposal, out, outcome))
                return false;
            disruptions++;
        }
    }
    return true;
}
