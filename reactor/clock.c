#include "reactor/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t system_now_ms(const struct clock *clock)
{
    (void)clock;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t system_wall_ms(const struct clock *clock)
{
    (void)clock;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct clock system_clock = { system_now_ms, system_wall_ms, 0, 0 };

const struct clock *clock_system(void) { return &system_clock; }

static uint64_t fake_now_ms(const struct clock *clock) { return clock->fake_now_ms; }
static int64_t fake_wall_ms(const struct clock *clock) { return clock->fake_wall_ms; }

void clock_fake_init(struct clock *clock, uint64_t now_ms, int64_t wall_ms)
{
    clock->now_ms = fake_now_ms;
    clock->wall_ms = fake_wall_ms;
    clock->fake_now_ms = now_ms;
    clock->fake_wall_ms = wall_ms;
}

void clock_fake_advance(struct clock *clock, uint64_t ms)
{
    clock->fake_now_ms += ms;
    clock->fake_wall_ms += (int64_t)ms;
}

/* --- RFC 3339 ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The date of a day count since 1970-01-01 (civil_from_days, its inverse). */
static void civil_from_days(int64_t days, int64_t *year, int64_t *month, int64_t *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    *day = day_of_year - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = year_of_era + era * 400 + (*month <= 2);
}

/* a / b rounded towards minus infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0); }

/* Earliest and latest instants with a four-digit year. */
#define FIRST_MS (-62167219200000LL)  /* 0000-01-01T00:00:00Z */
#define END_MS (253402300800000LL)    /* 10000-01-01T00:00:00Z */

bool clock_format_rfc3339(int64_t unix_ms, enum clock_rfc3339_precision precision, char *out,
                          size_t size)
{
    if (size == 0)
        return false;
    out[0] = '\0';
    if (unix_ms < FIRST_MS || unix_ms >= END_MS)
        return false;
    int64_t seconds = floor_div(unix_ms, 1000);
    int millis = (int)(unix_ms - seconds * 1000);
    int64_t days = floor_div(seconds, 86400);
    int64_t in_day = seconds - days * 86400;
    int64_t year, month, day;
    civil_from_days(days, &year, &month, &day);
    char fraction[8] = "";
    switch (precision) {
    case CLOCK_RFC3339_SECONDS:
        break;
    case CLOCK_RFC3339_MILLIS:
        snprintf(fraction, sizeof fraction, ".%03d", millis);
        break;
    case CLOCK_RFC3339_MICROS:
        snprintf(fraction, sizeof fraction, ".%03d000", millis);
        break;
    case CLOCK_RFC3339_TRIMMED:
        if (millis != 0) {
            snprintf(fraction, sizeof fraction, ".%03d", millis);
            for (size_t n = strlen(fraction); fraction[n - 1] == '0'; n--)
                fraction[n - 1] = '\0';
        }
        break;
    }
    int written = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", (int)year, (int)month,
                           (int)day, (int)(in_day / 3600), (int)(in_day / 60 % 60),
                           (int)(in_day % 60), fraction);
    if (written < 0 || (size_t)written >= size) {
        out[0] = '\0';
        return false;
    }
    return true;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads exactly `count` digits. */
static bool read_digits(const char **cursor, int count, int *value)
{
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (!is_digit((*cursor)[i]))
            return false;
        result = result * 10 + ((*cursor)[i] - '0');
    }
    *cursor += count;
    *value = result;
    return true;
}

static bool read_char(const char **cursor, char c)
{
    if (**cursor != c)
        return false;
    (*cursor)++;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

bool clock_parse_rfc3339(const char *text, int64_t *unix_ms)
{
    if (!text)
        return false;
    const char *p = text;
    int year, month, day, hour, minute, second;
    if (!read_digits(&p, 4, &year) || !read_char(&p, '-') || !read_digits(&p, 2, &month) ||
        !read_char(&p, '-') || !read_digits(&p, 2, &day) ||
        !(read_char(&p, 'T') || read_char(&p, 't')) || !read_digits(&p, 2, &hour) ||
        !read_char(&p, ':') || !read_digits(&p, 2, &minute) || !read_char(&p, ':') ||
        !read_digits(&p, 2, &second))
        return false;
    /* Second 60 is a leap second (RFC 3339 §5.6); it counts as the next one. */
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60)
        return false;
    int millis = 0;
    if (read_char(&p, '.')) {
        if (!is_digit(*p))
            return false;
        for (int scale = 100; is_digit(*p); p++, scale /= 10)
            millis += (*p - '0') * scale;
    }
    int offset_minutes = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int offset_hours, offset_mins;
        if (!read_digits(&p, 2, &offset_hours) || !read_char(&p, ':') ||
            !read_digits(&p, 2, &offset_mins) || offset_hours > 23 || offset_mins > 59)
            return false;
        offset_minutes = sign * (offset_hours * 60 + offset_mins);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                      second - (int64_t)offset_minutes * 60;
    *unix_ms = seconds * 1000 + millis;
    return true;
}
