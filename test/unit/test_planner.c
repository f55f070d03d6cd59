/*
 * test_planner: the bring-up, validation and status planner, from
 * hand-built worlds. Every plan is checked exactly, as the list of
 * plan_describe_action strings; event messages and status fields are
 * checked where they carry the point of the case.
 */
#include "reconcilers/build/build.h"
#include "reconcilers/planner/planner.h"
#include "reconcilers/api/tidbcluster.h"
#include "test/support/planner_world.h"
#include "test/support/test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS PLANNER_WORLD_NOW_MS
#define NOW_TEXT PLANNER_WORLD_NOW_TEXT
#define EARLIER_TEXT "2026-11-18T10:00:00Z"

static struct planner_world F;

#define CHECK_PLAN(expected) PLANNER_WORLD_CHECK_PLAN(&F, expected)

/* The message of the n-th event (0-based) of the plan, or NULL. */
static const char *event_message(size_t n)
{
    for (size_t i = 0; i < F.plan.count; i++)
        if (F.plan.actions[i].kind == ACTION_EVENT && n-- == 0)
            return F.plan.actions[i].message;
    return NULL;
}

static const struct action *find_event(const char *reason)
{
    for (size_t i = 0; i < F.plan.count; i++)
        if (F.plan.actions[i].kind == ACTION_EVENT && strcmp(F.plan.actions[i].reason, reason) == 0)
            return &F.plan.actions[i];
    return NULL;
}

static const struct action *find_action(enum action_kind kind, const char *name)
{
    for (size_t i = 0; i < F.plan.count; i++)
        if (F.plan.actions[i].kind == kind && (!name || (F.plan.actions[i].name && strcmp(F.plan.actions[i].name, name) == 0)))
            return &F.plan.actions[i];
    return NULL;
}

static const cJSON *status_of_plan(void)
{
    const struct action *update = find_action(ACTION_UPDATE_STATUS, NULL);
    return update ? cJSON_GetObjectItemCaseSensitive(update->body, "status") : NULL;
}

static const char *status_text(const char *a, const char *b, const char *c)
{
    const cJSON *node = status_of_plan();
    const char *path[] = { a, b, c };
    for (int i = 0; i < 3 && path[i] && node; i++)
        node = cJSON_GetObjectItemCaseSensitive(node, path[i]);
    return cJSON_IsString(node) ? node->valuestring : NULL;
}

static const cJSON *ready_condition(void)
{
    const cJSON *condition;
    cJSON_ArrayForEach(condition, cJSON_GetObjectItemCaseSensitive(status_of_plan(), "conditions")) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(condition, "type");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "Ready") == 0)
            return condition;
    }
    return NULL;
}

static const char *ready_field(const char *field)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(ready_condition(), field);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* Makes the status the plan writes the cluster's current status. */
static bool adopt_status(void)
{
    const cJSON *status = status_of_plan();
    if (!status)
        return false;
    struct tidbcluster_status next;
    char *error = NULL;
    if (!tidbcluster_status_decode(status, &next, &error)) {
        free(error);
        return false;
    }
    tidbcluster_status_free(&F.tc.status);
    F.tc.status = next;
    return true;
}

/* The value of env `name` in the pod body's first container, or NULL. */
static const char *pod_env(const struct action *create, const char *name)
{
    const cJSON *containers = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(create ? create->body : NULL, "spec"), "containers");
    const cJSON *entry;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(containers, 0), "env")) {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(entry, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(entry, "value");
        if (cJSON_IsString(key) && strcmp(key->valuestring, name) == 0)
            return cJSON_IsString(value) ? value->valuestring : "";
    }
    return NULL;
}

/* ---- bring-up ---- */

static void empty_world_creates_pd_first(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    REQUIRE(planner_world_run(&F));
    char expected[2048];
    snprintf(expected, sizeof expected,
             "create services basic-pd; create services basic-pd-peer; create configmaps %s; "
             "create persistentvolumeclaims pd-basic-pd-0; create pods basic-pd-0; event Normal Created; "
             "create persistentvolumeclaims pd-basic-pd-1; create pods basic-pd-1; event Normal Created; "
             "create persistentvolumeclaims pd-basic-pd-2; create pods basic-pd-2; event Normal Created; "
             "event Normal WaitingForPDQuorum; event Normal WaitingForTiKVStores; update-status tidbclusters basic",
             planner_world_configmap_name(&F, TC_PD));
    CHECK_PLAN(expected);
    CHECK_STR(event_message(0), "created pod basic-pd-0");
    CHECK_STR(event_message(3), "waiting for PD quorum: waiting for the first answer from PD");
    CHECK_STR(event_message(4), "waiting for TiKV stores: waiting for the first answer from PD");
    /* All initial members bootstrap together with the same list. */
    const char *initial = "basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380,"
                          "basic-pd-1=http://basic-pd-1.basic-pd-peer.ns.svc:2380,"
                          "basic-pd-2=http://basic-pd-2.basic-pd-peer.ns.svc:2380";
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "basic-pd-%d", i);
        const struct action *create = find_action(ACTION_CREATE, name);
        CHECK_STR(pod_env(create, "PD_INITIAL_CLUSTER"), initial);
        CHECK(pod_env(create, "PD_JOIN") == NULL);
    }
    CHECK_INT(F.plan.requeue_after_ms, 5000);
    CHECK_STR(ready_field("status"), "False");
    CHECK_STR(ready_field("reason"), "PDNotReady");
    CHECK_STR(ready_field("message"), "waiting for the first answer from PD");
    CHECK_STR(ready_field("lastTransitionTime"), NOW_TEXT);
    CHECK_STR(status_text("pd", "phase", NULL), "Scale");
    CHECK_STR(status_text("pd", "image", NULL), "pingcap/pd:v8.5.0");
    planner_world_done(&F);
}

struct quorum_row {
    const char *name;
    int members, healthy;
    bool leader;
    bool members_error;      /* the members part fails */
    const char *wait;        /* the WaitingForPDQuorum message; NULL: TiKV goes ahead */
    const char *ready_message;
};

