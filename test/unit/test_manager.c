/* The informer manager against the simulated API server, in-process on one
 * loop: it syncs only when every kind has listed, caches PersistentVolumes,
 * serves every borrower from the same caches and handler fan-out, and with
 * the cluster enqueuer a node change queues only the clusters with pods on
 * that node, a PV change only its claim's cluster. Every wait is for a
 * condition, bounded. */
#include "reactor/buffer.h"
#include "reactor/health.h"
#include "reactor/http_client.h"
#include "reactor/metrics.h"
#include "reactor/workqueue.h"
#include "reconcilers/runtime/manager.h"
#include "test/sim/api_server.h"
#include "test/sim/store.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define WAIT_MS 20000

/* --- the world: a store, its API server, a client, a manager --- */

struct world {
    uv_loop_t loop;
    struct store *store;
    struct api_server *api;
    struct http_client *http;
    struct kube_connection connection;
    struct kube_client *client;
    struct metrics_registry *metrics;
    struct health *health;
    struct manager *manager;
};

static const struct resource *resource(struct world *world, const char *group, const char *version,
                                       const char *plural)
{
    return resources_find(store_resources(world->store), group, version, plural);
}

/* Creates an object from printf-formatted JSON; false when the store refuses it. */
static bool create(struct world *world, const struct resource *kind, const char *namespace,
                   const char *format, ...) __attribute__((format(printf, 4, 5)));
