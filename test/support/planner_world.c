/*
 * planner_world: the hand-built world builder (planner_world.h).
 */
#include "test/support/planner_world.h"

#include "reconcilers/build/build.h"
#include "reconcilers/planner/planner.h"
#include "test/support/test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const planner_world_basic_json =
    "{\"apiVersion\":\"pingcap.com/v1alpha1\",\"kind\":\"TidbCluster\","
    "\"metadata\":{\"name\":\"basic\",\"namespace\":\"ns\",\"uid\":\"u-1\",\"resourceVersion\":\"42\",\"generation\":3},"
    "\"spec\":{\"version\":\"v8.5.0\","
    "\"pd\":{\"replicas\":3,\"requests\":{\"storage\":\"1Gi\"}},"
    "\"tikv\":{\"replicas\":3,\"requests\":{\"storage\":\"10Gi\"}},"
    "\"tidb\":{\"replicas\":2}}}";

#define ROOM(w, array, count)                                                                      \
    do {                                                                                           \
        if ((count) >= sizeof(w)->array / sizeof(w)->array[0])                                     \
            abort(); /* the test built a bigger world than the builder holds */                   \
    } while (0)

char *planner_world_keep(struct planner_world *w, const char *format, ...)
{
    ROOM(w, text, w->text_count);
    char *slot = w->text[w->text_count++];
    va_list args;
    va_start(args, format);
    vsnprintf(slot, sizeof w->text[0], format, args);
    va_end(args);
    return slot;
}

bool planner_world_load(struct planner_world *w, const char *json)
{
    tidbcluster_free(&w->tc);
    cJSON *object = cJSON_Parse(json);
    char *error = NULL;
    bool ok = object && tidbcluster_decode(object, &w->tc, &error) && tidbcluster_apply_defaults(&w->tc);
    if (error) {
        test_fail(__FILE__, __LINE__, "decode: %s", error);
        free(error);
    }
    cJSON_Delete(object);
    w->world.cluster = &w->tc;
    return ok;
}

bool planner_world_init(struct planner_world *w, const char *json)
{
    memset(w, 0, sizeof *w);
    w->world.pods = w->pod_list;
    w->world.pvcs = w->pvc_list;
    w->world.services = w->service_list;
    w->world.configmaps = w->configmap_list;
    w->world.storage_classes = w->class_list;
    w->world.nodes = w->node_list;
    w->world.pvs = w->pv_list;
    w->world.node_count = 6;
    w->world.ready_node_count = 6;
    w->world.now_ms = PLANNER_WORLD_NOW_MS;
    return planner_world_load(w, json ? json : planner_world_basic_json);
}

void planner_world_done(struct planner_world *w)
{
    plan_free(&w->plan);
    tidbcluster_free(&w->tc);
}

struct kube_pod *planner_world_add_pod(struct planner_world *w, const char *name, const char *phase, bool ready)
{
    ROOM(w, pods, w->world.pod_count);
    struct kube_pod *pod = &w->pods[w->world.pod_count];
    pod->meta.name = planner_world_keep(w, "%s", name);
    pod->phase = phase;
    pod->ready = ready ? CONDITION_TRUE : CONDITION_FALSE;
    pod->scheduled = strcmp(phase, "Pending") == 0 ? CONDITION_FALSE : CONDITION_TRUE;
    pod->node_name = strcmp(phase, "Pending") == 0 ? NULL : "node-1";
    w->pod_list[w->world.pod_count++] = pod;
    return pod;
}

struct kube_pvc *planner_world_add_pvc(struct planner_world *w, const char *name, const char *phase,
                                       const char *storage_class)
{
    ROOM(w, pvcs, w->world.pvc_count);
    struct kube_pvc *pvc = &w->pvcs[w->world.pvc_count];
    pvc->meta.name = planner_world_keep(w, "%s", name);
    pvc->phase = phase;
    pvc->storage_class = storage_class;
    w->pvc_list[w->world.pvc_count++] = pvc;
    return pvc;
}

