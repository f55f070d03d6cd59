/*
 * dst_check: the named invariants (dst.h), judged against the truth (the
 * store as it is and the PD models), never against what the operator saw.
 *
 * Action checks run just before an action reaches the world; state checks
 * after every step. An action check about liveness (quorum, Up stores,
 * leaders) is excused, and counted, when the world got worse after the
 * information the plan was made from (a member died or a store left Up
 * without the operator's doing, or PD's leader moved): an operator cannot
 * know what happened after it last looked.
 */
#include "test/dst/dst_internal.h"

#include "test/sim/pd_model.h"
#include "test/sim/pd_world.h"

#include "watchers/objects.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dst_violation(struct dst *sim, enum dst_invariant invariant, const char *format, ...)
{
    struct dst_result *result = sim->result;
    if (result->violated)
        return;
    result->violated = true;
    result->invariant = invariant;
    result->step = result->steps;
    result->at_ms = dst_now(sim) - sim->start_ms;
    va_list args;
    va_start(args, format);
    vsnprintf(result->detail, sizeof result->detail, format, args);
    va_end(args);
    dst_trace(sim, "VIOLATION %s: %s", dst_invariant_name(invariant), result->detail);
}

void dst_note_deleted(struct dst *sim, const char *name, const char *uid)
{
    struct dst_deleted *deleted = &sim->deleted;
    if (deleted->count == deleted->capacity) {
        size_t capacity = deleted->capacity ? deleted->capacity * 2 : 32;
        struct dst_deleted_pod *grown = realloc(deleted->pods, capacity * sizeof *grown);
        if (!grown) {
            dst_fail(sim, "out of memory");
            return;
        }
        deleted->pods = grown;
        deleted->capacity = capacity;
    }
    struct dst_deleted_pod *pod = &deleted->pods[deleted->count++];
    snprintf(pod->name, sizeof pod->name, "%s", name ? name : "");
    snprintf(pod->uid, sizeof pod->uid, "%s", uid ? uid : "");
}

static const struct kube_pod *truth_pod(const struct dst *sim, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, DST_NAMESPACE "/%s", name);
    return (const struct kube_pod *)cache_get(&sim->truth[DST_KIND_PODS], key);
}

void dst_note_pod(struct dst *sim, const char *name, const char *uid)
{
    struct dst_deleted *deleted = &sim->deleted;
    for (size_t i = 0; i < deleted->latest_count; i++) {
        if (strcmp(deleted->latest[i].name, name) == 0) {
            snprintf(deleted->latest[i].uid, sizeof deleted->latest[i].uid, "%s", uid);
            return;
        }
    }
    if (deleted->latest_count == deleted->latest_capacity) {
        size_t capacity = deleted->latest_capacity ? deleted->latest_capacity * 2 : 32;
        struct dst_deleted_pod *grown = realloc(deleted->latest, capacity * sizeof *grown);
        if (!grown) {
            dst_fail(sim, "out of memory");
            return;
        }
        deleted->latest = grown;
        deleted->latest_capacity = capacity;
    }
    struct dst_deleted_pod *entry = &deleted->latest[deleted->latest_count++];
    snprintf(entry->name, sizeof entry->name, "%s", name);
    snprintf(entry->uid, sizeof entry->uid, "%s", uid);
}

bool dst_deleted_by_operator(const struct dst *sim, const char *name)
{
    const char *latest = NULL;
    for (size_t i = 0; i < sim->deleted.latest_count && !latest; i++)
        if (strcmp(sim->deleted.latest[i].name, name) == 0)
            latest = sim->deleted.latest[i].uid;
    if (!latest)
        return false;
    for (size_t i = sim->deleted.count; i-- > 0;)
        if (strcmp(sim->deleted.pods[i].name, name) == 0 && strcmp(sim->deleted.pods[i].uid, latest) == 0)
            return true;
    return false;
}

static bool excused(struct dst *sim, const struct dst_run *run)
{
    const struct dst_truth *truth = &sim->clusters[run->cluster].truth;
    if (truth->worsened_ever && truth->worsened_ms >= run->info_ms) {
        sim->result->excused++;
        return true;
    }
    return false;
}

/* "<cluster>-<component>-N": the component (0 PD, 1 TiKV, 2 TiDB) or -1. */
static int component_of(const struct dst *sim, int cluster, const char *name)
{
    static const char *const parts[] = { "pd", "tikv", "tidb" };
    const char *mine = sim->clusters[cluster].name;
    size_t length = strlen(mine);
    if (strncmp(name, mine, length) != 0 || name[length] != '-')
        return -1;
    for (int c = 0; c < 3; c++) {
        size_t part = strlen(parts[c]);
        if (strncmp(name + length + 1, parts[c], part) == 0 && name[length + 1 + part] == '-')
            return c;
    }
    return -1;
}

