/* Projections of Node, Service, ConfigMap, Lease and TidbCluster (see
 * objects.h). */
#include "watchers/objects.h"

#include "reactor/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool oom(char *error, size_t error_size)
{
    if (error_size > 0)
        snprintf(error, error_size, "out of memory");
    return false;
}

static int32_t int_at(const cJSON *item)
{
    return cJSON_IsNumber(item) ? (int32_t)item->valuedouble : 0;
}

/* Order-independent hash of a string map (data, selector): the sum of each
 * entry's hash, so a re-encoding with another key order hashes the same. */
static uint64_t map_hash(const cJSON *map, uint32_t *count)
{
    uint64_t hash = 0;
    const cJSON *entry;
    if (!cJSON_IsObject(map))
        return 0;
    cJSON_ArrayForEach(entry, map) {
        if (entry->string == NULL)
            continue;
        uint64_t h = kube_hash_bytes(KUBE_HASH_INIT, entry->string, strlen(entry->string) + 1);
        const char *value = json_string(entry);
        if (value != NULL)
            h = kube_hash_bytes(h, value, strlen(value));
        hash += h * 0x9e3779b97f4a7c15ull + 1;
        if (count != NULL)
            (*count)++;
    }
    return hash;
}

/* --- Node --- */

static bool node_project(struct object_meta *meta, const cJSON *object, struct string_pool *pool,
                         struct object_tail *tail, char *error, size_t error_size)
{
    (void)tail;
    struct kube_node *node = (struct kube_node *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    node->unschedulable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "unschedulable"));
    const cJSON *taints = cJSON_GetObjectItemCaseSensitive(spec, "taints"), *taint;
    if (cJSON_IsArray(taints)) {
        cJSON_ArrayForEach(taint, taints) {
            node->taint_count++;
            const char *key = json_string(cJSON_GetObjectItemCaseSensitive(taint, "key"));
            if (key != NULL && strcmp(key, "node.kubernetes.io/unreachable") == 0)
                node->unreachable = true;
        }
    }
    const cJSON *conditions = JSON_PATH(object, "status", "conditions"), *condition;
    if (cJSON_IsArray(conditions)) {
        cJSON_ArrayForEach(condition, conditions) {
            const char *type = json_string(cJSON_GetObjectItemCaseSensitive(condition, "type"));
            if (type == NULL || strcmp(type, "Ready") != 0)
                continue;
            const char *status = json_string(cJSON_GetObjectItemCaseSensitive(condition, "status"));
            node->ready = status == NULL ? CONDITION_UNKNOWN
                        : strcmp(status, "True") == 0 ? CONDITION_TRUE
                        : strcmp(status, "False") == 0 ? CONDITION_FALSE : CONDITION_UNKNOWN;
            int64_t ms;
            if (clock_parse_rfc3339(json_string(cJSON_GetObjectItemCaseSensitive(
                                    condition, "lastTransitionTime")), &ms))
                node->ready_transition_ms = ms;
        }
    }
    /* Every label is kept for nodes, so these point at kept values (no
     * extra references). */
    node->zone = object_label(meta, "topology.kubernetes.io/zone");
    node->region = object_label(meta, "topology.kubernetes.io/region");
    node->hostname = object_label(meta, "kubernetes.io/hostname");
    (void)pool;
    (void)error;
    (void)error_size;
    return true;
}

static bool node_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_node *a = (const struct kube_node *)a_meta;
    const struct kube_node *b = (const struct kube_node *)b_meta;
    return a->ready == b->ready && a->ready_transition_ms == b->ready_transition_ms &&
           a->unschedulable == b->unschedulable && a->unreachable == b->unreachable &&
           a->taint_count == b->taint_count;
}

const struct object_kind object_kind_node = {
    .name = "nodes",
    .size = sizeof(struct kube_node),
    .namespaced = false,
    .project = node_project,
    .same = node_same,
    .keep_label = object_keep_all,
    .keep_annotation = object_keep_operator_annotation,
};

/* --- Service --- */

static size_t port_count(const cJSON *object)
{
    const cJSON *ports = JSON_PATH(object, "spec", "ports");
    size_t count = cJSON_IsArray(ports) ? (size_t)cJSON_GetArraySize(ports) : 0;
    return count > UINT16_MAX ? UINT16_MAX : count;
}

static size_t service_tail_size(const cJSON *object)
{
    return object_tail_array_size(port_count(object), sizeof(struct service_port));
}

