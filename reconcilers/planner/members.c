/*
 * members: the member table (members.h). One pass over each of the world's
 * lists collects the ordinals something is observed for, the desired ones
 * are added up to the window, the set is sorted, and a second pass over the
 * same lists attaches each object to its row by binary search.
 */
#include "reconcilers/planner/members.h"

#include "reconcilers/build/build.h"
#include "reconcilers/planner/planner_internal.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const delete_slots_annotation[TC_COMPONENT_COUNT] = {
    [TC_PD] = "pd.tidb.pingcap.com/delete-slots",
    [TC_TIKV] = "tikv.tidb.pingcap.com/delete-slots",
    [TC_TIDB] = "tidb.tidb.pingcap.com/delete-slots",
};

struct ordinal_set {
    int *items;
    size_t count;
    size_t capacity;
};

static bool ordinal_add(struct ordinal_set *set, int ordinal)
{
    if (ordinal < 0)
        return true;
    if (set->count == set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 16;
        int *grown = realloc(set->items, capacity * sizeof *grown);
        if (!grown)
            return false;
        set->items = grown;
        set->capacity = capacity;
    }
    set->items[set->count++] = ordinal;
    return true;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The ordinal a PVC name "<prefix>-<cluster>-<component>-<N>" stands for. */
static int pvc_ordinal(const struct tidbcluster *cluster, enum tc_component component, const char *name)
{
    if (component == TC_TIDB || !name)
        return -1;
    const char *member = strchr(name, '-');
    if (!member)
        return -1;
    int ordinal = planner_member_ordinal(cluster, component, member + 1);
    char expected[MEMBERS_NAME_MAX];
    if (ordinal < 0 || !build_pvc_name(cluster, component, ordinal, expected, sizeof expected) ||
        strcmp(expected, name) != 0)
        return -1;
    return ordinal;
}

static bool store_is_tombstone(const struct pd_store *store)
{
    return store->state == PD_STORE_STATE_TOMBSTONE || store->state_name == PD_STORE_TOMBSTONE;
}

/* Collects every ordinal of `component` something is observed for. */
static bool collect_observed(const struct observed_cluster *world, enum tc_component component,
                             struct ordinal_set *set)
{
    const struct tidbcluster *cluster = world->cluster;
    for (size_t i = 0; i < world->pod_count; i++)
        if (world->pods[i] && !ordinal_add(set, planner_member_ordinal(cluster, component, world->pods[i]->meta.name)))
            return false;
    for (size_t i = 0; i < world->pvc_count; i++)
        if (world->pvcs[i] && !ordinal_add(set, pvc_ordinal(cluster, component, world->pvcs[i]->meta.name)))
            return false;
    const struct pd_snapshot_data *pd = world->pd;
    if (pd && component == TC_PD)
        for (size_t i = 0; i < pd->members.count; i++)
            if (!ordinal_add(set, planner_pd_member_ordinal(cluster, pd->members.members[i].name)))
                return false;
    if (pd && component == TC_TIKV)
        for (size_t i = 0; i < pd->stores.count; i++)
            if (!pd->stores.stores[i].is_tiflash &&
                !ordinal_add(set, planner_store_ordinal(cluster, pd->stores.stores[i].address, NULL, 0)))
                return false;
    return true;
}

static struct member_row *find_row(struct member_table *table, enum tc_component component, int ordinal)
{
    return (struct member_row *)member_table_find(table, component, ordinal);
}

/* True when `ordinal` is listed in the component's delete-slots annotation. */
static bool in_delete_slots(const cJSON *slots, int ordinal)
{
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, slots)
        if (cJSON_IsNumber(item) && item->valuedouble == (double)ordinal)
            return true;
    return false;
}

static const struct kube_node *find_node(const struct observed_cluster *world, const char *name)
{
    for (size_t i = 0; name && i < world->node_list_count; i++)
        if (world->nodes[i] && world->nodes[i]->meta.name && strcmp(world->nodes[i]->meta.name, name) == 0)
            return world->nodes[i];
    return NULL;
}

static const struct kube_pv *find_pv(const struct observed_cluster *world, const struct kube_pvc *pvc)
{
    for (size_t i = 0; pvc->volume_name && i < world->pv_count; i++)
        if (world->pvs[i] && world->pvs[i]->meta.name && strcmp(world->pvs[i]->meta.name, pvc->volume_name) == 0)
            return world->pvs[i];
    return NULL;
}

