/*
 * world_config: the default world (3 zones x 2 nodes, storage classes, 4 local
 * PVs per node) and a small JSON description to shape another one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/sim/world.h"

static void set_defaults(struct world_options *options)
{
    memset(options, 0, sizeof *options);
    options->storage_classes = true;
    options->heartbeat_ms = 10000;
    options->node_grace_ms = 40000;
    options->eviction_timeout_ms = 40000;
    options->taint_eviction_ms = 300000;
    options->start_delay_ms = 1000;
    options->ready_delay_ms = 500;
    options->deletion_grace_cap_ms = 2000;
    options->retry_ms = 5000;
    options->crash_backoff_ms = 10000;
    options->scheduled_events = true;
    options->waiting_events = true;
}

static void free_nodes(struct world_options *options)
{
    for (size_t i = 0; i < options->node_count; i++) {
        struct world_node_spec *spec = &options->nodes[i];
        free(spec->name);
        free(spec->zone);
        free(spec->region);
        free(spec->cpu);
        free(spec->memory);
        free(spec->local_volume_size);
        cJSON_Delete(spec->labels);
        cJSON_Delete(spec->taints);
    }
    free(options->nodes);
    options->nodes = NULL;
    options->node_count = 0;
}

void world_options_free(struct world_options *options)
{
    if (!options) return;
    free_nodes(options);
    for (size_t i = 0; i < options->crashing_image_count; i++) free(options->crashing_images[i]);
    free(options->crashing_images);
    options->crashing_images = NULL;
    options->crashing_image_count = 0;
}

static bool parse_crashing_images(const cJSON *list, struct world_options *options, char *error,
                                  size_t error_size)
{
    if (!cJSON_IsArray(list)) {
        snprintf(error, error_size, "crashingImages: must be an array of image names");
        return false;
    }
    size_t count = (size_t)cJSON_GetArraySize(list);
    options->crashing_images = calloc(count ? count : 1, sizeof *options->crashing_images);
    if (!options->crashing_images) {
        snprintf(error, error_size, "crashingImages: out of memory");
        return false;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        if (!cJSON_IsString(item) || !item->valuestring[0]) {
            snprintf(error, error_size, "crashingImages: must be an array of image names");
            return false;
        }
        char *copy = strdup(item->valuestring);
        if (!copy) {
            snprintf(error, error_size, "crashingImages: out of memory");
            return false;
        }
        options->crashing_images[options->crashing_image_count++] = copy;
    }
    return true;
}

struct grid {
    int zones, per_zone, pods, local_volumes;
    const char *cpu, *memory, *volume_size, *region;
};

static bool make_grid(struct world_options *options, const struct grid *grid)
{
    free_nodes(options);
    if (grid->zones <= 0 || grid->per_zone <= 0 || grid->zones > 26) return false;
    size_t count = (size_t)grid->zones * (size_t)grid->per_zone;
    options->nodes = calloc(count, sizeof *options->nodes);
    if (!options->nodes) return false;
    options->node_count = count;
    size_t at = 0;
    /* Zone-major names keep a zone's nodes together in name order. */
    for (int z = 0; z < grid->zones; z++) {
        for (int n = 0; n < grid->per_zone; n++, at++) {
            struct world_node_spec *spec = &options->nodes[at];
            char name[64], zone[64];
            snprintf(zone, sizeof zone, "zone-%c", 'a' + z);
            snprintf(name, sizeof name, "node-%c%d", 'a' + z, n + 1);
            spec->name = strdup(name);
            spec->zone = strdup(zone);
            spec->region = strdup(grid->region);
            spec->cpu = strdup(grid->cpu);
            spec->memory = strdup(grid->memory);
            spec->local_volume_size = strdup(grid->volume_size);
            spec->pods = grid->pods;
            spec->local_volumes = grid->local_volumes;
            if (!spec->name || !spec->zone || !spec->region || !spec->cpu || !spec->memory ||
                !spec->local_volume_size) {
                free_nodes(options);
                return false;
            }
        }
    }
    return true;
}

void world_config_default(struct world_options *options)
{
    set_defaults(options);
    struct grid grid = { 3, 2, 110, 4, "16", "64Gi", "100Gi", "region-1" };
    make_grid(options, &grid);
}

bool world_config_grid(struct world_options *options, int zones, int per_zone, int local_volumes)
{
    set_defaults(options);
    struct grid grid = { zones, per_zone, 110, local_volumes, "16", "64Gi", "100Gi", "region-1" };
    return make_grid(options, &grid);
}

static bool number_field(const cJSON *json, const char *key, uint64_t *out, char *error,
                         size_t error_size)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(json, key);
    if (!value) return true;
    if (!cJSON_IsNumber(value) || value->valuedouble < 0) {
        snprintf(error, error_size, "%s: expected a number >= 0", key);
        return false;
    }
    *out = (uint64_t)value->valuedouble;
    return true;
}

static const char *string_field(const cJSON *json, const char *key, const char *fallback)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(json, key);
    return cJSON_IsString(value) ? value->valuestring : fallback;
}

static int int_field(const cJSON *json, const char *key, int fallback)
{
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(json, key);
    return cJSON_IsNumber(value) ? value->valueint : fallback;
}

static char *dup_or_null(const char *text)
{
    return text ? strdup(text) : NULL;
}