static const struct quorum_row quorum_rows[] = {
    { "one of three healthy", 3, 1, true, false, "waiting for PD quorum: 1/3 members healthy", "1/3 PD members healthy" },
    { "none healthy", 3, 0, false, false, "waiting for PD quorum: 0/3 members healthy", "0/3 PD members healthy" },
    { "quorum without leader", 3, 2, false, false, "waiting for PD quorum: no PD leader yet (2/3 members healthy)",
      "2/3 PD members healthy" },
    { "unreachable", 3, 3, true, true, "waiting for PD quorum: PD API unreachable: members: connect",
      "PD API unreachable: members: connect" },
    { "quorum with leader", 3, 2, true, false, NULL, "2/3 PD members healthy" },
    { "all healthy", 3, 3, true, false, NULL, "0/3 TiKV stores Up" },
};

static void pd_quorum_gates_tikv(void)
{
    for (size_t r = 0; r < sizeof quorum_rows / sizeof quorum_rows[0]; r++) {
        const struct quorum_row *row = &quorum_rows[r];
        REQUIRE(planner_world_init(&F, NULL));
        planner_world_component_exists(&F, TC_PD, 3);
        planner_world_pd_answers(&F, row->members, row->healthy, row->leader);
        if (row->members_error) {
            F.pd.parts[PD_PART_MEMBERS].last_error.kind = PD_ERROR_TRANSPORT;
            F.pd.parts[PD_PART_MEMBERS].last_error.transport = HTTP_ERROR_CONNECT;
            snprintf(F.pd.parts[PD_PART_MEMBERS].last_error.message, PD_ERROR_MESSAGE_MAX,
                     "GET /members: connect: Failed to connect after 5003 ms");
        }
        REQUIRE(planner_world_run(&F));
        char *plan = planner_world_describe(&F.plan);
        if (row->wait) {
            CHECK_STR(plan, "event Normal WaitingForPDQuorum; event Normal WaitingForTiKVStores; "
                            "update-status tidbclusters basic");
            CHECK_STR(event_message(0), row->wait);
            CHECK_INT(plan_count(&F.plan, ACTION_CREATE), 0);
        } else {
            char expected[1024];
            snprintf(expected, sizeof expected,
                     "create services basic-tikv-peer; create configmaps %s; "
                     "create persistentvolumeclaims tikv-basic-tikv-0; create pods basic-tikv-0; event Normal Created; "
                     "create persistentvolumeclaims tikv-basic-tikv-1; create pods basic-tikv-1; event Normal Created; "
                     "create persistentvolumeclaims tikv-basic-tikv-2; create pods basic-tikv-2; event Normal Created; "
                     "event Normal WaitingForTiKVStores; update-status tidbclusters basic",
                     planner_world_configmap_name(&F, TC_TIKV));
            CHECK_STR(plan, expected);
            CHECK_STR(event_message(3), "waiting for TiKV stores: 0/3 Up");
        }
        if (test_failed())
            fprintf(stderr, "  row: %s\n  plan: %s\n", row->name, plan);
        free(plan);
        CHECK_STR(ready_field("message"), row->ready_message);
        CHECK_INT(F.plan.requeue_after_ms, 5000);
        planner_world_done(&F);
    }
}

struct stores_row {
    const char *name;
    int tikv, stores, up; /* tikv: 1 uses one_tikv_json, else basic (3) */
    bool tidb_exists;   /* one TiDB pod already exists */
    bool opens;
    const char *wait;
};

static const char *const one_tikv_json =
    "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":1},"
    "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tikv\":{\"replicas\":1,\"requests\":{\"storage\":\"10Gi\"}},\"tidb\":{\"replicas\":2}}}";

static const struct stores_row stores_rows[] = {
    { "no stores", 3, 0, 0, false, false, "waiting for TiKV stores: 0/3 Up" },
    { "two of three", 3, 3, 2, false, false, "waiting for TiKV stores: 2/3 Up" },
    { "three up", 3, 3, 3, false, true, NULL },
    { "one tikv needs one", 1, 1, 1, false, true, NULL },
    { "tidb exists: one store is enough", 3, 3, 1, true, true, NULL },
    { "tidb exists: no store up", 3, 3, 0, true, false, "waiting for TiKV stores: 0/1 Up" },
};

static void tikv_stores_gate_tidb(void)
{
    for (size_t r = 0; r < sizeof stores_rows / sizeof stores_rows[0]; r++) {
        const struct stores_row *row = &stores_rows[r];
        REQUIRE(planner_world_init(&F, row->tikv == 1 ? one_tikv_json : NULL));
        planner_world_component_exists(&F, TC_PD, 3);
        planner_world_component_exists(&F, TC_TIKV, row->tikv);
        planner_world_pd_answers(&F, 3, 3, true);
        planner_world_stores_answer(&F, row->stores, row->up);
        if (row->tidb_exists) {
            planner_world_add_service(&F, "basic-tidb");
            planner_world_add_service(&F, "basic-tidb-peer");
            planner_world_add_configmap(&F, planner_world_configmap_name(&F, TC_TIDB));
            planner_world_add_pod(&F, "basic-tidb-0", "Running", true);
        }
        REQUIRE(planner_world_run(&F));
        char *plan = planner_world_describe(&F.plan);
        if (!row->opens) {
            CHECK_STR(plan, "event Normal WaitingForTiKVStores; update-status tidbclusters basic");
            CHECK_STR(event_message(0), row->wait);
        } else if (row->tidb_exists) {
            CHECK_STR(plan, "create pods basic-tidb-1; event Normal Created; update-status tidbclusters basic");
        } else {
            char expected[1024];
            snprintf(expected, sizeof expected,
                     "create services basic-tidb; create services basic-tidb-peer; create configmaps %s; "
                     "create pods basic-tidb-0; event Normal Created; create pods basic-tidb-1; event Normal Created; "
                     "%supdate-status tidbclusters basic",
                     planner_world_configmap_name(&F, TC_TIDB),
                     /* one TiKV store: the spec's warning, told once */
                     row->tikv == 1 ? "event Warning UnsupportedFields; " : "");
            CHECK_STR(plan, expected);
        }
        if (test_failed())
            fprintf(stderr, "  row: %s\n  plan: %s\n", row->name, plan);
        free(plan);
        planner_world_done(&F);
    }
}

