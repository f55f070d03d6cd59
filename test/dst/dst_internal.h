/*
 * dst_internal: what the simulation's parts share (dst.c the world, the
 * clock and the lagging caches; dst_operator.c the controller, PD poller
 * and executor seams; dst_faults.c the fault schedule; dst_check.c the
 * invariants). Not for use outside test/dst.
 *
 * Time: one fake clock. Everything that happens later is a `struct
 * dst_event` in one heap (ties in push order, so runs are reproducible);
 * the world's own tasks and the lagging watch queues are merged in by
 * dst.c's loop. A step is one turn of that loop: everything due at one
 * instant, then the operator's passes, then every invariant.
 *
 * PD's two vocabularies do not meet in one file: pd/pd_decode.h (the
 * operator's, through the snapshot) and test/sim/pd_model.h (the world's)
 * both name store states. Only dst_operator.c includes the first; the
 * world's files include the second; dst_pd_wire.c is the HTTP exchange
 * between them. Here both are opaque.
 */
#ifndef TEST_DST_DST_INTERNAL_H
#define TEST_DST_DST_INTERNAL_H

#include "test/dst/dst.h"

#include "reactor/clock.h"
#include "reactor/timer_heap.h"
#include "reconcilers/planner/plan.h"
#include "reconcilers/runtime/expectations.h"
#include "reconcilers/runtime/validation_memo.h"
#include "test/sim/store.h"
#include "test/sim/world.h"
#include "watchers/cache.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define DST_MAX_CLUSTERS 2
#define DST_NAMESPACE "default"
#define DST_PD_POLL_FAST_MS 2000
#define DST_PD_POLL_SLOW_MS 30000
#define DST_PD_CALL_TIMEOUT_MS 5000
#define DST_RESYNC_MS 60000
#define DST_PD_TICK_MS 1000
/* The arbiter's create budget (safety.h; dst_operator.c asserts they agree). */
#define DST_CREATE_CAP 32
#define DST_SLOW_START_FIRST 4
#define DST_CONVERGE_BOUND_MS (40 * 60 * 1000)

enum dst_kind {
    DST_KIND_PODS,
    DST_KIND_PVCS,
    DST_KIND_PVS,
    DST_KIND_SERVICES,
    DST_KIND_CONFIGMAPS,
    DST_KIND_CLASSES,
    DST_KIND_NODES,
    DST_KIND_CLUSTERS,
    DST_KIND_COUNT,
};

/* A deterministic generator (splitmix64). */
struct dst_rng {
    uint64_t state;
};
uint64_t dst_rng_next(struct dst_rng *rng);
/* Uniform in [low, high]. */
uint64_t dst_rng_range(struct dst_rng *rng, uint64_t low, uint64_t high);
/* True with probability `percent` / 100. */
bool dst_rng_chance(struct dst_rng *rng, unsigned percent);

/* One delivery the operator's cache is waiting for. */
struct dst_delivery {
    uint64_t due_ms;
    enum store_event_type type;
    struct store_object *object;  /* a reference */
};

struct dst_lag_queue {
    struct dst_delivery *items;
    size_t head, count, capacity;
    uint64_t last_due_ms;
};

enum dst_event_type {
    DST_EVENT_APPLY,      /* an action reaches the store / PD */
    DST_EVENT_REPLY,      /* its answer reaches the operator */
    DST_EVENT_PD_PART,    /* a PD snapshot part's answer */
    DST_EVENT_WAKE,       /* a cluster's requeue time */
    DST_EVENT_FAULT,      /* the fault schedule */
    DST_EVENT_RESTART,    /* the operator process starts again */
};

struct dst_run;
struct dst_fault;

struct dst_event {
    struct timer_heap_entry entry; /* first */
    enum dst_event_type type;
    uint64_t epoch;                /* the operator's incarnation it belongs to */
    int cluster;
    struct dst_run *run;
    size_t action;
    int part;
    bool survives_crash;           /* APPLY: already on the wire */
    struct dst_fault *fault;
    int fault_phase;               /* 0 start, 1 end (heal), 2 follow-up */
};

