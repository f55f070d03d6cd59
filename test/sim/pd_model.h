/*
 * pd_model: the state of one simulated TiDB cluster as its PD sees it (PD
 * members and leader, TiKV stores with PD's store state machine, regions
 * with their peers and leaders, the evict-leader scheduler, the config) plus
 * the TiDB servers' status. A pure state machine on an injected clock: no
 * I/O, no timers. Time moves only through pd_model_advance, so tests are
 * instant and exact (reference: /work/shared/reference/pd-api.md §2, §3, §4, §8).
 *
 * Inputs are "processes": the world reports which PD, TiKV and TiDB pods
 * are running (pd_model_pd_pod, pd_model_tikv_pod, pd_model_tidb_pod);
 * everything PD would do about them happens in pd_model_advance:
 *
 * Members
 * - A PD pod that runs is a member (name = pod name, URLs
 *   http://<pod>.<cluster>-pd-peer.<ns>.svc:2380 / :2379). Its member id is
 *   a 64-bit number (like etcd's, usually above 2^53: clients must parse it
 *   exactly) fixed when it joins. A member whose pod stops stays a member,
 *   unhealthy (as in PD): only a delete removes it.
 * - Leader: elected among alive members when a majority of the members is
 *   alive, `election_ms` after the cluster became leaderless (lowest name
 *   wins, so tests are deterministic). Losing the majority or the leader's
 *   process drops the leader at once. Transfer to a named member leaves the
 *   cluster leaderless for `transfer_ms`, then the target leads.
 * - Deleting a member removes it at once. Simplification: while the deleted
 *   member's pod keeps running it does not come back; once that pod stops
 *   (or is deleted) and runs again, it rejoins as a new member with a new id
 *   (a real PD would need an empty data dir to rejoin; the operator deletes
 *   the PVC, so the outcome is the same). Members added but never started
 *   (nameless entries) are not modelled.
 *
 * Stores (PD's state machine, reference §3.3)
 * - Only while PD has a leader: a running TiKV pod without a live store for
 *   its address registers one (ids 1, 2, 3, ...; a Tombstone is never
 *   reused: the same pod then gets a new id); the first registration
 *   bootstraps the cluster and creates `region_count` regions. Running pods
 *   heartbeat at every advance (unless paused by pd_model_store_pause_heartbeats).
 * - state_name, computed when read: Up; Disconnected once the last heartbeat
 *   is older than `disconnect_ms` (20 s); Down beyond max-store-down-time
 *   (30 min by default); Offline after DELETE; Tombstone once an Offline store
 *   holds no region. node_state: Preparing -> Serving at the first advance.
 * - Regions: every region has max-replicas peers on distinct stores and one
 *   leader. Missing peers are placed at once on Up stores with the fewest
 *   regions. Peers of Offline stores, and of Up stores that are Down, are
 *   moved to other Up stores at `region_moves_per_s` per store; if no store
 *   can take a peer the store stays as it is (an Offline store never becomes
 *   Tombstone then, as in PD). Peers also move from the fullest to the
 *   emptiest Up store at `region_balance_per_s` (so a new store fills up).
 *   Leaders leave a store whose heartbeat is older
 *   than `leader_failover_ms` (10 s), leave evicted stores at
 *   `leader_evictions_per_s`, and are balanced at `leader_balance_per_s`.
 *   Nothing is scheduled while PD has no leader.
 *
 * Errors: operations that PD refuses return PD's HTTP status and fill `msg`
 * with PD's message (without JSON quoting); 200 on success.
 *
 * Pointers returned by accessors stay valid until the next call that changes
 * the model (any non-const call). Not thread-safe.
 */
#ifndef TEST_SIM_PD_MODEL_H
#define TEST_SIM_PD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor/clock.h"

#define PD_MODEL_MAX_REPLICAS 7
#define PD_MODEL_MSG_SIZE 256

struct pd_model_options {
    const struct clock *clock;     /* NULL: the system clock */
    const char *namespace;         /* required */
    const char *cluster;           /* required */
    uint64_t seed;                 /* member ids and cluster id; 0: fixed default */
    const char *version;           /* PD/TiKV/TiDB version when a pod gives none; NULL: "v8.5.1" */
    unsigned region_count;         /* regions made at bootstrap; 0: 60 */
    unsigned max_replicas;         /* 0: 3 (at most PD_MODEL_MAX_REPLICAS) */
    uint64_t max_store_down_ms;    /* 0: 30 min */
    uint64_t disconnect_ms;        /* 0: 20 s */
    uint64_t leader_failover_ms;   /* region leaders leave a silent store; 0: 10 s */
    uint64_t election_ms;          /* leaderless -> leader; 0: 3 s; use pd_model_set_timing for 0 */
    uint64_t transfer_ms;          /* leader transfer gap; 0: 1 s */
    double region_moves_per_s;     /* per draining store; 0: 2 */
    double leader_evictions_per_s; /* per evicted store; 0: 20 */
    double leader_balance_per_s;   /* whole cluster; 0: 10 */
    double region_balance_per_s;   /* peers moved to emptier stores, whole cluster; 0: 2 */
};

