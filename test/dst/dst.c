/*
 * dst: one schedule (dst.h) — the world, the clock, the lagging caches and
 * the loop that steps them.
 */
#include "test/dst/dst_internal.h"

#include "test/sim/pd_model.h"
#include "test/sim/pd_world.h"

#include "watchers/objects.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_WALL_MS 1767225600000LL /* 2026-01-01 */
#define SAME_INSTANT_STEPS_MAX 200000

static const char *const fault_names[DST_FAULT_KIND_COUNT] = {
    [DST_FAULT_NODE_TEMPORARY] = "node-temporary",  [DST_FAULT_NODE_PERMANENT] = "node-permanent",
    [DST_FAULT_POD_CRASH] = "pod-crash",            [DST_FAULT_PD_LEADER] = "pd-leader-change",
    [DST_FAULT_PD_UNREACHABLE] = "pd-unreachable",  [DST_FAULT_PD_FAILING] = "pd-5xx",
    [DST_FAULT_PD_GARBAGE] = "pd-garbage",          [DST_FAULT_PD_SLOW] = "pd-slow",
    [DST_FAULT_STORE_DOWN] = "tikv-store-down",     [DST_FAULT_PD_KILLED] = "pd-process-killed",
    [DST_FAULT_API_WRITES] = "api-write-failures",  [DST_FAULT_INFORMER_STALL] = "informer-stall",
    [DST_FAULT_OPERATOR_RESTART] = "operator-restart", [DST_FAULT_USER_SCALE] = "user-scale",
};

static const char *const invariant_names[DST_INV_COUNT] = {
    [DST_INV_PD_QUORUM] = "pd_quorum_kept_by_operator",
    [DST_INV_REGION_MAJORITY] = "regions_keep_live_majority",
    [DST_INV_STORE_DATA] = "store_data_kept_until_tombstone",
    [DST_INV_UNIQUE_IDENTITY] = "one_pod_per_member_identity",
    [DST_INV_ONE_DISRUPTION] = "one_disruption_per_cluster",
    [DST_INV_UP_STORES] = "store_deleted_only_with_enough_up_stores",
    [DST_INV_LEADERS_EVICTED] = "tikv_leaders_evicted_before_restart",
    [DST_INV_BOUNDED_CREATES] = "member_creates_bounded",
    [DST_INV_CONVERGES] = "converges_after_faults",
};

const char *dst_fault_kind_name(enum dst_fault_kind kind)
{
    return (int)kind >= 0 && kind < DST_FAULT_KIND_COUNT ? fault_names[kind] : "unknown";
}

const char *dst_invariant_name(enum dst_invariant invariant)
{
    return (int)invariant >= 0 && invariant < DST_INV_COUNT ? invariant_names[invariant] : "unknown";
}

int dst_invariant_of_rule(const char *rule)
{
    static const struct {
        const char *rule;
        enum dst_invariant invariant;
    } map[] = {
        { "one_disruption_at_a_time", DST_INV_ONE_DISRUPTION },
        { "pd_quorum_kept", DST_INV_PD_QUORUM },
        { "tikv_leaders_evicted_first", DST_INV_LEADERS_EVICTED },
        { "store_data_kept_until_tombstone", DST_INV_STORE_DATA },
        { "up_stores_kept", DST_INV_UP_STORES },
        { "no_double_attach", DST_INV_UNIQUE_IDENTITY },
        { "bounded_creates", DST_INV_BOUNDED_CREATES },
    };
    for (size_t i = 0; rule && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].rule, rule) == 0)
            return (int)map[i].invariant;
    return -1;
}

/* ---- small things ---- */

