/*
 * quantity: the one parser of Kubernetes resource quantities ("500m", "2",
 * "1.5", "1Gi", "512Mi", "1G", "100k", "1e3"). Two readings of one grammar:
 *   - quantity_parse: exactly, as a count of milli-units (for memory and
 *     storage: milli-bytes) with the notation it was written in, so it
 *     prints back the way Kubernetes prints it (TidbCluster requests and
 *     limits, which are validated, compared and written into pods);
 *   - quantity_parse_units: whole units rounded up, not negative, the wide
 *     range of a uint64 (the caches' PVC and PV sizes in bytes).
 *
 * Grammar (the API server's): an optional sign, digits with an optional
 * decimal point (".5", "1.", "1.5"), then one suffix: a binary one (Ki Mi Gi
 * Ti Pi Ei), a decimal one (n u m "" k M G T P E) or an exponent
 * (e3, E-2, e+6).
 *
 * Precision: values finer than the unit counted (1m for quantity_parse,
 * 1 for quantity_parse_units; e.g. "100u", "0.0001") are rounded away from
 * zero to the next one, as Kubernetes rounds sub-nano values; no value in a
 * TidbCluster needs finer units. The range of quantity_parse is what an
 * int64 of milli-units holds (about 8 PiB), that of quantity_parse_units a
 * uint64 of units (16 EiB); larger values are an error, never a silent wrap.
 *
 * Pure functions, no allocation.
 */
#ifndef WATCHERS_QUANTITY_H
#define WATCHERS_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum quantity_format {
    QUANTITY_DECIMAL_SI,       /* "", m, k, M, G, ... */
    QUANTITY_BINARY_SI,        /* Ki, Mi, Gi, ... */
    QUANTITY_DECIMAL_EXPONENT, /* 1e3 */
};

struct quantity {
    int64_t milli;
    enum quantity_format format;
};

/* Longest text quantity_format writes, with its NUL. */
#define QUANTITY_TEXT_MAX 32

/* Parses `text` into *out. On failure returns false, leaves *out alone and
 * points *message (if not NULL) at a static explanation. */
bool quantity_parse(const char *text, struct quantity *out, const char **message);

/* Parses `text` as whole units, rounded up ("100m" → 1, "1.5Ti" →
 * 1649267441664, "1E" → 10^18). False (with *message as above, or "must not be
 * negative") on anything malformed, negative or above UINT64_MAX; *units is
 * then left alone. */
bool quantity_parse_units(const char *text, uint64_t *units, const char **message);

/* Whole units, rounded up (as Kubernetes' Value()): "1500m" → 2, "1Gi" → 1073741824. */
int64_t quantity_value(const struct quantity *quantity);

/* <0, 0, >0 as a is less than, equal to or greater than b (formats ignored). */
int quantity_compare(const struct quantity *a, const struct quantity *b);

/* Writes the canonical text (what the API server would store) into `out`;
 * "1.5" → "1500m", "1000" → "1k", "0.5Gi" → "512Mi", "1e3" → "1e3". Returns
 * false only when `size` is too small (QUANTITY_TEXT_MAX always suffices). */
bool quantity_format(const struct quantity *quantity, char *out, size_t size);

#endif
