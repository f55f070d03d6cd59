/*
 * tidbcluster: the TidbCluster object (pingcap.com/v1alpha1) as typed C:
 * metadata, the spec users write (the fields of PingCAP's operator that
 * matter for PD, TiKV and TiDB, same names, same defaults) and the status we
 * write (PingCAP's shape: status.pd.members, status.tikv.stores,
 * status.tidb.members, phases, the Ready condition).
 *
 * Life cycle:
 *   tidbcluster_decode(json)        type checks with field paths, copies
 *   tidbcluster_apply_defaults()    PingCAP's defaults (§1.5 of the reference)
 *   tidbcluster_validate()          semantic checks (reconcilers/api/tidbcluster_validate.h)
 *   ... planners read it ...
 *   tidbcluster_free()
 *
 * A TidbCluster is user input: decode never crashes and never asserts; a
 * value of the wrong JSON type is an error naming the field
 * ("spec.tikv.replicas: expected an integer, got string"). Values of the
 * right type but wrong content (a bad quantity, an unknown service type,
 * config that is not TOML) decode fine and are reported by validation, so
 * that all of them can be listed at once. Unknown fields are ignored (the
 * API server keeps them) and, like the fields that do not act as PingCAP
 * documents, found by the compatibility scan (tidbcluster_fields.h) into
 * `fields`, which validation reports. JSON null is the same as an absent
 * field.
 *
 * Ownership: the struct owns every string and every cJSON copy in it; NULL
 * means absent. cJSON members (affinity, tolerations, ...) are deep copies
 * to be put verbatim into pod specs.
 */
#ifndef RECONCILERS_TIDBCLUSTER_H
#define RECONCILERS_TIDBCLUSTER_H

#include "reconcilers/api/tidbcluster_fields.h"
#include "watchers/quantity.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIDBCLUSTER_GROUP "pingcap.com"
#define TIDBCLUSTER_VERSION "v1alpha1"
#define TIDBCLUSTER_API_VERSION "pingcap.com/v1alpha1"
#define TIDBCLUSTER_KIND "TidbCluster"
#define TIDBCLUSTER_PLURAL "tidbclusters"

/* Defaults (reference §1.5). */
#define TIDBCLUSTER_DEFAULT_IMAGE_PULL_POLICY "IfNotPresent"
#define TIDBCLUSTER_DEFAULT_PV_RECLAIM_POLICY "Retain"
#define TIDBCLUSTER_DEFAULT_HELPER_IMAGE "busybox:1.26.2"
#define TIDBCLUSTER_DEFAULT_TIMEZONE "UTC"
#define TIDBCLUSTER_DEFAULT_CONFIG_UPDATE_STRATEGY "InPlace"
#define TIDBCLUSTER_DEFAULT_MAX_FAILOVER_COUNT 3
#define TIDBCLUSTER_DEFAULT_EVICT_LEADER_TIMEOUT "1500m"
#define TIDBCLUSTER_DEFAULT_WAIT_LEADER_TRANSFER_BACK_TIMEOUT "400s"
#define TIDBCLUSTER_DEFAULT_PD_START_TIMEOUT 30
#define TIDBCLUSTER_DEFAULT_TIDB_PORT 4000
#define TIDBCLUSTER_DEFAULT_TIDB_PORT_NAME "mysql-client"
#define TIDBCLUSTER_DEFAULT_PD_PORT_NAME "client"
/* Design choice (DESIGN.md "Objects per cluster"): the TiDB client service
 * is a NodePort unless the user asks for ClusterIP or LoadBalancer. */
#define TIDBCLUSTER_DEFAULT_TIDB_SERVICE_TYPE "NodePort"
#define TIDBCLUSTER_DEFAULT_PD_SERVICE_TYPE "ClusterIP"
#define TIDBCLUSTER_DEFAULT_TIDB_MAX_BACKUPS 3

enum tc_component { TC_PD, TC_TIKV, TC_TIDB, TC_COMPONENT_COUNT };

/* "pd", "tikv", "tidb" (as in names, labels and JSON). */
const char *tidbcluster_component_name(enum tc_component component);

