#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/api/tidbcluster_validate.h"
#include "reconcilers/api/toml_check.h"
#include "test/support/cluster_harness.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>


/* ---- helpers ---- */

static bool decode_text(const char *json, struct tidbcluster *cluster, char **error)
{
    cJSON *object = cJSON_Parse(json);
    if (!object) {
        *error = strdup("test JSON does not parse");
        memset(cluster, 0, sizeof *cluster);
        return false;
    }
    bool ok = tidbcluster_decode(object, cluster, error);
    cJSON_Delete(object);
    return ok;
}

static const char *const full_example =
    "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
    "\"metadata\":{\"name\":\"full\",\"namespace\":\"prod\",\"uid\":\"u-1\",\"resourceVersion\":\"42\","
    "\"generation\":7,\"creationTimestamp\":\"2024-01-02T03:04:05Z\","
    "\"labels\":{\"app.kubernetes.io/instance\":\"helm-full\"},"
    "\"annotations\":{\"tidb.pingcap.com/pd-check-quorum-before-upgrade\":\"true\"}},"
    "\"spec\":{\"version\":\"v8.5.0\",\"timezone\":\"Asia/Shanghai\",\"pvReclaimPolicy\":\"Delete\","
    "\"imagePullPolicy\":\"Always\",\"configUpdateStrategy\":\"RollingUpdate\",\"clusterDomain\":\"cluster.local\","
    "\"schedulerName\":\"tidb-scheduler\",\"paused\":false,\"enableDynamicConfiguration\":true,"
    "\"enablePVReclaim\":true,\"tlsCluster\":{\"enabled\":true},\"helper\":{\"image\":\"busybox:1.36\"},"
    "\"nodeSelector\":{\"disk\":\"ssd\"},\"affinity\":{\"nodeAffinity\":{}},"
    "\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"tidb\",\"effect\":\"NoSchedule\"}],"
    "\"annotations\":{\"team\":\"db\"},\"labels\":{\"env\":\"prod\"},\"imagePullSecrets\":[{\"name\":\"regcred\"}],"
    "\"services\":[{\"name\":\"pd\",\"type\":\"NodePort\"}],\"discovery\":{\"limits\":{\"cpu\":\"200m\"}},"
    "\"unknownField\":{\"kept\":\"by the API server\"},\"tiflash\":{\"replicas\":1},"
    "\"pd\":{\"replicas\":5,\"baseImage\":\"registry.local/pd\",\"version\":\"v8.5.1\",\"maxFailoverCount\":2,"
    "\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\",\"storage\":\"10Gi\"},\"limits\":{\"cpu\":2,\"memory\":\"2Gi\"},"
    "\"storageClassName\":\"local-storage\",\"config\":\"[replication]\\nmax-replicas = 3\\n\","
    "\"startTimeout\":60,\"nodeSelector\":{\"zone\":\"a\"},\"annotations\":{\"a\":\"b\"},\"labels\":{\"c\":\"d\"},"
    "\"env\":[{\"name\":\"X\",\"value\":\"1\"}],\"terminationGracePeriodSeconds\":30},"
    "\"tikv\":{\"replicas\":4,\"maxFailoverCount\":1,\"requests\":{\"cpu\":1.5,\"storage\":\"100Gi\"},"
    "\"limits\":{\"storage\":\"90Gi\",\"nvidia.com/gpu\":1},\"evictLeaderTimeout\":\"10m\","
    "\"waitLeaderTransferBackTimeout\":\"1m30s\",\"storeLabels\":[\"zone\",\"host\"],\"separateRaftLog\":true,"
    "\"scalePolicy\":{\"scaleInParallelism\":2},"
    "\"config\":{\"storage\":{\"reserve-space\":\"0MB\"},\"raftstore\":{\"capacity\":\"10GB\"}}},"
    "\"tidb\":{\"replicas\":2,\"imagePullPolicy\":\"IfNotPresent\",\"configUpdateStrategy\":\"InPlace\","
    "\"service\":{\"type\":\"LoadBalancer\",\"mysqlNodePort\":30020,\"exposeStatus\":false,"
    "\"annotations\":{\"lb\":\"internal\"},\"loadBalancerSourceRanges\":[\"10.0.0.0/8\"]},"
    "\"binlogEnabled\":false,\"separateSlowLog\":false,\"plugins\":[\"audit\"],\"arguments\":[\"--x\"],"
    "\"tlsClient\":{\"enabled\":true},\"config\":\"[log.file]\\nmax-backups = 10\\n\"}},"
    "\"status\":{\"observedGeneration\":6,\"pd\":{\"phase\":\"Normal\",\"members\":{\"full-pd-0\":"
    "{\"name\":\"full-pd-0\",\"id\":\"123\",\"health\":true}}}}}";

/* ---- decode ---- */

