/* The simulated PD: model state machines, HTTP shapes, and the pod-fed world. */
#include "test/sim/pd_http.h"
#include "test/sim/pd_model.h"
#include "test/sim/pd_world.h"
#include "test/sim/store.h"
#include "test/support/test.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- helpers ---- */

static struct clock fake;

/* 2026-01-01T00:00:00Z */
#define START_WALL_MS 1767225600000LL

static struct pd_model *new_model(unsigned regions)
{
    clock_fake_init(&fake, 1000, START_WALL_MS);
    struct pd_model_options options = { 0 };
    options.clock = &fake;
    options.namespace = "tidb";
    options.cluster = "basic";
    options.region_count = regions;
    options.max_store_down_ms = 60000; /* 1 min, so tests see Down quickly */
    struct pd_model *model = pd_model_new(&options);
    if (model)
        pd_model_set_timing(model, 0, 0);
    return model;
}

/* Moves the clock by `ms` in 100 ms steps, advancing the model at each. */
static void run_for(struct pd_model *model, uint64_t ms)
{
    for (uint64_t done = 0; done < ms; done += 100) {
        clock_fake_advance(&fake, 100);
        pd_model_advance(model);
    }
}

static const char *leader_name(const struct pd_model *model)
{
    const struct pd_model_member *leader = pd_model_leader(model);
    return leader ? leader->name : "(none)";
}

static void add_pd(struct pd_model *model, int count)
{
    for (int i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "basic-pd-%d", i);
        pd_model_pd_pod(model, name, true, NULL);
    }
}

static void add_tikv(struct pd_model *model, int first, int count)
{
    for (int i = first; i < first + count; i++) {
        char name[32];
        snprintf(name, sizeof name, "basic-tikv-%d", i);
        pd_model_tikv_pod(model, name, true, "v8.5.1");
    }
}

static const char *state_of(const struct pd_model *model, uint64_t id)
{
    const struct pd_model_store *store = pd_model_store_find(model, id);
    return store ? pd_model_store_state_name(model, store) : "(gone)";
}

/* A cluster with 3 PD members and `stores` TiKV stores, regions replicated and balanced. */
static struct pd_model *running_cluster(int stores, unsigned regions)
{
    struct pd_model *model = new_model(regions);
    if (!model)
        return NULL;
    add_pd(model, 3);
    pd_model_advance(model);
    add_tikv(model, 0, stores);
    run_for(model, 10000);
    return model;
}

static size_t total_leaders(const struct pd_model *model)
{
    size_t sum = 0;
    for (size_t i = 0; i < pd_model_store_count(model); i++)
        sum += pd_model_store_at(model, i)->leader_count;
    return sum;
}

/* ---- HTTP helpers ---- */

struct answer {
    int status;
    const char *type;
    char *body;
    cJSON *json;
};

static struct answer call(struct pd_model *model, const char *method, const char *path,
                          const char *query, const char *body, const char *pod)
{
    struct pd_http_request request = { method, path, query, body, body ? strlen(body) : 0, pod };
    struct pd_http_response response = { 0 };
    struct answer answer = { 0 };
    if (!pd_http_serve_pd(model, &request, &response)) {
        answer.status = -1;
        return answer;
    }
    answer.status = response.status;
    answer.type = response.content_type;
    answer.body = response.body ? response.body : strdup("");
    answer.json = cJSON_Parse(answer.body);
    return answer;
}

static void answer_free(struct answer *answer)
{
    free(answer->body);
    cJSON_Delete(answer->json);
}

static const cJSON *get_path(const cJSON *node, const char *dotted)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", dotted);
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && node; part = strtok_r(NULL, ".", &save)) {
        if (part[0] >= '0' && part[0] <= '9')
            node = cJSON_GetArrayItem(node, atoi(part));
        else
            node = cJSON_GetObjectItemCaseSensitive(node, part);
    }
    return node;
}

static const char *json_string(const cJSON *node, const char *dotted)
{
    const cJSON *item = get_path(node, dotted);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static double json_number(const cJSON *node, const char *dotted)
{
    const cJSON *item = get_path(node, dotted);
    return cJSON_IsNumber(item) ? item->valuedouble : -1;
}

/* The store entry of `id` in a /stores answer. */
static const cJSON *stores_entry(const cJSON *json, uint64_t id)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(json, "stores"))
        if (json_number(entry, "store.id") == (double)id)
            return entry;
    return NULL;
}

/* ---- model: members ---- */

static void members_elect_and_lose_quorum(void)
{
    struct pd_model *model = new_model(30);
    REQUIRE(model);
    pd_model_set_timing(model, 3000, 1000);
    add_pd(model, 3);
    pd_model_advance(model);
    CHECK_INT(pd_model_member_count(model), 3);
    CHECK(pd_model_leader(model) == NULL); /* election takes 3 s */
    run_for(model, 3000);
    CHECK_STR(leader_name(model), "basic-pd-0");
    const struct pd_model_member *member = pd_model_member_find(model, "basic-pd-1");
    REQUIRE(member);
    CHECK_STR(member->peer_url, "http://basic-pd-1.basic-pd-peer.tidb.svc:2380");
    CHECK_STR(member->client_url, "http://basic-pd-1.basic-pd-peer.tidb.svc:2379");
    uint64_t id1 = member->id;
    CHECK(id1 != 0);

    /* Two of three die: no quorum, no leader. */
    pd_model_pd_pod(model, "basic-pd-0", false, NULL);
    pd_model_pd_pod(model, "basic-pd-1", false, NULL);
    run_for(model, 10000);
    CHECK(pd_model_leader(model) == NULL);
    CHECK_INT(pd_model_member_count(model), 3); /* stopped members stay members */
    CHECK_INT(pd_model_alive_members(model), 1);

    /* One comes back: majority again, a leader after the election time. */
    pd_model_pd_pod(model, "basic-pd-1", true, NULL);
    pd_model_advance(model);
    CHECK(pd_model_leader(model) == NULL);
    run_for(model, 3000);
    CHECK_STR(leader_name(model), "basic-pd-1");
    CHECK(pd_model_member_find(model, "basic-pd-1")->id == id1); /* ids stable per name */

    /* The leader's process dies: a new leader among the remaining majority. */
    pd_model_pd_pod(model, "basic-pd-0", true, NULL);
    pd_model_member_kill(model, "basic-pd-1", true);
    pd_model_advance(model);
    CHECK(pd_model_leader(model) == NULL);
    run_for(model, 3000);
    CHECK_STR(leader_name(model), "basic-pd-0");
    pd_model_free(model);
}

