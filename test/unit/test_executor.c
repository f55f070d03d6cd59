/* The executor against the simulated API server, in-process on one loop:
 * actions reach the server, events are de-duplicated within the window,
 * nothing is sent without the lease or from an incomplete plan, and the
 * in-flight budget is shared fairly among runs (the order of the objects'
 * resourceVersions in the store is the order the server took the writes). */
#include "reconcilers/runtime/executor.h"
#include "reactor/buffer.h"
#include "test/sim/api_server.h"
#include "test/sim/store.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

struct world {
    uv_loop_t loop;
    struct clock clock;
    struct store *store;
    struct api_server *api;
    struct http_client *http;
    struct kube_connection connection;
    struct kube_client *client;
    struct metrics_registry *metrics;
    struct executor *executor;
    bool leading;
    int runs_done;
    struct executor_result last;
};

static bool may_write(void *data) { return ((struct world *)data)->leading; }

/* A world whose executor allows `max_in_flight` actions at once (0: its default). */
static bool world_open_limited(struct world *world, size_t max_in_flight)
{
    memset(world, 0, sizeof *world);
    clock_fake_init(&world->clock, 1000, 1795292100000);
    world->leading = true;
    if (uv_loop_init(&world->loop) != 0) return false;
    world->store = store_new(&(struct store_options){ .random_seed = 3 });
    world->api = api_server_start(&world->loop, world->store, &(struct api_server_options){ 0 });
    world->http = http_client_init(&world->loop, NULL);
    if (!world->store || !world->api || !world->http) return false;
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", api_server_port(world->api));
    world->connection.server = strdup(server);
    world->connection.namespace = strdup("default");
    struct kube_client_options client_options = { .loop = &world->loop, .http = world->http,
                                                  .connection = &world->connection, .max_attempts = 1 };
    if (kube_client_new(&client_options, &world->client) != 0) return false;
    struct executor_options options = { .loop = &world->loop, .client = world->client,
                                        .clock = &world->clock, .may_write = may_write,
                                        .data = world, .event_dedup_ms = 60000,
                                        .max_in_flight = max_in_flight };
    if (!(world->metrics = metrics_registry_create())) return false;
    options.metrics = world->metrics;
    return executor_new(&options, &world->executor) == 0;
}

static bool world_open(struct world *world) { return world_open_limited(world, 0); }

static void on_done(const struct executor_result *result, void *data)
{
    struct world *world = data;
    world->last = *result;
    world->runs_done++;
}

/* Runs `plan` (taken) to completion. */
static bool execute(struct world *world, struct plan *plan)
{
    int before = world->runs_done;
    if (executor_run(world->executor, plan, on_done, world) != 0) return false;
    for (int i = 0; i < 2000 && world->runs_done == before; i++) uv_run(&world->loop, UV_RUN_ONCE);
    return world->runs_done == before + 1;
}

static size_t stored(struct world *world, const char *plural)
{
    const struct resource *resource = resources_find(store_resources(world->store), "", "v1", plural);
    struct store_list list = { 0 };
    struct store_error error = { 0 };
    struct store_list_options options = { .namespace = "default" };
    if (!resource || !store_list(world->store, resource, &options, &list, &error)) {
        store_error_clear(&error);
        return (size_t)-1;
    }
    size_t count = list.count;
    store_list_free(&list);
    return count;
}

static void flag_set(void *data) { *(bool *)data = true; }

static void world_close(struct world *world)
{
    bool executor_closed = !world->executor, client_closed = false, http_closed = false, api_closed = false;
    if (world->executor) executor_close(world->executor, flag_set, &executor_closed);
    while (!executor_closed) uv_run(&world->loop, UV_RUN_ONCE);
    kube_client_close(world->client, flag_set, &client_closed);
    while (!client_closed) uv_run(&world->loop, UV_RUN_ONCE);
    http_client_close(world->http, flag_set, &http_closed);
    api_server_close(world->api, flag_set, &api_closed);
    while (!http_closed || !api_closed) uv_run(&world->loop, UV_RUN_ONCE);
    uv_run(&world->loop, UV_RUN_DEFAULT);
    store_free(world->store);
    metrics_registry_free(world->metrics);
    kube_connection_free(&world->connection);
    CHECK_INT(uv_loop_close(&world->loop), 0);
}

static cJSON *configmap(const char *name)
{
    cJSON *object = cJSON_CreateObject();
    cJSON_AddStringToObject(object, "apiVersion", "v1");
    cJSON_AddStringToObject(object, "kind", "ConfigMap");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(object, "metadata"), "name", name);
    return object;
}

