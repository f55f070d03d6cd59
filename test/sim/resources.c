#include "test/sim/resources.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct resource_table {
    struct resource **active;   /* registered, in registration order */
    size_t active_count;
    struct resource **all;      /* every record ever made, freed at the end */
    size_t all_count;
    size_t all_capacity;
};

struct builtin {
    const char *group, *version, *kind, *plural, *short_names, *categories;
    bool namespaced, has_status, has_binding, has_generation, unconditional, create_on_update;
    enum resource_create_status create_status;
    const char *initial_status;
    enum resource_name_rule name_rule;
};

/*
 * Status on create and generation follow the 1.32 registry strategies:
 * pods, services, PVs and PVCs reset status; nodes keep what the kubelet
 * sends; only CRDs (and CRs) carry metadata.generation among these kinds.
 */
static const struct builtin builtins[] = {
    { "", "v1", "Namespace", "namespaces", "ns", "", false, true, false, false, true, false,
      RESOURCE_STATUS_RESET, "{\"phase\":\"Active\"}", RESOURCE_NAME_LABEL },
    { "", "v1", "Node", "nodes", "no", "", false, true, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "Pod", "pods", "po", "all", true, true, true, false, true, false,
      RESOURCE_STATUS_RESET, "{\"phase\":\"Pending\"}", RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "Service", "services", "svc", "all", true, true, false, false, true, false,
      RESOURCE_STATUS_RESET, "{\"loadBalancer\":{}}", RESOURCE_NAME_LABEL },
    { "", "v1", "Endpoints", "endpoints", "ep", "", true, false, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "ConfigMap", "configmaps", "cm", "", true, false, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "Secret", "secrets", "", "", true, false, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "Event", "events", "ev", "", true, false, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "PersistentVolume", "persistentvolumes", "pv", "", false, true, false, false, true,
      false, RESOURCE_STATUS_RESET, "{\"phase\":\"Pending\"}", RESOURCE_NAME_SUBDOMAIN },
    { "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "pvc", "", true, true, false,
      false, true, false, RESOURCE_STATUS_RESET, "{\"phase\":\"Pending\"}",
      RESOURCE_NAME_SUBDOMAIN },
    { "storage.k8s.io", "v1", "StorageClass", "storageclasses", "sc", "", false, false, false,
      false, true, false, RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "coordination.k8s.io", "v1", "Lease", "leases", "", "", true, false, false, false, false,
      true, RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
    { "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
      "crd crds", "api-extensions", false, true, false, true, true, false, RESOURCE_STATUS_RESET,
      "{}", RESOURCE_NAME_SUBDOMAIN },
    { "events.k8s.io", "v1", "Event", "events", "", "", true, false, false, false, true, false,
      RESOURCE_STATUS_KEEP, NULL, RESOURCE_NAME_SUBDOMAIN },
};

static void free_strings(char **strings, size_t count)
{
    for (size_t i = 0; i < count; i++) free(strings[i]);
    free(strings);
}

static void free_record(struct resource *resource)
{
    if (!resource) return;
    free(resource->group);
    free(resource->version);
    free(resource->group_version);
    free(resource->kind);
    free(resource->list_kind);
    free(resource->plural);
    free(resource->singular);
    free_strings(resource->short_names, resource->short_name_count);
    free_strings(resource->categories, resource->category_count);
    free(resource->storage_id);
    free(resource->crd_name);
    free(resource->scale_spec_replicas_path);
    free(resource->scale_status_replicas_path);
    free(resource->scale_label_selector_path);
    for (size_t i = 0; i < resource->printer_column_count; i++) {
        struct resource_printer_column *column = &resource->printer_columns[i];
        free(column->name);
        free(column->type);
        free(column->format);
        free(column->description);
        free(column->json_path);
    }
    free(resource->printer_columns);
    cJSON_Delete(resource->schema);
    free(resource);
}

static char *lowercase_copy(const char *text)
{
    char *copy = strdup(text);
    if (copy)
        for (char *c = copy; *c; c++) *c = (char)tolower((unsigned char)*c);
    return copy;
}

/* Fills the derived names; false when memory runs out. */
static bool fill_derived(struct resource *resource)
{
    size_t length = strlen(resource->group) + strlen(resource->version) + 2;
    resource->group_version = malloc(length);
    if (!resource->group_version) return false;
    if (resource->group[0])
        snprintf(resource->group_version, length, "%s/%s", resource->group, resource->version);
    else
        snprintf(resource->group_version, length, "%s", resource->version);
    length = strlen(resource->group) + strlen(resource->plural) + 2;
    resource->storage_id = malloc(length);
    if (!resource->storage_id) return false;
    snprintf(resource->storage_id, length, "%s/%s", resource->group, resource->plural);
    if (!resource->singular) resource->singular = lowercase_copy(resource->kind);
    if (!resource->list_kind) {
        length = strlen(resource->kind) + 5;
        resource->list_kind = malloc(length);
        if (resource->list_kind) snprintf(resource->list_kind, length, "%sList", resource->kind);
    }
    return resource->singular && resource->list_kind;
}

/* Splits a space-separated word list into an allocated array. */
static bool split_words(const char *text, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    char *copy = strdup(text);
    if (!copy) return false;
    bool ok = true;
    char *save = NULL;
    for (char *word = strtok_r(copy, " ", &save); word && ok; word = strtok_r(NULL, " ", &save)) {
        char **grown = realloc(*out, (*count + 1) * sizeof *grown);
        char *item = strdup(word);
        if (grown) *out = grown;
        if (!grown || !item) {
            free(item);
            ok = false;
            break;
        }
        (*out)[(*count)++] = item;
    }
    free(copy);
    return ok;
}

static bool remember(struct resource_table *table, struct resource *resource)
{
    if (table->all_count == table->all_capacity) {
        size_t capacity = table->all_capacity ? table->all_capacity * 2 : 32;
        struct resource **grown = realloc(table->all, capacity * sizeof *grown);
        if (!grown) return false;
        table->all = grown;
        table->all_capacity = capacity;
    }
    /* active never outgrows all, so one capacity serves both. */
    struct resource **active = realloc(table->active, table->all_capacity * sizeof *active);
    if (!active) return false;
    table->active = active;
    table->all[table->all_count++] = resource;
    return true;
}

static struct resource *builtin_record(const struct builtin *spec)
{
    struct resource *resource = calloc(1, sizeof *resource);
    if (!resource) return NULL;
    resource->group = strdup(spec->group);
    resource->version = strdup(spec->version);
    resource->kind = strdup(spec->kind);
    resource->plural = strdup(spec->plural);
    resource->verbs = RESOURCE_VERBS_ALL;
    resource->namespaced = spec->namespaced;
    resource->has_status = spec->has_status;
    resource->has_binding = spec->has_binding;
    /* The pod registry's delete strategy is the only graceful one. */
    resource->graceful_delete = strcmp(spec->group, "") == 0 && strcmp(spec->plural, "pods") == 0;
    resource->has_generation = spec->has_generation;
    resource->allow_unconditional_update = spec->unconditional;
    resource->allow_create_on_update = spec->create_on_update;
    resource->create_status = spec->create_status;
    resource->initial_status = spec->initial_status;
    resource->name_rule = spec->name_rule;
    if (!resource->group || !resource->version || !resource->kind || !resource->plural ||
        !fill_derived(resource) ||
        !split_words(spec->short_names, &resource->short_names, &resource->short_name_count) ||
        !split_words(spec->categories, &resource->categories, &resource->category_count)) {
        free_record(resource);
        return NULL;
    }
    return resource;
}

struct resource_table *resources_new(void)
{
    struct resource_table *table = calloc(1, sizeof *table);
    if (!table) return NULL;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        struct resource *resource = builtin_record(&builtins[i]);
        if (!resource || !remember(table, resource)) {
            free_record(resource);
            resources_free(table);
            return NULL;
        }
        table->active[table->active_count++] = resource;
    }
    return table;
}

