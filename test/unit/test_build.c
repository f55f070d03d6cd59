#include "reconcilers/build/build.h"
#include "test/support/test.h"

#include <stdio.h>
#include <stdlib.h>

/* A cluster shaped like PingCAP's examples/basic (reference §1.8), with a
 * few more resources so the pod's resources have something to show. */
static const char *const basic_json =
    "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
    "\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"uid-1\"},"
    "\"spec\":{\"version\":\"v8.5.0\",\"timezone\":\"UTC\",\"pvReclaimPolicy\":\"Retain\","
    "\"configUpdateStrategy\":\"RollingUpdate\",\"discovery\":{},"
    "\"pd\":{\"baseImage\":\"pingcap/pd\",\"replicas\":3,\"maxFailoverCount\":0,"
    "\"requests\":{\"storage\":\"1Gi\"},\"config\":{}},"
    "\"tikv\":{\"baseImage\":\"pingcap/tikv\",\"replicas\":3,\"maxFailoverCount\":0,\"evictLeaderTimeout\":\"1m\","
    "\"requests\":{\"cpu\":\"1\",\"memory\":\"2Gi\",\"storage\":\"10Gi\"},\"limits\":{\"memory\":\"4Gi\",\"storage\":\"10Gi\"},"
    "\"config\":{\"storage\":{\"reserve-space\":\"0MB\"},\"rocksdb\":{\"max-open-files\":256}}},"
    "\"tidb\":{\"baseImage\":\"pingcap/tidb\",\"replicas\":2,\"maxFailoverCount\":0,\"config\":{}}}}";

/* ---- helpers ---- */

/* The object at a dotted path ("spec.containers.0.env"); numbers index arrays. */
static cJSON *at(const cJSON *root, const char *path)
{
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%s", path);
    const cJSON *node = root;
    for (char *save = NULL, *part = strtok_r(buffer, ".", &save); part && node; part = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(node) && part[0] >= '0' && part[0] <= '9')
            node = cJSON_GetArrayItem(node, atoi(part));
        else
            node = cJSON_GetObjectItemCaseSensitive(node, part);
    }
    return (cJSON *)node;
}

/* Key lookup for keys with dots ("app.kubernetes.io/name"). */
static const char *string_in(const cJSON *object, const char *key)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

/* Sets a dotted path in a JSON tree (objects made on the way), taking `value`. */
static void set_path(cJSON *root, const char *path, cJSON *value)
{
    char buffer[256];
    snprintf(buffer, sizeof buffer, "%s", path);
    cJSON *node = root;
    char *save = NULL, *part = strtok_r(buffer, ".", &save);
    for (char *next; (next = strtok_r(NULL, ".", &save)); part = next) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, part);
        if (!child)
            child = cJSON_AddObjectToObject(node, part);
        node = child;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(node, part);
    cJSON_AddItemToObject(node, part, value);
}

struct edit {
    const char *path;
    const char *value; /* JSON text; NULL removes the path's last key */
};

/* Decodes the basic cluster with edits applied, and applies defaults. */
static bool load(struct tidbcluster *cluster, const struct edit *edits, size_t count)
{
    cJSON *root = cJSON_Parse(basic_json);
    if (!root)
        return false;
    for (size_t i = 0; i < count; i++) {
        if (edits[i].value) {
            cJSON *value = cJSON_Parse(edits[i].value);
            if (!value) { /* a typo in a test's JSON must not pass silently */
                fprintf(stderr, "bad JSON in edit of %s: %s\n", edits[i].path, edits[i].value);
                cJSON_Delete(root);
                return false;
            }
            set_path(root, edits[i].path, value);
        } else {
            char parent[256];
            snprintf(parent, sizeof parent, "%s", edits[i].path);
            char *dot = strrchr(parent, '.');
            *dot = '\0';
            cJSON_DeleteItemFromObjectCaseSensitive(at(root, parent), dot + 1);
        }
    }
    char *error = NULL;
    bool ok = tidbcluster_decode(root, cluster, &error) && tidbcluster_apply_defaults(cluster);
    if (error) {
        fprintf(stderr, "decode: %s\n", error);
        free(error);
    }
    cJSON_Delete(root);
    return ok;
}

static bool load_basic(struct tidbcluster *cluster)
{
    return load(cluster, NULL, 0);
}

/* Compact JSON of a subtree (caller frees); "(null)" for a missing one. */
static char *print(const cJSON *item)
{
    return item ? cJSON_PrintUnformatted(item) : strdup("(null)");
}

#define CHECK_JSON(item, expected) \
    do { char *text_ = print(item); CHECK_STR(text_, expected); free(text_); } while (0)

static const char *const owner_json =
    "[{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\",\"name\":\"basic\",\"uid\":\"uid-1\","
    "\"controller\":true,\"blockOwnerDeletion\":true}]";

#define SELECTOR(component)                                                                                  \
    "{\"app.kubernetes.io/component\":\"" component "\",\"app.kubernetes.io/instance\":\"basic\","          \
    "\"app.kubernetes.io/managed-by\":\"tidb-operator\",\"app.kubernetes.io/name\":\"tidb-cluster\"}"

/* The env entry named `name` in a container's env, or NULL. */
static const cJSON *env_named(const cJSON *env, const char *name)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, env) {
        if (strcmp(string_in(entry, "name"), name) == 0)
            return entry;
    }
    return NULL;
}

/* ---- cases ---- */

static void build_names_follow_pingcap(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    char name[128];
    static const struct {
        enum tc_component component;
        int ordinal;
        const char *member, *pvc, *host, *client, *peer;
    } rows[] = {
        { TC_PD, 0, "basic-pd-0", "pd-basic-pd-0", "basic-pd-0.basic-pd-peer.ns.svc", "basic-pd", "basic-pd-peer" },
        { TC_TIKV, 3, "basic-tikv-3", "tikv-basic-tikv-3", "basic-tikv-3.basic-tikv-peer.ns.svc", NULL,
          "basic-tikv-peer" },
        { TC_TIDB, 1, "basic-tidb-1", NULL, "basic-tidb-1.basic-tidb-peer.ns.svc", "basic-tidb", "basic-tidb-peer" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK(build_member_name(&cluster, rows[i].component, rows[i].ordinal, name, sizeof name));
        CHECK_STR(name, rows[i].member);
        bool has_pvc = build_pvc_name(&cluster, rows[i].component, rows[i].ordinal, name, sizeof name);
        CHECK(has_pvc == (rows[i].pvc != NULL));
        if (rows[i].pvc)
            CHECK_STR(name, rows[i].pvc);
        CHECK(build_member_host(&cluster, rows[i].component, rows[i].ordinal, name, sizeof name));
        CHECK_STR(name, rows[i].host);
        bool has_client = build_service_name(&cluster, rows[i].component, false, name, sizeof name);
        CHECK(has_client == (rows[i].client != NULL));
        if (rows[i].client)
            CHECK_STR(name, rows[i].client);
        CHECK(build_service_name(&cluster, rows[i].component, true, name, sizeof name));
        CHECK_STR(name, rows[i].peer);
    }
    CHECK(build_pd_url(&cluster, name, sizeof name));
    CHECK_STR(name, "http://basic-pd.ns:2379");
    CHECK(!build_member_name(&cluster, TC_PD, 0, name, 5)); /* does not fit */
    CHECK(!build_member_name(&cluster, TC_PD, -1, name, sizeof name));
    CHECK(build_configmap_name(&cluster, TC_TIKV, name, sizeof name));
    CHECK(strncmp(name, "basic-tikv-", 11) == 0 && strlen(name) == 19);
    char hash[17];
    CHECK(build_config_hash(&cluster, TC_TIKV, hash));
    CHECK(strlen(hash) == 16 && strncmp(name + 11, hash, 8) == 0);
    tidbcluster_free(&cluster);
}

static void build_member_host_has_cluster_domain(void)
{
    static const struct edit edits[] = { { "spec.clusterDomain", "\"cluster.local\"" } };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, 1));
    char host[128];
    CHECK(build_member_host(&cluster, TC_PD, 2, host, sizeof host));
    CHECK_STR(host, "basic-pd-2.basic-pd-peer.ns.svc.cluster.local");
    char *script = build_start_script(&cluster, TC_PD);
    REQUIRE(script);
    CHECK(strstr(script, "domain=\"${POD_NAME}.${PEER_SERVICE_NAME}.${NAMESPACE}.svc\".'cluster.local'\n"));
    free(script);
    tidbcluster_free(&cluster);
}

