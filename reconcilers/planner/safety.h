/*
 * safety: proposals and the one safety arbiter.
 *
 * Concern planners (bring-up, failover, scale, upgrade) never
 * write into the plan the executor runs. Each *proposes*: it opens a
 * proposal (which concern, what effect, which member, why), adds the
 * proposal's actions to the proposals' scratch plan with the ordinary
 * plan_* calls, and closes it. The arbiter then admits proposals in a fixed
 * priority into the real plan, moving their actions, and refuses the rest
 * with a named rule and a message the user sees ("upgrade waits: ...").
 *
 * Priority: notes (events), cluster objects (services, configmaps) and
 * updates that take nothing down are always admitted; member creates in component order under the create
 * budget; disruptive proposals by concern — failover, scale, upgrade — and
 * within a concern in the order proposed.
 *
 * The rules, each by name, here and nowhere else (DESIGN.md "Never"):
 *   bounded_creates        member creates (a member's PVC and/or pod) per
 *       component and pass are at most SAFETY_CREATE_CAP; and new members
 *       (nothing of them exists yet) follow a slow start: at most a window
 *       of min(SAFETY_CREATE_CAP, max(SAFETY_SLOW_START_FIRST, 2 x the
 *       ready member pods)) members may be not ready at once, so an absurd
 *       replica count or a component that never gets ready (unschedulable,
 *       crashing) cannot flood the API server or starve other clusters.
 *       Members that exist again after a loss (their PVC is there) only
 *       count against the cap. PD's bootstrap set (no PD cluster exists
 *       yet) is one unit of at most SAFETY_CREATE_CAP members (rule
 *       pd_bootstrap_once: they must start together).
 *   one_disruption_at_a_time  at most one disruptive proposal per cluster
 *       and pass, and none while another member is being disrupted (a PD
 *       or TiKV pod terminating, a TiKV store Offline, a desired PD or TiKV
 *       member whose pod is missing or not ready) unless it concerns that
 *       same member; and none until PD's members, health and stores were
 *       read again after the operator's last PD write
 *       (pd_snapshot_data.written_ms): the store that write took Offline
 *       would otherwise still look Up.
 *   pd_quorum_kept  (Never 1) a PD member is taken down only if the other
 *       healthy members still form a quorum of the PD members, and never
 *       while it is the leader (transfer leadership first); a one-member
 *       PD may restart (there is no quorum of others to keep).
 *   tikv_leaders_evicted_first  (Never 2) a TiKV store that is Up and holds
 *       leaders is restarted only once its leaders are evicted (an
 *       evict-leader scheduler names it and its leader count is 0) or the
 *       proposing concern says the eviction timed out.
 *   store_data_kept_until_tombstone  (Never 3) a TiKV member's data (PVC)
 *       is deleted only once PD reports its store Tombstone (or PD, fresh,
 *       knows no store of it at all).
 *   up_stores_kept  (Never 3) a store deletion never leaves fewer Up
 *       stores than PD's max-replicas (3 when PD's config is unknown),
 *       and never goes while another store of ours is Down or
 *       Disconnected.
 *   tikv_restart_with_other_stores_up  a TiKV member is restarted (or its
 *       leaders evicted for a restart) only while every other store of
 *       ours is Up or Tombstone, unless the TidbCluster carries
 *       SAFETY_ANNOTATION_FORCE_UPGRADE "true": a second store down could
 *       leave regions without a majority.
 *   failover_replacements_capped  a failover record (which makes a
 *       replacement member) is admitted only while the component has fewer
 *       records than maxFailoverCount (default 3; 0: none) and none names
 *       the member already: one replacement per failed member, and a
 *       cluster never grows without bound however many members fail.
 *   no_double_attach  (Never 4) a member whose pod's node is still known
 *       and not Ready is never moved: the node may still be writing to the
 *       volume; it moves only once the node is confirmed gone.
 * Rules 5 (caches synced) and 6 (the lease) are runtime rules: the
 * controller and the executor (reconcilers/runtime) enforce them.
 *
 * Pure: reads the member table, the PD facts and the proposals; writes the
 * plan. Ownership: `struct proposals` owns its scratch plan and proposals
 * (proposals_free); safety_arbitrate moves admitted actions into `out`.
 */
#ifndef RECONCILERS_PLANNER_SAFETY_H
#define RECONCILERS_PLANNER_SAFETY_H

#include "reconcilers/planner/members.h"
#include "reconcilers/planner/plan.h"

#include <stdbool.h>
#include <stddef.h>

#define SAFETY_CREATE_CAP 32
#define SAFETY_SLOW_START_FIRST 4
#define SAFETY_MESSAGE_MAX 512
/* On the TidbCluster (PingCAP's name): "true" lets a TiKV restart go while
 * another store is not Up (rule tikv_restart_with_other_stores_up). */
