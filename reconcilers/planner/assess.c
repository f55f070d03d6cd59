/*
 * assess: step 1 of a pass — the world read once into the member table
 * (members.h) and the facts derived from it.
 *
 * Bring-up order (DESIGN.md "Order, safety"): PD → (PD quorum healthy) →
 * TiKV → (stores Up) → TiDB. The two gates are named rules:
 *
 *   tikv_waits_for_pd_quorum  TiKV objects are created only while PD
 *       answers (members and health parts fresh), has a leader, and a
 *       majority of spec.pd.replicas members of ours are healthy. A TiKV
 *       started without PD only crash-loops; PingCAP gates the same way
 *       (PDIsAvailable).
 *   tidb_waits_for_tikv_stores  the first TiDB members are created only
 *       once min(spec.tikv.replicas, 3) of our stores are Up (at least
 *       one): TiDB's bootstrap writes its system tables with PD's default
 *       3 replicas, and with fewer stores its regions start
 *       under-replicated. Once TiDB exists (a TiDB pod or status member),
 *       one Up store is enough (PingCAP's TiKVIsAvailable), so that one
 *       failed store never stops a lost TiDB pod from coming back.
 *   Without spec.pd (an external PD through spec.pdAddresses) there is
 *   no snapshot to judge by: the gates are open.
 *
 * A gate re-checks the outside truth on every pass; a closed gate always
 * carries its reason (gate_message), which the plan turns into an Event, a
 * requeue and the Ready condition.
 */
#include "reconcilers/planner/planner_internal.h"

#include "reconcilers/build/build.h"

#include <string.h>

#define NO_PROVISIONER "kubernetes.io/no-provisioner"

static bool part_fresh(const struct pd_snapshot_data *pd, enum pd_snapshot_part part)
{
    return pd->parts[part].ever_succeeded && pd->parts[part].last_error.kind == PD_ERROR_NONE;
}

/* Why PD's parts cannot be trusted now ("" when they can). */
static void describe_parts(const struct pd_snapshot_data *pd, const enum pd_snapshot_part *parts, size_t count,
                           char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        const struct pd_part_status *status = &pd->parts[parts[i]];
        if (status->last_error.kind != PD_ERROR_NONE) {
            char what[PLANNER_MESSAGE_MAX];
            planner_describe_pd_error(parts[i], &status->last_error, what, sizeof what);
            planner_format(out, size, "PD API unreachable: %s", what);
            return;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (!pd->parts[parts[i]].ever_succeeded) {
            planner_format(out, size, "waiting for the first answer from PD");
            return;
        }
    }
}