static void ready_cluster_writes_status_once(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    REQUIRE(planner_world_run(&F));
    /* Becoming Ready is an Event too (ready_flips_are_events). */
    CHECK_PLAN("event Normal Ready; update-status tidbclusters basic");
    CHECK_INT(F.plan.requeue_after_ms, 0);
    CHECK_STR(ready_field("status"), "True");
    CHECK_STR(ready_field("reason"), "Ready");
    CHECK_STR(ready_field("message"), "TiDB cluster is fully up and running");
    CHECK_STR(status_text("pd", "phase", NULL), "Normal");
    CHECK_STR(status_text("tikv", "phase", NULL), "Normal");
    CHECK_STR(status_text("tidb", "phase", NULL), "Normal");
    CHECK_STR(status_text("pd", "leader", "name"), "basic-pd-0");
    const cJSON *status = status_of_plan();
    const cJSON *member = JSON_PATH(status, "pd", "members", "basic-pd-1");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(member, "id")), "1001");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(member, "clientURL")),
              "http://basic-pd-1.basic-pd-peer.ns.svc:2379");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(member, "health")));
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(member, "lastTransitionTime")), NOW_TEXT);
    const cJSON *store = JSON_PATH(status, "tikv", "stores", "2");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(store, "podName")), "basic-tikv-1");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(store, "ip")), "basic-tikv-1.basic-tikv-peer.ns.svc");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(store, "state")), "Up");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(store, "leaderCount")->valuedouble, 10);
    CHECK(cJSON_IsTrue(JSON_PATH(status, "tikv", "bootStrapped")));
    CHECK(cJSON_IsTrue(JSON_PATH(status, "pd", "synced")));
    CHECK(cJSON_IsTrue(JSON_PATH(status, "tidb", "members", "basic-tidb-1", "health")));
    CHECK_STR(json_string(JSON_PATH(status, "tidb", "members", "basic-tidb-1", "node")), "node-1");
    CHECK_INT(JSON_PATH(status, "tidb", "readyReplicas")->valuedouble, 2);
    CHECK_INT(JSON_PATH(status, "observedGeneration")->valuedouble, 3);
    const struct action *update = find_action(ACTION_UPDATE_STATUS, NULL);
    CHECK_STR(json_string(JSON_PATH(update->body, "metadata", "resourceVersion")), "42");
    CHECK_STR(json_string(JSON_PATH(update->body, "metadata", "namespace")), "ns");
    CHECK_STR(json_string(JSON_PATH(update->body, "apiVersion")), "pingcap.com/v1alpha1");
    CHECK_STR(json_string(JSON_PATH(update->body, "kind")), "TidbCluster");

    /* A no-op reconcile writes nothing, even later. */
    REQUIRE(adopt_status());
    F.world.now_ms += 60000;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("");
    CHECK_INT(F.plan.requeue_after_ms, 0);
    /* Leader counts that move on every PD poll cause no write by themselves... */
    F.pd.stores.stores[0].leader_count = 7;
    F.pd.stores.stores[2].leader_count = 13;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("");
    /* ...but ride along with a real change. */
    F.pd.stores.stores[1].state_name = PD_STORE_DISCONNECTED;
    REQUIRE(planner_world_run(&F));
    CHECK(find_action(ACTION_UPDATE_STATUS, NULL) != NULL);
    if (find_action(ACTION_UPDATE_STATUS, NULL))
        CHECK_INT(JSON_PATH(status_of_plan(), "tikv", "stores", "3", "leaderCount")->valuedouble, 13);
    planner_world_done(&F);
}

static void transition_times_move_only_on_change(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    REQUIRE(planner_world_run(&F));
    REQUIRE(adopt_status());
    /* Later a store goes Down and a PD member unhealthy. */
    F.world.now_ms += 3600000;
    F.stores[2].state_name = PD_STORE_DOWN;
    F.stores[2].state_name_text = "Down";
    F.health[2].health = false;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("event Warning PDNotReady; update-status tidbclusters basic");
    const cJSON *status = status_of_plan();
    CHECK_STR(json_string(JSON_PATH(status, "tikv", "stores", "3", "lastTransitionTime")), "2026-11-18T12:06:40Z");
    CHECK_STR(json_string(JSON_PATH(status, "tikv", "stores", "1", "lastTransitionTime")), NOW_TEXT);
    CHECK_STR(json_string(JSON_PATH(status, "pd", "members", "basic-pd-2", "lastTransitionTime")),
              "2026-11-18T12:06:40Z");
    CHECK_STR(json_string(JSON_PATH(status, "pd", "members", "basic-pd-0", "lastTransitionTime")), NOW_TEXT);
    CHECK_STR(ready_field("reason"), "PDNotReady");
    CHECK_STR(ready_field("message"), "2/3 PD members healthy");
    CHECK_STR(ready_field("lastTransitionTime"), "2026-11-18T12:06:40Z");
    CHECK_STR(status_text("pd", "phase", NULL), "Scale");
    CHECK_STR(status_text("tikv", "phase", NULL), "Scale");
    planner_world_done(&F);
}

static void deleted_pod_recreated_with_same_name(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    /* basic-tikv-1 is terminating: wait, do not create. */
    F.pods[3 + 1].meta.deletion_ms = NOW_MS - 1000;
    CHECK_STR(F.pods[4].meta.name, "basic-tikv-1");
    REQUIRE(planner_world_run(&F));
    CHECK_INT(plan_count(&F.plan, ACTION_CREATE), 0);
    CHECK_INT(F.plan.requeue_after_ms, 5000);
    /* Gone: recreated, same name, its PVC kept (never deleted). */
    F.pods[4].meta.name = "gone";
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("create pods basic-tikv-1; event Normal Created; update-status tidbclusters basic");
    CHECK_INT(plan_count(&F.plan, ACTION_DELETE), 0);
    planner_world_done(&F);
}

static void pd_replacement_joins(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    F.pods[1].meta.name = "gone"; /* basic-pd-1 was deleted */
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("create pods basic-pd-1; event Normal Created; update-status tidbclusters basic");
    const struct action *create = find_action(ACTION_CREATE, "basic-pd-1");
    CHECK_STR(pod_env(create, "PD_JOIN"), "http://basic-pd.ns:2379");
    CHECK(pod_env(create, "PD_INITIAL_CLUSTER") == NULL);
    CHECK_STR(event_message(0), "created pod basic-pd-1 (joining the running PD cluster)");

    /* After an operator restart PD has not answered yet: the status still
     * knows the cluster exists, so the member still joins. */
    REQUIRE(adopt_status());
    F.world.pd = NULL;
    REQUIRE(planner_world_run(&F));
    create = find_action(ACTION_CREATE, "basic-pd-1");
    CHECK_STR(pod_env(create, "PD_JOIN"), "http://basic-pd.ns:2379");
    planner_world_done(&F);
}

