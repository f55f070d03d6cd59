/*
 * nodes: the machines. Creates the configured Node objects, keeps their
 * status fresh with heartbeats (a kubelet's node status loop), accounts the
 * resources of the pods bound to each, and plays the node lifecycle
 * controller: a node without heartbeats for the grace period goes
 * Ready=Unknown, gets the unreachable taints and its pods go Ready=False.
 * The taint manager evicts its pods (a graceful delete: they stay
 * Terminating until the node is back) after taint_eviction_ms, except pods
 * that tolerate the unreachable taint for good. A deleted node's pods are
 * removed after the eviction timeout (pod GC).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/log.h"
#include "test/sim/world_internal.h"

static const char *const node_condition_types[] = { "MemoryPressure", "DiskPressure",
                                                    "PIDPressure", "Ready" };

struct sim_node *nodes_find(const struct world *world, const char *name)
{
    size_t low = 0, high = world->node_count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        int order = strcmp(world->nodes[mid]->name, name);
        if (order == 0) return world->nodes[mid];
        if (order < 0) low = mid + 1;
        else high = mid;
    }
    return NULL;
}

const char *nodes_label(const struct sim_node *node, const char *key)
{
    return json_label(store_object_tree(node->object), key);
}

void nodes_account(struct world *world, struct sim_node *node, struct sim_pod *pod)
{
    if (node->pod_count == node->pod_capacity) {
        size_t capacity = node->pod_capacity ? node->pod_capacity * 2 : 16;
        struct sim_pod **grown = realloc(node->pods, capacity * sizeof *grown);
        if (!grown) {
            log_error("world: out of memory accounting a pod", "node=%s", node->name);
            return;
        }
        node->pods = grown;
        node->pod_capacity = capacity;
    }
    pod->node = node;
    pod->node_slot = node->pod_count;
    node->pods[node->pod_count++] = pod;
    node->cpu_milli += pod->cpu_milli;
    node->memory_milli += pod->memory_milli;
    node->score_cpu_milli += pod->score_cpu_milli;
    node->score_memory_milli += pod->score_memory_milli;
    scheduler_place(world, pod);
}

void nodes_unaccount(struct world *world, struct sim_pod *pod)
{
    struct sim_node *node = pod->node;
    if (!node) return;
    scheduler_unplace(world, pod);
    size_t last = node->pod_count - 1;
    node->pods[pod->node_slot] = node->pods[last];
    node->pods[pod->node_slot]->node_slot = pod->node_slot;
    node->pod_count = last;
    node->cpu_milli -= pod->cpu_milli;
    node->memory_milli -= pod->memory_milli;
    node->score_cpu_milli -= pod->score_cpu_milli;
    node->score_memory_milli -= pod->score_memory_milli;
    pod->node = NULL;
}

/* ---- node objects ---- */

static bool add_address(cJSON *addresses, const char *type, const char *value)
{
    cJSON *address = cJSON_CreateObject();
    if (!address || !cJSON_AddItemToArray(addresses, address)) {
        cJSON_Delete(address);
        return false;
    }
    return cJSON_AddStringToObject(address, "type", type) &&
           cJSON_AddStringToObject(address, "address", value);
}

static bool set_node_conditions(cJSON *status, const char *now, bool ready)
{
    bool ok = true;
    for (size_t i = 0; i < 4; i++) {
        const char *type = node_condition_types[i];
        bool is_ready = strcmp(type, "Ready") == 0;
        const char *value, *reason, *message;
        if (!ready) {
            value = "Unknown";
            reason = "NodeStatusUnknown";
            message = "Kubelet stopped posting node status.";
        } else if (is_ready) {
            value = "True";
            reason = "KubeletReady";
            message = "kubelet is posting ready status";
        } else {
            value = "False";
            reason = i == 0 ? "KubeletHasSufficientMemory"
                   : i == 1 ? "KubeletHasNoDiskPressure" : "KubeletHasSufficientPID";
            message = i == 0 ? "kubelet has sufficient memory available"
                    : i == 1 ? "kubelet has no disk pressure" : "kubelet has sufficient PID available";
        }
        /* The lifecycle controller keeps the last heartbeat time when it
         * marks a node Unknown; only a kubelet post refreshes it. */
        ok = ok && world_set_condition(status, type, value, reason, message, now, ready);
    }
    return ok;
}

