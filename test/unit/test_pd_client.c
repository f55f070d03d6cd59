/* pd_client and tidb_client against a fake PD on loopback, in-process. */
#include "pd/pd_client.h"
#include "pd/tidb_client.h"
#include "reactor/metrics.h"
#include "test/unit/test_pd_fixture.h"

static const char members_body[] =
    "{\n  \"header\": {\n    \"cluster_id\": 7340000000123456789\n  },\n  \"members\": [\n"
    "    {\n      \"name\": \"basic-pd-0\",\n      \"member_id\": 1234567890123456789,\n"
    "      \"peer_urls\": [\n        \"http://basic-pd-0.basic-pd-peer.tidb.svc:2380\"\n      ],\n"
    "      \"client_urls\": [\n        \"http://basic-pd-0.basic-pd-peer.tidb.svc:2379\"\n      ]\n    },\n"
    "    {\n      \"name\": \"basic-pd-1\",\n      \"member_id\": 9876543210987654321,\n"
    "      \"peer_urls\": [\n        \"http://basic-pd-1.basic-pd-peer.tidb.svc:2380\"\n      ],\n"
    "      \"client_urls\": [\n        \"http://basic-pd-1.basic-pd-peer.tidb.svc:2379\"\n      ]\n    }\n  ],\n"
    "  \"leader\": {\n    \"name\": \"basic-pd-0\",\n    \"member_id\": 1234567890123456789\n  },\n"
    "  \"etcd_leader\": {\n    \"name\": \"basic-pd-0\",\n    \"member_id\": 1234567890123456789\n  }\n}\n";

static const char health_body[] =
    "[\n  {\n    \"name\": \"basic-pd-0\",\n    \"member_id\": 1234567890123456789,\n"
    "    \"client_urls\": [\n      \"http://basic-pd-0.basic-pd-peer.tidb.svc:2379\"\n    ],\n    \"health\": true\n  },\n"
    "  {\n    \"name\": \"basic-pd-1\",\n    \"member_id\": 9876543210987654321,\n"
    "    \"client_urls\": null,\n    \"health\": false\n  }\n]\n";

static const char stores_body[] =
    "{\n  \"count\": 2,\n  \"stores\": [\n"
    "    {\"store\": {\"id\": 1, \"address\": \"basic-tikv-0.basic-tikv-peer.tidb.svc:20160\", \"node_state\": 1,"
    " \"last_heartbeat\": 1767229200500000000, \"state_name\": \"Up\"},"
    " \"status\": {\"capacity\": \"100GiB\", \"leader_count\": 22, \"region_count\": 65}},\n"
    "    {\"store\": {\"id\": 5, \"address\": \"basic-tikv-3.basic-tikv-peer.tidb.svc:20160\", \"state\": 2,"
    " \"node_state\": 3, \"state_name\": \"Tombstone\"}, \"status\": {}}\n  ]\n}\n";

static const char store_body[] =
    "{\"store\": {\"id\": 1, \"address\": \"basic-tikv-0.basic-tikv-peer.tidb.svc:20160\", \"state_name\": \"Up\"},"
    " \"status\": {\"leader_count\": 22}}\n";

static const char config_body[] =
    "{\"schedule\": {\"max-store-down-time\": \"1h0m0s\"}, \"replication\": {\"max-replicas\": 3,"
    " \"location-labels\": \"zone,host\", \"enable-placement-rules\": \"true\"}}\n";

static const char not_bootstrapped[] =
    "\"[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please start TiKV first\"\n";

/* --- result capture ----------------------------------------------------------- */

struct capture {
    bool done;
    int calls;
    struct pd_error error;
    struct pd_members members;
    struct pd_member member;
    struct pd_health health;
    struct pd_stores stores;
    struct pd_store store;
    struct pd_schedulers schedulers;
    struct pd_config config;
    struct pd_cluster cluster;
    long status;
    bool absent;
    char message[256];
    struct tidb_status tidb;
};

static void capture_free(struct capture *c)
{
    pd_members_free(&c->members);
    pd_member_free(&c->member);
    pd_health_free(&c->health);
    pd_stores_free(&c->stores);
    pd_store_free(&c->store);
    pd_schedulers_free(&c->schedulers);
    pd_config_free(&c->config);
    tidb_status_free(&c->tidb);
    memset(c, 0, sizeof *c);
}

