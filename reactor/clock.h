/*
 * clock: where time comes from. Everything that schedules or measures time
 * (work queue delays and backoff, rate limiters, leader election, PD polling)
 * reads a `struct clock` it is given instead of the system clock, so tests
 * can run on a fake clock and move time by hand.
 *
 * clock_system() is the real monotonic clock (milliseconds since an arbitrary
 * start, never going back) plus wall time. A fake clock starts at the times
 * given and changes only through clock_fake_advance.
 *
 * Wall times travel as Unix milliseconds; clock_format_rfc3339 and
 * clock_parse_rfc3339 are the one place that turns them into RFC 3339 text
 * and back (object timestamps, Lease times, log lines, PD's JSON). Both are
 * pure (no time zone, no locale, no allocation) and cover the years
 * 0000-9999 of the proleptic Gregorian calendar, in UTC.
 */
#ifndef REACTOR_CLOCK_H
#define REACTOR_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock {
    /* Monotonic milliseconds. */
    uint64_t (*now_ms)(const struct clock *clock);
    /* Wall-clock milliseconds since the Unix epoch (timestamps in objects). */
    int64_t (*wall_ms)(const struct clock *clock);
    /* Fake clocks only: current values. */
    uint64_t fake_now_ms;
    int64_t fake_wall_ms;
};

/* The process-wide system clock; never freed. */
const struct clock *clock_system(void);
/* Initialises `clock` as a fake clock at the given times. */
void clock_fake_init(struct clock *clock, uint64_t now_ms, int64_t wall_ms);
void clock_fake_advance(struct clock *clock, uint64_t ms);

/* How many fractional digits clock_format_rfc3339 writes. */
enum clock_rfc3339_precision {
    CLOCK_RFC3339_SECONDS, /* "2026-11-21T19:55:07Z": Go's time.RFC3339 (metav1.Time) */
    CLOCK_RFC3339_MILLIS,  /* "2026-11-21T19:55:07.120Z": always three digits (log lines) */
    CLOCK_RFC3339_MICROS,  /* "2026-11-21T19:55:07.120000Z": metav1.MicroTime (Leases) */
    CLOCK_RFC3339_TRIMMED, /* "2026-11-21T19:55:07.12Z": Go's RFC3339Nano, trailing
                              zeros dropped and no point for a whole second (PD) */
};

/* Room for the longest text clock_format_rfc3339 writes, with its NUL. */
#define CLOCK_RFC3339_SIZE 32

/* Writes `unix_ms` (rounded down to the precision) as RFC 3339 in UTC into
 * `out`. False, with `out` emptied when size > 0, when the year is outside
 * 0000-9999 or `size` is too small (CLOCK_RFC3339_SIZE always suffices). */
bool clock_format_rfc3339(int64_t unix_ms, enum clock_rfc3339_precision precision, char *out,
                          size_t size);

/* Parses RFC 3339 ("2026-11-21T19:55:07Z"; 'T' or 't'; any number of
 * fractional digits, read to the millisecond and the rest dropped; 'Z', 'z' or
 * an offset "+02:00") into Unix milliseconds. False, with *unix_ms left alone,
 * for NULL or anything else, a date that does not exist included. */
bool clock_parse_rfc3339(const char *text, int64_t *unix_ms);

static inline uint64_t clock_now_ms(const struct clock *clock) { return clock->now_ms(clock); }
static inline int64_t clock_wall_ms(const struct clock *clock) { return clock->wall_ms(clock); }

#endif