static cJSON *resource_list(const char *cpu, const char *memory, int pods)
{
    cJSON *list = cJSON_CreateObject();
    char pod_text[24];
    snprintf(pod_text, sizeof pod_text, "%d", pods);
    if (!list || !cJSON_AddStringToObject(list, "cpu", cpu) ||
        !cJSON_AddStringToObject(list, "memory", memory) ||
        !cJSON_AddStringToObject(list, "pods", pod_text) ||
        !cJSON_AddStringToObject(list, "ephemeral-storage", "100Gi")) {
        cJSON_Delete(list);
        return NULL;
    }
    return list;
}

static cJSON *node_object(const struct world *world, const struct world_node_spec *spec, int index)
{
    char now[32], text[64];
    world_timestamp(world, now);
    cJSON *node = cJSON_CreateObject();
    cJSON *metadata = cJSON_AddObjectToObject(node, "metadata");
    cJSON *labels = cJSON_AddObjectToObject(metadata, "labels");
    cJSON *annotations = cJSON_AddObjectToObject(metadata, "annotations");
    cJSON *spec_json = cJSON_AddObjectToObject(node, "spec");
    cJSON *status = cJSON_AddObjectToObject(node, "status");
    bool ok = node && metadata && labels && annotations && spec_json && status &&
              cJSON_AddStringToObject(node, "apiVersion", "v1") &&
              cJSON_AddStringToObject(node, "kind", "Node") &&
              cJSON_AddStringToObject(metadata, "name", spec->name);
    const cJSON *label;
    cJSON_ArrayForEach(label, spec->labels) {
        if (ok && cJSON_IsString(label))
            ok = cJSON_AddStringToObject(labels, label->string, label->valuestring) != NULL;
    }
    ok = ok && json_set_string(labels, "kubernetes.io/hostname", spec->name) &&
         json_set_string(labels, "kubernetes.io/os", "linux") &&
         json_set_string(labels, "kubernetes.io/arch", "amd64") &&
         json_set_string(labels, "beta.kubernetes.io/os", "linux") &&
         json_set_string(labels, "beta.kubernetes.io/arch", "amd64");
    if (ok && spec->zone) ok = json_set_string(labels, "topology.kubernetes.io/zone", spec->zone);
    if (ok && spec->region)
        ok = json_set_string(labels, "topology.kubernetes.io/region", spec->region);
    ok = ok && cJSON_AddStringToObject(annotations, "node.alpha.kubernetes.io/ttl", "0") &&
         cJSON_AddStringToObject(annotations, "volumes.kubernetes.io/controller-managed-attach-detach",
                                 "true");
    snprintf(text, sizeof text, "10.244.%d.0/24", index);
    ok = ok && cJSON_AddStringToObject(spec_json, "podCIDR", text);
    cJSON *cidrs = ok ? cJSON_AddArrayToObject(spec_json, "podCIDRs") : NULL;
    ok = cidrs && cJSON_AddItemToArray(cidrs, cJSON_CreateString(text));
    snprintf(text, sizeof text, "kubesim://%s", spec->name);
    ok = ok && cJSON_AddStringToObject(spec_json, "providerID", text);
    if (ok && spec->taints) ok = json_set(spec_json, "taints", cJSON_Duplicate(spec->taints, true));

    int pods = spec->pods > 0 ? spec->pods : 110;
    const char *cpu = spec->cpu ? spec->cpu : "16";
    const char *memory = spec->memory ? spec->memory : "64Gi";
    ok = ok && json_set(status, "capacity", resource_list(cpu, memory, pods)) &&
         json_set(status, "allocatable", resource_list(cpu, memory, pods)) &&
         set_node_conditions(status, now, true);
    cJSON *addresses = ok ? cJSON_AddArrayToObject(status, "addresses") : NULL;
    snprintf(text, sizeof text, "172.18.%d.%d", index / 250, index % 250 + 2);
    ok = addresses && add_address(addresses, "InternalIP", text) &&
         add_address(addresses, "Hostname", spec->name);
    cJSON *endpoints = ok ? cJSON_AddObjectToObject(status, "daemonEndpoints") : NULL;
    cJSON *kubelet = endpoints ? cJSON_AddObjectToObject(endpoints, "kubeletEndpoint") : NULL;
    ok = kubelet && cJSON_AddNumberToObject(kubelet, "Port", 10250);
    cJSON *info = ok ? cJSON_AddObjectToObject(status, "nodeInfo") : NULL;
    snprintf(text, sizeof text, "kubesim-%08x", (unsigned)index);
    ok = info && cJSON_AddStringToObject(info, "architecture", "amd64") &&
         cJSON_AddStringToObject(info, "bootID", text) &&
         cJSON_AddStringToObject(info, "containerRuntimeVersion", "containerd://1.7.24") &&
         cJSON_AddStringToObject(info, "kernelVersion", "6.8.0-kubesim") &&
         cJSON_AddStringToObject(info, "kubeProxyVersion", "v1.32.4") &&
         cJSON_AddStringToObject(info, "kubeletVersion", "v1.32.4") &&
         cJSON_AddStringToObject(info, "machineID", text) &&
         cJSON_AddStringToObject(info, "operatingSystem", "linux") &&
         cJSON_AddStringToObject(info, "osImage", "Debian GNU/Linux 12 (bookworm)") &&
         cJSON_AddStringToObject(info, "systemUUID", text) &&
         cJSON_AddStringToObject(status, "phase", "Running");
    if (!ok) {
        cJSON_Delete(node);
        return NULL;
    }
    return node;
}

