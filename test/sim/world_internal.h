/*
 * world_internal: what the world's parts (world.c, nodes.c, scheduler.c,
 * kubelet.c, volumes.c) share. Not for use outside test/sim/world*.
 *
 * Model: `struct world` keeps an informer-like cache of the objects it
 * watches (retained store snapshots) plus derived state: per node the
 * resources requested by the non-terminated pods bound there and the list of
 * those pods, per pod its kubelet stage and timers. All of it is updated
 * from the watch callbacks (which never write); writes happen in tasks.
 *
 * Tasks: a `struct world_timer` is embedded in its owner (node, pod, world)
 * and pushed into the world's timer heap; world_run_due pops and fires
 * them. A timer is re-armed by world_timer_at (moves it when pushed).
 */
#ifndef TEST_SIM_WORLD_INTERNAL_H
#define TEST_SIM_WORLD_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "reactor/clock.h"
#include "reactor/key_map.h"
#include "reactor/timer_heap.h"
#include "test/sim/selector.h"
#include "test/sim/store.h"
#include "test/sim/world.h"

#define WORLD_SCHEDULER_NAME "default-scheduler"
#define WORLD_HOSTNAME_LABEL "kubernetes.io/hostname"
#define WORLD_UNREACHABLE_TAINT "node.kubernetes.io/unreachable"
#define WORLD_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define WORLD_NO_PROVISIONER "kubernetes.io/no-provisioner"

struct world;
struct world_timer;
typedef void (*world_timer_fn)(struct world *world, struct world_timer *timer);

struct world_timer {
    struct timer_heap_entry entry;  /* first: the heap hands back this address */
    world_timer_fn fire;
};

/* A retained snapshot under its key ("ns/name" or "name"). */
struct world_cached {
    struct store_object *object;
    bool dirty;             /* volumes: needs a sync */
    bool noted;             /* volumes: the WaitForFirstConsumer event is out */
    char key[];
};

enum kubelet_stage {
    KUBELET_NONE,           /* not bound, or bound and not started yet */
    KUBELET_STARTING,       /* start task queued */
    KUBELET_RUNNING,        /* containers running, not ready yet */
    KUBELET_READY,
    KUBELET_BACKOFF,        /* a container waits in CrashLoopBackOff */
    KUBELET_TERMINATING,
    KUBELET_DONE,           /* terminated: nothing more to do */
};

/* One required anti-affinity term of a pod, parsed once. */
struct world_affinity_term {
    struct selector *selector;
    char *topology_key;
    char **namespaces;      /* NULL with count 0: the pod's own namespace */
    size_t namespace_count;
    bool all_namespaces;    /* namespaceSelector {} */
};

struct sim_node;
struct world_pod_bucket;

/* One entry of a pod in the placed-pod index: which bucket, at which slot. */
struct world_membership {
    struct world_pod_bucket *bucket;
    size_t slot;
};

/* An entry of a bucket: the pod and the index of its membership. */
struct world_bucket_item {
    struct sim_pod *pod;
    size_t membership;
};

/*
 * A set of placed pods under one key of world.placed (see scheduler.c):
 * the pods of a namespace, those of a namespace with one label value, those
 * with one label value anywhere, or those whose anti-affinity terms may
 * select pods of a namespace. Freed when it empties.
 */
struct world_pod_bucket {
    struct world_bucket_item *items;
    size_t count, capacity;
    char key[];
};

struct sim_pod {
    struct store_object *object;  /* latest snapshot */
    char *namespace;
    char *name;
    uint64_t sequence;            /* first-seen order: the scheduling queue's FIFO */
    /* Accounting: set while the pod counts against `node`. */
    struct sim_node *node;
    size_t node_slot;
    int64_t cpu_milli, memory_milli;
    int64_t score_cpu_milli, score_memory_milli; /* with the scheduler's non-zero defaults */
    /* Scheduler. */
    bool queued;                  /* in the active queue */
    bool unschedulable;           /* waiting for a flush or the retry */
    struct world_affinity_term *anti_affinity;
    size_t anti_affinity_count;
    bool affinity_parsed;
    /* The placed-pod index: set while the pod counts against a node. */
    struct world_membership *memberships;
    size_t membership_count, membership_capacity;
    /* Kubelet. */
    enum kubelet_stage stage;
    struct world_timer kubelet_timer;
    int crash_count;              /* crashes since the last long run */
    int backoff_container;        /* index of the container waiting in back-off */
    uint64_t running_since_ms;
    char key[];                   /* "ns/name" */
};

