/* Informers against the simulated API server, in-process on one loop: large
 * lists, storms of changes, and the server's faults (streams closed, history
 * compacted, 429/500 bursts, listener restarts). After each run the cache
 * must equal a fresh list of the store, field by field, and no handler may
 * ever have seen an object go backwards. */
#include "reactor/http_client.h"
#include "reactor/http_server.h"
#include "reactor/key_map.h"
#include "test/sim/api_server.h"
#include "test/sim/selector.h"
#include "test/sim/store.h"
#include "reactor/metrics.h"
#include "test/support/test.h"
#include "watchers/informer.h"

#include <stdio.h>
#include <stdlib.h>

static bool under_valgrind(void)
{
    const char *v = getenv("TEST_UNDER_VALGRIND");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* --- what handlers saw ------------------------------------------------------------- */

struct seen_entry {
    uint64_t rv;
    bool present;
    char key[];
};

struct seen {
    struct key_map keys;
    int adds, updates, deletes;
    int backwards;          /* an object older than one already delivered */
    int inconsistent;       /* add of a present key, update/delete of an absent one */
};

static struct seen_entry *seen_entry(struct seen *seen, const char *key)
{
    struct seen_entry *entry = key_map_get(&seen->keys, key);
    if (entry == NULL) {
        size_t length = strlen(key);
        entry = calloc(1, sizeof *entry + length + 1);
        if (entry == NULL)
            abort();
        memcpy(entry->key, key, length + 1);
        key_map_put(&seen->keys, entry->key, entry);
    }
    return entry;
}

static void seen_object(struct seen *seen, const struct object_meta *object, bool present)
{
    struct seen_entry *entry = seen_entry(seen, object->key);
    if (object->rv < entry->rv)
        seen->backwards++;
    entry->rv = object->rv;
    entry->present = present;
}

static void on_add(void *data, const struct object_meta *object)
{
    struct seen *seen = data;
    seen->adds++;
    struct seen_entry *entry = key_map_get(&seen->keys, object->key);
    if (entry != NULL && entry->present)
        seen->inconsistent++;
    seen_object(seen, object, true);
}

static void on_update(void *data, const struct object_meta *old, const struct object_meta *now)
{
    struct seen *seen = data;
    seen->updates++;
    if (strcmp(old->key, now->key) != 0 || now->rv < old->rv)
        seen->backwards++;
    struct seen_entry *entry = key_map_get(&seen->keys, now->key);
    if (entry == NULL || !entry->present)
        seen->inconsistent++;
    seen_object(seen, now, true);
}

static void on_delete(void *data, const struct object_meta *object)
{
    struct seen *seen = data;
    seen->deletes++;
    struct seen_entry *entry = key_map_get(&seen->keys, object->key);
    if (entry == NULL || !entry->present)
        seen->inconsistent++;
    seen_object(seen, object, false);
}

static void seen_free(struct seen *seen)
{
    size_t cursor = 0;
    struct seen_entry *entry;
    while ((entry = key_map_next(&seen->keys, &cursor)) != NULL)
        free(entry);
    key_map_free(&seen->keys);
}

/* --- the world -------------------------------------------------------------------------- */

struct world {
    uv_loop_t loop;
    struct store *store;
    const struct resource *pods;
    struct api_server *api;
    struct http_client *http;
    struct kube_connection connection;
    struct kube_client *client;
    struct metrics_registry *metrics;
    struct string_pool pool;
    struct informer *informer;
    struct seen seen;
    uint64_t random;
};

static uint64_t world_random(struct world *world)
{
    world->random ^= world->random << 13;
    world->random ^= world->random >> 7;
    world->random ^= world->random << 17;
    return world->random;
}

static bool world_open(struct world *world)
{
    memset(world, 0, sizeof *world);
    world->random = 0x1234567;
    string_pool_init(&world->pool);
    if (uv_loop_init(&world->loop) != 0)
        return false;
    world->store = store_new(&(struct store_options){.random_seed = 11, .history_size = 200000});
    if (world->store == NULL)
        return false;
    world->pods = resources_find(store_resources(world->store), "", "v1", "pods");
    world->api = api_server_start(&world->loop, world->store,
                                  &(struct api_server_options){.token = "secret-token",
                                                               .bookmark_interval_ms = 100});
    world->http = http_client_init(&world->loop, NULL);
    if (world->pods == NULL || world->api == NULL || world->http == NULL)
        return false;
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", api_server_port(world->api));
    world->connection.server = strdup(server);
    world->connection.token = strdup("secret-token");
    world->connection.namespace = strdup("default");
    world->metrics = metrics_registry_create();
    if (world->metrics == NULL)
        return false;
    struct kube_client_options options = {
        .loop = &world->loop, .http = world->http, .connection = &world->connection,
        .retry_base_ms = 20, .retry_max_ms = 200, .request_timeout_ms = 20000,
        .qps = 1000, .burst = 1000, .metrics = world->metrics,
    };
    return kube_client_new(&options, &world->client) == 0;
}

static int world_start_informer(struct world *world, const char *selector)
{
    struct informer_options options = {
        .loop = &world->loop, .client = world->client, .resource = &kube_resource_pods,
        .kind = &object_kind_pod, .pool = &world->pool, .label_selector = selector,
        .backoff_initial_ms = 40, .backoff_max_ms = 400, .random_seed = 5,
    };
    int rc = informer_new(&options, &world->informer);
    if (rc != 0)
        return rc;
    struct informer_handlers handlers = {on_add, on_update, on_delete, &world->seen};
    informer_add_handlers(world->informer, &handlers);
    return informer_start(world->informer);
}

static void on_tick(uv_timer_t *timer)
{
    (void)timer;
}

static bool run_until(struct world *world, bool (*done)(struct world *), uint64_t timeout_ms)
{
    uint64_t start = uv_now(&world->loop);
    uv_timer_t tick;
    uv_timer_init(&world->loop, &tick);
    while (!done(world) && uv_now(&world->loop) - start < timeout_ms) {
        uv_timer_start(&tick, on_tick, 10, 0);
        uv_run(&world->loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&world->loop, UV_RUN_NOWAIT);
    return done(world);
}

static bool never(struct world *world)
{
    (void)world;
    return false;
}

static void run_for(struct world *world, uint64_t ms)
{
    run_until(world, never, ms);
}

static void set_true(void *data)
{
    *(bool *)data = true;
}

static void world_close(struct world *world)
{
    bool informer_closed = world->informer == NULL, client_closed = world->client == NULL;
    bool http_closed = world->http == NULL, api_closed = world->api == NULL;
    if (world->informer != NULL)
        informer_close(world->informer, set_true, &informer_closed);
    while (!informer_closed)
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
    metrics_registry_free(world->metrics);
    seen_free(&world->seen);
    CHECK_INT(string_pool_count(&world->pool), 0);
    string_pool_free(&world->pool);
    CHECK_INT(uv_loop_close(&world->loop), 0);
}

/* --- pods in the store ------------------------------------------------------------------- */

static cJSON *make_pod(const char *name, const char *instance, bool managed, int variant)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
             "\"namespace\":\"default\",\"labels\":{\"app.kubernetes.io/instance\":\"%s\","
             "\"app.kubernetes.io/component\":\"tikv\"%s,\"unrelated\":\"x%d\"},"
             "\"annotations\":{\"tidb.pingcap.com/variant\":\"%d\",\"other\":\"y\"}},"
             "\"spec\":{\"nodeName\":\"node-%d\",\"containers\":[{\"name\":\"tikv\","
             "\"image\":\"pingcap/tikv:v7.%d\"}],\"volumes\":[{\"name\":\"data\","
             "\"persistentVolumeClaim\":{\"claimName\":\"tikv-%s\"}}]},"
             "\"status\":{\"phase\":\"%s\",\"podIP\":\"10.0.%d.%d\","
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}],"
             "\"containerStatuses\":[{\"name\":\"tikv\",\"image\":\"pingcap/tikv:v7.%d\","
             "\"ready\":true,\"restartCount\":%d,\"state\":{\"running\":{}}}]}}",
             name, instance, managed ? ",\"app.kubernetes.io/managed-by\":\"tidb-operator\"" : "",
             variant, variant, variant % 7, variant % 3, name, variant % 2 ? "Running" : "Pending",
             variant % 250, variant % 200, variant % 2 ? "True" : "False", variant % 3, variant);
    return cJSON_Parse(json);
}