struct kube_pv *planner_world_add_pv(struct planner_world *w, struct kube_pvc *pvc, const char *name)
{
    ROOM(w, pvs, w->world.pv_count);
    struct kube_pv *pv = &w->pvs[w->world.pv_count];
    pv->meta.name = planner_world_keep(w, "%s", name);
    pv->phase = "Bound";
    pv->claim_name = pvc->meta.name;
    pvc->volume_name = pv->meta.name;
    w->pv_list[w->world.pv_count++] = pv;
    return pv;
}

void planner_world_pod_annotate(struct planner_world *w, struct kube_pod *pod, const char *key, const char *value)
{
    size_t index = (size_t)(pod - w->pods);
    if (index >= PLANNER_WORLD_MAX || pod->meta.label_count != 0 || pod->meta.annotation_count >= 2)
        abort(); /* not a pod of this world, or more than the builder holds */
    pod->meta.labels = w->pod_annotations[index];
    w->pod_annotations[index][pod->meta.annotation_count++] =
        (struct kube_label){ planner_world_keep(w, "%s", key), planner_world_keep(w, "%s", value) };
}

void planner_world_add_service(struct planner_world *w, const char *name)
{
    ROOM(w, services, w->world.service_count);
    struct kube_service *service = &w->services[w->world.service_count];
    service->meta.name = planner_world_keep(w, "%s", name);
    w->service_list[w->world.service_count++] = service;
}

void planner_world_add_configmap(struct planner_world *w, const char *name)
{
    ROOM(w, configmaps, w->world.configmap_count);
    struct kube_configmap *configmap = &w->configmaps[w->world.configmap_count];
    configmap->meta.name = planner_world_keep(w, "%s", name);
    w->configmap_list[w->world.configmap_count++] = configmap;
}

void planner_world_add_class(struct planner_world *w, const char *name, const char *provisioner)
{
    ROOM(w, classes, w->world.storage_class_count);
    struct kube_storage_class *class = &w->classes[w->world.storage_class_count];
    class->meta.name = planner_world_keep(w, "%s", name);
    class->provisioner = provisioner;
    w->class_list[w->world.storage_class_count++] = class;
}

struct kube_node *planner_world_add_node(struct planner_world *w, const char *name, bool ready)
{
    ROOM(w, nodes, w->world.node_list_count);
    struct kube_node *node = &w->nodes[w->world.node_list_count];
    node->meta.name = planner_world_keep(w, "%s", name);
    node->ready = ready ? CONDITION_TRUE : CONDITION_FALSE;
    w->node_list[w->world.node_list_count++] = node;
    return node;
}

const char *planner_world_configmap_name(struct planner_world *w, enum tc_component component)
{
    char name[128];
    if (!build_configmap_name(&w->tc, component, name, sizeof name))
        return "?";
    return planner_world_keep(w, "%s", name);
}

void planner_world_component_exists(struct planner_world *w, enum tc_component component, int count)
{
    const char *kind = tidbcluster_component_name(component);
    if (component != TC_TIKV)
        planner_world_add_service(w, planner_world_keep(w, "basic-%s", kind));
    planner_world_add_service(w, planner_world_keep(w, "basic-%s-peer", kind));
    planner_world_add_configmap(w, planner_world_configmap_name(w, component));
    for (int i = 0; i < count; i++) {
        if (component != TC_TIDB)
            planner_world_add_pvc(w, planner_world_keep(w, "%s-basic-%s-%d", kind, kind, i), "Bound", NULL);
        planner_world_add_pod(w, planner_world_keep(w, "basic-%s-%d", kind, i), "Running", true);
    }
}

void planner_world_parts_fresh(struct planner_world *w)
{
    for (int part = 0; part < PD_PART_COUNT; part++) {
        w->pd.parts[part].ever_succeeded = true;
        w->pd.parts[part].last_error.kind = PD_ERROR_NONE;
    }
}

