#include "test/sim/pd_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A PD pod that is running; kept so a deleted member is not re-added while
 * its pod keeps running. */
struct pd_process {
    char *pod;
    char *version;
    bool running;
    bool removed;   /* PD: its member was deleted while the pod ran; TiKV: its
                     * store became Tombstone while this pod existed (a real
                     * TiKV then exits and never registers again from the
                     * same disk; only a new pod does) */
    bool gone;      /* TiKV: the pod was deleted (its next pod is a new one) */
};

struct pd_region {
    uint64_t peers[PD_MODEL_MAX_REPLICAS]; /* store ids */
    unsigned peer_count;
    unsigned leader;                       /* index into peers; valid when peer_count > 0 */
};

struct pd_model {
    char *namespace;
    char *cluster;
    char *version;
    const struct clock *clock;
    uint64_t seed;
    uint64_t cluster_id;
    unsigned initial_regions;
    uint64_t disconnect_ms;
    uint64_t leader_failover_ms;
    uint64_t election_ms;
    uint64_t transfer_ms;
    double region_moves_per_s;
    double leader_evictions_per_s;
    double leader_balance_per_s;
    double region_balance_per_s;

    bool bootstrapped;
    int64_t bootstrap_wall_ms;
    bool advanced;
    uint64_t last_advance_ms;

    struct pd_model_member *members;
    size_t member_count, member_capacity;
    struct pd_process *pd_pods;
    size_t pd_pod_count, pd_pod_capacity;
    uint64_t leader_id;            /* 0: none */
    bool leaderless_timing;        /* leaderless_since_ms is meaningful */
    uint64_t leaderless_since_ms;
    uint64_t transfer_target;      /* 0: none */
    uint64_t transfer_due_ms;
    uint64_t deletions;            /* salts member ids of rejoining members */

    struct pd_process *tikv_pods;
    size_t tikv_pod_count, tikv_pod_capacity;
    struct pd_model_store *stores;
    size_t store_count, store_capacity;
    uint64_t next_store_id;

    struct pd_region *regions;
    size_t region_count;
    double balance_budget;
    double region_balance_budget;

    uint64_t *evicted;
    size_t evicted_count, evicted_capacity;

    struct pd_model_config config;

    struct pd_model_tidb *tidb;
    size_t tidb_count, tidb_capacity;

    uint64_t delay_ms;
    char *failure;
    bool garbage;
    bool forced_leaderless;
};

/* ---- small helpers ---- */

