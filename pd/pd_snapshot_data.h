/*
 * pd_snapshot_data: what a cluster's PD last said, as the planner reads it —
 * the data half of pd_snapshot (pd/pd_snapshot.h), which keeps it fresh.
 * Pure: types and read-only helpers, no event loop, no HTTP client, so the
 * planner can include it and tests can build one by hand.
 */
#ifndef PD_PD_SNAPSHOT_DATA_H
#define PD_PD_SNAPSHOT_DATA_H

#include "pd/pd_decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pd_snapshot_part {
    PD_PART_MEMBERS,
    PD_PART_HEALTH,
    PD_PART_STORES,
    PD_PART_SCHEDULERS,
    PD_PART_CONFIG,
    PD_PART_COUNT,
};

const char *pd_snapshot_part_name(enum pd_snapshot_part part); /* "members", ... */

struct pd_part_status {
    bool ever_succeeded;
    uint64_t last_success_ms;     /* monotonic (the registry's clock) */
    int64_t last_success_wall_ms; /* wall time, for status conditions */
    uint64_t last_attempt_ms;     /* when the latest finished attempt started */
    struct pd_error last_error;   /* of the latest finished attempt; kind NONE when it succeeded */
    uint64_t successes;
    uint64_t failures;
    bool in_flight;
};

/* What the planner reads. Data of a part that never succeeded is empty. */
struct pd_snapshot_data {
    const char *key;                /* "ns/name" */
    struct pd_members members;      /* incl. leader / etcd_leader */
    struct pd_health health;
    bool bootstrapped;              /* PD has stores (false: "not bootstrapped") */
    struct pd_stores stores;        /* every state, Tombstone included */
    struct pd_schedulers schedulers; /* evict_leader_store_ids: sorted, complete */
    struct pd_config config;
    struct pd_part_status parts[PD_PART_COUNT];
    /* Monotonic time (the registry's clock) of the operator's last write to
     * this PD (0: none). A part whose latest finished attempt started
     * before it may not show that write's effect (a store just deleted
     * still Up): the arbiter starts no disruption until PD was read again. */
    uint64_t written_ms;
    uint64_t generation;            /* +1 on every change that fired on_change */
    uint64_t refreshes;             /* refreshes started */
    bool fast;                      /* on the fast cadence */
};

/* The PD leader's name, NULL when unknown or none. */
const char *pd_snapshot_leader_name(const struct pd_snapshot_data *data);
/* 1 healthy, 0 unhealthy, -1 unknown (not in /health or never answered). */
int pd_snapshot_member_health(const struct pd_snapshot_data *data, const char *name);
bool pd_snapshot_store_evicting(const struct pd_snapshot_data *data, uint64_t store_id);
/* Every part has succeeded at least once and its last attempt succeeded. */
bool pd_snapshot_all_fresh(const struct pd_snapshot_data *data);

#endif
