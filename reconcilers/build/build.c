/*
 * build: the Kubernetes objects of a cluster from its decoded spec (see
 * build.h). Everything here is a pure function of the TidbCluster.
 *
 * JSON is assembled with a sticky failure flag (struct json): each helper
 * takes a possibly NULL parent, records an allocation failure and carries
 * on, and the builder checks the flag once at the end. That keeps the
 * object shapes readable top to bottom.
 *
 * Stability: string maps (labels, annotations, node selectors) are written
 * sorted by key, so the same content gives the same bytes whatever order the
 * user wrote it in; cJSON copies the user gave (affinity, tolerations, ...)
 * are put in verbatim.
 */
#include "reconcilers/build/build.h"

#include "reactor/buffer.h"
#include "watchers/objects.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_USED_BY "app.kubernetes.io/used-by"
#define LABEL_POD_NAME "tidb.pingcap.com/pod-name"
#define LABEL_NAME_VALUE "tidb-cluster"
#define LABEL_MANAGED_BY_VALUE "tidb-operator"

#define PD_CLIENT_PORT 2379
#define PD_PEER_PORT 2380
#define TIKV_SERVER_PORT 20160
#define TIKV_STATUS_PORT 20180
#define TIDB_SERVER_PORT 4000
#define TIDB_STATUS_PORT 10080

/* What the spec hash covers, by version. A pod whose recorded hash equals
 * the current spec's under the current version OR under an earlier one is
 * up to date (build_pod_spec_hash_accepts), so a new version restarts
 * nothing by itself (DESIGN.md: operator upgrades must not).
 *   1  every TidbCluster input of the pod, labels and annotations included
 *   2  less the pod's labels and annotations (patched onto running pods,
 *      never a restart), and less the config under configUpdateStrategy
 *      InPlace (the ConfigMap is updated in place; pods read it when they
 *      next start) */
#define SPEC_HASH_VERSION 2
_Static_assert(SPEC_HASH_VERSION == BUILD_SPEC_HASH_VERSIONS, "every version is accepted");

#define NAME_MAX_LENGTH 256

/* ---- small string helpers ---- */

static const char *nonempty(const char *text)
{
    return text && *text ? text : NULL;
}