#define MOVE(dst, src)                                                                             \
    do {                                                                                           \
        (dst) = *(src);                                                                            \
        memset((src), 0, sizeof *(src));                                                           \
    } while (0)

static void got_members(struct pd_call *call, const struct pd_error *e, struct pd_members *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->members, v);
}

static void got_member(struct pd_call *call, const struct pd_error *e, struct pd_member *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->member, v);
}

static void got_health(struct pd_call *call, const struct pd_error *e, struct pd_health *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->health, v);
}

static void got_stores(struct pd_call *call, const struct pd_error *e, struct pd_stores *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->stores, v);
}

static void got_store(struct pd_call *call, const struct pd_error *e, struct pd_store *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->store, v);
}

static void got_schedulers(struct pd_call *call, const struct pd_error *e, struct pd_schedulers *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->schedulers, v);
}

static void got_config(struct pd_call *call, const struct pd_error *e, struct pd_config *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->config, v);
}

static void got_cluster(struct pd_call *call, const struct pd_error *e, struct pd_cluster *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    c->cluster = *v;
}

static void got_action(struct pd_call *call, const struct pd_error *e, const struct pd_action_result *r,
                       void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    c->status = r->status;
    c->absent = r->absent;
    snprintf(c->message, sizeof c->message, "%s", r->message);
}

static void got_tidb(struct tidb_status_call *call, const struct pd_error *e, struct tidb_status *v, void *ud)
{
    struct capture *c = ud;
    c->calls++;
    c->done = true;
    c->error = *e;
    MOVE(c->tidb, v);
}

static struct pd_client *client_for(struct fixture *f, uint64_t timeout_ms, struct pd_metrics *metrics)
{
    struct pd_client_options options = {.base_url = f->base, .timeout_ms = timeout_ms, .metrics = metrics};
    return pd_client_create(f->http, &options);
}

static void serve_reference(struct fixture *f)
{
    fake_route_set(f, "GET", "/pd/api/v1/members", 200, members_body);
    fake_route_set(f, "GET", "/pd/api/v1/leader", 200,
                   "{\n  \"name\": \"basic-pd-0\",\n  \"member_id\": 1234567890123456789\n}\n");
    fake_route_set(f, "GET", "/pd/api/v1/health", 200, health_body);
    fake_route_set(f, "GET", "/pd/api/v1/stores", 200, stores_body);
    fake_route_set(f, "GET", "/pd/api/v1/store/1", 200, store_body);
    fake_route_set(f, "GET", "/pd/api/v1/config", 200, config_body);
    fake_route_set(f, "GET", "/pd/api/v1/cluster", 200, "{\n  \"id\": 7340000000123456789,\n  \"max_peer_count\": 3\n}\n");
    fake_route_set(f, "GET", "/pd/api/v1/schedulers", 200,
                   "[\n  \"balance-leader-scheduler\",\n  \"evict-leader-scheduler\",\n  \"balance-region-scheduler\"\n]\n");
    fake_route_set(f, "GET", "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", 200,
                   "{\n  \"store-id-ranges\": {\n    \"4\": [{\"start-key\": \"\", \"end-key\": \"\"}],\n"
                   "    \"1\": [{\"start-key\": \"\", \"end-key\": \"\"}]\n  },\n  \"batch\": 3\n}\n");
}

/* --- reads -------------------------------------------------------------------- */

