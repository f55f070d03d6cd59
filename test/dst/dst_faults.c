/*
 * dst_faults: the seeded fault schedule of one run. A window of simulated
 * time opens during or after bring-up; faults fire at seeded times inside
 * it, each choosing its target when it fires (a node or pod of a cluster,
 * a PD member, a store) and healing itself after a seeded duration; at the
 * window's end everything still broken is healed (dst_faults_heal) and
 * the clusters must converge.
 */
#include "test/dst/dst_internal.h"

#include "test/sim/pd_model.h"
#include "test/sim/pd_world.h"

#include "watchers/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAILED_NODES 2
#define MAX_PERMANENT 2

struct dst_fault {
    enum dst_fault_kind kind;
    uint64_t at_ms;
    uint64_t duration_ms;
    int cluster;
    char target[128];
    uint64_t store_id;
    bool active;      /* fired and not healed */
};

/* Weights: what a schedule is made of. */
static const unsigned weights[DST_FAULT_KIND_COUNT] = {
    [DST_FAULT_NODE_TEMPORARY] = 10, [DST_FAULT_NODE_PERMANENT] = 4, [DST_FAULT_POD_CRASH] = 10,
    [DST_FAULT_PD_LEADER] = 6,       [DST_FAULT_PD_UNREACHABLE] = 4, [DST_FAULT_PD_FAILING] = 3,
    [DST_FAULT_PD_GARBAGE] = 2,      [DST_FAULT_PD_SLOW] = 3,        [DST_FAULT_STORE_DOWN] = 6,
    [DST_FAULT_PD_KILLED] = 6,       [DST_FAULT_API_WRITES] = 4,     [DST_FAULT_INFORMER_STALL] = 4,
    [DST_FAULT_OPERATOR_RESTART] = 5, [DST_FAULT_USER_SCALE] = 16,
};

static enum dst_fault_kind pick_kind(struct dst_rng *rng)
{
    unsigned total = 0;
    for (int k = 0; k < DST_FAULT_KIND_COUNT; k++)
        total += weights[k];
    unsigned roll = (unsigned)dst_rng_range(rng, 0, total - 1);
    for (int k = 0; k < DST_FAULT_KIND_COUNT; k++) {
        if (roll < weights[k])
            return (enum dst_fault_kind)k;
        roll -= weights[k];
    }
    return DST_FAULT_POD_CRASH;
}

bool dst_faults_plan(struct dst *sim)
{
    struct dst_rng *rng = &sim->rng;
    uint64_t now = dst_now(sim);
    uint64_t start = now + dst_rng_range(rng, 0, 180) * 1000;
    uint64_t length = dst_rng_range(rng, 300, 1500) * 1000;
    sim->heal_ms = start + length;
    sim->fault_count = (size_t)dst_rng_range(rng, 1, 12);
    sim->faults = calloc(sim->fault_count, sizeof *sim->faults);
    if (!sim->faults)
        return false;
    for (size_t i = 0; i < sim->fault_count; i++) {
        struct dst_fault *fault = &sim->faults[i];
        fault->kind = pick_kind(rng);
        fault->at_ms = start + dst_rng_range(rng, 0, length);
        fault->cluster = (int)dst_rng_range(rng, 0, (uint64_t)sim->cluster_count - 1);
        switch (fault->kind) {
        case DST_FAULT_NODE_TEMPORARY: fault->duration_ms = dst_rng_range(rng, 5, 600) * 1000; break;
        case DST_FAULT_NODE_PERMANENT: fault->duration_ms = dst_rng_range(rng, 30, 300) * 1000; break;
        case DST_FAULT_PD_UNREACHABLE:
        case DST_FAULT_PD_FAILING:
        case DST_FAULT_PD_KILLED: fault->duration_ms = dst_rng_range(rng, 3, 300) * 1000; break;
        case DST_FAULT_PD_GARBAGE: fault->duration_ms = dst_rng_range(rng, 3, 120) * 1000; break;
        case DST_FAULT_PD_SLOW: fault->duration_ms = dst_rng_range(rng, 10, 200) * 1000; break;
        case DST_FAULT_STORE_DOWN: fault->duration_ms = dst_rng_range(rng, 10, 900) * 1000; break;
        case DST_FAULT_API_WRITES: fault->duration_ms = dst_rng_range(rng, 5, 120) * 1000; break;
        case DST_FAULT_INFORMER_STALL: fault->duration_ms = dst_rng_range(rng, 1, 30) * 1000; break;
        case DST_FAULT_OPERATOR_RESTART: fault->duration_ms = dst_rng_range(rng, 1, 60) * 1000; break;
        default: fault->duration_ms = 0; break;
        }
        struct dst_event event = { .type = DST_EVENT_FAULT, .fault = fault, .fault_phase = 0 };
        if (!dst_schedule(sim, fault->at_ms, &event))
            return false;
    }
    return true;
}