static void executor_creates_and_counts_benign_conflicts(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    struct plan plan;
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-pd-1"), "test");
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-tikv-1"), "test");
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.succeeded, 2);
    CHECK_INT(world.last.failed, 0);
    CHECK_INT(stored(&world, "configmaps"), 2);
    /* The same create again: AlreadyExists is for the next plan to see, not a failure. */
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-pd-1"), "test");
    plan_delete(&plan, &kube_resource_configmaps, "no-such-configmap", NULL, "test");
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.succeeded, 0);
    CHECK_INT(world.last.benign, 2);
    CHECK_INT(world.last.failed, 0);
    world_close(&world);
}

static void executor_deduplicates_events_within_the_window(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    for (int pass = 0; pass < 3; pass++) {
        struct plan plan;
        REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
        plan_event(&plan, false, "WaitingForPDQuorum", "waiting for PD quorum: %d/3 members healthy", 1);
        plan_event(&plan, true, "FailedValidation", "spec.pd.replicas: must be >= 0");
        REQUIRE(execute(&world, &plan));
        CHECK_INT(world.last.failed, 0);
    }
    /* Three passes, two distinct events: each sent once. */
    CHECK_INT(stored(&world, "events"), 2);
    /* A different message is a different event. */
    struct plan plan;
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_event(&plan, false, "WaitingForPDQuorum", "waiting for PD quorum: %d/3 members healthy", 2);
    REQUIRE(execute(&world, &plan));
    CHECK_INT(stored(&world, "events"), 3);
    /* After the window the same event goes out again. */
    clock_fake_advance(&world.clock, 60000);
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_event(&plan, true, "FailedValidation", "spec.pd.replicas: must be >= 0");
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.succeeded, 1);
    CHECK_INT(stored(&world, "events"), 4);
    world_close(&world);
}

static void executor_writes_nothing_without_the_lease_or_a_whole_plan(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    world.leading = false;
    struct plan plan;
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-pd-1"), "test");
    REQUIRE(execute(&world, &plan));
    CHECK(world.last.refused);
    CHECK_INT(world.last.succeeded, 0);
    world.leading = true;
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-pd-2"), "test");
    plan.incomplete = true; /* an add failed: a partial plan might skip a safety step */
    REQUIRE(execute(&world, &plan));
    CHECK(world.last.incomplete);
    CHECK_INT(stored(&world, "configmaps"), 0);
    world_close(&world);
}

/* ---- the shared budget ---------------------------------------------------- */

/* The result of one run, for tests that have several at once. */
struct outcome {
    struct world *world;
    bool done;
    int order;            /* runs done before this one, at its `done` */
    struct executor_result result;
};

static void on_outcome(const struct executor_result *result, void *data)
{
    struct outcome *outcome = data;
    outcome->result = *result;
    outcome->order = outcome->world->runs_done++;
    outcome->done = true;
}

static void on_tick(uv_timer_t *timer) { (void)timer; }

/* Runs the loop until `condition` holds, checking after every turn (a
 * 5 ms ticker keeps the turns coming); false after 30 s. `watch` (may be
 * NULL) is called after every turn too. */
static bool wait_until(struct world *world, bool (*condition)(struct world *world, void *data),
                       void (*watch)(struct world *world, void *data), void *data)
{
    uv_timer_t ticker;
    uv_timer_init(&world->loop, &ticker);
    uv_timer_start(&ticker, on_tick, 5, 5);
    uv_update_time(&world->loop);
    uint64_t deadline = uv_now(&world->loop) + 30000;
    bool met = false;
    while (!(met = condition(world, data)) && uv_now(&world->loop) < deadline) {
        uv_run(&world->loop, UV_RUN_ONCE);
        if (watch) watch(world, data);
    }
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&world->loop, UV_RUN_NOWAIT);
    return met;
}

static bool outcomes_done(struct world *world, void *data)
{
    (void)world;
    for (struct outcome **outcome = data; *outcome; outcome++)
        if (!(*outcome)->done) return false;
    return true;
}

/* A plan of `count` ConfigMap creates named "<cluster>-<i>". */
static bool configmap_plan(struct plan *plan, const char *cluster, int count)
{
    if (!plan_init(plan, "default", cluster, "uid")) return false;
    for (int i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d", cluster, i);
        if (!plan_create(plan, &kube_resource_configmaps, configmap(name), "test")) return false;
    }
    return true;
}

