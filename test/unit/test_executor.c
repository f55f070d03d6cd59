/* The executor against the simulated API server, in-process on one loop:
 * actions reach the server, events are de-duplicated within the window,
 * nothing is sent without the lease or from an incomplete plan. */
#include "reconcilers/runtime/executor.h"
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
    struct executor *executor;
    bool leading;
    int runs_done;
    struct executor_result last;
};

static bool may_write(void *data) { return ((struct world *)data)->leading; }

static bool world_open(struct world *world)
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
                                        .data = world, .event_dedup_ms = 60000 };
    return executor_new(&options, &world->executor) == 0;
}

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
    bool executor_closed = false, client_closed = false, http_closed = false, api_closed = false;
    executor_close(world->executor, flag_set, &executor_closed);
    while (!executor_closed) uv_run(&world->loop, UV_RUN_ONCE);
    kube_client_close(world->client, flag_set, &client_closed);
    while (!client_closed) uv_run(&world->loop, UV_RUN_ONCE);
    http_client_close(world->http, flag_set, &http_closed);
    api_server_close(world->api, flag_set, &api_closed);
    while (!http_closed || !api_closed) uv_run(&world->loop, UV_RUN_ONCE);
    uv_run(&world->loop, UV_RUN_DEFAULT);
    store_free(world->store);
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

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(executor_creates_and_counts_benign_conflicts),
        TEST_CASE(executor_deduplicates_events_within_the_window),
        TEST_CASE(executor_writes_nothing_without_the_lease_or_a_whole_plan),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