static void decode_basic_example(void)
{
    cJSON *object = e2e_repo_yaml_first("examples/basic/tidb-cluster.yaml");
    REQUIRE(object);
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = tidbcluster_decode(object, &tc, &error);
    cJSON_Delete(object);
    if (!ok)
        test_fail(__FILE__, __LINE__, "decode: %s", error);
    REQUIRE(ok);
    CHECK_STR(tc.name, "basic");
    CHECK(tc.namespace == NULL);
    CHECK_STR(tc.spec.version, "v8.5.7");
    CHECK_STR(tc.spec.timezone, "UTC");
    CHECK_STR(tc.spec.config_update_strategy, "RollingUpdate");
    CHECK_INT(tc.spec.enable_dynamic_configuration, TC_TRUE);
    CHECK(tc.spec.discovery != NULL);
    CHECK_STR(tc.spec.helper_image, "alpine:3.16.0");
    const struct component_spec *pd = &tc.spec.component[TC_PD];
    const struct component_spec *tikv = &tc.spec.component[TC_TIKV];
    const struct component_spec *tidb = &tc.spec.component[TC_TIDB];
    CHECK(pd->present && tikv->present && tidb->present);
    CHECK_INT(pd->replicas, 3);
    CHECK_INT(tikv->replicas, 3);
    CHECK_INT(tidb->replicas, 2);
    CHECK_INT(pd->max_failover_count, 0);
    CHECK(pd->max_failover_count_set);
    CHECK_STR(pd->requests.storage.text, "1Gi");
    CHECK(pd->requests.storage.valid);
    CHECK_INT(quantity_value(&pd->requests.storage.value), 1073741824LL);
    CHECK_STR(pd->config, "");
    CHECK(pd->config_from_map);
    CHECK_STR(tikv->config, "[raftdb]\nmax-open-files = 256\n\n[rocksdb]\nmax-open-files = 256\n\n"
                            "[storage]\nreserve-space = \"0MB\"\n");
    CHECK(tidb->service.present);
    CHECK_STR(tidb->service.type, "ClusterIP");

    REQUIRE(tidbcluster_apply_defaults(&tc));
    CHECK_STR(pd->image_resolved, "pingcap/pd:v8.5.7");
    CHECK_STR(tikv->image_resolved, "pingcap/tikv:v8.5.7");
    CHECK_STR(tidb->image_resolved, "pingcap/tidb:v8.5.7");
    CHECK_STR(tidb->config, "[log]\n\n[log.file]\nmax-backups = 3\n");
    CHECK(toml_check(tidb->config, strlen(tidb->config), NULL));

    struct tc_problems problems = { 0 };
    tidbcluster_validate(&tc, TC_VALIDATE_CREATE, &problems);
    char *errors = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    char *warnings = tidbcluster_problems_summary(&problems, TC_PROBLEM_WARNING);
    CHECK_STR(errors, "");
    /* PingCAP's example asks for nothing that has no effect here
     * (reconcilers/api/tidbcluster_fields.h). */
    CHECK_STR(warnings, "");
    free(errors);
    free(warnings);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

static void decode_full_example(void)
{
    struct tidbcluster tc;
    char *error = NULL;
    bool ok = decode_text(full_example, &tc, &error);
    if (!ok)
        test_fail(__FILE__, __LINE__, "decode: %s", error);
    REQUIRE(ok);
    CHECK_STR(tc.name, "full");
    CHECK_STR(tc.namespace, "prod");
    CHECK_STR(tc.uid, "u-1");
    CHECK_STR(tc.resource_version, "42");
    CHECK_INT(tc.generation, 7);
    CHECK_STR(tc.creation_timestamp, "2024-01-02T03:04:05Z");
    CHECK_STR(tidbcluster_instance(&tc), "helm-full");
    CHECK_STR(tidbcluster_annotation(&tc, "tidb.pingcap.com/pd-check-quorum-before-upgrade"), "true");
    CHECK(tidbcluster_annotation(&tc, "missing") == NULL);
    CHECK_STR(tidbcluster_timezone(&tc), "Asia/Shanghai");
    CHECK_STR(tc.spec.cluster_domain, "cluster.local");
    CHECK_STR(tc.spec.scheduler_name, "tidb-scheduler");
    CHECK_INT(tc.spec.paused, TC_FALSE);
    CHECK_INT(tc.spec.enable_pv_reclaim, TC_TRUE);
    CHECK_INT(tc.spec.tls_cluster_enabled, TC_TRUE);
    CHECK_STR(tc.spec.helper_image, "busybox:1.36");
    CHECK_STR(cJSON_GetObjectItem(tc.spec.node_selector, "disk")->valuestring, "ssd");
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(tc.spec.affinity, "nodeAffinity")));
    CHECK_INT(cJSON_GetArraySize(tc.spec.tolerations), 1);
    CHECK_INT(cJSON_GetArraySize(tc.spec.image_pull_secrets), 1);

    const struct component_spec *pd = &tc.spec.component[TC_PD];
    CHECK_INT(pd->kind, TC_PD);
    CHECK_INT(pd->replicas, 5);
    CHECK_STR(pd->requests.cpu.text, "500m");
    CHECK_INT(pd->requests.cpu.value.milli, 500);
    CHECK_STR(pd->limits.cpu.text, "2");
    CHECK_INT(pd->limits.cpu.value.milli, 2000);
    CHECK_STR(pd->storage_class_name, "local-storage");
    CHECK_STR(pd->config, "[replication]\nmax-replicas = 3\n");
    CHECK(!pd->config_from_map);
    CHECK_INT(pd->start_timeout, 60);
    CHECK_INT(pd->termination_grace_period_seconds, 30);
    CHECK_INT(cJSON_GetArraySize(pd->env), 1);

    const struct component_spec *tikv = &tc.spec.component[TC_TIKV];
    CHECK_STR(tikv->requests.cpu.text, "1.5");
    CHECK_INT(tikv->requests.cpu.value.milli, 1500);
    CHECK_STR(tikv->limits.storage.text, "90Gi");
    CHECK(cJSON_GetObjectItem(tikv->limits.all, "nvidia.com/gpu") != NULL);
    CHECK_STR(tikv->evict_leader_timeout, "10m");
    CHECK_INT(cJSON_GetArraySize(tikv->store_labels), 2);
    CHECK_INT(tikv->separate_raft_log, TC_TRUE);
    CHECK_INT(tikv->scale_in_parallelism, 2);
    CHECK_STR(tikv->config, "[raftstore]\ncapacity = \"10GB\"\n\n[storage]\nreserve-space = \"0MB\"\n");

    const struct component_spec *tidb = &tc.spec.component[TC_TIDB];
    CHECK_STR(tidb->service.type, "LoadBalancer");
    CHECK_INT(tidb->service.mysql_node_port, 30020);
    CHECK_INT(tidb->service.expose_status, TC_FALSE);
    CHECK_INT(tidb->tls_client_enabled, TC_TRUE);
    CHECK_STR(cJSON_GetArrayItem(tidb->plugins, 0)->valuestring, "audit");

    CHECK_INT(tc.status.observed_generation, 6);
    CHECK_STR(tc.status.pd.phase, "Normal");
    REQUIRE(tc.status.pd.members.count == 1);
    CHECK_STR(tc.status.pd.members.items[0].name, "full-pd-0");
    CHECK(tc.status.pd.members.items[0].health);

    REQUIRE(tidbcluster_apply_defaults(&tc));
    CHECK_STR(pd->image_resolved, "registry.local/pd:v8.5.1");
    CHECK_STR(tikv->image_resolved, "pingcap/tikv:v8.5.0");
    CHECK_STR(pd->service.type, "NodePort"); /* from the deprecated spec.services */
    CHECK_INT(pd->max_failover_count, 2);
    CHECK_INT(tikv->max_failover_count, 1);
    CHECK_INT(tidb->max_failover_count, 3);
    CHECK_STR(tidb->config, "[log.file]\nmax-backups = 10\n"); /* set by the user: kept */
    CHECK_STR(tidbcluster_config_update_strategy(&tc, TC_PD), "RollingUpdate");
    CHECK_STR(tidbcluster_config_update_strategy(&tc, TC_TIDB), "InPlace");
    CHECK_STR(tidbcluster_image_pull_policy(&tc, TC_PD), "Always");
    CHECK_STR(tidbcluster_image_pull_policy(&tc, TC_TIDB), "IfNotPresent");

    struct tc_problems problems = { 0 };
    tidbcluster_validate(&tc, TC_VALIDATE_UPDATE, &problems);
    char *errors = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
    /* Decoded, but not run: TLS and TiFlash are not supported yet. */
    CHECK_STR(errors, "spec.tlsCluster.enabled: not supported yet: TLS between PD, TiKV and TiDB; refused rather than "
                      "run the cluster in plaintext; spec.tiflash: not supported yet: TiFlash; refused rather than run "
                      "without the columnar replicas it asks for; spec.tidb.tlsClient.enabled: not supported yet: TLS "
                      "for MySQL clients; refused rather than serve clients in plaintext");
    free(errors);
    CHECK(tidbcluster_problems_find(&problems, "spec.pvReclaimPolicy", TC_PROBLEM_WARNING) != NULL);
    CHECK(tidbcluster_problems_find(&problems, "spec.tikv.storeLabels", TC_PROBLEM_WARNING) != NULL);
    tidbcluster_problems_free(&problems);
    tidbcluster_free(&tc);
}

