/*
 * json_scan: the inner loops of JSON scanning, eight bytes at a time.
 *
 * Most bytes of a Kubernetes object are inside strings, so the scanners
 * (the list framer, the arena parser) spend their time looking for the
 * byte that ends a string run. These functions find it by testing eight
 * bytes per step (bit tricks on a 64-bit word, byte at a time on the tail
 * and on big-endian machines). Pure functions; nothing is owned.
 */
#ifndef REACTOR_JSON_SCAN_H
#define REACTOR_JSON_SCAN_H

#include <stdint.h>
#include <string.h>

#define JSON_SCAN_ONES 0x0101010101010101ull
#define JSON_SCAN_HIGHS 0x8080808080808080ull

/* High bit set in each byte of `word` equal to zero (exact for the lowest
 * such byte, which is all the callers use). */
static inline uint64_t json_scan_zero_bytes(uint64_t word)
{
    return (word - JSON_SCAN_ONES) & ~word & JSON_SCAN_HIGHS;
}

static inline const char *json_scan_first(const char *p, uint64_t mask)
{
    return p + (__builtin_ctzll(mask) >> 3);
}

/* The first byte in [p, end) that is '"' or '\\', or end. */
static inline const char *json_scan_quote_or_backslash(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        uint64_t mask = json_scan_zero_bytes(word ^ (JSON_SCAN_ONES * '"')) |
                        json_scan_zero_bytes(word ^ (JSON_SCAN_ONES * '\\'));
        if (mask != 0)
            return json_scan_first(p, mask);
        p += 8;
    }
#endif
    while (p < end && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* The first byte in [p, end) that is '"', '\\' or a control character
 * (below 0x20), or end: where a run of plain string bytes stops. */
static inline const char *json_scan_string_run(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        uint64_t mask = json_scan_zero_bytes(word ^ (JSON_SCAN_ONES * '"')) |
                        json_scan_zero_bytes(word ^ (JSON_SCAN_ONES * '\\')) |
                        ((word - JSON_SCAN_ONES * 0x20) & ~word & JSON_SCAN_HIGHS);
        if (mask != 0)
            return json_scan_first(p, mask);
        p += 8;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

#endif
