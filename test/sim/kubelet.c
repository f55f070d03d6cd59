/*
 * kubelet: one per node, folded into one module. A pod bound to a live node
 * goes Pending -> Running after start_delay_ms (once its PVCs are Bound, as
 * the volume manager waits for mounts), then Ready after ready_delay_ms.
 * Injected crashes restart a container (restartCount+1; the first restart is
 * immediate, later ones wait in CrashLoopBackOff, 10 s doubling to 5 min, as
 * the kubelet's back-off does). A deleted pod (the store keeps a bound pod
 * with a deletionTimestamp for its grace period, and finalizers keep any)
 * terminates after min(grace period, cap), and the kubelet then removes it
 * with a delete of grace 0; pods the store removed at once (unbound, or
 * grace 0) are just forgotten. A pod deleted while its node was away is
 * stopped when the node is back.
 *
 * A failed node's kubelet does nothing; its status writes resume when the
 * node recovers. The node lifecycle controller's "mark pods not ready" is
 * here too (kubelet_node_failed on an unreachable node).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/log.h"
#include "test/sim/world_internal.h"

#define PVC_WAIT_MS 500
#define BACKOFF_MAX_MS 300000
#define BACKOFF_RESET_MS 600000

enum status_op {
    OP_START,       /* Running; ready when `ready` */
    OP_READY,
    OP_CRASH,       /* container `container` exits */
    OP_RESTART,     /* container `container` runs again after back-off */
    OP_NOT_READY,   /* the node lifecycle controller */
    OP_TERMINATE,
};

struct status_edit {
    enum status_op op;
    struct sim_pod *pod;
    bool ready;
    int container;
    bool backoff;
    uint64_t backoff_ms;
};

static const char *host_ip(const struct sim_node *node)
{
    const cJSON *address;
    cJSON_ArrayForEach(address, json_at(store_object_tree(node->object), "status", "addresses", NULL)) {
        const char *type = json_string_at(address, "type", NULL);
        if (type && strcmp(type, "InternalIP") == 0) return json_string_at(address, "address", NULL);
    }
    return NULL;
}

static bool add_ip_list(cJSON *status, const char *key, const char *ip)
{
    cJSON *list = cJSON_CreateArray();
    cJSON *entry = cJSON_CreateObject();
    if (!list || !entry || !cJSON_AddItemToArray(list, entry)) {
        cJSON_Delete(list);
        cJSON_Delete(entry);
        return false;
    }
    return cJSON_AddStringToObject(entry, "ip", ip) && json_set(status, key, list);
}

/* A stable fake container id: what a runtime would report. */
static void container_id(const struct sim_pod *pod, const char *name, int restarts, char out[96])
{
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
    for (const char *p = pod->key; *p; p++) h1 = (h1 ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = name; *p; p++) h2 = (h2 ^ (unsigned char)*p) * 1099511628211ULL;
    h2 ^= (uint64_t)restarts * 0xbf58476d1ce4e5b9ULL;
    snprintf(out, 96, "containerd://%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, h1, h2,
             h1 ^ h2, h1 * 31 + h2);
}

static cJSON *running_state(const char *now)
{
    cJSON *state = cJSON_CreateObject();
    cJSON *running = cJSON_AddObjectToObject(state, "running");
    if (!running || !cJSON_AddStringToObject(running, "startedAt", now)) {
        cJSON_Delete(state);
        return NULL;
    }
    return state;
}

static cJSON *terminated_state(const char *started, const char *now, int exit_code,
                               const char *reason, const char *id)
{
    cJSON *state = cJSON_CreateObject();
    cJSON *terminated = cJSON_AddObjectToObject(state, "terminated");
    if (!terminated || !cJSON_AddNumberToObject(terminated, "exitCode", exit_code) ||
        !cJSON_AddStringToObject(terminated, "reason", reason) ||
        !cJSON_AddStringToObject(terminated, "startedAt", started ? started : now) ||
        !cJSON_AddStringToObject(terminated, "finishedAt", now) ||
        (id && !cJSON_AddStringToObject(terminated, "containerID", id))) {
        cJSON_Delete(state);
        return NULL;
    }
    return state;
}