static void attach_pods(const struct observed_cluster *world, struct member_table *table, enum tc_component component)
{
    char wanted_metadata[17], accepted_hashes[BUILD_SPEC_HASH_VERSIONS][17];
    bool have_metadata = build_pod_metadata_hash(world->cluster, component, wanted_metadata);
    /* The current version's hash first; the earlier versions' only when a
     * pod carries another hash (pods an older operator made). */
    size_t accepted_count = build_pod_spec_hash(world->cluster, component, accepted_hashes[0]) ? 1 : 0;
    bool all_versions = false;
    for (size_t i = 0; i < world->pod_count; i++) {
        const struct kube_pod *pod = world->pods[i];
        struct member_row *row = pod ? find_row(table, component,
                                                planner_member_ordinal(world->cluster, component, pod->meta.name))
                                     : NULL;
        if (!row)
            continue;
        row->pod = pod;
        row->terminating = pod->meta.deletion_ms != 0;
        row->ready = pod->ready == CONDITION_TRUE && !row->terminating;
        row->pending = pod->phase && strcmp(pod->phase, "Pending") == 0;
        row->node = find_node(world, pod->node_name);
        row->node_lost = row->node && row->node->ready != CONDITION_TRUE;
        row->node_gone = world->nodes_complete && pod->node_name && !row->node;
        row->unready_since_ms = row->ready ? 0 : pod->ready_transition_ms;
        row->spec_hash = object_annotation(&pod->meta, ANNOTATION_SPEC_HASH);
        /* No hash (a pod not made by us): nothing to compare, not rolled. */
        bool accepted = row->spec_hash && accepted_count > 0 && strcmp(row->spec_hash, accepted_hashes[0]) == 0;
        if (row->spec_hash && !accepted && !all_versions) {
            accepted_count = build_pod_spec_hashes_accepted(world->cluster, component, accepted_hashes);
            all_versions = true;
        }
        for (size_t h = 1; row->spec_hash && !accepted && h < accepted_count; h++)
            accepted = strcmp(row->spec_hash, accepted_hashes[h]) == 0;
        row->out_of_date = row->spec_hash && accepted_count > 0 && !accepted;
        const char *metadata = object_annotation(&pod->meta, ANNOTATION_METADATA_HASH);
        row->metadata_stale = metadata && have_metadata && strcmp(metadata, wanted_metadata) != 0;
    }
    for (size_t i = 0; i < world->pvc_count; i++) {
        const struct kube_pvc *pvc = world->pvcs[i];
        struct member_row *row = pvc ? find_row(table, component, pvc_ordinal(world->cluster, component, pvc->meta.name))
                                     : NULL;
        if (row) {
            row->pvc = pvc;
            row->pv = find_pv(world, pvc);
            row->pvc_deferred = object_annotation(&pvc->meta, ANNOTATION_PVC_DEFER_DELETING) != NULL;
            if (world->nodes_complete && row->pv && row->pv->node_hostname && !find_node(world, row->pv->node_hostname))
                row->node_gone = true; /* a local volume on a node that is gone */
        }
    }
}

/* Marks the rows the component's failure records name; the count of those
 * that exist (each wants a replacement beside it). */
static int attach_failures(const struct tidbcluster *cluster, struct member_row *rows, size_t count,
                           enum tc_component component)
{
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        struct member_row *row = &rows[i];
        if (component == TC_TIKV) {
            for (size_t f = 0; f < cluster->status.tikv.failure_stores.count; f++) {
                const struct tc_tikv_failure_store *record = &cluster->status.tikv.failure_stores.items[f];
                if (record->pod_name && strcmp(record->pod_name, row->name) == 0) {
                    row->failure = true;
                    row->failure_host_down = row->failure_host_down || record->host_down;
                }
            }
        } else if (component == TC_TIDB) {
            for (size_t f = 0; f < cluster->status.tidb.failure_members.count; f++) {
                const struct tc_tidb_failure_member *record = &cluster->status.tidb.failure_members.items[f];
                if (record->pod_name && strcmp(record->pod_name, row->name) == 0)
                    row->failure = true;
            }
        }
        failures += row->failure && row->existing;
    }
    return failures;
}