/* Every object: our four labels, owner reference, namespace. */
static void build_objects_carry_labels_and_owner(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    struct build_pd_start start = { .join = true, .join_urls = "http://basic-pd.ns:2379" };
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        enum tc_component component = (enum tc_component)c;
        cJSON *objects[] = {
            build_service_client(&cluster, component), build_service_peer(&cluster, component),
            build_configmap(&cluster, component), build_pvc(&cluster, component, 1),
            build_pod(&cluster, component, 1, component == TC_PD ? &start : NULL),
        };
        for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
            bool absent = (i == 0 && component == TC_TIKV) || (i == 3 && component == TC_TIDB);
            if (absent) {
                CHECK(objects[i] == NULL);
                continue;
            }
            REQUIRE(objects[i]);
            const cJSON *labels = at(objects[i], "metadata.labels");
            CHECK_STR(string_in(labels, "app.kubernetes.io/name"), "tidb-cluster");
            CHECK_STR(string_in(labels, "app.kubernetes.io/managed-by"), "tidb-operator");
            CHECK_STR(string_in(labels, "app.kubernetes.io/instance"), "basic");
            CHECK_STR(string_in(labels, "app.kubernetes.io/component"), tidbcluster_component_name(component));
            CHECK_STR(string_in(at(objects[i], "metadata"), "namespace"), "ns");
            if (i == 3) /* a PVC: no owner under the default Retain policy */
                CHECK(at(objects[i], "metadata.ownerReferences") == NULL);
            else
                CHECK_JSON(at(objects[i], "metadata.ownerReferences"), owner_json);
            cJSON_Delete(objects[i]);
        }
    }
    tidbcluster_free(&cluster);
}

static void build_peer_services_are_headless(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    static const struct {
        enum tc_component component;
        const char *spec;
    } rows[] = {
        { TC_PD, "{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"ports\":["
                 "{\"name\":\"tcp-peer-2380\",\"protocol\":\"TCP\",\"port\":2380,\"targetPort\":2380},"
                 "{\"name\":\"tcp-peer-2379\",\"protocol\":\"TCP\",\"port\":2379,\"targetPort\":2379}],"
                 "\"selector\":" SELECTOR("pd") ",\"publishNotReadyAddresses\":true}" },
        { TC_TIKV, "{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"ports\":["
                   "{\"name\":\"peer\",\"protocol\":\"TCP\",\"port\":20160,\"targetPort\":20160}],"
                   "\"selector\":" SELECTOR("tikv") ",\"publishNotReadyAddresses\":true}" },
        { TC_TIDB, "{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"ports\":["
                   "{\"name\":\"status\",\"protocol\":\"TCP\",\"port\":10080,\"targetPort\":10080}],"
                   "\"selector\":" SELECTOR("tidb") ",\"publishNotReadyAddresses\":true}" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *service = build_service_peer(&cluster, rows[i].component);
        REQUIRE(service);
        CHECK_JSON(at(service, "spec"), rows[i].spec);
        CHECK_STR(string_in(at(service, "metadata.labels"), "app.kubernetes.io/used-by"), "peer");
        cJSON_Delete(service);
    }
    cJSON *pd = build_service_peer(&cluster, TC_PD);
    CHECK_JSON(pd, "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"basic-pd-peer\","
                   "\"namespace\":\"ns\",\"labels\":{\"app.kubernetes.io/component\":\"pd\","
                   "\"app.kubernetes.io/instance\":\"basic\",\"app.kubernetes.io/managed-by\":\"tidb-operator\","
                   "\"app.kubernetes.io/name\":\"tidb-cluster\",\"app.kubernetes.io/used-by\":\"peer\"},"
                   "\"ownerReferences\":[{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
                   "\"name\":\"basic\",\"uid\":\"uid-1\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
                   "\"spec\":{\"type\":\"ClusterIP\",\"clusterIP\":\"None\",\"ports\":["
                   "{\"name\":\"tcp-peer-2380\",\"protocol\":\"TCP\",\"port\":2380,\"targetPort\":2380},"
                   "{\"name\":\"tcp-peer-2379\",\"protocol\":\"TCP\",\"port\":2379,\"targetPort\":2379}],"
                   "\"selector\":" SELECTOR("pd") ",\"publishNotReadyAddresses\":true}}");
    cJSON_Delete(pd);
    tidbcluster_free(&cluster);
}

static void build_pd_client_service(void)
{
    static const struct edit edits[] = {
        { "spec.pd.service", "{\"annotations\":{\"b\":\"2\",\"a\":\"1\"},\"labels\":{\"team\":\"db\"}}" },
    };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, 1));
    cJSON *service = build_service_client(&cluster, TC_PD);
    REQUIRE(service);
    CHECK_STR(string_in(at(service, "metadata"), "name"), "basic-pd");
    CHECK_JSON(at(service, "metadata.annotations"), "{\"a\":\"1\",\"b\":\"2\"}");
    CHECK_STR(string_in(at(service, "metadata.labels"), "team"), "db");
    CHECK_STR(string_in(at(service, "metadata.labels"), "app.kubernetes.io/used-by"), "end-user");
    CHECK_JSON(at(service, "spec"), "{\"type\":\"ClusterIP\",\"ports\":[{\"name\":\"client\",\"protocol\":\"TCP\","
                                    "\"port\":2379,\"targetPort\":2379}],\"selector\":" SELECTOR("pd") "}");
    cJSON_Delete(service);
    CHECK(build_service_client(&cluster, TC_TIKV) == NULL);
    tidbcluster_free(&cluster);
}