static void pd_not_yet_formed_recreates_initial_member(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_component_exists(&F, TC_PD, 2); /* basic-pd-2 never got created */
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("create persistentvolumeclaims pd-basic-pd-2; create pods basic-pd-2; event Normal Created; "
               "event Normal WaitingForPDQuorum; event Normal WaitingForTiKVStores; update-status tidbclusters basic");
    const struct action *create = find_action(ACTION_CREATE, "basic-pd-2");
    CHECK(pod_env(create, "PD_INITIAL_CLUSTER") != NULL);
    CHECK(pod_env(create, "PD_JOIN") == NULL);
    planner_world_done(&F);
}

/* ---- validation ---- */

struct invalid_row {
    const char *name;
    const char *json;
    const char *message;
};

static const struct invalid_row invalid_rows[] = {
    { "negative replicas",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"resourceVersion\":\"5\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":-1,\"requests\":{\"storage\":\"1Gi\"}}}}",
      "spec.pd.replicas: must be greater than or equal to 0, got -1" },
    { "missing storage and bad policy",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"pvReclaimPolicy\":\"Keep\",\"pd\":{\"replicas\":3},"
      "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}}}}",
      "spec.pvReclaimPolicy: unsupported value \"Keep\": must be Retain or Delete; "
      "spec.pd.requests.storage: required" },
    { "tikv without pd",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}}}}",
      "spec.pd: required when tikv or tidb is set (or set spec.pdAddresses)" },
    { "bad service type",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":1,\"requests\":{\"storage\":\"1Gi\"}},"
      "\"tidb\":{\"replicas\":1,\"service\":{\"type\":\"Ingress\"}}}}",
      "spec.tidb.service.type: unsupported value \"Ingress\": must be ClusterIP, NodePort or LoadBalancer" },
    /* Not supported yet and refused rather than run weaker
     * (reconcilers/api/tidbcluster_fields.h). */
    { "tls requested",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"tlsCluster\":{\"enabled\":true},\"pd\":{\"replicas\":1,"
      "\"requests\":{\"storage\":\"1Gi\"}},\"tidb\":{\"replicas\":1,\"tlsClient\":{\"enabled\":true}}}}",
      "spec.tlsCluster.enabled: not supported yet: TLS between PD, TiKV and TiDB; refused rather than run the cluster "
      "in plaintext; spec.tidb.tlsClient.enabled: not supported yet: TLS for MySQL clients; refused rather than serve "
      "clients in plaintext" },
    { "tiflash and pump",
      "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":2},"
      "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":1,\"requests\":{\"storage\":\"1Gi\"}},"
      "\"tiflash\":{\"replicas\":1},\"pump\":{\"replicas\":2},\"acrossK8s\":true}}",
      "spec.tiflash: not supported yet: TiFlash; refused rather than run without the columnar replicas it asks for; "
      "spec.pump: not supported yet: Pump (TiDB Binlog); refused rather than run without the binlog; "
      "spec.acrossK8s: not supported yet: a cluster spanning Kubernetes clusters; refused rather than start a "
      "separate cluster here" },
};

static void invalid_spec_touches_nothing(void)
{
    for (size_t r = 0; r < sizeof invalid_rows / sizeof invalid_rows[0]; r++) {
        const struct invalid_row *row = &invalid_rows[r];
        REQUIRE(planner_world_init(&F, row->json));
        /* Even with objects around and PD answering: nothing is touched. */
        planner_world_component_exists(&F, TC_PD, 1);
        planner_world_pd_answers(&F, 1, 1, true);
        F.pods[0].meta.deletion_ms = 0;
        REQUIRE(planner_world_run(&F));
        CHECK_PLAN("event Warning FailedValidation; update-status tidbclusters basic");
        CHECK_STR(event_message(0), row->message);
        CHECK_STR(ready_field("status"), "False");
        CHECK_STR(ready_field("reason"), "InvalidSpec");
        CHECK_STR(ready_field("message"), row->message);
        CHECK_INT(JSON_PATH(status_of_plan(), "observedGeneration")->valuedouble, 2);
        CHECK_INT(F.plan.requeue_after_ms, 0);
        /* Same again with that status: only the (de-duplicated) event. */
        REQUIRE(adopt_status());
        REQUIRE(planner_world_run(&F));
        CHECK_PLAN("event Warning FailedValidation");
        if (test_failed())
            fprintf(stderr, "  row: %s\n", row->name);
        planner_world_done(&F);
    }
}

static void fixed_spec_resumes(void)
{
    REQUIRE(planner_world_init(&F, invalid_rows[0].json));
    REQUIRE(planner_world_run(&F));
    REQUIRE(adopt_status());
    struct tidbcluster_status kept = F.tc.status;
    F.tc.status = (struct tidbcluster_status){ 0 };
    tidbcluster_free(&F.tc);
    REQUIRE(planner_world_load(&F, planner_world_basic_json));
    tidbcluster_status_free(&F.tc.status);
    F.tc.status = kept;
    REQUIRE(planner_world_run(&F));
    CHECK_INT(plan_count(&F.plan, ACTION_CREATE), 9); /* 2 services, configmap, 3 PVCs, 3 pods */
    CHECK(find_action(ACTION_CREATE, "basic-pd-0") != NULL);
    CHECK_STR(ready_field("reason"), "PDNotReady");
    planner_world_done(&F);
}

