/*
 * tidbcluster_fields: the compatibility table and the scan
 * (tidbcluster_fields.h).
 */
#include "reconcilers/api/tidbcluster_fields.h"

#include "reactor/buffer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW(path, components, support, refused, trigger, why) \
    { path, components, support, refused, trigger, why }
/* Cluster-level rows. */
#define YES(path, why) ROW(path, 0, TC_FIELD_SUPPORTED, false, TC_TRIGGER_VALUE, why)
#define NONE(path, why) ROW(path, 0, TC_FIELD_NO_EFFECT, false, TC_TRIGGER_VALUE, why)
#define NOT_YET(path, why) ROW(path, 0, TC_FIELD_NOT_SUPPORTED, false, TC_TRIGGER_VALUE, why)
#define REFUSED(path, trigger, why) ROW(path, 0, TC_FIELD_NOT_SUPPORTED, true, trigger, why)
#define GROUP(path, components, why) ROW(path, components, TC_FIELD_SUPPORTED, false, TC_TRIGGER_GROUP, why)
/* Component rows ("spec.<c>.x" in `set`). */
#define C_YES(path, set, why) ROW(path, set, TC_FIELD_SUPPORTED, false, TC_TRIGGER_VALUE, why)
#define C_NONE(path, set, why) ROW(path, set, TC_FIELD_NO_EFFECT, false, TC_TRIGGER_VALUE, why)
#define C_NOT_YET(path, set, why) ROW(path, set, TC_FIELD_NOT_SUPPORTED, false, TC_TRIGGER_VALUE, why)
#define C_REFUSED(path, set, why) ROW(path, set, TC_FIELD_NOT_SUPPORTED, true, TC_TRIGGER_VALUE, why)

#define PD TC_FIELD_PD
#define KV TC_FIELD_TIKV
#define DB TC_FIELD_TIDB
#define ALL TC_FIELD_ALL

#define NO_STATEFULSETS "no StatefulSets here: the operator manages pods itself"
#define NO_SIDECAR "no log sidecars here: the log stays in the main container's output"