static void members_leader_transfer_and_resign(void)
{
    struct pd_model *model = new_model(30);
    REQUIRE(model);
    pd_model_set_timing(model, 0, 1000);
    add_pd(model, 3);
    pd_model_advance(model);
    CHECK_STR(leader_name(model), "basic-pd-0");
    char msg[PD_MODEL_MSG_SIZE];
    CHECK_INT(pd_model_transfer_leader(model, "basic-pd-2", msg), 200);
    CHECK_STR(msg, "The transfer command is submitted.");
    CHECK(pd_model_leader(model) == NULL); /* the handover gap */
    run_for(model, 1000);
    CHECK_STR(leader_name(model), "basic-pd-2");
    CHECK_INT(pd_model_transfer_leader(model, "basic-pd-9", msg), 500);
    CHECK_STR(msg, "no valid pd to transfer etcd leader");
    pd_model_pd_pod(model, "basic-pd-1", false, NULL);
    CHECK_INT(pd_model_transfer_leader(model, "basic-pd-1", msg), 500);
    CHECK(strstr(msg, "ErrEtcdMoveLeader") != NULL);
    CHECK_STR(leader_name(model), "basic-pd-2");
    CHECK_INT(pd_model_resign_leader(model, msg), 200);
    run_for(model, 1000);
    CHECK_STR(leader_name(model), "basic-pd-0"); /* the only other alive member */
    pd_model_free(model);
}

static void members_delete(void)
{
    struct pd_model *model = new_model(30);
    REQUIRE(model);
    add_pd(model, 3);
    pd_model_advance(model);
    char msg[PD_MODEL_MSG_SIZE];
    CHECK_INT(pd_model_delete_member_by_name(model, "basic-pd-7", msg), 404);
    CHECK_STR(msg, "not found, pd: basic-pd-7");
    CHECK_INT(pd_model_delete_member_by_id(model, 12345, msg), 500);
    CHECK(strstr(msg, "member not found") != NULL);

    /* With basic-pd-1 down, removing live basic-pd-2 would leave 1 of 2 alive. */
    pd_model_pd_pod(model, "basic-pd-1", false, NULL);
    CHECK_INT(pd_model_delete_member_by_name(model, "basic-pd-2", msg), 500);
    CHECK_STR(msg, "[PD:etcd:ErrEtcdMemberRemove]etcdserver: unhealthy cluster");
    /* Removing the dead one is fine. */
    uint64_t id1 = pd_model_member_find(model, "basic-pd-1")->id;
    CHECK_INT(pd_model_delete_member_by_id(model, id1, msg), 200);
    char expected[64];
    snprintf(expected, sizeof expected, "removed, pd: %" PRIu64, id1);
    CHECK_STR(msg, expected);
    CHECK_INT(pd_model_member_count(model), 2);

    /* Removing the leader while its pod runs: gone at once, a new leader, no comeback. */
    CHECK_STR(leader_name(model), "basic-pd-0");
    pd_model_pd_pod(model, "basic-pd-1", true, NULL); /* rejoins: its pod stopped in between */
    pd_model_advance(model);
    CHECK_INT(pd_model_member_count(model), 3);
    CHECK(pd_model_member_find(model, "basic-pd-1")->id != id1); /* a new member id */
    CHECK_INT(pd_model_delete_member_by_name(model, "basic-pd-0", msg), 200);
    CHECK_STR(msg, "removed, pd: basic-pd-0");
    CHECK(pd_model_member_find(model, "basic-pd-0") == NULL);
    pd_model_pd_pod(model, "basic-pd-0", true, NULL); /* still running: no comeback */
    run_for(model, 500);
    CHECK(pd_model_member_find(model, "basic-pd-0") == NULL);
    CHECK_STR(leader_name(model), "basic-pd-1");
    pd_model_pd_pod(model, "basic-pd-0", false, NULL);
    pd_model_pd_pod(model, "basic-pd-0", true, NULL);
    CHECK(pd_model_member_find(model, "basic-pd-0") != NULL);
    pd_model_free(model);
}

/* ---- model: stores ---- */

static void stores_register_disconnect_down(void)
{
    struct pd_model *model = new_model(30);
    REQUIRE(model);
    add_tikv(model, 0, 3);
    pd_model_advance(model);
    CHECK_INT(pd_model_store_count(model), 0); /* no PD yet: nothing registers */
    CHECK(!pd_model_bootstrapped(model));
    add_pd(model, 1);
    pd_model_advance(model);
    CHECK(pd_model_bootstrapped(model));
    REQUIRE(pd_model_store_count(model) == 3);
    for (uint64_t id = 1; id <= 3; id++) {
        const struct pd_model_store *store = pd_model_store_find(model, id);
        REQUIRE(store);
        CHECK_STR(pd_model_store_state_name(model, store), "Up");
        CHECK_INT(store->node_state, PD_NODE_SERVING);
        CHECK_INT(store->region_count, 30); /* 30 regions x 3 replicas on 3 stores */
    }
    const struct pd_model_store *store0 = pd_model_store_by_pod(model, "basic-tikv-0");
    REQUIRE(store0);
    CHECK_STR(store0->address, "basic-tikv-0.basic-tikv-peer.tidb.svc:20160");
    CHECK_STR(store0->version, "8.5.1");
    run_for(model, 10000);
    CHECK_INT(total_leaders(model), 30);
    CHECK(pd_model_store_find(model, 2)->leader_count >= 9); /* balanced */

    /* basic-tikv-2 stops: Disconnected after 20 s, Down after max-store-down-time (60 s). */
    pd_model_tikv_pod(model, "basic-tikv-2", false, NULL);
    run_for(model, 19000);
    CHECK_STR(state_of(model, 3), "Up");
    run_for(model, 2000);
    CHECK_STR(state_of(model, 3), "Disconnected");
    CHECK_INT(pd_model_store_find(model, 3)->leader_count, 0); /* leaders left after 10 s */
    run_for(model, 40000);
    CHECK_STR(state_of(model, 3), "Down");
    CHECK_INT(total_leaders(model), 30);
    /* Back: Up again with the same id. */
    pd_model_tikv_pod(model, "basic-tikv-2", true, NULL);
    pd_model_advance(model);
    CHECK_STR(state_of(model, 3), "Up");
    CHECK_INT(pd_model_store_count(model), 3);

    /* Heartbeats stop without the pod stopping. */
    CHECK(pd_model_store_pause_heartbeats(model, 1, true));
    run_for(model, 21000);
    CHECK_STR(state_of(model, 1), "Disconnected");
    CHECK(pd_model_tikv_running(model, "basic-tikv-0"));
    pd_model_store_pause_heartbeats(model, 1, false);
    pd_model_advance(model);
    CHECK_STR(state_of(model, 1), "Up");
    pd_model_free(model);
}