/* Fresh statuses for every container, running since now. */
static cJSON *fresh_statuses(const struct sim_pod *pod, const cJSON *spec, const char *now,
                             bool ready)
{
    cJSON *list = cJSON_CreateArray();
    const cJSON *container;
    cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(spec, "containers")) {
        const char *name = json_string_at(container, "name", NULL);
        const char *image = json_string_at(container, "image", NULL);
        if (!name || !list) continue;
        char id[96], image_id[160];
        container_id(pod, name, 0, id);
        snprintf(image_id, sizeof image_id, "%s@sha256:%.64s", image ? image : "", id + 13);
        cJSON *status = cJSON_CreateObject();
        if (!status || !cJSON_AddItemToArray(list, status)) {
            cJSON_Delete(status);
            cJSON_Delete(list);
            return NULL;
        }
        if (!cJSON_AddStringToObject(status, "name", name) ||
            !cJSON_AddStringToObject(status, "image", image ? image : "") ||
            !cJSON_AddStringToObject(status, "imageID", image_id) ||
            !cJSON_AddStringToObject(status, "containerID", id) ||
            !cJSON_AddBoolToObject(status, "ready", ready) ||
            !cJSON_AddBoolToObject(status, "started", true) ||
            !cJSON_AddNumberToObject(status, "restartCount", 0) ||
            !json_set(status, "state", running_state(now)) ||
            !cJSON_AddObjectToObject(status, "lastState")) {
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

/* Ready/ContainersReady from the container statuses. */
static bool set_readiness(cJSON *status, const char *now)
{
    char names[512] = "";
    size_t used = 0;
    bool all_ready = true;
    const cJSON *container;
    cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(status, "containerStatuses")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(container, "ready"))) continue;
        all_ready = false;
        const char *name = json_string_at(container, "name", NULL);
        int n = snprintf(names + used, sizeof names - used, "%s%s", used ? " " : "", name ? name : "");
        if (n > 0 && used + (size_t)n < sizeof names) used += (size_t)n;
    }
    if (all_ready) {
        return world_set_condition(status, "ContainersReady", "True", NULL, NULL, now, false) &&
               world_set_condition(status, "Ready", "True", NULL, NULL, now, false);
    }
    char message[600];
    snprintf(message, sizeof message, "containers with unready status: [%s]", names);
    return world_set_condition(status, "ContainersReady", "False", "ContainersNotReady", message,
                               now, false) &&
           world_set_condition(status, "Ready", "False", "ContainersNotReady", message, now, false);
}

static const char *qos_class(const cJSON *spec)
{
    bool any = false, guaranteed = true;
    const cJSON *container;
    cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(spec, "containers")) {
        const cJSON *requests = json_at(container, "resources", "requests", NULL);
        const cJSON *limits = json_at(container, "resources", "limits", NULL);
        if (cJSON_GetArraySize(requests) > 0 || cJSON_GetArraySize(limits) > 0) any = true;
        const char *names[] = { "cpu", "memory" };
        for (size_t i = 0; i < 2; i++) {
            const cJSON *limit = cJSON_GetObjectItemCaseSensitive(limits, names[i]);
            const cJSON *request = cJSON_GetObjectItemCaseSensitive(requests, names[i]);
            if (!limit) guaranteed = false;
            else if (request && !cJSON_Compare(limit, request, true)) guaranteed = false;
        }
    }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static cJSON *container_status_at(cJSON *status, int index)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(status, "containerStatuses"), index);
}