static void defaults_match_pingcap(void)
{
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(decode_text("{\"metadata\":{\"name\":\"d\"},\"spec\":{\"version\":\"v8.5.0\","
                        "\"pd\":{\"replicas\":1},\"tikv\":{\"replicas\":3},\"tidb\":{\"replicas\":1}}}",
                        &tc, &error));
    REQUIRE(tidbcluster_apply_defaults(&tc));
    /* Idempotent: a second pass changes nothing and leaks nothing. */
    REQUIRE(tidbcluster_apply_defaults(&tc));
    const struct tidbcluster_spec *spec = &tc.spec;
    CHECK_STR(spec->image_pull_policy, "IfNotPresent");
    CHECK_STR(spec->pv_reclaim_policy, "Retain");
    CHECK_STR(spec->helper_image, "busybox:1.26.2");
    CHECK_INT(spec->enable_pv_reclaim, TC_FALSE);
    CHECK_INT(spec->tls_cluster_enabled, TC_FALSE);
    CHECK(spec->timezone == NULL);
    CHECK_STR(tidbcluster_timezone(&tc), "UTC");
    CHECK_STR(tidbcluster_config_update_strategy(&tc, TC_TIKV), "InPlace");
    CHECK_STR(tidbcluster_instance(&tc), "d");
    static const char *bases[] = { "pingcap/pd", "pingcap/tikv", "pingcap/tidb" };
    static const char *images[] = { "pingcap/pd:v8.5.0", "pingcap/tikv:v8.5.0", "pingcap/tidb:v8.5.0" };
    for (int i = 0; i < TC_COMPONENT_COUNT; i++) {
        const struct component_spec *c = &spec->component[i];
        CHECK_STR(c->base_image, bases[i]);
        CHECK_STR(c->image_resolved, images[i]);
        CHECK_INT(c->max_failover_count, 3);
        CHECK(c->config == NULL);
    }
    CHECK_INT(spec->component[TC_PD].spare_vol_replace_replicas, 1);
    CHECK_INT(spec->component[TC_TIKV].spare_vol_replace_replicas, 1);
    CHECK_INT(spec->component[TC_PD].start_timeout, 30);
    CHECK_STR(spec->component[TC_PD].service.type, "ClusterIP");
    CHECK_STR(spec->component[TC_PD].service.port_name, "client");
    CHECK(!spec->component[TC_PD].service.present);
    CHECK_STR(spec->component[TC_TIKV].evict_leader_timeout, "1500m");
    CHECK_STR(spec->component[TC_TIKV].wait_leader_transfer_back_timeout, "400s");
    CHECK_INT(spec->component[TC_TIKV].scale_in_parallelism, 1);
    CHECK_INT(spec->component[TC_TIKV].scale_out_parallelism, 1);
    const struct component_spec *tidb = &spec->component[TC_TIDB];
    CHECK_STR(tidb->service.type, "NodePort");
    CHECK_INT(tidb->service.port, 4000);
    CHECK_STR(tidb->service.port_name, "mysql-client");
    CHECK_INT(tidb->service.expose_status, TC_TRUE);
    CHECK_INT(tidb->separate_slow_log, TC_TRUE);
    CHECK_INT(tidb->binlog_enabled, TC_FALSE);
    CHECK_INT(tidb->scale_in_parallelism, 1);
    CHECK(!tidb->service.present);
    tidbcluster_free(&tc);
}