void resources_free(struct resource_table *table)
{
    if (!table) return;
    for (size_t i = 0; i < table->all_count; i++) free_record(table->all[i]);
    free(table->all);
    free(table->active);
    free(table);
}

const struct resource *resources_find(const struct resource_table *table, const char *group,
                                      const char *version, const char *plural)
{
    for (size_t i = 0; i < table->active_count; i++) {
        const struct resource *resource = table->active[i];
        if (strcmp(resource->group, group) == 0 && strcmp(resource->version, version) == 0 &&
            strcmp(resource->plural, plural) == 0)
            return resource;
    }
    return NULL;
}

const struct resource *resources_find_kind(const struct resource_table *table, const char *group,
                                           const char *version, const char *kind)
{
    const struct resource *fallback = NULL;
    for (size_t i = 0; i < table->active_count; i++) {
        const struct resource *resource = table->active[i];
        if (strcmp(resource->group, group) != 0 || strcmp(resource->kind, kind) != 0) continue;
        if (version && strcmp(resource->version, version) == 0) return resource;
        if (!fallback) fallback = resource;
    }
    return fallback;
}

const struct resource *resources_find_storage(const struct resource_table *table,
                                              const char *group, const char *plural)
{
    for (size_t i = 0; i < table->active_count; i++) {
        const struct resource *resource = table->active[i];
        if (strcmp(resource->group, group) == 0 && strcmp(resource->plural, plural) == 0)
            return resource;
    }
    return NULL;
}