static void build_tidb_service_types(void)
{
    static const struct {
        const char *service; /* spec.tidb.service; NULL: absent */
        const char *spec;
    } rows[] = {
        { NULL, "{\"type\":\"NodePort\",\"ports\":["
                "{\"name\":\"mysql-client\",\"protocol\":\"TCP\",\"port\":4000,\"targetPort\":4000},"
                "{\"name\":\"status\",\"protocol\":\"TCP\",\"port\":10080,\"targetPort\":10080}],"
                "\"selector\":" SELECTOR("tidb") "}" },
        { "{\"type\":\"ClusterIP\",\"mysqlNodePort\":30001,\"externalTrafficPolicy\":\"Local\"}",
          "{\"type\":\"ClusterIP\",\"ports\":["
          "{\"name\":\"mysql-client\",\"protocol\":\"TCP\",\"port\":4000,\"targetPort\":4000},"
          "{\"name\":\"status\",\"protocol\":\"TCP\",\"port\":10080,\"targetPort\":10080}],"
          "\"selector\":" SELECTOR("tidb") "}" },
        { "{\"type\":\"NodePort\",\"mysqlNodePort\":30001,\"statusNodePort\":30002,\"externalTrafficPolicy\":\"Local\","
          "\"loadBalancerIP\":\"1.2.3.4\"}",
          "{\"type\":\"NodePort\",\"ports\":["
          "{\"name\":\"mysql-client\",\"protocol\":\"TCP\",\"port\":4000,\"targetPort\":4000,\"nodePort\":30001},"
          "{\"name\":\"status\",\"protocol\":\"TCP\",\"port\":10080,\"targetPort\":10080,\"nodePort\":30002}],"
          "\"selector\":" SELECTOR("tidb") ",\"externalTrafficPolicy\":\"Local\"}" },
        { "{\"type\":\"LoadBalancer\",\"port\":3306,\"portName\":\"mysql\",\"exposeStatus\":false,"
          "\"loadBalancerIP\":\"1.2.3.4\",\"loadBalancerSourceRanges\":[\"10.0.0.0/8\"],"
          "\"externalTrafficPolicy\":\"Cluster\",\"clusterIP\":\"10.1.1.1\","
          "\"additionalPorts\":[{\"name\":\"x\",\"port\":9000}]}",
          "{\"type\":\"LoadBalancer\",\"clusterIP\":\"10.1.1.1\",\"ports\":["
          "{\"name\":\"mysql\",\"protocol\":\"TCP\",\"port\":3306,\"targetPort\":4000},"
          "{\"name\":\"x\",\"port\":9000}],"
          "\"selector\":" SELECTOR("tidb") ",\"externalTrafficPolicy\":\"Cluster\","
          "\"loadBalancerIP\":\"1.2.3.4\",\"loadBalancerSourceRanges\":[\"10.0.0.0/8\"]}" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct edit edit = { "spec.tidb.service", rows[i].service };
        struct tidbcluster cluster;
        REQUIRE(rows[i].service ? load(&cluster, &edit, 1) : load_basic(&cluster));
        cJSON *service = build_service_client(&cluster, TC_TIDB);
        REQUIRE(service);
        CHECK_STR(string_in(at(service, "metadata"), "name"), "basic-tidb");
        CHECK_JSON(at(service, "spec"), rows[i].spec);
        cJSON_Delete(service);
        tidbcluster_free(&cluster);
    }
}

/* Data goes with the cluster only under an explicit Delete policy. */
static void build_pvc_owner_follows_reclaim_policy(void)
{
    static const struct edit edits[] = { { "spec.pvReclaimPolicy", "\"Delete\"" } };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, 1));
    cJSON *pvc = build_pvc(&cluster, TC_TIKV, 0);
    REQUIRE(pvc);
    CHECK_JSON(at(pvc, "metadata.ownerReferences"), owner_json);
    cJSON_Delete(pvc);
    tidbcluster_free(&cluster);
    REQUIRE(load_basic(&cluster));
    pvc = build_pvc(&cluster, TC_PD, 0);
    REQUIRE(pvc);
    CHECK(at(pvc, "metadata.ownerReferences") == NULL);
    cJSON_Delete(pvc);
    tidbcluster_free(&cluster);
}

static void build_pvc_shape(void)
{
    static const struct edit edits[] = { { "spec.tikv.storageClassName", "\"local-ssd\"" } };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, 1));
    cJSON *pvc = build_pvc(&cluster, TC_TIKV, 2);
    CHECK_JSON(pvc, "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{"
                    "\"name\":\"tikv-basic-tikv-2\",\"namespace\":\"ns\",\"labels\":{"
                    "\"app.kubernetes.io/component\":\"tikv\",\"app.kubernetes.io/instance\":\"basic\","
                    "\"app.kubernetes.io/managed-by\":\"tidb-operator\",\"app.kubernetes.io/name\":\"tidb-cluster\","
                    "\"tidb.pingcap.com/pod-name\":\"basic-tikv-2\"},"
                    "\"annotations\":{\"tidb.pingcap.com/pod-name\":\"basic-tikv-2\"}},"
                    "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"10Gi\"}},"
                    "\"storageClassName\":\"local-ssd\"}}");
    cJSON_Delete(pvc);
    pvc = build_pvc(&cluster, TC_PD, 0);
    CHECK_STR(string_in(at(pvc, "metadata"), "name"), "pd-basic-pd-0");
    CHECK_JSON(at(pvc, "spec"), "{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}");
    cJSON_Delete(pvc);
    CHECK(build_pvc(&cluster, TC_TIDB, 0) == NULL);
    tidbcluster_free(&cluster);
}