static cJSON *local_pv_object(const struct world_node_spec *spec, int number)
{
    char name[300], path[64];
    snprintf(name, sizeof name, "local-%s-%d", spec->name, number);
    snprintf(path, sizeof path, "/mnt/disks/vol%d", number);
    cJSON *pv = cJSON_CreateObject();
    cJSON *metadata = cJSON_AddObjectToObject(pv, "metadata");
    cJSON *labels = cJSON_AddObjectToObject(metadata, "labels");
    cJSON *pv_spec = cJSON_AddObjectToObject(pv, "spec");
    cJSON *capacity = cJSON_AddObjectToObject(pv_spec, "capacity");
    cJSON *modes = cJSON_AddArrayToObject(pv_spec, "accessModes");
    cJSON *local = cJSON_AddObjectToObject(pv_spec, "local");
    cJSON *affinity = cJSON_AddObjectToObject(pv_spec, "nodeAffinity");
    cJSON *required = cJSON_AddObjectToObject(affinity, "required");
    cJSON *terms = cJSON_AddArrayToObject(required, "nodeSelectorTerms");
    cJSON *term = cJSON_CreateObject();
    bool ok = pv && metadata && labels && pv_spec && capacity && modes && local && terms && term &&
              cJSON_AddItemToArray(terms, term);
    if (!ok) cJSON_Delete(term);
    cJSON *expressions = ok ? cJSON_AddArrayToObject(term, "matchExpressions") : NULL;
    cJSON *expression = cJSON_CreateObject();
    ok = expressions && expression && cJSON_AddItemToArray(expressions, expression);
    if (!ok && expression && !expressions) cJSON_Delete(expression);
    cJSON *values = ok ? cJSON_AddArrayToObject(expression, "values") : NULL;
    ok = values && cJSON_AddItemToArray(values, cJSON_CreateString(spec->name)) &&
         cJSON_AddStringToObject(expression, "key", WORLD_HOSTNAME_LABEL) &&
         cJSON_AddStringToObject(expression, "operator", "In") &&
         cJSON_AddStringToObject(pv, "apiVersion", "v1") &&
         cJSON_AddStringToObject(pv, "kind", "PersistentVolume") &&
         cJSON_AddStringToObject(metadata, "name", name) &&
         cJSON_AddStringToObject(labels, WORLD_HOSTNAME_LABEL, spec->name) &&
         cJSON_AddStringToObject(capacity, "storage",
                                 spec->local_volume_size ? spec->local_volume_size : "100Gi") &&
         cJSON_AddItemToArray(modes, cJSON_CreateString("ReadWriteOnce")) &&
         cJSON_AddStringToObject(local, "path", path) &&
         cJSON_AddStringToObject(pv_spec, "persistentVolumeReclaimPolicy", "Retain") &&
         cJSON_AddStringToObject(pv_spec, "storageClassName", "local-storage") &&
         cJSON_AddStringToObject(pv_spec, "volumeMode", "Filesystem");
    if (!ok) {
        cJSON_Delete(pv);
        return NULL;
    }
    return pv;
}

static bool exists(struct world *world, const struct resource *resource, const char *name)
{
    struct store_error error = { 0 };
    struct store_object *object = store_get(world->store, resource, NULL, name, &error);
    store_error_clear(&error);
    store_object_release(object);
    return object != NULL;
}