static bool service_project(struct object_meta *meta, const cJSON *object,
                            struct string_pool *pool, struct object_tail *tail,
                            char *error, size_t error_size)
{
    struct kube_service *service = (struct kube_service *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "type"), &service->type) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "clusterIP"),
                     &service->cluster_ip))
        return oom(error, error_size);
    service->publish_not_ready =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "publishNotReadyAddresses"));
    service->selector_hash = map_hash(cJSON_GetObjectItemCaseSensitive(spec, "selector"), NULL);
    const cJSON *ports = JSON_PATH(object, "spec", "ports"), *port;
    size_t count = port_count(object);
    bool ok = true;
    service->ports = object_tail_array(tail, count, sizeof *service->ports, &ok);
    if (!ok) {
        snprintf(error, error_size, "projection larger than measured");
        return false;
    }
    if (count == 0)
        return true;
    cJSON_ArrayForEach(port, ports) {
        if (service->port_count == count)
            break;
        struct service_port *p = &service->ports[service->port_count++];
        p->port = int_at(cJSON_GetObjectItemCaseSensitive(port, "port"));
        p->target_port = int_at(cJSON_GetObjectItemCaseSensitive(port, "targetPort"));
        p->node_port = int_at(cJSON_GetObjectItemCaseSensitive(port, "nodePort"));
        if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(port, "name"), &p->name) ||
            !json_intern(pool, cJSON_GetObjectItemCaseSensitive(port, "protocol"), &p->protocol))
            return oom(error, error_size);
    }
    return true;
}

static void service_release(struct object_meta *meta, struct string_pool *pool)
{
    struct kube_service *service = (struct kube_service *)meta;
    string_pool_release(pool, service->type);
    string_pool_release(pool, service->cluster_ip);
    for (size_t i = 0; i < service->port_count; i++) {
        string_pool_release(pool, service->ports[i].name);
        string_pool_release(pool, service->ports[i].protocol);
    }
}

static bool service_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_service *a = (const struct kube_service *)a_meta;
    const struct kube_service *b = (const struct kube_service *)b_meta;
    if (a->type != b->type || a->cluster_ip != b->cluster_ip ||
        a->selector_hash != b->selector_hash || a->publish_not_ready != b->publish_not_ready ||
        a->port_count != b->port_count)
        return false;
    for (size_t i = 0; i < a->port_count; i++) {
        const struct service_port *x = &a->ports[i], *y = &b->ports[i];
        if (x->name != y->name || x->protocol != y->protocol || x->port != y->port ||
            x->target_port != y->target_port || x->node_port != y->node_port)
            return false;
    }
    return true;
}

const struct object_kind object_kind_service = {
    .name = "services",
    .size = sizeof(struct kube_service),
    .namespaced = true,
    .tail_size = service_tail_size,
    .project = service_project,
    .release = service_release,
    .same = service_same,
    .keep_label = object_keep_operator_label,
    .keep_annotation = object_keep_operator_annotation,
};

/* --- ConfigMap --- */

static bool configmap_project(struct object_meta *meta, const cJSON *object,
                              struct string_pool *pool, struct object_tail *tail,
                              char *error, size_t error_size)
{
    (void)tail;
    struct kube_configmap *cm = (struct kube_configmap *)meta;
    uint32_t count = 0;
    uint64_t data = map_hash(cJSON_GetObjectItemCaseSensitive(object, "data"), &count);
    uint64_t binary = map_hash(cJSON_GetObjectItemCaseSensitive(object, "binaryData"), &count);
    cm->data_hash = data ^ (binary * 31);
    cm->key_count = count;
    (void)pool;
    (void)error;
    (void)error_size;
    return true;
}

static bool configmap_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_configmap *a = (const struct kube_configmap *)a_meta;
    const struct kube_configmap *b = (const struct kube_configmap *)b_meta;
    return a->data_hash == b->data_hash && a->key_count == b->key_count;
}

const struct object_kind object_kind_configmap = {
    .name = "configmaps",
    .size = sizeof(struct kube_configmap),
    .namespaced = true,
    .project = configmap_project,
    .same = configmap_same,
    .keep_label = object_keep_operator_label,
    .keep_annotation = object_keep_operator_annotation,
};

/* --- Lease --- */

