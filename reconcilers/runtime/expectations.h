/*
 * expectations: the pod deletes the operator sent that its pod cache does
 * not show yet (client-go's controller expectations, for deletes).
 *
 * The caches lag the API server: right after the executor deleted a PD or
 * TiKV pod, the next pass could still see that pod running and start a
 * second disruption (rule one_disruption_at_a_time judges by terminating
 * pods). Found by the deterministic simulation (test/dst seed 698). The
 * controller remembers each plan's pod deletes and does not plan the
 * cluster again until the cache shows every one of them — the pod gone,
 * replaced (another uid) or terminating — or until a deadline passes (a
 * delete that never happened must not stall the cluster for long).
 *
 * Keyed by the cluster's work-queue key ("ns/name"). Pure: no loop, no
 * I/O; the pod cache and the time are the caller's. Ownership: the
 * expectations own their entries and copies of every string.
 */
#ifndef RECONCILERS_RUNTIME_EXPECTATIONS_H
#define RECONCILERS_RUNTIME_EXPECTATIONS_H

#include "reconcilers/planner/plan.h"
#include "watchers/cache.h"

#include <stdbool.h>
#include <stdint.h>

struct expectations;

/* NULL on out of memory. */
struct expectations *expectations_new(void);
void expectations_free(struct expectations *expectations);

/* Remembers the pod deletes of `plan` (in its namespace) for `key`, until
 * `deadline_ms`, added to what is remembered already. A plan without pod
 * deletes changes nothing. False on out of memory (nothing is then
 * remembered for this plan: the operator is as it was before). */
bool expectations_expect(struct expectations *expectations, const char *key, const struct plan *plan,
                         uint64_t deadline_ms);
/* True while a remembered delete of `key` is not seen in `pods` at
 * `now_ms` before its deadline; once all are seen (or past the deadline)
 * the key is forgotten and this is false. */
bool expectations_pending(struct expectations *expectations, const char *key, const struct cache *pods,
                          uint64_t now_ms);
/* Forgets `key` (its run failed, or the cluster is gone). */
void expectations_forget(struct expectations *expectations, const char *key);
/* Keys remembered now (tests). */
size_t expectations_count(const struct expectations *expectations);

#endif
