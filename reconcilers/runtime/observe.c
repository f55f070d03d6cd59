/*
 * observe: one cluster's world from the caches (observe.h).
 */
#include "reconcilers/runtime/observe.h"

#include <stdlib.h>
#include <string.h>

static bool listed(const void *const *list, size_t count, const void *item)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == item)
            return true;
    return false;
}

bool observe_cluster(const struct observe_caches *caches, const char *key, const struct tidbcluster *cluster,
                     const struct pd_snapshot_data *pd, int64_t now_ms, struct observation *out)
{
    *out = (struct observation){ 0 };
    struct observed_cluster *world = &out->world;
    world->cluster = cluster;
    world->now_ms = now_ms;
    world->pd = pd;
    world->pods = (const struct kube_pod *const *)cache_by_cluster(caches->pods, key, &world->pod_count);
    world->pvcs = (const struct kube_pvc *const *)cache_by_cluster(caches->pvcs, key, &world->pvc_count);
    world->services =
        (const struct kube_service *const *)cache_by_cluster(caches->services, key, &world->service_count);
    world->configmaps =
        (const struct kube_configmap *const *)cache_by_cluster(caches->configmaps, key, &world->configmap_count);
    /* Storage classes are few: all of them. */
    out->classes = calloc(cache_count(caches->storage_classes) + 1, sizeof *out->classes);
    /* The nodes of this cluster's pods and the volumes of its claims, by name. */
    out->nodes = calloc(world->pod_count + world->pvc_count + 1, sizeof *out->nodes);
    out->pvs = calloc(world->pvc_count + 1, sizeof *out->pvs);
    if (!out->classes || !out->nodes || !out->pvs)
        return false;
    size_t cursor = 0;
    for (const struct object_meta *item; (item = cache_next(caches->storage_classes, &cursor));)
        out->classes[world->storage_class_count++] = (const struct kube_storage_class *)item;
    world->storage_classes = out->classes;
    for (size_t i = 0; caches->nodes && i < world->pod_count; i++) {
        const char *name = world->pods[i] ? world->pods[i]->node_name : NULL;
        const struct kube_node *node = name ? (const struct kube_node *)cache_get(caches->nodes, name) : NULL;
        if (node && !listed((const void *const *)out->nodes, world->node_list_count, node))
            out->nodes[world->node_list_count++] = node;
    }
    world->nodes = out->nodes;
    for (size_t i = 0; caches->pvs && i < world->pvc_count; i++) {
        const char *name = world->pvcs[i] ? world->pvcs[i]->volume_name : NULL;
        const struct kube_pv *pv = name ? (const struct kube_pv *)cache_get(caches->pvs, name) : NULL;
        if (pv)
            out->pvs[world->pv_count++] = pv;
        /* A local volume's node too: whether it still exists. */
        const struct kube_node *node = pv && pv->node_hostname && caches->nodes
                                           ? (const struct kube_node *)cache_get(caches->nodes, pv->node_hostname)
                                           : NULL;
        if (node && !listed((const void *const *)out->nodes, world->node_list_count, node))
            out->nodes[world->node_list_count++] = node;
    }
    world->pvs = out->pvs;
    world->nodes_complete = caches->nodes != NULL;
    /* Node counts explain pods that cannot be scheduled. */
    cursor = 0;
    for (const struct object_meta *item; caches->nodes && (item = cache_next(caches->nodes, &cursor));) {
        world->node_count++;
        if (((const struct kube_node *)item)->ready == CONDITION_TRUE)
            world->ready_node_count++;
    }
    return true;
}

void observe_done(struct observation *observation)
{
    free(observation->classes);
    free(observation->nodes);
    free(observation->pvs);
    *observation = (struct observation){ 0 };
}
