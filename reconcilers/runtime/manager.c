#include "reconcilers/runtime/manager.h"

#include "reactor/log.h"
#include "watchers/string_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What each kind is watched as. */
static const struct {
    const struct kube_resource *resource;
    const struct object_kind *kind;
    const char *label_selector;
} kind_table[MANAGER_KIND_COUNT] = {
    [MANAGER_TIDBCLUSTERS] = {&kube_resource_tidbclusters, &object_kind_tidbcluster, NULL},
    [MANAGER_PODS] = {&kube_resource_pods, &object_kind_pod, MANAGED_BY_SELECTOR},
    [MANAGER_PVCS] = {&kube_resource_pvcs, &object_kind_pvc, MANAGED_BY_SELECTOR},
    [MANAGER_PVS] = {&kube_resource_pvs, &object_kind_pv, NULL},
    [MANAGER_SERVICES] = {&kube_resource_services, &object_kind_service, MANAGED_BY_SELECTOR},
    [MANAGER_CONFIGMAPS] = {&kube_resource_configmaps, &object_kind_configmap, MANAGED_BY_SELECTOR},
    [MANAGER_STORAGE_CLASSES] = {&kube_resource_storage_classes, &object_kind_storage_class, NULL},
    [MANAGER_NODES] = {&kube_resource_nodes, &object_kind_node, NULL},
};

/* One borrower's handlers for one kind; a free slot has used false. */
struct manager_slot {
    struct informer_handlers handlers;
    bool used;
};

/* One kind: its informer and the borrowers' handlers it fans out to. */
struct manager_source {
    struct manager *manager;
    struct informer *informer;
    struct manager_slot slots[MANAGER_MAX_HANDLERS];
};

struct manager {
    struct manager_options options;
    char *namespace;
    struct string_pool pool;
    struct manager_source sources[MANAGER_KIND_COUNT];
    /* Polls for the first sync (to log it); its close also guarantees that
     * `closed` comes from the loop. */
    uv_timer_t sync_timer;
    struct health_condition *synced_condition;
    struct metrics_family *lists;        /* {resource}: complete lists, initial and relists */
    struct metrics_family *relists_gone;
    struct metrics_family *watches;      /* {resource}: watch streams started (reconnects) */
    struct metrics_family *bad_events;
    bool collector_registered;
    bool closing;
    int closing_parts;
    void (*closed)(void *data);
    void *closed_data;
};

static bool kind_valid(enum manager_kind kind)
{
    return (int)kind >= 0 && kind < MANAGER_KIND_COUNT;
}

const struct object_kind *manager_object_kind(enum manager_kind kind)
{
    return kind_valid(kind) ? kind_table[kind].kind : NULL;
}

const char *manager_kind_name(enum manager_kind kind)
{
    return kind_valid(kind) ? kind_table[kind].resource->plural : NULL;
}

bool manager_kind_synced(const struct manager *manager, enum manager_kind kind)
{
    return kind_valid(kind) && manager->sources[kind].informer &&
           informer_synced(manager->sources[kind].informer);
}

bool manager_synced(const struct manager *manager)
{
    for (int i = 0; i < MANAGER_KIND_COUNT; i++)
        if (!manager_kind_synced(manager, (enum manager_kind)i)) return false;
    return true;
}

static bool check_synced(void *data) { return manager_synced(data); }

const struct cache *manager_cache(const struct manager *manager, enum manager_kind kind)
{
    if (!kind_valid(kind) || !manager->sources[kind].informer) return NULL;
    return informer_cache(manager->sources[kind].informer);
}

void manager_get_stats(const struct manager *manager, enum manager_kind kind, struct informer_stats *out)
{
    memset(out, 0, sizeof *out);
    if (kind_valid(kind) && manager->sources[kind].informer)
        informer_get_stats(manager->sources[kind].informer, out);
}

/* --- fan-out to the borrowers --- */

/* Slots are scanned in place and never moved, so a handler may add or
 * remove sets (its own included) while a dispatch is under way; a closing
 * manager stops delivering at once. */
static void dispatch_add(void *data, const struct object_meta *object)
{
    struct manager_source *source = data;
    for (size_t i = 0; i < MANAGER_MAX_HANDLERS && !source->manager->closing; i++) {
        const struct manager_slot *slot = &source->slots[i];
        if (slot->used && slot->handlers.on_add) slot->handlers.on_add(slot->handlers.data, object);
    }
}