static void build_pd_pod_shape(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    char configmap[64];
    REQUIRE(build_configmap_name(&cluster, TC_PD, configmap, sizeof configmap));
    struct build_pd_start start = {
        .join = false,
        .initial_cluster = "basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380",
    };
    cJSON *pod = build_pod(&cluster, TC_PD, 0, &start);
    REQUIRE(pod);
    CHECK_STR(string_in(at(pod, "metadata"), "name"), "basic-pd-0");
    CHECK_STR(string_in(at(pod, "spec"), "hostname"), "basic-pd-0");
    CHECK_STR(string_in(at(pod, "spec"), "subdomain"), "basic-pd-peer");
    CHECK_INT(cJSON_GetArraySize(at(pod, "spec.containers")), 1);
    const cJSON *container = at(pod, "spec.containers.0");
    CHECK_STR(string_in(container, "name"), "pd");
    CHECK_STR(string_in(container, "image"), "pingcap/pd:v8.5.0");
    CHECK_STR(string_in(container, "imagePullPolicy"), "IfNotPresent");
    CHECK_JSON(at(container, "command"), "[\"/bin/sh\",\"/usr/local/bin/pd_start_script.sh\"]");
    CHECK_JSON(at(container, "ports"),
               "[{\"name\":\"server\",\"containerPort\":2380,\"protocol\":\"TCP\"},"
               "{\"name\":\"client\",\"containerPort\":2379,\"protocol\":\"TCP\"}]");
    CHECK_JSON(at(container, "env"),
               "[{\"name\":\"NAMESPACE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.namespace\"}}},"
               "{\"name\":\"POD_NAME\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
               "{\"name\":\"CLUSTER_NAME\",\"value\":\"basic\"},{\"name\":\"TZ\",\"value\":\"UTC\"},"
               "{\"name\":\"PEER_SERVICE_NAME\",\"value\":\"basic-pd-peer\"},"
               "{\"name\":\"SERVICE_NAME\",\"value\":\"basic-pd\"},"
               "{\"name\":\"PD_INITIAL_CLUSTER\",\"value\":\"basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380\"}]");
    CHECK_JSON(at(container, "resources"), "{}");
    CHECK_JSON(at(container, "volumeMounts"),
               "[{\"name\":\"annotations\",\"mountPath\":\"/etc/podinfo\",\"readOnly\":true},"
               "{\"name\":\"config\",\"mountPath\":\"/etc/pd\",\"readOnly\":true},"
               "{\"name\":\"startup-script\",\"mountPath\":\"/usr/local/bin\",\"readOnly\":true},"
               "{\"name\":\"pd\",\"mountPath\":\"/var/lib/pd\"}]");
    CHECK_JSON(at(container, "readinessProbe"), "{\"tcpSocket\":{\"port\":2379},\"initialDelaySeconds\":10}");
    char expected[1024];
    snprintf(expected, sizeof expected,
             "[{\"name\":\"annotations\",\"downwardAPI\":{\"items\":[{\"path\":\"annotations\","
             "\"fieldRef\":{\"fieldPath\":\"metadata.annotations\"}}]}},"
             "{\"name\":\"config\",\"configMap\":{\"name\":\"%s\",\"items\":[{\"key\":\"config-file\",\"path\":\"pd.toml\"}]}},"
             "{\"name\":\"startup-script\",\"configMap\":{\"name\":\"%s\",\"items\":[{\"key\":\"startup-script\","
             "\"path\":\"pd_start_script.sh\"}]}},"
             "{\"name\":\"pd\",\"persistentVolumeClaim\":{\"claimName\":\"pd-basic-pd-0\"}}]",
             configmap, configmap);
    CHECK_JSON(at(pod, "spec.volumes"), expected);
    char hash[17], metadata_hash[17];
    REQUIRE(build_pod_spec_hash(&cluster, TC_PD, hash));
    REQUIRE(build_pod_metadata_hash(&cluster, TC_PD, metadata_hash));
    snprintf(expected, sizeof expected,
             "{\"prometheus.io/path\":\"/metrics\",\"prometheus.io/port\":\"2379\",\"prometheus.io/scrape\":\"true\","
             "\"tidb.pingcap.com/metadata-hash\":\"%s\",\"tidb.pingcap.com/spec-hash\":\"%s\"}",
             metadata_hash, hash);
    CHECK_JSON(at(pod, "metadata.annotations"), expected);
    CHECK_JSON(at(pod, "metadata.labels"), SELECTOR("pd"));
    /* Nothing optional was set. */
    CHECK(!at(pod, "spec.nodeSelector") && !at(pod, "spec.affinity") && !at(pod, "spec.tolerations") &&
          !at(pod, "spec.schedulerName") && !at(pod, "spec.terminationGracePeriodSeconds"));
    cJSON_Delete(pod);

    /* Join: PD_JOIN instead, same spec hash annotation. */
    struct build_pd_start join = { .join = true, .join_urls = "http://basic-pd.ns:2379" };
    pod = build_pod(&cluster, TC_PD, 3, &join);
    REQUIRE(pod);
    const cJSON *env = at(pod, "spec.containers.0.env");
    CHECK_JSON(env_named(env, "PD_JOIN"), "{\"name\":\"PD_JOIN\",\"value\":\"http://basic-pd.ns:2379\"}");
    CHECK(env_named(env, "PD_INITIAL_CLUSTER") == NULL);
    CHECK_STR(string_in(at(pod, "metadata.annotations"), ANNOTATION_SPEC_HASH), hash);
    CHECK_STR(string_in(at(pod, "spec.volumes.3.persistentVolumeClaim"), "claimName"), "pd-basic-pd-3");
    cJSON_Delete(pod);

    /* A restart (no start mode): neither. */
    pod = build_pod(&cluster, TC_PD, 1, NULL);
    REQUIRE(pod);
    env = at(pod, "spec.containers.0.env");
    CHECK(env_named(env, "PD_JOIN") == NULL && env_named(env, "PD_INITIAL_CLUSTER") == NULL);
    cJSON_Delete(pod);
    tidbcluster_free(&cluster);
}

static void build_tikv_and_tidb_pods(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    cJSON *pod = build_pod(&cluster, TC_TIKV, 2, NULL);
    REQUIRE(pod);
    const cJSON *container = at(pod, "spec.containers.0");
    CHECK_STR(string_in(container, "name"), "tikv");
    CHECK_STR(string_in(at(pod, "spec"), "subdomain"), "basic-tikv-peer");
    CHECK_JSON(at(container, "ports"),
               "[{\"name\":\"server\",\"containerPort\":20160,\"protocol\":\"TCP\"},"
               "{\"name\":\"status\",\"containerPort\":20180,\"protocol\":\"TCP\"}]");
    CHECK_JSON(at(container, "resources"),
               "{\"limits\":{\"memory\":\"4Gi\"},\"requests\":{\"cpu\":\"1\",\"memory\":\"2Gi\"}}");
    const cJSON *env = at(container, "env");
    CHECK_JSON(env_named(env, "HEADLESS_SERVICE_NAME"), "{\"name\":\"HEADLESS_SERVICE_NAME\",\"value\":\"basic-tikv-peer\"}");
    CHECK_JSON(env_named(env, "CAPACITY"), "{\"name\":\"CAPACITY\",\"value\":\"10GB\"}");
    CHECK_STR(string_in(at(pod, "spec.volumes.3.persistentVolumeClaim"), "claimName"), "tikv-basic-tikv-2");
    CHECK_STR(string_in(at(container, "volumeMounts.3"), "mountPath"), "/var/lib/tikv");
    CHECK_JSON(at(container, "readinessProbe"), "{\"tcpSocket\":{\"port\":20160},\"initialDelaySeconds\":10}");
    cJSON_Delete(pod);

    pod = build_pod(&cluster, TC_TIDB, 1, NULL);
    REQUIRE(pod);
    container = at(pod, "spec.containers.0");
    CHECK_STR(string_in(container, "name"), "tidb");
    CHECK_STR(string_in(at(pod, "spec"), "hostname"), "basic-tidb-1");
    CHECK_STR(string_in(at(pod, "spec"), "subdomain"), "basic-tidb-peer");
    CHECK_JSON(at(container, "ports"),
               "[{\"name\":\"server\",\"containerPort\":4000,\"protocol\":\"TCP\"},"
               "{\"name\":\"status\",\"containerPort\":10080,\"protocol\":\"TCP\"}]");
    CHECK_JSON(env_named(at(container, "env"), "BINLOG_ENABLED"), "{\"name\":\"BINLOG_ENABLED\",\"value\":\"false\"}");
    CHECK_INT(cJSON_GetArraySize(at(pod, "spec.volumes")), 3); /* no PVC */
    CHECK_INT(cJSON_GetArraySize(at(container, "volumeMounts")), 3);
    CHECK_JSON(at(container, "readinessProbe"), "{\"tcpSocket\":{\"port\":4000},\"initialDelaySeconds\":10}");
    cJSON_Delete(pod);
    tidbcluster_free(&cluster);
}