static void attach_pd(const struct observed_cluster *world, struct member_table *table, enum tc_component component)
{
    const struct pd_snapshot_data *pd = world->pd;
    if (!pd)
        return;
    if (component == TC_PD) {
        const char *leader = pd_snapshot_leader_name(pd);
        for (size_t i = 0; i < pd->members.count; i++) {
            const struct pd_member *member = &pd->members.members[i];
            struct member_row *row = find_row(table, TC_PD, planner_pd_member_ordinal(world->cluster, member->name));
            if (!row)
                continue;
            row->pd_member = member;
            row->pd_health = (enum member_health)pd_snapshot_member_health(pd, member->name);
            row->pd_leader = leader && member->name && strcmp(leader, member->name) == 0;
        }
    }
    if (component == TC_TIKV) {
        for (size_t i = 0; i < pd->stores.count; i++) {
            const struct pd_store *store = &pd->stores.stores[i];
            if (store->is_tiflash)
                continue;
            struct member_row *row =
                find_row(table, TC_TIKV, planner_store_ordinal(world->cluster, store->address, NULL, 0));
            /* A live store wins over a tombstone of the same address (a
             * member replaced on a clean disk leaves its old store behind). */
            if (!row || (row->store && !store_is_tombstone(row->store) && store_is_tombstone(store)))
                continue;
            row->store = store;
            row->store_tombstone = store_is_tombstone(store);
            row->store_up = store->state_name == PD_STORE_UP;
            row->store_down = store->state_name == PD_STORE_DOWN || store->state_name == PD_STORE_DISCONNECTED;
            row->store_offline = store->state_name == PD_STORE_OFFLINE;
            row->store_heartbeat_ms = store->last_heartbeat / 1000000;
            row->evicting = pd_snapshot_store_evicting(pd, store->id);
        }
    }
}