static void defaults_resolve_images(void)
{
    static const struct {
        const char *spec;
        const char *image; /* of tikv; NULL: none */
    } rows[] = {
        /* cluster version: baseImage defaulted */
        { "\"version\":\"v7.5.0\",\"tikv\":{\"replicas\":1}", "pingcap/tikv:v7.5.0" },
        /* component version wins over the cluster's */
        { "\"version\":\"v7.5.0\",\"tikv\":{\"replicas\":1,\"version\":\"v7.5.1\"}", "pingcap/tikv:v7.5.1" },
        /* a component version alone also defaults baseImage */
        { "\"tikv\":{\"replicas\":1,\"version\":\"v6.1.0\"}", "pingcap/tikv:v6.1.0" },
        /* no version at all: baseImage alone, no tag */
        { "\"tikv\":{\"replicas\":1,\"baseImage\":\"my/tikv\"}", "my/tikv" },
        /* legacy full image when there is neither version nor baseImage */
        { "\"tikv\":{\"replicas\":1,\"image\":\"pingcap/tikv:v3.0.0\"}", "pingcap/tikv:v3.0.0" },
        /* baseImage wins over the legacy image (PingCAP) */
        { "\"version\":\"v8.1.0\",\"tikv\":{\"replicas\":1,\"image\":\"old/tikv:v1\"}", "pingcap/tikv:v8.1.0" },
        /* nothing to go on */
        { "\"tikv\":{\"replicas\":1}", NULL },
        /* an empty component version still counts as written, and falls back to the cluster's */
        { "\"version\":\"v8.0.0\",\"tikv\":{\"replicas\":1,\"version\":\"\"}", "pingcap/tikv:v8.0.0" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"x\"},\"spec\":{%s}}", rows[i].spec);
        struct tidbcluster tc;
        char *error = NULL;
        if (!decode_text(json, &tc, &error)) {
            test_fail(__FILE__, __LINE__, "row %zu: %s", i, error);
            free(error);
            continue;
        }
        CHECK(tidbcluster_apply_defaults(&tc));
        const char *image = tc.spec.component[TC_TIKV].image_resolved;
        if (rows[i].image ? !image || strcmp(image, rows[i].image) != 0 : image != NULL)
            test_fail(__FILE__, __LINE__, "row %zu: image %s, expected %s", i, image ? image : "(null)",
                      rows[i].image ? rows[i].image : "(null)");
        tidbcluster_free(&tc);
    }
}

static void defaults_tidb_max_backups(void)
{
    static const struct {
        const char *config; /* JSON value of spec.tidb.config */
        const char *expected;
    } rows[] = {
        { "\"\"", "[log.file]\nmax-backups = 3\n" },
        { "\"[log]\\nlevel = \\\"warn\\\"\"", "[log]\nlevel = \"warn\"\n[log.file]\nmax-backups = 3\n" },
        { "\"log.file.max-backups = 7\\n\"", "log.file.max-backups = 7\n" },
        /* the table exists already: appending would be invalid, so the text stays */
        { "\"[log.file]\\nmax-days = 1\\n\"", "[log.file]\nmax-days = 1\n" },
        { "{\"log\":{\"level\":\"warn\"}}", "[log]\nlevel = \"warn\"\n\n[log.file]\nmax-backups = 3\n" },
        { "{\"log\":{\"file\":{\"max-backups\":1}}}", "[log]\n\n[log.file]\nmax-backups = 1\n" },
        { "{\"log\":\"flat\"}", "log = \"flat\"\n" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char json[512];
        snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"tidb\":{\"replicas\":1,\"config\":%s}}}",
                 rows[i].config);
        struct tidbcluster tc;
        char *error = NULL;
        if (!decode_text(json, &tc, &error)) {
            test_fail(__FILE__, __LINE__, "row %zu: %s", i, error);
            free(error);
            continue;
        }
        CHECK(tidbcluster_apply_defaults(&tc));
        const char *config = tc.spec.component[TC_TIDB].config;
        if (!config || strcmp(config, rows[i].expected) != 0)
            test_fail(__FILE__, __LINE__, "row %zu: config \"%s\"", i, config ? config : "(null)");
        tidbcluster_free(&tc);
    }
    /* Without a config there is nothing to default. */
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(decode_text("{\"spec\":{\"tidb\":{\"replicas\":1}}}", &tc, &error));
    CHECK(tidbcluster_apply_defaults(&tc));
    CHECK(tc.spec.component[TC_TIDB].config == NULL);
    tidbcluster_free(&tc);
}

/* ---- type errors ---- */

static const char *const base_object =
    "{\"metadata\":{\"name\":\"t\"},\"spec\":{\"version\":\"v8.5.0\",\"pd\":{\"replicas\":3,"
    "\"requests\":{\"storage\":\"1Gi\"}},\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tidb\":{\"replicas\":2}}}";

/* Sets the value at a dotted path (objects created on the way). */
static void set_path(cJSON *root, const char *path, cJSON *value)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    cJSON *node = root;
    char *save = NULL;
    char *part = strtok_r(copy, ".", &save);
    while (part) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next) {
            if (cJSON_GetObjectItem(node, part))
                cJSON_ReplaceItemInObject(node, part, value);
            else
                cJSON_AddItemToObject(node, part, value);
            return;
        }
        cJSON *child = cJSON_GetObjectItem(node, part);
        if (!child)
            child = cJSON_AddObjectToObject(node, part);
        node = child;
        part = next;
    }
}

