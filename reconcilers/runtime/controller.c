#include "reconcilers/runtime/controller.h"

#include "pd/pd_snapshot.h"
#include "reactor/log.h"
#include "reactor/workqueue.h"
#include "reactor/workqueue_metrics.h"
#include "reconcilers/runtime/executor.h"
#include "reconcilers/runtime/expectations.h"
#include "reconcilers/runtime/observe.h"
#include "reconcilers/runtime/validation_memo.h"
#include "reconcilers/planner/observed.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/api/tidbcluster.h"
#include "watchers/enqueue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often a cluster waiting for its own deletes to show is looked at,
 * and how long at most it waits for them. */
#define EXPECTATIONS_RECHECK_MS 100
#define EXPECTATIONS_DEADLINE_MS 30000

struct controller {
    struct controller_options options;
    struct manager *manager;
    /* Maps every watched change to cluster keys (watchers/enqueue.h);
     * registered on the manager while the controller lives. */
    struct cluster_enqueuer enqueuer;
    struct workqueue *queue;
    struct workqueue_metrics *queue_metrics;
    struct pd_snapshots *snapshots;
    struct executor *executor;
    struct validation_memo *validation; /* each cluster's problems, once per generation */
    struct expectations *expectations;  /* pod deletes sent, not yet in the cache */
    uv_timer_t resync;
    bool leading;
    bool was_synced;
    /* Closing: how many parts still have to report closed. */
    int closing_parts;
    void (*closed)(void *data);
    void *closed_data;
    struct metrics_family *reconciles;
    struct metrics_histogram *reconcile_seconds;
    struct metrics_family *members_ready;     /* {namespace, cluster, component}, rebuilt at render */
    bool collector_registered;
};

/* One reconcile in flight: the key it holds in the queue. */
struct reconcile {
    struct controller *controller;
    char *key;
    uint64_t started_ms;
    bool writes_pd;   /* the plan writes to PD: read PD again once it ran */
};

static bool may_write(const struct controller *controller)
{
    return controller->options.may_write ? controller->options.may_write(controller->options.data) : true;
}

/* The executor asks the controller: the lease (rule 6) and the PD client
 * of a cluster (its snapshot's, so PD writes share the poller's client). */
static bool executor_may_write(void *data)
{
    return may_write(data);
}

static struct pd_client *executor_pd_client(void *data, const char *namespace, const char *cluster)
{
    struct controller *controller = data;
    char key[512];
    int length = snprintf(key, sizeof key, "%s/%s", namespace ? namespace : "", cluster ? cluster : "");
    if (length < 0 || (size_t)length >= sizeof key) return NULL;
    struct pd_snapshot *snapshot = pd_snapshots_get(controller->snapshots, key);
    return snapshot ? pd_snapshot_client(snapshot) : NULL;
}

static void enqueue(struct controller *controller, const char *key)
{
    if (key && *key && controller->queue) workqueue_add(controller->queue, key);
}

static const struct cache *cache_of(const struct controller *controller, enum manager_kind kind)
{
    return manager_cache(controller->manager, kind);
}

static void requeue_all(struct controller *controller)
{
    size_t cursor = 0;
    const struct cache *clusters = cache_of(controller, MANAGER_TIDBCLUSTERS);
    for (const struct object_meta *tc; (tc = cache_next(clusters, &cursor));) enqueue(controller, tc->key);
}

/* A storage class belongs to no cluster, yet whether one exists decides the
 * explanation of every cluster whose claims wait for it (including those
 * with no claim yet): requeue all clusters (rare events). Every other kind
 * goes through the enqueuer. */
static void on_storage_class_change(void *data, const struct object_meta *object)
{
    (void)object;
    struct controller *controller = data;
    if (controller->was_synced) requeue_all(controller);
}

static void on_storage_class_update(void *data, const struct object_meta *old, const struct object_meta *now)
{
    (void)old;
    on_storage_class_change(data, now);
}

static void on_pd_change(const char *key, void *data)
{
    enqueue(data, key);
}

static bool synced(const struct controller *controller)
{
    return manager_synced(controller->manager);
}

