#include "reactor/loop.h"
#include "test/support/test.h"

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

/* A component with a timer that ticks forever until stopped, and whose stop
 * takes `stop_delay_ms` (a flush) before it reports done. */
struct component {
    struct loop *loop;
    uv_timer_t ticker;
    uv_timer_t flush;
    uint64_t stop_delay_ms;
    bool never_finishes;
    int ticks;
    int stop_calls;
    int order;
    bool finished;
    struct component *peer;       /* registered after this one */
    bool peer_finished_before_stop;
};

static int stop_sequence;

static void on_tick(uv_timer_t *timer)
{
    struct component *component = timer->data;
    component->ticks++;
}

static void on_flush_closed(uv_handle_t *handle)
{
    struct component *component = handle->data;
    component->finished = true;
    loop_stop_done(component->loop);
}

static void on_ticker_closed(uv_handle_t *handle) { (void)handle; }

static void on_flushed(uv_timer_t *timer)
{
    uv_close((uv_handle_t *)timer, on_flush_closed);
}

static void component_stop(struct loop *loop, void *data)
{
    struct component *component = data;
    component->stop_calls++;
    component->order = ++stop_sequence;
    component->peer_finished_before_stop = component->peer && component->peer->finished;
    uv_close((uv_handle_t *)&component->ticker, on_ticker_closed);
    if (component->never_finishes) {
        uv_timer_start(&component->flush, on_flushed, 60 * 1000, 0);
        return;
    }
    uv_timer_start(&component->flush, on_flushed, component->stop_delay_ms, 0);
    (void)loop;
}

static void component_start(struct component *component, struct loop *loop, uint64_t stop_delay_ms)
{
    *component = (struct component){ .loop = loop, .stop_delay_ms = stop_delay_ms };
    uv_timer_init(&loop->uv, &component->ticker);
    uv_timer_init(&loop->uv, &component->flush);
    component->ticker.data = component->flush.data = component;
    uv_timer_start(&component->ticker, on_tick, 1, 1);
    loop_on_stop(loop, "component", component_stop, component);
}

static void send_sigterm(uv_timer_t *timer)
{
    (void)timer;
    kill(getpid(), SIGTERM);
}

static void loop_stops_on_sigterm_after_components_finish(void)
{
    struct loop loop;
    struct component first, second;
    uv_timer_t trigger;
    stop_sequence = 0;
    REQUIRE(loop_init(&loop, 5000) == 0);
    component_start(&first, &loop, 20);
    component_start(&second, &loop, 5);
    first.peer = &second;
    uv_timer_init(&loop.uv, &trigger);
    uv_timer_start(&trigger, send_sigterm, 30, 0);
    uv_unref((uv_handle_t *)&trigger);
    CHECK_INT(loop_run(&loop), 0);
    CHECK_INT(loop.signal_received, SIGTERM);
    CHECK_INT(first.stop_calls, 1);
    CHECK_INT(second.stop_calls, 1);
    CHECK(first.ticks > 0);
    CHECK_INT(second.order, 1); /* newest first */
    CHECK_INT(first.order, 2);
    /* One at a time: the earlier component stops only after the later one finished. */
    CHECK(first.peer_finished_before_stop);
    CHECK(!uv_is_active((uv_handle_t *)&first.flush));
    uv_close((uv_handle_t *)&trigger, NULL);
    CHECK_INT(loop_close(&loop), 0);
}

static void request_stop(uv_timer_t *timer)
{
    loop_request_stop(timer->data);
    loop_request_stop(timer->data); /* a second request changes nothing */
}

static void loop_deadline_forces_close(void)
{
    struct loop loop;
    struct component stuck;
    uv_timer_t trigger;
    REQUIRE(loop_init(&loop, 50) == 0);
    component_start(&stuck, &loop, 0);
    stuck.never_finishes = true;
    uv_timer_init(&loop.uv, &trigger);
    trigger.data = &loop;
    uv_timer_start(&trigger, request_stop, 10, 0);
    uint64_t start = uv_now(&loop.uv);
    CHECK_INT(loop_run(&loop), 1);
    uint64_t elapsed = uv_now(&loop.uv) - start;
    CHECK(elapsed >= 50 && elapsed < 5000);
    CHECK_INT(stuck.stop_calls, 1);
    CHECK_INT(loop_close(&loop), 0);
}

static void loop_without_components_returns_when_idle(void)
{
    struct loop loop;
    REQUIRE(loop_init(&loop, 100) == 0);
    CHECK_INT(loop_run(&loop), 0);
    CHECK_INT(loop_close(&loop), 0);
}

static void noop_stop(struct loop *loop, void *data) { (void)data; loop_stop_done(loop); }

static void loop_rejects_too_many_hooks(void)
{
    struct loop loop;
    REQUIRE(loop_init(&loop, 100) == 0);
    for (int i = 0; i < LOOP_MAX_STOP_HOOKS; i++)
        CHECK(loop_on_stop(&loop, "noop", noop_stop, NULL));
    CHECK(!loop_on_stop(&loop, "one too many", noop_stop, NULL));
    CHECK(!loop_on_stop(&loop, "no function", NULL, NULL));
    loop_request_stop(&loop);
    CHECK_INT(loop_run(&loop), 0);
    CHECK_INT(loop.hooks_pending, 0);
    CHECK_INT(loop_close(&loop), 0);
}

/* A write to a socket whose peer is gone (a client killed mid-response)
 * fails with EPIPE instead of killing the process with SIGPIPE. Without the
 * loop's disposition this test process would die here. */
static void loop_process_survives_write_to_closed_peer(void)
{
    signal(SIGPIPE, SIG_DFL);
    struct loop loop;
    REQUIRE(loop_init(&loop, 100) == 0);
    struct sigaction current;
    CHECK_INT(sigaction(SIGPIPE, NULL, &current), 0);
    CHECK(current.sa_handler == SIG_IGN);
    int pair[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    close(pair[1]);
    errno = 0;
    ssize_t written = write(pair[0], "x", 1);
    CHECK_INT((int)written, -1);
    CHECK_INT(errno, EPIPE);
    close(pair[0]);
    CHECK_INT(loop_run(&loop), 0);
    CHECK_INT(loop_close(&loop), 0);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(loop_stops_on_sigterm_after_components_finish),
        TEST_CASE(loop_deadline_forces_close),
        TEST_CASE(loop_without_components_returns_when_idle),
        TEST_CASE(loop_rejects_too_many_hooks),
        TEST_CASE(loop_process_survives_write_to_closed_peer),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