static bool edit_status(struct world *world, cJSON *object, void *data)
{
    const struct status_edit *edit = data;
    struct sim_pod *pod = edit->pod;
    cJSON *status = json_child(object, "status");
    const cJSON *spec = json_at(object, "spec", NULL);
    if (!status) return false;
    char now[32];
    world_timestamp(world, now);
    switch (edit->op) {
    case OP_START: {
        struct sim_node *node = pod->node;
        if (!node) return false;
        const char *host = host_ip(node);
        char ip[32];
        snprintf(ip, sizeof ip, "10.244.%d.%u", node->index, node->next_ip);
        node->next_ip = node->next_ip >= 254 ? 2 : node->next_ip + 1;
        bool ok = json_set_string(status, "phase", "Running") &&
                  json_set_string(status, "podIP", ip) && add_ip_list(status, "podIPs", ip) &&
                  json_set_string(status, "qosClass", qos_class(spec)) &&
                  json_set(status, "containerStatuses", fresh_statuses(pod, spec, now, edit->ready));
        if (ok && host) ok = json_set_string(status, "hostIP", host) && add_ip_list(status, "hostIPs", host);
        if (ok && !cJSON_GetObjectItemCaseSensitive(status, "startTime"))
            ok = json_set_string(status, "startTime", now);
        return ok &&
               world_set_condition(status, "PodReadyToStartContainers", "True", NULL, NULL, now, false) &&
               world_set_condition(status, "Initialized", "True", NULL, NULL, now, false) &&
               set_readiness(status, now) &&
               world_set_condition(status, "PodScheduled", "True", NULL, NULL, now, false);
    }
    case OP_READY: {
        cJSON *container;
        cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(status, "containerStatuses")) {
            if (json_at(container, "state", "running", NULL) &&
                !json_set(container, "ready", cJSON_CreateTrue()))
                return false;
        }
        const char *ready = world_condition_status(object, "Ready");
        bool all = true;
        cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(status, "containerStatuses"))
            all = all && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(container, "ready"));
        if (all && ready && strcmp(ready, "True") == 0) return false;
        return set_readiness(status, now);
    }
    case OP_CRASH: {
        cJSON *container = container_status_at(status, edit->container);
        if (!container) return false;
        const char *name = json_string_at(container, "name", NULL);
        const char *old_id = json_string_at(container, "containerID", NULL);
        const char *started = json_string_at(container, "state", "running", "startedAt", NULL);
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(container, "restartCount");
        int restarts = (cJSON_IsNumber(count) ? count->valueint : 0) + 1;
        cJSON *last = terminated_state(started, now, 1, "Error", old_id);
        if (!last || !json_set(container, "lastState", last)) return false;
        char id[96];
        container_id(pod, name ? name : "", restarts, id);
        cJSON *state;
        if (edit->backoff) {
            char message[512];
            snprintf(message, sizeof message,
                     "back-off %" PRIu64 "s restarting failed container=%s pod=%s_%s(%s)",
                     edit->backoff_ms / 1000, name ? name : "", pod->name, pod->namespace,
                     json_string_at(object, "metadata", "uid", NULL) ? json_string_at(object, "metadata", "uid", NULL) : "");
            state = cJSON_CreateObject();
            cJSON *waiting = cJSON_AddObjectToObject(state, "waiting");
            if (!waiting || !cJSON_AddStringToObject(waiting, "reason", "CrashLoopBackOff") ||
                !cJSON_AddStringToObject(waiting, "message", message)) {
                cJSON_Delete(state);
                return false;
            }
        } else {
            state = running_state(now);
        }
        return json_set(container, "state", state) &&
               json_set(container, "restartCount", cJSON_CreateNumber(restarts)) &&
               json_set(container, "ready", cJSON_CreateFalse()) &&
               json_set(container, "started", cJSON_CreateBool(!edit->backoff)) &&
               (edit->backoff || json_set_string(container, "containerID", id)) &&
               set_readiness(status, now);
    }
    case OP_RESTART: {
        cJSON *container = container_status_at(status, edit->container);
        if (!container) return false;
        const char *name = json_string_at(container, "name", NULL);
        const cJSON *count = cJSON_GetObjectItemCaseSensitive(container, "restartCount");
        char id[96];
        container_id(pod, name ? name : "", cJSON_IsNumber(count) ? count->valueint : 0, id);
        return json_set(container, "state", running_state(now)) &&
               json_set(container, "started", cJSON_CreateTrue()) &&
               json_set_string(container, "containerID", id) && set_readiness(status, now);
    }
    case OP_NOT_READY: {
        const char *ready = world_condition_status(object, "Ready");
        if (ready && strcmp(ready, "False") == 0) return false;
        cJSON *condition;
        cJSON_ArrayForEach(condition, cJSON_GetObjectItemCaseSensitive(status, "conditions")) {
            const char *type = json_string_at(condition, "type", NULL);
            if (!type || strcmp(type, "Ready") != 0) continue;
            return json_set_string(condition, "status", "False") &&
                   json_set_string(condition, "lastTransitionTime", now);
        }
        return false;
    }
    case OP_TERMINATE: {
        cJSON *container;
        cJSON_ArrayForEach(container, cJSON_GetObjectItemCaseSensitive(status, "containerStatuses")) {
            const char *started = json_string_at(container, "state", "running", "startedAt", NULL);
            const char *id = json_string_at(container, "containerID", NULL);
            if (!json_set(container, "state", terminated_state(started, now, 0, "Completed", id)) ||
                !json_set(container, "ready", cJSON_CreateFalse()) ||
                !json_set(container, "started", cJSON_CreateFalse()))
                return false;
        }
        return json_set_string(status, "phase", "Succeeded") && set_readiness(status, now);
    }
    }
    return false;
}

