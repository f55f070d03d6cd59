#include "reconcilers/api/tidbcluster.h"

#include "reactor/buffer.h"
#include "reconcilers/api/toml_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- field tables: one description drives decode, free and encode ---- */

enum field_type {
    F_STRING,       /* char * */
    F_INT32,        /* int32_t */
    F_INT64,        /* int64_t */
    F_FLAG,         /* enum tc_flag */
    F_BOOL,         /* bool (absent = false) */
    F_STRING_MAP,   /* cJSON * object of strings */
    F_OBJECT,       /* cJSON * object */
    F_OBJECT_ARRAY, /* cJSON * array of objects */
    F_STRING_ARRAY, /* cJSON * array of strings */
    F_RESOURCES,    /* struct tc_resources */
    F_CONFIG,       /* the component's config (base is struct component_spec) */
    F_PRESENT,      /* only notes presence in the bool at offset */
    F_NESTED,       /* a JSON object whose fields live in the same struct */
    F_RECORD,       /* a JSON object decoded into the struct at offset */
    F_MAP,          /* a JSON object of records, kept as a sorted list */
    F_LIST,         /* a JSON array of records */
};

#define NO_SET SIZE_MAX

struct field {
    const char *name;
    enum field_type type;
    size_t offset;
    size_t set_offset;          /* bool set true when present; NO_SET if none */
    const struct field *fields; /* F_NESTED, F_RECORD, F_MAP, F_LIST */
    size_t item_size;           /* F_MAP, F_LIST */
    size_t key_offset;          /* F_MAP: the char * key inside an item */
};

struct list_view {
    void *items;
    size_t count;
};

#define FIELD(name, type, st, member) { name, type, offsetof(st, member), NO_SET, NULL, 0, 0 }
#define FIELD_SET(name, type, st, member, set) { name, type, offsetof(st, member), offsetof(st, set), NULL, 0, 0 }
#define NESTED(name, fields) { name, F_NESTED, 0, NO_SET, fields, 0, 0 }
#define RECORD(name, st, member, set, fields) { name, F_RECORD, offsetof(st, member), set, fields, 0, 0 }
#define MAP(name, st, member, item, key, fields) \
    { name, F_MAP, offsetof(st, member), NO_SET, fields, sizeof(item), offsetof(item, key) }
#define LIST(name, st, member, item, fields) { name, F_LIST, offsetof(st, member), NO_SET, fields, sizeof(item), 0 }
#define END { NULL, F_STRING, 0, NO_SET, NULL, 0, 0 }

typedef struct component_spec C;
typedef struct tc_service SV;
typedef struct tidbcluster_spec S;
typedef struct tidbcluster T;

static const struct field pd_service_fields[] = {
    FIELD("type", F_STRING, SV, type),
    FIELD("externalTrafficPolicy", F_STRING, SV, external_traffic_policy),
    FIELD("loadBalancerIP", F_STRING, SV, load_balancer_ip),
    FIELD("clusterIP", F_STRING, SV, cluster_ip),
    FIELD("portName", F_STRING, SV, port_name),
    FIELD("annotations", F_STRING_MAP, SV, annotations),
    FIELD("labels", F_STRING_MAP, SV, labels),
    FIELD("loadBalancerSourceRanges", F_STRING_ARRAY, SV, load_balancer_source_ranges),
    END,
};

static const struct field tidb_service_fields[] = {
    FIELD("type", F_STRING, SV, type),
    FIELD("externalTrafficPolicy", F_STRING, SV, external_traffic_policy),
    FIELD("loadBalancerIP", F_STRING, SV, load_balancer_ip),
    FIELD("clusterIP", F_STRING, SV, cluster_ip),
    FIELD("portName", F_STRING, SV, port_name),
    FIELD_SET("port", F_INT32, SV, port, port_set),
    FIELD("mysqlNodePort", F_INT32, SV, mysql_node_port),
    FIELD("statusNodePort", F_INT32, SV, status_node_port),
    FIELD("exposeStatus", F_FLAG, SV, expose_status),
    FIELD("annotations", F_STRING_MAP, SV, annotations),
    FIELD("labels", F_STRING_MAP, SV, labels),
    FIELD("loadBalancerSourceRanges", F_STRING_ARRAY, SV, load_balancer_source_ranges),
    FIELD("additionalPorts", F_OBJECT_ARRAY, SV, additional_ports),
    END,
};

static const struct field scale_policy_fields[] = {
    FIELD_SET("scaleInParallelism", F_INT32, C, scale_in_parallelism, scale_in_parallelism_set),
    FIELD_SET("scaleOutParallelism", F_INT32, C, scale_out_parallelism, scale_out_parallelism_set),
    END,
};

static const struct field tls_client_fields[] = {
    FIELD("enabled", F_FLAG, C, tls_client_enabled),
    END,
};

/* ComponentSpec (reference §1.3) plus replicas/resources/config that every
 * one of PD, TiKV and TiDB has. */
#define COMMON_COMPONENT_FIELDS \
    FIELD_SET("replicas", F_INT32, C, replicas, replicas_set), \
    FIELD("version", F_STRING, C, version), \
    FIELD("image", F_STRING, C, image), \
    FIELD("baseImage", F_STRING, C, base_image), \
    FIELD("imagePullPolicy", F_STRING, C, image_pull_policy), \
    FIELD("configUpdateStrategy", F_STRING, C, config_update_strategy), \
    FIELD("requests", F_RESOURCES, C, requests), \
    FIELD("limits", F_RESOURCES, C, limits), \
    FIELD("storageClassName", F_STRING, C, storage_class_name), \
    FIELD("config", F_CONFIG, C, config), \
    FIELD_SET("maxFailoverCount", F_INT32, C, max_failover_count, max_failover_count_set), \
    FIELD("schedulerName", F_STRING, C, scheduler_name), \
    FIELD("priorityClassName", F_STRING, C, priority_class_name), \
    FIELD("dnsPolicy", F_STRING, C, dns_policy), \
    FIELD("statefulSetUpdateStrategy", F_STRING, C, stateful_set_update_strategy), \
    FIELD("podManagementPolicy", F_STRING, C, pod_management_policy), \
    FIELD("hostNetwork", F_FLAG, C, host_network), \
    FIELD_SET("terminationGracePeriodSeconds", F_INT64, C, termination_grace_period_seconds, \
              termination_grace_period_seconds_set), \
    FIELD("nodeSelector", F_STRING_MAP, C, node_selector), \
    FIELD("affinity", F_OBJECT, C, affinity), \
    FIELD("tolerations", F_OBJECT_ARRAY, C, tolerations), \
    FIELD("annotations", F_STRING_MAP, C, annotations), \
    FIELD("labels", F_STRING_MAP, C, labels), \
    FIELD("env", F_OBJECT_ARRAY, C, env), \
    FIELD("envFrom", F_OBJECT_ARRAY, C, env_from), \
    FIELD("initContainers", F_OBJECT_ARRAY, C, init_containers), \
    FIELD("additionalContainers", F_OBJECT_ARRAY, C, additional_containers), \
    FIELD("additionalVolumes", F_OBJECT_ARRAY, C, additional_volumes), \
    FIELD("additionalVolumeMounts", F_OBJECT_ARRAY, C, additional_volume_mounts), \
    FIELD("podSecurityContext", F_OBJECT, C, pod_security_context), \
    FIELD("imagePullSecrets", F_OBJECT_ARRAY, C, image_pull_secrets), \
    FIELD("dnsConfig", F_OBJECT, C, dns_config), \
    FIELD("topologySpreadConstraints", F_OBJECT_ARRAY, C, topology_spread_constraints), \
    FIELD("readinessProbe", F_OBJECT, C, readiness_probe), \
    FIELD("securityContext", F_OBJECT, C, security_context), \
    FIELD("automountServiceAccountToken", F_FLAG, C, automount_service_account_token)