static void undecodable_object(void)
{
    cJSON *object = cJSON_Parse("{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"resourceVersion\":\"9\","
                                "\"generation\":4},\"spec\":{\"pd\":{\"replicas\":\"three\"}},"
                                "\"status\":{\"clusterID\":\"77\"}}");
    REQUIRE(object);
    struct plan plan;
    REQUIRE(plan_init(&plan, "ns", "basic", "u-1"));
    CHECK(planner_plan_undecodable(object, "spec.pd.replicas: expected an integer, got string", NOW_MS, &plan));
    char *d = planner_world_describe(&plan);
    CHECK_STR(d, "event Warning FailedValidation; update-status tidbclusters basic");
    free(d);
    CHECK_STR(plan.actions[0].message, "spec.pd.replicas: expected an integer, got string");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(plan.actions[1].body, "status");
    CHECK_STR(json_string(JSON_PATH(status, "clusterID")), "77"); /* kept */
    CHECK_INT(JSON_PATH(status, "observedGeneration")->valuedouble, 4);
    const cJSON *condition = cJSON_GetArrayItem(JSON_PATH(status, "conditions"), 0);
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(condition, "reason")), "InvalidSpec");
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(condition, "message")),
              "spec.pd.replicas: expected an integer, got string");
    CHECK_STR(json_string(JSON_PATH(plan.actions[1].body, "metadata", "resourceVersion")), "9");

    /* With that status written, only the event remains. */
    cJSON_ReplaceItemInObject(object, "status", cJSON_Duplicate(status, true));
    plan_free(&plan);
    REQUIRE(plan_init(&plan, "ns", "basic", "u-1"));
    CHECK(planner_plan_undecodable(object, "spec.pd.replicas: expected an integer, got string", NOW_MS + 5000, &plan));
    d = planner_world_describe(&plan);
    CHECK_STR(d, "event Warning FailedValidation");
    free(d);
    plan_free(&plan);
    cJSON_Delete(object);
}

/* ---- paused and deleted ---- */

static void paused_writes_only_status(void)
{
    static const char *const paused_json =
        "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":1},"
        "\"spec\":{\"version\":\"v8.5.0\",\"paused\":true,\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
        "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}}}}";
    REQUIRE(planner_world_init(&F, paused_json));
    REQUIRE(planner_world_run(&F));
    /* Pausing is the user's choice: told by the Paused condition, no Warning. */
    CHECK_PLAN("update-status tidbclusters basic");
    CHECK_STR(ready_field("reason"), "Paused");
    CHECK_STR(ready_field("message"), "paused: nothing is created or changed until spec.paused is false");
    CHECK_INT(F.plan.requeue_after_ms, 0);
    /* Still paused with a pod pending and PD answering: status only. */
    REQUIRE(adopt_status());
    planner_world_add_pod(&F, "basic-pd-0", "Pending", false)->scheduled_message = "0/6 nodes are available: 6 Insufficient cpu.";
    planner_world_pd_answers(&F, 1, 1, true);
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("update-status tidbclusters basic");
    CHECK_STR(ready_field("reason"), "Paused");
    planner_world_done(&F);
}

static void deleted_cluster_plans_nothing(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    F.tc.deletion_timestamp = strdup("2026-11-18T11:00:00Z");
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("");
    planner_world_done(&F);
}

/* ---- pending explanations ---- */

struct pending_row {
    const char *name;
    const char *json;
    enum tc_component component;
    const char *pvc_phase;        /* NULL: no PVC */
    const char *pvc_class;
    const char *class_name;       /* a storage class that exists, NULL: none */
    const char *provisioner;
    const char *scheduler_message;
    const char *message;
    const char *plan;
};

#define PENDING_TIKV_PLAN "event Normal WaitingForTiKVStores; event Warning Unschedulable; update-status tidbclusters basic"

static const char *const tikv_class_json =
    "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":1},"
    "\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tikv\":{\"replicas\":3,\"storageClassName\":\"fast\",\"requests\":{\"storage\":\"10Gi\"}}}}";

static const struct pending_row pending_rows[] = {
    { "insufficient cpu", NULL, TC_TIKV, "Bound", NULL, NULL, NULL,
      "0/6 nodes are available: 6 Insufficient cpu.",
      "pod basic-tikv-0 cannot be scheduled: 0/6 nodes are available: 6 Insufficient cpu.", PENDING_TIKV_PLAN },
    { "missing storage class", NULL, TC_TIKV, "Pending", "fast", "standard", "ebs.csi.aws.com",
      "0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims.",
      "pod basic-tikv-0 cannot be scheduled: storage class \"fast\" does not exist (PVC tikv-basic-tikv-0 is Pending)",
      PENDING_TIKV_PLAN },
    { "class from the spec", "tikv_class", TC_TIKV, "Pending", NULL, NULL, NULL, "unbound",
      "pod basic-tikv-0 cannot be scheduled: storage class \"fast\" does not exist (PVC tikv-basic-tikv-0 is Pending)",
      "event Warning Unschedulable; update-status tidbclusters basic" },
    { "no local pv", NULL, TC_TIKV, "Pending", "local-storage", "local-storage", "kubernetes.io/no-provisioner",
      "0/6 nodes are available: 6 node(s) didn't find available persistent volumes to bind.",
      "pod basic-tikv-0 cannot be scheduled: no PersistentVolume available for storage class \"local-storage\" "
      "(PVC tikv-basic-tikv-0 is Pending)", PENDING_TIKV_PLAN },
    { "provisioning class waits for the scheduler", NULL, TC_TIKV, "Pending", "standard", "standard", "ebs.csi.aws.com",
      "0/6 nodes are available: 6 node(s) had untolerated taint.",
      "pod basic-tikv-0 cannot be scheduled: 0/6 nodes are available: 6 node(s) had untolerated taint.", PENDING_TIKV_PLAN },
    { "no scheduler message", NULL, TC_TIKV, "Bound", NULL, NULL, NULL, NULL,
      "pod basic-tikv-0 cannot be scheduled (6/6 nodes ready)", PENDING_TIKV_PLAN },
    { "pd pod", NULL, TC_PD, "Bound", NULL, NULL, NULL, "0/6 nodes are available: 6 Insufficient memory.",
      "pod basic-pd-0 cannot be scheduled: 0/6 nodes are available: 6 Insufficient memory.",
      "event Normal WaitingForPDQuorum; event Normal WaitingForTiKVStores; event Warning Unschedulable; "
      "update-status tidbclusters basic" },
};