static bool write_status(struct world *world, struct sim_pod *pod, struct status_edit *edit)
{
    edit->pod = pod;
    return world_edit_object(world, world->r_pods, pod->namespace, pod->name, true, edit_status,
                             edit);
}

static bool claims_bound(struct world *world, const struct sim_pod *pod)
{
    const cJSON *volume;
    cJSON_ArrayForEach(volume, json_at(store_object_tree(pod->object), "spec", "volumes", NULL)) {
        const char *claim = json_string_at(volume, "persistentVolumeClaim", "claimName", NULL);
        if (!claim) continue;
        char key[512];
        snprintf(key, sizeof key, "%s/%s", pod->namespace, claim);
        struct world_cached *cached = key_map_get(&world->pvcs, key);
        const char *phase = cached ? json_string_at(store_object_tree(cached->object), "status",
                                                    "phase", NULL) : NULL;
        if (!phase || strcmp(phase, "Bound") != 0) return false;
    }
    return true;
}

static uint64_t grace_ms(const struct world *world, const struct sim_pod *pod)
{
    const cJSON *tree = store_object_tree(pod->object);
    const cJSON *grace = json_at(tree, "metadata", "deletionGracePeriodSeconds", NULL);
    if (!cJSON_IsNumber(grace)) grace = json_at(tree, "spec", "terminationGracePeriodSeconds", NULL);
    uint64_t ms = cJSON_IsNumber(grace) && grace->valuedouble > 0
                      ? (uint64_t)(grace->valuedouble * 1000) : 30000;
    return ms < world->options.deletion_grace_cap_ms ? ms : world->options.deletion_grace_cap_ms;
}

static bool alive(const struct sim_pod *pod)
{
    return pod->node && !pod->node->failed;
}

/* The name of the pod's first container whose image is one of the world's
 * crashing images (world_options.crashing_images), or NULL. */
static const char *crashing_container(const struct world *world, const struct sim_pod *pod)
{
    if (world->options.crashing_image_count == 0) return NULL;
    const cJSON *containers = json_at(store_object_tree(pod->object), "spec", "containers", NULL);
    const cJSON *container;
    cJSON_ArrayForEach(container, containers) {
        const char *image = json_string_at(container, "image", NULL);
        for (size_t i = 0; image && i < world->options.crashing_image_count; i++)
            if (strcmp(image, world->options.crashing_images[i]) == 0)
                return json_string_at(container, "name", NULL);
    }
    return NULL;
}