static size_t alive_except(const struct pd_model *model, const char *name)
{
    size_t alive = 0;
    for (size_t i = 0; i < pd_model_member_count(model); i++) {
        const struct pd_model_member *member = pd_model_member_at(model, i);
        if (strcmp(member->name, name) != 0 && pd_member_alive(member))
            alive++;
    }
    return alive;
}

static bool store_is_up(const struct pd_model *model, const struct pd_model_store *store)
{
    return store->state == PD_STORE_UP && strcmp(pd_model_store_state_name(model, store), "Up") == 0;
}

void dst_check_action(struct dst *sim, const struct dst_run *run, const struct action *action)
{
    struct pd_model *model = dst_pd_model(sim, run->cluster);
    sim->result->checks++;
    if (!model)
        return;
    pd_model_advance(model);
    const char *name = action->name ? action->name : "";
    int component = component_of(sim, run->cluster, name);
    if (action->kind == ACTION_DELETE && action->resource == &kube_resource_pods && component == 0) {
        const struct pd_model_member *member = pd_model_member_find(model, name);
        if (!member)
            return;
        size_t members = pd_model_member_count(model);
        size_t alive = alive_except(model, name);
        bool leader = pd_model_leader(model) == member && members > 1;
        if ((alive < members / 2 + 1 || leader) && !excused(sim, run))
            dst_violation(sim, DST_INV_PD_QUORUM, "the operator deletes pod %s of PD member %s: %s", name, member->name,
                          leader ? "it is the PD leader" : "the other live members are not a quorum");
        return;
    }
    if (action->kind == ACTION_PD_DELETE_MEMBER) {
        const struct pd_model_member *member = pd_model_member_find(model, action->member);
        if (!member)
            return;
        size_t members = pd_model_member_count(model);
        size_t alive = alive_except(model, member->name);
        bool leader = pd_model_leader(model) == member && members > 1;
        size_t quorum = members > 1 ? (members - 1) / 2 + 1 : 0;
        if ((alive < quorum || leader) && !excused(sim, run))
            dst_violation(sim, DST_INV_PD_QUORUM, "the operator removes PD member %s: %s (%zu of %zu others live)",
                          member->name, leader ? "it is the PD leader" : "the rest would have no quorum", alive,
                          members - 1);
        return;
    }
    if (action->kind == ACTION_DELETE && action->resource == &kube_resource_pods && component == 1) {
        const struct pd_model_store *store = pd_model_store_by_pod(model, name);
        if (store && store_is_up(model, store) && store->process_running && store->leader_count > 0 &&
            !pd_model_evict_leader_has(model, store->id) && !excused(sim, run))
            dst_violation(sim, DST_INV_LEADERS_EVICTED,
                          "the operator deletes pod %s while its store %llu is Up with %zu leaders, not evicted", name,
                          (unsigned long long)store->id, store->leader_count);
        return;
    }
    if (action->kind == ACTION_PD_DELETE_STORE) {
        const struct pd_model_store *target = pd_model_store_find(model, action->store_id);
        if (!target || target->state != PD_STORE_UP)
            return;
        size_t up_after = 0;
        const struct pd_model_store *down = NULL;
        for (size_t i = 0; i < pd_model_store_count(model); i++) {
            const struct pd_model_store *store = pd_model_store_at(model, i);
            if (store == target || store->state != PD_STORE_UP)
                continue;
            if (store_is_up(model, store))
                up_after++;
            else if (!down)
                down = store;
        }
        unsigned max_replicas = pd_model_config(model)->max_replicas;
        if ((up_after < max_replicas || down) && !excused(sim, run)) {
            if (down)
                dst_violation(sim, DST_INV_UP_STORES, "the operator deletes store %llu while store %llu is %s",
                              (unsigned long long)target->id, (unsigned long long)down->id,
                              pd_model_store_state_name(model, down));
            else
                dst_violation(sim, DST_INV_UP_STORES,
                              "the operator deletes store %llu: %zu Up stores would remain, max-replicas %u",
                              (unsigned long long)target->id, up_after, max_replicas);
        }
        return;
    }
    if (action->kind == ACTION_DELETE && action->resource == &kube_resource_pvcs) {
        /* tikv-<cluster>-tikv-N belongs to pod <cluster>-tikv-N. */
        if (strncmp(name, "tikv-", 5) != 0 || component_of(sim, run->cluster, name + 5) != 1)
            return;
        const struct pd_model_store *store = pd_model_store_by_pod(model, name + 5);
        if (store && store->state != PD_STORE_TOMBSTONE)
            dst_violation(sim, DST_INV_STORE_DATA, "the operator deletes claim %s while store %llu of %s is %s", name,
                          (unsigned long long)store->id, name + 5, pd_model_store_state_name(model, store));
    }
}

