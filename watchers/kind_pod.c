/* The Pod projection: what the planners read of a pod (see objects.h). */
#include "watchers/objects.h"

#include "reactor/clock.h"

#include <stdio.h>
#include <string.h>

static enum condition_status condition_value(const char *status)
{
    if (status == NULL)
        return CONDITION_ABSENT;
    if (strcmp(status, "True") == 0)
        return CONDITION_TRUE;
    if (strcmp(status, "False") == 0)
        return CONDITION_FALSE;
    return CONDITION_UNKNOWN;
}

static bool project_container(const cJSON *status, bool init, struct string_pool *pool,
                              struct pod_container *out)
{
    out->init = init;
    const cJSON *restarts = cJSON_GetObjectItemCaseSensitive(status, "restartCount");
    if (cJSON_IsNumber(restarts))
        out->restart_count = (int32_t)restarts->valuedouble;
    out->ready = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "ready"));
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(status, "name"), &out->name) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(status, "image"), &out->image))
        return false;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(status, "state");
    const cJSON *detail;
    if ((detail = cJSON_GetObjectItemCaseSensitive(state, "waiting")) != NULL) {
        out->state = CONTAINER_STATE_WAITING;
        return json_intern(pool, cJSON_GetObjectItemCaseSensitive(detail, "reason"), &out->reason);
    }
    if ((detail = cJSON_GetObjectItemCaseSensitive(state, "terminated")) != NULL) {
        out->state = CONTAINER_STATE_TERMINATED;
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(detail, "exitCode");
        if (cJSON_IsNumber(code))
            out->exit_code = (int32_t)code->valuedouble;
        return json_intern(pool, cJSON_GetObjectItemCaseSensitive(detail, "reason"), &out->reason);
    }
    if (cJSON_GetObjectItemCaseSensitive(state, "running") != NULL)
        out->state = CONTAINER_STATE_RUNNING;
    return true;
}

static const char *claim_of(const cJSON *volume)
{
    return json_string(JSON_PATH(volume, "persistentVolumeClaim", "claimName"));
}

/* spec.volumes as an array, else NULL. */
static const cJSON *volumes_of(const cJSON *spec)
{
    const cJSON *volumes = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
    return cJSON_IsArray(volumes) ? volumes : NULL;
}

/* The name of the first ConfigMap volume (the operator's pods mount theirs
 * first), as a JSON string node, or NULL. */
static const cJSON *first_config_map(const cJSON *volumes)
{
    const cJSON *volume;
    cJSON_ArrayForEach(volume, volumes) {
        const cJSON *name = JSON_PATH(volume, "configMap", "name");
        if (cJSON_IsString(name))
            return name;
    }
    return NULL;
}

static size_t claim_count(const cJSON *volumes)
{
    size_t claims = 0;
    const cJSON *volume;
    cJSON_ArrayForEach(volume, volumes)
        if (claim_of(volume) != NULL)
            claims++;
    return claims > UINT16_MAX ? UINT16_MAX : claims;
}

/* The container statuses that are objects (what gets projected). */
static size_t container_count(const cJSON *status)
{
    size_t containers = 0;
    const cJSON *lists[] = {cJSON_GetObjectItemCaseSensitive(status, "initContainerStatuses"),
                            cJSON_GetObjectItemCaseSensitive(status, "containerStatuses")};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *item;
        if (!cJSON_IsArray(lists[i]))
            continue;
        cJSON_ArrayForEach(item, lists[i])
            if (cJSON_IsObject(item))
                containers++;
    }
    return containers > UINT16_MAX ? UINT16_MAX : containers;
}

/* spec.hostname when it is not the pod's name `name` (which it usually is). */
static const char *own_hostname(const cJSON *spec, const char *name)
{
    const char *hostname = json_string(cJSON_GetObjectItemCaseSensitive(spec, "hostname"));
    return hostname != NULL && name != NULL && strcmp(hostname, name) == 0 ? NULL : hostname;
}