enum pd_store_state { PD_STORE_UP = 0, PD_STORE_OFFLINE = 1, PD_STORE_TOMBSTONE = 2 };
enum pd_node_state {
    PD_NODE_PREPARING = 0,
    PD_NODE_SERVING = 1,
    PD_NODE_REMOVING = 2,
    PD_NODE_REMOVED = 3,
};
enum pd_tidb_state {
    PD_TIDB_GONE,          /* no process: forget it */
    PD_TIDB_RUNNING,
    PD_TIDB_SHUTTING_DOWN, /* /status answers 500 with an empty body */
    PD_TIDB_STOPPED,       /* known pod, process not running */
};

struct pd_model_member {
    char *name;
    uint64_t id;
    char *peer_url;        /* http://<pod>.<cluster>-pd-peer.<ns>.svc:2380 */
    char *client_url;      /* ...:2379 */
    char *version;         /* binary_version, "v8.5.1" */
    bool pod_running;
    bool killed;           /* process dead while the pod runs (fault injection) */
    int64_t start_wall_ms;
};

struct pd_model_label {
    char *key;
    char *value;
};

struct pd_model_store {
    uint64_t id;
    char *pod;
    char *address;         /* <pod>.<cluster>-tikv-peer.<ns>.svc:20160 */
    char *status_address;  /* ...:20180 */
    char *version;         /* "8.5.1" */
    struct pd_model_label *labels;
    size_t label_count;
    enum pd_store_state state;
    enum pd_node_state node_state;
    bool physically_destroyed;
    int64_t start_wall_ms;     /* TiKV process start */
    bool heard;                /* at least one heartbeat */
    uint64_t heartbeat_ms;     /* monotonic time of the last heartbeat */
    int64_t heartbeat_wall_ms;
    bool heartbeats_paused;
    bool process_running;      /* as last seen by pd_model_advance */
    size_t region_count;
    size_t leader_count;
    double move_budget;        /* internal rate accounting */
    double evict_budget;
};

struct pd_model_tidb {
    char *name;
    char *version;             /* "8.0.11-TiDB-v8.5.1" */
    enum pd_tidb_state state;
    unsigned connections;
};

struct pd_model_config {
    unsigned max_replicas;
    char *location_labels;     /* comma-joined, "" when none */
    bool strictly_match_label;
    bool enable_placement_rules;
    char *isolation_level;
    uint64_t max_store_down_ms;
    unsigned leader_schedule_limit;
    unsigned region_schedule_limit;
    unsigned replica_schedule_limit;
};

struct pd_model;

/* NULL on a missing namespace/cluster or when memory runs out. */
struct pd_model *pd_model_new(const struct pd_model_options *options);
void pd_model_free(struct pd_model *model);

const char *pd_model_namespace(const struct pd_model *model);
const char *pd_model_cluster(const struct pd_model *model);
const struct clock *pd_model_clock(const struct pd_model *model);
uint64_t pd_model_cluster_id(const struct pd_model *model);
bool pd_model_bootstrapped(const struct pd_model *model);
int64_t pd_model_bootstrap_wall_ms(const struct pd_model *model);
/* Default version string ("v8.5.1"). */
const char *pd_model_version(const struct pd_model *model);
/* Sets election and transfer delays (0 allowed: immediate). */
void pd_model_set_timing(struct pd_model *model, uint64_t election_ms, uint64_t transfer_ms);

/* ---- inputs from the pods; false only when memory runs out ---- */

/* version NULL: the model's default. */
bool pd_model_pd_pod(struct pd_model *model, const char *pod, bool running, const char *version);
bool pd_model_tikv_pod(struct pd_model *model, const char *pod, bool running, const char *version);
/* The TiKV pod was deleted: a new pod of the name is a new process that
 * registers a store unless one of its is live. */
bool pd_model_tikv_pod_gone(struct pd_model *model, const char *pod);
bool pd_model_tidb_pod(struct pd_model *model, const char *pod, enum pd_tidb_state state,
                       const char *version);

/* Applies everything time-based up to the clock's now. */
void pd_model_advance(struct pd_model *model);

/* ---- members ---- */

size_t pd_model_member_count(const struct pd_model *model);
const struct pd_model_member *pd_model_member_at(const struct pd_model *model, size_t index);
const struct pd_model_member *pd_model_member_find(const struct pd_model *model, const char *name);
bool pd_member_alive(const struct pd_model_member *member);
size_t pd_model_alive_members(const struct pd_model *model);
/* The PD leader, or NULL. */
const struct pd_model_member *pd_model_leader(const struct pd_model *model);
/* Kills/revives a member's process without touching its pod. False if unknown. */
bool pd_model_member_kill(struct pd_model *model, const char *name, bool killed);
int pd_model_transfer_leader(struct pd_model *model, const char *name, char *msg);
int pd_model_resign_leader(struct pd_model *model, char *msg);
int pd_model_delete_member_by_name(struct pd_model *model, const char *name, char *msg);
int pd_model_delete_member_by_id(struct pd_model *model, uint64_t id, char *msg);

