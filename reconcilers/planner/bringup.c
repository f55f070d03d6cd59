/*
 * bringup: the bring-up concern — propose what is missing, component by
 * component in bring-up order, each behind its gate (assess.c). It reads
 * the member table and proposes (safety.h); the arbiter decides how many
 * member creates go this pass (rule bounded_creates).
 *
 * Per component: its services, the ConfigMap named by the current content
 * hash, then per desired member row its PVC and its pod (one proposal: a
 * member's claim and pod go together) — every desired member while the
 * component has none yet (the first bring-up), afterwards only members
 * that exist and lost their pod or claim (self-healing). New members of a
 * running component are the scale concern's (scale.c), one at a time. All of them are independent, so
 * they go in one plan (a pod created together with its PVC or ConfigMap
 * simply waits for them in the scheduler/kubelet). Named rules:
 *
 *   never_recreate_existing_pod  a pod that exists is never created
 *       again; one with a deletionTimestamp is waited for (requeue) and
 *       recreated with the same name once it is gone.
 *   never_delete_pvc  this concern never deletes a PVC (data!); a PVC
 *       being deleted is waited for, not recreated.
 *   pd_bootstrap_once  PD members bootstrap together (the same
 *       --initial-cluster list of the first spec.pd.replicas members, at
 *       most SAFETY_CREATE_CAP) only while no PD cluster exists; every
 *       member created after that joins it through the PD client service.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PD_PEER_PORT 2380

/* Proposes one action set; false on out of memory. */
static struct plan *propose(struct planning *p, enum proposal_effect effect, enum tc_component component, int ordinal,
                            const char *why)
{
    return proposals_open(&p->proposals, CONCERN_BRINGUP, effect, DISRUPTION_NONE, component, ordinal, why);
}

static struct plan *propose_as(struct planning *p, enum concern concern, enum proposal_effect effect,
                               enum tc_component component, int ordinal, const char *why)
{
    return proposals_open(&p->proposals, concern, effect, DISRUPTION_NONE, component, ordinal, why);
}

static bool create(struct planning *p, struct plan *into, const struct kube_resource *resource, cJSON *body,
                   const char *why)
{
    if (!into || !body) {
        cJSON_Delete(body);
        p->plan->incomplete = true; /* out of memory */
        return false;
    }
    return plan_create(into, resource, body, why);
}

/* An Event in proposal order (so the plan reads in the order decided). */
static bool note(struct planning *p, enum tc_component component, bool warning, const char *reason, const char *text)
{
    struct plan *into = propose(p, EFFECT_NOTE, component, -1, reason);
    if (!into) {
        p->plan->incomplete = true;
        return false;
    }
    return plan_event(into, warning, reason, "%s", text);
}

/* Whether the component holds something back that its closed gate stops:
 * a missing service, configmap, claim or pod of a desired member. */
static bool anything_missing(const struct planning *p, enum tc_component component)
{
    char name[PLANNER_NAME_MAX];
    if (component != TC_TIKV && build_service_name(p->cluster, component, false, name, sizeof name) &&
        !planner_find_service(p->world, name))
        return true;
    if (build_service_name(p->cluster, component, true, name, sizeof name) && !planner_find_service(p->world, name))
        return true;
    if (!planner_find_configmap(p->world, p->configmap_name[component]))
        return true;
    if (p->members.missing_beyond[component] > 0)
        return true;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    for (size_t i = 0; i < count; i++)
        if (rows[i].desired && (!rows[i].pod || (component != TC_TIDB && !rows[i].pvc)))
            return true;
    return false;
}

/* The component has no member yet (or PD has not formed: its bootstrap
 * set starts together): bring-up creates them all. */
static bool first_bringup(const struct planning *p, enum tc_component component)
{
    return p->members.existing[component] == 0 || (component == TC_PD && !p->pd.bootstrapped);
}

static bool ensure_services(struct planning *p, enum tc_component component)
{
    char name[PLANNER_NAME_MAX];
    if (component != TC_TIKV && build_service_name(p->cluster, component, false, name, sizeof name) &&
        !planner_find_service(p->world, name) &&
        !create(p, propose(p, EFFECT_CREATE_OBJECT, component, -1, "client service"), &kube_resource_services,
                build_service_client(p->cluster, component), "bring-up: client service"))
        return false;
    if (build_service_name(p->cluster, component, true, name, sizeof name) && !planner_find_service(p->world, name) &&
        !create(p, propose(p, EFFECT_CREATE_OBJECT, component, -1, "peer service"), &kube_resource_services,
                build_service_peer(p->cluster, component), "bring-up: peer service"))
        return false;
    return true;
}

