#include "reactor/clock.h"
#include "test/support/test.h"

#include <stdio.h>

static void clock_fake_moves_only_by_hand(void)
{
    struct clock clock;
    clock_fake_init(&clock, 5000, 1700000000000LL);
    CHECK_INT(clock_now_ms(&clock), 5000);
    CHECK_INT(clock_wall_ms(&clock), 1700000000000LL);
    clock_fake_advance(&clock, 250);
    CHECK_INT(clock_now_ms(&clock), 5250);
    CHECK_INT(clock_wall_ms(&clock), 1700000000250LL);
    /* The system clock's monotonic time never goes back. */
    uint64_t before = clock_now_ms(clock_system());
    CHECK(clock_now_ms(clock_system()) >= before);
    CHECK(clock_wall_ms(clock_system()) > 1700000000000LL);
}

static void clock_formats_each_precision(void)
{
    static const struct {
        int64_t ms;
        enum clock_rfc3339_precision precision;
        const char *text;
    } rows[] = {
        { 0, CLOCK_RFC3339_SECONDS, "1970-01-01T00:00:00Z" },
        { 1795292100123, CLOCK_RFC3339_SECONDS, "2026-11-21T20:15:00Z" },
        { 1795292100123, CLOCK_RFC3339_MILLIS, "2026-11-21T20:15:00.123Z" },
        { 1795292100123, CLOCK_RFC3339_MICROS, "2026-11-21T20:15:00.123000Z" },
        { 1795292100123, CLOCK_RFC3339_TRIMMED, "2026-11-21T20:15:00.123Z" },
        { 1767229200500, CLOCK_RFC3339_TRIMMED, "2026-01-01T01:00:00.5Z" },
        { 1767229200120, CLOCK_RFC3339_TRIMMED, "2026-01-01T01:00:00.12Z" },
        { 1767229200000, CLOCK_RFC3339_TRIMMED, "2026-01-01T01:00:00Z" },
        { 1767229200000, CLOCK_RFC3339_MILLIS, "2026-01-01T01:00:00.000Z" },
        { 951782400000, CLOCK_RFC3339_SECONDS, "2000-02-29T00:00:00Z" },
        { 4107542399999, CLOCK_RFC3339_MILLIS, "2100-02-28T23:59:59.999Z" },
        /* Before the epoch: rounded down, never towards zero. */
        { -1, CLOCK_RFC3339_MILLIS, "1969-12-31T23:59:59.999Z" },
        { -1, CLOCK_RFC3339_SECONDS, "1969-12-31T23:59:59Z" },
        { -62135596800000LL, CLOCK_RFC3339_SECONDS, "0001-01-01T00:00:00Z" }, /* Go's zero time */
        { -62167219200000LL, CLOCK_RFC3339_SECONDS, "0000-01-01T00:00:00Z" },
        { 253402300799999LL, CLOCK_RFC3339_MICROS, "9999-12-31T23:59:59.999000Z" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[CLOCK_RFC3339_SIZE];
        if (!clock_format_rfc3339(rows[i].ms, rows[i].precision, text, sizeof text))
            test_fail(__FILE__, __LINE__, "%lld: not formatted", (long long)rows[i].ms);
        else if (strcmp(text, rows[i].text) != 0)
            test_fail(__FILE__, __LINE__, "%lld: \"%s\", expected \"%s\"", (long long)rows[i].ms, text,
                      rows[i].text);
        /* What it writes reads back, to the precision written. */
        int64_t back = 0;
        CHECK(clock_parse_rfc3339(text, &back));
        if (rows[i].precision != CLOCK_RFC3339_SECONDS && back != rows[i].ms)
            test_fail(__FILE__, __LINE__, "\"%s\" reads back as %lld", text, (long long)back);
    }
}

static void clock_format_refuses_what_it_cannot_write(void)
{
    char text[CLOCK_RFC3339_SIZE] = "junk";
    CHECK(!clock_format_rfc3339(253402300800000LL, CLOCK_RFC3339_SECONDS, text, sizeof text));
    CHECK_STR(text, ""); /* year 10000 */
    CHECK(!clock_format_rfc3339(-62167219200001LL, CLOCK_RFC3339_SECONDS, text, sizeof text));
    CHECK_STR(text, "");
    CHECK(!clock_format_rfc3339(0, CLOCK_RFC3339_SECONDS, text, 20)); /* needs 21 */
    CHECK_STR(text, "");
    CHECK(clock_format_rfc3339(0, CLOCK_RFC3339_SECONDS, text, 21));
    CHECK(!clock_format_rfc3339(0, CLOCK_RFC3339_SECONDS, text, 0));
    /* The longest text fits. */
    CHECK(clock_format_rfc3339(253402300799999LL, CLOCK_RFC3339_MICROS, text, sizeof text));
}

static void clock_parses_rfc3339(void)
{
    static const struct { const char *text; int64_t ms; } good[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "1970-01-01T00:00:01Z", 1000 },
        { "2024-05-01T12:00:00Z", 1714564800000LL },
        { "2024-05-01t12:00:00z", 1714564800000LL },
        { "2024-05-01T12:00:00.250000Z", 1714564800250LL },
        { "1970-01-01T00:00:00.25Z", 250 },
        { "1970-01-01T00:00:00.123456789123456789123Z", 123 }, /* digits past ms dropped */
        { "2024-05-01T14:00:00+02:00", 1714564800000LL },
        { "1970-01-01T01:00:00+01:00", 0 },
        { "2024-05-01T10:30:00-01:30", 1714564800000LL },
        { "2000-02-29T00:00:00Z", 951782400000LL },
        { "1969-12-31T23:59:59.999Z", -1 },
        { "2016-12-31T23:59:60Z", 1483228800000LL }, /* a leap second */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t ms = 42;
        if (!clock_parse_rfc3339(good[i].text, &ms))
            test_fail(__FILE__, __LINE__, "\"%s\" refused", good[i].text);
        else if (ms != good[i].ms)
            test_fail(__FILE__, __LINE__, "\"%s\" = %lld, expected %lld", good[i].text, (long long)ms,
                      (long long)good[i].ms);
    }
    static const char *const bad[] = {
        "", "yesterday", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "1970-01-01 garbage",
        "1970-13-01T00:00:00Z", "1970-00-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z",
        "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00+24:00",
        "2024-05-01T12:00:00Zjunk", "24-05-01T12:00:00Z", "2024-5-01T12:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        if (clock_parse_rfc3339(bad[i], &ms))
            test_fail(__FILE__, __LINE__, "\"%s\" accepted as %lld", bad[i], (long long)ms);
        CHECK_INT(ms, 42);
    }
    int64_t ms = 42;
    CHECK(!clock_parse_rfc3339(NULL, &ms));
    CHECK_INT(ms, 42);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(clock_fake_moves_only_by_hand),
        TEST_CASE(clock_formats_each_precision),
        TEST_CASE(clock_format_refuses_what_it_cannot_write),
        TEST_CASE(clock_parses_rfc3339),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