static void build_pod_placement(void)
{
    static const struct edit edits[] = {
        { "spec.nodeSelector", "{\"zone\":\"a\",\"disk\":\"hdd\"}" },
        { "spec.tikv.nodeSelector", "{\"disk\":\"ssd\"}" },
        { "spec.affinity", "{\"podAntiAffinity\":{}}" },
        { "spec.tikv.affinity", "{\"nodeAffinity\":{}}" },
        { "spec.tolerations", "[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]" },
        { "spec.annotations", "{\"a\":\"cluster\",\"b\":\"cluster\"}" },
        { "spec.tikv.annotations", "{\"b\":\"tikv\",\"prometheus.io/port\":\"9999\"}" },
        { "spec.tikv.labels", "{\"team\":\"db\",\"app.kubernetes.io/name\":\"hijack\"}" },
        { "spec.tikv.terminationGracePeriodSeconds", "60" },
        { "spec.schedulerName", "\"tidb-scheduler\"" },
        { "spec.tikv.priorityClassName", "\"high\"" },
        { "spec.tikv.env", "[{\"name\":\"TZ\",\"value\":\"x\"},{\"name\":\"EXTRA\",\"value\":\"1\"}]" },
    };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, sizeof edits / sizeof edits[0]));
    cJSON *pod = build_pod(&cluster, TC_TIKV, 0, NULL);
    REQUIRE(pod);
    CHECK_JSON(at(pod, "spec.nodeSelector"), "{\"disk\":\"ssd\",\"zone\":\"a\"}");
    CHECK_JSON(at(pod, "spec.affinity"), "{\"nodeAffinity\":{}}");
    CHECK_JSON(at(pod, "spec.tolerations"), "[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]");
    CHECK_INT(cJSON_GetNumberValue(at(pod, "spec.terminationGracePeriodSeconds")), 60);
    CHECK_STR(string_in(at(pod, "spec"), "schedulerName"), "tidb-scheduler");
    CHECK_STR(string_in(at(pod, "spec"), "priorityClassName"), "high");
    const cJSON *annotations = at(pod, "metadata.annotations");
    CHECK_STR(string_in(annotations, "a"), "cluster");
    CHECK_STR(string_in(annotations, "b"), "tikv");
    CHECK_STR(string_in(annotations, "prometheus.io/port"), "9999");
    const cJSON *labels = at(pod, "metadata.labels");
    CHECK_STR(string_in(labels, "team"), "db");
    CHECK_STR(string_in(labels, "app.kubernetes.io/name"), "tidb-cluster");
    const cJSON *env = at(pod, "spec.containers.0.env");
    CHECK_JSON(env_named(env, "TZ"), "{\"name\":\"TZ\",\"value\":\"UTC\"}");
    CHECK_JSON(env_named(env, "EXTRA"), "{\"name\":\"EXTRA\",\"value\":\"1\"}");
    cJSON_Delete(pod);

    /* PD: the cluster's affinity, selector as is. */
    pod = build_pod(&cluster, TC_PD, 0, NULL);
    REQUIRE(pod);
    CHECK_JSON(at(pod, "spec.nodeSelector"), "{\"disk\":\"hdd\",\"zone\":\"a\"}");
    CHECK_JSON(at(pod, "spec.affinity"), "{\"podAntiAffinity\":{}}");
    CHECK(!at(pod, "spec.priorityClassName"));
    cJSON_Delete(pod);
    tidbcluster_free(&cluster);
}

static void build_start_scripts(void)
{
    static const struct edit edits[] = {
        { "spec.tidb.plugins", "[\"audit\",\"whitelist\"]" },
        { "spec.tidb.arguments", "[\"--log-level=warn\",\"it's\"]" },
        { "spec.pd.dataSubDir", "\"data\"" },
        { "spec.pd.startTimeout", "45" },
    };
    struct tidbcluster cluster;
    REQUIRE(load(&cluster, edits, sizeof edits / sizeof edits[0]));
    static const struct {
        enum tc_component component;
        const char *needles[16];
    } rows[] = {
        { TC_PD,
          { "#!/bin/sh\n", "POD_NAME=${POD_NAME:-$HOSTNAME}\n",
            "domain=\"${POD_NAME}.${PEER_SERVICE_NAME}.${NAMESPACE}.svc\"\n",
            "until nslookup \"$domain\"", "-ge 45 ]", "data_dir='/var/lib/pd/data'\n", "--name=\"$POD_NAME\"",
            "--data-dir=\"$data_dir\"", "--peer-urls=http://0.0.0.0:2380", "--advertise-peer-urls=\"http://$domain:2380\"",
            "--client-urls=http://0.0.0.0:2379", "--advertise-client-urls=\"http://$domain:2379\"",
            "--config=/etc/pd/pd.toml", "--join=\"$PD_JOIN\"", "--initial-cluster=\"$PD_INITIAL_CLUSTER\"",
            "exec /pd-server \"$@\"\n" } },
        { TC_TIKV,
          { "--pd=\"${CLUSTER_NAME}-pd:2379\"", "domain=\"${POD_NAME}.${HEADLESS_SERVICE_NAME}.${NAMESPACE}.svc\"\n",
            "--advertise-addr=\"$domain:20160\"", "--addr=0.0.0.0:20160", "--status-addr=0.0.0.0:20180",
            "data_dir='/var/lib/tikv'\n", "--capacity=\"${CAPACITY:-0}\"", "--config=/etc/tikv/tikv.toml",
            "exec /tikv-server \"$@\"\n" } },
        { TC_TIDB,
          { "--store=tikv", "--advertise-address=\"$domain\"", "--host=0.0.0.0", "-P 4000", "--status=10080",
            "--path=\"${CLUSTER_NAME}-pd:2379\"", "--config=/etc/tidb/tidb.toml",
            "--plugin-dir /plugins --plugin-load 'audit,whitelist'\n", "set -- \"$@\" '--log-level=warn'\n",
            "set -- \"$@\" 'it'\\''s'\n", "exec /tidb-server \"$@\"\n" } },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *script = build_start_script(&cluster, rows[i].component);
        REQUIRE(script);
        for (size_t n = 0; n < 16 && rows[i].needles[n]; n++) {
            if (!strstr(script, rows[i].needles[n]))
                test_fail(__FILE__, __LINE__, "%s script lacks: %s", tidbcluster_component_name(rows[i].component),
                          rows[i].needles[n]);
        }
        free(script);
    }
    tidbcluster_free(&cluster);
}

static void build_configmap_content(void)
{
    struct tidbcluster cluster;
    REQUIRE(load_basic(&cluster));
    cJSON *configmap = build_configmap(&cluster, TC_TIKV);
    REQUIRE(configmap);
    char name[64], hash[17];
    REQUIRE(build_configmap_name(&cluster, TC_TIKV, name, sizeof name));
    REQUIRE(build_config_hash(&cluster, TC_TIKV, hash));
    CHECK_STR(string_in(at(configmap, "metadata"), "name"), name);
    CHECK_STR(string_in(at(configmap, "metadata.annotations"), ANNOTATION_CONFIG_HASH), hash);
    CHECK_STR(string_in(at(configmap, "data"), "config-file"), cluster.spec.component[TC_TIKV].config);
    CHECK(strstr(string_in(at(configmap, "data"), "config-file"), "reserve-space = \"0MB\"") != NULL);
    char *script = build_start_script(&cluster, TC_TIKV);
    CHECK_STR(string_in(at(configmap, "data"), "startup-script"), script);
    free(script);
    cJSON_Delete(configmap);
    tidbcluster_free(&cluster);
}