static void stores_delete_drain_tombstone(void)
{
    struct pd_model *model = running_cluster(4, 40);
    REQUIRE(model);
    REQUIRE(pd_model_store_count(model) == 4);
    size_t regions4 = pd_model_store_find(model, 4)->region_count;
    CHECK(regions4 > 20); /* 40 x 3 peers over 4 stores */
    char msg[PD_MODEL_MSG_SIZE];
    CHECK_INT(pd_model_store_delete(model, 4, false, msg), 200);
    CHECK_STR(msg, "The store is set as Offline.");
    CHECK_STR(state_of(model, 4), "Offline");
    CHECK_INT(pd_model_store_find(model, 4)->node_state, PD_NODE_REMOVING);
    CHECK_INT(pd_model_store_delete(model, 4, false, msg), 200); /* again: no-op */
    /* Regions move at 2 per second. */
    run_for(model, 5000);
    size_t left = pd_model_store_find(model, 4)->region_count;
    CHECK(left < regions4 && left + 12 >= regions4);
    CHECK_STR(state_of(model, 4), "Offline");
    run_for(model, 30000);
    CHECK_STR(state_of(model, 4), "Tombstone");
    CHECK_INT(pd_model_store_find(model, 4)->region_count, 0);
    CHECK_INT(pd_model_store_find(model, 4)->leader_count, 0);
    CHECK_INT(pd_model_store_find(model, 4)->node_state, PD_NODE_REMOVED);
    CHECK_INT(total_leaders(model), 40);
    size_t peers = 0;
    for (size_t i = 0; i < pd_model_store_count(model); i++)
        peers += pd_model_store_at(model, i)->region_count;
    CHECK_INT(peers, 40 * 3); /* every region still has its 3 peers */
    /* Region by region: 3 peers on distinct stores, none on store 4, the
     * leader one of them. */
    const uint64_t *region_peers = NULL;
    unsigned peer_count = 0, leader = 0;
    size_t regions_seen = 0;
    for (size_t r = 0; pd_model_region_at(model, r, &region_peers, &peer_count, &leader); r++) {
        regions_seen++;
        CHECK_INT(peer_count, 3);
        CHECK(leader < peer_count);
        for (unsigned p = 0; p < peer_count; p++) {
            CHECK(region_peers[p] != 4);
            for (unsigned q = p + 1; q < peer_count; q++)
                CHECK(region_peers[p] != region_peers[q]);
        }
    }
    CHECK_INT(regions_seen, 40);
    CHECK(!pd_model_region_at(model, 40, &region_peers, &peer_count, &leader));
    CHECK_INT(pd_model_store_delete(model, 4, false, msg), 410);
    CHECK_STR(msg, "[PD:core:ErrStoreRemoved]store 4 has been removed");
    CHECK_INT(pd_model_store_delete(model, 9, false, msg), 404);
    CHECK_STR(msg, "[PD:core:ErrStoreNotFound]store 9 not found");

    /* The pod still runs on the tombstoned store's disk: like a real TiKV it
     * never registers again (no new store while it runs). */
    run_for(model, 1000);
    CHECK_INT(pd_model_store_count(model), 4);
    CHECK_INT(pd_model_remove_tombstones(model, msg), 200);
    CHECK_STR(msg, "Remove tombstone successfully.");
    CHECK(pd_model_store_find(model, 4) == NULL);
    CHECK_INT(pd_model_store_count(model), 3);
    run_for(model, 1000);
    CHECK_INT(pd_model_store_count(model), 3);
    /* Stopping and starting it changes nothing; a new pod of the name (the
     * old one deleted) registers as a new store. */
    REQUIRE(pd_model_tikv_pod(model, "basic-tikv-3", false, NULL));
    REQUIRE(pd_model_tikv_pod(model, "basic-tikv-3", true, NULL));
    run_for(model, 1000);
    CHECK_INT(pd_model_store_count(model), 3);
    REQUIRE(pd_model_tikv_pod_gone(model, "basic-tikv-3"));
    REQUIRE(pd_model_tikv_pod(model, "basic-tikv-3", true, NULL));
    run_for(model, 100);
    CHECK_INT(pd_model_store_count(model), 4);
    CHECK_STR(state_of(model, 5), "Up");
    CHECK(strcmp(pd_model_store_find(model, 5)->pod, "basic-tikv-3") == 0);

    /* Found by test/dst: the pod is deleted first (lost with its node),
     * then its store goes Offline and Tombstone. The next pod of the name
     * is new: it registers a store. */
    REQUIRE(pd_model_tikv_pod_gone(model, "basic-tikv-3"));
    CHECK_INT(pd_model_store_delete(model, 5, false, msg), 200);
    run_for(model, 60000);
    CHECK_STR(state_of(model, 5), "Tombstone");
    CHECK_INT(pd_model_remove_tombstones(model, msg), 200);
    REQUIRE(pd_model_tikv_pod(model, "basic-tikv-3", true, NULL));
    run_for(model, 100);
    CHECK_INT(pd_model_store_count(model), 4);
    CHECK_STR(state_of(model, 6), "Up");
    pd_model_free(model);
}

