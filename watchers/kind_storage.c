/* Projections of the storage kinds: PersistentVolumeClaim, PersistentVolume,
 * StorageClass (see objects.h). */
#include "watchers/objects.h"
#include "watchers/quantity.h"

#include <stdio.h>
#include <string.h>

static bool oom(char *error, size_t error_size)
{
    if (error_size > 0)
        snprintf(error, error_size, "out of memory");
    return false;
}

static uint64_t quantity_at(const cJSON *item)
{
    uint64_t value = 0;
    if (!quantity_parse_units(json_string(item), &value, NULL))
        return 0;
    return value;
}

/* --- PersistentVolumeClaim --- */

static bool pvc_keep_annotation(const char *key)
{
    return object_keep_operator_annotation(key);
}

static bool pvc_project(struct object_meta *meta, const cJSON *object, struct string_pool *pool,
                        struct object_tail *tail, char *error, size_t error_size)
{
    (void)tail;
    struct kube_pvc *pvc = (struct kube_pvc *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(object, "status");
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(status, "phase"), &pvc->phase) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "volumeName"),
                     &pvc->volume_name) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "storageClassName"),
                     &pvc->storage_class) ||
        !json_intern(pool,
                     JSON_PATH(object, "metadata", "annotations",
                               "volume.kubernetes.io/selected-node"),
                     &pvc->selected_node))
        return oom(error, error_size);
    pvc->requested_bytes = quantity_at(JSON_PATH(spec, "resources", "requests", "storage"));
    pvc->capacity_bytes = quantity_at(JSON_PATH(status, "capacity", "storage"));
    return true;
}

static void pvc_release(struct object_meta *meta, struct string_pool *pool)
{
    struct kube_pvc *pvc = (struct kube_pvc *)meta;
    string_pool_release(pool, pvc->phase);
    string_pool_release(pool, pvc->volume_name);
    string_pool_release(pool, pvc->storage_class);
    string_pool_release(pool, pvc->selected_node);
}

static bool pvc_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_pvc *a = (const struct kube_pvc *)a_meta;
    const struct kube_pvc *b = (const struct kube_pvc *)b_meta;
    return a->phase == b->phase && a->volume_name == b->volume_name &&
           a->storage_class == b->storage_class && a->selected_node == b->selected_node &&
           a->requested_bytes == b->requested_bytes && a->capacity_bytes == b->capacity_bytes;
}

static const char *pvc_node(const struct object_meta *meta)
{
    return ((const struct kube_pvc *)meta)->selected_node;
}

const struct object_kind object_kind_pvc = {
    .name = "persistentvolumeclaims",
    .size = sizeof(struct kube_pvc),
    .namespaced = true,
    .project = pvc_project,
    .release = pvc_release,
    .same = pvc_same,
    .node = pvc_node,
    .keep_label = object_keep_operator_label,
    .keep_annotation = pvc_keep_annotation,
};

/* --- PersistentVolume --- */

/* The first value of a required node-affinity term on kubernetes.io/hostname
 * (how local PVs pin themselves to a node). */
static const cJSON *affinity_hostname(const cJSON *spec)
{
    const cJSON *terms = JSON_PATH(spec, "nodeAffinity", "required", "nodeSelectorTerms");
    const cJSON *term, *expression;
    if (!cJSON_IsArray(terms))
        return NULL;
    cJSON_ArrayForEach(term, terms) {
        const cJSON *expressions = cJSON_GetObjectItemCaseSensitive(term, "matchExpressions");
        if (!cJSON_IsArray(expressions))
            continue;
        cJSON_ArrayForEach(expression, expressions) {
            const char *key = json_string(cJSON_GetObjectItemCaseSensitive(expression, "key"));
            const cJSON *values = cJSON_GetObjectItemCaseSensitive(expression, "values");
            if (key != NULL && strcmp(key, "kubernetes.io/hostname") == 0 &&
                cJSON_IsArray(values) && cJSON_IsString(cJSON_GetArrayItem(values, 0)))
                return cJSON_GetArrayItem(values, 0);
        }
    }
    return NULL;
}