/* Config map name and pod spec hash: what changes them and what does not. */
static void build_hashes_follow_spec(void)
{
    struct tidbcluster base;
    REQUIRE(load_basic(&base));
    char base_cm[64], base_hash[17];
    REQUIRE(build_configmap_name(&base, TC_TIKV, base_cm, sizeof base_cm));
    REQUIRE(build_pod_spec_hash(&base, TC_TIKV, base_hash));
    static const struct {
        struct edit edit;
        bool configmap_changes, hash_changes;
    } rows[] = {
        { { "spec.tikv.replicas", "5" }, false, false },
        { { "spec.pd.config", "{\"schedule\":{\"max-store-down-time\":\"1h\"}}" }, false, false },
        { { "spec.tikv.maxFailoverCount", "3" }, false, false },
        { { "spec.tikv.requests", "{\"cpu\":\"1\",\"memory\":\"2Gi\",\"storage\":\"20Gi\"}" }, false, false },
        { { "spec.tikv.storageClassName", "\"local\"" }, false, false },
        { { "spec.tikv.requests", "{\"memory\":\"2Gi\",\"cpu\":\"1\",\"storage\":\"10Gi\"}" }, false, false },
        { { "spec.tikv.config", "{\"storage\":{\"reserve-space\":\"1GB\"}}" }, true, true },
        { { "spec.version", "\"v8.5.1\"" }, false, true },
        { { "spec.tikv.baseImage", "\"example/tikv\"" }, false, true },
        { { "spec.tikv.requests", "{\"cpu\":\"2\",\"memory\":\"2Gi\",\"storage\":\"10Gi\"}" }, false, true },
        { { "spec.tikv.limits", "{\"memory\":\"8Gi\",\"storage\":\"10Gi\"}" }, false, true },
        { { "spec.tikv.nodeSelector", "{\"disk\":\"ssd\"}" }, false, true },
        { { "spec.tikv.tolerations", "[{\"key\":\"k\",\"operator\":\"Exists\"}]" }, false, true },
        /* Labels and annotations are patched onto running pods: no restart. */
        { { "spec.tikv.annotations", "{\"a\":\"b\"}" }, false, false },
        { { "spec.labels", "{\"team\":\"db\"}" }, false, false },
        { { "spec.tikv.env", "[{\"name\":\"A\",\"value\":\"b\"}]" }, false, true },
        { { "spec.timezone", "\"Asia/Shanghai\"" }, false, true },
        { { "spec.clusterDomain", "\"cluster.local\"" }, true, true },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tidbcluster cluster;
        REQUIRE(load(&cluster, &rows[i].edit, 1));
        char cm[64], hash[17];
        REQUIRE(build_configmap_name(&cluster, TC_TIKV, cm, sizeof cm));
        REQUIRE(build_pod_spec_hash(&cluster, TC_TIKV, hash));
        if ((strcmp(cm, base_cm) != 0) != rows[i].configmap_changes)
            test_fail(__FILE__, __LINE__, "%s: configmap name %s vs %s", rows[i].edit.path, cm, base_cm);
        if ((strcmp(hash, base_hash) != 0) != rows[i].hash_changes)
            test_fail(__FILE__, __LINE__, "%s: spec hash %s vs %s", rows[i].edit.path, hash, base_hash);
        tidbcluster_free(&cluster);
    }
    /* Labels and annotations move the metadata hash instead. */
    char base_metadata[17], metadata[17];
    REQUIRE(build_pod_metadata_hash(&base, TC_TIKV, base_metadata));
    struct edit labelled = { "spec.tikv.labels", "{\"team\":\"db\"}" };
    struct tidbcluster with_labels;
    REQUIRE(load(&with_labels, &labelled, 1));
    REQUIRE(build_pod_metadata_hash(&with_labels, TC_TIKV, metadata));
    CHECK(strcmp(metadata, base_metadata) != 0);
    /* A pod made under version 1 of the hash (labels and annotations
     * included) is accepted as up to date while nothing changed. */
    char accepted[BUILD_SPEC_HASH_VERSIONS][17];
    CHECK_INT(build_pod_spec_hashes_accepted(&with_labels, TC_TIKV, accepted), 2);
    CHECK_STR(accepted[0], base_hash);
    CHECK(strcmp(accepted[1], base_hash) != 0);
    tidbcluster_free(&with_labels);
    /* InPlace: one ConfigMap named without a hash, updated in place; a
     * config change restarts nothing. */
    struct edit in_place[2] = { { "spec.configUpdateStrategy", "\"InPlace\"" },
                                { "spec.tikv.config", "{\"storage\":{\"reserve-space\":\"1GB\"}}" } };
    struct tidbcluster quiet, changed;
    REQUIRE(load(&quiet, in_place, 1));
    REQUIRE(load(&changed, in_place, 2));
    char quiet_cm[64], changed_cm[64], quiet_hash[17], changed_hash[17];
    REQUIRE(build_configmap_name(&quiet, TC_TIKV, quiet_cm, sizeof quiet_cm));
    REQUIRE(build_configmap_name(&changed, TC_TIKV, changed_cm, sizeof changed_cm));
    CHECK_STR(quiet_cm, "basic-tikv");
    CHECK_STR(changed_cm, "basic-tikv");
    REQUIRE(build_pod_spec_hash(&quiet, TC_TIKV, quiet_hash));
    REQUIRE(build_pod_spec_hash(&changed, TC_TIKV, changed_hash));
    CHECK_STR(quiet_hash, changed_hash);
    cJSON *configmap = build_configmap(&changed, TC_TIKV);
    CHECK_STR(string_in(at(configmap, "metadata"), "name"), "basic-tikv");
    cJSON_Delete(configmap);
    tidbcluster_free(&quiet);
    tidbcluster_free(&changed);
    /* Two decodes of the same spec: the same hash. */
    struct tidbcluster again;
    REQUIRE(load_basic(&again));
    char hash[17];
    REQUIRE(build_pod_spec_hash(&again, TC_TIKV, hash));
    CHECK_STR(hash, base_hash);
    tidbcluster_free(&again);
    tidbcluster_free(&base);
}

