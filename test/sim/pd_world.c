#include "test/sim/pd_world.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reactor/log.h"

struct pd_world {
    struct store *store;
    struct store_watch *watch;
    uv_loop_t *loop;
    uv_timer_t timer;
    bool has_timer;
    const struct clock *clock;
    struct clock own_clock;
    bool own;
    double speed;
    uint64_t last_real_ms;
    double carry_ms;             /* fractions of scaled milliseconds not yet applied */
    uint64_t tick_ms;
    struct pd_model_options defaults;
    struct pd_model **models;
    size_t model_count, model_capacity;
    char **dead_nodes;           /* nodes whose machine is down: their processes are not running */
    size_t dead_count;
    void (*closed)(void *data);
    void *closed_data;
};

static const cJSON *child(const cJSON *object, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(object, name);
}

static const char *child_string(const cJSON *object, const char *name)
{
    const cJSON *item = child(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static const char *pod_label(const cJSON *pod, const char *name)
{
    return child_string(child(child(pod, "metadata"), "labels"), name);
}

static bool component_known(const char *component)
{
    return component && (strcmp(component, "pd") == 0 || strcmp(component, "tikv") == 0 ||
                         strcmp(component, "tidb") == 0);
}

static bool pod_matches(const cJSON *pod, void *data)
{
    (void)data;
    const char *instance = pod_label(pod, "app.kubernetes.io/instance");
    return instance && *instance && component_known(pod_label(pod, "app.kubernetes.io/component"));
}

static bool pod_running(const cJSON *pod)
{
    const cJSON *status = child(pod, "status");
    const char *phase = child_string(status, "phase");
    if (!phase || strcmp(phase, "Running") != 0)
        return false;
    const cJSON *condition;
    cJSON_ArrayForEach(condition, child(status, "conditions")) {
        const char *type = child_string(condition, "type");
        if (type && strcmp(type, "Ready") == 0) {
            const char *value = child_string(condition, "status");
            return value && strcmp(value, "True") == 0;
        }
    }
    return true;
}

/* The image tag of the component's container: "pingcap/pd:v8.5.1" -> "v8.5.1". */
static bool pod_version(const cJSON *pod, const char *component, char *out, size_t size)
{
    const cJSON *containers = child(child(pod, "spec"), "containers");
    const cJSON *chosen = cJSON_GetArrayItem(containers, 0);
    const cJSON *container;
    cJSON_ArrayForEach(container, containers) {
        const char *name = child_string(container, "name");
        if (name && strcmp(name, component) == 0)
            chosen = container;
    }
    const char *image = child_string(chosen, "image");
    if (!image)
        return false;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", image);
    char *digest = strchr(copy, '@');
    if (digest)
        *digest = '\0';
    char *slash = strrchr(copy, '/');
    char *colon = strrchr(copy, ':');
    if (!colon || (slash && colon < slash) || !colon[1] || strcmp(colon + 1, "latest") == 0)
        return false;
    snprintf(out, size, "%s", colon + 1);
    return true;
}

struct pd_model *pd_world_find(const struct pd_world *world, const char *namespace,
                               const char *cluster)
{
    for (size_t i = 0; i < world->model_count; i++)
        if (strcmp(pd_model_namespace(world->models[i]), namespace) == 0 &&
            strcmp(pd_model_cluster(world->models[i]), cluster) == 0)
            return world->models[i];
    return NULL;
}

struct pd_model *pd_world_lookup(const char *namespace, const char *cluster, void *world)
{
    return pd_world_find(world, namespace, cluster);
}

size_t pd_world_model_count(const struct pd_world *world) { return world->model_count; }

struct pd_model *pd_world_model_at(const struct pd_world *world, size_t index)
{
    return index < world->model_count ? world->models[index] : NULL;
}

const struct clock *pd_world_clock(const struct pd_world *world) { return world->clock; }

static struct pd_model *model_get(struct pd_world *world, const char *namespace,
                                  const char *cluster)
{
    struct pd_model *model = pd_world_find(world, namespace, cluster);
    if (model)
        return model;
    if (world->model_count == world->model_capacity) {
        size_t wanted = world->model_capacity ? world->model_capacity * 2 : 4;
        struct pd_model **bigger = realloc(world->models, wanted * sizeof *bigger);
        if (!bigger)
            return NULL;
        world->models = bigger;
        world->model_capacity = wanted;
    }
    struct pd_model_options options = world->defaults;
    options.namespace = namespace;
    options.cluster = cluster;
    options.clock = world->clock;
    model = pd_model_new(&options);
    if (!model)
        return NULL;
    world->models[world->model_count++] = model;
    log_info("pd simulator created", "cluster=%s/%s", namespace, cluster);
    return model;
}

static bool node_dead(const struct pd_world *world, const char *node)
{
    for (size_t i = 0; node && i < world->dead_count; i++)
        if (strcmp(world->dead_nodes[i], node) == 0)
            return true;
    return false;
}

static void pod_changed(struct pd_world *world, const cJSON *pod, bool deleted);

static void on_pod(const struct store_event *event, void *data)
{
    pod_changed(data, store_object_tree(event->object), event->type == STORE_EVENT_DELETED);
}

static void pod_changed(struct pd_world *world, const cJSON *pod, bool deleted)
{
    const cJSON *metadata = child(pod, "metadata");
    const char *namespace = child_string(metadata, "namespace");
    const char *name = child_string(metadata, "name");
    const char *cluster = pod_label(pod, "app.kubernetes.io/instance");
    const char *component = pod_label(pod, "app.kubernetes.io/component");
    if (!namespace || !name || !cluster || !component_known(component))
        return;
    struct pd_model *model = model_get(world, namespace, cluster);
    if (!model) {
        log_error("pd simulator: out of memory", "pod=%s/%s", namespace, name);
        return;
    }
    /* A process on a machine that is down runs no more, whatever its pod
     * object says (the kubelet that would say so is down too). */
    bool running = !deleted && pod_running(pod) && !node_dead(world, child_string(child(pod, "spec"), "nodeName"));
    char version[128];
    const char *v = pod_version(pod, component, version, sizeof version) ? version : NULL;
    bool ok = true;
    if (strcmp(component, "pd") == 0) {
        ok = pd_model_pd_pod(model, name, running, v);
    } else if (strcmp(component, "tikv") == 0) {
        ok = deleted ? pd_model_tikv_pod_gone(model, name) : pd_model_tikv_pod(model, name, running, v);
    } else {
        enum pd_tidb_state state = PD_TIDB_STOPPED;
        if (deleted)
            state = PD_TIDB_GONE;
        else if (running && child(metadata, "deletionTimestamp"))
            state = PD_TIDB_SHUTTING_DOWN;
        else if (running)
            state = PD_TIDB_RUNNING;
        ok = pd_model_tidb_pod(model, name, state, v);
    }
    if (!ok)
        log_error("pd simulator: out of memory", "pod=%s/%s", namespace, name);
}

bool pd_world_set_node_down(struct pd_world *world, const char *node, bool down)
{
    if (!world || !node)
        return false;
    if (down == node_dead(world, node))
        return true;
    if (down) {
        char **grown = realloc(world->dead_nodes, (world->dead_count + 1) * sizeof *grown);
        char *copy = strdup(node);
        if (!grown || !copy) {
            free(copy);
            if (grown)
                world->dead_nodes = grown;
            return false;
        }
        world->dead_nodes = grown;
        world->dead_nodes[world->dead_count++] = copy;
    } else {
        for (size_t i = 0; i < world->dead_count; i++)
            if (strcmp(world->dead_nodes[i], node) == 0) {
                free(world->dead_nodes[i]);
                world->dead_nodes[i] = world->dead_nodes[--world->dead_count];
                break;
            }
    }
    /* Every pod of ours on the node, seen again. */
    const struct resource *pods = resources_find(store_resources(world->store), "", "v1", "pods");
    struct store_list_options options = { .match = pod_matches };
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    if (!pods || !store_list(world->store, pods, &options, &list, &error)) {
        store_error_clear(&error);
        return false;
    }
    for (size_t i = 0; i < list.count; i++) {
        const cJSON *pod = store_object_tree(list.items[i]);
        const char *on = child_string(child(pod, "spec"), "nodeName");
        if (on && strcmp(on, node) == 0)
            pod_changed(world, pod, false);
    }
    store_list_free(&list);
    return true;
}

void pd_world_tick(struct pd_world *world)
{
    if (world->own) {
        uint64_t real = clock_now_ms(clock_system());
        double scaled = (double)(real - world->last_real_ms) * world->speed + world->carry_ms;
        world->last_real_ms = real;
        uint64_t whole = (uint64_t)scaled;
        world->carry_ms = scaled - (double)whole;
        if (whole)
            clock_fake_advance(&world->own_clock, whole);
    }
    for (size_t i = 0; i < world->model_count; i++)
        pd_model_advance(world->models[i]);
}

static void on_timer(uv_timer_t *timer)
{
    pd_world_tick(timer->data);
}

struct pd_world *pd_world_start(const struct pd_world_options *options)
{
    if (!options || !options->store)
        return NULL;
    struct pd_world *world = calloc(1, sizeof *world);
    if (!world)
        return NULL;
    world->store = options->store;
    world->loop = options->loop;
    world->defaults = options->model;
    world->tick_ms = options->tick_ms ? options->tick_ms : 100;
    world->speed = options->speed > 0 ? options->speed : 1.0;
    if (options->clock) {
        world->clock = options->clock;
    } else {
        world->own = true;
        const struct clock *system = clock_system();
        clock_fake_init(&world->own_clock, clock_now_ms(system), clock_wall_ms(system));
        world->last_real_ms = clock_now_ms(system);
        world->clock = &world->own_clock;
    }
    const struct resource *pods =
        resources_find(store_resources(world->store), "", "v1", "pods");
    struct store_watch_options watch_options = { 0 };
    watch_options.match = pod_matches;
    struct store_error error = { 0 };
    world->watch = pods ? store_watch_start(world->store, pods, &watch_options, on_pod, world, &error)
                        : NULL;
    if (!world->watch) {
        log_error("pd simulator: cannot watch pods", "error=\"%s\"",
                  error.message ? error.message : "no pods resource");
        store_error_clear(&error);
        pd_world_close(world, NULL, NULL);
        return NULL;
    }
    if (world->loop) {
        if (uv_timer_init(world->loop, &world->timer) != 0) {
            pd_world_close(world, NULL, NULL);
            return NULL;
        }
        world->has_timer = true;
        world->timer.data = world;
        uv_timer_start(&world->timer, on_timer, world->tick_ms, world->tick_ms);
    }
    return world;
}

static void world_free(struct pd_world *world)
{
    void (*closed)(void *) = world->closed;
    void *data = world->closed_data;
    for (size_t i = 0; i < world->model_count; i++)
        pd_model_free(world->models[i]);
    free(world->models);
    for (size_t i = 0; i < world->dead_count; i++)
        free(world->dead_nodes[i]);
    free(world->dead_nodes);
    free(world);
    if (closed)
        closed(data);
}

static void timer_closed(uv_handle_t *handle)
{
    world_free(handle->data);
}

void pd_world_close(struct pd_world *world, void (*closed)(void *data), void *data)
{
    world->closed = closed;
    world->closed_data = data;
    if (world->watch) {
        store_watch_stop(world->store, world->watch);
        world->watch = NULL;
    }
    if (world->has_timer) {
        uv_timer_stop(&world->timer);
        uv_close((uv_handle_t *)&world->timer, timer_closed);
        return;
    }
    world_free(world);
}