static void pending_pods_explained(void)
{
    for (size_t r = 0; r < sizeof pending_rows / sizeof pending_rows[0]; r++) {
        const struct pending_row *row = &pending_rows[r];
        REQUIRE(planner_world_init(&F, row->json ? tikv_class_json : NULL));
        if (row->class_name)
            planner_world_add_class(&F, row->class_name, row->provisioner);
        planner_world_pd_answers(&F, 3, 3, true);
        planner_world_stores_answer(&F, 0, 0);
        const char *kind = tidbcluster_component_name(row->component);
        if (row->component == TC_PD) {
            planner_world_add_service(&F, "basic-pd");
            planner_world_add_service(&F, "basic-pd-peer");
            planner_world_add_configmap(&F, planner_world_configmap_name(&F, TC_PD));
            planner_world_pd_answers(&F, 2, 1, true); /* basic-pd-0 never started */
        } else {
            planner_world_component_exists(&F, TC_PD, 3);
            planner_world_add_service(&F, "basic-tikv-peer");
            planner_world_add_configmap(&F, planner_world_configmap_name(&F, TC_TIKV));
        }
        for (int i = 0; i < 3; i++) {
            char pvc[64], pod[64];
            snprintf(pvc, sizeof pvc, "%s-basic-%s-%d", kind, kind, i);
            snprintf(pod, sizeof pod, "basic-%s-%d", kind, i);
            if (i == 0) {
                if (row->pvc_phase)
                    planner_world_add_pvc(&F, pvc, row->pvc_phase, row->pvc_class);
                planner_world_add_pod(&F, pod, "Pending", false)->scheduled_message = row->scheduler_message;
            } else {
                planner_world_add_pvc(&F, pvc, "Bound", NULL);
                planner_world_add_pod(&F, pod, "Running", true);
            }
        }
        REQUIRE(planner_world_run(&F));
        CHECK_PLAN(row->plan);
        const struct action *event = find_event("Unschedulable");
        CHECK_STR(event ? event->message : NULL, row->message);
        CHECK(event && event->warning);
        CHECK_STR(ready_field("reason"), "Unschedulable");
        CHECK_STR(ready_field("message"), row->message);
        CHECK_INT(F.plan.requeue_after_ms, 5000);
        if (test_failed())
            fprintf(stderr, "  row: %s\n", row->name);
        planner_world_done(&F);
    }
}

/* ---- PD problems ---- */

struct pd_error_row {
    const char *name;
    enum pd_error_kind kind;
    enum http_client_error transport;
    long status;
    const char *message;
    const char *expected;
};

static const struct pd_error_row pd_error_rows[] = {
    { "timeout", PD_ERROR_TRANSPORT, HTTP_ERROR_TIMEOUT, 0, "GET /pd/api/v1/members: timeout: after 5001 ms",
      "PD API unreachable: members: timeout" },
    { "dns", PD_ERROR_TRANSPORT, HTTP_ERROR_DNS, 0, "x", "PD API unreachable: members: dns" },
    /* As pd_error_from_http words it: the status comes first, once. */
    { "no leader", PD_ERROR_HTTP, HTTP_ERROR_NONE, 503, "HTTP 503: redirect finds no leader",
      "PD API unreachable: members: HTTP 503: redirect finds no leader" },
    { "garbage", PD_ERROR_DECODE, HTTP_ERROR_NONE, 200, "members[0].member_id: expected an unsigned integer",
      "PD API unreachable: members: unexpected answer: members[0].member_id: expected an unsigned integer" },
};

static void pd_unreachable_is_a_condition(void)
{
    for (size_t r = 0; r < sizeof pd_error_rows / sizeof pd_error_rows[0]; r++) {
        const struct pd_error_row *row = &pd_error_rows[r];
        REQUIRE(planner_world_init(&F, NULL));
        planner_world_cluster_running(&F);
        /* An earlier good status, then PD stops answering. */
        REQUIRE(planner_world_run(&F));
        REQUIRE(adopt_status());
        struct pd_error *error = &F.pd.parts[PD_PART_MEMBERS].last_error;
        error->kind = row->kind;
        error->transport = row->transport;
        error->status = row->status;
        snprintf(error->message, sizeof error->message, "%s", row->message);
        /* A PD pod is gone meanwhile: recreated all the same (joins). */
        F.pods[2].meta.name = "gone";
        REQUIRE(planner_world_run(&F));
        CHECK_PLAN("create pods basic-pd-2; event Normal Created; event Warning PDNotReady; "
                   "update-status tidbclusters basic");
        CHECK_STR(ready_field("reason"), "PDNotReady");
        CHECK_STR(ready_field("message"), row->expected);
        const cJSON *status = status_of_plan();
        CHECK(cJSON_IsFalse(JSON_PATH(status, "pd", "synced")));
        /* Last known members stay. */
        CHECK(JSON_PATH(status, "pd", "members", "basic-pd-2") != NULL);
        CHECK_INT(F.plan.requeue_after_ms, 5000);
        /* The message is stable: the next poll's timings change nothing. */
        F.pods[2].meta.name = "basic-pd-2";
        REQUIRE(planner_world_run(&F));
        REQUIRE(adopt_status());
        snprintf(error->message, sizeof error->message, "%s (again)", row->message);
        F.world.now_ms += 2000;
        REQUIRE(planner_world_run(&F));
        if (row->kind == PD_ERROR_TRANSPORT)
            CHECK_PLAN("");
        if (test_failed())
            fprintf(stderr, "  row: %s\n", row->name);
        planner_world_done(&F);
    }
}

static void pd_never_answered_still_brings_up_pd(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    F.world.pd = &F.pd; /* a snapshot that never succeeded: connect errors */
    F.pd.parts[PD_PART_MEMBERS].last_error.kind = PD_ERROR_TRANSPORT;
    F.pd.parts[PD_PART_MEMBERS].last_error.transport = HTTP_ERROR_CONNECT;
    planner_world_component_exists(&F, TC_PD, 3);
    F.pods[0].meta.name = "gone";
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("create pods basic-pd-0; event Normal Created; event Normal WaitingForPDQuorum; "
               "event Normal WaitingForTiKVStores; update-status tidbclusters basic");
    /* Never bootstrapped as far as anyone knows: the initial list. */
    CHECK(pod_env(find_action(ACTION_CREATE, "basic-pd-0"), "PD_INITIAL_CLUSTER") != NULL);
    CHECK_STR(ready_field("message"), "PD API unreachable: members: connect");
    planner_world_done(&F);
}

/* ---- safety rules, each tried ---- */