static void set_msg(char *msg, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(char *msg, const char *format, ...)
{
    if (!msg)
        return;
    va_list args;
    va_start(args, format);
    vsnprintf(msg, PD_MODEL_MSG_SIZE, format, args);
    va_end(args);
}

static char *format_string(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *format_string(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *out = NULL;
    int n = vasprintf(&out, format, args);
    va_end(args);
    return n < 0 ? NULL : out;
}

/* Grows an array to hold one more element; false when memory runs out. */
static bool grow(void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return true;
    size_t wanted = *capacity ? *capacity * 2 : 4;
    void *bigger = realloc(*items, wanted * size);
    if (!bigger)
        return false;
    *items = bigger;
    *capacity = wanted;
    return true;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_string(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *text; text++)
        h = (h ^ (unsigned char)*text) * 1099511628211ULL;
    return h;
}

static uint64_t now_ms(const struct pd_model *model) { return clock_now_ms(model->clock); }
static int64_t wall_ms(const struct pd_model *model) { return clock_wall_ms(model->clock); }

static bool replace_string(char **slot, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return false;
    free(*slot);
    *slot = copy;
    return true;
}

/* ---- lifecycle ---- */

struct pd_model *pd_model_new(const struct pd_model_options *options)
{
    if (!options || !options->namespace || !options->cluster || !*options->namespace ||
        !*options->cluster)
        return NULL;
    struct pd_model *model = calloc(1, sizeof *model);
    if (!model)
        return NULL;
    model->namespace = strdup(options->namespace);
    model->cluster = strdup(options->cluster);
    model->version = strdup(options->version ? options->version : "v8.5.1");
    model->config.location_labels = strdup("");
    model->config.isolation_level = strdup("");
    if (!model->namespace || !model->cluster || !model->version ||
        !model->config.location_labels || !model->config.isolation_level) {
        pd_model_free(model);
        return NULL;
    }
    model->clock = options->clock ? options->clock : clock_system();
    model->seed = options->seed ? options->seed : 0x5eed5eed5eedULL;
    model->initial_regions = options->region_count ? options->region_count : 60;
    model->disconnect_ms = options->disconnect_ms ? options->disconnect_ms : 20000;
    model->leader_failover_ms = options->leader_failover_ms ? options->leader_failover_ms : 10000;
    model->election_ms = options->election_ms ? options->election_ms : 3000;
    model->transfer_ms = options->transfer_ms ? options->transfer_ms : 1000;
    model->region_moves_per_s = options->region_moves_per_s > 0 ? options->region_moves_per_s : 2;
    model->leader_evictions_per_s =
        options->leader_evictions_per_s > 0 ? options->leader_evictions_per_s : 20;
    model->leader_balance_per_s =
        options->leader_balance_per_s > 0 ? options->leader_balance_per_s : 10;
    model->region_balance_per_s =
        options->region_balance_per_s > 0 ? options->region_balance_per_s : 2;
    unsigned replicas = options->max_replicas ? options->max_replicas : 3;
    if (replicas > PD_MODEL_MAX_REPLICAS)
        replicas = PD_MODEL_MAX_REPLICAS;
    model->config.max_replicas = replicas;
    model->config.max_store_down_ms =
        options->max_store_down_ms ? options->max_store_down_ms : 30ULL * 60 * 1000;
    model->config.enable_placement_rules = true;
    model->config.leader_schedule_limit = 4;
    model->config.region_schedule_limit = 2048;
    model->config.replica_schedule_limit = 64;
    model->next_store_id = 1;
    /* PD's cluster id: creation time in the high 32 bits, random low bits. */
    uint64_t seconds = (uint64_t)(wall_ms(model) / 1000);
    uint64_t salt = mix64(model->seed ^ hash_string(model->namespace) ^
                          mix64(hash_string(model->cluster)));
    model->cluster_id = (seconds << 32) | (salt & 0xffffffffULL);
    return model;
}

static void member_free(struct pd_model_member *member)
{
    free(member->name);
    free(member->peer_url);
    free(member->client_url);
    free(member->version);
}

static void store_free(struct pd_model_store *store)
{
    free(store->pod);
    free(store->address);
    free(store->status_address);
    free(store->version);
    for (size_t i = 0; i < store->label_count; i++) {
        free(store->labels[i].key);
        free(store->labels[i].value);
    }
    free(store->labels);
}

void pd_model_free(struct pd_model *model)
{
    if (!model)
        return;
    for (size_t i = 0; i < model->member_count; i++)
        member_free(&model->members[i]);
    free(model->members);
    for (size_t i = 0; i < model->pd_pod_count; i++) {
        free(model->pd_pods[i].pod);
        free(model->pd_pods[i].version);
    }
    free(model->pd_pods);
    for (size_t i = 0; i < model->tikv_pod_count; i++) {
        free(model->tikv_pods[i].pod);
        free(model->tikv_pods[i].version);
    }
    free(model->tikv_pods);
    for (size_t i = 0; i < model->store_count; i++)
        store_free(&model->stores[i]);
    free(model->stores);
    free(model->regions);
    free(model->evicted);
    for (size_t i = 0; i < model->tidb_count; i++) {
        free(model->tidb[i].name);
        free(model->tidb[i].version);
    }
    free(model->tidb);
    free(model->config.location_labels);
    free(model->config.isolation_level);
    free(model->failure);
    free(model->namespace);
    free(model->cluster);
    free(model->version);
    free(model);
}

const char *pd_model_namespace(const struct pd_model *model) { return model->namespace; }
const char *pd_model_cluster(const struct pd_model *model) { return model->cluster; }
const struct clock *pd_model_clock(const struct pd_model *model) { return model->clock; }
uint64_t pd_model_cluster_id(const struct pd_model *model) { return model->cluster_id; }
bool pd_model_bootstrapped(const struct pd_model *model) { return model->bootstrapped; }
int64_t pd_model_bootstrap_wall_ms(const struct pd_model *model) { return model->bootstrap_wall_ms; }
const char *pd_model_version(const struct pd_model *model) { return model->version; }

void pd_model_set_timing(struct pd_model *model, uint64_t election_ms, uint64_t transfer_ms)
{
    model->election_ms = election_ms;
    model->transfer_ms = transfer_ms;
}

/* ---- members ---- */

static void elect(struct pd_model *model);

static struct pd_model_member *member_by_name(const struct pd_model *model, const char *name)
{
    for (size_t i = 0; i < model->member_count; i++)
        if (strcmp(model->members[i].name, name) == 0)
            return &model->members[i];
    return NULL;
}

static struct pd_model_member *member_by_id(const struct pd_model *model, uint64_t id)
{
    for (size_t i = 0; i < model->member_count; i++)
        if (model->members[i].id == id)
            return &model->members[i];
    return NULL;
}

bool pd_member_alive(const struct pd_model_member *member)
{
    return member->pod_running && !member->killed;
}

size_t pd_model_member_count(const struct pd_model *model) { return model->member_count; }

const struct pd_model_member *pd_model_member_at(const struct pd_model *model, size_t index)
{
    return index < model->member_count ? &model->members[index] : NULL;
}

const struct pd_model_member *pd_model_member_find(const struct pd_model *model, const char *name)
{
    return name ? member_by_name(model, name) : NULL;
}

size_t pd_model_alive_members(const struct pd_model *model)
{
    size_t alive = 0;
    for (size_t i = 0; i < model->member_count; i++)
        alive += pd_member_alive(&model->members[i]);
    return alive;
}

static bool has_quorum(const struct pd_model *model)
{
    return model->member_count > 0 && pd_model_alive_members(model) * 2 > model->member_count;
}

const struct pd_model_member *pd_model_leader(const struct pd_model *model)
{
    return model->leader_id ? member_by_id(model, model->leader_id) : NULL;
}

static void lose_leader(struct pd_model *model)
{
    model->leader_id = 0;
    model->leaderless_timing = true;
    model->leaderless_since_ms = now_ms(model);
}

/* etcd orders members by id; so do we. */
static int member_compare(const void *a, const void *b)
{
    const struct pd_model_member *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static bool member_add(struct pd_model *model, const char *pod, const char *version)
{
    if (!grow((void **)&model->members, &model->member_capacity, model->member_count,
              sizeof *model->members))
        return false;
    struct pd_model_member member = { 0 };
    member.name = strdup(pod);
    member.peer_url = format_string("http://%s.%s-pd-peer.%s.svc:2380", pod, model->cluster,
                                    model->namespace);
    member.client_url = format_string("http://%s.%s-pd-peer.%s.svc:2379", pod, model->cluster,
                                      model->namespace);
    member.version = strdup(version ? version : model->version);
    if (!member.name || !member.peer_url || !member.client_url || !member.version) {
        member_free(&member);
        return false;
    }
    /* Stable per name until deleted; a rejoin after a delete gets a new id. */
    member.id = mix64(model->seed ^ hash_string(pod) ^ mix64(model->deletions + 1));
    while (member.id == 0 || member_by_id(model, member.id))
        member.id = mix64(member.id + 1);
    member.pod_running = true;
    member.start_wall_ms = wall_ms(model);
    model->members[model->member_count++] = member;
    qsort(model->members, model->member_count, sizeof *model->members, member_compare);
    if (!model->leader_id && !model->leaderless_timing) {
        model->leaderless_timing = true;
        model->leaderless_since_ms = now_ms(model);
    }
    return true;
}

static struct pd_process *process_find(struct pd_process *list, size_t count, const char *pod)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].pod, pod) == 0)
            return &list[i];
    return NULL;
}

static struct pd_process *process_get(struct pd_process **list, size_t *count, size_t *capacity,
                                      const char *pod)
{
    struct pd_process *found = process_find(*list, *count, pod);
    if (found)
        return found;
    if (!grow((void **)list, capacity, *count, sizeof **list))
        return NULL;
    struct pd_process *process = &(*list)[*count];
    memset(process, 0, sizeof *process);
    process->pod = strdup(pod);
    if (!process->pod)
        return NULL;
    (*count)++;
    return process;
}