/* ---- plans ---- */

static const char *label_of(const cJSON *body, const char *key)
{
    const cJSON *labels =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "labels");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(labels, key);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static const char *name_of(const cJSON *body)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "name");
    return cJSON_IsString(name) ? name->valuestring : "";
}

void dst_check_plan(struct dst *sim, int cluster, const struct plan *plan)
{
    static const char *const components[] = { "pd", "tikv", "tidb" };
    sim->result->checks++;
    struct pd_model *model = dst_pd_model(sim, cluster);
    for (int c = 0; c < 3; c++) {
        int creates = 0, fresh = 0;
        for (size_t i = 0; i < plan->count; i++) {
            const struct action *action = &plan->actions[i];
            if (action->kind != ACTION_CREATE || action->resource != &kube_resource_pods)
                continue;
            const char *component = label_of(action->body, LABEL_COMPONENT);
            if (!component || strcmp(component, components[c]) != 0)
                continue;
            if (truth_pod(sim, name_of(action->body)))
                continue; /* the operator's cache lags: it exists (the create fails) */
            creates++;
            char claim[160];
            snprintf(claim, sizeof claim, DST_NAMESPACE "/%s-%s", components[c], name_of(action->body));
            if (c == 2 || !cache_get(&sim->truth[DST_KIND_PVCS], claim))
                fresh++; /* nothing of it exists yet: a new member */
        }
        if (creates > DST_CREATE_CAP) {
            dst_violation(sim, DST_INV_BOUNDED_CREATES, "one plan creates %d %s pods (at most %d)", creates,
                          components[c], DST_CREATE_CAP);
            return;
        }
        if (fresh == 0 || (c == 0 && (!model || pd_model_member_count(model) == 0)))
            continue; /* PD's bootstrap set starts together */
        int ready = 0, unready = 0;
        size_t count = 0;
        const struct object_meta *const *pods =
            cache_by_cluster(&sim->truth[DST_KIND_PODS], sim->clusters[cluster].key, &count);
        for (size_t i = 0; i < count; i++) {
            const char *component = object_label(pods[i], LABEL_COMPONENT);
            if (!component || strcmp(component, components[c]) != 0)
                continue;
            if (((const struct kube_pod *)pods[i])->ready == CONDITION_TRUE)
                ready++;
            else
                unready++;
        }
        int window = 2 * ready > DST_CREATE_CAP ? DST_CREATE_CAP : 2 * ready;
        if (window < DST_SLOW_START_FIRST)
            window = DST_SLOW_START_FIRST;
        const struct dst_truth *truth = &sim->clusters[cluster].truth;
        bool worse = truth->worsened_ever && truth->worsened_ms + sim->info_lag_ms + 60000 >= dst_now(sim);
        if (unready + fresh > window && !worse) {
            dst_violation(sim, DST_INV_BOUNDED_CREATES,
                          "one plan starts %d new %s members with %d not ready: more than the window of %d", fresh,
                          components[c], unready, window);
            return;
        }
    }
}

/* ---- every step ---- */