uint64_t dst_rng_next(struct dst_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t dst_rng_range(struct dst_rng *rng, uint64_t low, uint64_t high)
{
    if (high <= low)
        return low;
    return low + dst_rng_next(rng) % (high - low + 1);
}

bool dst_rng_chance(struct dst_rng *rng, unsigned percent)
{
    return dst_rng_next(rng) % 100 < percent;
}

uint64_t dst_now(const struct dst *sim)
{
    return sim->clock.fake_now_ms;
}

void dst_trace(struct dst *sim, const char *format, ...)
{
    if (!sim->options.trace)
        return;
    va_list args;
    va_start(args, format);
    fprintf(stderr, "[%8.3fs] ", (double)(dst_now(sim) - sim->start_ms) / 1000.0);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

void dst_fail(struct dst *sim, const char *format, ...)
{
    if (sim->failed)
        return;
    sim->failed = true;
    va_list args;
    va_start(args, format);
    vsnprintf(sim->error, sizeof sim->error, format, args);
    va_end(args);
}

bool dst_schedule(struct dst *sim, uint64_t due_ms, const struct dst_event *event)
{
    struct dst_event *copy = malloc(sizeof *copy);
    if (!copy) {
        dst_fail(sim, "out of memory");
        return false;
    }
    *copy = *event;
    copy->entry = (struct timer_heap_entry){ 0 };
    if (copy->run)
        copy->run->references++;
    if (timer_heap_push(&sim->heap, &copy->entry, due_ms) != 0) {
        if (copy->run)
            copy->run->references--;
        free(copy);
        dst_fail(sim, "out of memory");
        return false;
    }
    return true;
}

struct pd_model *dst_pd_model(struct dst *sim, int cluster)
{
    return pd_world_find(sim->pd_world, DST_NAMESPACE, sim->clusters[cluster].name);
}

int dst_cluster_of(const struct dst *sim, const char *key)
{
    for (int i = 0; key && i < sim->cluster_count; i++)
        if (strcmp(sim->clusters[i].key, key) == 0)
            return i;
    return -1;
}

void dst_enqueue(struct dst *sim, int cluster)
{
    if (cluster < 0 || !sim->op.up)
        return;
    struct dst_cluster *c = &sim->clusters[cluster];
    if (c->busy)
        c->again = true;
    else
        c->queued = true;
}

/* ---- the store's objects ---- */

static const char CRD_JSON[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"tidbclusters.pingcap.com\"},"
    "\"spec\":{\"group\":\"pingcap.com\",\"scope\":\"Namespaced\","
    "\"names\":{\"plural\":\"tidbclusters\",\"singular\":\"tidbcluster\",\"kind\":\"TidbCluster\","
    "\"shortNames\":[\"tc\"]},"
    "\"versions\":[{\"name\":\"v1alpha1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}}}]}}";

static bool create_object(struct dst *sim, const char *group, const char *version, const char *plural,
                          const char *namespace, cJSON *object)
{
    const struct resource *resource = resources_find(store_resources(sim->store), group, version, plural);
    if (!resource || !object) {
        cJSON_Delete(object);
        return false;
    }
    struct store_reply reply = { 0 };
    bool ok = store_create(sim->store, resource, namespace, object, &reply);
    if (!ok)
        dst_fail(sim, "creating %s: %s", plural, reply.error.message ? reply.error.message : "failed");
    store_reply_clear(&reply);
    return ok;
}

static cJSON *cluster_json(const struct dst_cluster *c)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"" DST_NAMESPACE "\"},"
             "\"spec\":{\"version\":\"v8.5.1\",\"timezone\":\"UTC\",\"pvReclaimPolicy\":\"%s\","
             "\"pd\":{\"baseImage\":\"pingcap/pd\",\"replicas\":%d,\"maxFailoverCount\":0,"
             "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\",\"storage\":\"1Gi\"},\"config\":{}},"
             "\"tikv\":{\"baseImage\":\"pingcap/tikv\",\"replicas\":%d,\"maxFailoverCount\":0,"
             "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\",\"storage\":\"1Gi\"},\"config\":{}},"
             "\"tidb\":{\"baseImage\":\"pingcap/tidb\",\"replicas\":%d,\"maxFailoverCount\":0,"
             "\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},\"service\":{\"type\":\"ClusterIP\"},\"config\":{}}}}",
             c->name, c->reclaim_delete ? "Delete" : "Retain", c->replicas[0], c->replicas[1], c->replicas[2]);
    return cJSON_Parse(text);
}

cJSON *dst_cluster_object(struct dst *sim, int cluster)
{
    struct store_error error = { 0 };
    struct store_object *object =
        store_get(sim->store, sim->resources[DST_KIND_CLUSTERS], DST_NAMESPACE, sim->clusters[cluster].name, &error);
    store_error_clear(&error);
    if (!object)
        return NULL;
    cJSON *copy = cJSON_Duplicate(store_object_tree(object), true);
    store_object_release(object);
    return copy;
}

bool dst_user_set_replicas(struct dst *sim, int cluster, const int replicas[3])
{
    static const char *const keys[] = { "pd", "tikv", "tidb" };
    cJSON *object = dst_cluster_object(sim, cluster);
    cJSON *spec = object ? cJSON_GetObjectItemCaseSensitive(object, "spec") : NULL;
    for (int component = 0; spec && component < 3; component++) {
        cJSON *part = cJSON_GetObjectItemCaseSensitive(spec, keys[component]);
        if (!part) {
            spec = NULL;
            break;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(part, "replicas");
        cJSON_AddNumberToObject(part, "replicas", replicas[component]);
    }
    if (!spec) {
        cJSON_Delete(object);
        return false;
    }
    struct store_reply reply = { 0 };
    bool ok = store_update(sim->store, sim->resources[DST_KIND_CLUSTERS], DST_NAMESPACE, sim->clusters[cluster].name,
                           object, &reply);
    store_reply_clear(&reply);
    if (ok)
        memcpy(sim->clusters[cluster].replicas, replicas, sizeof sim->clusters[cluster].replicas);
    return ok;
}

/* ---- caches: the truth at once, the operator's after a delay ---- */

static const struct object_kind *const kinds[DST_KIND_COUNT] = {
    [DST_KIND_PODS] = &object_kind_pod,          [DST_KIND_PVCS] = &object_kind_pvc,
    [DST_KIND_PVS] = &object_kind_pv,            [DST_KIND_SERVICES] = &object_kind_service,
    [DST_KIND_CONFIGMAPS] = &object_kind_configmap, [DST_KIND_CLASSES] = &object_kind_storage_class,
    [DST_KIND_NODES] = &object_kind_node,        [DST_KIND_CLUSTERS] = &object_kind_tidbcluster,
};

/* Applies one event to a cache; *changed: something the planner reads
 * changed. The old object is handed to `previous_out` (freed by caller) so
 * enqueue decisions can read it. */
static struct object_meta *cache_apply(struct cache *cache, struct string_pool *pool, enum dst_kind kind,
                                       enum store_event_type type, const cJSON *tree, bool *changed,
                                       struct object_meta **object_out)
{
    char error[128];
    *changed = false;
    *object_out = NULL;
    struct object_meta *object = object_project(kinds[kind], tree, pool, error, sizeof error);
    if (!object)
        return NULL;
    struct object_meta *previous = NULL;
    if (type == STORE_EVENT_DELETED) {
        previous = cache_remove(cache, object->key);
        *changed = previous != NULL;
        *object_out = previous;
        object_free(kinds[kind], object, pool);
        return NULL;
    }
    if (cache_put(cache, object, &previous) != 0) {
        object_free(kinds[kind], object, pool);
        return NULL;
    }
    *changed = !previous || !object_same(kinds[kind], previous, object);
    *object_out = object;
    return previous;
}

/* The clusters an operator cache change concerns (watchers/enqueue's mapping). */
static void enqueue_for(struct dst *sim, enum dst_kind kind, const struct object_meta *object)
{
    if (!object)
        return;
    if (kind == DST_KIND_CLASSES) {
        for (int i = 0; i < sim->cluster_count; i++)
            dst_enqueue(sim, i);
        return;
    }
    if (kind == DST_KIND_NODES) {
        size_t count = 0;
        const struct object_meta *const *pods = cache_by_node(&sim->op.caches[DST_KIND_PODS], object->name, &count);
        for (size_t i = 0; i < count; i++)
            dst_enqueue(sim, dst_cluster_of(sim, pods[i]->cluster));
        const struct object_meta *const *claims =
            cache_by_node(&sim->op.caches[DST_KIND_PVCS], object->name, &count);
        for (size_t i = 0; i < count; i++)
            dst_enqueue(sim, dst_cluster_of(sim, claims[i]->cluster));
        return;
    }
    if (kind == DST_KIND_PVS) {
        const struct kube_pv *pv = (const struct kube_pv *)object;
        if (pv->claim_namespace && pv->claim_name) {
            char key[256];
            snprintf(key, sizeof key, "%s/%s", pv->claim_namespace, pv->claim_name);
            const struct object_meta *pvc = cache_get(&sim->op.caches[DST_KIND_PVCS], key);
            if (pvc)
                dst_enqueue(sim, dst_cluster_of(sim, pvc->cluster));
        }
        return;
    }
    dst_enqueue(sim, dst_cluster_of(sim, object->cluster));
}

static void deliver(struct dst *sim, enum dst_kind kind, enum store_event_type type, const cJSON *tree)
{
    bool changed = false;
    struct object_meta *object = NULL;
    struct object_meta *previous =
        cache_apply(&sim->op.caches[kind], &sim->op.pool, kind, type, tree, &changed, &object);
    if (changed) {
        enqueue_for(sim, kind, object);
        if (previous)
            enqueue_for(sim, kind, previous);
    }
    if (type == STORE_EVENT_DELETED && object)
        object_free(kinds[kind], object, &sim->op.pool);
    if (previous)
        object_free(kinds[kind], previous, &sim->op.pool);
}

static bool lag_push(struct dst_lag_queue *queue, const struct dst_delivery *item)
{
    if (queue->count == queue->capacity) {
        size_t capacity = queue->capacity ? queue->capacity * 2 : 64;
        struct dst_delivery *grown = malloc(capacity * sizeof *grown);
        if (!grown)
            return false;
        for (size_t i = 0; i < queue->count; i++)
            grown[i] = queue->items[(queue->head + i) % queue->capacity];
        free(queue->items);
        queue->items = grown;
        queue->capacity = capacity;
        queue->head = 0;
    }
    queue->items[(queue->head + queue->count) % queue->capacity] = *item;
    queue->count++;
    return true;
}

static void lag_clear(struct dst_lag_queue *queue)
{
    for (size_t i = 0; i < queue->count; i++)
        store_object_release(queue->items[(queue->head + i) % queue->capacity].object);
    free(queue->items);
    *queue = (struct dst_lag_queue){ 0 };
}

static void on_store_event(const struct store_event *event, void *data)
{
    const struct dst_watch_context *context = data;
    struct dst *sim = context->sim;
    enum dst_kind kind = context->kind;
    const cJSON *tree = store_object_tree(event->object);
    bool changed = false;
    struct object_meta *object = NULL;
    struct object_meta *previous =
        cache_apply(&sim->truth[kind], &sim->truth_pool, kind, event->type, tree, &changed, &object);
    if (kind == DST_KIND_PODS && event->type == STORE_EVENT_ADDED && object) {
        char uid[OBJECT_UID_SIZE];
        dst_note_pod(sim, object->name, object_uid(object, uid));
    }
    if (event->type == STORE_EVENT_DELETED && object)
        object_free(kinds[kind], object, &sim->truth_pool);
    if (previous)
        object_free(kinds[kind], previous, &sim->truth_pool);
    if (!sim->op.up)
        return;
    struct dst_lag_queue *queue = &sim->op.lag[kind];
    uint64_t now = dst_now(sim);
    uint64_t due = now + dst_rng_range(&sim->rng, sim->lag_min_ms, sim->lag_max_ms);
    if (sim->stall_until_ms > now && due < sim->stall_until_ms)
        due = sim->stall_until_ms;
    if (due < queue->last_due_ms)
        due = queue->last_due_ms; /* a watch stream delivers in order */
    queue->last_due_ms = due;
    struct dst_delivery item = { .due_ms = due, .type = event->type,
                                 .object = store_object_retain(event->object) };
    if (!lag_push(queue, &item)) {
        store_object_release(item.object);
        dst_fail(sim, "out of memory");
    }
}

static void deliver_due(struct dst *sim)
{
    uint64_t now = dst_now(sim);
    for (int k = 0; k < DST_KIND_COUNT && sim->op.up; k++) {
        struct dst_lag_queue *queue = &sim->op.lag[k];
        while (queue->count && queue->items[queue->head].due_ms <= now) {
            struct dst_delivery item = queue->items[queue->head];
            queue->head = (queue->head + 1) % queue->capacity;
            queue->count--;
            deliver(sim, (enum dst_kind)k, item.type, store_object_tree(item.object));
            store_object_release(item.object);
        }
    }
}

static uint64_t next_delivery(const struct dst *sim)
{
    uint64_t next = UINT64_MAX;
    for (int k = 0; k < DST_KIND_COUNT && sim->op.up; k++) {
        const struct dst_lag_queue *queue = &sim->op.lag[k];
        if (queue->count && queue->items[queue->head].due_ms < next)
            next = queue->items[queue->head].due_ms;
    }
    return next;
}

/* ---- the operator process ---- */

void dst_operator_crash(struct dst *sim)
{
    struct dst_operator *op = &sim->op;
    if (!op->up)
        return;
    op->up = false;
    op->synced = false;
    op->epoch++;
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        lag_clear(&op->lag[k]);
        cache_free(&op->caches[k]);
    }
    string_pool_free(&op->pool);
    validation_memo_free(op->memo);
    op->memo = NULL;
    expectations_free(op->expectations);
    op->expectations = NULL;
    for (int i = 0; i < sim->cluster_count; i++) {
        struct dst_cluster *c = &sim->clusters[i];
        c->queued = c->busy = c->again = false;
        c->wake_ms = 0;
        c->failures = 0;
        dst_snapshot_forget(c);
    }
}

void dst_operator_start(struct dst *sim)
{
    struct dst_operator *op = &sim->op;
    if (op->up)
        return;
    string_pool_init(&op->pool);
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        cache_init(&op->caches[k], kinds[k], &op->pool);
        op->lag[k] = (struct dst_lag_queue){ 0 };
    }
    op->memo = validation_memo_new();
    op->expectations = expectations_new();
    if (!op->memo || !op->expectations) {
        dst_fail(sim, "out of memory");
        return;
    }
    op->up = true;
    /* The informers' lists: the store as it is now. */
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        struct store_list list = { 0 };
        struct store_error error = { 0 };
        struct store_list_options options = { 0 };
        if (!store_list(sim->store, sim->resources[k], &options, &list, &error)) {
            store_error_clear(&error);
            dst_fail(sim, "listing %s failed", kinds[k]->name);
            return;
        }
        for (size_t i = 0; i < list.count; i++)
            deliver(sim, (enum dst_kind)k, STORE_EVENT_ADDED, store_object_tree(list.items[i]));
        store_list_free(&list);
    }
    op->synced = true;
    op->next_resync_ms = dst_now(sim) + DST_RESYNC_MS;
    for (int i = 0; i < sim->cluster_count; i++)
        dst_enqueue(sim, i);
}