static bool format_into(char *out, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

static bool format_into(char *out, size_t size, const char *format, ...)
{
    if (!out || size == 0)
        return false;
    va_list args;
    va_start(args, format);
    int n = vsnprintf(out, size, format, args);
    va_end(args);
    if (n < 0 || (size_t)n >= size) {
        out[0] = '\0';
        return false;
    }
    return true;
}

static bool named(const struct tidbcluster *cluster, enum tc_component component)
{
    return cluster && nonempty(cluster->name) && (unsigned)component < TC_COMPONENT_COUNT;
}

/* The component's spec when objects can be built for it, else NULL. */
static const struct component_spec *component_of(const struct tidbcluster *cluster, enum tc_component component)
{
    if (!named(cluster, component) || !cluster->spec.component[component].present)
        return NULL;
    return &cluster->spec.component[component];
}

/* FNV-1a, 64 bits: stable across runs and platforms, which is all a content
 * fingerprint needs here (nothing adversarial chooses the input). */
#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME UINT64_C(1099511628211)

static uint64_t fnv1a(uint64_t hash, const void *bytes, size_t count)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < count; i++) {
        hash ^= p[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

/* ---- names ---- */

bool build_member_name(const struct tidbcluster *cluster, enum tc_component component, int ordinal, char *out,
                       size_t size)
{
    if (!named(cluster, component) || ordinal < 0)
        return false;
    return format_into(out, size, "%s-%s-%d", cluster->name, tidbcluster_component_name(component), ordinal);
}

bool build_pvc_name(const struct tidbcluster *cluster, enum tc_component component, int ordinal, char *out,
                    size_t size)
{
    if (!named(cluster, component) || component == TC_TIDB || ordinal < 0)
        return false;
    const char *kind = tidbcluster_component_name(component);
    return format_into(out, size, "%s-%s-%s-%d", kind, cluster->name, kind, ordinal);
}

bool build_member_host(const struct tidbcluster *cluster, enum tc_component component, int ordinal, char *out,
                       size_t size)
{
    if (!named(cluster, component) || !nonempty(cluster->namespace) || ordinal < 0)
        return false;
    const char *kind = tidbcluster_component_name(component);
    const char *domain = nonempty(cluster->spec.cluster_domain);
    return format_into(out, size, "%s-%s-%d.%s-%s-peer.%s.svc%s%s", cluster->name, kind, ordinal, cluster->name,
                       kind, cluster->namespace, domain ? "." : "", domain ? domain : "");
}

bool build_pd_url(const struct tidbcluster *cluster, char *out, size_t size)
{
    if (!named(cluster, TC_PD) || !nonempty(cluster->namespace))
        return false;
    return format_into(out, size, "http://%s-pd.%s:%d", cluster->name, cluster->namespace, PD_CLIENT_PORT);
}

bool build_service_name(const struct tidbcluster *cluster, enum tc_component component, bool peer, char *out,
                        size_t size)
{
    if (!named(cluster, component) || (!peer && component == TC_TIKV))
        return false;
    return format_into(out, size, "%s-%s%s", cluster->name, tidbcluster_component_name(component),
                       peer ? "-peer" : "");
}

/* ---- sticky JSON helpers ---- */

struct json {
    bool failed;
};

static cJSON *note(struct json *j, cJSON *item)
{
    if (!item)
        j->failed = true;
    return item;
}

/* Adds an owned `item` under `key` (or to an array when key is NULL);
 * on any failure the item is freed. */
static cJSON *attach(struct json *j, cJSON *parent, const char *key, cJSON *item)
{
    if (!parent || !item) {
        cJSON_Delete(item);
        j->failed = true;
        return NULL;
    }
    bool ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        cJSON_Delete(item);
        j->failed = true;
        return NULL;
    }
    return item;
}

static cJSON *add_object(struct json *j, cJSON *parent, const char *key)
{
    return attach(j, parent, key, cJSON_CreateObject());
}

static cJSON *add_array(struct json *j, cJSON *parent, const char *key)
{
    return attach(j, parent, key, cJSON_CreateArray());
}

static cJSON *add_string(struct json *j, cJSON *parent, const char *key, const char *value)
{
    if (!value) {
        j->failed = true;
        return NULL;
    }
    return attach(j, parent, key, cJSON_CreateString(value));
}

static cJSON *add_number(struct json *j, cJSON *parent, const char *key, double value)
{
    return attach(j, parent, key, cJSON_CreateNumber(value));
}

static cJSON *add_bool(struct json *j, cJSON *parent, const char *key, bool value)
{
    return attach(j, parent, key, cJSON_CreateBool(value));
}

/* A deep copy of `value` under `key`; nothing when value is NULL. */
static void add_copy(struct json *j, cJSON *parent, const char *key, const cJSON *value)
{
    if (value)
        attach(j, parent, key, cJSON_Duplicate(value, true));
}

/* Appends a copy of every element of the array `from`. */
static void append_copies(struct json *j, cJSON *array, const cJSON *from)
{
    const cJSON *element;
    cJSON_ArrayForEach(element, from) {
        attach(j, array, NULL, cJSON_Duplicate(element, true));
    }
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Reorders the members of `object` by key. */
static void sort_members(struct json *j, cJSON *object)
{
    int count = cJSON_GetArraySize(object);
    if (count < 2)
        return;
    cJSON **members = malloc((size_t)count * sizeof *members);
    if (!members) {
        j->failed = true;
        return;
    }
    int n = 0;
    for (cJSON *member = object->child; member && n < count; member = member->next)
        members[n++] = member;
    qsort(members, (size_t)n, sizeof *members, compare_keys);
    for (int i = 0; i < n; i++)
        cJSON_DetachItemViaPointer(object, members[i]);
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(object, members[i]); /* keeps each member's key */
    free(members);
}

/* Sets map[key] = value, replacing an existing entry. */
static void map_set(struct json *j, cJSON *map, const char *key, const char *value)
{
    if (!map) {
        j->failed = true;
        return;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(map, key);
    add_string(j, map, key, value);
}

/* The string members of each map in turn (later maps win), not sorted yet;
 * values of another type are not labels and are left out (validation
 * reports them). */
static cJSON *merge_maps(struct json *j, const cJSON *const *maps, size_t count)
{
    cJSON *out = note(j, cJSON_CreateObject());
    for (size_t i = 0; out && i < count; i++) {
        const cJSON *member;
        cJSON_ArrayForEach(member, maps[i]) {
            if (cJSON_IsString(member) && member->string)
                map_set(j, out, member->string, member->valuestring);
        }
    }
    return out;
}

/* ---- metadata ---- */

static void add_owner_reference(struct json *j, cJSON *metadata, const struct tidbcluster *cluster)
{
    cJSON *reference = add_object(j, add_array(j, metadata, "ownerReferences"), NULL);
    add_string(j, reference, "apiVersion", TIDBCLUSTER_API_VERSION);
    add_string(j, reference, "kind", TIDBCLUSTER_KIND);
    add_string(j, reference, "name", cluster->name);
    add_string(j, reference, "uid", cluster->uid ? cluster->uid : "");
    add_bool(j, reference, "controller", true);
    add_bool(j, reference, "blockOwnerDeletion", true);
}

/* Our four labels over the user's maps (ours win: they select the objects),
 * plus `used-by` for services when given; sorted. */
static cJSON *labels_for(struct json *j, const struct tidbcluster *cluster, enum tc_component component,
                         const cJSON *const *user, size_t user_count, const char *used_by)
{
    cJSON *labels = merge_maps(j, user, user_count);
    map_set(j, labels, LABEL_NAME, LABEL_NAME_VALUE);
    map_set(j, labels, LABEL_MANAGED_BY, LABEL_MANAGED_BY_VALUE);
    map_set(j, labels, LABEL_INSTANCE, tidbcluster_instance(cluster));
    map_set(j, labels, LABEL_COMPONENT, tidbcluster_component_name(component));
    if (used_by)
        map_set(j, labels, LABEL_USED_BY, used_by);
    sort_members(j, labels);
    return labels;
}

/* A new object {apiVersion, kind, metadata{name, namespace, labels,
 * [annotations], ownerReferences}}; takes `labels` and `annotations`
 * (NULL or empty: none). */
static cJSON *new_object(struct json *j, const char *kind, const struct tidbcluster *cluster, const char *name,
                         cJSON *labels, cJSON *annotations)
{
    cJSON *object = note(j, cJSON_CreateObject());
    add_string(j, object, "apiVersion", "v1");
    add_string(j, object, "kind", kind);
    cJSON *metadata = add_object(j, object, "metadata");
    add_string(j, metadata, "name", name);
    if (nonempty(cluster->namespace))
        add_string(j, metadata, "namespace", cluster->namespace);
    attach(j, metadata, "labels", labels);
    if (cJSON_GetArraySize(annotations) > 0)
        attach(j, metadata, "annotations", annotations);
    else
        cJSON_Delete(annotations);
    add_owner_reference(j, metadata, cluster);
    return object;
}

/* The object, or NULL (freed) when anything failed. */
static cJSON *finish(struct json *j, cJSON *object)
{
    if (j->failed) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* ---- services ---- */

static void add_service_port(struct json *j, cJSON *ports, const char *name, int port, int target, int node_port)
{
    cJSON *entry = add_object(j, ports, NULL);
    add_string(j, entry, "name", name);
    add_string(j, entry, "protocol", "TCP");
    add_number(j, entry, "port", port);
    add_number(j, entry, "targetPort", target);
    if (node_port > 0)
        add_number(j, entry, "nodePort", node_port);
}

/* Selector = the pods' four identifying labels. */
static void add_selector(struct json *j, cJSON *spec, const struct tidbcluster *cluster, enum tc_component component)
{
    attach(j, spec, "selector", labels_for(j, cluster, component, NULL, 0, NULL));
}

static bool exposes_node_ports(const char *type)
{
    return type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
}

cJSON *build_service_client(const struct tidbcluster *cluster, enum tc_component component)
{
    const struct component_spec *spec = component_of(cluster, component);
    char name[NAME_MAX_LENGTH];
    if (!spec || component == TC_TIKV || !build_service_name(cluster, component, false, name, sizeof name))
        return NULL;
    const struct tc_service *service = &spec->service;
    struct json j = { 0 };
    const cJSON *user_labels[] = { service->labels };
    const cJSON *user_annotations[] = { service->annotations };
    cJSON *annotations = merge_maps(&j, user_annotations, 1);
    sort_members(&j, annotations);
    cJSON *object = new_object(&j, "Service", cluster, name, labels_for(&j, cluster, component, user_labels, 1, "end-user"),
                               annotations);
    cJSON *body = add_object(&j, object, "spec");

    const char *fallback_type = component == TC_PD ? TIDBCLUSTER_DEFAULT_PD_SERVICE_TYPE
                                                   : TIDBCLUSTER_DEFAULT_TIDB_SERVICE_TYPE;
    const char *type = nonempty(service->type) ? service->type : fallback_type;
    bool node_ports = exposes_node_ports(type);
    bool load_balancer = strcmp(type, "LoadBalancer") == 0;
    add_string(&j, body, "type", type);
    if (nonempty(service->cluster_ip))
        add_string(&j, body, "clusterIP", service->cluster_ip);
    cJSON *ports = add_array(&j, body, "ports");
    if (component == TC_PD) {
        const char *port_name = nonempty(service->port_name) ? service->port_name : TIDBCLUSTER_DEFAULT_PD_PORT_NAME;
        add_service_port(&j, ports, port_name, PD_CLIENT_PORT, PD_CLIENT_PORT, 0);
    } else {
        const char *port_name = nonempty(service->port_name) ? service->port_name : TIDBCLUSTER_DEFAULT_TIDB_PORT_NAME;
        int port = service->port_set && service->port > 0 ? service->port : TIDBCLUSTER_DEFAULT_TIDB_PORT;
        add_service_port(&j, ports, port_name, port, TIDB_SERVER_PORT, node_ports ? service->mysql_node_port : 0);
        if (service->expose_status != TC_FALSE)
            add_service_port(&j, ports, "status", TIDB_STATUS_PORT, TIDB_STATUS_PORT,
                             node_ports ? service->status_node_port : 0);
        append_copies(&j, ports, service->additional_ports);
    }
    add_selector(&j, body, cluster, component);
    /* These fields are refused by the API server on other service types. */
    if (node_ports && nonempty(service->external_traffic_policy))
        add_string(&j, body, "externalTrafficPolicy", service->external_traffic_policy);
    if (load_balancer && nonempty(service->load_balancer_ip))
        add_string(&j, body, "loadBalancerIP", service->load_balancer_ip);
    if (load_balancer)
        add_copy(&j, body, "loadBalancerSourceRanges", service->load_balancer_source_ranges);
    return finish(&j, object);
}

cJSON *build_service_peer(const struct tidbcluster *cluster, enum tc_component component)
{
    char name[NAME_MAX_LENGTH];
    if (!component_of(cluster, component) || !build_service_name(cluster, component, true, name, sizeof name))
        return NULL;
    struct json j = { 0 };
    cJSON *object = new_object(&j, "Service", cluster, name, labels_for(&j, cluster, component, NULL, 0, "peer"), NULL);
    cJSON *body = add_object(&j, object, "spec");
    add_string(&j, body, "type", "ClusterIP");
    add_string(&j, body, "clusterIP", "None");
    cJSON *ports = add_array(&j, body, "ports");
    switch (component) {
    case TC_PD:
        add_service_port(&j, ports, "tcp-peer-2380", PD_PEER_PORT, PD_PEER_PORT, 0);
        add_service_port(&j, ports, "tcp-peer-2379", PD_CLIENT_PORT, PD_CLIENT_PORT, 0);
        break;
    case TC_TIKV:
        add_service_port(&j, ports, "peer", TIKV_SERVER_PORT, TIKV_SERVER_PORT, 0);
        break;
    default:
        add_service_port(&j, ports, "status", TIDB_STATUS_PORT, TIDB_STATUS_PORT, 0);
        break;
    }
    add_selector(&j, body, cluster, component);
    /* Members must find each other by DNS before they are ready (PD's raft
     * group forms only once its peers resolve). */
    add_bool(&j, body, "publishNotReadyAddresses", true);
    return finish(&j, object);
}

/* ---- ConfigMaps ---- */

static const char *config_text(const struct component_spec *spec)
{
    return spec->config ? spec->config : "";
}

/* The hash of the ConfigMap's data: config file, a NUL, start script. */
static bool content_hash(const struct tidbcluster *cluster, enum tc_component component, uint64_t *hash)
{
    const struct component_spec *spec = component_of(cluster, component);
    if (!spec)
        return false;
    char *script = build_start_script(cluster, component);
    if (!script)
        return false;
    const char *config = config_text(spec);
    uint64_t h = fnv1a(FNV_OFFSET, config, strlen(config) + 1);
    *hash = fnv1a(h, script, strlen(script));
    free(script);
    return true;
}

bool build_config_hash(const struct tidbcluster *cluster, enum tc_component component, char out[17])
{
    uint64_t hash;
    if (!out || !content_hash(cluster, component, &hash))
        return false;
    snprintf(out, 17, "%016" PRIx64, hash);
    return true;
}

static bool config_in_place(const struct tidbcluster *cluster, enum tc_component component)
{
    return strcmp(tidbcluster_config_update_strategy(cluster, component), "InPlace") == 0;
}

static bool configmap_name_of(const struct tidbcluster *cluster, enum tc_component component, const char *hash,
                              char *out, size_t size);

bool build_configmap_identity(const struct tidbcluster *cluster, enum tc_component component, char hash[17],
                              char *name, size_t size)
{
    return build_config_hash(cluster, component, hash) && configmap_name_of(cluster, component, hash, name, size);
}

bool build_configmap_name(const struct tidbcluster *cluster, enum tc_component component, char *out, size_t size)
{
    char hash[17];
    return build_configmap_identity(cluster, component, hash, out, size);
}

static bool configmap_name_of(const struct tidbcluster *cluster, enum tc_component component, const char *hash,
                              char *out, size_t size)
{
    if (config_in_place(cluster, component))
        return format_into(out, size, "%s-%s", cluster->name, tidbcluster_component_name(component));
    return format_into(out, size, "%s-%s-%.8s", cluster->name, tidbcluster_component_name(component), hash);
}

cJSON *build_configmap(const struct tidbcluster *cluster, enum tc_component component)
{
    const struct component_spec *spec = component_of(cluster, component);
    char hash[17], name[NAME_MAX_LENGTH];
    if (!spec || !build_config_hash(cluster, component, hash) ||
        !build_configmap_name(cluster, component, name, sizeof name))
        return NULL;
    char *script = build_start_script(cluster, component);
    if (!script)
        return NULL;
    struct json j = { 0 };
    cJSON *annotations = note(&j, cJSON_CreateObject());
    add_string(&j, annotations, ANNOTATION_CONFIG_HASH, hash);
    cJSON *object = new_object(&j, "ConfigMap", cluster, name, labels_for(&j, cluster, component, NULL, 0, NULL),
                               annotations);
    cJSON *data = add_object(&j, object, "data");
    add_string(&j, data, "config-file", config_text(spec));
    add_string(&j, data, "startup-script", script);
    free(script);
    return finish(&j, object);
}

/* ---- PVCs ---- */

cJSON *build_pvc(const struct tidbcluster *cluster, enum tc_component component, int ordinal)
{
    const struct component_spec *spec = component_of(cluster, component);
    char name[NAME_MAX_LENGTH], pod[NAME_MAX_LENGTH];
    if (!spec || component == TC_TIDB || !build_pvc_name(cluster, component, ordinal, name, sizeof name) ||
        !build_member_name(cluster, component, ordinal, pod, sizeof pod))
        return NULL;
    struct json j = { 0 };
    /* PingCAP records the owning member as label and annotation; tools and
     * the pvc cleaner look for either. */
    cJSON *labels = labels_for(&j, cluster, component, NULL, 0, NULL);
    map_set(&j, labels, LABEL_POD_NAME, pod);
    sort_members(&j, labels);
    cJSON *annotations = note(&j, cJSON_CreateObject());
    add_string(&j, annotations, LABEL_POD_NAME, pod);
    cJSON *object = new_object(&j, "PersistentVolumeClaim", cluster, name, labels, annotations);
    /* Data is deleted only by an explicit policy: with Retain (the default)
     * the claim has no owner, so deleting the TidbCluster never lets the
     * garbage collector take it. */
    if (!cluster->spec.pv_reclaim_policy || strcmp(cluster->spec.pv_reclaim_policy, "Delete") != 0)
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(object, "metadata"),
                                                "ownerReferences");
    cJSON *body = add_object(&j, object, "spec");
    add_string(&j, add_array(&j, body, "accessModes"), NULL, "ReadWriteOnce");
    cJSON *requests = add_object(&j, add_object(&j, body, "resources"), "requests");
    /* No invented size: without spec.<c>.requests.storage (which
     * validation requires) the API server refuses the claim, visibly. */
    if (spec->requests.storage.text)
        add_string(&j, requests, "storage", spec->requests.storage.text);
    if (nonempty(spec->storage_class_name))
        add_string(&j, body, "storageClassName", spec->storage_class_name);
    return finish(&j, object);
}

/* ---- pods ---- */

/* The component's value when it has one, else the cluster's. */
static const cJSON *either(const cJSON *own, const cJSON *cluster_wide)
{
    return own ? own : cluster_wide;
}

static const char *either_string(const char *own, const char *cluster_wide)
{
    return nonempty(own) ? own : nonempty(cluster_wide);
}

/* ---- TiDB's slow log sidecar ---- */

#define SLOW_LOG_VOLUME "slowlog"
#define SLOW_LOG_DIR "/var/log/tidb"
#define SLOW_LOG_FILE SLOW_LOG_DIR "/slowlog"

/* Only when the user wrote separateSlowLog: true: PingCAP's default (true)
 * would add a container to every existing TiDB pod. */
static bool slow_log_sidecar(const struct component_spec *spec, enum tc_component component)
{
    return component == TC_TIDB && spec->separate_slow_log_set && spec->separate_slow_log == TC_TRUE;
}

static const char *tailer_string(const struct component_spec *spec, const char *key)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(spec->slow_log_tailer, key);
    return cJSON_IsString(value) && *value->valuestring ? value->valuestring : NULL;
}

/* `slowlog`: the helper image tailing the slow log file TiDB writes to the
 * shared emptyDir, so `kubectl logs <pod> -c slowlog` shows it. */
static cJSON *slow_log_container(struct json *j, const struct tidbcluster *cluster, const struct component_spec *spec)
{
    const char *image = tailer_string(spec, "image");
    const char *policy = tailer_string(spec, "imagePullPolicy");
    if (!policy)
        policy = either_string(cluster->spec.helper_image_pull_policy, cluster->spec.image_pull_policy);
    cJSON *container = note(j, cJSON_CreateObject());
    add_string(j, container, "name", "slowlog");
    add_string(j, container, "image", image ? image : nonempty(cluster->spec.helper_image) ? cluster->spec.helper_image
                                                                                           : TIDBCLUSTER_DEFAULT_HELPER_IMAGE);
    add_string(j, container, "imagePullPolicy", policy ? policy : TIDBCLUSTER_DEFAULT_IMAGE_PULL_POLICY);
    cJSON *command = add_array(j, container, "command");
    add_string(j, command, NULL, "sh");
    add_string(j, command, NULL, "-c");
    add_string(j, command, NULL, "touch " SLOW_LOG_FILE "; tail -n0 -F " SLOW_LOG_FILE ";");
    cJSON *resources = add_object(j, container, "resources");
    static const char *const parts[] = { "limits", "requests" };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(spec->slow_log_tailer, parts[i]);
        if (cJSON_IsObject(part) && part->child)
            add_copy(j, resources, parts[i], part);
    }
    cJSON *mount = add_object(j, add_array(j, container, "volumeMounts"), NULL);
    add_string(j, mount, "name", SLOW_LOG_VOLUME);
    add_string(j, mount, "mountPath", SLOW_LOG_DIR);
    return container;
}

/* A resource map without `storage` (that goes to the PVC), values as text. */
static cJSON *container_quantities(struct json *j, const struct tc_resources *resources)
{
    cJSON *out = note(j, cJSON_CreateObject());
    const cJSON *member;
    cJSON_ArrayForEach(member, resources->all) {
        if (!member->string || strcmp(member->string, "storage") == 0)
            continue;
        if (cJSON_IsString(member)) {
            add_string(j, out, member->string, member->valuestring);
        } else if (cJSON_IsNumber(member)) {
            char *text = cJSON_PrintUnformatted(member);
            add_string(j, out, member->string, text);
            free(text);
        }
    }
    sort_members(j, out);
    return out;
}

static cJSON *container_resources(struct json *j, const struct component_spec *spec)
{
    cJSON *resources = note(j, cJSON_CreateObject());
    cJSON *limits = container_quantities(j, &spec->limits);
    cJSON *requests = container_quantities(j, &spec->requests);
    if (cJSON_GetArraySize(limits) > 0)
        attach(j, resources, "limits", limits);
    else
        cJSON_Delete(limits);
    if (cJSON_GetArraySize(requests) > 0)
        attach(j, resources, "requests", requests);
    else
        cJSON_Delete(requests);
    return resources;
}

/* TiKV's --capacity from limits.storage (PingCAP's rule): whole GiB as
 * "<n>GB", otherwise "<n>MB"; "0" (no limit) when unset. */
static void tikv_capacity(const struct component_spec *spec, char *out, size_t size)
{
    const struct tc_quantity *storage = &spec->limits.storage;
    int64_t bytes = storage->valid ? quantity_value(&storage->value) : 0;
    const int64_t mib = INT64_C(1) << 20, gib = INT64_C(1) << 30;
    if (bytes <= 0)
        snprintf(out, size, "0");
    else if (bytes % gib == 0)
        snprintf(out, size, "%" PRId64 "GB", bytes / gib);
    else
        snprintf(out, size, "%" PRId64 "MB", bytes / mib);
}

static void add_env_value(struct json *j, cJSON *env, const char *name, const char *value)
{
    cJSON *entry = add_object(j, env, NULL);
    add_string(j, entry, "name", name);
    add_string(j, entry, "value", value);
}

static void add_env_field(struct json *j, cJSON *env, const char *name, const char *field)
{
    cJSON *entry = add_object(j, env, NULL);
    add_string(j, entry, "name", name);
    add_string(j, add_object(j, add_object(j, entry, "valueFrom"), "fieldRef"), "fieldPath", field);
}

/* Names the operator sets; a user env entry of the same name is dropped
 * (PingCAP's reserved list plus ours). */
static bool reserved_env(const char *name)
{
    static const char *const reserved[] = {
        "NAMESPACE", "TZ", "SERVICE_NAME", "PEER_SERVICE_NAME", "HEADLESS_SERVICE_NAME", "SET_NAME",
        "HOSTNAME", "CLUSTER_NAME", "POD_NAME", "BINLOG_ENABLED", "SLOW_LOG_FILE", "CAPACITY",
        "PD_INITIAL_CLUSTER", "PD_JOIN",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return true;
    return false;
}

/* The container's environment; `pd_start` adds PD's start mode. */
static cJSON *container_env(struct json *j, const struct tidbcluster *cluster, enum tc_component component,
                            const struct build_pd_start *pd_start)
{
    const struct component_spec *spec = &cluster->spec.component[component];
    char service[NAME_MAX_LENGTH], peer[NAME_MAX_LENGTH];
    build_service_name(cluster, component, true, peer, sizeof peer);
    cJSON *env = note(j, cJSON_CreateArray());
    add_env_field(j, env, "NAMESPACE", "metadata.namespace");
    add_env_field(j, env, "POD_NAME", "metadata.name");
    add_env_value(j, env, "CLUSTER_NAME", cluster->name);
    add_env_value(j, env, "TZ", tidbcluster_timezone(cluster));
    switch (component) {
    case TC_PD:
        build_service_name(cluster, component, false, service, sizeof service);
        add_env_value(j, env, "PEER_SERVICE_NAME", peer);
        add_env_value(j, env, "SERVICE_NAME", service);
        if (pd_start && pd_start->join && nonempty(pd_start->join_urls))
            add_env_value(j, env, "PD_JOIN", pd_start->join_urls);
        else if (pd_start && !pd_start->join && nonempty(pd_start->initial_cluster))
            add_env_value(j, env, "PD_INITIAL_CLUSTER", pd_start->initial_cluster);
        break;
    case TC_TIKV: {
        char capacity[32];
        tikv_capacity(spec, capacity, sizeof capacity);
        add_env_value(j, env, "HEADLESS_SERVICE_NAME", peer);
        add_env_value(j, env, "CAPACITY", capacity);
        break;
    }
    default:
        add_env_value(j, env, "HEADLESS_SERVICE_NAME", peer);
        add_env_value(j, env, "BINLOG_ENABLED", spec->binlog_enabled == TC_TRUE ? "true" : "false");
        if (slow_log_sidecar(spec, component))
            add_env_value(j, env, "SLOW_LOG_FILE", SLOW_LOG_FILE);
        break;
    }
    const cJSON *entry;
    cJSON_ArrayForEach(entry, spec->env) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
        if (cJSON_IsString(name) && !reserved_env(name->valuestring))
            attach(j, env, NULL, cJSON_Duplicate(entry, true));
    }
    return env;
}

static void add_container_port(struct json *j, cJSON *ports, const char *name, int port)
{
    cJSON *entry = add_object(j, ports, NULL);
    add_string(j, entry, "name", name);
    add_number(j, entry, "containerPort", port);
    add_string(j, entry, "protocol", "TCP");
}

/* TCP on the client port, PingCAP's 10 s initial delay; the user's
 * readinessProbe may change the timings, and for TiDB ask for the status
 * API instead (type: command). */
static cJSON *readiness_probe(struct json *j, const struct component_spec *spec, enum tc_component component)
{
    static const int ports[] = { PD_CLIENT_PORT, TIKV_SERVER_PORT, TIDB_SERVER_PORT };
    const cJSON *user = spec->readiness_probe;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(user, "type");
    const cJSON *delay = cJSON_GetObjectItemCaseSensitive(user, "initialDelaySeconds");
    const cJSON *period = cJSON_GetObjectItemCaseSensitive(user, "periodSeconds");
    cJSON *probe = note(j, cJSON_CreateObject());
    if (component == TC_TIDB && cJSON_IsString(type) && strcmp(type->valuestring, "command") == 0) {
        cJSON *command = add_array(j, add_object(j, probe, "exec"), "command");
        static const char *const words[] = { "curl", "--fail", "--location", "http://127.0.0.1:10080/status" };
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            add_string(j, command, NULL, words[i]);
    } else {
        add_number(j, add_object(j, probe, "tcpSocket"), "port", ports[component]);
    }
    add_number(j, probe, "initialDelaySeconds", cJSON_IsNumber(delay) ? delay->valuedouble : 10);
    if (cJSON_IsNumber(period))
        add_number(j, probe, "periodSeconds", period->valuedouble);
    return probe;
}

static void add_mount(struct json *j, cJSON *mounts, const char *name, const char *path, bool read_only)
{
    cJSON *mount = add_object(j, mounts, NULL);
    add_string(j, mount, "name", name);
    add_string(j, mount, "mountPath", path);
    if (read_only)
        add_bool(j, mount, "readOnly", true);
}

static void add_configmap_volume(struct json *j, cJSON *volumes, const char *volume, const char *configmap,
                                 const char *key, const char *path)
{
    cJSON *entry = add_object(j, volumes, NULL);
    add_string(j, entry, "name", volume);
    cJSON *source = add_object(j, entry, "configMap");
    add_string(j, source, "name", configmap);
    cJSON *item = add_object(j, add_array(j, source, "items"), NULL);
    add_string(j, item, "key", key);
    add_string(j, item, "path", path);
}

/* The pod's user-set annotations (cluster's, then the component's) with
 * PingCAP's Prometheus scrape hints underneath. */
static cJSON *user_annotations(struct json *j, const struct tidbcluster *cluster, const struct component_spec *spec)
{
    const cJSON *maps[] = { cluster->spec.annotations, spec->annotations };
    return merge_maps(j, maps, 2);
}

static cJSON *user_labels(struct json *j, const struct tidbcluster *cluster, const struct component_spec *spec)
{
    const cJSON *maps[] = { cluster->spec.labels, spec->labels };
    return merge_maps(j, maps, 2);
}

static cJSON *node_selector(struct json *j, const struct tidbcluster *cluster, const struct component_spec *spec)
{
    const cJSON *maps[] = { cluster->spec.node_selector, spec->node_selector };
    cJSON *selector = merge_maps(j, maps, 2);
    sort_members(j, selector);
    return selector;
}

/* Attaches `map` under key when it has members; frees it otherwise. */
static void attach_nonempty(struct json *j, cJSON *parent, const char *key, cJSON *map)
{
    if (cJSON_GetArraySize(map) > 0)
        attach(j, parent, key, map);
    else
        cJSON_Delete(map);
}

/* The component's hostNetwork, else the cluster's (PingCAP: the
 * component's value, true or false, wins). */
static bool host_network(const struct tidbcluster *cluster, const struct component_spec *spec)
{
    if (spec->host_network != TC_UNSET)
        return spec->host_network == TC_TRUE;
    return cluster->spec.host_network == TC_TRUE;
}

/* The pod's dnsPolicy: the user's, else ClusterFirstWithHostNet on the
 * host network (so cluster DNS names still resolve), else none. */
static const char *dns_policy(const struct tidbcluster *cluster, const struct component_spec *spec)
{
    const char *text = either_string(spec->dns_policy, cluster->spec.dns_policy);
    if (!text && host_network(cluster, spec))
        text = "ClusterFirstWithHostNet";
    return text;
}

/* The main container's securityContext: the user's, with TiKV's
 * deprecated `privileged` when the user's does not say; NULL when empty. */
static cJSON *container_security_context(struct json *j, const struct component_spec *spec,
                                         enum tc_component component)
{
    bool privileged = component == TC_TIKV && spec->privileged == TC_TRUE;
    if (!spec->security_context && !privileged)
        return NULL;
    cJSON *context = spec->security_context ? note(j, cJSON_Duplicate(spec->security_context, true))
                                            : note(j, cJSON_CreateObject());
    if (context && privileged && !cJSON_GetObjectItemCaseSensitive(context, "privileged"))
        add_bool(j, context, "privileged", true);
    return context;
}

static const char *image_of(const struct component_spec *spec, enum tc_component component)
{
    static const char *const fallback[] = { "pingcap/pd", "pingcap/tikv", "pingcap/tidb" };
    /* Validation requires a version; without one, PingCAP's base image
     * (its latest tag) is the only sensible image. */
    return nonempty(spec->image_resolved) ? spec->image_resolved : fallback[component];
}

/* What build_pod_spec_hash covers: every TidbCluster input of a pod, in
 * one fixed order, maps sorted. Deliberately not the generated pod itself,
 * so a new operator release that writes pods differently restarts nothing;
 * and not the start script's text (same reason), only the spec fields
 * that shape it. */
static cJSON *hash_inputs(struct json *j, const struct tidbcluster *cluster, enum tc_component component,
                          int version)
{
    const struct component_spec *spec = &cluster->spec.component[component];
    const struct tidbcluster_spec *all = &cluster->spec;
    cJSON *in = note(j, cJSON_CreateObject());
    add_number(j, in, "version", version);
    add_string(j, in, "cluster", cluster->name);
    add_string(j, in, "component", tidbcluster_component_name(component));
    add_string(j, in, "image", image_of(spec, component));
    add_string(j, in, "imagePullPolicy", tidbcluster_image_pull_policy(cluster, component));
    if (version == 1 || !config_in_place(cluster, component))
        add_string(j, in, "config", config_text(spec));
    add_string(j, in, "timezone", tidbcluster_timezone(cluster));
    add_string(j, in, "clusterDomain", all->cluster_domain ? all->cluster_domain : "");
    add_string(j, in, "dataSubDir", spec->data_sub_dir ? spec->data_sub_dir : "");
    attach(j, in, "resources", container_resources(j, spec));
    attach(j, in, "nodeSelector", node_selector(j, cluster, spec));
    if (version == 1) {
        cJSON *annotations = user_annotations(j, cluster, spec);
        sort_members(j, annotations);
        attach(j, in, "annotations", annotations);
        cJSON *labels = user_labels(j, cluster, spec);
        sort_members(j, labels);
        attach(j, in, "labels", labels);
    }
    add_copy(j, in, "affinity", either(spec->affinity, all->affinity));
    add_copy(j, in, "tolerations", either(spec->tolerations, all->tolerations));
    add_copy(j, in, "env", spec->env);
    add_copy(j, in, "envFrom", spec->env_from);
    add_copy(j, in, "readinessProbe", spec->readiness_probe);
    add_copy(j, in, "imagePullSecrets", either(spec->image_pull_secrets, all->image_pull_secrets));
    add_copy(j, in, "podSecurityContext", either(spec->pod_security_context, all->pod_security_context));
    add_copy(j, in, "dnsConfig", either(spec->dns_config, all->dns_config));
    add_copy(j, in, "topologySpreadConstraints",
             either(spec->topology_spread_constraints, all->topology_spread_constraints));
    add_copy(j, in, "initContainers", spec->init_containers);
    add_copy(j, in, "additionalContainers", spec->additional_containers);
    add_copy(j, in, "additionalVolumes", spec->additional_volumes);
    add_copy(j, in, "additionalVolumeMounts", spec->additional_volume_mounts);
    const char *text;
    if ((text = either_string(spec->scheduler_name, all->scheduler_name)))
        add_string(j, in, "schedulerName", text);
    if ((text = either_string(spec->priority_class_name, all->priority_class_name)))
        add_string(j, in, "priorityClassName", text);
    if ((text = dns_policy(cluster, spec)))
        add_string(j, in, "dnsPolicy", text);
    if (spec->termination_grace_period_seconds_set)
        add_number(j, in, "terminationGracePeriodSeconds", (double)spec->termination_grace_period_seconds);
    /* Only when set, so the hashes of pods without them do not move. */
    if (host_network(cluster, spec))
        add_bool(j, in, "hostNetwork", true);
    cJSON *security = container_security_context(j, spec, component);
    if (security)
        attach(j, in, "securityContext", security);
    if (spec->automount_service_account_token != TC_UNSET)
        add_bool(j, in, "automountServiceAccountToken", spec->automount_service_account_token == TC_TRUE);
    if (component == TC_TIDB)
        add_copy(j, in, "lifecycle", spec->lifecycle);
    if (slow_log_sidecar(spec, component)) {
        cJSON *slow_log = add_object(j, in, "slowLog");
        add_string(j, slow_log, "helperImage", all->helper_image ? all->helper_image : "");
        add_string(j, slow_log, "helperImagePullPolicy",
                   all->helper_image_pull_policy ? all->helper_image_pull_policy : "");
        add_copy(j, slow_log, "tailer", spec->slow_log_tailer);
    }
    switch (component) {
    case TC_PD:
        add_number(j, in, "startTimeout", spec->start_timeout);
        break;
    case TC_TIKV: {
        char capacity[32];
        tikv_capacity(spec, capacity, sizeof capacity);
        add_string(j, in, "capacity", capacity);
        break;
    }
    default:
        add_bool(j, in, "binlog", spec->binlog_enabled == TC_TRUE);
        add_copy(j, in, "plugins", spec->plugins);
        add_copy(j, in, "arguments", spec->arguments);
        break;
    }
    return in;
}

/* The FNV-1a of a tree's compact text, as 16 hex digits; takes `tree`. */
static bool hash_tree(struct json *j, cJSON *tree, char out[17])
{
    char *text = j->failed ? NULL : cJSON_PrintUnformatted(tree);
    cJSON_Delete(tree);
    if (!text)
        return false;
    snprintf(out, 17, "%016" PRIx64, fnv1a(FNV_OFFSET, text, strlen(text)));
    free(text);
    return true;
}

static bool spec_hash_of_version(const struct tidbcluster *cluster, enum tc_component component, int version,
                                 char out[17])
{
    if (!out || !component_of(cluster, component))
        return false;
    struct json j = { 0 };
    return hash_tree(&j, hash_inputs(&j, cluster, component, version), out);
}

bool build_pod_spec_hash(const struct tidbcluster *cluster, enum tc_component component, char out[17])
{
    return spec_hash_of_version(cluster, component, SPEC_HASH_VERSION, out);
}

size_t build_pod_spec_hashes_accepted(const struct tidbcluster *cluster, enum tc_component component,
                                      char out[BUILD_SPEC_HASH_VERSIONS][17])
{
    size_t count = 0;
    for (int version = SPEC_HASH_VERSION; version >= 1 && count < BUILD_SPEC_HASH_VERSIONS; version--)
        if (!spec_hash_of_version(cluster, component, version, out[count++]))
            return 0;
    return count;
}

bool build_pod_metadata_hash(const struct tidbcluster *cluster, enum tc_component component, char out[17])
{
    const struct component_spec *spec = component_of(cluster, component);
    if (!out || !spec)
        return false;
    struct json j = { 0 };
    cJSON *in = note(&j, cJSON_CreateObject());
    cJSON *annotations = user_annotations(&j, cluster, spec);
    sort_members(&j, annotations);
    attach(&j, in, "annotations", annotations);
    cJSON *labels = user_labels(&j, cluster, spec);
    sort_members(&j, labels);
    attach(&j, in, "labels", labels);
    return hash_tree(&j, in, out);
}

static void add_pod_metadata_parts(struct json *j, const struct tidbcluster *cluster, enum tc_component component,
                                   const struct component_spec *spec, const char *spec_hash, cJSON **labels,
                                   cJSON **annotations)
{
    static const char *const metrics_ports[] = { "2379", "20180", "10080" };
    const cJSON *user[] = { cluster->spec.labels, spec->labels };
    *labels = labels_for(j, cluster, component, user, 2, NULL);
    /* Scrape hints first, so the user's annotations can override them. */
    cJSON *merged = note(j, cJSON_CreateObject());
    add_string(j, merged, "prometheus.io/scrape", "true");
    add_string(j, merged, "prometheus.io/path", "/metrics");
    add_string(j, merged, "prometheus.io/port", metrics_ports[component]);
    cJSON *own = user_annotations(j, cluster, spec);
    cJSON *member;
    cJSON_ArrayForEach(member, own) {
        map_set(j, merged, member->string, member->valuestring);
    }
    cJSON_Delete(own);
    map_set(j, merged, ANNOTATION_SPEC_HASH, spec_hash);
    char metadata_hash[17];
    if (build_pod_metadata_hash(cluster, component, metadata_hash))
        map_set(j, merged, ANNOTATION_METADATA_HASH, metadata_hash);
    else
        j->failed = true;
    sort_members(j, merged);
    *annotations = merged;
}

static cJSON *main_container(struct json *j, const struct tidbcluster *cluster, enum tc_component component,
                             const struct component_spec *spec, const struct build_pd_start *pd_start)
{
    const char *kind = tidbcluster_component_name(component);
    char path[64];
    cJSON *container = note(j, cJSON_CreateObject());
    add_string(j, container, "name", kind);
    add_string(j, container, "image", image_of(spec, component));
    add_string(j, container, "imagePullPolicy", tidbcluster_image_pull_policy(cluster, component));
    cJSON *command = add_array(j, container, "command");
    add_string(j, command, NULL, "/bin/sh");
    snprintf(path, sizeof path, "/usr/local/bin/%s_start_script.sh", kind);
    add_string(j, command, NULL, path);

    cJSON *ports = add_array(j, container, "ports");
    switch (component) {
    case TC_PD:
        add_container_port(j, ports, "server", PD_PEER_PORT);
        add_container_port(j, ports, "client", PD_CLIENT_PORT);
        break;
    case TC_TIKV:
        add_container_port(j, ports, "server", TIKV_SERVER_PORT);
        add_container_port(j, ports, "status", TIKV_STATUS_PORT);
        break;
    default:
        add_container_port(j, ports, "server", TIDB_SERVER_PORT);
        add_container_port(j, ports, "status", TIDB_STATUS_PORT);
        break;
    }
    attach(j, container, "env", container_env(j, cluster, component, pd_start));
    add_copy(j, container, "envFrom", spec->env_from);
    attach(j, container, "resources", container_resources(j, spec));

    cJSON *mounts = add_array(j, container, "volumeMounts");
    add_mount(j, mounts, "annotations", "/etc/podinfo", true);
    snprintf(path, sizeof path, "/etc/%s", kind);
    add_mount(j, mounts, "config", path, true);
    add_mount(j, mounts, "startup-script", "/usr/local/bin", true);
    if (component != TC_TIDB) {
        snprintf(path, sizeof path, "/var/lib/%s", kind);
        add_mount(j, mounts, kind, path, false);
    }
    if (slow_log_sidecar(spec, component))
        add_mount(j, mounts, SLOW_LOG_VOLUME, SLOW_LOG_DIR, false);
    append_copies(j, mounts, spec->additional_volume_mounts);
    attach(j, container, "readinessProbe", readiness_probe(j, spec, component));
    cJSON *security = container_security_context(j, spec, component);
    if (security)
        attach(j, container, "securityContext", security);
    if (component == TC_TIDB)
        add_copy(j, container, "lifecycle", spec->lifecycle);
    return container;
}

static void add_pod_volumes(struct json *j, cJSON *pod_spec, const struct tidbcluster *cluster,
                            enum tc_component component, const struct component_spec *spec, int ordinal,
                            const char *configmap)
{
    const char *kind = tidbcluster_component_name(component);
    char path[64];
    cJSON *volumes = add_array(j, pod_spec, "volumes");
    /* The start script reads runmode=debug from here. */
    cJSON *podinfo = add_object(j, volumes, NULL);
    add_string(j, podinfo, "name", "annotations");
    cJSON *item = add_object(j, add_array(j, add_object(j, podinfo, "downwardAPI"), "items"), NULL);
    add_string(j, item, "path", "annotations");
    add_string(j, add_object(j, item, "fieldRef"), "fieldPath", "metadata.annotations");

    snprintf(path, sizeof path, "%s.toml", kind);
    add_configmap_volume(j, volumes, "config", configmap, "config-file", path);
    snprintf(path, sizeof path, "%s_start_script.sh", kind);
    add_configmap_volume(j, volumes, "startup-script", configmap, "startup-script", path);
    if (component != TC_TIDB) {
        char claim[NAME_MAX_LENGTH];
        if (!build_pvc_name(cluster, component, ordinal, claim, sizeof claim))
            j->failed = true;
        cJSON *data = add_object(j, volumes, NULL);
        add_string(j, data, "name", kind);
        add_string(j, add_object(j, data, "persistentVolumeClaim"), "claimName", claim);
    }
    if (slow_log_sidecar(spec, component)) {
        cJSON *slow_log = add_object(j, volumes, NULL);
        add_string(j, slow_log, "name", SLOW_LOG_VOLUME);
        add_object(j, slow_log, "emptyDir");
    }
    append_copies(j, volumes, spec->additional_volumes);
}

cJSON *build_pod(const struct tidbcluster *cluster, enum tc_component component, int ordinal,
                 const struct build_pd_start *pd_start)
{
    const struct component_spec *spec = component_of(cluster, component);
    char name[NAME_MAX_LENGTH], peer[NAME_MAX_LENGTH], configmap[NAME_MAX_LENGTH], spec_hash[17];
    if (!spec || !build_member_name(cluster, component, ordinal, name, sizeof name) ||
        !build_service_name(cluster, component, true, peer, sizeof peer) ||
        !build_configmap_name(cluster, component, configmap, sizeof configmap) ||
        !build_pod_spec_hash(cluster, component, spec_hash))
        return NULL;
    const struct tidbcluster_spec *all = &cluster->spec;
    struct json j = { 0 };
    cJSON *labels = NULL, *annotations = NULL;
    add_pod_metadata_parts(&j, cluster, component, spec, spec_hash, &labels, &annotations);
    cJSON *pod = new_object(&j, "Pod", cluster, name, labels, annotations);
    cJSON *body = add_object(&j, pod, "spec");
    /* hostname + subdomain give the member its stable DNS name through the
     * headless peer service. */
    add_string(&j, body, "hostname", name);
    add_string(&j, body, "subdomain", peer);
    add_copy(&j, body, "initContainers", spec->init_containers);
    cJSON *containers = add_array(&j, body, "containers");
    attach(&j, containers, NULL, main_container(&j, cluster, component, spec, pd_start));
    if (slow_log_sidecar(spec, component))
        attach(&j, containers, NULL, slow_log_container(&j, cluster, spec));
    append_copies(&j, containers, spec->additional_containers);
    add_pod_volumes(&j, body, cluster, component, spec, ordinal, configmap);

    attach_nonempty(&j, body, "nodeSelector", node_selector(&j, cluster, spec));
    add_copy(&j, body, "affinity", either(spec->affinity, all->affinity));
    add_copy(&j, body, "tolerations", either(spec->tolerations, all->tolerations));
    add_copy(&j, body, "topologySpreadConstraints",
             either(spec->topology_spread_constraints, all->topology_spread_constraints));
    add_copy(&j, body, "securityContext", either(spec->pod_security_context, all->pod_security_context));
    add_copy(&j, body, "imagePullSecrets", either(spec->image_pull_secrets, all->image_pull_secrets));
    add_copy(&j, body, "dnsConfig", either(spec->dns_config, all->dns_config));
    const char *text;
    if (host_network(cluster, spec))
        add_bool(&j, body, "hostNetwork", true);
    if ((text = dns_policy(cluster, spec)))
        add_string(&j, body, "dnsPolicy", text);
    if ((text = either_string(spec->scheduler_name, all->scheduler_name)))
        add_string(&j, body, "schedulerName", text);
    if ((text = either_string(spec->priority_class_name, all->priority_class_name)))
        add_string(&j, body, "priorityClassName", text);
    if (spec->termination_grace_period_seconds_set)
        add_number(&j, body, "terminationGracePeriodSeconds", (double)spec->termination_grace_period_seconds);
    if (spec->automount_service_account_token != TC_UNSET)
        add_bool(&j, body, "automountServiceAccountToken", spec->automount_service_account_token == TC_TRUE);
    return finish(&j, pod);
}