/* The same spec gives the same bytes, whatever order maps were written in. */
static void build_output_is_byte_stable(void)
{
    static const struct edit first[] = {
        { "spec.tikv.nodeSelector", "{\"a\":\"1\",\"b\":\"2\"}" },
        { "spec.tikv.labels", "{\"x\":\"1\",\"y\":\"2\"}" },
    };
    static const struct edit second[] = {
        { "spec.tikv.nodeSelector", "{\"b\":\"2\",\"a\":\"1\"}" },
        { "spec.tikv.labels", "{\"y\":\"2\",\"x\":\"1\"}" },
    };
    struct tidbcluster one, two;
    REQUIRE(load(&one, first, 2));
    REQUIRE(load(&two, second, 2));
    struct build_pd_start start = { .join = true, .join_urls = "http://basic-pd.ns:2379" };
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        enum tc_component component = (enum tc_component)c;
        cJSON *a[] = { build_pod(&one, component, 0, &start), build_configmap(&one, component),
                       build_service_peer(&one, component), build_service_client(&one, component),
                       build_pvc(&one, component, 0) };
        cJSON *b[] = { build_pod(&two, component, 0, &start), build_configmap(&two, component),
                       build_service_peer(&two, component), build_service_client(&two, component),
                       build_pvc(&two, component, 0) };
        for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
            char *x = a[i] ? cJSON_PrintUnformatted(a[i]) : NULL;
            char *y = b[i] ? cJSON_PrintUnformatted(b[i]) : NULL;
            CHECK((x == NULL) == (y == NULL));
            if (x && y && strcmp(x, y) != 0)
                test_fail(__FILE__, __LINE__, "%s object %zu differs:\n%s\n%s", tidbcluster_component_name(component),
                          i, x, y);
            free(x);
            free(y);
            cJSON_Delete(a[i]);
            cJSON_Delete(b[i]);
        }
    }
    tidbcluster_free(&one);
    tidbcluster_free(&two);
}

/* hostNetwork (reference §1.2): the component's, else the cluster's; on
 * the host network DNS policy ClusterFirstWithHostNet unless one is set;
 * the spec hash moves only for pods it changes. */
static void build_host_network(void)
{
    struct tidbcluster plain;
    REQUIRE(load_basic(&plain));
    static const struct edit edits[] = {
        { "spec.hostNetwork", "true" },
        { "spec.tikv.dnsPolicy", "\"Default\"" },
        { "spec.tidb.hostNetwork", "false" },
    };
    struct tidbcluster host;
    REQUIRE(load(&host, edits, sizeof edits / sizeof edits[0]));
    cJSON *pd = build_pod(&host, TC_PD, 0, NULL);
    cJSON *tikv = build_pod(&host, TC_TIKV, 0, NULL);
    cJSON *tidb = build_pod(&host, TC_TIDB, 0, NULL);
    cJSON *plain_pd = build_pod(&plain, TC_PD, 0, NULL);
    CHECK_JSON(at(pd, "spec.hostNetwork"), "true");
    CHECK_JSON(at(pd, "spec.dnsPolicy"), "\"ClusterFirstWithHostNet\"");
    CHECK_JSON(at(tikv, "spec.hostNetwork"), "true");
    CHECK_JSON(at(tikv, "spec.dnsPolicy"), "\"Default\"");
    CHECK(at(tidb, "spec.hostNetwork") == NULL);
    CHECK(at(tidb, "spec.dnsPolicy") == NULL);
    CHECK(at(plain_pd, "spec.hostNetwork") == NULL);
    CHECK(at(plain_pd, "spec.dnsPolicy") == NULL);
    /* Everything else of the PD pod is as without it. */
    cJSON_DeleteItemFromObjectCaseSensitive(at(pd, "spec"), "hostNetwork");
    cJSON_DeleteItemFromObjectCaseSensitive(at(pd, "spec"), "dnsPolicy");
    cJSON_DeleteItemFromObjectCaseSensitive(at(pd, "metadata.annotations"), ANNOTATION_SPEC_HASH);
    cJSON_DeleteItemFromObjectCaseSensitive(at(plain_pd, "metadata.annotations"), ANNOTATION_SPEC_HASH);
    CHECK(cJSON_Compare(pd, plain_pd, true));
    char a[17], b[17];
    REQUIRE(build_pod_spec_hash(&host, TC_PD, a) && build_pod_spec_hash(&plain, TC_PD, b));
    CHECK(strcmp(a, b) != 0);
    REQUIRE(build_pod_spec_hash(&host, TC_TIDB, a) && build_pod_spec_hash(&plain, TC_TIDB, b));
    CHECK_STR(a, b); /* TiDB: false overrides the cluster's true: unchanged */
    cJSON_Delete(pd);
    cJSON_Delete(tikv);
    cJSON_Delete(tidb);
    cJSON_Delete(plain_pd);
    tidbcluster_free(&host);
    tidbcluster_free(&plain);
}

/* securityContext, automountServiceAccountToken, TiKV's privileged and
 * TiDB's lifecycle reach the pod when set, and count in the spec hash. */
static void build_container_settings(void)
{
    struct tidbcluster plain;
    REQUIRE(load_basic(&plain));
    static const struct edit edits[] = {
        { "spec.pd.securityContext", "{\"runAsUser\":1000}" },
        { "spec.pd.automountServiceAccountToken", "false" },
        { "spec.tikv.privileged", "true" },
        { "spec.tidb.securityContext", "{\"privileged\":false}" },
        { "spec.tidb.lifecycle", "{\"preStop\":{\"exec\":{\"command\":[\"sleep\",\"5\"]}}}" },
    };
    struct tidbcluster set;
    REQUIRE(load(&set, edits, sizeof edits / sizeof edits[0]));
    cJSON *pd = build_pod(&set, TC_PD, 0, NULL);
    cJSON *tikv = build_pod(&set, TC_TIKV, 0, NULL);
    cJSON *tidb = build_pod(&set, TC_TIDB, 0, NULL);
    CHECK_JSON(at(pd, "spec.containers.0.securityContext"), "{\"runAsUser\":1000}");
    CHECK_JSON(at(pd, "spec.automountServiceAccountToken"), "false");
    CHECK_JSON(at(tikv, "spec.containers.0.securityContext"), "{\"privileged\":true}");
    CHECK(at(tikv, "spec.automountServiceAccountToken") == NULL);
    CHECK_JSON(at(tidb, "spec.containers.0.securityContext"), "{\"privileged\":false}");
    CHECK_JSON(at(tidb, "spec.containers.0.lifecycle"), "{\"preStop\":{\"exec\":{\"command\":[\"sleep\",\"5\"]}}}");
    cJSON *plain_tidb = build_pod(&plain, TC_TIDB, 0, NULL);
    CHECK(at(plain_tidb, "spec.containers.0.securityContext") == NULL);
    CHECK(at(plain_tidb, "spec.containers.0.lifecycle") == NULL);
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        char a[17], b[17];
        REQUIRE(build_pod_spec_hash(&set, (enum tc_component)c, a) &&
                build_pod_spec_hash(&plain, (enum tc_component)c, b));
        if (strcmp(a, b) == 0)
            test_fail(__FILE__, __LINE__, "%s: the spec hash ignores the change", tidbcluster_component_name(c));
    }
    cJSON_Delete(pd);
    cJSON_Delete(tikv);
    cJSON_Delete(tidb);
    cJSON_Delete(plain_tidb);
    tidbcluster_free(&set);
    tidbcluster_free(&plain);
}

/* separateSlowLog written true: the slowlog sidecar (helper image) tails
 * the file TiDB writes on a shared emptyDir; unset (PingCAP's default
 * true) the pod is as before. */