/* The resourceVersion the server gave the ConfigMap `name`; 0 when absent. */
static uint64_t version_of(struct world *world, const char *name)
{
    const struct resource *resource = resources_find(store_resources(world->store), "", "v1", "configmaps");
    struct store_error error = { 0 };
    struct store_object *object = resource ? store_get(world->store, resource, "default", name, &error) : NULL;
    store_error_clear(&error);
    if (!object) return 0;
    uint64_t version = store_object_version(object);
    store_object_release(object);
    return version;
}

/* Holds the next `count` ConfigMap creates `delay_ms` at the server, so
 * actions stay in flight long enough to watch the queue. */
static bool delay_creates(struct world *world, unsigned count, uint64_t delay_ms)
{
    struct api_fault fault = { .verb = "create", .resource = "configmaps", .count = count,
                               .delay_ms = delay_ms };
    return api_server_add_fault(world->api, &fault);
}

/* The value of an unlabelled series in the executor's metrics; -1 when absent. */
static double metric_value(struct world *world, const char *name)
{
    struct buffer text = { 0 };
    double value = -1;
    if (metrics_render(world->metrics, &text) && text.data) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "\n%s ", name);
        const char *line = strstr(text.data, prefix);
        if (line) value = strtod(line + strlen(prefix), NULL);
    }
    buffer_free(&text);
    return value;
}

/* A run with a long backlog and a run queued after it: the second's only
 * action starts within one round (after at most one more of the first's),
 * not behind the backlog. */
static void executor_second_run_starts_within_one_round_of_a_backlog(void)
{
    struct world world;
    REQUIRE(world_open_limited(&world, 4));
    struct plan big, small;
    REQUIRE(configmap_plan(&big, "big", 100));
    REQUIRE(configmap_plan(&small, "small", 1));
    struct outcome big_outcome = { .world = &world }, small_outcome = { .world = &world };
    REQUIRE(executor_run(world.executor, &big, on_outcome, &big_outcome) == 0);
    CHECK_INT(executor_in_flight(world.executor), 4);
    CHECK_INT(executor_queued(world.executor), 96);
    REQUIRE(executor_run(world.executor, &small, on_outcome, &small_outcome) == 0);
    CHECK_INT(executor_in_flight(world.executor), 4);
    CHECK_INT(executor_queued(world.executor), 97);
    struct outcome *all[] = { &big_outcome, &small_outcome, NULL };
    REQUIRE(wait_until(&world, outcomes_done, NULL, all));
    CHECK_INT(big_outcome.result.succeeded, 100);
    CHECK_INT(small_outcome.result.succeeded, 1);
    CHECK_INT(small_outcome.order, 0); /* done long before the backlog */
    uint64_t small_version = version_of(&world, "small-0");
    REQUIRE(small_version != 0);
    int written_before = 0;
    for (int i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof name, "big-%d", i);
        uint64_t version = version_of(&world, name);
        CHECK(version != 0);
        if (version < small_version) written_before++;
    }
    /* Four were in flight when it was queued and one more started before it;
     * a few started after it may overtake it on another connection. Behind
     * the backlog it would be about 100. */
    if (written_before > 10) test_fail(__FILE__, __LINE__, "%d of the backlog written first", written_before);
    CHECK_INT(executor_in_flight(world.executor), 0);
    CHECK_INT(executor_queued(world.executor), 0);
    world_close(&world);
}

struct limit_watch {
    size_t limit;
    size_t most_in_flight;
    bool exceeded;
    bool metrics_checked, metrics_agree;
};

static void watch_limit(struct world *world, void *data)
{
    struct limit_watch *watch = data;
    size_t in_flight = executor_in_flight(world->executor);
    if (in_flight > watch->most_in_flight) watch->most_in_flight = in_flight;
    if (in_flight > watch->limit) watch->exceeded = true;
    if (!watch->metrics_checked && executor_queued(world->executor) > 0) {
        watch->metrics_checked = true;
        watch->metrics_agree =
            metric_value(world, "tidb_operator_actions_in_flight") == (double)in_flight &&
            metric_value(world, "tidb_operator_actions_queued") == (double)executor_queued(world->executor);
    }
}

struct runs_watch {
    struct limit_watch limit;
    struct outcome **outcomes;
};

static bool runs_done_condition(struct world *world, void *data)
{
    return outcomes_done(world, ((struct runs_watch *)data)->outcomes);
}

static void runs_watch_limit(struct world *world, void *data)
{
    watch_limit(world, &((struct runs_watch *)data)->limit);
}

/* Three runs of ten slow creates with a budget of three: never more than
 * three in flight, the budget used, everything written in the end, and the
 * gauges tell the same counts. */