static const struct tc_field_class table[] = {
    /* ---- the cluster (reference §1.2) ---- */
    GROUP("spec", 0, "the cluster"),
    YES("spec.version", "image tag of every component without its own version"),
    YES("spec.timezone", "TZ of every container"),
    YES("spec.pvReclaimPolicy", "Delete: claims of removed members are deleted; Retain: kept and marked"),
    YES("spec.imagePullPolicy", "default of every component"),
    YES("spec.imagePullSecrets", "default of every component"),
    YES("spec.configUpdateStrategy", "RollingUpdate rolls config changes; InPlace (the default) updates the ConfigMap "
                                     "and members read it when they next start"),
    YES("spec.enableDynamicConfiguration", "always on: TiKV always advertises its status address"),
    YES("spec.clusterDomain", "members' DNS names and PD member names"),
    YES("spec.schedulerName", "default of every component"),
    YES("spec.priorityClassName", "default of every component"),
    YES("spec.dnsPolicy", "default of every component"),
    YES("spec.dnsConfig", "default of every component"),
    YES("spec.nodeSelector", "merged under every component's"),
    YES("spec.affinity", "default of every component"),
    YES("spec.tolerations", "default of every component"),
    YES("spec.annotations", "merged under every component's pod annotations"),
    YES("spec.labels", "merged under every component's pod labels"),
    YES("spec.podSecurityContext", "default of every component"),
    YES("spec.topologySpreadConstraints", "default of every component (copied as written)"),
    YES("spec.paused", "nothing is created or changed; status is still written"),
    YES("spec.services", "deprecated; the PD service type"),
    NONE("spec.statefulSetUpdateStrategy", NO_STATEFULSETS),
    NONE("spec.podManagementPolicy", NO_STATEFULSETS),
    NONE("spec.startScriptVersion", "one start script generation here"),
    GROUP("spec.helper", 0, "helper containers"),
    YES("spec.helper.image", "the image of the slowlog sidecar (spec.tidb.separateSlowLog: true)"),
    YES("spec.helper.imagePullPolicy", "the slowlog sidecar's (else spec.imagePullPolicy)"),
    NONE("spec.discovery", "no discovery service here: the operator tells each new PD member how to start"),
    NOT_YET("spec.enablePVReclaim", "claims marked for deferred deletion are kept; delete them by hand"),
    YES("spec.hostNetwork", "default of every component; dnsPolicy ClusterFirstWithHostNet unless set"),
    GROUP("spec.suspendAction", 0, "suspending the cluster"),
    NOT_YET("spec.suspendAction.suspendStatefulSet", "pods keep running"),
    GROUP("spec.tlsCluster", 0, "TLS between components"),
    REFUSED("spec.tlsCluster.enabled", TC_TRIGGER_VALUE,
            "TLS between PD, TiKV and TiDB; refused rather than run the cluster in plaintext"),
    REFUSED("spec.acrossK8s", TC_TRIGGER_VALUE,
            "a cluster spanning Kubernetes clusters; refused rather than start a separate cluster here"),
    REFUSED("spec.pdAddresses", TC_TRIGGER_VALUE,
            "joining an existing PD cluster; refused rather than start a separate cluster"),
    REFUSED("spec.cluster", TC_TRIGGER_VALUE,
            "joining another TidbCluster; refused rather than start a separate cluster"),
    REFUSED("spec.recoveryMode", TC_TRIGGER_VALUE,
            "restoring from volume snapshots; refused rather than start TiKV on volumes being restored"),
    REFUSED("spec.tiflash", TC_TRIGGER_REPLICAS,
            "TiFlash; refused rather than run without the columnar replicas it asks for"),
    REFUSED("spec.ticdc", TC_TRIGGER_REPLICAS,
            "TiCDC; refused rather than run without the change feeds it asks for"),
    REFUSED("spec.pump", TC_TRIGGER_REPLICAS, "Pump (TiDB Binlog); refused rather than run without the binlog"),
    ROW("spec.tiproxy", 0, TC_FIELD_NOT_SUPPORTED, false, TC_TRIGGER_REPLICAS, "no TiProxy is run"),
    GROUP("spec.pd", 0, "PD"),
    GROUP("spec.tikv", 0, "TiKV"),
    GROUP("spec.tidb", 0, "TiDB"),

    /* ---- every component (reference §1.3) ---- */
    C_YES("spec.<c>.replicas", ALL, "members, scaled one at a time behind the health of the others"),
    C_YES("spec.<c>.version", ALL, "overrides spec.version"),
    C_YES("spec.<c>.baseImage", ALL, "image without the tag"),
    C_YES("spec.<c>.image", ALL, "deprecated full image"),
    C_YES("spec.<c>.imagePullPolicy", ALL, "the container's"),
    C_YES("spec.<c>.imagePullSecrets", ALL, "the pod's"),
    C_YES("spec.<c>.configUpdateStrategy", ALL, "overrides spec.configUpdateStrategy"),
    C_YES("spec.<c>.requests", ALL, "the container's; storage: the claim's size"),
    C_YES("spec.<c>.limits", ALL, "the container's; TiKV's storage: its --capacity"),
    C_YES("spec.<c>.storageClassName", ALL, "the claims'"),
    C_YES("spec.<c>.config", ALL, "the config file (TOML or a map)"),
    C_YES("spec.<c>.maxFailoverCount", KV | DB, "failed members replaced at most (default 3; 0: no failover)"),
    C_NOT_YET("spec.<c>.maxFailoverCount", PD, "PD members are not failed over yet: a member down is reported"),
    C_YES("spec.<c>.schedulerName", ALL, "the pod's"),
    C_YES("spec.<c>.priorityClassName", ALL, "the pod's"),
    C_YES("spec.<c>.dnsPolicy", ALL, "the pod's"),
    C_YES("spec.<c>.dnsConfig", ALL, "the pod's"),
    C_NONE("spec.<c>.statefulSetUpdateStrategy", ALL, NO_STATEFULSETS),
    C_NONE("spec.<c>.podManagementPolicy", ALL, NO_STATEFULSETS),
    C_YES("spec.<c>.hostNetwork", ALL, "the pod's, over spec.hostNetwork; dnsPolicy ClusterFirstWithHostNet unless set"),
    C_YES("spec.<c>.terminationGracePeriodSeconds", ALL, "the pod's"),
    C_YES("spec.<c>.nodeSelector", ALL, "the pod's, over spec.nodeSelector"),
    C_YES("spec.<c>.affinity", ALL, "the pod's"),
    C_YES("spec.<c>.tolerations", ALL, "the pod's"),
    C_YES("spec.<c>.annotations", ALL, "the pod's, over spec.annotations"),
    C_YES("spec.<c>.labels", ALL, "the pod's, over spec.labels"),
    C_YES("spec.<c>.env", ALL, "the container's, less the names the operator sets"),
    C_YES("spec.<c>.envFrom", ALL, "the container's"),
    C_YES("spec.<c>.initContainers", ALL, "the pod's"),
    C_YES("spec.<c>.additionalContainers", ALL, "appended to the pod's (not merged into the main container by name)"),
    C_YES("spec.<c>.additionalVolumes", ALL, "the pod's"),
    C_YES("spec.<c>.additionalVolumeMounts", ALL, "the main container's"),
    C_YES("spec.<c>.podSecurityContext", ALL, "the pod's"),
    C_YES("spec.<c>.topologySpreadConstraints", ALL, "the pod's (copied as written)"),
    C_YES("spec.<c>.readinessProbe", ALL, "the main container's timings; TiDB's type"),
    C_YES("spec.<c>.securityContext", ALL, "the main container's"),
    C_YES("spec.<c>.automountServiceAccountToken", ALL, "the pod's"),
    C_NOT_YET("spec.<c>.suspendAction", ALL, "pods keep running"),
    C_NOT_YET("spec.<c>.storageVolumes", ALL, "no extra volumes are created"),

    /* ---- PD (reference §1.4) ---- */
    C_YES("spec.<c>.dataSubDir", PD | KV, "the data directory below the volume"),
    C_NONE("spec.<c>.spareVolReplaceReplicas", PD | KV, "no volume replacement here"),
    GROUP("spec.<c>.service", PD | DB, "the client service"),
    C_YES("spec.<c>.service.type", PD | DB, "the client service's"),
    C_YES("spec.<c>.service.annotations", PD | DB, "the client service's"),
    C_YES("spec.<c>.service.labels", PD | DB, "the client service's"),
    C_YES("spec.<c>.service.clusterIP", PD | DB, "the client service's"),
    C_YES("spec.<c>.service.portName", PD | DB, "the client port's name"),
    C_YES("spec.<c>.service.externalTrafficPolicy", PD | DB, "the client service's (NodePort, LoadBalancer)"),
    C_YES("spec.<c>.service.loadBalancerIP", PD | DB, "the client service's (LoadBalancer)"),
    C_YES("spec.<c>.service.loadBalancerSourceRanges", PD | DB, "the client service's (LoadBalancer)"),
    C_YES("spec.pd.startTimeout", PD, "the start script's wait for DNS"),
    C_NOT_YET("spec.pd.initWaitTime", PD, "PD starts without the extra wait"),
    C_NONE("spec.pd.startUpScriptVersion", PD, "one start script generation here"),
    C_NOT_YET("spec.pd.mode", PD, "PD runs as one service (no microservices)"),
    C_NONE("spec.pd.tlsClientSecretName", PD, "only used with spec.tlsCluster, which is refused"),
    C_NONE("spec.pd.mountClusterClientSecret", PD, "only used with spec.tlsCluster, which is refused"),

    /* ---- TiKV ---- */
    C_YES("spec.tikv.evictLeaderTimeout", KV, "how long a restart waits for a store's leaders to leave"),
    C_NONE("spec.tikv.waitLeaderTransferBackTimeout", KV,
           "the roll does not wait for leaders to come back: PD balances them after the scheduler goes"),
    C_NOT_YET("spec.tikv.storeLabels", KV, "PD is not told the stores' locations: replicas are not spread by zone"),
    C_YES("spec.tikv.enableNamedStatusPort", KV, "always on: the container port `status` (20180)"),
    C_NOT_YET("spec.tikv.separateRocksDBLog", KV, NO_SIDECAR),
    C_NOT_YET("spec.tikv.separateRaftLog", KV, NO_SIDECAR),
    C_NOT_YET("spec.tikv.rocksDBLogVolumeName", KV, NO_SIDECAR),
    C_NOT_YET("spec.tikv.raftLogVolumeName", KV, NO_SIDECAR),
    C_NOT_YET("spec.tikv.logTailer", KV, NO_SIDECAR),
    C_YES("spec.tikv.privileged", KV, "deprecated; securityContext.privileged of the container unless set there"),
    C_YES("spec.tikv.recoverFailover", KV,
          "recovery is automatic here (a store back Up drops its record); false keeps the replacement"),
    C_NONE("spec.tikv.failover", KV, "recoverByUID is not needed: recovery is automatic here"),
    GROUP("spec.<c>.scalePolicy", KV | DB, "scaling pace"),
    ROW("spec.<c>.scalePolicy.scaleInParallelism", KV | DB, TC_FIELD_NOT_SUPPORTED, false, TC_TRIGGER_ABOVE_ONE,
        "members are removed one at a time"),
    C_YES("spec.<c>.scalePolicy.scaleOutParallelism", KV | DB, "members added at a time"),

    /* ---- TiDB ---- */
    C_YES("spec.tidb.service.port", DB, "the MySQL port of the client service"),
    C_YES("spec.tidb.service.mysqlNodePort", DB, "the MySQL node port"),
    C_YES("spec.tidb.service.statusNodePort", DB, "the status node port"),
    C_YES("spec.tidb.service.exposeStatus", DB, "the status port on the client service"),
    C_YES("spec.tidb.service.additionalPorts", DB, "more ports on the client service"),
    C_YES("spec.tidb.binlogEnabled", DB, "TiDB's BINLOG_ENABLED"),
    C_YES("spec.tidb.plugins", DB, "loaded from /plugins"),
    C_YES("spec.tidb.arguments", DB, "appended to tidb-server's command"),
    C_YES("spec.tidb.separateSlowLog", DB,
          "written true: a slowlog sidecar tails the slow log; unset: no sidecar here (PingCAP's default is true)"),
    C_NOT_YET("spec.tidb.slowLogVolumeName", DB, "the slow log goes to an emptyDir, not to the named volume"),
    C_YES("spec.tidb.slowLogTailer", DB, "the slowlog sidecar's requests, limits, image and imagePullPolicy"),
    GROUP("spec.tidb.tlsClient", DB, "TLS for MySQL clients"),
    C_REFUSED("spec.tidb.tlsClient.enabled", DB,
              "TLS for MySQL clients; refused rather than serve clients in plaintext"),
    C_NONE("spec.tidb.tlsClient.disableClientAuthn", DB, "only used with tlsClient.enabled, which is refused"),
    C_NONE("spec.tidb.tlsClient.skipInternalClientCA", DB, "only used with tlsClient.enabled, which is refused"),
    C_REFUSED("spec.tidb.initializer", DB,
              "setting the root password at bootstrap; refused rather than leave root without one"),
    C_REFUSED("spec.tidb.bootstrapSQLConfigMapName", DB,
              "SQL run at bootstrap; refused rather than bootstrap without it"),
    C_YES("spec.tidb.lifecycle", DB, "the main container's"),
    C_NOT_YET("spec.tidb.customizedStartupProbe", DB, "the container gets no startup probe"),
    C_NOT_YET("spec.tidb.serverLabels", DB, "TiDB is not told its location labels"),
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

const struct tc_field_class *tidbcluster_fields_table(size_t *count)
{
    *count = TABLE_SIZE;
    return table;
}

const char *tidbcluster_field_support_name(enum tc_field_support support)
{
    switch (support) {
    case TC_FIELD_SUPPORTED: return "supported";
    case TC_FIELD_NO_EFFECT: return "no effect here";
    case TC_FIELD_NOT_SUPPORTED: return "not supported yet";
    default: return "unknown";
    }
}

/* The component bit of "spec.pd." etc. at the start of `path` and the
 * length of that prefix; 0 when it is not a component path. */
static unsigned component_prefix(const char *path, size_t *length)
{
    static const struct { const char *prefix; unsigned bit; } prefixes[] = {
        { "spec.pd.", TC_FIELD_PD }, { "spec.tikv.", TC_FIELD_TIKV }, { "spec.tidb.", TC_FIELD_TIDB },
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (strncmp(path, prefixes[i].prefix, n) == 0) {
            *length = n;
            return prefixes[i].bit;
        }
    }
    return 0;
}

const struct tc_field_class *tidbcluster_field_find(const char *path)
{
    if (!path)
        return NULL;
    size_t prefix = 0;
    unsigned component = component_prefix(path, &prefix);
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        const struct tc_field_class *row = &table[i];
        if (strcmp(row->path, path) == 0)
            return row;
        if (component && (row->components & component) && strncmp(row->path, "spec.<c>.", 9) == 0 &&
            strcmp(row->path + 9, path + prefix) == 0)
            return row;
    }
    return NULL;
}