static size_t pod_tail_size(const cJSON *object)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(object, "status");
    const cJSON *volumes = volumes_of(spec), *volume;
    size_t claims = claim_count(volumes), size = 0, n = 0;
    size += object_tail_array_size(claims, sizeof(const char *));
    cJSON_ArrayForEach(volume, volumes) {
        if (n == claims)
            break;
        const char *claim = claim_of(volume);
        if (claim != NULL) {
            size += object_tail_string_size(claim);
            n++;
        }
    }
    size += object_tail_array_size(container_count(status), sizeof(struct pod_container));
    size += object_tail_string_size(json_string(cJSON_GetObjectItemCaseSensitive(status, "podIP")));
    size += object_tail_string_size(
        own_hostname(spec, json_string(JSON_PATH(object, "metadata", "name"))));
    return size;
}

static bool pod_project(struct object_meta *meta, const cJSON *object, struct string_pool *pool,
                        struct object_tail *tail, char *error, size_t error_size)
{
    struct kube_pod *pod = (struct kube_pod *)meta;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(object, "spec");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(object, "status");
    bool ok = true;
    if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(spec, "nodeName"), &pod->node_name) ||
        !json_intern(pool, cJSON_GetObjectItemCaseSensitive(status, "phase"), &pod->phase) ||
        !json_intern(pool, first_config_map(volumes_of(spec)), &pod->config_map))
        goto oom;
    pod->pod_ip =
        object_tail_string(tail, json_string(cJSON_GetObjectItemCaseSensitive(status, "podIP")), &ok);
    const char *hostname = json_string(cJSON_GetObjectItemCaseSensitive(spec, "hostname"));
    if (hostname != NULL && strcmp(hostname, meta->name) == 0)
        pod->hostname = meta->name; /* the usual case: no copy (see own_hostname) */
    else
        pod->hostname = object_tail_string(tail, hostname, &ok);
    int64_t ms;
    if (clock_parse_rfc3339(json_string(cJSON_GetObjectItemCaseSensitive(status, "startTime")), &ms))
        pod->start_ms = ms;

    const cJSON *condition;
    const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    if (!cJSON_IsArray(conditions))
        conditions = NULL;
    cJSON_ArrayForEach(condition, conditions) {
        const char *type = json_string(cJSON_GetObjectItemCaseSensitive(condition, "type"));
        const char *value = json_string(cJSON_GetObjectItemCaseSensitive(condition, "status"));
        if (type == NULL)
            continue;
        if (strcmp(type, "Ready") == 0) {
            pod->ready = (uint8_t)condition_value(value);
            if (clock_parse_rfc3339(json_string(cJSON_GetObjectItemCaseSensitive(
                                    condition, "lastTransitionTime")), &ms))
                pod->ready_transition_ms = ms;
        } else if (strcmp(type, "PodScheduled") == 0 && pod->scheduled == CONDITION_ABSENT) {
            pod->scheduled = (uint8_t)condition_value(value);
            if (!json_intern(pool, cJSON_GetObjectItemCaseSensitive(condition, "reason"),
                             &pod->scheduled_reason) ||
                !json_intern(pool, cJSON_GetObjectItemCaseSensitive(condition, "message"),
                             &pod->scheduled_message))
                goto oom;
        }
    }

    /* Claimed PVCs, in volume order. */
    const cJSON *volumes = volumes_of(spec), *volume;
    size_t claims = claim_count(volumes);
    pod->claims = object_tail_array(tail, claims, sizeof *pod->claims, &ok);
    cJSON_ArrayForEach(volume, volumes) {
        if (pod->claim_count == claims || !ok)
            break;
        const char *claim = claim_of(volume);
        if (claim != NULL)
            pod->claims[pod->claim_count++] = object_tail_string(tail, claim, &ok);
    }
    if (!ok)
        goto overflow;

    const cJSON *init_statuses = cJSON_GetObjectItemCaseSensitive(status, "initContainerStatuses");
    const cJSON *statuses = cJSON_GetObjectItemCaseSensitive(status, "containerStatuses");
    size_t containers = container_count(status);
    pod->containers = object_tail_array(tail, containers, sizeof *pod->containers, &ok);
    if (!ok)
        goto overflow;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *list = pass == 0 ? init_statuses : statuses;
        const cJSON *item;
        if (!cJSON_IsArray(list))
            continue;
        cJSON_ArrayForEach(item, list) {
            if (pod->container_count == containers)
                break;
            if (!cJSON_IsObject(item))
                continue;
            /* Counted before projecting so release sees what was interned. */
            struct pod_container *c = &pod->containers[pod->container_count++];
            if (!project_container(item, pass == 0, pool, c))
                goto oom;
        }
    }
    return true;
