/*
 * planner_internal: what the planner's parts (planner.c, common.c,
 * members.c, assess.c, the concern planners, safety.c, status.c) share.
 * Not for other modules.
 *
 * One pass works in four steps over a `struct planning`:
 *   1. assess   (members.c, assess.c): read the world once into the member
 *               table (one row per component and ordinal) and the facts
 *               derived from it — per component counts, what blocks it,
 *               whether its gate is open; what PD says and whether it is
 *               fresh.
 *   2. propose  the concern planners (bringup.c, failover.c, scale.c,
 *               upgrade.c) read the table and propose actions with a
 *               reason (safety.h); none writes the plan itself.
 *   3. arbitrate (safety.c): the one safety arbiter admits proposals into
 *               the plan in a fixed priority and refuses the rest by a
 *               named rule, with a message the user sees.
 *   4. status   (status.c): the status these facts imply, written only
 *               when it differs from the current one.
 * Nothing is remembered between passes: every fact comes from the world.
 */
#ifndef RECONCILERS_PLANNER_INTERNAL_H
#define RECONCILERS_PLANNER_INTERNAL_H

#include "reconcilers/build/build.h"
#include "reconcilers/planner/observed.h"
#include "reconcilers/planner/members.h"
#include "reconcilers/planner/plan.h"
#include "reconcilers/planner/safety.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How soon a waiting plan looks again (PD is polled fast meanwhile). */
#define PLANNER_WAIT_REQUEUE_MS 5000
#define PLANNER_MESSAGE_MAX 512
#define PLANNER_NAME_MAX MEMBERS_NAME_MAX

/* Ready condition reasons (status.conditions[type=Ready].reason). */
#define REASON_READY "Ready"
#define REASON_INVALID_SPEC "InvalidSpec"
#define REASON_PAUSED "Paused"
#define REASON_UNSCHEDULABLE "Unschedulable"
#define REASON_PD_NOT_READY "PDNotReady"
#define REASON_TIKV_STORE_NOT_UP "TiKVStoreNotUp"
#define REASON_TIDB_NOT_READY "TiDBNotReady"

/* PingCAP's component phases. */
#define PHASE_NORMAL "Normal"
#define PHASE_SCALE "Scale"
#define PHASE_UPGRADE "Upgrade"

/* One component as observed. */
struct component_view {
    bool present;                  /* spec.<c> exists */
    int desired;                   /* spec.<c>.replicas */
    int pods;                      /* member pods that exist (any ordinal) */
    int ready;                     /* of those, Ready=True and not being deleted */
    /* The lowest-ordinal member pod that exists but is not ready, for
     * users ("basic-tikv-0 on node-b2 is not ready"); "" when none. */
    char not_ready[PLANNER_MESSAGE_MAX];
    /* Gate: may this component's objects be created now? (bring-up order) */
    bool gate_open;
    char gate_message[PLANNER_MESSAGE_MAX]; /* why it waits, when closed */
    /* The first member pod that cannot be scheduled, explained for users;
     * "" when none. */
    char unschedulable[PLANNER_MESSAGE_MAX];
};

/* What PD says, judged once per pass. */
struct pd_view {
    bool snapshot;        /* world->pd != NULL */
    bool members_known;   /* the members part answered at least once */
    bool members_fresh;   /* members and health: answered, and the last answer was good */
    bool stores_known;
    bool stores_fresh;
    /* "PD API unreachable: members: connect" when members/health fail; ""
     * otherwise. Stable text (no timings) so that status does not churn. */
    char unreachable[PLANNER_MESSAGE_MAX];
    char stores_unreachable[PLANNER_MESSAGE_MAX];
    int own_members;      /* named members whose name is one of our pods' */
    int healthy;          /* of those, healthy */
    const char *leader;   /* leader's name when known and fresh, else NULL */
    /* The PD cluster exists (rule pd_bootstrap_once): a new PD member
     * joins it instead of bootstrapping. */
    bool bootstrapped;
    int stores_up;        /* own stores (TiKV present) or any TiKV store, Up */
    int stores_counted;   /* own stores not Tombstone */
    /* The first own store that is not Up: "store 4 (basic-tikv-1) is Down" */
    char store_problem[PLANNER_MESSAGE_MAX];
};