struct sim_node {
    char *name;
    int index;                    /* 10.244.<index>.x pod addresses */
    struct store_object *object;
    int64_t alloc_cpu_milli, alloc_memory_milli;
    int alloc_pods;
    int64_t cpu_milli, memory_milli;           /* requested */
    int64_t score_cpu_milli, score_memory_milli;
    struct sim_pod **pods;        /* accounted pods */
    size_t pod_count, pod_capacity;
    unsigned next_ip;
    bool failed;                  /* world_fail_node: no heartbeats, kubelet stopped */
    bool unreachable;             /* the lifecycle controller has marked it */
    bool managed;                 /* its heartbeat timer runs */
    uint64_t last_heartbeat_ms;
    struct world_timer heartbeat;
    struct world_timer eviction;  /* armed while unreachable (taint_eviction_ms) */
};

/* Pods of a deleted node, deleted when the timer fires. */
struct world_orphans {
    struct world_timer timer;
    struct world_orphans *next;
    char node[];
};

/* One aggregated event: repeats update count and lastTimestamp. */
struct world_event_record {
    char *name;
    char *namespace;
    char key[];
};

struct world {
    uv_loop_t *loop;
    uv_timer_t uv_timer;
    uv_idle_t uv_idle;            /* work already due after a run: the next loop turn */
    bool uv_timer_open;           /* both handles are open */
    bool idle_active;
    int closing_handles;
    uint64_t armed_due;           /* UINT64_MAX: not armed */
    struct store *store;
    const struct clock *clock;
    struct world_options options;
    double speed;
    bool running_due;
    bool in_loop_callback;        /* inside the uv timer's or idle handle's callback */
    uint64_t run_started_ms;      /* system clock, when the current run began */

    const struct resource *r_pods, *r_nodes, *r_pvcs, *r_pvs, *r_classes, *r_events;
    struct store_watch *w_classes, *w_pvs, *w_pvcs, *w_nodes, *w_pods;

    struct timer_heap heap;
    uint64_t next_sequence;
    uint64_t event_sequence;

    struct sim_node **nodes;      /* sorted by name */
    size_t node_count, node_capacity;
    int next_node_index;

    struct key_map pods;          /* "ns/name" -> sim_pod */
    struct key_map pvcs;          /* "ns/name" -> world_cached */
    struct key_map pvs;           /* name -> world_cached */
    struct key_map available_pvs; /* name -> world_cached: unclaimed PVs, what binding can use */
    struct key_map claimed_pvs;   /* claimRef "ns/name" -> volumes' index entry (its PV) */
    struct key_map classes;       /* name -> world_cached */
    struct key_map events;        /* aggregation key -> world_event_record */

    /* Scheduler. */
    struct sim_pod **queue;       /* active: [queue_head, queue_count) scheduled at the next tick */
    size_t queue_head, queue_count, queue_capacity;
    size_t queue_pass_end;        /* during a pass: the pods it takes end here */
    struct key_map placed;        /* placed-pod index: key -> world_pod_bucket */
    struct sim_pod **parked;      /* unschedulable: back to the queue on a flush */
    size_t parked_count, parked_capacity;
    bool flush_pending;
    struct world_timer schedule_timer;
    struct world_timer retry_timer;

    /* Volumes: keys waiting for a sync (deduplicated by world_cached.dirty
     * while cached; deleted objects may appear twice, which is harmless). */
    char **dirty_pvcs;
    size_t dirty_pvc_count, dirty_pvc_capacity;
    char **dirty_pvs;
    size_t dirty_pv_count, dirty_pv_capacity;
    struct world_timer volume_timer;
    struct world_timer volume_resync_timer;

    struct world_orphans *orphans;
};

/* ---- world.c: time, tasks, store helpers, events ---- */

uint64_t world_now(const struct world *world);
/* now + delay / speed */
uint64_t world_after(const struct world *world, uint64_t delay_ms);
/* Pushes or moves the timer to `due_ms` and arms the uv timer. */
void world_timer_at(struct world *world, struct world_timer *timer, uint64_t due_ms);
void world_timer_cancel(struct world *world, struct world_timer *timer);
/* On a loop, inside a run: true once the run has used its slice of real
 * time. A task with many items stops between two of them, keeps the rest
 * and re-arms itself at now; without a loop (tests) always false. */
bool world_yield_due(const struct world *world);
void world_timestamp(const struct world *world, char out[32]);

typedef bool (*world_edit)(struct world *world, cJSON *object, void *data);
/*
 * Reads the current object, lets `edit` change a copy (false: nothing to
 * write) and writes it back with store_update (main) or store_update_status
 * (status). False when the object is gone or the write failed.
 */
bool world_edit_object(struct world *world, const struct resource *resource,
                       const char *namespace, const char *name, bool status, world_edit edit,
                       void *data);
/* Creates `object` (ownership passes); false (logged) on failure. */
bool world_create(struct world *world, const struct resource *resource, const char *namespace,
                  cJSON *object);
bool world_delete(struct world *world, const struct resource *resource, const char *namespace,
                  const char *name);