static const struct field pd_fields[] = {
    COMMON_COMPONENT_FIELDS,
    FIELD_SET("spareVolReplaceReplicas", F_INT32, C, spare_vol_replace_replicas, spare_vol_replace_replicas_set),
    FIELD("dataSubDir", F_STRING, C, data_sub_dir),
    FIELD("storageVolumes", F_OBJECT_ARRAY, C, storage_volumes),
    RECORD("service", C, service, offsetof(C, service.present), pd_service_fields),
    FIELD_SET("startTimeout", F_INT32, C, start_timeout, start_timeout_set),
    FIELD("initWaitTime", F_INT32, C, init_wait_time),
    FIELD("startUpScriptVersion", F_STRING, C, start_up_script_version),
    FIELD("mode", F_STRING, C, mode),
    FIELD("tlsClientSecretName", F_STRING, C, tls_client_secret_name),
    FIELD("mountClusterClientSecret", F_FLAG, C, mount_cluster_client_secret),
    END,
};

static const struct field tikv_fields[] = {
    COMMON_COMPONENT_FIELDS,
    FIELD_SET("spareVolReplaceReplicas", F_INT32, C, spare_vol_replace_replicas, spare_vol_replace_replicas_set),
    FIELD("dataSubDir", F_STRING, C, data_sub_dir),
    FIELD("storageVolumes", F_OBJECT_ARRAY, C, storage_volumes),
    FIELD("evictLeaderTimeout", F_STRING, C, evict_leader_timeout),
    FIELD("waitLeaderTransferBackTimeout", F_STRING, C, wait_leader_transfer_back_timeout),
    FIELD("storeLabels", F_STRING_ARRAY, C, store_labels),
    FIELD("enableNamedStatusPort", F_FLAG, C, enable_named_status_port),
    FIELD("separateRocksDBLog", F_FLAG, C, separate_rocksdb_log),
    FIELD("separateRaftLog", F_FLAG, C, separate_raft_log),
    FIELD("privileged", F_FLAG, C, privileged),
    FIELD("recoverFailover", F_FLAG, C, recover_failover),
    NESTED("scalePolicy", scale_policy_fields),
    END,
};

static const struct field tidb_fields[] = {
    COMMON_COMPONENT_FIELDS,
    FIELD("storageVolumes", F_OBJECT_ARRAY, C, storage_volumes),
    RECORD("service", C, service, offsetof(C, service.present), tidb_service_fields),
    FIELD("binlogEnabled", F_FLAG, C, binlog_enabled),
    FIELD_SET("separateSlowLog", F_FLAG, C, separate_slow_log, separate_slow_log_set),
    FIELD("slowLogTailer", F_OBJECT, C, slow_log_tailer),
    FIELD("slowLogVolumeName", F_STRING, C, slow_log_volume_name),
    NESTED("tlsClient", tls_client_fields),
    FIELD("plugins", F_STRING_ARRAY, C, plugins),
    FIELD("arguments", F_STRING_ARRAY, C, arguments),
    FIELD("lifecycle", F_OBJECT, C, lifecycle),
    NESTED("scalePolicy", scale_policy_fields),
    END,
};

static const struct field helper_fields[] = {
    FIELD("image", F_STRING, S, helper_image),
    FIELD("imagePullPolicy", F_STRING, S, helper_image_pull_policy),
    END,
};
static const struct field tls_cluster_fields[] = { FIELD("enabled", F_FLAG, S, tls_cluster_enabled), END };
static const struct field suspend_fields[] = {
    FIELD("suspendStatefulSet", F_FLAG, S, suspend_stateful_set),
    END,
};

static const struct field spec_fields[] = {
    FIELD("version", F_STRING, S, version),
    FIELD("timezone", F_STRING, S, timezone),
    FIELD("pvReclaimPolicy", F_STRING, S, pv_reclaim_policy),
    FIELD("imagePullPolicy", F_STRING, S, image_pull_policy),
    FIELD("configUpdateStrategy", F_STRING, S, config_update_strategy),
    FIELD("clusterDomain", F_STRING, S, cluster_domain),
    FIELD("schedulerName", F_STRING, S, scheduler_name),
    FIELD("priorityClassName", F_STRING, S, priority_class_name),
    FIELD("dnsPolicy", F_STRING, S, dns_policy),
    FIELD("statefulSetUpdateStrategy", F_STRING, S, stateful_set_update_strategy),
    FIELD("podManagementPolicy", F_STRING, S, pod_management_policy),
    FIELD("startScriptVersion", F_STRING, S, start_script_version),
    NESTED("helper", helper_fields),
    FIELD("paused", F_FLAG, S, paused),
    FIELD("enableDynamicConfiguration", F_FLAG, S, enable_dynamic_configuration),
    FIELD("enablePVReclaim", F_FLAG, S, enable_pv_reclaim),
    NESTED("tlsCluster", tls_cluster_fields),
    FIELD("hostNetwork", F_FLAG, S, host_network),
    FIELD("recoveryMode", F_FLAG, S, recovery_mode),
    NESTED("suspendAction", suspend_fields),
    FIELD("acrossK8s", F_FLAG, S, acrossk8s),
    FIELD("nodeSelector", F_STRING_MAP, S, node_selector),
    FIELD("affinity", F_OBJECT, S, affinity),
    FIELD("tolerations", F_OBJECT_ARRAY, S, tolerations),
    FIELD("annotations", F_STRING_MAP, S, annotations),
    FIELD("labels", F_STRING_MAP, S, labels),
    FIELD("imagePullSecrets", F_OBJECT_ARRAY, S, image_pull_secrets),
    FIELD("podSecurityContext", F_OBJECT, S, pod_security_context),
    FIELD("dnsConfig", F_OBJECT, S, dns_config),
    FIELD("topologySpreadConstraints", F_OBJECT_ARRAY, S, topology_spread_constraints),
    FIELD("services", F_OBJECT_ARRAY, S, services),
    FIELD("pdAddresses", F_STRING_ARRAY, S, pd_addresses),
    FIELD("discovery", F_OBJECT, S, discovery),
    FIELD("pump", F_PRESENT, S, pump_present),
    RECORD("pd", S, component[TC_PD], offsetof(S, component[TC_PD].present), pd_fields),
    RECORD("tikv", S, component[TC_TIKV], offsetof(S, component[TC_TIKV].present), tikv_fields),
    RECORD("tidb", S, component[TC_TIDB], offsetof(S, component[TC_TIDB].present), tidb_fields),
    END,
};

