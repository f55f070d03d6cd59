/*
 * members: the member table — one row per component and ordinal, built
 * once per pass from the observed world. Every rule of every concern
 * planner and of the safety arbiter reads member facts from this table and
 * nothing else, so "which pod, which claim, which store, is it ready, is it
 * going away" is answered in one place.
 *
 * Membership, as PingCAP's scaler reads it: a member *exists* when its pod
 * does, or its PVC does and is not marked deferred (left by a scale-in).
 * The desired members are the existing ones, less victims when there are
 * more than spec.<c>.replicas plus the failure records of existing members
 * (a failed member stays and a replacement joins, as PingCAP's failover
 * grows replicas; failed members are never victims) — first those the component's delete-slots
 * annotation names, then the highest ordinals — or plus the lowest free
 * ordinals not named in delete-slots when there are fewer. So names stay
 * stable: removing basic-tikv-1 leaves 0 and 2.
 *
 * Rows exist for every ordinal something is observed for (a pod, a PVC, a
 * PD member, a TiKV store of ours) and for the missing desired ordinals up
 * to MEMBERS_MISSING_WINDOW per component:
 * a spec with 100,000 replicas costs a bounded table, and the planner can
 * never create more than that many members in one pass anyway
 * (safety.h, rule bounded_creates). `missing_beyond` counts the desired
 * ordinals left out.
 *
 * Not in the table yet: TiDB's own health (the world has no TiDB status
 * poll; a TiDB member's health is its pod's readiness).
 *
 * Rows of a component are sorted by ordinal. Everything a row points to is
 * borrowed from the observed world and lives as long as it does.
 *
 * Ownership: member_table_build fills a caller-owned table (its rows array
 * is allocated); member_table_free releases it. A failed build (out of
 * memory) leaves a table that member_table_free accepts.
 */
#ifndef RECONCILERS_PLANNER_MEMBERS_H
#define RECONCILERS_PLANNER_MEMBERS_H

#include "reconcilers/planner/observed.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMBERS_NAME_MAX 256
/* Missing desired members materialised per component and pass. */
#define MEMBERS_MISSING_WINDOW 64

enum member_health {
    MEMBER_HEALTH_UNKNOWN = -1,
    MEMBER_HEALTH_BAD = 0,
    MEMBER_HEALTH_GOOD = 1,
};

struct member_row {
    enum tc_component component;
    int ordinal;
    char name[MEMBERS_NAME_MAX];      /* "<cluster>-<component>-<ordinal>" */
    bool existing;                    /* a pod, or a PVC not marked deferred */
    bool desired;                     /* a member the spec wants (see above) */
    /* Kubernetes */
    const struct kube_pod *pod;       /* NULL: no pod */
    const struct kube_pvc *pvc;       /* the member's data claim; NULL: none */
    const struct kube_node *node;     /* the pod's node when cached; NULL otherwise */
    bool ready;                       /* pod Ready=True and not being deleted */
    bool terminating;                 /* pod has a deletionTimestamp */
    bool pending;                     /* pod phase Pending */
    bool node_lost;                   /* the pod's node is cached and not Ready */
    /* The node of its pod or of its local volume no longer exists (the
     * world's node list is complete and lacks it): its data is gone. */
    bool node_gone;
    int64_t unready_since_ms;         /* pod not ready: its Ready lastTransitionTime (0: unknown) */
    const char *spec_hash;            /* the pod's tidb.pingcap.com/spec-hash; NULL: none */
    bool out_of_date;                 /* spec_hash is not accepted by the spec now (build.h) */
    bool metadata_stale;              /* its user labels/annotations differ from the spec's */
    const struct kube_pv *pv;         /* the claim's volume when cached; NULL otherwise */
    bool pvc_deferred;                /* the PVC carries ANNOTATION_PVC_DEFER_DELETING */
    /* PD (component pd) */
    const struct pd_member *pd_member;
    enum member_health pd_health;
    bool pd_leader;
    /* TiKV (component tikv) */
    const struct pd_store *store;     /* of ours, not Tombstone when a live one exists */
    bool store_up;
    bool store_down;                  /* Down or Disconnected (missed heartbeats) */
    bool store_offline;               /* being removed: Offline (Up -> Offline -> Tombstone) */
    bool store_tombstone;
    int64_t store_heartbeat_ms;       /* last heartbeat, Unix ms (0: never) */
    bool evicting;                    /* an evict-leader scheduler names the store */
    /* Annotations that concern the member */
    bool delete_slot;                 /* tikv.tidb.pingcap.com/delete-slots etc. name the ordinal */
    /* Failover: status.<c>.failureStores / failureMembers name the member
     * (TiKV, TiDB): it is kept (never a scale-in victim) and a replacement
     * is wanted beside it. */
    bool failure;
    bool failure_host_down;           /* the record says its host is gone */
};

struct member_table {
    struct member_row *rows;
    size_t count;
    size_t capacity;
    size_t first[TC_COMPONENT_COUNT];   /* index of the component's first row */
    size_t rows_of[TC_COMPONENT_COUNT]; /* rows of the component */
    int missing_beyond[TC_COMPONENT_COUNT];
    int existing[TC_COMPONENT_COUNT];   /* rows with existing set */
    /* The component's delete-slots annotation is set but not a JSON array
     * of non-negative integers (it is then ignored as a whole). */
    bool delete_slots_invalid[TC_COMPONENT_COUNT];
};

/* False only on out of memory. */
bool member_table_build(const struct observed_cluster *world, struct member_table *out);
void member_table_free(struct member_table *table);
/* The row of `component` `ordinal`, NULL when the table has none. */
const struct member_row *member_table_find(const struct member_table *table, enum tc_component component,
                                           int ordinal);
/* The rows of one component (sorted by ordinal) and their count. */
const struct member_row *member_table_rows(const struct member_table *table, enum tc_component component,
                                           size_t *count);

#endif