void dst_faults_free(struct dst *sim)
{
    free(sim->faults);
    sim->faults = NULL;
    sim->fault_count = 0;
}

static size_t active_of(const struct dst *sim, enum dst_fault_kind kind)
{
    size_t count = 0;
    for (size_t i = 0; i < sim->fault_count; i++)
        count += sim->faults[i].active && sim->faults[i].kind == kind;
    return count;
}

/* A node to fail: mostly one with a pod of the cluster on it, never one
 * already failed. False when there is none. */
static bool pick_node(struct dst *sim, int cluster, char *out, size_t size)
{
    const char *candidates[64];
    size_t count = 0;
    size_t pods_count = 0;
    const struct object_meta *const *pods =
        cache_by_cluster(&sim->truth[DST_KIND_PODS], sim->clusters[cluster].key, &pods_count);
    bool on_pods = pods_count > 0 && dst_rng_chance(&sim->rng, 80);
    size_t cursor = 0;
    for (const struct object_meta *node; (node = cache_next(&sim->truth[DST_KIND_NODES], &cursor)) && count < 64;) {
        bool failed = false;
        for (size_t i = 0; i < sim->fault_count && !failed; i++)
            failed = sim->faults[i].active &&
                     (sim->faults[i].kind == DST_FAULT_NODE_TEMPORARY || sim->faults[i].kind == DST_FAULT_NODE_PERMANENT) &&
                     strcmp(sim->faults[i].target, node->name) == 0;
        if (failed)
            continue;
        bool hosts = false;
        for (size_t i = 0; on_pods && i < pods_count && !hosts; i++) {
            const struct kube_pod *pod = (const struct kube_pod *)pods[i];
            hosts = pod->node_name && strcmp(pod->node_name, node->name) == 0;
        }
        if (!on_pods || hosts)
            candidates[count++] = node->name;
    }
    if (count == 0)
        return false;
    /* Cache iteration order is the table's: sort for a stable choice. */
    for (size_t i = 1; i < count; i++)
        for (size_t k = i; k > 0 && strcmp(candidates[k - 1], candidates[k]) > 0; k--) {
            const char *swap = candidates[k];
            candidates[k] = candidates[k - 1];
            candidates[k - 1] = swap;
        }
    snprintf(out, size, "%s", candidates[dst_rng_range(&sim->rng, 0, count - 1)]);
    return true;
}

static bool pick_pod(struct dst *sim, int cluster, char *out, size_t size)
{
    size_t count = 0;
    const struct object_meta *const *pods =
        cache_by_cluster(&sim->truth[DST_KIND_PODS], sim->clusters[cluster].key, &count);
    const char *names[64];
    size_t running = 0;
    for (size_t i = 0; i < count && running < 64; i++) {
        const struct kube_pod *pod = (const struct kube_pod *)pods[i];
        if (!pod->meta.deletion_ms && pod->phase && strcmp(pod->phase, "Running") == 0)
            names[running++] = pod->meta.name;
    }
    if (running == 0)
        return false;
    for (size_t i = 1; i < running; i++)
        for (size_t k = i; k > 0 && strcmp(names[k - 1], names[k]) > 0; k--) {
            const char *swap = names[k];
            names[k] = names[k - 1];
            names[k - 1] = swap;
        }
    snprintf(out, size, "%s", names[dst_rng_range(&sim->rng, 0, running - 1)]);
    return true;
}

static void schedule_end(struct dst *sim, struct dst_fault *fault, uint64_t after_ms, int phase)
{
    struct dst_event event = { .type = DST_EVENT_FAULT, .fault = fault, .fault_phase = phase };
    dst_schedule(sim, dst_now(sim) + after_ms, &event);
}

