/*
 * objects: compact projections of Kubernetes objects, the form in which the
 * caches hold them.
 *
 * Each projection keeps only what the planners read (see DESIGN.md,
 * "Watched kinds and what is cached"): a pod costs a few hundred bytes
 * instead of the tens of KiB of its JSON tree. Every projection begins with
 * `struct object_meta`, so caches, indexes and handlers work on
 * `struct object_meta *` and the reader casts to its kind's struct (the
 * cache's kind says which).
 *
 * A projection is ONE allocation: the kind's struct followed by a tail that
 * holds its owned strings (key, name, per-object strings such as a pod's IP)
 * and its small arrays (labels and annotations, a pod's claims and
 * containers, a service's ports). Strings marked "interned" come from the
 * cache's string_pool: equal interned strings are the same pointer. Strings
 * marked "owned" live in the tail (compare them with strcmp). Everything is
 * released by object_free; a projection is never modified once it is built
 * (a change is a new projection).
 *
 * Projection is strict about shape and lenient about content: a missing
 * optional field is simply absent, a field of the wrong type is treated as
 * absent, but an object without metadata.name or metadata.resourceVersion
 * cannot be cached and is refused (object_project returns NULL with a
 * reason). Nothing here asserts on input.
 */
#ifndef WATCHERS_OBJECTS_H
#define WATCHERS_OBJECTS_H

#include "watchers/string_pool.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LABEL_INSTANCE "app.kubernetes.io/instance"
#define LABEL_COMPONENT "app.kubernetes.io/component"
#define LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define LABEL_NAME "app.kubernetes.io/name"
#define MANAGED_BY_SELECTOR "app.kubernetes.io/managed-by=tidb-operator"

struct kube_label {
    const char *key;    /* interned */
    const char *value;  /* interned */
};

/* Condition status as the planners need it. */
enum condition_status {
    CONDITION_ABSENT = 0,
    CONDITION_TRUE,
    CONDITION_FALSE,
    CONDITION_UNKNOWN,
};

/* metadata.uid: a canonical (lower-case) UUID is kept as its 16 bytes; any
 * other text is kept as is (owned; "" when absent). Read it with object_uid. */
union object_uid {
    uint8_t bytes[16];
    const char *text;
};

/* object_meta.flags (private to objects.c: use the accessors). */
enum {
    OBJECT_UID_BYTES = 1 << 0, /* uid.bytes holds a UUID, else uid.text */
    OBJECT_RV_TEXT = 1 << 1,   /* resourceVersion is not a canonical decimal: kept as
                                * text, after the key's NUL */
};

struct object_meta {
    const char *key;           /* owned: "ns/name", or "name" for cluster-scoped kinds */
    const char *name;          /* points into key */
    const char *namespace;     /* interned; "" for cluster-scoped kinds */
    union object_uid uid;      /* see object_uid */
    uint64_t rv;               /* resourceVersion as a number; 0 when it is not one (see
                                * object_resource_version for the text) */
    int64_t generation;
    int64_t deletion_ms;       /* deletionTimestamp, Unix ms; 0 when not being deleted */
    const char *owner_kind;    /* interned; the controller ownerReference, else the first */
    const char *owner_name;    /* interned */
    const char *owner_uid;     /* interned */
    /* The work-queue key of the TidbCluster this object belongs to: interned
     * "ns/<app.kubernetes.io/instance>" (a TidbCluster: its own key); NULL
     * when it belongs to none. */
    const char *cluster;
    /* Owned array of the kept labels (label_count) followed by the kept
     * annotations (annotation_count); use object_label / object_annotation. */
    struct kube_label *labels;
    /* Maintained by the cache: where the object sits in the cache's by-cluster
     * and by-node indexes (UINT32_MAX: in none); not part of its content. */
    uint32_t cluster_position;
    uint32_t node_position;
    uint16_t label_count;
    uint16_t annotation_count;
    uint8_t flags;             /* OBJECT_UID_BYTES, OBJECT_RV_TEXT */
};

#define OBJECT_UID_SIZE 37  /* a UUID's 36 characters and the NUL */
#define OBJECT_RV_SIZE 21   /* a uint64's 20 digits and the NUL */

/* metadata.uid as text: `buffer` when it is formatted from a UUID, else the
 * kept text ("" when absent). Valid while both the object and `buffer` are. */
const char *object_uid(const struct object_meta *meta, char buffer[OBJECT_UID_SIZE]);
/* metadata.resourceVersion as sent: formatted into `buffer` from meta->rv,
 * or the kept text. Valid while both the object and `buffer` are. */
const char *object_resource_version(const struct object_meta *meta,
                                    char buffer[OBJECT_RV_SIZE]);

/* A label's or annotation's value (interned), or NULL when not kept or absent. */
const char *object_label(const struct object_meta *meta, const char *key);
const char *object_annotation(const struct object_meta *meta, const char *key);

