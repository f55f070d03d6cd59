/*
 * manager: the informer manager — one informer per watched kind, their
 * compact caches (one string pool), their sync state and their metrics,
 * shared by every part of the operator that reads the cluster's objects
 * (the TidbCluster controller today; the storage controller and the
 * admission webhook later). Nothing here knows what a borrower does with
 * the objects.
 *
 * Kinds (DESIGN.md, "Watched kinds and what is cached"): TidbClusters,
 * Pods, PVCs, Services and ConfigMaps (the last four with the label selector
 * app.kubernetes.io/managed-by=tidb-operator, and like TidbClusters only in
 * `namespace` when one is given), and the cluster-scoped PersistentVolumes,
 * StorageClasses and Nodes (all of them).
 *
 * Sync: manager_synced is true once every kind has completed its first list
 * and stays true (informers relist in place). Readiness: when `health` is
 * given the check "caches-synced" is registered on it (rule 5: no plan runs
 * from a half-synced cache; borrowers also test manager_synced themselves).
 *
 * Metrics (when `metrics` is given), mirrored from the informers at every
 * scrape, labelled {resource} with the plural:
 *   tidb_operator_informer_lists_total, tidb_operator_informer_relists_gone_total,
 *   tidb_operator_informer_watches_total, tidb_operator_informer_bad_events_total.
 *
 * Borrowers
 * - manager_cache: read-only access to a kind's cache, for the duration of
 *   one loop callback (pointers into it die when the object changes; hold
 *   keys, not pointers, across turns).
 * - manager_add_handlers: a set of handlers for one kind, called on the loop
 *   from the informer's callbacks with the informer's semantics
 *   (watchers/informer.h: on_add for a new key, on_update only when
 *   something the planners read changed, on_delete with the last state).
 *   Handlers may be added before or after the informers have listed; a
 *   borrower that joins late sees only later changes and reads what is
 *   already cached from manager_cache. At most MANAGER_MAX_HANDLERS sets per
 *   kind.
 * - manager_remove_handlers(data): every set registered with that data
 *   pointer is dropped at once; none of them is called afterwards, even in
 *   the middle of a dispatch. A borrower calls it from its own close, before
 *   its data goes away.
 * - manager_add_enqueuer: the TidbCluster key mapping of watchers/enqueue.h
 *   (cluster labels, nodes through the pod cache's by-node index, PVs
 *   through their bound claim) installed on every kind in one call.
 *
 * Ownership: the loop, the client, the clock, the metrics registry and the
 * health are borrowed and must outlive the manager; the namespace is copied.
 * Borrowers must have removed their handlers and stopped reading caches
 * before manager_close; it stops every informer, frees the caches and the
 * pool, and calls `closed` (may be NULL) from the loop once all is released.
 */
#ifndef RECONCILERS_RUNTIME_MANAGER_H
#define RECONCILERS_RUNTIME_MANAGER_H

#include "reactor/clock.h"
#include "reactor/health.h"
#include "reactor/metrics.h"
#include "watchers/cache.h"
#include "watchers/enqueue.h"
#include "watchers/informer.h"
#include "watchers/kube_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define MANAGER_MAX_HANDLERS 8

enum manager_kind {
    MANAGER_TIDBCLUSTERS,
    MANAGER_PODS,
    MANAGER_PVCS,
    MANAGER_PVS,
    MANAGER_SERVICES,
    MANAGER_CONFIGMAPS,
    MANAGER_STORAGE_CLASSES,
    MANAGER_NODES,
    MANAGER_KIND_COUNT,
};

struct manager;

struct manager_options {
    uv_loop_t *loop;
    struct kube_client *client;
    const struct clock *clock;         /* NULL: the system clock */
    struct metrics_registry *metrics;  /* optional */
    struct health *health;             /* optional: "caches-synced" */
    const char *namespace;             /* NULL or "": every namespace */
    uint64_t backoff_initial_ms;       /* informers' failure backoff; 0: their default */
    uint64_t backoff_max_ms;
};

/* Creates and starts every informer. 0 and *out; -EINVAL (options) or
 * -ENOMEM (then *out is NULL and whatever was made closes itself: run the
 * loop until its handles are gone, as a stopping program does). */
int manager_start(const struct manager_options *options, struct manager **out);
void manager_close(struct manager *manager, void (*closed)(void *data), void *data);

/* Every kind has listed once. */
bool manager_synced(const struct manager *manager);
bool manager_kind_synced(const struct manager *manager, enum manager_kind kind);

/* The kind's cache; NULL for a kind out of range. */
const struct cache *manager_cache(const struct manager *manager, enum manager_kind kind);
/* The kind's projection (watchers/objects.h) and its resource plural
 * ("pods"); NULL out of range. */
const struct object_kind *manager_object_kind(enum manager_kind kind);
const char *manager_kind_name(enum manager_kind kind);
/* The informer's counters; zeroes for a kind out of range. */
void manager_get_stats(const struct manager *manager, enum manager_kind kind,
                       struct informer_stats *out);

/* 0, -EINVAL (kind out of range, no handlers, closing) or -ENOSPC. */
int manager_add_handlers(struct manager *manager, enum manager_kind kind,
                         const struct informer_handlers *handlers);
/* Drops every handler set whose data is `data`, for every kind. */
void manager_remove_handlers(struct manager *manager, const void *data);

/* Points enqueuer->pods and ->pvcs at the manager's caches and adds
 * cluster_enqueue_handlers(enqueuer, kind) for every kind, the enqueuer as
 * their data (remove with manager_remove_handlers(manager, enqueuer)).
 * 0, or the first error of manager_add_handlers (then none is added). */
int manager_add_enqueuer(struct manager *manager, struct cluster_enqueuer *enqueuer);

#endif
