/*
 * enqueue: informer handlers that turn a change of any watched object into
 * the TidbCluster work-queue keys ("ns/name") it concerns.
 *
 * - Objects with a cluster (object_meta.cluster: the instance label, or a
 *   TidbCluster's own key): that key; on an update whose cluster changed,
 *   both the old and the new key.
 * - Nodes: every cluster with a pod on the node, or a claim pinned to it
 *   (the pod and PVC caches' by-node indexes), since a node's readiness
 *   decides failover; clusters with nothing on the node are not touched.
 * - PersistentVolumes without a cluster of their own: the cluster of the
 *   claim they are bound to (looked up in the PVC cache).
 * Objects that concern no cluster add nothing.
 *
 * The enqueuer is borrowed by the handlers (data pointer) and must outlive
 * their registration (the informers, or until its handlers are removed);
 * the caches are borrowed and may be NULL (then nodes and unlabelled PVs
 * add nothing from them). workqueue_add errors (shut down) are ignored: a
 * stopping operator needs no more keys.
 */
#ifndef WATCHERS_ENQUEUE_H
#define WATCHERS_ENQUEUE_H

#include "reactor/workqueue.h"
#include "watchers/cache.h"
#include "watchers/informer.h"

struct cluster_enqueuer {
    struct workqueue *queue;
    const struct cache *pods;  /* for nodes */
    const struct cache *pvcs;  /* for nodes and PVs */
    uint64_t keys_added;       /* workqueue_add calls made */
};

/* Handlers for an informer of `kind`. */
struct informer_handlers cluster_enqueue_handlers(struct cluster_enqueuer *enqueuer,
                                                  const struct object_kind *kind);

#endif