static void on_kubelet(struct world *world, struct world_timer *timer)
{
    struct sim_pod *pod = (struct sim_pod *)((char *)timer - offsetof(struct sim_pod, kubelet_timer));
    if (!alive(pod)) return;
    struct status_edit edit = { 0 };
    switch (pod->stage) {
    case KUBELET_STARTING:
        if (!claims_bound(world, pod)) {
            world_timer_at(world, &pod->kubelet_timer, world_after(world, PVC_WAIT_MS));
            return;
        }
        edit.op = OP_START;
        edit.ready = world->options.ready_delay_ms == 0 && !crashing_container(world, pod);
        pod->stage = edit.ready ? KUBELET_READY : KUBELET_RUNNING;
        pod->running_since_ms = world_now(world);
        write_status(world, pod, &edit);
        if (pod->stage == KUBELET_RUNNING)
            world_timer_at(world, &pod->kubelet_timer,
                           world_after(world, world->options.ready_delay_ms));
        return;
    case KUBELET_RUNNING: {
        const char *container = crashing_container(world, pod);
        if (container) {
            kubelet_crash(world, pod, container);
            return;
        }
        edit.op = OP_READY;
        pod->stage = KUBELET_READY;
        write_status(world, pod, &edit);
        return;
    }
    case KUBELET_BACKOFF:
        edit.op = OP_RESTART;
        edit.container = pod->backoff_container;
        pod->stage = KUBELET_RUNNING;
        pod->running_since_ms = world_now(world);
        write_status(world, pod, &edit);
        world_timer_at(world, &pod->kubelet_timer, world_after(world, world->options.ready_delay_ms));
        return;
    case KUBELET_TERMINATING: {
        edit.op = OP_TERMINATE;
        pod->stage = KUBELET_DONE;
        char *namespace = strdup(pod->namespace), *name = strdup(pod->name);
        /* The status write may end the pod's accounting (terminal phase);
         * the final delete is a no-op while finalizers hold the object. */
        write_status(world, pod, &edit);
        if (namespace && name) world_delete(world, world->r_pods, namespace, name);
        free(namespace);
        free(name);
        return;
    }
    case KUBELET_READY:
    case KUBELET_NONE:
    case KUBELET_DONE:
        return;
    }
}

void kubelet_on_pod(struct world *world, struct sim_pod *pod)
{
    pod->kubelet_timer.fire = on_kubelet;
    if (!pod->node) {
        /* Unbound, terminated, or its node is gone. */
        if (pod->stage != KUBELET_DONE) kubelet_forget_pod(world, pod);
        return;
    }
    if (pod->node->failed) return;
    const cJSON *tree = store_object_tree(pod->object);
    if (json_at(tree, "metadata", "deletionTimestamp", NULL)) {
        if (pod->stage == KUBELET_TERMINATING || pod->stage == KUBELET_DONE) return;
        pod->stage = KUBELET_TERMINATING;
        world_timer_at(world, &pod->kubelet_timer, world_after(world, grace_ms(world, pod)));
        return;
    }
    if (pod->stage != KUBELET_NONE) return;
    const char *phase = json_string_at(tree, "status", "phase", NULL);
    if (phase && strcmp(phase, "Running") == 0) {
        /* Adopted from an earlier world (a loaded store): carry on. */
        const char *ready = world_condition_status(tree, "Ready");
        pod->running_since_ms = world_now(world);
        if (ready && strcmp(ready, "True") == 0) {
            pod->stage = KUBELET_READY;
        } else {
            pod->stage = KUBELET_RUNNING;
            world_timer_at(world, &pod->kubelet_timer,
                           world_after(world, world->options.ready_delay_ms));
        }
        return;
    }
    if (phase && strcmp(phase, "Pending") != 0) return;
    pod->stage = KUBELET_STARTING;
    world_timer_at(world, &pod->kubelet_timer, world_after(world, world->options.start_delay_ms));
}

void kubelet_forget_pod(struct world *world, struct sim_pod *pod)
{
    world_timer_cancel(world, &pod->kubelet_timer);
    pod->stage = KUBELET_NONE;
    pod->crash_count = 0;
}