#define SAFETY_ANNOTATION_FORCE_UPGRADE "tidb.pingcap.com/force-upgrade"

enum concern {
    CONCERN_BRINGUP,
    CONCERN_FAILOVER,
    CONCERN_SCALE,
    CONCERN_UPGRADE,
    CONCERN_COUNT,
};

enum proposal_effect {
    EFFECT_NOTE,           /* events only */
    EFFECT_CREATE_OBJECT,  /* services, configmaps */
    EFFECT_UPDATE_OBJECT,  /* annotations, a store set back Up: takes nothing down */
    EFFECT_CREATE_MEMBER,  /* a member's PVC and pod */
    EFFECT_DISRUPT,        /* takes a member down, removes it or its data */
};

enum disruption {
    DISRUPTION_NONE,
    DISRUPTION_RESTART,          /* delete the pod so it comes back (upgrade) */
    DISRUPTION_MOVE,             /* delete the pod so it comes back elsewhere (failover) */
    DISRUPTION_REMOVE_MEMBER,    /* PD member delete / scale-in of a pod */
    DISRUPTION_DELETE_STORE,     /* PD store delete (Up -> Offline) */
    DISRUPTION_DELETE_DATA,      /* delete the member's PVC */
    DISRUPTION_TRANSFER_LEADER,  /* PD leadership away from the member */
};

struct proposal {
    enum concern concern;
    enum proposal_effect effect;
    enum disruption disruption;
    enum tc_component component;
    int ordinal;                 /* -1: not about one member */
    bool bootstrap_set;          /* a PD bootstrap member (pd_bootstrap_once) */
    bool failover_record;        /* a failover record for the member (failover_replacements_capped) */
    bool admitted;               /* set by safety_arbitrate */
    bool eviction_timed_out;     /* tikv_leaders_evicted_first: the concern's timeout passed,
                                  * or no other store can take the leaders */
    size_t first_action;         /* in proposals.actions */
    size_t action_count;
    char why[SAFETY_MESSAGE_MAX];
};

struct proposals {
    struct plan actions;         /* scratch: every proposal's actions, in order */
    struct proposal *items;
    size_t count;
    size_t capacity;
    bool open;
};

/* The world the arbiter judges by. */
struct safety_world {
    const struct tidbcluster *cluster;
    const struct member_table *members;
    const struct pd_snapshot_data *pd;   /* NULL: none */
    bool pd_stores_fresh;
    bool pd_bootstrapped;
};

struct safety_refusal {
    const char *rule;
    enum concern concern;
    enum tc_component component;
    int ordinal;
    char message[SAFETY_MESSAGE_MAX];   /* "upgrade waits: store 4 (basic-tikv-1) is Down" */
};

struct safety_outcome {
    size_t admitted;
    size_t refused;
    struct safety_refusal first_refusal; /* valid when refused > 0 */
};

bool proposals_init(struct proposals *proposals, const struct plan *like);
void proposals_free(struct proposals *proposals);
/* Opens a proposal; its actions are what is added to the returned plan
 * until proposals_close. NULL on out of memory. */
struct plan *proposals_open(struct proposals *proposals, enum concern concern, enum proposal_effect effect,
                            enum disruption disruption, enum tc_component component, int ordinal,
                            const char *why);
/* The proposal being built (flags such as bootstrap_set may be set). */
struct proposal *proposals_current(struct proposals *proposals);
void proposals_close(struct proposals *proposals);

/* What bounded_creates admits for one component this pass. */
struct safety_budget {
    int creates;      /* member creates left (the cap) */
    int new_members;  /* new members left (the window minus the not-ready ones) */
    int window;       /* the slow-start window (0: not limited, PD bootstrap) */
    int unready;      /* member pods that exist and are not ready */
};

void safety_create_budget(const struct safety_world *world, enum tc_component component,
                          struct safety_budget *budget);

/* Admits proposals into `out`; false on out of memory (then `out` is
 * marked incomplete). */
bool safety_arbitrate(const struct safety_world *world, struct proposals *proposals, struct plan *out,
                      struct safety_outcome *outcome);

const char *concern_name(enum concern concern); /* "bring-up", "failover", ... */

/*
 * Test-only seam: the deterministic simulation's mutation check (test/dst)
 * disables one rule at a time to prove that the simulation notices. While
 * a rule is disabled the arbiter skips it, as if it were not written; every
 * other rule still holds. Nothing in the operator calls this, and with no
 * rule disabled (the default, and after safety_disable_rule(NULL)) the
 * arbiter is exactly as described above. Process-wide; one rule at a time
 * (a new call replaces the previous one). False, and nothing changed, for a
 * name that is not in safety_rule_names.
 */
extern const char *const safety_rule_names[];
extern const size_t safety_rule_count;
bool safety_disable_rule(const char *name);
/* The disabled rule's name, or NULL. */
const char *safety_disabled_rule(void);

#endif