static void reads_decode_reference_bodies(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    serve_reference(&f);
    struct pd_client *client = client_for(&f, 2000, NULL);
    REQUIRE(client != NULL);
    struct capture members = {0}, leader = {0}, health = {0}, stores = {0}, store = {0}, config = {0},
                   cluster = {0}, schedulers = {0};
    /* All at once: they run in parallel on the one loop. */
    CHECK(pd_client_get_members(client, got_members, &members) != NULL);
    CHECK(pd_client_get_leader(client, got_member, &leader) != NULL);
    CHECK(pd_client_get_health(client, got_health, &health) != NULL);
    CHECK(pd_client_get_stores(client, PD_STORES_ALL, got_stores, &stores) != NULL);
    CHECK(pd_client_get_store(client, 1, got_store, &store) != NULL);
    CHECK(pd_client_get_config(client, got_config, &config) != NULL);
    CHECK(pd_client_get_cluster(client, got_cluster, &cluster) != NULL);
    CHECK(pd_client_get_schedulers(client, got_schedulers, &schedulers) != NULL);
    CHECK_INT(pd_client_in_flight(client), 8);
    /* Never called back from inside the call. */
    CHECK(!members.done && !schedulers.done);
    CHECK(fixture_run(&f, &schedulers.done, 5000));
    fixture_run(&f, &cluster.done, 5000);
    fixture_run(&f, &members.done, 5000);
    fixture_run(&f, &health.done, 5000);
    fixture_run(&f, &stores.done, 5000);
    fixture_run(&f, &store.done, 5000);
    fixture_run(&f, &config.done, 5000);
    fixture_run(&f, &leader.done, 5000);
    CHECK_INT(pd_client_in_flight(client), 0);

    CHECK_INT(members.error.kind, PD_ERROR_NONE);
    CHECK_INT(members.members.count, 2);
    CHECK(members.members.count == 2 && members.members.members[1].member_id == 9876543210987654321ull);
    CHECK_STR(members.members.leader.name, "basic-pd-0");
    CHECK_STR(leader.member.name, "basic-pd-0");
    CHECK_INT(health.health.count, 2);
    CHECK(health.health.count == 2 && !health.health.entries[1].health);
    CHECK_INT(stores.stores.count, 2);
    CHECK_STR(fake_route_find(&f, "GET", "/pd/api/v1/stores")->last_query, "state=0&state=1&state=2");
    CHECK(store.store.id == 1 && store.store.leader_count == 22);
    CHECK(config.config.max_replicas == 3);
    CHECK(config.config.max_store_down_time_ms == 3600000);
    CHECK(cluster.cluster.id == 7340000000123456789ull);
    CHECK_INT(schedulers.error.kind, PD_ERROR_NONE);
    CHECK(schedulers.schedulers.evict_leader_bare);
    REQUIRE(schedulers.schedulers.evict_leader_count == 2);
    CHECK(schedulers.schedulers.evict_leader_store_ids[0] == 1);
    CHECK(schedulers.schedulers.evict_leader_store_ids[1] == 4);

    /* The default filter sends no state at all (PD: Up + Offline). */
    struct capture plain = {0};
    pd_client_get_stores(client, 0, got_stores, &plain);
    fixture_run(&f, &plain.done, 5000);
    CHECK_STR(fake_route_find(&f, "GET", "/pd/api/v1/stores")->last_query, "");
    struct capture tomb = {0};
    pd_client_get_stores(client, PD_STORES_TOMBSTONE, got_stores, &tomb);
    fixture_run(&f, &tomb.done, 5000);
    CHECK_STR(fake_route_find(&f, "GET", "/pd/api/v1/stores")->last_query, "state=2");

    struct capture *all[] = {&members, &leader, &health, &stores, &store, &config, &cluster, &schedulers, &plain, &tomb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        CHECK_INT(all[i]->calls, 1);
        capture_free(all[i]);
    }
    pd_client_close(client);
    fixture_stop(&f);
}

static void evict_list_gone_between_reads(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "GET", "/pd/api/v1/schedulers", 200, "[\"evict-leader-scheduler\",\"evict-leader-scheduler-9\"]");
    /* No list route: the fake answers PD's plain-text 404. */
    struct pd_client *client = client_for(&f, 2000, NULL);
    struct capture c = {0};
    pd_client_get_schedulers(client, got_schedulers, &c);
    CHECK(fixture_run(&f, &c.done, 5000));
    CHECK_INT(c.error.kind, PD_ERROR_NONE);
    REQUIRE(c.schedulers.evict_leader_count == 1);
    CHECK(c.schedulers.evict_leader_store_ids[0] == 9);
    capture_free(&c);

    /* A list that is garbage fails the whole call with a decode error. */
    fake_route_set(&f, "GET", "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", 200, "<html>");
    pd_client_get_schedulers(client, got_schedulers, &c);
    CHECK(fixture_run(&f, &c.done, 5000));
    CHECK_INT(c.error.kind, PD_ERROR_DECODE);
    CHECK(c.schedulers.names == NULL);
    capture_free(&c);
    pd_client_close(client);
    fixture_stop(&f);
}