bool pd_model_pd_pod(struct pd_model *model, const char *pod, bool running, const char *version)
{
    struct pd_process *process =
        process_get(&model->pd_pods, &model->pd_pod_count, &model->pd_pod_capacity, pod);
    if (!process || (version && !replace_string(&process->version, version)))
        return false;
    struct pd_model_member *member = member_by_name(model, pod);
    if (!running) {
        process->running = false;
        process->removed = false; /* the next run of this pod rejoins */
        if (member)
            member->pod_running = false;
        return true;
    }
    bool was_running = process->running;
    process->running = true;
    if (process->removed)
        return true;
    if (member) {
        if (!was_running)
            member->start_wall_ms = wall_ms(model);
        member->pod_running = true;
        if (version && !replace_string(&member->version, version))
            return false;
        return true;
    }
    return member_add(model, pod, process->version);
}

bool pd_model_member_kill(struct pd_model *model, const char *name, bool killed)
{
    struct pd_model_member *member = member_by_name(model, name);
    if (!member)
        return false;
    member->killed = killed;
    return true;
}

int pd_model_transfer_leader(struct pd_model *model, const char *name, char *msg)
{
    struct pd_model_member *target = member_by_name(model, name);
    if (!target) {
        set_msg(msg, "no valid pd to transfer etcd leader");
        return 500;
    }
    if (!pd_member_alive(target)) {
        set_msg(msg, "[PD:etcd:ErrEtcdMoveLeader]etcd move leader error: etcdserver: request "
                     "timed out, leader transfer took too long");
        return 500;
    }
    set_msg(msg, "The transfer command is submitted.");
    if (target->id == model->leader_id)
        return 200;
    uint64_t target_id = target->id;
    lose_leader(model);
    model->transfer_target = target_id;
    model->transfer_due_ms = now_ms(model) + model->transfer_ms;
    if (model->transfer_ms == 0)
        elect(model);
    return 200;
}

int pd_model_resign_leader(struct pd_model *model, char *msg)
{
    set_msg(msg, "The resign command is submitted.");
    const struct pd_model_member *leader = pd_model_leader(model);
    if (!leader || model->member_count < 2)
        return 200;
    /* The next alive member after the leader, in name order. */
    const struct pd_model_member *next = NULL, *first = NULL;
    for (size_t i = 0; i < model->member_count; i++) {
        const struct pd_model_member *m = &model->members[i];
        if (m == leader || !pd_member_alive(m))
            continue;
        if (!first || strcmp(m->name, first->name) < 0)
            first = m;
        if (strcmp(m->name, leader->name) > 0 && (!next || strcmp(m->name, next->name) < 0))
            next = m;
    }
    if (!next)
        next = first;
    if (!next) {
        set_msg(msg, "[PD:etcd:ErrEtcdMoveLeader]etcd move leader error: etcdserver: request "
                     "timed out, leader transfer took too long");
        return 500;
    }
    char name[PD_MODEL_MSG_SIZE];
    snprintf(name, sizeof name, "%s", next->name);
    pd_model_transfer_leader(model, name, NULL);
    return 200;
}

static int member_remove(struct pd_model *model, struct pd_model_member *member, char *msg)
{
    /* etcd strict reconfig: removing a live member must leave an active quorum. */
    size_t n = model->member_count;
    size_t alive = pd_model_alive_members(model);
    if (pd_member_alive(member) && alive - 1 < 1 + (n - 1) / 2) {
        set_msg(msg, "[PD:etcd:ErrEtcdMemberRemove]etcdserver: unhealthy cluster");
        return 500;
    }
    struct pd_process *process = process_find(model->pd_pods, model->pd_pod_count, member->name);
    if (process && process->running)
        process->removed = true;
    if (model->leader_id == member->id)
        lose_leader(model);
    if (model->transfer_target == member->id)
        model->transfer_target = 0;
    model->deletions++;
    size_t index = (size_t)(member - model->members);
    member_free(member);
    memmove(&model->members[index], &model->members[index + 1],
            (model->member_count - index - 1) * sizeof *model->members);
    model->member_count--;
    return 200;
}

int pd_model_delete_member_by_name(struct pd_model *model, const char *name, char *msg)
{
    struct pd_model_member *member = member_by_name(model, name);
    if (!member) {
        set_msg(msg, "not found, pd: %s", name);
        return 404;
    }
    int status = member_remove(model, member, msg);
    if (status == 200)
        set_msg(msg, "removed, pd: %s", name);
    return status;
}

int pd_model_delete_member_by_id(struct pd_model *model, uint64_t id, char *msg)
{
    struct pd_model_member *member = member_by_id(model, id);
    if (!member) {
        set_msg(msg, "[PD:etcd:ErrEtcdMemberRemove]etcdserver: member not found");
        return 500;
    }
    int status = member_remove(model, member, msg);
    if (status == 200)
        set_msg(msg, "removed, pd: %llu", (unsigned long long)id);
    return status;
}

/* Leader election: runs at every advance. */
static void elect(struct pd_model *model)
{
    uint64_t now = now_ms(model);
    bool quorum = has_quorum(model);
    if (model->forced_leaderless) {
        if (model->leader_id)
            lose_leader(model);
        model->transfer_target = 0;
        return;
    }
    const struct pd_model_member *leader = pd_model_leader(model);
    if (model->leader_id && (!leader || !pd_member_alive(leader) || !quorum))
        lose_leader(model);
    if (model->leader_id)
        return;
    if (model->transfer_target) {
        const struct pd_model_member *target = member_by_id(model, model->transfer_target);
        if (now < model->transfer_due_ms && target && pd_member_alive(target))
            return;
        model->transfer_target = 0;
        if (target && pd_member_alive(target) && quorum) {
            model->leader_id = target->id;
            model->leaderless_timing = false;
            return;
        }
    }
    if (!quorum) {
        model->leaderless_timing = false; /* the election clock restarts with a majority */
        return;
    }
    if (!model->leaderless_timing) {
        model->leaderless_timing = true;
        model->leaderless_since_ms = now;
    }
    if (now - model->leaderless_since_ms < model->election_ms)
        return;
    const struct pd_model_member *winner = NULL;
    for (size_t i = 0; i < model->member_count; i++) {
        const struct pd_model_member *m = &model->members[i];
        if (pd_member_alive(m) && (!winner || strcmp(m->name, winner->name) < 0))
            winner = m;
    }
    if (winner) {
        model->leader_id = winner->id;
        model->leaderless_timing = false;
    }
}

