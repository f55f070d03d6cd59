#include "reactor/loop.h"

#include "reactor/log.h"

#include <errno.h>
#include <signal.h>

static void begin_stop(struct loop *loop);

static void on_signal(uv_signal_t *handle, int signum)
{
    struct loop *loop = handle->data;
    if (!loop->stopping) {
        loop->signal_received = signum;
        log_info("stop requested", "signal=%s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    begin_stop(loop);
}

static void close_own_handles(struct loop *loop)
{
    uv_handle_t *own[] = { (uv_handle_t *)&loop->sigterm, (uv_handle_t *)&loop->sigint,
                           (uv_handle_t *)&loop->deadline };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (!uv_is_closing(own[i])) uv_close(own[i], NULL);
}

static void close_any(uv_handle_t *handle, void *data)
{
    (void)data;
    if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

static void on_deadline(uv_timer_t *timer)
{
    struct loop *loop = timer->data;
    log_error("stop deadline passed; closing remaining handles", "pending_components=%d",
              loop->hooks_pending);
    loop->forced = true;
    uv_walk(&loop->uv, close_any, NULL);
}

static void begin_stop(struct loop *loop)
{
    if (loop->stopping) return;
    loop->stopping = true;
    loop->hooks_pending = loop->hook_count;
    if (loop->hooks_pending == 0) {
        close_own_handles(loop);
        return;
    }
    uv_timer_start(&loop->deadline, on_deadline, loop->stop_deadline_ms, 0);
    /* One at a time, newest first: a component registered later usually
     * uses earlier ones (the lease release needs the HTTP client). */
    struct loop_stop_hook *hook = &loop->hooks[loop->hooks_pending - 1];
    hook->stop(loop, hook->data);
}

int loop_init(struct loop *loop, uint64_t stop_deadline_ms)
{
    *loop = (struct loop){ .stop_deadline_ms = stop_deadline_ms };
    /* A peer that closes its socket while we write to it (a client killed
     * mid-response, a scraper that gave up) must cost that connection an
     * EPIPE, never the process: libuv writes with plain write(2). */
    struct sigaction ignore = { .sa_handler = SIG_IGN };
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, NULL) != 0) return uv_translate_sys_error(errno);
    int rc = uv_loop_init(&loop->uv);
    if (rc != 0) return rc;
    uv_signal_init(&loop->uv, &loop->sigterm);
    uv_signal_init(&loop->uv, &loop->sigint);
    uv_timer_init(&loop->uv, &loop->deadline);
    loop->sigterm.data = loop->sigint.data = loop->deadline.data = loop;
    if ((rc = uv_signal_start(&loop->sigterm, on_signal, SIGTERM)) != 0 ||
        (rc = uv_signal_start(&loop->sigint, on_signal, SIGINT)) != 0) {
        close_own_handles(loop);
        uv_run(&loop->uv, UV_RUN_DEFAULT);
        uv_loop_close(&loop->uv);
        return rc;
    }
    /* Signals alone must not keep the loop alive once components are gone. */
    uv_unref((uv_handle_t *)&loop->sigterm);
    uv_unref((uv_handle_t *)&loop->sigint);
    return 0;
}

bool loop_on_stop(struct loop *loop, const char *name, loop_stop_fn stop, void *data)
{
    if (loop->hook_count >= LOOP_MAX_STOP_HOOKS || !stop) return false;
    loop->hooks[loop->hook_count++] = (struct loop_stop_hook){ name, stop, data };
    return true;
}

void loop_request_stop(struct loop *loop) { begin_stop(loop); }

void loop_stop_done(struct loop *loop)
{
    if (!loop->stopping || loop->hooks_pending <= 0) return;
    if (--loop->hooks_pending == 0) {
        close_own_handles(loop);
        return;
    }
    struct loop_stop_hook *hook = &loop->hooks[loop->hooks_pending - 1];
    hook->stop(loop, hook->data);
}

int loop_run(struct loop *loop)
{
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    /* Everything stopped by itself (no hook ever asked for): tidy up anyway. */
    if (!loop->stopping) {
        loop->stopping = true;
        close_own_handles(loop);
        uv_run(&loop->uv, UV_RUN_DEFAULT);
    }
    return loop->forced ? 1 : 0;
}

int loop_close(struct loop *loop)
{
    uv_walk(&loop->uv, close_any, NULL);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    return uv_loop_close(&loop->uv);
}
