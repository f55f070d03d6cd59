#include "watchers/quantity.h"

#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;


/* More significant digits than a 128-bit accumulator holds exactly. */
#define MAX_DIGITS 38

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The suffix after the number: sets the decimal exponent or the binary power
 * (in bits) and the notation. False for anything else. */
static bool parse_suffix(const char *suffix, int *exponent, int *bits, enum quantity_format *format,
                         bool *huge)
{
    static const struct { const char *text; int exponent; } decimal[] = {
        { "", 0 }, { "n", -9 }, { "u", -6 }, { "m", -3 }, { "k", 3 }, { "M", 6 },
        { "G", 9 }, { "T", 12 }, { "P", 15 }, { "E", 18 },
    };
    static const char *binary[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
    *exponent = 0;
    *bits = 0;
    *huge = false;
    for (size_t i = 0; i < sizeof decimal / sizeof decimal[0]; i++) {
        if (strcmp(suffix, decimal[i].text) == 0) {
            *exponent = decimal[i].exponent;
            *format = QUANTITY_DECIMAL_SI;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof binary / sizeof binary[0]; i++) {
        if (strcmp(suffix, binary[i]) == 0) {
            *bits = 10 * (int)(i + 1);
            *format = QUANTITY_BINARY_SI;
            return true;
        }
    }
    if (suffix[0] != 'e' && suffix[0] != 'E')
        return false;
    const char *p = suffix + 1;
    bool negative = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    if (!is_digit(*p))
        return false;
    long value = 0;
    for (; is_digit(*p); p++) {
        /* Exponents beyond a few hundred only decide "overflow" or "rounds
         * to the smallest unit"; stop counting before the long overflows. */
        if (value < 100000)
            value = value * 10 + (*p - '0');
        else
            *huge = true;
    }
    if (*p != '\0')
        return false;
    if (value >= 100000)
        *huge = true;
    *exponent = (int)(negative ? -value : value);
    *format = QUANTITY_DECIMAL_EXPONENT;
    return true;
}

/* A parsed quantity as a magnitude in units of 10^-`decimals` (3: milli-units,
 * 0: whole units), rounded away from zero, with its sign and notation. */
struct scaled {
    bool negative;
    u128 magnitude;
    enum quantity_format format;
};

/* Parses `text` into *out, failing (with *message set) when the magnitude
 * exceeds `limit` (`negative_limit` for a negative value). */
static bool parse_scaled(const char *text, long decimals, u128 limit, u128 negative_limit,
                         struct scaled *out, const char **message)
{
    if (!text || !*text) {
        *message = "empty quantity";
        return false;
    }
    const char *p = text;
    bool negative = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';

    /* The significant digits, without leading zeros, and the decimal scale
     * they are at: value = mantissa × 10^scale. */
    char digits[MAX_DIGITS + 1];
    size_t count = 0;
    size_t seen = 0;
    long scale = 0;
    bool point = false;
    bool too_many = false;
    for (;; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (!is_digit(*p))
            break;
        seen++;
        if (point)
            scale--;
        if (count == 0 && *p == '0')
            continue;
        if (count == MAX_DIGITS) {
            /* Keep counting so that trailing zeros can still be dropped. */
            if (*p != '0')
                too_many = true;
            /* A dropped integer digit still counts a power of ten; a
             * dropped fraction digit undoes its step above. */
            scale++;
            continue;
        }
        digits[count++] = *p;
    }
    if (seen == 0) {
        *message = "not a number";
        return false;
    }
    int exponent, bits;
    enum quantity_format format;
    bool huge;
    if (!parse_suffix(p, &exponent, &bits, &format, &huge)) {
        *message = "unknown suffix (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3)";
        return false;
    }
    while (count > 0 && digits[count - 1] == '0') {
        count--;
        scale++;
    }
    if (too_many) {
        *message = "too many significant digits";
        return false;
    }
    out->negative = negative;
    out->format = format;
    if (count == 0) {
        out->magnitude = 0;
        return true;
    }
    u128 mantissa = 0;
    for (size_t i = 0; i < count; i++)
        mantissa = mantissa * 10 + (u128)(digits[i] - '0');
    if (negative)
        limit = negative_limit;
    if (huge) {
        if (exponent > 0) {
            *message = "value out of range";
            return false;
        }
        /* A vanishing fraction of a unit still rounds up to the smallest one. */
        out->magnitude = 1;
        return true;
    }
    if (bits > 0) {
        if (mantissa > (~(u128)0 >> 1) >> bits) {
            *message = "too many significant digits";
            return false;
        }
        mantissa <<= bits;
    }
    long power = scale + decimals + exponent; /* units of 10^-decimals × 10^power */
    u128 result;
    if (power >= 0) {
        result = mantissa;
        for (long i = 0; i < power; i++) {
            if (result > limit / 10) {
                *message = "value out of range";
                return false;
            }
            result *= 10;
        }
        if (result > limit) {
            *message = "value out of range";
            return false;
        }
    } else if (-power > MAX_DIGITS) {
        result = 1; /* 0 < value < the smallest unit: rounds up */
    } else {
        u128 divisor = 1;
        for (long i = 0; i < -power; i++)
            divisor *= 10;
        result = mantissa / divisor + (mantissa % divisor != 0);
        if (result > limit) {
            *message = "value out of range";
            return false;
        }
    }
    out->magnitude = result;
    return true;
}

bool quantity_parse(const char *text, struct quantity *out, const char **message)
{
    const char *ignored;
    struct scaled scaled;
    if (!parse_scaled(text, 3, (u128)INT64_MAX, (u128)INT64_MAX + 1, &scaled,
                      message ? message : &ignored))
        return false;
    uint64_t milli = (uint64_t)scaled.magnitude;
    out->milli = scaled.negative ? (int64_t)(0 - milli) : (int64_t)milli;
    out->format = scaled.format;
    return true;
}

bool quantity_parse_units(const char *text, uint64_t *units, const char **message)
{
    const char *ignored;
    if (!message)
        message = &ignored;
    struct scaled scaled;
    if (!parse_scaled(text, 0, (u128)UINT64_MAX, (u128)UINT64_MAX, &scaled, message))
        return false;
    if (scaled.negative && scaled.magnitude != 0) {
        *message = "must not be negative";
        return false;
    }
    *units = (uint64_t)scaled.magnitude;
    return true;
}

static uint64_t magnitude(int64_t value)
{
    return value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
}

int64_t quantity_value(const struct quantity *quantity)
{
    uint64_t units = magnitude(quantity->milli) / 1000 + (magnitude(quantity->milli) % 1000 != 0);
    return quantity->milli < 0 ? (int64_t)(0 - units) : (int64_t)units;
}

int quantity_compare(const struct quantity *a, const struct quantity *b)
{
    return (a->milli > b->milli) - (a->milli < b->milli);
}

bool quantity_format(const struct quantity *quantity, char *out, size_t size)
{
    if (quantity->milli == 0)
        return snprintf(out, size, "0") < (int)size;
    const char *sign = quantity->milli < 0 ? "-" : "";
    uint64_t amount = magnitude(quantity->milli);
    enum quantity_format format = quantity->format;
    /* Binary notation only for whole units of at least 1Ki: anything else
     * would need rounding, so it is shown in decimal instead. */
    if (format == QUANTITY_BINARY_SI && (amount < 1024 * 1000 || amount % 1000 != 0))
        format = QUANTITY_DECIMAL_SI;
    int written;
    if (format == QUANTITY_BINARY_SI) {
        static const char *suffixes[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
        uint64_t units = amount / 1000;
        size_t power = 0;
        while (units % 1024 == 0 && power < 6) {
            units /= 1024;
            power++;
        }
        written = snprintf(out, size, "%s%llu%s", sign, (unsigned long long)units, suffixes[power]);
    } else {
        /* Strip the powers of ten, then give back one or two so that the
         * exponent is a multiple of three (an SI prefix exists for it). */
        int exponent = -3;
        while (amount % 10 == 0) {
            amount /= 10;
            exponent++;
        }
        switch (exponent % 3) {
        case 1: case -2: amount *= 10; exponent -= 1; break;
        case 2: case -1: amount *= 100; exponent -= 2; break;
        default: break;
        }
        char suffix[8] = "";
        if (format == QUANTITY_DECIMAL_EXPONENT) {
            if (exponent != 0)
                snprintf(suffix, sizeof suffix, "e%d", exponent);
        } else {
            static const char *si[] = { "m", "", "k", "M", "G", "T", "P", "E" };
            int index = exponent / 3 + 1;
            if (index >= 0 && index < (int)(sizeof si / sizeof si[0]))
                snprintf(suffix, sizeof suffix, "%s", si[index]);
            else
                snprintf(suffix, sizeof suffix, "e%d", exponent);
        }
        written = snprintf(out, size, "%s%llu%s", sign, (unsigned long long)amount, suffix);
    }
    return written >= 0 && (size_t)written < size;
}