/* --- per-kind projections ------------------------------------------------ */

enum container_state {
    CONTAINER_STATE_UNKNOWN = 0,
    CONTAINER_STATE_WAITING,
    CONTAINER_STATE_RUNNING,
    CONTAINER_STATE_TERMINATED,
};

struct pod_container {
    const char *name;    /* interned */
    const char *image;   /* interned, status image (what runs) */
    const char *reason;  /* interned: waiting reason or terminated reason, else NULL */
    int32_t restart_count;
    int32_t exit_code;   /* terminated only */
    uint8_t state;       /* enum container_state */
    bool ready;
    bool init;           /* an init container */
};

struct kube_pod {
    struct object_meta meta;
    const char *node_name;          /* interned; NULL until scheduled */
    const char *phase;              /* interned: Pending, Running, Succeeded, Failed, Unknown */
    const char *config_map;         /* interned: the first spec.volumes[].configMap.name; NULL: none */
    const char *pod_ip;             /* owned (one per pod, not worth pooling) */
    const char *scheduled_reason;   /* interned: PodScheduled condition reason (Unschedulable) */
    const char *scheduled_message;  /* interned: why it cannot be scheduled */
    const char *hostname;           /* owned: spec.hostname (usually meta.name itself) */
    const char **claims;            /* owned array of owned PVC names, from spec.volumes */
    struct pod_container *containers;  /* owned array: init containers first */
    int64_t ready_transition_ms;    /* Ready condition lastTransitionTime */
    int64_t start_ms;               /* status.startTime */
    uint16_t claim_count;
    uint16_t container_count;
    uint8_t ready;                  /* enum condition_status of Ready */
    uint8_t scheduled;              /* enum condition_status of PodScheduled */
};

struct kube_pvc {
    struct object_meta meta;
    const char *phase;          /* interned: Pending, Bound, Lost */
    const char *volume_name;    /* interned */
    const char *storage_class;  /* interned */
    const char *selected_node;  /* interned: volume.kubernetes.io/selected-node */
    uint64_t requested_bytes;   /* spec.resources.requests.storage */
    uint64_t capacity_bytes;    /* status.capacity.storage */
};

struct kube_pv {
    struct object_meta meta;
    const char *phase;            /* interned: Available, Bound, Released, Failed */
    const char *claim_namespace;  /* interned: spec.claimRef */
    const char *claim_name;       /* interned */
    const char *claim_uid;        /* interned */
    const char *node_hostname;    /* interned: node affinity kubernetes.io/hostname */
    const char *storage_class;    /* interned */
    const char *reclaim_policy;   /* interned: Retain, Delete, Recycle */
    const char *local_path;       /* interned: spec.local.path or spec.hostPath.path */
    uint64_t capacity_bytes;
};

struct kube_node {
    struct object_meta meta;      /* every label is kept */
    const char *zone;             /* label topology.kubernetes.io/zone (interned) */
    const char *region;           /* label topology.kubernetes.io/region */
    const char *hostname;         /* label kubernetes.io/hostname */
    int64_t ready_transition_ms;
    uint16_t taint_count;
    uint8_t ready;                /* enum condition_status */
    bool unschedulable;
    bool unreachable;             /* taint node.kubernetes.io/unreachable present */
};

struct service_port {
    const char *name;      /* interned */
    const char *protocol;  /* interned */
    int32_t port;
    int32_t target_port;   /* 0 when named */
    int32_t node_port;
};

struct kube_service {
    struct object_meta meta;
    const char *type;        /* interned: ClusterIP, NodePort, LoadBalancer, ExternalName */
    const char *cluster_ip;  /* interned; "None" for headless */
    struct service_port *ports;  /* owned array */
    uint64_t selector_hash;  /* of spec.selector, 0 when none */
    uint16_t port_count;
    bool publish_not_ready;
};

struct kube_configmap {
    struct object_meta meta;
    uint64_t data_hash;   /* of data and binaryData (order-independent) */
    uint32_t key_count;
};

struct kube_storage_class {
    struct object_meta meta;
    const char *provisioner;     /* interned */
    const char *binding_mode;    /* interned: Immediate, WaitForFirstConsumer */
    const char *reclaim_policy;  /* interned */
    bool allow_expansion;
};

struct kube_lease {
    struct object_meta meta;
    const char *holder;          /* interned: spec.holderIdentity */
    int64_t acquire_ms;
    int64_t renew_ms;
    int32_t duration_seconds;
    int32_t transitions;
};

/* TidbCluster: the whole object (minus managedFields), until the typed
 * decoder in reconcilers/ exists. */
struct kube_tidbcluster {
    struct object_meta meta;
    cJSON *object;  /* owned; never modify */
};

/* --- kinds ----------------------------------------------------------------- */