/* ---- stores ---- */

size_t pd_model_store_count(const struct pd_model *model) { return model->store_count; }

const struct pd_model_store *pd_model_store_at(const struct pd_model *model, size_t index)
{
    return index < model->store_count ? &model->stores[index] : NULL;
}

static struct pd_model_store *store_by_id(const struct pd_model *model, uint64_t id)
{
    for (size_t i = 0; i < model->store_count; i++)
        if (model->stores[i].id == id)
            return &model->stores[i];
    return NULL;
}

const struct pd_model_store *pd_model_store_find(const struct pd_model *model, uint64_t id)
{
    return store_by_id(model, id);
}

static struct pd_model_store *live_store_of_pod(const struct pd_model *model, const char *pod)
{
    for (size_t i = model->store_count; i-- > 0;)
        if (model->stores[i].state != PD_STORE_TOMBSTONE && strcmp(model->stores[i].pod, pod) == 0)
            return &model->stores[i];
    return NULL;
}

const struct pd_model_store *pd_model_store_by_pod(const struct pd_model *model, const char *pod)
{
    const struct pd_model_store *live = live_store_of_pod(model, pod);
    if (live)
        return live;
    for (size_t i = model->store_count; i-- > 0;)
        if (strcmp(model->stores[i].pod, pod) == 0)
            return &model->stores[i];
    return NULL;
}

static uint64_t downtime_ms(const struct pd_model *model, const struct pd_model_store *store)
{
    uint64_t now = now_ms(model);
    if (!store->heard)
        return UINT64_MAX;
    return now > store->heartbeat_ms ? now - store->heartbeat_ms : 0;
}

const char *pd_model_store_state_name(const struct pd_model *model, const struct pd_model_store *store)
{
    if (store->state == PD_STORE_TOMBSTONE)
        return "Tombstone";
    if (store->state == PD_STORE_OFFLINE)
        return "Offline";
    uint64_t down = downtime_ms(model, store);
    if (down > model->config.max_store_down_ms)
        return "Down";
    if (down > model->disconnect_ms)
        return "Disconnected";
    return "Up";
}

bool pd_model_tikv_pod(struct pd_model *model, const char *pod, bool running, const char *version)
{
    struct pd_process *process =
        process_get(&model->tikv_pods, &model->tikv_pod_count, &model->tikv_pod_capacity, pod);
    if (!process || (version && !replace_string(&process->version, version)))
        return false;
    process->running = running;
    process->gone = false;
    return true;
}

bool pd_model_tikv_pod_gone(struct pd_model *model, const char *pod)
{
    struct pd_process *process =
        process_get(&model->tikv_pods, &model->tikv_pod_count, &model->tikv_pod_capacity, pod);
    if (!process)
        return false;
    process->running = false;
    process->removed = false; /* a new pod of this name starts on what it is given */
    process->gone = true;
    return true;
}

static bool store_register(struct pd_model *model, const struct pd_process *process)
{
    if (!grow((void **)&model->stores, &model->store_capacity, model->store_count,
              sizeof *model->stores))
        return false;
    struct pd_model_store store = { 0 };
    store.id = model->next_store_id;
    store.pod = strdup(process->pod);
    store.address = format_string("%s.%s-tikv-peer.%s.svc:20160", process->pod, model->cluster,
                                  model->namespace);
    store.status_address = format_string("%s.%s-tikv-peer.%s.svc:20180", process->pod,
                                         model->cluster, model->namespace);
    const char *version = process->version ? process->version : model->version;
    if (version[0] == 'v')
        version++;
    store.version = strdup(version);
    if (!store.pod || !store.address || !store.status_address || !store.version) {
        store_free(&store);
        return false;
    }
    store.state = PD_STORE_UP;
    store.node_state = PD_NODE_PREPARING;
    model->stores[model->store_count++] = store;
    model->next_store_id++;
    if (!model->bootstrapped) {
        /* The first store bootstraps the cluster; its regions start there. */
        model->regions = calloc(model->initial_regions, sizeof *model->regions);
        if (!model->regions) {
            store_free(&model->stores[--model->store_count]);
            model->next_store_id--;
            return false;
        }
        model->region_count = model->initial_regions;
        for (size_t i = 0; i < model->region_count; i++) {
            model->regions[i].peers[0] = store.id;
            model->regions[i].peer_count = 1;
            model->regions[i].leader = 0;
        }
        model->stores[model->store_count - 1].region_count = model->region_count;
        model->stores[model->store_count - 1].leader_count = model->region_count;
        model->bootstrapped = true;
        model->bootstrap_wall_ms = wall_ms(model);
    }
    return true;
}