static void count_reconcile(struct controller *controller, const char *result, uint64_t started_ms)
{
    if (controller->reconciles) {
        struct metrics_counter *counter = metrics_counter_with(controller->reconciles, result);
        if (counter) metrics_counter_inc(counter);
    }
    if (controller->reconcile_seconds)
        metrics_histogram_observe(controller->reconcile_seconds,
                                  (double)(clock_now_ms(controller->options.clock) - started_ms) / 1000.0);
}

/* At every scrape: ready members per cluster and component (from the pod
 * cache, so clusters that are gone drop out). */
static void collect_metrics(struct metrics_registry *registry, void *data)
{
    (void)registry;
    struct controller *controller = data;
    if (controller->members_ready) {
        metrics_family_clear(controller->members_ready);
        const struct cache *clusters = cache_of(controller, MANAGER_TIDBCLUSTERS);
        const struct cache *pods = cache_of(controller, MANAGER_PODS);
        size_t cursor = 0;
        for (const struct object_meta *tc; (tc = cache_next(clusters, &cursor));) {
            double ready[TC_COMPONENT_COUNT] = {0};
            size_t count = 0;
            const struct object_meta *const *members = cache_by_cluster(pods, tc->key, &count);
            for (size_t i = 0; i < count; i++) {
                const struct kube_pod *pod = (const struct kube_pod *)members[i];
                const char *component = object_label(&pod->meta, LABEL_COMPONENT);
                for (int c = 0; component && c < TC_COMPONENT_COUNT; c++)
                    if (strcmp(component, tidbcluster_component_name((enum tc_component)c)) == 0 &&
                        pod->ready == CONDITION_TRUE && !pod->meta.deletion_ms)
                        ready[c]++;
            }
            for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
                struct metrics_gauge *gauge = metrics_gauge_with(
                    controller->members_ready, tc->namespace, tc->name,
                    tidbcluster_component_name((enum tc_component)c));
                if (gauge) metrics_gauge_set(gauge, ready[c]);
            }
        }
    }
}

static void reconcile_free(struct reconcile *reconcile)
{
    free(reconcile->key);
    free(reconcile);
}

static void on_executed(const struct executor_result *result, void *data)
{
    struct reconcile *reconcile = data;
    struct controller *controller = reconcile->controller;
    const char *key = reconcile->key;
    if (reconcile->writes_pd && controller->snapshots) {
        /* What the write did is read back before the next disruption
         * (rule one_disruption_at_a_time waits for it). */
        struct pd_snapshot *snapshot = pd_snapshots_get(controller->snapshots, key);
        if (snapshot) pd_snapshot_refresh_now(snapshot);
    }
    if (result->failed || result->incomplete || result->refused)
        expectations_forget(controller->expectations, key); /* a delete may not have happened */
    if (controller->queue) {
        if (result->failed || result->incomplete) {
            count_reconcile(controller, "error", reconcile->started_ms);
            workqueue_add_rate_limited(controller->queue, key);
        } else {
            count_reconcile(controller, result->refused ? "refused" : "success", reconcile->started_ms);
            workqueue_forget(controller->queue, key);
            /* Whatever we changed comes back as watch events; look again
             * soon in case nothing does (a refused or benign-only run). */
            if (result->benign) workqueue_add_after(controller->queue, key, 1000);
        }
        workqueue_done(controller->queue, key);
    }
    reconcile_free(reconcile);
}

/* Splits "ns/name"; false when malformed. */
static bool split_key(const char *key, char *namespace, size_t ns_size, const char **name)
{
    const char *slash = strchr(key, '/');
    if (!slash || (size_t)(slash - key) >= ns_size) return false;
    memcpy(namespace, key, (size_t)(slash - key));
    namespace[slash - key] = '\0';
    *name = slash + 1;
    return true;
}