static void assess_pd(struct planning *p)
{
    struct pd_view *view = &p->pd;
    const struct pd_snapshot_data *pd = p->world->pd;
    const struct tidbcluster *cluster = p->cluster;
    view->snapshot = pd != NULL;
    if (!pd) {
        planner_format(view->unreachable, sizeof view->unreachable, "waiting for the first answer from PD");
        planner_format(view->stores_unreachable, sizeof view->stores_unreachable,
                       "waiting for the first answer from PD");
        view->bootstrapped = cluster->status.pd.members.count > 0;
        return;
    }
    static const enum pd_snapshot_part member_parts[] = { PD_PART_MEMBERS, PD_PART_HEALTH };
    static const enum pd_snapshot_part store_parts[] = { PD_PART_STORES };
    view->members_known = pd->parts[PD_PART_MEMBERS].ever_succeeded;
    view->members_fresh = part_fresh(pd, PD_PART_MEMBERS) && part_fresh(pd, PD_PART_HEALTH);
    describe_parts(pd, member_parts, 2, view->unreachable, sizeof view->unreachable);
    view->stores_known = pd->parts[PD_PART_STORES].ever_succeeded;
    view->stores_fresh = part_fresh(pd, PD_PART_STORES);
    describe_parts(pd, store_parts, 1, view->stores_unreachable, sizeof view->stores_unreachable);

    for (size_t i = 0; i < pd->members.count; i++) {
        const char *name = pd->members.members[i].name;
        if (!name || !*name || planner_pd_member_ordinal(cluster, name) < 0)
            continue;
        view->own_members++;
        if (pd_snapshot_member_health(pd, name) == 1)
            view->healthy++;
    }
    view->leader = view->members_fresh ? pd_snapshot_leader_name(pd) : NULL;
    /* Rule pd_bootstrap_once: a PD cluster exists as soon as PD ever listed
     * a member, or our status recorded one (the snapshot is empty after an
     * operator restart until PD answers). */
    view->bootstrapped = (view->members_known && pd->members.count > 0) || cluster->status.pd.members.count > 0;

    bool tikv_managed = cluster->spec.component[TC_TIKV].present;
    for (size_t i = 0; view->stores_known && i < pd->stores.count; i++) {
        const struct pd_store *store = &pd->stores.stores[i];
        if (store->is_tiflash)
            continue;
        char pod[PLANNER_NAME_MAX] = "";
        bool own = planner_store_ordinal(cluster, store->address, pod, sizeof pod) >= 0;
        /* Rule own_stores_only: with TiKV managed here, other clusters'
         * stores on a shared PD do not count. */
        if (tikv_managed && !own)
            continue;
        if (store->state == PD_STORE_STATE_TOMBSTONE || store->state_name == PD_STORE_TOMBSTONE)
            continue;
        view->stores_counted++;
        if (store->state_name == PD_STORE_UP) {
            view->stores_up++;
        } else if (!view->store_problem[0]) {
            planner_format(view->store_problem, sizeof view->store_problem, "store %llu (%s) is %s",
                           (unsigned long long)store->id, pod[0] ? pod : store->address,
                           store->state_name_text && *store->state_name_text
                               ? store->state_name_text
                               : pd_store_state_name_text(store->state_name));
        }
    }
}

void planner_explain_pending(const struct planning *p, enum tc_component component, int ordinal,
                             const struct kube_pod *pod, char *out, size_t size)
{
    out[0] = '\0';
    if (!pod || pod->meta.deletion_ms || !pod->phase || strcmp(pod->phase, "Pending") != 0 ||
        pod->scheduled != CONDITION_FALSE)
        return;
    const char *name = pod->meta.name;
    char claim[PLANNER_NAME_MAX];
    const struct kube_pvc *pvc = NULL;
    if (component != TC_TIDB && build_pvc_name(p->cluster, component, ordinal, claim, sizeof claim))
        pvc = planner_find_pvc(p->world, claim);
    /* A claim that cannot bind is the usual root cause; the scheduler's own
     * text then speaks of volumes in its terms, ours names the class. */
    if (pvc && pvc->phase && strcmp(pvc->phase, "Pending") == 0) {
        const char *class_name = pvc->storage_class ? pvc->storage_class
                                                    : p->cluster->spec.component[component].storage_class_name;
        if (class_name && *class_name) {
            const struct kube_storage_class *class = planner_find_storage_class(p->world, class_name);
            if (!class) {
                planner_format(out, size, "pod %s cannot be scheduled: storage class \"%s\" does not exist (PVC %s is Pending)",
                               name, class_name, claim);
                return;
            }
            if (class->provisioner && strcmp(class->provisioner, NO_PROVISIONER) == 0) {
                planner_format(out, size,
                               "pod %s cannot be scheduled: no PersistentVolume available for storage class \"%s\" (PVC %s is Pending)",
                               name, class_name, claim);
                return;
            }
        }
    }
    if (pod->scheduled_message && *pod->scheduled_message)
        planner_format(out, size, "pod %s cannot be scheduled: %s", name, pod->scheduled_message);
    else
        planner_format(out, size, "pod %s cannot be scheduled (%zu/%zu nodes ready)", name,
                       p->world->ready_node_count, p->world->node_count);
}