static void stores_removal_refused_below_max_replicas(void)
{
    struct pd_model *model = running_cluster(3, 30);
    REQUIRE(model);
    char msg[PD_MODEL_MSG_SIZE];
    CHECK_INT(pd_model_store_delete(model, 3, false, msg), 400);
    CHECK_STR(msg, "[PD:core:ErrStoresNotEnough]can not remove store 3 since the number of up "
                   "stores would be 2 while need 3");
    CHECK_STR(state_of(model, 3), "Up");

    /* A fourth store, then one store stops: the API check passes (a Down or
     * Disconnected store still counts) but no store can take the peers, so
     * the deleted store stays Offline for ever. */
    add_tikv(model, 3, 1);
    run_for(model, 5000);
    CHECK_INT(pd_model_store_count(model), 4);
    pd_model_tikv_pod(model, "basic-tikv-1", false, NULL);
    run_for(model, 25000);
    CHECK_STR(state_of(model, 2), "Disconnected");
    CHECK_INT(pd_model_store_delete(model, 4, false, msg), 200);
    run_for(model, 120000);
    CHECK_STR(state_of(model, 4), "Offline");
    CHECK(pd_model_store_find(model, 4)->region_count > 0);
    /* Cancel the removal. */
    CHECK_INT(pd_model_store_set_state(model, 4, "up", msg), 200);
    CHECK_STR(state_of(model, 4), "Up");
    CHECK_INT(pd_model_store_set_state(model, 4, "Gone", msg), 400);
    CHECK_STR(msg, "invalid state Gone");
    pd_model_free(model);
}

static void stores_evict_leader(void)
{
    struct pd_model *model = running_cluster(3, 60);
    REQUIRE(model);
    size_t before = pd_model_store_find(model, 2)->leader_count;
    CHECK(before >= 15);
    char msg[PD_MODEL_MSG_SIZE];
    bool created = false;
    CHECK_INT(pd_model_evict_leader_add(model, 2, &created, msg), 200);
    CHECK(created);
    CHECK_STR(msg, "The scheduler is created.");
    CHECK_INT(pd_model_evict_leader_add(model, 2, &created, msg), 200);
    CHECK(!created);
    CHECK_STR(msg, "The scheduler has been applied to the store.");
    CHECK_INT(pd_model_evict_leader_add(model, 99, &created, msg), 500);
    CHECK(pd_model_evict_leader_has(model, 2));
    /* 20 leaders per second leave: about half gone after 0.5 s, all after 2 s. */
    run_for(model, 500);
    size_t during = pd_model_store_find(model, 2)->leader_count;
    CHECK(during > 0 && during < before);
    run_for(model, 2000);
    CHECK_INT(pd_model_store_find(model, 2)->leader_count, 0);
    CHECK_INT(total_leaders(model), 60);
    CHECK_INT(pd_model_store_find(model, 2)->region_count, 60); /* peers stay */
    /* Removing the eviction lets balance bring leaders back. */
    bool last = false;
    CHECK_INT(pd_model_evict_leader_remove(model, 2, &last), 200);
    CHECK(last);
    CHECK_INT(pd_model_evict_leader_remove(model, 2, &last), 404);
    CHECK_INT(pd_model_evict_leader_count(model), 0);
    run_for(model, 5000);
    CHECK(pd_model_store_find(model, 2)->leader_count >= 15);
    pd_model_free(model);
}

/* ---- HTTP ---- */

