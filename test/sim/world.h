/*
 * world: the simulated machines under the simulated API server — nodes with
 * kubelets, a scheduler, the PV/PVC controller, the node lifecycle
 * controller and the pod garbage collector, driven only by the store's
 * objects exactly like the real controllers are driven by the API.
 *
 *   struct world_options options;
 *   world_config_default(&options);            // 3 zones x 2 nodes, storage classes, local PVs
 *   struct world *world = world_start(loop, store, clock, &options);
 *   world_options_free(&options);              // the world keeps its own copy
 *   ... uv_run ...
 *   world_stop(world);
 *
 * The world watches pods, nodes, PVCs, PVs and storage classes
 * (store_watch_start). Watch callbacks only update the world's own model and
 * queue work; every write to the store happens later, from the world's due
 * tasks, which run from one uv timer (when `loop` is not NULL) or from
 * explicit world_run_due calls (tests with a fake clock pass loop = NULL and
 * step time by hand). On a loop the world shares it: a run takes at most
 * about 20 ms of real time (long passes of the scheduler and the volume
 * controller stop between two items), and work already due after a run
 * waits for the next turn of the loop (an idle handle), after I/O and the
 * other timers. A write made by the world is observed by its own
 * watches synchronously, so its accounting (resources requested per node,
 * pods per node) is current before the next task runs.
 *
 * Delays (kubelet start/readiness, heartbeats, grace periods, retries) are in
 * world milliseconds; world_set_speed(world, s) makes every one of them s
 * times shorter from then on. Timestamps written into objects always come
 * from the clock's wall time.
 *
 * Ownership: the world borrows the loop, the store and the clock, which must
 * outlive it; it copies the options. Not thread-safe (one loop).
 */
#ifndef TEST_SIM_WORLD_H
#define TEST_SIM_WORLD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "reactor/clock.h"
#include "test/sim/store.h"

/* One machine to create at start (skipped when a node of that name exists). */
struct world_node_spec {
    char *name;
    char *zone;          /* topology.kubernetes.io/zone; NULL: none */
    char *region;        /* topology.kubernetes.io/region; NULL: none */
    char *cpu;           /* a quantity: "16" */
    char *memory;        /* a quantity: "64Gi" */
    int pods;            /* allocatable pods */
    cJSON *labels;       /* extra labels (object of strings) or NULL */
    cJSON *taints;       /* spec.taints (array) or NULL */
    int local_volumes;   /* local PVs of class local-storage on this node */
    char *local_volume_size; /* "100Gi" */
};

struct world_options {
    struct world_node_spec *nodes;
    size_t node_count;
    /* Creates StorageClass `standard` (default, kubesim.io/hostpath, Immediate)
     * and `local-storage` (kubernetes.io/no-provisioner, WaitForFirstConsumer). */
    bool storage_classes;

    uint64_t heartbeat_ms;        /* node status refresh; default 10 s */
    uint64_t node_grace_ms;       /* no heartbeat this long: Ready Unknown; default 40 s */
    uint64_t eviction_timeout_ms; /* pods of a deleted node are deleted after; default 40 s */
    uint64_t taint_eviction_ms;   /* pods on an unreachable node are evicted (deleted
                                     gracefully, so they stay Terminating until the node
                                     is back) after; default 300 s, the default toleration
                                     of the unreachable taint; 0: never */
    uint64_t start_delay_ms;      /* bound pod -> Running; default 1 s (0: at once) */
    uint64_t ready_delay_ms;      /* Running -> Ready; default 500 ms (0: with Running) */
    uint64_t deletion_grace_cap_ms; /* terminating pods (held by finalizers) stop after
                                       min(grace period, this); default 2 s */
    uint64_t retry_ms;            /* unschedulable pods and pending PVCs retried; default 5 s */
    uint64_t crash_backoff_ms;    /* first CrashLoopBackOff delay (doubles, max 5 min); default 10 s */
    bool scheduled_events;        /* a Normal "Scheduled" event per binding; default true */
    bool waiting_events;          /* WaitForFirstConsumer events on PVCs; default true */
    /* Images whose containers start and exit at once, every time (an image
     * that cannot start): the pod never gets ready and goes into
     * CrashLoopBackOff. Owned array of owned strings; none by default. */
    char **crashing_images;
    size_t crashing_image_count;
};