static const struct field metadata_fields[] = {
    FIELD("name", F_STRING, T, name),
    FIELD("namespace", F_STRING, T, namespace),
    FIELD("uid", F_STRING, T, uid),
    FIELD("resourceVersion", F_STRING, T, resource_version),
    FIELD("generation", F_INT64, T, generation),
    FIELD("creationTimestamp", F_STRING, T, creation_timestamp),
    FIELD("deletionTimestamp", F_STRING, T, deletion_timestamp),
    FIELD("labels", F_STRING_MAP, T, labels),
    FIELD("annotations", F_STRING_MAP, T, annotations),
    END,
};

static const struct field object_fields[] = {
    NESTED("metadata", metadata_fields),
    RECORD("spec", T, spec, offsetof(T, spec.present), spec_fields),
    END,
};

/* Status: the JSON key order here is the order of the encoded output. */
static const struct field pd_member_fields[] = {
    FIELD("name", F_STRING, struct tc_pd_member, name),
    FIELD("id", F_STRING, struct tc_pd_member, id),
    FIELD("clientURL", F_STRING, struct tc_pd_member, client_url),
    FIELD("health", F_BOOL, struct tc_pd_member, health),
    FIELD("lastTransitionTime", F_STRING, struct tc_pd_member, last_transition_time),
    END,
};

static const struct field pd_failure_fields[] = {
    FIELD("podName", F_STRING, struct tc_pd_failure_member, pod_name),
    FIELD("memberID", F_STRING, struct tc_pd_failure_member, member_id),
    FIELD("pvcUIDSet", F_OBJECT, struct tc_pd_failure_member, pvc_uid_set),
    FIELD("memberDeleted", F_BOOL, struct tc_pd_failure_member, member_deleted),
    FIELD("hostDown", F_BOOL, struct tc_pd_failure_member, host_down),
    FIELD("createdAt", F_STRING, struct tc_pd_failure_member, created_at),
    END,
};

static const struct field unjoined_fields[] = {
    FIELD("podName", F_STRING, struct tc_unjoined_member, pod_name),
    FIELD("pvcUIDSet", F_OBJECT, struct tc_unjoined_member, pvc_uid_set),
    FIELD("createdAt", F_STRING, struct tc_unjoined_member, created_at),
    END,
};

static const struct field store_fields[] = {
    FIELD("id", F_STRING, struct tc_tikv_store, id),
    FIELD("podName", F_STRING, struct tc_tikv_store, pod_name),
    FIELD("ip", F_STRING, struct tc_tikv_store, ip),
    FIELD("leaderCount", F_INT32, struct tc_tikv_store, leader_count),
    FIELD("state", F_STRING, struct tc_tikv_store, state),
    FIELD("lastTransitionTime", F_STRING, struct tc_tikv_store, last_transition_time),
    END,
};

static const struct field failure_store_fields[] = {
    FIELD("podName", F_STRING, struct tc_tikv_failure_store, pod_name),
    FIELD("storeID", F_STRING, struct tc_tikv_failure_store, store_id),
    FIELD("storeDeleted", F_BOOL, struct tc_tikv_failure_store, store_deleted),
    FIELD("hostDown", F_BOOL, struct tc_tikv_failure_store, host_down),
    FIELD("createdAt", F_STRING, struct tc_tikv_failure_store, created_at),
    END,
};

static const struct field tidb_member_fields[] = {
    FIELD("name", F_STRING, struct tc_tidb_member, name),
    FIELD("health", F_BOOL, struct tc_tidb_member, health),
    FIELD("lastTransitionTime", F_STRING, struct tc_tidb_member, last_transition_time),
    FIELD("node", F_STRING, struct tc_tidb_member, node),
    END,
};

static const struct field tidb_failure_fields[] = {
    FIELD("podName", F_STRING, struct tc_tidb_failure_member, pod_name),
    FIELD("createdAt", F_STRING, struct tc_tidb_failure_member, created_at),
    END,
};

static const struct field condition_fields[] = {
    FIELD("type", F_STRING, struct tc_condition, type),
    FIELD("status", F_STRING, struct tc_condition, status),
    FIELD("lastUpdateTime", F_STRING, struct tc_condition, last_update_time),
    FIELD("lastTransitionTime", F_STRING, struct tc_condition, last_transition_time),
    FIELD("reason", F_STRING, struct tc_condition, reason),
    FIELD("message", F_STRING, struct tc_condition, message),
    END,
};

typedef struct tc_pd_status PS;
typedef struct tc_tikv_status KS;
typedef struct tc_tidb_status DS;
typedef struct tidbcluster_status ST;

static const struct field pd_status_fields[] = {
    FIELD("synced", F_BOOL, PS, synced),
    FIELD("phase", F_STRING, PS, phase),
    FIELD("image", F_STRING, PS, image),
    FIELD("replicas", F_INT32, PS, replicas),
    FIELD("readyReplicas", F_INT32, PS, ready_replicas),
    MAP("members", PS, members, struct tc_pd_member, name, pd_member_fields),
    RECORD("leader", PS, leader, offsetof(PS, has_leader), pd_member_fields),
    MAP("failureMembers", PS, failure_members, struct tc_pd_failure_member, pod_name, pd_failure_fields),
    MAP("unjoinedMembers", PS, unjoined_members, struct tc_unjoined_member, pod_name, unjoined_fields),
    END,
};

