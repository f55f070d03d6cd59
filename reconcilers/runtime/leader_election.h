/*
 * leader_election: Lease-based leader election (coordination.k8s.io/v1), the
 * algorithm of client-go's leaderelection package, on our loop.
 *
 * A candidate looks at the Lease every retry period (with jitter): it takes
 * the Lease when nobody holds it or when the holder's record has not changed
 * for a whole lease duration as measured on the LOCAL clock (the server's
 * renewTime is never compared with our clock). Every write carries the
 * resourceVersion it read, so two candidates racing get a 409 and one wins.
 * The leader renews every retry period; when it has not renewed successfully
 * for the renew deadline it steps down AT ONCE (on_stopped_leading), before
 * any other candidate can take over (renew deadline < lease duration), and
 * goes back to being a candidate.
 *
 * leader_election_close releases the Lease when leading (holderIdentity "",
 * leaseDurationSeconds 1) so a standby takes over at once, then calls
 * `closed`. on_stopped_leading fires before the release is sent: it is the
 * one callback that runs inside a call (leader_election_close), so that the
 * caller's writes stop before close returns.
 *
 * Other callbacks fire from the loop, never from inside a leader_election_* call.
 * The kube client, loop and clock are borrowed and must outlive the elector;
 * strings in the options are copied.
 */
#ifndef RECONCILERS_LEADER_ELECTION_H
#define RECONCILERS_LEADER_ELECTION_H

#include "reactor/clock.h"
#include "watchers/kube_client.h"

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct leader_election;

struct leader_election_options {
    uv_loop_t *loop;
    struct kube_client *client;
    const struct clock *clock;     /* NULL: the system clock */
    const char *namespace;         /* of the Lease */
    const char *name;              /* of the Lease */
    const char *identity;          /* this candidate, unique among replicas */
    uint64_t lease_duration_ms;    /* 0: 15 s */
    uint64_t renew_deadline_ms;    /* 0: 10 s */
    uint64_t retry_period_ms;      /* 0: 2 s */
    uint64_t random_seed;          /* jitter; 0: from the clock */
    void (*on_started_leading)(void *data);
    void (*on_stopped_leading)(void *data);
    /* The observed holder changed ("" when nobody holds it). */
    void (*on_new_leader)(const char *identity, void *data);
    void *data;
};

/* 0 and *out, -EINVAL for missing or inconsistent options (durations must
 * satisfy lease > renew deadline > 1.2 × retry period), or -ENOMEM. */
int leader_election_start(const struct leader_election_options *options,
                          struct leader_election **out);
bool leader_election_is_leader(const struct leader_election *election);
/* The holder last observed ("" when none or unknown). */
const char *leader_election_holder(const struct leader_election *election);
/* Stops, releases the Lease if leading, then calls `closed` (may be NULL). */
void leader_election_close(struct leader_election *election, void (*closed)(void *data),
                           void *data);

/* MicroTime text ("2026-11-21T20:15:00.123000Z") for Unix milliseconds:
 * clock_format_rfc3339 at CLOCK_RFC3339_MICROS. */
void leader_election_format_time(int64_t unix_ms, char *out, size_t size);

#endif