static bool lease_project(struct object_meta *meta, const cJSON *object, struct string_pool *pool,
                          struct object_tail *tail, char *error, size_t error_size)
{
    (void)tail;
    struct kube_lease *lease = (struct kube_lease *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity"),
                     &lease->holder))
        return oom(error, error_size);
    lease->duration_seconds = int_at(cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds"));
    lease->transitions = int_at(cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions"));
    int64_t ms;
    if (clock_parse_rfc3339(json_string(cJSON_GetObjectItemCaseSensitive(spec, "acquireTime")), &ms))
        lease->acquire_ms = ms;
    if (clock_parse_rfc3339(json_string(cJSON_GetObjectItemCaseSensitive(spec, "renewTime")), &ms))
        lease->renew_ms = ms;
    return true;
}

static void lease_release(struct object_meta *meta, struct string_pool *pool)
{
    string_pool_release(pool, ((struct kube_lease *)meta)->holder);
}

static bool lease_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_lease *a = (const struct kube_lease *)a_meta;
    const struct kube_lease *b = (const struct kube_lease *)b_meta;
    return a->holder == b->holder && a->acquire_ms == b->acquire_ms &&
           a->renew_ms == b->renew_ms && a->duration_seconds == b->duration_seconds &&
           a->transitions == b->transitions;
}

const struct object_kind object_kind_lease = {
    .name = "leases",
    .size = sizeof(struct kube_lease),
    .namespaced = true,
    .project = lease_project,
    .release = lease_release,
    .same = lease_same,
    .keep_label = object_keep_none,
    .keep_annotation = object_keep_none,
};

/* --- TidbCluster --- */

static bool tidbcluster_project(struct object_meta *meta, const cJSON *object,
                                struct string_pool *pool, struct object_tail *tail,
                                char *error, size_t error_size)
{
    (void)tail;
    struct kube_tidbcluster *tc = (struct kube_tidbcluster *)meta;
    tc->object = cJSON_Duplicate(object, true);
    if (tc->object == NULL)
        return oom(error, error_size);
    /* managedFields are large and nobody here reads them. */
    cJSON_DeleteItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tc->object, "metadata"), "managedFields");
    /* A TidbCluster is its own cluster. */
    string_pool_release(pool, meta->cluster);
    if ((meta->cluster = string_pool_intern(pool, meta->key)) == NULL)
        return oom(error, error_size);
    return true;
}

static void tidbcluster_release(struct object_meta *meta, struct string_pool *pool)
{
    (void)pool;
    cJSON_Delete(((struct kube_tidbcluster *)meta)->object);
}

/* What a cJSON tree holds on the heap: its items and their strings. */
static size_t json_memory_bytes(const cJSON *item)
{
    size_t total = 0;
    for (; item != NULL; item = item->next) {
        total += memory_chunk_bytes(item);
        if (!(item->type & cJSON_StringIsConst))
            total += memory_chunk_bytes(item->string);
        if (!(item->type & cJSON_IsReference)) {
            if (cJSON_IsString(item) || cJSON_IsRaw(item))
                total += memory_chunk_bytes(item->valuestring);
            total += json_memory_bytes(item->child);
        }
    }
    return total;
}

static size_t tidbcluster_memory_bytes(const struct object_meta *meta)
{
    return json_memory_bytes(((const struct kube_tidbcluster *)meta)->object);
}

/* Equal but for metadata.resourceVersion (the same test as the other kinds). */
static bool tidbcluster_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    cJSON *a = ((const struct kube_tidbcluster *)a_meta)->object;
    cJSON *b = ((const struct kube_tidbcluster *)b_meta)->object;
    cJSON *a_md = cJSON_GetObjectItemCaseSensitive(a, "metadata");
    cJSON *b_md = cJSON_GetObjectItemCaseSensitive(b, "metadata");
    /* Detach the resourceVersions for the comparison and put them back. */
    cJSON *a_rv = cJSON_DetachItemFromObjectCaseSensitive(a_md, "resourceVersion");
    cJSON *b_rv = cJSON_DetachItemFromObjectCaseSensitive(b_md, "resourceVersion");
    bool same = cJSON_Compare(a, b, true);
    if (a_rv != NULL)
        cJSON_AddItemToObject(a_md, "resourceVersion", a_rv);
    if (b_rv != NULL)
        cJSON_AddItemToObject(b_md, "resourceVersion", b_rv);
    return same;
}

const struct object_kind object_kind_tidbcluster = {
    .name = "tidbclusters",
    .size = sizeof(struct kube_tidbcluster),
    .namespaced = true,
    .project = tidbcluster_project,
    .release = tidbcluster_release,
    .same = tidbcluster_same,
    .memory_bytes = tidbcluster_memory_bytes,
    .keep_label = object_keep_operator_label,
    .keep_annotation = object_keep_operator_annotation,
};