/* ---- setup ---- */

static bool build_world(struct dst *sim)
{
    struct dst_rng *rng = &sim->rng;
    clock_fake_init(&sim->clock, 1000, START_WALL_MS);
    sim->start_ms = dst_now(sim);
    /* Nobody resumes a watch from an old resourceVersion here: a short history. */
    struct store_options store_options = { .clock = &sim->clock, .random_seed = sim->options.seed * 2 + 1,
                                           .history_size = 64 };
    sim->store = store_new(&store_options);
    if (!sim->store)
        return false;
    struct world_options world_options;
    if (!world_config_grid(&world_options, 3, 2, 0))
        return false;
    /* Node status every 20 s (Kubernetes itself reports it only on change
     * or every 5 minutes, with Leases as the heartbeat); 40 s of grace. */
    world_options.heartbeat_ms = 20000;
    world_options.scheduled_events = false;
    world_options.waiting_events = false;
    world_options.start_delay_ms = dst_rng_range(rng, 200, 3000);
    world_options.ready_delay_ms = dst_rng_range(rng, 100, 2000);
    world_options.deletion_grace_cap_ms = dst_rng_range(rng, 500, 5000);
    sim->world = world_start(NULL, sim->store, &sim->clock, &world_options);
    world_options_free(&world_options);
    if (!sim->world)
        return false;
    struct pd_world_options pd_options = {
        .store = sim->store, .clock = &sim->clock,
        .model = { .seed = sim->options.seed + 1, .region_count = (unsigned)dst_rng_range(rng, 12, 40),
                   .max_store_down_ms = dst_rng_range(rng, 60, 600) * 1000 },
    };
    sim->pd_world = pd_world_start(&pd_options);
    if (!sim->pd_world)
        return false;
    static const char *const plurals[DST_KIND_COUNT] = {
        "pods", "persistentvolumeclaims", "persistentvolumes", "services", "configmaps",
        "storageclasses", "nodes", "tidbclusters",
    };
    if (!create_object(sim, "apiextensions.k8s.io", "v1", "customresourcedefinitions", NULL, cJSON_Parse(CRD_JSON)))
        return false;
    string_pool_init(&sim->truth_pool);
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        const char *group = k == DST_KIND_CLASSES ? "storage.k8s.io" : k == DST_KIND_CLUSTERS ? "pingcap.com" : "";
        const char *version = k == DST_KIND_CLUSTERS ? "v1alpha1" : "v1";
        sim->resources[k] = resources_find(store_resources(sim->store), group, version, plurals[k]);
        if (!sim->resources[k])
            return false;
        cache_init(&sim->truth[k], kinds[k], &sim->truth_pool);
    }
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        sim->watch_contexts[k] = (struct dst_watch_context){ sim, (enum dst_kind)k };
        struct store_error error = { 0 };
        struct store_watch_options options = { 0 };
        sim->watches[k] =
            store_watch_start(sim->store, sim->resources[k], &options, on_store_event, &sim->watch_contexts[k], &error);
        store_error_clear(&error);
        if (!sim->watches[k])
            return false;
    }
    /* The schedule's behaviour. */
    sim->lag_min_ms = dst_rng_range(rng, 0, 50);
    sim->lag_max_ms = sim->lag_min_ms + dst_rng_range(rng, 0, 1500);
    sim->info_lag_ms = sim->lag_max_ms;
    sim->api_latency_max_ms = dst_rng_range(rng, 2, 400);
    sim->api_fail_percent = (unsigned)dst_rng_range(rng, 0, 8);
    sim->pd_latency_max_ms = dst_rng_range(rng, 1, 300);
    sim->cluster_count = dst_rng_chance(rng, 25) ? 2 : 1;
    static const char *const names[DST_MAX_CLUSTERS] = { "basic", "second" };
    for (int i = 0; i < sim->cluster_count; i++) {
        struct dst_cluster *c = &sim->clusters[i];
        snprintf(c->name, sizeof c->name, "%s", names[i]);
        snprintf(c->key, sizeof c->key, DST_NAMESPACE "/%s", names[i]);
        static const int pd_choices[] = { 1, 3, 3, 3, 5 };
        c->replicas[0] = pd_choices[dst_rng_range(rng, 0, 4)];
        c->replicas[1] = (int)dst_rng_range(rng, 3, 4);
        /* Now and then a bigger TiDB: more members than the slow-start window. */
        c->replicas[2] = dst_rng_chance(rng, 15) ? (int)dst_rng_range(rng, 5, 6) : (int)dst_rng_range(rng, 1, 2);
        c->reclaim_delete = dst_rng_chance(rng, 40);
        if (!create_object(sim, "pingcap.com", "v1alpha1", "tidbclusters", DST_NAMESPACE, cluster_json(c)))
            return false;
    }
    sim->next_pd_tick_ms = dst_now(sim) + DST_PD_TICK_MS;
    return true;
}