/* --- errors ------------------------------------------------------------------- */

static void http_errors_carry_pd_text(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "GET", "/pd/api/v1/stores", 500, not_bootstrapped);
    fake_route_set(&f, "GET", "/pd/api/v1/leader", 503, "redirect finds no leader\n");
    struct pd_client *client = client_for(&f, 2000, NULL);
    struct capture stores = {0}, leader = {0}, store = {0};
    pd_client_get_stores(client, PD_STORES_ALL, got_stores, &stores);
    pd_client_get_leader(client, got_member, &leader);
    pd_client_get_store(client, 77, got_store, &store); /* no route: plain-text 404 */
    fixture_run(&f, &stores.done, 5000);
    fixture_run(&f, &leader.done, 5000);
    fixture_run(&f, &store.done, 5000);
    CHECK_INT(stores.error.kind, PD_ERROR_HTTP);
    CHECK_INT(stores.error.status, 500);
    CHECK_INT(stores.error.reason, PD_REASON_NOT_BOOTSTRAPPED);
    CHECK(strstr(stores.error.message, "please start TiKV first") != NULL);
    CHECK_INT(stores.stores.count, 0);
    CHECK_INT(leader.error.reason, PD_REASON_NO_LEADER);
    CHECK_INT(store.error.status, 404);
    CHECK_INT(store.error.reason, PD_REASON_NOT_FOUND);
    CHECK_STR(store.error.message, "HTTP 404: 404 page not found");
    capture_free(&stores);
    capture_free(&leader);
    capture_free(&store);

    /* 200 with garbage: a decode error, never a crash. */
    fake_route_set(&f, "GET", "/pd/api/v1/members", 200, "<html><body>proxy error</body></html>");
    fake_route_set(&f, "GET", "/pd/api/v1/health", 200, "[{\"name\":\"a\",\"member_id\":1,\"health\":");
    fake_route_set(&f, "GET", "/pd/api/v1/config", 200, "");
    struct capture members = {0}, health = {0}, config = {0};
    pd_client_get_members(client, got_members, &members);
    pd_client_get_health(client, got_health, &health);
    pd_client_get_config(client, got_config, &config);
    fixture_run(&f, &members.done, 5000);
    fixture_run(&f, &health.done, 5000);
    fixture_run(&f, &config.done, 5000);
    CHECK_INT(members.error.kind, PD_ERROR_DECODE);
    CHECK(strstr(members.error.message, "HTML") != NULL);
    CHECK_INT(health.error.kind, PD_ERROR_DECODE);
    CHECK_INT(config.error.kind, PD_ERROR_DECODE);
    CHECK(strstr(config.error.message, "empty body") != NULL);
    capture_free(&members);
    capture_free(&health);
    capture_free(&config);
    pd_client_close(client);
    fixture_stop(&f);
}

static void huge_body_is_refused(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    size_t size = 256 * 1024;
    char *big = malloc(size + 1);
    REQUIRE(big != NULL);
    memset(big, ' ', size);
    big[0] = '[';
    big[size - 1] = ']';
    big[size] = '\0';
    fake_route_set(&f, "GET", "/pd/api/v1/health", 200, big);
    struct pd_client_options options = {.base_url = f.base, .timeout_ms = 2000, .max_body_bytes = 64 * 1024};
    struct pd_client *client = pd_client_create(f.http, &options);
    struct capture c = {0};
    pd_client_get_health(client, got_health, &c);
    CHECK(fixture_run(&f, &c.done, 5000));
    CHECK_INT(c.error.kind, PD_ERROR_TRANSPORT);
    CHECK_INT(c.error.transport, HTTP_ERROR_TOO_LARGE);
    capture_free(&c);
    pd_client_close(client);
    fixture_stop(&f);
    free(big);
}

