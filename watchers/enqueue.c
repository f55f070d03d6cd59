#include "watchers/enqueue.h"

#include <string.h>

static void add(struct cluster_enqueuer *enqueuer, const char *key)
{
    if (key == NULL)
        return;
    enqueuer->keys_added++;
    (void)workqueue_add(enqueuer->queue, key);
}

/* --- objects that carry their cluster --- */

static void object_added(void *data, const struct object_meta *object)
{
    add(data, object->cluster);
}

static void object_updated(void *data, const struct object_meta *old, const struct object_meta *now)
{
    add(data, now->cluster);
    /* Interned: different pointers are different clusters. */
    if (old->cluster != now->cluster)
        add(data, old->cluster);
}

/* --- nodes: through the pods and claims on them --- */

static void add_on_node(struct cluster_enqueuer *enqueuer, const struct cache *cache,
                        const char *node)
{
    if (cache == NULL)
        return;
    size_t count = 0;
    const struct object_meta *const *objects = cache_by_node(cache, node, &count);
    /* The queue deduplicates, so a cluster with many objects here costs
     * only repeated adds of a pending key. */
    for (size_t i = 0; i < count; i++)
        add(enqueuer, objects[i]->cluster);
}

static void node_changed(struct cluster_enqueuer *enqueuer, const struct object_meta *node)
{
    add_on_node(enqueuer, enqueuer->pods, node->name);
    /* A claim pinned to a node (local volumes) outlives its pod there. */
    add_on_node(enqueuer, enqueuer->pvcs, node->name);
}

static void node_added(void *data, const struct object_meta *node)
{
    node_changed(data, node);
}

static void node_updated(void *data, const struct object_meta *old, const struct object_meta *now)
{
    (void)old;
    node_changed(data, now);
}

/* --- persistent volumes: their own label, else their claim's cluster --- */

static void pv_changed(struct cluster_enqueuer *enqueuer, const struct object_meta *object)
{
    if (object->cluster != NULL) {
        add(enqueuer, object->cluster);
        return;
    }
    const struct kube_pv *pv = (const struct kube_pv *)object;
    if (enqueuer->pvcs == NULL || pv->claim_namespace == NULL || pv->claim_name == NULL)
        return;
    char key[512];
    size_t ns = strlen(pv->claim_namespace), name = strlen(pv->claim_name);
    if (ns + name + 2 > sizeof key)
        return;
    memcpy(key, pv->claim_namespace, ns);
    key[ns] = '/';
    memcpy(key + ns + 1, pv->claim_name, name + 1);
    const struct object_meta *claim = cache_get(enqueuer->pvcs, key);
    if (claim != NULL)
        add(enqueuer, claim->cluster);
}

static void pv_added(void *data, const struct object_meta *object)
{
    pv_changed(data, object);
}

static void pv_updated(void *data, const struct object_meta *old, const struct object_meta *now)
{
    pv_changed(data, now);
    if (old->cluster != now->cluster)
        pv_changed(data, old);
}

struct informer_handlers cluster_enqueue_handlers(struct cluster_enqueuer *enqueuer,
                                                  const struct object_kind *kind)
{
    if (kind == &object_kind_node)
        return (struct informer_handlers){node_added, node_updated, node_added, enqueuer};
    if (kind == &object_kind_pv)
        return (struct informer_handlers){pv_added, pv_updated, pv_added, enqueuer};
    return (struct informer_handlers){object_added, object_updated, object_added, enqueuer};
}
