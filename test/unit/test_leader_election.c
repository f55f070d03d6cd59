/* Leader election against the simulated API server, in-process on one loop,
 * with short durations (lease 1.2 s, renew deadline 0.8 s, retry 0.1 s). */
#include "reconcilers/runtime/leader_election.h"
#include "test/sim/api_server.h"
#include "test/sim/store.h"
#include "test/support/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct candidate {
    const char *identity;
    struct leader_election *election;
    int started, stopped;
    bool closed;
};

struct world {
    uv_loop_t loop;
    struct store *store;
    struct api_server *api;
    struct http_client *http;
    struct kube_connection connection;
    struct kube_client *client;
    struct candidate candidates[2];
};

static void on_started(void *data) { ((struct candidate *)data)->started++; }
static void on_stopped(void *data) { ((struct candidate *)data)->stopped++; }

static bool world_open(struct world *world)
{
    memset(world, 0, sizeof *world);
    if (uv_loop_init(&world->loop) != 0) return false;
    world->store = store_new(&(struct store_options){ .random_seed = 7 });
    world->api = api_server_start(&world->loop, world->store, &(struct api_server_options){ .admin = false });
    world->http = http_client_init(&world->loop, NULL);
    if (!world->store || !world->api || !world->http) return false;
    char server[64];
    snprintf(server, sizeof server, "http://127.0.0.1:%d", api_server_port(world->api));
    world->connection.server = strdup(server);
    world->connection.namespace = strdup("default");
    struct kube_client_options options = { .loop = &world->loop, .http = world->http,
                                           .connection = &world->connection,
                                           .retry_base_ms = 20, .retry_max_ms = 100,
                                           .max_attempts = 2, .request_timeout_ms = 2000 };
    return kube_client_new(&options, &world->client) == 0;
}

static int start_candidate(struct world *world, int index, const char *identity)
{
    struct candidate *candidate = &world->candidates[index];
    *candidate = (struct candidate){ .identity = identity };
    struct leader_election_options options = {
        .loop = &world->loop, .client = world->client, .namespace = "default",
        .name = "tidb-operator", .identity = identity, .lease_duration_ms = 1200,
        .renew_deadline_ms = 800, .retry_period_ms = 100, .random_seed = (uint64_t)index + 1,
        .on_started_leading = on_started, .on_stopped_leading = on_stopped, .data = candidate,
    };
    return leader_election_start(&options, &candidate->election);
}

static void on_tick(uv_timer_t *timer) { (void)timer; }

/* Runs the loop until `done` holds or `timeout_ms` passes; returns the elapsed ms. */
static uint64_t run_until(struct world *world, bool (*done)(struct world *), uint64_t timeout_ms)
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
    return uv_now(&world->loop) - start;
}

static void on_candidate_closed(void *data) { ((struct candidate *)data)->closed = true; }
static void on_client_closed(void *data) { *(bool *)data = true; }
static void on_api_closed(void *data) { *(bool *)data = true; }

static void world_close(struct world *world)
{
    for (int i = 0; i < 2; i++) {
        struct candidate *candidate = &world->candidates[i];
        if (candidate->election && !candidate->closed) {
            leader_election_close(candidate->election, on_candidate_closed, candidate);
            while (!candidate->closed) uv_run(&world->loop, UV_RUN_ONCE);
        }
    }
    bool client_closed = false, http_closed = false, api_closed = false;
    if (world->client) kube_client_close(world->client, on_client_closed, &client_closed);
    else client_closed = true;
    while (!client_closed) uv_run(&world->loop, UV_RUN_ONCE);
    if (world->http) http_client_close(world->http, on_client_closed, &http_closed);
    else http_closed = true;
    if (world->api) api_server_close(world->api, on_api_closed, &api_closed);
    else api_closed = true;
    while (!http_closed || !api_closed) uv_run(&world->loop, UV_RUN_ONCE);
    uv_run(&world->loop, UV_RUN_DEFAULT);
    store_free(world->store);
    kube_connection_free(&world->connection);
    CHECK_INT(uv_loop_close(&world->loop), 0);
}

static const cJSON *stored_lease_spec(struct world *world)
{
    static cJSON *copy;
    cJSON_Delete(copy);
    copy = NULL;
    const struct resource *leases = resources_find(store_resources(world->store), "coordination.k8s.io", "v1", "leases");
    struct store_error error = {0};
    struct store_object *object = store_get(world->store, leases, "default", "tidb-operator", &error);
    store_error_clear(&error);
    if (!object) return NULL;
    copy = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(store_object_tree(object), "spec"), true);
    store_object_release(object);
    return copy;
}

static const char *spec_holder(const cJSON *spec)
{
    const cJSON *holder = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
    return cJSON_IsString(holder) ? holder->valuestring : "(none)";
}

static int spec_int(const cJSON *spec, const char *name)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(spec, name);
    return cJSON_IsNumber(value) ? value->valueint : -1;
}

static bool first_leads(struct world *world) { return leader_election_is_leader(world->candidates[0].election); }
static bool second_leads(struct world *world) { return leader_election_is_leader(world->candidates[1].election); }
static bool first_stopped(struct world *world) { return world->candidates[0].stopped > 0; }
static bool never(struct world *world) { (void)world; return false; }

