/*
 * observed: the world one cluster's plan is made from.
 *
 * Everything here is read-only and borrowed for the duration of one planner
 * call: the decoded TidbCluster (defaults applied), the compact projections
 * of the objects that belong to it (watchers/objects.h, taken from the
 * caches' by-cluster index), the storage classes, the nodes and their count, the PD
 * snapshot (NULL until the cluster has one) and the clock. A planner reads
 * nothing else: that is what makes it a pure function, testable from
 * hand-built worlds.
 */
#ifndef RECONCILERS_OBSERVED_H
#define RECONCILERS_OBSERVED_H

#include "pd/pd_snapshot_data.h"
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_validate.h"
#include "watchers/objects.h"

#include <stddef.h>
#include <stdint.h>

struct observed_cluster {
    const struct tidbcluster *cluster;   /* decoded and defaulted */
    const struct kube_pod *const *pods;  /* this cluster's pods (instance label) */
    size_t pod_count;
    const struct kube_pvc *const *pvcs;
    size_t pvc_count;
    const struct kube_service *const *services;
    size_t service_count;
    const struct kube_configmap *const *configmaps;
    size_t configmap_count;
    const struct kube_pv *const *pvs;    /* the volumes bound to this cluster's claims; NULL: none */
    size_t pv_count;
    const struct kube_storage_class *const *storage_classes; /* all of them */
    size_t storage_class_count;
    const struct kube_node *const *nodes; /* the nodes this cluster's pods are on; NULL: none */
    size_t node_list_count;
    /* `nodes` holds every node this cluster's pods and local volumes name
     * that exists (the runtime plans only from a synced node cache): a
     * name missing from it is a node that is gone. False: unknown (then no
     * node is ever taken for gone). */
    bool nodes_complete;
    size_t node_count;          /* nodes in the cluster, for pending explanations */
    size_t ready_node_count;
    const struct pd_snapshot_data *pd;  /* NULL: no snapshot yet */
    /* This generation's validation, made once per generation by the
     * runtime (reconcilers/runtime/validation_memo.h); NULL: the planner
     * validates the cluster itself. */
    const struct tc_problems *problems;
    int64_t now_ms;             /* wall clock, Unix ms */
    /* How long a member must have failed before failover replaces it, per
     * component (0: PingCAP's 5 minutes). */
    int64_t failover_period_ms[TC_COMPONENT_COUNT];
};

#endif