static void timeout_leaves_other_calls_alone(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    serve_reference(&f);
    fake_route_find(&f, "GET", "/pd/api/v1/members")->hang = true;
    struct pd_client *client = client_for(&f, 300, NULL);
    struct capture members = {0}, health = {0};
    uint64_t start = uv_now(&f.loop);
    pd_client_get_members(client, got_members, &members);
    pd_client_get_health(client, got_health, &health);
    CHECK(fixture_run(&f, &health.done, 5000));
    CHECK(!members.done); /* the hung call does not hold the other back */
    CHECK_INT(health.error.kind, PD_ERROR_NONE);
    CHECK(fixture_run(&f, &members.done, 5000));
    uv_update_time(&f.loop);
    uint64_t elapsed = uv_now(&f.loop) - start;
    CHECK_INT(members.error.kind, PD_ERROR_TRANSPORT);
    CHECK_INT(members.error.transport, HTTP_ERROR_TIMEOUT);
    CHECK(strstr(members.error.message, "GET /pd/api/v1/members: timeout") != NULL);
    CHECK(elapsed >= 250 && elapsed < 3000);
    capture_free(&members);
    capture_free(&health);
    pd_client_close(client);
    fixture_stop(&f);
}

static void connection_refused_is_transport(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    /* Learn a free port by binding and closing a second server. */
    struct http_server *other = NULL;
    struct http_server_options options = {.host = "127.0.0.1", .port = 0};
    REQUIRE(http_server_start(&f.loop, &options, &other) == 0);
    int port = http_server_port(other);
    bool closed = false;
    http_server_close(other, fake_on_server_closed, &(struct fixture){0});
    fixture_run(&f, NULL, 50);
    (void)closed;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    struct pd_client_options client_options = {.base_url = base, .timeout_ms = 2000};
    struct pd_client *client = pd_client_create(f.http, &client_options);
    struct capture c = {0};
    pd_client_get_members(client, got_members, &c);
    CHECK(fixture_run(&f, &c.done, 5000));
    CHECK_INT(c.error.kind, PD_ERROR_TRANSPORT);
    CHECK_INT(c.error.transport, HTTP_ERROR_CONNECT);
    CHECK_INT(c.members.count, 0);
    capture_free(&c);
    pd_client_close(client);
    fixture_stop(&f);
}

static void cancel_and_close(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    serve_reference(&f);
    fake_route_find(&f, "GET", "/pd/api/v1/members")->hang = true;
    struct pd_client *client = client_for(&f, 5000, NULL);
    struct capture c = {0};
    struct pd_call *call = pd_client_get_members(client, got_members, &c);
    REQUIRE(call != NULL);
    fixture_run(&f, NULL, 50);
    pd_call_cancel(call);
    CHECK(!c.done); /* deferred to the loop */
    CHECK(fixture_run(&f, &c.done, 2000));
    CHECK(pd_error_is_cancelled(&c.error));
    capture_free(&c);

    /* After close no callback fires, and everything is freed (valgrind). */
    struct capture late = {0}, late2 = {0};
    fake_route_find(&f, "GET", "/pd/api/v1/schedulers")->hang = true;
    pd_client_get_members(client, got_members, &late);
    pd_client_get_schedulers(client, got_schedulers, &late2);
    fixture_run(&f, NULL, 50);
    pd_client_close(client);
    fixture_run(&f, NULL, 200);
    CHECK(!late.done && !late2.done);
    fixture_stop(&f);
}

/* --- actions ------------------------------------------------------------------ */