/* An optional boolean: unset, false or true. */
enum tc_flag { TC_UNSET = 0, TC_FALSE, TC_TRUE };

/* One resource quantity as written, and parsed when it could be. */
struct tc_quantity {
    char *text;            /* NULL: absent; a JSON number is kept as its text */
    bool valid;            /* text parsed into value */
    struct quantity value;
    const char *error;     /* static reason when text is set but !valid */
};

struct tc_resources {
    struct tc_quantity cpu, memory, storage;
    cJSON *all; /* the whole map as written (other resources too); NULL: absent */
};

/* spec.pd.service / spec.tidb.service. */
struct tc_service {
    bool present;          /* the user wrote the block (PingCAP creates the TiDB client service only then) */
    char *type;            /* defaulted: PD ClusterIP (or spec.services), TiDB NodePort */
    char *external_traffic_policy;
    char *load_balancer_ip;
    char *cluster_ip;
    char *port_name;       /* defaulted: PD "client", TiDB "mysql-client" */
    int32_t port;          /* TiDB only; default 4000 */
    bool port_set;
    int32_t mysql_node_port;  /* 0: chosen by Kubernetes */
    int32_t status_node_port;
    enum tc_flag expose_status; /* TiDB; default true */
    cJSON *annotations, *labels, *load_balancer_source_ranges, *additional_ports;
};

/* spec.pd, spec.tikv, spec.tidb: the shared ComponentSpec fields and the
 * component-specific ones (each kind decodes only its own). */
struct component_spec {
    bool present; /* a component is managed only when its block exists */
    enum tc_component kind;

    int32_t replicas;
    bool replicas_set;
    char *version;       /* overrides spec.version */
    char *image;         /* deprecated full image */
    char *base_image;    /* defaulted to pingcap/<kind> when a version is set */
    char *image_resolved; /* filled by defaults: baseImage[:version], else image; NULL if neither */
    char *image_pull_policy;
    char *config_update_strategy;
    struct tc_resources requests, limits;
    char *storage_class_name;
    char *config;        /* TOML text; NULL when no config was given */
    bool config_from_map; /* config was a map, converted to TOML */
    cJSON *config_map;    /* that map (copy), for defaults that add keys; NULL otherwise */
    int32_t max_failover_count;
    bool max_failover_count_set;
    int32_t spare_vol_replace_replicas;
    bool spare_vol_replace_replicas_set;
    char *scheduler_name, *priority_class_name, *dns_policy, *data_sub_dir;
    char *stateful_set_update_strategy, *pod_management_policy;
    enum tc_flag host_network;
    int64_t termination_grace_period_seconds;
    bool termination_grace_period_seconds_set;
    cJSON *node_selector, *affinity, *tolerations, *annotations, *labels;
    cJSON *env, *env_from, *init_containers, *additional_containers, *additional_volumes,
        *additional_volume_mounts, *pod_security_context, *image_pull_secrets, *dns_config,
        *topology_spread_constraints, *storage_volumes, *readiness_probe;
    cJSON *security_context;                  /* the main container's */
    enum tc_flag automount_service_account_token;

    struct tc_service service; /* PD and TiDB */

    /* PD */
    int32_t start_timeout;     /* seconds; default 30 */
    bool start_timeout_set;
    int32_t init_wait_time;
    char *start_up_script_version, *mode, *tls_client_secret_name;
    enum tc_flag mount_cluster_client_secret;

    /* TiKV */
    char *evict_leader_timeout;              /* Go duration; default "1500m" */
    char *wait_leader_transfer_back_timeout; /* Go duration; default "400s" */
    cJSON *store_labels;                     /* array of strings */
    enum tc_flag enable_named_status_port, separate_rocksdb_log, separate_raft_log, privileged,
        recover_failover;

    /* TiKV and TiDB: scalePolicy */
    int32_t scale_in_parallelism, scale_out_parallelism; /* default 1 */
    bool scale_in_parallelism_set, scale_out_parallelism_set;