static bool ensure_configmap(struct planning *p, enum tc_component component)
{
    const char *name = p->configmap_name[component];
    const struct kube_configmap *existing = planner_find_configmap(p->world, name);
    if (!existing)
        return create(p, propose(p, EFFECT_CREATE_OBJECT, component, -1, "configmap"), &kube_resource_configmaps,
                      build_configmap(p->cluster, component), "bring-up: configmap");
    /* configUpdateStrategy InPlace: one ConfigMap under a fixed name, its
     * content replaced when the config changes (pods read it when they
     * next start; none restarts for it). */
    const char *hash = p->config_hash[component];
    const char *current = object_annotation(&existing->meta, ANNOTATION_CONFIG_HASH);
    if (!current || strcmp(current, hash) == 0)
        return true; /* (no hash: not one we wrote, left alone) */
    cJSON *configmap = build_configmap(p->cluster, component);
    cJSON *patch = cJSON_CreateObject();
    cJSON *metadata = patch ? cJSON_AddObjectToObject(patch, "metadata") : NULL;
    cJSON *annotations = configmap ? cJSON_DetachItemFromObjectCaseSensitive(
                                         cJSON_GetObjectItemCaseSensitive(configmap, "metadata"), "annotations")
                                   : NULL;
    cJSON *data = configmap ? cJSON_DetachItemFromObjectCaseSensitive(configmap, "data") : NULL;
    cJSON_Delete(configmap);
    bool ok = metadata && annotations && data;
    if (ok) {
        cJSON_AddItemToObject(metadata, "annotations", annotations);
        cJSON_AddItemToObject(patch, "data", data);
    } else {
        cJSON_Delete(annotations);
        cJSON_Delete(data);
    }
    struct plan *into = ok ? propose(p, EFFECT_UPDATE_OBJECT, component, -1, "configmap content") : NULL;
    if (!into) {
        cJSON_Delete(patch);
        p->plan->incomplete = true;
        return false;
    }
    return plan_merge_patch(into, &kube_resource_configmaps, name, patch, "config changed: updated in place") &&
           plan_event(into, false, "ConfigUpdated",
                      "%s config updated in place in ConfigMap %s (configUpdateStrategy InPlace: members use it when "
                      "they next start)",
                      tidbcluster_component_name(component), name);
}

/* "basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380,..." of the
 * desired PD members, at most SAFETY_CREATE_CAP (malloc'd). */
static char *initial_cluster(const struct planning *p)
{
    size_t size = 1, used = 0, count = 0;
    char *list = calloc(1, size);
    const struct member_row *rows = member_table_rows(&p->members, TC_PD, &count);
    int members = 0;
    for (size_t i = 0; list && i < count && members < SAFETY_CREATE_CAP; i++) {
        if (!rows[i].desired)
            continue;
        char host[PLANNER_NAME_MAX], entry[2 * PLANNER_NAME_MAX + 32];
        if (!build_member_host(p->cluster, TC_PD, rows[i].ordinal, host, sizeof host)) {
            free(list);
            return NULL;
        }
        int length = snprintf(entry, sizeof entry, "%s%s=http://%s:%d", members ? "," : "", rows[i].name, host,
                              PD_PEER_PORT);
        members++;
        if (length < 0 || (size_t)length >= sizeof entry) {
            free(list);
            return NULL;
        }
        char *grown = realloc(list, size + (size_t)length);
        if (!grown) {
            free(list);
            return NULL;
        }
        list = grown;
        memcpy(list + used, entry, (size_t)length + 1);
        used += (size_t)length;
        size += (size_t)length;
    }
    return list;
}

bool planner_pd_start_prepare(const struct planning *p, struct pd_start_plan *out)
{
    *out = (struct pd_start_plan){ 0 };
    if (p->pd.bootstrapped) {
        if (!build_pd_url(p->cluster, out->url, sizeof out->url))
            return false;
        out->start.join = true;
        out->start.join_urls = out->url;
        return true;
    }
    out->initial = initial_cluster(p);
    out->start.initial_cluster = out->initial;
    return out->initial != NULL;
}

void planner_pd_start_free(struct pd_start_plan *start)
{
    free(start->initial);
    *start = (struct pd_start_plan){ 0 };
}