static void actions_paths_bodies_and_outcomes(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "DELETE", "/pd/api/v1/members/name/basic-pd-2", 200, "\"removed, pd: basic-pd-2\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/members/name/basic-pd-9", 404, "\"not found, pd: basic-pd-9\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/members/id/4242", 500, "\"etcdserver: unhealthy cluster\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/store/4", 200, "\"The store is set as Offline.\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/store/5", 410, "\"[PD:core:ErrStoreRemoved]store 5 has been removed\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/store/6", 400,
                   "\"[PD:core:ErrStoresNotEnough]can not remove store 6 since the number of up stores would be 2 while need 3\"\n");
    fake_route_set(&f, "POST", "/pd/api/v1/leader/transfer/basic-pd-1", 500, "\"no valid pd to transfer etcd leader\"\n");
    fake_route_set(&f, "POST", "/pd/api/v1/leader/resign", 200, "\"The resign command is submitted.\"\n");
    fake_route_set(&f, "POST", "/pd/api/v1/schedulers", 200, "\"The scheduler is created.\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/schedulers/evict-leader-scheduler-4", 200, "null\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/schedulers/evict-leader-scheduler-9", 404, "null\n");
    struct pd_client *client = client_for(&f, 2000, NULL);
    struct capture c[11];
    memset(c, 0, sizeof c);
    CHECK(pd_client_delete_member(client, "basic-pd-2", got_action, &c[0]) != NULL);
    CHECK(pd_client_delete_member(client, "basic-pd-9", got_action, &c[1]) != NULL);
    CHECK(pd_client_delete_member_by_id(client, 4242, got_action, &c[2]) != NULL);
    CHECK(pd_client_delete_store(client, 4, got_action, &c[3]) != NULL);
    CHECK(pd_client_delete_store(client, 5, got_action, &c[4]) != NULL);
    CHECK(pd_client_delete_store(client, 6, got_action, &c[5]) != NULL);
    CHECK(pd_client_transfer_leader(client, "basic-pd-1", got_action, &c[6]) != NULL);
    CHECK(pd_client_resign_leader(client, got_action, &c[7]) != NULL);
    CHECK(pd_client_add_evict_leader(client, 4, got_action, &c[8]) != NULL);
    CHECK(pd_client_remove_evict_leader(client, 4, got_action, &c[9]) != NULL);
    CHECK(pd_client_remove_evict_leader(client, 9, got_action, &c[10]) != NULL);
    CHECK(pd_client_delete_member(client, "", got_action, &c[0]) == NULL); /* refused, no callback */
    for (int i = 0; i < 11; i++)
        fixture_run(&f, &c[i].done, 5000);

    CHECK_INT(c[0].error.kind, PD_ERROR_NONE);
    CHECK_INT(c[0].status, 200);
    CHECK(!c[0].absent);
    CHECK_STR(c[0].message, "removed, pd: basic-pd-2");
    CHECK_INT(c[1].error.kind, PD_ERROR_NONE);
    CHECK(c[1].absent);
    CHECK_INT(c[1].status, 404);
    CHECK_INT(c[2].error.kind, PD_ERROR_HTTP);
    CHECK_INT(c[2].error.reason, PD_REASON_UNHEALTHY_CLUSTER);
    CHECK_STR(c[3].message, "The store is set as Offline.");
    CHECK_INT(c[3].error.kind, PD_ERROR_NONE);
    CHECK_INT(c[4].error.kind, PD_ERROR_NONE);
    CHECK(c[4].absent); /* already Tombstone */
    CHECK_INT(c[5].error.kind, PD_ERROR_HTTP);
    CHECK_INT(c[5].error.reason, PD_REASON_STORES_NOT_ENOUGH);
    CHECK(strstr(c[5].error.message, "can not remove store 6") != NULL);
    CHECK_INT(c[6].error.kind, PD_ERROR_HTTP);
    CHECK_STR(c[6].error.message, "HTTP 500: no valid pd to transfer etcd leader");
    CHECK_INT(c[7].error.kind, PD_ERROR_NONE);
    CHECK_INT(c[8].error.kind, PD_ERROR_NONE);
    CHECK_STR(fake_route_find(&f, "POST", "/pd/api/v1/schedulers")->last_body,
              "{\"name\":\"evict-leader-scheduler\",\"store_id\":4}");
    CHECK_INT(c[9].error.kind, PD_ERROR_NONE);
    CHECK(!c[9].absent);
    CHECK_STR(c[9].message, "");
    CHECK_INT(c[10].error.kind, PD_ERROR_NONE);
    CHECK(c[10].absent);
    for (int i = 0; i < 11; i++)
        CHECK_INT(c[i].calls, 1);

    /* Names cannot change the path. */
    struct capture odd = {0};
    pd_client_delete_member(client, "a/../b c", got_action, &odd);
    fixture_run(&f, &odd.done, 5000);
    CHECK_INT(odd.status, 404);
    pd_client_close(client);
    fixture_stop(&f);
}