bool nodes_start(struct world *world)
{
    for (size_t i = 0; i < world->options.node_count; i++) {
        const struct world_node_spec *spec = &world->options.nodes[i];
        if (!spec->name) continue;
        if (!exists(world, world->r_nodes, spec->name) &&
            !world_create(world, world->r_nodes, NULL,
                          node_object(world, spec, world->next_node_index)))
            return false;
        for (int v = 0; v < spec->local_volumes; v++) {
            char name[300];
            snprintf(name, sizeof name, "local-%s-%d", spec->name, v);
            if (!exists(world, world->r_pvs, name) &&
                !world_create(world, world->r_pvs, NULL, local_pv_object(spec, v)))
                return false;
        }
    }
    return true;
}

/* ---- heartbeats and the lifecycle controller ---- */

struct heartbeat_edit {
    const char *now;
    bool ready;
};

static bool edit_heartbeat(struct world *world, cJSON *object, void *data)
{
    (void)world;
    const struct heartbeat_edit *edit = data;
    cJSON *status = json_child(object, "status");
    return status && set_node_conditions(status, edit->now, edit->ready);
}

static bool is_unreachable_taint(const cJSON *taint)
{
    const char *key = json_string_at(taint, "key", NULL);
    return key && strcmp(key, WORLD_UNREACHABLE_TAINT) == 0;
}

static bool add_taint(cJSON *taints, const char *effect, const char *now)
{
    cJSON *taint = cJSON_CreateObject();
    if (!taint || !cJSON_AddItemToArray(taints, taint)) {
        cJSON_Delete(taint);
        return false;
    }
    return cJSON_AddStringToObject(taint, "key", WORLD_UNREACHABLE_TAINT) &&
           cJSON_AddStringToObject(taint, "effect", effect) &&
           (strcmp(effect, "NoExecute") != 0 || cJSON_AddStringToObject(taint, "timeAdded", now));
}

static bool edit_taints(struct world *world, cJSON *object, void *data)
{
    (void)world;
    const struct heartbeat_edit *edit = data;
    cJSON *spec = json_child(object, "spec");
    if (!spec) return false;
    cJSON *taints = cJSON_GetObjectItemCaseSensitive(spec, "taints");
    bool present = false;
    for (cJSON *taint = taints ? taints->child : NULL, *next; taint; taint = next) {
        next = taint->next;
        if (!is_unreachable_taint(taint)) continue;
        present = true;
        if (edit->ready) cJSON_Delete(cJSON_DetachItemViaPointer(taints, taint));
    }
    if (edit->ready) {
        if (taints && cJSON_GetArraySize(taints) == 0)
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "taints");
        return present;
    }
    if (present) return false;
    if (!cJSON_IsArray(taints)) {
        taints = cJSON_CreateArray();
        if (!json_set(spec, "taints", taints)) return false;
    }
    return add_taint(taints, "NoSchedule", edit->now) && add_taint(taints, "NoExecute", edit->now);
}

/* Does the pod tolerate the unreachable taint for good (no tolerationSeconds)? */
static bool tolerates_unreachable(const cJSON *pod)
{
    const cJSON *toleration;
    cJSON_ArrayForEach(toleration, json_at(pod, "spec", "tolerations", NULL)) {
        const char *key = json_string_at(toleration, "key", NULL);
        const char *effect = json_string_at(toleration, "effect", NULL);
        const char *operator = json_string_at(toleration, "operator", NULL);
        bool matches = key ? strcmp(key, "node.kubernetes.io/unreachable") == 0
                           : operator && strcmp(operator, "Exists") == 0;
        if (matches && (!effect || strcmp(effect, "NoExecute") == 0) &&
            !cJSON_GetObjectItemCaseSensitive(toleration, "tolerationSeconds"))
            return true;
    }
    return false;
}

/* The taint manager: the unreachable node's pods are deleted (gracefully:
 * with the kubelet gone they stay Terminating until the node is back). */