static const struct field tikv_status_fields[] = {
    FIELD("synced", F_BOOL, KS, synced),
    FIELD("phase", F_STRING, KS, phase),
    FIELD("image", F_STRING, KS, image),
    FIELD("replicas", F_INT32, KS, replicas),
    FIELD("readyReplicas", F_INT32, KS, ready_replicas),
    FIELD("bootStrapped", F_BOOL, KS, bootstrapped),
    FIELD("failoverUID", F_STRING, KS, failover_uid),
    MAP("stores", KS, stores, struct tc_tikv_store, id, store_fields),
    MAP("tombstoneStores", KS, tombstone_stores, struct tc_tikv_store, id, store_fields),
    MAP("failureStores", KS, failure_stores, struct tc_tikv_failure_store, store_id, failure_store_fields),
    FIELD("evictLeader", F_OBJECT, KS, evict_leader),
    END,
};

static const struct field tidb_status_fields[] = {
    FIELD("phase", F_STRING, DS, phase),
    FIELD("image", F_STRING, DS, image),
    FIELD("replicas", F_INT32, DS, replicas),
    FIELD("readyReplicas", F_INT32, DS, ready_replicas),
    MAP("members", DS, members, struct tc_tidb_member, name, tidb_member_fields),
    MAP("failureMembers", DS, failure_members, struct tc_tidb_failure_member, pod_name, tidb_failure_fields),
    END,
};

static const struct field status_fields[] = {
    FIELD("clusterID", F_STRING, ST, cluster_id),
    FIELD("observedGeneration", F_INT64, ST, observed_generation),
    RECORD("pd", ST, pd, NO_SET, pd_status_fields),
    RECORD("tikv", ST, tikv, NO_SET, tikv_status_fields),
    RECORD("tidb", ST, tidb, NO_SET, tidb_status_fields),
    LIST("conditions", ST, conditions, struct tc_condition, condition_fields),
    END,
};

/* ---- decoding ---- */

struct decoder {
    struct buffer path;
    char *error;
    bool failed;
};

static const char *json_kind(const cJSON *item)
{
    if (cJSON_IsString(item)) return "string";
    if (cJSON_IsNumber(item)) return "number";
    if (cJSON_IsBool(item)) return "boolean";
    if (cJSON_IsObject(item)) return "object";
    if (cJSON_IsArray(item)) return "array";
    if (cJSON_IsNull(item)) return "null";
    return "invalid value";
}

static bool decode_fail(struct decoder *d, const char *format, ...) __attribute__((format(printf, 2, 3)));

static bool decode_fail(struct decoder *d, const char *format, ...)
{
    if (d->failed)
        return false;
    d->failed = true;
    struct buffer message = { 0 };
    va_list args;
    va_start(args, format);
    bool ok = (d->path.length == 0 || buffer_append_format(&message, "%s: ", d->path.data)) &&
              buffer_append_vformat(&message, format, args);
    va_end(args);
    if (ok)
        d->error = buffer_take(&message);
    buffer_free(&message);
    return false;
}

static bool decode_oom(struct decoder *d)
{
    return decode_fail(d, "out of memory");
}

/* Pushes ".name" (or "name" at the root); returns the old length for pop. */
static size_t path_push(struct decoder *d, const char *name)
{
    size_t mark = d->path.length;
    if (!buffer_append_format(&d->path, "%s%s", mark ? "." : "", name))
        decode_oom(d);
    return mark;
}

static size_t path_push_index(struct decoder *d, int index)
{
    size_t mark = d->path.length;
    if (!buffer_append_format(&d->path, "[%d]", index))
        decode_oom(d);
    return mark;
}

static void path_pop(struct decoder *d, size_t mark)
{
    if (d->path.data && mark <= d->path.length) {
        d->path.length = mark;
        d->path.data[mark] = '\0';
    }
}

static bool expect_kind(struct decoder *d, const cJSON *item, bool ok, const char *wanted)
{
    if (ok)
        return true;
    return decode_fail(d, "expected %s, got %s", wanted, json_kind(item));
}

static bool decode_integer(struct decoder *d, const cJSON *item, double low, double high, double *value)
{
    if (!expect_kind(d, item, cJSON_IsNumber(item), "an integer"))
        return false;
    double v = item->valuedouble;
    if (v != floor(v))
        return decode_fail(d, "expected an integer, got %g", v);
    if (v < low || v > high)
        return decode_fail(d, "integer %.0f out of range", v);
    *value = v;
    return true;
}

/* Text for a quantity written as a JSON number ("2", "0.5"). */
static char *number_text(double value)
{
    char text[40];
    if (value == floor(value) && fabs(value) < 9e18) {
        snprintf(text, sizeof text, "%lld", (long long)value);
    } else {
        for (int precision = 1; precision <= 17; precision++) {
            snprintf(text, sizeof text, "%.*g", precision, value);
            if (strtod(text, NULL) == value)
                break;
        }
    }
    return strdup(text);
}

static bool decode_quantity(struct decoder *d, const cJSON *item, struct tc_quantity *out)
{
    if (!expect_kind(d, item, cJSON_IsString(item) || cJSON_IsNumber(item), "a string or a number"))
        return false;
    out->text = cJSON_IsString(item) ? strdup(item->valuestring) : number_text(item->valuedouble);
    if (!out->text)
        return decode_oom(d);
    out->valid = quantity_parse(out->text, &out->value, &out->error);
    return true;
}

static bool decode_resources(struct decoder *d, const cJSON *item, struct tc_resources *out)
{
    if (!expect_kind(d, item, cJSON_IsObject(item), "an object"))
        return false;
    for (const cJSON *member = item->child; member && !d->failed; member = member->next) {
        if (cJSON_IsNull(member) || !member->string)
            continue;
        size_t mark = path_push(d, member->string);
        struct tc_quantity scratch = { 0 };
        struct tc_quantity *slot = strcmp(member->string, "cpu") == 0      ? &out->cpu
                                   : strcmp(member->string, "memory") == 0  ? &out->memory
                                   : strcmp(member->string, "storage") == 0 ? &out->storage
                                                                            : &scratch;
        if (slot->text) { /* a duplicated key: the last one wins, as in Go */
            free(slot->text);
            memset(slot, 0, sizeof *slot);
        }
        decode_quantity(d, member, slot);
        free(scratch.text);
        path_pop(d, mark);
    }
    if (!d->failed && !(out->all = cJSON_Duplicate(item, true)))
        return decode_oom(d);
    return !d->failed;
}

