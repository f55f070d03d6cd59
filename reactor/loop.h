/*
 * loop: the process's one libuv loop, with an orderly stop.
 *
 * A program makes one `struct loop`, lets each component register a stop hook
 * (loop_on_stop), then calls loop_run. SIGTERM or SIGINT (or loop_request_stop)
 * begins the stop: the hooks are called one at a time, newest first (the next
 * only once the previous component reported, so a component may still use
 * the ones registered before it while it stops); each component stops
 * accepting work, finishes or cancels what is in flight, closes its handles
 * and then calls loop_stop_done(loop). When every hook has reported,
 * the loop closes its own handles and loop_run returns 0. If some component
 * has not reported within the stop deadline, the loop closes every handle
 * still open itself and loop_run returns 1, so the process always exits in
 * bounded time.
 *
 * loop_init also sets SIGPIPE to be ignored for the whole process: a peer
 * that closes its socket mid-write costs that connection an EPIPE, never the
 * process.
 *
 * The caller owns `struct loop` (embed it or allocate it) and must call
 * loop_close after loop_run returns. Hooks are stored by value; their `data`
 * stays the caller's.
 */
#ifndef REACTOR_LOOP_H
#define REACTOR_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define LOOP_MAX_STOP_HOOKS 32

struct loop;
typedef void (*loop_stop_fn)(struct loop *loop, void *data);

struct loop_stop_hook {
    const char *name;
    loop_stop_fn stop;
    void *data;
};

struct loop {
    uv_loop_t uv;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t deadline;
    uint64_t stop_deadline_ms;
    struct loop_stop_hook hooks[LOOP_MAX_STOP_HOOKS];
    int hook_count;
    int hooks_pending;
    bool stopping;
    bool forced;
    int signal_received;  /* the signal that began the stop, 0 if none */
};

/* Initialises the uv loop and the signal watchers. 0 or a negative uv error. */
int loop_init(struct loop *loop, uint64_t stop_deadline_ms);
/* Registers a stop hook; false when LOOP_MAX_STOP_HOOKS are registered. */
bool loop_on_stop(struct loop *loop, const char *name, loop_stop_fn stop, void *data);
/* Begins the stop (idempotent). Safe from any loop callback. */
void loop_request_stop(struct loop *loop);
/* A stop hook's component reports that it has closed everything. */
void loop_stop_done(struct loop *loop);
/* Runs until stopped; 0 after a clean stop, 1 if the deadline forced it. */
int loop_run(struct loop *loop);
/* Releases the uv loop; 0, or a negative uv error if handles were left open. */
int loop_close(struct loop *loop);

#endif
