/* Line framing and watch-event decoding: chunk boundaries never matter,
 * oversize events fail clearly, garbage is refused. */
#include "reactor/buffer.h"
#include "test/support/test.h"
#include "watchers/line_framer.h"
#include "watchers/watch_event.h"

#include <stdio.h>
#include <stdlib.h>

struct collected {
    struct buffer joined;  /* lines joined with '|' */
    int lines;
    int stop_after;        /* 0: never stop */
};

static bool collect(void *data, const char *line, size_t length)
{
    struct collected *c = data;
    buffer_append(&c->joined, line, length);
    buffer_append(&c->joined, "|", 1);
    c->lines++;
    return c->stop_after == 0 || c->lines < c->stop_after;
}

static const char *recorded_stream(void)
{
    return "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
           "\"namespace\":\"ns\",\"resourceVersion\":\"11\"}}}\n"
           "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
           "\"namespace\":\"ns\",\"resourceVersion\":\"12\"},\"status\":{\"phase\":\"Running\"}}}\r\n"
           "\n"
           "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"15\"}}}\n"
           "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
           "\"namespace\":\"ns\",\"resourceVersion\":\"16\"}}}\n"
           "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\","
           "\"message\":\"too old resource version: 1 (16)\"}}\n";
}

static char *frame_whole(const char *stream, int *lines)
{
    struct line_framer framer;
    struct collected c = {0};
    line_framer_init(&framer, 0);
    CHECK_INT(line_framer_feed(&framer, stream, strlen(stream), collect, &c), LINE_FRAMER_OK);
    CHECK_INT(line_framer_pending(&framer), 0);
    line_framer_free(&framer);
    *lines = c.lines;
    return buffer_take(&c.joined);
}

static void framing_split_at_every_position(void)
{
    const char *stream = recorded_stream();
    size_t length = strlen(stream);
    int expected_lines = 0;
    char *expected = frame_whole(stream, &expected_lines);
    CHECK_INT(expected_lines, 5);
    /* Two pieces split at every position. */
    for (size_t cut = 0; cut <= length; cut++) {
        struct line_framer framer;
        struct collected c = {0};
        line_framer_init(&framer, 0);
        line_framer_feed(&framer, stream, cut, collect, &c);
        line_framer_feed(&framer, stream + cut, length - cut, collect, &c);
        if (strcmp(buffer_string(&c.joined), expected) != 0 || c.lines != expected_lines)
            test_fail(__FILE__, __LINE__, "split at %zu gave different lines", cut);
        buffer_free(&c.joined);
        line_framer_free(&framer);
    }
    /* Three pieces, every pair of cuts. */
    for (size_t a = 0; a <= length; a += 7) {
        for (size_t b = a; b <= length; b += 3) {
            struct line_framer framer;
            struct collected c = {0};
            line_framer_init(&framer, 0);
            line_framer_feed(&framer, stream, a, collect, &c);
            line_framer_feed(&framer, stream + a, b - a, collect, &c);
            line_framer_feed(&framer, stream + b, length - b, collect, &c);
            if (strcmp(buffer_string(&c.joined), expected) != 0)
                test_fail(__FILE__, __LINE__, "cuts %zu,%zu gave different lines", a, b);
            buffer_free(&c.joined);
            line_framer_free(&framer);
        }
    }
    /* One byte at a time. */
    struct line_framer framer;
    struct collected c = {0};
    line_framer_init(&framer, 0);
    for (size_t i = 0; i < length; i++)
        CHECK_INT(line_framer_feed(&framer, stream + i, 1, collect, &c), LINE_FRAMER_OK);
    CHECK_STR(buffer_string(&c.joined), expected);
    buffer_free(&c.joined);
    line_framer_free(&framer);
    free(expected);
}

static void framing_decodes_same_events_whatever_the_split(void)
{
    struct json_arena arena;
    json_arena_init(&arena);
    const char *stream = recorded_stream();
    size_t length = strlen(stream);
    for (size_t cut = 0; cut <= length; cut += 5) {
        struct line_framer framer;
        struct collected c = {0};
        line_framer_init(&framer, 0);
        line_framer_feed(&framer, stream, cut, collect, &c);
        line_framer_feed(&framer, stream + cut, length - cut, collect, &c);
        /* Decode each collected line. */
        const char *p = buffer_string(&c.joined);
        static const enum watch_event_type types[] = {WATCH_EVENT_ADDED, WATCH_EVENT_MODIFIED,
                                                      WATCH_EVENT_BOOKMARK, WATCH_EVENT_DELETED,
                                                      WATCH_EVENT_ERROR};
        static const char *const rvs[] = {"11", "12", "15", "16", NULL};
        for (int i = 0; i < 5; i++) {
            const char *bar = strchr(p, '|');
            REQUIRE(bar != NULL);
            struct watch_event event;
            char error[128];
            REQUIRE(watch_event_decode(&arena, p, (size_t)(bar - p), &event, error, sizeof error));
            CHECK_INT(event.type, types[i]);
            if (rvs[i] != NULL)
                CHECK_STR(event.resource_version, rvs[i]);
            else {
                CHECK_INT(event.error_code, 410);
                CHECK_STR(event.error_reason, "Expired");
            }
            p = bar + 1;
        }
        buffer_free(&c.joined);
        line_framer_free(&framer);
        json_arena_reset(&arena);
    }
    json_arena_free(&arena);
}