static bool store_put_pod(struct world *world, const char *name, bool managed, int variant)
{
    struct store_reply reply = {0};
    char instance[32];
    snprintf(instance, sizeof instance, "c%d", (int)(world_random(world) % 5));
    bool ok = store_create(world->store, world->pods, "default",
                           make_pod(name, instance, managed, variant), &reply);
    store_reply_clear(&reply);
    return ok;
}

/* Updates a pod: a new variant (planner-visible) or only an unread label. */
static void store_touch_pod(struct world *world, const char *name, int variant, bool visible)
{
    struct store_error error = {0};
    struct store_object *current = store_get(world->store, world->pods, "default", name, &error);
    store_error_clear(&error);
    if (current == NULL)
        return;
    cJSON *copy = cJSON_Duplicate(store_object_tree(current), true);
    store_object_release(current);
    if (visible) {
        /* Whatever the stored status holds, set phase and one container status. */
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "status");
        cJSON *status = cJSON_AddObjectToObject(copy, "status");
        cJSON_AddStringToObject(status, "phase", variant % 2 ? "Running" : "Failed");
        cJSON *statuses = cJSON_AddArrayToObject(status, "containerStatuses");
        cJSON *container = cJSON_CreateObject();
        cJSON_AddStringToObject(container, "name", "tikv");
        cJSON_AddNumberToObject(container, "restartCount", variant);
        cJSON_AddItemToArray(statuses, container);
    } else {
        cJSON *labels = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(copy, "metadata"), "labels");
        char value[32];
        snprintf(value, sizeof value, "u%d", variant);
        cJSON_ReplaceItemInObject(labels, "unrelated", cJSON_CreateString(value));
    }
    struct store_reply reply = {0};
    if (visible)
        store_update_status(world->store, world->pods, "default", name, copy, &reply);
    else
        store_update(world->store, world->pods, "default", name, copy, &reply);
    store_reply_clear(&reply);
}

static void store_delete_pod(struct world *world, const char *name)
{
    struct store_reply reply = {0};
    store_delete(world->store, world->pods, "default", name, NULL, &reply);
    store_reply_clear(&reply);
}

/* --- convergence ---------------------------------------------------------------------- */

static bool caught_up(struct world *world)
{
    char rv[32];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)store_resource_version(world->store));
    return informer_synced(world->informer) &&
           strcmp(informer_resource_version(world->informer), rv) == 0;
}

static bool match_managed(const cJSON *object, void *data)
{
    (void)data;
    const char *value = json_string(JSON_PATH(object, "metadata", "labels", LABEL_MANAGED_BY));
    return value != NULL && strcmp(value, "tidb-operator") == 0;
}