static bool decode_config(struct decoder *d, const cJSON *item, C *component)
{
    if (cJSON_IsString(item)) {
        if (!(component->config = strdup(item->valuestring)))
            return decode_oom(d);
        return true;
    }
    if (!expect_kind(d, item, cJSON_IsObject(item), "a string (TOML) or an object"))
        return false;
    char *message = NULL;
    component->config = toml_from_json(item, &message);
    if (!component->config) {
        if (!message)
            return decode_oom(d);
        /* The converter names the member inside the config ("a.b[1]: ..."):
         * the message continues the path. */
        struct buffer text = { 0 };
        if (!d->failed && buffer_append_format(&text, "%s.%s", buffer_string(&d->path), message)) {
            d->failed = true;
            d->error = buffer_take(&text);
        } else {
            decode_oom(d);
        }
        buffer_free(&text);
        free(message);
        return false;
    }
    component->config_from_map = true;
    if (!(component->config_map = cJSON_Duplicate(item, true)))
        return decode_oom(d);
    return true;
}

static bool decode_copy(struct decoder *d, const cJSON *item, cJSON **out)
{
    cJSON_Delete(*out);
    if (!(*out = cJSON_Duplicate(item, true)))
        return decode_oom(d);
    return true;
}

/* Every element (or member) of `item` must be of one kind. */
static bool check_elements(struct decoder *d, const cJSON *item, cJSON_bool (*is)(const cJSON *), const char *wanted,
                           bool members)
{
    int index = 0;
    for (const cJSON *element = item->child; element; element = element->next, index++) {
        if (is(element))
            continue;
        size_t mark = members ? path_push(d, element->string ? element->string : "") : path_push_index(d, index);
        expect_kind(d, element, false, wanted);
        path_pop(d, mark);
        return false;
    }
    return true;
}

static bool decode_fields(struct decoder *d, const cJSON *object, const struct field *fields, char *base);
static void free_fields(const struct field *fields, char *base);

static int compare_keys(const void *a, const void *b, void *key_offset)
{
    const char *x = *(char *const *)((const char *)a + *(size_t *)key_offset);
    const char *y = *(char *const *)((const char *)b + *(size_t *)key_offset);
    return strcmp(x ? x : "", y ? y : "");
}

static bool decode_records(struct decoder *d, const cJSON *item, const struct field *field, struct list_view *list)
{
    bool map = field->type == F_MAP;
    if (!expect_kind(d, item, map ? cJSON_IsObject(item) : cJSON_IsArray(item), map ? "an object" : "an array"))
        return false;
    size_t count = (size_t)cJSON_GetArraySize(item);
    if (count == 0)
        return true;
    char *items = calloc(count, field->item_size);
    if (!items)
        return decode_oom(d);
    list->items = items;
    int index = 0;
    for (const cJSON *element = item->child; element && !d->failed; element = element->next, index++) {
        char *record = items + (size_t)index * field->item_size;
        list->count++;
        const char *key = element->string ? element->string : "";
        size_t mark = map ? path_push(d, key) : path_push_index(d, index);
        if (expect_kind(d, element, cJSON_IsObject(element), "an object") &&
            decode_fields(d, element, field->fields, record) && map) {
            char **slot = (char **)(record + field->key_offset);
            if (!*slot && !(*slot = strdup(key)))
                decode_oom(d);
        }
        path_pop(d, mark);
    }
    if (map && !d->failed) {
        size_t key_offset = field->key_offset;
        qsort_r(list->items, list->count, field->item_size, compare_keys, &key_offset);
    }
    return !d->failed;
}

static bool decode_field(struct decoder *d, const cJSON *item, const struct field *field, char *base)
{
    void *slot = base + field->offset;
    double number;
    switch (field->type) {
    case F_STRING:
        if (!expect_kind(d, item, cJSON_IsString(item), "a string"))
            return false;
        free(*(char **)slot);
        if (!(*(char **)slot = strdup(item->valuestring)))
            return decode_oom(d);
        return true;
    case F_INT32:
        if (!decode_integer(d, item, INT32_MIN, INT32_MAX, &number))
            return false;
        *(int32_t *)slot = (int32_t)number;
        return true;
    case F_INT64:
        /* Doubles above 2^63 do not convert; JSON integers that large are
         * not exact in cJSON anyway. */
        if (!decode_integer(d, item, -9.2e18, 9.2e18, &number))
            return false;
        *(int64_t *)slot = (int64_t)number;
        return true;
    case F_FLAG:
        if (!expect_kind(d, item, cJSON_IsBool(item), "a boolean"))
            return false;
        *(enum tc_flag *)slot = cJSON_IsTrue(item) ? TC_TRUE : TC_FALSE;
        return true;
    case F_BOOL:
        if (!expect_kind(d, item, cJSON_IsBool(item), "a boolean"))
            return false;
        *(bool *)slot = cJSON_IsTrue(item);
        return true;
    case F_STRING_MAP:
        if (!expect_kind(d, item, cJSON_IsObject(item), "an object") ||
            !check_elements(d, item, cJSON_IsString, "a string", true))
            return false;
        return decode_copy(d, item, (cJSON **)slot);
    case F_OBJECT:
        if (!expect_kind(d, item, cJSON_IsObject(item), "an object"))
            return false;
        return decode_copy(d, item, (cJSON **)slot);
    case F_OBJECT_ARRAY:
        if (!expect_kind(d, item, cJSON_IsArray(item), "an array") ||
            !check_elements(d, item, cJSON_IsObject, "an object", false))
            return false;
        return decode_copy(d, item, (cJSON **)slot);
    case F_STRING_ARRAY:
        if (!expect_kind(d, item, cJSON_IsArray(item), "an array") ||
            !check_elements(d, item, cJSON_IsString, "a string", false))
            return false;
        return decode_copy(d, item, (cJSON **)slot);
    case F_RESOURCES:
        return decode_resources(d, item, (struct tc_resources *)slot);
    case F_CONFIG:
        return decode_config(d, item, (C *)base);
    case F_PRESENT:
        *(bool *)slot = true;
        return true;
    case F_NESTED:
        if (!expect_kind(d, item, cJSON_IsObject(item), "an object"))
            return false;
        return decode_fields(d, item, field->fields, base);
    case F_RECORD:
        if (!expect_kind(d, item, cJSON_IsObject(item), "an object"))
            return false;
        return decode_fields(d, item, field->fields, (char *)slot);
    case F_MAP:
    case F_LIST:
        return decode_records(d, item, field, (struct list_view *)slot);
    }
    return decode_fail(d, "unknown field type");
}

static bool decode_fields(struct decoder *d, const cJSON *object, const struct field *fields, char *base)
{
    for (const struct field *field = fields; field->name && !d->failed; field++) {
        /* Exact-case lookup: JSON keys are case-sensitive in Kubernetes. */
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, field->name);
        if (!item || cJSON_IsNull(item))
            continue;
        if (field->set_offset != NO_SET)
            *(bool *)(base + field->set_offset) = true;
        size_t mark = path_push(d, field->name);
        decode_field(d, item, field, base);
        path_pop(d, mark);
    }
    return !d->failed;
}