static void dispatch_update(void *data, const struct object_meta *old, const struct object_meta *now)
{
    struct manager_source *source = data;
    for (size_t i = 0; i < MANAGER_MAX_HANDLERS && !source->manager->closing; i++) {
        const struct manager_slot *slot = &source->slots[i];
        if (slot->used && slot->handlers.on_update) slot->handlers.on_update(slot->handlers.data, old, now);
    }
}

static void dispatch_delete(void *data, const struct object_meta *object)
{
    struct manager_source *source = data;
    for (size_t i = 0; i < MANAGER_MAX_HANDLERS && !source->manager->closing; i++) {
        const struct manager_slot *slot = &source->slots[i];
        if (slot->used && slot->handlers.on_delete) slot->handlers.on_delete(slot->handlers.data, object);
    }
}

static struct manager_slot *free_slot(struct manager_source *source)
{
    for (size_t i = 0; i < MANAGER_MAX_HANDLERS; i++)
        if (!source->slots[i].used) return &source->slots[i];
    return NULL;
}

int manager_add_handlers(struct manager *manager, enum manager_kind kind,
                         const struct informer_handlers *handlers)
{
    if (!manager || !kind_valid(kind) || !handlers || manager->closing) return -EINVAL;
    struct manager_slot *slot = free_slot(&manager->sources[kind]);
    if (!slot) return -ENOSPC;
    slot->handlers = *handlers;
    slot->used = true;
    return 0;
}

void manager_remove_handlers(struct manager *manager, const void *data)
{
    for (int k = 0; k < MANAGER_KIND_COUNT; k++)
        for (size_t i = 0; i < MANAGER_MAX_HANDLERS; i++) {
            struct manager_slot *slot = &manager->sources[k].slots[i];
            if (slot->used && slot->handlers.data == data) *slot = (struct manager_slot){0};
        }
}

int manager_add_enqueuer(struct manager *manager, struct cluster_enqueuer *enqueuer)
{
    if (!manager || !enqueuer || manager->closing) return -EINVAL;
    /* All or nothing: check room everywhere first. */
    for (int k = 0; k < MANAGER_KIND_COUNT; k++)
        if (!free_slot(&manager->sources[k])) return -ENOSPC;
    enqueuer->pods = manager_cache(manager, MANAGER_PODS);
    enqueuer->pvcs = manager_cache(manager, MANAGER_PVCS);
    for (int k = 0; k < MANAGER_KIND_COUNT; k++) {
        struct informer_handlers handlers = cluster_enqueue_handlers(enqueuer, kind_table[k].kind);
        int rc = manager_add_handlers(manager, (enum manager_kind)k, &handlers);
        if (rc != 0) { /* cannot happen after the check; stay all or nothing anyway */
            manager_remove_handlers(manager, enqueuer);
            return rc;
        }
    }
    return 0;
}

/* --- metrics --- */

static void set_counter(struct metrics_family *family, const char *resource, uint64_t value)
{
    struct metrics_counter *counter = family ? metrics_counter_with(family, resource) : NULL;
    if (counter) metrics_counter_set(counter, (double)value);
}

/* At every scrape: the informers' counters. */
static void collect_metrics(struct metrics_registry *registry, void *data)
{
    (void)registry;
    struct manager *manager = data;
    for (int k = 0; k < MANAGER_KIND_COUNT; k++) {
        if (!manager->sources[k].informer) continue;
        struct informer_stats stats;
        informer_get_stats(manager->sources[k].informer, &stats);
        const char *resource = kind_table[k].resource->plural;
        set_counter(manager->lists, resource, stats.lists);
        set_counter(manager->relists_gone, resource, stats.relists_gone);
        set_counter(manager->watches, resource, stats.watches);
        set_counter(manager->bad_events, resource, stats.bad_events);
    }
}

static void register_metrics(struct manager *manager, struct metrics_registry *metrics)
{
    manager->lists = metrics_counter_family(
        metrics, "tidb_operator_informer_lists_total", "Complete lists (initial and relists) per watched resource.",
        "resource");
    manager->relists_gone = metrics_counter_family(
        metrics, "tidb_operator_informer_relists_gone_total", "Relists caused by 410 Gone per watched resource.",
        "resource");
    manager->watches = metrics_counter_family(
        metrics, "tidb_operator_informer_watches_total", "Watch streams started (reconnects included) per resource.",
        "resource");
    manager->bad_events = metrics_counter_family(
        metrics, "tidb_operator_informer_bad_events_total",
        "Undecodable, oversized or unprojectable watch events per resource.", "resource");
    manager->collector_registered = metrics_register_collector(metrics, collect_metrics, NULL, manager);
}