/* A failover record to add to or drop from the status (failover.c). */
#define PLANNER_FAILOVER_CHANGES_MAX 8
struct failover_change {
    enum tc_component component;  /* TC_TIKV or TC_TIDB */
    bool add;
    char pod[PLANNER_NAME_MAX];   /* the member */
    char key[PLANNER_NAME_MAX];   /* drop: the record's key (store id or pod name) */
    uint64_t store_id;            /* add, TiKV */
    bool host_down;               /* add, TiKV */
    size_t proposal;              /* add: the proposal that must be admitted */
};

struct planning {
    const struct observed_cluster *world;
    const struct tidbcluster *cluster;
    const struct tc_problems *problems; /* the spec's validation (no errors; warnings for status) */
    struct plan *plan;
    bool paused;
    struct pd_view pd;
    struct component_view component[TC_COMPONENT_COUNT];
    struct member_table members;
    struct proposals proposals;
    struct safety_outcome safety;
    /* What each concern is doing or waiting for this pass (the first step
     * it told, or the arbiter's refusal of it); "" when idle. Status shows
     * it as the Scaling / Upgrading condition. */
    char progress[CONCERN_COUNT][PLANNER_MESSAGE_MAX];
    bool upgrading[TC_COMPONENT_COUNT]; /* members out of date: phase Upgrade */
    struct failover_change failover_changes[PLANNER_FAILOVER_CHANGES_MAX];
    size_t failover_change_count;
    int failover_records[TC_COMPONENT_COUNT]; /* records in the status when the pass began */
    /* The component's ConfigMap as the spec asks for it (assess.c, once
     * per pass: building the start script is the dear part). */
    char configmap_name[TC_COMPONENT_COUNT][PLANNER_NAME_MAX];
    char config_hash[TC_COMPONENT_COUNT][17];
};

/* ---- common.c: lookups and small helpers ---- */

const struct kube_pod *planner_find_pod(const struct observed_cluster *world, const char *name);
const struct kube_pvc *planner_find_pvc(const struct observed_cluster *world, const char *name);
const struct kube_service *planner_find_service(const struct observed_cluster *world, const char *name);
const struct kube_configmap *planner_find_configmap(const struct observed_cluster *world, const char *name);
const struct kube_storage_class *planner_find_storage_class(const struct observed_cluster *world,
                                                            const char *name);
/* The ordinal of a member name "<cluster>-<component>-<N>", or -1. */
int planner_member_ordinal(const struct tidbcluster *cluster, enum tc_component component, const char *name);
/* The ordinal of a PD member name: the pod name, or its FQDN when
 * spec.clusterDomain is set ("basic-pd-0.basic-pd-peer.ns.svc.x"); -1
 * when the member is not one of ours. */
int planner_pd_member_ordinal(const struct tidbcluster *cluster, const char *name);
/* The ordinal of a TiKV store of ours: its address must be
 * "<build_member_host>:<port>" (rule own_stores_only: stores of other
 * clusters sharing this PD are never counted or touched); -1 otherwise.
 * `pod` (may be NULL) receives the member name. */
int planner_store_ordinal(const struct tidbcluster *cluster, const char *address, char *pod, size_t size);
/* RFC 3339 in UTC, seconds: "2026-11-21T19:55:07Z". */
void planner_format_time(int64_t ms, char out[32]);
/* The Unix ms of an RFC 3339 UTC time ("2026-11-21T19:55:07Z", fraction
 * ignored); 0 when it is not one. */
int64_t planner_parse_time(const char *text);
/* A PD part's error as stable text: "members: connect", "stores: HTTP 503:
 * redirect finds no leader". */
void planner_describe_pd_error(enum pd_snapshot_part part, const struct pd_error *error, char *out,
                               size_t size);