int pd_model_store_delete(struct pd_model *model, uint64_t id, bool force, char *msg)
{
    struct pd_model_store *store = store_by_id(model, id);
    if (!store) {
        set_msg(msg, "[PD:core:ErrStoreNotFound]store %llu not found", (unsigned long long)id);
        return 404;
    }
    if (store->state == PD_STORE_TOMBSTONE) {
        set_msg(msg, "[PD:core:ErrStoreRemoved]store %llu has been removed",
                (unsigned long long)id);
        return 410;
    }
    if (store->state == PD_STORE_OFFLINE) {
        if (store->physically_destroyed == force) {
            set_msg(msg, "The store is set as Offline.");
            return 200;
        }
        if (store->physically_destroyed) {
            set_msg(msg, "[PD:core:ErrStoreDestroyed]store %llu has been physically destroyed",
                    (unsigned long long)id);
            return 400;
        }
    }
    if (store->state == PD_STORE_UP && !force) {
        /* Down and Disconnected stores count as up here, as in PD. */
        size_t up = 0, other_not_evicted = 0;
        for (size_t i = 0; i < model->store_count; i++) {
            const struct pd_model_store *s = &model->stores[i];
            if (s->state != PD_STORE_UP)
                continue;
            up++;
            if (s->id != id && !pd_model_evict_leader_has(model, s->id))
                other_not_evicted++;
        }
        if (up - 1 < model->config.max_replicas) {
            set_msg(msg,
                    "[PD:core:ErrStoresNotEnough]can not remove store %llu since the number of "
                    "up stores would be %zu while need %u",
                    (unsigned long long)id, up - 1, model->config.max_replicas);
            return 400;
        }
        if (other_not_evicted == 0) {
            set_msg(msg,
                    "[PD:core:ErrNoStoreForRegionLeader]can not remove store %llu since there "
                    "are no extra up store to store the leader",
                    (unsigned long long)id);
            return 400;
        }
    }
    store->state = PD_STORE_OFFLINE;
    store->node_state = PD_NODE_REMOVING;
    store->physically_destroyed = store->physically_destroyed || force;
    set_msg(msg, "The store is set as Offline.");
    return 200;
}

int pd_model_store_set_state(struct pd_model *model, uint64_t id, const char *state, char *msg)
{
    if (state && strcasecmp(state, "Offline") == 0) {
        int status = pd_model_store_delete(model, id, false, msg);
        if (status == 200)
            set_msg(msg, "The store's state is updated.");
        return status;
    }
    if (!state || strcasecmp(state, "Up") != 0) {
        set_msg(msg, "invalid state %s", state ? state : "");
        return 400;
    }
    struct pd_model_store *store = store_by_id(model, id);
    if (!store) {
        set_msg(msg, "[PD:core:ErrStoreNotFound]store %llu not found", (unsigned long long)id);
        return 404;
    }
    if (store->state == PD_STORE_TOMBSTONE) {
        set_msg(msg, "[PD:core:ErrStoreRemoved]store %llu has been removed",
                (unsigned long long)id);
        return 410;
    }
    if (store->physically_destroyed) {
        set_msg(msg, "[PD:core:ErrStoreDestroyed]store %llu has been physically destroyed",
                (unsigned long long)id);
        return 400;
    }
    if (store->state == PD_STORE_OFFLINE) {
        store->state = PD_STORE_UP;
        store->node_state = PD_NODE_SERVING;
    }
    set_msg(msg, "The store's state is updated.");
    return 200;
}

int pd_model_store_set_labels(struct pd_model *model, uint64_t id, const char *const *keys,
                              const char *const *values, size_t count, bool force, char *msg)
{
    struct pd_model_store *store = store_by_id(model, id);
    if (!store) {
        set_msg(msg, "[PD:core:ErrStoreNotFound]store %llu not found", (unsigned long long)id);
        return 500;
    }
    for (size_t i = 0; i < count; i++) {
        if (strcmp(keys[i], "engine") == 0) {
            set_msg(msg, "key engine is reserved, please use other key");
            return 400;
        }
        if (!*keys[i]) {
            set_msg(msg, "[PD:apiutil:ErrInvalidLabel]invalid label key \"\"");
            return 400;
        }
    }
    if (force) {
        for (size_t i = 0; i < store->label_count; i++) {
            free(store->labels[i].key);
            free(store->labels[i].value);
        }
        store->label_count = 0;
    }
    for (size_t i = 0; i < count; i++) {
        struct pd_model_label *slot = NULL;
        for (size_t j = 0; j < store->label_count; j++)
            if (strcmp(store->labels[j].key, keys[i]) == 0)
                slot = &store->labels[j];
        if (slot) {
            if (!replace_string(&slot->value, values[i]))
                goto oom;
            continue;
        }
        struct pd_model_label *bigger = realloc(store->labels, (store->label_count + 1) * sizeof *bigger);
        if (!bigger)
            goto oom;
        store->labels = bigger;
        struct pd_model_label label = { strdup(keys[i]), strdup(values[i]) };
        if (!label.key || !label.value) {
            free(label.key);
            free(label.value);
            goto oom;
        }
        store->labels[store->label_count++] = label;
    }
    set_msg(msg, "The store's label is updated.");
    return 200;
oom:
    set_msg(msg, "out of memory");
    return 500;
}

int pd_model_remove_tombstones(struct pd_model *model, char *msg)
{
    size_t kept = 0;
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *store = &model->stores[i];
        if (store->state == PD_STORE_TOMBSTONE && store->region_count == 0) {
            for (size_t j = 0; j < model->evicted_count; j++)
                if (model->evicted[j] == store->id)
                    model->evicted[j--] = model->evicted[--model->evicted_count];
            store_free(store);
            continue;
        }
        model->stores[kept++] = *store;
    }
    model->store_count = kept;
    set_msg(msg, "Remove tombstone successfully.");
    return 200;
}

bool pd_model_store_pause_heartbeats(struct pd_model *model, uint64_t id, bool paused)
{
    struct pd_model_store *store = store_by_id(model, id);
    if (!store)
        return false;
    store->heartbeats_paused = paused;
    return true;
}

bool pd_model_tikv_running(const struct pd_model *model, const char *pod)
{
    const struct pd_process *process = process_find(model->tikv_pods, model->tikv_pod_count, pod);
    return process && process->running;
}

size_t pd_model_region_count(const struct pd_model *model) { return model->region_count; }

bool pd_model_region_at(const struct pd_model *model, size_t index, const uint64_t **peers,
                        unsigned *peer_count, unsigned *leader)
{
    if (index >= model->region_count)
        return false;
    const struct pd_region *region = &model->regions[index];
    *peers = region->peers;
    *peer_count = region->peer_count;
    *leader = region->leader;
    return true;
}

bool pd_model_regions_replicated(const struct pd_model *model)
{
    if (!model->bootstrapped)
        return false;
    for (size_t i = 0; i < model->region_count; i++)
        if (model->regions[i].peer_count < model->config.max_replicas)
            return false;
    return true;
}

/* ---- evict-leader scheduler ---- */