/* The PD snapshot of a cluster that has a PD component, created on first use. */
static const struct pd_snapshot_data *pd_snapshot_for(struct controller *controller, const char *key,
                                                      const struct tidbcluster *cluster)
{
    if (!cluster->spec.component[TC_PD].present) {
        pd_snapshots_remove(controller->snapshots, key);
        return NULL;
    }
    struct pd_snapshot *snapshot = pd_snapshots_get(controller->snapshots, key);
    if (!snapshot) {
        char *url = pd_base_url(tidbcluster_instance(cluster), cluster->namespace, false);
        if (!url) return NULL;
        snapshot = pd_snapshots_add(controller->snapshots, key, url, NULL);
        free(url);
    }
    return snapshot ? pd_snapshot_data(snapshot) : NULL;
}

static bool plan_cluster(struct controller *controller, const char *key, struct plan *plan)
{
    char namespace[256];
    const char *name = NULL;
    if (!split_key(key, namespace, sizeof namespace, &name)) return false;
    const struct kube_tidbcluster *object =
        (const struct kube_tidbcluster *)cache_get(cache_of(controller, MANAGER_TIDBCLUSTERS), key);
    if (!object) {
        /* Gone: its objects go by garbage collection; stop polling its PD. */
        pd_snapshots_remove(controller->snapshots, key);
        validation_memo_remove(controller->validation, key);
        expectations_forget(controller->expectations, key);
        return false;
    }
    char uid[OBJECT_UID_SIZE];
    if (!plan_init(plan, namespace, name, object_uid(&object->meta, uid))) return false;
    int64_t now_ms = clock_wall_ms(controller->options.clock);
    struct tidbcluster cluster;
    char *error = NULL;
    if (!tidbcluster_decode(object->object, &cluster, &error)) {
        if (error) planner_plan_undecodable(object->object, error, now_ms, plan);
        else plan->incomplete = true; /* out of memory: retry, do not blame the spec */
        free(error);
        tidbcluster_free(&cluster);
        return true;
    }
    if (!tidbcluster_apply_defaults(&cluster)) {
        plan->incomplete = true;
        tidbcluster_free(&cluster);
        return true;
    }
    struct observe_caches caches = {
        cache_of(controller, MANAGER_PODS), cache_of(controller, MANAGER_PVCS), cache_of(controller, MANAGER_PVS),
        cache_of(controller, MANAGER_SERVICES), cache_of(controller, MANAGER_CONFIGMAPS),
        cache_of(controller, MANAGER_STORAGE_CLASSES), cache_of(controller, MANAGER_NODES),
    };
    struct observation observation;
    bool ok = observe_cluster(&caches, key, &cluster, pd_snapshot_for(controller, key, &cluster), now_ms,
                              &observation);
    /* Validation and the TOML check once per spec generation. */
    observation.world.problems = validation_memo_get(controller->validation, key, &cluster);
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        observation.world.failover_period_ms[c] = (int64_t)controller->options.failover_period_ms[c];
    ok = ok && planner_plan(&observation.world, plan);
    if (!ok) plan->incomplete = true;
    observe_done(&observation);
    /* Poll PD fast while there is something to do. */
    struct pd_snapshot *snapshot = pd_snapshots_get(controller->snapshots, key);
    if (snapshot) pd_snapshot_set_fast(snapshot, plan->count > 0 || plan->requeue_after_ms > 0);
    tidbcluster_free(&cluster);
    return true;
}