static void http_before_bootstrap_and_without_leader(void)
{
    struct pd_model *model = new_model(30);
    REQUIRE(model);
    /* No member runs: nobody answers. */
    struct answer a = call(model, "GET", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 0);
    answer_free(&a);
    add_pd(model, 1);
    pd_model_advance(model);
    a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    CHECK_INT(a.status, 500);
    CHECK_STR(a.body, "\"[PD:cluster:ErrNotBootstrapped]TiKV cluster not bootstrapped, please "
                      "start TiKV first\"\n");
    CHECK_STR(a.type, "application/json; charset=UTF-8");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/schedulers", NULL, NULL, NULL);
    CHECK_INT(a.status, 500);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/cluster", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    answer_free(&a);

    pd_model_set_leaderless(model, true);
    pd_model_advance(model);
    a = call(model, "GET", "/pd/api/v1/leader", NULL, NULL, NULL);
    CHECK_INT(a.status, 503);
    CHECK(strstr(a.body, "redirect finds no leader\n") != NULL);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/health", NULL, NULL, NULL); /* local: still answers */
    CHECK_INT(a.status, 200);
    CHECK(cJSON_IsTrue(get_path(a.json, "0.health")));
    answer_free(&a);
    pd_model_set_leaderless(model, false);
    pd_model_advance(model);

    pd_model_set_failing(model, true, NULL);
    a = call(model, "GET", "/pd/api/v1/health", NULL, NULL, NULL);
    CHECK_INT(a.status, 500);
    CHECK_STR(a.body, "\"[PD:server:ErrServerNotStarted]server not started\"\n");
    answer_free(&a);
    pd_model_set_failing(model, false, NULL);
    pd_model_set_garbage(model, true);
    a = call(model, "GET", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK(a.json == NULL); /* not JSON at all */
    answer_free(&a);
    pd_model_set_garbage(model, false);
    a = call(model, "GET", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK(a.json != NULL);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/nothing", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    CHECK_STR(a.body, "404 page not found\n");
    answer_free(&a);
    pd_model_free(model);
}

static void http_members_leader_health(void)
{
    struct pd_model *model = running_cluster(3, 30);
    REQUIRE(model);
    struct answer a = call(model, "GET", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.type, "application/json; charset=UTF-8");
    REQUIRE(a.json);
    CHECK(a.body[strlen(a.body) - 1] == '\n');
    CHECK(strstr(a.body, "\n  \"header\": {") != NULL); /* Go's 2-space indent */
    CHECK_INT(cJSON_GetArraySize(get_path(a.json, "members")), 3);
    CHECK_STR(json_string(a.json, "leader.name"), "basic-pd-0");
    CHECK_STR(json_string(a.json, "etcd_leader.name"), "basic-pd-0");
    CHECK_STR(json_string(a.json, "members.0.binary_version"), "v8.5.1");
    CHECK(json_string(a.json, "members.0.peer_urls.0") != NULL);
    CHECK(strstr(json_string(a.json, "members.0.client_urls.0"), ".basic-pd-peer.tidb.svc:2379"));
    /* uint64 ids are written exactly, even above 2^53. */
    const struct pd_model_member *m0 = pd_model_member_find(model, "basic-pd-0");
    char id_text[64];
    snprintf(id_text, sizeof id_text, "\"member_id\": %" PRIu64 ",", m0->id);
    CHECK(strstr(a.body, id_text) != NULL);
    snprintf(id_text, sizeof id_text, "\"cluster_id\": %" PRIu64 "\n", pd_model_cluster_id(model));
    CHECK(strstr(a.body, id_text) != NULL);
    CHECK(pd_model_cluster_id(model) >> 32 == (uint64_t)(START_WALL_MS / 1000));
    answer_free(&a);

    a = call(model, "GET", "/pd/api/v1/leader", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(json_string(a.json, "name"), "basic-pd-0");
    CHECK(get_path(a.json, "binary_version") == NULL); /* only the election-key fields */
    CHECK(get_path(a.json, "member_id") != NULL);
    answer_free(&a);

    pd_model_pd_pod(model, "basic-pd-2", false, NULL);
    a = call(model, "GET", "/pd/api/v1/health", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK(cJSON_IsArray(a.json));
    CHECK_INT(cJSON_GetArraySize(a.json), 3);
    int healthy = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, a.json) {
        healthy += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(entry, "health"));
        CHECK(get_path(entry, "client_urls.0") != NULL);
        CHECK(get_path(entry, "member_id") != NULL);
    }
    CHECK_INT(healthy, 2);
    answer_free(&a);
    /* A stopped member answers nothing on its own address. */
    a = call(model, "GET", "/pd/api/v1/health", NULL, NULL, "basic-pd-2");
    CHECK_INT(a.status, 0);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/config", NULL, NULL, "basic-pd-1");
    CHECK_INT(a.status, 200);
    CHECK_STR(json_string(a.json, "name"), "basic-pd-1");
    CHECK_INT(json_number(a.json, "replication.max-replicas"), 3);
    CHECK_STR(json_string(a.json, "replication.location-labels"), "");
    CHECK_STR(json_string(a.json, "replication.enable-placement-rules"), "true");
    CHECK_STR(json_string(a.json, "schedule.max-store-down-time"), "1m0s");
    answer_free(&a);

    a = call(model, "POST", "/pd/api/v1/leader/transfer/basic-pd-1", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The transfer command is submitted.\"\n");
    answer_free(&a);
    CHECK_STR(leader_name(model), "basic-pd-1"); /* transfer_ms 0 in these tests */
    a = call(model, "POST", "/pd/api/v1/leader/transfer/nobody", NULL, NULL, NULL);
    CHECK_INT(a.status, 500);
    CHECK_STR(a.body, "\"no valid pd to transfer etcd leader\"\n");
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/leader/resign", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The resign command is submitted.\"\n");
    answer_free(&a);
    CHECK_STR(leader_name(model), "basic-pd-0");

    a = call(model, "DELETE", "/pd/api/v1/members/name/nobody", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    CHECK_STR(a.body, "\"not found, pd: nobody\"\n");
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/members/id/abc", NULL, NULL, NULL);
    CHECK_INT(a.status, 400);
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/members/name/basic-pd-2", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"removed, pd: basic-pd-2\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/health", NULL, NULL, NULL);
    CHECK_INT(cJSON_GetArraySize(a.json), 2);
    answer_free(&a);

    a = call(model, "GET", "/pd/api/v1/cluster", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_INT(json_number(a.json, "max_peer_count"), 3);
    CHECK(get_path(a.json, "id") != NULL);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/cluster/status", NULL, NULL, NULL);
    CHECK(cJSON_IsTrue(get_path(a.json, "is_initialized")));
    CHECK_STR(json_string(a.json, "raft_bootstrap_time"), "2026-01-01T00:00:00.1Z");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/version", NULL, NULL, NULL);
    CHECK_STR(json_string(a.json, "version"), "v8.5.1");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/status", NULL, NULL, NULL);
    CHECK_STR(json_string(a.json, "version"), "v8.5.1");
    CHECK(json_number(a.json, "start_timestamp") > 0);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/ping", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v2/ready", NULL, NULL, "basic-pd-1");
    CHECK_INT(a.status, 200);
    answer_free(&a);
    a = call(model, "PUT", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 405);
    answer_free(&a);
    pd_model_free(model);
}

static void http_stores(void)
{
    struct pd_model *model = running_cluster(4, 40);
    REQUIRE(model);
    struct answer a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_INT(json_number(a.json, "count"), 4);
    const cJSON *s1 = stores_entry(a.json, 1);
    REQUIRE(s1);
    CHECK_STR(json_string(s1, "store.address"), "basic-tikv-0.basic-tikv-peer.tidb.svc:20160");
    CHECK_STR(json_string(s1, "store.status_address"), "basic-tikv-0.basic-tikv-peer.tidb.svc:20180");
    CHECK_STR(json_string(s1, "store.state_name"), "Up");
    CHECK_STR(json_string(s1, "store.version"), "8.5.1");
    CHECK(get_path(s1, "store.state") == NULL);         /* Up = 0 = omitted */
    CHECK_INT(json_number(s1, "store.node_state"), 1);  /* Serving */
    CHECK(get_path(s1, "store.labels") == NULL);        /* empty: omitted */
    CHECK(get_path(s1, "store.last_heartbeat") != NULL);
    CHECK(json_number(s1, "status.leader_count") >= 0);
    CHECK(json_number(s1, "status.region_count") >= 29 && json_number(s1, "status.region_count") <= 31);
    CHECK_STR(json_string(s1, "status.capacity"), "100GiB");
    CHECK(json_string(s1, "status.available") != NULL);
    CHECK(strncmp(json_string(s1, "status.start_ts"), "2026-01-01T00:00:0", 18) == 0);
    CHECK(json_string(s1, "status.uptime") != NULL);
    CHECK(get_path(s1, "status.pause_leader_transfer_in") == NULL);
    answer_free(&a);

    /* Labels (the operator sets them), then they appear as key/value pairs. */
    a = call(model, "POST", "/pd/api/v1/store/1/label", NULL, "{\"zone\":\"z1\",\"host\":\"n1\"}", NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The store's label is updated.\"\n");
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/store/1/label", NULL, "{\"engine\":\"tiflash\"}", NULL);
    CHECK_INT(a.status, 400);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/store/1", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(json_string(a.json, "store.labels.0.key"), "zone");
    CHECK_STR(json_string(a.json, "store.labels.0.value"), "z1");
    CHECK_STR(json_string(a.json, "store.labels.1.key"), "host");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/store/77", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    CHECK_STR(a.body, "\"[PD:core:ErrStoreNotFound]store 77 not found\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/store/x7", NULL, NULL, NULL);
    CHECK_INT(a.status, 400);
    CHECK_STR(json_string(a.json, "code"), "input");
    answer_free(&a);

    /* Evict leaders of store 4 through the scheduler API. */
    a = call(model, "POST", "/pd/api/v1/schedulers", NULL,
             "{\"name\":\"evict-leader-scheduler\",\"store_id\":4}", NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The scheduler is created.\"\n");
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/schedulers", NULL,
             "{\"name\":\"evict-leader-scheduler\",\"store_id\":\"4\"}", NULL);
    CHECK_INT(a.status, 400);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/schedulers", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    bool listed = false;
    const cJSON *name;
    cJSON_ArrayForEach(name, a.json)
        listed = listed || strcmp(name->valuestring, "evict-leader-scheduler") == 0;
    CHECK(listed);
    CHECK(cJSON_GetArraySize(a.json) == 5);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    const cJSON *ranges = cJSON_GetObjectItemCaseSensitive(get_path(a.json, "store-id-ranges"), "4");
    CHECK_STR(json_string(ranges, "0.start-key"), "");
    CHECK_STR(json_string(ranges, "0.end-key"), "");
    CHECK_INT(json_number(a.json, "batch"), 3);
    answer_free(&a);
    run_for(model, 3000);
    a = call(model, "GET", "/pd/api/v1/store/4", NULL, NULL, NULL);
    CHECK_INT(json_number(a.json, "status.leader_count"), 0);
    CHECK(cJSON_IsTrue(get_path(a.json, "status.pause_leader_transfer_in")));
    answer_free(&a);

    /* Scale-in: DELETE the store, watch it go Offline -> Tombstone. */
    a = call(model, "DELETE", "/pd/api/v1/store/4", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The store is set as Offline.\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    const cJSON *s4 = stores_entry(a.json, 4);
    REQUIRE(s4);
    CHECK_INT(json_number(s4, "store.state"), 1);
    CHECK_INT(json_number(s4, "store.node_state"), 2);
    CHECK_STR(json_string(s4, "store.state_name"), "Offline");
    answer_free(&a);
    run_for(model, 60000);
    a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    CHECK(stores_entry(a.json, 4) == NULL); /* Tombstone left the default list */
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/stores", "state=2", NULL, NULL);
    CHECK_INT(json_number(a.json, "count"), 1); /* the pod re-registered as store 5 (Up) */
    s4 = stores_entry(a.json, 4);
    REQUIRE(s4);
    CHECK_INT(json_number(s4, "store.state"), 2);
    CHECK_INT(json_number(s4, "store.node_state"), 3);
    CHECK_STR(json_string(s4, "store.state_name"), "Tombstone");
    answer_free(&a);
    /* A new pod of the name registers store 5, then stops. */
    pd_model_tikv_pod_gone(model, "basic-tikv-3");
    pd_model_tikv_pod(model, "basic-tikv-3", true, NULL);
    run_for(model, 100);
    pd_model_tikv_pod(model, "basic-tikv-3", false, NULL);
    a = call(model, "GET", "/pd/api/v1/stores", "state=0&state=2", NULL, NULL);
    CHECK(json_number(a.json, "count") >= 4);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/stores", "state=x", NULL, NULL);
    CHECK_INT(a.status, 500);
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/store/4", NULL, NULL, NULL);
    CHECK_INT(a.status, 410);
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/schedulers/evict-leader-scheduler-4", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "null\n");
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/schedulers/evict-leader-scheduler-4", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    CHECK_STR(a.body, "null\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/scheduler-config/evict-leader-scheduler/list", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/stores/remove-tombstone", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"Remove tombstone successfully.\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/store/4", NULL, NULL, NULL);
    CHECK_INT(a.status, 404);
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/store/3", NULL, NULL, NULL);
    CHECK_INT(a.status, 200); /* 1, 2, 3 and 5 (Down) count: 4 - 1 >= 3 */
    answer_free(&a);
    a = call(model, "DELETE", "/pd/api/v1/store/2", NULL, NULL, NULL);
    CHECK_INT(a.status, 400);
    CHECK_STR(a.body, "\"[PD:core:ErrStoresNotEnough]can not remove store 2 since the number of "
                      "up stores would be 2 while need 3\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/admin/cluster/markers/snapshot-recovering", NULL, NULL, NULL);
    CHECK(cJSON_IsFalse(get_path(a.json, "marked")));
    answer_free(&a);
    pd_model_free(model);
}

static void http_config(void)
{
    struct pd_model *model = running_cluster(3, 30);
    REQUIRE(model);
    struct answer a = call(model, "POST", "/pd/api/v1/config/replicate", NULL,
                           "{\"max-replicas\":5,\"location-labels\":\"zone,host\","
                           "\"enable-placement-rules\":\"false\"}", NULL);
    CHECK_INT(a.status, 200);
    CHECK_STR(a.body, "\"The config is updated.\"\n");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/config/replicate", NULL, NULL, NULL);
    CHECK_INT(json_number(a.json, "max-replicas"), 5);
    CHECK_STR(json_string(a.json, "location-labels"), "zone,host");
    CHECK_STR(json_string(a.json, "enable-placement-rules"), "false");
    CHECK_STR(json_string(a.json, "strictly-match-label"), "false");
    answer_free(&a);
    /* A bare bool where Go wants ",string": refused like PD. */
    a = call(model, "POST", "/pd/api/v1/config/replicate", NULL, "{\"enable-placement-rules\":true}", NULL);
    CHECK_INT(a.status, 400);
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/config", NULL, "{\"schedule.max-store-down-time\":\"10s\"}", NULL);
    CHECK_INT(a.status, 200);
    answer_free(&a);
    CHECK_INT(pd_model_config(model)->max_store_down_ms, 10000);
    a = call(model, "POST", "/pd/api/v1/config", NULL, "{\"no-such-item\":1}", NULL);
    CHECK_INT(a.status, 400);
    CHECK_STR(a.body, "\"config item no-such-item not found\"\n");
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/config/schedule", NULL, "{\"max-store-down-time\":\"1h30m\"}", NULL);
    CHECK_INT(a.status, 200);
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/config/schedule", NULL, NULL, NULL);
    CHECK_STR(json_string(a.json, "max-store-down-time"), "1h30m0s");
    CHECK_INT(json_number(a.json, "leader-schedule-limit"), 4);
    answer_free(&a);
    a = call(model, "POST", "/pd/api/v1/config/replicate", NULL, "{not json", NULL);
    CHECK_INT(a.status, 400);
    answer_free(&a);
    pd_model_free(model);
}

static void http_tidb_and_tikv_status(void)
{
    struct pd_model *model = running_cluster(3, 30);
    REQUIRE(model);
    pd_model_tidb_pod(model, "basic-tidb-0", PD_TIDB_RUNNING, "v8.5.1");
    pd_model_tidb_pod(model, "basic-tidb-1", PD_TIDB_SHUTTING_DOWN, "v8.5.1");
    struct pd_http_request request = { "GET", "/status", NULL, NULL, 0, "basic-tidb-0" };
    struct pd_http_response response = { 0 };
    REQUIRE(pd_http_serve_tidb(model, &request, &response));
    CHECK_INT(response.status, 200);
    cJSON *json = cJSON_Parse(response.body);
    CHECK_INT(json_number(json, "connections"), 0);
    CHECK_STR(json_string(json, "version"), "8.0.11-TiDB-v8.5.1");
    CHECK(json_string(json, "git_hash") != NULL);
    cJSON_Delete(json);
    pd_http_response_clear(&response);
    request.pod = "basic-tidb-1";
    REQUIRE(pd_http_serve_tidb(model, &request, &response));
    CHECK_INT(response.status, 500);
    CHECK_INT(response.length, 0);
    pd_http_response_clear(&response);
    request.pod = "basic-tidb-9";
    REQUIRE(pd_http_serve_tidb(model, &request, &response));
    CHECK_INT(response.status, 0);
    pd_http_response_clear(&response);

    struct pd_http_request metrics = { "GET", "/metrics", NULL, NULL, 0, "basic-tikv-1" };
    REQUIRE(pd_http_serve_tikv(model, &metrics, &response));
    CHECK_INT(response.status, 200);
    char expected[96];
    snprintf(expected, sizeof expected, "tikv_raftstore_region_count{type=\"leader\"} %zu\n",
             pd_model_store_find(model, 2)->leader_count);
    CHECK(response.body && strstr(response.body, expected) != NULL);
    CHECK(response.body && strstr(response.body, "tikv_raftstore_region_count{type=\"region\"} 30\n"));
    pd_http_response_clear(&response);
    pd_model_free(model);
}

static void encodings(void)
{
    char text[64];
    uint64_t ms = 0;
    pd_http_format_duration(30 * 60 * 1000, text, sizeof text);
    CHECK_STR(text, "30m0s");
    pd_http_format_duration(3600500, text, sizeof text);
    CHECK_STR(text, "1h0m0.5s");
    pd_http_format_duration(1500, text, sizeof text);
    CHECK_STR(text, "1.5s");
    pd_http_format_duration(250, text, sizeof text);
    CHECK_STR(text, "250ms");
    pd_http_format_duration(0, text, sizeof text);
    CHECK_STR(text, "0s");
    CHECK(pd_http_parse_duration("1h2m3.5s", &ms) && ms == 3723500);
    CHECK(pd_http_parse_duration("500ms", &ms) && ms == 500);
    CHECK(pd_http_parse_duration("30m", &ms) && ms == 1800000);
    CHECK(!pd_http_parse_duration("30", &ms));
    CHECK(!pd_http_parse_duration("abc", &ms));
    pd_http_format_bytes(100ULL << 30, text, sizeof text);
    CHECK_STR(text, "100GiB");
    pd_http_format_bytes((uint64_t)(91.5 * (1 << 30)), text, sizeof text);
    CHECK_STR(text, "91.5GiB");
    pd_http_format_bytes(0, text, sizeof text);
    CHECK_STR(text, "0B");
    pd_http_format_bytes(2146409906586ULL, text, sizeof text);
    CHECK_STR(text, "1.952TiB");
}

/* ---- the world: pods in the store drive the model ---- */

static const struct resource *pods_of(struct store *store)
{
    return resources_find(store_resources(store), "", "v1", "pods");
}

static bool create_pod(struct store *store, const char *name, const char *component)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app.kubernetes.io/instance\":\"basic\","
             "\"app.kubernetes.io/component\":\"%s\"}},"
             "\"spec\":{\"nodeName\":\"node-of-%s\",\"containers\":[{\"name\":\"%s\",\"image\":\"pingcap/%s:v8.5.0\"}]}}",
             name, component, name, component, component);
    struct store_reply reply = { 0 };
    bool ok = store_create(store, pods_of(store), "default", cJSON_Parse(text), &reply);
    if (!ok)
        test_fail(__FILE__, __LINE__, "create %s: %s", name, reply.error.message);
    store_reply_clear(&reply);
    return ok;
}