bool pd_model_evict_leader_has(const struct pd_model *model, uint64_t store_id)
{
    for (size_t i = 0; i < model->evicted_count; i++)
        if (model->evicted[i] == store_id)
            return true;
    return false;
}

int pd_model_evict_leader_add(struct pd_model *model, uint64_t store_id, bool *created, char *msg)
{
    bool exists = model->evicted_count > 0;
    if (created)
        *created = !exists;
    if (!store_by_id(model, store_id)) {
        set_msg(msg, "[PD:core:ErrStoreNotFound]store %llu not found",
                (unsigned long long)store_id);
        return exists ? 500 : 400;
    }
    set_msg(msg, exists ? "The scheduler has been applied to the store." : "The scheduler is created.");
    if (pd_model_evict_leader_has(model, store_id))
        return 200;
    if (!grow((void **)&model->evicted, &model->evicted_capacity, model->evicted_count,
              sizeof *model->evicted)) {
        set_msg(msg, "out of memory");
        return 500;
    }
    model->evicted[model->evicted_count++] = store_id;
    struct pd_model_store *store = store_by_id(model, store_id);
    store->evict_budget = 0;
    return 200;
}

int pd_model_evict_leader_remove(struct pd_model *model, uint64_t store_id, bool *last)
{
    if (last)
        *last = false;
    for (size_t i = 0; i < model->evicted_count; i++) {
        if (model->evicted[i] != store_id)
            continue;
        memmove(&model->evicted[i], &model->evicted[i + 1],
                (model->evicted_count - i - 1) * sizeof *model->evicted);
        model->evicted_count--;
        if (last)
            *last = model->evicted_count == 0;
        return 200;
    }
    return 404;
}

bool pd_model_evict_leader_clear(struct pd_model *model)
{
    bool had = model->evicted_count > 0;
    model->evicted_count = 0;
    return had;
}

size_t pd_model_evict_leader_count(const struct pd_model *model) { return model->evicted_count; }

uint64_t pd_model_evict_leader_at(const struct pd_model *model, size_t index)
{
    return index < model->evicted_count ? model->evicted[index] : 0;
}

/* ---- config ---- */

const struct pd_model_config *pd_model_config(const struct pd_model *model) { return &model->config; }

int pd_model_set_max_replicas(struct pd_model *model, long value, char *msg)
{
    if (value < 1 || value > PD_MODEL_MAX_REPLICAS) {
        set_msg(msg, "[PD:config:ErrConfigItem]max-replicas %ld is out of range 1..%d (simulator)",
                value, PD_MODEL_MAX_REPLICAS);
        return 400;
    }
    model->config.max_replicas = (unsigned)value;
    set_msg(msg, "The config is updated.");
    return 200;
}

void pd_model_set_max_store_down_ms(struct pd_model *model, uint64_t ms)
{
    model->config.max_store_down_ms = ms;
}

bool pd_model_set_location_labels(struct pd_model *model, const char *labels)
{
    return replace_string(&model->config.location_labels, labels);
}

bool pd_model_set_isolation_level(struct pd_model *model, const char *level)
{
    return replace_string(&model->config.isolation_level, level);
}

void pd_model_set_strictly_match_label(struct pd_model *model, bool value)
{
    model->config.strictly_match_label = value;
}

void pd_model_set_placement_rules(struct pd_model *model, bool value)
{
    model->config.enable_placement_rules = value;
}

/* ---- TiDB ---- */

size_t pd_model_tidb_count(const struct pd_model *model) { return model->tidb_count; }

const struct pd_model_tidb *pd_model_tidb_at(const struct pd_model *model, size_t index)
{
    return index < model->tidb_count ? &model->tidb[index] : NULL;
}

const struct pd_model_tidb *pd_model_tidb_find(const struct pd_model *model, const char *name)
{
    for (size_t i = 0; i < model->tidb_count; i++)
        if (strcmp(model->tidb[i].name, name) == 0)
            return &model->tidb[i];
    return NULL;
}

bool pd_model_tidb_pod(struct pd_model *model, const char *pod, enum pd_tidb_state state,
                       const char *version)
{
    struct pd_model_tidb *tidb = (struct pd_model_tidb *)pd_model_tidb_find(model, pod);
    if (state == PD_TIDB_GONE) {
        if (tidb) {
            free(tidb->name);
            free(tidb->version);
            *tidb = model->tidb[--model->tidb_count];
        }
        return true;
    }
    if (!tidb) {
        if (!grow((void **)&model->tidb, &model->tidb_capacity, model->tidb_count,
                  sizeof *model->tidb))
            return false;
        struct pd_model_tidb fresh = { 0 };
        fresh.name = strdup(pod);
        if (!fresh.name)
            return false;
        model->tidb[model->tidb_count++] = fresh;
        tidb = &model->tidb[model->tidb_count - 1];
    }
    const char *base = version ? version : model->version;
    char *full = format_string("8.0.11-TiDB-%s%s", base[0] == 'v' ? "" : "v", base);
    if (!full)
        return false;
    free(tidb->version);
    tidb->version = full;
    tidb->state = state;
    return true;
}

/* ---- faults ---- */

void pd_model_set_delay_ms(struct pd_model *model, uint64_t ms) { model->delay_ms = ms; }
uint64_t pd_model_delay_ms(const struct pd_model *model) { return model->delay_ms; }

bool pd_model_set_failing(struct pd_model *model, bool failing, const char *body)
{
    if (!failing) {
        free(model->failure);
        model->failure = NULL;
        return true;
    }
    return replace_string(&model->failure,
                          body ? body : "[PD:server:ErrServerNotStarted]server not started");
}

const char *pd_model_failure(const struct pd_model *model) { return model->failure; }

void pd_model_set_garbage(struct pd_model *model, bool garbage) { model->garbage = garbage; }
bool pd_model_garbage(const struct pd_model *model) { return model->garbage; }

void pd_model_set_leaderless(struct pd_model *model, bool leaderless)
{
    model->forced_leaderless = leaderless;
    if (leaderless && model->leader_id)
        lose_leader(model);
    if (!leaderless && !model->leader_id) {
        model->leaderless_timing = true;
        model->leaderless_since_ms = now_ms(model);
    }
}

