/*
 * plan_objects: step 2 of a pass — create what is missing, component by
 * component in bring-up order, each behind its gate (plan_assess.c).
 *
 * Per component: its services, the ConfigMap named by the current content
 * hash, then per member ordinal 0..replicas-1 its PVC and its pod. Only
 * missing objects are created; all of them are independent, so they go in
 * one plan (a pod created together with its PVC or ConfigMap simply waits
 * for them in the scheduler/kubelet). Named rules:
 *
 *   never_recreate_existing_pod  a pod that exists is never created
 *       again; one with a deletionTimestamp is waited for (requeue) and
 *       recreated with the same name once it is gone.
 *   never_delete_pvc  this planner never deletes a PVC (data!); a PVC
 *       being deleted is waited for, not recreated.
 *   pd_bootstrap_once  PD members bootstrap together (the same
 *       --initial-cluster list of all spec.pd.replicas members) only while
 *       no PD cluster exists; every member created after that joins it
 *       through the PD client service.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PD_PEER_PORT 2380

/* Whether a missing object is only counted (a closed gate asks "is anything
 * missing?" so that it speaks only when it holds something back). */
static bool counting(struct planning *p)
{
    if (p->counting)
        p->missing++;
    return p->counting;
}

static bool create(struct planning *p, const struct kube_resource *resource, cJSON *body, const char *why)
{
    if (!body) {
        p->plan->incomplete = true; /* a builder ran out of memory */
        return false;
    }
    return plan_create(p->plan, resource, body, why);
}

static bool ensure_services(struct planning *p, enum tc_component component)
{
    char name[PLANNER_NAME_MAX];
    if (component != TC_TIKV && build_service_name(p->cluster, component, false, name, sizeof name) &&
        !planner_find_service(p->world, name) && !counting(p) &&
        !create(p, &kube_resource_services, build_service_client(p->cluster, component), "bring-up: client service"))
        return false;
    if (build_service_name(p->cluster, component, true, name, sizeof name) && !planner_find_service(p->world, name) &&
        !counting(p) && !create(p, &kube_resource_services, build_service_peer(p->cluster, component), "bring-up: peer service"))
        return false;
    return true;
}

static bool ensure_configmap(struct planning *p, enum tc_component component)
{
    char name[PLANNER_NAME_MAX];
    if (!build_configmap_name(p->cluster, component, name, sizeof name)) {
        p->plan->incomplete = true;
        return false;
    }
    if (planner_find_configmap(p->world, name) || counting(p))
        return true;
    return create(p, &kube_resource_configmaps, build_configmap(p->cluster, component), "bring-up: configmap");
}

/* "basic-pd-0=http://basic-pd-0.basic-pd-peer.ns.svc:2380,..." (malloc'd). */
static char *initial_cluster(const struct planning *p)
{
    size_t size = 1, used = 0;
    char *list = calloc(1, size);
    for (int ordinal = 0; list && ordinal < p->component[TC_PD].desired; ordinal++) {
        char name[PLANNER_NAME_MAX], host[PLANNER_NAME_MAX], entry[2 * PLANNER_NAME_MAX + 32];
        if (!build_member_name(p->cluster, TC_PD, ordinal, name, sizeof name) ||
            !build_member_host(p->cluster, TC_PD, ordinal, host, sizeof host)) {
            free(list);
            return NULL;
        }
        int length = snprintf(entry, sizeof entry, "%s%s=http://%s:%d", ordinal ? "," : "", name, host, PD_PEER_PORT);
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

/* Rule pd_bootstrap_once: how the PD members created in this pass start. */
struct pd_start_plan {
    struct build_pd_start start;
    char *initial;
    char url[PLANNER_NAME_MAX];
};

static bool pd_start_prepare(const struct planning *p, struct pd_start_plan *out)
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

static bool ensure_member(struct planning *p, enum tc_component component, int ordinal,
                          const struct build_pd_start *pd_start)
{
    char pvc_name[PLANNER_NAME_MAX], pod_name[PLANNER_NAME_MAX];
    if (component != TC_TIDB) {
        if (!build_pvc_name(p->cluster, component, ordinal, pvc_name, sizeof pvc_name)) {
            p->plan->incomplete = true;
            return false;
        }
        const struct kube_pvc *pvc = planner_find_pvc(p->world, pvc_name);
        if (pvc && pvc->meta.deletion_ms) {
            /* never_delete_pvc: someone else deletes it; a new claim
             * waits until the old one is gone. */
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        } else if (!pvc && !counting(p) && !create(p, &kube_resource_pvcs, build_pvc(p->cluster, component, ordinal),
                                   "bring-up: member volume")) {
            return false;
        }
    }
    if (!build_member_name(p->cluster, component, ordinal, pod_name, sizeof pod_name)) {
        p->plan->incomplete = true;
        return false;
    }
    const struct kube_pod *pod = planner_find_pod(p->world, pod_name);
    if (pod) {
        /* never_recreate_existing_pod: a terminating pod keeps its name
         * until it is gone; then the next pass creates it again. */
        if (pod->meta.deletion_ms)
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return true;
    }
    if (counting(p))
        return true;
    if (!create(p, &kube_resource_pods, build_pod(p->cluster, component, ordinal, pd_start), "bring-up: member"))
        return false;
    if (pd_start && pd_start->join)
        return plan_event(p->plan, false, "Created", "created pod %s (joining the running PD cluster)", pod_name);
    return plan_event(p->plan, false, "Created", "created pod %s", pod_name);
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
        /* Walk the component only counting what is missing: a closed gate
         * that holds nothing back (everything exists) says nothing. */
        p->counting = true;
        p->missing = 0;
        ensure_services(p, component);
        ensure_configmap(p, component);
        for (int ordinal = 0; ordinal < view->desired; ordinal++)
            ensure_member(p, component, ordinal, NULL);
        p->counting = false;
        if (!p->missing)
            return true;
        plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
        return plan_event(p->plan, false, wait_reason(component), "%s", view->gate_message);
    }
    if (!ensure_services(p, component) || !ensure_configmap(p, component))
        return false;
    struct pd_start_plan pd_start = { 0 };
    bool ok = component != TC_PD || pd_start_prepare(p, &pd_start);
    if (!ok)
        p->plan->incomplete = true;
    for (int ordinal = 0; ok && ordinal < view->desired; ordinal++)
        ok = ensure_member(p, component, ordinal, component == TC_PD ? &pd_start.start : NULL);
    free(pd_start.initial);
    return ok;
}

/* One Warning per member pod that cannot be scheduled, in user's terms. */
static bool explain_pending(struct planning *p, enum tc_component component)
{
    const struct component_view *view = &p->component[component];
    for (int ordinal = 0; view->present && ordinal < view->desired; ordinal++) {
        char name[PLANNER_NAME_MAX], why[PLANNER_MESSAGE_MAX];
        if (!build_member_name(p->cluster, component, ordinal, name, sizeof name))
            continue;
        planner_explain_pending(p, component, ordinal, planner_find_pod(p->world, name), why, sizeof why);
        if (why[0]) {
            plan_requeue_after(p->plan, PLANNER_WAIT_REQUEUE_MS);
            if (!plan_event(p->plan, true, REASON_UNSCHEDULABLE, "%s", why))
                return false;
        }
    }
    return true;
}

bool planner_plan_objects(struct planning *p)
{
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (!plan_component(p, (enum tc_component)c))
            return false;
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (!explain_pending(p, (enum tc_component)c))
            return false;
    return true;
}