static void reconcile_key(struct workqueue *queue, const char *key, void *data)
{
    struct controller *controller = data;
    uint64_t started = clock_now_ms(controller->options.clock);
    if (!synced(controller)) {
        /* Rule 5: never plan from a half-synced cache. */
        workqueue_done(queue, key);
        workqueue_add_after(queue, key, 200);
        return;
    }
    if (!controller->leading || !may_write(controller)) {
        workqueue_done(queue, key);
        return;
    }
    /* A pod this controller deleted may still look alive in the cache:
     * plan once the cache shows it (expectations.h). */
    if (expectations_pending(controller->expectations, key, cache_of(controller, MANAGER_PODS), started)) {
        workqueue_done(queue, key);
        workqueue_add_after(queue, key, EXPECTATIONS_RECHECK_MS);
        return;
    }
    struct plan plan = {0};
    if (!plan_cluster(controller, key, &plan)) {
        plan_free(&plan);
        workqueue_forget(queue, key);
        workqueue_done(queue, key);
        count_reconcile(controller, "gone", started);
        return;
    }
    struct reconcile *reconcile = calloc(1, sizeof *reconcile);
    char *copy = strdup(key);
    if (!reconcile || !copy) {
        free(reconcile);
        free(copy);
        plan_free(&plan);
        workqueue_done(queue, key);
        workqueue_add_rate_limited(queue, key);
        return;
    }
    *reconcile = (struct reconcile){ controller, copy, started, false };
    for (size_t i = 0; i < plan.count; i++)
        if (plan.actions[i].kind >= ACTION_PD_DELETE_MEMBER) reconcile->writes_pd = true;
    struct pd_snapshot *snapshot = reconcile->writes_pd ? pd_snapshots_get(controller->snapshots, key) : NULL;
    if (snapshot) pd_snapshot_note_write(snapshot);
    if (!expectations_expect(controller->expectations, key, &plan, started + EXPECTATIONS_DEADLINE_MS)) {
        /* Out of memory: without the memory of its deletes the next plan
         * could disrupt twice; run nothing now and retry. */
        plan.incomplete = true;
    }
    if (plan.requeue_after_ms) workqueue_add_after(queue, key, (int64_t)plan.requeue_after_ms);
    if (log_enabled(LOG_DEBUG)) {
        for (size_t i = 0; i < plan.count; i++) {
            char what[256];
            plan_describe_action(&plan.actions[i], what, sizeof what);
            log_debug("planned", "cluster=%s action=\"%s\"", key, what);
        }
    }
    executor_run(controller->executor, &plan, on_executed, reconcile);
}

static void on_resync(uv_timer_t *timer)
{
    struct controller *controller = timer->data;
    bool now_synced = synced(controller);
    if (now_synced && !controller->was_synced) {
        controller->was_synced = true;
        /* From now on only the periodic resync. */
        uv_timer_set_repeat(timer, controller->options.resync_ms);
    }
    if (now_synced) requeue_all(controller);
}

int controller_start(const struct controller_options *options, struct controller **out)
{
    *out = NULL;
    if (!options || !options->loop || !options->client || !options->http || !options->manager) return -EINVAL;
    struct controller *controller = calloc(1, sizeof *controller);
    if (!controller) return -ENOMEM;
    controller->options = *options;
    controller->manager = options->manager;
    if (!controller->options.clock) controller->options.clock = clock_system();
    if (!controller->options.workers) controller->options.workers = 4;
    if (!controller->options.resync_ms) controller->options.resync_ms = 60000;
    controller->leading = options->may_write == NULL;
    uv_timer_init(options->loop, &controller->resync);
    controller->resync.data = controller;

    struct metrics_registry *metrics = options->metrics;
    if (metrics) {
        controller->reconciles = metrics_counter_family(metrics, "tidb_operator_reconciles_total",
                                                        "Reconciles of TidbClusters by result.", "result");
        controller->reconcile_seconds = metrics_histogram(metrics, "tidb_operator_reconcile_duration_seconds",
                                                          "Time from taking a cluster key to handing its plan to the executor.",
                                                          metrics_default_buckets, 11);
        controller->queue_metrics = workqueue_metrics_register(metrics);
        controller->members_ready = metrics_gauge_family(
            metrics, "tidb_operator_cluster_members_ready", "Ready member pods per cluster and component.",
            "namespace", "cluster", "component");
        controller->collector_registered = metrics_register_collector(metrics, collect_metrics, NULL, controller);
    }
    struct workqueue_observer observer = {0};
    if (controller->queue_metrics) workqueue_metrics_observer(controller->queue_metrics, "tidbcluster", &observer);
    struct workqueue_options queue_options = {
        .clock = controller->options.clock, .loop = options->loop, .handler = reconcile_key,
        .handler_data = controller, .concurrency = controller->options.workers,
        .observer = controller->queue_metrics ? &observer : NULL,
    };
    struct pd_snapshots_options snapshot_options = {
        .loop = options->loop, .http = options->http, .clock = controller->options.clock,
        .fast_interval_ms = options->pd_fast_interval_ms, .slow_interval_ms = options->pd_slow_interval_ms,
        .metrics = metrics, .on_change = on_pd_change, .user_data = controller,
    };
    struct executor_options executor_options = {
        .loop = options->loop, .client = options->client, .clock = controller->options.clock,
        .may_write = executor_may_write, .pd_client_for = executor_pd_client, .data = controller,
        .metrics = metrics, .max_in_flight = options->max_actions_in_flight,
    };
    int rc = workqueue_new(&queue_options, &controller->queue);
    if (rc == 0 && controller->queue_metrics)
        workqueue_metrics_attach(controller->queue_metrics, "tidbcluster", controller->queue);
    if (rc == 0) controller->snapshots = pd_snapshots_create(&snapshot_options);
    if (rc == 0 && !controller->snapshots) rc = -ENOMEM;
    if (rc == 0) rc = executor_new(&executor_options, &controller->executor);
    if (rc == 0 && !(controller->validation = validation_memo_new())) rc = -ENOMEM;
    if (rc == 0 && !(controller->expectations = expectations_new())) rc = -ENOMEM;
    if (rc == 0) {
        controller->enqueuer = (struct cluster_enqueuer){ .queue = controller->queue };
        rc = manager_add_enqueuer(controller->manager, &controller->enqueuer);
    }
    if (rc == 0) {
        struct informer_handlers classes = {
            on_storage_class_change, on_storage_class_update, on_storage_class_change, controller,
        };
        rc = manager_add_handlers(controller->manager, MANAGER_STORAGE_CLASSES, &classes);
    }
    if (rc != 0) {
        log_error("controller start failed", "error=%d", rc);
        *out = controller;
        controller_close(controller, NULL, NULL);
        *out = NULL;
        return rc;
    }
    /* Check for the first sync quickly, then resync on the long period. */
    uv_timer_start(&controller->resync, on_resync, 100, 100);
    *out = controller;
    return 0;
}