/* Carves a projection's tail (see the top of this file): arrays from the
 * front, strings from the back. A kind's tail_size must count exactly what
 * its project takes from the tail: object_tail_array_size and
 * object_tail_string_size for what object_tail_array and object_tail_string
 * will be asked for. */
struct object_tail {
    char *front;
    char *back;
};

struct object_kind {
    const char *name;      /* "pods", for logs and metrics */
    size_t size;           /* of the projection struct (a multiple of 8) */
    bool namespaced;
    /* Tail bytes the kind's own fields of `object` need; NULL: none. */
    size_t (*tail_size)(const cJSON *object);
    /* Fills the kind's own fields of `out` (zeroed, meta already filled),
     * taking owned arrays and strings from `tail`. */
    bool (*project)(struct object_meta *out, const cJSON *object, struct string_pool *pool,
                    struct object_tail *tail, char *error, size_t error_size);
    /* Releases the kind's own references (not meta, not the tail). */
    void (*release)(struct object_meta *object, struct string_pool *pool);
    /* True when the kind's own fields are equal. */
    bool (*same)(const struct object_meta *a, const struct object_meta *b);
    /* The node this object is on, for the by-node index (an interned string,
     * or one of the object's own); NULL: none. */
    const char *(*node)(const struct object_meta *object);
    /* Heap bytes the kind's fields hold outside the projection; NULL: none. */
    size_t (*memory_bytes)(const struct object_meta *object);
    bool (*keep_label)(const char *key);
    bool (*keep_annotation)(const char *key);
};

extern const struct object_kind object_kind_pod;
extern const struct object_kind object_kind_pvc;
extern const struct object_kind object_kind_pv;
extern const struct object_kind object_kind_node;
extern const struct object_kind object_kind_service;
extern const struct object_kind object_kind_configmap;
extern const struct object_kind object_kind_storage_class;
extern const struct object_kind object_kind_lease;
extern const struct object_kind object_kind_tidbcluster;

/* A new projection of `object` (kind->size bytes), or NULL with a reason. */
struct object_meta *object_project(const struct object_kind *kind, const cJSON *object,
                                   struct string_pool *pool, char *error, size_t error_size);
void object_free(const struct object_kind *kind, struct object_meta *object,
                 struct string_pool *pool);
/* Equal in everything the planners read: all but resourceVersion. */
bool object_same(const struct object_kind *kind, const struct object_meta *a,
                 const struct object_meta *b);
/* -1, 0, 1 comparing numeric resourceVersions; 0 when either is not numeric. */
int object_rv_compare(const struct object_meta *a, const struct object_meta *b);
/* Heap bytes the projection holds: its allocation and whatever the kind keeps
 * outside it, not the interned strings (see memory_chunk_bytes). */
size_t object_memory_bytes(const struct object_kind *kind, const struct object_meta *object);

/* --- the tail, for projections ------------------------------------------ */

/* Tail bytes for an array of `count` items of `size` bytes (rounded up to 8),
 * and for a copy of `text` (0 for NULL). */
size_t object_tail_array_size(size_t count, size_t size);
size_t object_tail_string_size(const char *text);
/* A zeroed array of `count` items of `size` bytes (NULL when count is 0),
 * and a copy of `text` (NULL for NULL), from the tail. Both set *ok to false
 * (and return NULL) when the tail is too small, which a correct tail_size
 * never lets happen. */
void *object_tail_array(struct object_tail *tail, size_t count, size_t size, bool *ok);
const char *object_tail_string(struct object_tail *tail, const char *text, bool *ok);

/* --- helpers for projections (also used by tests) ----------------------- */

/* A decimal resourceVersion; false when not purely digits (or overflow). */
bool kube_parse_rv(const char *text, uint64_t *rv);
/* 64-bit FNV-1a, for data hashes. */
uint64_t kube_hash_bytes(uint64_t hash, const void *data, size_t length);
#define KUBE_HASH_INIT 0xcbf29ce484222325ull

/* cJSON lookups by path of member names, NULL when any step is missing. */
const cJSON *json_path(const cJSON *object, const char *const *names, size_t count);
#define JSON_PATH(object, ...)                                                                     \
    json_path((object), (const char *const[]){__VA_ARGS__},                                       \
              sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
/* The string at `item`, or NULL when it is not a string. */
const char *json_string(const cJSON *item);
/* Interns the string at `item` into *out (NULL when absent or not a
 * string); false only when memory ran out. */
bool json_intern(struct string_pool *pool, const cJSON *item, const char **out);
/* Default label policy: prefixes app.kubernetes.io/, tidb.pingcap.com/, pingcap.com/. */
bool object_keep_operator_label(const char *key);
/* Default annotation policy: prefixes tidb.pingcap.com/, pingcap.com/. */
bool object_keep_operator_annotation(const char *key);
bool object_keep_all(const char *key);
bool object_keep_none(const char *key);

#endif
