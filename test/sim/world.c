/*
 * world: composition of the simulated machines, the task heap behind one uv
 * timer, the pod watch that feeds the scheduler, the kubelets and the node
 * accounting, store helpers and the event recorder.
 */
#include "test/sim/world.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/log.h"
#include "test/sim/world_internal.h"

/* Tasks run per world_run_due before yielding to the loop: a task that keeps
 * re-queueing itself at `now` cannot starve everything else. */
#define WORLD_MAX_TASKS_PER_RUN 100000
/* On a loop, a run yields after this much real time (the rest runs after
 * the loop has polled I/O and run its other timers). */
#define WORLD_SLICE_MS 20

/* ---- JSON helpers ---- */

static const cJSON *json_walk(const cJSON *object, const char *first, va_list keys)
{
    const cJSON *at = object;
    for (const char *key = first; key && at; key = va_arg(keys, const char *))
        at = cJSON_IsObject(at) ? cJSON_GetObjectItemCaseSensitive(at, key) : NULL;
    return at;
}

const cJSON *json_at(const cJSON *object, const char *first, ...)
{
    va_list keys;
    va_start(keys, first);
    const cJSON *at = json_walk(object, first, keys);
    va_end(keys);
    return at;
}

const char *json_string_at(const cJSON *object, const char *first, ...)
{
    va_list keys;
    va_start(keys, first);
    const cJSON *at = json_walk(object, first, keys);
    va_end(keys);
    return cJSON_IsString(at) ? at->valuestring : NULL;
}

cJSON *json_child(cJSON *object, const char *key)
{
    if (!cJSON_IsObject(object)) return NULL;
    cJSON *child = cJSON_GetObjectItemCaseSensitive(object, key);
    if (cJSON_IsObject(child)) return child;
    cJSON *fresh = cJSON_CreateObject();
    if (!fresh) return NULL;
    if (!json_set(object, key, fresh)) return NULL;
    return fresh;
}