/* ---- scheduling: regions, leaders, store transitions ---- */

static bool store_fresh(const struct pd_model *model, const struct pd_model_store *store)
{
    return store->state != PD_STORE_TOMBSTONE &&
           downtime_ms(model, store) <= model->leader_failover_ms;
}

/* Can take a new peer: Up (not Offline) and heartbeating. */
static bool store_placeable(const struct pd_model *model, const struct pd_model_store *store)
{
    return store->state == PD_STORE_UP && downtime_ms(model, store) <= model->disconnect_ms;
}

/* Its peers must move away: Offline, or Up but Down for max-store-down-time. */
static bool store_draining(const struct pd_model *model, const struct pd_model_store *store)
{
    return store->state == PD_STORE_OFFLINE ||
           (store->state == PD_STORE_UP &&
            downtime_ms(model, store) > model->config.max_store_down_ms);
}

static bool region_has(const struct pd_region *region, uint64_t store_id)
{
    for (unsigned i = 0; i < region->peer_count; i++)
        if (region->peers[i] == store_id)
            return true;
    return false;
}

/* The placeable store with the fewest regions that `region` does not use. */
static struct pd_model_store *pick_target(struct pd_model *model, const struct pd_region *region)
{
    struct pd_model_store *best = NULL;
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *s = &model->stores[i];
        if (!store_placeable(model, s) || region_has(region, s->id))
            continue;
        if (!best || s->region_count < best->region_count)
            best = s;
    }
    return best;
}

/* The best other peer to lead: fresh, preferably not evicted, fewest leaders. */
static int pick_leader(struct pd_model *model, const struct pd_region *region, unsigned except,
                       bool allow_evicted)
{
    int best = -1;
    const struct pd_model_store *best_store = NULL;
    bool best_evicted = true;
    for (unsigned i = 0; i < region->peer_count; i++) {
        if (i == except)
            continue;
        const struct pd_model_store *s = store_by_id(model, region->peers[i]);
        if (!s || !store_fresh(model, s) || s->state == PD_STORE_OFFLINE)
            continue;
        bool evicted = pd_model_evict_leader_has(model, s->id);
        if (evicted && !allow_evicted)
            continue;
        if (best < 0 || (best_evicted && !evicted) ||
            (best_evicted == evicted && s->leader_count < best_store->leader_count)) {
            best = (int)i;
            best_store = s;
            best_evicted = evicted;
        }
    }
    return best;
}

static void move_leader(struct pd_model *model, struct pd_region *region, unsigned to)
{
    struct pd_model_store *from = store_by_id(model, region->peers[region->leader]);
    struct pd_model_store *dest = store_by_id(model, region->peers[to]);
    if (from)
        from->leader_count--;
    if (dest)
        dest->leader_count++;
    region->leader = to;
}

/* Replaces the peer at `index` with one on `target`. */
static void replace_peer(struct pd_model *model, struct pd_region *region, unsigned index,
                         struct pd_model_store *target)
{
    struct pd_model_store *source = store_by_id(model, region->peers[index]);
    if (region->leader == index) {
        int other = pick_leader(model, region, index, true);
        if (other >= 0) {
            move_leader(model, region, (unsigned)other);
        } else {
            if (source)
                source->leader_count--;
            target->leader_count++;
        }
    }
    if (source)
        source->region_count--;
    region->peers[index] = target->id;
    target->region_count++;
}

static void fill_and_trim(struct pd_model *model)
{
    unsigned want = model->config.max_replicas;
    for (size_t r = 0; r < model->region_count; r++) {
        struct pd_region *region = &model->regions[r];
        while (region->peer_count < want) {
            struct pd_model_store *target = pick_target(model, region);
            if (!target)
                break;
            region->peers[region->peer_count++] = target->id;
            target->region_count++;
            if (region->peer_count == 1) {
                region->leader = 0;
                target->leader_count++;
            }
        }
        while (region->peer_count > want) {
            /* Drop the non-leader peer on the busiest store. */
            int drop = -1;
            size_t most = 0;
            for (unsigned i = 0; i < region->peer_count; i++) {
                const struct pd_model_store *s = store_by_id(model, region->peers[i]);
                size_t count = s ? s->region_count : 0;
                if (i != region->leader && (drop < 0 || count > most)) {
                    drop = (int)i;
                    most = count;
                }
            }
            struct pd_model_store *s = store_by_id(model, region->peers[drop]);
            if (s)
                s->region_count--;
            region->peers[drop] = region->peers[--region->peer_count];
            if (region->leader == region->peer_count)
                region->leader = (unsigned)drop;
        }
    }
}

static void fail_over_leaders(struct pd_model *model)
{
    for (size_t r = 0; r < model->region_count; r++) {
        struct pd_region *region = &model->regions[r];
        if (region->peer_count == 0)
            continue;
        const struct pd_model_store *leader = store_by_id(model, region->peers[region->leader]);
        if (leader && store_fresh(model, leader))
            continue;
        int other = pick_leader(model, region, region->leader, true);
        if (other >= 0)
            move_leader(model, region, (unsigned)other);
    }
}

static void drain(struct pd_model *model, double seconds)
{
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *store = &model->stores[i];
        if (!store_draining(model, store) || store->region_count == 0) {
            store->move_budget = 0;
            continue;
        }
        store->move_budget += model->region_moves_per_s * seconds;
        for (size_t r = 0; r < model->region_count && store->move_budget >= 1; r++) {
            struct pd_region *region = &model->regions[r];
            for (unsigned p = 0; p < region->peer_count; p++) {
                if (region->peers[p] != store->id)
                    continue;
                struct pd_model_store *target = pick_target(model, region);
                if (target) {
                    /* `store` may not move in memory: replace_peer only edits counts. */
                    replace_peer(model, region, p, target);
                    store->move_budget -= 1;
                }
                break;
            }
        }
        /* Unspent budget (nowhere to move) must not turn into a burst later. */
        if (store->move_budget > 1)
            store->move_budget = 1;
    }
}