/* The cache equals a fresh list of the store, every field compared (and
 * what handlers last saw matches it). */
static void check_cache_equals_store(struct world *world, bool managed_only)
{
    struct store_list list = {0};
    struct store_error error = {0};
    struct store_list_options options = {.match = managed_only ? match_managed : NULL};
    REQUIRE(store_list(world->store, world->pods, &options, &list, &error));
    const struct cache *cache = informer_cache(world->informer);
    CHECK_INT(cache_count(cache), list.count);
    size_t mismatches = 0, missing = 0;
    for (size_t i = 0; i < list.count; i++) {
        char reason[128];
        struct object_meta *fresh = object_project(&object_kind_pod,
                                                   store_object_tree(list.items[i]),
                                                   &world->pool, reason, sizeof reason);
        REQUIRE(fresh != NULL);
        const struct object_meta *cached = cache_get(cache, fresh->key);
        if (cached == NULL)
            missing++;
        else if (!object_same(&object_kind_pod, cached, fresh) ||
                 cached->rv != fresh->rv)
            mismatches++;
        struct seen_entry *entry = key_map_get(&world->seen.keys, fresh->key);
        if (entry == NULL || !entry->present)
            missing++;
        object_free(&object_kind_pod, fresh, &world->pool);
    }
    CHECK_INT(missing, 0);
    CHECK_INT(mismatches, 0);
    /* Handlers think present exactly what the store holds. */
    size_t present = 0, cursor = 0;
    struct seen_entry *entry;
    while ((entry = key_map_next(&world->seen.keys, &cursor)) != NULL)
        present += entry->present;
    CHECK_INT(present, list.count);
    CHECK_INT(world->seen.backwards, 0);
    CHECK_INT(world->seen.inconsistent, 0);
    store_list_free(&list);
    store_error_clear(&error);
}

/* A storm: creates, visible and invisible updates, deletes. */
static void storm(struct world *world, int operations, int *next_name)
{
    char name[32];
    for (int i = 0; i < operations; i++) {
        int dice = (int)(world_random(world) % 10);
        int target = (int)(world_random(world) % (uint64_t)(*next_name > 0 ? *next_name : 1));
        if (dice < 3 || *next_name == 0) {
            snprintf(name, sizeof name, "pod-%d", (*next_name)++);
            store_put_pod(world, name, true, i);
        } else if (dice < 8) {
            snprintf(name, sizeof name, "pod-%d", target);
            store_touch_pod(world, name, i, dice < 6);
        } else {
            snprintf(name, sizeof name, "pod-%d", target);
            store_delete_pod(world, name);
        }
    }
}

/* --- cases ---------------------------------------------------------------------------- */