/* ---- freeing ---- */

static void free_quantity(struct tc_quantity *quantity)
{
    free(quantity->text);
    memset(quantity, 0, sizeof *quantity);
}

static void free_field(const struct field *field, char *base)
{
    void *slot = base + field->offset;
    switch (field->type) {
    case F_STRING:
        free(*(char **)slot);
        *(char **)slot = NULL;
        break;
    case F_STRING_MAP:
    case F_OBJECT:
    case F_OBJECT_ARRAY:
    case F_STRING_ARRAY:
        cJSON_Delete(*(cJSON **)slot);
        *(cJSON **)slot = NULL;
        break;
    case F_RESOURCES: {
        struct tc_resources *resources = slot;
        free_quantity(&resources->cpu);
        free_quantity(&resources->memory);
        free_quantity(&resources->storage);
        cJSON_Delete(resources->all);
        resources->all = NULL;
        break;
    }
    case F_CONFIG: {
        C *component = (C *)base;
        free(component->config);
        cJSON_Delete(component->config_map);
        component->config = NULL;
        component->config_map = NULL;
        break;
    }
    case F_NESTED:
        free_fields(field->fields, base);
        break;
    case F_RECORD:
        free_fields(field->fields, slot);
        break;
    case F_MAP:
    case F_LIST: {
        struct list_view *list = slot;
        for (size_t i = 0; i < list->count; i++)
            free_fields(field->fields, (char *)list->items + i * field->item_size);
        free(list->items);
        list->items = NULL;
        list->count = 0;
        break;
    }
    default:
        break;
    }
}

static void free_fields(const struct field *fields, char *base)
{
    for (const struct field *field = fields; field->name; field++)
        free_field(field, base);
}

/* ---- encoding (status) ---- */

static cJSON *encode_fields(const struct field *fields, const char *base);

static bool encode_records(cJSON *parent, const struct field *field, const struct list_view *list)
{
    if (list->count == 0)
        return true;
    bool map = field->type == F_MAP;
    cJSON *container = map ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!container)
        return false;
    /* Maps are written sorted by key without touching the caller's list. */
    const char **order = malloc(list->count * sizeof *order);
    if (!order) {
        cJSON_Delete(container);
        return false;
    }
    for (size_t i = 0; i < list->count; i++)
        order[i] = (const char *)list->items + i * field->item_size;
    if (map) {
        size_t key_offset = field->key_offset;
        /* Sorting pointers to records: compare through one more indirection. */
        for (size_t i = 1; i < list->count; i++) {
            const char *current = order[i];
            size_t j = i;
            while (j > 0 && compare_keys(order[j - 1], current, &key_offset) > 0) {
                order[j] = order[j - 1];
                j--;
            }
            order[j] = current;
        }
    }
    bool ok = true;
    for (size_t i = 0; ok && i < list->count; i++) {
        cJSON *record = encode_fields(field->fields, order[i]);
        if (!record) {
            ok = false;
        } else if (map) {
            const char *key = *(char *const *)(order[i] + field->key_offset);
            ok = cJSON_AddItemToObject(container, key ? key : "", record);
            if (!ok)
                cJSON_Delete(record);
        } else {
            ok = cJSON_AddItemToArray(container, record);
            if (!ok)
                cJSON_Delete(record);
        }
    }
    free(order);
    if (!ok || !cJSON_AddItemToObject(parent, field->name, container)) {
        cJSON_Delete(container);
        return false;
    }
    return true;
}

static bool encode_field(cJSON *object, const struct field *field, const char *base)
{
    const void *slot = base + field->offset;
    switch (field->type) {
    case F_STRING: {
        const char *text = *(char *const *)slot;
        return !text || cJSON_AddStringToObject(object, field->name, text);
    }
    case F_INT32:
        return cJSON_AddNumberToObject(object, field->name, *(const int32_t *)slot) != NULL;
    case F_INT64:
        return cJSON_AddNumberToObject(object, field->name, (double)*(const int64_t *)slot) != NULL;
    case F_BOOL:
        return cJSON_AddBoolToObject(object, field->name, *(const bool *)slot) != NULL;
    case F_FLAG: {
        enum tc_flag flag = *(const enum tc_flag *)slot;
        return flag == TC_UNSET || cJSON_AddBoolToObject(object, field->name, flag == TC_TRUE);
    }
    case F_STRING_MAP:
    case F_OBJECT:
    case F_OBJECT_ARRAY:
    case F_STRING_ARRAY: {
        const cJSON *value = *(cJSON *const *)slot;
        if (!value)
            return true;
        cJSON *copy = cJSON_Duplicate(value, true);
        if (!copy || !cJSON_AddItemToObject(object, field->name, copy)) {
            cJSON_Delete(copy);
            return false;
        }
        return true;
    }
    case F_RECORD: {
        if (field->set_offset != NO_SET && !*(const bool *)(base + field->set_offset))
            return true;
        cJSON *record = encode_fields(field->fields, slot);
        if (!record || !cJSON_AddItemToObject(object, field->name, record)) {
            cJSON_Delete(record);
            return false;
        }
        return true;
    }
    case F_MAP:
    case F_LIST:
        return encode_records(object, field, slot);
    default:
        return true; /* spec-only kinds are never encoded */
    }
}

static cJSON *encode_fields(const struct field *fields, const char *base)
{
    cJSON *object = cJSON_CreateObject();
    if (!object)
        return NULL;
    for (const struct field *field = fields; field->name; field++) {
        if (!encode_field(object, field, base)) {
            cJSON_Delete(object);
            return NULL;
        }
    }
    return object;
}

/* ---- public API ---- */

const char *tidbcluster_component_name(enum tc_component component)
{
    switch (component) {
    case TC_PD: return "pd";
    case TC_TIKV: return "tikv";
    case TC_TIDB: return "tidb";
    default: return "unknown";
    }
}

void tidbcluster_status_free(struct tidbcluster_status *status)
{
    free_fields(status_fields, (char *)status);
    memset(status, 0, sizeof *status);
}

void tidbcluster_free(struct tidbcluster *cluster)
{
    if (!cluster)
        return;
    free_fields(object_fields, (char *)cluster);
    tidbcluster_field_findings_free(&cluster->fields);
    for (int i = 0; i < TC_COMPONENT_COUNT; i++)
        free(cluster->spec.component[i].image_resolved);
    tidbcluster_status_free(&cluster->status);
    memset(cluster, 0, sizeof *cluster);
}

static char *finish_error(struct decoder *d)
{
    buffer_free(&d->path);
    return d->error;
}