/* Cancelling a scale-in and forgetting tombstones. */
static void store_up_and_tombstones(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "POST", "/pd/api/v1/store/7/state", 200, "\"The store's state is updated.\"\n");
    fake_route_set(&f, "POST", "/pd/api/v1/store/8/state", 410, "\"[PD:core:ErrStoreRemoved]store 8 has been removed\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/stores/remove-tombstone", 200, "\"Remove tombstone successfully.\"\n");
    struct pd_client *client = client_for(&f, 2000, NULL);
    struct capture c[3];
    memset(c, 0, sizeof c);
    CHECK(pd_client_set_store_up(client, 7, got_action, &c[0]) != NULL);
    CHECK(pd_client_set_store_up(client, 8, got_action, &c[1]) != NULL);
    CHECK(pd_client_remove_tombstones(client, got_action, &c[2]) != NULL);
    for (int i = 0; i < 3; i++)
        fixture_run(&f, &c[i].done, 5000);
    CHECK_INT(c[0].error.kind, PD_ERROR_NONE);
    CHECK_STR(c[0].message, "The store's state is updated.");
    CHECK_STR(fake_route_find(&f, "POST", "/pd/api/v1/store/7/state")->last_query, "state=Up");
    CHECK_INT(c[1].error.kind, PD_ERROR_HTTP); /* a Tombstone cannot come back */
    CHECK_INT(c[2].error.kind, PD_ERROR_NONE);
    CHECK_STR(c[2].message, "Remove tombstone successfully.");
    pd_client_close(client);
    fixture_stop(&f);
}

static void big_ids_are_sent_exactly(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "POST", "/pd/api/v1/schedulers", 200, "\"The scheduler is created.\"\n");
    fake_route_set(&f, "DELETE", "/pd/api/v1/members/id/9876543210987654321", 200,
                   "\"removed, pd: 9876543210987654321\"\n");
    struct pd_client *client = client_for(&f, 2000, NULL);
    struct capture a = {0}, b = {0};
    pd_client_add_evict_leader(client, 18446744073709551615ull, got_action, &a);
    pd_client_delete_member_by_id(client, 9876543210987654321ull, got_action, &b);
    fixture_run(&f, &a.done, 5000);
    fixture_run(&f, &b.done, 5000);
    CHECK_STR(fake_route_find(&f, "POST", "/pd/api/v1/schedulers")->last_body,
              "{\"name\":\"evict-leader-scheduler\",\"store_id\":18446744073709551615}");
    CHECK_INT(b.error.kind, PD_ERROR_NONE);
    pd_client_close(client);
    fixture_stop(&f);
}

/* --- metrics and TiDB ----------------------------------------------------------- */

static void metrics_count_by_template(void)
{
    struct fixture f;
    REQUIRE(fixture_start(&f));
    serve_reference(&f);
    struct metrics_registry *registry = metrics_registry_create();
    REQUIRE(registry != NULL);
    struct pd_metrics *metrics = pd_metrics_create(registry);
    REQUIRE(metrics != NULL);
    CHECK(pd_metrics_create(registry) == NULL); /* once per registry */
    struct pd_client *client = client_for(&f, 2000, metrics);
    struct capture a = {0}, b = {0}, c = {0};
    pd_client_get_store(client, 1, got_store, &a);
    pd_client_get_store(client, 2, got_store, &b);
    pd_client_get_schedulers(client, got_schedulers, &c);
    fixture_run(&f, &a.done, 5000);
    fixture_run(&f, &b.done, 5000);
    fixture_run(&f, &c.done, 5000);
    struct buffer out = {0};
    CHECK(metrics_render(registry, &out));
    const char *text = buffer_string(&out);
    CHECK(strstr(text, "pd_requests_total{method=\"GET\",path=\"/pd/api/v1/store/{id}\",code=\"200\"} 1") != NULL);
    CHECK(strstr(text, "pd_requests_total{method=\"GET\",path=\"/pd/api/v1/store/{id}\",code=\"404\"} 1") != NULL);
    CHECK(strstr(text, "path=\"/pd/api/v1/scheduler-config/evict-leader-scheduler/list\",code=\"200\"} 1") != NULL);
    CHECK(strstr(text, "pd_request_duration_seconds_count{method=\"GET\",path=\"/pd/api/v1/store/{id}\"} 2") != NULL);
    buffer_free(&out);
    capture_free(&a);
    capture_free(&b);
    capture_free(&c);
    pd_client_close(client);
    fixture_stop(&f);
    pd_metrics_free(metrics);
    metrics_registry_free(registry);
}