static void informer_lists_and_watches_many_pods(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    int count = under_valgrind() ? 500 : 10000;
    char name[32];
    for (int i = 0; i < count; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        REQUIRE(store_put_pod(&world, name, true, i));
    }
    REQUIRE(world_start_informer(&world, NULL) == 0);
    CHECK(!informer_synced(world.informer));
    CHECK(run_until(&world, caught_up, 60000));
    struct informer_stats stats;
    informer_get_stats(world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK(stats.list_pages >= (uint64_t)(count + 499) / 500);
    CHECK_INT(world.seen.adds, count);
    CHECK_INT(cache_count(informer_cache(world.informer)), count);
    check_cache_equals_store(&world, false);

    /* A storm of changes while watching. */
    int next_name = count;
    for (int round = 0; round < 10; round++) {
        storm(&world, count / 20, &next_name);
        run_for(&world, 5);
    }
    CHECK(run_until(&world, caught_up, 60000));
    check_cache_equals_store(&world, false);
    informer_get_stats(world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK(stats.updates > 0);
    CHECK(stats.unchanged > 0); /* label-only updates did not fire */
    CHECK_INT(stats.backwards, 0);
    world_close(&world);
}

static bool synced(struct world *world)
{
    return informer_synced(world->informer);
}

static void informer_converges_through_faults(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    int count = under_valgrind() ? 200 : 2000;
    char name[32];
    for (int i = 0; i < count; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        REQUIRE(store_put_pod(&world, name, true, i));
    }
    REQUIRE(world_start_informer(&world, NULL) == 0);
    CHECK(run_until(&world, synced, 60000));
    int next_name = count;
    for (int round = 0; round < 12; round++) {
        /* Each fault hits a watching informer: wait for it to catch up. */
        CHECK(run_until(&world, caught_up, 30000));
        storm(&world, count / 20, &next_name);
        switch (round % 6) {
        case 0: /* streams closed under the informer */
            api_server_close_watches(world.api);
            storm(&world, count / 40, &next_name);
            break;
        case 1: /* history compacted: the next watch gets 410 */
            api_server_close_watches(world.api);
            storm(&world, count / 40, &next_name);
            store_compact_history(world.store);
            break;
        case 2: /* 500 burst on lists and watches, with a compaction */
            api_server_add_fault(world.api, &(struct api_fault){
                .verb = "watch", .resource = "pods", .count = 3, .code = 500});
            api_server_add_fault(world.api, &(struct api_fault){
                .verb = "list", .resource = "pods", .count = 3, .code = 500});
            api_server_close_watches(world.api);
            store_compact_history(world.store);
            break;
        case 3: /* 429 with Retry-After on everything */
            api_server_add_fault(world.api, &(struct api_fault){
                .resource = "pods", .count = 2, .code = 429, .retry_after_seconds = 1});
            api_server_close_watches(world.api);
            break;
        case 4: /* listener restart: refused connections for a while */
            api_server_stop_listening(world.api);
            api_server_close_watches(world.api);
            run_for(&world, 150);
            storm(&world, count / 40, &next_name);
            CHECK_INT(api_server_resume_listening(world.api), 0);
            break;
        case 5: /* restart plus compaction */
            api_server_stop_listening(world.api);
            api_server_close_watches(world.api);
            storm(&world, count / 40, &next_name);
            store_compact_history(world.store);
            run_for(&world, 100);
            CHECK_INT(api_server_resume_listening(world.api), 0);
            break;
        }
        storm(&world, count / 40, &next_name);
        CHECK(run_until(&world, caught_up, 30000));
        check_cache_equals_store(&world, false);
    }
    api_server_clear_faults(world.api);
    CHECK(run_until(&world, caught_up, 60000));
    check_cache_equals_store(&world, false);
    struct informer_stats stats;
    informer_get_stats(world.informer, &stats);
    if (getenv("TEST_VERBOSE") != NULL)
        fprintf(stderr, "lists %llu pages %llu gone %llu fallbacks %llu watches %llu events %llu "
                "bookmarks %llu failures %llu backwards %llu\n",
                (unsigned long long)stats.lists, (unsigned long long)stats.list_pages,
                (unsigned long long)stats.relists_gone, (unsigned long long)stats.list_fallbacks,
                (unsigned long long)stats.watches, (unsigned long long)stats.events,
                (unsigned long long)stats.bookmarks, (unsigned long long)stats.failures,
                (unsigned long long)stats.backwards);
    CHECK(stats.relists_gone >= 1);
    CHECK(stats.lists >= 2);
    CHECK(stats.watches >= 6);
    world_close(&world);
}

static void relist_emits_deletes_for_vanished_objects(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    char name[32];
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        REQUIRE(store_put_pod(&world, name, true, i));
    }
    REQUIRE(world_start_informer(&world, NULL) == 0);
    CHECK(run_until(&world, caught_up, 10000));
    CHECK_INT(world.seen.adds, 50);
    /* The stream ends; before the informer can watch again, 20 pods vanish
     * and history is compacted, so the deletions can only be learnt by a
     * relist (the loop does not run in between). */
    api_server_close_watches(world.api);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        store_delete_pod(&world, name);
    }
    store_put_pod(&world, "pod-new", true, 1);
    store_compact_history(world.store);
    CHECK(run_until(&world, caught_up, 20000));
    CHECK_INT(world.seen.deletes, 20);
    CHECK_INT(world.seen.adds, 51);
    CHECK(cache_get(informer_cache(world.informer), "default/pod-3") == NULL);
    CHECK(cache_get(informer_cache(world.informer), "default/pod-new") != NULL);
    struct informer_stats stats;
    informer_get_stats(world.informer, &stats);
    CHECK(stats.relists_gone >= 1);
    check_cache_equals_store(&world, false);
    world_close(&world);
}

static void label_selected_informer_sees_only_matching(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        REQUIRE(store_put_pod(&world, name, i % 2 == 0, i));
    }
    REQUIRE(world_start_informer(&world, MANAGED_BY_SELECTOR) == 0);
    CHECK(run_until(&world, caught_up, 10000));
    CHECK_INT(cache_count(informer_cache(world.informer)), 20);
    CHECK(cache_get(informer_cache(world.informer), "default/pod-1") == NULL);
    /* New unmanaged pods stay invisible; new managed ones appear. */
    store_put_pod(&world, "odd-one", false, 3);
    store_put_pod(&world, "even-one", true, 4);
    /* A managed pod that loses the label disappears (a DELETED event). */
    struct store_error error = {0};
    struct store_object *pod = store_get(world.store, world.pods, "default", "pod-0", &error);
    REQUIRE(pod != NULL);
    cJSON *copy = cJSON_Duplicate(store_object_tree(pod), true);
    store_object_release(pod);
    cJSON_DeleteItemFromObjectCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(copy, "metadata"),
                                         "labels"),
        LABEL_MANAGED_BY);
    struct store_reply reply = {0};
    CHECK(store_update(world.store, world.pods, "default", "pod-0", copy, &reply));
    store_reply_clear(&reply);
    CHECK(run_until(&world, caught_up, 10000));
    const struct cache *cache = informer_cache(world.informer);
    CHECK(cache_get(cache, "default/even-one") != NULL);
    CHECK(cache_get(cache, "default/odd-one") == NULL);
    CHECK(cache_get(cache, "default/pod-0") == NULL);
    CHECK_INT(cache_count(cache), 20);
    check_cache_equals_store(&world, true);
    /* The list page is counted as a list (the watch is counted when it ends). */
    struct buffer text = {0};
    CHECK(metrics_render(world.metrics, &text));
    CHECK(strstr(buffer_string(&text),
                 "kube_client_requests_total{verb=\"list\",resource=\"pods\",code=\"200\"} 1\n") != NULL);
    buffer_free(&text);
    world_close(&world);
}

/* --- a scripted server for what the simulator never does ------------------------------- */

struct script {
    int lists;
    int watches;
    const char *first_watch_body; /* then watches hang until closed */
    bool end_first_watch;         /* the first stream ends after its body */
    char last_watch_rv[32];
    struct http_request *held[8];
    int held_count;
};

