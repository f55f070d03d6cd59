/*
 * executor: carries out a plan's actions asynchronously (the planner only
 * puts independent actions in one plan) and reports when every one has
 * finished.
 *
 * Sharing the budget: at most `max_in_flight` actions, of all runs together,
 * are started and not finished; the rest wait in a fair queue
 * (reconcilers/runtime/fair_queue.h) with one flow per run, that is per
 * cluster. Each time a place frees, the next run in round-robin order starts
 * its next action, so a run with a long backlog gets one turn per round and
 * the first action of a run queued behind it waits at most one round (one
 * action of each run already waiting). Actions of one run start in plan
 * order. Kubernetes writes and PD calls share the one budget.
 *
 * Safety: `may_write` (the leader check) is asked before the run is queued
 * and again before each action starts. When it says no nothing more is
 * sent: every queued action of every run is dropped, and the runs report
 * `refused` with `not_started` counting what was never sent (a run refused at
 * executor_run sent nothing). executor_cancel_all, for the moment the lease
 * is lost, drops the queued actions the same way and cancels the ones in
 * flight (their results then count as failures); no write starts after it
 * until a later executor_run.
 *
 * Events are core/v1 Events about the TidbCluster (involvedObject with its
 * uid). An event with the same cluster, type, reason and message as one sent
 * in the last `event_dedup_ms` is not sent again, so a level-triggered
 * planner that re-emits a waiting message on every pass does not flood.
 *
 * Results: `done` fires once per run, from the loop, never inside
 * executor_run (except when executor_run finds no memory for the run: then
 * inside it, before it returns -ENOMEM). It gets counts and the first error's
 * text; 409 Conflict and 404 on delete / 409 on create (AlreadyExists) are
 * counted apart, since the next plan resolves them. succeeded + failed +
 * benign + not_started is the plan's action count (out of memory for the
 * run's steps is one failure instead).
 *
 * Metrics, with a registry: tidb_operator_actions_total{kind,result}, and
 * the gauges tidb_operator_actions_in_flight and tidb_operator_actions_queued
 * (set at each scrape).
 *
 * Ownership: executor_run takes the plan (freed when the run ends). The kube
 * client, loop and metrics registry are borrowed.
 */
#ifndef RECONCILERS_EXECUTOR_H
#define RECONCILERS_EXECUTOR_H

#include "pd/pd_client.h"
#include "reactor/clock.h"
#include "reactor/metrics.h"
#include "reconcilers/planner/plan.h"
#include "watchers/kube_client.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct executor;

struct executor_options {
    uv_loop_t *loop;
    struct kube_client *client;
    const struct clock *clock;   /* NULL: the system clock */
    /* The leader check; NULL: always allowed. */
    bool (*may_write)(void *data);
    /* The PD client of a cluster, NULL when none (its PD actions then fail). */
    struct pd_client *(*pd_client_for)(void *data, const char *namespace, const char *cluster);
    void *data;
    uint64_t event_dedup_ms;     /* 0: 10 minutes */
    const char *component;       /* Event source; NULL: "tidb-operator" */
    struct metrics_registry *metrics; /* optional: see Metrics above */
    size_t max_in_flight;        /* actions started and not finished, all runs; 0: 64 */
};

struct executor_result {
    size_t succeeded;
    size_t failed;       /* errors other than the benign ones below */
    size_t benign;       /* conflicts, already exists, already gone, deduplicated events */
    size_t not_started;  /* queued actions dropped: lease lost, cancel_all or close */
    bool refused;        /* the lease was lost (may_write said no, or cancel_all / close
                          * came) before every action had started */
    bool incomplete;     /* the plan was incomplete: nothing was started */
    char first_error[512];
};

typedef void (*executor_done_fn)(const struct executor_result *result, void *data);

int executor_new(const struct executor_options *options, struct executor **out);
/* Queues every action of `plan` (taken) and starts those the budget allows
 * now. 0, or -ENOMEM (then `done` still fires). */
int executor_run(struct executor *executor, struct plan *plan, executor_done_fn done, void *data);
/* Drops every queued action and cancels every one in flight; their runs
 * complete with what had finished. */
void executor_cancel_all(struct executor *executor);
/* Actions started and not finished (at most max_in_flight). */
size_t executor_in_flight(const struct executor *executor);
/* Actions waiting for their turn. */
size_t executor_queued(const struct executor *executor);
/* Cancels everything (as executor_cancel_all), then frees; `done` callbacks
 * of unfinished runs still fire (from the loop) before `closed`. */
void executor_close(struct executor *executor, void (*closed)(void *data), void *data);

#endif