static void teardown(struct dst *sim)
{
    if (sim->op.up)
        dst_operator_crash(sim);
    for (struct timer_heap_entry *entry; (entry = timer_heap_pop(&sim->heap));) {
        struct dst_event *event = (struct dst_event *)entry;
        if (event->run && --event->run->references == 0)
            dst_run_release(event->run);
        free(event);
    }
    timer_heap_free(&sim->heap);
    for (int i = 0; i < DST_MAX_CLUSTERS; i++)
        dst_snapshot_forget(&sim->clusters[i]);
    for (int k = 0; k < DST_KIND_COUNT; k++) {
        if (sim->watches[k])
            store_watch_stop(sim->store, sim->watches[k]);
        if (sim->resources[k])
            cache_free(&sim->truth[k]);
    }
    string_pool_free(&sim->truth_pool);
    if (sim->pd_world)
        pd_world_close(sim->pd_world, NULL, NULL);
    if (sim->world)
        world_stop(sim->world);
    if (sim->store)
        store_free(sim->store);
    dst_faults_free(sim);
    free(sim->deleted.pods);
    free(sim->deleted.latest);
}

/* ---- the loop ---- */

static void dispatch(struct dst *sim, struct dst_event *event)
{
    switch (event->type) {
    case DST_EVENT_FAULT:
        dst_fault_event(sim, event);
        break;
    case DST_EVENT_RESTART:
        if (!sim->op.up) {
            dst_trace(sim, "operator starts again");
            dst_operator_start(sim);
        }
        break;
    default:
        dst_operator_event(sim, event);
        break;
    }
}