static void held_gone(struct http_request *request, void *data)
{
    struct script *script = data;
    for (int i = 0; i < script->held_count; i++)
        if (script->held[i] == request)
            script->held[i] = NULL;
}

static void handle_pods(struct http_request *request, void *data)
{
    struct script *script = data;
    if (http_request_query_param(request, "watch") == NULL) {
        script->lists++;
        http_response_send_text(
            request, 200, "application/json",
            "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"5\"},"
            "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"default\","
            "\"resourceVersion\":\"4\"},\"status\":{\"phase\":\"Running\"}}]}");
        return;
    }
    script->watches++;
    const char *rv = http_request_query_param(request, "resourceVersion");
    snprintf(script->last_watch_rv, sizeof script->last_watch_rv, "%s", rv ? rv : "");
    http_response_begin_stream(request, 200, "application/json");
    if (script->watches == 1) {
        http_response_write_chunk(request, script->first_watch_body,
                                  strlen(script->first_watch_body));
        if (script->end_first_watch) {
            http_response_end(request);
            return;
        }
    }
    if (script->held_count < 8) {
        script->held[script->held_count++] = request;
        http_request_on_gone(request, held_gone, script);
    } else {
        http_response_end(request);
    }
}

static void run_scripted(const char *first_watch_body, size_t max_event_bytes, bool truncated)
{
    struct world world;
    memset(&world, 0, sizeof world);
    string_pool_init(&world.pool);
    REQUIRE(uv_loop_init(&world.loop) == 0);
    struct script script = {.first_watch_body = first_watch_body, .end_first_watch = truncated};
    struct http_server *server = NULL;
    REQUIRE(http_server_start(&world.loop, &(struct http_server_options){0}, &server) == 0);
    http_server_route(server, "GET", "/api/v1/pods", handle_pods, &script);
    world.http = http_client_init(&world.loop, NULL);
    REQUIRE(world.http != NULL);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", http_server_port(server));
    world.connection.server = strdup(base);
    REQUIRE(kube_client_new(&(struct kube_client_options){.loop = &world.loop, .http = world.http,
                                                          .connection = &world.connection},
                            &world.client) == 0);
    struct informer_options options = {
        .loop = &world.loop, .client = world.client, .resource = &kube_resource_pods,
        .kind = &object_kind_pod, .pool = &world.pool, .backoff_initial_ms = 20,
        .backoff_max_ms = 40, .max_event_bytes = max_event_bytes,
    };
    REQUIRE(informer_new(&options, &world.informer) == 0);
    struct informer_handlers handlers = {on_add, on_update, on_delete, &world.seen};
    informer_add_handlers(world.informer, &handlers);
    REQUIRE(informer_start(world.informer) == 0);
    if (truncated) {
        /* The stream ends in the middle of its second event: the first is
         * applied, the half one is not, and the watch resumes from the
         * first's resourceVersion without a relist. */
        for (int i = 0; i < 500 && script.watches < 2; i++)
            run_for(&world, 10);
        CHECK_INT(script.lists, 1);
        CHECK_INT(script.watches, 2);
        CHECK_STR(script.last_watch_rv, "6");
        struct informer_stats stats;
        informer_get_stats(world.informer, &stats);
        CHECK_INT(stats.bad_events, 0);
        const struct kube_pod *pod =
            (const struct kube_pod *)cache_get(informer_cache(world.informer), "default/a");
        REQUIRE(pod != NULL);
        CHECK_INT(pod->meta.rv, 6);
        CHECK_STR(pod->phase, "Failed");
        CHECK_INT(world.seen.updates, 1);
    } else {
        for (int i = 0; i < 500 && script.lists < 2; i++)
            run_for(&world, 10);
        CHECK_INT(script.lists, 2);
        CHECK(script.watches >= 1);
        struct informer_stats stats;
        informer_get_stats(world.informer, &stats);
        CHECK(stats.bad_events >= 1);
        /* The cache is intact: the one pod, unchanged by the bad stream. */
        const struct cache *cache = informer_cache(world.informer);
        CHECK_INT(cache_count(cache), 1);
        const struct kube_pod *pod = (const struct kube_pod *)cache_get(cache, "default/a");
        REQUIRE(pod != NULL);
        CHECK_INT(pod->meta.rv, 4);
        CHECK_STR(pod->phase, "Running");
        CHECK_INT(world.seen.adds, 1);
        CHECK_INT(world.seen.updates, 0);
        CHECK_INT(world.seen.deletes, 0);
    }
    /* Close everything. */
    bool informer_closed = false, client_closed = false, http_closed = false, server_closed = false;
    informer_close(world.informer, set_true, &informer_closed);
    while (!informer_closed)
        uv_run(&world.loop, UV_RUN_ONCE);
    kube_client_close(world.client, set_true, &client_closed);
    while (!client_closed)
        uv_run(&world.loop, UV_RUN_ONCE);
    http_client_close(world.http, set_true, &http_closed);
    http_server_close(server, set_true, &server_closed);
    while (!http_closed || !server_closed)
        uv_run(&world.loop, UV_RUN_ONCE);
    uv_run(&world.loop, UV_RUN_DEFAULT);
    kube_connection_free(&world.connection);
    seen_free(&world.seen);
    CHECK_INT(string_pool_count(&world.pool), 0);
    string_pool_free(&world.pool);
    CHECK_INT(uv_loop_close(&world.loop), 0);
}

static void garbage_event_drops_stream_and_relists(void)
{
    /* A truncated object on one line: nothing of it may reach the cache. */
    run_scripted("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\n", 0, false);
}

