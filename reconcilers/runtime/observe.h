/*
 * observe: gathers the observed world of one TidbCluster from the shared
 * caches, the way every pass needs it — the cluster's pods, PVCs,
 * services and configmaps (by-cluster index), the PVs bound to its claims,
 * the nodes its pods run on, every storage class, the node counts, its PD
 * snapshot and the clock. Used by the controller and by the benchmark that
 * measures the controller's pass, so both read the same world.
 *
 * Ownership: the caches, the decoded cluster and the PD data are borrowed
 * and must not change until observe_done (they change only in loop
 * callbacks); `struct observation` owns the scratch arrays it points the
 * world at (observe_done frees them).
 */
#ifndef RECONCILERS_RUNTIME_OBSERVE_H
#define RECONCILERS_RUNTIME_OBSERVE_H

#include "reconcilers/planner/observed.h"
#include "watchers/cache.h"

#include <stdbool.h>

struct observe_caches {
    const struct cache *pods, *pvcs, *pvs, *services, *configmaps, *storage_classes, *nodes;
};

struct observation {
    struct observed_cluster world;
    const struct kube_storage_class **classes;
    const struct kube_node **nodes;
    const struct kube_pv **pvs;
};

/* Fills out->world for cluster `key`. False on out of memory (then
 * observe_done is still to be called). */
bool observe_cluster(const struct observe_caches *caches, const char *key, const struct tidbcluster *cluster,
                     const struct pd_snapshot_data *pd, int64_t now_ms, struct observation *out);
void observe_done(struct observation *observation);

#endif