bool tidbcluster_status_decode(const cJSON *status, struct tidbcluster_status *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    if (!status || cJSON_IsNull(status))
        return true;
    struct decoder d = { { 0 }, NULL, false };
    path_push(&d, "status");
    if (expect_kind(&d, status, cJSON_IsObject(status), "an object"))
        decode_fields(&d, status, status_fields, (char *)out);
    if (d.failed) {
        tidbcluster_status_free(out);
        *error = finish_error(&d);
        return false;
    }
    buffer_free(&d.path);
    return true;
}

cJSON *tidbcluster_status_encode(const struct tidbcluster_status *status)
{
    return encode_fields(status_fields, (const char *)status);
}

bool tidbcluster_decode(const cJSON *object, struct tidbcluster *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    struct decoder d = { { 0 }, NULL, false };
    if (expect_kind(&d, object, cJSON_IsObject(object), "an object"))
        decode_fields(&d, object, object_fields, (char *)out);
    if (d.failed) {
        tidbcluster_free(out);
        *error = finish_error(&d);
        return false;
    }
    buffer_free(&d.path);
    for (int i = 0; i < TC_COMPONENT_COUNT; i++)
        out->spec.component[i].kind = (enum tc_component)i;
    tidbcluster_fields_scan(cJSON_GetObjectItemCaseSensitive(object, "spec"), &out->fields);
    /* The status is ours: a status that does not decode (written by an
     * older or foreign writer) must not block the spec; it is dropped and
     * rewritten by the next status update. */
    char *status_error = NULL;
    if (!tidbcluster_status_decode(cJSON_GetObjectItemCaseSensitive(object, "status"), &out->status, &status_error))
        free(status_error);
    return true;
}

static void visit_fields(const struct field *fields, const char *prefix,
                         void (*visit)(const char *path, bool group, void *context), void *context)
{
    for (const struct field *field = fields; field->name; field++) {
        char path[256];
        snprintf(path, sizeof path, "%s.%s", prefix, field->name);
        bool group = field->type == F_NESTED || field->type == F_RECORD;
        visit(path, group, context);
        if (group)
            visit_fields(field->fields, path, visit, context);
    }
}

void tidbcluster_decoded_fields(void (*visit)(const char *path, bool group, void *context), void *context)
{
    visit("spec", true, context);
    visit_fields(spec_fields, "spec", visit, context);
}

void *tidbcluster_list_add(void *items, size_t *count, size_t item_size)
{
    void **list = items;
    char *grown = realloc(*list, (*count + 1) * item_size);
    if (!grown)
        return NULL;
    *list = grown;
    char *slot = grown + *count * item_size;
    memset(slot, 0, item_size);
    (*count)++;
    return slot;
}

/* ---- defaults ---- */

static bool default_string(char **slot, const char *value)
{
    if (*slot && **slot)
        return true;
    char *copy = strdup(value);
    if (!copy)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

static void default_int(int32_t *slot, bool *set, int32_t value)
{
    if (!*set) {
        *slot = value;
        *set = true;
    }
}

static void default_flag(enum tc_flag *slot, bool value)
{
    if (*slot == TC_UNSET)
        *slot = value ? TC_TRUE : TC_FALSE;
}

/* log.file.max-backups = 3 in TiDB's config unless set (PingCAP sets it
 * whenever a TiDB config exists). */
static bool default_tidb_max_backups(C *tidb)
{
    if (!tidb->config)
        return true;
    if (tidb->config_map) {
        cJSON *log = cJSON_GetObjectItemCaseSensitive(tidb->config_map, "log");
        cJSON *file = cJSON_IsObject(log) ? cJSON_GetObjectItemCaseSensitive(log, "file") : NULL;
        if (cJSON_GetObjectItemCaseSensitive(file, "max-backups"))
            return true;
        if (log && !cJSON_IsObject(log))
            return true; /* "log" is not a table: nothing sensible to add */
        if (file && !cJSON_IsObject(file))
            return true;
        if (!log && !(log = cJSON_AddObjectToObject(tidb->config_map, "log")))
            return false;
        if (!file && !(file = cJSON_AddObjectToObject(log, "file")))
            return false;
        if (!cJSON_AddNumberToObject(file, "max-backups", TIDBCLUSTER_DEFAULT_TIDB_MAX_BACKUPS))
            return false;
        char *message = NULL;
        char *text = toml_from_json(tidb->config_map, &message);
        if (!text) {
            free(message);
            return false;
        }
        free(tidb->config);
        tidb->config = text;
        return true;
    }
    size_t length = strlen(tidb->config);
    if (toml_defines(tidb->config, length, "log.file.max-backups") != 0)
        return true; /* set already, or not TOML (validation reports that) */
    /* Appending a [log.file] section is right unless the text already
     * defines that table; then the result is invalid and the text is left
     * as the user wrote it. */
    struct buffer text = { 0 };
    bool ok = buffer_append_format(&text, "%s%s[log.file]\nmax-backups = %d\n", tidb->config,
                                   length && tidb->config[length - 1] != '\n' ? "\n" : "",
                                   TIDBCLUSTER_DEFAULT_TIDB_MAX_BACKUPS);
    if (!ok) {
        buffer_free(&text);
        return false;
    }
    if (toml_check(text.data, text.length, NULL)) {
        free(tidb->config);
        tidb->config = buffer_take(&text);
    }
    buffer_free(&text);
    return true;
}

static const char *nonempty(const char *text)
{
    return text && *text ? text : NULL;
}

static bool resolve_image(const struct tidbcluster *cluster, C *component)
{
    free(component->image_resolved);
    component->image_resolved = NULL;
    const char *base = nonempty(component->base_image);
    if (!base) {
        if (component->image && !(component->image_resolved = strdup(component->image)))
            return false;
        return true;
    }
    const char *version = nonempty(component->version) ? component->version : nonempty(cluster->spec.version);
    struct buffer image = { 0 };
    if (!(version ? buffer_append_format(&image, "%s:%s", base, version) : buffer_append_string(&image, base))) {
        buffer_free(&image);
        return false;
    }
    component->image_resolved = buffer_take(&image);
    return component->image_resolved != NULL;
}

/* The deprecated spec.services list supplies PD's service type. */
static const char *deprecated_pd_service_type(const struct tidbcluster_spec *spec)
{
    const cJSON *entry;
    cJSON_ArrayForEach(entry, spec->services) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(entry, "type");
        if (cJSON_IsString(name) && strcmp(name->valuestring, "pd") == 0 && cJSON_IsString(type) && *type->valuestring)
            return type->valuestring;
    }
    return NULL;
}