static bool set_pod_status(struct store *store, const char *name, const char *phase, bool ready)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
             phase, ready ? "True" : "False");
    struct store_error error = { 0 };
    struct store_object *current = store_get(store, pods_of(store), "default", name, &error);
    store_error_clear(&error);
    if (!current)
        return false;
    cJSON *object = cJSON_Duplicate(store_object_tree(current), true);
    store_object_release(current);
    cJSON *status = cJSON_Parse(text);
    cJSON_DeleteItemFromObjectCaseSensitive(object, "status");
    cJSON_AddItemToObject(object, "status", cJSON_DetachItemFromObjectCaseSensitive(status, "status"));
    cJSON_Delete(status);
    struct store_reply reply = { 0 };
    bool ok = store_update_status(store, pods_of(store), "default", name, object, &reply);
    if (!ok)
        test_fail(__FILE__, __LINE__, "status %s: %s", name, reply.error.message);
    store_reply_clear(&reply);
    return ok;
}

static void world_tick_for(struct pd_world *world, uint64_t ms)
{
    for (uint64_t done = 0; done < ms; done += 100) {
        clock_fake_advance(&fake, 100);
        pd_world_tick(world);
    }
}

static void world_scenario(void)
{
    clock_fake_init(&fake, 1000, START_WALL_MS);
    struct store_options store_options = { &fake, 0, 7 };
    struct store *store = store_new(&store_options);
    REQUIRE(store);
    /* One pod exists before the world starts: the replay must see it. */
    REQUIRE(create_pod(store, "basic-pd-0", "pd"));
    REQUIRE(set_pod_status(store, "basic-pd-0", "Running", true));
    struct pd_world_options options = { 0 };
    options.store = store;
    options.clock = &fake;
    options.model.region_count = 30;
    options.model.max_store_down_ms = 60000;
    struct pd_world *world = pd_world_start(&options);
    REQUIRE(world);
    CHECK_INT(pd_world_model_count(world), 1);
    struct pd_model *model = pd_world_find(world, "default", "basic");
    REQUIRE(model);
    CHECK(pd_world_lookup("default", "basic", world) == model);
    CHECK(pd_world_find(world, "default", "other") == NULL);
    char name[32];
    for (int i = 1; i < 3; i++) {
        snprintf(name, sizeof name, "basic-pd-%d", i);
        REQUIRE(create_pod(store, name, "pd"));
    }
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "basic-tikv-%d", i);
        REQUIRE(create_pod(store, name, "tikv"));
    }
    REQUIRE(create_pod(store, "basic-tidb-0", "tidb"));
    REQUIRE(create_pod(store, "other-pod", "pd") || true);
    world_tick_for(world, 1000);
    CHECK_INT(pd_model_member_count(model), 1); /* the others are still Pending */
    for (int i = 1; i < 3; i++) {
        snprintf(name, sizeof name, "basic-pd-%d", i);
        REQUIRE(set_pod_status(store, name, "Running", true));
    }
    /* Running but not Ready: not counted. */
    REQUIRE(set_pod_status(store, "basic-tikv-0", "Running", false));
    world_tick_for(world, 4000);
    CHECK_INT(pd_model_store_count(model), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "basic-tikv-%d", i);
        REQUIRE(set_pod_status(store, name, "Running", true));
    }
    REQUIRE(set_pod_status(store, "basic-tidb-0", "Running", true));
    world_tick_for(world, 5000);

    struct answer a = call(model, "GET", "/pd/api/v1/members", NULL, NULL, NULL);
    CHECK_INT(a.status, 200);
    CHECK_INT(cJSON_GetArraySize(get_path(a.json, "members")), 3);
    CHECK(json_string(a.json, "leader.name") != NULL);
    CHECK_STR(json_string(a.json, "members.0.binary_version"), "v8.5.0");
    answer_free(&a);
    a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    CHECK_INT(json_number(a.json, "count"), 3);
    for (uint64_t id = 1; id <= 3; id++)
        CHECK_STR(json_string(stores_entry(a.json, id), "store.state_name"), "Up");
    CHECK_STR(json_string(stores_entry(a.json, 1), "store.version"), "8.5.0");
    answer_free(&a);
    const struct pd_model_tidb *tidb = pd_model_tidb_find(model, "basic-tidb-0");
    REQUIRE(tidb);
    CHECK_INT(tidb->state, PD_TIDB_RUNNING);
    CHECK_STR(tidb->version, "8.0.11-TiDB-v8.5.0");

    /* One TiKV pod stops: Disconnected after 20 s, Down after max-store-down-time. */
    const struct pd_model_store *victim = pd_model_store_by_pod(model, "basic-tikv-1");
    REQUIRE(victim);
    uint64_t victim_id = victim->id;
    REQUIRE(set_pod_status(store, "basic-tikv-1", "Failed", false));
    world_tick_for(world, 21000);
    a = call(model, "GET", "/pd/api/v1/store/1", NULL, NULL, NULL);
    answer_free(&a);
    CHECK_STR(state_of(model, victim_id), "Disconnected");
    world_tick_for(world, 40000);
    a = call(model, "GET", "/pd/api/v1/stores", NULL, NULL, NULL);
    CHECK_STR(json_string(stores_entry(a.json, victim_id), "store.state_name"), "Down");
    answer_free(&a);

    /* The machine under basic-tikv-2 dies: its TiKV stops at once although
     * the pod object still says Running; it is back with the machine. */
    const struct pd_model_store *third = pd_model_store_by_pod(model, "basic-tikv-2");
    REQUIRE(third);
    uint64_t third_id = third->id;
    CHECK(pd_world_set_node_down(world, "node-of-basic-tikv-2", true));
    CHECK(pd_world_set_node_down(world, "node-of-basic-tikv-2", true)); /* twice: the same */
    world_tick_for(world, 21000);
    CHECK_STR(state_of(model, third_id), "Disconnected");
    CHECK(pd_world_set_node_down(world, "node-of-basic-tikv-2", false));
    world_tick_for(world, 2000);
    CHECK_STR(state_of(model, third_id), "Up");

    /* Deleting a pod is the same as stopping it; the TiDB record goes away. */
    struct store_reply reply = { 0 };
    CHECK(store_delete(store, pods_of(store), "default", "basic-tidb-0", NULL, &reply));
    store_reply_clear(&reply);
    CHECK(pd_model_tidb_find(model, "basic-tidb-0") == NULL);
    CHECK(store_delete(store, pods_of(store), "default", "basic-pd-2", NULL, &reply));
    store_reply_clear(&reply);
    CHECK(!pd_member_alive(pd_model_member_find(model, "basic-pd-2")));
    pd_world_close(world, NULL, NULL);
    store_free(store);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(members_elect_and_lose_quorum),
        TEST_CASE(members_leader_transfer_and_resign),
        TEST_CASE(members_delete),
        TEST_CASE(stores_register_disconnect_down),
        TEST_CASE(stores_delete_drain_tombstone),
        TEST_CASE(stores_removal_refused_below_max_replicas),
        TEST_CASE(stores_evict_leader),
        TEST_CASE(http_before_bootstrap_and_without_leader),
        TEST_CASE(http_members_leader_health),
        TEST_CASE(http_stores),
        TEST_CASE(http_config),
        TEST_CASE(http_tidb_and_tikv_status),
        TEST_CASE(encodings),
        TEST_CASE(world_scenario),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