/* Records a core/v1 Event about `involved` (kind, namespace, name, uid from its
 * tree); an identical repeat bumps count and lastTimestamp. */
void world_event(struct world *world, const cJSON *involved, const char *type,
                 const char *reason, const char *message, const char *component);

/* JSON helpers. */
const cJSON *json_at(const cJSON *object, const char *first, ...);        /* NULL-terminated keys */
const char *json_string_at(const cJSON *object, const char *first, ...);  /* NULL if not a string */
cJSON *json_child(cJSON *object, const char *key);  /* the object under key, created if missing */
bool json_set_string(cJSON *object, const char *key, const char *value);
bool json_set(cJSON *object, const char *key, cJSON *item);  /* replaces; takes ownership */
const char *json_label(const cJSON *object, const char *key);       /* metadata.labels[key] */
const char *json_annotation(const cJSON *object, const char *key);  /* metadata.annotations[key] */
/* Sets conditions[type]; lastTransitionTime changes only when status changes.
 * `heartbeat` also sets lastHeartbeatTime (nodes), else lastProbeTime null (pods). */
bool world_set_condition(cJSON *status, const char *type, const char *value, const char *reason,
                         const char *message, const char *now, bool heartbeat);
const char *world_condition_status(const cJSON *object, const char *type);

/* ---- nodes.c ---- */

bool nodes_start(struct world *world);
void nodes_free(struct world *world);
void nodes_on_event(struct world *world, const struct store_event *event);
struct sim_node *nodes_find(const struct world *world, const char *name);
/* Node label value, NULL when absent. */
const char *nodes_label(const struct sim_node *node, const char *key);
/* Accounting of one pod (called by the pod watch); also keeps the
 * scheduler's placed-pod index. */
void nodes_account(struct world *world, struct sim_node *node, struct sim_pod *pod);
void nodes_unaccount(struct world *world, struct sim_pod *pod);

/* ---- scheduler.c ---- */

void scheduler_start(struct world *world);
void scheduler_free(struct world *world);
/* The pod changed (or appeared): queue it when it waits for a node. */
void scheduler_on_pod(struct world *world, struct sim_pod *pod);
void scheduler_forget_pod(struct world *world, struct sim_pod *pod);
/* Something that may let unschedulable pods fit changed. */
void scheduler_flush(struct world *world);
/* Frees the pod's parsed anti-affinity terms and its index memberships
 * (without touching the buckets: for teardown, or after scheduler_unplace). */
void scheduler_free_affinity(struct sim_pod *pod);
/* The placed-pod index: the pod starts / stops counting against its node,
 * or its labels changed while placed. */
void scheduler_place(struct world *world, struct sim_pod *pod);
void scheduler_unplace(struct world *world, struct sim_pod *pod);
void scheduler_relabel(struct world *world, struct sim_pod *pod);
/* Sum of the pod's container requests (max with init containers); false if malformed. */
bool scheduler_pod_requests(const cJSON *pod, int64_t *cpu_milli, int64_t *memory_milli);
/* Node selector terms (nodeSelectorTerms ORed) against a node's labels and name. */
bool scheduler_match_node_selector(const cJSON *node_selector, const cJSON *labels,
                                   const char *node_name);

/* ---- kubelet.c ---- */

void kubelet_on_pod(struct world *world, struct sim_pod *pod);
void kubelet_forget_pod(struct world *world, struct sim_pod *pod);
/* The node failed or came back. */
void kubelet_node_failed(struct world *world, struct sim_node *node);
void kubelet_node_recovered(struct world *world, struct sim_node *node);
bool kubelet_crash(struct world *world, struct sim_pod *pod, const char *container);

/* ---- volumes.c ---- */

bool volumes_start(struct world *world);
void volumes_free(struct world *world);
void volumes_on_pvc(struct world *world, const struct store_event *event);
void volumes_on_pv(struct world *world, const struct store_event *event);
void volumes_on_class(struct world *world, const struct store_event *event);
const cJSON *volumes_class(const struct world *world, const char *name);
/* The class a PVC asks for: its storageClassName, or the default class when the
 * field is absent; NULL name for "" (no class). *missing when it names a class
 * that does not exist. */
const cJSON *volumes_pvc_class(const struct world *world, const cJSON *pvc, const char **name);
bool volumes_class_wait_for_consumer(const cJSON *storage_class);
bool volumes_class_provisions(const cJSON *storage_class);
/* Whether an unbound PV can serve the claim (class, size, modes, selector). */
bool volumes_pv_matches(const cJSON *pv, const cJSON *pvc, const char *class_name);
bool volumes_pv_fits_node(const cJSON *pv, const struct sim_node *node);
bool volumes_pv_available(const cJSON *pv);
/* Request size of a PVC in thousandths of a byte. */
int64_t volumes_pvc_request(const cJSON *pvc);

#endif