/* ---- stores ---- */

size_t pd_model_store_count(const struct pd_model *model);
const struct pd_model_store *pd_model_store_at(const struct pd_model *model, size_t index);
const struct pd_model_store *pd_model_store_find(const struct pd_model *model, uint64_t id);
/* The newest non-Tombstone store of a pod, else its newest store, else NULL. */
const struct pd_model_store *pd_model_store_by_pod(const struct pd_model *model, const char *pod);
/* "Up", "Disconnected", "Down", "Offline" or "Tombstone", at the clock's now. */
const char *pd_model_store_state_name(const struct pd_model *model, const struct pd_model_store *store);
/* DELETE /store/{id}: 200, 400, 404, 410 (reference §3.2). */
int pd_model_store_delete(struct pd_model *model, uint64_t id, bool force, char *msg);
/* POST /store/{id}/state?state=Up|Offline (case-insensitive): 200, 400, 404, 410. */
int pd_model_store_set_state(struct pd_model *model, uint64_t id, const char *state, char *msg);
/* POST /store/{id}/label: merges (replaces all when `force`); 200, 400 (key "engine"), 500. */
int pd_model_store_set_labels(struct pd_model *model, uint64_t id, const char *const *keys,
                              const char *const *values, size_t count, bool force, char *msg);
/* DELETE /stores/remove-tombstone: 200 (500 when memory runs out). */
int pd_model_remove_tombstones(struct pd_model *model, char *msg);
/* Stops (or resumes) a store's heartbeats without touching its pod. False if unknown. */
bool pd_model_store_pause_heartbeats(struct pd_model *model, uint64_t id, bool paused);
/* Whether the TiKV pod's process runs (its status port answers). */
bool pd_model_tikv_running(const struct pd_model *model, const char *pod);
size_t pd_model_region_count(const struct pd_model *model);
/* Region `index` (< pd_model_region_count): its peers' store ids (valid until
 * the model changes), how many, and which of them leads. False past the end. */
bool pd_model_region_at(const struct pd_model *model, size_t index, const uint64_t **peers,
                        unsigned *peer_count, unsigned *leader);
/* Regions whose peers are all placed (what /cluster/status calls initialized). */
bool pd_model_regions_replicated(const struct pd_model *model);

/* ---- evict-leader scheduler (PD >= 4.0: one scheduler, many stores) ---- */

/* 200 (*created tells whether the scheduler was made), 400 or 500 for an unknown store. */
int pd_model_evict_leader_add(struct pd_model *model, uint64_t store_id, bool *created,
                              char *msg);
/* 200 when the store was in the scheduler, 404 otherwise. *last: the scheduler went away. */
int pd_model_evict_leader_remove(struct pd_model *model, uint64_t store_id, bool *last);
/* Removes the whole scheduler; false when there was none. */
bool pd_model_evict_leader_clear(struct pd_model *model);
size_t pd_model_evict_leader_count(const struct pd_model *model);
uint64_t pd_model_evict_leader_at(const struct pd_model *model, size_t index);
bool pd_model_evict_leader_has(const struct pd_model *model, uint64_t store_id);

/* ---- config ---- */

const struct pd_model_config *pd_model_config(const struct pd_model *model);
/* 200, or 400 with a message when out of range (1..PD_MODEL_MAX_REPLICAS). */
int pd_model_set_max_replicas(struct pd_model *model, long value, char *msg);
void pd_model_set_max_store_down_ms(struct pd_model *model, uint64_t ms);
/* False when memory runs out. */
bool pd_model_set_location_labels(struct pd_model *model, const char *labels);
bool pd_model_set_isolation_level(struct pd_model *model, const char *level);
void pd_model_set_strictly_match_label(struct pd_model *model, bool value);
void pd_model_set_placement_rules(struct pd_model *model, bool value);

/* ---- TiDB servers ---- */

size_t pd_model_tidb_count(const struct pd_model *model);
const struct pd_model_tidb *pd_model_tidb_at(const struct pd_model *model, size_t index);
const struct pd_model_tidb *pd_model_tidb_find(const struct pd_model *model, const char *name);

/* ---- fault injection (read by pd_http and the proxy) ---- */

void pd_model_set_delay_ms(struct pd_model *model, uint64_t ms);
uint64_t pd_model_delay_ms(const struct pd_model *model);
/* Every PD API answer becomes 500 with `body` (a PD error text, JSON-quoted
 * on the wire; NULL: a default). False when memory runs out. */
bool pd_model_set_failing(struct pd_model *model, bool failing, const char *body);
/* The failure text, or NULL when not failing. */
const char *pd_model_failure(const struct pd_model *model);
/* Every PD API answer becomes 200 with a body that is not what PD sends
 * (truncated JSON), until cleared: a PD (or something in front of it)
 * answering garbage. */
void pd_model_set_garbage(struct pd_model *model, bool garbage);
bool pd_model_garbage(const struct pd_model *model);
/* Forces the cluster leaderless (no election) until cleared. */
void pd_model_set_leaderless(struct pd_model *model, bool leaderless);

#endif