static int compare_rows(const void *a, const void *b)
{
    const struct member_row *x = a, *y = b;
    return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

static struct member_row *append_row(struct member_table *table, const struct tidbcluster *cluster,
                                     enum tc_component component, int ordinal)
{
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 16;
        struct member_row *grown = realloc(table->rows, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        table->rows = grown;
        table->capacity = capacity;
    }
    struct member_row *row = &table->rows[table->count];
    *row = (struct member_row){ .component = component, .ordinal = ordinal, .pd_health = MEMBER_HEALTH_UNKNOWN };
    if (!build_member_name(cluster, component, ordinal, row->name, sizeof row->name))
        return NULL;
    table->count++;
    return row;
}

/* The component's rows, sorted (rows are appended in any order). */
static struct member_row *component_rows(struct member_table *table, enum tc_component component, size_t *count)
{
    *count = table->count - table->first[component];
    return table->rows ? table->rows + table->first[component] : NULL;
}

/* Victims when there are more existing members than wanted: delete-slots
 * first (lowest ordinal first), then the highest ordinals. */
static void choose_victims(struct member_row *rows, size_t count, int surplus)
{
    for (size_t i = 0; surplus > 0 && i < count; i++)
        if (rows[i].existing && rows[i].desired && rows[i].delete_slot && !rows[i].failure) {
            rows[i].desired = false;
            surplus--;
        }
    for (size_t i = count; surplus > 0 && i-- > 0;)
        if (rows[i].existing && rows[i].desired && !rows[i].failure) {
            rows[i].desired = false;
            surplus--;
        }
}

/* Desired members beyond the existing ones: the lowest free ordinals not in
 * delete-slots, up to the window (rows added as needed). */
static bool add_missing(struct member_table *table, const struct tidbcluster *cluster, enum tc_component component,
                        const cJSON *slots, int wanted)
{
    size_t count = 0;
    struct member_row *rows = component_rows(table, component, &count);
    size_t cursor = 0, observed = count;
    int added = 0;
    for (int ordinal = 0; wanted > 0; ordinal++) {
        while (cursor < observed && rows[cursor].ordinal < ordinal)
            cursor++;
        struct member_row *row = cursor < observed && rows[cursor].ordinal == ordinal ? &rows[cursor] : NULL;
        if ((row && row->existing) || in_delete_slots(slots, ordinal) || ordinal == INT32_MAX)
            continue;
        wanted--;
        if (added == MEMBERS_MISSING_WINDOW) {
            table->missing_beyond[component] += wanted + 1;
            break;
        }
        added++;
        if (row) {
            row->desired = true;
            continue;
        }
        struct member_row *fresh = append_row(table, cluster, component, ordinal);
        if (!fresh)
            return false;
        fresh->desired = true;
        rows = component_rows(table, component, &count); /* the array may have moved */
    }
    rows = component_rows(table, component, &count);
    if (count > 1)
        qsort(rows, count, sizeof *rows, compare_rows);
    return true;
}

static bool build_component(const struct observed_cluster *world, struct member_table *table,
                            enum tc_component component)
{
    const struct tidbcluster *cluster = world->cluster;
    const struct component_spec *spec = &cluster->spec.component[component];
    table->first[component] = table->count;
    if (!spec->present)
        return true;
    struct ordinal_set set = { 0 };
    if (!collect_observed(world, component, &set)) {
        free(set.items);
        return false;
    }
    if (set.count > 1)
        qsort(set.items, set.count, sizeof *set.items, compare_ints);
    const char *annotation = tidbcluster_annotation(cluster, delete_slots_annotation[component]);
    cJSON *parsed = annotation ? cJSON_Parse(annotation) : NULL;
    const cJSON *slots = cJSON_IsArray(parsed) ? parsed : NULL;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, slots)
        if (!cJSON_IsNumber(item) || !(item->valuedouble >= 0 && item->valuedouble <= INT32_MAX) ||
            item->valuedouble != (double)(int)item->valuedouble)
            slots = NULL;
    table->delete_slots_invalid[component] = annotation && !slots;
    bool ok = true;
    for (size_t i = 0; ok && i < set.count; i++) {
        if (i > 0 && set.items[i] == set.items[i - 1])
            continue;
        ok = append_row(table, cluster, component, set.items[i]) != NULL;
    }
    free(set.items);
    table->rows_of[component] = table->count - table->first[component];
    if (ok) {
        attach_pods(world, table, component);
        attach_pd(world, table, component);
        size_t count = 0;
        struct member_row *rows = component_rows(table, component, &count);
        int existing = 0;
        for (size_t i = 0; i < count; i++) {
            struct member_row *row = &rows[i];
            row->delete_slot = in_delete_slots(slots, row->ordinal);
            row->existing = row->pod || (row->pvc && !row->pvc_deferred);
            row->desired = row->existing;
            existing += row->existing;
        }
        table->existing[component] = existing;
        int replicas = spec->replicas > 0 ? spec->replicas : 0;
        int failures = attach_failures(cluster, rows, count, component);
        if (replicas > 0 && failures > INT32_MAX - replicas)
            failures = 0;
        replicas += failures;
        if (existing > replicas)
            choose_victims(rows, count, existing - replicas);
        else if (existing < replicas)
            ok = add_missing(table, cluster, component, slots, replicas - existing);
        if (ok && table->count > table->first[component] + table->rows_of[component]) {
            /* New rows were added and sorted in: attach nothing (nothing is
             * observed for them), just count them. */
            table->rows_of[component] = table->count - table->first[component];
        }
    }
    cJSON_Delete(parsed);
    return ok;
}

bool member_table_build(const struct observed_cluster *world, struct member_table *out)
{
    *out = (struct member_table){ 0 };
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (!build_component(world, out, (enum tc_component)c))
            return false;
    return true;
}

void member_table_free(struct member_table *table)
{
    free(table->rows);
    *table = (struct member_table){ 0 };
}

const struct member_row *member_table_rows(const struct member_table *table, enum tc_component component,
                                           size_t *count)
{
    *count = table->rows_of[component];
    return table->rows ? table->rows + table->first[component] : NULL;
}

const struct member_row *member_table_find(const struct member_table *table, enum tc_component component,
                                           int ordinal)
{
    if (ordinal < 0 || (int)component < 0 || component >= TC_COMPONENT_COUNT)
        return NULL;
    size_t low = 0, high = 0;
    const struct member_row *rows = member_table_rows(table, component, &high);
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (rows[middle].ordinal == ordinal)
            return &rows[middle];
        if (rows[middle].ordinal < ordinal)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}