/* Fills `options` with the default world; world_options_free releases it. */
void world_config_default(struct world_options *options);
/* The default timings and classes with `zones` x `per_zone` nodes of 16 cpu /
 * 64Gi / 110 pods and `local_volumes` local PVs each (benchmarks: 4 x 25). */
bool world_config_grid(struct world_options *options, int zones, int per_zone, int local_volumes);
/*
 * Reads a JSON world description over the defaults, e.g.
 *   {"zones": 3, "nodesPerZone": 2, "cpu": "16", "memory": "64Gi", "pods": 110,
 *    "localVolumesPerNode": 4, "localVolumeSize": "100Gi", "storageClasses": true,
 *    "heartbeatMs": 10000, "nodeGraceMs": 40000, "evictionTimeoutMs": 40000,
 *    "taintEvictionMs": 300000,
 *    "startDelayMs": 1000, "readyDelayMs": 500, "retryMs": 5000,
 *    "crashingImages": ["pingcap/tikv:v0.0.0-broken"],
 *    "nodes": [{"name": "n1", "zone": "z", "cpu": "8", "memory": "32Gi", "pods": 50,
 *               "labels": {...}, "taints": [...], "localVolumes": 2}]}
 * "nodes" replaces the grid. False with a message in `error` on bad input
 * (then `options` holds nothing and needs no free).
 */
bool world_config_parse(const char *json, struct world_options *options, char *error,
                        size_t error_size);
void world_options_free(struct world_options *options);

struct world;

/* Starts the world: creates missing classes, nodes and local PVs, starts the
 * watches. NULL when memory runs out or the store refuses (logged). */
struct world *world_start(uv_loop_t *loop, struct store *store, const struct clock *clock,
                          const struct world_options *options);
/* Stops the watches and timers and frees the world; with a loop, the memory is
 * released once its loop handles have closed (run the loop once more). */
void world_stop(struct world *world);

/* Runs every task due by now (clock time when it starts; on a loop it stops
 * after its slice of real time and the rest follows); returns how many ran. */
size_t world_run_due(struct world *world);
/* When the next task is due (clock ms); false when nothing is queued. */
bool world_next_due(const struct world *world, uint64_t *due_ms);

/* ---- fault injection ---- */

/* Stops the node's heartbeats and its kubelet; after node_grace_ms the node
 * goes Ready=Unknown, is tainted unreachable and its pods go Ready=False. */
bool world_fail_node(struct world *world, const char *name);
/* Heartbeats resume at once; taints are lifted and pods report ready again. */
bool world_recover_node(struct world *world, const char *name);
/* Deletes the Node object; its pods are deleted after eviction_timeout_ms. */
bool world_delete_node(struct world *world, const char *name);
/* A container of a running pod exits (NULL: the first container): restartCount
 * goes up; repeated crashes end in CrashLoopBackOff with growing delays. */
bool world_crash_pod(struct world *world, const char *namespace, const char *name,
                     const char *container);
/* World timers run `speed` times faster (0 < speed); applies to new delays. */
bool world_set_speed(struct world *world, double speed);

/* ---- introspection (tests, admin) ---- */

struct world_node_usage {
    int64_t cpu_milli;        /* requested by non-terminated pods bound there */
    int64_t memory_milli;     /* bytes x 1000 */
    int pods;
    int64_t allocatable_cpu_milli;
    int64_t allocatable_memory_milli;
    int allocatable_pods;
};
bool world_node_usage(const struct world *world, const char *name, struct world_node_usage *out);

/*
 * Kubernetes quantities ("500m", "2", "1.5", "1Gi", "512Mi", "1G", "1e3")
 * in thousandths, rounded up as the API server does for requests; false
 * for anything malformed or out of range.
 */
bool world_quantity_milli(const char *text, int64_t *milli);

#endif