static void on_eviction(struct world *world, struct world_timer *timer)
{
    struct sim_node *node = (struct sim_node *)((char *)timer - offsetof(struct sim_node, eviction));
    if (!node->unreachable) return;
    /* Collect first: each delete re-enters the pod watch. */
    size_t count = 0;
    char **keys = calloc(node->pod_count ? node->pod_count : 1, sizeof *keys);
    if (!keys) return;
    for (size_t i = 0; i < node->pod_count; i++) {
        const struct sim_pod *pod = node->pods[i];
        if (tolerates_unreachable(store_object_tree(pod->object))) continue;
        if (asprintf(&keys[count], "%s/%s", pod->namespace, pod->name) >= 0) count++;
    }
    log_info("world: evicting pods from unreachable node", "node=%s pods=%zu", node->name, count);
    for (size_t i = 0; i < count; i++) {
        char *slash = strchr(keys[i], '/');
        *slash = '\0';
        struct store_reply reply = { 0 };
        store_delete(world->store, world->r_pods, keys[i], slash + 1, NULL, &reply);
        store_reply_clear(&reply);
        free(keys[i]);
    }
    free(keys);
}

static void mark_unreachable(struct world *world, struct sim_node *node)
{
    char now[32];
    world_timestamp(world, now);
    struct heartbeat_edit edit = { now, false };
    world_edit_object(world, world->r_nodes, NULL, node->name, true, edit_heartbeat, &edit);
    world_edit_object(world, world->r_nodes, NULL, node->name, false, edit_taints, &edit);
    node->unreachable = true;
    log_info("world: node unreachable", "node=%s", node->name);
    kubelet_node_failed(world, node);
    if (world->options.taint_eviction_ms > 0)
        world_timer_at(world, &node->eviction, world_after(world, world->options.taint_eviction_ms));
}

static void on_heartbeat(struct world *world, struct world_timer *timer)
{
    struct sim_node *node = (struct sim_node *)((char *)timer - offsetof(struct sim_node, heartbeat));
    uint64_t now_ms = world_now(world);
    if (node->failed) {
        uint64_t deadline = node->last_heartbeat_ms +
                            (uint64_t)ceil((double)world->options.node_grace_ms / world->speed);
        if (node->unreachable) return;  /* nothing until recovery */
        if (now_ms >= deadline) mark_unreachable(world, node);
        else world_timer_at(world, &node->heartbeat, deadline);
        return;
    }
    char now[32];
    world_timestamp(world, now);
    struct heartbeat_edit edit = { now, true };
    world_edit_object(world, world->r_nodes, NULL, node->name, true, edit_heartbeat, &edit);
    node->last_heartbeat_ms = now_ms;
    if (node->unreachable) {
        node->unreachable = false;
        world_timer_cancel(world, &node->eviction);
        world_edit_object(world, world->r_nodes, NULL, node->name, false, edit_taints, &edit);
        log_info("world: node recovered", "node=%s", node->name);
        kubelet_node_recovered(world, node);
    }
    world_timer_at(world, &node->heartbeat, world_after(world, world->options.heartbeat_ms));
}

/* ---- the node watch ---- */

static int64_t allocatable(const cJSON *object, const char *name, int64_t fallback)
{
    const cJSON *value = json_at(object, "status", "allocatable", name, NULL);
    int64_t milli;
    if (cJSON_IsString(value) && world_quantity_milli(value->valuestring, &milli)) return milli;
    if (cJSON_IsNumber(value)) return (int64_t)(value->valuedouble * 1000);
    return fallback;
}

/* What the scheduler looks at; a change means unschedulable pods get another try. */
static bool schedulable_view_changed(const cJSON *before, const cJSON *after)
{
    if (!before) return true;
    static const char *const paths[][3] = {
        { "metadata", "labels", NULL },
        { "spec", "taints", NULL },
        { "spec", "unschedulable", NULL },
        { "status", "allocatable", NULL },
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const cJSON *a = json_at(before, paths[i][0], paths[i][1], NULL);
        const cJSON *b = json_at(after, paths[i][0], paths[i][1], NULL);
        if (!a && !b) continue;
        if (!a || !b || !cJSON_Compare(a, b, true)) return true;
    }
    return false;
}

static void free_node(struct sim_node *node)
{
    store_object_release(node->object);
    free(node->pods);
    free(node->name);
    free(node);
}

static struct sim_node *insert_node(struct world *world, const char *name)
{
    if (world->node_count == world->node_capacity) {
        size_t capacity = world->node_capacity ? world->node_capacity * 2 : 16;
        struct sim_node **grown = realloc(world->nodes, capacity * sizeof *grown);
        if (!grown) return NULL;
        world->nodes = grown;
        world->node_capacity = capacity;
    }
    struct sim_node *node = calloc(1, sizeof *node);
    if (!node || !(node->name = strdup(name))) {
        free(node);
        return NULL;
    }
    node->index = world->next_node_index++;
    node->next_ip = 2;
    node->heartbeat.fire = on_heartbeat;
    node->eviction.fire = on_eviction;
    size_t at = 0;
    while (at < world->node_count && strcmp(world->nodes[at]->name, name) < 0) at++;
    memmove(world->nodes + at + 1, world->nodes + at,
            (world->node_count - at) * sizeof *world->nodes);
    world->nodes[at] = node;
    world->node_count++;
    return node;
}

