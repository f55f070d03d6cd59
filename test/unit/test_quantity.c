#include "watchers/quantity.h"
#include "test/support/test.h"

#include <stdio.h>

struct parse_row {
    const char *text;
    int64_t milli;        /* expected value when `canonical` is set */
    const char *canonical; /* NULL: the parse must fail */
};

static const struct parse_row rows[] = {
    /* plain and fractional numbers */
    { "0", 0, "0" },
    { "1", 1000, "1" },
    { "2", 2000, "2" },
    { "+2", 2000, "2" },
    { "-2", -2000, "-2" },
    { "1.5", 1500, "1500m" },
    { "0.5", 500, "500m" },
    { ".5", 500, "500m" },
    { "1.", 1000, "1" },
    { "0.001", 1, "1m" },
    { "0.0001", 1, "1m" },  /* finer than 1m rounds up */
    { "-0.0001", -1, "-1m" },
    { "1000", 1000000, "1k" },
    { "1500", 1500000, "1500" },
    { "100000", 100000000, "100k" },
    { "007", 7000, "7" },
    { "0.000", 0, "0" },
    /* decimal SI suffixes */
    { "500m", 500, "500m" },
    { "1000m", 1000, "1" },
    { "1500m", 1500, "1500m" },
    { "100k", 100000000, "100k" },
    { "1k", 1000000, "1k" },
    { "1M", 1000000000, "1M" },
    { "1G", 1000000000000LL, "1G" },
    { "2T", 2000000000000000LL, "2T" },
    { "1P", 1000000000000000000LL, "1P" },
    { "1.5G", 1500000000000LL, "1500M" },
    { "100u", 1, "1m" },
    { "5n", 1, "1m" },
    { "0.1k", 100000, "100" },
    /* binary SI suffixes */
    { "1Ki", 1024000, "1Ki" },
    { "1Mi", 1048576000, "1Mi" },
    { "512Mi", 536870912000LL, "512Mi" },
    { "1Gi", 1073741824000LL, "1Gi" },
    { "1024Mi", 1073741824000LL, "1Gi" },
    { "1000Mi", 1048576000000LL, "1000Mi" },
    { "0.5Gi", 536870912000LL, "512Mi" },
    { "1.5Gi", 1610612736000LL, "1536Mi" },
    { "10Ti", 10995116277760000LL, "10Ti" },
    { "1Pi", 1125899906842624000LL, "1Pi" },
    { "0.5Ki", 512000, "512" },       /* below 1Ki: shown in decimal */
    { "0.1Ki", 102400, "102400m" },   /* fractional bytes: decimal */
    { "1.0001Ki", 1024103, "1024103m" },
    { "-1Gi", -1073741824000LL, "-1Gi" },
    /* exponents */
    { "1e3", 1000000, "1e3" },
    { "1E3", 1000000, "1e3" },
    { "1e+3", 1000000, "1e3" },
    { "1.5e3", 1500000, "1500" },
    { "1e-3", 1, "1e-3" },
    { "15e-1", 1500, "1500e-3" },
    { "1e0", 1000, "1" },
    { "1e-100", 1, "1e-3" },
    { "0e999999999", 0, "0" },
    /* errors */
    { "", 0, NULL },
    { "abc", 0, NULL },
    { "1.2.3", 0, NULL },
    { ".", 0, NULL },
    { "-", 0, NULL },
    { "1 Gi", 0, NULL },
    { " 1", 0, NULL },
    { "1Gb", 0, NULL },
    { "1gi", 0, NULL },
    { "1KI", 0, NULL },
    { "1K", 0, NULL },
    { "1e", 0, NULL },
    { "1e+", 0, NULL },
    { "1e3.5", 0, NULL },
    { "1Gi3", 0, NULL },
    { "1mm", 0, NULL },
    { "++1", 0, NULL },
    { "1E", 0, NULL }, /* 10^18 units overflow the milli-units */
    { "8Ei", 0, NULL },
    { "10P", 0, NULL },
    { "1e16", 0, NULL },
    { "1e999999999", 0, NULL },
    { "9223372036854775808", 0, NULL },
    { "123456789012345678901234567890123456789", 0, NULL },
};

static void quantity_parse_table(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct parse_row *row = &rows[i];
        struct quantity q = { 0, 0 };
        const char *message = NULL;
        bool ok = quantity_parse(row->text, &q, &message);
        if (!row->canonical) {
            if (ok)
                test_fail(__FILE__, __LINE__, "\"%s\" parsed as %lld, expected an error", row->text,
                          (long long)q.milli);
            else if (!message || !*message)
                test_fail(__FILE__, __LINE__, "\"%s\": no message", row->text);
            continue;
        }
        if (!ok) {
            test_fail(__FILE__, __LINE__, "\"%s\" failed: %s", row->text, message);
            continue;
        }
        if (q.milli != row->milli)
            test_fail(__FILE__, __LINE__, "\"%s\" = %lldm, expected %lldm", row->text,
                      (long long)q.milli, (long long)row->milli);
        char text[QUANTITY_TEXT_MAX];
        CHECK(quantity_format(&q, text, sizeof text));
        if (strcmp(text, row->canonical) != 0)
            test_fail(__FILE__, __LINE__, "\"%s\" formats as \"%s\", expected \"%s\"", row->text, text,
                      row->canonical);
        /* The canonical text reads back as the same value. */
        struct quantity again;
        CHECK(quantity_parse(text, &again, NULL));
        if (again.milli != q.milli)
            test_fail(__FILE__, __LINE__, "\"%s\" does not round-trip", text);
    }
}