static void assess_component(struct planning *p, enum tc_component component)
{
    struct component_view *view = &p->component[component];
    const struct component_spec *spec = &p->cluster->spec.component[component];
    view->present = spec->present;
    view->desired = spec->replicas > 0 ? spec->replicas : 0;
    if (!view->present)
        return;
    size_t count = 0;
    const struct member_row *rows = member_table_rows(&p->members, component, &count);
    const struct member_row *not_ready = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct member_row *row = &rows[i];
        if (!row->pod)
            continue;
        view->pods++;
        if (row->ready)
            view->ready++;
        else if (!not_ready)
            not_ready = row; /* rows are sorted: the lowest ordinal */
        if (row->desired && !view->unschedulable[0])
            planner_explain_pending(p, component, row->ordinal, row->pod, view->unschedulable,
                                    sizeof view->unschedulable);
    }
    if (not_ready) {
        const char *state = not_ready->terminating ? "terminating" : not_ready->pending ? "pending" : "not ready";
        if (not_ready->pod->node_name)
            planner_format(view->not_ready, sizeof view->not_ready, "%s on %s is %s", not_ready->name,
                           not_ready->pod->node_name, state);
        else
            planner_format(view->not_ready, sizeof view->not_ready, "%s is %s", not_ready->name, state);
    }
}

/* True when TiDB was brought up before: then one Up store is enough. */
static bool tidb_exists(const struct planning *p)
{
    return p->component[TC_TIDB].pods > 0 || p->cluster->status.tidb.members.count > 0;
}

static void assess_gates(struct planning *p)
{
    bool external_pd = !p->cluster->spec.component[TC_PD].present;
    const struct pd_view *pd = &p->pd;
    p->component[TC_PD].gate_open = true;

    struct component_view *tikv = &p->component[TC_TIKV];
    int quorum = p->component[TC_PD].desired / 2 + 1;
    tikv->gate_open = external_pd || (pd->members_fresh && pd->healthy >= quorum && pd->leader);
    if (!tikv->gate_open) {
        if (!pd->members_fresh)
            planner_format(tikv->gate_message, sizeof tikv->gate_message, "waiting for PD quorum: %s",
                           pd->unreachable);
        else if (pd->healthy < quorum)
            planner_format(tikv->gate_message, sizeof tikv->gate_message,
                           "waiting for PD quorum: %d/%d members healthy", pd->healthy,
                           p->component[TC_PD].desired);
        else
            planner_format(tikv->gate_message, sizeof tikv->gate_message,
                           "waiting for PD quorum: no PD leader yet (%d/%d members healthy)", pd->healthy,
                           p->component[TC_PD].desired);
    }

    struct component_view *tidb = &p->component[TC_TIDB];
    int needed = 1;
    if (p->component[TC_TIKV].present && !tidb_exists(p)) {
        needed = p->component[TC_TIKV].desired < 3 ? p->component[TC_TIKV].desired : 3;
        if (needed < 1)
            needed = 1;
    }
    tidb->gate_open = external_pd || pd->stores_up >= needed;
    if (!tidb->gate_open) {
        if (!pd->stores_known)
            planner_format(tidb->gate_message, sizeof tidb->gate_message, "waiting for TiKV stores: %s",
                           pd->stores_unreachable);
        else
            planner_format(tidb->gate_message, sizeof tidb->gate_message, "waiting for TiKV stores: %d/%d Up",
                           pd->stores_up, needed);
    }
}

bool planner_assess(struct planning *p)
{
    if (!member_table_build(p->world, &p->members))
        return false;
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        if (p->cluster->spec.component[c].present &&
            !build_configmap_identity(p->cluster, (enum tc_component)c, p->config_hash[c], p->configmap_name[c],
                                      sizeof p->configmap_name[c]))
            return false;
    for (int c = 0; c < TC_COMPONENT_COUNT; c++)
        assess_component(p, (enum tc_component)c);
    assess_pd(p);
    assess_gates(p);
    return true;
}