static void single_candidate_acquires_and_renews(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(start_candidate(&world, 0, "replica-a") == 0);
    run_until(&world, first_leads, 5000);
    CHECK(leader_election_is_leader(world.candidates[0].election));
    run_until(&world, never, 300); /* several renewals */
    CHECK_INT(world.candidates[0].started, 1);
    CHECK_INT(world.candidates[0].stopped, 0);
    const cJSON *spec = stored_lease_spec(&world);
    REQUIRE(spec);
    CHECK_STR(spec_holder(spec), "replica-a");
    CHECK_INT(spec_int(spec, "leaseDurationSeconds"), 1);
    CHECK_INT(spec_int(spec, "leaseTransitions"), 0);
    CHECK_STR(leader_election_holder(world.candidates[0].election), "replica-a");
    world_close(&world);
    CHECK_INT(world.candidates[0].stopped, 1);
}

static void only_one_of_two_leads_and_release_hands_over_at_once(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(start_candidate(&world, 0, "replica-a") == 0);
    run_until(&world, first_leads, 5000);
    REQUIRE(first_leads(&world));
    REQUIRE(start_candidate(&world, 1, "replica-b") == 0);
    /* Longer than a lease duration: the leader keeps renewing, so b never takes over. */
    run_until(&world, second_leads, 2000);
    CHECK(!second_leads(&world));
    CHECK(first_leads(&world));
    CHECK_INT(world.candidates[1].started, 0);

    /* A clean stop releases the lease: b leads well before a lease duration. */
    leader_election_close(world.candidates[0].election, on_candidate_closed, &world.candidates[0]);
    CHECK_INT(world.candidates[0].stopped, 1); /* writes stop before close returns */
    uint64_t handover = run_until(&world, second_leads, 5000);
    CHECK(second_leads(&world));
    CHECK(handover < 1000);
    CHECK(world.candidates[0].closed);
    const cJSON *spec = stored_lease_spec(&world);
    REQUIRE(spec);
    CHECK_STR(spec_holder(spec), "replica-b");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 0); /* taken from an empty holder */
    world_close(&world);
}

static void leader_steps_down_when_renewals_fail_and_returns(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    REQUIRE(start_candidate(&world, 0, "replica-a") == 0);
    run_until(&world, first_leads, 5000);
    REQUIRE(first_leads(&world));
    /* Every lease request now fails for a while. */
    REQUIRE(api_server_add_fault(world.api, &(struct api_fault){ .resource = "leases", .count = 1000, .code = 503 }));
    uint64_t lost_after = run_until(&world, first_stopped, 5000);
    CHECK_INT(world.candidates[0].stopped, 1);
    CHECK(!first_leads(&world));
    CHECK(lost_after >= 700 && lost_after < 1500); /* at the renew deadline, before the lease ends */
    api_server_clear_faults(world.api);
    run_until(&world, first_leads, 5000);
    CHECK(first_leads(&world));
    CHECK_INT(world.candidates[0].started, 2);
    world_close(&world);
}

static void expired_lease_of_a_dead_holder_is_taken_after_its_duration(void)
{
    struct world world;
    REQUIRE(world_open(&world));
    const struct resource *leases = resources_find(store_resources(world.store), "coordination.k8s.io", "v1", "leases");
    cJSON *lease = cJSON_Parse("{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                               "\"metadata\":{\"name\":\"tidb-operator\",\"namespace\":\"default\"},"
                               "\"spec\":{\"holderIdentity\":\"ghost\",\"leaseDurationSeconds\":1,"
                               "\"leaseTransitions\":4}}");
    struct store_reply reply = {0};
    REQUIRE(store_create(world.store, leases, "default", lease, &reply));
    store_reply_clear(&reply);
    REQUIRE(start_candidate(&world, 0, "replica-a") == 0);
    run_until(&world, never, 600);
    CHECK(!first_leads(&world)); /* the ghost's record is only 0.6 s old on our clock */
    CHECK_STR(leader_election_holder(world.candidates[0].election), "ghost");
    uint64_t waited = 600 + run_until(&world, first_leads, 5000);
    CHECK(first_leads(&world));
    CHECK(waited >= 1000);
    const cJSON *spec = stored_lease_spec(&world);
    REQUIRE(spec);
    CHECK_STR(spec_holder(spec), "replica-a");
    CHECK_INT(spec_int(spec, "leaseTransitions"), 5);
    world_close(&world);
}

static void invalid_options_are_refused(void)
{
    struct leader_election *election = (void *)1;
    struct leader_election_options options = { .namespace = "default", .name = "x", .identity = "a" };
    CHECK_INT(leader_election_start(&options, &election), -EINVAL);
    CHECK(election == NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    options.loop = &loop;
    options.client = (struct kube_client *)&loop; /* never used: rejected before */
    options.lease_duration_ms = 5000;
    options.renew_deadline_ms = 6000;
    CHECK_INT(leader_election_start(&options, &election), -EINVAL);
    options.renew_deadline_ms = 1000;
    options.retry_period_ms = 900; /* 1.2 × retry > renew deadline */
    CHECK_INT(leader_election_start(&options, &election), -EINVAL);
    options.retry_period_ms = 100;
    options.identity = "";
    CHECK_INT(leader_election_start(&options, &election), -EINVAL);
    uv_loop_close(&loop);
}

static void micro_time_format(void)
{
    char text[40];
    leader_election_format_time(1795292100123, text, sizeof text);
    CHECK_STR(text, "2026-11-21T20:15:00.123000Z");
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(single_candidate_acquires_and_renews),
        TEST_CASE(only_one_of_two_leads_and_release_hands_over_at_once),
        TEST_CASE(leader_steps_down_when_renewals_fail_and_returns),
        TEST_CASE(expired_lease_of_a_dead_holder_is_taken_after_its_duration),
        TEST_CASE(invalid_options_are_refused),
        TEST_CASE(micro_time_format),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
