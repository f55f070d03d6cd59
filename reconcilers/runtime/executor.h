/*
 * executor: carries out a plan's actions asynchronously, all at once (the
 * planner only puts independent actions in one plan), and reports when every
 * one has finished.
 *
 * Safety: before it starts any action the executor asks `may_write` (the
 * leader check); when it says no, nothing is sent and the run reports
 * `refused`. executor_cancel_all cancels everything in flight, for the moment
 * the lease is lost: no write starts after that, and the ones in flight are
 * abandoned (their results are ignored).
 *
 * Events are core/v1 Events about the TidbCluster (involvedObject with its
 * uid). An event with the same cluster, type, reason and message as one sent
 * in the last `event_dedup_ms` is not sent again, so a level-triggered
 * planner that re-emits a waiting message on every pass does not flood.
 *
 * Results: `done` fires once per run, from the loop, never inside
 * executor_run. It gets counts and the first error's text; 409 Conflict and
 * 404 on delete / 409 on create (AlreadyExists) are counted apart, since the
 * next plan resolves them.
 *
 * Ownership: executor_run takes the plan (freed when the run ends). The kube
 * client and loop are borrowed.
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
    struct metrics_registry *metrics; /* optional: executor_actions_total{kind,result} */
};

struct executor_result {
    size_t succeeded;
    size_t failed;       /* errors other than the benign ones below */
    size_t benign;       /* conflicts, already exists, already gone, deduplicated events */
    bool refused;        /* not leader: nothing was started */
    bool incomplete;     /* the plan was incomplete: nothing was started */
    char first_error[512];
};

typedef void (*executor_done_fn)(const struct executor_result *result, void *data);

int executor_new(const struct executor_options *options, struct executor **out);
/* Starts every action of `plan` (taken). 0, or -ENOMEM (then `done` still fires). */
int executor_run(struct executor *executor, struct plan *plan, executor_done_fn done, void *data);
/* Cancels every action in flight; their runs complete with what had finished. */
void executor_cancel_all(struct executor *executor);
size_t executor_in_flight(const struct executor *executor);
/* Cancels everything, then frees; `done` callbacks of unfinished runs still
 * fire (from the loop) before `closed`. */
void executor_close(struct executor *executor, void (*closed)(void *data), void *data);

#endif
