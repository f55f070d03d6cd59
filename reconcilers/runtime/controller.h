/*
 * controller: the TidbCluster control loop — changes seen in the shared
 * caches (reconcilers/runtime/manager.h) map to cluster keys in the work
 * queue (watchers/enqueue.h: labelled objects by their cluster, nodes by
 * the pods and claims on them, PVs by their bound claim; storage-class
 * changes requeue every cluster), each key is planned
 * (reconcilers/planner/planner.h) from the caches and the cluster's PD
 * snapshot, and the plan is executed (reconcilers/runtime/executor.h);
 * completions requeue. The controller owns no informer: it borrows the
 * manager's caches and registers its handlers there.
 *
 * Safety rules enforced here:
 * - caches-synced: no plan runs before every cache of the manager has
 *   synced (rule 5; the readiness condition itself is the manager's);
 * - lease: no plan runs and no write starts unless `may_write` says so; when
 *   leadership is lost (controller_set_leading false) every write in flight
 *   is cancelled at once (rule 6).
 *
 * It starts a PD snapshot poller per cluster with a PD component when the
 * cluster is first planned and stops it when the cluster is gone.
 *
 * Ownership: everything in the options is borrowed and must outlive the
 * controller (the manager too: close the controller first);
 * controller_close removes its handlers from the manager at once, then
 * stops the queue, the PD snapshots and the executor, and calls `closed`
 * from the loop.
 */
#ifndef RECONCILERS_CONTROLLER_H
#define RECONCILERS_CONTROLLER_H

#include "reactor/clock.h"
#include "reactor/http_client.h"
#include "reactor/metrics.h"
#include "reconcilers/api/tidbcluster.h"
#include "reconcilers/runtime/manager.h"
#include "watchers/kube_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct controller;

struct controller_options {
    uv_loop_t *loop;
    struct manager *manager;           /* the shared caches (required) */
    struct kube_client *client;        /* writes */
    struct http_client *http;          /* PD and TiDB calls */
    const struct clock *clock;         /* NULL: the system clock */
    struct metrics_registry *metrics;  /* optional */
    unsigned workers;                  /* clusters reconciled at once; 0: 4 */
    uint64_t pd_fast_interval_ms;      /* 0: 2 s */
    uint64_t pd_slow_interval_ms;      /* 0: 30 s */
    uint64_t resync_ms;                /* every cluster replanned at least this often; 0: 60 s */
    size_t max_actions_in_flight;      /* the executor's budget, shared fairly by clusters; 0: 64 */
    uint64_t failover_period_ms[TC_COMPONENT_COUNT]; /* a member failed this long is replaced; 0: 5 min */
    bool (*may_write)(void *data);     /* NULL: always (no leader election) */
    void *data;
};

int controller_start(const struct controller_options *options, struct controller **out);
/* Leadership changed: on gaining it every cluster is queued; on losing it
 * every write in flight is cancelled. */
void controller_set_leading(struct controller *controller, bool leading);
void controller_close(struct controller *controller, void (*closed)(void *data), void *data);

#endif
