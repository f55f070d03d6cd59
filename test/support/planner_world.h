/*
 * planner_world: hand-built observed worlds for the planner's tests — the
 * member-table world builder. A test loads a TidbCluster, adds the objects
 * and PD answers the case is about, runs the planner (or builds a member
 * table, or calls the arbiter) and reads the plan back as text.
 *
 * Everything lives in one caller-owned `struct planner_world` of fixed
 * capacity (PLANNER_WORLD_MAX objects of each kind): strings the builder
 * makes are kept in its text arena, so a world needs no cleanup beyond
 * planner_world_done (the decoded cluster and the plan). Running past a
 * capacity aborts the test program (a test bug, not an input).
 */
#ifndef TEST_SUPPORT_PLANNER_WORLD_H
#define TEST_SUPPORT_PLANNER_WORLD_H

#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/planner/observed.h"
#include "reconcilers/planner/plan.h"

#include <stdbool.h>
#include <stddef.h>

#define PLANNER_WORLD_MAX 32
#define PLANNER_WORLD_NOW_MS 1795000000000LL
#define PLANNER_WORLD_NOW_TEXT "2026-11-18T11:06:40Z"

/* The cluster of most cases: ns/basic, PD 3, TiKV 3, TiDB 2. */
extern const char *const planner_world_basic_json;

struct planner_world {
    struct tidbcluster tc;
    struct kube_pod pods[PLANNER_WORLD_MAX];
    const struct kube_pod *pod_list[PLANNER_WORLD_MAX];
    struct kube_pvc pvcs[PLANNER_WORLD_MAX];
    const struct kube_pvc *pvc_list[PLANNER_WORLD_MAX];
    struct kube_service services[PLANNER_WORLD_MAX];
    const struct kube_service *service_list[PLANNER_WORLD_MAX];
    struct kube_configmap configmaps[PLANNER_WORLD_MAX];
    const struct kube_configmap *configmap_list[PLANNER_WORLD_MAX];
    struct kube_label pod_annotations[PLANNER_WORLD_MAX][2];
    struct kube_pv pvs[PLANNER_WORLD_MAX];
    const struct kube_pv *pv_list[PLANNER_WORLD_MAX];
    struct kube_storage_class classes[4];
    const struct kube_storage_class *class_list[4];
    struct kube_node nodes[8];
    const struct kube_node *node_list[8];
    struct pd_snapshot_data pd;
    struct pd_member members[8];
    char *client_urls[8][1];
    struct pd_health_entry health[8];
    struct pd_store stores[PLANNER_WORLD_MAX];
    uint64_t evicted[8];
    struct observed_cluster world;
    char text[160][160];
    size_t text_count;
    struct plan plan;
};

/* Clears `w` and loads `json` (NULL: the basic cluster), decoded with
 * defaults. False (and a test failure) when it does not decode. */
bool planner_world_init(struct planner_world *w, const char *json);
/* Replaces the cluster (same objects); false when it does not decode. */
bool planner_world_load(struct planner_world *w, const char *json);
void planner_world_done(struct planner_world *w);

/* A string kept until the next planner_world_init. */
char *planner_world_keep(struct planner_world *w, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Pods are on node "node-1" unless Pending. */
struct kube_pod *planner_world_add_pod(struct planner_world *w, const char *name, const char *phase, bool ready);
struct kube_pvc *planner_world_add_pvc(struct planner_world *w, const char *name, const char *phase,
                                       const char *storage_class);
/* A volume bound to `pvc` (its volume_name is set). */
struct kube_pv *planner_world_add_pv(struct planner_world *w, struct kube_pvc *pvc, const char *name);
/* Sets an annotation of a pod built by planner_world_add_pod (at most 2). */
void planner_world_pod_annotate(struct planner_world *w, struct kube_pod *pod, const char *key, const char *value);
void planner_world_add_service(struct planner_world *w, const char *name);
void planner_world_add_configmap(struct planner_world *w, const char *name);
void planner_world_add_class(struct planner_world *w, const char *name, const char *provisioner);
/* A node in the world's node list (the member table's node facts). */
struct kube_node *planner_world_add_node(struct planner_world *w, const char *name, bool ready);
/* The cluster's configmap name of `component`, kept. */
const char *planner_world_configmap_name(struct planner_world *w, enum tc_component component);

/* Everything of a component exists: services, configmap, `count` members
 * (PVC Bound, pod Running and Ready). */
void planner_world_component_exists(struct planner_world *w, enum tc_component component, int count);
/* Every part of the PD snapshot answered. */
void planner_world_parts_fresh(struct planner_world *w);
/* PD answers: `count` members basic-pd-0.., the first `healthy` healthy,
 * basic-pd-0 leader when `leader`. */
void planner_world_pd_answers(struct planner_world *w, int count, int healthy, bool leader);
/* Stores 1..count of basic-tikv-0.., the first `up` Up, the rest Down;
 * each holds 10 leaders. */
void planner_world_stores_answer(struct planner_world *w, int count, int up);
/* An evict-leader scheduler for store `store_id`. */
void planner_world_evicting(struct planner_world *w, uint64_t store_id);
/* A whole running cluster as the world sees it after bring-up. */
void planner_world_cluster_running(struct planner_world *w);

/* The world's pod named `name`, NULL when none. */
struct kube_pod *planner_world_pod(struct planner_world *w, const char *name);
/* The pod named `name` is gone from the world. */
void planner_world_remove_pod(struct planner_world *w, const char *name);
/* The message of the plan's first Event with `reason`, or NULL. */
const char *planner_world_event(const struct planner_world *w, const char *reason);

/* Checks that the plan of world `w` reads `expected` (planner_world_describe;
 * the including test has test/support/test.h). */
#define PLANNER_WORLD_CHECK_PLAN(w, expected)                                                     \
    do {                                                                                          \
        char *plan_text_ = planner_world_describe(&(w)->plan);                                    \
        CHECK_STR(plan_text_, expected);                                                          \
        free(plan_text_);                                                                         \
    } while (0)

/* Runs the planner into w->plan (freed and re-initialised first). */
bool planner_world_run(struct planner_world *w);
/* "create pods basic-pd-0; event Normal Created; ..." (malloc'd; NULL on
 * out of memory). */
char *planner_world_describe(const struct plan *plan);

#endif