bool planner_propose_member(struct planning *p, enum concern concern, const struct member_row *row,
                            const struct build_pd_start *pd_start)
{
    enum tc_component component = row->component;
    bool need_pvc = component != TC_TIDB && !row->pvc;
    if (component != TC_TIDB && row->pvc && row->pvc->meta.deletion_ms) {
        /* never_delete_pvc: someone else deletes it; a new claim
         * waits until the old one is gone. */
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    }
    /* never_recreate_existing_pod: a terminating pod keeps its name
     * until it is gone; then the next pass creates it again. */
    if (row->pod && row->terminating)
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    if (!need_pvc && row->pod)
        return true;
    struct plan *into = propose_as(p, concern, EFFECT_CREATE_MEMBER, component, row->ordinal, "member");
    if (!into) {
        p->plan->incomplete = true;
        return false;
    }
    struct proposal *proposal = proposals_current(&p->proposals);
    proposal->bootstrap_set = component == TC_PD && pd_start && !pd_start->join;
    if (need_pvc && !create(p, into, &kube_resource_pvcs, build_pvc(p->cluster, component, row->ordinal),
                            concern == CONCERN_BRINGUP ? "bring-up: member volume" : "scale out: member volume"))
        return false;
    if (row->pod)
        return true;
    if (!create(p, into, &kube_resource_pods, build_pod(p->cluster, component, row->ordinal, pd_start),
                concern == CONCERN_BRINGUP ? "bring-up: member" : "scale out: member"))
        return false;
    if (pd_start && pd_start->join)
        return plan_event(into, false, "Created", "created pod %s (joining the running PD cluster)", row->name);
    return plan_event(into, false, "Created", "created pod %s", row->name);
}

static const char *wait_reason(enum tc_component component)
{
    return component == TC_TIKV ? "WaitingForPDQuorum" : "WaitingForTiKVStores";
}

static bool plan_component(struct planning *p, enum tc_component component)
{
    const struct component_view *view = &p->component[component];
    if (!view->present)
        return true;
    if (!view->gate_open) {
        /* A closed gate that holds nothing back (everything exists) says
         * nothing. */
        if (!anything_missing(p, component))
            return true;
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return note(p, component, false, wait_reason(component), view->gate_message);
    }
    if (!ensure_services(p, component) || !ensure_configmap(p, component))
        return false;
    struct pd_start_plan pd_start = { 0 };
    bool ok = component != TC_PD || planner_pd_start_prepare(p, &pd_start);
    if (!ok)
        p->plan->incomplete = true;
    bool first = first_bringup(p, component);
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    int bootstrap = 0;
    for (size_t i = 0; ok && i < count; i++) {
        const struct member_row *row = &rows[i];
        /* A PD member being scaled in that lost its pod while PD, without
         * an answer now, last listed it gets the pod back: removing it needs
         * PD's quorum, which may need it (found by test/dst: 2 members, one
         * lost with its node, replicas lowered to 1: PD never answered again). */
        bool give_back = component == TC_PD && !row->desired && row->existing && !row->pod && row->pd_member &&
                         !p->pd.members_fresh && row->pvc && !row->pvc_deferred && !row->pvc->meta.deletion_ms;
        if ((!row->desired && !give_back) || (!row->existing && !first))
            continue;
        /* A failed member whose node is gone cannot come back there: its
         * replacement is failover's (failover.c). */
        if (row->failure && (row->failure_host_down || row->node_gone))
            continue;
        /* The PD bootstrap set is the members named in --initial-cluster. */
        if (component == TC_PD && !pd_start.start.join && bootstrap++ >= SAFETY_CREATE_CAP)
            continue;
        ok = planner_propose_member(p, CONCERN_BRINGUP, row, component == TC_PD ? &pd_start.start : NULL);
    }
    if (first && p->members.missing_beyond[component] > 0)
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
    planner_pd_start_free(&pd_start);
    return ok;
}

/* One Warning per member pod that cannot be scheduled, in user's terms. */
static bool explain_pending(struct planning *p, enum tc_component component)
{
    const struct component_view *view = &p->component[component];
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    for (size_t i = 0; view->present && i < count; i++) {
        char why[PLANNER_MESSAGE_MAX];
        if (!rows[i].desired)
            continue;
        planner_explain_pending(p, component, rows[i].ordinal, rows[i].pod, why, sizeof why);
        if (why[0]) {
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
            if (!note(p, component, true, REASON_UNSCHEDULABLE, why))
                return false;
        }
    }
    return true;
}

bool bringup_propose(struct planning *p)
{
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (!plan_component(p, (enum tc_component)c))
            return false;
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (!explain_pending(p, (enum tc_component)c))
            return false;
    return true;
}