overflow:
    if (error_size > 0)
        snprintf(error, error_size, "projection larger than measured");
    return false;
oom:
    if (error_size > 0)
        snprintf(error, error_size, "out of memory");
    return false;
}

static void pod_release(struct object_meta *meta, struct string_pool *pool)
{
    struct kube_pod *pod = (struct kube_pod *)meta;
    string_pool_release(pool, pod->node_name);
    string_pool_release(pool, pod->phase);
    string_pool_release(pool, pod->config_map);
    string_pool_release(pool, pod->scheduled_reason);
    string_pool_release(pool, pod->scheduled_message);
    for (size_t i = 0; i < pod->container_count; i++) {
        string_pool_release(pool, pod->containers[i].name);
        string_pool_release(pool, pod->containers[i].image);
        string_pool_release(pool, pod->containers[i].reason);
    }
}

/* Owned strings: equal text, or both absent. */
static bool same_text(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool pod_same(const struct object_meta *a_meta, const struct object_meta *b_meta)
{
    const struct kube_pod *a = (const struct kube_pod *)a_meta;
    const struct kube_pod *b = (const struct kube_pod *)b_meta;
    if (a->node_name != b->node_name || !same_text(a->hostname, b->hostname) ||
        a->phase != b->phase || a->config_map != b->config_map || !same_text(a->pod_ip, b->pod_ip) ||
        a->scheduled_reason != b->scheduled_reason ||
        a->scheduled_message != b->scheduled_message || a->ready != b->ready ||
        a->scheduled != b->scheduled || a->ready_transition_ms != b->ready_transition_ms ||
        a->start_ms != b->start_ms || a->claim_count != b->claim_count ||
        a->container_count != b->container_count)
        return false;
    for (size_t i = 0; i < a->claim_count; i++)
        if (!same_text(a->claims[i], b->claims[i]))
            return false;
    for (size_t i = 0; i < a->container_count; i++) {
        const struct pod_container *x = &a->containers[i], *y = &b->containers[i];
        if (x->name != y->name || x->image != y->image || x->reason != y->reason ||
            x->restart_count != y->restart_count || x->exit_code != y->exit_code ||
            x->state != y->state || x->ready != y->ready || x->init != y->init)
            return false;
    }
    return true;
}

/* The operator's annotations, and PingCAP's unprefixed evictLeaderBeginTime
 * (when a TiKV pod's leader eviction began, for evictLeaderTimeout). */
static bool pod_keep_annotation(const char *key)
{
    return object_keep_operator_annotation(key) || strcmp(key, "evictLeaderBeginTime") == 0;
}

static const char *pod_node(const struct object_meta *meta)
{
    return ((const struct kube_pod *)meta)->node_name;
}

const struct object_kind object_kind_pod = {
    .name = "pods",
    .size = sizeof(struct kube_pod),
    .namespaced = true,
    .tail_size = pod_tail_size,
    .project = pod_project,
    .release = pod_release,
    .same = pod_same,
    .node = pod_node,
    .keep_label = object_keep_operator_label,
    .keep_annotation = pod_keep_annotation,
};
