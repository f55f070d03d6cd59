/*
 * dst: the deterministic simulation of the operator. One process, one
 * thread, one virtual clock: the simulated object store and world
 * (test/sim: nodes, scheduler, kubelets, volumes, a PD model per cluster)
 * and the operator's own code — the TidbCluster decoder and defaults, the
 * compact cache projections, observe, the validation memo, the planner
 * with its member table and safety arbiter, the builders, the PD decoders.
 *
 * The operator's I/O is replaced at its narrowest seams:
 *   - informers: every store change reaches the operator's caches after a
 *     seeded delay, in order per kind (the caches lag the store, never
 *     show a world that did not exist);
 *   - the PD snapshot: each of its five parts is fetched on the real
 *     cadence through the PD model's HTTP answers (pd_http) and decoded by
 *     pd/pd_decode, with seeded latency, timeouts, 5xx, garbage and
 *     unreachable PD;
 *   - the executor: each planned action is applied to the store or to the
 *     PD model after a seeded latency, with seeded failures (409, 5xx,
 *     429, and timeouts after the write happened).
 * The controller's queue discipline is kept (one pass per cluster at a
 * time, requeue after, rate-limited retries, 60 s resync, plan again
 * after a change arrives while a pass runs).
 *
 * One schedule = one seed: the clusters' specs, the timings, the lag and
 * failure rates, and a fault schedule (dst_fault_kind) in a fault window;
 * then every fault is healed and the clusters must converge (liveness).
 * Named invariants (dst_invariant) are checked after every step; the first
 * violation ends the schedule with the seed, the step and a detail.
 *
 * Same seed, same run: nothing reads the real clock or global state except
 * the safety seam (safety_disable_rule) for mutation runs.
 */
#ifndef TEST_DST_DST_H
#define TEST_DST_DST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dst_fault_kind {
    DST_FAULT_NODE_TEMPORARY,   /* a node fails and comes back */
    DST_FAULT_NODE_PERMANENT,   /* a node fails and is deleted later */
    DST_FAULT_POD_CRASH,        /* a container of a running pod exits */
    DST_FAULT_PD_LEADER,        /* PD's leader resigns or moves */
    DST_FAULT_PD_UNREACHABLE,   /* PD's API refuses connections */
    DST_FAULT_PD_FAILING,       /* PD's API answers 500 */
    DST_FAULT_PD_GARBAGE,       /* PD's API answers a body that is not PD's */
    DST_FAULT_PD_SLOW,          /* PD's API answers slowly (timeouts) */
    DST_FAULT_STORE_DOWN,       /* a TiKV store stops heartbeating */
    DST_FAULT_PD_KILLED,        /* a PD member's process dies, its pod stays */
    DST_FAULT_API_WRITES,       /* a burst of failing API writes */
    DST_FAULT_INFORMER_STALL,   /* the caches fall far behind for a while */
    DST_FAULT_OPERATOR_RESTART, /* the operator crashes: all memory lost */
    DST_FAULT_USER_SCALE,       /* the user changes a component's replicas */
    DST_FAULT_KIND_COUNT,
};

enum dst_invariant {
    DST_INV_PD_QUORUM,          /* no operator action takes PD below quorum */
    DST_INV_REGION_MAJORITY,    /* regions keep a live majority unless faults destroyed it */
    DST_INV_STORE_DATA,         /* no claim of a store that is not Tombstone is deleted */
    DST_INV_UNIQUE_IDENTITY,    /* no two pods or live stores with one member identity */
    DST_INV_ONE_DISRUPTION,     /* at most one operator disruption per cluster */
    DST_INV_UP_STORES,          /* no store deleted with too few Up stores or another Down */
    DST_INV_LEADERS_EVICTED,    /* no TiKV pod holding leaders deleted before eviction */
    DST_INV_BOUNDED_CREATES,    /* creates per pass and not-ready new members bounded */
    DST_INV_CONVERGES,          /* after the faults, every cluster reaches its spec */
    DST_INV_COUNT,
};

const char *dst_fault_kind_name(enum dst_fault_kind kind);
const char *dst_invariant_name(enum dst_invariant invariant);
/* The invariant that catches a disabled safety rule (the mutation check);
 * -1 for a name that is not a rule. */
int dst_invariant_of_rule(const char *rule);

struct dst_options {
    uint64_t seed;
    bool trace;        /* one line per fault, plan and violation on stderr */
};

struct dst_result {
    bool violated;
    enum dst_invariant invariant;   /* the first violation */
    uint64_t step;
    uint64_t at_ms;                 /* simulated ms since the start */
    char detail[512];
    uint64_t steps;
    uint64_t checks;                /* invariant checks made */
    uint64_t excused;               /* action checks excused: the world worsened after the plan's information */
    uint64_t simulated_ms;
    uint64_t plans;
    uint64_t pd_answers;            /* PD snapshot part answers */
    uint64_t actions;
    uint64_t faults;
    uint32_t fault_kinds;           /* bit per dst_fault_kind that happened */
    bool converged;
    uint64_t converge_ms;           /* from the heal to convergence */
};

/* Runs one schedule. False only when the simulation itself could not be
 * built or ran out of memory (then `detail` says why). */
bool dst_run(const struct dst_options *options, struct dst_result *result);

#endif