static bool parse_nodes(const cJSON *nodes, struct world_options *options, const struct grid *grid,
                        char *error, size_t error_size)
{
    free_nodes(options);
    int count = cJSON_GetArraySize(nodes);
    if (!cJSON_IsArray(nodes) || count <= 0) {
        snprintf(error, error_size, "nodes: expected a non-empty array");
        return false;
    }
    options->nodes = calloc((size_t)count, sizeof *options->nodes);
    if (!options->nodes) {
        snprintf(error, error_size, "out of memory");
        return false;
    }
    options->node_count = (size_t)count;
    size_t at = 0;
    const cJSON *node;
    cJSON_ArrayForEach(node, nodes) {
        struct world_node_spec *spec = &options->nodes[at++];
        const char *name = string_field(node, "name", NULL);
        if (!name || !*name) {
            snprintf(error, error_size, "nodes[%zu].name: required", at - 1);
            return false;
        }
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(node, "labels");
        const cJSON *taints = cJSON_GetObjectItemCaseSensitive(node, "taints");
        if ((labels && !cJSON_IsObject(labels)) || (taints && !cJSON_IsArray(taints))) {
            snprintf(error, error_size, "nodes[%zu]: labels must be an object, taints an array",
                     at - 1);
            return false;
        }
        spec->name = strdup(name);
        spec->zone = dup_or_null(string_field(node, "zone", NULL));
        spec->region = dup_or_null(string_field(node, "region", grid->region));
        spec->cpu = strdup(string_field(node, "cpu", grid->cpu));
        spec->memory = strdup(string_field(node, "memory", grid->memory));
        spec->local_volume_size = strdup(string_field(node, "localVolumeSize", grid->volume_size));
        spec->pods = int_field(node, "pods", grid->pods);
        spec->local_volumes = int_field(node, "localVolumes", grid->local_volumes);
        spec->labels = labels ? cJSON_Duplicate(labels, true) : NULL;
        spec->taints = taints ? cJSON_Duplicate(taints, true) : NULL;
        if (!spec->name || !spec->cpu || !spec->memory || !spec->local_volume_size ||
            (labels && !spec->labels) || (taints && !spec->taints)) {
            snprintf(error, error_size, "out of memory");
            return false;
        }
        int64_t milli;
        if (!world_quantity_milli(spec->cpu, &milli) || !world_quantity_milli(spec->memory, &milli) ||
            !world_quantity_milli(spec->local_volume_size, &milli)) {
            snprintf(error, error_size, "nodes[%zu]: cpu, memory and localVolumeSize must be quantities",
                     at - 1);
            return false;
        }
    }
    return true;
}

bool world_config_parse(const char *json, struct world_options *options, char *error,
                        size_t error_size)
{
    world_config_default(options);
    cJSON *root = cJSON_Parse(json ? json : "");
    if (!cJSON_IsObject(root)) {
        snprintf(error, error_size, "world config: not a JSON object");
        cJSON_Delete(root);
        world_options_free(options);
        return false;
    }
    struct grid grid = { int_field(root, "zones", 3), int_field(root, "nodesPerZone", 2),
                         int_field(root, "pods", 110), int_field(root, "localVolumesPerNode", 4),
                         string_field(root, "cpu", "16"), string_field(root, "memory", "64Gi"),
                         string_field(root, "localVolumeSize", "100Gi"),
                         string_field(root, "region", "region-1") };
    bool ok = number_field(root, "heartbeatMs", &options->heartbeat_ms, error, error_size) &&
              number_field(root, "nodeGraceMs", &options->node_grace_ms, error, error_size) &&
              number_field(root, "evictionTimeoutMs", &options->eviction_timeout_ms, error,
                           error_size) &&
              number_field(root, "taintEvictionMs", &options->taint_eviction_ms, error, error_size) &&
              number_field(root, "startDelayMs", &options->start_delay_ms, error, error_size) &&
              number_field(root, "readyDelayMs", &options->ready_delay_ms, error, error_size) &&
              number_field(root, "deletionGraceCapMs", &options->deletion_grace_cap_ms, error,
                           error_size) &&
              number_field(root, "retryMs", &options->retry_ms, error, error_size) &&
              number_field(root, "crashBackoffMs", &options->crash_backoff_ms, error, error_size);
    const cJSON *crashing = cJSON_GetObjectItemCaseSensitive(root, "crashingImages");
    if (ok && crashing) ok = parse_crashing_images(crashing, options, error, error_size);
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(root, "storageClasses");
    if (ok && classes) options->storage_classes = cJSON_IsTrue(classes);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "scheduledEvents");
    if (ok && events) options->scheduled_events = cJSON_IsTrue(events);
    if (ok && options->heartbeat_ms == 0) {
        snprintf(error, error_size, "heartbeatMs: must be > 0");
        ok = false;
    }
    if (ok) {
        int64_t milli;
        if (!world_quantity_milli(grid.cpu, &milli) || !world_quantity_milli(grid.memory, &milli) ||
            !world_quantity_milli(grid.volume_size, &milli)) {
            snprintf(error, error_size, "cpu, memory and localVolumeSize must be quantities");
            ok = false;
        }
    }
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
    if (ok && nodes) {
        ok = parse_nodes(nodes, options, &grid, error, error_size);
    } else if (ok && !make_grid(options, &grid)) {
        snprintf(error, error_size, "zones (1-26) and nodesPerZone (>0) required");
        ok = false;
    }
    cJSON_Delete(root);
    if (!ok) world_options_free(options);
    return ok;
}