/* ---- the scan ---- */

static bool asks_for_something(const cJSON *value)
{
    if (!value || cJSON_IsNull(value) || cJSON_IsFalse(value))
        return false;
    if (cJSON_IsNumber(value))
        return value->valuedouble != 0;
    if (cJSON_IsString(value))
        return value->valuestring && *value->valuestring;
    if (cJSON_IsArray(value))
        return value->child != NULL;
    if (cJSON_IsObject(value)) {
        /* {createPassword: false} asks for nothing either. */
        for (const cJSON *member = value->child; member; member = member->next)
            if (asks_for_something(member))
                return true;
        return false;
    }
    return true;
}

static bool triggered(const struct tc_field_class *row, const cJSON *value)
{
    switch (row->trigger) {
    case TC_TRIGGER_REPLICAS: {
        const cJSON *replicas = cJSON_IsObject(value) ? cJSON_GetObjectItemCaseSensitive(value, "replicas") : NULL;
        return cJSON_IsNumber(replicas) && replicas->valuedouble > 0;
    }
    case TC_TRIGGER_ABOVE_ONE:
        return cJSON_IsNumber(value) && value->valuedouble > 1;
    default:
        return asks_for_something(value);
    }
}

static void add_finding(struct tc_field_findings *out, const char *path, const struct tc_field_class *row)
{
    if (out->out_of_memory)
        return;
    char *copy = strdup(path);
    struct tc_field_finding *grown = copy ? realloc(out->items, (out->count + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        out->out_of_memory = true;
        return;
    }
    out->items = grown;
    out->items[out->count++] = (struct tc_field_finding){ copy, row };
}

static void scan_object(const cJSON *object, struct buffer *path, struct tc_field_findings *out)
{
    for (const cJSON *member = object->child; member && !out->out_of_memory; member = member->next) {
        if (!member->string || cJSON_IsNull(member))
            continue;
        size_t mark = path->length;
        if (!buffer_append_format(path, ".%s", member->string)) {
            out->out_of_memory = true;
            return;
        }
        const struct tc_field_class *row = tidbcluster_field_find(path->data);
        if (!row)
            add_finding(out, path->data, NULL);
        else if (row->trigger == TC_TRIGGER_GROUP && cJSON_IsObject(member))
            scan_object(member, path, out);
        else if (row->support != TC_FIELD_SUPPORTED && row->trigger != TC_TRIGGER_GROUP && triggered(row, member))
            add_finding(out, path->data, row);
        path->length = mark;
        path->data[mark] = '\0';
    }
}

void tidbcluster_fields_scan(const cJSON *spec, struct tc_field_findings *out)
{
    if (!cJSON_IsObject(spec))
        return;
    struct buffer path = { 0 };
    if (!buffer_append_string(&path, "spec"))
        out->out_of_memory = true;
    else
        scan_object(spec, &path, out);
    buffer_free(&path);
}

void tidbcluster_field_findings_free(struct tc_field_findings *findings)
{
    if (!findings)
        return;
    for (size_t i = 0; i < findings->count; i++)
        free(findings->items[i].path);
    free(findings->items);
    memset(findings, 0, sizeof *findings);
}