static void tidb_status_health(void)
{
    char *url = tidb_status_url("basic-tidb-0", "basic", "tidb", false);
    CHECK_STR(url, "http://basic-tidb-0.basic-tidb-peer.tidb:10080/status");
    free(url);
    char *pd = pd_base_url("basic", "tidb", false);
    CHECK_STR(pd, "http://basic-pd.tidb:2379");
    free(pd);

    struct fixture f;
    REQUIRE(fixture_start(&f));
    fake_route_set(&f, "GET", "/status", 200,
                   "{\"connections\":3,\"version\":\"8.0.11-TiDB-v8.5.1\",\"git_hash\":\"abc\","
                   "\"status\":{\"init_stats_percentage\":100}}");
    char status_url[96];
    snprintf(status_url, sizeof status_url, "%s/status", f.base);
    struct tidb_status_options options = {.url = status_url, .timeout_ms = 300};
    struct capture ok = {0};
    CHECK(tidb_status_get(f.http, &options, got_tidb, &ok) != NULL);
    CHECK(fixture_run(&f, &ok.done, 5000));
    CHECK_INT(ok.error.kind, PD_ERROR_NONE);
    CHECK(ok.tidb.connections == 3);
    CHECK_STR(ok.tidb.version, "8.0.11-TiDB-v8.5.1");
    capture_free(&ok);

    /* Shutting down: 500 with an empty body. */
    fake_route_set(&f, "GET", "/status", 500, NULL);
    struct capture down = {0};
    tidb_status_get(f.http, &options, got_tidb, &down);
    CHECK(fixture_run(&f, &down.done, 5000));
    CHECK_INT(down.error.kind, PD_ERROR_HTTP);
    CHECK_INT(down.error.status, 500);
    CHECK_STR(down.error.message, "HTTP 500 with an empty body");
    capture_free(&down);

    /* 200 but not decodable: not healthy. */
    fake_route_set(&f, "GET", "/status", 200, "ok");
    struct capture garbage = {0};
    tidb_status_get(f.http, &options, got_tidb, &garbage);
    CHECK(fixture_run(&f, &garbage.done, 5000));
    CHECK_INT(garbage.error.kind, PD_ERROR_DECODE);
    capture_free(&garbage);

    /* Never answers: timeout. */
    fake_route_set(&f, "GET", "/status", 200, "{}")->hang = true;
    struct capture hung = {0};
    tidb_status_get(f.http, &options, got_tidb, &hung);
    CHECK(fixture_run(&f, &hung.done, 5000));
    CHECK_INT(hung.error.transport, HTTP_ERROR_TIMEOUT);
    capture_free(&hung);

    struct capture cancelled = {0};
    struct tidb_status_call *call = tidb_status_get(f.http, &options, got_tidb, &cancelled);
    tidb_status_cancel(call);
    CHECK(!cancelled.done);
    CHECK(fixture_run(&f, &cancelled.done, 5000));
    CHECK(pd_error_is_cancelled(&cancelled.error));
    capture_free(&cancelled);
    fixture_stop(&f);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(reads_decode_reference_bodies),
        TEST_CASE(evict_list_gone_between_reads),
        TEST_CASE(http_errors_carry_pd_text),
        TEST_CASE(huge_body_is_refused),
        TEST_CASE(timeout_leaves_other_calls_alone),
        TEST_CASE(connection_refused_is_transport),
        TEST_CASE(cancel_and_close),
        TEST_CASE(actions_paths_bodies_and_outcomes),
        TEST_CASE(store_up_and_tombstones),
        TEST_CASE(big_ids_are_sent_exactly),
        TEST_CASE(metrics_count_by_template),
        TEST_CASE(tidb_status_health),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
