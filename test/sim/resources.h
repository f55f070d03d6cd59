/*
 * resources: the table of resource types the simulated API server serves.
 *
 * A `struct resource` describes one (group, version, plural): its kind,
 * names, scope, subresources, verbs and the store semantics that differ
 * between kinds (generation tracking, status handling on create,
 * unconditional updates, name rules). The table starts with the built-in
 * kinds and grows and shrinks as CustomResourceDefinitions are registered
 * and unregistered.
 *
 * Ownership: the table owns every record and every string in it. Records are
 * never freed before resources_free, even after a CRD is unregistered (they
 * are only hidden from lookups), so a `const struct resource *` that a caller
 * or a watch holds stays valid for the table's lifetime. Objects of the same
 * group and plural share storage across versions; `storage_id` names it.
 */
#ifndef TEST_SIM_RESOURCES_H
#define TEST_SIM_RESOURCES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

enum resource_verb {
    RESOURCE_VERB_GET = 1u << 0,
    RESOURCE_VERB_LIST = 1u << 1,
    RESOURCE_VERB_WATCH = 1u << 2,
    RESOURCE_VERB_CREATE = 1u << 3,
    RESOURCE_VERB_UPDATE = 1u << 4,
    RESOURCE_VERB_PATCH = 1u << 5,
    RESOURCE_VERB_DELETE = 1u << 6,
    RESOURCE_VERB_DELETE_COLLECTION = 1u << 7,
};
#define RESOURCE_VERBS_ALL 0xffu

/* What create does with a `status` the client sent. */
enum resource_create_status {
    RESOURCE_STATUS_KEEP,   /* stored as sent */
    RESOURCE_STATUS_DROP,   /* removed (CRs with a status subresource) */
    RESOURCE_STATUS_RESET,  /* replaced by `initial_status` (pods: Pending, ...) */
};

/* Which names the kind accepts (apimachinery's validators). */
enum resource_name_rule {
    RESOURCE_NAME_SUBDOMAIN,     /* DNS-1123 subdomain: most kinds */
    RESOURCE_NAME_LABEL,         /* DNS-1123 label: namespaces, services */
    RESOURCE_NAME_PATH_SEGMENT,  /* anything without '/' or '%', not "." or "..": CRs */
};

struct resource_printer_column {
    char *name;
    char *type;
    char *format;
    char *description;
    char *json_path;
    int priority;
};

struct resource {
    char *group;        /* "" for the core group */
    char *version;
    char *group_version; /* "v1" or "<group>/<version>": the objects' apiVersion */
    char *kind;
    char *list_kind;
    char *plural;
    char *singular;
    char **short_names;
    size_t short_name_count;
    char **categories;
    size_t category_count;
    char *storage_id;   /* "<group>/<plural>": shared by all versions */
    unsigned verbs;     /* enum resource_verb bits */
    bool namespaced;
    bool has_status;    /* status subresource: main writes never change status */
    bool has_scale;
    bool has_binding;   /* pods/binding */
    bool graceful_delete; /* pods: a bound one waits for its kubelet (store_delete) */
    bool has_generation; /* metadata.generation maintained */
    bool allow_unconditional_update; /* PUT without resourceVersion */
    bool allow_create_on_update;     /* PUT of a missing object creates it */
    bool custom;        /* served from a CRD */
    enum resource_create_status create_status;
    const char *initial_status; /* JSON for RESOURCE_STATUS_RESET (static) */
    enum resource_name_rule name_rule;
    /* Custom resources only. */
    char *crd_name;     /* "<plural>.<group>" */
    char *scale_spec_replicas_path;
    char *scale_status_replicas_path;
    char *scale_label_selector_path;
    struct resource_printer_column *printer_columns;
    size_t printer_column_count;
    cJSON *schema;      /* the version's openAPIV3Schema (owned); NULL: none */
};

struct resource_table;

/* A table holding the built-in kinds; NULL when memory runs out. */
struct resource_table *resources_new(void);
void resources_free(struct resource_table *table);

/* Lookups among the registered (not unregistered) records; NULL if none. */
const struct resource *resources_find(const struct resource_table *table, const char *group,
                                      const char *version, const char *plural);
/* By kind within a group; `version` NULL or unknown falls back to any served version. */
const struct resource *resources_find_kind(const struct resource_table *table, const char *group,
                                           const char *version, const char *kind);
/* Any served version of (group, plural): the storage-level lookup. */
const struct resource *resources_find_storage(const struct resource_table *table,
                                              const char *group, const char *plural);
/* Registered records, in registration order; i < resources_count. */
size_t resources_count(const struct resource_table *table);
const struct resource *resources_at(const struct resource_table *table, size_t index);

/* Splits "group/version" or "v1" into group and version (copies into the buffers). */
bool resources_split_api_version(const char *api_version, char *group, size_t group_size,
                                 char *version, size_t version_size);

/*
 * Validates a CustomResourceDefinition object and returns NULL when it can be
 * registered, or a static description of the first problem (with *field set
 * to the offending field path) otherwise.
 */
const char *resources_check_crd(const struct resource_table *table, const cJSON *crd,
                                const char **field);
/*
 * Registers every served version of the CRD (which must have passed
 * resources_check_crd), replacing the records of an earlier registration
 * under the same CRD name. False when memory runs out (nothing changes then).
 */
bool resources_register_crd(struct resource_table *table, const cJSON *crd);
/* Hides every record that the CRD `crd_name` registered. */
void resources_unregister_crd(struct resource_table *table, const char *crd_name);

#endif