/* The image the component's pods run (status.<c>.image). */
const char *planner_component_image(const struct tidbcluster *cluster, enum tc_component component);
/* snprintf into out, truncating safely. */
void planner_format(char *out, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* A member is healthy: its pod is Ready and, for PD, it is a healthy PD
 * member; for TiKV, its store is Up. */
bool planner_member_healthy(const struct member_row *row);
/* Records `text` as the concern's progress unless it has one already. */
void planner_note_progress(struct planning *p, enum concern concern, const char *text);
/* Marks the plan incomplete; false (for `return planner_out_of_memory(p)`). */
bool planner_out_of_memory(struct planning *p);
/* The Event of the proposal being built into `into` (NULL: out of memory),
 * also the concern's progress text. False on out of memory. */
bool planner_tell(struct planning *p, enum concern concern, struct plan *into, bool warning, const char *reason,
                  const char *format, ...) __attribute__((format(printf, 6, 7)));
/* A wait: a note proposal with its Event (and progress) and a look again
 * soon. False on out of memory. */
bool planner_wait(struct planning *p, enum concern concern, enum tc_component component, bool warning,
                  const char *reason, const char *format, ...) __attribute__((format(printf, 6, 7)));

/* ---- assess.c ---- */

/* Builds p->members and fills p->pd and p->component[] from p->world.
 * False on out of memory. */
bool planner_assess(struct planning *p);
/* The explanation of why `pod` cannot be scheduled ("" when it can or
 * its problem is not a scheduling one). */
void planner_explain_pending(const struct planning *p, enum tc_component component, int ordinal,
                             const struct kube_pod *pod, char *out, size_t size);

/* ---- bringup.c: the bring-up concern ---- */

/* How the PD members created in this pass start (rule pd_bootstrap_once):
 * with the initial member list while no PD cluster exists, else joining. */
struct pd_start_plan {
    struct build_pd_start start;
    char *initial;
    char url[PLANNER_NAME_MAX];
};

bool planner_pd_start_prepare(const struct planning *p, struct pd_start_plan *out);
void planner_pd_start_free(struct pd_start_plan *start);
/* Proposes creating what `row` lacks (its PVC, its pod, an Event) for
 * `concern`. `pd_start` for PD members, else NULL. False on out of memory. */
bool planner_propose_member(struct planning *p, enum concern concern, const struct member_row *row,
                            const struct build_pd_start *pd_start);

/* ---- scale.c: the scale concern ---- */

/* Proposes the next scale-out and scale-in step of every running
 * component. False on out of memory. */
bool scale_propose(struct planning *p);

/* ---- failover.c: the failover concern ---- */

/* Records failed TiKV/TiDB members, forgives recovered ones and removes
 * TiKV members whose host is gone. False on out of memory. */
bool failover_propose(struct planning *p);
/* maxFailoverCount as it acts (default 3; 0: failover off). */
int planner_failover_limit(const struct tidbcluster *cluster, enum tc_component component);

/* ---- upgrade.c: the upgrade concern ---- */

/* Proposes the next rolling-restart step (PD, then TiKV, then TiDB) and
 * removes evict-leader schedulers no step needs. False on out of memory. */
bool upgrade_propose(struct planning *p);

/* Proposes the missing objects of every component whose gate is open, and
 * records (event + requeue) why the others wait. False on out of memory. */
bool bringup_propose(struct planning *p);

/* ---- status.c ---- */

/* The Ready condition's status ("True"/"False"), reason and message. */
struct ready_verdict {
    bool ready;
    const char *reason;
    char message[PLANNER_MESSAGE_MAX];
};

void planner_ready_verdict(const struct planning *p, struct ready_verdict *out);
/* Adds a status update when the status these facts imply differs from the
 * current one. False on out of memory. */
bool planner_plan_status(struct planning *p, const struct ready_verdict *verdict);
/* For invalid or undecodable objects: keeps `current` but for the Ready
 * condition (False, `reason`, `message`) and observedGeneration; adds the
 * status update when that changes anything. */
bool planner_plan_condition_only(struct plan *plan, const char *name, const char *namespace,
                                 const char *resource_version, int64_t generation,
                                 const struct tidbcluster_status *current, const char *reason,
                                 const char *message, int64_t now_ms);

#endif
