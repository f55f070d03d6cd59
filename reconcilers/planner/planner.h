/*
 * planner: decides what to do next for one TidbCluster. A pure function of
 * the observed world (reconcilers/planner/observed.h) into a plan
 * (reconcilers/planner/plan.h): no I/O, no clock but world->now_ms, no state kept
 * between calls. Running it twice on the same world gives the same plan.
 *
 * The caller (the controller) initialises the plan with the cluster's
 * namespace, name and uid, executes it, and calls again whenever the world
 * changes or the plan's requeue_after passes.
 */
#ifndef RECONCILERS_PLANNER_H
#define RECONCILERS_PLANNER_H

#include "reconcilers/planner/observed.h"
#include "reconcilers/planner/plan.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* False only when memory ran out (the plan is then marked incomplete). */
bool planner_plan(const struct observed_cluster *world, struct plan *out);

/* For a TidbCluster that could not even be decoded (`object` is the raw
 * object, `message` the decode error): status condition Ready=False, reason
 * InvalidSpec, with the message, and a Warning Event FailedValidation.
 * Nothing else is touched. */
bool planner_plan_undecodable(const cJSON *object, const char *message, int64_t now_ms,
                              struct plan *out);

#endif