static void evict_leaders(struct pd_model *model, double seconds)
{
    for (size_t e = 0; e < model->evicted_count; e++) {
        struct pd_model_store *store = store_by_id(model, model->evicted[e]);
        if (!store || store->leader_count == 0) {
            if (store)
                store->evict_budget = 0;
            continue;
        }
        store->evict_budget += model->leader_evictions_per_s * seconds;
        for (size_t r = 0; r < model->region_count && store->evict_budget >= 1; r++) {
            struct pd_region *region = &model->regions[r];
            if (region->peer_count == 0 || region->peers[region->leader] != store->id)
                continue;
            int to = pick_leader(model, region, region->leader, false);
            if (to < 0)
                continue;
            move_leader(model, region, (unsigned)to);
            store->evict_budget -= 1;
        }
        if (store->evict_budget > 1)
            store->evict_budget = 1;
    }
}

static bool balance_candidate(const struct pd_model *model, const struct pd_model_store *store)
{
    return store->state == PD_STORE_UP && store_fresh(model, store) &&
           !pd_model_evict_leader_has(model, store->id);
}

static bool balance_one(struct pd_model *model)
{
    struct pd_model_store *busiest = NULL;
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *s = &model->stores[i];
        if (balance_candidate(model, s) && (!busiest || s->leader_count > busiest->leader_count))
            busiest = s;
    }
    if (!busiest)
        return false;
    struct pd_region *best_region = NULL;
    int best_peer = -1;
    size_t best_count = 0;
    for (size_t r = 0; r < model->region_count; r++) {
        struct pd_region *region = &model->regions[r];
        if (region->peer_count == 0 || region->peers[region->leader] != busiest->id)
            continue;
        for (unsigned p = 0; p < region->peer_count; p++) {
            const struct pd_model_store *s = store_by_id(model, region->peers[p]);
            if (p == region->leader || !s || !balance_candidate(model, s))
                continue;
            if (s->leader_count + 1 >= busiest->leader_count)
                continue;
            if (best_peer < 0 || s->leader_count < best_count) {
                best_region = region;
                best_peer = (int)p;
                best_count = s->leader_count;
            }
        }
    }
    if (best_peer < 0)
        return false;
    move_leader(model, best_region, (unsigned)best_peer);
    return true;
}

static void balance_leaders(struct pd_model *model, double seconds)
{
    model->balance_budget += model->leader_balance_per_s * seconds;
    while (model->balance_budget >= 1 && balance_one(model))
        model->balance_budget -= 1;
    if (model->balance_budget > 1)
        model->balance_budget = 1;
}

/* balance-region: moves one peer from the fullest to the emptiest placeable store. */
static bool balance_region_one(struct pd_model *model)
{
    struct pd_model_store *fullest = NULL, *emptiest = NULL;
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *s = &model->stores[i];
        if (!store_placeable(model, s))
            continue;
        if (!fullest || s->region_count > fullest->region_count)
            fullest = s;
        if (!emptiest || s->region_count < emptiest->region_count)
            emptiest = s;
    }
    if (!fullest || fullest->region_count <= emptiest->region_count + 1)
        return false;
    for (size_t r = 0; r < model->region_count; r++) {
        struct pd_region *region = &model->regions[r];
        if (region_has(region, emptiest->id))
            continue;
        for (unsigned p = 0; p < region->peer_count; p++) {
            if (region->peers[p] == fullest->id) {
                replace_peer(model, region, p, emptiest);
                return true;
            }
        }
    }
    return false;
}

static void balance_regions(struct pd_model *model, double seconds)
{
    model->region_balance_budget += model->region_balance_per_s * seconds;
    while (model->region_balance_budget >= 1 && balance_region_one(model))
        model->region_balance_budget -= 1;
    if (model->region_balance_budget > 1)
        model->region_balance_budget = 1;
}

static void register_and_heartbeat(struct pd_model *model)
{
    uint64_t now = now_ms(model);
    int64_t wall = wall_ms(model);
    for (size_t i = 0; i < model->tikv_pod_count; i++) {
        const struct pd_process *process = &model->tikv_pods[i];
        if (process->running && !process->removed && !live_store_of_pod(model, process->pod))
            store_register(model, process); /* on failure: retried at the next advance */
    }
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *store = &model->stores[i];
        const struct pd_process *process =
            process_find(model->tikv_pods, model->tikv_pod_count, store->pod);
        bool running = store->state != PD_STORE_TOMBSTONE && process && process->running &&
                       live_store_of_pod(model, store->pod) == store;
        if (running && !store->process_running)
            store->start_wall_ms = wall;
        store->process_running = running;
        if (running && !store->heartbeats_paused) {
            store->heard = true;
            store->heartbeat_ms = now;
            store->heartbeat_wall_ms = wall;
        }
    }
}

void pd_model_advance(struct pd_model *model)
{
    uint64_t now = now_ms(model);
    double seconds = model->advanced && now > model->last_advance_ms
                         ? (double)(now - model->last_advance_ms) / 1000.0
                         : 0;
    model->advanced = true;
    model->last_advance_ms = now;
    elect(model);
    /* PD schedules and hears heartbeats only while it has a leader. */
    if (!model->leader_id)
        return;
    register_and_heartbeat(model);
    for (size_t i = 0; i < model->store_count; i++)
        if (model->stores[i].state == PD_STORE_UP &&
            model->stores[i].node_state == PD_NODE_PREPARING)
            model->stores[i].node_state = PD_NODE_SERVING;
    fail_over_leaders(model);
    fill_and_trim(model);
    drain(model, seconds);
    evict_leaders(model, seconds);
    balance_regions(model, seconds);
    balance_leaders(model, seconds);
    for (size_t i = 0; i < model->store_count; i++) {
        struct pd_model_store *store = &model->stores[i];
        if (store->state == PD_STORE_OFFLINE && store->region_count == 0) {
            /* A pod already deleted is not marked: its next pod is new. */
            for (size_t p = 0; p < model->tikv_pod_count; p++)
                if (strcmp(model->tikv_pods[p].pod, store->pod) == 0 && !model->tikv_pods[p].gone)
                    model->tikv_pods[p].removed = true;
            store->state = PD_STORE_TOMBSTONE;
            store->node_state = PD_NODE_REMOVED;
            store->leader_count = 0;
            store->process_running = false;
        }
    }
}