    /* TiDB */
    enum tc_flag binlog_enabled;   /* default: spec.pump present */
    enum tc_flag separate_slow_log; /* default true (PingCAP's) */
    bool separate_slow_log_set;     /* written: the slowlog sidecar runs only when written true */
    cJSON *slow_log_tailer;         /* the sidecar's {requests, limits, image, imagePullPolicy} */
    char *slow_log_volume_name;
    enum tc_flag tls_client_enabled;
    cJSON *plugins, *arguments; /* arrays of strings */
    cJSON *lifecycle;           /* the main container's */
};

struct tidbcluster_spec {
    bool present;
    char *version;
    char *timezone;               /* raw; see tidbcluster_timezone() */
    char *pv_reclaim_policy;      /* default Retain */
    char *image_pull_policy;      /* default IfNotPresent */
    char *config_update_strategy; /* raw; see tidbcluster_config_update_strategy() */
    char *cluster_domain, *scheduler_name, *priority_class_name, *dns_policy;
    char *stateful_set_update_strategy, *pod_management_policy, *start_script_version;
    char *helper_image;           /* spec.helper.image; default busybox:1.26.2 */
    char *helper_image_pull_policy; /* spec.helper.imagePullPolicy; else spec.imagePullPolicy */
    enum tc_flag paused, enable_dynamic_configuration, enable_pv_reclaim, tls_cluster_enabled,
        host_network, recovery_mode, suspend_stateful_set, acrossk8s;
    cJSON *node_selector, *affinity, *tolerations, *annotations, *labels;
    cJSON *image_pull_secrets, *pod_security_context, *dns_config, *topology_spread_constraints;
    cJSON *services;      /* deprecated [{name, type}] */
    cJSON *pd_addresses;  /* array of strings */
    cJSON *discovery;     /* spec.discovery as written; NULL: absent */
    bool pump_present;    /* spec.pump exists (TiDB binlog default) */
    struct component_spec component[TC_COMPONENT_COUNT];
};

/* ---- status ---- */

/* A list of records; items is an array of `count` records (malloc'd). */
#define TC_LIST(type) struct { type *items; size_t count; }

struct tc_pd_member {
    char *name;  /* map key */
    char *id;
    char *client_url;
    bool health;
    char *last_transition_time;
};

struct tc_pd_failure_member {
    char *pod_name; /* map key */
    char *member_id;
    bool member_deleted;
    bool host_down;
    char *created_at;
    cJSON *pvc_uid_set;
};

struct tc_unjoined_member {
    char *pod_name; /* map key */
    char *created_at;
    cJSON *pvc_uid_set;
};

struct tc_tikv_store {
    char *id; /* map key */
    char *pod_name;
    char *ip;
    int32_t leader_count;
    char *state;
    char *last_transition_time;
};

struct tc_tikv_failure_store {
    char *store_id; /* map key */
    char *pod_name;
    bool store_deleted;
    bool host_down;
    char *created_at;
};

struct tc_tidb_member {
    char *name; /* map key */
    bool health;
    char *last_transition_time;
    char *node;
};

struct tc_tidb_failure_member {
    char *pod_name; /* map key */
    char *created_at;
};

struct tc_condition {
    char *type, *status, *reason, *message, *last_update_time, *last_transition_time;
};

/* Shared head of the three component statuses. readyReplicas/replicas are
 * ours (PingCAP copies a StatefulSet status; we have none): the printer
 * columns of the CRD read them. */
#define TC_COMPONENT_STATUS_HEAD \
    char *phase;                  \
    char *image;                  \
    int32_t replicas;             \
    int32_t ready_replicas

struct tc_pd_status {
    TC_COMPONENT_STATUS_HEAD;
    bool synced;
    TC_LIST(struct tc_pd_member) members;
    bool has_leader;
    struct tc_pd_member leader;
    TC_LIST(struct tc_pd_failure_member) failure_members;
    TC_LIST(struct tc_unjoined_member) unjoined_members;
};