void controller_set_leading(struct controller *controller, bool leading)
{
    if (controller->leading == leading) return;
    controller->leading = leading;
    if (leading) {
        log_info("leading: reconciling every cluster", "clusters=%zu",
                 cache_count(cache_of(controller, MANAGER_TIDBCLUSTERS)));
        if (synced(controller)) requeue_all(controller);
    } else {
        executor_cancel_all(controller->executor);
    }
}

static void part_closed(void *data)
{
    struct controller *controller = data;
    if (--controller->closing_parts > 0) return;
    void (*closed)(void *) = controller->closed;
    void *closed_data = controller->closed_data;
    validation_memo_free(controller->validation);
    expectations_free(controller->expectations);
    free(controller);
    if (closed) closed(closed_data);
}

static void on_timer_closed(uv_handle_t *handle) { part_closed(handle->data); }

void controller_close(struct controller *controller, void (*closed)(void *data), void *data)
{
    controller->closed = closed;
    controller->closed_data = data;
    controller->closing_parts = 1; /* the timer */
    /* No more events from the shared caches: they outlive us. */
    manager_remove_handlers(controller->manager, &controller->enqueuer);
    manager_remove_handlers(controller->manager, controller);
    if (controller->queue_metrics && controller->queue)
        workqueue_metrics_detach(controller->queue_metrics, controller->queue);
    if (controller->collector_registered)
        metrics_unregister_collector(controller->options.metrics, collect_metrics, controller);
    controller->collector_registered = false;
    if (controller->snapshots) controller->closing_parts++;
    if (controller->executor) controller->closing_parts++;
    if (controller->queue) controller->closing_parts++;
    uv_close((uv_handle_t *)&controller->resync, on_timer_closed);
    if (controller->executor) executor_close(controller->executor, part_closed, controller);
    if (controller->snapshots) pd_snapshots_close(controller->snapshots, part_closed, controller);
    if (controller->queue) {
        struct workqueue *queue = controller->queue;
        controller->queue = NULL; /* executor callbacks no longer touch it */
        workqueue_shutdown(queue);
        workqueue_close(queue, part_closed, controller);
    }
}