size_t resources_count(const struct resource_table *table) { return table->active_count; }

const struct resource *resources_at(const struct resource_table *table, size_t index)
{
    return index < table->active_count ? table->active[index] : NULL;
}

bool resources_split_api_version(const char *api_version, char *group, size_t group_size,
                                 char *version, size_t version_size)
{
    if (!api_version || !api_version[0]) return false;
    const char *slash = strchr(api_version, '/');
    size_t group_length = slash ? (size_t)(slash - api_version) : 0;
    const char *version_start = slash ? slash + 1 : api_version;
    if (group_length >= group_size || strlen(version_start) >= version_size) return false;
    memcpy(group, api_version, group_length);
    group[group_length] = '\0';
    strcpy(version, version_start);
    return version[0] != '\0';
}

/* ---- CustomResourceDefinitions ---- */

static const char *string_at(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static bool flag_at(const cJSON *object, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(object, key));
}

static bool is_dns_label(const char *text)
{
    size_t length = strlen(text);
    if (length == 0 || length > 63) return false;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (c != '-' || i == 0 || i == length - 1)) return false;
    }
    return true;
}

const char *resources_check_crd(const struct resource_table *table, const cJSON *crd,
                                const char **field)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
    const char *group = string_at(spec, "group");
    const char *plural = string_at(names, "plural");
    const char *kind = string_at(names, "kind");
    const char *scope = string_at(spec, "scope");
    const char *name = string_at(cJSON_GetObjectItemCaseSensitive(crd, "metadata"), "name");
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(spec, "versions");
    *field = "spec.group";
    if (!group || !group[0]) return "Required value";
    if (!strchr(group, '.')) return "Invalid value: should be a domain with at least one dot";
    *field = "spec.names.plural";
    if (!plural || !is_dns_label(plural)) return "Invalid value: must be a DNS-1035 label";
    *field = "spec.names.kind";
    if (!kind || !kind[0]) return "Required value";
    *field = "spec.scope";
    if (!scope || (strcmp(scope, "Namespaced") != 0 && strcmp(scope, "Cluster") != 0))
        return "Unsupported value: supported values: \"Cluster\", \"Namespaced\"";
    *field = "metadata.name";
    if (!name || strlen(name) != strlen(plural) + 1 + strlen(group) ||
        strncmp(name, plural, strlen(plural)) != 0 || name[strlen(plural)] != '.' ||
        strcmp(name + strlen(plural) + 1, group) != 0)
        return "Invalid value: must be spec.names.plural+\".\"+spec.group";
    *field = "spec.versions";
    if (!cJSON_IsArray(versions) || cJSON_GetArraySize(versions) == 0)
        return "Invalid value: must have exactly one version marked as storage version";
    const cJSON *version;
    cJSON_ArrayForEach(version, versions) {
        const char *version_name = string_at(version, "name");
        if (!version_name || !is_dns_label(version_name))
            return "Invalid value: version names must be DNS-1035 labels";
    }
    *field = "spec.names.plural";
    for (size_t i = 0; i < table->active_count; i++) {
        const struct resource *other = table->active[i];
        if (strcmp(other->group, group) == 0 && strcmp(other->plural, plural) == 0 &&
            (!other->crd_name || strcmp(other->crd_name, name) != 0))
            return "Invalid value: already served by another resource";
    }
    *field = NULL;
    return NULL;
}

static bool copy_string_list(const cJSON *array, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t size = cJSON_IsArray(array) ? (size_t)cJSON_GetArraySize(array) : 0;
    if (size == 0) return true;
    *out = calloc(size, sizeof **out);
    if (!*out) return false;
    const cJSON *item;
    cJSON_ArrayForEach(item, array) {
        if (!cJSON_IsString(item)) continue;
        if (!((*out)[*count] = strdup(item->valuestring))) return false;
        (*count)++;
    }
    return true;
}

static char *copy_or_null(const char *text, bool *ok)
{
    if (!text) return NULL;
    char *copy = strdup(text);
    if (!copy) *ok = false;
    return copy;
}

static bool copy_printer_columns(struct resource *resource, const cJSON *columns)
{
    size_t size = cJSON_IsArray(columns) ? (size_t)cJSON_GetArraySize(columns) : 0;
    if (size == 0) return true;
    resource->printer_columns = calloc(size, sizeof *resource->printer_columns);
    if (!resource->printer_columns) return false;
    bool ok = true;
    const cJSON *column;
    cJSON_ArrayForEach(column, columns) {
        struct resource_printer_column *out =
            &resource->printer_columns[resource->printer_column_count++];
        out->name = copy_or_null(string_at(column, "name"), &ok);
        out->type = copy_or_null(string_at(column, "type"), &ok);
        out->format = copy_or_null(string_at(column, "format"), &ok);
        out->description = copy_or_null(string_at(column, "description"), &ok);
        out->json_path = copy_or_null(string_at(column, "jsonPath"), &ok);
        const cJSON *priority = cJSON_GetObjectItemCaseSensitive(column, "priority");
        out->priority = cJSON_IsNumber(priority) ? priority->valueint : 0;
    }
    return ok;
}