static void oversize_event_drops_stream_and_relists(void)
{
    static char big[4096];
    memset(big, ' ', sizeof big - 1);
    static const char prefix[] = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\"";
    memcpy(big, prefix, sizeof prefix - 1);
    run_scripted(big, 1024, false);
}

static void stream_cut_mid_event_resumes_without_it(void)
{
    run_scripted("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
                 "\"namespace\":\"default\",\"resourceVersion\":\"6\"},"
                 "\"status\":{\"phase\":\"Failed\"}}}\n"
                 "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",",
                 0, true);
}

/* --- a scripted server for paginated lists ------------------------------------------------- */

#define LIST_PAGES 3
#define MAX_LIST_REQUESTS 32

enum page_fault {
    FAULT_NONE,
    FAULT_STATUS,       /* answer `code` (with a Status body, Retry-After 1 on 429) */
    FAULT_CUT,          /* send half the body, then drop the connection */
    FAULT_BAD_ITEM,     /* an item that is not JSON */
    FAULT_ODD_ITEM,     /* an item that is JSON but not an object that can be cached */
    FAULT_ITEMS_OBJECT, /* "items" not an array */
    FAULT_NO_RV,        /* no metadata.resourceVersion */
};

#define MAX_ATTEMPTS 8

struct list_script {
    int requests;                              /* list requests received */
    int page_of[MAX_LIST_REQUESTS];            /* the page each asked for */
    int attempts[LIST_PAGES];                  /* requests for each page */
    /* What the n-th request for a page gets. */
    enum page_fault fault[LIST_PAGES][MAX_ATTEMPTS];
    int code[LIST_PAGES][MAX_ATTEMPTS];
    bool hold_first;                           /* page 0's first request stops after its metadata */
    struct http_request *held;                 /* that request, until released */
    char *held_rest;
    int watches;
    struct http_request *watch_held[8];
    int watch_held_count;
};

static void list_held_gone(struct http_request *request, void *data)
{
    struct list_script *script = data;
    if (script->held == request)
        script->held = NULL;
    for (int i = 0; i < script->watch_held_count; i++)
        if (script->watch_held[i] == request)
            script->watch_held[i] = NULL;
}

/* Page k: pods p<k>-0..2, plus "dup" (Pending at RV 50 on page 0, Running at
 * RV 60 on page 1: only in-order pages make it an update). */
static char *page_body(int page, enum page_fault fault)
{
    struct buffer body = {0};
    if (fault == FAULT_ITEMS_OBJECT)
        return strdup("{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"100\"},"
                      "\"items\":{\"metadata\":{\"name\":\"x\"}}}");
    buffer_append_format(&body, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
                                "{\"resourceVersion\":\"%s\"", fault == FAULT_NO_RV ? "" : "100");
    if (page + 1 < LIST_PAGES)
        buffer_append_format(&body, ",\"continue\":\"tok-%d\"", page + 1);
    buffer_append_string(&body, "},\"items\":[");
    for (int i = 0; i < 3; i++)
        buffer_append_format(&body,
                             "%s{\"metadata\":{\"name\":\"p%d-%d\",\"namespace\":\"default\","
                             "\"resourceVersion\":\"%d\"},\"status\":{\"phase\":\"Running\"}}",
                             i ? "," : "", page, i, 10 + page * 3 + i);
    if (page < 2)
        buffer_append_format(&body,
                             ",{\"metadata\":{\"name\":\"dup\",\"namespace\":\"default\","
                             "\"resourceVersion\":\"%d\"},\"status\":{\"phase\":\"%s\"}}",
                             page ? 60 : 50, page ? "Running" : "Pending");
    if (fault == FAULT_BAD_ITEM)
        buffer_append_string(&body, ",{\"metadata\":{\"name\":\"bad\",}}");
    if (fault == FAULT_ODD_ITEM)
        buffer_append_string(&body, ",{\"metadata\":{\"namespace\":\"default\"}},17");
    buffer_append_string(&body, "]}");
    return buffer_take(&body);
}

static void handle_list_pods(struct http_request *request, void *data)
{
    struct list_script *script = data;
    if (http_request_query_param(request, "watch") != NULL) {
        script->watches++;
        http_response_begin_stream(request, 200, "application/json");
        if (script->watch_held_count < 8) {
            script->watch_held[script->watch_held_count++] = request;
            http_request_on_gone(request, list_held_gone, script);
        } else {
            http_response_end(request);
        }
        return;
    }
    int n = script->requests++;
    if (n >= MAX_LIST_REQUESTS) {
        http_response_send_text(request, 500, "text/plain", "too many requests");
        return;
    }
    const char *token = http_request_query_param(request, "continue");
    int page = token != NULL && strncmp(token, "tok-", 4) == 0 ? atoi(token + 4) : 0;
    if (page < 0 || page >= LIST_PAGES)
        page = 0;
    script->page_of[n] = page;
    int attempt = script->attempts[page]++;
    enum page_fault fault = attempt < MAX_ATTEMPTS ? script->fault[page][attempt] : FAULT_NONE;
    if (fault == FAULT_STATUS) {
        char status[256];
        int code = script->code[page][attempt];
        snprintf(status, sizeof status,
                 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                 "\"reason\":\"%s\",\"code\":%d,\"message\":\"scripted\"}",
                 code == 410 ? "Expired" : code == 429 ? "TooManyRequests" : "InternalError",
                 code);
        if (code == 429)
            http_response_header(request, "Retry-After", "1");
        http_response_send_text(request, code, "application/json", status);
        return;
    }
    char *body = page_body(page, fault);
    size_t length = strlen(body);
    if (fault == FAULT_CUT) {
        http_response_begin_stream(request, 200, "application/json");
        http_response_write_chunk(request, body, length / 2);
        http_response_abort(request);
    } else if (page == 0 && script->hold_first && script->held_rest == NULL) {
        /* Up to the first item's middle: the metadata (and continue) is out. */
        const char *cut = strstr(body, "\"items\":[") + 20;
        http_response_begin_stream(request, 200, "application/json");
        http_response_write_chunk(request, body, (size_t)(cut - body));
        script->held = request;
        script->held_rest = strdup(cut);
        http_request_on_gone(request, list_held_gone, script);
    } else {
        http_response_send(request, 200, "application/json", body, length);
    }
    free(body);
}