void planner_world_pd_answers(struct planner_world *w, int count, int healthy, bool leader)
{
    ROOM(w, members, (size_t)count > 0 ? (size_t)count - 1 : 0);
    w->world.pd = &w->pd;
    w->pd.key = "ns/basic";
    planner_world_parts_fresh(w);
    for (int i = 0; i < count; i++) {
        struct pd_member *member = &w->members[i];
        member->name = planner_world_keep(w, "basic-pd-%d", i);
        member->member_id = 1000 + (uint64_t)i;
        w->client_urls[i][0] = planner_world_keep(w, "http://basic-pd-%d.basic-pd-peer.ns.svc:2379", i);
        member->client_urls = w->client_urls[i];
        member->client_url_count = 1;
        w->health[i] = (struct pd_health_entry){ .name = member->name, .member_id = member->member_id,
                                                 .client_url = w->client_urls[i][0], .health = i < healthy };
    }
    w->pd.members.members = w->members;
    w->pd.members.count = (size_t)count;
    w->pd.members.cluster_id = 7;
    w->pd.health.entries = w->health;
    w->pd.health.count = (size_t)count;
    w->pd.members.has_leader = leader && count > 0;
    if (w->pd.members.has_leader)
        w->pd.members.leader = w->members[0];
}

void planner_world_stores_answer(struct planner_world *w, int count, int up)
{
    ROOM(w, stores, (size_t)count > 0 ? (size_t)count - 1 : 0);
    w->pd.bootstrapped = count > 0;
    for (int i = 0; i < count; i++) {
        struct pd_store *store = &w->stores[i];
        *store = (struct pd_store){ .id = 1 + (uint64_t)i, .leader_count = 10 };
        store->address = planner_world_keep(w, "basic-tikv-%d.basic-tikv-peer.ns.svc:20160", i);
        store->state_name = i < up ? PD_STORE_UP : PD_STORE_DOWN;
        store->state_name_text = (char *)(i < up ? "Up" : "Down");
    }
    w->pd.stores.stores = w->stores;
    w->pd.stores.count = (size_t)count;
}

void planner_world_evicting(struct planner_world *w, uint64_t store_id)
{
    ROOM(w, evicted, w->pd.schedulers.evict_leader_count);
    w->evicted[w->pd.schedulers.evict_leader_count++] = store_id;
    w->pd.schedulers.evict_leader_store_ids = w->evicted;
}

void planner_world_cluster_running(struct planner_world *w)
{
    planner_world_component_exists(w, TC_PD, 3);
    planner_world_component_exists(w, TC_TIKV, 3);
    planner_world_component_exists(w, TC_TIDB, 2);
    planner_world_pd_answers(w, 3, 3, true);
    planner_world_stores_answer(w, 3, 3);
}

bool planner_world_run(struct planner_world *w)
{
    plan_free(&w->plan);
    if (!plan_init(&w->plan, "ns", "basic", "u-1"))
        return false;
    return planner_plan(&w->world, &w->plan);
}

char *planner_world_describe(const struct plan *plan)
{
    size_t size = 1;
    char *text = calloc(1, size);
    for (size_t i = 0; text && i < plan->count; i++) {
        char one[256];
        plan_describe_action(&plan->actions[i], one, sizeof one);
        char *grown = realloc(text, size + strlen(one) + 2);
        if (!grown) {
            free(text);
            return NULL;
        }
        text = grown;
        if (i)
            strcat(text, "; ");
        strcat(text, one);
        size += strlen(one) + 2;
    }
    return text;
}

struct kube_pod *planner_world_pod(struct planner_world *w, const char *name)
{
    for (size_t i = 0; i < w->world.pod_count; i++)
        if (w->pod_list[i] && strcmp(w->pod_list[i]->meta.name, name) == 0)
            return (struct kube_pod *)w->pod_list[i];
    return NULL;
}

void planner_world_remove_pod(struct planner_world *w, const char *name)
{
    for (size_t i = 0; i < w->world.pod_count; i++)
        if (w->pod_list[i] && strcmp(w->pod_list[i]->meta.name, name) == 0)
            w->pod_list[i] = NULL;
}

const char *planner_world_event(const struct planner_world *w, const char *reason)
{
    for (size_t i = 0; i < w->plan.count; i++)
        if (w->plan.actions[i].kind == ACTION_EVENT && strcmp(w->plan.actions[i].reason, reason) == 0)
            return w->plan.actions[i].message;
    return NULL;
}