static void decode_reports_type_errors(void)
{
    static const struct {
        const char *path;
        const char *value; /* JSON */
        const char *message;
    } rows[] = {
        { "spec.tikv.replicas", "\"3\"", "spec.tikv.replicas: expected an integer, got string" },
        { "spec.pd.replicas", "1.5", "spec.pd.replicas: expected an integer, got 1.5" },
        { "spec.tidb.replicas", "3000000000", "spec.tidb.replicas: integer 3000000000 out of range" },
        { "spec.tidb.replicas", "true", "spec.tidb.replicas: expected an integer, got boolean" },
        { "spec.version", "8", "spec.version: expected a string, got number" },
        { "spec.timezone", "{}", "spec.timezone: expected a string, got object" },
        { "spec.paused", "\"yes\"", "spec.paused: expected a boolean, got string" },
        { "spec.enableDynamicConfiguration", "1", "spec.enableDynamicConfiguration: expected a boolean, got number" },
        { "spec.tlsCluster", "true", "spec.tlsCluster: expected an object, got boolean" },
        { "spec.tlsCluster.enabled", "\"true\"", "spec.tlsCluster.enabled: expected a boolean, got string" },
        { "spec.helper.image", "[]", "spec.helper.image: expected a string, got array" },
        { "spec.nodeSelector", "[]", "spec.nodeSelector: expected an object, got array" },
        { "spec.nodeSelector", "{\"disk\":1}", "spec.nodeSelector.disk: expected a string, got number" },
        { "spec.labels", "{\"a\":\"b\",\"c\":{}}", "spec.labels.c: expected a string, got object" },
        { "spec.affinity", "\"any\"", "spec.affinity: expected an object, got string" },
        { "spec.tolerations", "{}", "spec.tolerations: expected an array, got object" },
        { "spec.tolerations", "[{}, 3]", "spec.tolerations[1]: expected an object, got number" },
        { "spec.pdAddresses", "[\"http://a:2379\", false]", "spec.pdAddresses[1]: expected a string, got boolean" },
        { "spec.pd", "[]", "spec.pd: expected an object, got array" },
        { "spec.pd.requests", "\"1Gi\"", "spec.pd.requests: expected an object, got string" },
        { "spec.pd.requests.storage", "true", "spec.pd.requests.storage: expected a string or a number, got boolean" },
        { "spec.tikv.limits.memory", "{}", "spec.tikv.limits.memory: expected a string or a number, got object" },
        { "spec.tikv.config", "42", "spec.tikv.config: expected a string (TOML) or an object, got number" },
        { "spec.tikv.config", "{\"log\":{\"targets\":[\"a\",null]}}", "spec.tikv.config.log.targets[1]: null has no TOML form" },
        { "spec.tikv.maxFailoverCount", "\"3\"", "spec.tikv.maxFailoverCount: expected an integer, got string" },
        { "spec.tikv.storeLabels", "\"zone\"", "spec.tikv.storeLabels: expected an array, got string" },
        { "spec.tikv.scalePolicy.scaleInParallelism", "[]", "spec.tikv.scalePolicy.scaleInParallelism: expected an integer, got array" },
        { "spec.tidb.service", "\"NodePort\"", "spec.tidb.service: expected an object, got string" },
        { "spec.tidb.service.port", "\"4000\"", "spec.tidb.service.port: expected an integer, got string" },
        { "spec.tidb.service.exposeStatus", "0", "spec.tidb.service.exposeStatus: expected a boolean, got number" },
        { "spec.tidb.service.annotations", "{\"x\":null,\"y\":[]}", "spec.tidb.service.annotations.x: expected a string, got null" },
        { "spec.tidb.plugins", "[1]", "spec.tidb.plugins[0]: expected a string, got number" },
        { "spec.pd.terminationGracePeriodSeconds", "1e30", "spec.pd.terminationGracePeriodSeconds: integer 1000000000000000019884624838656 out of range" },
        { "metadata.name", "7", "metadata.name: expected a string, got number" },
        { "metadata.generation", "\"1\"", "metadata.generation: expected an integer, got string" },
        { "metadata.labels", "{\"app\":false}", "metadata.labels.app: expected a string, got boolean" },
        { "metadata", "\"m\"", "metadata: expected an object, got string" },
        { "spec", "[]", "spec: expected an object, got array" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *object = cJSON_Parse(base_object);
        cJSON *value = cJSON_Parse(rows[i].value);
        REQUIRE(object && value);
        set_path(object, rows[i].path, value);
        struct tidbcluster tc;
        char *error = NULL;
        bool ok = tidbcluster_decode(object, &tc, &error);
        cJSON_Delete(object);
        if (ok) {
            test_fail(__FILE__, __LINE__, "row %zu (%s) decoded", i, rows[i].path);
            tidbcluster_free(&tc);
            continue;
        }
        if (!error || strcmp(error, rows[i].message) != 0)
            test_fail(__FILE__, __LINE__, "row %zu: \"%s\", expected \"%s\"", i, error ? error : "(null)",
                      rows[i].message);
        free(error);
        tidbcluster_free(&tc); /* safe on a failed decode */
    }
    /* Not an object at all. */
    cJSON *array = cJSON_CreateArray();
    struct tidbcluster tc;
    char *error = NULL;
    CHECK(!tidbcluster_decode(array, &tc, &error));
    CHECK_STR(error, "expected an object, got array");
    free(error);
    cJSON_Delete(array);
    /* null means absent. */
    CHECK(decode_text("{\"metadata\":null,\"spec\":{\"pd\":{\"replicas\":null,\"config\":null}}}", &tc, &error));
    CHECK(tc.spec.component[TC_PD].present && !tc.spec.component[TC_PD].replicas_set);
    CHECK(tc.spec.component[TC_PD].config == NULL);
    tidbcluster_free(&tc);
}

static void decode_drops_malformed_status(void)
{
    struct tidbcluster tc;
    char *error = NULL;
    REQUIRE(decode_text("{\"metadata\":{\"name\":\"s\"},\"spec\":{},\"status\":{\"pd\":{\"members\":[]}}}", &tc, &error));
    CHECK_INT(tc.status.pd.members.count, 0);
    tidbcluster_free(&tc);
    struct tidbcluster_status status;
    cJSON *bad = cJSON_Parse("{\"pd\":{\"members\":{\"a\":{\"health\":\"yes\"}}}}");
    CHECK(!tidbcluster_status_decode(bad, &status, &error));
    CHECK_STR(error, "status.pd.members.a.health: expected a boolean, got string");
    free(error);
    cJSON_Delete(bad);
}

/* ---- never crash: random mutations of a valid object ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void collect(cJSON *node, cJSON **nodes, size_t *count, size_t capacity)
{
    for (cJSON *child = node->child; child; child = child->next) {
        if (*count < capacity)
            nodes[(*count)++] = child;
        collect(child, nodes, count, capacity);
    }
}

/* cJSON_ReplaceItemViaPointer needs the real parent of the item. */
static cJSON *find_parent(cJSON *node, const cJSON *item)
{
    for (cJSON *child = node->child; child; child = child->next) {
        if (child == item)
            return node;
        cJSON *found = find_parent(child, item);
        if (found)
            return found;
    }
    return NULL;
}

static cJSON *random_value(void)
{
    switch (rng() % 12) {
    case 0: return cJSON_CreateString("x");
    case 1: return cJSON_CreateString("");
    case 2: return cJSON_CreateNumber(-1);
    case 3: return cJSON_CreateNumber(1.5);
    case 4: return cJSON_CreateNumber(1e300);
    case 5: return cJSON_CreateTrue();
    case 6: return cJSON_CreateNull();
    case 7: return cJSON_CreateObject();
    case 8: return cJSON_CreateArray();
    case 9: return cJSON_Parse("[null,{\"a\":[1,\"b\",null]},-0.0]");
    case 10: return cJSON_Parse("{\"\":{\"\":null},\"a.b\":\"\\u0001\"}");
    default: return cJSON_CreateString("1Gi\nx = [");
    }
}

static void decode_survives_mutations(void)
{
    static const char *const seeds[] = { full_example, base_object };
    size_t decoded = 0, rejected = 0;
    for (int round = 0; round < 3000; round++) {
        cJSON *object = cJSON_Parse(seeds[round % 2]);
        REQUIRE(object);
        cJSON *nodes[512];
        size_t count = 0;
        collect(object, nodes, &count, 512);
        int mutations = 1 + (int)(rng() % 3);
        for (int m = 0; m < mutations && count > 0; m++) {
            cJSON *victim = nodes[rng() % count];
            cJSON *replacement = random_value();
            if (!replacement)
                continue;
            if (victim->string) /* keep the member's name, as a parsed object would */
                replacement->string = strdup(victim->string);
            cJSON *parent = find_parent(object, victim);
            if (!parent || !cJSON_ReplaceItemViaPointer(parent, victim, replacement))
                cJSON_Delete(replacement);
            count = 0;
            collect(object, nodes, &count, 512); /* the tree changed */
        }
        struct tidbcluster tc;
        char *error = NULL;
        if (tidbcluster_decode(object, &tc, &error)) {
            CHECK(error == NULL);
            decoded++;
            CHECK(tidbcluster_apply_defaults(&tc));
            struct tc_problems problems = { 0 };
            tidbcluster_validate(&tc, round % 2 ? TC_VALIDATE_CREATE : TC_VALIDATE_UPDATE, &problems);
            char *summary = tidbcluster_problems_summary(&problems, TC_PROBLEM_ERROR);
            CHECK(summary != NULL);
            free(summary);
            tidbcluster_problems_free(&problems);
            cJSON *status = tidbcluster_status_encode(&tc.status);
            CHECK(status != NULL);
            cJSON_Delete(status);
        } else {
            CHECK(error != NULL && *error);
            rejected++;
        }
        free(error);
        tidbcluster_free(&tc);
        cJSON_Delete(object);
    }
    CHECK(decoded > 100);
    CHECK(rejected > 100);
}

/* ---- status ---- */

static void status_round_trip(void)
{
    /* Canonical form: fixed key order, map keys sorted. */
    const char *canonical =
        "{\"clusterID\":\"6999\",\"observedGeneration\":3,"
        "\"pd\":{\"synced\":true,\"phase\":\"Normal\",\"image\":\"pingcap/pd:v8.5.0\",\"replicas\":3,\"readyReplicas\":3,"
        "\"members\":{\"basic-pd-0\":{\"name\":\"basic-pd-0\",\"id\":\"1\",\"clientURL\":\"http://basic-pd-0.basic-pd-peer.ns.svc:2379\",\"health\":true,\"lastTransitionTime\":\"2024-01-01T00:00:00Z\"},"
        "\"basic-pd-1\":{\"name\":\"basic-pd-1\",\"id\":\"2\",\"health\":false}},"
        "\"leader\":{\"name\":\"basic-pd-0\",\"id\":\"1\",\"health\":true},"
        "\"failureMembers\":{\"basic-pd-1\":{\"podName\":\"basic-pd-1\",\"memberID\":\"2\",\"pvcUIDSet\":{\"u\":{}},\"memberDeleted\":false,\"hostDown\":true,\"createdAt\":\"2024-01-01T00:00:01Z\"}}},"
        "\"tikv\":{\"synced\":true,\"phase\":\"Upgrade\",\"image\":\"pingcap/tikv:v8.5.0\",\"replicas\":3,\"readyReplicas\":2,\"bootStrapped\":true,"
        "\"stores\":{\"1\":{\"id\":\"1\",\"podName\":\"basic-tikv-0\",\"ip\":\"basic-tikv-0.basic-tikv-peer.ns.svc\",\"leaderCount\":10,\"state\":\"Up\",\"lastTransitionTime\":\"t\"},"
        "\"4\":{\"id\":\"4\",\"podName\":\"basic-tikv-1\",\"leaderCount\":0,\"state\":\"Offline\"}},"
        "\"failureStores\":{\"4\":{\"podName\":\"basic-tikv-1\",\"storeID\":\"4\",\"storeDeleted\":true,\"hostDown\":false}}},"
        "\"tidb\":{\"phase\":\"Normal\",\"replicas\":2,\"readyReplicas\":2,"
        "\"members\":{\"basic-tidb-0\":{\"name\":\"basic-tidb-0\",\"health\":true,\"node\":\"n1\"}}},"
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"t\",\"reason\":\"TiKVStoreNotUp\",\"message\":\"TiKV store(s) are not up\"}]}";
    cJSON *input = cJSON_Parse(canonical);
    REQUIRE(input);
    struct tidbcluster_status status;
    char *error = NULL;
    REQUIRE(tidbcluster_status_decode(input, &status, &error));
    cJSON_Delete(input);
    CHECK_INT(status.pd.members.count, 2);
    CHECK(status.pd.has_leader);
    CHECK_STR(status.pd.leader.name, "basic-pd-0");
    CHECK_INT(status.tikv.stores.count, 2);
    CHECK_INT(status.tikv.stores.items[0].leader_count, 10);
    CHECK_STR(status.conditions.items[0].reason, "TiKVStoreNotUp");
    cJSON *output = tidbcluster_status_encode(&status);
    REQUIRE(output);
    char *text = cJSON_PrintUnformatted(output);
    CHECK_STR(text, canonical);
    free(text);
    cJSON_Delete(output);
    tidbcluster_status_free(&status);

    /* Unsorted input comes out sorted; keys fill missing names. */
    input = cJSON_Parse("{\"tidb\":{\"members\":{\"b\":{\"health\":true},\"a\":{\"health\":false}}}}");
    REQUIRE(tidbcluster_status_decode(input, &status, &error));
    cJSON_Delete(input);
    CHECK_STR(status.tidb.members.items[0].name, "a");
    output = tidbcluster_status_encode(&status);
    text = cJSON_PrintUnformatted(output);
    CHECK(strstr(text, "\"members\":{\"a\":{\"name\":\"a\",\"health\":false},\"b\":{\"name\":\"b\",\"health\":true}}") != NULL);
    free(text);
    cJSON_Delete(output);
    tidbcluster_status_free(&status);
}

static void status_built_by_hand(void)
{
    struct tidbcluster_status status;
    memset(&status, 0, sizeof status);
    struct tc_tikv_store *second = tidbcluster_list_add(&status.tikv.stores.items, &status.tikv.stores.count,
                                                        sizeof *status.tikv.stores.items);
    REQUIRE(second);
    second->id = strdup("9");
    second->state = strdup("Up");
    struct tc_tikv_store *first = tidbcluster_list_add(&status.tikv.stores.items, &status.tikv.stores.count,
                                                       sizeof *status.tikv.stores.items);
    REQUIRE(first);
    first->id = strdup("10");
    status.pd.ready_replicas = 3;
    status.pd.image = strdup("pingcap/pd:v8.5.0");
    cJSON *output = tidbcluster_status_encode(&status);
    char *text = cJSON_PrintUnformatted(output);
    /* Sorted by key as strings ("10" < "9"), the caller's order untouched. */
    CHECK(strstr(text, "\"stores\":{\"10\":{\"id\":\"10\",\"leaderCount\":0},\"9\":{\"id\":\"9\",\"leaderCount\":0,\"state\":\"Up\"}}") != NULL);
    CHECK_STR(status.tikv.stores.items[0].id, "9");
    /* What the printer columns read. */
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(output, "pd"), "readyReplicas")->valueint == 3);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(output, "pd"), "image")->valuestring, "pingcap/pd:v8.5.0");
    free(text);
    cJSON_Delete(output);
    tidbcluster_status_free(&status);
}