static void track_truth(struct dst *sim, int cluster, struct pd_model *model)
{
    struct dst_truth *truth = &sim->clusters[cluster].truth;
    uint64_t now = dst_now(sim);
    struct dst_truth next = *truth;
    next.pd_count = 0;
    next.store_count = 0;
    bool worse = false;
    for (size_t i = 0; i < pd_model_member_count(model) && next.pd_count < DST_TRACKED; i++) {
        const struct pd_model_member *member = pd_model_member_at(model, i);
        bool alive = pd_member_alive(member);
        for (size_t j = 0; j < truth->pd_count; j++)
            if (strcmp(truth->pd_names[j], member->name) == 0 && truth->pd_alive[j] && !alive &&
                !dst_deleted_by_operator(sim, member->name))
                worse = true;
        snprintf(next.pd_names[next.pd_count], sizeof next.pd_names[0], "%s", member->name);
        next.pd_alive[next.pd_count++] = alive;
    }
    for (size_t i = 0; i < pd_model_store_count(model) && next.store_count < DST_TRACKED; i++) {
        const struct pd_model_store *store = pd_model_store_at(model, i);
        bool up = store_is_up(model, store);
        for (size_t j = 0; j < truth->store_count; j++)
            if (truth->store_ids[j] == store->id && truth->store_up[j] && !up && store->state == PD_STORE_UP &&
                !dst_deleted_by_operator(sim, store->pod))
                worse = true;
        next.store_ids[next.store_count] = store->id;
        next.store_up[next.store_count++] = up;
    }
    const struct pd_model_member *leader = pd_model_leader(model);
    const char *leader_name = leader ? leader->name : "";
    if (strcmp(leader_name, truth->leader) != 0 && truth->leader[0])
        worse = true; /* leadership moved: a plan may name the old leader */
    snprintf(next.leader, sizeof next.leader, "%s", leader_name);
    if (worse) {
        next.worsened_ms = now;
        next.worsened_ever = true;
    }
    *truth = next;
}

static void check_regions(struct dst *sim, int cluster, struct pd_model *model)
{
    unsigned majority = pd_model_config(model)->max_replicas / 2 + 1;
    const uint64_t *peers = NULL;
    unsigned peer_count = 0, leader = 0;
    for (size_t r = 0; pd_model_region_at(model, r, &peers, &peer_count, &leader); r++) {
        if (peer_count == 0)
            continue;
        unsigned live = 0, fault_down = 0, operator_down = 0;
        const char *victim = NULL;
        for (unsigned p = 0; p < peer_count; p++) {
            const struct pd_model_store *store = pd_model_store_find(model, peers[p]);
            if (store && store->process_running && store->state != PD_STORE_TOMBSTONE)
                live++;
            else if (store && dst_deleted_by_operator(sim, store->pod)) {
                operator_down++;
                victim = store->pod;
            } else
                fault_down++;
        }
        if (live < majority && live + fault_down >= majority && operator_down > 0) {
            dst_violation(sim, DST_INV_REGION_MAJORITY,
                          "cluster %s region %zu has %u live peers of %u (%u down by the operator's deletes, e.g. %s)",
                          sim->clusters[cluster].name, r, live, peer_count, operator_down, victim);
            return;
        }
    }
}

static void check_identities(struct dst *sim, int cluster, struct pd_model *model)
{
    size_t count = 0;
    const struct object_meta *const *pods =
        cache_by_cluster(&sim->truth[DST_KIND_PODS], sim->clusters[cluster].key, &count);
    for (size_t i = 0; i < count; i++) {
        const struct kube_pod *a = (const struct kube_pod *)pods[i];
        if (!a->hostname || (a->phase && (strcmp(a->phase, "Succeeded") == 0 || strcmp(a->phase, "Failed") == 0)))
            continue;
        for (size_t j = i + 1; j < count; j++) {
            const struct kube_pod *b = (const struct kube_pod *)pods[j];
            if (b->hostname && strcmp(a->hostname, b->hostname) == 0 &&
                !(b->phase && (strcmp(b->phase, "Succeeded") == 0 || strcmp(b->phase, "Failed") == 0))) {
                dst_violation(sim, DST_INV_UNIQUE_IDENTITY, "pods %s and %s are both member %s", a->meta.name,
                              b->meta.name, a->hostname);
                return;
            }
        }
    }
    for (size_t i = 0; model && i < pd_model_store_count(model); i++) {
        const struct pd_model_store *a = pd_model_store_at(model, i);
        if (a->state == PD_STORE_TOMBSTONE || !a->process_running)
            continue;
        for (size_t j = i + 1; j < pd_model_store_count(model); j++) {
            const struct pd_model_store *b = pd_model_store_at(model, j);
            if (b->state != PD_STORE_TOMBSTONE && b->process_running && strcmp(a->address, b->address) == 0) {
                dst_violation(sim, DST_INV_UNIQUE_IDENTITY, "stores %llu and %llu both serve %s",
                              (unsigned long long)a->id, (unsigned long long)b->id, a->address);
                return;
            }
        }
    }
}