void kubelet_node_failed(struct world *world, struct sim_node *node)
{
    for (size_t i = 0; i < node->pod_count; i++)
        world_timer_cancel(world, &node->pods[i]->kubelet_timer);
    if (!node->unreachable) return;
    /* Collect first: each write re-enters the pod watch. */
    size_t count = node->pod_count;
    struct sim_pod **pods = malloc((count ? count : 1) * sizeof *pods);
    if (!pods) return;
    memcpy(pods, node->pods, count * sizeof *pods);
    for (size_t i = 0; i < count; i++) {
        struct status_edit edit = { .op = OP_NOT_READY };
        write_status(world, pods[i], &edit);
    }
    free(pods);
}

void kubelet_node_recovered(struct world *world, struct sim_node *node)
{
    size_t count = node->pod_count;
    struct sim_pod **pods = malloc((count ? count : 1) * sizeof *pods);
    if (!pods) return;
    memcpy(pods, node->pods, count * sizeof *pods);
    for (size_t i = 0; i < count; i++) {
        struct sim_pod *pod = pods[i];
        if (pod->stage != KUBELET_TERMINATING && pod->stage != KUBELET_DONE &&
            json_at(store_object_tree(pod->object), "metadata", "deletionTimestamp", NULL)) {
            /* Deleted (evicted) while the node was away: stop it now. */
            kubelet_on_pod(world, pod);
            continue;
        }
        switch (pod->stage) {
        case KUBELET_READY: {
            /* The kubelet's status manager re-posts what it knows. */
            struct status_edit edit = { .op = OP_READY };
            write_status(world, pod, &edit);
            break;
        }
        case KUBELET_NONE:
            kubelet_on_pod(world, pod);
            break;
        case KUBELET_STARTING:
        case KUBELET_RUNNING:
        case KUBELET_BACKOFF:
        case KUBELET_TERMINATING:
            world_timer_at(world, &pod->kubelet_timer, world_now(world));
            break;
        case KUBELET_DONE:
            break;
        }
    }
    free(pods);
}

bool kubelet_crash(struct world *world, struct sim_pod *pod, const char *container)
{
    if (!alive(pod) || (pod->stage != KUBELET_RUNNING && pod->stage != KUBELET_READY)) return false;
    const cJSON *statuses = json_at(store_object_tree(pod->object), "status", "containerStatuses", NULL);
    int index = 0;
    if (container) {
        index = -1;
        int i = 0;
        const cJSON *status;
        cJSON_ArrayForEach(status, statuses) {
            const char *name = json_string_at(status, "name", NULL);
            if (name && strcmp(name, container) == 0) index = i;
            i++;
        }
        if (index < 0) return false;
    } else if (cJSON_GetArraySize(statuses) == 0) {
        return false;
    }
    uint64_t now = world_now(world);
    if (now - pod->running_since_ms >= (uint64_t)ceil(BACKOFF_RESET_MS / world->speed))
        pod->crash_count = 0;
    pod->crash_count++;
    struct status_edit edit = { .op = OP_CRASH, .container = index };
    edit.backoff = pod->crash_count >= 2;
    uint64_t backoff = world->options.crash_backoff_ms;
    for (int i = 2; i < pod->crash_count && backoff < BACKOFF_MAX_MS; i++) backoff *= 2;
    if (backoff > BACKOFF_MAX_MS) backoff = BACKOFF_MAX_MS;
    edit.backoff_ms = backoff;
    if (edit.backoff) {
        pod->stage = KUBELET_BACKOFF;
        pod->backoff_container = index;
        world_timer_at(world, &pod->kubelet_timer, world_after(world, backoff));
    } else {
        pod->stage = KUBELET_RUNNING;
        pod->running_since_ms = now;
        world_timer_at(world, &pod->kubelet_timer, world_after(world, world->options.ready_delay_ms));
    }
    return write_status(world, pod, &edit);
}