/* ---- the CRD ---- */

static const cJSON *dig(const cJSON *node, const char *path)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); node && part; part = strtok_r(NULL, ".", &save)) {
        char *end;
        long index = strtol(part, &end, 10);
        node = *end == '\0' && cJSON_IsArray(node) ? cJSON_GetArrayItem(node, (int)index)
                                                   : cJSON_GetObjectItemCaseSensitive(node, part);
    }
    return node;
}

static const char *dig_string(const cJSON *node, const char *path)
{
    const cJSON *value = dig(node, path);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

static void crd_manifest_is_complete(void)
{
    cJSON *crd = e2e_repo_yaml_first("manifests/crd/pingcap.com_tidbclusters.yaml");
    REQUIRE(crd);
    CHECK_STR(dig_string(crd, "apiVersion"), "apiextensions.k8s.io/v1");
    CHECK_STR(dig_string(crd, "kind"), "CustomResourceDefinition");
    CHECK_STR(dig_string(crd, "metadata.name"), "tidbclusters.pingcap.com");
    CHECK_STR(dig_string(crd, "spec.group"), TIDBCLUSTER_GROUP);
    CHECK_STR(dig_string(crd, "spec.scope"), "Namespaced");
    CHECK_STR(dig_string(crd, "spec.names.kind"), TIDBCLUSTER_KIND);
    CHECK_STR(dig_string(crd, "spec.names.listKind"), "TidbClusterList");
    CHECK_STR(dig_string(crd, "spec.names.plural"), TIDBCLUSTER_PLURAL);
    CHECK_STR(dig_string(crd, "spec.names.singular"), "tidbcluster");
    CHECK_STR(dig_string(crd, "spec.names.shortNames.0"), "tc");
    CHECK_INT(cJSON_GetArraySize(dig(crd, "spec.versions")), 1);
    CHECK_STR(dig_string(crd, "spec.versions.0.name"), TIDBCLUSTER_VERSION);
    CHECK(cJSON_IsTrue(dig(crd, "spec.versions.0.served")));
    CHECK(cJSON_IsTrue(dig(crd, "spec.versions.0.storage")));
    CHECK(cJSON_IsObject(dig(crd, "spec.versions.0.subresources.status")));
    CHECK(dig(crd, "spec.versions.0.subresources.scale") == NULL);

    static const struct { const char *name, *type, *path; } columns[] = {
        { "Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status" },
        { "PD", "string", ".status.pd.image" },
        { "Storage", "string", ".spec.pd.requests.storage" },
        { "Ready", "integer", ".status.pd.readyReplicas" },
        { "Desire", "integer", ".spec.pd.replicas" },
        { "TiKV", "string", ".status.tikv.image" },
        { "Storage", "string", ".spec.tikv.requests.storage" },
        { "Ready", "integer", ".status.tikv.readyReplicas" },
        { "Desire", "integer", ".spec.tikv.replicas" },
        { "TiDB", "string", ".status.tidb.image" },
        { "Ready", "integer", ".status.tidb.readyReplicas" },
        { "Desire", "integer", ".spec.tidb.replicas" },
        { "Status", "string", ".status.conditions[?(@.type==\"Ready\")].message" },
        { "Age", "date", ".metadata.creationTimestamp" },
    };
    const cJSON *printer = dig(crd, "spec.versions.0.additionalPrinterColumns");
    CHECK_INT(cJSON_GetArraySize(printer), sizeof columns / sizeof columns[0]);
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        const cJSON *column = cJSON_GetArrayItem(printer, (int)i);
        CHECK_STR(dig_string(column, "name"), columns[i].name);
        CHECK_STR(dig_string(column, "type"), columns[i].type);
        CHECK_STR(dig_string(column, "jsonPath"), columns[i].path);
    }
    CHECK_INT(dig(printer, "12.priority")->valueint, 1);

    const cJSON *schema = dig(crd, "spec.versions.0.schema.openAPIV3Schema");
    REQUIRE(schema);
    CHECK_STR(dig_string(schema, "type"), "object");
    static const struct { const char *path, *type; } types[] = {
        { "spec", "object" },
        { "spec.properties.version", "string" },
        { "spec.properties.paused", "boolean" },
        { "spec.properties.pvReclaimPolicy", "string" },
        { "spec.properties.tolerations", "array" },
        { "spec.properties.nodeSelector.additionalProperties", "string" },
        { "spec.properties.pd.properties.replicas", "integer" },
        { "spec.properties.tikv.properties.replicas", "integer" },
        { "spec.properties.tidb.properties.replicas", "integer" },
        { "spec.properties.tikv.properties.maxFailoverCount", "integer" },
        { "spec.properties.tikv.properties.evictLeaderTimeout", "string" },
        { "spec.properties.tikv.properties.storeLabels.items", "string" },
        { "spec.properties.tidb.properties.service.properties.type", "string" },
        { "spec.properties.tidb.properties.service.properties.mysqlNodePort", "integer" },
        { "spec.properties.pd.properties.terminationGracePeriodSeconds", "integer" },
        { "status.properties.observedGeneration", "integer" },
        { "status.properties.pd.properties.readyReplicas", "integer" },
        { "status.properties.pd.properties.members.additionalProperties.properties.health", "boolean" },
        { "status.properties.tikv.properties.stores.additionalProperties.properties.leaderCount", "integer" },
        { "status.properties.conditions.items.properties.type", "string" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "properties.%s.type", types[i].path);
        const char *type = dig_string(schema, path);
        if (!type || strcmp(type, types[i].type) != 0)
            test_fail(__FILE__, __LINE__, "%s: type %s, expected %s", types[i].path, type ? type : "(none)",
                      types[i].type);
    }
    /* Quantities are int-or-string; config is free-form; unknown fields kept. */
    CHECK(cJSON_IsTrue(dig(schema, "properties.spec.properties.pd.properties.requests.additionalProperties.x-kubernetes-int-or-string")));
    CHECK(cJSON_IsTrue(dig(schema, "properties.spec.properties.tikv.properties.config.x-kubernetes-preserve-unknown-fields")));
    CHECK(dig(schema, "properties.spec.properties.tikv.properties.config.type") == NULL);
    CHECK(cJSON_IsTrue(dig(schema, "properties.spec.x-kubernetes-preserve-unknown-fields")));
    CHECK(cJSON_IsTrue(dig(schema, "properties.spec.properties.tikv.x-kubernetes-preserve-unknown-fields")));
    CHECK_STR(dig_string(schema, "properties.spec.properties.tikv.required.0"), "replicas");
    CHECK_STR(dig_string(schema, "required.1"), "spec");
    cJSON_Delete(crd);
}