static void executor_never_exceeds_the_in_flight_limit(void)
{
    struct world world;
    REQUIRE(world_open_limited(&world, 3));
    REQUIRE(delay_creates(&world, 30, 20));
    static const char *const clusters[] = { "one", "two", "three" };
    struct outcome outcomes[3];
    struct outcome *all[4] = { NULL };
    for (int i = 0; i < 3; i++) {
        outcomes[i] = (struct outcome){ .world = &world };
        all[i] = &outcomes[i];
        struct plan plan;
        REQUIRE(configmap_plan(&plan, clusters[i], 10));
        REQUIRE(executor_run(world.executor, &plan, on_outcome, &outcomes[i]) == 0);
        CHECK(executor_in_flight(world.executor) <= 3);
    }
    CHECK_INT(executor_in_flight(world.executor), 3);
    CHECK_INT(executor_queued(world.executor), 27);
    struct runs_watch watch = { .limit = { .limit = 3 }, .outcomes = all };
    REQUIRE(wait_until(&world, runs_done_condition, runs_watch_limit, &watch));
    CHECK(!watch.limit.exceeded);
    CHECK_INT(watch.limit.most_in_flight, 3);
    CHECK(watch.limit.metrics_checked);
    CHECK(watch.limit.metrics_agree);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(outcomes[i].result.succeeded, 10);
        CHECK_INT(outcomes[i].result.not_started, 0);
        CHECK(!outcomes[i].result.refused);
    }
    CHECK_INT(stored(&world, "configmaps"), 30);
    CHECK(metric_value(&world, "tidb_operator_actions_in_flight") == 0);
    CHECK(metric_value(&world, "tidb_operator_actions_queued") == 0);
    world_close(&world);
}

/* executor_cancel_all drops what is queued (it is never sent) and cancels
 * what is in flight; a later run goes out normally. */
static void executor_cancel_all_drops_the_queued_actions(void)
{
    struct world world;
    REQUIRE(world_open_limited(&world, 2));
    REQUIRE(delay_creates(&world, 2, 200));
    struct plan plan;
    REQUIRE(configmap_plan(&plan, "basic", 10));
    struct outcome outcome = { .world = &world };
    REQUIRE(executor_run(world.executor, &plan, on_outcome, &outcome) == 0);
    CHECK_INT(executor_queued(world.executor), 8);
    executor_cancel_all(world.executor);
    CHECK_INT(executor_queued(world.executor), 0);
    struct outcome *all[] = { &outcome, NULL };
    REQUIRE(wait_until(&world, outcomes_done, NULL, all));
    CHECK(outcome.result.refused);
    CHECK_INT(outcome.result.not_started, 8);
    CHECK_INT(outcome.result.succeeded + outcome.result.failed, 2);
    CHECK_INT(executor_in_flight(world.executor), 0);
    /* Nothing queued survived the cancel. */
    REQUIRE(configmap_plan(&plan, "later", 1));
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.succeeded, 1);
    CHECK(version_of(&world, "later-0") != 0);
    for (int i = 2; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "basic-%d", i);
        CHECK(version_of(&world, name) == 0);
    }
    world_close(&world);
}

struct lease_watch {
    struct outcome **outcomes;
    size_t written_at_loss;
    bool lost;
};

/* Gives the lease up once two ConfigMaps are written. */
static bool done_losing_the_lease(struct world *world, void *data)
{
    struct lease_watch *watch = data;
    if (!watch->lost && stored(world, "configmaps") >= 2) {
        watch->written_at_loss = stored(world, "configmaps");
        world->leading = false;
        watch->lost = true;
    }
    return watch->lost && outcomes_done(world, watch->outcomes);
}

/* may_write turns false mid-run: what is in flight finishes, nothing queued
 * is started, of either run, and both say refused. */
static void executor_starts_nothing_more_once_the_lease_is_lost(void)
{
    struct world world;
    REQUIRE(world_open_limited(&world, 2));
    REQUIRE(delay_creates(&world, 20, 30));
    struct plan first, second;
    REQUIRE(configmap_plan(&first, "first", 10));
    REQUIRE(configmap_plan(&second, "second", 10));
    struct outcome first_outcome = { .world = &world }, second_outcome = { .world = &world };
    REQUIRE(executor_run(world.executor, &first, on_outcome, &first_outcome) == 0);
    REQUIRE(executor_run(world.executor, &second, on_outcome, &second_outcome) == 0);
    struct outcome *all[] = { &first_outcome, &second_outcome, NULL };
    struct lease_watch watch = { .outcomes = all };
    REQUIRE(wait_until(&world, done_losing_the_lease, NULL, &watch));
    size_t succeeded = first_outcome.result.succeeded + second_outcome.result.succeeded;
    size_t not_started = first_outcome.result.not_started + second_outcome.result.not_started;
    CHECK(first_outcome.result.refused);
    CHECK(second_outcome.result.refused);
    CHECK_INT(first_outcome.result.failed + second_outcome.result.failed, 0);
    CHECK_INT(succeeded + not_started, 20);
    /* At most the two in flight at the loss were written after it. */
    CHECK(succeeded <= watch.written_at_loss + 2);
    CHECK_INT(stored(&world, "configmaps"), succeeded);
    CHECK(not_started >= 20 - (watch.written_at_loss + 2));
    CHECK_INT(executor_queued(world.executor), 0);
    world_close(&world);
}