static bool fire(struct dst *sim, struct dst_fault *fault)
{
    struct dst_rng *rng = &sim->rng;
    int c = fault->cluster;
    struct pd_model *model = dst_pd_model(sim, c);
    uint64_t now = dst_now(sim);
    switch (fault->kind) {
    case DST_FAULT_NODE_TEMPORARY:
    case DST_FAULT_NODE_PERMANENT: {
        size_t failed = active_of(sim, DST_FAULT_NODE_TEMPORARY) + active_of(sim, DST_FAULT_NODE_PERMANENT);
        if (failed >= MAX_FAILED_NODES)
            return false;
        if (fault->kind == DST_FAULT_NODE_PERMANENT) {
            size_t permanent = 0;
            for (size_t i = 0; i < sim->fault_count; i++)
                permanent += sim->faults[i].kind == DST_FAULT_NODE_PERMANENT && sim->faults[i].target[0];
            if (permanent >= MAX_PERMANENT)
                return false;
        }
        if (!pick_node(sim, c, fault->target, sizeof fault->target) || !world_fail_node(sim->world, fault->target)) {
            fault->target[0] = '\0';
            return false;
        }
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    }
    case DST_FAULT_POD_CRASH:
        return pick_pod(sim, c, fault->target, sizeof fault->target) &&
               world_crash_pod(sim->world, DST_NAMESPACE, fault->target, NULL);
    case DST_FAULT_PD_LEADER: {
        if (!model || !pd_model_leader(model))
            return false;
        char msg[PD_MODEL_MSG_SIZE];
        size_t count = pd_model_member_count(model);
        if (count > 1 && dst_rng_chance(rng, 50)) {
            const struct pd_model_member *to = pd_model_member_at(model, dst_rng_range(rng, 0, count - 1));
            snprintf(fault->target, sizeof fault->target, "%s", to->name);
            return pd_model_transfer_leader(model, to->name, msg) == 200;
        }
        return pd_model_resign_leader(model, msg) == 200;
    }
    case DST_FAULT_PD_UNREACHABLE:
        if (!model || sim->pd_unreachable[c])
            return false;
        sim->pd_unreachable[c] = true;
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    case DST_FAULT_PD_FAILING:
        if (!model || pd_model_failure(model))
            return false;
        pd_model_set_failing(model, true, NULL);
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    case DST_FAULT_PD_GARBAGE:
        if (!model || pd_model_garbage(model))
            return false;
        pd_model_set_garbage(model, true);
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    case DST_FAULT_PD_SLOW:
        sim->pd_slow_ms = dst_rng_range(rng, 500, 9000);
        if (sim->pd_slow_until_ms < now + fault->duration_ms)
            sim->pd_slow_until_ms = now + fault->duration_ms;
        return true;
    case DST_FAULT_STORE_DOWN: {
        size_t count = model ? pd_model_store_count(model) : 0;
        if (count == 0)
            return false;
        const struct pd_model_store *store = pd_model_store_at(model, dst_rng_range(rng, 0, count - 1));
        if (store->state == PD_STORE_TOMBSTONE || store->heartbeats_paused)
            return false;
        fault->store_id = store->id;
        snprintf(fault->target, sizeof fault->target, "store %llu", (unsigned long long)store->id);
        pd_model_store_pause_heartbeats(model, store->id, true);
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    }
    case DST_FAULT_PD_KILLED: {
        size_t count = model ? pd_model_member_count(model) : 0;
        if (count == 0)
            return false;
        const struct pd_model_member *member = pd_model_member_at(model, dst_rng_range(rng, 0, count - 1));
        if (member->killed)
            return false;
        snprintf(fault->target, sizeof fault->target, "%s", member->name);
        pd_model_member_kill(model, member->name, true);
        fault->active = true;
        schedule_end(sim, fault, fault->duration_ms, 1);
        return true;
    }
    case DST_FAULT_API_WRITES:
        sim->api_burst_percent = (unsigned)dst_rng_range(rng, 30, 90);
        if (sim->api_burst_until_ms < now + fault->duration_ms)
            sim->api_burst_until_ms = now + fault->duration_ms;
        return true;
    case DST_FAULT_INFORMER_STALL:
        if (sim->stall_until_ms < now + fault->duration_ms)
            sim->stall_until_ms = now + fault->duration_ms;
        if (sim->stall_ms < fault->duration_ms)
            sim->stall_ms = fault->duration_ms;
        return true;
    case DST_FAULT_OPERATOR_RESTART: {
        if (!sim->op.up)
            return false;
        dst_operator_crash(sim);
        struct dst_event event = { .type = DST_EVENT_RESTART };
        dst_schedule(sim, now + fault->duration_ms, &event);
        return true;
    }
    case DST_FAULT_USER_SCALE: {
        /* One component, or now and then PD and TiKV in one edit. */
        static const char *const names[] = { "pd", "tikv", "tidb" };
        static const int pd_choices[] = { 1, 2, 3, 3, 4, 5 };
        int replicas[3];
        memcpy(replicas, sim->clusters[c].replicas, sizeof replicas);
        bool both = dst_rng_chance(rng, 30);
        int first = both ? 0 : (int)dst_rng_range(rng, 0, 2);
        for (int component = first; component <= (both ? 1 : first); component++)
            replicas[component] = component == 0 ? pd_choices[dst_rng_range(rng, 0, 5)]
                                : component == 1 ? (int)dst_rng_range(rng, 3, 5)
                                                 : (int)dst_rng_range(rng, 1, 3);
        if (memcmp(replicas, sim->clusters[c].replicas, sizeof replicas) == 0)
            return false;
        size_t used = 0;
        for (int component = 0; component < 3; component++)
            if (replicas[component] != sim->clusters[c].replicas[component])
                used += (size_t)snprintf(fault->target + used, sizeof fault->target - used, "%s%s.replicas=%d",
                                         used ? " " : "", names[component], replicas[component]);
        return dst_user_set_replicas(sim, c, replicas);
    }
    default:
        return false;
    }
}