static void parses_go_durations(void)
{
    static const struct { const char *text; int64_t ms; bool ok; } rows[] = {
        { "1500m", 90000000, true }, { "400s", 400000, true }, { "1h30m", 5400000, true },
        { "250ms", 250, true }, { "1.5s", 1500, true }, { "0", 0, true }, { "1m", 60000, true },
        { "2h45m30.5s", 9930500, true }, { "100us", 0, true }, { "+5s", 5000, true },
        { "", 0, false }, { "5", 0, false }, { "-5s", 0, false }, { "5 s", 0, false }, { "1d", 0, false },
        { "s", 0, false }, { ".s", 0, false }, { "99999999999999999999h", 0, false }, { "3000000h", 0, false },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t ms = -1;
        bool ok = tidbcluster_parse_duration(rows[i].text, &ms);
        if (ok != rows[i].ok || (ok && ms != rows[i].ms))
            test_fail(__FILE__, __LINE__, "\"%s\": ok=%d ms=%lld", rows[i].text, ok, (long long)ms);
    }
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(decode_basic_example),
        TEST_CASE(decode_full_example),
        TEST_CASE(defaults_match_pingcap),
        TEST_CASE(defaults_resolve_images),
        TEST_CASE(defaults_tidb_max_backups),
        TEST_CASE(decode_reports_type_errors),
        TEST_CASE(decode_drops_malformed_status),
        TEST_CASE(decode_survives_mutations),
        TEST_CASE(status_round_trip),
        TEST_CASE(status_built_by_hand),
        TEST_CASE(crd_manifest_is_complete),
        TEST_CASE(parses_go_durations),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