/* --- life cycle --- */

static void on_sync_check(uv_timer_t *timer)
{
    struct manager *manager = timer->data;
    if (!manager_synced(manager)) return;
    log_info("caches synced", "informers=%d", MANAGER_KIND_COUNT);
    uv_timer_stop(timer);
}

static int add_source(struct manager *manager, enum manager_kind kind)
{
    const struct kube_resource *resource = kind_table[kind].resource;
    struct informer_options options = {
        .loop = manager->options.loop, .client = manager->options.client,
        .resource = resource, .kind = kind_table[kind].kind, .pool = &manager->pool,
        .clock = manager->options.clock,
        .namespace = resource->namespaced ? manager->namespace : NULL,
        .label_selector = kind_table[kind].label_selector,
        .backoff_initial_ms = manager->options.backoff_initial_ms,
        .backoff_max_ms = manager->options.backoff_max_ms,
    };
    struct manager_source *source = &manager->sources[kind];
    source->manager = manager;
    int rc = informer_new(&options, &source->informer);
    if (rc != 0) return rc;
    struct informer_handlers dispatch = {dispatch_add, dispatch_update, dispatch_delete, source};
    return informer_add_handlers(source->informer, &dispatch);
}

int manager_start(const struct manager_options *options, struct manager **out)
{
    if (out) *out = NULL;
    if (!options || !options->loop || !options->client || !out) return -EINVAL;
    struct manager *manager = calloc(1, sizeof *manager);
    if (!manager) return -ENOMEM;
    manager->options = *options;
    manager->options.namespace = NULL; /* the copy below is the one used */
    if (!manager->options.clock) manager->options.clock = clock_system();
    string_pool_init(&manager->pool);
    uv_timer_init(options->loop, &manager->sync_timer);
    manager->sync_timer.data = manager;
    int rc = 0;
    if (options->namespace && *options->namespace && !(manager->namespace = strdup(options->namespace)))
        rc = -ENOMEM;
    if (rc == 0 && options->metrics) register_metrics(manager, options->metrics);
    for (int k = 0; rc == 0 && k < MANAGER_KIND_COUNT; k++) rc = add_source(manager, (enum manager_kind)k);
    for (int k = 0; rc == 0 && k < MANAGER_KIND_COUNT; k++) rc = informer_start(manager->sources[k].informer);
    if (rc == 0 && options->health) {
        manager->synced_condition = health_add_check(options->health, "caches-synced", check_synced, manager);
        if (!manager->synced_condition) rc = -ENOMEM;
    }
    if (rc != 0) {
        log_error("informer manager start failed", "error=%d", rc);
        manager_close(manager, NULL, NULL);
        return rc;
    }
    uv_timer_start(&manager->sync_timer, on_sync_check, 100, 100);
    *out = manager;
    return 0;
}

static void part_closed(void *data)
{
    struct manager *manager = data;
    if (--manager->closing_parts > 0) return;
    void (*closed)(void *) = manager->closed;
    void *closed_data = manager->closed_data;
    string_pool_free(&manager->pool);
    free(manager->namespace);
    free(manager);
    if (closed) closed(closed_data);
}

static void on_timer_closed(uv_handle_t *handle) { part_closed(handle->data); }

void manager_close(struct manager *manager, void (*closed)(void *data), void *data)
{
    if (!manager || manager->closing) return;
    manager->closing = true;
    manager->closed = closed;
    manager->closed_data = data;
    if (manager->synced_condition) health_remove(manager->options.health, manager->synced_condition);
    manager->synced_condition = NULL;
    if (manager->collector_registered)
        metrics_unregister_collector(manager->options.metrics, collect_metrics, manager);
    manager->collector_registered = false;
    manager->closing_parts = 1; /* the timer */
    for (int k = 0; k < MANAGER_KIND_COUNT; k++)
        if (manager->sources[k].informer) manager->closing_parts++;
    uv_close((uv_handle_t *)&manager->sync_timer, on_timer_closed);
    for (int k = 0; k < MANAGER_KIND_COUNT; k++)
        if (manager->sources[k].informer) informer_close(manager->sources[k].informer, part_closed, manager);
}
