/*
 * pd_snapshot: what each cluster's PD last said, kept fresh on a schedule,
 * for the planner to read like any other cache.
 *
 * A `pd_snapshots` registry keyed by cluster ("ns/name") owns one snapshot
 * per cluster, each with its own pd_client. One refresh starts five
 * independent parts in parallel, each with its own call timeout:
 *   members    GET /members   (members, PD leader, etcd leader)
 *   health     GET /health    (health per member)
 *   stores     GET /stores?state=0&state=1&state=2 (every store incl. Tombstone)
 *   schedulers GET /schedulers (+ the evict-leader list: evicted store ids)
 *   config     GET /config    (max-replicas, max-store-down-time)
 * A part still in flight when the next refresh is due is not restarted (its
 * timeout bounds it); one slow or failing part never delays the others.
 *
 * Cadence: `fast_interval_ms` while the caller says the cluster is changing
 * (pd_snapshot_set_fast), `slow_interval_ms` otherwise, measured from the
 * start of the previous refresh. pd_snapshot_refresh_now starts the parts at
 * once; a part already in flight runs again as soon as it finishes (its
 * answer may predate the change the caller just made).
 *
 * Errors never stop the schedule. A failed part keeps its last good data and
 * records the error (parts[].last_error) and the time of its last success,
 * so the planner can tell "PD said so 2 s ago" from "PD has not answered for
 * 5 minutes". Before TiKV bootstraps, PD refuses /stores and /schedulers with
 * "not bootstrapped": that is a valid answer (bootstrapped = false, no
 * stores, no schedulers), not an error.
 *
 * Change notification: on_change(key) fires (from the loop) when a part's
 * answer differs from the last in something the planner reads — members
 * (name, id, first client and peer URL), leaders, health flags, stores (id,
 * address, state, state name, leader count, tiflash, transfer-in pause),
 * evicted store ids, config values, bootstrapped — or when a part's error
 * starts, stops or changes kind/status/reason. Heartbeat times, region
 * counts and byte sizes move on every poll and never fire it. The callback
 * may call any registry function, including removing that cluster.
 *
 * Ownership: the registry copies keys and URLs; it owns every snapshot and
 * its data. Pointers from pd_snapshots_get and pd_snapshot_data stay valid
 * until the snapshot is removed; the data they show changes only inside loop
 * callbacks (never while the planner runs). pd_snapshots_close removes
 * everything, closes the timer and calls on_closed; no on_change fires
 * after it.
 */
#ifndef PD_PD_SNAPSHOT_H
#define PD_PD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "pd/pd_client.h"
#include "pd/pd_decode.h"
#include "pd/pd_snapshot_data.h"
#include "reactor/clock.h"
#include "reactor/http_client.h"
#include "reactor/metrics.h"



struct pd_snapshots_options {
    uv_loop_t *loop;                 /* required */
    struct http_client *http;        /* required; must outlive the registry's calls */
    const struct clock *clock;       /* NULL: clock_system() */
    uint64_t fast_interval_ms;       /* 0: 2 s */
    uint64_t slow_interval_ms;       /* 0: 30 s */
    uint64_t call_timeout_ms;        /* per part; 0: 5 s */
    struct metrics_registry *metrics; /* optional: PD request metrics are registered in it */
    void (*on_change)(const char *key, void *user_data); /* optional */
    void *user_data;
};

struct pd_snapshots;
struct pd_snapshot;

/* NULL on bad options or allocation failure. */
struct pd_snapshots *pd_snapshots_create(const struct pd_snapshots_options *options);
/* Removes every snapshot (no on_change after this), closes the timer, frees
 * the registry, then calls on_closed (may be NULL) from the loop. */
void pd_snapshots_close(struct pd_snapshots *snapshots, void (*on_closed)(void *user_data),
                        void *user_data);

/* Adds the cluster `key` polling PD at `base_url` (see pd_base_url) with an
 * optional TLS profile, and refreshes it at once. If the key exists with
 * the same URL and profile, it is returned as is; with another URL or
 * profile its client is replaced and it refreshes at once. NULL on OOM. */
struct pd_snapshot *pd_snapshots_add(struct pd_snapshots *snapshots, const char *key,
                                     const char *base_url, struct http_client_profile *profile);
/* False when the key is unknown. Frees the snapshot at once; its calls in
 * flight are cancelled and never reported. */
bool pd_snapshots_remove(struct pd_snapshots *snapshots, const char *key);
struct pd_snapshot *pd_snapshots_get(const struct pd_snapshots *snapshots, const char *key);
size_t pd_snapshots_count(const struct pd_snapshots *snapshots);
/* The PD request metrics the registry registered (NULL without a metrics
 * registry), for tidb_status_get and ad-hoc pd_clients of the same process. */
struct pd_metrics *pd_snapshots_metrics(const struct pd_snapshots *snapshots);

const struct pd_snapshot_data *pd_snapshot_data(const struct pd_snapshot *snapshot);
/* Fast cadence while the cluster is changing; switching to fast brings the
 * next refresh forward (never later than fast_interval after the last). */
void pd_snapshot_set_fast(struct pd_snapshot *snapshot, bool fast);
void pd_snapshot_refresh_now(struct pd_snapshot *snapshot);
/* The operator is about to write to this PD (the data's written_ms is now);
 * call pd_snapshot_refresh_now once the write finished. */
void pd_snapshot_note_write(struct pd_snapshot *snapshot);
/* The pd_client the snapshot polls with, for actions on the same cluster. */
struct pd_client *pd_snapshot_client(struct pd_snapshot *snapshot);

#endif