static void heal(struct dst *sim, struct dst_fault *fault)
{
    if (!fault->active)
        return;
    fault->active = false;
    int c = fault->cluster;
    struct pd_model *model = dst_pd_model(sim, c);
    switch (fault->kind) {
    case DST_FAULT_NODE_TEMPORARY:
        world_recover_node(sim->world, fault->target);
        break;
    case DST_FAULT_NODE_PERMANENT:
        world_delete_node(sim->world, fault->target); /* the cloud removes it */
        break;
    case DST_FAULT_PD_UNREACHABLE:
        sim->pd_unreachable[c] = false;
        break;
    case DST_FAULT_PD_FAILING:
        if (model)
            pd_model_set_failing(model, false, NULL);
        break;
    case DST_FAULT_PD_GARBAGE:
        if (model)
            pd_model_set_garbage(model, false);
        break;
    case DST_FAULT_STORE_DOWN:
        if (model)
            pd_model_store_pause_heartbeats(model, fault->store_id, false);
        break;
    case DST_FAULT_PD_KILLED:
        if (model)
            pd_model_member_kill(model, fault->target, false);
        break;
    default:
        break;
    }
    dst_trace(sim, "heals %s %s", dst_fault_kind_name(fault->kind), fault->target);
}

/* A user who scales in while something is broken: PD or TiKV down by one
 * (not below 1 PD or 3 TiKV). */
static bool scale_in_soon(struct dst *sim, struct dst_fault *fault)
{
    int c = fault->cluster;
    int replicas[3];
    memcpy(replicas, sim->clusters[c].replicas, sizeof replicas);
    int component = dst_rng_chance(&sim->rng, 50) ? 0 : 1;
    if (replicas[component] <= (component == 0 ? 1 : 3))
        component = 1 - component;
    if (replicas[component] <= (component == 0 ? 1 : 3))
        return false;
    replicas[component]--;
    snprintf(fault->target, sizeof fault->target, "%s.replicas=%d", component == 0 ? "pd" : "tikv",
             replicas[component]);
    return dst_user_set_replicas(sim, c, replicas);
}

void dst_fault_event(struct dst *sim, struct dst_event *event)
{
    struct dst_fault *fault = event->fault;
    if (event->fault_phase == 1) {
        heal(sim, fault);
        return;
    }
    if (sim->phase != DST_PHASE_FAULTS)
        return;
    if (event->fault_phase == 2) {
        /* The follow-up of a failure: counted as the user's. */
        char target[sizeof fault->target];
        memcpy(target, fault->target, sizeof target);
        if (scale_in_soon(sim, fault)) {
            sim->result->faults++;
            sim->result->fault_kinds |= 1u << DST_FAULT_USER_SCALE;
            dst_trace(sim, "fault user-scale %s %s (while %s)", sim->clusters[fault->cluster].name, fault->target,
                      target);
        }
        memcpy(fault->target, target, sizeof target);
        return;
    }
    if (fire(sim, fault)) {
        bool failure = fault->kind == DST_FAULT_NODE_TEMPORARY || fault->kind == DST_FAULT_NODE_PERMANENT ||
                       fault->kind == DST_FAULT_STORE_DOWN || fault->kind == DST_FAULT_PD_KILLED;
        if (failure && dst_rng_chance(&sim->rng, 40)) {
            struct dst_event follow = { .type = DST_EVENT_FAULT, .fault = fault, .fault_phase = 2 };
            dst_schedule(sim, dst_now(sim) + dst_rng_range(&sim->rng, 5, 90) * 1000, &follow);
        }
        sim->result->faults++;
        sim->result->fault_kinds |= 1u << fault->kind;
        dst_trace(sim, "fault %s %s %s", dst_fault_kind_name(fault->kind), sim->clusters[fault->cluster].name,
                  fault->target);
    }
}

void dst_faults_heal(struct dst *sim)
{
    for (size_t i = 0; i < sim->fault_count; i++)
        heal(sim, &sim->faults[i]);
    sim->api_fail_percent = 0;
    sim->api_burst_until_ms = 0;
    sim->stall_until_ms = 0;
    sim->pd_slow_until_ms = 0;
    if (!sim->op.up)
        dst_operator_start(sim);
    dst_trace(sim, "faults stop");
}