static void release_held(struct list_script *script)
{
    if (script->held != NULL) {
        http_response_write_chunk(script->held, script->held_rest, strlen(script->held_rest));
        http_response_end(script->held);
        script->held = NULL;
    }
}

struct list_world {
    struct world world;
    struct http_server *server;
    struct list_script script;
};

static void list_world_open(struct list_world *lw)
{
    struct world *world = &lw->world;
    memset(world, 0, sizeof *world);
    string_pool_init(&world->pool);
    REQUIRE(uv_loop_init(&world->loop) == 0);
    REQUIRE(http_server_start(&world->loop, &(struct http_server_options){0}, &lw->server) == 0);
    http_server_route(lw->server, "GET", "/api/v1/pods", handle_list_pods, &lw->script);
    world->http = http_client_init(&world->loop, NULL);
    REQUIRE(world->http != NULL);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", http_server_port(lw->server));
    world->connection.server = strdup(base);
    REQUIRE(kube_client_new(&(struct kube_client_options){.loop = &world->loop,
                                                          .http = world->http,
                                                          .connection = &world->connection,
                                                          .retry_base_ms = 20,
                                                          .retry_max_ms = 50},
                            &world->client) == 0);
    struct informer_options options = {
        .loop = &world->loop, .client = world->client, .resource = &kube_resource_pods,
        .kind = &object_kind_pod, .pool = &world->pool, .page_size = 4,
        .backoff_initial_ms = 20, .backoff_max_ms = 40, .random_seed = 3,
    };
    REQUIRE(informer_new(&options, &world->informer) == 0);
    struct informer_handlers handlers = {on_add, on_update, on_delete, &world->seen};
    informer_add_handlers(world->informer, &handlers);
}

static void list_world_close(struct list_world *lw)
{
    struct world *world = &lw->world;
    bool informer_closed = false, client_closed = false, http_closed = false;
    bool server_closed = false;
    if (world->informer != NULL)
        informer_close(world->informer, set_true, &informer_closed);
    else
        informer_closed = true;
    while (!informer_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    kube_client_close(world->client, set_true, &client_closed);
    while (!client_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    http_client_close(world->http, set_true, &http_closed);
    http_server_close(lw->server, set_true, &server_closed);
    while (!http_closed || !server_closed)
        uv_run(&world->loop, UV_RUN_ONCE);
    uv_run(&world->loop, UV_RUN_DEFAULT);
    free(lw->script.held_rest);
    kube_connection_free(&world->connection);
    seen_free(&world->seen);
    CHECK_INT(string_pool_count(&world->pool), 0);
    string_pool_free(&world->pool);
    CHECK_INT(uv_loop_close(&world->loop), 0);
}

/* Every page's pods are cached, "dup" as page 1 left it. */
static void check_listed(struct list_world *lw)
{
    const struct cache *cache = informer_cache(lw->world.informer);
    CHECK_INT(cache_count(cache), LIST_PAGES * 3 + 1);
    char key[64];
    for (int page = 0; page < LIST_PAGES; page++)
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "default/p%d-%d", page, i);
            CHECK(cache_get(cache, key) != NULL);
        }
    const struct kube_pod *dup = (const struct kube_pod *)cache_get(cache, "default/dup");
    REQUIRE(dup != NULL);
    CHECK_INT(dup->meta.rv, 60);
    CHECK_STR(dup->phase, "Running");
    CHECK_STR(informer_resource_version(lw->world.informer), "100");
    CHECK_INT(lw->world.seen.backwards, 0);
    CHECK_INT(lw->world.seen.inconsistent, 0);
}

static bool list_synced(struct world *world)
{
    return informer_synced(world->informer);
}