static void never_recreate_existing_pod(void)
{
    /* Every state a pod can be in: none is created again. */
    static const char *const phases[] = { "Pending", "Running", "Succeeded", "Failed", "Unknown" };
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        REQUIRE(planner_world_init(&F, NULL));
        planner_world_cluster_running(&F);
        for (size_t j = 0; j < F.world.pod_count; j++) {
            F.pods[j].phase = phases[i];
            F.pods[j].ready = CONDITION_FALSE;
        }
        REQUIRE(planner_world_run(&F));
        CHECK_INT(plan_count(&F.plan, ACTION_CREATE), 0);
        CHECK_INT(plan_count(&F.plan, ACTION_DELETE), 0);
        planner_world_done(&F);
    }
}

static void never_delete_pvc(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    /* Extra PVCs (a scaled-in member's) and a PVC being deleted. */
    planner_world_add_pvc(&F, "tikv-basic-tikv-7", "Bound", NULL);
    F.pvcs[1].meta.deletion_ms = NOW_MS;
    F.pods[1].meta.name = "gone";
    REQUIRE(planner_world_run(&F));
    CHECK_INT(plan_count(&F.plan, ACTION_DELETE), 0);
    /* The terminating claim is not recreated under its pod. */
    CHECK(find_action(ACTION_CREATE, "pd-basic-pd-1") == NULL);
    CHECK(find_action(ACTION_CREATE, "basic-pd-1") != NULL);
    CHECK_INT(F.plan.requeue_after_ms, 5000);
    planner_world_done(&F);
}

static void own_stores_only(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_component_exists(&F, TC_PD, 3);
    planner_world_component_exists(&F, TC_TIKV, 3);
    planner_world_pd_answers(&F, 3, 3, true);
    planner_world_stores_answer(&F, 3, 0);
    /* Three Up stores of another cluster on the same PD do not open TiDB. */
    for (int i = 0; i < 3; i++) {
        F.stores[i].address = planner_world_keep(&F, "other-tikv-%d.other-tikv-peer.ns.svc:20160", i);
        F.stores[i].state_name = PD_STORE_UP;
        F.stores[i].state_name_text = "Up";
    }
    /* Nor does a look-alike in another namespace. */
    F.stores[2].address = "basic-tikv-2.basic-tikv-peer.elsewhere.svc:20160";
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("event Normal WaitingForTiKVStores; update-status tidbclusters basic");
    CHECK_STR(event_message(0), "waiting for TiKV stores: 0/3 Up");
    CHECK(JSON_PATH(status_of_plan(), "tikv", "stores") == NULL);
    planner_world_done(&F);
}

static void tombstones_listed_apart(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    planner_world_stores_answer(&F, 4, 4);
    F.stores[3].address = "basic-tikv-0.basic-tikv-peer.ns.svc:20160";
    F.stores[3].id = 9;
    F.stores[0].state = PD_STORE_STATE_TOMBSTONE;
    F.stores[0].state_name = PD_STORE_TOMBSTONE;
    F.stores[0].state_name_text = "Tombstone";
    REQUIRE(planner_world_run(&F));
    const cJSON *status = status_of_plan();
    CHECK(JSON_PATH(status, "tikv", "tombstoneStores", "1") != NULL);
    CHECK(JSON_PATH(status, "tikv", "stores", "1") == NULL);
    CHECK(JSON_PATH(status, "tikv", "stores", "9") != NULL);
    CHECK_STR(ready_field("status"), "True");
    planner_world_done(&F);
}

static void store_not_up_named(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    planner_world_stores_answer(&F, 3, 2);
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("update-status tidbclusters basic");
    CHECK_STR(ready_field("reason"), "TiKVStoreNotUp");
    CHECK_STR(ready_field("message"), "store 3 (basic-tikv-2) is Down");
    planner_world_done(&F);
}

/* The Ready message names the lowest-ordinal member pod that is not ready,
 * where it runs and how it is (not ready, terminating, pending). */
static void not_ready_pod_is_named(void)
{
    static const struct {
        int pods[2];            /* F.pods indexes of TiKV pods to spoil (-1: none) */
        int how;                /* 0 not ready, 1 terminating, 2 pending on node-2 */
        const char *message;
    } cases[] = {
        { { 4, -1 }, 0, "2/3 TiKV pods ready; basic-tikv-1 on node-1 is not ready" },
        { { 5, 3 }, 0, "1/3 TiKV pods ready; basic-tikv-0 on node-1 is not ready" },
        { { 4, -1 }, 1, "2/3 TiKV pods ready; basic-tikv-1 on node-1 is terminating" },
        { { 4, -1 }, 2, "2/3 TiKV pods ready; basic-tikv-1 on node-2 is pending" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        REQUIRE(planner_world_init(&F, NULL));
        planner_world_cluster_running(&F);
        for (int i = 0; i < 2; i++) {
            if (cases[c].pods[i] < 0) continue;
            struct kube_pod *pod = &F.pods[cases[c].pods[i]];
            if (cases[c].how == 1) {
                pod->meta.deletion_ms = 1700000000000;
            } else {
                pod->ready = CONDITION_FALSE;
                if (cases[c].how == 2) {
                    pod->phase = "Pending";
                    pod->node_name = "node-2";
                }
            }
        }
        REQUIRE(planner_world_run(&F));
        CHECK_STR(ready_field("reason"), "TiKVStoreNotUp");
        CHECK_STR(ready_field("message"), cases[c].message);
        planner_world_done(&F);
    }
}

/* ready_flips_are_events: Warning with the condition's reason and message
 * when Ready goes True -> False, Normal Ready when it becomes True, nothing
 * while it stays either way. */
static void ready_flips_are_events(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    REQUIRE(planner_world_run(&F));
    CHECK_STR(F.plan.actions[0].reason, "Ready");
    CHECK_STR(F.plan.actions[0].message, "TiDB cluster is fully up and running");
    REQUIRE(adopt_status());
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN(""); /* steady: no event, no write */
    F.pods[4].ready = CONDITION_FALSE;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("event Warning TiKVStoreNotUp; update-status tidbclusters basic");
    CHECK(F.plan.actions[0].warning);
    CHECK_STR(F.plan.actions[0].message,
              "cluster is not ready: 2/3 TiKV pods ready; basic-tikv-1 on node-1 is not ready");
    REQUIRE(adopt_status());
    F.pods[5].ready = CONDITION_FALSE; /* worse, but still not ready: no new Event */
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("update-status tidbclusters basic");
    REQUIRE(adopt_status());
    F.pods[4].ready = CONDITION_TRUE;
    F.pods[5].ready = CONDITION_TRUE;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("event Normal Ready; update-status tidbclusters basic");
    planner_world_done(&F);
}

static void tidb_not_ready_reported(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    F.pods[7].ready = CONDITION_FALSE;
    CHECK_STR(F.pods[7].meta.name, "basic-tidb-1");
    REQUIRE(planner_world_run(&F));
    CHECK_STR(ready_field("reason"), "TiDBNotReady");
    CHECK_STR(ready_field("message"), "1/2 TiDB pods ready; basic-tidb-1 on node-1 is not ready");
    CHECK(cJSON_IsFalse(JSON_PATH(status_of_plan(), "tidb", "members", "basic-tidb-1", "health")));
    CHECK_STR(status_text("tidb", "phase", NULL), "Scale");
    planner_world_done(&F);
}

static void other_conditions_kept(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    struct tc_condition *other = tidbcluster_list_add(&F.tc.status.conditions.items, &F.tc.status.conditions.count,
                                                      sizeof *other);
    REQUIRE(other);
    other->type = strdup("LeaderEvicting");
    other->status = strdup("True");
    other->last_transition_time = strdup(EARLIER_TEXT);
    F.tc.status.tikv.evict_leader = cJSON_Parse("{\"basic-tikv-0\":{\"value\":\"x\"}}");
    REQUIRE(planner_world_run(&F));
    const cJSON *conditions = JSON_PATH(status_of_plan(), "conditions");
    CHECK_INT(cJSON_GetArraySize(conditions), 2);
    CHECK_STR(json_string(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(conditions, 0), "type")),
              "LeaderEvicting");
    CHECK(JSON_PATH(status_of_plan(), "tikv", "evictLeader", "basic-tikv-0") != NULL);
    planner_world_done(&F);
}

