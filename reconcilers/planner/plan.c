#include "reconcilers/planner/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool plan_init(struct plan *plan, const char *namespace, const char *cluster, const char *cluster_uid)
{
    *plan = (struct plan){0};
    plan->namespace = strdup(namespace ? namespace : "");
    plan->cluster = strdup(cluster ? cluster : "");
    plan->cluster_uid = strdup(cluster_uid ? cluster_uid : "");
    if (!plan->namespace || !plan->cluster || !plan->cluster_uid) {
        plan_free(plan);
        return false;
    }
    return true;
}

static void action_free(struct action *action)
{
    free(action->name);
    free(action->precondition_uid);
    cJSON_Delete(action->body);
    free(action->member);
    free(action->reason);
    free(action->message);
}

void plan_free(struct plan *plan)
{
    for (size_t i = 0; i < plan->count; i++) action_free(&plan->actions[i]);
    free(plan->actions);
    free(plan->namespace);
    free(plan->cluster);
    free(plan->cluster_uid);
    *plan = (struct plan){0};
}

static char *copy(const char *text, bool *ok)
{
    if (!text) return NULL;
    char *result = strdup(text);
    if (!result) *ok = false;
    return result;
}

/* Appends `action` (taking what it holds); on failure frees it and marks
 * the plan incomplete. */
static bool append(struct plan *plan, struct action action, bool ok)
{
    if (ok && plan->count == plan->capacity) {
        size_t capacity = plan->capacity ? plan->capacity * 2 : 8;
        struct action *grown = realloc(plan->actions, capacity * sizeof *grown);
        if (grown) {
            plan->actions = grown;
            plan->capacity = capacity;
        } else {
            ok = false;
        }
    }
    if (!ok) {
        action_free(&action);
        plan->incomplete = true;
        return false;
    }
    plan->actions[plan->count++] = action;
    return true;
}

bool plan_move_action(struct plan *to, struct action *action)
{
    struct action moved = *action;
    *action = (struct action){ .kind = action->kind };
    return append(to, moved, true);
}

static bool add_kube(struct plan *plan, enum action_kind kind, const struct kube_resource *resource,
                     const char *name, const char *precondition_uid, cJSON *body, const char *why)
{
    bool ok = body || kind == ACTION_DELETE;
    struct action action = { .kind = kind, .resource = resource, .body = body };
    action.name = copy(name, &ok);
    action.precondition_uid = copy(precondition_uid, &ok);
    action.reason = copy(why, &ok);
    return append(plan, action, ok);
}

bool plan_create(struct plan *plan, const struct kube_resource *resource, cJSON *body, const char *why)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "metadata"), "name");
    return add_kube(plan, ACTION_CREATE, resource, cJSON_IsString(name) ? name->valuestring : "",
                    NULL, body, why);
}

bool plan_update(struct plan *plan, const struct kube_resource *resource, const char *name,
                 cJSON *body, const char *why)
{
    return add_kube(plan, ACTION_UPDATE, resource, name, NULL, body, why);
}

bool plan_merge_patch(struct plan *plan, const struct kube_resource *resource, const char *name,
                      cJSON *patch, const char *why)
{
    return add_kube(plan, ACTION_MERGE_PATCH, resource, name, NULL, patch, why);
}

bool plan_delete(struct plan *plan, const struct kube_resource *resource, const char *name,
                 const char *precondition_uid, const char *why)
{
    return add_kube(plan, ACTION_DELETE, resource, name, precondition_uid, NULL, why);
}

bool plan_update_status(struct plan *plan, const char *name, cJSON *body)
{
    return add_kube(plan, ACTION_UPDATE_STATUS, &kube_resource_tidbclusters, name, NULL, body, "status");
}

bool plan_event(struct plan *plan, bool warning, const char *reason, const char *format, ...)
{
    bool ok = true;
    struct action action = { .kind = ACTION_EVENT, .warning = warning };
    action.reason = copy(reason, &ok);
    va_list args;
    va_start(args, format);
    if (vasprintf(&action.message, format, args) < 0) {
        action.message = NULL;
        ok = false;
    }
    va_end(args);
    return append(plan, action, ok);
}

bool plan_pd(struct plan *plan, enum action_kind kind, const char *member, uint64_t store_id,
             const char *why)
{
    bool ok = kind >= ACTION_PD_DELETE_MEMBER;
    struct action action = { .kind = kind, .store_id = store_id };
    action.member = copy(member, &ok);
    action.reason = copy(why, &ok);
    return append(plan, action, ok);
}

void plan_requeue_after(struct plan *plan, uint64_t ms)
{
    if (ms && (!plan->requeue_after_ms || ms < plan->requeue_after_ms)) plan->requeue_after_ms = ms;
}

void plan_describe_action(const struct action *action, char *out, size_t size)
{
    static const char *const verbs[] = {
        [ACTION_CREATE] = "create", [ACTION_UPDATE] = "update", [ACTION_MERGE_PATCH] = "patch",
        [ACTION_DELETE] = "delete", [ACTION_UPDATE_STATUS] = "update-status", [ACTION_EVENT] = "event",
        [ACTION_PD_DELETE_MEMBER] = "pd delete-member", [ACTION_PD_DELETE_STORE] = "pd delete-store",
        [ACTION_PD_ADD_EVICT_LEADER] = "pd add-evict-leader",
        [ACTION_PD_REMOVE_EVICT_LEADER] = "pd remove-evict-leader",
        [ACTION_PD_TRANSFER_LEADER] = "pd transfer-leader", [ACTION_PD_SET_STORE_UP] = "pd set-store-up",
        [ACTION_PD_REMOVE_TOMBSTONES] = "pd remove-tombstones",
    };
    const char *verb = verbs[action->kind];
    switch (action->kind) {
    case ACTION_EVENT:
        snprintf(out, size, "event %s %s", action->warning ? "Warning" : "Normal", action->reason);
        break;
    case ACTION_PD_DELETE_MEMBER:
    case ACTION_PD_TRANSFER_LEADER:
        snprintf(out, size, "%s %s", verb, action->member ? action->member : "");
        break;
    case ACTION_PD_DELETE_STORE:
    case ACTION_PD_ADD_EVICT_LEADER:
    case ACTION_PD_REMOVE_EVICT_LEADER:
    case ACTION_PD_SET_STORE_UP:
        snprintf(out, size, "%s %llu", verb, (unsigned long long)action->store_id);
        break;
    case ACTION_PD_REMOVE_TOMBSTONES:
        snprintf(out, size, "%s", verb);
        break;
    default:
        snprintf(out, size, "%s %s %s", verb, action->resource ? action->resource->plural : "?",
                 action->name ? action->name : "");
    }
}

size_t plan_count(const struct plan *plan, enum action_kind kind)
{
    size_t count = 0;
    for (size_t i = 0; i < plan->count; i++) count += plan->actions[i].kind == kind;
    return count;
}