struct tc_tikv_status {
    TC_COMPONENT_STATUS_HEAD;
    bool synced;
    bool bootstrapped; /* JSON "bootStrapped", PingCAP's spelling */
    char *failover_uid;
    TC_LIST(struct tc_tikv_store) stores;
    TC_LIST(struct tc_tikv_store) tombstone_stores;
    TC_LIST(struct tc_tikv_failure_store) failure_stores;
    cJSON *evict_leader; /* kept as written (maintained elsewhere) */
};

struct tc_tidb_status {
    TC_COMPONENT_STATUS_HEAD;
    TC_LIST(struct tc_tidb_member) members;
    TC_LIST(struct tc_tidb_failure_member) failure_members;
};

struct tidbcluster_status {
    char *cluster_id;
    int64_t observed_generation;
    struct tc_pd_status pd;
    struct tc_tikv_status tikv;
    struct tc_tidb_status tidb;
    TC_LIST(struct tc_condition) conditions;
};

struct tidbcluster {
    char *namespace, *name, *uid, *resource_version;
    char *creation_timestamp, *deletion_timestamp;
    int64_t generation;
    cJSON *labels, *annotations; /* metadata.labels / .annotations (string maps) */
    struct tidbcluster_spec spec;
    struct tidbcluster_status status;
    /* The written spec's fields that do not act as PingCAP documents
     * (tidbcluster_fields.h), found by tidbcluster_decode; validation
     * reports them (refused ones as errors). */
    struct tc_field_findings fields;
};

/* Decodes a whole TidbCluster object into *out (which is overwritten).
 * On failure returns false, leaves *out empty (safe to free) and sets *error
 * to a malloc'd "path: problem" message (NULL if even that failed). */
bool tidbcluster_decode(const cJSON *object, struct tidbcluster *out, char **error);

/* Calls `visit` with every spec key the decoder reads, as a path
 * ("spec.pd.replicas", "spec.tidb.service.type"), `group` true for keys
 * whose members are decoded as keys of their own (spec.tlsCluster,
 * spec.pd.service, ...). For the compatibility table's test. */
void tidbcluster_decoded_fields(void (*visit)(const char *path, bool group, void *context), void *context);

/* PingCAP's defaults (idempotent). False only on allocation failure. */
bool tidbcluster_apply_defaults(struct tidbcluster *cluster);

void tidbcluster_free(struct tidbcluster *cluster);

/* Accessors with PingCAP's fallbacks (never NULL). */
const char *tidbcluster_timezone(const struct tidbcluster *cluster);
/* The component's, else the cluster's, else InPlace. */
const char *tidbcluster_config_update_strategy(const struct tidbcluster *cluster, enum tc_component component);
/* The component's, else the cluster's (defaulted IfNotPresent). */
const char *tidbcluster_image_pull_policy(const struct tidbcluster *cluster, enum tc_component component);
/* The label app.kubernetes.io/instance on the TidbCluster, else its name ("" if none). */
const char *tidbcluster_instance(const struct tidbcluster *cluster);
/* A metadata annotation, or NULL. */
const char *tidbcluster_annotation(const struct tidbcluster *cluster, const char *key);

/* Status alone: decode `status` (the object's .status; NULL = empty) and
 * encode it back. Encoding writes keys in one fixed order and map entries
 * sorted by key, leaves out NULL strings and empty maps/lists, so equal
 * statuses give byte-equal JSON. */
bool tidbcluster_status_decode(const cJSON *status, struct tidbcluster_status *out, char **error);
cJSON *tidbcluster_status_encode(const struct tidbcluster_status *status);
void tidbcluster_status_free(struct tidbcluster_status *status);

/* Appends a zeroed record to a TC_LIST (pass &list.items, &list.count and
 * sizeof *list.items); returns it, or NULL when out of memory. */
void *tidbcluster_list_add(void *items, size_t *count, size_t item_size);

/* Parses a Go duration ("1500m", "400s", "1h30m", "250ms") into
 * milliseconds, rounding down sub-millisecond parts. False when malformed
 * or negative or beyond int64. */
bool tidbcluster_parse_duration(const char *text, int64_t *milliseconds);

#endif