static void on_orphans(struct world *world, struct world_timer *timer)
{
    struct world_orphans *orphans = (struct world_orphans *)timer;
    for (struct world_orphans **at = &world->orphans; *at; at = &(*at)->next) {
        if (*at == orphans) {
            *at = orphans->next;
            break;
        }
    }
    if (!nodes_find(world, orphans->node)) {
        /* Collect first: deleting changes the pod map. */
        size_t count = 0, capacity = 0, cursor = 0;
        char **keys = NULL;
        struct sim_pod *pod;
        while ((pod = key_map_next(&world->pods, &cursor))) {
            const char *node = json_string_at(store_object_tree(pod->object), "spec", "nodeName",
                                              NULL);
            if (!node || strcmp(node, orphans->node) != 0) continue;
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 16;
                char **grown = realloc(keys, capacity * sizeof *grown);
                if (!grown) break;
                keys = grown;
            }
            if (!(keys[count] = strdup(pod->key))) break;
            count++;
        }
        for (size_t i = 0; i < count; i++) {
            char *slash = strchr(keys[i], '/');
            if (slash) {
                *slash = '\0';
                world_delete(world, world->r_pods, keys[i], slash + 1);
            }
            free(keys[i]);
        }
        free(keys);
    }
    free(orphans);
}

static void remove_node(struct world *world, struct sim_node *node)
{
    size_t at = 0;
    while (at < world->node_count && world->nodes[at] != node) at++;
    memmove(world->nodes + at, world->nodes + at + 1,
            (world->node_count - at - 1) * sizeof *world->nodes);
    world->node_count--;
    world_timer_cancel(world, &node->heartbeat);
    world_timer_cancel(world, &node->eviction);
    while (node->pod_count) {
        struct sim_pod *pod = node->pods[node->pod_count - 1];
        nodes_unaccount(world, pod);
        kubelet_forget_pod(world, pod);
    }
    size_t length = strlen(node->name);
    struct world_orphans *orphans = calloc(1, sizeof *orphans + length + 1);
    if (orphans) {
        memcpy(orphans->node, node->name, length + 1);
        orphans->timer.fire = on_orphans;
        orphans->next = world->orphans;
        world->orphans = orphans;
        world_timer_at(world, &orphans->timer, world_after(world, world->options.eviction_timeout_ms));
    }
    free_node(node);
}

void nodes_on_event(struct world *world, const struct store_event *event)
{
    const cJSON *tree = store_object_tree(event->object);
    const char *name = json_string_at(tree, "metadata", "name", NULL);
    if (!name) return;
    struct sim_node *node = nodes_find(world, name);
    if (event->type == STORE_EVENT_DELETED) {
        if (node) remove_node(world, node);
        return;
    }
    bool fresh = node == NULL;
    if (fresh && !(node = insert_node(world, name))) {
        log_error("world: out of memory tracking a node", "node=%s", name);
        return;
    }
    bool changed = schedulable_view_changed(node->object ? store_object_tree(node->object) : NULL,
                                            tree);
    store_object_release(node->object);
    node->object = store_object_retain(event->object);
    node->alloc_cpu_milli = allocatable(tree, "cpu", 16000);
    node->alloc_memory_milli = allocatable(tree, "memory", (64LL << 30) * 1000);
    node->alloc_pods = (int)(allocatable(tree, "pods", 110000) / 1000);
    if (fresh) {
        /* A node that someone else created runs a kubelet too; one whose
         * status carries no Ready condition gets its first heartbeat now. */
        node->managed = true;
        node->last_heartbeat_ms = world_now(world);
        bool has_ready = world_condition_status(tree, "Ready") != NULL;
        world_timer_at(world, &node->heartbeat,
                       has_ready ? world_after(world, world->options.heartbeat_ms)
                                 : world_now(world));
    }
    if (changed) scheduler_flush(world);
}

void nodes_free(struct world *world)
{
    for (size_t i = 0; i < world->node_count; i++) free_node(world->nodes[i]);
    free(world->nodes);
    world->nodes = NULL;
    world->node_count = 0;
}