/* What happened to one action. */
enum dst_action_fate {
    DST_FATE_OK,
    DST_FATE_CONFLICT,       /* 409 before the write */
    DST_FATE_SERVER_ERROR,   /* 500 before the write */
    DST_FATE_THROTTLED,      /* 429 before the write */
    DST_FATE_TIMEOUT_AFTER,  /* the write happened; the answer never came */
};

/* One executed plan. */
struct dst_run {
    struct plan plan;
    int cluster;
    uint64_t epoch;
    uint64_t plan_ms;        /* when it was planned */
    uint64_t info_ms;        /* how old the information it was made from can be */
    size_t references;       /* events that still point at it */
    size_t replies_left;
    size_t failed, benign;
    bool writes_pd;          /* the controller reads PD again once it ran */
    enum dst_action_fate *fates;
    int *statuses;           /* the answer per action */
};

struct pd_model;
struct pd_world;
/* The operator's PD snapshot of one cluster (dst_operator.c). */
struct dst_snapshot;

/* Facts per cluster, for the invariants' "was it a fault?" question. */
#define DST_TRACKED 16
struct dst_truth {
    char pd_names[DST_TRACKED][64];
    bool pd_alive[DST_TRACKED];
    size_t pd_count;
    uint64_t store_ids[DST_TRACKED];
    bool store_up[DST_TRACKED];
    size_t store_count;
    uint64_t worsened_ms;    /* last time a member died or a store left Up, not by the operator */
    bool worsened_ever;
    char leader[64];
};

struct dst_cluster {
    char name[32];
    char key[64];
    int replicas[3];         /* PD, TiKV, TiDB as the user wants them now */
    bool reclaim_delete;     /* pvReclaimPolicy Delete */
    /* The operator's queue state of this key. */
    bool queued;
    bool busy;
    bool again;              /* queued while busy */
    uint64_t wake_ms;        /* 0: none */
    unsigned failures;       /* rate limiter */
    struct dst_snapshot *snapshot;   /* NULL until the first pass wants PD */
    struct dst_truth truth;
    bool converged;
};

struct dst_operator {
    bool up;
    bool synced;
    uint64_t epoch;
    struct string_pool pool;
    struct cache caches[DST_KIND_COUNT];
    struct dst_lag_queue lag[DST_KIND_COUNT];
    struct validation_memo *memo;
    struct expectations *expectations;  /* reconcilers/runtime/expectations.h */
    uint64_t next_resync_ms;
};

/* Pods the operator deleted: name and uid (the invariants' attribution). */
struct dst_deleted_pod {
    char name[64];
    char uid[64];
};
struct dst_deleted {
    struct dst_deleted_pod *pods;
    size_t count, capacity;
    /* The uid of the latest pod of each name the store held (name, uid). */
    struct dst_deleted_pod *latest;
    size_t latest_count, latest_capacity;
};

enum dst_phase {
    DST_PHASE_FAULTS,        /* the fault window */
    DST_PHASE_HEALED,        /* every fault healed: converging */
};

struct dst;
/* What a store watch callback is given: which simulation, which kind. */
struct dst_watch_context {
    struct dst *sim;
    enum dst_kind kind;
};

struct dst {
    struct dst_options options;
    struct dst_result *result;
    struct dst_rng rng;
    struct clock clock;
    uint64_t start_ms;
    struct store *store;
    struct world *world;
    struct pd_world *pd_world;
    const struct resource *resources[DST_KIND_COUNT];
    const struct resource *r_events;
    struct store_watch *watches[DST_KIND_COUNT];
    struct dst_watch_context watch_contexts[DST_KIND_COUNT];
    /* The truth, projected at once (the invariants read it). */
    struct string_pool truth_pool;
    struct cache truth[DST_KIND_COUNT];
    struct dst_operator op;
    struct dst_cluster clusters[DST_MAX_CLUSTERS];
    int cluster_count;
    struct timer_heap heap;
    uint64_t next_pd_tick_ms;
    /* Seeded behaviour of this schedule. */
    uint64_t lag_min_ms, lag_max_ms;     /* informer delay */
    uint64_t stall_until_ms;             /* an informer stall */
    uint64_t stall_ms;
    uint64_t api_latency_max_ms;
    unsigned api_fail_percent;           /* base rate of failing writes */
    unsigned api_burst_percent;          /* during a burst */
    uint64_t api_burst_until_ms;
    uint64_t pd_latency_max_ms;
    uint64_t pd_slow_until_ms;
    uint64_t pd_slow_ms;
    bool pd_unreachable[DST_MAX_CLUSTERS];
    uint64_t info_lag_ms;                /* bound of the caches' delay */
    /* Faults. */
    struct dst_fault *faults;
    size_t fault_count;
    uint64_t heal_ms;                    /* when the fault window ends */
    uint64_t end_ms;                     /* the liveness bound */
    enum dst_phase phase;
    struct dst_deleted deleted;
    bool failed;                         /* out of memory or a broken world */
    char error[256];
};