static bool pv_project(struct object_meta *meta, const cJSON *object, struct string_pool *pool,
                       struct object_tail *tail, char *error, size_t error_size)
{
    (void)tail;
    struct kube_pv *pv = (struct kube_pv *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(object, "status");
    const cJSON *claim = cJSON_GetObjectItemCaseSensitive(spec, "claimRef");
    const cJSON *path = JSON_PATH(spec, "local", "path");
    if (path == NULL)
        path = JSON_PATH(spec, "hostPath", "path");
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(status, "phase"), &pv->phase) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(claim, "namespace"),
                     &pv->claim_namespace) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(claim, "name"), &pv->claim_name) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(claim, "uid"), &pv->claim_uid) ||
        !json_intern(pool, affinity_hostname(spec), &pv->node_hostname) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "storageClassName"),
                     &pv->storage_class) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "persistentVolumeReclaimPolicy"),
                     &pv->reclaim_policy) ||
        !json_intern(pool, path, &pv->local_path))
        return oom(error, error_size);
    pv->capacity_bytes = quantity_at(JSON_PATH(spec, "capacity", "storage"));
    /* A PV is cluster-scoped: its cluster is found through the claim's
     * namespace and the instance label the operator puts on it. */
    const char *instance =
        json_string(JSON_PATH(object, "metadata", "labels", LABEL_INSTANCE));
    if (meta->cluster == NULL && instance != NULL && *instance != '\0' &&
        pv->claim_namespace != NULL) {
        char key[512];
        int n = snprintf(key, sizeof key, "%s/%s", pv->claim_namespace, instance);
        if (n > 0 && (size_t)n < sizeof key &&
            (meta->cluster = string_pool_intern(pool, key)) == NULL)
            return oom(error, error_size);
    }
    return true;
}

static void pv_release(struct object_meta *meta, struct string_pool *pool)
{
    struct kube_pv *pv = (struct kube_pv *)meta;
    string_pool_release(pool, pv->phase);
    string_pool_release(pool, pv->claim_namespace);
    string_pool_release(pool, pv->claim_name);
    string_pool_release(pool, pv->claim_uid);
    string_pool_release(pool, pv->node_hostname);
    string_pool_release(pool, pv->storage_class);
    string_pool_release(pool, pv->reclaim_policy);
    string_pool_release(pool, pv->local_path);
}

static bool pv_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_pv *a = (const struct kube_pv *)a_meta;
    const struct kube_pv *b = (const struct kube_pv *)b_meta;
    return a->phase == b->phase && a->claim_namespace == b->claim_namespace &&
           a->claim_name == b->claim_name && a->claim_uid == b->claim_uid &&
           a->node_hostname == b->node_hostname && a->storage_class == b->storage_class &&
           a->reclaim_policy == b->reclaim_policy && a->local_path == b->local_path &&
           a->capacity_bytes == b->capacity_bytes;
}

static const char *pv_node(const struct object_meta *meta)
{
    return ((const struct kube_pv *)meta)->node_hostname;
}

const struct object_kind object_kind_pv = {
    .name = "persistentvolumes",
    .size = sizeof(struct kube_pv),
    .namespaced = false,
    .project = pv_project,
    .release = pv_release,
    .same = pv_same,
    .node = pv_node,
    .keep_label = object_keep_operator_label,
    .keep_annotation = object_keep_operator_annotation,
};

/* --- StorageClass --- */

static bool storage_class_project(struct object_meta *meta, const cJSON *object,
                                  struct string_pool *pool, struct object_tail *tail,
                                  char *error, size_t error_size)
{
    (void)tail;
    struct kube_storage_class *sc = (struct kube_storage_class *)meta;
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(object, "provisioner"),
                     &sc->provisioner) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(object, "volumeBindingMode"),
                     &sc->binding_mode) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(object, "reclaimPolicy"),
                     &sc->reclaim_policy))
        return oom(error, error_size);
    sc->allow_expansion =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(object, "allowVolumeExpansion"));
    return true;
}

static void storage_class_release(struct object_meta *meta, struct string_pool *pool)
{
    struct kube_storage_class *sc = (struct kube_storage_class *)meta;
    string_pool_release(pool, sc->provisioner);
    string_pool_release(pool, sc->binding_mode);
    string_pool_release(pool, sc->reclaim_policy);
}

static bool storage_class_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_storage_class *a = (const struct kube_storage_class *)a_meta;
    const struct kube_storage_class *b = (const struct kube_storage_class *)b_meta;
    return a->provisioner == b->provisioner && a->binding_mode == b->binding_mode &&
           a->reclaim_policy == b->reclaim_policy && a->allow_expansion == b->allow_expansion;
}

const struct object_kind object_kind_storage_class = {
    .name = "storageclasses",
    .size = sizeof(struct kube_storage_class),
    .namespaced = false,
    .project = storage_class_project,
    .release = storage_class_release,
    .same = storage_class_same,
    .keep_label = object_keep_operator_label,
    .keep_annotation = object_keep_none,
};