static bool create(struct world *world, const struct resource *kind, const char *namespace,
                   const char *format, ...)
{
    char json[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(json, sizeof json, format, args);
    va_end(args);
    cJSON *object = cJSON_Parse(json);
    if (object == NULL || kind == NULL) {
        cJSON_Delete(object);
        return false;
    }
    struct store_reply reply = {0};
    bool ok = store_create(world->store, kind, namespace, object, &reply);
    if (!ok)
        fprintf(stderr, "store refused %s: %s\n", json, reply.error.message ? reply.error.message : "?");
    store_reply_clear(&reply);
    return ok;
}

static bool world_open(struct world *world)
{
    memset(world, 0, sizeof *world);
    if (uv_loop_init(&world->loop) != 0)
        return false;
    world->store = store_new(&(struct store_options){.random_seed = 3, .history_size = 10000});
    if (world->store == NULL)
        return false;
    /* The TidbCluster kind is served once its CRD is registered. */
    cJSON *crd = e2e_repo_yaml_first("manifests/crd/pingcap.com_tidbclusters.yaml");
    struct store_reply reply = {0};
    bool crd_ok = crd != NULL &&
                  store_create(world->store,
                               resource(world, "apiextensions.k8s.io", "v1", "customresourcedefinitions"),
                               NULL, crd, &reply);
    store_reply_clear(&reply);
    if (!crd_ok)
        return false;
    world->api = api_server_start(&world->loop, world->store,
                                  &(struct api_server_options){.token = "token", .bookmark_interval_ms = 100});
    world->http = http_client_init(&world->loop, NULL);
    world->metrics = metrics_registry_create();
    world->health = health_create();
    if (world->api == NULL || world->http == NULL || world->metrics == NULL || world->health == NULL)
        return false;
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", api_server_port(world->api));
    world->connection.server = strdup(server);
    world->connection.token = strdup("token");
    world->connection.namespace = strdup("default");
    struct kube_client_options options = {
        .loop = &world->loop, .http = world->http, .connection = &world->connection,
        .retry_base_ms = 10, .retry_max_ms = 50, .max_attempts = 2, .request_timeout_ms = 10000,
        .qps = 1000, .burst = 1000,
    };
    return kube_client_new(&options, &world->client) == 0;
}

static int world_start_manager(struct world *world)
{
    struct manager_options options = {
        .loop = &world->loop, .client = world->client, .metrics = world->metrics,
        .health = world->health, .backoff_initial_ms = 20, .backoff_max_ms = 100,
    };
    return manager_start(&options, &world->manager);
}

static void on_tick(uv_timer_t *timer)
{
    (void)timer;
}

static bool run_until(struct world *world, bool (*done)(void *), void *data)
{
    uint64_t start = uv_now(&world->loop);
    uv_timer_t tick;
    uv_timer_init(&world->loop, &tick);
    while (!done(data) && uv_now(&world->loop) - start < WAIT_MS) {
        uv_timer_start(&tick, on_tick, 10, 0);
        uv_run(&world->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&world->loop, UV_RUN_NOWAIT);
    return done(data);
}

static bool is_synced(void *data)
{
    return manager_synced(((struct world *)data)->manager);
}

static void set_true(void *data)
{
    *(bool *)data = true;
}

static void world_close(struct world *world)
{
    bool manager_closed = world->manager == NULL, client_closed = world->client == NULL;
    bool http_closed = world->http == NULL, api_closed = world->api == NULL;
    if (world->manager != NULL)
        manager_close(world->manager, set_true, &manager_closed);
    while (!manager_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    if (world->client != NULL)
        kube_client_close(world->client, set_true, &client_closed);
    while (!client_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    if (world->http != NULL)
        http_client_close(world->http, set_true, &http_closed);
    if (world->api != NULL)
        api_server_close(world->api, set_true, &api_closed);
    while (!http_closed || !api_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    uv_run(&world->loop, UV_RUN_DEFAULT);
    store_free(world->store);
    kube_connection_free(&world->connection);
    health_free(world->health);
    metrics_registry_free(world->metrics);
    CHECK_INT(uv_loop_close(&world->loop), 0);
}

/* --- objects --- */

static bool create_pod(struct world *world, const char *name, const char *instance, const char *node)
{
    return create(world, resource(world, "", "v1", "pods"), "default",
                  "{\"metadata\":{\"name\":\"%s\",\"labels\":{"
                  "\"app.kubernetes.io/managed-by\":\"tidb-operator\","
                  "\"app.kubernetes.io/instance\":\"%s\"}},"
                  "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
                  name, instance, node);
}

static bool create_node(struct world *world, const char *name)
{
    return create(world, resource(world, "", "v1", "nodes"), NULL,
                  "{\"metadata\":{\"name\":\"%s\"},"
                  "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}", name);
}

static bool create_pv(struct world *world, const char *name, const char *claim)
{
    return create(world, resource(world, "", "v1", "persistentvolumes"), NULL,
                  "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"capacity\":{\"storage\":\"10Gi\"},"
                  "\"accessModes\":[\"ReadWriteOnce\"],\"storageClassName\":\"local\","
                  "\"persistentVolumeReclaimPolicy\":\"Retain\",\"hostPath\":{\"path\":\"/mnt/%s\"},"
                  "\"claimRef\":{\"namespace\":\"default\",\"name\":\"%s\"}}}",
                  name, name, claim);
}

/* Replaces an object's status (a status subresource write) from JSON. */
static bool set_status(struct world *world, const struct resource *kind, const char *namespace,
                       const char *name, const char *status)
{
    struct store_error error = {0};
    struct store_object *current = store_get(world->store, kind, namespace, name, &error);
    store_error_clear(&error);
    if (current == NULL)
        return false;
    cJSON *copy = cJSON_Duplicate(store_object_tree(current), true);
    store_object_release(current);
    cJSON *value = cJSON_Parse(status);
    if (copy == NULL || value == NULL) {
        cJSON_Delete(copy);
        cJSON_Delete(value);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
    cJSON_AddItemToObject(copy, "status", value);
    struct store_reply reply = {0};
    bool ok = store_update_status(world->store, kind, namespace, name, copy, &reply) &&
              reply.outcome == STORE_UPDATED;
    store_reply_clear(&reply);
    return ok;
}

/* --- waits --- */

struct kind_wait {
    struct world *world;
    enum manager_kind kind;
    size_t count;          /* objects in the cache, or */
    uint64_t updates;      /* informer updates applied */
};

static bool cache_has_count(void *data)
{
    struct kind_wait *wait = data;
    return cache_count(manager_cache(wait->world->manager, wait->kind)) >= wait->count;
}

static bool kind_updated(void *data)
{
    struct kind_wait *wait = data;
    struct informer_stats stats;
    manager_get_stats(wait->world->manager, wait->kind, &stats);
    return stats.updates >= wait->updates;
}

/* Every kind but nodes has listed, and the nodes' list has failed at least once. */
static bool all_but_nodes_listed(void *data)
{
    struct world *world = data;
    for (int k = 0; k < MANAGER_KIND_COUNT; k++)
        if (k != MANAGER_NODES && !manager_kind_synced(world->manager, (enum manager_kind)k))
            return false;
    struct informer_stats stats;
    manager_get_stats(world->manager, MANAGER_NODES, &stats);
    return stats.failures >= 1;
}

/* --- cases --- */

static void synced_only_when_every_kind_has_listed(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(create_node(&world, "n1"));
    /* Node lists fail until the fault is cleared. */
    REQUIRE(api_server_add_fault(world.api, &(struct api_fault){
        .verb = "list", .resource = "nodes", .count = 100000, .code = 500}));
    REQUIRE(world_start_manager(&world) == 0);
    CHECK(!manager_synced(world.manager));
    CHECK(!health_ready(world.health));
    CHECK(run_until(&world, all_but_nodes_listed, &world));
    CHECK(!manager_kind_synced(world.manager, MANAGER_NODES));
    CHECK(!manager_synced(world.manager));
    CHECK(!health_ready(world.health));
    struct buffer body = {0};
    CHECK(health_render_readyz(world.health, true, &body) == 503);
    CHECK(buffer_string(&body) && strstr(buffer_string(&body), "[-]caches-synced failed") != NULL);
    buffer_clear(&body);

    api_server_clear_faults(world.api);
    CHECK(run_until(&world, is_synced, &world));
    CHECK(health_ready(world.health));
    CHECK(health_render_readyz(world.health, true, &body) == 200);
    CHECK(buffer_string(&body) && strstr(buffer_string(&body), "[+]caches-synced ok") != NULL);
    buffer_free(&body);
    CHECK(cache_get(manager_cache(world.manager, MANAGER_NODES), "n1") != NULL);
    /* Out-of-range kinds are refused, not read. */
    CHECK(manager_cache(world.manager, MANAGER_KIND_COUNT) == NULL);
    CHECK(!manager_kind_synced(world.manager, MANAGER_KIND_COUNT));
    CHECK(manager_object_kind(MANAGER_PVS) == &object_kind_pv);
    CHECK_STR(manager_kind_name(MANAGER_PVS), "persistentvolumes");
    world_close(&world);
}

static void persistent_volumes_are_cached(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(create_pv(&world, "pv-1", "data-basic-tikv-0"));
    REQUIRE(world_start_manager(&world) == 0);
    REQUIRE(run_until(&world, is_synced, &world));
    const struct cache *pvs = manager_cache(world.manager, MANAGER_PVS);
    REQUIRE(pvs != NULL && pvs->kind == &object_kind_pv);
    const struct kube_pv *pv = (const struct kube_pv *)cache_get(pvs, "pv-1");
    REQUIRE(pv != NULL);
    CHECK_STR(pv->claim_namespace, "default");
    CHECK_STR(pv->claim_name, "data-basic-tikv-0");
    CHECK_STR(pv->storage_class, "local");
    CHECK_STR(pv->reclaim_policy, "Retain");
    CHECK_INT(pv->capacity_bytes, 10ull << 30);

    /* Later PVs arrive through the watch. */
    REQUIRE(create_pv(&world, "pv-2", "data-basic-tikv-1"));
    struct kind_wait wait = {&world, MANAGER_PVS, 2, 0};
    CHECK(run_until(&world, cache_has_count, &wait));
    CHECK(cache_get(pvs, "pv-2") != NULL);

    /* The informer metrics keep their names, with the new resource. */
    struct buffer text = {0};
    REQUIRE(metrics_render(world.metrics, &text));
    const char *rendered = buffer_string(&text);
    CHECK(strstr(rendered, "tidb_operator_informer_lists_total{resource=\"persistentvolumes\"} 1") != NULL);
    CHECK(strstr(rendered, "tidb_operator_informer_lists_total{resource=\"tidbclusters\"} 1") != NULL);
    CHECK(strstr(rendered, "tidb_operator_informer_watches_total{resource=\"nodes\"}") != NULL);
    CHECK(strstr(rendered, "tidb_operator_informer_relists_gone_total{resource=\"pods\"} 0") != NULL);
    CHECK(strstr(rendered, "tidb_operator_informer_bad_events_total{resource=\"persistentvolumeclaims\"} 0") != NULL);
    buffer_free(&text);
    world_close(&world);
}

/* A borrower that records the pods it is told about. */
struct borrower {
    struct manager *manager;
    int adds, updates, deletes;
    const struct object_meta *last;  /* valid only during the call; compared, never read later */
    const struct object_meta *cached_at_call;
    bool remove_self_on_update;
};

static void borrower_add(void *data, const struct object_meta *object)
{
    struct borrower *borrower = data;
    borrower->adds++;
    borrower->last = object;
    borrower->cached_at_call = cache_get(manager_cache(borrower->manager, MANAGER_PODS), object->key);
}

static void borrower_update(void *data, const struct object_meta *old, const struct object_meta *now)
{
    (void)old;
    struct borrower *borrower = data;
    borrower->updates++;
    borrower->last = now;
    borrower->cached_at_call = cache_get(manager_cache(borrower->manager, MANAGER_PODS), now->key);
    if (borrower->remove_self_on_update)
        manager_remove_handlers(borrower->manager, borrower);
}

static void borrower_delete(void *data, const struct object_meta *object)
{
    struct borrower *borrower = data;
    borrower->deletes++;
    borrower->last = object;
}

static bool both_added(void *data)
{
    struct borrower *borrowers = data;
    return borrowers[0].adds >= 1 && borrowers[1].adds >= 1;
}

static bool second_updated(void *data)
{
    struct borrower *borrowers = data;
    return borrowers[1].updates >= 2;
}

static void borrowers_share_one_cache(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(world_start_manager(&world) == 0);
    struct borrower borrowers[2] = {{.manager = world.manager, .remove_self_on_update = true},
                                    {.manager = world.manager}};
    struct informer_handlers handlers[2];
    for (int i = 0; i < 2; i++) {
        handlers[i] = (struct informer_handlers){borrower_add, borrower_update, borrower_delete, &borrowers[i]};
        REQUIRE(manager_add_handlers(world.manager, MANAGER_PODS, &handlers[i]) == 0);
    }
    /* Bad registrations are refused. */
    CHECK_INT(manager_add_handlers(world.manager, MANAGER_KIND_COUNT, &handlers[0]), -EINVAL);
    CHECK_INT(manager_add_handlers(world.manager, MANAGER_PODS, NULL), -EINVAL);
    REQUIRE(run_until(&world, is_synced, &world));

    REQUIRE(create_pod(&world, "basic-tikv-0", "basic", "n1"));
    CHECK(run_until(&world, both_added, borrowers));
    /* Both were handed the very object the one shared cache holds. */
    CHECK(borrowers[0].last != NULL && borrowers[0].last == borrowers[1].last);
    CHECK(borrowers[0].cached_at_call == borrowers[0].last);
    CHECK(borrowers[1].cached_at_call == borrowers[1].last);
    CHECK(manager_cache(world.manager, MANAGER_PODS) == manager_cache(world.manager, MANAGER_PODS));

    /* The first removes itself during the dispatch; only the second hears on. */
    const struct resource *pods = resource(&world, "", "v1", "pods");
    REQUIRE(set_status(&world, pods, "default", "basic-tikv-0", "{\"phase\":\"Running\"}"));
    REQUIRE(set_status(&world, pods, "default", "basic-tikv-0", "{\"phase\":\"Failed\"}"));
    CHECK(run_until(&world, second_updated, borrowers));
    CHECK_INT(borrowers[0].updates, 1);
    CHECK_INT(borrowers[1].updates, 2);
    /* Removing an unknown data pointer is harmless. */
    manager_remove_handlers(world.manager, &world);
    manager_remove_handlers(world.manager, &borrowers[1]);
    world_close(&world);
}

/* Everything queued so far, "a b c" in queue order. */
static void drain(struct workqueue *queue, char *out, size_t size)
{
    out[0] = '\0';
    const char *key;
    while (workqueue_get(queue, &key) == 0) {
        if (out[0] != '\0')
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, key, size - strlen(out) - 1);
        workqueue_done(queue, key);
        workqueue_forget(queue, key);
    }
}

/* Keys in any order: sorted, so the check does not depend on index order. */
static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void drain_sorted(struct workqueue *queue, char *out, size_t size)
{
    char raw[512];
    drain(queue, raw, sizeof raw);
    char *words[32];
    size_t count = 0;
    for (char *save = NULL, *word = strtok_r(raw, " ", &save); word && count < 32;
         word = strtok_r(NULL, " ", &save))
        words[count++] = word;
    qsort(words, count, sizeof words[0], compare_strings);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            strncat(out, " ", size - strlen(out) - 1);
        strncat(out, words[i], size - strlen(out) - 1);
    }
}

static void node_change_queues_only_the_clusters_on_it(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(create_node(&world, "n1"));
    REQUIRE(create_node(&world, "n2"));
    REQUIRE(create_node(&world, "n3"));
    REQUIRE(create_pod(&world, "a-tikv-0", "a", "n1"));
    REQUIRE(create_pod(&world, "b-tikv-0", "b", "n1"));
    REQUIRE(create_pod(&world, "b-tikv-1", "b", "n2"));
    REQUIRE(create_pod(&world, "c-tikv-0", "c", "n2"));
    REQUIRE(create(&world, resource(&world, "", "v1", "persistentvolumeclaims"), "default",
                   "{\"metadata\":{\"name\":\"data-c-tikv-0\",\"labels\":{"
                   "\"app.kubernetes.io/managed-by\":\"tidb-operator\","
                   "\"app.kubernetes.io/instance\":\"c\"}},"
                   "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
                   "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}"));
    REQUIRE(create_pv(&world, "pv-c", "data-c-tikv-0"));
    REQUIRE(create_pv(&world, "pv-loose", "nobody"));
    REQUIRE(create(&world, resource(&world, "pingcap.com", "v1alpha1", "tidbclusters"), "default",
                   "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
                   "\"metadata\":{\"name\":\"a\"},\"spec\":{}}"));

    struct workqueue *queue = NULL;
    REQUIRE(workqueue_new(&(struct workqueue_options){0}, &queue) == 0);
    REQUIRE(world_start_manager(&world) == 0);
    struct cluster_enqueuer enqueuer = {.queue = queue};
    REQUIRE(manager_add_enqueuer(world.manager, &enqueuer) == 0);
    CHECK(enqueuer.pods == manager_cache(world.manager, MANAGER_PODS));
    CHECK(enqueuer.pvcs == manager_cache(world.manager, MANAGER_PVCS));
    REQUIRE(run_until(&world, is_synced, &world));
    char seen[512];
    /* The first lists queue every cluster that has something (nodes may
     * have listed before the pods: they add nothing then). */
    drain_sorted(queue, seen, sizeof seen);
    CHECK_STR(seen, "default/a default/b default/c");

    /* n1 goes NotReady: a and b have pods there, c does not. */
    const struct resource *nodes = resource(&world, "", "v1", "nodes");
    REQUIRE(set_status(&world, nodes, NULL, "n1",
                       "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}"));
    struct kind_wait wait = {&world, MANAGER_NODES, 0, 1};
    CHECK(run_until(&world, kind_updated, &wait));
    drain_sorted(queue, seen, sizeof seen);
    CHECK_STR(seen, "default/a default/b");

    /* n2: b and c. */
    REQUIRE(set_status(&world, nodes, NULL, "n2",
                       "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\"}]}"));
    wait.updates = 2;
    CHECK(run_until(&world, kind_updated, &wait));
    drain_sorted(queue, seen, sizeof seen);
    CHECK_STR(seen, "default/b default/c");

    /* n3 has nothing: no cluster is touched. */
    REQUIRE(set_status(&world, nodes, NULL, "n3",
                       "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}"));
    wait.updates = 3;
    CHECK(run_until(&world, kind_updated, &wait));
    drain_sorted(queue, seen, sizeof seen);
    CHECK_STR(seen, "");

    /* A PV change: the cluster of the claim it is bound to; a PV whose
     * claim is not ours: nothing. */
    const struct resource *pvs = resource(&world, "", "v1", "persistentvolumes");
    REQUIRE(set_status(&world, pvs, NULL, "pv-c", "{\"phase\":\"Released\"}"));
    REQUIRE(set_status(&world, pvs, NULL, "pv-loose", "{\"phase\":\"Released\"}"));
    struct kind_wait pv_wait = {&world, MANAGER_PVS, 0, 2};
    CHECK(run_until(&world, kind_updated, &pv_wait));
    drain_sorted(queue, seen, sizeof seen);
    CHECK_STR(seen, "default/c");

    /* Once removed, the enqueuer hears nothing more. */
    manager_remove_handlers(world.manager, &enqueuer);
    uint64_t added = enqueuer.keys_added;
    REQUIRE(set_status(&world, nodes, NULL, "n1",
                       "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}"));
    wait.updates = 4;
    CHECK(run_until(&world, kind_updated, &wait));
    CHECK_INT(enqueuer.keys_added, added);
    drain(queue, seen, sizeof seen);
    CHECK_STR(seen, "");
    world_close(&world);
    workqueue_close(queue, NULL, NULL);
}

static void handler_slots_are_bounded(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(world_start_manager(&world) == 0);
    struct borrower borrowers[MANAGER_MAX_HANDLERS + 1];
    memset(borrowers, 0, sizeof borrowers);
    for (int i = 0; i < MANAGER_MAX_HANDLERS; i++) {
        struct informer_handlers h = {borrower_add, borrower_update, borrower_delete, &borrowers[i]};
        CHECK_INT(manager_add_handlers(world.manager, MANAGER_NODES, &h), 0);
    }
    struct informer_handlers extra = {borrower_add, NULL, NULL, &borrowers[MANAGER_MAX_HANDLERS]};
    CHECK_INT(manager_add_handlers(world.manager, MANAGER_NODES, &extra), -ENOSPC);
    /* The enqueuer needs a slot on every kind: all or nothing. */
    struct workqueue *queue = NULL;
    REQUIRE(workqueue_new(&(struct workqueue_options){0}, &queue) == 0);
    struct cluster_enqueuer enqueuer = {.queue = queue};
    CHECK_INT(manager_add_enqueuer(world.manager, &enqueuer), -ENOSPC);
    CHECK(enqueuer.pods == NULL);
    /* A freed slot is reused. */
    manager_remove_handlers(world.manager, &borrowers[0]);
    CHECK_INT(manager_add_enqueuer(world.manager, &enqueuer), 0);
    CHECK_INT(manager_add_handlers(world.manager, MANAGER_NODES, &extra), -ENOSPC);
    world_close(&world);
    workqueue_close(queue, NULL, NULL);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(synced_only_when_every_kind_has_listed),
        TEST_CASE(persistent_volumes_are_cached),
        TEST_CASE(borrowers_share_one_cache),
        TEST_CASE(node_change_queues_only_the_clusters_on_it),
        TEST_CASE(handler_slots_are_bounded),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