static bool all_converged(struct dst *sim)
{
    for (int i = 0; i < sim->cluster_count; i++) {
        char why[256];
        if (!dst_check_converged(sim, i, why, sizeof why))
            return false;
    }
    return true;
}

bool dst_run(const struct dst_options *options, struct dst_result *result)
{
    struct dst *sim = calloc(1, sizeof *sim);
    *result = (struct dst_result){ 0 };
    if (!sim) {
        snprintf(result->detail, sizeof result->detail, "out of memory");
        return false;
    }
    sim->options = *options;
    sim->result = result;
    sim->rng.state = options->seed * 0x2545f4914f6cdd1dull + 0x1234567;
    bool ok = build_world(sim) && dst_faults_plan(sim);
    if (!ok && !sim->failed)
        dst_fail(sim, "the simulated world could not be built");
    if (ok)
        dst_operator_start(sim);
    uint64_t last_instant = 0, same_instant = 0, next_converge_check = 0, healed_at = 0;
    while (!sim->failed && !result->violated) {
        uint64_t now = dst_now(sim);
        uint64_t next = UINT64_MAX, due = 0;
        struct timer_heap_entry *top = timer_heap_peek(&sim->heap);
        if (top)
            next = top->due_ms;
        if (world_next_due(sim->world, &due) && due < next)
            next = due;
        if ((due = next_delivery(sim)) < next)
            next = due;
        if (sim->next_pd_tick_ms < next)
            next = sim->next_pd_tick_ms;
        if ((due = dst_operator_next_poll(sim)) < next)
            next = due;
        if (sim->op.up && sim->op.next_resync_ms < next)
            next = sim->op.next_resync_ms;
        if (sim->phase == DST_PHASE_FAULTS && sim->heal_ms < next)
            next = sim->heal_ms;
        if (sim->phase == DST_PHASE_HEALED && next > sim->end_ms) {
            char why[256] = "";
            for (int i = 0; i < sim->cluster_count; i++)
                if (!dst_check_converged(sim, i, why, sizeof why))
                    break;
            dst_violation(sim, DST_INV_CONVERGES, "not at its spec %llu s after the faults stopped: %s",
                          (unsigned long long)((sim->end_ms - healed_at) / 1000), why);
            break;
        }
        if (next > now)
            clock_fake_advance(&sim->clock, next - now);
        now = dst_now(sim);
        if (now == last_instant) {
            if (++same_instant > SAME_INSTANT_STEPS_MAX) {
                dst_fail(sim, "no progress at %llu ms", (unsigned long long)(now - sim->start_ms));
                break;
            }
        } else {
            last_instant = now;
            same_instant = 0;
        }
        world_run_due(sim->world);
        if (now >= sim->next_pd_tick_ms) {
            pd_world_tick(sim->pd_world);
            sim->next_pd_tick_ms = now + DST_PD_TICK_MS;
        }
        while ((top = timer_heap_peek(&sim->heap)) && top->due_ms <= now && !sim->failed) {
            struct dst_event *event = (struct dst_event *)timer_heap_pop(&sim->heap);
            dispatch(sim, event);
            if (event->run && --event->run->references == 0)
                dst_run_release(event->run);
            free(event);
        }
        deliver_due(sim);
        dst_operator_poll(sim);
        if (sim->op.up && now >= sim->op.next_resync_ms) {
            sim->op.next_resync_ms = now + DST_RESYNC_MS;
            for (int i = 0; i < sim->cluster_count; i++)
                dst_enqueue(sim, i);
        }
        if (sim->phase == DST_PHASE_FAULTS && now >= sim->heal_ms) {
            dst_faults_heal(sim);
            sim->phase = DST_PHASE_HEALED;
            healed_at = now;
            sim->end_ms = now + DST_CONVERGE_BOUND_MS;
            next_converge_check = now;
        }
        dst_operator_passes(sim);
        result->steps++;
        dst_check_step(sim);
        if (sim->phase == DST_PHASE_HEALED && now >= next_converge_check && !result->violated) {
            next_converge_check = now + 1000;
            if (all_converged(sim)) {
                result->converged = true;
                result->converge_ms = now - healed_at;
                break;
            }
        }
    }
    result->simulated_ms = dst_now(sim) - sim->start_ms;
    bool built = !sim->failed;
    if (sim->failed)
        snprintf(result->detail, sizeof result->detail, "%s", sim->error);
    teardown(sim);
    free(sim);
    return built;
}