static struct resource *crd_record(const cJSON *crd, const cJSON *version)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(crd, "spec");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(spec, "names");
    const cJSON *subresources = cJSON_GetObjectItemCaseSensitive(version, "subresources");
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(subresources, "scale");
    struct resource *resource = calloc(1, sizeof *resource);
    if (!resource) return NULL;
    bool ok = true;
    resource->group = copy_or_null(string_at(spec, "group"), &ok);
    resource->version = copy_or_null(string_at(version, "name"), &ok);
    resource->kind = copy_or_null(string_at(names, "kind"), &ok);
    resource->plural = copy_or_null(string_at(names, "plural"), &ok);
    resource->singular = copy_or_null(string_at(names, "singular"), &ok);
    resource->list_kind = copy_or_null(string_at(names, "listKind"), &ok);
    resource->crd_name = copy_or_null(
        string_at(cJSON_GetObjectItemCaseSensitive(crd, "metadata"), "name"), &ok);
    resource->verbs = RESOURCE_VERBS_ALL;
    resource->namespaced = strcmp(string_at(spec, "scope"), "Namespaced") == 0;
    resource->has_status = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(subresources, "status"));
    resource->has_scale = cJSON_IsObject(scale);
    resource->has_generation = true;
    resource->custom = true;
    resource->create_status = resource->has_status ? RESOURCE_STATUS_DROP : RESOURCE_STATUS_KEEP;
    resource->name_rule = RESOURCE_NAME_PATH_SEGMENT;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(version, "schema"),
                                                           "openAPIV3Schema");
    if (cJSON_IsObject(schema) && !(resource->schema = cJSON_Duplicate(schema, true))) ok = false;
    if (resource->has_scale) {
        resource->scale_spec_replicas_path = copy_or_null(string_at(scale, "specReplicasPath"), &ok);
        resource->scale_status_replicas_path =
            copy_or_null(string_at(scale, "statusReplicasPath"), &ok);
        resource->scale_label_selector_path =
            copy_or_null(string_at(scale, "labelSelectorPath"), &ok);
    }
    if (!ok || !fill_derived(resource) ||
        !copy_string_list(cJSON_GetObjectItemCaseSensitive(names, "shortNames"),
                          &resource->short_names, &resource->short_name_count) ||
        !copy_string_list(cJSON_GetObjectItemCaseSensitive(names, "categories"),
                          &resource->categories, &resource->category_count) ||
        !copy_printer_columns(resource,
                              cJSON_GetObjectItemCaseSensitive(version, "additionalPrinterColumns"))) {
        free_record(resource);
        return NULL;
    }
    return resource;
}

bool resources_register_crd(struct resource_table *table, const cJSON *crd)
{
    const cJSON *versions =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(crd, "spec"), "versions");
    size_t served = 0;
    const cJSON *version;
    cJSON_ArrayForEach(version, versions) served += flag_at(version, "served");
    struct resource **fresh = calloc(served ? served : 1, sizeof *fresh);
    if (!fresh) return false;
    size_t made = 0;
    cJSON_ArrayForEach(version, versions) {
        if (!flag_at(version, "served")) continue;
        if (!(fresh[made] = crd_record(crd, version))) goto fail;
        made++;
    }
    /* Reserve room first so that nothing below can fail half-way. */
    size_t before = table->all_count;
    for (size_t i = 0; i < made; i++) {
        if (!remember(table, fresh[i])) {
            table->all_count = before;
            goto fail;
        }
    }
    const char *name = string_at(cJSON_GetObjectItemCaseSensitive(crd, "metadata"), "name");
    resources_unregister_crd(table, name ? name : "");
    for (size_t i = 0; i < made; i++) table->active[table->active_count++] = fresh[i];
    free(fresh);
    return true;
fail:
    for (size_t i = 0; i < made; i++) free_record(fresh[i]);
    free(fresh);
    return false;
}

void resources_unregister_crd(struct resource_table *table, const char *crd_name)
{
    size_t kept = 0;
    for (size_t i = 0; i < table->active_count; i++) {
        struct resource *resource = table->active[i];
        if (resource->crd_name && strcmp(resource->crd_name, crd_name) == 0) continue;
        table->active[kept++] = resource;
    }
    table->active_count = kept;
}