bool json_set(cJSON *object, const char *key, cJSON *item)
{
    if (!item) return false;
    if (!cJSON_IsObject(object)) {
        cJSON_Delete(item);
        return false;
    }
    if (cJSON_GetObjectItemCaseSensitive(object, key))
        return cJSON_ReplaceItemInObjectCaseSensitive(object, key, item);
    if (!cJSON_AddItemToObject(object, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

bool json_set_string(cJSON *object, const char *key, const char *value)
{
    return json_set(object, key, cJSON_CreateString(value));
}

const char *json_label(const cJSON *object, const char *key)
{
    return json_string_at(object, "metadata", "labels", key, NULL);
}

const char *json_annotation(const cJSON *object, const char *key)
{
    return json_string_at(object, "metadata", "annotations", key, NULL);
}

static cJSON *find_condition(const cJSON *status, const char *type)
{
    const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    cJSON *condition;
    cJSON_ArrayForEach(condition, conditions) {
        const char *t = json_string_at(condition, "type", NULL);
        if (t && strcmp(t, type) == 0) return condition;
    }
    return NULL;
}

const char *world_condition_status(const cJSON *object, const char *type)
{
    cJSON *condition = find_condition(json_at(object, "status", NULL), type);
    return json_string_at(condition, "status", NULL);
}

bool world_set_condition(cJSON *status, const char *type, const char *value, const char *reason,
                         const char *message, const char *now, bool heartbeat)
{
    if (!cJSON_IsObject(status)) return false;
    cJSON *conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    if (!cJSON_IsArray(conditions)) {
        conditions = cJSON_CreateArray();
        if (!json_set(status, "conditions", conditions)) return false;
    }
    cJSON *condition = find_condition(status, type);
    bool transition = true;
    if (condition) {
        const char *old = json_string_at(condition, "status", NULL);
        transition = !old || strcmp(old, value) != 0;
    } else {
        condition = cJSON_CreateObject();
        if (!condition || !cJSON_AddItemToArray(conditions, condition)) {
            cJSON_Delete(condition);
            return false;
        }
    }
    bool ok = json_set_string(condition, "type", type) &&
              json_set_string(condition, "status", value);
    if (heartbeat) ok = ok && json_set_string(condition, "lastHeartbeatTime", now);
    else ok = ok && json_set(condition, "lastProbeTime", cJSON_CreateNull());
    if (transition || !cJSON_GetObjectItemCaseSensitive(condition, "lastTransitionTime"))
        ok = ok && json_set_string(condition, "lastTransitionTime", now);
    if (reason) ok = ok && json_set_string(condition, "reason", reason);
    else cJSON_DeleteItemFromObjectCaseSensitive(condition, "reason");
    if (message) ok = ok && json_set_string(condition, "message", message);
    else cJSON_DeleteItemFromObjectCaseSensitive(condition, "message");
    return ok;
}

/* ---- time and tasks ---- */

uint64_t world_now(const struct world *world) { return clock_now_ms(world->clock); }

uint64_t world_after(const struct world *world, uint64_t delay_ms)
{
    double scaled = (double)delay_ms / world->speed;
    return world_now(world) + (uint64_t)ceil(scaled);
}

void world_timestamp(const struct world *world, char out[32])
{
    clock_format_rfc3339(clock_wall_ms(world->clock), CLOCK_RFC3339_SECONDS, out, 32);
}

static void on_uv_timer(uv_timer_t *handle);
static void on_uv_idle(uv_idle_t *handle);

static void arm(struct world *world)
{
    if (!world->loop || !world->uv_timer_open || world->running_due || world->idle_active) return;
    struct timer_heap_entry *next = timer_heap_peek(&world->heap);
    if (!next) {
        if (world->armed_due != UINT64_MAX) uv_timer_stop(&world->uv_timer);
        world->armed_due = UINT64_MAX;
        return;
    }
    if (next->due_ms == world->armed_due) return;
    uint64_t now = world_now(world);
    uint64_t delay = next->due_ms > now ? next->due_ms - now : 0;
    if (delay == 0 && world->in_loop_callback) {
        /* Re-armed from the world's own callback with work already due:
         * libuv would run a zero timeout again in the same pass, before any
         * I/O or other timer. An idle handle runs it on the next turn of the
         * loop instead, after a poll for I/O that does not sleep. */
        uv_timer_stop(&world->uv_timer);
        world->armed_due = UINT64_MAX;
        world->idle_active = true;
        uv_idle_start(&world->uv_idle, on_uv_idle);
        return;
    }
    world->armed_due = next->due_ms;
    uv_timer_start(&world->uv_timer, on_uv_timer, delay, 0);
}

void world_timer_at(struct world *world, struct world_timer *timer, uint64_t due_ms)
{
    if (timer_heap_entry_pushed(&timer->entry)) timer_heap_update(&world->heap, &timer->entry, due_ms);
    else if (timer_heap_push(&world->heap, &timer->entry, due_ms) != 0)
        log_error("world: out of memory queueing a task", NULL);
    arm(world);
}

void world_timer_cancel(struct world *world, struct world_timer *timer)
{
    if (timer_heap_entry_pushed(&timer->entry)) timer_heap_remove(&world->heap, &timer->entry);
}

size_t world_run_due(struct world *world)
{
    size_t ran = 0;
    /* Due by the time the run starts: what comes due while it runs (real
     * clocks move) waits for the next run, so one run cannot go on for as
     * long as work keeps arriving. */
    uint64_t now = world_now(world);
    world->running_due = true;
    world->run_started_ms = clock_now_ms(clock_system());
    while (ran < WORLD_MAX_TASKS_PER_RUN && !(ran > 0 && world_yield_due(world))) {
        struct timer_heap_entry *next = timer_heap_peek(&world->heap);
        if (!next || next->due_ms > now) break;
        timer_heap_pop(&world->heap);
        struct world_timer *timer = (struct world_timer *)next;
        timer->fire(world, timer);
        ran++;
    }
    world->running_due = false;
    world->armed_due = UINT64_MAX;
    arm(world);
    return ran;
}

bool world_yield_due(const struct world *world)
{
    return world->loop && world->running_due &&
           clock_now_ms(clock_system()) - world->run_started_ms >= WORLD_SLICE_MS;
}

bool world_next_due(const struct world *world, uint64_t *due_ms)
{
    struct timer_heap_entry *next = timer_heap_peek(&world->heap);
    if (!next) return false;
    *due_ms = next->due_ms;
    return true;
}

static void on_uv_timer(uv_timer_t *handle)
{
    struct world *world = handle->data;
    world->armed_due = UINT64_MAX;
    world->in_loop_callback = true;
    world_run_due(world);
    world->in_loop_callback = false;
}

static void on_uv_idle(uv_idle_t *handle)
{
    struct world *world = handle->data;
    uv_idle_stop(handle);
    world->idle_active = false;
    world->in_loop_callback = true;
    world_run_due(world);
    world->in_loop_callback = false;
}

/* ---- store helpers ---- */

bool world_edit_object(struct world *world, const struct resource *resource,
                       const char *namespace, const char *name, bool status, world_edit edit,
                       void *data)
{
    struct store_error error = { 0 };
    struct store_object *current = store_get(world->store, resource, namespace, name, &error);
    store_error_clear(&error);
    if (!current) return false;
    cJSON *copy = cJSON_Duplicate(store_object_tree(current), true);
    store_object_release(current);
    if (!copy) return false;
    if (!edit(world, copy, data)) {
        cJSON_Delete(copy);
        return false;
    }
    struct store_reply reply = { 0 };
    bool ok = status ? store_update_status(world->store, resource, namespace, name, copy, &reply)
                     : store_update(world->store, resource, namespace, name, copy, &reply);
    if (!ok)
        log_warn("world: update failed", "kind=%s namespace=%s name=%s code=%d message=\"%s\"",
                 resource->kind, namespace ? namespace : "", name, reply.error.code,
                 reply.error.message ? reply.error.message : "");
    store_reply_clear(&reply);
    return ok;
}

bool world_create(struct world *world, const struct resource *resource, const char *namespace,
                  cJSON *object)
{
    if (!object) return false;
    struct store_reply reply = { 0 };
    bool ok = store_create(world->store, resource, namespace, object, &reply);
    if (!ok)
        log_warn("world: create failed", "kind=%s code=%d message=\"%s\"", resource->kind,
                 reply.error.code, reply.error.message ? reply.error.message : "");
    store_reply_clear(&reply);
    return ok;
}

bool world_delete(struct world *world, const struct resource *resource, const char *namespace,
                  const char *name)
{
    /* The system's deletes (a kubelet's final one, pod GC) are immediate. */
    struct store_reply reply = { 0 };
    struct store_delete_options options = { .has_grace_period = true, .grace_period_seconds = 0 };
    bool ok = store_delete(world->store, resource, namespace, name, &options, &reply);
    store_reply_clear(&reply);
    return ok;
}

/* ---- events ---- */

struct event_bump {
    const char *now;
};

static bool bump_event(struct world *world, cJSON *event, void *data)
{
    (void)world;
    const struct event_bump *bump = data;
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(event, "count");
    double next = cJSON_IsNumber(count) ? count->valuedouble + 1 : 2;
    return json_set(event, "count", cJSON_CreateNumber(next)) &&
           json_set_string(event, "lastTimestamp", bump->now);
}

void world_event(struct world *world, const cJSON *involved, const char *type,
                 const char *reason, const char *message, const char *component)
{
    const char *uid = json_string_at(involved, "metadata", "uid", NULL);
    const char *name = json_string_at(involved, "metadata", "name", NULL);
    const char *namespace = json_string_at(involved, "metadata", "namespace", NULL);
    const char *kind = json_string_at(involved, "kind", NULL);
    if (!name || !kind) return;
    if (!namespace || !*namespace) namespace = "default";
    char now[32];
    world_timestamp(world, now);

    char *key = NULL;
    if (asprintf(&key, "%s\n%s/%s\n%s\n%s\n%s", uid ? uid : "", namespace, name, reason, message,
                 component) < 0)
        return;
    struct world_event_record *record = key_map_get(&world->events, key);
    if (record) {
        struct event_bump bump = { now };
        bool bumped = world_edit_object(world, world->r_events, record->namespace, record->name,
                                        false, bump_event, &bump);
        free(key);
        if (bumped) return;
        /* Gone (deleted by someone): record it afresh below. */
        key_map_remove(&world->events, record->key);
        free(record->name);
        free(record->namespace);
        free(record);
        if (asprintf(&key, "%s\n%s/%s\n%s\n%s\n%s", uid ? uid : "", namespace, name, reason,
                     message, component) < 0)
            return;
    }

    /* The recorder's naming: <object>.<hex nanoseconds>, unique per world. */
    uint64_t nanos = (uint64_t)clock_wall_ms(world->clock) * 1000000u + world->event_sequence++;
    char *event_name = NULL;
    if (asprintf(&event_name, "%s.%" PRIx64, name, nanos) < 0) {
        free(key);
        return;
    }
    cJSON *event = cJSON_CreateObject();
    cJSON *metadata = cJSON_AddObjectToObject(event, "metadata");
    cJSON *ref = cJSON_AddObjectToObject(event, "involvedObject");
    cJSON *source = cJSON_AddObjectToObject(event, "source");
    bool ok = event && metadata && ref && source &&
              cJSON_AddStringToObject(event, "apiVersion", "v1") &&
              cJSON_AddStringToObject(event, "kind", "Event") &&
              cJSON_AddStringToObject(metadata, "name", event_name) &&
              cJSON_AddStringToObject(metadata, "namespace", namespace) &&
              cJSON_AddStringToObject(ref, "kind", kind) &&
              cJSON_AddStringToObject(ref, "name", name) &&
              cJSON_AddStringToObject(event, "reason", reason) &&
              cJSON_AddStringToObject(event, "message", message) &&
              cJSON_AddStringToObject(event, "type", type) &&
              cJSON_AddNumberToObject(event, "count", 1) &&
              cJSON_AddStringToObject(event, "firstTimestamp", now) &&
              cJSON_AddStringToObject(event, "lastTimestamp", now) &&
              cJSON_AddStringToObject(event, "reportingComponent", component) &&
              cJSON_AddStringToObject(event, "reportingInstance", "") &&
              cJSON_AddStringToObject(source, "component", component);
    const char *api_version = json_string_at(involved, "apiVersion", NULL);
    const char *version = json_string_at(involved, "metadata", "resourceVersion", NULL);
    const char *involved_namespace = json_string_at(involved, "metadata", "namespace", NULL);
    if (ok && involved_namespace) ok = cJSON_AddStringToObject(ref, "namespace", involved_namespace);
    if (ok && uid) ok = cJSON_AddStringToObject(ref, "uid", uid);
    if (ok && api_version) ok = cJSON_AddStringToObject(ref, "apiVersion", api_version);
    if (ok && version) ok = cJSON_AddStringToObject(ref, "resourceVersion", version);
    if (!ok || !world_create(world, world->r_events, namespace, ok ? event : NULL)) {
        if (!ok) cJSON_Delete(event);
        free(event_name);
        free(key);
        return;
    }
    size_t key_length = strlen(key);
    record = malloc(sizeof *record + key_length + 1);
    char *namespace_copy = strdup(namespace);
    if (!record || !namespace_copy) {
        free(record);
        free(namespace_copy);
        free(event_name);
        free(key);
        return;
    }
    memcpy(record->key, key, key_length + 1);
    free(key);
    record->name = event_name;
    record->namespace = namespace_copy;
    if (key_map_put(&world->events, record->key, record) != 0) {
        free(record->name);
        free(record->namespace);
        free(record);
    }
}

/* ---- the pod watch: accounting, then scheduler and kubelet ---- */

static bool pod_terminated(const cJSON *pod)
{
    const char *phase = json_string_at(pod, "status", "phase", NULL);
    return phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
}

static bool labels_changed(const cJSON *before, const cJSON *after)
{
    const cJSON *a = json_at(before, "metadata", "labels", NULL);
    const cJSON *b = json_at(after, "metadata", "labels", NULL);
    if (!a || !b) return a != b;
    return !cJSON_Compare(a, b, true);
}

static void free_pod(struct sim_pod *pod)
{
    scheduler_free_affinity(pod);
    store_object_release(pod->object);
    free(pod->namespace);
    free(pod->name);
    free(pod);
}

static struct sim_pod *new_pod(struct world *world, const char *key, const cJSON *tree)
{
    size_t length = strlen(key);
    struct sim_pod *pod = calloc(1, sizeof *pod + length + 1);
    if (!pod) return NULL;
    memcpy(pod->key, key, length + 1);
    const char *namespace = json_string_at(tree, "metadata", "namespace", NULL);
    const char *name = json_string_at(tree, "metadata", "name", NULL);
    pod->namespace = strdup(namespace ? namespace : "");
    pod->name = strdup(name ? name : "");
    pod->sequence = world->next_sequence++;
    if (!pod->namespace || !pod->name || key_map_put(&world->pods, pod->key, pod) != 0) {
        free(pod->namespace);
        free(pod->name);
        free(pod);
        return NULL;
    }
    /* Requests are fixed for the pod's life (no in-place resize here). */
    if (!scheduler_pod_requests(tree, &pod->cpu_milli, &pod->memory_milli)) {
        pod->cpu_milli = 0;
        pod->memory_milli = 0;
    }
    /* kube-scheduler scores request-less containers as 100m / 200Mi. */
    pod->score_cpu_milli = pod->cpu_milli ? pod->cpu_milli : 100;
    pod->score_memory_milli = pod->memory_milli ? pod->memory_milli : 200LL * 1024 * 1024 * 1000;
    return pod;
}

static void on_pod_event(const struct store_event *event, void *data)
{
    struct world *world = data;
    const cJSON *tree = store_object_tree(event->object);
    const char *namespace = json_string_at(tree, "metadata", "namespace", NULL);
    const char *name = json_string_at(tree, "metadata", "name", NULL);
    if (!namespace || !name) return;
    char *key = NULL;
    if (asprintf(&key, "%s/%s", namespace, name) < 0) return;
    struct sim_pod *pod = key_map_get(&world->pods, key);

    if (event->type == STORE_EVENT_DELETED) {
        free(key);
        if (!pod) return;
        bool freed = pod->node != NULL;
        nodes_unaccount(world, pod);
        scheduler_forget_pod(world, pod);
        kubelet_forget_pod(world, pod);
        key_map_remove(&world->pods, pod->key);
        free_pod(pod);
        if (freed) scheduler_flush(world);
        return;
    }
    if (!pod) pod = new_pod(world, key, tree);
    free(key);
    if (!pod) {
        log_error("world: out of memory tracking a pod", "pod=%s/%s", namespace, name);
        return;
    }
    struct store_object *previous = pod->object;
    pod->object = store_object_retain(event->object);

    const char *node_name = json_string_at(tree, "spec", "nodeName", NULL);
    struct sim_node *node = node_name && *node_name && !pod_terminated(tree)
                                ? nodes_find(world, node_name) : NULL;
    if (node != pod->node) {
        bool freed = pod->node != NULL;
        nodes_unaccount(world, pod);
        if (node) nodes_account(world, node, pod);
        if (freed) scheduler_flush(world);
    } else if (node && previous && labels_changed(store_object_tree(previous), tree)) {
        /* Relabelled in place: the anti-affinity index follows, and pods
         * its old labels repelled may fit now. */
        scheduler_relabel(world, pod);
        scheduler_flush(world);
    }
    store_object_release(previous);
    scheduler_on_pod(world, pod);
    kubelet_on_pod(world, pod);
}

/* Re-accounts pods after a node appears (pods may name it before it exists). */
static void account_orphans(struct world *world, struct sim_node *node)
{
    size_t cursor = 0;
    struct sim_pod *pod;
    while ((pod = key_map_next(&world->pods, &cursor))) {
        if (pod->node) continue;
        const cJSON *tree = store_object_tree(pod->object);
        const char *node_name = json_string_at(tree, "spec", "nodeName", NULL);
        if (node_name && strcmp(node_name, node->name) == 0 && !pod_terminated(tree)) {
            nodes_account(world, node, pod);
            kubelet_on_pod(world, pod);
        }
    }
}

static void on_node_event(const struct store_event *event, void *data)
{
    struct world *world = data;
    const char *name = json_string_at(store_object_tree(event->object), "metadata", "name", NULL);
    bool existed = name && nodes_find(world, name) != NULL;
    nodes_on_event(world, event);
    struct sim_node *node = name ? nodes_find(world, name) : NULL;
    if (!existed && node) account_orphans(world, node);
}

static void on_pvc_event(const struct store_event *event, void *data)
{
    volumes_on_pvc(data, event);
}

static void on_pv_event(const struct store_event *event, void *data)
{
    volumes_on_pv(data, event);
}

static void on_class_event(const struct store_event *event, void *data)
{
    volumes_on_class(data, event);
}

/* ---- start and stop ---- */

static bool copy_string(char **out, const char *value)
{
    *out = NULL;
    if (!value) return true;
    *out = strdup(value);
    return *out != NULL;
}

static bool copy_options(struct world_options *to, const struct world_options *from)
{
    *to = *from;
    to->nodes = NULL;
    to->node_count = 0;
    to->crashing_images = NULL;
    to->crashing_image_count = 0;
    if (from->crashing_image_count > 0) {
        to->crashing_images = calloc(from->crashing_image_count, sizeof *to->crashing_images);
        if (!to->crashing_images) return false;
        for (size_t i = 0; i < from->crashing_image_count; i++) {
            if (!copy_string(&to->crashing_images[i], from->crashing_images[i])) return false;
            to->crashing_image_count++;
        }
    }
    if (from->node_count == 0) return true;
    to->nodes = calloc(from->node_count, sizeof *to->nodes);
    if (!to->nodes) return false;
    to->node_count = from->node_count;
    for (size_t i = 0; i < from->node_count; i++) {
        const struct world_node_spec *s = &from->nodes[i];
        struct world_node_spec *d = &to->nodes[i];
        d->pods = s->pods;
        d->local_volumes = s->local_volumes;
        if (!copy_string(&d->name, s->name) || !copy_string(&d->zone, s->zone) ||
            !copy_string(&d->region, s->region) || !copy_string(&d->cpu, s->cpu) ||
            !copy_string(&d->memory, s->memory) ||
            !copy_string(&d->local_volume_size, s->local_volume_size))
            return false;
        if (s->labels && !(d->labels = cJSON_Duplicate(s->labels, true))) return false;
        if (s->taints && !(d->taints = cJSON_Duplicate(s->taints, true))) return false;
    }
    return true;
}

static struct store_watch *watch(struct world *world, const struct resource *resource,
                                 store_watch_callback callback)
{
    struct store_watch_options options = { 0 };
    struct store_error error = { 0 };
    struct store_watch *w = store_watch_start(world->store, resource, &options, callback, world,
                                              &error);
    if (!w) log_error("world: watch failed", "kind=%s message=\"%s\"", resource->kind,
                      error.message ? error.message : "");
    store_error_clear(&error);
    return w;
}

static void free_world(struct world *world)
{
    /* The heap detaches its entries, which live in the nodes and pods: first. */
    timer_heap_free(&world->heap);
    size_t cursor = 0;
    struct sim_pod *pod;
    while ((pod = key_map_next(&world->pods, &cursor))) {
        pod->node = NULL;  /* nodes are freed separately; skip the unaccounting */
        free_pod(pod);
    }
    key_map_free(&world->pods);
    scheduler_free(world);
    nodes_free(world);
    volumes_free(world);
    struct world_event_record *record;
    cursor = 0;
    while ((record = key_map_next(&world->events, &cursor))) {
        free(record->name);
        free(record->namespace);
        free(record);
    }
    key_map_free(&world->events);
    while (world->orphans) {
        struct world_orphans *next = world->orphans->next;
        free(world->orphans);
        world->orphans = next;
    }
    world_options_free(&world->options);
    free(world);
}

static void on_closed(uv_handle_t *handle)
{
    struct world *world = handle->data;
    if (--world->closing_handles == 0) free_world(world);
}

struct world *world_start(uv_loop_t *loop, struct store *store, const struct clock *clock,
                          const struct world_options *options)
{
    struct world *world = calloc(1, sizeof *world);
    if (!world) return NULL;
    world->loop = loop;
    world->store = store;
    store_set_graceful_pods(store, true); /* the kubelets finish deletions */
    world->clock = clock ? clock : clock_system();
    world->speed = 1.0;
    world->armed_due = UINT64_MAX;
    timer_heap_init(&world->heap);
    key_map_init(&world->pods);
    key_map_init(&world->pvcs);
    key_map_init(&world->pvs);
    key_map_init(&world->available_pvs);
    key_map_init(&world->claimed_pvs);
    key_map_init(&world->classes);
    key_map_init(&world->events);
    key_map_init(&world->placed);
    if (!copy_options(&world->options, options)) {
        free_world(world);
        return NULL;
    }
    struct resource_table *table = store_resources(store);
    world->r_pods = resources_find(table, "", "v1", "pods");
    world->r_nodes = resources_find(table, "", "v1", "nodes");
    world->r_pvcs = resources_find(table, "", "v1", "persistentvolumeclaims");
    world->r_pvs = resources_find(table, "", "v1", "persistentvolumes");
    world->r_classes = resources_find(table, "storage.k8s.io", "v1", "storageclasses");
    world->r_events = resources_find(table, "", "v1", "events");
    if (!world->r_pods || !world->r_nodes || !world->r_pvcs || !world->r_pvs ||
        !world->r_classes || !world->r_events) {
        free_world(world);
        return NULL;
    }
    if (loop) {
        if (uv_timer_init(loop, &world->uv_timer) != 0) {
            free_world(world);
            return NULL;
        }
        if (uv_idle_init(loop, &world->uv_idle) != 0) {
            world->uv_timer.data = world;
            world->closing_handles = 1;
            uv_close((uv_handle_t *)&world->uv_timer, on_closed);
            return NULL;
        }
        world->uv_timer.data = world;
        world->uv_idle.data = world;
        world->uv_timer_open = true;
    }
    scheduler_start(world);
    /* Caches first (classes, volumes, nodes), then the pods that use them. */
    world->w_classes = watch(world, world->r_classes, on_class_event);
    world->w_pvs = watch(world, world->r_pvs, on_pv_event);
    world->w_pvcs = watch(world, world->r_pvcs, on_pvc_event);
    world->w_nodes = watch(world, world->r_nodes, on_node_event);
    world->w_pods = watch(world, world->r_pods, on_pod_event);
    if (!world->w_classes || !world->w_pvs || !world->w_pvcs || !world->w_nodes ||
        !world->w_pods || !volumes_start(world) || !nodes_start(world)) {
        world_stop(world);
        return NULL;
    }
    arm(world);
    return world;
}

void world_stop(struct world *world)
{
    if (!world) return;
    struct store_watch **watches[] = { &world->w_pods, &world->w_nodes, &world->w_pvcs,
                                       &world->w_pvs, &world->w_classes };
    for (size_t i = 0; i < sizeof watches / sizeof watches[0]; i++) {
        if (*watches[i]) store_watch_stop(world->store, *watches[i]);
        *watches[i] = NULL;
    }
    if (world->uv_timer_open) {
        uv_timer_stop(&world->uv_timer);
        uv_idle_stop(&world->uv_idle);
        world->uv_timer_open = false;
        world->idle_active = false;
        world->closing_handles = 2;
        uv_close((uv_handle_t *)&world->uv_timer, on_closed);
        uv_close((uv_handle_t *)&world->uv_idle, on_closed);
        return;
    }
    free_world(world);
}

/* ---- fault injection and introspection ---- */

bool world_fail_node(struct world *world, const char *name)
{
    struct sim_node *node = nodes_find(world, name);
    if (!node) return false;
    if (node->failed) return true;
    node->failed = true;
    /* The lifecycle controller notices when the grace period after the last
     * heartbeat runs out. */
    world_timer_at(world, &node->heartbeat,
                   node->last_heartbeat_ms + (uint64_t)ceil((double)world->options.node_grace_ms /
                                                             world->speed));
    kubelet_node_failed(world, node);
    return true;
}

bool world_recover_node(struct world *world, const char *name)
{
    struct sim_node *node = nodes_find(world, name);
    if (!node) return false;
    if (!node->failed) return true;
    node->failed = false;
    world_timer_at(world, &node->heartbeat, world_now(world));
    /* Back before it was marked unreachable: the kubelet catches up with
     * what happened meanwhile (a pod deleted while it was down must still
     * stop). Marked unreachable, the first heartbeat does it. */
    if (!node->unreachable) kubelet_node_recovered(world, node);
    return true;
}

bool world_delete_node(struct world *world, const char *name)
{
    return world_delete(world, world->r_nodes, NULL, name);
}

bool world_crash_pod(struct world *world, const char *namespace, const char *name,
                     const char *container)
{
    char *key = NULL;
    if (asprintf(&key, "%s/%s", namespace, name) < 0) return false;
    struct sim_pod *pod = key_map_get(&world->pods, key);
    free(key);
    return pod && kubelet_crash(world, pod, container);
}

bool world_set_speed(struct world *world, double speed)
{
    if (!(speed > 0) || !isfinite(speed)) return false;
    world->speed = speed;
    return true;
}

bool world_node_usage(const struct world *world, const char *name, struct world_node_usage *out)
{
    struct sim_node *node = nodes_find(world, name);
    if (!node) return false;
    out->cpu_milli = node->cpu_milli;
    out->memory_milli = node->memory_milli;
    out->pods = (int)node->pod_count;
    out->allocatable_cpu_milli = node->alloc_cpu_milli;
    out->allocatable_memory_milli = node->alloc_memory_milli;
    out->allocatable_pods = node->alloc_pods;
    return true;
}