static void quantity_error_messages(void)
{
    struct quantity q;
    const char *message = NULL;
    CHECK(!quantity_parse("", &q, &message));
    CHECK_STR(message, "empty quantity");
    CHECK(!quantity_parse(NULL, &q, &message));
    CHECK_STR(message, "empty quantity");
    CHECK(!quantity_parse("Gi", &q, &message));
    CHECK_STR(message, "not a number");
    CHECK(!quantity_parse("10XB", &q, &message));
    CHECK_STR(message, "unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3)");
    CHECK(!quantity_parse("16Ei", &q, &message));
    CHECK_STR(message, "value out of range");
    CHECK(!quantity_parse("1.000000000000000000000000000000000000001", &q, &message));
    CHECK_STR(message, "too many significant digits");
    /* Trailing zeros are not significant. */
    CHECK(quantity_parse("1.000000000000000000000000000000000000000000", &q, &message));
    CHECK_INT(q.milli, 1000);
}

static void quantity_limits(void)
{
    struct quantity q;
    CHECK(quantity_parse("9223372036854775807m", &q, NULL));
    CHECK_INT(q.milli, INT64_MAX);
    CHECK(!quantity_parse("9223372036854775808m", &q, NULL));
    CHECK(quantity_parse("-9223372036854775808m", &q, NULL));
    CHECK(q.milli == INT64_MIN);
    char text[QUANTITY_TEXT_MAX];
    CHECK(quantity_format(&q, text, sizeof text));
    CHECK_STR(text, "-9223372036854775808m");
    CHECK(quantity_parse("7Ei", &q, NULL) == false);
    CHECK(quantity_parse("8191Ti", &q, NULL));
    CHECK(quantity_format(&q, text, sizeof text));
    CHECK_STR(text, "8191Ti");
    CHECK(!quantity_format(&q, text, 3));
}

static void quantity_value_rounds_up(void)
{
    struct quantity q;
    CHECK(quantity_parse("1500m", &q, NULL));
    CHECK_INT(quantity_value(&q), 2);
    CHECK(quantity_parse("1Gi", &q, NULL));
    CHECK_INT(quantity_value(&q), 1073741824LL);
    CHECK(quantity_parse("-1500m", &q, NULL));
    CHECK_INT(quantity_value(&q), -2);
    CHECK(quantity_parse("2", &q, NULL));
    CHECK_INT(quantity_value(&q), 2);
}

static void quantity_compares(void)
{
    struct quantity a, b;
    CHECK(quantity_parse("1Gi", &a, NULL));
    CHECK(quantity_parse("1G", &b, NULL));
    CHECK(quantity_compare(&a, &b) > 0);
    CHECK(quantity_compare(&b, &a) < 0);
    CHECK(quantity_parse("1024Mi", &b, NULL));
    CHECK_INT(quantity_compare(&a, &b), 0);
    CHECK(quantity_parse("500m", &a, NULL));
    CHECK(quantity_parse("0.5", &b, NULL));
    CHECK_INT(quantity_compare(&a, &b), 0);
}

/* Whole units, as the caches read PVC and PV sizes: rounded up, never
 * negative, the whole uint64 range. */
static void quantity_units_for_sizes(void)
{
    static const struct { const char *text; uint64_t units; } good[] = {
        { "10Gi", 10ull << 30 }, { "500M", 500000000ull }, { "1.5Ti", 3ull << 39 },
        { "1e3", 1000 }, { "100m", 1 }, { "1500m", 2 }, { "42", 42 }, { "+7", 7 },
        { "0", 0 }, { "-0", 0 }, { "1e-100", 1 },
        { "1E", 1000000000000000000ull },      /* beyond quantity_parse's range */
        { "15Ei", 15ull << 60 },
        { "18446744073709551615", UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t units = 0;
        const char *message = NULL;
        if (!quantity_parse_units(good[i].text, &units, &message))
            test_fail(__FILE__, __LINE__, "\"%s\" failed: %s", good[i].text, message);
        else if (units != good[i].units)
            test_fail(__FILE__, __LINE__, "\"%s\" = %llu", good[i].text, (unsigned long long)units);
    }
    static const char *const bad[] = { "", "Gi", "10Qi", "100Ei", "16Ei", "18446744073709551616", "1 Gi" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t units = 99;
        const char *message = NULL;
        if (quantity_parse_units(bad[i], &units, &message))
            test_fail(__FILE__, __LINE__, "\"%s\" accepted as %llu", bad[i], (unsigned long long)units);
        CHECK(message && *message);
        CHECK_INT(units, 99); /* left alone */
    }
    uint64_t units = 99;
    const char *message = NULL;
    CHECK(!quantity_parse_units("-1", &units, &message));
    CHECK_STR(message, "must not be negative");
    CHECK(!quantity_parse_units(NULL, &units, &message));
    CHECK_STR(message, "empty quantity");
    CHECK_INT(units, 99);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        TEST_CASE(quantity_parse_table),
        TEST_CASE(quantity_error_messages),
        TEST_CASE(quantity_limits),
        TEST_CASE(quantity_value_rounds_up),
        TEST_CASE(quantity_compares),
        TEST_CASE(quantity_units_for_sizes),
    };
    return test_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
