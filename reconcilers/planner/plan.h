/*
 * plan: what a planner decided — the list of actions for one cluster.
 *
 * Planners are pure: they read the observed world and fill a `struct plan`;
 * they never do I/O. The executor (reconcilers/runtime/executor.h) carries the
 * actions out asynchronously. Every action is independent of the others in
 * the same plan (the planner emits only actions that are safe to run
 * together); what must happen after something else waits for a later pass,
 * which sees the new world.
 *
 * Ownership: the plan owns every string and cJSON body added to it (bodies
 * are taken, strings copied); plan_free releases everything. A failed add
 * (out of memory) marks the plan `incomplete`: the executor then runs
 * nothing and retries the key with backoff, since a partial plan might skip
 * a safety step.
 */
#ifndef RECONCILERS_PLAN_H
#define RECONCILERS_PLAN_H

#include "watchers/kube_resource.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum action_kind {
    ACTION_CREATE,            /* POST body to resource in namespace */
    ACTION_UPDATE,            /* PUT body (carries metadata.resourceVersion) */
    ACTION_MERGE_PATCH,       /* PATCH merge-patch body onto name */
    ACTION_DELETE,            /* DELETE name, with precondition_uid when set */
    ACTION_UPDATE_STATUS,     /* PUT body to name/status */
    ACTION_EVENT,             /* a core/v1 Event about the cluster */
    ACTION_PD_DELETE_MEMBER,  /* PD: remove member `member` */
    ACTION_PD_DELETE_STORE,   /* PD: store `store_id` Up -> Offline */
    ACTION_PD_ADD_EVICT_LEADER,
    ACTION_PD_REMOVE_EVICT_LEADER,
    ACTION_PD_TRANSFER_LEADER, /* PD: leadership to `member` */
    ACTION_PD_SET_STORE_UP,    /* PD: store `store_id` Offline -> Up (a scale-in cancelled) */
    ACTION_PD_REMOVE_TOMBSTONES, /* PD: forget every Tombstone store */
};

struct action {
    enum action_kind kind;
    const struct kube_resource *resource; /* kube actions */
    char *name;                           /* kube object name */
    char *precondition_uid;               /* DELETE only; NULL: none */
    cJSON *body;                          /* CREATE/UPDATE/PATCH/STATUS */
    char *member;                         /* PD member name */
    uint64_t store_id;                    /* PD store id */
    /* Events: type Normal or Warning, a CamelCase reason and a message.
     * Other actions: `reason` names the rule that asked for it (logs). */
    bool warning;
    char *reason;
    char *message;
};

struct plan {
    char *namespace;          /* the cluster's namespace: every kube action's */
    char *cluster;            /* the cluster's name (events, PD calls) */
    char *cluster_uid;        /* its uid (events' involvedObject) */
    struct action *actions;
    size_t count;
    size_t capacity;
    uint64_t requeue_after_ms;  /* 0: only on change; else look again after this */
    bool incomplete;            /* an add failed: do not execute */
};

/* false on allocation failure. */
bool plan_init(struct plan *plan, const char *namespace, const char *cluster, const char *cluster_uid);
void plan_free(struct plan *plan);

/* Each takes `body` (also on failure) and copies the strings. */
bool plan_create(struct plan *plan, const struct kube_resource *resource, cJSON *body,
                 const char *why);
bool plan_update(struct plan *plan, const struct kube_resource *resource, const char *name,
                 cJSON *body, const char *why);
bool plan_merge_patch(struct plan *plan, const struct kube_resource *resource, const char *name,
                      cJSON *patch, const char *why);
bool plan_delete(struct plan *plan, const struct kube_resource *resource, const char *name,
                 const char *precondition_uid, const char *why);
bool plan_update_status(struct plan *plan, const char *name, cJSON *body);
bool plan_event(struct plan *plan, bool warning, const char *reason, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
bool plan_pd(struct plan *plan, enum action_kind kind, const char *member, uint64_t store_id,
             const char *why);
/* Moves `action` (what it holds) to the end of `to`; `action` is left
 * empty. False on out of memory (the action is freed, `to` incomplete). */
bool plan_move_action(struct plan *to, struct action *action);
/* Keeps the smallest non-zero requeue asked for. */
void plan_requeue_after(struct plan *plan, uint64_t ms);

/* "create pods basic-pd-0", "pd delete-store 7": for logs and tests. */
void plan_describe_action(const struct action *action, char *out, size_t size);
/* The count of actions of `kind` (tests). */
size_t plan_count(const struct plan *plan, enum action_kind kind);

#endif