static void framing_enforces_max_event_size(void)
{
    struct line_framer framer;
    struct collected c = {0};
    line_framer_init(&framer, 64);
    /* A 64-byte line is fine. */
    char line[200];
    memset(line, 'x', 64);
    line[64] = '\n';
    CHECK_INT(line_framer_feed(&framer, line, 65, collect, &c), LINE_FRAMER_OK);
    CHECK_INT(c.lines, 1);
    /* 65 bytes without the end yet: refused before the newline arrives. */
    memset(line, 'y', 65);
    CHECK_INT(line_framer_feed(&framer, line, 30, collect, &c), LINE_FRAMER_OK);
    CHECK_INT(line_framer_feed(&framer, line + 30, 35, collect, &c), LINE_FRAMER_TOO_LARGE);
    CHECK_INT(line_framer_pending(&framer), 0);
    /* Sticky until reset. */
    CHECK_INT(line_framer_feed(&framer, "{}\n", 3, collect, &c), LINE_FRAMER_TOO_LARGE);
    CHECK_INT(c.lines, 1);
    CHECK_STR(line_framer_status_text(LINE_FRAMER_TOO_LARGE), "event too large");
    line_framer_reset(&framer);
    CHECK_INT(line_framer_feed(&framer, "{}\n", 3, collect, &c), LINE_FRAMER_OK);
    CHECK_INT(c.lines, 2);
    buffer_free(&c.joined);
    line_framer_free(&framer);
}

static void framing_stops_when_asked(void)
{
    struct line_framer framer;
    struct collected c = {.stop_after = 2};
    line_framer_init(&framer, 0);
    CHECK_INT(line_framer_feed(&framer, "a\nb\nc\n", 6, collect, &c), LINE_FRAMER_STOPPED);
    CHECK_INT(c.lines, 2);
    CHECK_STR(buffer_string(&c.joined), "a|b|");
    buffer_free(&c.joined);
    line_framer_free(&framer);
}

static void framing_keeps_partial_tail(void)
{
    struct line_framer framer;
    struct collected c = {0};
    line_framer_init(&framer, 0);
    CHECK_INT(line_framer_feed(&framer, "one\ntw", 6, collect, &c), LINE_FRAMER_OK);
    CHECK_INT(line_framer_pending(&framer), 2);
    CHECK_INT(line_framer_feed(&framer, "o\n", 2, collect, &c), LINE_FRAMER_OK);
    CHECK_STR(buffer_string(&c.joined), "one|two|");
    CHECK_INT(line_framer_pending(&framer), 0);
    buffer_free(&c.joined);
    line_framer_free(&framer);
}

static void event_decoding_refuses_garbage(void)
{
    struct json_arena arena;
    json_arena_init(&arena);
    static const char *const bad[] = {
        "not json",
        "[1,2]",
        "{\"object\":{}}",
        "{\"type\":\"EXPLODED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
        "{\"type\":\"ADDED\"}",
        "{\"type\":\"ADDED\",\"object\":\"pod\"}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}",
        "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"\"}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":7}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct watch_event event;
        char error[128] = "";
        if (watch_event_decode(&arena, bad[i], strlen(bad[i]), &event, error, sizeof error)) {
            test_fail(__FILE__, __LINE__, "accepted garbage: %s", bad[i]);
        } else {
            CHECK(error[0] != '\0');
            CHECK(event.root == NULL);
        }
    }
    /* An ERROR without a code still decodes. */
    struct watch_event event;
    char error[64];
    const char *text = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"}}";
    REQUIRE(watch_event_decode(&arena, text, strlen(text), &event, error, sizeof error));
    CHECK_INT(event.error_code, 0);
    CHECK_STR(event.error_reason, "");
    /* Where the JSON breaks is in the message. */
    CHECK(!watch_event_decode(&arena, "{\"type\":\"ADDED\",,}", 17, &event, error, sizeof error));
    CHECK_STR(error, "event is not valid JSON (at byte 16)");
    json_arena_free(&arena);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(framing_split_at_every_position),
        TEST_CASE(framing_decodes_same_events_whatever_the_split),
        TEST_CASE(framing_enforces_max_event_size),
        TEST_CASE(framing_stops_when_asked),
        TEST_CASE(framing_keeps_partial_tail),
        TEST_CASE(event_decoding_refuses_garbage),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
