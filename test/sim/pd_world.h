/*
 * pd_world: one pd_model per TidbCluster, fed by the pods in the simulated
 * store, and advanced on a timer.
 *
 * - Watches every pod labelled app.kubernetes.io/instance=<cluster> and
 *   app.kubernetes.io/component=pd|tikv|tidb. The model of (namespace,
 *   cluster) is made on the first such pod (of any of the three components:
 *   TiKV stores still only register once PD has a leader).
 * - A pod is "running" when status.phase is Running and its Ready condition,
 *   if it has one, is True (a crashed container turns Ready False). A
 *   deleted pod is not running. A running TiDB pod with a
 *   deletionTimestamp is shutting down (its /status answers 500).
 * - Versions come from the image tag of the pod's container named after the
 *   component (else the first container): "pingcap/pd:v8.5.1" -> "v8.5.1".
 * - A pod on a node whose machine is down (pd_world_set_node_down) is not
 *   running either.
 * - The watch callback only updates the models (never writes the store).
 * - Time: with a `clock` in the options the models read it (tests move it
 *   and call pd_world_tick). Without one the world keeps its own clock that
 *   runs at `speed` times real time, moved forward at every tick.
 * - With a loop, pd_world_tick runs every `tick_ms` of real time.
 */
#ifndef TEST_SIM_PD_WORLD_H
#define TEST_SIM_PD_WORLD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "test/sim/pd_model.h"
#include "test/sim/store.h"

struct pd_world_options {
    struct store *store;            /* required; must outlive the world */
    uv_loop_t *loop;                /* NULL: no timer (call pd_world_tick) */
    const struct clock *clock;      /* NULL: the world's own clock (real time x speed) */
    double speed;                   /* own clock only; 0: 1.0 */
    uint64_t tick_ms;               /* 0: 100 */
    struct pd_model_options model;  /* defaults for each model; namespace, cluster and clock are set by the world */
};

struct pd_world;

/* Starts watching (the replay of existing pods runs before this returns).
 * NULL when the watch cannot start or memory runs out. */
struct pd_world *pd_world_start(const struct pd_world_options *options);
/* Stops the watch at once, then releases everything (after the timer has
 * closed, when there is one) and calls `closed` (may be NULL; called
 * directly when there is no loop). */
void pd_world_close(struct pd_world *world, void (*closed)(void *data), void *data);

/* The machine of `node` is down (true) or up again (false): processes of
 * pods on it run no more whatever the pod objects say (a dead machine's
 * TiKV stops heartbeating at once, its PD member stops answering), and run
 * again when it is back. False when out of memory. */
bool pd_world_set_node_down(struct pd_world *world, const char *node, bool down);

/* Advances the own clock (if any) and every model. */
void pd_world_tick(struct pd_world *world);
const struct clock *pd_world_clock(const struct pd_world *world);

struct pd_model *pd_world_find(const struct pd_world *world, const char *namespace,
                               const char *cluster);
/* pd_world_find in the shape of proxy_lookup_fn (data = the world). */
struct pd_model *pd_world_lookup(const char *namespace, const char *cluster, void *world);
size_t pd_world_model_count(const struct pd_world *world);
struct pd_model *pd_world_model_at(const struct pd_world *world, size_t index);

#endif