static void world_is_not_modified(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    cJSON *before = tidbcluster_status_encode(&F.tc.status);
    REQUIRE(planner_world_run(&F));
    REQUIRE(planner_world_run(&F)); /* same world, same plan */
    CHECK_PLAN("event Normal Ready; update-status tidbclusters basic");
    cJSON *after = tidbcluster_status_encode(&F.tc.status);
    CHECK(cJSON_Compare(before, after, true));
    cJSON_Delete(before);
    cJSON_Delete(after);
    planner_world_done(&F);
}

static void no_leader_is_not_ready(void)
{
    REQUIRE(planner_world_init(&F, NULL));
    planner_world_cluster_running(&F);
    F.pd.members.has_leader = false;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("update-status tidbclusters basic");
    CHECK_STR(ready_field("reason"), "PDNotReady");
    CHECK_STR(ready_field("message"), "PD has no leader");
    CHECK(JSON_PATH(status_of_plan(), "pd", "leader") == NULL);
    CHECK_INT(F.plan.requeue_after_ms, 5000);
    planner_world_done(&F);
}

static void cluster_domain_names_are_ours(void)
{
    static const char *const domain_json =
        "{\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"generation\":1},"
        "\"spec\":{\"version\":\"v8.5.0\",\"clusterDomain\":\"cluster.local\","
        "\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
        "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}}}}";
    REQUIRE(planner_world_init(&F, domain_json));
    planner_world_component_exists(&F, TC_PD, 3);
    planner_world_component_exists(&F, TC_TIKV, 3);
    planner_world_pd_answers(&F, 3, 3, true);
    planner_world_stores_answer(&F, 3, 3);
    for (int i = 0; i < 3; i++) {
        const char *fqdn = planner_world_keep(&F, "basic-pd-%d.basic-pd-peer.ns.svc.cluster.local", i);
        F.members[i].name = (char *)fqdn;
        F.health[i].name = (char *)fqdn;
        F.stores[i].address = planner_world_keep(&F, "basic-tikv-%d.basic-tikv-peer.ns.svc.cluster.local:20160", i);
    }
    F.pd.members.leader = F.members[0];
    /* A look-alike with another domain is not ours. */
    F.members[2].name = "basic-pd-2.basic-pd-peer.ns.svc.other";
    F.health[2].name = F.members[2].name;
    REQUIRE(planner_world_run(&F));
    CHECK_PLAN("update-status tidbclusters basic");
    CHECK_STR(ready_field("message"), "2/3 PD members healthy");
    const cJSON *status = status_of_plan();
    CHECK(JSON_PATH(status, "pd", "members", "basic-pd-0.basic-pd-peer.ns.svc.cluster.local") != NULL);
    CHECK_STR(json_string(JSON_PATH(status, "tikv", "stores", "1", "podName")), "basic-tikv-0");
    CHECK_STR(json_string(JSON_PATH(status, "tikv", "stores", "1", "ip")), "basic-tikv-0.basic-tikv-peer.ns.svc.cluster.local");
    planner_world_done(&F);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(empty_world_creates_pd_first),
        TEST_CASE(pd_quorum_gates_tikv),
        TEST_CASE(tikv_stores_gate_tidb),
        TEST_CASE(ready_cluster_writes_status_once),
        TEST_CASE(transition_times_move_only_on_change),
        TEST_CASE(deleted_pod_recreated_with_same_name),
        TEST_CASE(pd_replacement_joins),
        TEST_CASE(pd_not_yet_formed_recreates_initial_member),
        TEST_CASE(invalid_spec_touches_nothing),
        TEST_CASE(fixed_spec_resumes),
        TEST_CASE(undecodable_object),
        TEST_CASE(paused_writes_only_status),
        TEST_CASE(deleted_cluster_plans_nothing),
        TEST_CASE(pending_pods_explained),
        TEST_CASE(pd_unreachable_is_a_condition),
        TEST_CASE(pd_never_answered_still_brings_up_pd),
        TEST_CASE(never_recreate_existing_pod),
        TEST_CASE(never_delete_pvc),
        TEST_CASE(own_stores_only),
        TEST_CASE(tombstones_listed_apart),
        TEST_CASE(store_not_up_named),
        TEST_CASE(tidb_not_ready_reported),
        TEST_CASE(not_ready_pod_is_named),
        TEST_CASE(ready_flips_are_events),
        TEST_CASE(other_conditions_kept),
        TEST_CASE(world_is_not_modified),
        TEST_CASE(no_leader_is_not_ready),
        TEST_CASE(cluster_domain_names_are_ours),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
