/*
 * controller: the TidbCluster control loop — informers feed compact caches,
 * every change maps to a cluster key in the work queue, each key is planned
 * (reconcilers/planner/planner.h) from the caches and the cluster's PD snapshot, and
 * the plan is executed (reconcilers/runtime/executor.h); completions requeue.
 *
 * Safety rules enforced here:
 * - caches-synced: no plan runs before every informer has synced (rule 5);
 * - lease: no plan runs and no write starts unless `may_write` says so; when
 *   leadership is lost (controller_set_leading false) every write in flight
 *   is cancelled at once (rule 6).
 *
 * Readiness: the condition "caches-synced" is registered on `health`.
 *
 * Ownership: everything in the options is borrowed and must outlive the
 * controller; controller_close stops the informers, the queue, the PD
 * snapshots and the executor, then calls `closed` from the loop.
 */
#ifndef RECONCILERS_CONTROLLER_H
#define RECONCILERS_CONTROLLER_H

#include "reactor/clock.h"
#include "reactor/health.h"
#include "reactor/http_client.h"
#include "reactor/metrics.h"
#include "watchers/kube_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct controller;

struct controller_options {
    uv_loop_t *loop;
    struct kube_client *client;
    struct http_client *http;          /* PD and TiDB calls */
    const struct clock *clock;         /* NULL: the system clock */
    struct metrics_registry *metrics;  /* optional */
    struct health *health;             /* optional */
    const char *namespace;             /* NULL or "": every namespace */
    unsigned workers;                  /* clusters reconciled at once; 0: 4 */
    uint64_t pd_fast_interval_ms;      /* 0: 2 s */
    uint64_t pd_slow_interval_ms;      /* 0: 30 s */
    uint64_t resync_ms;                /* every cluster replanned at least this often; 0: 60 s */
    bool (*may_write)(void *data);     /* NULL: always (no leader election) */
    void *data;
};

int controller_start(const struct controller_options *options, struct controller **out);
/* Leadership changed: on gaining it every cluster is queued; on losing it
 * every write in flight is cancelled. */
void controller_set_leading(struct controller *controller, bool leading);
bool controller_synced(const struct controller *controller);
void controller_close(struct controller *controller, void (*closed)(void *data), void *data);

#endif