struct close_watch {
    struct world *world;
    bool closed;
    int runs_done_at_closed;
};

static void on_closed(void *data)
{
    struct close_watch *watch = data;
    watch->closed = true;
    watch->runs_done_at_closed = watch->world->runs_done;
}

static bool executor_closed(struct world *world, void *data)
{
    (void)world;
    return ((struct close_watch *)data)->closed;
}

/* executor_close with actions queued: every run's `done` fires (telling
 * what was never sent) before `closed`. */
static void executor_close_with_queued_actions_finishes_every_run_first(void)
{
    struct world world;
    REQUIRE(world_open_limited(&world, 1));
    REQUIRE(delay_creates(&world, 1, 200));
    struct plan first, second;
    REQUIRE(configmap_plan(&first, "first", 5));
    REQUIRE(configmap_plan(&second, "second", 5));
    struct outcome first_outcome = { .world = &world }, second_outcome = { .world = &world };
    REQUIRE(executor_run(world.executor, &first, on_outcome, &first_outcome) == 0);
    REQUIRE(executor_run(world.executor, &second, on_outcome, &second_outcome) == 0);
    CHECK_INT(executor_queued(world.executor), 9);
    struct close_watch watch = { .world = &world };
    executor_close(world.executor, on_closed, &watch);
    world.executor = NULL;
    REQUIRE(wait_until(&world, executor_closed, NULL, &watch));
    CHECK_INT(watch.runs_done_at_closed, 2);
    CHECK(first_outcome.done && second_outcome.done);
    CHECK_INT(first_outcome.result.not_started, 4);
    CHECK_INT(first_outcome.result.succeeded + first_outcome.result.failed, 1);
    CHECK_INT(second_outcome.result.not_started, 5);
    CHECK(first_outcome.result.refused && second_outcome.result.refused);
    world_close(&world);
}

/* PD actions need the cluster's PD client; an action kind the executor does
 * not know is an error, not a crash, and the rest of the plan still runs. */
static void executor_fails_pd_actions_without_a_client_and_unknown_kinds(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    struct plan plan;
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    REQUIRE(plan_pd(&plan, ACTION_PD_SET_STORE_UP, NULL, 4, "test"));
    REQUIRE(plan_pd(&plan, ACTION_PD_REMOVE_TOMBSTONES, NULL, 0, "test"));
    REQUIRE(plan_pd(&plan, (enum action_kind)99, NULL, 0, "test"));
    plan_create(&plan, &kube_resource_configmaps, configmap("basic-pd-1"), "test");
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.failed, 3);
    CHECK_INT(world.last.succeeded, 1);
    CHECK(strstr(world.last.first_error, "no PD client") != NULL);
    REQUIRE(plan_init(&plan, "default", "basic", "uid-1"));
    REQUIRE(plan_pd(&plan, (enum action_kind)99, NULL, 0, "test"));
    REQUIRE(execute(&world, &plan));
    CHECK_INT(world.last.failed, 1);
    CHECK(strstr(world.last.first_error, "unknown action kind") != NULL);
    world_close(&world);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(executor_creates_and_counts_benign_conflicts),
        TEST_CASE(executor_deduplicates_events_within_the_window),
        TEST_CASE(executor_writes_nothing_without_the_lease_or_a_whole_plan),
        TEST_CASE(executor_second_run_starts_within_one_round_of_a_backlog),
        TEST_CASE(executor_never_exceeds_the_in_flight_limit),
        TEST_CASE(executor_cancel_all_drops_the_queued_actions),
        TEST_CASE(executor_starts_nothing_more_once_the_lease_is_lost),
        TEST_CASE(executor_close_with_queued_actions_finishes_every_run_first),
        TEST_CASE(executor_fails_pd_actions_without_a_client_and_unknown_kinds),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