static void check_disruptions(struct dst *sim, int cluster, struct pd_model *model)
{
    const char *first = NULL, *second = NULL;
    size_t count = 0;
    const struct object_meta *const *pods =
        cache_by_cluster(&sim->truth[DST_KIND_PODS], sim->clusters[cluster].key, &count);
    for (size_t i = 0; i < count && !second; i++) {
        const struct kube_pod *pod = (const struct kube_pod *)pods[i];
        int component = component_of(sim, cluster, pod->meta.name);
        if ((component != 0 && component != 1) || !pod->meta.deletion_ms ||
            !dst_deleted_by_operator(sim, pod->meta.name))
            continue;
        if (!first)
            first = pod->meta.name;
        else if (strcmp(first, pod->meta.name) != 0)
            second = pod->meta.name;
    }
    for (size_t i = 0; model && i < pd_model_store_count(model) && !second; i++) {
        const struct pd_model_store *store = pd_model_store_at(model, i);
        if (store->state != PD_STORE_OFFLINE)
            continue;
        if (!first)
            first = store->pod;
        else if (strcmp(first, store->pod) != 0)
            second = store->pod;
    }
    if (second)
        dst_violation(sim, DST_INV_ONE_DISRUPTION, "cluster %s: %s and %s are taken down at once",
                      sim->clusters[cluster].name, first, second);
}

void dst_check_step(struct dst *sim)
{
    for (int i = 0; i < sim->cluster_count && !sim->result->violated; i++) {
        struct pd_model *model = dst_pd_model(sim, i);
        sim->result->checks += 3;
        if (model) {
            track_truth(sim, i, model);
            check_regions(sim, i, model);
            sim->result->checks++;
        }
        check_identities(sim, i, model);
        check_disruptions(sim, i, model);
    }
}

/* ---- liveness ---- */

static bool cluster_ready(const struct dst *sim, int cluster)
{
    const struct kube_tidbcluster *object =
        (const struct kube_tidbcluster *)cache_get(&sim->truth[DST_KIND_CLUSTERS], sim->clusters[cluster].key);
    if (!object)
        return false;
    const cJSON *conditions =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(object->object, "status"), "conditions");
    const cJSON *condition;
    cJSON_ArrayForEach(condition, conditions)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(condition, "type");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(condition, "status");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
            return cJSON_IsString(status) && strcmp(status->valuestring, "True") == 0;
    }
    return false;
}

bool dst_check_converged(struct dst *sim, int cluster, char *why, size_t size)
{
    static const char *const components[] = { "pd", "tikv", "tidb" };
    const struct dst_cluster *c = &sim->clusters[cluster];
    struct pd_model *model = dst_pd_model(sim, cluster);
    if (!model) {
        snprintf(why, size, "%s: no PD yet", c->name);
        return false;
    }
    int pods[3] = { 0 }, ready[3] = { 0 };
    size_t count = 0;
    const struct object_meta *const *list = cache_by_cluster(&sim->truth[DST_KIND_PODS], c->key, &count);
    for (size_t i = 0; i < count; i++) {
        const struct kube_pod *pod = (const struct kube_pod *)list[i];
        int component = component_of(sim, cluster, pod->meta.name);
        if (component < 0)
            continue;
        pods[component]++;
        if (pod->ready == CONDITION_TRUE && !pod->meta.deletion_ms)
            ready[component]++;
    }
    for (int k = 0; k < 3; k++) {
        if (pods[k] != c->replicas[k] || ready[k] != c->replicas[k]) {
            snprintf(why, size, "%s: %d %s pods, %d ready, %d wanted", c->name, pods[k], components[k], ready[k],
                     c->replicas[k]);
            return false;
        }
    }
    pd_model_advance(model);
    size_t members = pd_model_member_count(model);
    if (members != (size_t)c->replicas[0] || pd_model_alive_members(model) != members || !pd_model_leader(model)) {
        snprintf(why, size, "%s: PD has %zu members, %zu alive, %s leader; %d wanted", c->name, members,
                 pd_model_alive_members(model), pd_model_leader(model) ? "a" : "no", c->replicas[0]);
        return false;
    }
    size_t stores = 0, up = 0;
    for (size_t i = 0; i < pd_model_store_count(model); i++) {
        const struct pd_model_store *store = pd_model_store_at(model, i);
        if (store->state == PD_STORE_TOMBSTONE)
            continue;
        stores++;
        up += store_is_up(model, store);
    }
    if (stores != (size_t)c->replicas[1] || up != stores) {
        snprintf(why, size, "%s: %zu stores, %zu Up; %d wanted", c->name, stores, up, c->replicas[1]);
        return false;
    }
    if (pd_model_evict_leader_count(model) > 0) {
        snprintf(why, size, "%s: an evict-leader scheduler is left", c->name);
        return false;
    }
    if (!cluster_ready(sim, cluster)) {
        snprintf(why, size, "%s: the TidbCluster is not Ready=True", c->name);
        return false;
    }
    return true;
}