static void list_pages_are_pipelined_and_taken_in_order(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    lw.script.hold_first = true;
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    /* Page 0 stalls after its metadata: page 1 is asked for meanwhile, and
     * (one page ahead at most) page 2 is not, though page 1 is complete. */
    for (int i = 0; i < 300 && lw.script.requests < 2; i++)
        run_for(&lw.world, 5);
    run_for(&lw.world, 100);
    CHECK_INT(lw.script.requests, 2);
    CHECK_INT(lw.script.page_of[1], 1);
    CHECK(lw.script.held != NULL);
    CHECK(!informer_synced(lw.world.informer));
    CHECK_INT(cache_count(informer_cache(lw.world.informer)), 0);
    release_held(&lw.script);
    CHECK(run_until(&lw.world, list_synced, 5000));
    CHECK_INT(lw.script.requests, 3);
    CHECK_INT(lw.script.page_of[2], 2);
    check_listed(&lw);
    /* In order: "dup" was added from page 0, then updated from page 1. */
    CHECK_INT(lw.world.seen.adds, LIST_PAGES * 3 + 1);
    CHECK_INT(lw.world.seen.updates, 1);
    struct informer_stats stats;
    informer_get_stats(lw.world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK_INT(stats.list_pages, LIST_PAGES);
    CHECK_INT(stats.failures, 0);
    CHECK_INT(stats.backwards, 0);
    list_world_close(&lw);
}

static void expired_continue_ahead_restarts_plainly(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    lw.script.hold_first = true;
    lw.script.fault[1][0] = FAULT_STATUS; /* page 1, asked ahead: 410 */
    lw.script.code[1][0] = 410;
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    for (int i = 0; i < 300 && lw.script.requests < 2; i++)
        run_for(&lw.world, 5);
    run_for(&lw.world, 50);
    /* Nothing happens before page 0 is in. */
    CHECK_INT(lw.script.requests, 2);
    release_held(&lw.script);
    CHECK(run_until(&lw.world, list_synced, 5000));
    /* Page 0 again without a continue token, then 1 and 2. */
    CHECK_INT(lw.script.requests, 5);
    CHECK_INT(lw.script.page_of[2], 0);
    CHECK_INT(lw.script.page_of[3], 1);
    CHECK_INT(lw.script.page_of[4], 2);
    check_listed(&lw);
    struct informer_stats stats;
    informer_get_stats(lw.world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK_INT(stats.failures, 0);
    CHECK_INT(stats.list_fallbacks, 0);
    list_world_close(&lw);
}

static void retryable_page_failures_are_retried(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    /* Page 0: a 503. Page 1: cut mid-body, then a 500, then a 429 (those
     * two retried by the client). */
    lw.script.fault[0][0] = FAULT_STATUS;
    lw.script.code[0][0] = 503;
    lw.script.fault[1][0] = FAULT_CUT;
    lw.script.fault[1][1] = FAULT_STATUS;
    lw.script.code[1][1] = 500;
    lw.script.fault[1][2] = FAULT_STATUS;
    lw.script.code[1][2] = 429;
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    CHECK(run_until(&lw.world, list_synced, 10000));
    CHECK_INT(lw.script.attempts[0], 2);
    CHECK_INT(lw.script.attempts[1], 4);
    CHECK(lw.script.attempts[2] >= 1);
    check_listed(&lw);
    CHECK_INT(lw.world.seen.updates, 1);
    struct informer_stats stats;
    informer_get_stats(lw.world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK_INT(stats.list_pages, LIST_PAGES);
    CHECK_INT(stats.failures, 0); /* retried like any list request, no relist */
    CHECK_INT(stats.bad_events, 0);
    list_world_close(&lw);
}

static void undecodable_item_relists_and_odd_item_is_skipped(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    lw.script.fault[0][0] = FAULT_ODD_ITEM; /* skipped, the list goes on */
    lw.script.fault[1][0] = FAULT_BAD_ITEM; /* the whole list fails, relisted after backoff */
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    CHECK(run_until(&lw.world, list_synced, 10000));
    check_listed(&lw);
    CHECK_INT(lw.script.attempts[0], 2);
    CHECK_INT(lw.script.attempts[1], 2);
    struct informer_stats stats;
    informer_get_stats(lw.world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK_INT(stats.failures, 1);
    CHECK_INT(stats.bad_events, 3); /* two odd items, one bad list */
    /* Nothing of the failed attempt reached the handlers. */
    CHECK_INT(lw.world.seen.adds, LIST_PAGES * 3 + 1);
    list_world_close(&lw);
}

static void list_that_is_not_a_list_relists(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    lw.script.fault[0][0] = FAULT_ITEMS_OBJECT;
    lw.script.fault[2][0] = FAULT_NO_RV;
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    CHECK(run_until(&lw.world, list_synced, 10000));
    check_listed(&lw);
    struct informer_stats stats;
    informer_get_stats(lw.world.informer, &stats);
    CHECK_INT(stats.lists, 1);
    CHECK_INT(stats.failures, 2);
    CHECK_INT(stats.bad_events, 2);
    CHECK_INT(lw.world.seen.adds, LIST_PAGES * 3 + 1);
    list_world_close(&lw);
}

static void close_while_pages_are_in_flight(void)
{
    struct list_world lw;
    memset(&lw, 0, sizeof lw);
    lw.script.hold_first = true;
    list_world_open(&lw);
    REQUIRE(informer_start(lw.world.informer) == 0);
    for (int i = 0; i < 300 && lw.script.requests < 2; i++)
        run_for(&lw.world, 5);
    CHECK_INT(lw.script.requests, 2);
    CHECK_INT(lw.world.seen.adds, 0);
    list_world_close(&lw);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(informer_lists_and_watches_many_pods),
        TEST_CASE(informer_converges_through_faults),
        TEST_CASE(relist_emits_deletes_for_vanished_objects),
        TEST_CASE(label_selected_informer_sees_only_matching),
        TEST_CASE(garbage_event_drops_stream_and_relists),
        TEST_CASE(oversize_event_drops_stream_and_relists),
        TEST_CASE(stream_cut_mid_event_resumes_without_it),
        TEST_CASE(list_pages_are_pipelined_and_taken_in_order),
        TEST_CASE(expired_continue_ahead_restarts_plainly),
        TEST_CASE(retryable_page_failures_are_retried),
        TEST_CASE(undecodable_item_relists_and_odd_item_is_skipped),
        TEST_CASE(list_that_is_not_a_list_relists),
        TEST_CASE(close_while_pages_are_in_flight),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