static void build_slow_log_sidecar(void)
{
    static const char *const sidecar =
        "{\"name\":\"slowlog\",\"image\":\"alpine:3.16.0\",\"imagePullPolicy\":\"Always\","
        "\"command\":[\"sh\",\"-c\",\"touch /var/log/tidb/slowlog; tail -n0 -F /var/log/tidb/slowlog;\"],"
        "\"resources\":{\"limits\":{\"memory\":\"50Mi\"}},"
        "\"volumeMounts\":[{\"name\":\"slowlog\",\"mountPath\":\"/var/log/tidb\"}]}";
    static const struct edit edits[] = {
        { "spec.helper", "{\"image\":\"alpine:3.16.0\",\"imagePullPolicy\":\"Always\"}" },
        { "spec.tidb.separateSlowLog", "true" },
        { "spec.tidb.slowLogTailer", "{\"limits\":{\"memory\":\"50Mi\"}}" },
    };
    struct tidbcluster on, plain;
    REQUIRE(load(&on, edits, sizeof edits / sizeof edits[0]));
    REQUIRE(load(&plain, edits, 1)); /* helper set, separateSlowLog unset (defaulted true) */
    CHECK_INT(plain.spec.component[TC_TIDB].separate_slow_log, TC_TRUE);
    cJSON *pod = build_pod(&on, TC_TIDB, 0, NULL);
    cJSON *plain_pod = build_pod(&plain, TC_TIDB, 0, NULL);
    CHECK_INT(cJSON_GetArraySize(at(pod, "spec.containers")), 2);
    CHECK_JSON(at(pod, "spec.containers.1"), sidecar);
    CHECK_JSON(env_named(at(pod, "spec.containers.0.env"), "SLOW_LOG_FILE"),
               "{\"name\":\"SLOW_LOG_FILE\",\"value\":\"/var/log/tidb/slowlog\"}");
    const cJSON *mounts = at(pod, "spec.containers.0.volumeMounts");
    CHECK_JSON(cJSON_GetArrayItem(mounts, cJSON_GetArraySize(mounts) - 1),
               "{\"name\":\"slowlog\",\"mountPath\":\"/var/log/tidb\"}");
    const cJSON *volumes = at(pod, "spec.volumes");
    CHECK_JSON(cJSON_GetArrayItem(volumes, cJSON_GetArraySize(volumes) - 1), "{\"name\":\"slowlog\",\"emptyDir\":{}}");
    char *script = build_start_script(&on, TC_TIDB);
    CHECK(script && strstr(script, "set -- \"$@\" --log-slow-query=\"${SLOW_LOG_FILE}\"\n"));
    free(script);
    /* Unset: one container, no env, no volume, the script as before. */
    CHECK_INT(cJSON_GetArraySize(at(plain_pod, "spec.containers")), 1);
    CHECK(env_named(at(plain_pod, "spec.containers.0.env"), "SLOW_LOG_FILE") == NULL);
    script = build_start_script(&plain, TC_TIDB);
    CHECK(script && !strstr(script, "slow"));
    free(script);
    char a[17], b[17];
    REQUIRE(build_pod_spec_hash(&on, TC_TIDB, a) && build_pod_spec_hash(&plain, TC_TIDB, b));
    CHECK(strcmp(a, b) != 0);
    cJSON_Delete(pod);
    cJSON_Delete(plain_pod);
    tidbcluster_free(&on);
    tidbcluster_free(&plain);
}

/* No version, no requests, no config, no namespace, no uid: sensible
 * objects, no crash. */
static void build_minimal_spec(void)
{
    cJSON *root = cJSON_Parse("{\"metadata\":{\"name\":\"tiny\"},\"spec\":{\"pd\":{},\"tikv\":{},\"tidb\":{}}}");
    REQUIRE(root);
    struct tidbcluster cluster;
    char *error = NULL;
    bool ok = tidbcluster_decode(root, &cluster, &error) && tidbcluster_apply_defaults(&cluster);
    cJSON_Delete(root);
    free(error);
    REQUIRE(ok);
    for (int c = 0; c < TC_COMPONENT_COUNT; c++) {
        enum tc_component component = (enum tc_component)c;
        cJSON *pod = build_pod(&cluster, component, 0, NULL);
        REQUIRE(pod);
        char image[32];
        snprintf(image, sizeof image, "pingcap/%s", tidbcluster_component_name(component));
        CHECK_STR(string_in(at(pod, "spec.containers.0"), "image"), image);
        CHECK(at(pod, "metadata.namespace") == NULL);
        CHECK_STR(string_in(at(pod, "metadata.ownerReferences.0"), "uid"), "");
        cJSON_Delete(pod);
        cJSON *configmap = build_configmap(&cluster, component);
        REQUIRE(configmap);
        CHECK_STR(string_in(at(configmap, "data"), "config-file"), "");
        cJSON_Delete(configmap);
        cJSON_Delete(build_service_peer(&cluster, component));
        cJSON_Delete(build_service_client(&cluster, component));
        cJSON *pvc = build_pvc(&cluster, component, 0);
        if (component != TC_TIDB)
            CHECK_JSON(at(pvc, "spec.resources"), "{\"requests\":{}}");
        cJSON_Delete(pvc);
    }
    char name[64];
    CHECK(!build_pd_url(&cluster, name, sizeof name)); /* no namespace */
    tidbcluster_free(&cluster);

    /* A component that is not in the spec has no objects. */
    root = cJSON_Parse("{\"metadata\":{\"name\":\"pdonly\",\"namespace\":\"ns\"},\"spec\":{\"pd\":{}}}");
    REQUIRE(root);
    ok = tidbcluster_decode(root, &cluster, &error) && tidbcluster_apply_defaults(&cluster);
    cJSON_Delete(root);
    free(error);
    REQUIRE(ok);
    CHECK(build_pod(&cluster, TC_TIKV, 0, NULL) == NULL);
    CHECK(build_service_peer(&cluster, TC_TIDB) == NULL);
    CHECK(build_configmap(&cluster, TC_TIDB) == NULL);
    char hash[17];
    CHECK(!build_pod_spec_hash(&cluster, TC_TIKV, hash));
    CHECK(!build_member_name(NULL, TC_PD, 0, name, sizeof name));
    CHECK(!build_member_name(&cluster, TC_COMPONENT_COUNT, 0, name, sizeof name));
    tidbcluster_free(&cluster);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(build_names_follow_pingcap),
        TEST_CASE(build_member_host_has_cluster_domain),
        TEST_CASE(build_objects_carry_labels_and_owner),
        TEST_CASE(build_pvc_owner_follows_reclaim_policy),
        TEST_CASE(build_peer_services_are_headless),
        TEST_CASE(build_pd_client_service),
        TEST_CASE(build_tidb_service_types),
        TEST_CASE(build_pvc_shape),
        TEST_CASE(build_pd_pod_shape),
        TEST_CASE(build_tikv_and_tidb_pods),
        TEST_CASE(build_pod_placement),
        TEST_CASE(build_start_scripts),
        TEST_CASE(build_configmap_content),
        TEST_CASE(build_hashes_follow_spec),
        TEST_CASE(build_output_is_byte_stable),
        TEST_CASE(build_host_network),
        TEST_CASE(build_container_settings),
        TEST_CASE(build_slow_log_sidecar),
        TEST_CASE(build_minimal_spec),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