bool tidbcluster_apply_defaults(struct tidbcluster *cluster)
{
    struct tidbcluster_spec *spec = &cluster->spec;
    static const char *base_images[] = { "pingcap/pd", "pingcap/tikv", "pingcap/tidb" };
    if (!default_string(&spec->image_pull_policy, TIDBCLUSTER_DEFAULT_IMAGE_PULL_POLICY) ||
        !default_string(&spec->pv_reclaim_policy, TIDBCLUSTER_DEFAULT_PV_RECLAIM_POLICY) ||
        !default_string(&spec->helper_image, TIDBCLUSTER_DEFAULT_HELPER_IMAGE))
        return false;
    default_flag(&spec->enable_pv_reclaim, false);
    default_flag(&spec->tls_cluster_enabled, false);
    for (int i = 0; i < TC_COMPONENT_COUNT; i++) {
        C *component = &spec->component[i];
        component->kind = (enum tc_component)i;
        if (!component->present)
            continue;
        /* PingCAP: baseImage only when some version exists (a component
         * version counts even when empty: it was written). */
        if ((nonempty(spec->version) || component->version) &&
            !default_string(&component->base_image, base_images[i]))
            return false;
        if (!resolve_image(cluster, component))
            return false;
        default_int(&component->max_failover_count, &component->max_failover_count_set,
                    TIDBCLUSTER_DEFAULT_MAX_FAILOVER_COUNT);
        if (i != TC_TIDB)
            default_int(&component->spare_vol_replace_replicas, &component->spare_vol_replace_replicas_set, 1);
        if (i != TC_PD) {
            default_int(&component->scale_in_parallelism, &component->scale_in_parallelism_set, 1);
            default_int(&component->scale_out_parallelism, &component->scale_out_parallelism_set, 1);
        }
    }
    C *pd = &spec->component[TC_PD];
    if (pd->present) {
        const char *type = nonempty(pd->service.type) ? pd->service.type : deprecated_pd_service_type(spec);
        if (!default_string(&pd->service.type, type ? type : TIDBCLUSTER_DEFAULT_PD_SERVICE_TYPE) ||
            !default_string(&pd->service.port_name, TIDBCLUSTER_DEFAULT_PD_PORT_NAME))
            return false;
        default_int(&pd->start_timeout, &pd->start_timeout_set, TIDBCLUSTER_DEFAULT_PD_START_TIMEOUT);
    }
    C *tikv = &spec->component[TC_TIKV];
    if (tikv->present &&
        (!default_string(&tikv->evict_leader_timeout, TIDBCLUSTER_DEFAULT_EVICT_LEADER_TIMEOUT) ||
         !default_string(&tikv->wait_leader_transfer_back_timeout,
                         TIDBCLUSTER_DEFAULT_WAIT_LEADER_TRANSFER_BACK_TIMEOUT)))
        return false;
    C *tidb = &spec->component[TC_TIDB];
    if (tidb->present) {
        if (!default_string(&tidb->service.type, TIDBCLUSTER_DEFAULT_TIDB_SERVICE_TYPE) ||
            !default_string(&tidb->service.port_name, TIDBCLUSTER_DEFAULT_TIDB_PORT_NAME))
            return false;
        default_int(&tidb->service.port, &tidb->service.port_set, TIDBCLUSTER_DEFAULT_TIDB_PORT);
        default_flag(&tidb->service.expose_status, true);
        default_flag(&tidb->separate_slow_log, true);
        default_flag(&tidb->binlog_enabled, spec->pump_present);
        if (!default_tidb_max_backups(tidb))
            return false;
    }
    return true;
}

/* ---- accessors ---- */

const char *tidbcluster_timezone(const struct tidbcluster *cluster)
{
    return nonempty(cluster->spec.timezone) ? cluster->spec.timezone : TIDBCLUSTER_DEFAULT_TIMEZONE;
}

const char *tidbcluster_config_update_strategy(const struct tidbcluster *cluster, enum tc_component component)
{
    const char *own = component < TC_COMPONENT_COUNT ? cluster->spec.component[component].config_update_strategy : NULL;
    if (nonempty(own))
        return own;
    if (nonempty(cluster->spec.config_update_strategy))
        return cluster->spec.config_update_strategy;
    return TIDBCLUSTER_DEFAULT_CONFIG_UPDATE_STRATEGY;
}

const char *tidbcluster_image_pull_policy(const struct tidbcluster *cluster, enum tc_component component)
{
    const char *own = component < TC_COMPONENT_COUNT ? cluster->spec.component[component].image_pull_policy : NULL;
    if (nonempty(own))
        return own;
    if (nonempty(cluster->spec.image_pull_policy))
        return cluster->spec.image_pull_policy;
    return TIDBCLUSTER_DEFAULT_IMAGE_PULL_POLICY;
}

const char *tidbcluster_annotation(const struct tidbcluster *cluster, const char *key)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(cluster->annotations, key);
    return cJSON_IsString(value) ? value->valuestring : NULL;
}

const char *tidbcluster_instance(const struct tidbcluster *cluster)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(cluster->labels, "app.kubernetes.io/instance");
    if (cJSON_IsString(value) && *value->valuestring)
        return value->valuestring;
    return cluster->name ? cluster->name : "";
}

/* ---- Go durations ---- */

bool tidbcluster_parse_duration(const char *text, int64_t *milliseconds)
{
    static const struct { const char *unit; int64_t nanoseconds; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 }, { "ms", 1000000 },
        { "s", 1000000000LL }, { "m", 60000000000LL }, { "h", 3600000000000LL },
    };
    if (!text || !*text)
        return false;
    const char *p = text;
    if (*p == '+')
        p++;
    else if (*p == '-')
        return false; /* a negative timeout makes no sense here */
    if (strcmp(p, "0") == 0) {
        *milliseconds = 0;
        return true;
    }
    if (!*p)
        return false;
    __int128 total = 0;
    while (*p) {
        __int128 whole = 0;
        int64_t fraction = 0, scale = 1;
        bool digits = false;
        while (*p >= '0' && *p <= '9') {
            whole = whole * 10 + (*p++ - '0');
            digits = true;
            if (whole > INT64_MAX)
                return false;
        }
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9') {
                if (scale < 1000000000000000000LL) {
                    fraction = fraction * 10 + (*p - '0');
                    scale *= 10;
                }
                p++;
                digits = true;
            }
        }
        if (!digits)
            return false;
        size_t best = 0;
        int64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t length = strlen(units[i].unit);
            if (length > best && strncmp(p, units[i].unit, length) == 0) {
                best = length;
                unit = units[i].nanoseconds;
            }
        }
        if (!best)
            return false;
        p += best;
        total += whole * unit + (__int128)fraction * unit / scale;
        if (total > INT64_MAX)
            return false;
    }
    *milliseconds = (int64_t)(total / 1000000);
    return true;
}