/* ---- dst.c ---- */
void dst_trace(struct dst *sim, const char *format, ...) __attribute__((format(printf, 2, 3)));
uint64_t dst_now(const struct dst *sim);
/* Pushes an event (owned by the heap until popped). False on out of memory. */
bool dst_schedule(struct dst *sim, uint64_t due_ms, const struct dst_event *event);
struct pd_model *dst_pd_model(struct dst *sim, int cluster);
/* Marks a cluster to plan (the work queue's add). */
void dst_enqueue(struct dst *sim, int cluster);
/* The cluster index of an object's cluster key, or -1. */
int dst_cluster_of(const struct dst *sim, const char *key);
void dst_fail(struct dst *sim, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* The TidbCluster object of the user, as stored; NULL when gone. */
cJSON *dst_cluster_object(struct dst *sim, int cluster);
/* Writes the user's spec change (PD, TiKV, TiDB replicas) to the store in one update. */
bool dst_user_set_replicas(struct dst *sim, int cluster, const int replicas[3]);
/* Operator crash (all memory gone) and start (list everything again). */
void dst_operator_crash(struct dst *sim);
void dst_operator_start(struct dst *sim);

/* ---- dst_operator.c ---- */
/* Plans every queued cluster that is not busy. */
void dst_operator_passes(struct dst *sim);
void dst_operator_event(struct dst *sim, struct dst_event *event);
/* Frees a cluster's snapshot (the operator forgets it). */
void dst_snapshot_forget(struct dst_cluster *cluster);
/* Polls that are due. */
void dst_operator_poll(struct dst *sim);
/* Earliest poll due, UINT64_MAX when none. */
uint64_t dst_operator_next_poll(const struct dst *sim);
void dst_run_release(struct dst_run *run);

/* ---- dst_pd_wire.c ---- */
/* One HTTP exchange with a cluster's PD model through its service (after
 * advancing the model to now): the status (0: nothing answers) and the
 * body (malloc'd, *body_out NULL when empty). `garbage` tells that the
 * model answers garbage (a 2xx then cannot be read). False on out of memory. */
bool dst_pd_serve(struct pd_model *model, const char *method, const char *path, const char *query,
                  const char *body, int *status, char **body_out, size_t *length, bool *garbage);

/* ---- dst_faults.c ---- */
bool dst_faults_plan(struct dst *sim);
void dst_fault_event(struct dst *sim, struct dst_event *event);
/* Heals every fault still in force (the end of the window). */
void dst_faults_heal(struct dst *sim);
void dst_faults_free(struct dst *sim);

/* ---- dst_check.c ---- */
/* Records a violation (the first one wins); the run stops after the step. */
void dst_violation(struct dst *sim, enum dst_invariant invariant, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Before an action of `run` is applied to the world: the action checks. */
void dst_check_action(struct dst *sim, const struct dst_run *run, const struct action *action);
/* After the operator made a plan: the plan checks. */
void dst_check_plan(struct dst *sim, int cluster, const struct plan *plan);
/* After every step: the state invariants (and the truth's bookkeeping). */
void dst_check_step(struct dst *sim);
/* Whether every cluster is at its spec. */
bool dst_check_converged(struct dst *sim, int cluster, char *why, size_t size);
/* Remembers a pod the operator deleted. */
void dst_note_deleted(struct dst *sim, const char *name, const char *uid);
/* Whether the pod of this name is down because the operator deleted it:
 * the latest pod of the name is the one the operator deleted (gone since,
 * or still terminating). */
bool dst_deleted_by_operator(const struct dst *sim, const char *name);
/* Remembers the uid of the latest pod of a name (every pod the store adds). */
void dst_note_pod(struct dst *sim, const char *name, const char *uid);

#endif
